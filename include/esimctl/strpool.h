/*
 * strpool.h - copies of strings that live as long as one owner (pure, no I/O).
 *
 * A loaded store holds tens of thousands of short strings (names, ids, times' owners,
 * history) that are made together and freed together.  strpool_dup() copies a string
 * into blocks bumped like a stack, so loading makes no malloc() per string and freeing
 * the store no free() per string; strpool_owns() tells a pooled string from one made by
 * malloc(), so an owner may hold both and free only the latter.
 *
 *	struct strpool p = STRPOOL_INIT;
 *	char *a = strpool_dup(&p, "phone");
 *	strpool_owns(&p, a);     // 1
 *	strpool_release(&p);     // every copy is gone
 *
 * A pooled string is never freed alone: it stays until strpool_release().  Blocks start
 * at 16 KiB and double up to 1 MiB; a string longer than a quarter of the next block gets
 * a block of its own.  strpool_owns() is a binary search over the blocks (about 70 for a
 * 60 MB store).  Single-threaded.
 */
#ifndef ESIMCTL_STRPOOL_H
#define ESIMCTL_STRPOOL_H

#include <stddef.h>

struct strpool_block;

struct strpool {
	struct strpool_block **blocks; /* sorted by address */
	size_t nblocks, ablocks;
	char *cur, *end;               /* room left in the block bumped from */
	size_t next_size;              /* of the next block */
};

#define STRPOOL_INIT { NULL, 0, 0, NULL, NULL, 0 }

/* A copy of s in the pool; NULL for NULL.  Aborts when out of memory, as xstrdup(). */
char *strpool_dup(struct strpool *p, const char *s);
/* 1 when ptr is in one of p's blocks (a string strpool_dup() returned), else 0. */
int strpool_owns(const struct strpool *p, const void *ptr);
/* Frees every block; p is STRPOOL_INIT again. */
void strpool_release(struct strpool *p);

#endif
