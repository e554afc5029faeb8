/*
 * buf.h - growable NUL-terminated byte buffer (after git's strbuf).
 *
 * A struct buf is always NUL-terminated (b.buf is never NULL after buf_init) and may
 * hold binary data (b.len counts it).  Allocation failure aborts the process: there
 * is no sensible recovery for a CLI and it keeps every caller simple.
 *
 *	struct buf b = BUF_INIT;
 *	buf_addf(&b, "%s=%d", k, v);
 *	puts(b.buf);
 *	buf_release(&b);
 */
#ifndef ESIMCTL_BUF_H
#define ESIMCTL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b, size_t hint);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);          /* len = 0, keeps memory */
void buf_release(struct buf *b);        /* frees, back to BUF_INIT */
void buf_wipe_release(struct buf *b);   /* OPENSSL_cleanse the bytes, then release */
char *buf_detach(struct buf *b, size_t *len); /* caller frees; b is reset */

/* Small allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);

/* Wipe secrets (keys, confirmation codes, matching IDs) before freeing. */
void secure_wipe(void *p, size_t n);
/* free() that wipes the whole malloc()ed block first: the free hook for libraries (cJSON). */
void secure_free(void *p);

#endif
