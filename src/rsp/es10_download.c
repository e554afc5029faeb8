/*
 * es10_download.c - ES10b for the download: AuthenticateServer, PrepareDownload,
 * LoadBoundProfilePackage, ProfileInstallationResult, CancelSession.
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

/* ------------------------------------------------------------------------------------ */
/* AuthenticateServer, PrepareDownload.                                                */

/*
 * BF38 / BF21 response: A0 { expected children... } is success; A1 { [80 txId] code } is
 * an error, code tagged 02 (by the ASN.1) or 81 (as euicc-go reads it), SGP.22 §5.7.13 / §5.7.5.
 */
static int auth_response(struct es10_ctx *ctx, const struct der_node *top, const uint32_t *want,
			 size_t nwant, enum es10_code_kind kind, const char *fn,
			 const char *subject, struct esim_err *err)
{
	struct der_node alt, n;
	struct der_iter it;
	size_t i;
	int code, r;

	if (es10_only_child(top, &alt) < 0)
		return es10_malformed(err, fn, "not one CHOICE alternative");
	if (alt.tag == 0xA0) {
		der_iter_init(&it, &alt);
		for (i = 0; i < nwant; i++)
			if (der_iter_next(&it, &n) != 1 || n.tag != want[i])
				return es10_malformed(err, fn, "incomplete result");
		while ((r = der_iter_next(&it, &n)) == 1)
			;
		if (r < 0)
			return es10_malformed(err, fn, "bad contents");
		return 0;
	}
	if (alt.tag != 0xA1)
		return es10_malformed(err, fn, "unknown CHOICE alternative");
	r = der_find(&alt, 0x80, &n);
	if (r < 0 || (r == 1 && (n.len < 1 || n.len > ES10_TXID_MAX)))
		return es10_malformed(err, fn, "bad transactionId");
	if (der_find(&alt, 0x02, &n) != 1 && der_find(&alt, 0x81, &n) != 1)
		return es10_malformed(err, fn, "error without a code");
	if (es10_get_int(&n, &code) < 0)
		return es10_malformed(err, fn, "bad error code");
	ctx->last_result = code;
	return es10_code_fail(err, ESIM_E_EUICC, kind, fn, subject, code);
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
	if (es10_smdp_tlv(server_signed1, 0x30, "serverSigned1", err) < 0 ||
	    es10_smdp_tlv(server_signature1, TAG_SIGNATURE, "serverSignature1", err) < 0 ||
	    es10_smdp_tlv(ci_pkid, 0x04, "euiccCiPKIdToBeUsed", err) < 0 ||
	    es10_smdp_tlv(server_certificate, 0x30, "serverCertificate", err) < 0)
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
	/* ctxParams1 (SGP.22 §5.7.13): A0 { [80 matchingId] A1 deviceInfo { 80 tac A1 caps [82 imei] } } */
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

	if (es10_command(ctx, &req, resp, TAG_AUTH_SERVER, &top, err) < 0)
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

	if (der_parse(tlv, len, &top) < 0 || top.tag != 0x30 || es10_check_children(&top) < 0)
		return es10_smdp_malformed(err, "smdpSigned2");
	if (der_find(&top, 0x80, &n) != 1 || n.len < 1 || n.len > ES10_TXID_MAX)
		return es10_smdp_malformed(err, "smdpSigned2 (transactionId)");
	memcpy(txid, n.value, n.len);
	*txid_len = n.len;
	if (der_find(&top, 0x01, &n) != 1 || n.len != 1)
		return es10_smdp_malformed(err, "smdpSigned2 (ccRequiredFlag)");
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
	if (es10_smdp_tlv(smdp_signed2, 0x30, "smdpSigned2", err) < 0 ||
	    es10_smdp_tlv(smdp_signature2, TAG_SIGNATURE, "smdpSignature2", err) < 0 ||
	    es10_smdp_tlv(smdp_certificate, 0x30, "smdpCertificate", err) < 0 ||
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

	if (es10_command(ctx, &req, resp, TAG_PREPARE_DOWNLOAD, &top, err) < 0)
		goto out;
	ret = auth_response(ctx, &top, want, sizeof(want) / sizeof(want[0]),
			    ES10_CODE_PREPARE_DOWNLOAD, "PrepareDownload",
			    "prepare the download", err);
out:
	buf_wipe_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* LoadBoundProfilePackage (SGP.22 §5.7.6) and ProfileInstallationResult (§2.5.6).    */

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
	if (!bpp || es10_parse_top(bpp, len, TAG_BPP, &top) < 0)
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

/* NotificationMetadata BF2F (SGP.22 §5.7.9). */
int es10_parse_metadata(const struct der_node *md, struct es10_notification *out)
{
	struct der_node n;
	int r;

	memset(out, 0, sizeof(*out));
	if (md->tag != TAG_NOTIFICATION_METADATA || es10_check_children(md) < 0)
		return -1;
	if (der_find(md, 0x80, &n) != 1 || der_get_uint(&n, &out->seq) < 0)
		return -1;
	if (der_find(md, 0x81, &n) != 1 || es10_get_bits(&n, &out->event) < 0)
		return -1;
	if (der_find(md, 0x0C, &n) != 1 || es10_get_address(&n, out->address) < 0)
		return -1;
	r = der_find(md, 0x5A, &n);
	if (r == 1 && es10_get_iccid(&n, out->iccid) < 0)
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
	if (es10_parse_top(p, len, TAG_PIR, &top) < 0 || es10_check_children(&top) < 0)
		return -1;
	*why = "no BF27 and 5F37";
	if (der_find(&top, TAG_PIR_DATA, &data) != 1 || der_find(&top, TAG_SIGNATURE, &n) != 1 ||
	    es10_check_children(&data) < 0)
		return -1;
	*why = "bad transactionId";
	if (der_find(&data, 0x80, &n) != 1 || n.len < 1 || n.len > ES10_TXID_MAX)
		return -1;
	memcpy(res->txid, n.value, n.len);
	res->txid_len = n.len;
	*why = "bad notificationMetadata";
	if (der_find(&data, TAG_NOTIFICATION_METADATA, &n) != 1 || es10_parse_metadata(&n, &md) < 0)
		return -1;
	res->seq = md.seq;
	memcpy(res->address, md.address, sizeof(res->address));
	memcpy(res->iccid, md.iccid, sizeof(res->iccid));
	*why = "bad finalResult";
	if (der_find(&data, 0xA2, &fin) != 1 || es10_only_child(&fin, &alt) < 0)
		return -1;
	if (alt.tag == 0xA0) {
		if (es10_check_children(&alt) < 0 || der_find(&alt, 0x4F, &n) != 1 ||
		    n.len < 1 || n.len > sizeof(res->aid))
			return -1;
		memcpy(res->aid, n.value, n.len);
		res->aid_len = n.len;
		res->ok = 1;
		return 0;
	}
	if (alt.tag != 0xA1 || es10_check_children(&alt) < 0)
		return -1;
	if (der_find(&alt, 0x80, &n) != 1 || es10_get_int(&n, &res->bpp_command_id) < 0)
		return -1;
	r = der_find(&alt, 0x81, &n);
	if (r != 1 || es10_get_int(&n, &res->error_reason) < 0)
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
		return es10_malformed(err, "LoadBoundProfilePackage", why);
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
	if (es10_check_open(ctx, err) < 0)
		return -1;
	ctx->last_result = -1;
	if (bpp_segments(bpp, len, &segs, &why) < 0) {
		esim_fail(err, ESIM_E_SMDP, "the SM-DP+ sent a malformed bound profile package "
			  "(%s)", why);
		goto out;
	}
	for (i = 0; i < segs.n; i++) {
		if (es10_store_data(ctx, segs.v[i].p, segs.v[i].len, &resp, err) < 0)
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
	if (es10_resp_top(&resp, TAG_PIR, &top) < 0) {
		es10_malformed(err, "LoadBoundProfilePackage", "not a BF37 TLV");
		goto out;
	}
	/* The eUICC produced a result: whatever we make of it, it is the notification. */
	buf_add(pir, resp.buf, resp.len);
	if (parse_install_result((const uint8_t *)resp.buf, resp.len, res, &why) < 0) {
		es10_malformed(err, "LoadBoundProfilePackage", why);
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
	if (es10_command(ctx, &req, resp, TAG_CANCEL_SESSION, &top, err) < 0)
		goto out;
	if (es10_only_child(&top, &alt) < 0) {
		es10_malformed(err, "CancelSession", "not one CHOICE alternative");
		goto out;
	}
	if (alt.tag == 0xA0) {
		if (es10_check_children(&alt) < 0 || der_find(&alt, 0x30, &n) != 1 ||
		    der_find(&alt, TAG_SIGNATURE, &n) != 1) {
			es10_malformed(err, "CancelSession", "incomplete signed response");
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (alt.tag != 0x81 || es10_get_int(&alt, &code) < 0) {
		es10_malformed(err, "CancelSession", "unknown CHOICE alternative");
		goto out;
	}
	ctx->last_result = code;
	es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_CANCEL_ERROR, "CancelSession",
		  "cancel the download session", code);
out:
	if (ret < 0)
		buf_reset(resp);
	buf_release(&req);
	return ret;
}

