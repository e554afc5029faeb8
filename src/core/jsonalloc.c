/*
 * jsonalloc.c - chunked allocation for cJSON trees (see jsonalloc.h).
 *
 * A block in a chunk has one word before it: the chunk it lives in.  A block of its own
 * from malloc() (BIG_BLOCK bytes or more) has two: its size, then NULL.  Blocks are
 * 8-byte aligned, which is all cJSON needs (its nodes hold pointers and a double; the
 * rest are strings): a tree is mostly nodes of 64 bytes and keys and values of a few
 * bytes, and with a word of header and 8-byte steps it takes a fifth less memory than
 * with malloc()'s 16 and 16, so a large store's parse tree touches fewer fresh pages.
 * A chunk counts its live blocks; the current chunk is the one blocks are bumped from,
 * and a chunk that is not current is wiped and freed as soon as its count drops to zero,
 * the current one is wiped and rewound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "esimctl/buf.h"
#include "esimctl/jsonalloc.h"

#define CHUNK_SIZE ((size_t)64 << 10)
#define BIG_BLOCK ((size_t)16 << 10)
#define ALIGN ((size_t)8)

struct chunk {
	size_t used;    /* bytes handed out, from data[0] */
	size_t live;    /* blocks not yet freed */
	max_align_t align[];
};

/* The words before a block: [size, NULL] for a block of its own, [chunk] in a chunk. */
#define WORD sizeof(void *)

static struct chunk *current;

static unsigned char *chunk_data(struct chunk *c)
{
	return (unsigned char *)c->align;
}

/* Room for blocks in a chunk, after its header. */
#define CHUNK_ROOM (CHUNK_SIZE - sizeof(struct chunk))

/* A block of its own, or one in a new current chunk. */
static __attribute__((noinline)) void *malloc_slow(size_t n, size_t need)
{
	unsigned char *b;

	if (n >= BIG_BLOCK || need > CHUNK_ROOM) {
		if (n > SIZE_MAX - 2 * WORD)
			return NULL;
		b = malloc(2 * WORD + n);
		if (!b)
			return NULL;
		memcpy(b, &n, sizeof(n));
		memset(b + WORD, 0, WORD);
		return b + 2 * WORD;
	}
	{
		struct chunk *c = malloc(CHUNK_SIZE);

		if (!c)
			return NULL;
		c->used = 0;
		c->live = 0;
		/* the old current chunk is freed when its last block is */
		if (current && current->live == 0) {
			explicit_bzero(current, sizeof(*current) + current->used);
			free(current);
		}
		current = c;
	}
	b = chunk_data(current);
	current->used = need;
	current->live = 1;
	memcpy(b, &current, sizeof(current));
	return b + WORD;
}

/* cJSON calls this for every node, key and string: the usual case is a few instructions. */
void *jsonalloc_malloc(size_t n)
{
	size_t need = WORD + ((n + ALIGN - 1) & ~(ALIGN - 1));
	struct chunk *c = current;
	unsigned char *b;

	if (!c || n >= BIG_BLOCK || c->used + need > CHUNK_ROOM)
		return malloc_slow(n, need);
	b = chunk_data(c) + c->used;
	c->used += need;
	c->live++;
	memcpy(b, &c, sizeof(c));
	return b + WORD;
}

static __attribute__((noinline)) void free_slow(unsigned char *b, struct chunk *c)
{
	if (!c) {
		size_t n;

		/* cJSON strings and printed documents may hold matching IDs */
		memcpy(&n, b - 2 * WORD, sizeof(n));
		explicit_bzero(b - 2 * WORD, 2 * WORD + n);
		free(b - 2 * WORD);
		return;
	}
	/* the chunk's last block */
	if (c == current) {
		explicit_bzero(chunk_data(c), c->used);
		c->used = 0;
	} else {
		explicit_bzero(c, sizeof(*c) + c->used);
		free(c);
	}
}

void jsonalloc_free(void *p)
{
	unsigned char *b = p;
	struct chunk *c;

	if (!b)
		return;
	memcpy(&c, b - WORD, sizeof(c));
	if (c && --c->live)
		return;
	free_slow(b, c);
}

void jsonalloc_install(void)
{
	cJSON_InitHooks(&(cJSON_Hooks){ .malloc_fn = jsonalloc_malloc, .free_fn = jsonalloc_free });
}
