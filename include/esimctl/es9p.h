/*
 * es9p.h - ES9+ client: esimctl (LPA) -> SM-DP+ over HTTPS/JSON (SGP.22 §5.6, §6.5).
 *
 * libcurl lives in esimctl-rsp.so with the rest of SGP.22 (src/io/es9p.c); the esimctl
 * binary never maps it.  One session is one libcurl handle: all its requests share one
 * keep-alive TLS connection.  Everything ES9+ (JSON, base64, status codes, errors)
 * happens here.
 *
 *	struct es9p *s;
 *	struct es9p_auth1 a1;
 *	struct es9p_opts o = { .ca_files = cas, .nca = 1 };
 *
 *	if (es9p_open("smdp.example.com", &o, &s, err) < 0)
 *		return -1;
 *	if (es9p_initiate_authentication(s, NULL, challenge, info1, info1_len, &a1, err) < 0)
 *		goto out;           ... ES10b AuthenticateServer with a1 ...
 *	es9p_auth1_release(&a1);
 *	es9p_close(s);
 *
 * Trust (docs/trust.md): the built-in ES9+ bundle (the GSMA CI roots and the roots of
 * SM-DP+s older than the GSMA CI) plus every opts->ca_files entry (PEM or DER); the
 * system CA store only with opts->system_ca.  libcurl's own default CA file and
 * directory are cleared.  TLS 1.2 exactly (SGP.22 §2.6.6), peer and host name always
 * verified, a server certificate without a subjectAltName DNS name refused (no CN
 * fallback), redirects never followed: no option weakens that.  ESIMCTL_RESOLVE
 * (HOST:PORT:ADDR[,...], as curl --resolve) and the proxy variables (https_proxy...,
 * as curl) are read from the environment.
 *
 * Errors (struct esim_err, exit statuses are a contract, docs/EXIT-CODES.md):
 *   ESIM_E_NETWORK (7)  network/TLS failure (curl's message and the OpenSSL verify
 *                       result), a timeout, a body over the limit, any HTTP status outside 2xx ("SM-DP+ answered HTTP 500 to
 *                       initiateAuthentication"; for a 3xx the Location is named).
 *   ESIM_E_SMDP (8)     functionExecutionStatus Failed or Expired: subject_code,
 *                       reason_code and smdp_message hold the server's words, detail is
 *                       "ES9+ <subject>/<reason>", msg and hint a plain-language
 *                       explanation from the table in es9p_errors.c.
 *                       Also a malformed response: invalid JSON, a missing or mistyped
 *                       field, invalid base64, a field that is not one DER TLV with the
 *                       expected tag, a transactionId that differs from the request's.
 *                       msg: "invalid response from the SM-DP+ to <function>: <what>".
 *                       The server produced it, so it is the server's failure, not the
 *                       network's: retrying will not help, reporting it might.
 *   ESIM_E_USAGE (2)    an invalid SM-DP+ address; a CA file that cannot be used or a
 *                       bad ESIMCTL_RESOLVE entry (reported by the first request).
 *   ESIM_E_OTHER (1)    invalid arguments from the caller (bad transaction id, NULL).
 * Executed-WithWarning counts as success.  Unknown response fields are ignored.
 *
 * Secrets: request and response bodies (the matching ID travels inside the
 * AuthenticateServerResponse) are wiped after use.
 */
#ifndef ESIMCTL_ES9P_H
#define ESIMCTL_ES9P_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"

#define ES9P_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define ES9P_DEFAULT_TIMEOUT_MS 60000L
#define ES9P_DEFAULT_MAX_BODY (4UL * 1024 * 1024)
#define ES9P_TXID_MAX 16          /* TransactionId: 1..16 bytes */
/* Limits; larger timeouts and body limits are lowered to these. */
#define ES9P_MAX_CA_FILES 32
#define ES9P_MAX_TIMEOUT_MS (24L * 3600 * 1000)
#define ES9P_MAX_BODY (1024UL * 1024 * 1024)

struct es9p_opts {
	const char *const *ca_files; /* extra trust anchors (GSMA CI bundle), borrowed */
	size_t nca;
	long connect_timeout_ms;     /* 0: ES9P_DEFAULT_CONNECT_TIMEOUT_MS */
	long timeout_ms;             /* whole request; 0: ES9P_DEFAULT_TIMEOUT_MS */
	size_t max_body;             /* response body limit; 0: ES9P_DEFAULT_MAX_BODY */
	int system_ca;               /* also trust the system CA store (an explicit choice) */
};

/* One session: one libcurl handle, one keep-alive TLS connection. */
struct es9p;

/*
 * Start a session with the SM-DP+ at smdp_address ("host" or "host:port", no scheme).
 * opts may be NULL for the defaults.  On success *out is the session (free it with
 * es9p_close); on failure *out is NULL.  No network traffic happens before the first
 * request, so connection errors show up there.
 */
int es9p_open(const char *smdp_address, const struct es9p_opts *opts, struct es9p **out,
	      struct esim_err *err);
/* Closes the connection and frees the session.  NULL: no-op. */
void es9p_close(struct es9p *s);
/*
 * Counters of the session: requests sent, TCP connections opened, TLS handshakes
 * completed.  Any pointer may be NULL.  One session normally shows n, 1, 1.
 */
int es9p_stats(struct es9p *s, unsigned *requests, unsigned *connections, unsigned *handshakes,
	       struct esim_err *err);

/* initiateAuthentication response; binary fields are complete DER TLVs. */
struct es9p_auth1 {
	char transaction_id[2 * ES9P_TXID_MAX + 1]; /* transactionId, hex text as received */
	uint8_t txid[ES9P_TXID_MAX];                /* the same, decoded */
	size_t txid_len;
	struct buf server_signed1;     /* serverSigned1: 30 ... */
	struct buf server_signature1;  /* serverSignature1: 5F37 40 r||s */
	struct buf euicc_ci_pkid;      /* euiccCiPKIdToBeUsed: 04 14 SKI */
	struct buf server_certificate; /* serverCertificate: CERT.DPauth, X.509 DER 30 ... */
};

/* authenticateClient response. */
struct es9p_auth2 {
	struct buf profile_metadata;   /* profileMetadata: StoreMetadataRequest BF25 ... */
	struct buf smdp_signed2;       /* smdpSigned2: 30 ... */
	struct buf smdp_signature2;    /* smdpSignature2: 5F37 40 r||s */
	struct buf smdp_certificate;   /* smdpCertificate: CERT.DPpb, X.509 DER 30 ... */
};

/* Embedded structs: _init before use (the es9p_ calls below do it), _release after. */
void es9p_auth1_init(struct es9p_auth1 *a);
void es9p_auth1_release(struct es9p_auth1 *a);
void es9p_auth2_init(struct es9p_auth2 *a);
void es9p_auth2_release(struct es9p_auth2 *a);

/*
 * ES9+ initiateAuthentication.  smdp_address is the smdpAddress the SM-DP+ checks
 * against its own name; NULL means the session's address.  challenge: the 16 raw bytes
 * from ES10b GetEUICCChallenge; euicc_info1: the BF20 TLV from GetEUICCInfo1.
 * out is initialised here and filled on success; release it in every case.
 */
int es9p_initiate_authentication(struct es9p *s, const char *smdp_address,
				 const uint8_t challenge[16], const uint8_t *euicc_info1,
				 size_t len, struct es9p_auth1 *out, struct esim_err *err);
/*
 * ES9+ authenticateClient.  txid_hex: es9p_auth1.transaction_id, sent back exactly;
 * bf38: the AuthenticateServerResponse TLV from the eUICC.  The response's
 * transactionId must match (case-insensitively).  out as above.
 */
int es9p_authenticate_client(struct es9p *s, const char *txid_hex, const uint8_t *bf38,
			     size_t len, struct es9p_auth2 *out, struct esim_err *err);
/*
 * ES9+ getBoundProfilePackage.  bf21: the PrepareDownloadResponse TLV.  bpp must be an
 * initialised buffer; on success its contents are replaced by the BF36 TLV.
 */
int es9p_get_bpp(struct es9p *s, const char *txid_hex, const uint8_t *bf21, size_t len,
		 struct buf *bpp, struct esim_err *err);
/*
 * ES9+ handleNotification.  tlv: the complete PendingNotification (BF37 or 30), sent
 * unchanged.  Any 2xx is success (204 with an empty body is the norm); a 2xx body that
 * holds a Failed/Expired header is still a refusal, any other body is ignored.
 */
int es9p_handle_notification(struct es9p *s, const uint8_t *tlv, size_t len,
			     struct esim_err *err);
/* ES9+ cancelSession.  bf41: the CancelSessionResponse TLV from the eUICC. */
int es9p_cancel_session(struct es9p *s, const char *txid_hex, const uint8_t *bf41, size_t len,
			struct esim_err *err);

/*
 * Plain-language text for an ES9+ subjectCode/reasonCode pair (SGP.22 §5.6.1-§5.6.5,
 * table in src/io/es9p_errors.c).  Known pair: *message and *hint (either may be
 * NULL as an argument) get static text and the result is 1; unknown pair: NULL, 0.
 */
int es9p_error_lookup(const char *subject, const char *reason, const char **message,
		      const char **hint);
/*
 * Like es9p_error_lookup, into buffers: the table text, or for an unknown pair a
 * generic sentence naming both codes (and what the reason code usually means).
 * hint may be NULL.
 */
void es9p_error_explain(const char *subject, const char *reason, char *msg, size_t msgsz,
			char *hint, size_t hintsz);

#endif
