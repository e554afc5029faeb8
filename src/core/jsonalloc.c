/*
 * jsonalloc.c - chunked allocation for cJSON trees (see jsonalloc.h).
 *
 * Every block has a 16-byte header before it: the chunk it lives in (NULL for a block of
 * its own from malloc()) and its size.  A chunk counts its live blocks; the current chunk
 * is the one blocks are bumped from, and a chunk that is not current is wiped and freed
 * as soon as its count drops to zero, the current one is wiped and rewound.
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
	max_align_t align[];
};

struct header {
	struct chunk *chunk;  /* NULL: a block of its own */
	size_t size;
};

#define HDR (((sizeof(struct header) + 15) / 16) * 16)

static struct chunk *current;

static unsigned char *chunk_data(struct chunk *c)
{
	return (unsigned char *)c->align;
}

void *jsonalloc_malloc(size_t n)
{
	size_t need = HDR + ((n + 15) & ~(size_t)15);
	struct header *h;

	if (n >= BIG_BLOCK || need > CHUNK_SIZE - sizeof(struct chunk)) {
		h = malloc(HDR + n);
		if (!h)
			return NULL;
		h->chunk = NULL;
		h->size = n;
		return (unsigned char *)h + HDR;
	}
	if (!current || current->used + need > CHUNK_SIZE - sizeof(struct chunk)) {
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
	h = (struct header *)(chunk_data(current) + current->used);
	current->used += need;
	current->live++;
	h->chunk = current;
	h->size = n;
	return (unsigned char *)h + HDR;
}

void jsonalloc_free(void *p)
{
	struct header *h;
	struct chunk *c;

	if (!p)
		return;
	h = (struct header *)((unsigned char *)p - HDR);
	c = h->chunk;
	if (!c) {
		/* cJSON strings and printed documents may hold matching IDs */
		explicit_bzero(h, HDR + h->size);
		free(h);
		return;
	}
	if (--c->live)
		return;
	if (c == current) {
		explicit_bzero(chunk_data(c), c->used);
		c->used = 0;
	} else {
		explicit_bzero(c, sizeof(*c) + c->used);
		free(c);
	}
}

void jsonalloc_install(void)
{
	cJSON_InitHooks(&(cJSON_Hooks){ .malloc_fn = jsonalloc_malloc, .free_fn = jsonalloc_free });
}
