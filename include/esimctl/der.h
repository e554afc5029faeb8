/*
 * der.h - strict BER/DER TLV reader and writer for the SGP.22 RSP definitions.
 *
 * Reading never copies: a struct der_node points into the caller's buffer.  Every length
 * is checked against what is left, so hostile input cannot make it over-read.  Refused:
 * indefinite lengths (0x80), lengths over 4 bytes or beyond the buffer, tags over 3
 * bytes, non-minimal long tags.  Tags are kept as their raw bytes in a uint32_t:
 * 0x5A, 0xBF22, 0x5F37, 0x9F70, 0xBF76.
 *
 *	struct der_node top, n;
 *	if (der_parse(buf, len, &top) < 0 || top.tag != 0xBF2E) ...
 *	if (der_find(&top, 0x80, &n) == 1 && n.len == 16) ...
 */
#ifndef ESIMCTL_DER_H
#define ESIMCTL_DER_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/buf.h"

struct der_node {
	uint32_t tag;
	int constructed;        /* bit 6 of the first tag byte */
	const uint8_t *tlv;     /* start of the tag */
	size_t tlv_len;         /* tag + length + value */
	const uint8_t *value;
	size_t len;
};

/* Read one TLV at buf; *consumed = its size.  0 ok, -1 malformed or truncated. */
int der_read(const uint8_t *buf, size_t len, struct der_node *out, size_t *consumed);
/* Read exactly one TLV that fills buf completely (trailing bytes are an error). */
int der_parse(const uint8_t *buf, size_t len, struct der_node *out);

struct der_iter {
	const uint8_t *p;
	size_t left;
};
void der_iter_init(struct der_iter *it, const struct der_node *parent);
/* 1: *out is the next child; 0: end; -1: malformed child. */
int der_iter_next(struct der_iter *it, struct der_node *out);
/* First direct child with tag: 1 found, 0 absent, -1 malformed contents. */
int der_find(const struct der_node *parent, uint32_t tag, struct der_node *out);

/* Unsigned INTEGER value (minimal two's complement, <= 8 bytes).  0 / -1. */
int der_get_uint(const struct der_node *n, uint64_t *out);

/* Writers append to b. */
void der_put_tag(struct buf *b, uint32_t tag);
void der_put_len(struct buf *b, size_t len);
void der_put_tlv(struct buf *b, uint32_t tag, const void *value, size_t len);
void der_put_uint(struct buf *b, uint32_t tag, uint64_t v);   /* INTEGER, minimal */
/* Open a constructed TLV; returns a mark for der_end(), which writes the final length. */
size_t der_begin(struct buf *b, uint32_t tag);
void der_end(struct buf *b, size_t mark);

/* Hex helpers: upper-case, no separators. */
void hex_encode(const uint8_t *in, size_t len, struct buf *out);
/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);
/* Accepts upper/lower case; -1 on odd length or bad digit. */
int hex_decode(const char *in, struct buf *out);

#endif
