/* strpool.c - pooled string copies (see strpool.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esimctl/buf.h"
#include "esimctl/strpool.h"

#define FIRST_BLOCK ((size_t)16 << 10)
#define MAX_BLOCK ((size_t)1 << 20)

struct strpool_block {
	char *end;       /* one past the last byte of data */
	char data[];
};

/* Index of the first block starting above ptr. */
static size_t upper(const struct strpool *p, const void *ptr)
{
	size_t lo = 0, hi = p->nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)p->blocks[mid]->data <= (uintptr_t)ptr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct strpool_block *add_block(struct strpool *p, size_t size)
{
	struct strpool_block *b;
	size_t at;

	if (size > SIZE_MAX - sizeof(*b))
		abort();
	b = xmalloc(sizeof(*b) + size);
	b->end = b->data + size;
	if (p->nblocks == p->ablocks) {
		p->ablocks = p->ablocks ? 2 * p->ablocks : 16;
		p->blocks = xrealloc(p->blocks, p->ablocks * sizeof(*p->blocks));
	}
	at = upper(p, b->data);
	memmove(p->blocks + at + 1, p->blocks + at, (p->nblocks - at) * sizeof(*p->blocks));
	p->blocks[at] = b;
	p->nblocks++;
	return b;
}

char *strpool_dup(struct strpool *p, const char *s)
{
	size_t n;
	char *r;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	if ((size_t)(p->end - p->cur) < n) {
		size_t size = p->next_size ? p->next_size : FIRST_BLOCK;
		struct strpool_block *b;

		if (n > size / 4) {
			/* a block of its own; the current one goes on being bumped */
			b = add_block(p, n);
			memcpy(b->data, s, n);
			return b->data;
		}
		b = add_block(p, size);
		p->cur = b->data;
		p->end = b->end;
		p->next_size = size < MAX_BLOCK ? 2 * size : MAX_BLOCK;
	}
	r = p->cur;
	memcpy(r, s, n);
	p->cur += n;
	return r;
}

int strpool_owns(const struct strpool *p, const void *ptr)
{
	size_t i;

	if (!ptr || !p->nblocks)
		return 0;
	i = upper(p, ptr);
	return i > 0 && (uintptr_t)ptr < (uintptr_t)p->blocks[i - 1]->end;
}

void strpool_release(struct strpool *p)
{
	for (size_t i = 0; i < p->nblocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	*p = (struct strpool)STRPOOL_INIT;
}
