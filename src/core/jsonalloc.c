/*
 * jsonalloc.c - chunked allocation for cJSON trees (see jsonalloc.h).
 *
 * Every block lives in a region aligned to CHUNK_SIZE whose first bytes are a struct
 * chunk, so the chunk of a block is its address rounded down: blocks carry no header.
 * A region is either a chunk of small blocks, bumped from its start, or one block of
 * BIG_BLOCK bytes or more (printed documents) with the chunk header in front.
 *
 * A block is aligned as its size allows: a request whose size is a multiple of 8 (a
 * cJSON node is 64 bytes; any struct's size is a multiple of its alignment) is 8-byte
 * aligned, one of 4 or 2 accordingly, and the rest (most strings: length + 1) are
 * packed byte to byte.  A parse tree is mostly nodes and keys and values of a few
 * bytes: with no header and no padding after strings it takes about a quarter less
 * memory than with a header word and 8-byte steps, so a store's tree touches fewer
 * fresh pages (bench/run.sh, docs/performance.md).
 *
 * A chunk counts its live blocks; the current chunk is the one blocks are bumped from,
 * and a chunk that is not current is wiped and freed as soon as its count drops to
 * zero, the current one is wiped and rewound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "esimctl/buf.h"
#include "esimctl/jsonalloc.h"

#define CHUNK_SIZE ((size_t)64 << 10)
#define BIG_BLOCK ((size_t)16 << 10)

struct chunk {
	size_t used;    /* bytes handed out, from data[0] */
	size_t live;    /* blocks not yet freed */
	size_t big;     /* a region holding one big block: its size; else 0 */
	max_align_t align[];
};

/*
 * A chunk is CHUNK_SIZE less malloc()'s two words of bookkeeping: glibc then puts the
 * next chunk right after it, at the next aligned address, rather than leaving most of
 * CHUNK_SIZE unused between them to reach one.
 */
#define CHUNK_BYTES (CHUNK_SIZE - 2 * sizeof(size_t))
#define CHUNK_ROOM (CHUNK_BYTES - sizeof(struct chunk))

static struct chunk *current;

static unsigned char *chunk_data(struct chunk *c)
{
	return (unsigned char *)c->align;
}

static struct chunk *chunk_of(void *p)
{
	return (struct chunk *)((uintptr_t)p & ~(uintptr_t)(CHUNK_SIZE - 1));
}

/* The alignment a block of n bytes needs: the lowest set bit of n, at most 8. */
static size_t align_for(size_t n)
{
	size_t low = n & (~n + 1);

	return low == 0 || low > 8 ? 8 : low;
}

static struct chunk *region(size_t bytes)
{
	void *p;

	if (posix_memalign(&p, CHUNK_SIZE, bytes) != 0)
		return NULL;
	return p;
}

static void chunk_release(struct chunk *c)
{
	/* cJSON strings and printed documents may hold matching IDs */
	explicit_bzero(c, sizeof(*c) + (c->big ? c->big : c->used));
	free(c);
}

/* A block of its own, or one in a new current chunk. */
static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	struct chunk *c;

	if (n >= BIG_BLOCK) {
		if (n > SIZE_MAX - sizeof(*c))
			return NULL;
		if (!(c = region(sizeof(*c) + n)))
			return NULL;
		c->used = 0;
		c->live = 1;
		c->big = n;
		return chunk_data(c);
	}
	if (!(c = region(CHUNK_BYTES)))
		return NULL;
	c->used = n;
	c->live = 1;
	c->big = 0;
	/* the old current chunk is freed when its last block is */
	if (current && current->live == 0)
		chunk_release(current);
	current = c;
	return chunk_data(c);
}

/* cJSON calls this for every node, key and string: the usual case is a few instructions. */
void *jsonalloc_malloc(size_t n)
{
	struct chunk *c = current;
	size_t a = align_for(n), at;

	if (!c || n >= BIG_BLOCK)
		return malloc_slow(n);
	at = (c->used + a - 1) & ~(a - 1);
	if (at + n > CHUNK_ROOM)
		return malloc_slow(n);
	c->used = at + n;
	c->live++;
	return chunk_data(c) + at;
}

void jsonalloc_free(void *p)
{
	struct chunk *c;

	if (!p)
		return;
	c = chunk_of(p);
	if (--c->live)
		return;
	/* the chunk's last block */
	if (c == current) {
		explicit_bzero(chunk_data(c), c->used);
		c->used = 0;
	} else {
		chunk_release(c);
	}
}

void jsonalloc_install(void)
{
	cJSON_InitHooks(&(cJSON_Hooks){ .malloc_fn = jsonalloc_malloc, .free_fn = jsonalloc_free });
}
