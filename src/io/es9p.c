/*
 * es9p.c - ES9+ client over the esimctl-https helper (see esimctl/es9p.h).
 *
 * Two halves: the pure part (JSON requests and responses, es9p_internal.h) and the
 * session part (spawning the helper, framing requests over its pipes).  The pipe
 * protocol is described in src/https/main.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/rspcrypto.h"
#include "esimctl/der.h"
#include "esimctl/es9p.h"
#include "esimctl/secrets.h"
#include "io/es9p_internal.h"

#ifndef ESIMCTL_LIBEXECDIR
#define ESIMCTL_LIBEXECDIR "/usr/local/libexec/esimctl"
#endif

#define HELPER_NAME "esimctl-https"
#define MAX_STATUS_LINE 4096    /* "<status> <length> <location>" */
#define MAX_ERR_MESSAGE 4096
#define HELPER_SLACK_MS 3000    /* on top of the helper's own timeouts */
#define REAP_WAIT_MS 2000

extern char **environ;

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
	/* euiccChallenge is the one binary field sent raw, not as a TLV (digest §2.2). */
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
 * header.functionExecutionStatus (digest §2.3): 0 on success or warning, -1 malformed,
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
	const char *s;

	if (get_string(fn, root, name, &s, err) < 0)
		return -1;
	buf_reset(out);
	/* base64_decode skips whitespace: SM-DP+ base64 may be wrapped (digest §2.2). */
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

/* ---- the helper process ---- */

struct es9p {
	pid_t pid;
	int wfd;                /* helper's stdin, O_NONBLOCK on our side */
	int rfd;                /* helper's stdout, O_NONBLOCK on our side */
	int dead;               /* helper gone or the stream out of step */
	long wait_ms;           /* bound on one exchange */
	size_t max_body;
	char address[256];
	char helper[PATH_MAX];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reap the helper: wait up to wait_ms, then SIGKILL.  Returns the wait status or -1. */
static int reap(struct es9p *s, long wait_ms)
{
	long long deadline = now_ms() + wait_ms;
	int status = -1;
	pid_t r;

	if (s->pid <= 0)
		return -1;
	for (;;) {
		r = waitpid(s->pid, &status, WNOHANG);
		if (r == s->pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && now_ms() >= deadline) {
			kill(s->pid, SIGKILL);
			while ((r = waitpid(s->pid, &status, 0)) < 0 && errno == EINTR)
				;
			break;
		}
		if (r == 0)
			sleep_ms(10);
	}
	s->pid = -1;
	return r < 0 ? -1 : status;
}

/*
 * The helper is gone (why == NULL: it closed its end, so say how it exited) or useless
 * (why says what it did: stop it).  Either way the session is over.
 */
static int helper_failed(struct es9p *s, const char *what, const char *why, struct esim_err *err)
{
	int status;

	s->dead = 1;
	if (s->pid > 0 && why)
		kill(s->pid, SIGKILL);
	status = reap(s, REAP_WAIT_MS);
	if (why)
		esim_fail(err, ESIM_E_NETWORK, "%s to SM-DP+ '%s' failed: the HTTPS helper %s",
			  what, s->address, why);
	else if (status != -1 && WIFEXITED(status))
		esim_fail(err, ESIM_E_NETWORK,
			  "%s to SM-DP+ '%s' failed: the HTTPS helper '%s' exited with status %d",
			  what, s->address, s->helper, WEXITSTATUS(status));
	else if (status != -1 && WIFSIGNALED(status))
		esim_fail(err, ESIM_E_NETWORK,
			  "%s to SM-DP+ '%s' failed: the HTTPS helper '%s' was killed by signal %d",
			  what, s->address, s->helper, WTERMSIG(status));
	else
		esim_fail(err, ESIM_E_NETWORK, "%s to SM-DP+ '%s' failed: the HTTPS helper '%s' went away",
			  what, s->address, s->helper);
	return -1;
}

/* poll one fd until deadline: 1 ready (or hung up), 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { fd, events, 0 };

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0;
	}
}

/*
 * Write everything to the helper.  SIGPIPE is blocked around the writes (and one it
 * raises is consumed) so a dead helper gives EPIPE instead of killing esimctl; this
 * leaves the process-wide disposition alone.
 */
static int pipe_write(struct es9p *s, const char *what, const void *data, size_t len,
		      long long deadline, struct esim_err *err)
{
	const char *p = data;
	sigset_t pipe_set, old, pending;
	int was_pending, broken = 0, timed_out = 0, failed = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	while (len > 0) {
		ssize_t w = write(s->wfd, p, len);

		if (w >= 0) {
			p += w;
			len -= (size_t)w;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int r = wait_fd(s->wfd, POLLOUT, deadline);

			if (r <= 0) {
				timed_out = r == 0;
				failed = r < 0;
				break;
			}
		} else if (errno != EINTR) {
			broken = errno == EPIPE;
			failed = !broken;
			break;
		}
	}
	if (broken && !was_pending) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (broken)
		return helper_failed(s, what, NULL, err);
	if (timed_out)
		return helper_failed(s, what, "did not take the request in time", err);
	if (failed)
		return helper_failed(s, what, "cannot be written to", err);
	return 0;
}

static int pipe_read(struct es9p *s, const char *what, void *data, size_t len,
		     long long deadline, struct esim_err *err)
{
	char *p = data;

	while (len > 0) {
		ssize_t r = read(s->rfd, p, len);

		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r == 0) {
			return helper_failed(s, what, NULL, err);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(s->rfd, POLLIN, deadline);

			if (w == 0) {
				char why[64];

				snprintf(why, sizeof(why), "did not answer within %ld ms", s->wait_ms);
				return helper_failed(s, what, why, err);
			}
			if (w < 0)
				return helper_failed(s, what, "cannot be read from", err);
		} else if (errno != EINTR) {
			return helper_failed(s, what, "cannot be read from", err);
		}
	}
	return 0;
}

/* One reply line, without '\n'.  A byte at a time: nothing past it is consumed. */
static int pipe_line(struct es9p *s, const char *what, char *line, size_t size,
		     long long deadline, struct esim_err *err)
{
	size_t n = 0;

	for (;;) {
		char c;

		if (pipe_read(s, what, &c, 1, deadline, err) < 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 >= size)
			return helper_failed(s, what, "sent an overlong reply line", err);
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

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

static const char *tls_hint(const char *msg)
{
	if (strstr(msg, "unable to get local issuer certificate") ||
	    strstr(msg, "self-signed certificate") || strstr(msg, "unable to verify the first"))
		return "the SM-DP+'s TLS certificate does not chain to a trusted CA: SM-DP+ servers "
		       "use the GSMA CI, so pass its certificate as a CA file";
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

/*
 * One request through the helper.  On success *status is the HTTP status, body holds
 * the response body (replaced) and location the 3xx Location ("" when none).
 */
static int exchange(struct es9p *s, const char *what, const char *path, const struct buf *req,
		    int *status, struct buf *body, char *location, size_t locsz,
		    struct esim_err *err)
{
	char head[64 + 512], line[MAX_STATUS_LINE];
	long long deadline = now_ms() + s->wait_ms;
	unsigned long long code, len;
	const char *p;
	int n;

	buf_reset(body);
	location[0] = '\0';
	if (s->dead)
		return esim_fail(err, ESIM_E_NETWORK,
				 "%s to SM-DP+ '%s' failed: the HTTPS helper is no longer running",
				 what, s->address);
	n = snprintf(head, sizeof(head), "POST %s\n%zu\n", path, req->len);
	if (pipe_write(s, what, head, (size_t)n, deadline, err) < 0 ||
	    pipe_write(s, what, req->buf, req->len, deadline, err) < 0 ||
	    pipe_line(s, what, line, sizeof(line), deadline, err) < 0)
		return -1;

	if (strncmp(line, "ERR ", 4) == 0) {
		char msg[MAX_ERR_MESSAGE + 1];
		const char *hint;

		p = line + 4;
		if (parse_num(&p, 255, &code) < 0 || *p++ != ' ' ||
		    parse_num(&p, MAX_ERR_MESSAGE, &len) < 0 || *p)
			return helper_failed(s, what, "sent an invalid reply", err);
		if (pipe_read(s, what, msg, (size_t)len, deadline, err) < 0)
			return -1;
		msg[len] = '\0';
		copy_text(msg, sizeof(msg), msg);
		if (code == 1) {
			/* The helper exits after a protocol error: a bug on one side. */
			s->dead = 1;
			reap(s, REAP_WAIT_MS);
			return esim_fail(err, ESIM_E_NETWORK, "%s to SM-DP+ '%s' failed: HTTPS helper: %s",
					 what, s->address, msg);
		}
		esim_fail(err, code == 2 ? ESIM_E_USAGE : ESIM_E_NETWORK, "%s to SM-DP+ '%s' failed: %s",
			  what, s->address, msg);
		if ((hint = tls_hint(msg)) != NULL)
			esim_hint(err, "%s", hint);
		return -1;
	}

	p = line;
	if (parse_num(&p, 999, &code) < 0 || code < 100 || *p++ != ' ' ||
	    parse_num(&p, s->max_body, &len) < 0 || (*p && *p != ' '))
		return helper_failed(s, what, "sent an invalid reply", err);
	if (*p == ' ') {
		p++;
		snprintf(location, locsz, "%s", p);
		copy_text(location, locsz, location);
	}
	if (len > 0) {
		buf_grow(body, (size_t)len);
		if (pipe_read(s, what, body->buf, (size_t)len, deadline, err) < 0) {
			buf_wipe_release(body);
			return -1;
		}
		body->len = (size_t)len;
		body->buf[body->len] = '\0';
	}
	*status = (int)code;
	return 0;
}

/* exchange + the HTTP status check; the request is wiped whatever happens. */
static int call(struct es9p *s, enum es9p_fn fn, struct buf *req, struct buf *resp,
		struct esim_err *err)
{
	char location[MAX_STATUS_LINE];
	int status = 0, ret;

	if (!s) {
		buf_wipe_release(req);
		return esim_fail(err, ESIM_E_OTHER, "%s: no ES9+ session", es9p_fn_name(fn));
	}
	ret = exchange(s, es9p_fn_name(fn), es9p_fn_path(fn), req, &status, resp, location,
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

static int executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Where esimctl-https is (es9p.h); path gets the candidate to run. */
static void find_helper(const struct es9p_opts *o, char *path, size_t size)
{
	const char *env = getenv("ESIMCTL_HTTPS_HELPER");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (o && o->helper && *o->helper) {
		snprintf(path, size, "%s", o->helper);
		return;
	}
	if (env && *env) {
		snprintf(path, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(path, size, "%s/" HELPER_NAME, self) < size && executable(path))
				return;
			if ((size_t)snprintf(path, size, "%s/../libexec/esimctl/" HELPER_NAME, self) < size &&
			    executable(path))
				return;
		}
	}
	snprintf(path, size, "%s/" HELPER_NAME, ESIMCTL_LIBEXECDIR);
}

/* Move a pipe end above 0..2 so the dup2 onto stdin/stdout never meets itself. */
static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

int es9p_open(const char *smdp_address, const struct es9p_opts *o, struct es9p **out,
	      struct esim_err *err)
{
	struct es9p *s;
	char ct[32], to[32], ms[32], base[300];
	const char **argv;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	int to_child[2] = { -1, -1 }, from_child[2] = { -1, -1 };
	size_t i, argc = 0, nca = o ? o->nca : 0;
	long connect_ms, timeout_ms;
	int rc;

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
	/* The helper's limits (src/https/main.c). */
	if (connect_ms > ES9P_MAX_TIMEOUT_MS)
		connect_ms = ES9P_MAX_TIMEOUT_MS;
	if (timeout_ms > ES9P_MAX_TIMEOUT_MS)
		timeout_ms = ES9P_MAX_TIMEOUT_MS;

	s = xcalloc(1, sizeof(*s));
	s->pid = -1;
	s->wfd = s->rfd = -1;
	s->max_body = o && o->max_body ? o->max_body : ES9P_DEFAULT_MAX_BODY;
	if (s->max_body > ES9P_MAX_BODY)
		s->max_body = ES9P_MAX_BODY;
	s->wait_ms = connect_ms + timeout_ms + HELPER_SLACK_MS;
	snprintf(s->address, sizeof(s->address), "%s", smdp_address);
	find_helper(o, s->helper, sizeof(s->helper));

	snprintf(base, sizeof(base), "https://%s", smdp_address);
	snprintf(ct, sizeof(ct), "%ld", connect_ms);
	snprintf(to, sizeof(to), "%ld", timeout_ms);
	snprintf(ms, sizeof(ms), "%zu", s->max_body);
	argv = xcalloc(2 * nca + 12, sizeof(*argv));
	argv[argc++] = s->helper;
	argv[argc++] = "--base";
	argv[argc++] = base;
	for (i = 0; i < nca; i++) {
		argv[argc++] = "--ca";
		argv[argc++] = o->ca_files[i];
	}
	argv[argc++] = "--connect-timeout";
	argv[argc++] = ct;
	argv[argc++] = "--timeout";
	argv[argc++] = to;
	argv[argc++] = "--max-size";
	argv[argc++] = ms;
	argv[argc] = NULL;

	if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(from_child, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	to_child[0] = fd_above_stdio(to_child[0]);
	from_child[1] = fd_above_stdio(from_child[1]);
	if (to_child[0] < 0 || from_child[1] < 0) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* The environment passes through: ESIMCTL_RESOLVE, proxies. */
	rc = posix_spawn(&s->pid, s->helper, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		s->pid = -1;
		goto fail;
	}
	close(to_child[0]);
	close(from_child[1]);
	s->wfd = to_child[1];
	s->rfd = from_child[0];
	if (fcntl(s->wfd, F_SETFL, O_NONBLOCK) < 0 || fcntl(s->rfd, F_SETFL, O_NONBLOCK) < 0) {
		rc = errno;
		es9p_close(s);
		free(argv);
		esim_fail(err, ESIM_E_NETWORK, "cannot set up the pipes to the HTTPS helper: %s",
			  strerror(rc));
		return -1;
	}
	free(argv);
	*out = s;
	return 0;

fail:
	for (i = 0; i < 2; i++) {
		if (to_child[i] >= 0)
			close(to_child[i]);
		if (from_child[i] >= 0)
			close(from_child[i]);
	}
	esim_fail(err, ESIM_E_NETWORK, "cannot start the HTTPS helper '%s': %s", s->helper,
		  strerror(rc));
	esim_hint(err, "install esimctl-https next to esimctl or in %s, or set ESIMCTL_HTTPS_HELPER",
		  ESIMCTL_LIBEXECDIR);
	free(argv);
	free(s);
	return -1;
}

void es9p_close(struct es9p *s)
{
	if (!s)
		return;
	/* EOF on its stdin ends the helper cleanly. */
	if (s->wfd >= 0)
		close(s->wfd);
	reap(s, REAP_WAIT_MS);
	if (s->rfd >= 0)
		close(s->rfd);
	free(s);
}

int es9p_stats(struct es9p *s, unsigned *requests, unsigned *connections, unsigned *handshakes,
	       struct esim_err *err)
{
	const char *what = "a statistics request";
	unsigned long long v[3];
	long long deadline;
	char line[128];
	const char *p;
	int i;

	if (!s || s->dead)
		return esim_fail(err, ESIM_E_NETWORK, "the HTTPS helper is no longer running");
	deadline = now_ms() + s->wait_ms;
	if (pipe_write(s, what, "STATS\n", 6, deadline, err) < 0 ||
	    pipe_line(s, what, line, sizeof(line), deadline, err) < 0)
		return -1;
	if (strncmp(line, "STATS ", 6) != 0)
		return helper_failed(s, what, "sent an invalid reply", err);
	p = line + 6;
	for (i = 0; i < 3; i++)
		if (parse_num(&p, UINT_MAX, &v[i]) < 0 || *p++ != (i < 2 ? ' ' : '\0'))
			return helper_failed(s, what, "sent an invalid reply", err);
	if (requests)
		*requests = (unsigned)v[0];
	if (connections)
		*connections = (unsigned)v[1];
	if (handshakes)
		*handshakes = (unsigned)v[2];
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
