/*
 * lpa.c - SGP.22 LPA procedures over ES10 (the eUICC) and ES9+ (the SM-DP+).
 *
 * The download follows SGP.22's download steps (§5.6.1-§5.6.4, §5.7); see lpa.h for the
 * failure and cancellation rules.  Nothing here touches the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/rspcrypto.h"
#include "esimctl/der.h"
#include "esimctl/es9p.h"
#include "esimctl/ids.h"
#include "esimctl/lpa.h"

void lpa_notice_release(struct lpa_notice *n)
{
	buf_release(&n->tlv);
}

void lpa_notices_free(struct lpa_notice *n, size_t count)
{
	for (size_t i = 0; i < count; i++)
		lpa_notice_release(&n[i]);
	free(n);
}

void lpa_download_result_release(struct lpa_download_result *r)
{
	free(r->provider);
	free(r->profile_name);
	r->provider = r->profile_name = NULL;
	lpa_notice_release(&r->install);
}

/*
 * ESIMCTL_TIMING=1: the monotonic clock in ms at the start of each step and at the end
 * of a download, on stderr ("esimctl: timing: 1234.567 reading the eUICC"), so that
 * bench/download.sh can split a download's time between eUICC, SM-DP+ and esimctl.
 */
static void timing(const char *what)
{
	const char *env = getenv("ESIMCTL_TIMING");
	struct timespec ts;

	if (!env || strcmp(env, "1") || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return;
	fprintf(stderr, "esimctl: timing: %.3f %s\n", (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6,	/* check-layers: ok (ESIMCTL_TIMING=1 trace for bench/) */
		what);
}

static void step(const struct lpa_progress *p, const char *what)
{
	timing(what);
	if (p && p->step)
		p->step(p->arg, what);
}

static void es9p_opts_from(const struct lpa_net *net, struct es9p_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (!net)
		return;
	o->ca_files = net->ca_files;
	o->nca = net->nca;
	o->system_ca = net->trust_system_ca;
	o->connect_timeout_ms = net->connect_timeout_ms;
	o->timeout_ms = net->timeout_ms;
}

/* Host part of "host[:port]", for comparing addresses. */
static size_t host_len(const char *addr)
{
	const char *colon = strchr(addr, ':');

	return colon ? (size_t)(colon - addr) : strlen(addr);
}

static int same_host(const char *a, const char *b, size_t blen)
{
	size_t alen = host_len(a);

	if (memchr(b, ':', blen))
		blen = (size_t)((const char *)memchr(b, ':', blen) - b);
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/*
 * Send x over session s; once the SM-DP+ has it (2xx), remove it from the eUICC.  A
 * removal that fails leaves x->sent set and x->kept set with the reason in x->err: the
 * eUICC still holds it and it will be sent again (SM-DP+s accept repeats), never lost.
 */
static void deliver(struct es10_ctx *ctx, struct es9p *s, struct lpa_notice *x)
{
	esim_err_clear(&x->err);
	if (es9p_handle_notification(s, (const uint8_t *)x->tlv.buf, x->tlv.len, &x->err) < 0)
		return;
	x->sent = 1;
	if (es10_remove_notification(ctx, x->seq, &x->err) == 0 || x->err.status == ESIM_E_NOTFOUND)
		esim_err_clear(&x->err);
	else
		x->kept = 1;
}

/* Where to send a notification for address (see lpa_net.known). */
static const char *route(const struct lpa_net *net, const char *address)
{
	if (!net || strchr(address, ':'))
		return address;
	for (size_t i = 0; i < net->nknown; i++)
		if (strchr(net->known[i], ':') && same_host(net->known[i], address, strlen(address)))
			return net->known[i];
	return address;
}

/*
 * The LPA's own checks of serverSigned1 (SGP.22 §5.6.1): its transactionId is the one in the
 * JSON, its euiccChallenge is ours, its serverAddress is the SM-DP+ we asked.
 */
static int check_server_signed1(const struct buf *ss1, const uint8_t *txid, size_t txid_len,
				const uint8_t challenge[16], const char *smdp, struct esim_err *err)
{
	struct der_node top, n;

	if (der_parse((const uint8_t *)ss1->buf, ss1->len, &top) < 0 || top.tag != 0x30)
		return esim_fail(err, ESIM_E_SMDP, "invalid response from the SM-DP+: serverSigned1 is not DER");
	if (der_find(&top, 0x80, &n) != 1 || n.len != txid_len || memcmp(n.value, txid, txid_len))
		return esim_fail(err, ESIM_E_SMDP,
				 "the SM-DP+ signed a different transactionId than it sent (serverSigned1)");
	if (der_find(&top, 0x81, &n) != 1 || n.len != 16 || memcmp(n.value, challenge, 16))
		return esim_fail(err, ESIM_E_SMDP, "serverSigned1 does not carry our eUICC challenge");
	if (der_find(&top, 0x83, &n) != 1 || !same_host(smdp, (const char *)n.value, n.len))
		return esim_fail(err, ESIM_E_SMDP, "serverSigned1 names another SM-DP+ address than '%s'", smdp);
	return 0;
}

static char *der_strdup(const struct der_node *parent, uint32_t tag)
{
	struct der_node n;

	if (der_find(parent, tag, &n) != 1)
		return NULL;
	return xstrndup((const char *)n.value, n.len);
}

/* ICCID, names and class from StoreMetadataRequest BF25 (profileMetadata). */
static int parse_metadata(const struct buf *md, struct lpa_download_result *res, struct esim_err *err)
{
	struct der_node top, n;

	if (der_parse((const uint8_t *)md->buf, md->len, &top) < 0 || top.tag != 0xBF25)
		return esim_fail(err, ESIM_E_SMDP, "invalid response from the SM-DP+: profileMetadata is not BF25");
	if (der_find(&top, 0x5A, &n) != 1 || n.len != 10 || iccid_from_bcd(n.value, res->iccid) < 0)
		return esim_fail(err, ESIM_E_SMDP, "invalid response from the SM-DP+: profileMetadata has no ICCID");
	free(res->provider);
	free(res->profile_name);
	res->provider = der_strdup(&top, 0x91);
	res->profile_name = der_strdup(&top, 0x92);
	res->profile_class = "operational";
	if (der_find(&top, 0x95, &n) == 1 && n.len == 1)
		res->profile_class = es10_profile_class_name(n.value[0]);
	return 0;
}

/* Best effort: cancel on the eUICC, then tell the SM-DP+ with the eUICC's signed answer. */
static void cancel_both(struct es10_ctx *ctx, struct es9p *s, const char *txid_hex, const uint8_t *txid,
			size_t txid_len, enum es10_cancel_reason reason, const struct lpa_progress *prog)
{
	struct buf bf41 = BUF_INIT;
	struct esim_err e = { 0 };

	step(prog, "cancelling the session");
	if (es10_cancel_session(ctx, txid, txid_len, reason, &bf41, &e) == 0 && s)
		es9p_cancel_session(s, txid_hex, (const uint8_t *)bf41.buf, bf41.len, &e);
	buf_release(&bf41);
}

/*
 * Hand the eUICC's error answer (BF38 or BF21 error alternative) to the SM-DP+, whose
 * answer is then an error as well; it is ignored: the eUICC's refusal is what counts.
 */
static void forward_refusal(struct es9p *s, const char *txid_hex, const struct buf *bf38,
			    const struct buf *bf21, const struct lpa_progress *prog)
{
	struct es9p_auth2 a2;
	struct buf bpp = BUF_INIT;
	struct esim_err e = { 0 };

	step(prog, "reporting the eUICC's refusal to the SM-DP+");
	if (bf38) {
		es9p_auth2_init(&a2);
		es9p_authenticate_client(s, txid_hex, (const uint8_t *)bf38->buf, bf38->len, &a2, &e);
		es9p_auth2_release(&a2);
	} else {
		es9p_get_bpp(s, txid_hex, (const uint8_t *)bf21->buf, bf21->len, &bpp, &e);
		buf_release(&bpp);
	}
}

static enum es10_cancel_reason reason_for(const struct esim_err *err)
{
	if (err->status == ESIM_E_NETWORK && strstr(err->msg, "timed out"))
		return ES10_CANCEL_TIMEOUT;
	if (err->status == ESIM_E_USAGE)
		return ES10_CANCEL_POSTPONED;
	return ES10_CANCEL_UNDEFINED_REASON;
}

static void bytes_cb(void *arg, size_t done, size_t total)
{
	const struct lpa_progress *p = arg;

	if (p && p->bytes)
		p->bytes(p->arg, done, total);
}

/*
 * The eUICC installs the StoreMetadataRequest carried in the BPP (the plaintext of the
 * 88 segments, each followed by its 8-byte MAC; SGP.22 §2.5.4), not the profileMetadata
 * that authenticateClient returned and that was shown and recorded.  The fields kept
 * about the profile must agree, or the session is cancelled with metadataMismatch(4).
 * A BPP whose A1 cannot be read is left to the eUICC, which refuses it.
 */
static int check_bpp_metadata(const struct buf *bpp, const struct buf *md, struct esim_err *err)
{
	static const struct {
		uint32_t tag;
		const char *name;
	} fields[] = { { 0x5A, "ICCID" }, { 0x91, "service provider name" }, { 0x92, "profile name" },
		       { 0x95, "profile class" } };
	struct der_node top, a1, seg, got_md, want_md, g, w;
	struct der_iter it;
	struct buf plain = BUF_INIT;
	int r, rc = 0;

	if (der_parse((const uint8_t *)bpp->buf, bpp->len, &top) < 0 || der_find(&top, 0xA1, &a1) != 1)
		return 0;
	der_iter_init(&it, &a1);
	while ((r = der_iter_next(&it, &seg)) == 1) {
		if (seg.tag != 0x88 || seg.len < 8)
			break;
		buf_add(&plain, seg.value, seg.len - 8);
	}
	if (r != 0 || der_parse((const uint8_t *)plain.buf, plain.len, &got_md) < 0 || got_md.tag != 0xBF25 ||
	    der_parse((const uint8_t *)md->buf, md->len, &want_md) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int hg = der_find(&got_md, fields[i].tag, &g) == 1, hw = der_find(&want_md, fields[i].tag, &w) == 1;

		if (hg != hw || (hg && (g.len != w.len || memcmp(g.value, w.value, g.len)))) {
			rc = esim_fail(err, ESIM_E_SMDP,
				       "the SM-DP+ sent a profile package whose metadata differs from what it announced "
				       "(%s): not installed", fields[i].name);
			esim_hint(err, "try again later, or ask the carrier for a new activation code");
			break;
		}
	}
out:
	buf_release(&plain);
	return rc;
}

int lpa_download(struct es10_ctx *ctx, const struct actcode *ac, const char *cc,
		 lpa_cc_prompt prompt, void *prompt_arg, const char *imei,
		 const struct lpa_net *net, const struct lpa_progress *prog,
		 const struct lpa_install_hooks *hooks, struct lpa_download_result *res,
		 struct esim_err *err)
{
	uint8_t challenge[16], txid[ES10_TXID_MAX], hash_cc[32];
	size_t txid_len = 0;
	int cc_required = 0, have_session = 0, rc = -1;
	struct buf info1 = BUF_INIT, bf38 = BUF_INIT, bf21 = BUF_INIT, bpp = BUF_INIT;
	struct es9p_auth1 a1;
	struct es9p_auth2 a2;
	struct es9p_opts o;
	struct es9p *s = NULL;
	struct es10_install_result ir;
	char code[129], host[ES10_ADDRESS_MAX + 1];

	es9p_auth1_init(&a1);
	es9p_auth2_init(&a2);
	memset(res, 0, sizeof(*res));
	buf_init(&res->install.tlv, 0);
	code[0] = '\0';
	es9p_opts_from(net, &o);

	step(prog, "reading the eUICC");
	if (es10_get_challenge(ctx, challenge, err) < 0 || es10_get_euicc_info1(ctx, &info1, err) < 0)
		goto out;
	step(prog, "contacting the SM-DP+");
	if (es9p_open(ac->smdp, &o, &s, err) < 0)
		goto out;
	/* smdpAddress is the FQDN alone: SM-DP+s compare it with their own name (SGP.22 5.6.1). */
	snprintf(host, sizeof(host), "%.*s", (int)host_len(ac->smdp), ac->smdp);
	if (es9p_initiate_authentication(s, host, challenge, (const uint8_t *)info1.buf, info1.len, &a1, err) < 0)
		goto out;
	if (a1.txid_len < 1 || a1.txid_len > ES10_TXID_MAX) {
		esim_fail(err, ESIM_E_SMDP, "invalid response from the SM-DP+: transactionId '%s' is not 1-16 bytes",
			  a1.transaction_id);
		goto out;
	}
	txid_len = a1.txid_len;
	memcpy(txid, a1.txid, txid_len);
	if (check_server_signed1(&a1.server_signed1, txid, txid_len, challenge, ac->smdp, err) < 0)
		goto out;

	step(prog, "authenticating the SM-DP+ on the eUICC");
	have_session = 1;
	if (es10_authenticate_server(ctx, &a1.server_signed1, &a1.server_signature1, &a1.euicc_ci_pkid,
				     &a1.server_certificate, ac->matching_id, imei, &bf38, err) < 0) {
		/*
		 * The eUICC refused the SM-DP+ (authenticateResponseError): it keeps no session,
		 * and AuthenticateClient carries that answer back so the SM-DP+ ends its own.
		 */
		if (bf38.len) {
			forward_refusal(s, a1.transaction_id, &bf38, NULL, prog);
			goto out;
		}
		goto cancel;
	}
	step(prog, "authenticating the eUICC on the SM-DP+");
	if (es9p_authenticate_client(s, a1.transaction_id, (const uint8_t *)bf38.buf, bf38.len, &a2, err) < 0)
		goto cancel;
	if (parse_metadata(&a2.profile_metadata, res, err) < 0)
		goto cancel;
	{
		uint8_t t2[ES10_TXID_MAX];
		size_t t2len;

		if (es10_smdp_signed2_info((const uint8_t *)a2.smdp_signed2.buf, a2.smdp_signed2.len, t2, &t2len,
					   &cc_required, err) < 0)
			goto cancel;
		if (t2len != txid_len || memcmp(t2, txid, txid_len)) {
			esim_fail(err, ESIM_E_SMDP, "smdpSigned2 carries another transactionId than the session's");
			goto cancel;
		}
	}
	if (cc_required || ac->cc_required) {
		if (!cc_required) {
			/* The code said one is needed but the SM-DP+ did not ask: do not send it. */
		} else if (cc && *cc) {
			snprintf(code, sizeof(code), "%s", cc);
		} else if (!prompt || prompt(prompt_arg, code, sizeof(code), err) < 0) {
			if (!prompt)
				esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code");
			esim_hint(err, "pass --confirmation-code CODE (from the carrier), or run on a terminal to be asked");
			goto cancel;
		}
		if (cc_required)
			rsp_hash_cc(code, txid, txid_len, hash_cc);
		secure_wipe(code, sizeof(code));
	}
	step(prog, "preparing the download");
	if (es10_prepare_download(ctx, &a2.smdp_signed2, &a2.smdp_signature2, &a2.smdp_certificate,
				  cc_required ? hash_cc : NULL, &bf21, err) < 0) {
		/* downloadResponseError goes back in GetBoundProfilePackage; then cancel the eUICC's session. */
		if (bf21.len)
			forward_refusal(s, a1.transaction_id, NULL, &bf21, prog);
		goto cancel;
	}
	secure_wipe(hash_cc, sizeof(hash_cc));
	step(prog, "downloading the bound profile package");
	if (es9p_get_bpp(s, a1.transaction_id, (const uint8_t *)bf21.buf, bf21.len, &bpp, err) < 0)
		goto cancel;
	if (check_bpp_metadata(&bpp, &a2.profile_metadata, err) < 0) {
		struct esim_err e = *err;

		cancel_both(ctx, s, a1.transaction_id, txid, txid_len, ES10_CANCEL_METADATA_MISMATCH, prog);
		*err = e;
		goto out;
	}
	step(prog, "installing the profile");
	if (hooks && hooks->before_install)
		hooks->before_install(hooks->arg);
	if (es10_load_bpp(ctx, (const uint8_t *)bpp.buf, bpp.len, bytes_cb, (void *)prog, &res->install.tlv, &ir,
			  err) < 0) {
		if (res->install.tlv.len == 0) {
			struct esim_err e = *err;

			cancel_both(ctx, s, a1.transaction_id, txid, txid_len, ES10_CANCEL_LOAD_BPP_EXECUTION_ERROR, prog);
			*err = e;
			goto out;
		}
		/* errorResult: report it to the SM-DP+ like a success (handleNotification). */
		res->install.seq = ir.seq;
		res->install.event = ES10_EVENT_INSTALL;
		snprintf(res->install.address, sizeof(res->install.address), "%s", ir.address);
		snprintf(res->install.iccid, sizeof(res->install.iccid), "%s", ir.iccid);
		if (hooks && hooks->installed)
			hooks->installed(hooks->arg, res, 0);
		deliver(ctx, s, &res->install);
		goto out;
	}
	res->install.seq = ir.seq;
	res->install.event = ES10_EVENT_INSTALL;
	snprintf(res->install.address, sizeof(res->install.address), "%s", ir.address[0] ? ir.address : ac->smdp);
	snprintf(res->install.iccid, sizeof(res->install.iccid), "%s", ir.iccid[0] ? ir.iccid : res->iccid);
	if (ir.iccid[0])
		snprintf(res->iccid, sizeof(res->iccid), "%s", ir.iccid);
	if (hooks && hooks->installed)
		hooks->installed(hooks->arg, res, 1);
	step(prog, "sending the install notification");
	/* Same session when the notification goes to the SM-DP+ we downloaded from. */
	if (same_host(ac->smdp, res->install.address, strlen(res->install.address))) {
		deliver(ctx, s, &res->install);
	} else {
		struct es9p *ns = NULL;

		if (es9p_open(route(net, res->install.address), &o, &ns, &res->install.err) == 0)
			deliver(ctx, ns, &res->install);
		es9p_close(ns);
	}
	rc = 0;
	goto out;

cancel:
	if (have_session) {
		struct esim_err e = *err;

		cancel_both(ctx, s, a1.transaction_id, txid, txid_len, reason_for(err), prog);
		*err = e;
	}
out:
	if (s) {
		struct esim_err e = { 0 };

		es9p_stats(s, &res->requests, &res->connections, NULL, &e);
		es9p_close(s);
	}
	secure_wipe(code, sizeof(code));
	secure_wipe(hash_cc, sizeof(hash_cc));
	es9p_auth1_release(&a1);
	es9p_auth2_release(&a2);
	buf_release(&info1);
	buf_release(&bf38);
	buf_release(&bf21);
	buf_release(&bpp);
	timing("end of the download");
	return rc;
}

int lpa_delete_profile(struct es10_ctx *ctx, const char *iccid, struct esim_err *err)
{
	struct es10_profile *p = NULL;
	size_t n = 0;
	int state = -2, rc;

	if (es10_get_profiles_query(ctx, iccid, es10_profile_tags, sizeof(es10_profile_tags), &p, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].iccid, iccid))
			state = p[i].state;
	es10_profiles_free(p, n);
	if (state == -2)
		return esim_fail(err, ESIM_E_NOTFOUND, "profile %s is not on the eUICC", iccid);
	if (state == ES10_STATE_ENABLED && es10_disable(ctx, iccid, 1, err) < 0)
		return -1;
	rc = es10_delete(ctx, iccid, err);
	return rc;
}

int lpa_send_notification(const char *address, const uint8_t *tlv, size_t len,
			  const struct lpa_net *net, struct esim_err *err)
{
	struct es9p_opts o;
	struct es9p *s = NULL;
	int rc;

	es9p_opts_from(net, &o);
	if (es9p_open(route(net, address), &o, &s, err) < 0)
		return -1;
	rc = es9p_handle_notification(s, tlv, len, err);
	es9p_close(s);
	return rc;
}

int lpa_process_notifications(struct es10_ctx *ctx, const struct lpa_net *net, int send,
			      struct lpa_notice **out, size_t *n, struct esim_err *err)
{
	struct es10_notification *list = NULL;
	struct lpa_notice *res = NULL;
	size_t count = 0;
	struct es9p_opts o;

	*out = NULL;
	*n = 0;
	if (es10_list_notifications(ctx, 0, &list, &count, err) < 0)
		return -1;
	res = xcalloc(count ? count : 1, sizeof(*res));
	es9p_opts_from(net, &o);
	for (size_t i = 0; i < count; i++) {
		struct lpa_notice *x = &res[i];

		buf_init(&x->tlv, 0);
		x->seq = list[i].seq;
		x->event = list[i].event;
		snprintf(x->address, sizeof(x->address), "%s", list[i].address);
		snprintf(x->iccid, sizeof(x->iccid), "%s", list[i].iccid);
		if (es10_retrieve_notification(ctx, x->seq, &x->tlv, &x->err) < 0)
			continue;
	}
	/* Send address by address, reusing one session for each SM-DP+. */
	for (size_t i = 0; send && i < count; i++) {
		struct es9p *s = NULL;
		struct esim_err open_err = { 0 };

		if (res[i].sent || res[i].tlv.len == 0 || res[i].err.status)
			continue;
		if (es9p_open(route(net, res[i].address), &o, &s, &open_err) < 0) {
			for (size_t j = i; j < count; j++)
				if (!strcasecmp(res[j].address, res[i].address) && !res[j].sent)
					res[j].err = open_err;
			continue;
		}
		for (size_t j = i; j < count; j++) {
			struct lpa_notice *x = &res[j];

			if (x->sent || x->tlv.len == 0 || strcasecmp(x->address, res[i].address))
				continue;
			deliver(ctx, s, x);
		}
		es9p_close(s);
	}
	free(list);
	*out = res;
	*n = count;
	return 0;
}
