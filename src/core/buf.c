/* buf.c - growable buffer and allocation helpers (see buf.h). */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "esimctl/buf.h"

char buf_empty[1];

static void oom(size_t n)
{
	fprintf(stderr, "esimctl: out of memory allocating %zu bytes\n", n); /* check-layers: ok (OOM, then abort) */
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom(n * sz);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void secure_wipe(void *p, size_t n)
{
	/* explicit_bzero: the compiler may not drop it (glibc; no libcrypto in this binary) */
	if (p && n)
		explicit_bzero(p, n);
}

void secure_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

void buf_init(struct buf *b, size_t hint)
{
	b->buf = buf_empty;
	b->len = 0;
	b->alloc = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > (size_t)-1 - b->len - 1)
		oom((size_t)-1);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (b->alloc == 0)
		b->buf = NULL;
	{
		size_t old = b->alloc;
		char *p;

		b->alloc = b->alloc ? b->alloc : 64;
		while (b->alloc < need)
			b->alloc = b->alloc < ((size_t)-1) / 2 ? b->alloc * 2 : need;
		/*
		 * Not realloc(): buffers hold keys, confirmation codes and matching IDs, and a
		 * moved block would stay behind in freed memory unwiped.
		 */
		p = xmalloc(b->alloc);
		if (old) {
			memcpy(p, b->buf, b->len + 1);
			secure_wipe(b->buf, old);
			free(b->buf);
		}
		b->buf = p;
	}
	if (b->len == 0)
		b->buf[0] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->buf[b->len++] = (char)c;
	b->buf[b->len] = '\0';
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->alloc ? b->alloc - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= (b->alloc ? b->alloc - b->len : 0)) {
		buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->buf);
	buf_init(b, 0);
}

void buf_wipe_release(struct buf *b)
{
	if (b->alloc)
		secure_wipe(b->buf, b->alloc);
	buf_release(b);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (b->alloc == 0)
		buf_grow(b, 0);
	p = b->buf;
	if (len)
		*len = b->len;
	buf_init(b, 0);
	return p;
}
