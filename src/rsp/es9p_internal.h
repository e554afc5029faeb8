/*
 * es9p_internal.h - the pure half of the ES9+ client (src/rsp/es9p.c), for unit tests.
 *
 * Request building and response checking work on strings and buffers, with no
 * network, so tests/unit/test_es9p.c can drive them from tables.  The public calls in
 * esimctl/es9p.h are: build -> es9p_post (libcurl) -> es9p_check_http -> parse.
 * Errors are those documented in esimctl/es9p.h.
 */
#ifndef ESIMCTL_ES9P_INTERNAL_H
#define ESIMCTL_ES9P_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/es9p.h"

enum es9p_fn {
	ES9P_INITIATE_AUTHENTICATION,
	ES9P_AUTHENTICATE_CLIENT,
	ES9P_GET_BPP,
	ES9P_HANDLE_NOTIFICATION,
	ES9P_CANCEL_SESSION,
};

/* "initiateAuthentication", ...; and "/gsma/rsp2/es9plus/initiateAuthentication", ... */
const char *es9p_fn_name(enum es9p_fn fn);
const char *es9p_fn_path(enum es9p_fn fn);

/* 1 when s is a transactionId as SGP.22 allows it: 1..16 bytes as hex (either case). */
int es9p_txid_valid(const char *s);

/*
 * Request bodies (SGP.22 §6.5.2.6-§6.5.2.10), appended to out (initialised).
 *   initiateAuthentication {"smdpAddress","euiccChallenge" (raw 16 bytes),"euiccInfo1"}
 *   authenticateClient     {"transactionId","authenticateServerResponse"}
 *   getBoundProfilePackage {"transactionId","prepareDownloadResponse"}
 *   cancelSession          {"transactionId","cancelSessionResponse"}
 *   handleNotification     {"pendingNotification"}
 * Binary fields are base64 of the complete TLV.  -1 (ESIM_E_OTHER) on a bad argument:
 * an invalid transaction id, a NULL or empty TLV, an fn that takes another builder.
 */
int es9p_build_initiate_authentication(const char *smdp_address, const uint8_t challenge[16],
				       const uint8_t *euicc_info1, size_t len, struct buf *out,
				       struct esim_err *err);
int es9p_build_txid_request(enum es9p_fn fn, const char *txid_hex, const uint8_t *tlv,
			    size_t len, struct buf *out, struct esim_err *err);
int es9p_build_handle_notification(const uint8_t *tlv, size_t len, struct buf *out,
				   struct esim_err *err);

/*
 * HTTP status of a response: 2xx -> 0; otherwise ESIM_E_NETWORK naming the status and
 * the function, and for a 3xx the location (may be NULL).
 */
int es9p_check_http(enum es9p_fn fn, int status, const char *location, struct esim_err *err);

/*
 * Response bodies (json need not be NUL-terminated).  The header is checked first, so
 * a Failed response without the other fields is a refusal, not a malformed response.
 * txid_hex is the transactionId that was sent; the response's must match it.
 * Outputs are initialised here (bpp: reset) and filled only on success.
 */
int es9p_parse_initiate_authentication(const char *json, size_t len, struct es9p_auth1 *out,
				       struct esim_err *err);
int es9p_parse_authenticate_client(const char *json, size_t len, const char *txid_hex,
				   struct es9p_auth2 *out, struct esim_err *err);
int es9p_parse_get_bpp(const char *json, size_t len, const char *txid_hex, struct buf *bpp,
		       struct esim_err *err);
int es9p_parse_cancel_session(const char *json, size_t len, struct esim_err *err);
int es9p_parse_handle_notification(const char *body, size_t len, struct esim_err *err);

/*
 * One raw POST in a session, for the ES9+ calls and the transport tests
 * (tests/https/es9p_post.c): req is sent as it is; on success *status is the HTTP
 * status (any, 3xx included), resp holds the body (replaced) and location the 3xx
 * Location, printable ("" when none).  what names the request in messages.  Network,
 * TLS and body-limit failures: ESIM_E_NETWORK; an unusable CA file or ESIMCTL_RESOLVE
 * entry: ESIM_E_USAGE, for every request of the session.
 */
int es9p_post(struct es9p *s, const char *path, const struct buf *req, const char *what,
	      int *status, struct buf *resp, char *location, size_t locsz, struct esim_err *err);

/*
 * The built-in ES9+ trust bundle (data/es9p-trust.pem, docs/trust.md), embedded at build
 * time by CMake as a C array (generated es9p_trust.c).
 */
extern const uint8_t es9p_trust_bundle[];
extern const size_t es9p_trust_bundle_len;

/* 1 when the certificate has a non-empty subjectAltName dNSName (the TLS leaf check). */
struct x509_st;
int es9p_leaf_has_dns_san(struct x509_st *cert);

#endif
