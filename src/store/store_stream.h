/*
 * store_stream.h - the store's JSON read and written in pieces (private to core/ and io/).
 *
 * A store of 100,000 profiles is about 60 MB of text.  store_from_json() and
 * store_to_json() (model.h) hold the whole text in memory; src/store/store.c uses these
 * instead, so a command's memory is the model plus a window of about 1 MiB, not the model
 * plus the text plus a parse tree of it (docs/performance.md).
 *
 *	ret = store_read_stream(read_fd, &fd, 0, &s);
 *	if (ret == 1)   // not accepted: read the whole text, store_from_json() says why
 */
#ifndef ESIMCTL_STORE_STREAM_H
#define ESIMCTL_STORE_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "esimctl/buf.h"
#include "esimctl/model.h"

/* Up to n bytes into p: the count, 0 at the end of the text, -1 on error (errno set). */
typedef ssize_t (*store_read_fn)(void *arg, char *p, size_t n);

/* Validate only: *out is not produced, and memory stays small whatever the store's size. */
#define STORE_READ_CHECK_ONLY 1u

/*
 * Parse and validate a store from rd.  Returns 0 (with *out unless CHECK_ONLY), -1 when
 * rd failed (errno as rd left it), or 1 when the text is not one this reader accepts:
 * invalid, or valid but unusual (keys out of the writer's order, \u escapes, ...).  On 1
 * the caller passes the whole text to store_from_json(), which accepts exactly the valid
 * stores and names the first problem of the others.  Never sets an error message.
 */
int store_read_stream(store_read_fn rd, void *arg, unsigned flags, struct store **out);

/*
 * store_to_json() in pieces: flush(arg, b) is called whenever b holds at least `chunk`
 * bytes, and once at the end; it writes out and empties b.  Returns 0, or -1 as soon as a
 * flush returned -1.
 */
int store_write_stream(const struct store *s, struct buf *b, size_t chunk,
		       int (*flush)(void *arg, struct buf *b), void *arg);

#endif
