/*
 * es10.c - ES10a/b/c request building, APDU framing and strict response parsing.
 *
 * Layers, bottom up:
 *   apdu_exchange()   one command through the transport; 61xx GET RESPONSE, 6Cxx resend
 *   store_data()      one ES10 request as a STORE DATA chain (SGP22.md §3.2)
 *   es10_*()          build the request TLV with der.h, send, parse the answer
 *
 * Everything the eUICC returns is hostile until proven otherwise: each parser walks the
 * response with der.h (which bounds every length), checks the tag and size of every
 * field it uses, and never allocates from a count found in the data.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esimctl/der.h"
#include "esimctl/es10.h"
#include "esimctl/ids.h"

const uint8_t es10_isdr_aid[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
};

const uint8_t es10_profile_tags[12] = {
	0x5A, 0x4F, 0x9F, 0x70, 0x90, 0x91, 0x92, 0x93, 0x95, 0xB6, 0xB7, 0x99,
};

/* ES10 request / response tags (§3.4). */
#define TAG_EUICC_INFO1 0xBF20
#define TAG_PREPARE_DOWNLOAD 0xBF21
#define TAG_EUICC_INFO2 0xBF22
#define TAG_INIT_SECURE_CHANNEL 0xBF23
#define TAG_PIR_DATA 0xBF27
#define TAG_LIST_NOTIFICATION 0xBF28
#define TAG_SET_NICKNAME 0xBF29
#define TAG_RETRIEVE_NOTIFICATIONS 0xBF2B
#define TAG_PROFILES_INFO 0xBF2D
#define TAG_CHALLENGE 0xBF2E
#define TAG_NOTIFICATION_METADATA 0xBF2F
#define TAG_REMOVE_NOTIFICATION 0xBF30
#define TAG_ENABLE 0xBF31
#define TAG_DISABLE 0xBF32
#define TAG_DELETE 0xBF33
#define TAG_MEMORY_RESET 0xBF34
#define TAG_BPP 0xBF36
#define TAG_PIR 0xBF37
#define TAG_AUTH_SERVER 0xBF38
#define TAG_CONFIGURED_ADDRESSES 0xBF3C
#define TAG_EID 0xBF3E
#define TAG_SET_DEFAULT_DP 0xBF3F
#define TAG_CANCEL_SESSION 0xBF41
#define TAG_RAT 0xBF43
#define TAG_SIGNATURE 0x5F37
#define TAG_PROFILE_STATE 0x9F70
#define TAG_PROFILE_INFO 0xE3

#define SW_OK 0x9000
#define GET_RESPONSE_MAX 4096   /* 61xx rounds per command, whatever the data */
#define RESEND_MAX 3            /* 6Cxx rounds per command */

/* ------------------------------------------------------------------------------------ */
/* Function names for messages, from the request tag.                                 */

static const struct {
	uint32_t tag;
	const char *name;
} fn_names[] = {
	{ TAG_EUICC_INFO1, "GetEUICCInfo1" },
	{ TAG_PREPARE_DOWNLOAD, "PrepareDownload" },
	{ TAG_EUICC_INFO2, "GetEUICCInfo2" },
	{ TAG_LIST_NOTIFICATION, "ListNotification" },
	{ TAG_SET_NICKNAME, "SetNickname" },
	{ TAG_RETRIEVE_NOTIFICATIONS, "RetrieveNotificationsList" },
	{ TAG_PROFILES_INFO, "GetProfilesInfo" },
	{ TAG_CHALLENGE, "GetEUICCChallenge" },
	{ TAG_REMOVE_NOTIFICATION, "RemoveNotificationFromList" },
	{ TAG_ENABLE, "EnableProfile" },
	{ TAG_DISABLE, "DisableProfile" },
	{ TAG_DELETE, "DeleteProfile" },
	{ TAG_MEMORY_RESET, "eUICCMemoryReset" },
	{ 0xBF35, "LoadCRL" },
	{ TAG_BPP, "LoadBoundProfilePackage" },
	{ TAG_AUTH_SERVER, "AuthenticateServer" },
	{ TAG_CONFIGURED_ADDRESSES, "GetEuiccConfiguredAddresses" },
	{ TAG_EID, "GetEID" },
	{ TAG_SET_DEFAULT_DP, "SetDefaultDpAddress" },
	{ TAG_CANCEL_SESSION, "CancelSession" },
	{ TAG_RAT, "GetRAT" },
	/* Later BPP segments (§5.5) start with these. */
	{ 0xA0, "LoadBoundProfilePackage" },
	{ 0xA1, "LoadBoundProfilePackage" },
	{ 0xA2, "LoadBoundProfilePackage" },
	{ 0xA3, "LoadBoundProfilePackage" },
	{ 0x86, "LoadBoundProfilePackage" },
	{ 0x87, "LoadBoundProfilePackage" },
	{ 0x88, "LoadBoundProfilePackage" },
};

static const char *fn_name(const uint8_t *req, size_t len)
{
	uint32_t tag;
	size_t i;

	if (len == 0)
		return "ES10 command";
	tag = req[0];
	if ((req[0] & 0x1F) == 0x1F && len >= 2)
		tag = (tag << 8) | req[1];
	for (i = 0; i < sizeof(fn_names) / sizeof(fn_names[0]); i++)
		if (fn_names[i].tag == tag)
			return fn_names[i].name;
	return "ES10 command";
}

/* ------------------------------------------------------------------------------------ */
/* Errors.                                                                             */

static int malformed(struct esim_err *err, const char *fn, const char *what)
{
	return esim_fail(err, ESIM_E_EUICC, "malformed response to %s (%s)", fn, what);
}

static int smdp_malformed(struct esim_err *err, const char *what)
{
	return esim_fail(err, ESIM_E_SMDP, "the SM-DP+ sent a malformed %s", what);
}

static int sw_fail(struct esim_err *err, const char *what, unsigned sw)
{
	esim_fail(err, ESIM_E_EUICC, "eUICC error in %s: %s (SW %04X)", what,
		  es10_sw_message(sw), sw);
	if (err)
		snprintf(err->detail, sizeof(err->detail), "SW %04X", sw);
	return -1;
}

/*
 * A business error code from the eUICC.  subject completes "cannot <subject>"; the
 * message names the code so it can be looked up in SGP.22.
 */
static int code_fail(struct esim_err *err, enum esim_status status, enum es10_code_kind kind,
		     const char *fn, const char *subject, int code)
{
	esim_fail(err, status, "cannot %s: %s (%s %d)", subject, es10_code_message(kind, code),
		  es10_code_name(kind, code), code);
	if (err)
		snprintf(err->detail, sizeof(err->detail), "%s result %d", fn, code);
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* APDU layer.                                                                         */

static uint8_t cla_proprietary(int ch)
{
	return (uint8_t)(ch < 4 ? 0x80 | ch : 0xC0 | (ch - 4));
}

static uint8_t cla_interindustry(int ch)
{
	return (uint8_t)(ch < 4 ? ch : 0x40 | (ch - 4));
}

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;               /* 0..255 */
	int le;                  /* -1: none; 0..255 (0 meaning 256) */
};

static size_t apdu_encode(const struct apdu *a, uint8_t out[261])
{
	size_t n = 0;

	out[n++] = a->cla;
	out[n++] = a->ins;
	out[n++] = a->p1;
	out[n++] = a->p2;
	if (a->lc) {
		out[n++] = (uint8_t)a->lc;
		memcpy(out + n, a->data, a->lc);
		n += a->lc;
	}
	if (a->le >= 0)
		out[n++] = (uint8_t)a->le;
	return n;
}

/* One C-APDU through the transport; rx gets the R-APDU (>= 2 bytes). */
static int raw_transmit(struct es10_ctx *ctx, const uint8_t *tx, size_t txlen, uint8_t *rx,
			size_t *rxlen, struct esim_err *err)
{
	*rxlen = APDU_RX_MAX;
	esim_err_clear(err);
	if (ctx->t->transmit(ctx->t->priv, tx, txlen, rx, rxlen, err) < 0) {
		if (err && err->status == ESIM_OK)
			esim_fail(err, ESIM_E_NOREADER, "eUICC transport failed");
		return -1;
	}
	if (*rxlen < 2 || *rxlen > APDU_RX_MAX)
		return esim_fail(err, ESIM_E_EUICC, "eUICC transport returned a %zu-byte response",
				 *rxlen);
	return 0;
}

/*
 * Send a, following 61xx with GET RESPONSE (class gr_cla) and 6Cxx with a resend, and
 * append all response data to out.  *sw is the final status word.
 */
static int apdu_exchange(struct es10_ctx *ctx, const struct apdu *a, uint8_t gr_cla,
			 struct buf *out, unsigned *sw, struct esim_err *err)
{
	struct apdu cur = *a;
	uint8_t tx[261], rx[APDU_RX_MAX];
	size_t txlen, rxlen, start = out->len;
	unsigned rounds = 0, resends = 0;

	for (;;) {
		txlen = apdu_encode(&cur, tx);
		if (raw_transmit(ctx, tx, txlen, rx, &rxlen, err) < 0)
			return -1;
		*sw = (unsigned)rx[rxlen - 2] << 8 | rx[rxlen - 1];
		if (rx[rxlen - 2] == 0x6C) {
			/* Wrong Le (T=0): same command again with Le as the card says. */
			if (++resends > RESEND_MAX) {
				esim_fail(err, ESIM_E_EUICC, "eUICC kept answering 6Cxx (wrong Le)");
				if (err)
					snprintf(err->detail, sizeof(err->detail), "SW %04X", *sw);
				return -1;
			}
			out->len = start;
			out->buf[out->len] = '\0';
			cur.le = rx[rxlen - 1];
			continue;
		}
		if (out->len > ES10_RESPONSE_MAX || rxlen - 2 > ES10_RESPONSE_MAX - out->len)
			return esim_fail(err, ESIM_E_EUICC, "eUICC response longer than %u bytes",
					 ES10_RESPONSE_MAX);
		buf_add(out, rx, rxlen - 2);
		if (rx[rxlen - 2] != 0x61)
			return 0;
		if (++rounds > GET_RESPONSE_MAX)
			return esim_fail(err, ESIM_E_EUICC, "eUICC kept answering 61xx");
		cur.cla = gr_cla;
		cur.ins = 0xC0;
		cur.p1 = 0;
		cur.p2 = 0;
		cur.data = NULL;
		cur.lc = 0;
		cur.le = rx[rxlen - 1];
		resends = 0;
	}
}

static int check_open(struct es10_ctx *ctx, struct esim_err *err)
{
	if (!ctx || !ctx->t || ctx->channel < 0)
		return esim_fail(err, ESIM_E_USAGE, "no eUICC session is open");
	return 0;
}

/* One ES10 request as a STORE DATA chain (§3.2); resp (reset first) gets the answer. */
static int store_data(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		      struct esim_err *err)
{
	const char *name = fn_name(req, reqlen);
	size_t mss = ctx->mss >= 1 && ctx->mss <= 255 ? ctx->mss : ES10_MSS_DEFAULT;
	size_t blocks, i;
	unsigned sw;

	buf_reset(resp);
	if (check_open(ctx, err) < 0)
		return -1;
	if (reqlen == 0)
		return esim_fail(err, ESIM_E_USAGE, "empty ES10 request");
	blocks = (reqlen + mss - 1) / mss;
	if (blocks > 256)
		return esim_fail(err, ESIM_E_USAGE, "%s request of %zu bytes is too long for "
				 "STORE DATA blocks of %zu bytes", name, reqlen, mss);
	for (i = 0; i < blocks; i++) {
		int last = i + 1 == blocks;
		struct apdu a = {
			.cla = cla_proprietary(ctx->channel),
			.ins = 0xE2,
			.p1 = last ? 0x91 : 0x11,
			.p2 = (uint8_t)i,
			.data = req + i * mss,
			.lc = last ? reqlen - i * mss : mss,
			.le = last ? 0 : -1,
		};

		/*
		 * GET RESPONSE after STORE DATA goes in the proprietary class (80|ch), as
		 * lpac and euicc-go send it; after SELECT es10_open() uses the ISO class.
		 * The software eUICC accepts both (SGP22.md §3.2).
		 */
		if (apdu_exchange(ctx, &a, cla_proprietary(ctx->channel), resp, &sw, err) < 0)
			return -1;
		if (sw != SW_OK)
			return sw_fail(err, name, sw);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Session.                                                                            */

void es10_ctx_init(struct es10_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->mss = ES10_MSS_DEFAULT;
	ctx->channel = -1;
	ctx->last_result = -1;
}

static const uint8_t terminal_capability[] = {
	0xA9, 0x08, 0x81, 0x00, 0x82, 0x01, 0x01, 0x83, 0x01, 0x07,
};

int es10_open(struct es10_ctx *ctx, struct apdu_transport *t, struct esim_err *err)
{
	struct buf data = BUF_INIT;
	unsigned sw;
	int ch;

	if (!ctx || !t || !t->transmit)
		return esim_fail(err, ESIM_E_USAGE, "es10_open: no transport");
	ctx->t = NULL;
	ctx->channel = -1;
	ctx->last_result = -1;
	if (t->open && t->open(t->priv, err) < 0) {
		if (err && err->status == ESIM_OK)
			esim_fail(err, ESIM_E_NOREADER, "cannot connect to the eUICC");
		if (t->close)
			t->close(t->priv);
		return -1;
	}
	ctx->t = t;
	ctx->channel = 0;

	if (ctx->terminal_capability) {
		/* Some eUICCs want it (lpac sends it); an SW error is not a reason to stop. */
		struct apdu a = { 0x80, 0xAA, 0x00, 0x00, terminal_capability,
				  sizeof(terminal_capability), -1 };

		if (apdu_exchange(ctx, &a, 0x80, &data, &sw, err) < 0)
			goto fail;
		buf_reset(&data);
	}

	if (!ctx->basic_channel) {
		struct apdu a = { 0x00, 0x70, 0x00, 0x00, NULL, 0, 1 };

		if (apdu_exchange(ctx, &a, 0x00, &data, &sw, err) < 0)
			goto fail;
		if (sw != SW_OK) {
			sw_fail(err, "MANAGE CHANNEL (open a logical channel)", sw);
			goto fail;
		}
		ch = data.len == 1 ? (uint8_t)data.buf[0] : -1;
		if (ch < 1 || ch > ES10_CHANNEL_MAX) {
			esim_fail(err, ESIM_E_EUICC, "eUICC opened an invalid logical channel");
			goto fail;
		}
		ctx->channel = ch;
		buf_reset(&data);
	}

	{
		struct apdu a = { cla_interindustry(ctx->channel), 0xA4, 0x04, 0x00, es10_isdr_aid,
				  sizeof(es10_isdr_aid), -1 };

		if (apdu_exchange(ctx, &a, cla_interindustry(ctx->channel), &data, &sw, err) < 0)
			goto fail;
		if (sw != SW_OK) {
			sw_fail(err, "SELECT ISD-R", sw);
			if (sw == 0x6A82)
				esim_hint(err, "the card has no ISD-R: is it an eUICC?");
			goto fail;
		}
	}
	buf_release(&data);
	return 0;

fail:
	buf_release(&data);
	es10_close(ctx);
	return -1;
}

void es10_close(struct es10_ctx *ctx)
{
	struct apdu_transport *t;

	if (!ctx || !ctx->t)
		return;
	t = ctx->t;
	if (ctx->channel > 0) {
		struct apdu a = { 0x00, 0x70, 0x80, (uint8_t)ctx->channel, NULL, 0, 0 };
		struct buf data = BUF_INIT;
		struct esim_err ignored;
		unsigned sw;

		apdu_exchange(ctx, &a, 0x00, &data, &sw, &ignored);
		buf_release(&data);
	}
	ctx->t = NULL;
	ctx->channel = -1;
	if (t->close)
		t->close(t->priv);
}

int es10_transmit(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		  struct esim_err *err)
{
	return store_data(ctx, req, reqlen, resp, err);
}

/* ------------------------------------------------------------------------------------ */
/* Parsing helpers.                                                                    */

/* The response must be exactly one constructed TLV with this tag. */
static int parse_top(const uint8_t *p, size_t len, uint32_t tag, struct der_node *top)
{
	if (der_parse(p, len, top) < 0 || top->tag != tag || !top->constructed)
		return -1;
	return 0;
}

static int resp_top(const struct buf *resp, uint32_t tag, struct der_node *top)
{
	return parse_top((const uint8_t *)resp->buf, resp->len, tag, top);
}

/* Every direct child well-formed. */
static int check_children(const struct der_node *parent)
{
	struct der_iter it;
	struct der_node n;
	int r;

	der_iter_init(&it, parent);
	while ((r = der_iter_next(&it, &n)) == 1)
		;
	return r;
}

/* The only child of a CHOICE wrapper. */
static int only_child(const struct der_node *parent, struct der_node *out)
{
	struct der_iter it;
	struct der_node extra;

	der_iter_init(&it, parent);
	if (der_iter_next(&it, out) != 1 || der_iter_next(&it, &extra) != 0)
		return -1;
	return 0;
}

/* Small non-negative INTEGER (result codes, enums): 0..INT_MAX. */
static int get_int(const struct der_node *n, int *out)
{
	uint64_t v;

	if (der_get_uint(n, &v) < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Unsigned big-endian of 1..8 bytes, as extCardResource sends sizes (00045BF8). */
static int get_be(const struct der_node *n, int64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n->len < 1 || n->len > 8)
		return -1;
	for (i = 0; i < n->len; i++)
		v = v << 8 | n->value[i];
	if (v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* BIT STRING -> bits (bit n of the ASN.1 value = 1u << n; bits past 31 dropped). */
static int get_bits(const struct der_node *n, unsigned *bits)
{
	size_t nbits, i;
	unsigned unused;

	if (n->len < 1)
		return -1;
	unused = n->value[0];
	if (unused > 7 || (n->len == 1 && unused != 0))
		return -1;
	nbits = (n->len - 1) * 8 - unused;
	*bits = 0;
	for (i = 0; i < nbits && i < 32; i++)
		if (n->value[1 + i / 8] & (0x80 >> (i % 8)))
			*bits |= 1u << i;
	return 0;
}

/* DER BIT STRING: trailing zero bits dropped (§3.3: install 07 80, all four 04 F0). */
static void put_bits(struct buf *b, uint32_t tag, unsigned bits)
{
	uint8_t v[5] = { 0 };
	int hi = -1, i;

	for (i = 0; i < 32; i++)
		if (bits & (1u << i)) {
			hi = i;
			v[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
		}
	if (hi < 0) {
		der_put_tlv(b, tag, v, 1);
		return;
	}
	v[0] = (uint8_t)(7 - hi % 8);
	der_put_tlv(b, tag, v, 1 + (size_t)hi / 8 + 1);
}

static int get_version(const struct der_node *n, struct es10_version *v)
{
	if (n->len != 3)
		return -1;
	v->present = 1;
	v->major = n->value[0];
	v->minor = n->value[1];
	v->rev = n->value[2];
	return 0;
}

char *es10_version_str(const struct es10_version *v, char out[12])
{
	if (!v || !v->present)
		out[0] = '\0';
	else
		snprintf(out, 12, "%u.%u.%u", v->major, v->minor, v->rev);
	return out;
}

/* FQDN-like text: printable ASCII without spaces, at most ES10_ADDRESS_MAX bytes. */
static int get_address(const struct der_node *n, char out[ES10_ADDRESS_MAX + 1])
{
	size_t i;

	if (n->len > ES10_ADDRESS_MAX)
		return -1;
	for (i = 0; i < n->len; i++)
		if (n->value[i] < 0x21 || n->value[i] > 0x7E)
			return -1;
	memcpy(out, n->value, n->len);
	out[n->len] = '\0';
	return 0;
}

/* Length of a valid UTF-8 sequence at p (at most left bytes), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t left)
{
	size_t need, i;
	uint8_t lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		need = 1;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		need = 2;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		need = 3;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;              /* overlong */
	else if (p[0] == 0xED)
		hi = 0x9F;              /* surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90;              /* overlong */
	else if (p[0] == 0xF4)
		hi = 0x8F;              /* beyond U+10FFFF */
	if (need >= left)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return need + 1;
}

/*
 * Free text from the card as a printable C string: C0/C1 controls, DEL and invalid
 * UTF-8 become '?'.  Never longer than the input.
 */
static char *dup_text(const struct der_node *n)
{
	char *s = xmalloc(n->len + 1);
	size_t i = 0, o = 0;

	while (i < n->len) {
		const uint8_t *p = n->value + i;
		size_t k = utf8_seq(p, n->len - i);

		if (k == 0 || p[0] < 0x20 || p[0] == 0x7F ||
		    (k == 2 && p[0] == 0xC2 && p[1] < 0xA0)) {
			s[o++] = '?';
			i += k ? k : 1;
			continue;
		}
		memcpy(s + o, p, k);
		o += k;
		i += k;
	}
	s[o] = '\0';
	return s;
}

static int get_iccid(const struct der_node *n, char out[21])
{
	if (n->len != 10 || iccid_from_bcd(n->value, out) < 0)
		return -1;
	return 0;
}

/* Caller's ICCID (18..20 digits) -> 10 bytes of swapped BCD, F-padded (§7.1). */
static int iccid_arg(const char *iccid, uint8_t bcd[10], struct esim_err *err)
{
	size_t n = 0;

	if (iccid)
		while (iccid[n] >= '0' && iccid[n] <= '9' && n <= 20)
			n++;
	if (!iccid || iccid[n] != '\0' || n < 18 || n > 20 || iccid_to_bcd(iccid, bcd) < 0)
		return esim_fail(err, ESIM_E_USAGE, "ICCID '%.24s': must be 18 to 20 decimal digits",
				 iccid ? iccid : "");
	return 0;
}

/* A TLV from the SM-DP+ that we pass on: one complete TLV with the expected tag. */
static int smdp_tlv(const struct buf *b, uint32_t tag, const char *what, struct esim_err *err)
{
	struct der_node n;

	if (!b || der_parse((const uint8_t *)b->buf, b->len, &n) < 0 || n.tag != tag)
		return smdp_malformed(err, what);
	return 0;
}

/* A response that is BFxx { 80 result }: the result code, also in ctx->last_result. */
static int get_result(struct es10_ctx *ctx, const struct buf *resp, uint32_t tag, const char *fn,
		      int *code, struct esim_err *err)
{
	struct der_node top, n;

	if (resp_top(resp, tag, &top) < 0 || der_find(&top, 0x80, &n) != 1 || get_int(&n, code) < 0)
		return malformed(err, fn, "no result code");
	ctx->last_result = *code;
	return 0;
}

/* Send req and check that the answer is a tag TLV; resp holds it. */
static int command(struct es10_ctx *ctx, const struct buf *req, struct buf *resp, uint32_t tag,
		   struct der_node *top, struct esim_err *err)
{
	if (ctx)
		ctx->last_result = -1;
	if (store_data(ctx, (const uint8_t *)req->buf, req->len, resp, err) < 0)
		return -1;
	if (resp_top(resp, tag, top) < 0)
		return malformed(err, fn_name((const uint8_t *)req->buf, req->len),
				 "not a single well-formed TLV of the expected type");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* GetEID, EUICCInfo1/2, challenge, configured addresses.                              */

int es10_get_eid(struct es10_ctx *ctx, char out[33], struct esim_err *err)
{
	static const uint8_t req_bytes[] = { 0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A };
	struct buf req = BUF_INIT, resp = BUF_INIT, hex = BUF_INIT;
	struct der_node top, n;
	int ret = -1;

	out[0] = '\0';
	buf_add(&req, req_bytes, sizeof(req_bytes));
	if (command(ctx, &req, &resp, TAG_EID, &top, err) < 0)
		goto out;
	if (der_find(&top, 0x5A, &n) != 1 || n.len != 16) {
		malformed(err, "GetEID", "no 16-byte EID");
		goto out;
	}
	hex_encode(n.value, n.len, &hex);
	memcpy(out, hex.buf, 33);
	ret = 0;
out:
	buf_release(&hex);
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

static int simple_get(struct es10_ctx *ctx, uint32_t tag, struct buf *resp, struct der_node *top,
		      struct esim_err *err)
{
	struct buf req = BUF_INIT;
	int ret;

	der_put_tlv(&req, tag, NULL, 0);
	ret = command(ctx, &req, resp, tag, top, err);
	buf_release(&req);
	return ret;
}

int es10_get_euicc_info1(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err)
{
	struct der_node top;

	if (simple_get(ctx, TAG_EUICC_INFO1, tlv, &top, err) < 0)
		goto fail;
	if (check_children(&top) < 0) {
		malformed(err, "GetEUICCInfo1", "bad contents");
		goto fail;
	}
	return 0;
fail:
	buf_reset(tlv);
	return -1;
}

/* A SEQUENCE OF SubjectKeyIdentifier (04 ...): the count. */
static int count_pkids(const struct der_node *list, size_t *count)
{
	struct der_iter it;
	struct der_node n;
	int r;

	*count = 0;
	der_iter_init(&it, list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (n.tag != 0x04)
			return -1;
		(*count)++;
	}
	return r;
}

static int parse_ext_card_resource(const struct der_node *ext, struct es10_euicc_info2 *info)
{
	struct der_iter it;
	struct der_node n;
	int r;

	/* An OCTET STRING whose contents are TLVs: walk them as if it were constructed. */
	der_iter_init(&it, ext);
	while ((r = der_iter_next(&it, &n)) == 1) {
		int64_t *dst = n.tag == 0x81 ? &info->installed_apps :
			       n.tag == 0x82 ? &info->free_nvm :
			       n.tag == 0x83 ? &info->free_ram : NULL;

		if (dst && get_be(&n, dst) < 0)
			return -1;
	}
	return r;
}

static int parse_euicc_info2(const uint8_t *p, size_t len, struct es10_euicc_info2 *info,
			     const char **why)
{
	struct der_node top, n, inner;
	struct der_iter it;
	int r, have_svn = 0;

	memset(info, 0, sizeof(*info));
	info->installed_apps = info->free_nvm = info->free_ram = -1;
	info->euicc_category = ES10_CATEGORY_ABSENT;
	*why = "not a BF22 TLV";
	if (parse_top(p, len, TAG_EUICC_INFO2, &top) < 0)
		return -1;
	der_iter_init(&it, &top);
	while ((r = der_iter_next(&it, &n)) == 1) {
		int bad = 0;

		switch (n.tag) {
		case 0x81:
			bad = get_version(&n, &info->profile_version);
			break;
		case 0x82:
			bad = get_version(&n, &info->svn);
			have_svn = 1;
			break;
		case 0x83:
			bad = get_version(&n, &info->firmware_version);
			break;
		case 0x86:
			bad = get_version(&n, &info->ts102241_version);
			break;
		case 0x87:
			bad = get_version(&n, &info->gp_version);
			break;
		case 0x04:
			bad = get_version(&n, &info->pp_version);
			break;
		case 0x84:
			bad = parse_ext_card_resource(&n, info);
			break;
		case 0x88:
			bad = get_bits(&n, &info->rsp_capability);
			break;
		case 0xA9:
			bad = count_pkids(&n, &info->ci_pkid_verification_count);
			break;
		case 0xAA:
			bad = count_pkids(&n, &info->ci_pkid_signing_count);
			break;
		case 0x8B:
		case 0xAB: {
			/* 8B by the ASN.1; lpac reads AB.  Accept a wrapped INTEGER in AB too. */
			struct der_node v = n;
			int64_t cat;

			if (n.tag == 0xAB && der_parse(n.value, n.len, &inner) == 0)
				v = inner;
			bad = get_be(&v, &cat) < 0 || cat > 255;
			if (!bad)
				info->euicc_category = (int)cat;
			break;
		}
		case 0x0C: {
			char *s;

			if (n.len >= sizeof(info->sas_number)) {
				bad = 1;
				break;
			}
			s = dup_text(&n);
			memcpy(info->sas_number, s, strlen(s) + 1);
			free(s);
			break;
		}
		default:
			break;          /* fields this summary does not show */
		}
		if (bad) {
			*why = "bad field";
			return -1;
		}
	}
	if (r < 0) {
		*why = "bad contents";
		return -1;
	}
	if (!have_svn) {
		*why = "no svn";
		return -1;
	}
	return 0;
}

int es10_parse_euicc_info2(const uint8_t *tlv, size_t len, struct es10_euicc_info2 *info,
			   struct esim_err *err)
{
	struct es10_euicc_info2 tmp;
	const char *why;

	if (parse_euicc_info2(tlv, len, info ? info : &tmp, &why) < 0)
		return malformed(err, "GetEUICCInfo2", why);
	return 0;
}

int es10_get_euicc_info2(struct es10_ctx *ctx, struct buf *tlv, struct es10_euicc_info2 *info,
			 struct esim_err *err)
{
	struct buf resp = BUF_INIT;
	struct der_node top;
	int ret = -1;

	if (tlv)
		buf_reset(tlv);
	if (simple_get(ctx, TAG_EUICC_INFO2, &resp, &top, err) < 0)
		goto out;
	if (es10_parse_euicc_info2((const uint8_t *)resp.buf, resp.len, info, err) < 0)
		goto out;
	if (tlv)
		buf_add(tlv, resp.buf, resp.len);
	ret = 0;
out:
	buf_release(&resp);
	return ret;
}

int es10_get_challenge(struct es10_ctx *ctx, uint8_t out[16], struct esim_err *err)
{
	struct buf resp = BUF_INIT;
	struct der_node top, n;
	int ret = -1;

	if (simple_get(ctx, TAG_CHALLENGE, &resp, &top, err) < 0)
		goto out;
	if (der_find(&top, 0x80, &n) != 1 || n.len != 16) {
		malformed(err, "GetEUICCChallenge", "no 16-byte challenge");
		goto out;
	}
	memcpy(out, n.value, 16);
	ret = 0;
out:
	buf_release(&resp);
	return ret;
}

int es10_get_configured_addresses(struct es10_ctx *ctx, struct es10_addresses *out,
				  struct esim_err *err)
{
	struct buf resp = BUF_INIT;
	struct der_node top, n;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	if (simple_get(ctx, TAG_CONFIGURED_ADDRESSES, &resp, &top, err) < 0)
		goto out;
	r = der_find(&top, 0x80, &n);
	if (r < 0 || (r == 1 && get_address(&n, out->default_dp) < 0)) {
		malformed(err, "GetEuiccConfiguredAddresses", "bad defaultDpAddress");
		goto out;
	}
	if (der_find(&top, 0x81, &n) != 1 || get_address(&n, out->root_ds) < 0) {
		malformed(err, "GetEuiccConfiguredAddresses", "no valid rootDsAddress");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	buf_release(&resp);
	return ret;
}

int es10_set_default_dp(struct es10_ctx *ctx, const char *address, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	size_t mark, i, len = address ? strlen(address) : 0;
	int ret = -1, code;

	if (!address || len > ES10_ADDRESS_MAX)
		return esim_fail(err, ESIM_E_USAGE, "SM-DP+ address: must be at most %d bytes",
				 ES10_ADDRESS_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)address[i] < 0x21 || (unsigned char)address[i] > 0x7E)
			return esim_fail(err, ESIM_E_USAGE, "SM-DP+ address '%.64s': must be "
					 "printable ASCII without spaces", address);
	mark = der_begin(&req, TAG_SET_DEFAULT_DP);
	der_put_tlv(&req, 0x80, address, len);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_SET_DEFAULT_DP, &top, err) < 0 ||
	    get_result(ctx, &resp, TAG_SET_DEFAULT_DP, "SetDefaultDpAddress", &code, err) < 0)
		goto out;
	if (code != 0) {
		code_fail(err, ESIM_E_EUICC, ES10_CODE_SET_DEFAULT_DP, "SetDefaultDpAddress",
			  "set the default SM-DP+ address", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* AuthenticateServer, PrepareDownload.                                                */

/*
 * BF38 / BF21 response: A0 { expected children... } is success; A1 { [80 txId] code } is
 * an error, code tagged 02 (by the ASN.1) or 81 (as euicc-go reads it), §3.4.
 */
static int auth_response(struct es10_ctx *ctx, const struct der_node *top, const uint32_t *want,
			 size_t nwant, enum es10_code_kind kind, const char *fn,
			 const char *subject, struct esim_err *err)
{
	struct der_node alt, n;
	struct der_iter it;
	size_t i;
	int code, r;

	if (only_child(top, &alt) < 0)
		return malformed(err, fn, "not one CHOICE alternative");
	if (alt.tag == 0xA0) {
		der_iter_init(&it, &alt);
		for (i = 0; i < nwant; i++)
			if (der_iter_next(&it, &n) != 1 || n.tag != want[i])
				return malformed(err, fn, "incomplete result");
		while ((r = der_iter_next(&it, &n)) == 1)
			;
		if (r < 0)
			return malformed(err, fn, "bad contents");
		return 0;
	}
	if (alt.tag != 0xA1)
		return malformed(err, fn, "unknown CHOICE alternative");
	r = der_find(&alt, 0x80, &n);
	if (r < 0 || (r == 1 && (n.len < 1 || n.len > ES10_TXID_MAX)))
		return malformed(err, fn, "bad transactionId");
	if (der_find(&alt, 0x02, &n) != 1 && der_find(&alt, 0x81, &n) != 1)
		return malformed(err, fn, "error without a code");
	if (get_int(&n, &code) < 0)
		return malformed(err, fn, "bad error code");
	ctx->last_result = code;
	return code_fail(err, ESIM_E_EUICC, kind, fn, subject, code);
}

int es10_authenticate_server(struct es10_ctx *ctx, const struct buf *server_signed1,
			     const struct buf *server_signature1, const struct buf *ci_pkid,
			     const struct buf *server_certificate, const char *matching_id,
			     const char *imei, struct buf *resp, struct esim_err *err)
{
	static const uint8_t default_tac[4] = { 0x35, 0x29, 0x06, 0x11 };
	static const uint32_t want[] = { 0x30, TAG_SIGNATURE, 0x30, 0x30 };
	struct buf req = BUF_INIT;
	struct der_node top;
	uint8_t imei_bcd[8];
	size_t mark, ctx1, dev, i;
	int ret = -1;

	buf_reset(resp);
	if (smdp_tlv(server_signed1, 0x30, "serverSigned1", err) < 0 ||
	    smdp_tlv(server_signature1, TAG_SIGNATURE, "serverSignature1", err) < 0 ||
	    smdp_tlv(ci_pkid, 0x04, "euiccCiPKIdToBeUsed", err) < 0 ||
	    smdp_tlv(server_certificate, 0x30, "serverCertificate", err) < 0)
		return -1;
	if (matching_id && strlen(matching_id) > ES10_MATCHING_ID_MAX)
		return esim_fail(err, ESIM_E_USAGE, "matching ID: longer than %d bytes",
				 ES10_MATCHING_ID_MAX);
	if (imei) {
		for (i = 0; imei[i] >= '0' && imei[i] <= '9'; i++)
			;
		if (imei[i] != '\0' || i != 15 || imei_to_bcd(imei, imei_bcd) < 0)
			return esim_fail(err, ESIM_E_USAGE, "IMEI '%.20s': must be 15 decimal digits",
					 imei);
	}

	mark = der_begin(&req, TAG_AUTH_SERVER);
	buf_add(&req, server_signed1->buf, server_signed1->len);
	buf_add(&req, server_signature1->buf, server_signature1->len);
	buf_add(&req, ci_pkid->buf, ci_pkid->len);
	buf_add(&req, server_certificate->buf, server_certificate->len);
	/* ctxParams1 (§4.1): A0 { [80 matchingId] A1 deviceInfo { 80 tac A1 caps [82 imei] } } */
	ctx1 = der_begin(&req, 0xA0);
	if (matching_id)
		der_put_tlv(&req, 0x80, matching_id, strlen(matching_id));
	dev = der_begin(&req, 0xA1);
	der_put_tlv(&req, 0x80, imei ? imei_bcd : default_tac, 4);
	der_put_tlv(&req, 0xA1, NULL, 0);       /* deviceCapabilities: none claimed */
	if (imei)
		der_put_tlv(&req, 0x82, imei_bcd, 8);
	der_end(&req, dev);
	der_end(&req, ctx1);
	der_end(&req, mark);

	if (command(ctx, &req, resp, TAG_AUTH_SERVER, &top, err) < 0)
		goto out;
	ret = auth_response(ctx, &top, want, sizeof(want) / sizeof(want[0]),
			    ES10_CODE_AUTH_SERVER, "AuthenticateServer",
			    "authenticate the SM-DP+", err);
out:
	buf_wipe_release(&req);         /* it holds the matching ID */
	return ret;
}

int es10_smdp_signed2_info(const uint8_t *tlv, size_t len, uint8_t txid[ES10_TXID_MAX],
			   size_t *txid_len, int *cc_required, struct esim_err *err)
{
	struct der_node top, n;

	if (der_parse(tlv, len, &top) < 0 || top.tag != 0x30 || check_children(&top) < 0)
		return smdp_malformed(err, "smdpSigned2");
	if (der_find(&top, 0x80, &n) != 1 || n.len < 1 || n.len > ES10_TXID_MAX)
		return smdp_malformed(err, "smdpSigned2 (transactionId)");
	memcpy(txid, n.value, n.len);
	*txid_len = n.len;
	if (der_find(&top, 0x01, &n) != 1 || n.len != 1)
		return smdp_malformed(err, "smdpSigned2 (ccRequiredFlag)");
	*cc_required = n.value[0] != 0;
	return 0;
}

int es10_prepare_download(struct es10_ctx *ctx, const struct buf *smdp_signed2,
			  const struct buf *smdp_signature2, const struct buf *smdp_certificate,
			  const uint8_t *hash_cc, struct buf *resp, struct esim_err *err)
{
	static const uint32_t want[] = { 0x30, TAG_SIGNATURE };
	struct buf req = BUF_INIT;
	struct der_node top;
	uint8_t txid[ES10_TXID_MAX];
	size_t txid_len, mark;
	int cc_required, ret = -1;

	buf_reset(resp);
	if (smdp_tlv(smdp_signed2, 0x30, "smdpSigned2", err) < 0 ||
	    smdp_tlv(smdp_signature2, TAG_SIGNATURE, "smdpSignature2", err) < 0 ||
	    smdp_tlv(smdp_certificate, 0x30, "smdpCertificate", err) < 0 ||
	    es10_smdp_signed2_info((const uint8_t *)smdp_signed2->buf, smdp_signed2->len, txid,
				   &txid_len, &cc_required, err) < 0)
		return -1;
	if (cc_required && !hash_cc) {
		esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code");
		return esim_hint(err, "ask the operator for the code and pass it with the "
				 "activation code");
	}

	mark = der_begin(&req, TAG_PREPARE_DOWNLOAD);
	buf_add(&req, smdp_signed2->buf, smdp_signed2->len);
	buf_add(&req, smdp_signature2->buf, smdp_signature2->len);
	/* hashCc only when asked for (SGP.22 puts it in euiccSigned2 only then). */
	if (cc_required)
		der_put_tlv(&req, 0x04, hash_cc, 32);
	buf_add(&req, smdp_certificate->buf, smdp_certificate->len);
	der_end(&req, mark);

	if (command(ctx, &req, resp, TAG_PREPARE_DOWNLOAD, &top, err) < 0)
		goto out;
	ret = auth_response(ctx, &top, want, sizeof(want) / sizeof(want[0]),
			    ES10_CODE_PREPARE_DOWNLOAD, "PrepareDownload",
			    "prepare the download", err);
out:
	buf_wipe_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* LoadBoundProfilePackage (§5.5) and ProfileInstallationResult (§5.7).               */

struct segment {
	const uint8_t *p;
	size_t len;
};

struct segments {
	struct segment *v;
	size_t n, alloc;
};

static void seg_add(struct segments *s, const uint8_t *p, size_t len)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 16;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n].p = p;
	s->v[s->n].len = len;
	s->n++;
}

/*
 * A0 / A2: header with the first 87, then each further 87.  A1 / A3 (with_first 0):
 * header alone, then each child.  Every child must have tag child_tag; at least one.
 */
static int seg_list(struct segments *s, const struct der_node *list, uint32_t child_tag,
		    int with_first)
{
	struct der_iter it;
	struct der_node n;
	size_t hdr = (size_t)(list->value - list->tlv);
	int r, first = 1;

	der_iter_init(&it, list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (n.tag != child_tag)
			return -1;
		if (first && with_first) {
			seg_add(s, list->tlv, hdr + n.tlv_len);
		} else {
			if (first)
				seg_add(s, list->tlv, hdr);
			seg_add(s, n.tlv, n.tlv_len);
		}
		first = 0;
	}
	return r < 0 || first ? -1 : 0;
}

/* Check the whole BPP and cut it into segments; *why says what is wrong. */
static int bpp_segments(const uint8_t *bpp, size_t len, struct segments *s, const char **why)
{
	struct der_node top, n;
	struct der_iter it;
	int r;

	*why = "not a single BF36 TLV";
	if (!bpp || parse_top(bpp, len, TAG_BPP, &top) < 0)
		return -1;
	der_iter_init(&it, &top);
	*why = "no BF23 initialiseSecureChannelRequest first";
	if (der_iter_next(&it, &n) != 1 || n.tag != TAG_INIT_SECURE_CHANNEL || !n.constructed)
		return -1;
	/* BF36 header and BF23 are adjacent: one slice. */
	seg_add(s, bpp, (size_t)(n.tlv - bpp) + n.tlv_len);

	*why = "bad A0 firstSequenceOf87";
	if (der_iter_next(&it, &n) != 1 || n.tag != 0xA0 || seg_list(s, &n, 0x87, 1) < 0)
		return -1;
	*why = "bad A1 sequenceOf88";
	if (der_iter_next(&it, &n) != 1 || n.tag != 0xA1 || seg_list(s, &n, 0x88, 0) < 0)
		return -1;
	*why = "no A3 sequenceOf86";
	if ((r = der_iter_next(&it, &n)) != 1)
		return -1;
	*why = "bad A2 secondSequenceOf87";
	if (n.tag == 0xA2) {
		if (seg_list(s, &n, 0x87, 1) < 0)
			return -1;
		if (der_iter_next(&it, &n) != 1)
			n.tag = 0;
	}
	*why = "bad A3 sequenceOf86";
	if (n.tag != 0xA3 || seg_list(s, &n, 0x86, 0) < 0)
		return -1;
	*why = "data after A3";
	if (der_iter_next(&it, &n) != 0)
		return -1;
	return 0;
}

/* NotificationMetadata BF2F (§6). */
static int parse_metadata(const struct der_node *md, struct es10_notification *out)
{
	struct der_node n;
	int r;

	memset(out, 0, sizeof(*out));
	if (md->tag != TAG_NOTIFICATION_METADATA || check_children(md) < 0)
		return -1;
	if (der_find(md, 0x80, &n) != 1 || der_get_uint(&n, &out->seq) < 0)
		return -1;
	if (der_find(md, 0x81, &n) != 1 || get_bits(&n, &out->event) < 0)
		return -1;
	if (der_find(md, 0x0C, &n) != 1 || get_address(&n, out->address) < 0)
		return -1;
	r = der_find(md, 0x5A, &n);
	if (r == 1 && get_iccid(&n, out->iccid) < 0)
		return -1;
	return 0;
}

static int parse_install_result(const uint8_t *p, size_t len, struct es10_install_result *res,
				const char **why)
{
	struct der_node top, data, n, fin, alt;
	struct es10_notification md;
	int r;

	memset(res, 0, sizeof(*res));
	res->bpp_command_id = res->error_reason = -1;
	*why = "not a BF37 TLV";
	if (parse_top(p, len, TAG_PIR, &top) < 0 || check_children(&top) < 0)
		return -1;
	*why = "no BF27 and 5F37";
	if (der_find(&top, TAG_PIR_DATA, &data) != 1 || der_find(&top, TAG_SIGNATURE, &n) != 1 ||
	    check_children(&data) < 0)
		return -1;
	*why = "bad transactionId";
	if (der_find(&data, 0x80, &n) != 1 || n.len < 1 || n.len > ES10_TXID_MAX)
		return -1;
	memcpy(res->txid, n.value, n.len);
	res->txid_len = n.len;
	*why = "bad notificationMetadata";
	if (der_find(&data, TAG_NOTIFICATION_METADATA, &n) != 1 || parse_metadata(&n, &md) < 0)
		return -1;
	res->seq = md.seq;
	memcpy(res->address, md.address, sizeof(res->address));
	memcpy(res->iccid, md.iccid, sizeof(res->iccid));
	*why = "bad finalResult";
	if (der_find(&data, 0xA2, &fin) != 1 || only_child(&fin, &alt) < 0)
		return -1;
	if (alt.tag == 0xA0) {
		if (check_children(&alt) < 0 || der_find(&alt, 0x4F, &n) != 1 ||
		    n.len < 1 || n.len > sizeof(res->aid))
			return -1;
		memcpy(res->aid, n.value, n.len);
		res->aid_len = n.len;
		res->ok = 1;
		return 0;
	}
	if (alt.tag != 0xA1 || check_children(&alt) < 0)
		return -1;
	if (der_find(&alt, 0x80, &n) != 1 || get_int(&n, &res->bpp_command_id) < 0)
		return -1;
	r = der_find(&alt, 0x81, &n);
	if (r != 1 || get_int(&n, &res->error_reason) < 0)
		return -1;
	res->ok = 0;
	return 0;
}

int es10_parse_install_result(const uint8_t *tlv, size_t len, struct es10_install_result *res,
			      struct esim_err *err)
{
	struct es10_install_result tmp;
	const char *why;

	if (parse_install_result(tlv, len, res ? res : &tmp, &why) < 0)
		return malformed(err, "LoadBoundProfilePackage", why);
	return 0;
}

int es10_load_bpp(struct es10_ctx *ctx, const uint8_t *bpp, size_t len,
		  void (*progress)(void *arg, size_t done, size_t total), void *arg,
		  struct buf *pir, struct es10_install_result *res, struct esim_err *err)
{
	struct segments segs = { NULL, 0, 0 };
	struct es10_install_result tmp;
	struct buf resp = BUF_INIT;
	struct der_node top;
	const char *why;
	size_t i;
	int ret = -1;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	res->bpp_command_id = res->error_reason = -1;
	buf_reset(pir);
	if (check_open(ctx, err) < 0)
		return -1;
	ctx->last_result = -1;
	if (bpp_segments(bpp, len, &segs, &why) < 0) {
		esim_fail(err, ESIM_E_SMDP, "the SM-DP+ sent a malformed bound profile package "
			  "(%s)", why);
		goto out;
	}
	for (i = 0; i < segs.n; i++) {
		if (store_data(ctx, segs.v[i].p, segs.v[i].len, &resp, err) < 0)
			goto out;
		if (progress)
			progress(arg, (size_t)(segs.v[i].p - bpp) + segs.v[i].len, len);
		if (resp.len)
			break;          /* a result, early (error) or after the last 86 */
	}
	if (resp.len == 0) {
		esim_fail(err, ESIM_E_EUICC, "the eUICC returned no ProfileInstallationResult");
		goto out;
	}
	if (resp_top(&resp, TAG_PIR, &top) < 0) {
		malformed(err, "LoadBoundProfilePackage", "not a BF37 TLV");
		goto out;
	}
	/* The eUICC produced a result: whatever we make of it, it is the notification. */
	buf_add(pir, resp.buf, resp.len);
	if (parse_install_result((const uint8_t *)resp.buf, resp.len, res, &why) < 0) {
		malformed(err, "LoadBoundProfilePackage", why);
		goto out;
	}
	if (!res->ok) {
		ctx->last_result = res->error_reason;
		esim_fail(err, ESIM_E_EUICC, "profile installation failed while %s: %s (%s %d)",
			  es10_code_message(ES10_CODE_BPP_COMMAND, res->bpp_command_id),
			  es10_code_message(ES10_CODE_INSTALL_ERROR, res->error_reason),
			  es10_code_name(ES10_CODE_INSTALL_ERROR, res->error_reason),
			  res->error_reason);
		if (err)
			snprintf(err->detail, sizeof(err->detail), "bppCommandId %d, errorReason %d",
				 res->bpp_command_id, res->error_reason);
		goto out;
	}
	ret = 0;
out:
	free(segs.v);
	buf_release(&resp);
	return ret;
}

int es10_cancel_session(struct es10_ctx *ctx, const uint8_t *txid, size_t txid_len,
			enum es10_cancel_reason reason, struct buf *resp, struct esim_err *err)
{
	struct buf req = BUF_INIT;
	struct der_node top, alt, n;
	size_t mark;
	int ret = -1, code;

	buf_reset(resp);
	if (!txid || txid_len < 1 || txid_len > ES10_TXID_MAX)
		return esim_fail(err, ESIM_E_USAGE, "transaction id: must be 1 to %d bytes",
				 ES10_TXID_MAX);
	if ((int)reason < 0 || (int)reason > 127)
		return esim_fail(err, ESIM_E_USAGE, "cancel reason %d: must be 0 to 127",
				 (int)reason);
	mark = der_begin(&req, TAG_CANCEL_SESSION);
	der_put_tlv(&req, 0x80, txid, txid_len);
	der_put_uint(&req, 0x81, (uint64_t)reason);
	der_end(&req, mark);
	if (command(ctx, &req, resp, TAG_CANCEL_SESSION, &top, err) < 0)
		goto out;
	if (only_child(&top, &alt) < 0) {
		malformed(err, "CancelSession", "not one CHOICE alternative");
		goto out;
	}
	if (alt.tag == 0xA0) {
		if (check_children(&alt) < 0 || der_find(&alt, 0x30, &n) != 1 ||
		    der_find(&alt, TAG_SIGNATURE, &n) != 1) {
			malformed(err, "CancelSession", "incomplete signed response");
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (alt.tag != 0x81 || get_int(&alt, &code) < 0) {
		malformed(err, "CancelSession", "unknown CHOICE alternative");
		goto out;
	}
	ctx->last_result = code;
	code_fail(err, ESIM_E_EUICC, ES10_CODE_CANCEL_ERROR, "CancelSession",
		  "cancel the download session", code);
out:
	if (ret < 0)
		buf_reset(resp);
	buf_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* Notifications (§6).                                                                 */

/*
 * A list response BFxx { A0 { items } | 81 error }: *list is the A0 node, or *code the
 * error (list untouched).  -1 when it is neither.
 */
static int list_or_error(const struct der_node *top, struct der_node *list, int *code)
{
	struct der_node alt;

	*code = -1;
	if (only_child(top, &alt) < 0)
		return -1;
	if (alt.tag == 0xA0) {
		*list = alt;
		return 0;
	}
	if (alt.tag == 0x81 && get_int(&alt, code) == 0)
		return 0;
	return -1;
}

static int parse_notifications(const uint8_t *p, size_t len, struct es10_notification **out,
			       size_t *count, int *code, const char **why)
{
	struct es10_notification *v = NULL;
	struct der_node top, list, n;
	struct der_iter it;
	size_t alloc = 0, k = 0;
	int r;

	*out = NULL;
	*count = 0;
	*why = "not a BF28 list";
	if (parse_top(p, len, TAG_LIST_NOTIFICATION, &top) < 0 ||
	    list_or_error(&top, &list, code) < 0)
		return -1;
	if (*code >= 0)
		return 0;
	*why = "bad NotificationMetadata";
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (k == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		if (parse_metadata(&n, &v[k]) < 0)
			goto fail;
		k++;
	}
	if (r < 0)
		goto fail;
	*out = v;
	*count = k;
	return 0;
fail:
	free(v);
	return -1;
}

int es10_parse_notifications(const uint8_t *tlv, size_t len, struct es10_notification **out,
			     size_t *n, struct esim_err *err)
{
	const char *why;
	int code;

	if (parse_notifications(tlv, len, out, n, &code, &why) < 0)
		return malformed(err, "ListNotification", why);
	if (code >= 0)
		return code_fail(err, ESIM_E_EUICC, ES10_CODE_LIST_NOTIFICATION,
				 "ListNotification", "list notifications", code);
	return 0;
}

int es10_list_notifications(struct es10_ctx *ctx, unsigned events, struct es10_notification **out,
			    size_t *n, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	const char *why;
	size_t mark;
	int ret = -1, code;

	*out = NULL;
	*n = 0;
	if (events & ~ES10_EVENT_ALL)
		return esim_fail(err, ESIM_E_USAGE, "notification filter: unknown event bits");
	mark = der_begin(&req, TAG_LIST_NOTIFICATION);
	if (events)
		put_bits(&req, 0x81, events);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_LIST_NOTIFICATION, &top, err) < 0)
		goto out;
	if (parse_notifications((const uint8_t *)resp.buf, resp.len, out, n, &code, &why) < 0) {
		malformed(err, "ListNotification", why);
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		code_fail(err, ESIM_E_EUICC, ES10_CODE_LIST_NOTIFICATION, "ListNotification",
			  "list notifications", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

/* seqNumber of a PendingNotification: BF37 { BF27 { BF2F } } or 30 { BF2F }. */
static int pending_seq(const struct der_node *item, uint64_t *seq)
{
	struct der_node n = *item, md, s;

	if (item->tag == TAG_PIR) {
		if (der_find(item, TAG_PIR_DATA, &n) != 1)
			return -1;
	} else if (item->tag != 0x30) {
		return -1;
	}
	if (der_find(&n, TAG_NOTIFICATION_METADATA, &md) != 1 || der_find(&md, 0x80, &s) != 1 ||
	    der_get_uint(&s, seq) < 0)
		return -1;
	return 0;
}

int es10_retrieve_notification(struct es10_ctx *ctx, uint64_t seq, struct buf *tlv_out,
			       struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top, list, n;
	struct der_iter it;
	size_t mark, inner, items = 0;
	uint64_t s;
	int ret = -1, code, r, found = 0;

	buf_reset(tlv_out);
	mark = der_begin(&req, TAG_RETRIEVE_NOTIFICATIONS);
	inner = der_begin(&req, 0xA0);
	der_put_uint(&req, 0x80, seq);
	der_end(&req, inner);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_RETRIEVE_NOTIFICATIONS, &top, err) < 0)
		goto out;
	if (list_or_error(&top, &list, &code) < 0) {
		malformed(err, "RetrieveNotificationsList", "not a list");
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC,
			  ES10_CODE_RETRIEVE_NOTIFICATION, "RetrieveNotificationsList",
			  "retrieve the notification", code);
		goto out;
	}
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		items++;
		if (pending_seq(&n, &s) < 0) {
			malformed(err, "RetrieveNotificationsList", "bad PendingNotification");
			goto out;
		}
		if (s == seq && !found) {
			buf_add(tlv_out, n.tlv, n.tlv_len);     /* exact bytes, never re-encoded */
			found = 1;
		}
	}
	if (r < 0) {
		malformed(err, "RetrieveNotificationsList", "bad contents");
		goto out;
	}
	if (!found) {
		if (items)
			malformed(err, "RetrieveNotificationsList", "other notifications returned");
		else
			esim_fail(err, ESIM_E_NOTFOUND, "no notification with sequence number %"
				  PRIu64 " on the eUICC", seq);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		buf_reset(tlv_out);
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_remove_notification(struct es10_ctx *ctx, uint64_t seq, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	char subject[64];
	size_t mark;
	int ret = -1, code;

	mark = der_begin(&req, TAG_REMOVE_NOTIFICATION);
	der_put_uint(&req, 0x80, seq);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_REMOVE_NOTIFICATION, &top, err) < 0 ||
	    get_result(ctx, &resp, TAG_REMOVE_NOTIFICATION, "RemoveNotificationFromList", &code,
		       err) < 0)
		goto out;
	if (code != 0) {
		snprintf(subject, sizeof(subject), "remove notification %" PRIu64, seq);
		code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC,
			  ES10_CODE_REMOVE_NOTIFICATION, "RemoveNotificationFromList", subject,
			  code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* Profiles.                                                                           */

static void profile_clear(struct es10_profile *p)
{
	size_t i;

	free(p->nickname);
	free(p->spn);
	free(p->name);
	for (i = 0; i < p->notif_count; i++)
		free(p->notif[i].address);
	free(p->notif);
	memset(p, 0, sizeof(*p));
}

void es10_profiles_free(struct es10_profile *p, size_t n)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < n; i++)
		profile_clear(&p[i]);
	free(p);
}

static void set_text(char **dst, const struct der_node *n)
{
	free(*dst);
	*dst = dup_text(n);
}

/* notificationConfigurationInfo B6 { 30 { 80 events, 81 address } * } */
static int parse_notif_config(const struct der_node *b6, struct es10_profile *p)
{
	struct der_iter it;
	struct der_node n, ev, addr;
	char address[ES10_ADDRESS_MAX + 1];
	size_t alloc = 0, i;
	int r;

	for (i = 0; i < p->notif_count; i++)    /* a repeated B6 replaces the first */
		free(p->notif[i].address);
	free(p->notif);
	p->notif = NULL;
	p->notif_count = 0;
	der_iter_init(&it, b6);
	while ((r = der_iter_next(&it, &n)) == 1) {
		unsigned events;

		if (n.tag != 0x30 || der_find(&n, 0x80, &ev) != 1 || get_bits(&ev, &events) < 0 ||
		    der_find(&n, 0x81, &addr) != 1 || get_address(&addr, address) < 0)
			return -1;
		if (p->notif_count == alloc) {
			alloc = alloc ? 2 * alloc : 4;
			p->notif = xrealloc(p->notif, alloc * sizeof(*p->notif));
		}
		p->notif[p->notif_count].events = events;
		p->notif[p->notif_count].address = xstrdup(address);
		p->notif_count++;
	}
	return r;
}

/* mccMnc, 3 bytes as in TS 24.008: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1.  Cosmetic only. */
static void decode_mccmnc(const struct der_node *n, char out[7])
{
	unsigned d[6];
	size_t k = 0, i;

	out[0] = '\0';
	if (n->len != 3)
		return;
	d[0] = n->value[0] & 0xF;
	d[1] = n->value[0] >> 4;
	d[2] = n->value[1] & 0xF;
	d[3] = n->value[2] & 0xF;
	d[4] = n->value[2] >> 4;
	d[5] = n->value[1] >> 4;
	for (i = 0; i < 6; i++) {
		if (i == 5 && d[i] == 0xF)
			break;          /* two-digit MNC */
		if (d[i] > 9) {
			out[0] = '\0';
			return;
		}
		out[k++] = (char)('0' + d[i]);
	}
	out[k] = '\0';
}

static int parse_profile(const struct der_node *e3, struct es10_profile *p)
{
	struct der_iter it;
	struct der_node n, owner;
	int r, v;

	memset(p, 0, sizeof(*p));
	p->state = ES10_STATE_UNKNOWN;
	p->profile_class = ES10_CLASS_OPERATIONAL;
	p->icon_type = ES10_ICON_NONE;
	if (e3->tag != TAG_PROFILE_INFO)
		return -1;
	der_iter_init(&it, e3);
	while ((r = der_iter_next(&it, &n)) == 1) {
		switch (n.tag) {
		case 0x5A:
			if (get_iccid(&n, p->iccid) < 0)
				return -1;
			break;
		case 0x4F: {
			struct buf hex = BUF_INIT;

			if (n.len < 1 || n.len > 16)
				return -1;
			hex_encode(n.value, n.len, &hex);
			memcpy(p->aid, hex.buf, hex.len + 1);
			buf_release(&hex);
			break;
		}
		case TAG_PROFILE_STATE:
			if (get_int(&n, &v) < 0)
				return -1;
			p->state = v == 0 || v == 1 ? v : ES10_STATE_UNKNOWN;
			break;
		case 0x90:
			set_text(&p->nickname, &n);
			break;
		case 0x91:
			set_text(&p->spn, &n);
			break;
		case 0x92:
			set_text(&p->name, &n);
			break;
		case 0x93:
			if (get_int(&n, &v) < 0)
				return -1;
			p->icon_type = v == 0 || v == 1 ? v : ES10_ICON_NONE;
			break;
		case 0x95:
			if (get_int(&n, &v) < 0)
				return -1;
			p->profile_class = v <= 2 ? v : ES10_CLASS_UNKNOWN;
			break;
		case 0xB6:
			if (parse_notif_config(&n, p) < 0)
				return -1;
			break;
		case 0xB7:
			r = der_find(&n, 0x80, &owner);
			if (r < 0)
				return -1;
			if (r == 1)
				decode_mccmnc(&owner, p->owner_mccmnc);
			break;
		case 0x99:
			if (get_bits(&n, &p->pprs) < 0)
				return -1;
			break;
		default:
			break;          /* icon, dpProprietaryData, access rules... */
		}
	}
	return r;
}

static int parse_profiles(const uint8_t *tlv, size_t len, struct es10_profile **out, size_t *count,
			  int *code, const char **why)
{
	struct es10_profile *v = NULL;
	struct der_node top, list, n;
	struct der_iter it;
	size_t alloc = 0, k = 0;
	int r;

	*out = NULL;
	*count = 0;
	*why = "not a BF2D list";
	if (parse_top(tlv, len, TAG_PROFILES_INFO, &top) < 0 ||
	    list_or_error(&top, &list, code) < 0)
		return -1;
	if (*code >= 0)
		return 0;
	*why = "bad ProfileInfo";
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (k == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		k++;
		if (parse_profile(&n, &v[k - 1]) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	*out = v;
	*count = k;
	return 0;
fail:
	es10_profiles_free(v, k);
	return -1;
}

int es10_parse_profiles(const uint8_t *tlv, size_t len, struct es10_profile **out, size_t *n,
			struct esim_err *err)
{
	const char *why;
	int code;

	if (parse_profiles(tlv, len, out, n, &code, &why) < 0)
		return malformed(err, "GetProfilesInfo", why);
	if (code >= 0)
		return code_fail(err, ESIM_E_EUICC, ES10_CODE_PROFILES_INFO, "GetProfilesInfo",
				 "list profiles", code);
	return 0;
}

int es10_get_profiles_query(struct es10_ctx *ctx, const char *iccid, const uint8_t *tags,
			    size_t tags_len, struct es10_profile **out, size_t *n,
			    struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	uint8_t bcd[10];
	const char *why;
	size_t mark, crit;
	int ret = -1, code;

	*out = NULL;
	*n = 0;
	if (iccid && iccid_arg(iccid, bcd, err) < 0)
		return -1;
	mark = der_begin(&req, TAG_PROFILES_INFO);
	if (iccid) {
		crit = der_begin(&req, 0xA0);
		der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
		der_end(&req, crit);
	}
	if (tags)
		der_put_tlv(&req, 0x5C, tags, tags_len);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_PROFILES_INFO, &top, err) < 0)
		goto out;
	if (parse_profiles((const uint8_t *)resp.buf, resp.len, out, n, &code, &why) < 0) {
		malformed(err, "GetProfilesInfo", why);
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		code_fail(err, ESIM_E_EUICC, ES10_CODE_PROFILES_INFO, "GetProfilesInfo",
			  "list profiles", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_get_profiles(struct es10_ctx *ctx, struct es10_profile **out, size_t *n,
		      struct esim_err *err)
{
	return es10_get_profiles_query(ctx, NULL, es10_profile_tags, sizeof(es10_profile_tags),
				       out, n, err);
}

/* Enable / Disable / Delete / SetNickname: send req, check BFxx { 80 result }. */
static int profile_op(struct es10_ctx *ctx, const struct buf *req, uint32_t tag,
		      enum es10_code_kind kind, const char *fn, const char *verb, const char *iccid,
		      struct esim_err *err)
{
	struct buf resp = BUF_INIT;
	struct der_node top;
	char subject[64];
	int ret = -1, code;

	if (command(ctx, req, &resp, tag, &top, err) < 0 ||
	    get_result(ctx, &resp, tag, fn, &code, err) < 0)
		goto out;
	if (code != 0) {
		snprintf(subject, sizeof(subject), "%s profile %s", verb, iccid);
		code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC, kind, fn, subject, code);
		if (kind == ES10_CODE_DELETE && code == 2)
			esim_hint(err, "disable the profile first");
		else if (code == 5)
			esim_hint(err, "try again in a moment");
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	return ret;
}

static int enable_disable(struct es10_ctx *ctx, uint32_t tag, const char *iccid, int refresh,
			  struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10], flag = refresh ? 0xFF : 0x00;
	size_t mark, id;
	int ret;

	if (iccid_arg(iccid, bcd, err) < 0)
		return -1;
	/* profileIdentifier is an untagged CHOICE, hence A0 { 5A ... } (§3.3). */
	mark = der_begin(&req, tag);
	id = der_begin(&req, 0xA0);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_end(&req, id);
	der_put_tlv(&req, 0x81, &flag, 1);
	der_end(&req, mark);
	if (tag == TAG_ENABLE)
		ret = profile_op(ctx, &req, tag, ES10_CODE_ENABLE, "EnableProfile", "enable",
				 iccid, err);
	else
		ret = profile_op(ctx, &req, tag, ES10_CODE_DISABLE, "DisableProfile", "disable",
				 iccid, err);
	buf_release(&req);
	return ret;
}

int es10_enable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err)
{
	return enable_disable(ctx, TAG_ENABLE, iccid, refresh, err);
}

int es10_disable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err)
{
	return enable_disable(ctx, TAG_DISABLE, iccid, refresh, err);
}

int es10_delete(struct es10_ctx *ctx, const char *iccid, struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10];
	size_t mark;
	int ret;

	if (iccid_arg(iccid, bcd, err) < 0)
		return -1;
	/* DeleteProfileRequest is the bare CHOICE: no A0, no refresh flag (§3.4). */
	mark = der_begin(&req, TAG_DELETE);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_end(&req, mark);
	ret = profile_op(ctx, &req, TAG_DELETE, ES10_CODE_DELETE, "DeleteProfile", "delete",
			 iccid, err);
	buf_release(&req);
	return ret;
}

int es10_set_nickname(struct es10_ctx *ctx, const char *iccid, const char *nickname,
		      struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10];
	size_t mark, len;
	int ret;

	if (iccid_arg(iccid, bcd, err) < 0)
		return -1;
	len = nickname ? strlen(nickname) : 0;
	if (!nickname || len > ES10_NICKNAME_MAX)
		return esim_fail(err, ESIM_E_USAGE, "nickname: must be at most %d bytes",
				 ES10_NICKNAME_MAX);
	mark = der_begin(&req, TAG_SET_NICKNAME);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_put_tlv(&req, 0x90, nickname, len);
	der_end(&req, mark);
	ret = profile_op(ctx, &req, TAG_SET_NICKNAME, ES10_CODE_SET_NICKNAME, "SetNickname",
			 "set the nickname of", iccid, err);
	buf_release(&req);
	return ret;
}

int es10_memory_reset(struct es10_ctx *ctx, unsigned options, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	size_t mark;
	int ret = -1, code;

	if (options == 0 || (options & ~ES10_RESET_ALL))
		return esim_fail(err, ESIM_E_USAGE, "memory reset: no or unknown options");
	mark = der_begin(&req, TAG_MEMORY_RESET);
	put_bits(&req, 0x82, options);
	der_end(&req, mark);
	if (command(ctx, &req, &resp, TAG_MEMORY_RESET, &top, err) < 0 ||
	    get_result(ctx, &resp, TAG_MEMORY_RESET, "eUICCMemoryReset", &code, err) < 0)
		goto out;
	if (code != 0) {
		code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC, ES10_CODE_MEMORY_RESET,
			  "eUICCMemoryReset", "reset the eUICC memory", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_get_rat(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err)
{
	struct der_node top;

	if (simple_get(ctx, TAG_RAT, tlv, &top, err) < 0)
		goto fail;
	if (check_children(&top) < 0) {
		malformed(err, "GetRAT", "bad contents");
		goto fail;
	}
	return 0;
fail:
	buf_reset(tlv);
	return -1;
}
