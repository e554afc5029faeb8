/*
 * es9p.c - ES9+ client over libcurl (see esimctl/es9p.h).
 *
 * Two halves: the pure part (JSON requests and responses, es9p_internal.h) and the
 * session part: one libcurl easy handle per session, so every request of a session
 * rides one keep-alive TLS connection (SGP.22 §2.6.6: HTTPS, TLS 1.2, server
 * authentication).  This file is built into esimctl-rsp.so only: the esimctl binary
 * never maps libcurl or libssl.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/rspcrypto.h"
#include "esimctl/der.h"
#include "esimctl/es9p.h"
#include "esimctl/secrets.h"
#include "rsp/es9p_internal.h"

#if LIBCURL_VERSION_NUM < 0x075700
#error "esimctl needs libcurl 7.87 or newer (CURLOPT_CA_CACHE_TIMEOUT, CURLOPT_CAINFO_BLOB)"
#endif

/* ---- functions ---- */

static const struct {
	const char *name;
	const char *path;
	const char *field;      /* the TLV field of the request */
} fns[] = {
	[ES9P_INITIATE_AUTHENTICATION] = { "initiateAuthentication",
		"/gsma/rsp2/es9plus/initiateAuthentication", "euiccInfo1" },
	[ES9P_AUTHENTICATE_CLIENT] = { "authenticateClient",
		"/gsma/rsp2/es9plus/authenticateClient", "authenticateServerResponse" },
	[ES9P_GET_BPP] = { "getBoundProfilePackage",
		"/gsma/rsp2/es9plus/getBoundProfilePackage", "prepareDownloadResponse" },
	[ES9P_HANDLE_NOTIFICATION] = { "handleNotification",
		"/gsma/rsp2/es9plus/handleNotification", "pendingNotification" },
	[ES9P_CANCEL_SESSION] = { "cancelSession",
		"/gsma/rsp2/es9plus/cancelSession", "cancelSessionResponse" },
};

const char *es9p_fn_name(enum es9p_fn fn)
{
	return (unsigned)fn < sizeof(fns) / sizeof(fns[0]) ? fns[fn].name : "?";
}

const char *es9p_fn_path(enum es9p_fn fn)
{
	return (unsigned)fn < sizeof(fns) / sizeof(fns[0]) ? fns[fn].path : "/";
}

int es9p_txid_valid(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n < 2 || n > 2 * ES9P_TXID_MAX || n % 2)
		return 0;
	return strspn(s, "0123456789abcdefABCDEF") == n;
}

/* ---- result structs ---- */

void es9p_auth1_init(struct es9p_auth1 *a)
{
	memset(a, 0, sizeof(*a));
	buf_init(&a->server_signed1, 0);
	buf_init(&a->server_signature1, 0);
	buf_init(&a->euicc_ci_pkid, 0);
	buf_init(&a->server_certificate, 0);
}

void es9p_auth1_release(struct es9p_auth1 *a)
{
	if (!a)
		return;
	buf_release(&a->server_signed1);
	buf_release(&a->server_signature1);
	buf_release(&a->euicc_ci_pkid);
	buf_release(&a->server_certificate);
	es9p_auth1_init(a);
}

void es9p_auth2_init(struct es9p_auth2 *a)
{
	buf_init(&a->profile_metadata, 0);
	buf_init(&a->smdp_signed2, 0);
	buf_init(&a->smdp_signature2, 0);
	buf_init(&a->smdp_certificate, 0);
}

void es9p_auth2_release(struct es9p_auth2 *a)
{
	if (!a)
		return;
	buf_release(&a->profile_metadata);
	buf_release(&a->smdp_signed2);
	buf_release(&a->smdp_signature2);
	buf_release(&a->smdp_certificate);
	es9p_auth2_init(a);
}

/* ---- JSON helpers ---- */

static void json_wipe(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			secure_wipe(item->valuestring, strlen(item->valuestring));
		json_wipe(item->child);
	}
}

/* cJSON_Delete after wiping every string in the tree: bodies carry session secrets. */
static void json_free(cJSON *root)
{
	if (root) {
		json_wipe(root);
		cJSON_Delete(root);
	}
}

static int oom(struct esim_err *err)
{
	return esim_fail(err, ESIM_E_OTHER, "out of memory building an ES9+ request");
}

static int add_b64(cJSON *obj, const char *name, const uint8_t *data, size_t len)
{
	struct buf b = BUF_INIT;
	int ok;

	base64_encode(data, len, &b);
	ok = cJSON_AddStringToObject(obj, name, b.buf) != NULL;
	buf_wipe_release(&b);
	return ok ? 0 : -1;
}

/* Serialise obj into out and free it (wiped). */
static int finish_request(cJSON *obj, struct buf *out, struct esim_err *err)
{
	char *text = cJSON_PrintUnformatted(obj);

	json_free(obj);
	if (!text)
		return oom(err);
	buf_addstr(out, text);
	secure_wipe(text, strlen(text));
	cJSON_free(text);
	return 0;
}

/* ---- requests ---- */

int es9p_build_initiate_authentication(const char *smdp_address, const uint8_t challenge[16],
				       const uint8_t *euicc_info1, size_t len, struct buf *out,
				       struct esim_err *err)
{
	cJSON *obj;

	if (!smdp_address || !*smdp_address || !challenge || !euicc_info1 || !len)
		return esim_fail(err, ESIM_E_OTHER, "initiateAuthentication: missing argument");
	if (!(obj = cJSON_CreateObject()))
		return oom(err);
	/* euiccChallenge is the one binary field sent raw, not as a TLV (SGP.22 §6.5.2.6). */
	if (!cJSON_AddStringToObject(obj, "smdpAddress", smdp_address) ||
	    add_b64(obj, "euiccChallenge", challenge, 16) < 0 ||
	    add_b64(obj, "euiccInfo1", euicc_info1, len) < 0) {
		json_free(obj);
		return oom(err);
	}
	return finish_request(obj, out, err);
}

int es9p_build_txid_request(enum es9p_fn fn, const char *txid_hex, const uint8_t *tlv,
			    size_t len, struct buf *out, struct esim_err *err)
{
	cJSON *obj;

	if (fn != ES9P_AUTHENTICATE_CLIENT && fn != ES9P_GET_BPP && fn != ES9P_CANCEL_SESSION)
		return esim_fail(err, ESIM_E_OTHER, "%s takes no transaction id", es9p_fn_name(fn));
	if (!es9p_txid_valid(txid_hex))
		return esim_fail(err, ESIM_E_OTHER, "%s: invalid transaction id '%.40s'",
				 es9p_fn_name(fn), txid_hex ? txid_hex : "(null)");
	if (!tlv || !len)
		return esim_fail(err, ESIM_E_OTHER, "%s: empty %s", es9p_fn_name(fn), fns[fn].field);
	if (!(obj = cJSON_CreateObject()))
		return oom(err);
	/* The transactionId goes back exactly as the SM-DP+ wrote it. */
	if (!cJSON_AddStringToObject(obj, "transactionId", txid_hex) ||
	    add_b64(obj, fns[fn].field, tlv, len) < 0) {
		json_free(obj);
		return oom(err);
	}
	return finish_request(obj, out, err);
}

int es9p_build_handle_notification(const uint8_t *tlv, size_t len, struct buf *out,
				   struct esim_err *err)
{
	cJSON *obj;

	if (!tlv || !len)
		return esim_fail(err, ESIM_E_OTHER, "handleNotification: empty pendingNotification");
	if (!(obj = cJSON_CreateObject()))
		return oom(err);
	if (add_b64(obj, "pendingNotification", tlv, len) < 0) {
		json_free(obj);
		return oom(err);
	}
	return finish_request(obj, out, err);
}

/* ---- responses ---- */

static int malformed(struct esim_err *err, enum es9p_fn fn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int malformed(struct esim_err *err, enum es9p_fn fn, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return esim_fail(err, ESIM_E_SMDP, "invalid response from the SM-DP+ to %s: %s",
			 es9p_fn_name(fn), what);
}

int es9p_check_http(enum es9p_fn fn, int status, const char *location, struct esim_err *err)
{
	if (status >= 200 && status <= 299)
		return 0;
	if (status >= 300 && status <= 399) {
		if (location && *location)
			esim_fail(err, ESIM_E_NETWORK,
				  "SM-DP+ answered HTTP %d to %s, redirecting to '%.300s' (redirects are not followed)",
				  status, es9p_fn_name(fn), location);
		else
			esim_fail(err, ESIM_E_NETWORK,
				  "SM-DP+ answered HTTP %d to %s, a redirect without a location (redirects are not followed)",
				  status, es9p_fn_name(fn));
		return esim_hint(err, "check the SM-DP+ address");
	}
	esim_fail(err, ESIM_E_NETWORK, "SM-DP+ answered HTTP %d to %s", status, es9p_fn_name(fn));
	if (status == 404)
		return esim_hint(err, "check the SM-DP+ address");
	return -1;
}

/* Parse exactly one JSON object filling json[0..len) (whitespace around it allowed). */
static int parse_object(enum es9p_fn fn, const char *json, size_t len, cJSON **root,
			struct esim_err *err)
{
	const char *end = NULL;
	size_t i;

	*root = NULL;
	if (!json || !len)
		return malformed(err, fn, "empty body");
	*root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!*root)
		return malformed(err, fn, "not JSON");
	for (i = (size_t)(end - json); i < len; i++) {
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\r' && json[i] != '\n') {
			json_free(*root);
			*root = NULL;
			return malformed(err, fn, "data after the JSON object");
		}
	}
	if (!cJSON_IsObject(*root)) {
		json_free(*root);
		*root = NULL;
		return malformed(err, fn, "not a JSON object");
	}
	return 0;
}

/* Keep a code only when it looks like one ("8.2.6"); the server's text is not trusted. */
static void copy_code(char *dst, size_t size, const cJSON *v)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	size_t n = s ? strlen(s) : 0;

	dst[0] = '\0';
	if (n && n < size && strspn(s, "0123456789.") == n)
		memcpy(dst, s, n + 1);
}

/*
 * Every piece of server text enters esimctl here.  The copy is printable (control
 * characters become spaces, UTF-8 kept whole) and masked: the server may quote the
 * matching ID or the confirmation code (secrets.h), so they are masked in the whole text
 * before it is cut to size (a quote cut in half is still masked).
 */
static void copy_text(char *dst, size_t size, const char *src)
{
	char *whole = xstrdup(src);
	const char *s = whole;
	size_t n = 0;

	secret_mask(whole);
	for (; *s && n + 1 < size; s++)
		dst[n++] = ((unsigned char)*s < 0x20 || *s == 0x7F) ? ' ' : *s;
	if (*s) {
		/* Truncated: do not leave half a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)dst[n - 1] & 0xC0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)dst[n - 1] >= 0xC0)
			n--;
	}
	dst[n] = '\0';
	secure_wipe(whole, strlen(whole));
	free(whole);
}

static int refusal(enum es9p_fn fn, const char *status, const cJSON *fes, struct esim_err *err)
{
	const cJSON *scd = cJSON_GetObjectItemCaseSensitive(fes, "statusCodeData");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(scd, "message");
	char subject[sizeof(err->subject_code)], reason[sizeof(err->reason_code)];
	char msg[sizeof(err->msg)], hint[sizeof(err->hint)];

	copy_code(subject, sizeof(subject), cJSON_GetObjectItemCaseSensitive(scd, "subjectCode"));
	copy_code(reason, sizeof(reason), cJSON_GetObjectItemCaseSensitive(scd, "reasonCode"));
	hint[0] = '\0';
	if (subject[0] && reason[0])
		es9p_error_explain(subject, reason, msg, sizeof(msg), hint, sizeof(hint));
	else if (strcmp(status, "Expired") == 0)
		snprintf(msg, sizeof(msg), "the SM-DP+ reports %s as expired (no reason given)",
			 es9p_fn_name(fn));
	else
		snprintf(msg, sizeof(msg), "the SM-DP+ refused %s (no reason given)", es9p_fn_name(fn));
	esim_fail(err, ESIM_E_SMDP, "%s", msg);
	if (!err)
		return -1;
	if (hint[0])
		esim_hint(err, "%s", hint);
	memcpy(err->subject_code, subject, sizeof(subject));
	memcpy(err->reason_code, reason, sizeof(reason));
	if (subject[0] && reason[0])
		snprintf(err->detail, sizeof(err->detail), "ES9+ %s/%s", subject, reason);
	else
		snprintf(err->detail, sizeof(err->detail), "ES9+ %s %s", es9p_fn_name(fn), status);
	if (cJSON_IsString(m))
		copy_text(err->smdp_message, sizeof(err->smdp_message), m->valuestring);
	return -1;
}

/*
 * header.functionExecutionStatus (SGP.22 §6.5.1.4): 0 on success or warning, -1 malformed,
 * -2 refused (Failed or Expired).
 */
static int check_header(enum es9p_fn fn, const cJSON *root, struct esim_err *err)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "header");
	const cJSON *fes = cJSON_GetObjectItemCaseSensitive(h, "functionExecutionStatus");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(fes, "status");
	char shown[64];

	if (!cJSON_IsObject(h))
		return malformed(err, fn, h ? "header is not an object" : "no header");
	if (!cJSON_IsObject(fes))
		return malformed(err, fn, "no header.functionExecutionStatus object");
	if (!cJSON_IsString(st))
		return malformed(err, fn, "no functionExecutionStatus.status string");
	if (strcmp(st->valuestring, "Executed-Success") == 0 ||
	    strcmp(st->valuestring, "Executed-WithWarning") == 0)
		return 0;
	if (strcmp(st->valuestring, "Failed") == 0 || strcmp(st->valuestring, "Expired") == 0) {
		refusal(fn, st->valuestring, fes, err);
		return -2;
	}
	copy_text(shown, sizeof(shown), st->valuestring);
	return malformed(err, fn, "unknown status '%s'", shown);
}

static int get_string(enum es9p_fn fn, const cJSON *root, const char *name, const char **out,
		      struct esim_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!v)
		return malformed(err, fn, "no %s", name);
	if (!cJSON_IsString(v))
		return malformed(err, fn, "%s is not a string", name);
	*out = v->valuestring;
	return 0;
}

/* A base64 field holding exactly one DER TLV with the expected outer tag. */
static int get_tlv(enum es9p_fn fn, const cJSON *root, const char *name, uint32_t tag,
		   struct buf *out, struct esim_err *err)
{
	struct der_node n;
	const char *s = NULL;

	if (get_string(fn, root, name, &s, err) < 0)
		return -1;
	buf_reset(out);
	/* base64_decode skips whitespace: SM-DP+ base64 may be wrapped (lpac es9p_base64_trim). */
	if (base64_decode(s, strlen(s), out) < 0)
		return malformed(err, fn, "%s is not valid base64", name);
	if (out->len == 0)
		return malformed(err, fn, "%s is empty", name);
	if (der_parse((const uint8_t *)out->buf, out->len, &n) < 0)
		return malformed(err, fn, "%s is not one DER TLV", name);
	if (n.tag != tag)
		return malformed(err, fn, "%s has tag %X, expected %X", name, (unsigned)n.tag,
				 (unsigned)tag);
	return 0;
}

static int get_txid(enum es9p_fn fn, const cJSON *root, const char **out, struct esim_err *err)
{
	char shown[48];

	if (get_string(fn, root, "transactionId", out, err) < 0)
		return -1;
	if (!es9p_txid_valid(*out)) {
		copy_text(shown, sizeof(shown), *out);
		return malformed(err, fn, "transactionId '%s' is not 1 to 16 bytes in hex", shown);
	}
	return 0;
}

/* The response's transactionId must be the one sent (hex, compared case-insensitively). */
static int check_txid(enum es9p_fn fn, const cJSON *root, const char *sent, struct esim_err *err)
{
	const char *got;

	if (get_txid(fn, root, &got, err) < 0)
		return -1;
	if (strlen(got) != strlen(sent) || strcasecmp(got, sent) != 0)
		return malformed(err, fn, "transactionId %s does not match %s", got, sent);
	return 0;
}

/*
 * ServerSigned1 and SmdpSigned2 both start with transactionId [0] (tag 80).  The JSON
 * transactionId and the signed one must be the same: the eUICC will check the signed
 * one against its session, and a mismatch found here gives a clearer message.
 */
static int check_signed_txid(enum es9p_fn fn, const char *name, const struct buf *sig,
			     const char *txid_hex, struct esim_err *err)
{
	struct der_node top, t;
	struct buf want = BUF_INIT;
	int same;

	if (der_parse((const uint8_t *)sig->buf, sig->len, &top) < 0 ||
	    der_find(&top, 0x80, &t) != 1)
		return malformed(err, fn, "%s has no transactionId", name);
	if (hex_decode(txid_hex, &want) < 0)
		return malformed(err, fn, "transactionId is not hex");
	same = t.len == want.len && memcmp(t.value, want.buf, want.len) == 0;
	buf_release(&want);
	if (!same)
		return malformed(err, fn, "the transactionId in %s is not %s", name, txid_hex);
	return 0;
}

int es9p_parse_initiate_authentication(const char *json, size_t len, struct es9p_auth1 *out,
				       struct esim_err *err)
{
	const enum es9p_fn fn = ES9P_INITIATE_AUTHENTICATION;
	struct buf bin = BUF_INIT;
	cJSON *root;
	const char *txid;
	int ret = -1;

	es9p_auth1_init(out);
	if (parse_object(fn, json, len, &root, err) < 0)
		return -1;
	if (check_header(fn, root, err) < 0 || get_txid(fn, root, &txid, err) < 0 ||
	    get_tlv(fn, root, "serverSigned1", 0x30, &out->server_signed1, err) < 0 ||
	    get_tlv(fn, root, "serverSignature1", 0x5F37, &out->server_signature1, err) < 0 ||
	    get_tlv(fn, root, "euiccCiPKIdToBeUsed", 0x04, &out->euicc_ci_pkid, err) < 0 ||
	    get_tlv(fn, root, "serverCertificate", 0x30, &out->server_certificate, err) < 0 ||
	    check_signed_txid(fn, "serverSigned1", &out->server_signed1, txid, err) < 0)
		goto out;
	if (hex_decode(txid, &bin) < 0 || bin.len > sizeof(out->txid)) {
		malformed(err, fn, "transactionId is not hex");
		goto out;
	}
	memcpy(out->transaction_id, txid, strlen(txid) + 1);
	memcpy(out->txid, bin.buf, bin.len);
	out->txid_len = bin.len;
	ret = 0;
out:
	if (ret < 0)
		es9p_auth1_release(out);
	buf_release(&bin);
	json_free(root);
	return ret;
}

int es9p_parse_authenticate_client(const char *json, size_t len, const char *txid_hex,
				   struct es9p_auth2 *out, struct esim_err *err)
{
	const enum es9p_fn fn = ES9P_AUTHENTICATE_CLIENT;
	cJSON *root;
	int ret = -1;

	es9p_auth2_init(out);
	if (parse_object(fn, json, len, &root, err) < 0)
		return -1;
	if (check_header(fn, root, err) < 0 || check_txid(fn, root, txid_hex, err) < 0 ||
	    get_tlv(fn, root, "profileMetadata", 0xBF25, &out->profile_metadata, err) < 0 ||
	    get_tlv(fn, root, "smdpSigned2", 0x30, &out->smdp_signed2, err) < 0 ||
	    get_tlv(fn, root, "smdpSignature2", 0x5F37, &out->smdp_signature2, err) < 0 ||
	    get_tlv(fn, root, "smdpCertificate", 0x30, &out->smdp_certificate, err) < 0 ||
	    check_signed_txid(fn, "smdpSigned2", &out->smdp_signed2, txid_hex, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		es9p_auth2_release(out);
	json_free(root);
	return ret;
}

int es9p_parse_get_bpp(const char *json, size_t len, const char *txid_hex, struct buf *bpp,
		       struct esim_err *err)
{
	const enum es9p_fn fn = ES9P_GET_BPP;
	cJSON *root;
	int ret = -1;

	buf_reset(bpp);
	if (parse_object(fn, json, len, &root, err) < 0)
		return -1;
	if (check_header(fn, root, err) < 0 || check_txid(fn, root, txid_hex, err) < 0 ||
	    get_tlv(fn, root, "boundProfilePackage", 0xBF36, bpp, err) < 0) {
		buf_reset(bpp);
		goto out;
	}
	ret = 0;
out:
	json_free(root);
	return ret;
}

int es9p_parse_cancel_session(const char *json, size_t len, struct esim_err *err)
{
	cJSON *root;
	int ret;

	if (parse_object(ES9P_CANCEL_SESSION, json, len, &root, err) < 0)
		return -1;
	ret = check_header(ES9P_CANCEL_SESSION, root, err) < 0 ? -1 : 0;
	json_free(root);
	return ret;
}

int es9p_parse_handle_notification(const char *body, size_t len, struct esim_err *err)
{
	struct esim_err tmp = { 0 };
	cJSON *root;
	int ret = 0;

	/* 204 and an empty body is the norm; lpac accepts any 2xx whatever the body. */
	if (!body || !len)
		return 0;
	root = cJSON_ParseWithLength(body, len);
	/* Only an explicit refusal counts; a body we cannot read is ignored. */
	if (cJSON_IsObject(root) && check_header(ES9P_HANDLE_NOTIFICATION, root, &tmp) == -2) {
		if (err)
			*err = tmp;
		ret = -1;
	}
	json_free(root);
	return ret;
}

/* ---- the session: one libcurl easy handle ---- */

#define MAX_CA_FILE_SIZE (4L * 1024 * 1024)
#define MAX_MESSAGE 1024

/* Response body accumulated by the write callback. */
struct body {
	struct buf *out;
	size_t limit;
	int too_big;
	int headers_done;  /* the blank line that ends the response header was seen */
};

struct es9p {
	CURL *curl;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	struct buf trust;       /* PEM: the built-in bundle, then every CA file */
	int config_status;      /* non-zero: every request fails with config_error */
	char config_error[MAX_MESSAGE];
	char errbuf[CURL_ERROR_SIZE];
	size_t max_body;
	int system_ca;          /* also libcurl's default CA file and directory */
	char *sys_cafile, *sys_capath;
	unsigned requests, connections, handshakes;
	char address[256];
	char base[300];         /* https://address */
};

/* Strict unsigned decimal, at most max; advances *p.  -1 when there is none. */
static int parse_num(const char **p, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > max)
			return -1;
	}
	*p = s;
	*out = v;
	return 0;
}

static void config_fail(struct es9p *s, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void config_fail(struct es9p *s, int status, const char *fmt, ...)
{
	va_list ap;

	if (s->config_status)
		return;         /* the first problem is the one reported */
	va_start(ap, fmt);
	vsnprintf(s->config_error, sizeof(s->config_error), fmt, ap);
	va_end(ap);
	s->config_status = status;
}

/* ---- trust anchors ---- */

/* Append every certificate of a PEM or DER blob to out as PEM; the count, -1 if invalid. */
static int certs_to_pem(const uint8_t *data, size_t size, struct buf *out)
{
	BIO *pem = BIO_new(BIO_s_mem());
	char *text;
	long len;
	int n = 0;

	if (!pem)
		return -1;
	ERR_clear_error();
	if (memmem(data, size, "-----BEGIN", 10)) {
		BIO *in = BIO_new_mem_buf(data, (int)size);
		X509 *x;

		while (in && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
			n = PEM_write_bio_X509(pem, x) ? n + 1 : -1;
			X509_free(x);
			if (n < 0)
				break;
		}
		BIO_free(in);
		/* The loop ends with "no start line" at the end of the data; anything else is bad. */
		if (n >= 0 && ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
			n = -1;
	} else {
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, (long)size);

		n = x && p == data + size && PEM_write_bio_X509(pem, x) ? 1 : -1;
		X509_free(x);
	}
	ERR_clear_error();
	if (n > 0 && (len = BIO_get_mem_data(pem, &text)) > 0)
		buf_add(out, text, (size_t)len);
	BIO_free(pem);
	return n;
}

/* Read a CA file (PEM with any number of certificates, or one DER certificate). */
static void add_ca_file(struct es9p *s, const char *path)
{
	struct buf data = BUF_INIT;
	char chunk[8192];
	size_t got;
	FILE *f;
	int n;

	if (!(f = fopen(path, "rb"))) {
		config_fail(s, ESIM_E_USAGE, "cannot open CA file '%s': %s", path, strerror(errno));
		return;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && data.len <= (size_t)MAX_CA_FILE_SIZE)
		buf_add(&data, chunk, got);
	if (ferror(f) || data.len > (size_t)MAX_CA_FILE_SIZE)
		config_fail(s, ESIM_E_USAGE,
			    "cannot read CA file '%s': not a regular file or larger than %ld bytes",
			    path, MAX_CA_FILE_SIZE);
	else if ((n = certs_to_pem((const uint8_t *)data.buf, data.len, &s->trust)) <= 0)
		config_fail(s, ESIM_E_USAGE, n < 0 ? "CA file '%s' holds an invalid certificate"
						   : "CA file '%s' holds no certificate", path);
	fclose(f);
	buf_release(&data);
}

int es9p_leaf_has_dns_san(X509 *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int i, dns = 0;

	for (i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type == GEN_DNS && ASN1_STRING_length(g->d.dNSName) > 0)
			dns = 1;
	}
	GENERAL_NAMES_free(names);
	return dns;
}

/*
 * OpenSSL verify callback: the chain has been checked by then; on top of it the leaf
 * must carry a subjectAltName dNSName.  SGP.22 §2.6.6 (the TLS profile of ES9+) takes
 * the server certificate profile of RFC 5280 with the SM-DP+'s FQDN in subjectAltName;
 * without one libcurl would fall back to the subject CN (RFC 6125 §6.4.4), which the
 * profile does not allow.
 */
static int verify_leaf(int ok, X509_STORE_CTX *ctx)
{
	if (!ok || X509_STORE_CTX_get_error_depth(ctx) != 0)
		return ok;
	if (!es9p_leaf_has_dns_san(X509_STORE_CTX_get_current_cert(ctx))) {
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/*
 * CURLOPT_SSL_CTX_FUNCTION: libcurl has set SSL_VERIFY_PEER without a callback; keep the
 * mode and add the leaf check.  With system_ca, the system store joins the trust anchors
 * here (libcurl 7.88 loads only the blob once CURLOPT_CAINFO_BLOB is set).  The protocol cap is set here too, so that even a
 * libcurl that ignored CURL_SSLVERSION_MAX_TLSv1_2 stays at TLS 1.2.
 */
static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *userdata)
{
	struct es9p *s = userdata;

	(void)curl;
	SSL_CTX_set_verify(sslctx, SSL_VERIFY_PEER, verify_leaf);
	/* The system store, asked for explicitly: libcurl's compiled-in locations. */
	if (s->system_ca && (s->sys_cafile || s->sys_capath) &&
	    !SSL_CTX_load_verify_locations(sslctx, s->sys_cafile, s->sys_capath)) {
		ERR_clear_error();
		snprintf(s->errbuf, sizeof(s->errbuf), "cannot load the system CA store (%s%s%s)",
			 s->sys_cafile ? s->sys_cafile : "", s->sys_cafile && s->sys_capath ? ", " : "",
			 s->sys_capath ? s->sys_capath : "");
		return CURLE_SSL_CACERT_BADFILE;
	}
	if (!SSL_CTX_set_min_proto_version(sslctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(sslctx, TLS1_2_VERSION))
		return CURLE_SSL_CIPHER;
	return CURLE_OK;
}

/* ---- names ---- */

/* curl's --resolve syntax, checked loosely: HOST:PORT:ADDR[,ADDR]..., printable. */
static int valid_resolve(const char *e)
{
	const char *c1 = strchr(e, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2 || c1 == e || c2 == c1 + 1 || !c2[1])
		return 0;
	for (; *e; e++)
		if ((unsigned char)*e <= 0x20 || (unsigned char)*e >= 0x7F)
			return 0;
	return 1;
}

/* ESIMCTL_RESOLVE: comma-separated HOST:PORT:ADDR entries (curl --resolve), one address each. */
static void add_resolve_env(struct es9p *s)
{
	const char *env = getenv("ESIMCTL_RESOLVE");
	char *copy, *p, *comma;

	if (!env || !*env)
		return;
	copy = xstrdup(env);
	for (p = copy; p; p = comma) {
		struct curl_slist *n;

		comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (!*p)
			continue;
		if (!valid_resolve(p)) {
			config_fail(s, ESIM_E_USAGE, "ESIMCTL_RESOLVE entry '%.200s': expected HOST:PORT:ADDR", p);
			continue;
		}
		if (!(n = curl_slist_append(s->resolve, p)))
			config_fail(s, ESIM_E_OTHER, "out of memory");
		else
			s->resolve = n;
	}
	free(copy);
}

/* ---- one request ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (n > b->limit - b->out->len) {
		b->too_big = 1;
		return 0;       /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	buf_add(b->out, ptr, n);
	return n;
}

/*
 * libcurl takes "HTTP/1.1 200 OK\r\nSer" followed by a closed connection for a complete
 * 200 with no body; noting the end of the header block lets us call that a network
 * failure instead.
 */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if ((n == 2 && ptr[0] == '\r' && ptr[1] == '\n') || (n == 1 && ptr[0] == '\n'))
		b->headers_done = 1;
	else
		b->headers_done = 0; /* a 1xx block ended; the final header follows */
	return n;
}

static void account(struct es9p *s)
{
	long conns = 0;
	curl_off_t appconnect = 0;

	s->requests++;
	if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0) {
		s->connections += (unsigned)conns;
		/* A new connection whose TLS handshake completed. */
		if (curl_easy_getinfo(s->curl, CURLINFO_APPCONNECT_TIME_T, &appconnect) == CURLE_OK &&
		    appconnect > 0)
			s->handshakes++;
	}
}

static const char *tls_hint(const char *msg)
{
	if (strstr(msg, "no subjectAltName DNS name"))
		return "the SM-DP+'s TLS certificate names its host only in the subject CN; SGP.22 "
		       "requires the name in subjectAltName: the server's certificate must be fixed";
	if (strstr(msg, "unable to get local issuer certificate") ||
	    strstr(msg, "self-signed certificate") || strstr(msg, "unable to verify the first"))
		return "the SM-DP+'s TLS certificate does not chain to a trusted CA: pass the CI of "
		       "a test or private SM-DP+ with --ca (the GSMA CI is built in); "
		       "--trust-system-ca only knowing the risk (docs/trust.md)";
	if (strstr(msg, "certificate has expired"))
		return "the SM-DP+'s TLS certificate has expired (or this system's clock is wrong)";
	if (strstr(msg, "hostname mismatch"))
		return "the TLS certificate is not for this host: check the SM-DP+ address";
	if (strstr(msg, "Could not resolve host"))
		return "check the SM-DP+ address and the network connection";
	if (strstr(msg, "timed out"))
		return "check the network connection, or try again later";
	return NULL;
}

/* A failed transfer: curl's text, plus OpenSSL's verify result for trust failures. */
static int transfer_failed(struct es9p *s, const char *what, CURLcode rc, const struct body *b,
			   struct esim_err *err)
{
	const char *text = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	const char *verify = NULL, *hint;
	char msg[MAX_MESSAGE + 128];
	long result = X509_V_OK;

	if (b->too_big) {
		snprintf(msg, sizeof(msg), "response larger than %zu bytes", s->max_body);
	} else {
		/*
		 * libcurl sets the verify result to X509_V_ERR_UNSPECIFIED when a handshake
		 * starts and stores OpenSSL's once the chain has been checked, but returns
		 * before storing it when its own host name check fails.  So, for failures of
		 * this handshake only: a real result names the chain problem; a peer
		 * verification failure without one, about the host name, is that.
		 */
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR) {
			if (curl_easy_getinfo(s->curl, CURLINFO_SSL_VERIFYRESULT, &result) != CURLE_OK)
				result = X509_V_ERR_UNSPECIFIED;
			if (result == X509_V_ERR_APPLICATION_VERIFICATION)
				verify = "the server's certificate has no subjectAltName DNS name "
					 "(its subject CN is not accepted)";
			else if (result != X509_V_OK && result != X509_V_ERR_UNSPECIFIED)
				verify = X509_verify_cert_error_string(result);
			else if (rc == CURLE_PEER_FAILED_VERIFICATION && strstr(text, "host name"))
				verify = X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH);
		}
		if (verify && !strstr(text, verify))
			snprintf(msg, sizeof(msg), "%s: %s", text, verify);
		else
			snprintf(msg, sizeof(msg), "%s", text);
	}
	copy_text(msg, sizeof(msg), msg);
	esim_fail(err, ESIM_E_NETWORK, "%s to SM-DP+ '%s' failed: %s", what, s->address, msg);
	if ((hint = tls_hint(msg)) != NULL)
		esim_hint(err, "%s", hint);
	return -1;
}

/* A Location for messages: bytes outside 0x21..0x7E percent-encoded, bounded. */
static void format_location(const char *loc, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *loc && n + 4 < size; loc++) {
		unsigned char c = (unsigned char)*loc;

		if (c > 0x20 && c < 0x7F) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

int es9p_post(struct es9p *s, const char *path, const struct buf *req, const char *what,
	      int *status, struct buf *resp, char *location, size_t locsz, struct esim_err *err)
{
	char url[sizeof(s->base) + 512];
	struct body b = { resp, s->max_body, 0, 0 };
	char *redirect = NULL;
	long code = 0;
	CURLcode rc;

	buf_wipe_release(resp);
	location[0] = '\0';
	if (s->config_status)
		return esim_fail(err, s->config_status, "%s to SM-DP+ '%s' failed: %s", what,
				 s->address, s->config_error);
	if (!path || path[0] != '/' || strlen(path) >= 512)
		return esim_fail(err, ESIM_E_OTHER, "%s: bad request path", what);
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, req->len ? req->buf : "");
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, &b);
	rc = curl_easy_perform(s->curl);
	account(s);
	/* Take the request away from libcurl: the caller wipes and frees it. */
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	if (rc != CURLE_OK) {
		transfer_failed(s, what, rc, &b, err);
		buf_wipe_release(resp);
		return -1;
	}
	if (!b.headers_done) {
		buf_wipe_release(resp);
		return esim_fail(err, ESIM_E_NETWORK,
				 "%s to SM-DP+ '%s' failed: the connection closed inside the response header",
				 what, s->address);
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300 && code < 400 &&
	    curl_easy_getinfo(s->curl, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
		format_location(redirect, location, locsz);
	*status = (int)code;
	return 0;
}

/* es9p_post + the HTTP status check; the request is wiped whatever happens. */
static int call(struct es9p *s, enum es9p_fn fn, struct buf *req, struct buf *resp,
		struct esim_err *err)
{
	char location[2048];
	int status = 0, ret;

	if (!s) {
		buf_wipe_release(req);
		return esim_fail(err, ESIM_E_OTHER, "%s: no ES9+ session", es9p_fn_name(fn));
	}
	ret = es9p_post(s, es9p_fn_path(fn), req, es9p_fn_name(fn), &status, resp, location,
			sizeof(location), err);
	buf_wipe_release(req);
	if (ret == 0)
		ret = es9p_check_http(fn, status, location, err);
	return ret;
}

/* "host" or "host:port": DNS name or IPv4 (or [IPv6]), port 1..65535. */
static int valid_address(const char *a)
{
	const char *p = a;
	size_t n;

	if (!a || !*a || strlen(a) >= sizeof(((struct es9p *)0)->address))
		return 0;
	if (*p == '[') {
		n = strspn(p + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || p[1 + n] != ']')
			return 0;
		p += n + 2;
	} else {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (n == 0 || p[0] == '.' || p[0] == '-')
			return 0;
		p += n;
	}
	if (*p == ':') {
		unsigned long long port;

		p++;
		if (parse_num(&p, 65535, &port) < 0 || port == 0)
			return 0;
	}
	return *p == '\0';
}

/*
 * The easy handle and its fixed policy.  Every option that matters for security is
 * checked: a libcurl that silently ignored one would run with a weaker policy than this
 * file shows.
 */
static int setup_curl(struct es9p *s, long connect_ms, long timeout_ms, int system_ca,
		      struct esim_err *err)
{
	static const char *const headers[] = {
		/* the HTTP header of ES9+ requests (SGP.22 §6.5.1, HTTP binding of ES9+) */
		"Content-Type: application/json",
		"X-Admin-Protocol: gsma/rsp/v2.2.0",
		"User-Agent: gsma-rsp-lpad",
		"Expect:",
	};
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	struct curl_blob blob;
	CURL *c;
	size_t i;

	if (!v->ssl_version || strncmp(v->ssl_version, "OpenSSL", 7) != 0)
		return esim_fail(err, ESIM_E_NETWORK, "libcurl %s uses %s, esimctl needs it with OpenSSL",
				 v->version, v->ssl_version ? v->ssl_version : "no TLS");
	if (!(c = s->curl = curl_easy_init()))
		return esim_fail(err, ESIM_E_NETWORK, "cannot initialise libcurl");
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct curl_slist *n = curl_slist_append(s->headers, headers[i]);

		if (!n)
			return esim_fail(err, ESIM_E_OTHER, "out of memory");
		s->headers = n;
	}
	if (system_ca) {
		char *p = NULL;

		s->system_ca = 1;
		if (curl_easy_getinfo(c, CURLINFO_CAINFO, &p) == CURLE_OK && p)
			s->sys_cafile = xstrdup(p);
		p = NULL;
		if (curl_easy_getinfo(c, CURLINFO_CAPATH, &p) == CURLE_OK && p)
			s->sys_capath = xstrdup(p);
	}
	blob.data = s->trust.buf;
	blob.len = s->trust.len;
	blob.flags = CURL_BLOB_COPY;
	/*
	 * Trust: the PEM blob (built-in ES9+ bundle + CA files) and nothing else.  libcurl's
	 * compiled-in CA file and directory (the system store) are cleared, and added back
	 * in on_ssl_ctx only when the user asked for them; the CA cache is off so no store
	 * from another handle sneaks in.
	 * TLS 1.2 exactly: SGP.22 §2.6.6 profiles ES9+ on TLS 1.2 (docs/sgp22.md, "TLS").
	 */
	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
			     (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAINFO, (char *)NULL) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, s) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    /* SGP.22 §2.6.6 allows brainpoolP256r1 TLS certificates: offer the groups too */
	    curl_easy_setopt(c, CURLOPT_SSL_EC_CURVES,
			     "X25519:P-256:P-384:P-521:brainpoolP256r1:brainpoolP384r1:brainpoolP512r1") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK ||
	    (s->resolve && curl_easy_setopt(c, CURLOPT_RESOLVE, s->resolve) != CURLE_OK))
		return esim_fail(err, ESIM_E_NETWORK, "libcurl %s refused a required option", v->version);
	return 0;
}

int es9p_open(const char *smdp_address, const struct es9p_opts *o, struct es9p **out,
	      struct esim_err *err)
{
	static int curl_ready;
	struct es9p *s;
	size_t i, nca = o ? o->nca : 0;
	long connect_ms, timeout_ms;

	*out = NULL;
	if (!valid_address(smdp_address))
		return esim_fail(err, ESIM_E_USAGE, "invalid SM-DP+ address '%.200s'",
				 smdp_address ? smdp_address : "");
	for (i = 0; i < nca; i++)
		if (!o->ca_files || !o->ca_files[i] || !*o->ca_files[i])
			return esim_fail(err, ESIM_E_OTHER, "es9p_open: CA file %zu missing", i);
	if (nca > ES9P_MAX_CA_FILES)
		return esim_fail(err, ESIM_E_USAGE, "too many CA files (%zu, at most %d)", nca,
				 ES9P_MAX_CA_FILES);
	connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : ES9P_DEFAULT_CONNECT_TIMEOUT_MS;
	timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : ES9P_DEFAULT_TIMEOUT_MS;
	if (connect_ms > ES9P_MAX_TIMEOUT_MS)
		connect_ms = ES9P_MAX_TIMEOUT_MS;
	if (timeout_ms > ES9P_MAX_TIMEOUT_MS)
		timeout_ms = ES9P_MAX_TIMEOUT_MS;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return esim_fail(err, ESIM_E_NETWORK, "cannot initialise libcurl");
		curl_ready = 1;
	}

	s = xcalloc(1, sizeof(*s));
	buf_init(&s->trust, 0);
	s->max_body = o && o->max_body ? o->max_body : ES9P_DEFAULT_MAX_BODY;
	if (s->max_body > ES9P_MAX_BODY)
		s->max_body = ES9P_MAX_BODY;
	snprintf(s->address, sizeof(s->address), "%s", smdp_address);
	snprintf(s->base, sizeof(s->base), "https://%s", smdp_address);
	if (certs_to_pem(es9p_trust_bundle, es9p_trust_bundle_len, &s->trust) <= 0)
		config_fail(s, ESIM_E_OTHER, "the built-in ES9+ trust bundle is damaged: reinstall esimctl");
	for (i = 0; i < nca; i++)
		add_ca_file(s, o->ca_files[i]);
	add_resolve_env(s);
	if (setup_curl(s, connect_ms, timeout_ms, o && o->system_ca, err) < 0) {
		es9p_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void es9p_close(struct es9p *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	curl_slist_free_all(s->headers);
	curl_slist_free_all(s->resolve);
	buf_release(&s->trust);
	free(s->sys_cafile);
	free(s->sys_capath);
	free(s);
}

int es9p_stats(struct es9p *s, unsigned *requests, unsigned *connections, unsigned *handshakes,
	       struct esim_err *err)
{
	if (!s)
		return esim_fail(err, ESIM_E_OTHER, "no ES9+ session");
	if (requests)
		*requests = s->requests;
	if (connections)
		*connections = s->connections;
	if (handshakes)
		*handshakes = s->handshakes;
	return 0;
}

/* ---- the ES9+ functions ---- */

int es9p_initiate_authentication(struct es9p *s, const char *smdp_address,
				 const uint8_t challenge[16], const uint8_t *euicc_info1,
				 size_t len, struct es9p_auth1 *out, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int ret = -1;

	es9p_auth1_init(out);
	if (!smdp_address && s)
		smdp_address = s->address;
	if (es9p_build_initiate_authentication(smdp_address, challenge, euicc_info1, len, &req,
					       err) == 0 &&
	    call(s, ES9P_INITIATE_AUTHENTICATION, &req, &resp, err) == 0)
		ret = es9p_parse_initiate_authentication(resp.buf, resp.len, out, err);
	buf_wipe_release(&req);
	buf_wipe_release(&resp);
	return ret;
}

int es9p_authenticate_client(struct es9p *s, const char *txid_hex, const uint8_t *bf38,
			     size_t len, struct es9p_auth2 *out, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int ret = -1;

	es9p_auth2_init(out);
	if (es9p_build_txid_request(ES9P_AUTHENTICATE_CLIENT, txid_hex, bf38, len, &req, err) == 0 &&
	    call(s, ES9P_AUTHENTICATE_CLIENT, &req, &resp, err) == 0)
		ret = es9p_parse_authenticate_client(resp.buf, resp.len, txid_hex, out, err);
	buf_wipe_release(&req);
	buf_wipe_release(&resp);
	return ret;
}

int es9p_get_bpp(struct es9p *s, const char *txid_hex, const uint8_t *bf21, size_t len,
		 struct buf *bpp, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int ret = -1;

	if (es9p_build_txid_request(ES9P_GET_BPP, txid_hex, bf21, len, &req, err) == 0 &&
	    call(s, ES9P_GET_BPP, &req, &resp, err) == 0)
		ret = es9p_parse_get_bpp(resp.buf, resp.len, txid_hex, bpp, err);
	buf_wipe_release(&req);
	buf_wipe_release(&resp);
	return ret;
}

int es9p_handle_notification(struct es9p *s, const uint8_t *tlv, size_t len,
			     struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int ret = -1;

	if (es9p_build_handle_notification(tlv, len, &req, err) == 0 &&
	    call(s, ES9P_HANDLE_NOTIFICATION, &req, &resp, err) == 0)
		ret = es9p_parse_handle_notification(resp.buf, resp.len, err);
	buf_wipe_release(&req);
	buf_wipe_release(&resp);
	return ret;
}

int es9p_cancel_session(struct es9p *s, const char *txid_hex, const uint8_t *bf41, size_t len,
			struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int ret = -1;

	if (es9p_build_txid_request(ES9P_CANCEL_SESSION, txid_hex, bf41, len, &req, err) == 0 &&
	    call(s, ES9P_CANCEL_SESSION, &req, &resp, err) == 0)
		ret = es9p_parse_cancel_session(resp.buf, resp.len, err);
	buf_wipe_release(&req);
	buf_wipe_release(&resp);
	return ret;
}
