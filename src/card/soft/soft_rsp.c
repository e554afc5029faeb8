/*
 * soft_rsp.c - the software eUICC (soft.c): notifications and the RSP session functions: challenge, EUICCInfo, AuthenticateServer, PrepareDownload, CancelSession.
 */
#include "card/soft/soft_internal.h"

/* ------------------------------------------------------------------------------------ */
/* notifications (SGP.22 §5.7.9-§5.7.11) */

void soft_notif_meta(struct buf *b, uint64_t seq, int event, const char *address,
		       const uint8_t *iccid_bcd)
{
	size_t m = der_begin(b, 0xBF2F);

	der_put_uint(b, 0x80, seq);
	soft_put_bits(b, 0x81, 1u << event);
	der_put_tlv(b, 0x0C, address, strlen(address));
	if (iccid_bcd)
		der_put_tlv(b, 0x5A, iccid_bcd, 10);
	der_end(b, m);
}

void soft_notif_add(struct soft *s, uint64_t seq, int event, const char *address,
		      const char *iccid, const struct buf *der)
{
	struct soft_state *st = &s->st;
	struct soft_notif *n;

	if (st->nnotifs == MAX_NOTIFICATIONS) {
		soft_notif_clear(&st->notifs[0]);
		memmove(st->notifs, st->notifs + 1, (st->nnotifs - 1) * sizeof(*st->notifs));
		st->nnotifs--;
	}
	st->notifs = xrealloc(st->notifs, (st->nnotifs + 1) * sizeof(*st->notifs));
	n = &st->notifs[st->nnotifs++];
	memset(n, 0, sizeof(*n));
	n->seq = seq;
	n->event = event;
	n->address = xstrdup(address);
	if (iccid)
		memcpy(n->iccid, iccid, strlen(iccid) + 1);
	buf_init(&n->der, der->len);
	buf_add(&n->der, der->buf, der->len);
}

/*
 * OtherSignedNotification for enable/disable/delete, when the profile's notification
 * configuration lists the event: 30 { BF2F, 5F37 sig over BF2F, CERT.EUICC, CERT.EUM }.
 */
int soft_notify_other(struct soft *s, const struct soft_profile *p, int event)
{
	const char *address = NULL;
	struct buf tbs = BUF_INIT, out = BUF_INIT;
	uint8_t sig[RSP_SIG_LEN];
	const uint8_t *der;
	size_t i, m, len;
	uint64_t seq;
	struct esim_err e = { 0 };
	int rc = -1;

	for (i = 0; i < p->nncfg && !address; i++)
		if (p->ncfg[i].events & (1u << event))
			address = p->ncfg[i].address;
	if (!address)
		return 0;
	seq = s->st.next_seq;
	soft_notif_meta(&tbs, seq, event, address, p->iccid_bcd);
	if (rsp_sign(s->st.key, (const uint8_t *)tbs.buf, tbs.len, sig, &e) < 0)
		goto out;
	m = der_begin(&out, 0x30);
	buf_add(&out, tbs.buf, tbs.len);
	der_put_tlv(&out, 0x5F37, sig, sizeof(sig));
	rsp_cert_der(s->st.cert, &der, &len);
	buf_add(&out, der, len);
	rsp_cert_der(s->st.eum, &der, &len);
	buf_add(&out, der, len);
	der_end(&out, m);
	s->st.next_seq++;
	soft_notif_add(s, seq, event, address, p->iccid, &out);
	rc = 0;
out:
	buf_release(&tbs);
	buf_release(&out);
	return rc;
}

/* The NotificationMetadata (BF2F) inside a stored notification, or -1. */
int soft_notif_stored_meta(const struct soft_notif *n, struct der_node *meta)
{
	struct der_node top, pir;

	if (der_parse((const uint8_t *)n->der.buf, n->der.len, &top) < 0)
		return -1;
	if (top.tag == 0xBF37) {
		if (der_find(&top, 0xBF27, &pir) != 1)
			return -1;
		return der_find(&pir, 0xBF2F, meta) == 1 ? 0 : -1;
	}
	return der_find(&top, 0xBF2F, meta) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------ */
/* ES10 building blocks */

static void put_ci_list(const struct soft *s, struct buf *r, uint32_t tag, int signing)
{
	size_t m = der_begin(r, tag), i;

	for (i = 0; i < s->st.ncis; i++)
		if (!signing || i == s->st.sign_ci)
			der_put_tlv(r, 0x04, s->st.ci_ski[i].buf, s->st.ci_ski[i].len);
	der_end(r, m);
}

/* EUICCInfo2 (SGP.22 §5.7.8). */
static void put_info2(const struct soft *s, struct buf *r)
{
	static const uint8_t profile_version[3] = { 2, 3, 1 };   /* SAIP */
	static const uint8_t firmware[3] = { 1, 0, 0 };
	static const uint8_t ts102241[3] = { 9, 2, 0 };
	static const uint8_t gp_version[3] = { 2, 3, 0 };
	static const uint8_t pp_version[3] = { 0, 0, 1 };
	/* uiccCapability: usim(1), isim(2), akaMilenage(4), javacard(14) */
	static const unsigned uicc_cap = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 14);
	/* rspCapability: additionalProfile(0), testProfileSupport(3) */
	static const unsigned rsp_cap = (1u << 0) | (1u << 3);
	size_t m = der_begin(r, 0xBF22), ext;
	uint32_t free_nvm = (uint32_t)(MAX_PROFILES - s->st.nprofiles) * 65536u;
	uint8_t nvm[4] = { (uint8_t)(free_nvm >> 24), (uint8_t)(free_nvm >> 16),
			   (uint8_t)(free_nvm >> 8), (uint8_t)free_nvm };
	static const uint8_t ram[2] = { 0x20, 0x00 };
	uint8_t napps = (uint8_t)s->st.nprofiles;

	der_put_tlv(r, 0x81, profile_version, 3);
	der_put_tlv(r, 0x82, s->st.svn, 3);
	der_put_tlv(r, 0x83, firmware, 3);
	ext = der_begin(r, 0x84);
	der_put_tlv(r, 0x81, &napps, 1);
	der_put_tlv(r, 0x82, nvm, 4);
	der_put_tlv(r, 0x83, ram, 2);
	der_end(r, ext);
	soft_put_bits(r, 0x85, uicc_cap);
	der_put_tlv(r, 0x86, ts102241, 3);
	der_put_tlv(r, 0x87, gp_version, 3);
	soft_put_bits(r, 0x88, rsp_cap);
	put_ci_list(s, r, 0xA9, 0);
	put_ci_list(s, r, 0xAA, 1);
	der_put_tlv(r, 0x04, pp_version, 3);
	der_put_tlv(r, 0x0C, SAS_ACCREDITATION, strlen(SAS_ACCREDITATION));
	der_end(r, m);
}

/* BF38/BF21 error: TAG { A1 { 80 txid, 02 code } }. */
static uint16_t auth_error(struct buf *r, uint32_t tag, const struct der_node *txid, int code)
{
	size_t m = der_begin(r, tag), e = der_begin(r, 0xA1);

	der_put_tlv(r, 0x80, txid->value, txid->len);
	der_put_uint(r, 0x02, (uint64_t)code);
	der_end(r, e);
	der_end(r, m);
	return SW_OK;
}

/* TAG { 80 01 result } */
uint16_t soft_simple_result(struct buf *r, uint32_t tag, int result)
{
	size_t m = der_begin(r, tag);

	der_put_uint(r, 0x80, (uint64_t)result);
	der_end(r, m);
	return SW_OK;
}

static int ci_by_ski(const struct soft *s, const uint8_t *ski, size_t len)
{
	size_t i;

	for (i = 0; i < s->st.ncis; i++)
		if (s->st.ci_ski[i].len == len && memcmp(s->st.ci_ski[i].buf, ski, len) == 0)
			return (int)i;
	return -1;
}

/* SM-DP+ OID from a certificate's SAN registeredID, as DER content octets. */
static int cert_oid(const struct rsp_cert *c, struct buf *out)
{
	char dotted[128];

	buf_reset(out);
	if (rsp_cert_san_rid(c, dotted, sizeof(dotted)) < 0 || soft_oid_encode(dotted, out) < 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* ES10a / ES10b / ES10c functions.  Each returns a status word; r gets the response. */

uint16_t soft_es10_get_eid(struct soft *s, const struct der_node *req, struct buf *r)
{
	size_t m;

	(void)req;
	m = der_begin(r, 0xBF3E);
	der_put_tlv(r, 0x5A, s->st.eid_bcd, 16);
	der_end(r, m);
	return SW_OK;
}

uint16_t soft_es10_info1(struct soft *s, const struct der_node *req, struct buf *r)
{
	size_t m;

	(void)req;
	m = der_begin(r, 0xBF20);
	der_put_tlv(r, 0x82, s->st.svn, 3);
	put_ci_list(s, r, 0xA9, 0);
	put_ci_list(s, r, 0xAA, 1);
	der_end(r, m);
	return SW_OK;
}

uint16_t soft_es10_info2(struct soft *s, const struct der_node *req, struct buf *r)
{
	(void)req;
	put_info2(s, r);
	return SW_OK;
}

/* A new challenge starts a new RSP session: whatever was going on is forgotten. */
uint16_t soft_es10_challenge(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct esim_err e = { 0 };
	size_t m;

	(void)req;
	soft_session_reset(s);
	if (rsp_random(s->sess.challenge, sizeof(s->sess.challenge), &e) < 0)
		return SW_UNKNOWN;
	s->sess.stage = SESS_CHALLENGE;
	m = der_begin(r, 0xBF2E);
	der_put_tlv(r, 0x80, s->sess.challenge, 16);
	der_end(r, m);
	return SW_OK;
}

uint16_t soft_es10_addresses(struct soft *s, const struct der_node *req, struct buf *r)
{
	const char *root = s->st.root_ds ? s->st.root_ds : DEFAULT_ROOT_DS;
	size_t m;

	(void)req;
	m = der_begin(r, 0xBF3C);
	if (s->st.default_dp)
		der_put_tlv(r, 0x80, s->st.default_dp, strlen(s->st.default_dp));
	der_put_tlv(r, 0x81, root, strlen(root));
	der_end(r, m);
	return SW_OK;
}

uint16_t soft_es10_set_default_dp(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node a;
	char *old = s->st.default_dp;

	if (der_find(req, 0x80, &a) != 1 || a.len > 255 || !soft_node_is_text(&a))
		return SW_WRONG_DATA;
	s->st.default_dp = a.len ? soft_node_strdup(&a) : NULL;
	if (soft_persist(s) < 0) {
		free(s->st.default_dp);
		s->st.default_dp = old;
		return SW_MEMORY_FAILURE;
	}
	free(old);
	return soft_simple_result(r, 0xBF3F, 0);
}

/* Read the next child and require its tag. */
int soft_next_child(struct der_iter *it, uint32_t tag, struct der_node *n)
{
	return der_iter_next(it, n) == 1 && n->tag == tag ? 0 : -1;
}

/*
 * AuthenticateServer (SGP.22 §5.7.13).
 * BF38 { 30 serverSigned1, 5F37 serverSignature1, 04 euiccCiPKIdToBeUsed,
 *        30 serverCertificate, A0 ctxParams1 }
 */
uint16_t soft_es10_authenticate_server(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct session *se = &s->sess;
	struct der_iter it, it1;
	struct der_node ss1, sig1, ciid, certn, ctx, tx, chal, addr, schal, extra;
	struct rsp_cert *dpauth = NULL;
	struct buf oid = BUF_INIT, signed1 = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t aki[64], sig[RSP_SIG_LEN];
	const uint8_t *der;
	size_t len, m, a0;
	int ci = -1, code = 0, n;
	enum rsp_curve curve;
	uint16_t sw = SW_OK;

	der_iter_init(&it, req);
	if (soft_next_child(&it, 0x30, &ss1) < 0 || soft_next_child(&it, 0x5F37, &sig1) < 0 ||
	    soft_next_child(&it, 0x04, &ciid) < 0 || soft_next_child(&it, 0x30, &certn) < 0 ||
	    soft_next_child(&it, 0xA0, &ctx) < 0 || der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	der_iter_init(&it1, &ss1);
	if (soft_next_child(&it1, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    soft_next_child(&it1, 0x81, &chal) < 0 || chal.len != 16 ||
	    soft_next_child(&it1, 0x83, &addr) < 0 || addr.len > 255 || !soft_node_is_text(&addr) ||
	    soft_next_child(&it1, 0x84, &schal) < 0 || schal.len != 16 ||
	    der_iter_next(&it1, &extra) != 0)
		return SW_WRONG_DATA;

	/* euiccCiPKIdToBeUsed must be a CI the eUICC can sign under. */
	n = ci_by_ski(s, ciid.value, ciid.len);
	if (n < 0 || (size_t)n != s->st.sign_ci) {
		code = AUTH_CI_PK_UNKNOWN;
		goto done;
	}
	if (rsp_cert_load(certn.tlv, certn.tlv_len, &dpauth, &e) < 0) {
		code = AUTH_INVALID_CERTIFICATE;
		goto done;
	}
	/* CERT.DPauth is verified under the CI its AKI names (default: the one to be used). */
	n = rsp_cert_aki(dpauth, aki, sizeof(aki));
	ci = n > 0 ? ci_by_ski(s, aki, (size_t)n) : (int)s->st.sign_ci;
	if (ci < 0) {
		code = AUTH_CI_PK_UNKNOWN;
		goto done;
	}
	if (rsp_cert_signed_by(dpauth, s->st.cis[ci]) != 1 ||
	    rsp_cert_has_policy(dpauth, OID_POLICY_DPAUTH) != 1 || cert_oid(dpauth, &oid) < 0) {
		code = AUTH_INVALID_CERTIFICATE;
		goto done;
	}
	curve = rsp_cert_curve(dpauth);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256) {
		code = AUTH_UNSUPPORTED_CURVE;
		goto done;
	}
	if (sig1.len != RSP_SIG_LEN || rsp_cert_verify(dpauth, ss1.tlv, ss1.tlv_len, sig1.value) != 1) {
		code = AUTH_INVALID_SIGNATURE;
		goto done;
	}
	if (se->stage != SESS_CHALLENGE) {
		code = AUTH_NO_SESSION;
		goto done;
	}
	if (CRYPTO_memcmp(chal.value, se->challenge, 16) != 0) {
		code = AUTH_CHALLENGE_MISMATCH;
		goto done;
	}
done:
	/* The challenge is good for one attempt. */
	soft_session_reset(s);
	if (code) {
		sw = auth_error(r, 0xBF38, &tx, code);
		goto out;
	}
	/* euiccSigned1 = 30 { 80 txid, 83 serverAddress, 84 serverChallenge, BF22, A0 ctx } */
	m = der_begin(&signed1, 0x30);
	buf_add(&signed1, tx.tlv, tx.tlv_len);
	buf_add(&signed1, addr.tlv, addr.tlv_len);
	buf_add(&signed1, schal.tlv, schal.tlv_len);
	put_info2(s, &signed1);
	buf_add(&signed1, ctx.tlv, ctx.tlv_len);
	der_end(&signed1, m);
	if (rsp_sign(s->st.key, (const uint8_t *)signed1.buf, signed1.len, sig, &e) < 0) {
		sw = SW_UNKNOWN;
		goto out;
	}
	se->stage = SESS_AUTH;
	memcpy(se->txid, tx.value, tx.len);
	se->txid_len = tx.len;
	memcpy(se->server_address, addr.value, addr.len);
	se->server_address[addr.len] = '\0';
	se->ci = (size_t)ci;
	buf_add(&se->auth_oid, oid.buf, oid.len);
	memcpy(se->euicc_sig1, sig, sizeof(sig));

	m = der_begin(r, 0xBF38);
	a0 = der_begin(r, 0xA0);
	buf_add(r, signed1.buf, signed1.len);
	der_put_tlv(r, 0x5F37, sig, sizeof(sig));
	rsp_cert_der(s->st.cert, &der, &len);
	buf_add(r, der, len);
	rsp_cert_der(s->st.eum, &der, &len);
	buf_add(r, der, len);
	der_end(r, a0);
	der_end(r, m);
out:
	rsp_cert_free(dpauth);
	buf_release(&oid);
	buf_release(&signed1);
	return sw;
}

/*
 * PrepareDownload (SGP.22 §5.7.5).
 * BF21 { 30 smdpSigned2, 5F37 smdpSignature2, [04 hashCc], 30 CERT.DPpb }
 * smdpSigned2 = 30 { 80 txid, 01 ccRequiredFlag, [5F49 bppEuiccOtpk] }
 */
uint16_t soft_es10_prepare_download(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct session *se = &s->sess;
	struct der_iter it, it2;
	struct der_node ss2, sig2, hcc, certn, tx, ccflag, otpk, extra;
	struct rsp_cert *dppb = NULL;
	struct rsp_key *otsk = NULL;
	struct buf oid = BUF_INIT, msg = BUF_INIT, signed2 = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t pub[RSP_PUB_LEN], sig[RSP_SIG_LEN];
	int have_hcc = 0, have_otpk = 0, code = 0, r2;
	size_t m, a0;
	enum rsp_curve curve;
	uint16_t sw = SW_OK;

	der_iter_init(&it, req);
	if (soft_next_child(&it, 0x30, &ss2) < 0 || soft_next_child(&it, 0x5F37, &sig2) < 0)
		return SW_WRONG_DATA;
	if (der_iter_next(&it, &hcc) != 1)
		return SW_WRONG_DATA;
	if (hcc.tag == 0x04) {
		if (hcc.len != 32)
			return SW_WRONG_DATA;
		have_hcc = 1;
		if (der_iter_next(&it, &certn) != 1)
			return SW_WRONG_DATA;
	} else {
		certn = hcc;
	}
	if (certn.tag != 0x30 || der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	der_iter_init(&it2, &ss2);
	if (soft_next_child(&it2, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    soft_next_child(&it2, 0x01, &ccflag) < 0 || ccflag.len != 1)
		return SW_WRONG_DATA;
	r2 = der_iter_next(&it2, &otpk);
	if (r2 < 0)
		return SW_WRONG_DATA;
	if (r2 == 1) {
		if (otpk.tag != 0x5F49 || otpk.len != RSP_PUB_LEN || der_iter_next(&it2, &extra) != 0)
			return SW_WRONG_DATA;
		have_otpk = 1;
	}

	if (se->stage != SESS_AUTH && se->stage != SESS_PREPARED) {
		code = AUTH_NO_SESSION;
		goto done;
	}
	if (rsp_cert_load(certn.tlv, certn.tlv_len, &dppb, &e) < 0 ||
	    rsp_cert_signed_by(dppb, s->st.cis[se->ci]) != 1 ||
	    rsp_cert_has_policy(dppb, OID_POLICY_DPPB) != 1 || cert_oid(dppb, &oid) < 0) {
		code = AUTH_INVALID_CERTIFICATE;
		goto done;
	}
	curve = rsp_cert_curve(dppb);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256) {
		code = AUTH_UNSUPPORTED_CURVE;
		goto done;
	}
	/* smdpSignature2 covers smdpSigned2 || 5F37 40 euiccSignature1. */
	buf_add(&msg, ss2.tlv, ss2.tlv_len);
	der_put_tlv(&msg, 0x5F37, se->euicc_sig1, RSP_SIG_LEN);
	if (sig2.len != RSP_SIG_LEN ||
	    rsp_cert_verify(dppb, (const uint8_t *)msg.buf, msg.len, sig2.value) != 1) {
		code = AUTH_INVALID_SIGNATURE;
		goto done;
	}
	if (!soft_txid_equal(se, &tx)) {
		code = AUTH_INVALID_OID_OR_TXID;
		goto done;
	}
	/* A Confirmation Code is required but none was given. */
	if (ccflag.value[0] != 0 && !have_hcc) {
		code = AUTH_UNDEFINED;
		goto done;
	}
done:
	if (code) {
		/* The session stays as it was, so the LPA can still cancel it. */
		sw = auth_error(r, 0xBF21, &tx, code);
		goto out;
	}
	/* Reuse the one-time key only when the SM-DP+ asks for the one we still hold. */
	if (have_otpk && se->otsk && memcmp(otpk.value, se->otpk, RSP_PUB_LEN) == 0) {
		memcpy(pub, se->otpk, RSP_PUB_LEN);
	} else {
		if (rsp_ecka_generate(curve, &otsk, pub, &e) < 0) {
			sw = SW_UNKNOWN;
			goto out;
		}
		rsp_key_free(se->otsk);
		se->otsk = otsk;
		otsk = NULL;
		memcpy(se->otpk, pub, RSP_PUB_LEN);
	}
	/* euiccSigned2 = 30 { 80 txid, 5F49 otPK, [04 hashCc] } */
	m = der_begin(&signed2, 0x30);
	buf_add(&signed2, tx.tlv, tx.tlv_len);
	der_put_tlv(&signed2, 0x5F49, pub, RSP_PUB_LEN);
	if (have_hcc)
		buf_add(&signed2, hcc.tlv, hcc.tlv_len);
	der_end(&signed2, m);
	buf_reset(&msg);
	buf_add(&msg, signed2.buf, signed2.len);
	buf_add(&msg, sig2.tlv, sig2.tlv_len);
	if (rsp_sign(s->st.key, (const uint8_t *)msg.buf, msg.len, sig, &e) < 0) {
		sw = SW_UNKNOWN;
		goto out;
	}
	rsp_cert_free(se->dppb);
	se->dppb = dppb;
	dppb = NULL;
	buf_reset(&se->pb_oid);
	buf_add(&se->pb_oid, oid.buf, oid.len);
	se->stage = SESS_PREPARED;

	m = der_begin(r, 0xBF21);
	a0 = der_begin(r, 0xA0);
	buf_add(r, signed2.buf, signed2.len);
	der_put_tlv(r, 0x5F37, sig, sizeof(sig));
	der_end(r, a0);
	der_end(r, m);
out:
	rsp_cert_free(dppb);
	rsp_key_free(otsk);
	buf_release(&oid);
	buf_release(&msg);
	buf_release(&signed2);
	return sw;
}

/*
 * CancelSession (SGP.22 §5.7.14): BF41 { 80 txid, 81 reason } ->
 * BF41 { A0 { 30 { 80 txid, 81 smdpOid, 82 reason }, 5F37 sig } } or BF41 { 81 error }.
 */
uint16_t soft_es10_cancel_session(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct session *se = &s->sess;
	struct der_iter it;
	struct der_node tx, reason, extra;
	struct buf tbs = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t sig[RSP_SIG_LEN];
	uint64_t why;
	size_t m, a0;
	uint16_t sw = SW_OK;

	der_iter_init(&it, req);
	if (soft_next_child(&it, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    soft_next_child(&it, 0x81, &reason) < 0 || der_get_uint(&reason, &why) < 0 ||
	    der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (se->stage < SESS_AUTH || !soft_txid_equal(se, &tx)) {
		m = der_begin(r, 0xBF41);
		der_put_uint(r, 0x81, 5);       /* invalidTransactionId */
		der_end(r, m);
		return SW_OK;
	}
	m = der_begin(&tbs, 0x30);
	buf_add(&tbs, tx.tlv, tx.tlv_len);
	der_put_tlv(&tbs, 0x81, se->auth_oid.buf, se->auth_oid.len);
	der_put_uint(&tbs, 0x82, why);
	der_end(&tbs, m);
	if (rsp_sign(s->st.key, (const uint8_t *)tbs.buf, tbs.len, sig, &e) < 0) {
		sw = SW_UNKNOWN;
		goto out;
	}
	soft_session_reset(s);
	m = der_begin(r, 0xBF41);
	a0 = der_begin(r, 0xA0);
	buf_add(r, tbs.buf, tbs.len);
	der_put_tlv(r, 0x5F37, sig, sizeof(sig));
	der_end(r, a0);
	der_end(r, m);
out:
	buf_release(&tbs);
	return sw;
}
