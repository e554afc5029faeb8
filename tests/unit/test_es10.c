/*
 * test_es10.c - ES10a/b/c over a scripted fake transport.
 *
 * The fake holds a script of (expected C-APDU, canned R-APDU) steps and fails the test
 * on the first C-APDU that differs, so every test pins the exact bytes es10.c sends.
 * Request bytes are worked examples of SGP.22 §5.7 requests; responses are
 * built from §5.7.8, §2.5.6 and §5.7.9.  The STORE DATA framing of the expected commands is
 * generated here independently of es10.c (expect_es10()), except in the chaining tests,
 * which spell every APDU out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/buf.h"
#include "esimctl/es10.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures (lengths computed with an independent TLV encoder) ---- */

#define ICCID_20 "89000123456789012341"
#define ICCID_20_BCD "98001032547698103214"
#define ADDR_HEX "74657374736D6470706C7573312E6578616D706C652E636F6D" /* testsmdpplus1.example.com */
#define TXID_HEX "00112233445566778899AABBCCDDEEFF"
#define SIG_HEX "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F" \
		"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"

static const char notif_list[] =
	"BF2859A057BF2F2E800105810206400C19" ADDR_HEX "5A0A" ICCID_20_BCD
	"BF2F2380020080810207800C19" ADDR_HEX;

/* ProfileInstallationResult (SGP.22 §2.5.6): seq 1, successResult with ISD-P AID ...1100 */
static const char pir_ok[] =
	"BF3781AFBF2769" "8010" TXID_HEX
	"BF2F2E800101810207800C19" ADDR_HEX "5A0A" ICCID_20_BCD
	"060388370A" "A21FA01D4F10A0000005591010FFFFFFFF8900001100" "04093007A0053003800100"
	"5F3740" SIG_HEX;

/* errorResult: loadProfileElements (5), scp03tSecurityError (8); seq 2 */
static const char pir_err[] =
	"BF378198BF2752" "8010" TXID_HEX
	"BF2F2E800102810207800C19" ADDR_HEX "5A0A" ICCID_20_BCD
	"060388370A" "A208A106800105810108" "5F3740" SIG_HEX;

static const char other5[] =
	"307EBF2F2E800105810206400C19" ADDR_HEX "5A0A" ICCID_20_BCD "5F3740" SIG_HEX
	"30030201013003020102";

static const char retrieve5[] =
	"BF2B8183A08180307EBF2F2E800105810206400C19" ADDR_HEX "5A0A" ICCID_20_BCD
	"5F3740" SIG_HEX "30030201013003020102";

static const char retrieve_pir[] =
	"BF2B81B6A081B3BF3781AFBF2769" "8010" TXID_HEX
	"BF2F2E800101810207800C19" ADDR_HEX "5A0A" ICCID_20_BCD
	"060388370A" "A21FA01D4F10A0000005591010FFFFFFFF8900001100" "04093007A0053003800100"
	"5F3740" SIG_HEX;

static const char auth_ok[] =
	"BF3863A0613012" "8010" TXID_HEX "5F3740" SIG_HEX "30030201013003020102";
static const char auth_err02[] = "BF3817A115" "8010" TXID_HEX "020106";
static const char auth_err81[] = "BF3817A115" "8010" TXID_HEX "810107";

static const char pd_ok[] =
	"BF21819EA0819B3056" "8010" TXID_HEX "5F494104"
	"11111111111111111111111111111111111111111111111111111111111111111111111111111111"
	"111111111111111111111111111111111111111111111111" "5F3740" SIG_HEX;
static const char pd_err[] = "BF2117A115" "8010" TXID_HEX "020105";

static const char cancel_ok[] =
	"BF4161A05F301A" "8010" TXID_HEX "810388370A820100" "5F3740" SIG_HEX;

/* Three profiles: full, odd text + 19-digit ICCID, minimal (ProfileInfo, SGP.22 §5.7.15). */
static const char profiles[] =
	"BF2D81DFA081DC"
	"E381845A0A" ICCID_20_BCD "4F10A0000005591010FFFFFFFF89000010009F700101"
	"9004776F726B910441434D45920A41434D4520354720476F930101950102"
	"B637301F800206408119" ADDR_HEX "301480020410810E64702E6578616D706C652E6F7267"
	"B70580031300149902" "0560"
	"E3415A0A989444999999990930F14F10A0000005591010FFFFFFFF89000011009F700100"
	"90040162FF7F9101589205636166C3A9950100B705800362F2109403010203"
	"E3105A0A988810325476981032149F700100";

static const char euicc_info1[] =
	"BF203582030203" "00A9160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"
	"AA160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3";

static const char euicc_info2[] =
	"BF228191810302030182030202008303010203840D810108820400045BF883022419"
	"850207808603090200870302030088020398A9160414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"
	"AA2C0414F54172BDF98A95D65CBEB88A38A1C11D800A85C30414C0BC70BA36929D43B467FF57570530E5"
	"7AB8FCD88B01029902070004030002010C0D47492D42412D55502D30343139";

/* serverSigned1 (SGP.22 §5.7.13) */
static const char server_signed1[] =
	"3051" "8010" TXID_HEX "8110101112131415161718191A1B1C1D1E1F" "8319" ADDR_HEX
	"8410202122232425262728292A2B2C2D2E2F";
static const char ctx_params1[] =
	"A01C8010544553542D4D41544348494E472D4944A108800435290611A100";
static const char ctx_params1_imei[] = "A014A112800453968330A100820853968330653408F9";

/* ---- small helpers ------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append hex (spaces allowed) to b. */
static void hexs(struct buf *b, const char *hex)
{
	int hi = -1;

	for (; *hex; hex++) {
		int v = hexval((unsigned char)*hex);

		if (*hex == ' ')
			continue;
		if (v < 0)
			fail_msg("bad hex digit '%c' in fixture", *hex);
		if (hi < 0) {
			hi = v;
		} else {
			buf_addch(b, hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits in fixture");
}

static void hex_of(const uint8_t *p, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 3 < outsz; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%02X", p[i]);
	if (i < n && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

/* TLV header for tag/len (test-local encoder, independent of der.c). */
static void put_hdr(struct buf *b, unsigned tag, size_t len)
{
	if (tag > 0xFF)
		buf_addch(b, (int)(tag >> 8));
	buf_addch(b, (int)(tag & 0xFF));
	if (len < 0x80) {
		buf_addch(b, (int)len);
	} else if (len < 0x100) {
		buf_addch(b, 0x81);
		buf_addch(b, (int)len);
	} else {
		buf_addch(b, 0x82);
		buf_addch(b, (int)(len >> 8));
		buf_addch(b, (int)(len & 0xFF));
	}
}

static void put_tlv(struct buf *b, unsigned tag, const void *v, size_t len)
{
	put_hdr(b, tag, len);
	buf_add(b, v, len);
}

/* ---- the fake transport -------------------------------------------------------------- */

#define MAX_STEPS 600

struct step {
	struct buf tx, rx;
	int fail;       /* transport error instead of rx */
	int sticky;     /* answers every further command (hostile loops) */
};

static struct {
	struct step steps[MAX_STEPS];
	size_t n, pos;
	int opened, closed, open_fail;
	size_t transmits;
} F;

static void fake_reset(void)
{
	size_t i;

	for (i = 0; i < F.n; i++) {
		buf_release(&F.steps[i].tx);
		buf_release(&F.steps[i].rx);
	}
	memset(&F, 0, sizeof(F));
}

static struct step *add_step(void)
{
	struct step *s;

	if (F.n >= MAX_STEPS)
		fail_msg("fake script too long");
	s = &F.steps[F.n++];
	buf_init(&s->tx, 0);
	buf_init(&s->rx, 0);
	s->fail = s->sticky = 0;
	return s;
}

static void expect(const char *tx, const char *rx)
{
	struct step *s = add_step();

	hexs(&s->tx, tx);
	hexs(&s->rx, rx);
}

static int fake_open(void *priv, struct esim_err *err)
{
	(void)priv;
	F.opened++;
	if (F.open_fail)
		return esim_fail(err, ESIM_E_NOREADER, "no card in the reader");
	return 0;
}

static int fake_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx, size_t *rxlen,
			 struct esim_err *err)
{
	char got[700], want[700];
	struct step *s;

	(void)priv;
	F.transmits++;
	hex_of(tx, txlen, got, sizeof(got));
	if (F.pos >= F.n)
		fail_msg("unexpected C-APDU %s", got);
	s = &F.steps[F.pos];
	if (!s->sticky)
		F.pos++;
	if (txlen != s->tx.len || memcmp(tx, s->tx.buf, txlen) != 0) {
		hex_of((const uint8_t *)s->tx.buf, s->tx.len, want, sizeof(want));
		fail_msg("C-APDU #%zu:\n  expected %s\n  got      %s", F.pos, want, got);
	}
	if (s->fail)
		return esim_fail(err, ESIM_E_NOREADER, "card removed");
	assert_true(s->rx.len >= 2 && s->rx.len <= APDU_RX_MAX);
	memcpy(rx, s->rx.buf, s->rx.len);
	*rxlen = s->rx.len;
	return 0;
}

static void fake_close(void *priv)
{
	(void)priv;
	F.closed++;
}

static struct apdu_transport fake_t = { .open = fake_open, .transmit = fake_transmit,
					.close = fake_close, .priv = NULL };

/*
 * A session with STORE DATA blocks of 120 bytes, the framing every script here spells out
 * (expect_es10_raw()); the automatic size and its fallback are tested in test_apdu.c.
 */
static void ctx_init_120(struct es10_ctx *ctx)
{
	es10_ctx_init(ctx);
	ctx->mss = 120;
}

static uint8_t test_cla(int ch, int proprietary)
{
	if (ch < 4)
		return (uint8_t)((proprietary ? 0x80 : 0x00) | ch);
	return (uint8_t)((proprietary ? 0xC0 : 0x40) | (ch - 4));
}

/*
 * Script one ES10 command: the STORE DATA chain of req (MSS 120, GlobalPlatform) answered with
 * resp + 90 00; responses over 256 bytes come in 61xx / GET RESPONSE pieces.
 */
static void expect_es10_raw(int ch, const uint8_t *req, size_t reqlen, const uint8_t *resp,
			    size_t resplen)
{
	size_t off = 0, block = 0;

	while (off < reqlen) {
		size_t n = reqlen - off > 120 ? 120 : reqlen - off;
		int last = off + n == reqlen;
		struct step *s = add_step();

		buf_addch(&s->tx, test_cla(ch, 1));
		buf_addch(&s->tx, 0xE2);
		buf_addch(&s->tx, last ? 0x91 : 0x11);
		buf_addch(&s->tx, (int)block);
		buf_addch(&s->tx, (int)n);
		buf_add(&s->tx, req + off, n);
		if (last)
			buf_addch(&s->tx, 0x00);
		off += n;
		block++;
		if (!last) {
			hexs(&s->rx, "9000");
			continue;
		}
		/* Response: up to 256 bytes per R-APDU. */
		{
			size_t done = resplen > 256 ? 256 : resplen;

			if (done)
				buf_add(&s->rx, resp, done);
			while (done < resplen) {
				size_t left = resplen - done, k = left > 256 ? 256 : left;
				struct step *g;

				buf_addch(&s->rx, 0x61);
				buf_addch(&s->rx, (int)(k & 0xFF));
				g = add_step();
				buf_addch(&g->tx, test_cla(ch, 1));
				buf_addch(&g->tx, 0xC0);
				buf_addch(&g->tx, 0x00);
				buf_addch(&g->tx, 0x00);
				buf_addch(&g->tx, (int)(k & 0xFF));
				buf_add(&g->rx, resp + done, k);
				done += k;
				s = g;
			}
			hexs(&s->rx, "9000");
		}
	}
}

static void expect_es10(int ch, const char *req_hex, const char *resp_hex)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;

	hexs(&req, req_hex);
	hexs(&resp, resp_hex);
	expect_es10_raw(ch, (const uint8_t *)req.buf, req.len, (const uint8_t *)resp.buf, resp.len);
	buf_release(&req);
	buf_release(&resp);
}

static void expect_open(int ch)
{
	char tx[80], rx[16];

	snprintf(rx, sizeof(rx), "%02X9000", ch);
	expect("00 70 00 00 01", rx);
	snprintf(tx, sizeof(tx), "%02X A4 04 00 10 A0000005591010FFFFFFFF8900000100",
		 test_cla(ch, 0));
	expect(tx, "9000");
}

static void expect_close(int ch)
{
	char tx[32];

	snprintf(tx, sizeof(tx), "00 70 80 %02X 00", ch);
	expect(tx, "9000");
}

static void open_session(struct es10_ctx *ctx, int ch)
{
	struct esim_err err = { 0 };

	ctx_init_120(ctx);
	expect_open(ch);
	assert_int_equal(es10_open(ctx, &fake_t, &err), 0);
	assert_int_equal(ctx->channel, ch);
}

static void close_session(struct es10_ctx *ctx)
{
	expect_close(ctx->channel);
	es10_close(ctx);
	assert_int_equal(F.pos, F.n);  /* the whole script ran */
	assert_int_equal(F.closed, 1);
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

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* ---- framing: STORE DATA chaining, 61xx, 6Cxx, channels ------------------------------------- */

static void test_chaining_300(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct step *s;
	int b, i;

	(void)state;
	open_session(&ctx, 1);
	for (i = 0; i < 300; i++)
		buf_addch(&req, i & 0xFF);
	/* 81 E2 11 00 78 <120>, 81 E2 11 01 78 <120>, 81 E2 91 02 3C <60> 00 */
	for (b = 0; b < 3; b++) {
		s = add_step();
		hexs(&s->tx, b < 2 ? "81 E2 11" : "81 E2 91");
		buf_addch(&s->tx, b);
		buf_addch(&s->tx, b < 2 ? 0x78 : 0x3C);
		buf_add(&s->tx, req.buf + 120 * b, b < 2 ? 120 : 60);
		if (b == 2)
			buf_addch(&s->tx, 0x00);
		hexs(&s->rx, b < 2 ? "9000" : "BF2E 00 9000");
	}
	assert_int_equal(es10_transmit(&ctx, (const uint8_t *)req.buf, req.len, &resp, &err), 0);
	assert_int_equal(resp.len, 3);
	assert_memory_equal(resp.buf, "\xBF\x2E\x00", 3);
	close_session(&ctx);
	buf_release(&req);
	buf_release(&resp);
}

/* The same request with MSS 1..255: block count, P2 numbering, last-block Le. */
static void test_chaining_mss_table(void **state)
{
	static const size_t mss[] = { 1, 7, 119, 120, 121, 254, 255 };
	struct buf req = BUF_INIT, resp = BUF_INIT;
	size_t k, i;

	(void)state;
	for (i = 0; i < 300; i++)
		buf_addch(&req, (int)(i * 7 & 0xFF));
	for (k = 0; k < ARRAY_SIZE(mss); k++) {
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		size_t off = 0, blk = 0;

		fake_reset();
		open_session(&ctx, 2);
		ctx.mss = mss[k];
		if (mss[k] == 1) {
			/* 300 blocks do not fit P2: refused before anything is sent */
			assert_int_equal(es10_transmit(&ctx, (const uint8_t *)req.buf, req.len, &resp,
						       &err), -1);
			assert_int_equal(err.status, ESIM_E_USAGE);
			close_session(&ctx);
			continue;
		}
		while (off < req.len) {
			size_t n = req.len - off > mss[k] ? mss[k] : req.len - off;
			int last = off + n == req.len;
			struct step *s = add_step();

			buf_addch(&s->tx, 0x82);
			buf_addch(&s->tx, 0xE2);
			buf_addch(&s->tx, last ? 0x91 : 0x11);
			buf_addch(&s->tx, (int)blk++);
			buf_addch(&s->tx, (int)n);
			buf_add(&s->tx, req.buf + off, n);
			if (last)
				buf_addch(&s->tx, 0);
			hexs(&s->rx, "9000");
			off += n;
		}
		assert_int_equal(es10_transmit(&ctx, (const uint8_t *)req.buf, req.len, &resp, &err),
				 0);
		assert_int_equal(resp.len, 0);
		close_session(&ctx);
	}
	buf_release(&req);
	buf_release(&resp);
}

/* Example trace, GetEID (SGP.22 §5.7.20) on channel 1 with 61 15 and GET RESPONSE. */
static void test_get_eid_trace(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	char eid[33];

	(void)state;
	ctx_init_120(&ctx);
	expect("00 70 00 00 01", "01 90 00");
	expect("01 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "6F 05 84 03 A00000 90 00");
	expect("81 E2 91 00 06 BF3E035C015A 00", "61 15");
	expect("81 C0 00 00 15", "BF3E12 5A10 89049032123451234512345678901235 90 00");
	expect("00 70 80 01 00", "90 00");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), 0);
	assert_int_equal(F.opened, 1);
	assert_int_equal(es10_get_eid(&ctx, eid, &err), 0);
	assert_string_equal(eid, "89049032123451234512345678901235");
	es10_close(&ctx);
	es10_close(&ctx);       /* second close: no APDU, no second transport close */
	assert_int_equal(F.pos, F.n);
	assert_int_equal(F.closed, 1);
}

/* SELECT answered 61xx: GET RESPONSE in the interindustry class; several 61xx rounds. */
static void test_get_response_rounds(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	uint8_t ch[16];

	(void)state;
	ctx_init_120(&ctx);
	expect("00 70 00 00 01", "02 90 00");
	expect("02 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "61 10");
	expect("02 C0 00 00 10", "6F0E840CA0000005591010FFFF 61 03");
	expect("02 C0 00 00 03", "FF8900 90 00");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), 0);
	/* ES10: data arrives in three pieces */
	expect("82 E2 91 00 03 BF2E00 00", "BF2E 61 05");
	expect("82 C0 00 00 05", "12 80 10 00 01 61 0E");
	expect("82 C0 00 00 0E", "02030405060708090A0B0C0D0E0F 90 00");
	assert_int_equal(es10_get_challenge(&ctx, ch, &err), 0);
	assert_int_equal(ch[0], 0x00);
	assert_int_equal(ch[15], 0x0F);
	close_session(&ctx);
}

/* 6Cxx: the same command again with Le = xx. */
static void test_6cxx(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	uint8_t ch[16];

	(void)state;
	open_session(&ctx, 1);
	expect("81 E2 91 00 03 BF2E00 00", "6C 14");
	expect("81 E2 91 00 03 BF2E00 14",
	       "BF2E12 8010 A0A1A2A3A4A5A6A7A8A9AAABACADAEAF 90 00");
	assert_int_equal(es10_get_challenge(&ctx, ch, &err), 0);
	assert_int_equal(ch[0], 0xA0);
	/* a card that keeps answering 6Cxx is an error, not a loop */
	expect("81 E2 91 00 03 BF2E00 00", "6C 14");
	expect("81 E2 91 00 03 BF2E00 14", "6C 15");
	expect("81 E2 91 00 03 BF2E00 15", "6C 16");
	expect("81 E2 91 00 03 BF2E00 16", "6C 17");
	assert_int_equal(es10_get_challenge(&ctx, ch, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	close_session(&ctx);
}

/* A card answering 61 01 forever is stopped. */
static void test_61xx_forever(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	uint8_t ch[16];
	struct step *s;

	(void)state;
	open_session(&ctx, 1);
	expect("81 E2 91 00 03 BF2E00 00", "61 01");
	s = add_step();
	hexs(&s->tx, "81 C0 00 00 01");
	hexs(&s->rx, "AA 61 01");
	s->sticky = 1;
	assert_int_equal(es10_get_challenge(&ctx, ch, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_true(F.transmits < 5000);
	F.steps[F.pos].sticky = 0;
	F.pos++;
	close_session(&ctx);
}

/* CLA coding for channels 0-19 (ISO/IEC 7816-4). */
static void test_channel_cla(void **state)
{
	static const struct {
		int ch;
		const char *select, *store, *get_response, *close;
	} cases[] = {
		{ 1, "01", "81", "81", "00 70 80 01 00" },
		{ 3, "03", "83", "83", "00 70 80 03 00" },
		{ 4, "40", "C0", "C0", "00 70 80 04 00" },
		{ 5, "41", "C1", "C1", "00 70 80 05 00" },
		{ 12, "48", "C8", "C8", "00 70 80 0C 00" },
		{ 19, "4F", "CF", "CF", "00 70 80 13 00" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		char tx[96], rx[16];
		char eid[33];

		fake_reset();
		ctx_init_120(&ctx);
		snprintf(rx, sizeof(rx), "%02X 90 00", cases[i].ch);
		expect("00 70 00 00 01", rx);
		snprintf(tx, sizeof(tx), "%s A4 04 00 10 A0000005591010FFFFFFFF8900000100",
			 cases[i].select);
		expect(tx, "9000");
		snprintf(tx, sizeof(tx), "%s E2 91 00 06 BF3E035C015A 00", cases[i].store);
		expect(tx, "61 14");
		snprintf(tx, sizeof(tx), "%s C0 00 00 14", cases[i].get_response);
		expect(tx, "BF3E12 5A10 89049032123451234512345678901235 90 00");
		expect(cases[i].close, "9000");
		assert_int_equal(es10_open(&ctx, &fake_t, &err), 0);
		assert_int_equal(es10_get_eid(&ctx, eid, &err), 0);
		es10_close(&ctx);
		assert_int_equal(F.pos, F.n);
	}
	/* Channel numbers a card must not hand out. */
	{
		static const char *bad[] = { "00 90 00", "14 90 00", "90 00", "0101 90 00" };

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			struct es10_ctx ctx;
			struct esim_err err = { 0 };

			fake_reset();
			ctx_init_120(&ctx);
			expect("00 70 00 00 01", bad[i]);
			assert_int_equal(es10_open(&ctx, &fake_t, &err), -1);
			assert_int_equal(err.status, ESIM_E_EUICC);
			assert_int_equal(F.closed, 1);
			assert_null(ctx.t);
		}
	}
}

/* A transport that opens its own channel (AT+CCHO) or has the basic channel only. */
static int hook_channel = 2, hook_opened, hook_closed = -1, hook_fail;
static uint8_t hook_aid[16];
static size_t hook_aidlen;

static int hook_open_channel(void *priv, const uint8_t *aid, size_t aidlen, int *channel,
			     struct esim_err *err)
{
	(void)priv;
	hook_opened++;
	memcpy(hook_aid, aid, aidlen < 16 ? aidlen : 16);
	hook_aidlen = aidlen;
	if (hook_fail)
		return esim_fail(err, ESIM_E_EUICC, "modem answered ERROR to AT+CCHO");
	*channel = hook_channel;
	return 0;
}

static void hook_close_channel(void *priv, int channel)
{
	(void)priv;
	hook_closed = channel;
}

static void test_transport_channel_hooks(void **state)
{
	static const struct {
		int channel, fail, basic;   /* what the transport does */
		int rc, ctx_channel;
		const char *store;          /* CLA of STORE DATA; NULL: no APDU expected */
	} rows[] = {
		{ 2, 0, 0, 0, 2, "82" },
		{ 5, 0, 0, 0, 5, "C1" },
		{ 19, 0, 0, 0, 19, "CF" },
		{ 0, 0, 0, -1, -1, NULL },   /* invalid channel numbers from the transport */
		{ 20, 0, 0, -1, -1, NULL },
		{ 2, 1, 0, -1, -1, NULL },   /* the transport cannot open one */
		{ 2, 0, 1, 0, 0, "80" },     /* basic channel only: SELECT on channel 0 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct apdu_transport t = fake_t;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		char tx[96], eid[33];

		fake_reset();
		hook_channel = rows[i].channel;
		hook_fail = rows[i].fail;
		hook_opened = 0;
		hook_closed = -1;
		t.open_channel = hook_open_channel;
		t.close_channel = hook_close_channel;
		t.basic_channel = rows[i].basic;
		ctx_init_120(&ctx);
		if (rows[i].basic)
			expect("00 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "9000");
		if (rows[i].store) {
			snprintf(tx, sizeof(tx), "%s E2 91 00 06 BF3E035C015A 00", rows[i].store);
			expect(tx, "BF3E12 5A10 89049032123451234512345678901235 90 00");
		}
		/* No MANAGE CHANNEL and no SELECT unless basic: the transport did both. */
		if (es10_open(&ctx, &t, &err) != rows[i].rc)
			fail_msg("row %zu: es10_open: %s", i, err.msg);
		assert_int_equal(hook_opened, rows[i].basic ? 0 : 1);
		if (!rows[i].basic) {
			assert_int_equal(hook_aidlen, 16);
			assert_memory_equal(hook_aid, es10_isdr_aid, 16);
		}
		if (rows[i].rc < 0) {
			assert_int_equal(err.status, ESIM_E_EUICC);
			assert_int_equal(F.closed, 1);
			assert_int_equal(F.transmits, 0);
			/* a channel the transport did open is closed again */
			assert_int_equal(hook_closed, rows[i].fail ? -1 : rows[i].channel);
			continue;
		}
		assert_int_equal(ctx.channel, rows[i].ctx_channel);
		assert_int_equal(es10_get_eid(&ctx, eid, &err), 0);
		assert_string_equal(eid, "89049032123451234512345678901235");
		es10_close(&ctx);
		assert_int_equal(F.pos, F.n);
		assert_int_equal(F.closed, 1);
		assert_int_equal(hook_closed, rows[i].basic ? -1 : rows[i].channel);
		assert_int_equal(ctx.apdus, rows[i].basic ? 2 : 1);
	}
}

/* Basic channel and TERMINAL CAPABILITY options. */
static void test_open_options(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	char eid[33];

	(void)state;
	ctx_init_120(&ctx);
	ctx.basic_channel = 1;
	ctx.terminal_capability = 1;
	expect("80 AA 00 00 0A A9 08 81 00 82 01 01 83 01 07", "6D 00");  /* ignored */
	expect("00 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "9000");
	expect("80 E2 91 00 06 BF3E035C015A 00",
	       "BF3E12 5A10 89049032123451234512345678901235 90 00");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), 0);
	assert_int_equal(ctx.channel, 0);
	assert_int_equal(es10_get_eid(&ctx, eid, &err), 0);
	es10_close(&ctx);       /* channel 0: no MANAGE CHANNEL close */
	assert_int_equal(F.pos, F.n);
	assert_int_equal(F.closed, 1);
}

static void test_open_failures(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };

	(void)state;
	/* transport open fails: its error is kept, the transport closed */
	F.open_fail = 1;
	ctx_init_120(&ctx);
	assert_int_equal(es10_open(&ctx, &fake_t, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_string_equal(err.msg, "no card in the reader");
	assert_int_equal(F.closed, 1);
	es10_close(&ctx);
	assert_int_equal(F.closed, 1);

	/* no logical channels */
	fake_reset();
	ctx_init_120(&ctx);
	expect("00 70 00 00 01", "68 81");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_string_equal(err.detail, "SW 6881");
	assert_contains(err.msg, "logical channel not supported");
	assert_int_equal(F.closed, 1);

	/* no ISD-R: the channel is closed again, with a hint */
	fake_reset();
	ctx_init_120(&ctx);
	expect("00 70 00 00 01", "01 90 00");
	expect("01 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "6A 82");
	expect("00 70 80 01 00", "90 00");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_string_equal(err.detail, "SW 6A82");
	assert_contains(err.msg, "file or application not found");
	assert_contains(err.hint, "eUICC");
	assert_int_equal(F.pos, F.n);
	assert_int_equal(F.closed, 1);

	/* reader gone during SELECT */
	fake_reset();
	ctx_init_120(&ctx);
	expect("00 70 00 00 01", "01 90 00");
	expect("01 A4 04 00 10 A0000005591010FFFFFFFF8900000100", "");
	F.steps[1].fail = 1;
	expect("00 70 80 01 00", "90 00");
	assert_int_equal(es10_open(&ctx, &fake_t, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_string_equal(err.msg, "card removed");
}

/* Status words other than 90 00 name their meaning. */
static void test_sw_errors(void **state)
{
	static const struct {
		const char *sw;
		const char *detail;
		const char *meaning;
	} cases[] = {
		{ "6A88", "SW 6A88", "referenced data not found" },
		{ "6A80", "SW 6A80", "incorrect data" },
		{ "6985", "SW 6985", "conditions of use not satisfied" },
		{ "6D00", "SW 6D00", "instruction not supported" },
		{ "6E00", "SW 6E00", "class not supported" },
		{ "6A82", "SW 6A82", "file or application not found" },
		{ "6982", "SW 6982", "security status not satisfied" },
		{ "6A84", "SW 6A84", "not enough memory" },
		{ "6700", "SW 6700", "wrong length" },
		{ "6F42", "SW 6F42", "internal error" },
		{ "9F10", "SW 9F10", "unknown status word" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		char eid[33] = "x";

		fake_reset();
		open_session(&ctx, 1);
		expect("81 E2 91 00 06 BF3E035C015A 00", cases[i].sw);
		assert_int_equal(es10_get_eid(&ctx, eid, &err), -1);
		assert_int_equal(err.status, ESIM_E_EUICC);
		assert_string_equal(err.detail, cases[i].detail);
		assert_contains(err.msg, "GetEID");
		assert_contains(err.msg, cases[i].meaning);
		assert_string_equal(eid, "");
		close_session(&ctx);
	}
	/* an error SW on an intermediate block stops the chain */
	{
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf req = BUF_INIT, resp = BUF_INIT;
		struct step *s;

		fake_reset();
		open_session(&ctx, 1);
		buf_addch(&req, 0xBF);
		buf_addch(&req, 0x22);
		while (req.len < 200)
			buf_addch(&req, 0);
		s = add_step();
		hexs(&s->tx, "81 E2 11 00 78");
		buf_add(&s->tx, req.buf, 120);
		hexs(&s->rx, "6A80");
		assert_int_equal(es10_transmit(&ctx, (const uint8_t *)req.buf, req.len, &resp, &err),
				 -1);
		assert_string_equal(err.detail, "SW 6A80");
		assert_contains(err.msg, "GetEUICCInfo2");
		close_session(&ctx);
		buf_release(&req);
		buf_release(&resp);
	}
}

static void test_transport_failure(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	char eid[33];

	(void)state;
	open_session(&ctx, 1);
	expect("81 E2 91 00 06 BF3E035C015A 00", "");
	F.steps[F.n - 1].fail = 1;
	assert_int_equal(es10_get_eid(&ctx, eid, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_string_equal(err.msg, "card removed");
	close_session(&ctx);

	/* not open */
	ctx_init_120(&ctx);
	assert_int_equal(es10_get_eid(&ctx, eid, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
}

/* ---- ES10 byte examples and result codes, table-driven --------------------------------- */

enum op {
	OP_ENABLE, OP_ENABLE_NOREFRESH, OP_DISABLE, OP_DELETE, OP_NICKNAME, OP_PROFILES_ALL,
	OP_PROFILES_ONE, OP_PROFILES, OP_LIST_NOTIF_ALL, OP_LIST_NOTIF_ENABLE, OP_LIST_NOTIF_ANY4,
	OP_RETRIEVE, OP_REMOVE, OP_CANCEL, OP_RESET, OP_RESET_OPERATIONAL, OP_EID, OP_CHALLENGE,
	OP_INFO1, OP_INFO2, OP_ADDRESSES, OP_SET_DP, OP_CLEAR_DP, OP_RAT,
};

struct op_case {
	const char *name;
	enum op op;
	const char *req;        /* expected request TLV */
	const char *resp;       /* canned response data */
	int ret;
	enum esim_status status;
	const char *msg;        /* substring of err.msg on failure */
	int last_result;
	size_t count;           /* list lengths */
};

static int run_op(struct es10_ctx *ctx, const struct op_case *c, struct esim_err *err)
{
	static const uint8_t txid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					  0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
	static const uint8_t tags8[] = { 0x5A, 0x4F, 0x9F, 0x70, 0x90, 0x91, 0x92, 0x95 };
	struct es10_profile *p = NULL;
	struct es10_notification *nl = NULL;
	struct es10_addresses addr;
	struct es10_euicc_info2 info2;
	struct buf b = BUF_INIT;
	size_t n = 0;
	uint8_t ch[16];
	char eid[33];
	int ret = -1;

	switch (c->op) {
	case OP_ENABLE:
		ret = es10_enable(ctx, ICCID_20, 1, err);
		break;
	case OP_ENABLE_NOREFRESH:
		ret = es10_enable(ctx, ICCID_20, 0, err);
		break;
	case OP_DISABLE:
		ret = es10_disable(ctx, ICCID_20, 1, err);
		break;
	case OP_DELETE:
		ret = es10_delete(ctx, ICCID_20, err);
		break;
	case OP_NICKNAME:
		ret = es10_set_nickname(ctx, ICCID_20, "work", err);
		break;
	case OP_PROFILES_ALL:
		ret = es10_get_profiles_query(ctx, NULL, NULL, 0, &p, &n, err);
		break;
	case OP_PROFILES_ONE:
		ret = es10_get_profiles_query(ctx, ICCID_20, tags8, sizeof(tags8), &p, &n, err);
		break;
	case OP_PROFILES:
		ret = es10_get_profiles(ctx, &p, &n, err);
		break;
	case OP_LIST_NOTIF_ALL:
		ret = es10_list_notifications(ctx, 0, &nl, &n, err);
		break;
	case OP_LIST_NOTIF_ENABLE:
		ret = es10_list_notifications(ctx, ES10_EVENT_ENABLE, &nl, &n, err);
		break;
	case OP_LIST_NOTIF_ANY4:
		ret = es10_list_notifications(ctx, ES10_EVENT_ALL, &nl, &n, err);
		break;
	case OP_RETRIEVE:
		ret = es10_retrieve_notification(ctx, 5, &b, err);
		n = b.len;
		break;
	case OP_REMOVE:
		ret = es10_remove_notification(ctx, 5, err);
		break;
	case OP_CANCEL:
		ret = es10_cancel_session(ctx, txid, sizeof(txid), ES10_CANCEL_END_USER_REJECTION,
					  &b, err);
		n = b.len;
		break;
	case OP_RESET:
		ret = es10_memory_reset(ctx, ES10_RESET_ALL, err);
		break;
	case OP_RESET_OPERATIONAL:
		ret = es10_memory_reset(ctx, ES10_RESET_DELETE_OPERATIONAL, err);
		break;
	case OP_EID:
		ret = es10_get_eid(ctx, eid, err);
		break;
	case OP_CHALLENGE:
		ret = es10_get_challenge(ctx, ch, err);
		break;
	case OP_INFO1:
		ret = es10_get_euicc_info1(ctx, &b, err);
		n = b.len;
		break;
	case OP_INFO2:
		ret = es10_get_euicc_info2(ctx, &b, &info2, err);
		n = b.len;
		break;
	case OP_ADDRESSES:
		ret = es10_get_configured_addresses(ctx, &addr, err);
		break;
	case OP_SET_DP:
		ret = es10_set_default_dp(ctx, "testsmdpplus1.example.com", err);
		break;
	case OP_CLEAR_DP:
		ret = es10_set_default_dp(ctx, "", err);
		break;
	case OP_RAT:
		ret = es10_get_rat(ctx, &b, err);
		n = b.len;
		break;
	}
	if (ret == 0 && c->ret == 0)
		assert_int_equal(n, c->count);
	if (ret < 0) {
		assert_null(p);
		assert_null(nl);
		assert_int_equal(n, 0);
	}
	es10_profiles_free(p, n);
	free(nl);
	buf_release(&b);
	return ret;
}

static void run_cases(const struct op_case *cases, size_t ncases)
{
	size_t i;

	for (i = 0; i < ncases; i++) {
		const struct op_case *c = &cases[i];
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		int ret;

		print_message("  %s\n", c->name);
		fake_reset();
		open_session(&ctx, 1);
		expect_es10(1, c->req, c->resp);
		ret = run_op(&ctx, c, &err);
		if (ret != c->ret)
			fail_msg("%s: returned %d, want %d (%s)", c->name, ret, c->ret, err.msg);
		if (c->ret < 0) {
			assert_int_equal(err.status, c->status);
			if (c->msg)
				assert_contains(err.msg, c->msg);
		}
		assert_int_equal(ctx.last_result, c->last_result);
		close_session(&ctx);
	}
}

static const struct op_case byte_examples[] = {
	{ "EnableProfile refresh", OP_ENABLE, "BF31 11 A0 0C 5A 0A " ICCID_20_BCD " 81 01 FF",
	  "BF31 03 800100", 0, 0, NULL, 0, 0 },
	{ "EnableProfile no refresh", OP_ENABLE_NOREFRESH,
	  "BF31 11 A0 0C 5A 0A " ICCID_20_BCD " 81 01 00", "BF31 03 800100", 0, 0, NULL, 0, 0 },
	{ "DisableProfile refresh", OP_DISABLE, "BF32 11 A0 0C 5A 0A " ICCID_20_BCD " 81 01 FF",
	  "BF32 03 800100", 0, 0, NULL, 0, 0 },
	{ "DeleteProfile", OP_DELETE, "BF33 0C 5A 0A " ICCID_20_BCD, "BF33 03 800100", 0, 0, NULL,
	  0, 0 },
	{ "SetNickname work", OP_NICKNAME, "BF29 12 5A 0A " ICCID_20_BCD " 90 04 776F726B",
	  "BF29 03 800100", 0, 0, NULL, 0, 0 },
	{ "GetProfilesInfo all", OP_PROFILES_ALL, "BF2D 00", "BF2D 02 A0 00", 0, 0, NULL, -1, 0 },
	{ "GetProfilesInfo one, tags", OP_PROFILES_ONE,
	  "BF2D 18 A0 0C 5A 0A " ICCID_20_BCD " 5C 08 5A4F9F7090919295", profiles, 0, 0, NULL, -1,
	  3 },
	{ "GetProfilesInfo default tag list", OP_PROFILES,
	  "BF2D 0E 5C 0C 5A 4F 9F70 90 91 92 93 95 B6 B7 99", profiles, 0, 0, NULL, -1, 3 },
	{ "ListNotification all", OP_LIST_NOTIF_ALL, "BF28 00", notif_list, 0, 0, NULL, -1, 2 },
	{ "ListNotification enable only", OP_LIST_NOTIF_ENABLE, "BF28 04 81 02 06 40",
	  "BF28 02 A0 00", 0, 0, NULL, -1, 0 },
	{ "ListNotification all four bits", OP_LIST_NOTIF_ANY4, "BF28 04 81 02 04 F0",
	  notif_list, 0, 0, NULL, -1, 2 },
	{ "RetrieveNotificationsList #5", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05", retrieve5, 0, 0,
	  NULL, -1, 128 },
	{ "RemoveNotificationFromList #5", OP_REMOVE, "BF30 03 80 01 05", "BF30 03 800100", 0, 0,
	  NULL, 0, 0 },
	{ "CancelSession", OP_CANCEL, "BF41 15 80 10 " TXID_HEX " 81 01 00", cancel_ok, 0, 0,
	  NULL, -1, 100 },
	{ "eUICCMemoryReset all", OP_RESET, "BF34 04 82 02 05 E0", "BF34 03 800100", 0, 0, NULL,
	  0, 0 },
	{ "eUICCMemoryReset operational", OP_RESET_OPERATIONAL, "BF34 04 82 02 07 80",
	  "BF34 03 800100", 0, 0, NULL, 0, 0 },
	{ "GetEID", OP_EID, "BF3E 03 5C 01 5A", "BF3E 12 5A 10 89049032123451234512345678901235",
	  0, 0, NULL, -1, 0 },
	{ "GetEUICCChallenge", OP_CHALLENGE, "BF2E 00",
	  "BF2E 12 80 10 000102030405060708090A0B0C0D0E0F", 0, 0, NULL, -1, 0 },
	{ "GetEUICCInfo1", OP_INFO1, "BF20 00", euicc_info1, 0, 0, NULL, -1, 56 },
	{ "GetEUICCInfo2", OP_INFO2, "BF22 00", euicc_info2, 0, 0, NULL, -1, 149 },
	{ "GetEuiccConfiguredAddresses", OP_ADDRESSES, "BF3C 00",
	  "BF3C 21 80 0E 64702E6578616D706C652E6F7267 81 0F 6C70612E64732E67736D612E636F6D",
	  0, 0, NULL, -1, 0 },
	{ "SetDefaultDpAddress", OP_SET_DP, "BF3F 1B 80 19 " ADDR_HEX, "BF3F 03 800100", 0, 0,
	  NULL, 0, 0 },
	{ "SetDefaultDpAddress empty", OP_CLEAR_DP, "BF3F 02 80 00", "BF3F 03 800100", 0, 0,
	  NULL, 0, 0 },
	{ "GetRAT", OP_RAT, "BF43 00", "BF43 0A A0 08 30 06 80 01 00 81 01 00", 0, 0, NULL, -1,
	  13 },
};

static void test_byte_examples(void **state)
{
	(void)state;
	run_cases(byte_examples, ARRAY_SIZE(byte_examples));
}

#define ENABLE_REQ "BF31 11 A0 0C 5A 0A " ICCID_20_BCD " 81 01 FF"
#define DISABLE_REQ "BF32 11 A0 0C 5A 0A " ICCID_20_BCD " 81 01 FF"
#define DELETE_REQ "BF33 0C 5A 0A " ICCID_20_BCD
#define NICK_REQ "BF29 12 5A 0A " ICCID_20_BCD " 90 04 776F726B"

static const struct op_case result_codes[] = {
	{ "enable: not found", OP_ENABLE, ENABLE_REQ, "BF31 03 800101", -1, ESIM_E_NOTFOUND,
	  "iccidOrAidNotFound", 1, 0 },
	{ "enable: already enabled", OP_ENABLE, ENABLE_REQ, "BF31 03 800102", -1, ESIM_E_EUICC,
	  "already enabled (profileNotInDisabledState 2)", 2, 0 },
	{ "enable: policy", OP_ENABLE, ENABLE_REQ, "BF31 03 800103", -1, ESIM_E_EUICC,
	  "disallowedByPolicy", 3, 0 },
	{ "enable: re-enabling", OP_ENABLE, ENABLE_REQ, "BF31 03 800104", -1, ESIM_E_EUICC,
	  "wrongProfileReenabling", 4, 0 },
	{ "enable: catBusy", OP_ENABLE, ENABLE_REQ, "BF31 03 800105", -1, ESIM_E_EUICC,
	  "catBusy", 5, 0 },
	{ "enable: undefined", OP_ENABLE, ENABLE_REQ, "BF31 03 80017F", -1, ESIM_E_EUICC,
	  "undefinedError 127", 127, 0 },
	{ "enable: unknown code", OP_ENABLE, ENABLE_REQ, "BF31 03 800109", -1, ESIM_E_EUICC,
	  "unknown 9", 9, 0 },
	{ "disable: not enabled", OP_DISABLE, DISABLE_REQ, "BF32 03 800102", -1, ESIM_E_EUICC,
	  "not enabled (profileNotInEnabledState", 2, 0 },
	{ "disable: ppr1", OP_DISABLE, DISABLE_REQ, "BF32 03 800103", -1, ESIM_E_EUICC,
	  "forbid disabling", 3, 0 },
	{ "disable: not found", OP_DISABLE, DISABLE_REQ, "BF32 03 800101", -1, ESIM_E_NOTFOUND,
	  "disable profile " ICCID_20, 1, 0 },
	{ "delete: enabled", OP_DELETE, DELETE_REQ, "BF33 03 800102", -1, ESIM_E_EUICC,
	  "profile is enabled", 2, 0 },
	{ "delete: ppr2", OP_DELETE, DELETE_REQ, "BF33 03 800103", -1, ESIM_E_EUICC,
	  "forbid deleting", 3, 0 },
	{ "delete: not found", OP_DELETE, DELETE_REQ, "BF33 03 800101", -1, ESIM_E_NOTFOUND,
	  "no such profile", 1, 0 },
	{ "nickname: not found", OP_NICKNAME, NICK_REQ, "BF29 03 800101", -1, ESIM_E_NOTFOUND,
	  "iccidNotFound", 1, 0 },
	{ "remove: nothing", OP_REMOVE, "BF30 03 80 01 05", "BF30 03 800101", -1, ESIM_E_NOTFOUND,
	  "remove notification 5", 1, 0 },
	{ "remove: undefined", OP_REMOVE, "BF30 03 80 01 05", "BF30 03 80017F", -1, ESIM_E_EUICC,
	  "undefinedError", 127, 0 },
	{ "retrieve: none", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05", "BF2B 03 810101", -1,
	  ESIM_E_NOTFOUND, "noResultAvailable", 1, 0 },
	{ "retrieve: empty list", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05", "BF2B 02 A000", -1,
	  ESIM_E_NOTFOUND, "sequence number 5", -1, 0 },
	{ "retrieve: the install result", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05", retrieve_pir,
	  -1, ESIM_E_EUICC, "other notifications", -1, 0 },
	{ "list: undefined", OP_LIST_NOTIF_ALL, "BF28 00", "BF28 03 81017F", -1, ESIM_E_EUICC,
	  "undefinedError", 127, 0 },
	{ "profiles: incorrect input", OP_PROFILES_ALL, "BF2D 00", "BF2D 03 810101", -1,
	  ESIM_E_EUICC, "incorrectInputValues", 1, 0 },
	{ "reset: nothing to delete", OP_RESET, "BF34 04 82 02 05 E0", "BF34 03 800101", -1,
	  ESIM_E_NOTFOUND, "nothingToDelete", 1, 0 },
	{ "reset: catBusy", OP_RESET, "BF34 04 82 02 05 E0", "BF34 03 800105", -1, ESIM_E_EUICC,
	  "catBusy", 5, 0 },
	{ "cancel: invalid transaction", OP_CANCEL, "BF41 15 80 10 " TXID_HEX " 81 01 00",
	  "BF41 03 810105", -1, ESIM_E_EUICC, "invalidTransactionId", 5, 0 },
	{ "set default dp: undefined", OP_SET_DP, "BF3F 1B 80 19 " ADDR_HEX, "BF3F 03 80017F",
	  -1, ESIM_E_EUICC, "undefinedError", 127, 0 },
};

static void test_result_codes(void **state)
{
	(void)state;
	run_cases(result_codes, ARRAY_SIZE(result_codes));
}

#define MAL(name, op, req, resp) { name, op, req, resp, -1, ESIM_E_EUICC, "malformed response", \
				   -1, 0 }

static const struct op_case malformed_cases[] = {
	MAL("eid: empty", OP_EID, "BF3E 03 5C 01 5A", ""),
	MAL("eid: truncated", OP_EID, "BF3E 03 5C 01 5A", "BF3E 12 5A 10 8904"),
	MAL("eid: short EID", OP_EID, "BF3E 03 5C 01 5A", "BF3E 04 5A 02 8904"),
	MAL("eid: wrong tag", OP_EID, "BF3E 03 5C 01 5A", "BF3F 12 5A 10 89049032123451234512345678901235"),
	MAL("eid: trailing byte", OP_EID, "BF3E 03 5C 01 5A",
	    "BF3E 12 5A 10 89049032123451234512345678901235 00"),
	MAL("eid: indefinite length", OP_EID, "BF3E 03 5C 01 5A",
	    "BF3E 80 5A 10 89049032123451234512345678901235 0000"),
	MAL("eid: length past the end", OP_EID, "BF3E 03 5C 01 5A", "BF3E 84 FFFFFFFF 5A"),
	MAL("challenge: 15 bytes", OP_CHALLENGE, "BF2E 00",
	    "BF2E 11 80 0F 000102030405060708090A0B0C0D0E"),
	MAL("info1: bad child", OP_INFO1, "BF20 00", "BF20 03 82 05 02"),
	MAL("info2: no svn", OP_INFO2, "BF22 00", "BF22 05 81 03 020301"),
	MAL("info2: 2-byte version", OP_INFO2, "BF22 00", "BF22 09 82 03 020200 83 02 0102"),
	MAL("info2: bad pkid list", OP_INFO2, "BF22 00", "BF22 0B 82 03 020200 A9 04 80 02 0102"),
	MAL("info2: bad ext resource", OP_INFO2, "BF22 00",
	    "BF22 0D 82 03 020200 84 06 82 09 00045BF8"),
	MAL("info2: huge free NVM", OP_INFO2, "BF22 00",
	    "BF22 11 82 03 020200 84 0A 82 08 FFFFFFFFFFFFFFFF"),
	MAL("info2: bit string unused 8", OP_INFO2, "BF22 00", "BF22 09 82 03 020200 88 02 08FF"),
	MAL("addresses: no root", OP_ADDRESSES, "BF3C 00", "BF3C 03 80 01 61"),
	MAL("addresses: control char", OP_ADDRESSES, "BF3C 00", "BF3C 06 80 01 0A 81 01 61"),
	MAL("addresses: space", OP_ADDRESSES, "BF3C 00", "BF3C 04 81 02 6120"),
	MAL("enable: no result", OP_ENABLE, ENABLE_REQ, "BF31 00"),
	MAL("enable: negative result", OP_ENABLE, ENABLE_REQ, "BF31 03 8001FF"),
	MAL("enable: other command's answer", OP_ENABLE, ENABLE_REQ, "BF32 03 800100"),
	MAL("profiles: item not E3", OP_PROFILES_ALL, "BF2D 00", "BF2D 06 A0 04 E2 02 9F70"),
	MAL("profiles: bad ICCID length", OP_PROFILES_ALL, "BF2D 00",
	    "BF2D 0B A0 09 E3 07 5A 05 9800103254"),
	MAL("profiles: ICCID not BCD", OP_PROFILES_ALL, "BF2D 00",
	    "BF2D 10 A0 0E E3 0C 5A 0A 9A001032547698103214"),
	MAL("profiles: AID 17 bytes", OP_PROFILES_ALL, "BF2D 00",
	    "BF2D 17 A0 15 E3 13 4F 11 A0000005591010FFFFFFFF890000100000"),
	MAL("profiles: state 5 bytes", OP_PROFILES_ALL, "BF2D 00",
	    "BF2D 0C A0 0A E3 08 9F70 05 0100000000"),
	MAL("profiles: bad notif config", OP_PROFILES_ALL, "BF2D 00",
	    "BF2D 0C A0 0A E3 08 B6 06 30 04 80 02 0640"),
	MAL("profiles: truncated E3", OP_PROFILES_ALL, "BF2D 00", "BF2D 06 A0 04 E3 05 5A 01"),
	MAL("profiles: two alternatives", OP_PROFILES_ALL, "BF2D 00", "BF2D 05 A0 00 81 01 01"),
	MAL("profiles: bad ppr bits", OP_PROFILES_ALL, "BF2D 00", "BF2D 07 A0 05 E3 03 99 01 05"),
	MAL("notifications: missing address", OP_LIST_NOTIF_ALL, "BF28 00",
	    "BF28 0E A0 0C BF2F 09 80 01 05 81 02 06 40 5A 00"),
	MAL("notifications: not BF2F", OP_LIST_NOTIF_ALL, "BF28 00",
	    "BF28 07 A0 05 BF2E 02 80 00"),
	MAL("notifications: seq negative", OP_LIST_NOTIF_ALL, "BF28 00",
	    "BF28 14 A0 12 BF2F 0F 80 01 85 81 02 06 40 0C 06 612E622E6364"),
	MAL("retrieve: unknown item", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05",
	    "BF2B 06 A0 04 31 02 0500"),
	MAL("retrieve: 30 without metadata", OP_RETRIEVE, "BF2B 05 A0 03 80 01 05",
	    "BF2B 06 A0 04 30 02 0500"),
	MAL("cancel: ok without signature", OP_CANCEL, "BF41 15 80 10 " TXID_HEX " 81 01 00",
	    "BF41 06 A0 04 30 02 8000"),
	MAL("cancel: unknown alternative", OP_CANCEL, "BF41 15 80 10 " TXID_HEX " 81 01 00",
	    "BF41 03 82 01 05"),
	MAL("rat: bad contents", OP_RAT, "BF43 00", "BF43 03 A0 05 30"),
	MAL("reset: result too big", OP_RESET, "BF34 04 82 02 05 E0", "BF34 0B 80 09 010000000000000000"),
};

static void test_malformed_responses(void **state)
{
	(void)state;
	run_cases(malformed_cases, ARRAY_SIZE(malformed_cases));
}

/* ---- response parsing in detail --------------------------------------------------------- */

static void test_profiles_parsed(void **state)
{
	struct es10_profile *p = NULL;
	struct esim_err err = { 0 };
	struct buf b = BUF_INIT;
	size_t n = 0;

	(void)state;
	hexs(&b, profiles);
	assert_int_equal(es10_parse_profiles((const uint8_t *)b.buf, b.len, &p, &n, &err), 0);
	assert_int_equal(n, 3);

	assert_string_equal(p[0].iccid, ICCID_20);
	assert_string_equal(p[0].aid, "A0000005591010FFFFFFFF8900001000");
	assert_int_equal(p[0].state, ES10_STATE_ENABLED);
	assert_string_equal(p[0].nickname, "work");
	assert_string_equal(p[0].spn, "ACME");
	assert_string_equal(p[0].name, "ACME 5G Go");
	assert_int_equal(p[0].icon_type, ES10_ICON_PNG);
	assert_int_equal(p[0].profile_class, ES10_CLASS_OPERATIONAL);
	assert_string_equal(p[0].owner_mccmnc, "310410");
	assert_int_equal(p[0].pprs, ES10_PPR1 | ES10_PPR2);
	assert_int_equal(p[0].notif_count, 2);
	assert_int_equal(p[0].notif[0].events, ES10_EVENT_ENABLE);
	assert_string_equal(p[0].notif[0].address, "testsmdpplus1.example.com");
	assert_int_equal(p[0].notif[1].events, ES10_EVENT_DELETE);
	assert_string_equal(p[0].notif[1].address, "dp.example.org");

	assert_string_equal(p[1].iccid, "8949449999999990031");       /* 19 digits */
	assert_int_equal(p[1].state, ES10_STATE_DISABLED);
	assert_string_equal(p[1].nickname, "?b??");                   /* 01, FF, 7F replaced */
	assert_string_equal(p[1].name, "caf\xC3\xA9");                /* valid UTF-8 kept */
	assert_int_equal(p[1].profile_class, ES10_CLASS_TEST);
	assert_string_equal(p[1].owner_mccmnc, "26201");
	assert_int_equal(p[1].icon_type, ES10_ICON_NONE);
	assert_int_equal(p[1].notif_count, 0);

	assert_string_equal(p[2].iccid, "89880123456789012341");
	assert_null(p[2].nickname);
	assert_null(p[2].spn);
	assert_string_equal(p[2].aid, "");
	assert_int_equal(p[2].profile_class, ES10_CLASS_OPERATIONAL);  /* DEFAULT */
	assert_int_equal(p[2].pprs, 0);

	assert_string_equal(es10_profile_state_name(p[0].state), "enabled");
	assert_string_equal(es10_profile_class_name(p[1].profile_class), "test");
	es10_profiles_free(p, n);
	es10_profiles_free(NULL, 0);
	buf_release(&b);
}

/* Text sanitising: C1 controls, overlong forms, surrogates, truncated sequences. */
static void test_text_sanitising(void **state)
{
	static const struct {
		const char *hex;
		const char *want;
	} cases[] = {
		{ "776F726B", "work" },
		{ "", "" },
		{ "1B5B33316D", "?[31m" },                    /* ESC */
		{ "C29B", "?" },                              /* C1 CSI */
		{ "C2A0", "\xC2\xA0" },                       /* NBSP is fine */
		{ "C0AF", "??" },                             /* overlong '/' */
		{ "E080AF", "???" },                          /* overlong */
		{ "EDA080", "???" },                          /* surrogate */
		{ "F4908080", "????" },                       /* > U+10FFFF */
		{ "F09F9880", "\xF0\x9F\x98\x80" },           /* emoji */
		{ "E282", "??" },                             /* truncated */
		{ "00", "?" },                                /* NUL */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf b = BUF_INIT, v = BUF_INIT;
		struct es10_profile *p = NULL;
		struct esim_err err = { 0 };
		size_t n = 0;

		hexs(&v, cases[i].hex);
		/* BF2D { A0 { E3 { 90 text } } } */
		put_hdr(&b, 0xBF2D, v.len + 6);
		put_hdr(&b, 0xA0, v.len + 4);
		put_hdr(&b, 0xE3, v.len + 2);
		put_tlv(&b, 0x90, v.buf, v.len);
		assert_int_equal(es10_parse_profiles((const uint8_t *)b.buf, b.len, &p, &n, &err), 0);
		assert_int_equal(n, 1);
		assert_string_equal(p[0].nickname, cases[i].want);
		es10_profiles_free(p, n);
		buf_release(&b);
		buf_release(&v);
	}
}

static void test_notifications_parsed(void **state)
{
	struct es10_notification *nl = NULL;
	struct esim_err err = { 0 };
	struct buf b = BUF_INIT;
	size_t n = 0;

	(void)state;
	hexs(&b, notif_list);
	assert_int_equal(es10_parse_notifications((const uint8_t *)b.buf, b.len, &nl, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nl[0].seq, 5);
	assert_int_equal(nl[0].event, ES10_EVENT_ENABLE);
	assert_string_equal(es10_event_name(nl[0].event), "enable");
	assert_string_equal(nl[0].address, "testsmdpplus1.example.com");
	assert_string_equal(nl[0].iccid, ICCID_20);
	assert_int_equal(nl[1].seq, 128);                             /* 80 02 00 80 */
	assert_int_equal(nl[1].event, ES10_EVENT_INSTALL);
	assert_string_equal(nl[1].iccid, "");
	free(nl);

	/* error alternative */
	buf_reset(&b);
	hexs(&b, "BF28 03 81 01 7F");
	assert_int_equal(es10_parse_notifications((const uint8_t *)b.buf, b.len, &nl, &n, &err), -1);
	assert_null(nl);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_contains(err.msg, "undefinedError");
	buf_release(&b);

	assert_string_equal(es10_event_name(ES10_EVENT_INSTALL), "install");
	assert_string_equal(es10_event_name(ES10_EVENT_DISABLE), "disable");
	assert_string_equal(es10_event_name(ES10_EVENT_DELETE), "delete");
	assert_string_equal(es10_event_name(ES10_EVENT_ENABLE | ES10_EVENT_DELETE), "unknown");
}

/* Retrieve returns the exact TLV, for both kinds of pending notification. */
static void test_retrieve_exact(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf got = BUF_INIT, want = BUF_INIT;

	(void)state;
	open_session(&ctx, 1);
	expect_es10(1, "BF2B 05 A0 03 80 01 05", retrieve5);
	assert_int_equal(es10_retrieve_notification(&ctx, 5, &got, &err), 0);
	hexs(&want, other5);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);

	expect_es10(1, "BF2B 05 A0 03 80 01 01", retrieve_pir);
	assert_int_equal(es10_retrieve_notification(&ctx, 1, &got, &err), 0);
	buf_reset(&want);
	hexs(&want, pir_ok);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);

	/* seq 128 and a large one: minimal INTEGERs */
	expect_es10(1, "BF2B 06 A0 04 80 02 0080", "BF2B 02 A0 00");
	assert_int_equal(es10_retrieve_notification(&ctx, 128, &got, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOTFOUND);
	assert_int_equal(got.len, 0);
	expect_es10(1, "BF30 07 80 05 00FFFFFFFF", "BF30 03 800100");
	assert_int_equal(es10_remove_notification(&ctx, 0xFFFFFFFFu, &err), 0);
	close_session(&ctx);
	buf_release(&got);
	buf_release(&want);
}

static void test_euicc_info2_parsed(void **state)
{
	struct es10_euicc_info2 info;
	struct esim_err err = { 0 };
	struct buf b = BUF_INIT;
	char v[12];

	(void)state;
	hexs(&b, euicc_info2);
	assert_int_equal(es10_parse_euicc_info2((const uint8_t *)b.buf, b.len, &info, &err), 0);
	assert_string_equal(es10_version_str(&info.profile_version, v), "2.3.1");
	assert_string_equal(es10_version_str(&info.svn, v), "2.2.0");
	assert_string_equal(es10_version_str(&info.firmware_version, v), "1.2.3");
	assert_string_equal(es10_version_str(&info.ts102241_version, v), "9.2.0");
	assert_string_equal(es10_version_str(&info.gp_version, v), "2.3.0");
	assert_string_equal(es10_version_str(&info.pp_version, v), "0.2.1");
	assert_int_equal(info.installed_apps, 8);
	assert_int_equal(info.free_nvm, 0x45BF8);
	assert_int_equal(info.free_ram, 0x2419);
	assert_int_equal(info.rsp_capability, ES10_RSP_ADDITIONAL_PROFILE |
			 ES10_RSP_TEST_PROFILE_SUPPORT | (1u << 4));
	assert_int_equal(info.ci_pkid_verification_count, 1);
	assert_int_equal(info.ci_pkid_signing_count, 2);
	assert_int_equal(info.euicc_category, ES10_CATEGORY_MEDIUM);
	assert_string_equal(info.sas_number, "GI-BA-UP-0419");

	/* minimal: only svn; lpac-style AB category */
	buf_reset(&b);
	hexs(&b, "BF22 0A 82 03 020200 AB 03 02 01 03");
	assert_int_equal(es10_parse_euicc_info2((const uint8_t *)b.buf, b.len, &info, &err), 0);
	assert_int_equal(info.free_nvm, -1);
	assert_int_equal(info.euicc_category, ES10_CATEGORY_CONTACTLESS);
	assert_string_equal(es10_version_str(&info.profile_version, v), "");
	buf_release(&b);
}

static void test_addresses(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct es10_addresses a;

	(void)state;
	open_session(&ctx, 1);
	expect_es10(1, "BF3C 00",
		    "BF3C 21 80 0E 64702E6578616D706C652E6F7267 81 0F 6C70612E64732E67736D612E636F6D");
	assert_int_equal(es10_get_configured_addresses(&ctx, &a, &err), 0);
	assert_string_equal(a.default_dp, "dp.example.org");
	assert_string_equal(a.root_ds, "lpa.ds.gsma.com");
	expect_es10(1, "BF3C 00", "BF3C 11 81 0F 6C70612E64732E67736D612E636F6D");
	assert_int_equal(es10_get_configured_addresses(&ctx, &a, &err), 0);
	assert_string_equal(a.default_dp, "");
	/* invalid addresses are refused before sending */
	assert_int_equal(es10_set_default_dp(&ctx, "bad host", &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(es10_set_default_dp(&ctx, NULL, &err), -1);
	close_session(&ctx);
}

/* ---- AuthenticateServer / PrepareDownload / CancelSession -------------------------------- */

static void auth_inputs(struct buf *ss1, struct buf *sig, struct buf *pkid, struct buf *cert)
{
	hexs(ss1, server_signed1);
	hexs(sig, "5F3740" SIG_HEX);
	hexs(pkid, "0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
	hexs(cert, "3003020105");
}

static void auth_request(struct buf *req, const char *ctx1_hex)
{
	struct buf body = BUF_INIT, ss1 = BUF_INIT, sig = BUF_INIT, pkid = BUF_INIT,
		   cert = BUF_INIT;

	auth_inputs(&ss1, &sig, &pkid, &cert);
	buf_add(&body, ss1.buf, ss1.len);
	buf_add(&body, sig.buf, sig.len);
	buf_add(&body, pkid.buf, pkid.len);
	buf_add(&body, cert.buf, cert.len);
	hexs(&body, ctx1_hex);
	put_tlv(req, 0xBF38, body.buf, body.len);
	buf_release(&body);
	buf_release(&ss1);
	buf_release(&sig);
	buf_release(&pkid);
	buf_release(&cert);
}

static void test_authenticate_server(void **state)
{
	static const struct {
		const char *name;
		const char *mid;
		const char *imei;
		const char *ctx1;
		const char *resp;
		int ret;
		const char *msg;
		int last;
	} cases[] = {
		{ "ok, matching id", "TEST-MATCHING-ID", NULL, ctx_params1, auth_ok, 0, NULL, -1 },
		{ "ok, imei, no matching id", NULL, "356938035643809", ctx_params1_imei, auth_ok, 0,
		  NULL, -1 },
		{ "ok, empty matching id", "", NULL, "A00C8000A108800435290611A100", auth_ok, 0, NULL,
		  -1 },
		{ "error 02", "TEST-MATCHING-ID", NULL, ctx_params1, auth_err02, -1,
		  "euiccChallengeMismatch 6", 6 },
		{ "error 81", "TEST-MATCHING-ID", NULL, ctx_params1, auth_err81, -1,
		  "ciPKUnknown 7", 7 },
		{ "error without code", "TEST-MATCHING-ID", NULL, ctx_params1,
		  "BF38 14 A1 12 8010" TXID_HEX, -1, "malformed response", -1 },
		{ "ok missing certificates", "TEST-MATCHING-ID", NULL, ctx_params1,
		  "BF38 5E A0 5C 3012 8010" TXID_HEX "5F3740" SIG_HEX "3003020101", -1,
		  "malformed response", -1 },
		{ "unknown alternative", "TEST-MATCHING-ID", NULL, ctx_params1, "BF38 02 A2 00", -1,
		  "malformed response", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf req = BUF_INIT, resp = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
		struct buf ss1 = BUF_INIT, sig = BUF_INIT, pkid = BUF_INIT, cert = BUF_INIT;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		int ret;

		print_message("  %s\n", cases[i].name);
		fake_reset();
		open_session(&ctx, 1);
		auth_request(&req, cases[i].ctx1);
		hexs(&resp, cases[i].resp);
		expect_es10_raw(1, (const uint8_t *)req.buf, req.len, (const uint8_t *)resp.buf,
				resp.len);
		auth_inputs(&ss1, &sig, &pkid, &cert);
		ret = es10_authenticate_server(&ctx, &ss1, &sig, &pkid, &cert, cases[i].mid,
					       cases[i].imei, &out, &err);
		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_int_equal(out.len, resp.len);
			assert_memory_equal(out.buf, resp.buf, resp.len);
		} else {
			assert_int_equal(err.status, ESIM_E_EUICC);
			assert_contains(err.msg, cases[i].msg);
		}
		assert_int_equal(ctx.last_result, cases[i].last);
		close_session(&ctx);
		buf_release(&req);
		buf_release(&resp);
		buf_release(&want);
		buf_release(&out);
		buf_release(&ss1);
		buf_release(&sig);
		buf_release(&pkid);
		buf_release(&cert);
	}
}

/* Bad SM-DP+ input or bad arguments: nothing reaches the card. */
static void test_authenticate_server_inputs(void **state)
{
	static const struct {
		const char *ss1, *sig, *pkid, *cert;
		const char *imei;
		enum esim_status status;
		const char *msg;
	} cases[] = {
		{ "3100", "5F3700", "0400", "3000", NULL, ESIM_E_SMDP, "serverSigned1" },
		{ "3000", "5F3800", "0400", "3000", NULL, ESIM_E_SMDP, "serverSignature1" },
		{ "3000", "5F3700", "0500", "3000", NULL, ESIM_E_SMDP, "euiccCiPKIdToBeUsed" },
		{ "3000", "5F3700", "0400", "3081", NULL, ESIM_E_SMDP, "serverCertificate" },
		{ "3000", "5F3700", "0400", "300000", NULL, ESIM_E_SMDP, "serverCertificate" },
		{ "", "5F3700", "0400", "3000", NULL, ESIM_E_SMDP, "serverSigned1" },
		{ "3000", "5F3700", "0400", "3000", "35693803564380", ESIM_E_USAGE, "IMEI" },
		{ "3000", "5F3700", "0400", "3000", "35693803564380A", ESIM_E_USAGE, "IMEI" },
		{ "3000", "5F3700", "0400", "3000", "3569380356438090", ESIM_E_USAGE, "IMEI" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, d = BUF_INIT, out = BUF_INIT;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };

		fake_reset();
		open_session(&ctx, 1);
		hexs(&a, cases[i].ss1);
		hexs(&b, cases[i].sig);
		hexs(&c, cases[i].pkid);
		hexs(&d, cases[i].cert);
		assert_int_equal(es10_authenticate_server(&ctx, &a, &b, &c, &d, "X", cases[i].imei,
							  &out, &err), -1);
		assert_int_equal(err.status, cases[i].status);
		assert_contains(err.msg, cases[i].msg);
		close_session(&ctx);
		buf_release(&a);
		buf_release(&b);
		buf_release(&c);
		buf_release(&d);
		buf_release(&out);
	}
}

static void test_prepare_download(void **state)
{
	static const uint8_t hash[32] = {
		0x06, 0xB3, 0x87, 0x35, 0x56, 0x33, 0xC7, 0x95, 0xAA, 0x7E, 0xC0, 0xBB, 0xA7, 0x36,
		0x82, 0xC2, 0x68, 0xC2, 0xE9, 0x32, 0x6B, 0x64, 0x95, 0x40, 0xD7, 0xFD, 0xB3, 0xF8,
		0x66, 0xA8, 0x76, 0x1C,
	};
	static const struct {
		const char *name;
		const char *signed2;
		int with_hash;
		const char *req;        /* NULL: nothing sent */
		const char *resp;
		int ret;
		enum esim_status status;
		const char *msg;
	} cases[] = {
		{ "cc required, hash given", "3015 8010" TXID_HEX "0101FF", 1,
		  "BF21 81 81 3015 8010" TXID_HEX "0101FF 5F3740" SIG_HEX
		  " 0420 06B387355633C795AA7EC0BBA73682C268C2E9326B649540D7FDB3F866A8761C 3003020105",
		  pd_ok, 0, 0, NULL },
		{ "no cc", "3015 8010" TXID_HEX "010100", 0,
		  "BF21 5F 3015 8010" TXID_HEX "010100 5F3740" SIG_HEX " 3003020105", pd_ok, 0, 0,
		  NULL },
		{ "no cc, hash dropped", "3015 8010" TXID_HEX "010100", 1,
		  "BF21 5F 3015 8010" TXID_HEX "010100 5F3740" SIG_HEX " 3003020105", pd_ok, 0, 0,
		  NULL },
		{ "cc required, no hash", "3015 8010" TXID_HEX "0101FF", 0, NULL, NULL, -1,
		  ESIM_E_USAGE, "confirmation code" },
		{ "smdpSigned2 without flag", "3012 8010" TXID_HEX, 0, NULL, NULL, -1, ESIM_E_SMDP,
		  "smdpSigned2" },
		{ "smdpSigned2 txid 17 bytes", "3016 8011" TXID_HEX "00 010100", 0, NULL, NULL, -1,
		  ESIM_E_SMDP, "smdpSigned2" },
		{ "error", "3015 8010" TXID_HEX "010100", 0,
		  "BF21 5F 3015 8010" TXID_HEX "010100 5F3740" SIG_HEX " 3003020105", pd_err, -1,
		  ESIM_E_EUICC, "invalidTransactionId 5" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf s2 = BUF_INIT, sig = BUF_INIT, cert = BUF_INIT, out = BUF_INIT;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		int ret;

		print_message("  %s\n", cases[i].name);
		fake_reset();
		open_session(&ctx, 1);
		if (cases[i].req)
			expect_es10(1, cases[i].req, cases[i].resp);
		hexs(&s2, cases[i].signed2);
		hexs(&sig, "5F3740" SIG_HEX);
		hexs(&cert, "3003020105");
		ret = es10_prepare_download(&ctx, &s2, &sig, &cert, cases[i].with_hash ? hash : NULL,
					    &out, &err);
		assert_int_equal(ret, cases[i].ret);
		if (ret < 0) {
			assert_int_equal(err.status, cases[i].status);
			assert_contains(err.msg, cases[i].msg);
		} else {
			struct buf want = BUF_INIT;

			hexs(&want, cases[i].resp);
			assert_int_equal(out.len, want.len);
			assert_memory_equal(out.buf, want.buf, want.len);
			buf_release(&want);
		}
		close_session(&ctx);
		buf_release(&s2);
		buf_release(&sig);
		buf_release(&cert);
		buf_release(&out);
	}
}

static void test_smdp_signed2_info(void **state)
{
	struct buf b = BUF_INIT;
	struct esim_err err = { 0 };
	uint8_t txid[16];
	size_t len = 0;
	int cc = -1;

	(void)state;
	hexs(&b, "3015 8010" TXID_HEX "0101FF");
	assert_int_equal(es10_smdp_signed2_info((const uint8_t *)b.buf, b.len, txid, &len, &cc,
						&err), 0);
	assert_int_equal(len, 16);
	assert_int_equal(txid[15], 0xFF);
	assert_int_equal(cc, 1);
	buf_reset(&b);
	hexs(&b, "300C 8004 01020304 010100 5F4900");
	assert_int_equal(es10_smdp_signed2_info((const uint8_t *)b.buf, b.len, txid, &len, &cc,
						&err), 0);
	assert_int_equal(len, 4);
	assert_int_equal(cc, 0);
	buf_release(&b);
}

static void test_cancel_session_args(void **state)
{
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf out = BUF_INIT;
	uint8_t txid[17] = { 0 };

	(void)state;
	open_session(&ctx, 1);
	assert_int_equal(es10_cancel_session(&ctx, txid, 0, ES10_CANCEL_TIMEOUT, &out, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(es10_cancel_session(&ctx, txid, 17, ES10_CANCEL_TIMEOUT, &out, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	expect_es10(1, "BF41 06 80 01 00 81 01 05", cancel_ok);
	assert_int_equal(es10_cancel_session(&ctx, txid, 1, ES10_CANCEL_LOAD_BPP_EXECUTION_ERROR,
					     &out, &err), 0);
	expect_es10(1, "BF41 06 80 01 00 81 01 7F", cancel_ok);
	assert_int_equal(es10_cancel_session(&ctx, txid, 1, ES10_CANCEL_UNDEFINED_REASON, &out,
					     &err), 0);
	close_session(&ctx);
	buf_release(&out);
}

/* ---- LoadBoundProfilePackage (SGP.22 §5.7.6) ------------------------------------------------ */

struct bpp_fixture {
	struct buf bpp;
	struct buf seg[16];
	size_t nseg;
};

static void fill(struct buf *b, int byte, size_t n)
{
	while (n--)
		buf_addch(b, byte);
}

static void seg_push(struct bpp_fixture *f, const void *a, size_t alen, const void *b, size_t blen)
{
	struct buf *s = &f->seg[f->nseg++];

	buf_init(s, 0);
	buf_add(s, a, alen);
	if (blen)
		buf_add(s, b, blen);
}

/*
 * BF36 { BF23, A0 {87, 87}, A1 {88, 88}, [A2 {87}], A3 {86 1020, 86 1020, 86 476} } and
 * the segments SGP.22 §5.7.6 takes, built from the pieces.
 */
static void bpp_build(struct bpp_fixture *f, int with_a2)
{
	struct buf bf23 = BUF_INIT, t[9], a0 = BUF_INIT, a1 = BUF_INIT, a2 = BUF_INIT,
		   a3 = BUF_INIT, body = BUF_INIT, hdr = BUF_INIT, v = BUF_INIT;
	static const struct {
		unsigned tag;
		int byte;
		size_t len;
	} parts[9] = {
		{ 0x87, 0x33, 24 }, { 0x87, 0x34, 8 }, { 0x88, 0x44, 41 }, { 0x88, 0x45, 10 },
		{ 0x87, 0x55, 72 }, { 0x87, 0x56, 200 }, { 0x86, 0x66, 1020 }, { 0x86, 0x67, 1020 },
		{ 0x86, 0x68, 476 },
	};
	size_t i;

	memset(f, 0, sizeof(*f));
	/* BF23 { 82 01 01, 80 txId, A6 CRT, 5F49 otPK.DP, 5F37 smdpSign } (SGP.22 §5.5, ES8+) */
	hexs(&v, "820101 8010" TXID_HEX " A610 800188 810110 8408 8080808080808080 5F4941 04");
	fill(&v, 0x11, 64);
	hexs(&v, "5F3740");
	fill(&v, 0x22, 64);
	put_tlv(&bf23, 0xBF23, v.buf, v.len);
	assert_int_equal(bf23.len, 178);
	for (i = 0; i < 9; i++) {
		buf_init(&t[i], 0);
		buf_reset(&v);
		fill(&v, parts[i].byte, parts[i].len);
		put_tlv(&t[i], parts[i].tag, v.buf, v.len);
	}
	buf_add(&a0, t[0].buf, t[0].len);
	buf_add(&a0, t[1].buf, t[1].len);
	buf_add(&a1, t[2].buf, t[2].len);
	buf_add(&a1, t[3].buf, t[3].len);
	buf_add(&a2, t[4].buf, t[4].len);
	buf_add(&a2, t[5].buf, t[5].len);
	for (i = 6; i < 9; i++)
		buf_add(&a3, t[i].buf, t[i].len);

	buf_add(&body, bf23.buf, bf23.len);
	put_tlv(&body, 0xA0, a0.buf, a0.len);
	put_tlv(&body, 0xA1, a1.buf, a1.len);
	if (with_a2)
		put_tlv(&body, 0xA2, a2.buf, a2.len);
	put_tlv(&body, 0xA3, a3.buf, a3.len);
	buf_init(&f->bpp, 0);
	put_tlv(&f->bpp, 0xBF36, body.buf, body.len);

	/* 1. BF36 header + BF23 */
	put_hdr(&hdr, 0xBF36, body.len);
	seg_push(f, hdr.buf, hdr.len, bf23.buf, bf23.len);
	/* 2. A0 header + first 87, then the next 87 */
	buf_reset(&hdr);
	put_hdr(&hdr, 0xA0, a0.len);
	seg_push(f, hdr.buf, hdr.len, t[0].buf, t[0].len);
	seg_push(f, t[1].buf, t[1].len, NULL, 0);
	/* 3. A1 header alone, 4. each 88 */
	buf_reset(&hdr);
	put_hdr(&hdr, 0xA1, a1.len);
	seg_push(f, hdr.buf, hdr.len, NULL, 0);
	seg_push(f, t[2].buf, t[2].len, NULL, 0);
	seg_push(f, t[3].buf, t[3].len, NULL, 0);
	/* 5. A2 header + first 87, then the next */
	if (with_a2) {
		buf_reset(&hdr);
		put_hdr(&hdr, 0xA2, a2.len);
		seg_push(f, hdr.buf, hdr.len, t[4].buf, t[4].len);
		seg_push(f, t[5].buf, t[5].len, NULL, 0);
	}
	/* 6. A3 header alone, 7. each 86 */
	buf_reset(&hdr);
	put_hdr(&hdr, 0xA3, a3.len);
	seg_push(f, hdr.buf, hdr.len, NULL, 0);
	for (i = 6; i < 9; i++)
		seg_push(f, t[i].buf, t[i].len, NULL, 0);

	for (i = 0; i < 9; i++)
		buf_release(&t[i]);
	buf_release(&bf23);
	buf_release(&a0);
	buf_release(&a1);
	buf_release(&a2);
	buf_release(&a3);
	buf_release(&body);
	buf_release(&hdr);
	buf_release(&v);
}

static void bpp_free(struct bpp_fixture *f)
{
	size_t i;

	buf_release(&f->bpp);
	for (i = 0; i < f->nseg; i++)
		buf_release(&f->seg[i]);
}

static struct {
	size_t calls, last_done, last_total;
	int monotonic;
} prog;

static void progress_cb(void *arg, size_t done, size_t total)
{
	assert_ptr_equal(arg, &prog);
	if (done <= prog.last_done)
		prog.monotonic = 0;
	prog.calls++;
	prog.last_done = done;
	prog.last_total = total;
}

static void test_load_bpp_segments(void **state)
{
	int with_a2;

	(void)state;
	for (with_a2 = 0; with_a2 <= 1; with_a2++) {
		struct bpp_fixture f;
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct es10_install_result res;
		struct buf pir = BUF_INIT, want = BUF_INIT;
		size_t total = 0, i;

		fake_reset();
		bpp_build(&f, with_a2);
		assert_int_equal(f.nseg, with_a2 ? 12 : 10);
		for (i = 0; i < f.nseg; i++)
			total += f.seg[i].len;
		assert_int_equal(total, f.bpp.len);   /* the segments cover the BPP exactly */
		hexs(&want, pir_ok);
		open_session(&ctx, 1);
		for (i = 0; i < f.nseg; i++) {
			int last = i + 1 == f.nseg;

			expect_es10_raw(1, (const uint8_t *)f.seg[i].buf, f.seg[i].len,
					last ? (const uint8_t *)want.buf : NULL, last ? want.len : 0);
		}
		memset(&prog, 0, sizeof(prog));
		prog.monotonic = 1;
		assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len,
					       progress_cb, &prog, &pir, &res, &err), 0);
		assert_int_equal(prog.calls, f.nseg);
		assert_int_equal(prog.last_done, f.bpp.len);
		assert_int_equal(prog.last_total, f.bpp.len);
		assert_true(prog.monotonic);
		assert_int_equal(pir.len, want.len);
		assert_memory_equal(pir.buf, want.buf, want.len);
		assert_true(res.ok);
		assert_int_equal(res.seq, 1);
		assert_int_equal(res.txid_len, 16);
		assert_int_equal(res.txid[1], 0x11);
		assert_string_equal(res.iccid, ICCID_20);
		assert_string_equal(res.address, "testsmdpplus1.example.com");
		assert_int_equal(res.aid_len, 16);
		assert_int_equal(res.aid[14], 0x11);
		assert_int_equal(res.bpp_command_id, -1);
		assert_int_equal(res.error_reason, -1);
		close_session(&ctx);
		bpp_free(&f);
		buf_release(&pir);
		buf_release(&want);
	}
}

/* The eUICC answers errorResult after the first 88: nothing more is sent. */
static void test_load_bpp_stops_at_first_result(void **state)
{
	struct bpp_fixture f;
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct es10_install_result res;
	struct buf pir = BUF_INIT, want = BUF_INIT;
	size_t i;

	(void)state;
	bpp_build(&f, 1);
	hexs(&want, pir_err);
	open_session(&ctx, 3);
	for (i = 0; i <= 4; i++)        /* BF23, A0+87, 87, A1, first 88 */
		expect_es10_raw(3, (const uint8_t *)f.seg[i].buf, f.seg[i].len,
				i == 4 ? (const uint8_t *)want.buf : NULL, i == 4 ? want.len : 0);
	assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len, NULL, NULL,
				       &pir, &res, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_contains(err.msg, "loading the profile elements");
	assert_contains(err.msg, "scp03tSecurityError 8");
	assert_string_equal(err.detail, "bppCommandId 5, errorReason 8");
	assert_int_equal(pir.len, want.len);                  /* still the notification */
	assert_memory_equal(pir.buf, want.buf, want.len);
	assert_false(res.ok);
	assert_int_equal(res.seq, 2);
	assert_int_equal(res.bpp_command_id, ES10_BPP_LOAD_PROFILE_ELEMENTS);
	assert_int_equal(res.error_reason, ES10_INSTALL_SCP03T_SECURITY_ERROR);
	assert_int_equal(ctx.last_result, 8);
	close_session(&ctx);        /* the script has no further segments: none were sent */
	bpp_free(&f);
	buf_release(&pir);
	buf_release(&want);
}

static void test_load_bpp_failures(void **state)
{
	struct bpp_fixture f;
	struct es10_ctx ctx;
	struct esim_err err = { 0 };
	struct buf pir = BUF_INIT;
	size_t i;

	(void)state;
	bpp_build(&f, 0);

	/* no result after the last 86 */
	open_session(&ctx, 1);
	for (i = 0; i < f.nseg; i++)
		expect_es10_raw(1, (const uint8_t *)f.seg[i].buf, f.seg[i].len, NULL, 0);
	assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len, NULL, NULL,
				       &pir, NULL, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_contains(err.msg, "no ProfileInstallationResult");
	assert_int_equal(pir.len, 0);
	close_session(&ctx);

	/* SW error in the middle: pir empty, the caller cancels the session */
	fake_reset();
	open_session(&ctx, 1);
	expect_es10_raw(1, (const uint8_t *)f.seg[0].buf, f.seg[0].len, NULL, 0);
	{
		struct step *s = add_step();

		hexs(&s->tx, "81 E2 91 00");
		buf_addch(&s->tx, (int)f.seg[1].len);
		buf_add(&s->tx, f.seg[1].buf, f.seg[1].len);
		buf_addch(&s->tx, 0);
		hexs(&s->rx, "6A80");
	}
	assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len, NULL, NULL,
				       &pir, NULL, &err), -1);
	assert_string_equal(err.detail, "SW 6A80");
	assert_contains(err.msg, "LoadBoundProfilePackage");
	assert_int_equal(pir.len, 0);
	close_session(&ctx);

	/* data that is not a BF37 */
	fake_reset();
	open_session(&ctx, 1);
	expect_es10_raw(1, (const uint8_t *)f.seg[0].buf, f.seg[0].len,
			(const uint8_t *)"\xBF\x38\x00", 3);
	assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len, NULL, NULL,
				       &pir, NULL, &err), -1);
	assert_contains(err.msg, "malformed response to LoadBoundProfilePackage");
	assert_int_equal(pir.len, 0);
	close_session(&ctx);

	/* a BF37 we cannot read is still handed back as the notification */
	fake_reset();
	open_session(&ctx, 1);
	expect_es10_raw(1, (const uint8_t *)f.seg[0].buf, f.seg[0].len,
			(const uint8_t *)"\xBF\x37\x02\x05\x00", 5);
	assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)f.bpp.buf, f.bpp.len, NULL, NULL,
				       &pir, NULL, &err), -1);
	assert_int_equal(err.status, ESIM_E_EUICC);
	assert_int_equal(pir.len, 5);
	close_session(&ctx);

	bpp_free(&f);
	buf_release(&pir);
}

/* A malformed BPP is the SM-DP+'s fault; nothing is sent. */
static void test_load_bpp_malformed(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		const char *why;
	} cases[] = {
		{ "empty", "", "not a single BF36" },
		{ "wrong outer tag", "BF37 00", "not a single BF36" },
		{ "truncated", "BF36 10 BF23 00", "not a single BF36" },
		{ "trailing data", "BF36 0F BF23 00 A0 02 8700 A1 02 8800 A3 02 8600 00",
		  "not a single BF36" },
		{ "no BF23", "BF36 0C A0 02 8700 A1 02 8800 A3 02 8600", "BF23" },
		{ "BF23 not first", "BF36 0F A0 02 8700 BF23 00 A1 02 8800 A3 02 8600", "BF23" },
		{ "empty A0", "BF36 0D BF23 00 A0 00 A1 02 8800 A3 02 8600", "A0" },
		{ "88 in A0", "BF36 0F BF23 00 A0 02 8800 A1 02 8800 A3 02 8600", "A0" },
		{ "bad child in A0", "BF36 0F BF23 00 A0 02 8705 A1 02 8800 A3 02 8600", "A0" },
		{ "no A1", "BF36 0B BF23 00 A0 02 8700 A3 02 8600", "A1" },
		{ "87 in A1", "BF36 0F BF23 00 A0 02 8700 A1 02 8700 A3 02 8600", "A1" },
		{ "no A3", "BF36 0B BF23 00 A0 02 8700 A1 02 8800", "no A3" },
		{ "empty A3", "BF36 0D BF23 00 A0 02 8700 A1 02 8800 A3 00", "A3" },
		{ "A2 without 87", "BF36 11 BF23 00 A0 02 8700 A1 02 8800 A2 00 A3 02 8600", "A2" },
		{ "A2 then nothing", "BF36 0F BF23 00 A0 02 8700 A1 02 8800 A2 02 8700", "A3" },
		{ "87 in A3", "BF36 0F BF23 00 A0 02 8700 A1 02 8800 A3 02 8700", "A3" },
		{ "data after A3", "BF36 11 BF23 00 A0 02 8700 A1 02 8800 A3 02 8600 A4 00",
		  "after A3" },
		{ "BF23 primitive", "BF36 0F 9F23 00 A0 02 8700 A1 02 8800 A3 02 8600", "BF23" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf b = BUF_INIT, pir = BUF_INIT;

		print_message("  %s\n", cases[i].name);
		fake_reset();
		open_session(&ctx, 1);
		hexs(&b, cases[i].hex);
		assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)b.buf, b.len, NULL, NULL, &pir,
					       NULL, &err), -1);
		assert_int_equal(err.status, ESIM_E_SMDP);
		assert_contains(err.msg, "the SM-DP+ sent a malformed bound profile package");
		assert_contains(err.msg, cases[i].why);
		assert_int_equal(pir.len, 0);
		close_session(&ctx);    /* only the close APDU after open: nothing was sent */
		buf_release(&b);
		buf_release(&pir);
	}
	/* and a well-formed minimal one is accepted */
	{
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		struct buf pir = BUF_INIT;

		fake_reset();
		open_session(&ctx, 1);
		expect_es10(1, "BF36 0F BF23 00", "");
		expect_es10(1, "A0 02 8700", "");
		expect_es10(1, "A1 02", "");
		expect_es10(1, "8800", "");
		expect_es10(1, "A3 02", "");
		expect_es10(1, "8600", pir_ok);
		{
			struct buf b = BUF_INIT;

			hexs(&b, "BF36 0F BF23 00 A0 02 8700 A1 02 8800 A3 02 8600");
			assert_int_equal(es10_load_bpp(&ctx, (const uint8_t *)b.buf, b.len, NULL, NULL,
						       &pir, NULL, &err), 0);
			buf_release(&b);
		}
		close_session(&ctx);
		buf_release(&pir);
	}
}

static void test_install_result_parse(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		int ret;
		int ok;
	} cases[] = {
		{ "success (SGP.22 §2.5.6)", pir_ok, 0, 1 },
		{ "error (SGP.22 §2.5.6)", pir_err, 0, 0 },
		{ "no signature", "BF37 05 BF27 02 8000", -1, 0 },
		{ "empty BF27", "BF37 08 BF27 00 5F37 02 0000", -1, 0 },
		{ "txid 0 bytes", "BF37 0A BF27 02 8000 5F37 02 0000", -1, 0 },
		{ "missing finalResult", "BF37 1D BF27 15 8001 01 BF2F 0F 800101 810207800C06 612E622E6364"
		  " 5F37 02 0000", -1, 0 },
		{ "finalResult both", "BF37 23 BF27 1B 8001 01 BF2F 0F 800101 810207800C06 612E622E6364"
		  " A2 04 A0 00 A1 00 5F37 02 0000", -1, 0 },
		{ "success without AID", "BF37 21 BF27 19 8001 01 BF2F 0F 800101 810207800C06 612E622E6364"
		  " A2 02 A0 00 5F37 02 0000", -1, 0 },
		{ "error without reason", "BF37 24 BF27 1C 8001 01 BF2F 0F 800101 810207800C06 612E622E6364"
		  " A2 05 A1 03 800105 5F37 02 0000", -1, 0 },
		{ "minimal error", "BF37 27 BF27 1F 8001 01 BF2F 0F 800101 810207800C06 612E622E6364"
		  " A2 08 A1 06 800105 81017F 5F37 02 0000", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct es10_install_result res;
		struct esim_err err = { 0 };
		struct buf b = BUF_INIT;
		int ret;

		print_message("  %s\n", cases[i].name);
		hexs(&b, cases[i].hex);
		ret = es10_parse_install_result((const uint8_t *)b.buf, b.len, &res, &err);
		assert_int_equal(ret, cases[i].ret);
		if (ret == 0)
			assert_int_equal(res.ok, cases[i].ok);
		else
			assert_contains(err.msg, "malformed response to LoadBoundProfilePackage");
		buf_release(&b);
	}
}

/* ---- identifiers (ETSI TS 102 221 §13.2) ----------------------------------------------- */

static void test_iccid_encoding(void **state)
{
	static const struct {
		const char *iccid;
		const char *req;        /* DeleteProfile request; NULL: refused */
	} cases[] = {
		{ "89000123456789012341", "BF33 0C 5A 0A 98 00 10 32 54 76 98 10 32 14" },
		{ "8949449999999990031", "BF33 0C 5A 0A 98 94 44 99 99 99 99 09 30 F1" },
		/* 18 digits: still 10 bytes, 9 pairs + FF (not 9 bytes as some LPAs send) */
		{ "898801234567890123", "BF33 0C 5A 0A 98 88 10 32 54 76 98 10 32 FF" },
		{ "89880123456789012", NULL },
		{ "898801234567890123456", NULL },
		{ "8988012345678901234a", NULL },
		{ "", NULL },
		{ " 89000123456789012341", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct es10_ctx ctx;
		struct esim_err err = { 0 };

		fake_reset();
		open_session(&ctx, 1);
		if (cases[i].req) {
			expect_es10(1, cases[i].req, "BF33 03 800100");
			assert_int_equal(es10_delete(&ctx, cases[i].iccid, &err), 0);
		} else {
			assert_int_equal(es10_delete(&ctx, cases[i].iccid, &err), -1);
			assert_int_equal(err.status, ESIM_E_USAGE);
			assert_contains(err.msg, "ICCID");
			assert_int_equal(es10_enable(&ctx, cases[i].iccid, 0, &err), -1);
			assert_int_equal(es10_set_nickname(&ctx, cases[i].iccid, "x", &err), -1);
		}
		close_session(&ctx);
	}
	/* NULL ICCID, over-long nickname, bad reset options: refused, nothing sent */
	{
		struct es10_ctx ctx;
		struct esim_err err = { 0 };
		char nick[66];

		fake_reset();
		open_session(&ctx, 1);
		assert_int_equal(es10_disable(&ctx, NULL, 0, &err), -1);
		memset(nick, 'n', 65);
		nick[65] = '\0';
		assert_int_equal(es10_set_nickname(&ctx, ICCID_20, nick, &err), -1);
		assert_int_equal(err.status, ESIM_E_USAGE);
		assert_int_equal(es10_memory_reset(&ctx, 0, &err), -1);
		assert_int_equal(es10_memory_reset(&ctx, 8, &err), -1);
		nick[64] = '\0';
		expect_es10(1, "BF29 4E 5A 0A " ICCID_20_BCD " 90 40 "
			    "6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E"
			    "6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E6E",
			    "BF29 03 800100");
		assert_int_equal(es10_set_nickname(&ctx, ICCID_20, nick, &err), 0);
		expect_es10(1, "BF29 0E 5A 0A " ICCID_20_BCD " 90 00", "BF29 03 800100");
		assert_int_equal(es10_set_nickname(&ctx, ICCID_20, "", &err), 0);
		close_session(&ctx);
	}
}

/* ---- names ------------------------------------------------------------------------------ */

static void test_code_names(void **state)
{
	static const struct {
		enum es10_code_kind kind;
		int code;
		const char *name;
	} cases[] = {
		{ ES10_CODE_AUTH_SERVER, 1, "invalidCertificate" },
		{ ES10_CODE_AUTH_SERVER, 5, "invalidOid" },
		{ ES10_CODE_AUTH_SERVER, 127, "undefinedError" },
		{ ES10_CODE_PREPARE_DOWNLOAD, 5, "invalidTransactionId" },
		{ ES10_CODE_BPP_COMMAND, 0, "initialiseSecureChannel" },
		{ ES10_CODE_BPP_COMMAND, 4, "replaceSessionKeys" },
		{ ES10_CODE_INSTALL_ERROR, 1, "incorrectInputValues" },
		{ ES10_CODE_INSTALL_ERROR, 9, "installFailedDueToIccidAlreadyExistsOnEuicc" },
		{ ES10_CODE_INSTALL_ERROR, 14, "testProfileInstallFailedDueToInvalidNaaKey" },
		{ ES10_CODE_INSTALL_ERROR, 15, "pprNotAllowed" },
		{ ES10_CODE_INSTALL_ERROR, 127, "installFailedDueToUnknownError" },
		{ ES10_CODE_INSTALL_ERROR, 16, "unknown" },
		{ ES10_CODE_CANCEL_REASON, 5, "loadBppExecutionError" },
		{ ES10_CODE_ENABLE, 2, "profileNotInDisabledState" },
		{ ES10_CODE_DISABLE, 2, "profileNotInEnabledState" },
		{ ES10_CODE_DISABLE, 4, "unknown" },
		{ ES10_CODE_REMOVE_NOTIFICATION, 1, "nothingToDelete" },
		{ (enum es10_code_kind)99, 1, "unknown" },
	};
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_string_equal(es10_code_name(cases[i].kind, cases[i].code), cases[i].name);
	for (c = 1; c <= 15; c++)
		assert_string_not_equal(es10_code_name(ES10_CODE_INSTALL_ERROR, c), "unknown");
	assert_string_equal(es10_code_message(ES10_CODE_ENABLE, 77), "unknown result code");
	assert_string_equal(es10_sw_message(0x6A88), "referenced data not found");
	assert_string_equal(es10_sw_message(0x6A8F), "wrong parameters");
}

/* ---- hostile input: every truncation and many corruptions of valid responses ------------- */

static uint32_t rng_state = 0x12345678;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void parse_all(const uint8_t *p, size_t len)
{
	struct esim_err err;
	struct es10_profile *pl = NULL;
	struct es10_notification *nl = NULL;
	struct es10_euicc_info2 info;
	struct es10_install_result res;
	size_t n = 0;
	uint8_t txid[16];
	size_t tl;
	int cc;

	if (es10_parse_profiles(p, len, &pl, &n, &err) == 0)
		es10_profiles_free(pl, n);
	else
		assert_null(pl);
	if (es10_parse_notifications(p, len, &nl, &n, &err) == 0)
		free(nl);
	else
		assert_null(nl);
	es10_parse_euicc_info2(p, len, &info, &err);
	es10_parse_install_result(p, len, &res, &err);
	es10_smdp_signed2_info(p, len, txid, &tl, &cc, &err);
}

static void test_hostile_parsers(void **state)
{
	static const char *const seeds[] = {
		profiles, notif_list, euicc_info2, euicc_info1, pir_ok, pir_err, retrieve5,
		"3015 8010" TXID_HEX "0101FF",
	};
	size_t s, cut, k;

	(void)state;
	for (s = 0; s < ARRAY_SIZE(seeds); s++) {
		struct buf b = BUF_INIT;

		hexs(&b, seeds[s]);
		/* every truncation, in a fresh allocation so ASan sees over-reads */
		for (cut = 0; cut <= b.len; cut++) {
			uint8_t *p = malloc(cut ? cut : 1);

			memcpy(p, b.buf, cut);
			parse_all(p, cut);
			free(p);
		}
		/* random byte corruptions */
		for (k = 0; k < 3000; k++) {
			uint8_t *p = malloc(b.len);
			int flips = 1 + (int)(rng() % 4), j;

			memcpy(p, b.buf, b.len);
			for (j = 0; j < flips; j++)
				p[rng() % b.len] = (uint8_t)rng();
			parse_all(p, b.len);
			free(p);
		}
		buf_release(&b);
	}
}

/* Hostile responses through the whole command path (store_data + parse). */
static void test_hostile_commands(void **state)
{
	static const char *const resp_seeds[] = { profiles, notif_list, retrieve5 };
	size_t s, cut;

	(void)state;
	for (s = 0; s < ARRAY_SIZE(resp_seeds); s++) {
		struct buf b = BUF_INIT;

		hexs(&b, resp_seeds[s]);
		for (cut = 0; cut < b.len; cut += 3) {
			struct es10_ctx ctx;
			struct esim_err err = { 0 };
			struct es10_profile *p = NULL;
			struct es10_notification *nl = NULL;
			struct buf out = BUF_INIT;
			size_t n = 0;
			int ret;

			fake_reset();
			open_session(&ctx, 1);
			if (s == 0) {
				expect_es10_raw(1, (const uint8_t *)"\xBF\x2D\x00", 3,
						(const uint8_t *)b.buf, cut);
				ret = es10_get_profiles_query(&ctx, NULL, NULL, 0, &p, &n, &err);
				es10_profiles_free(p, n);
			} else if (s == 1) {
				expect_es10_raw(1, (const uint8_t *)"\xBF\x28\x00", 3,
						(const uint8_t *)b.buf, cut);
				ret = es10_list_notifications(&ctx, 0, &nl, &n, &err);
				free(nl);
			} else {
				expect_es10_raw(1, (const uint8_t *)"\xBF\x2B\x05\xA0\x03\x80\x01\x05",
						8, (const uint8_t *)b.buf, cut);
				ret = es10_retrieve_notification(&ctx, 5, &out, &err);
			}
			assert_int_equal(ret, -1);
			assert_int_equal(err.status, ESIM_E_EUICC);
			close_session(&ctx);
			buf_release(&out);
		}
		buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chaining_300, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chaining_mss_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_eid_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_channel_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_response_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_6cxx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_61xx_forever, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_cla, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sw_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles_parsed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_sanitising, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifications_parsed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrieve_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_euicc_info2_parsed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticate_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticate_server_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smdp_signed2_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_session_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bpp_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bpp_stops_at_first_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bpp_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bpp_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_result_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iccid_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_parsers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_commands, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
