/* test_der.c - DER reader/writer: X.690 DER rules, ES10 byte examples, hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esimctl/buf.h"
#include "esimctl/der.h"

/* Decode hex that may contain spaces (test tables are easier to read that way). */
static void unhex(const char *hex, struct buf *out)
{
	struct buf clean = BUF_INIT;

	for (const char *p = hex; *p; p++)
		if (*p != ' ')
			buf_addch(&clean, *p);
	assert_int_equal(hex_decode(clean.buf, out), 0);
	buf_release(&clean);
}

static void assert_hex(const struct buf *got, const char *want_hex)
{
	struct buf want = BUF_INIT, g = BUF_INIT, w = BUF_INIT;

	unhex(want_hex, &want);
	if (got->len != want.len || memcmp(got->buf, want.buf, want.len) != 0) {
		hex_encode((const uint8_t *)got->buf, got->len, &g);
		hex_encode((const uint8_t *)want.buf, want.len, &w);
		fail_msg("got  %s\nwant %s", g.buf, w.buf);
	}
	buf_release(&want);
	buf_release(&g);
	buf_release(&w);
}

static const uint8_t iccid[10] = { 0x98, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x14 };

/* ---- builders for the ES10 byte examples ---- */

static void build_enable(struct buf *b)
{
	size_t top = der_begin(b, 0xBF31), a0;
	uint8_t t = 0xFF;

	a0 = der_begin(b, 0xA0);
	der_put_tlv(b, 0x5A, iccid, sizeof(iccid));
	der_end(b, a0);
	der_put_tlv(b, 0x81, &t, 1);
	der_end(b, top);
}

static void build_delete(struct buf *b)
{
	size_t top = der_begin(b, 0xBF33);

	der_put_tlv(b, 0x5A, iccid, sizeof(iccid));
	der_end(b, top);
}

static void build_nickname(struct buf *b)
{
	size_t top = der_begin(b, 0xBF29);

	der_put_tlv(b, 0x5A, iccid, sizeof(iccid));
	der_put_tlv(b, 0x90, "work", 4);
	der_end(b, top);
}

static void build_profiles_all(struct buf *b)
{
	der_end(b, der_begin(b, 0xBF2D));
}

static void build_profiles_one(struct buf *b)
{
	static const uint8_t tags[] = { 0x5A, 0x4F, 0x9F, 0x70, 0x90, 0x91, 0x92, 0x95 };
	size_t top = der_begin(b, 0xBF2D), a0;

	a0 = der_begin(b, 0xA0);
	der_put_tlv(b, 0x5A, iccid, sizeof(iccid));
	der_end(b, a0);
	der_put_tlv(b, 0x5C, tags, sizeof(tags));
	der_end(b, top);
}

static void build_list_notif(struct buf *b)
{
	static const uint8_t ev[] = { 0x06, 0x40 };
	size_t top = der_begin(b, 0xBF28);

	der_put_tlv(b, 0x81, ev, sizeof(ev));
	der_end(b, top);
}

static void build_retrieve5(struct buf *b)
{
	size_t top = der_begin(b, 0xBF2B), a0;

	a0 = der_begin(b, 0xA0);
	der_put_uint(b, 0x80, 5);
	der_end(b, a0);
	der_end(b, top);
}

static void build_remove5(struct buf *b)
{
	size_t top = der_begin(b, 0xBF30);

	der_put_uint(b, 0x80, 5);
	der_end(b, top);
}

static void build_cancel(struct buf *b)
{
	static const uint8_t txid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					  0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
	size_t top = der_begin(b, 0xBF41);

	der_put_tlv(b, 0x80, txid, sizeof(txid));
	der_put_uint(b, 0x81, 0);
	der_end(b, top);
}

static void build_memreset(struct buf *b)
{
	static const uint8_t bits[] = { 0x05, 0xE0 };
	size_t top = der_begin(b, 0xBF34);

	der_put_tlv(b, 0x82, bits, sizeof(bits));
	der_end(b, top);
}

static void build_empty_list(struct buf *b)
{
	size_t top = der_begin(b, 0xBF2D);

	der_end(b, der_begin(b, 0xA0));
	der_end(b, top);
}

static void build_geteid(struct buf *b)
{
	static const uint8_t tl = 0x5A;
	size_t top = der_begin(b, 0xBF3E);

	der_put_tlv(b, 0x5C, &tl, 1);
	der_end(b, top);
}

static void build_seq128(struct buf *b)
{
	der_put_uint(b, 0x80, 128);
}

static const struct {
	const char *name;
	void (*build)(struct buf *b);
	const char *hex;
	uint32_t tag;
	int children;
} examples[] = {
	{ "EnableProfile", build_enable, "BF31 11 A0 0C 5A 0A 98001032547698103214 81 01 FF", 0xBF31, 2 },
	{ "DeleteProfile", build_delete, "BF33 0C 5A 0A 98001032547698103214", 0xBF33, 1 },
	{ "SetNickname", build_nickname, "BF29 12 5A 0A 98001032547698103214 90 04 776F726B", 0xBF29, 2 },
	{ "GetProfilesInfo all", build_profiles_all, "BF2D 00", 0xBF2D, 0 },
	{ "GetProfilesInfo one", build_profiles_one,
	  "BF2D 18 A0 0C 5A 0A 98001032547698103214 5C 08 5A4F9F7090919295", 0xBF2D, 2 },
	{ "ListNotification", build_list_notif, "BF28 04 81 02 06 40", 0xBF28, 1 },
	{ "RetrieveNotificationsList", build_retrieve5, "BF2B 05 A0 03 80 01 05", 0xBF2B, 1 },
	{ "RemoveNotificationFromList", build_remove5, "BF30 03 80 01 05", 0xBF30, 1 },
	{ "CancelSession", build_cancel,
	  "BF41 15 80 10 00112233445566778899AABBCCDDEEFF 81 01 00", 0xBF41, 2 },
	{ "eUICCMemoryReset", build_memreset, "BF34 04 82 02 05 E0", 0xBF34, 1 },
	{ "Empty list", build_empty_list, "BF2D 02 A0 00", 0xBF2D, 1 },
	{ "GetEID", build_geteid, "BF3E 03 5C 01 5A", 0xBF3E, 1 },
	{ "seqNumber 128", build_seq128, "80 02 00 80", 0x80, -1 },
};

static void test_examples_build(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct buf b = BUF_INIT;

		examples[i].build(&b);
		assert_hex(&b, examples[i].hex);
		buf_release(&b);
	}
}

static void test_examples_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct buf b = BUF_INIT;
		struct der_node top, c;
		struct der_iter it;
		int n = 0, r;

		unhex(examples[i].hex, &b);
		assert_int_equal(der_parse((const uint8_t *)b.buf, b.len, &top), 0);
		assert_int_equal(top.tag, examples[i].tag);
		assert_int_equal(top.tlv_len, b.len);
		assert_ptr_equal(top.tlv, b.buf);
		if (examples[i].children >= 0) {
			assert_true(top.constructed);
			der_iter_init(&it, &top);
			while ((r = der_iter_next(&it, &c)) == 1)
				n++;
			assert_int_equal(r, 0);
			assert_int_equal(n, examples[i].children);
		}
		buf_release(&b);
	}
}

static void test_enable_walk(void **state)
{
	struct buf b = BUF_INIT;
	struct der_node top, a0, id, refresh;

	(void)state;
	build_enable(&b);
	assert_int_equal(der_parse((const uint8_t *)b.buf, b.len, &top), 0);
	assert_int_equal(der_find(&top, 0xA0, &a0), 1);
	assert_true(a0.constructed);
	assert_int_equal(der_find(&a0, 0x5A, &id), 1);
	assert_int_equal(id.len, 10);
	assert_memory_equal(id.value, iccid, 10);
	assert_false(id.constructed);
	assert_int_equal(der_find(&top, 0x81, &refresh), 1);
	assert_int_equal(refresh.len, 1);
	assert_int_equal(refresh.value[0], 0xFF);
	assert_int_equal(der_find(&top, 0x82, NULL), 0);
	assert_int_equal(der_find(&a0, 0x81, &refresh), 0);
	buf_release(&b);
}

/* Nested iteration: BF2D { A0 { E3 {5A, 9F70}, E3 {5A, 9F70} } }. */
static void test_nested_iteration(void **state)
{
	struct buf b = BUF_INIT;
	struct der_node top, a0, e3, leaf;
	struct der_iter it, it2;
	size_t m_top, m_a0, m_e3;
	int profiles = 0, leaves = 0, r;
	uint64_t st;

	(void)state;
	m_top = der_begin(&b, 0xBF2D);
	m_a0 = der_begin(&b, 0xA0);
	for (int i = 0; i < 2; i++) {
		m_e3 = der_begin(&b, 0xE3);
		der_put_tlv(&b, 0x5A, iccid, sizeof(iccid));
		der_put_uint(&b, 0x9F70, (uint64_t)i);
		der_end(&b, m_e3);
	}
	der_end(&b, m_a0);
	der_end(&b, m_top);

	assert_int_equal(der_parse((const uint8_t *)b.buf, b.len, &top), 0);
	assert_int_equal(der_find(&top, 0xA0, &a0), 1);
	der_iter_init(&it, &a0);
	while ((r = der_iter_next(&it, &e3)) == 1) {
		assert_int_equal(e3.tag, 0xE3);
		der_iter_init(&it2, &e3);
		while (der_iter_next(&it2, &leaf) == 1)
			leaves++;
		assert_int_equal(der_find(&e3, 0x9F70, &leaf), 1);
		assert_int_equal(der_get_uint(&leaf, &st), 0);
		assert_int_equal(st, (uint64_t)profiles);
		profiles++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(profiles, 2);
	assert_int_equal(leaves, 4);
	buf_release(&b);
}

/* Long-form lengths written by der_end (value moved) and by der_put_tlv, and read back. */
static void test_long_lengths(void **state)
{
	static const struct {
		size_t vlen;
		const char *hdr;
	} cases[] = {
		{ 0, "BF36 00" },
		{ 127, "BF36 7F" },
		{ 128, "BF36 81 80" },
		{ 255, "BF36 81 FF" },
		{ 256, "BF36 82 0100" },
		{ 0x0ADB, "BF36 82 0ADB" },
		{ 65535, "BF36 82 FFFF" },
		{ 65536, "BF36 83 010000" },
		{ 70000, "BF36 83 011170" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf a = BUF_INIT, c = BUF_INIT, hdr = BUF_INIT;
		struct der_node n;
		uint8_t *val = xmalloc(cases[i].vlen + 1);
		size_t m;

		for (size_t k = 0; k < cases[i].vlen; k++)
			val[k] = (uint8_t)(k * 7 + 3);
		/* der_begin/der_end, with a prefix and a nested inner TLV. */
		buf_addch(&a, 0x42);
		m = der_begin(&a, 0xBF36);
		buf_add(&a, val, cases[i].vlen);
		der_end(&a, m);
		unhex(cases[i].hdr, &hdr);
		assert_int_equal(a.len, 1 + hdr.len + cases[i].vlen);
		assert_int_equal((uint8_t)a.buf[0], 0x42);
		assert_memory_equal(a.buf + 1, hdr.buf, hdr.len);
		if (cases[i].vlen)
			assert_memory_equal(a.buf + 1 + hdr.len, val, cases[i].vlen);
		assert_int_equal(a.buf[a.len], '\0');

		der_put_tlv(&c, 0xBF36, val, cases[i].vlen);
		assert_int_equal(c.len, a.len - 1);
		assert_memory_equal(c.buf, a.buf + 1, c.len);

		assert_int_equal(der_parse((const uint8_t *)c.buf, c.len, &n), 0);
		assert_int_equal(n.tag, 0xBF36);
		assert_int_equal(n.len, cases[i].vlen);
		assert_ptr_equal(n.value, c.buf + hdr.len);
		free(val);
		buf_release(&a);
		buf_release(&c);
		buf_release(&hdr);
	}
}

/* Nested der_begin where the inner TLV grows past 127 bytes and forces two moves. */
static void test_nested_long(void **state)
{
	struct buf b = BUF_INIT;
	struct der_node top, a3, seg;
	struct der_iter it;
	uint8_t blob[300];
	size_t mt, ma;
	int n = 0;

	(void)state;
	memset(blob, 0xAB, sizeof(blob));
	mt = der_begin(&b, 0xBF36);
	der_put_tlv(&b, 0xBF23, blob, 10);
	ma = der_begin(&b, 0xA3);
	der_put_tlv(&b, 0x86, blob, sizeof(blob));
	der_put_tlv(&b, 0x86, blob, 200);
	der_end(&b, ma);
	der_end(&b, mt);
	assert_int_equal(der_parse((const uint8_t *)b.buf, b.len, &top), 0);
	assert_int_equal(der_find(&top, 0xA3, &a3), 1);
	assert_int_equal(a3.len, (3 + 1 + 300) + (3 + 200));
	der_iter_init(&it, &a3);
	while (der_iter_next(&it, &seg) == 1) {
		assert_int_equal(seg.tag, 0x86);
		assert_memory_equal(seg.value, blob, seg.len);
		n++;
	}
	assert_int_equal(n, 2);
	buf_release(&b);
}

/* Accepted although not minimal: the reader accepts any definite length. */
static const struct {
	const char *hex;
	int ok;         /* der_parse result 0 / -1 */
	uint32_t tag;
	size_t len;
	const char *why;
} parse_cases[] = {
	{ "04 00", 0, 0x04, 0, "empty primitive" },
	{ "04 81 01 AA", 0, 0x04, 1, "long form, not minimal, accepted" },
	{ "04 82 0001 AA", 0, 0x04, 1, "two-byte length" },
	{ "04 83 000001 AA", 0, 0x04, 1, "three-byte length" },
	{ "04 84 00000001 AA", 0, 0x04, 1, "four-byte length" },
	{ "04 85 0000000001 AA", -1, 0, 0, "five length bytes" },
	{ "04 FF", -1, 0, 0, "reserved length octet" },
	{ "30 80 04 00 00 00", -1, 0, 0, "indefinite length" },
	{ "04 81", -1, 0, 0, "missing long length byte" },
	{ "04 82 00", -1, 0, 0, "short long-form length" },
	{ "04 02 AA", -1, 0, 0, "value truncated" },
	{ "04 01 AA BB", -1, 0, 0, "trailing byte" },
	{ "04 84 FFFFFFFF AA", -1, 0, 0, "huge length" },
	{ "", -1, 0, 0, "empty input" },
	{ "04", -1, 0, 0, "no length" },
	{ "BF", -1, 0, 0, "tag cut after first byte" },
	{ "BF 81", -1, 0, 0, "tag cut mid high-tag number" },
	{ "BF 22 00", 0, 0xBF22, 0, "two-byte tag" },
	{ "5F 37 01 00", 0, 0x5F37, 1, "two-byte application tag" },
	{ "9F 70 01 01", 0, 0x9F70, 1, "two-byte context tag" },
	{ "BF 81 00 00", 0, 0xBF8100, 0, "three-byte tag" },
	{ "BF 81 81 00 00", -1, 0, 0, "four-byte tag" },
	{ "BF 80 01 00", -1, 0, 0, "high tag with leading 0x80" },
	{ "BF 1E 00", -1, 0, 0, "high-tag form for a low tag number" },
	{ "1F 1F 00", 0, 0x1F1F, 0, "tag number 31" },
	{ "BF 76 00", 0, 0xBF76, 0, "BF76" },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct buf b = BUF_INIT;
		struct der_node n;
		int r;

		unhex(parse_cases[i].hex, &b);
		/* Copy into an exact-size heap block so ASan sees any over-read. */
		uint8_t *p = xmalloc(b.len ? b.len : 1);
		memcpy(p, b.buf, b.len);
		r = der_parse(p, b.len, &n);
		if (r != parse_cases[i].ok)
			fail_msg("case %zu (%s): got %d", i, parse_cases[i].why, r);
		if (r == 0) {
			assert_int_equal(n.tag, parse_cases[i].tag);
			assert_int_equal(n.len, parse_cases[i].len);
		}
		free(p);
		buf_release(&b);
	}
}

/* der_read reports the size of one TLV and leaves the rest. */
static void test_read_consumed(void **state)
{
	static const uint8_t two[] = { 0x80, 0x01, 0x05, 0x81, 0x00 };
	struct der_node n;
	size_t used = 0;

	(void)state;
	assert_int_equal(der_read(two, sizeof(two), &n, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(n.tlv_len, 3);
	assert_int_equal(der_read(two + used, sizeof(two) - used, &n, &used), 0);
	assert_int_equal(n.tag, 0x81);
	assert_int_equal(used, 2);
	assert_int_equal(der_parse(two, sizeof(two), &n), -1);
	assert_int_equal(der_read(NULL, 0, &n, &used), -1);
}

/* Every proper prefix of a valid TLV must fail without touching bytes past the prefix. */
static void test_truncation(void **state)
{
	struct buf full = BUF_INIT;
	struct buf big = BUF_INIT;
	uint8_t blob[200];

	(void)state;
	build_profiles_one(&full);
	memset(blob, 0x11, sizeof(blob));
	der_put_tlv(&big, 0xBF36, blob, sizeof(blob));      /* 81 C8 length form */

	const struct buf *bufs[] = { &full, &big };
	for (size_t k = 0; k < 2; k++) {
		const struct buf *src = bufs[k];

		for (size_t len = 0; len < src->len; len++) {
			uint8_t *p = xmalloc(len ? len : 1);
			struct der_node n;
			size_t used;

			memcpy(p, src->buf, len);
			if (der_read(p, len, &n, &used) != -1)
				fail_msg("prefix %zu of %zu parsed", len, src->len);
			assert_int_equal(der_parse(p, len, &n), -1);
			free(p);
		}
	}
	buf_release(&full);
	buf_release(&big);
}

/* A child whose length runs past its parent makes iteration and der_find fail. */
static void test_malformed_child(void **state)
{
	struct buf b = BUF_INIT;
	struct der_node top, c;
	struct der_iter it;

	(void)state;
	unhex("A0 06 80 01 05 81 05 00", &b);
	assert_int_equal(der_parse((const uint8_t *)b.buf, b.len, &top), 0);
	der_iter_init(&it, &top);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0x80);
	assert_int_equal(der_iter_next(&it, &c), -1);
	assert_int_equal(der_iter_next(&it, &c), 0);   /* stays stopped */
	assert_int_equal(der_find(&top, 0x80, &c), 1); /* found before the bad child */
	assert_int_equal(der_find(&top, 0x81, &c), -1);
	assert_int_equal(der_find(&top, 0x82, &c), -1);
	buf_release(&b);
}

static const struct {
	const char *hex;
	int ok;
	uint64_t v;
} uint_cases[] = {
	{ "00", 0, 0 },
	{ "05", 0, 5 },
	{ "7F", 0, 127 },
	{ "0080", 0, 128 },
	{ "00FF", 0, 255 },
	{ "0100", 0, 256 },
	{ "7FFFFFFFFFFFFFFF", 0, 0x7FFFFFFFFFFFFFFFull },
	{ "00FFFFFFFFFFFFFFFF", 0, 0xFFFFFFFFFFFFFFFFull },
	{ "", -1, 0 },
	{ "80", -1, 0 },
	{ "FF", -1, 0 },
	{ "0005", -1, 0 },
	{ "0000", -1, 0 },
	{ "010000000000000000", -1, 0 },
	{ "0001FFFFFFFFFFFFFFFF", -1, 0 },
};

static void test_uint(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(uint_cases) / sizeof(uint_cases[0]); i++) {
		struct buf v = BUF_INIT, tlv = BUF_INIT, enc = BUF_INIT;
		struct der_node n;
		uint64_t x = 12345;

		unhex(uint_cases[i].hex, &v);
		der_put_tlv(&tlv, 0x02, v.buf, v.len);
		assert_int_equal(der_parse((const uint8_t *)tlv.buf, tlv.len, &n), 0);
		assert_int_equal(der_get_uint(&n, &x), uint_cases[i].ok);
		if (uint_cases[i].ok == 0) {
			assert_int_equal(x, uint_cases[i].v);
			/* And the writer produces exactly these minimal bytes. */
			der_put_uint(&enc, 0x02, uint_cases[i].v);
			assert_int_equal(enc.len, tlv.len);
			assert_memory_equal(enc.buf, tlv.buf, tlv.len);
		}
		buf_release(&v);
		buf_release(&tlv);
		buf_release(&enc);
	}
}

static void test_put_tag(void **state)
{
	static const struct {
		uint32_t tag;
		const char *hex;
	} cases[] = {
		{ 0x00, "00" }, { 0x5A, "5A" }, { 0xBF22, "BF22" }, { 0x5F37, "5F37" },
		{ 0x9F70, "9F70" }, { 0xBF8100, "BF8100" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		der_put_tag(&b, cases[i].tag);
		assert_hex(&b, cases[i].hex);
		buf_release(&b);
	}
}

static void test_hex(void **state)
{
	static const uint8_t bin[] = { 0x00, 0x01, 0xAB, 0xCD, 0xEF, 0x7F, 0x80, 0xFF };
	static const struct {
		const char *in;
		int ok;
	} bad[] = {
		{ "0", -1 }, { "ABC", -1 }, { "0G", -1 }, { "G0", -1 }, { " 0", -1 },
		{ "00 ", -1 }, { "0x00", -1 }, { "", 0 }, { "aBcD", 0 },
	};
	struct buf h = BUF_INIT, d = BUF_INIT;

	(void)state;
	hex_encode(bin, sizeof(bin), &h);
	assert_string_equal(h.buf, "0001ABCDEF7F80FF");
	assert_int_equal(h.len, 16);
	assert_int_equal(hex_decode("0001abcdef7F80ff", &d), 0);
	assert_int_equal(d.len, sizeof(bin));
	assert_memory_equal(d.buf, bin, sizeof(bin));
	/* Failure leaves the output as it was. */
	assert_int_equal(hex_decode("12zz", &d), -1);
	assert_int_equal(d.len, sizeof(bin));
	assert_int_equal(hex_decode(NULL, &d), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf x = BUF_INIT;

		if (hex_decode(bad[i].in, &x) != bad[i].ok)
			fail_msg("hex_decode(\"%s\")", bad[i].in);
		buf_release(&x);
	}
	buf_reset(&h);
	hex_encode(bin, 0, &h);
	assert_int_equal(h.len, 0);
	assert_string_equal(h.buf, "");
	buf_release(&h);
	buf_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_build),
		cmocka_unit_test(test_examples_parse),
		cmocka_unit_test(test_enable_walk),
		cmocka_unit_test(test_nested_iteration),
		cmocka_unit_test(test_long_lengths),
		cmocka_unit_test(test_nested_long),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_read_consumed),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_malformed_child),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_put_tag),
		cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
