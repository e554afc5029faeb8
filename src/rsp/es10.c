/*
 * es10.c - ES10a/b/c request building, APDU framing and strict response parsing.
 *
 * Layers, bottom up:
 *   apdu_exchange()   one command through the transport; 61xx GET RESPONSE, 6Cxx resend
 *   es10_store_data()      one ES10 request as a STORE DATA chain (GlobalPlatform, SGP.22 §5.7)
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
#include "rsp/es10_internal.h"

const uint8_t es10_isdr_aid[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
};

const uint8_t es10_profile_tags[12] = {
	0x5A, 0x4F, 0x9F, 0x70, 0x90, 0x91, 0x92, 0x93, 0x95, 0xB6, 0xB7, 0x99,
};

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
	/* Later BPP segments (SGP.22 §5.7.6) start with these. */
	{ 0xA0, "LoadBoundProfilePackage" },
	{ 0xA1, "LoadBoundProfilePackage" },
	{ 0xA2, "LoadBoundProfilePackage" },
	{ 0xA3, "LoadBoundProfilePackage" },
	{ 0x86, "LoadBoundProfilePackage" },
	{ 0x87, "LoadBoundProfilePackage" },
	{ 0x88, "LoadBoundProfilePackage" },
};

const char *es10_fn_name(const uint8_t *req, size_t len)
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

int es10_malformed(struct esim_err *err, const char *fn, const char *what)
{
	return esim_fail(err, ESIM_E_EUICC, "malformed response to %s (%s)", fn, what);
}

int es10_smdp_malformed(struct esim_err *err, const char *what)
{
	return esim_fail(err, ESIM_E_SMDP, "the SM-DP+ sent a malformed %s", what);
}

int es10_sw_fail(struct esim_err *err, const char *what, unsigned sw)
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
int es10_code_fail(struct esim_err *err, enum esim_status status, enum es10_code_kind kind,
		     const char *fn, const char *subject, int code)
{
	esim_fail(err, status, "cannot %s: %s (%s %d)", subject, es10_code_message(kind, code),
		  es10_code_name(kind, code), code);
	if (err)
		snprintf(err->detail, sizeof(err->detail), "%s result %d", fn, code);
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Parsing helpers.                                                                    */

/* The response must be exactly one constructed TLV with this tag. */
int es10_parse_top(const uint8_t *p, size_t len, uint32_t tag, struct der_node *top)
{
	if (der_parse(p, len, top) < 0 || top->tag != tag || !top->constructed)
		return -1;
	return 0;
}

int es10_resp_top(const struct buf *resp, uint32_t tag, struct der_node *top)
{
	return es10_parse_top((const uint8_t *)resp->buf, resp->len, tag, top);
}

/* Every direct child well-formed. */
int es10_check_children(const struct der_node *parent)
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
int es10_only_child(const struct der_node *parent, struct der_node *out)
{
	struct der_iter it;
	struct der_node extra;

	der_iter_init(&it, parent);
	if (der_iter_next(&it, out) != 1 || der_iter_next(&it, &extra) != 0)
		return -1;
	return 0;
}

/* Small non-negative INTEGER (result codes, enums): 0..INT_MAX. */
int es10_get_int(const struct der_node *n, int *out)
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
int es10_get_bits(const struct der_node *n, unsigned *bits)
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

/* DER BIT STRING: trailing zero bits dropped (X.690 §11.2.2: install 07 80, all four 04 F0). */
void es10_put_bits(struct buf *b, uint32_t tag, unsigned bits)
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
int es10_get_address(const struct der_node *n, char out[ES10_ADDRESS_MAX + 1])
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
char *es10_dup_text(const struct der_node *n)
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

int es10_get_iccid(const struct der_node *n, char out[21])
{
	if (n->len != 10 || iccid_from_bcd(n->value, out) < 0)
		return -1;
	return 0;
}

/* Caller's ICCID (18..20 digits) -> 10 bytes of swapped BCD, F-padded (ETSI TS 102 221 §13.2). */
int es10_iccid_arg(const char *iccid, uint8_t bcd[10], struct esim_err *err)
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
int es10_smdp_tlv(const struct buf *b, uint32_t tag, const char *what, struct esim_err *err)
{
	struct der_node n;

	if (!b || der_parse((const uint8_t *)b->buf, b->len, &n) < 0 || n.tag != tag)
		return es10_smdp_malformed(err, what);
	return 0;
}

/* A response that is BFxx { 80 result }: the result code, also in ctx->last_result. */
int es10_get_result(struct es10_ctx *ctx, const struct buf *resp, uint32_t tag, const char *fn,
		      int *code, struct esim_err *err)
{
	struct der_node top, n;

	if (es10_resp_top(resp, tag, &top) < 0 || der_find(&top, 0x80, &n) != 1 || es10_get_int(&n, code) < 0)
		return es10_malformed(err, fn, "no result code");
	ctx->last_result = *code;
	return 0;
}

/* Send req and check that the answer is a tag TLV; resp holds it. */
int es10_command(struct es10_ctx *ctx, const struct buf *req, struct buf *resp, uint32_t tag,
		   struct der_node *top, struct esim_err *err)
{
	if (ctx)
		ctx->last_result = -1;
	if (es10_store_data(ctx, (const uint8_t *)req->buf, req->len, resp, err) < 0)
		return -1;
	if (es10_resp_top(resp, tag, top) < 0)
		return es10_malformed(err, es10_fn_name((const uint8_t *)req->buf, req->len),
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
	if (es10_command(ctx, &req, &resp, TAG_EID, &top, err) < 0)
		goto out;
	if (der_find(&top, 0x5A, &n) != 1 || n.len != 16) {
		es10_malformed(err, "GetEID", "no 16-byte EID");
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

int es10_simple_get(struct es10_ctx *ctx, uint32_t tag, struct buf *resp, struct der_node *top,
		      struct esim_err *err)
{
	struct buf req = BUF_INIT;
	int ret;

	der_put_tlv(&req, tag, NULL, 0);
	ret = es10_command(ctx, &req, resp, tag, top, err);
	buf_release(&req);
	return ret;
}

int es10_get_euicc_info1(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err)
{
	struct der_node top;

	if (es10_simple_get(ctx, TAG_EUICC_INFO1, tlv, &top, err) < 0)
		goto fail;
	if (es10_check_children(&top) < 0) {
		es10_malformed(err, "GetEUICCInfo1", "bad contents");
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
	if (es10_parse_top(p, len, TAG_EUICC_INFO2, &top) < 0)
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
			bad = es10_get_bits(&n, &info->rsp_capability);
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
			s = es10_dup_text(&n);
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
		return es10_malformed(err, "GetEUICCInfo2", why);
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
	if (es10_simple_get(ctx, TAG_EUICC_INFO2, &resp, &top, err) < 0)
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

	if (es10_simple_get(ctx, TAG_CHALLENGE, &resp, &top, err) < 0)
		goto out;
	if (der_find(&top, 0x80, &n) != 1 || n.len != 16) {
		es10_malformed(err, "GetEUICCChallenge", "no 16-byte challenge");
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
	if (es10_simple_get(ctx, TAG_CONFIGURED_ADDRESSES, &resp, &top, err) < 0)
		goto out;
	r = der_find(&top, 0x80, &n);
	if (r < 0 || (r == 1 && es10_get_address(&n, out->default_dp) < 0)) {
		es10_malformed(err, "GetEuiccConfiguredAddresses", "bad defaultDpAddress");
		goto out;
	}
	if (der_find(&top, 0x81, &n) != 1 || es10_get_address(&n, out->root_ds) < 0) {
		es10_malformed(err, "GetEuiccConfiguredAddresses", "no valid rootDsAddress");
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
	if (es10_command(ctx, &req, &resp, TAG_SET_DEFAULT_DP, &top, err) < 0 ||
	    es10_get_result(ctx, &resp, TAG_SET_DEFAULT_DP, "SetDefaultDpAddress", &code, err) < 0)
		goto out;
	if (code != 0) {
		es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_SET_DEFAULT_DP, "SetDefaultDpAddress",
			  "set the default SM-DP+ address", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

