/*
 * test_apdu.c - the APDU layer of the ES10 client (src/rsp/es10_apdu.c) against a fake card
 * that reassembles STORE DATA chains, and the ATR reader (src/core/atr.c).
 *
 * The fake card checks GlobalPlatform STORE DATA numbering itself (P2 00 starts a chain,
 * then +1 per block), compares the reassembled command with what was sent, and can refuse
 * blocks for their length in each of the ways a card or a transport does: SW 6700, 6D00,
 * 6E00, or the transport's APDU_TOO_LONG / failure.  Responses come directly, through
 * 61xx / GET RESPONSE chains of any piece size, or after a 6Cxx (wrong Le).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "card/soft/soft.h"
#include "esimctl/atr.h"
#include "esimctl/buf.h"
#include "esimctl/es10.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* How the fake refuses a block it finds too long. */
enum refuse { R_6700, R_6D00, R_6E00, R_TOO_LONG, R_FAIL_EUICC, R_FAIL_NOREADER };

struct sent {
	uint8_t p1, p2;
	size_t lc;
	int ext;
};

static struct fake {
	/* behaviour */
	size_t max_lc;        /* refuse STORE DATA blocks longer than this (0: none) */
	int no_ext;           /* refuse every extended-length APDU */
	int refuse_p2_min;    /* refuse only from this block number on */
	enum refuse how;
	size_t resp_len;      /* response to the last block: resp_len pattern bytes */
	size_t gr_piece;      /* 61xx pieces of at most this (0: 256) */
	int le_6c;            /* answer 6C<len> once when the last block's Le is not len */
	/* state */
	struct buf in;
	int active;
	unsigned next_p2;
	size_t out_off;
	int have_out;
	int sixc_done;
	int was_refused;      /* the last STORE DATA was refused */
	const uint8_t *want;  /* the request the chain must reassemble to */
	size_t wantlen;
	unsigned executed;    /* last blocks that ran the function */
	struct sent log[600];
	size_t nlog, ngr, nsd;
} F;

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + 7);
}

static void fake_reset(void)
{
	buf_release(&F.in);
	memset(&F, 0, sizeof(F));
}

static int refuse(uint8_t *rx, size_t *rxlen, struct esim_err *err)
{
	switch (F.how) {
	case R_6700:
	case R_6D00:
	case R_6E00:
		rx[0] = F.how == R_6700 ? 0x67 : F.how == R_6D00 ? 0x6D : 0x6E;
		rx[1] = 0x00;
		*rxlen = 2;
		return 0;
	case R_TOO_LONG:
		esim_fail(err, ESIM_E_EUICC, "fake transport: APDU too long");
		return APDU_TOO_LONG;
	case R_FAIL_EUICC:
		return esim_fail(err, ESIM_E_EUICC, "fake reader: transmission failed");
	case R_FAIL_NOREADER:
		return esim_fail(err, ESIM_E_NOREADER, "fake reader: card removed");
	}
	return -1;
}

/* Response data from F.out_off on: up to ne bytes, then 61xx or 9000. */
static void give(size_t ne, uint8_t *rx, size_t *rxlen)
{
	size_t left = F.resp_len - F.out_off, k = left < ne ? left : ne, i;

	for (i = 0; i < k; i++)
		rx[i] = pattern(F.out_off + i);
	F.out_off += k;
	left -= k;
	if (left) {
		size_t piece = F.gr_piece ? F.gr_piece : 256;

		rx[k] = 0x61;
		rx[k + 1] = (uint8_t)(left < piece ? left : piece);
	} else {
		rx[k] = 0x90;
		rx[k + 1] = 0x00;
		F.have_out = 0;
	}
	*rxlen = k + 2;
}

static int fake_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			 size_t *rxlen, struct esim_err *err)
{
	size_t lc = 0, ne = 0, hdr = 5;
	int ext = 0, has_le = 0;

	(void)priv;
	assert_true(txlen >= 4);
	assert_true(*rxlen >= APDU_RX_MAX);
	if (txlen > 5 && tx[4] == 0) {
		ext = 1;
		assert_true(txlen >= 7);
		lc = (size_t)tx[5] << 8 | tx[6];
		hdr = 7;
		assert_true(lc > 255);          /* extended only where short cannot carry it */
		if (txlen == hdr + lc + 2) {
			has_le = 1;
			ne = (size_t)tx[hdr + lc] << 8 | tx[hdr + lc + 1];
			assert_true(ne >= 1 && ne <= 256);   /* never more than rx holds */
		} else {
			assert_int_equal(txlen, hdr + lc);
		}
	} else if (txlen == 5) {
		has_le = 1;
		ne = tx[4] ? tx[4] : 256;
	} else if (txlen > 5) {
		lc = tx[4];
		if (txlen == 6 + lc) {
			has_le = 1;
			ne = tx[5 + lc] ? tx[5 + lc] : 256;
		} else {
			assert_int_equal(txlen, 5 + lc);
		}
	}
	if (tx[1] == 0xC0) {
		F.ngr++;
		assert_true(F.have_out);
		assert_true(has_le);
		give(ne, rx, rxlen);
		return 0;
	}
	if (tx[1] != 0xE2) {         /* SELECT on the basic channel */
		rx[0] = 0x90;
		rx[1] = 0x00;
		*rxlen = 2;
		return 0;
	}
	F.nsd++;
	assert_true(F.nlog < ARRAY_SIZE(F.log));
	F.log[F.nlog].p1 = tx[2];
	F.log[F.nlog].p2 = tx[3];
	F.log[F.nlog].lc = lc;
	F.log[F.nlog].ext = ext;
	F.nlog++;
	/* After a refusal the chain starts again from block 00 (SGP.22 §5.7.2 numbering). */
	if (F.was_refused && tx[3] != 0)
		fail_msg("block %u sent after a refusal: the chain must restart at 00", tx[3]);
	F.was_refused = 0;
	if ((ext && F.no_ext) || (F.max_lc && lc > F.max_lc && tx[3] >= F.refuse_p2_min)) {
		F.was_refused = 1;
		return refuse(rx, rxlen, err);
	}
	/* GlobalPlatform STORE DATA numbering: 00 starts a chain, then one up each block. */
	if (tx[3] == 0) {
		buf_reset(&F.in);
		F.active = 1;
	} else if (!F.active || tx[3] != F.next_p2) {
		fail_msg("STORE DATA block %u out of sequence (want %u)", tx[3], F.next_p2);
	}
	buf_add(&F.in, tx + hdr, lc);
	F.next_p2 = tx[3] + 1u;
	if (!(tx[2] & 0x80)) {
		assert_false(has_le);
		rx[0] = 0x90;
		rx[1] = 0x00;
		*rxlen = 2;
		return 0;
	}
	if (F.le_6c && !F.sixc_done && has_le && ne != F.resp_len && F.resp_len < 256) {
		/* T=0 wrong Le: nothing runs, the terminal resends with Le as told */
		F.sixc_done = 1;
		F.active = 1;
		buf_reset(&F.in);
		rx[0] = 0x6C;
		rx[1] = (uint8_t)F.resp_len;
		*rxlen = 2;
		return 0;
	}
	assert_int_equal(F.in.len, F.wantlen);
	assert_memory_equal(F.in.buf, F.want, F.wantlen);
	F.active = 0;
	F.executed++;
	F.out_off = 0;
	F.have_out = F.resp_len > 0;
	if (!F.resp_len) {
		rx[0] = 0x90;
		rx[1] = 0x00;
		*rxlen = 2;
		return 0;
	}
	if (!has_le) {
		size_t piece = F.gr_piece ? F.gr_piece : 256;

		rx[0] = 0x61;
		rx[1] = (uint8_t)(F.resp_len < piece ? F.resp_len : piece);
		*rxlen = 2;
		return 0;
	}
	give(F.gr_piece && F.gr_piece < ne ? F.gr_piece : ne, rx, rxlen);
	return 0;
}

static void fake_close(void *priv)
{
	(void)priv;
}

static int fake_open(void *priv, struct esim_err *err)
{
	(void)priv;
	(void)err;
	return 0;
}

/* A basic-channel transport with the ATR given (hex, NULL for none). */
static void transport(struct apdu_transport *t, const uint8_t *atr, size_t atrlen)
{
	memset(t, 0, sizeof(*t));
	t->open = fake_open;
	t->transmit = fake_transmit;
	t->close = fake_close;
	t->basic_channel = 1;
	if (atr) {
		memcpy(t->atr, atr, atrlen);
		t->atrlen = atrlen;
	}
}

static void make_req(struct buf *b, size_t n, unsigned seed)
{
	size_t i;

	buf_reset(b);
	/* a TLV header is what es10_fn_name() reads; the rest is filler */
	buf_addch(b, 0xBF);
	buf_addch(b, 0x36);
	for (i = 2; i < n; i++)
		buf_addch(b, (int)((i * 13 + seed) & 0xFF));
}

static int send_req(struct es10_ctx *ctx, const struct buf *req, struct buf *resp,
		    struct esim_err *err)
{
	F.want = (const uint8_t *)req->buf;
	F.wantlen = req->len;
	return es10_transmit(ctx, (const uint8_t *)req->buf, req->len, resp, err);
}

static int setup(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

/* ---- ATR ----------------------------------------------------------------------------- */

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		assert_true(n < max);
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/*
 * Real ATRs from pcsc-tools' smartcard_list.txt (Ludovic Rousseau), the software eUICC's,
 * and broken ones.
 */
static void test_atr_table(void **state)
{
	static const struct {
		const char *atr, *what;
		int rc, has_caps, ext, ext_info, channels;
		unsigned protocols;
	} rows[] = {
		{ "3B 9E 96 80 1F C7 80 31 E0 73 FE 21 1B 66 D0 01 8D 5F 10 00 C3",
		  "eUICC for Gemalto", 0, 1, 0, 0, 4, 1u | 1u << 15 },
		{ "3B 9F 96 80 1F C7 80 31 E0 73 FE 21 13 57 4A 33 05 31 33 30 00 A6",
		  "AT&T eUICC", 0, 1, 0, 0, 4, 1u | 1u << 15 },
		{ "3B 9F 97 80 3F C7 82 80 31 E0 73 FE 21 1F 64 08 56 21 00 82 90 00 19",
		  "eSIM card", 0, 1, 0, 0, 8, 1u | 1u << 15 },
		{ "3B 9F 96 80 3F C7 82 80 31 E0 73 F6 21 57 57 4A 33 05 81 05 30 00 CE",
		  "COMPRION M2M eUICC", 0, 1, 1, 0, 8, 1u | 1u << 15 },
		{ "3B 9F 96 80 3F C7 82 80 31 E0 73 F6 21 57 57 4A 4D 02 0B 60 01 00 69",
		  "eSIM GSMA Card", 0, 1, 1, 0, 8, 1u | 1u << 15 },
		{ "3B 9F 96 80 1F C7 80 31 E0 73 FE 21 1B 63 00 57 00 83 81 90 00 11",
		  "3 (H3G) microUSIM", 0, 1, 0, 0, 4, 1u | 1u << 15 },
		{ "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C",
		  "OpenPGP Card V2 (category 00, T=1)", 0, 1, 1, 0, 1, 1u << 1 | 1u << 15 },
		{ "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 F5 73 C0 01 60 00 90 00 1C",
		  "OpenPGP Card V2.1: EF.ATR has length information", 0, 1, 1, 1, 1,
		  1u << 1 | 1u << 15 },
		{ "3B 02 14 50", "Schlumberger Multiflex 3k: no TD1, no caps", 0, 0, 0, 0, 0, 1u },
		{ "3B 9E 96 80 1F C7 80 31 E0 73 FE 21 1B 66 D0 01 8D 5F 10 00 C2",
		  "wrong TCK", -1, 0, 0, 0, 0, 0 },
		{ "3B 9E 96 80 1F C7 80 31 E0 73 FE 21 1B 66 D0 01 8D 5F 10 00",
		  "TCK missing", -1, 0, 0, 0, 0, 0 },
		{ "3B 9E 96 80 1F C7 80 31 E0 73", "historical bytes cut short", -1, 0, 0, 0, 0, 0 },
		{ "3B 02 14 50 00", "a byte too many", -1, 0, 0, 0, 0, 0 },
		{ "3A 02 14 50", "TS neither 3B nor 3F", -1, 0, 0, 0, 0, 0 },
		{ "3B 80", "TD1 missing", -1, 0, 0, 0, 0, 0 },
		{ "3B", "T0 missing", -1, 0, 0, 0, 0, 0 },
	};
	uint8_t atr[40];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct atr_info ai;
		size_t n = unhex(rows[i].atr, atr, sizeof(atr));
		int rc = atr_parse(atr, n, &ai);

		if (rc != rows[i].rc)
			fail_msg("%s: atr_parse %d, want %d", rows[i].what, rc, rows[i].rc);
		if (rc < 0)
			continue;
		if (ai.has_caps != rows[i].has_caps || ai.ext_length != rows[i].ext ||
		    ai.ext_info != rows[i].ext_info || ai.channels != rows[i].channels ||
		    ai.protocols != rows[i].protocols)
			fail_msg("%s: caps %d ext %d info %d channels %d protocols %#x", rows[i].what,
				 ai.has_caps, ai.ext_length, ai.ext_info, ai.channels, ai.protocols);
	}
}

/* The software eUICC's ATR: well-formed, T=0 and T=1, extended length. */
static void test_atr_soft(void **state)
{
	struct atr_info ai;

	(void)state;
	assert_int_equal(atr_parse(soft_euicc_atr, sizeof(soft_euicc_atr), &ai), 0);
	assert_int_equal(ai.protocols, 1u | 1u << 1 | 1u << 15);
	assert_int_equal(ai.ext_length, 1);
	assert_int_equal(ai.channels, 8);
	assert_int_equal(ai.nhist, 10);
}

/* ---- block sizes and encoding ----------------------------------------------------------- */

static const uint8_t atr_ext[] = {   /* COMPRION M2M eUICC: extended length */
	0x3B, 0x9F, 0x96, 0x80, 0x3F, 0xC7, 0x82, 0x80, 0x31, 0xE0, 0x73, 0xF6,
	0x21, 0x57, 0x57, 0x4A, 0x33, 0x05, 0x81, 0x05, 0x30, 0x00, 0xCE,
};
static const uint8_t atr_short[] = { /* eUICC for Gemalto: no extended length */
	0x3B, 0x9E, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21,
	0x1B, 0x66, 0xD0, 0x01, 0x8D, 0x5F, 0x10, 0x00, 0xC3,
};

/*
 * Which blocks a request goes in: the ATR (or its absence) and ctx->mss decide; blocks
 * over 255 bytes go in extended-length form, the others short.
 */
static void test_block_plan_table(void **state)
{
	static const struct {
		int atr;            /* 0 none, 1 short-only, 2 extended */
		size_t mss, reqlen;
		size_t blocks[6];   /* data bytes per block, 0-terminated */
	} rows[] = {
		{ 0, 0, 6, { 6 } },
		{ 0, 0, 255, { 255 } },
		{ 0, 0, 256, { 255, 1 } },
		{ 0, 0, 1024, { 255, 255, 255, 255, 4 } },
		{ 1, 0, 1024, { 255, 255, 255, 255, 4 } },
		{ 2, 0, 200, { 200 } },
		{ 2, 0, 256, { 256 } },
		{ 2, 0, 1024, { 1024 } },
		{ 2, 0, 1500, { 1024, 476 } },
		{ 2, 0, 2049, { 1024, 1024, 1 } },
		{ 2, 120, 300, { 120, 120, 60 } },   /* a fixed size: short only */
		{ 0, 120, 300, { 120, 120, 60 } },
		{ 2, 255, 600, { 255, 255, 90 } },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct apdu_transport t;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf req = BUF_INIT, resp = BUF_INIT;

		fake_reset();
		transport(&t, rows[i].atr == 2 ? atr_ext : rows[i].atr == 1 ? atr_short : NULL,
			  rows[i].atr == 2 ? sizeof(atr_ext) : rows[i].atr == 1 ? sizeof(atr_short) : 0);
		F.resp_len = 3;
		es10_ctx_init(&ctx);
		ctx.mss = rows[i].mss;
		assert_int_equal(es10_open(&ctx, &t, &err), 0);
		make_req(&req, rows[i].reqlen, (unsigned)i);
		if (send_req(&ctx, &req, &resp, &err) < 0)
			fail_msg("row %zu: %s", i, err.msg);
		for (k = 0; rows[i].blocks[k]; k++) {
			int last = !rows[i].blocks[k + 1];

			if (k >= F.nlog || F.log[k].lc != rows[i].blocks[k] || F.log[k].p2 != k ||
			    F.log[k].ext != (rows[i].blocks[k] > 255) ||
			    F.log[k].p1 != (last ? 0x91 : 0x11))
				fail_msg("row %zu block %zu: lc %zu p2 %u ext %d p1 %02X", i, k,
					 F.log[k].lc, F.log[k].p2, F.log[k].ext, F.log[k].p1);
		}
		assert_int_equal(F.nlog, k);
		assert_int_equal(resp.len, 3);
		assert_int_equal(ctx.fallbacks, 0);
		es10_close(&ctx);
		buf_release(&req);
		buf_release(&resp);
	}
}

/* The exact bytes of an extended-length STORE DATA: 00 Lc Lc data, Le 01 00 on the last. */
static uint8_t last_tx[APDU_RX_MAX * 5];
static size_t last_txlen;

static int capture_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			    size_t *rxlen, struct esim_err *err)
{
	if (txlen <= sizeof(last_tx)) {
		memcpy(last_tx, tx, txlen);
		last_txlen = txlen;
	}
	return fake_transmit(priv, tx, txlen, rx, rxlen, err);
}

static void test_extended_encoding(void **state)
{
	struct apdu_transport t;
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf req = BUF_INIT, resp = BUF_INIT;

	(void)state;
	transport(&t, atr_ext, sizeof(atr_ext));
	t.transmit = capture_transmit;
	F.resp_len = 10;
	es10_ctx_init(&ctx);
	assert_int_equal(es10_open(&ctx, &t, &err), 0);
	make_req(&req, 300, 1);
	assert_int_equal(send_req(&ctx, &req, &resp, &err), 0);
	assert_int_equal(last_txlen, 4 + 3 + 300 + 2);
	assert_memory_equal(last_tx, "\x80\xE2\x91\x00\x00\x01\x2C", 7);
	assert_memory_equal(last_tx + 7, req.buf, 300);
	assert_memory_equal(last_tx + 307, "\x01\x00", 2);
	assert_int_equal(resp.len, 10);
	assert_int_equal(ctx.apdus, 2);    /* SELECT, one STORE DATA */
	assert_int_equal(ctx.apdu_tx_bytes, 5 + 16 + 309);
	assert_int_equal(ctx.apdu_rx_bytes, 2 + 12);
	es10_close(&ctx);
	buf_release(&req);
	buf_release(&resp);
}

/* ---- 61xx and 6Cxx ------------------------------------------------------------------ */

static void test_response_chains_table(void **state)
{
	static const struct {
		int atr;
		size_t reqlen, resp_len, piece;
		int le_6c;
		unsigned long apdus;   /* STORE DATA + GET RESPONSE + resends */
	} rows[] = {
		{ 0, 10, 0, 0, 0, 1 },
		{ 0, 10, 1, 0, 0, 1 },
		{ 0, 10, 256, 0, 0, 1 },
		{ 0, 10, 257, 0, 0, 2 },        /* 256, then 61 01 */
		{ 0, 10, 600, 0, 0, 3 },        /* 256 + 256 + 88 */
		{ 0, 10, 600, 100, 0, 6 },      /* 61 64 pieces of 100 */
		{ 0, 300, 512, 0, 0, 3 },       /* 2 blocks, 256 + 256 */
		{ 2, 300, 600, 0, 0, 3 },       /* extended block, short GET RESPONSE */
		{ 0, 10, 20, 0, 1, 2 },         /* 6C14, resent with Le 14 */
		{ 2, 300, 20, 0, 1, 2 },        /* the same, extended: Le 00 14 */
		{ 0, 10, 65536, 0, 0, 256 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct apdu_transport t;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf req = BUF_INIT, resp = BUF_INIT;
		unsigned long before;

		fake_reset();
		transport(&t, rows[i].atr ? atr_ext : NULL, rows[i].atr ? sizeof(atr_ext) : 0);
		F.resp_len = rows[i].resp_len;
		F.gr_piece = rows[i].piece;
		F.le_6c = rows[i].le_6c;
		es10_ctx_init(&ctx);
		assert_int_equal(es10_open(&ctx, &t, &err), 0);
		before = ctx.apdus;
		make_req(&req, rows[i].reqlen, 3);
		if (send_req(&ctx, &req, &resp, &err) < 0)
			fail_msg("row %zu: %s", i, err.msg);
		if (ctx.apdus - before != rows[i].apdus)
			fail_msg("row %zu: %lu APDUs, want %lu", i, ctx.apdus - before, rows[i].apdus);
		assert_int_equal(resp.len, rows[i].resp_len);
		for (k = 0; k < resp.len; k++)
			if ((uint8_t)resp.buf[k] != pattern(k))
				fail_msg("row %zu: response byte %zu", i, k);
		assert_int_equal(F.executed, 1);
		es10_close(&ctx);
		buf_release(&req);
		buf_release(&resp);
	}
}

/* ---- block-size fallback ---------------------------------------------------------------- */

/*
 * A card or transport that refuses long blocks: the chain starts again from block 00 in
 * the next size down (255, 120, 64, 32), the function runs once, the size stays for the
 * session.  A refusal of a block no longer than one already taken is an error, not a
 * length problem; so is a lost card.
 */
static void test_fallback_table(void **state)
{
	static const struct {
		const char *what;
		int atr;              /* 2: extended length advertised */
		int no_ext;
		size_t max_lc;
		int p2_min;
		enum refuse how;
		size_t reqlen;
		int rc;               /* 0, or -1 with status */
		enum esim_status status;
		size_t block;         /* session block size after */
		unsigned fallbacks;
		unsigned long refused;
		size_t first[4];      /* data bytes of the first STORE DATA APDUs, 0-terminated */
	} rows[] = {
		{ "6700 on block 00 of 255", 0, 0, 200, 0, R_6700, 600, 0, 0, 120, 1, 0,
		  { 255, 120, 120, 120 } },
		{ "6700 down two steps", 0, 0, 100, 0, R_6700, 600, 0, 0, 64, 2, 0,
		  { 255, 120, 64, 64 } },
		{ "6700 down to 32", 0, 0, 40, 0, R_6700, 600, 0, 0, 32, 3, 0,
		  { 255, 120, 64, 32 } },
		{ "6700 even for 32: error", 0, 0, 20, 0, R_6700, 600, -1, ESIM_E_EUICC, 32, 3, 0,
		  { 255, 120, 64, 32 } },
		{ "a single short block refused", 0, 0, 100, 0, R_6700, 110, 0, 0, 64, 1, 0,
		  { 110, 64, 46 } },
		{ "transport refuses (modem +CME ERROR: 50)", 0, 0, 130, 0, R_TOO_LONG, 600, 0, 0,
		  120, 1, 1, { 255, 120, 120, 120 } },
		{ "6700 on block 01 after 00 of the same size went: error", 0, 0, 200, 1, R_6700,
		  600, -1, ESIM_E_EUICC, 255, 0, 0, { 255, 255 } },
		{ "6700 on the last block of 90 after 255s went: error", 0, 0, 80, 2, R_6700, 600,
		  -1, ESIM_E_EUICC, 255, 0, 0, { 255, 255, 90 } },
		{ "extended refused 6700", 2, 1, 0, 0, R_6700, 1500, 0, 0, 255, 1, 0,
		  { 1024, 255, 255, 255 } },
		{ "extended refused 6D00", 2, 1, 0, 0, R_6D00, 1500, 0, 0, 255, 1, 0,
		  { 1024, 255, 255 } },
		{ "extended refused 6E00", 2, 1, 0, 0, R_6E00, 1500, 0, 0, 255, 1, 0,
		  { 1024, 255, 255 } },
		{ "extended refused by the transport", 2, 1, 0, 0, R_TOO_LONG, 1500, 0, 0, 255, 1, 1,
		  { 1024, 255 } },
		{ "extended: reader error", 2, 1, 0, 0, R_FAIL_EUICC, 1500, 0, 0, 255, 1, 0,
		  { 1024, 255 } },
		{ "extended: card removed is no length problem", 2, 1, 0, 0, R_FAIL_NOREADER, 1500,
		  -1, ESIM_E_NOREADER, 1024, 0, 0, { 1024 } },
		{ "short: 6D00 is no length problem", 0, 0, 100, 0, R_6D00, 600, -1, ESIM_E_EUICC,
		  255, 0, 0, { 255 } },
		{ "short: reader error is no length problem", 0, 0, 100, 0, R_FAIL_EUICC, 600, -1,
		  ESIM_E_EUICC, 255, 0, 0, { 255 } },
		{ "extended 1024 refused, then 255 refused too", 2, 0, 200, 0, R_6700, 1500, 0, 0,
		  120, 2, 0, { 1024, 255, 120, 120 } },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct apdu_transport t;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf req = BUF_INIT, resp = BUF_INIT;
		int rc;

		fake_reset();
		transport(&t, rows[i].atr ? atr_ext : NULL, rows[i].atr ? sizeof(atr_ext) : 0);
		F.max_lc = rows[i].max_lc;
		F.no_ext = rows[i].no_ext;
		F.refuse_p2_min = rows[i].p2_min;
		F.how = rows[i].how;
		F.resp_len = 5;
		es10_ctx_init(&ctx);
		assert_int_equal(es10_open(&ctx, &t, &err), 0);
		make_req(&req, rows[i].reqlen, (unsigned)i);
		rc = send_req(&ctx, &req, &resp, &err);
		if (rc != rows[i].rc || (rc < 0 && err.status != rows[i].status))
			fail_msg("%s: rc %d status %d (%s)", rows[i].what, rc, err.status, err.msg);
		if (ctx.block != rows[i].block || ctx.fallbacks != rows[i].fallbacks ||
		    ctx.apdus_refused != rows[i].refused)
			fail_msg("%s: block %zu fallbacks %u refused %lu", rows[i].what, ctx.block,
				 ctx.fallbacks, ctx.apdus_refused);
		for (k = 0; k < ARRAY_SIZE(rows[i].first) && rows[i].first[k]; k++)
			if (k >= F.nlog || F.log[k].lc != rows[i].first[k])
				fail_msg("%s: STORE DATA %zu has %zu bytes, want %zu", rows[i].what, k,
					 k < F.nlog ? F.log[k].lc : 0, rows[i].first[k]);
		assert_int_equal(F.executed, rc == 0 ? 1 : 0);
		if (rc == 0)
			assert_int_equal(resp.len, 5);
		es10_close(&ctx);
		buf_release(&req);
		buf_release(&resp);
	}
}

/* The size found stays for the session: the next command goes straight to it. */
static void test_fallback_remembered(void **state)
{
	struct apdu_transport t;
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf req = BUF_INIT, resp = BUF_INIT;
	size_t n0;

	(void)state;
	transport(&t, NULL, 0);
	F.max_lc = 100;
	F.how = R_6700;
	F.resp_len = 2;
	es10_ctx_init(&ctx);
	assert_int_equal(es10_open(&ctx, &t, &err), 0);
	make_req(&req, 20, 1);              /* a short command first: no refusal */
	assert_int_equal(send_req(&ctx, &req, &resp, &err), 0);
	assert_int_equal(ctx.fallbacks, 0);
	make_req(&req, 700, 2);             /* refused at 255 and 120 */
	assert_int_equal(send_req(&ctx, &req, &resp, &err), 0);
	assert_int_equal(ctx.block, 64);
	assert_int_equal(ctx.fallbacks, 2);
	n0 = F.nlog;
	make_req(&req, 700, 3);             /* straight in 64-byte blocks */
	assert_int_equal(send_req(&ctx, &req, &resp, &err), 0);
	assert_int_equal(F.nlog - n0, 11);
	assert_int_equal(F.log[n0].lc, 64);
	assert_int_equal(F.log[n0].p2, 0);
	assert_int_equal(ctx.fallbacks, 2);
	assert_int_equal(F.executed, 3);
	es10_close(&ctx);
	/* a new session starts from the top again */
	fake_reset();
	F.resp_len = 2;
	transport(&t, NULL, 0);
	assert_int_equal(es10_open(&ctx, &t, &err), 0);
	make_req(&req, 700, 4);
	assert_int_equal(send_req(&ctx, &req, &resp, &err), 0);
	assert_int_equal(F.log[0].lc, 255);
	assert_int_equal(ctx.fallbacks, 0);
	es10_close(&ctx);
	buf_release(&req);
	buf_release(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr_table),
		cmocka_unit_test(test_atr_soft),
		cmocka_unit_test_setup_teardown(test_block_plan_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extended_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_chains_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_remembered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
