/*
 * der.c - strict BER/DER TLV reader and writer (see esimctl/der.h).
 *
 * The reader is meant for hostile input (card responses, SM-DP+ data, fuzzing): every
 * length is checked against the bytes that are left before anything is dereferenced,
 * and no arithmetic can wrap.  X.690 DER: tags of 1..3 bytes, definite lengths of
 * 1..4 length bytes.
 */
#include <string.h>

#include "esimctl/der.h"

#define DER_MAX_TAG_BYTES 3
#define DER_MAX_LEN_BYTES 4

static int read_tag(const uint8_t *p, size_t left, uint32_t *tag, size_t *used)
{
	uint32_t t;
	size_t i;

	if (left < 1)
		return -1;
	t = p[0];
	if ((p[0] & 0x1F) != 0x1F) {
		*tag = t;
		*used = 1;
		return 0;
	}
	/* High-tag-number form: base-128 digits, bit 8 set on all but the last. */
	for (i = 1;; i++) {
		if (i >= DER_MAX_TAG_BYTES || i >= left)
			return -1;
		if (i == 1 && p[i] == 0x80)
			return -1;      /* leading zero digit: not minimal */
		t = (t << 8) | p[i];
		if (!(p[i] & 0x80))
			break;
	}
	/* Tag numbers below 31 must use the short form. */
	if (i == 1 && p[1] < 0x1F)
		return -1;
	*tag = t;
	*used = i + 1;
	return 0;
}

static int read_len(const uint8_t *p, size_t left, size_t *len, size_t *used)
{
	size_t n, i, v = 0;

	if (left < 1)
		return -1;
	if (p[0] < 0x80) {
		*len = p[0];
		*used = 1;
		return 0;
	}
	n = p[0] & 0x7F;
	if (n == 0 || n > DER_MAX_LEN_BYTES)    /* 0x80 = indefinite; 0xFF reserved */
		return -1;
	if (n >= left)
		return -1;
	for (i = 1; i <= n; i++)
		v = (v << 8) | p[i];
	*len = v;
	*used = n + 1;
	return 0;
}

int der_read(const uint8_t *buf, size_t len, struct der_node *out, size_t *consumed)
{
	uint32_t tag;
	size_t tl, ll, vlen, hdr;

	if (!buf || !out)
		return -1;
	if (read_tag(buf, len, &tag, &tl) < 0)
		return -1;
	if (read_len(buf + tl, len - tl, &vlen, &ll) < 0)
		return -1;
	hdr = tl + ll;
	if (vlen > len - hdr)
		return -1;
	out->tag = tag;
	out->constructed = (buf[0] & 0x20) != 0;
	out->tlv = buf;
	out->tlv_len = hdr + vlen;
	out->value = buf + hdr;
	out->len = vlen;
	if (consumed)
		*consumed = hdr + vlen;
	return 0;
}

int der_parse(const uint8_t *buf, size_t len, struct der_node *out)
{
	size_t used;

	if (der_read(buf, len, out, &used) < 0 || used != len)
		return -1;
	return 0;
}

void der_iter_init(struct der_iter *it, const struct der_node *parent)
{
	it->p = parent ? parent->value : NULL;
	it->left = parent ? parent->len : 0;
}

int der_iter_next(struct der_iter *it, struct der_node *out)
{
	size_t used;

	if (it->left == 0)
		return 0;
	if (der_read(it->p, it->left, out, &used) < 0) {
		it->left = 0;   /* stay failed; never walk past a bad child */
		return -1;
	}
	it->p += used;
	it->left -= used;
	return 1;
}

int der_find(const struct der_node *parent, uint32_t tag, struct der_node *out)
{
	struct der_iter it;
	struct der_node n;
	int r;

	der_iter_init(&it, parent);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (n.tag == tag) {
			if (out)
				*out = n;
			return 1;
		}
	}
	return r;
}

int der_get_uint(const struct der_node *n, uint64_t *out)
{
	const uint8_t *v;
	size_t len, i;
	uint64_t x = 0;

	if (!n || !out || n->len == 0)
		return -1;
	v = n->value;
	len = n->len;
	if (v[0] & 0x80)
		return -1;                      /* negative */
	if (len > 1 && v[0] == 0x00 && !(v[1] & 0x80))
		return -1;                      /* not minimal */
	if (v[0] == 0x00 && len > 1) {
		v++;
		len--;
	}
	if (len > 8)
		return -1;
	for (i = 0; i < len; i++)
		x = (x << 8) | v[i];
	*out = x;
	return 0;
}

void der_put_tag(struct buf *b, uint32_t tag)
{
	uint8_t t[4];
	int i, n = 0;

	for (i = 3; i >= 0; i--) {
		uint8_t c = (uint8_t)(tag >> (8 * i));

		if (c || n || i == 0)
			t[n++] = c;
	}
	buf_add(b, t, (size_t)n);
}

/* Encode len minimally into out (at most 5 bytes); returns the byte count. */
static size_t enc_len(size_t len, uint8_t out[5])
{
	size_t n = 0, i;
	size_t v = len;

	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	while (v) {
		n++;
		v >>= 8;
	}
	out[0] = (uint8_t)(0x80 | n);
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return n + 1;
}

void der_put_len(struct buf *b, size_t len)
{
	uint8_t l[1 + sizeof(size_t)];
	uint8_t tmp[5];
	size_t n;

	if (len > 0xFFFFFFFFu) {
		/* Beyond what the reader accepts; still encode it faithfully. */
		size_t i, bytes = sizeof(size_t);

		l[0] = (uint8_t)(0x80 | bytes);
		for (i = 0; i < bytes; i++)
			l[1 + i] = (uint8_t)(len >> (8 * (bytes - 1 - i)));
		buf_add(b, l, bytes + 1);
		return;
	}
	n = enc_len(len, tmp);
	buf_add(b, tmp, n);
}

void der_put_tlv(struct buf *b, uint32_t tag, const void *value, size_t len)
{
	der_put_tag(b, tag);
	der_put_len(b, len);
	if (len)
		buf_add(b, value, len);
}

void der_put_uint(struct buf *b, uint32_t tag, uint64_t v)
{
	uint8_t out[9];
	int i, n = 0, started = 0;

	for (i = 7; i >= 0; i--) {
		uint8_t c = (uint8_t)(v >> (8 * i));

		if (!started && c == 0 && i > 0)
			continue;
		if (!started && (c & 0x80))
			out[n++] = 0x00;        /* keep it positive */
		started = 1;
		out[n++] = c;
	}
	der_put_tlv(b, tag, out, (size_t)n);
}

size_t der_begin(struct buf *b, uint32_t tag)
{
	der_put_tag(b, tag);
	buf_addch(b, 0);        /* placeholder length byte */
	return b->len - 1;
}

void der_end(struct buf *b, size_t mark)
{
	size_t vlen = b->len - mark - 1;
	uint8_t l[1 + sizeof(size_t)];
	size_t n;

	if (vlen < 0x80) {
		b->buf[mark] = (char)vlen;
		return;
	}
	if (vlen > 0xFFFFFFFFu) {
		size_t i, bytes = sizeof(size_t);

		l[0] = (uint8_t)(0x80 | bytes);
		for (i = 0; i < bytes; i++)
			l[1 + i] = (uint8_t)(vlen >> (8 * (bytes - 1 - i)));
		n = bytes + 1;
	} else {
		n = enc_len(vlen, l);
	}
	/* Make room for the extra length bytes and shift the value up. */
	buf_grow(b, n - 1);
	memmove(b->buf + mark + n, b->buf + mark + 1, vlen);
	memcpy(b->buf + mark, l, n);
	b->len += n - 1;
	b->buf[b->len] = '\0';
}

void hex_encode(const uint8_t *in, size_t len, struct buf *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	buf_grow(out, len * 2);
	for (i = 0; i < len; i++) {
		out->buf[out->len++] = digits[in[i] >> 4];
		out->buf[out->len++] = digits[in[i] & 0x0F];
	}
	out->buf[out->len] = '\0';
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(const char *in, struct buf *out)
{
	size_t n, i, start;

	if (!in)
		return -1;
	n = strlen(in);
	if (n % 2)
		return -1;
	start = out->len;
	buf_grow(out, n / 2);
	for (i = 0; i < n; i += 2) {
		int hi = hex_digit(in[i]), lo = hex_digit(in[i + 1]);

		if (hi < 0 || lo < 0) {
			out->len = start;
			out->buf[out->len] = '\0';
			return -1;
		}
		out->buf[out->len++] = (char)((hi << 4) | lo);
	}
	out->buf[out->len] = '\0';
	return 0;
}
