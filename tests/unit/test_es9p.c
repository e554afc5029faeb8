/*
 * test_es9p.c - ES9+ client (src/io/es9p.c, src/io/es9p_errors.c).
 *
 * Mostly tables over the pure half (es9p_internal.h): the exact JSON of every request,
 * the parsing of every kind of response, the HTTP status check and the subject/reason
 * table.  Then the session half against a scripted stand-in for esimctl-https (a
 * shell script that records what it was sent and replays prepared replies), and
 * against the real helper when it sits next to this test binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/es9p.h"
#include "io/es9p_internal.h"

/* ---- fixtures: small TLVs and their base64 ---- */

static const uint8_t challenge[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				       0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F };
static const uint8_t info1[] = { 0xBF, 0x20, 0x03, 0x82, 0x01, 0x02 };
static const uint8_t bf38[] = { 0xBF, 0x38, 0x03, 0xA0, 0x01, 0x00 };
static const uint8_t bf21[] = { 0xBF, 0x21, 0x03, 0xA0, 0x01, 0x00 };
static const uint8_t bf41[] = { 0xBF, 0x41, 0x03, 0xA0, 0x01, 0x00 };
static const uint8_t bf37[] = { 0xBF, 0x37, 0x03, 0xBF, 0x27, 0x00 };

/* ServerSigned1 / SmdpSigned2 stand-in: 30 { 80 transactionId 00112233AABBCCDD } */
static const uint8_t ss1[] = { 0x30, 0x0A, 0x80, 0x08, 0x00, 0x11, 0x22, 0x33, 0xAA, 0xBB, 0xCC, 0xDD };
static const uint8_t sig[] = { 0x5F, 0x37, 0x04, 0x01, 0x02, 0x03, 0x04 };       /* XzcEAQIDBA== */
static const uint8_t pkid[] = { 0x04, 0x14, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
				0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21, 0x22,
				0x23, 0x24 };
static const uint8_t cert[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };                  /* MAMCAQU= */
static const uint8_t meta[] = { 0xBF, 0x25, 0x03, 0x5A, 0x01, 0x01 };            /* vyUDWgEB */
static const uint8_t bpp[] = { 0xBF, 0x36, 0x03, 0xBF, 0x23, 0x00 };             /* vzYDvyMA */

#define B64_SS1 "MAqACAARIjOqu8zd"
#define B64_SIG "XzcEAQIDBA=="
#define B64_PKID "BBQREhMUFRYXGBkaGxwdHh8gISIjJA=="
#define B64_CERT "MAMCAQU="
#define B64_META "vyUDWgEB"
#define B64_BPP "vzYDvyMA"

#define HDR(st) "\"header\":{\"functionExecutionStatus\":{\"status\":\"" st "\"}}"
#define HDR_OK HDR("Executed-Success")
#define HDR_FAILED(subj, reas, msg)                                                        \
	"\"header\":{\"functionExecutionStatus\":{\"status\":\"Failed\",\"statusCodeData\":" \
	"{\"subjectCode\":\"" subj "\",\"reasonCode\":\"" reas "\",\"message\":\"" msg "\"}}}"
#define TXID "00112233AABBccdd"
#define TXID_ALT "00112233aabbCCDD"

#define IA_REST ",\"serverSigned1\":\"" B64_SS1 "\",\"serverSignature1\":\"" B64_SIG \
	"\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID "\",\"serverCertificate\":\"" B64_CERT "\"}"
#define AC_REST ",\"profileMetadata\":\"" B64_META "\",\"smdpSigned2\":\"" B64_SS1 \
	"\",\"smdpSignature2\":\"" B64_SIG "\",\"smdpCertificate\":\"" B64_CERT "\"}"

static void assert_buf(const struct buf *b, const uint8_t *want, size_t len, const char *what)
{
	if (b->len != len || memcmp(b->buf, want, len) != 0)
		fail_msg("%s: %zu bytes, want %zu", what, b->len, len);
}

/* ---- requests ---- */

static void test_build_requests(void **state)
{
	static const struct {
		enum es9p_fn fn;
		const char *txid;
		const uint8_t *tlv;
		size_t len;
		const char *want;
	} rows[] = {
		{ ES9P_AUTHENTICATE_CLIENT, TXID, bf38, sizeof(bf38),
		  "{\"transactionId\":\"" TXID "\",\"authenticateServerResponse\":\"vzgDoAEA\"}" },
		{ ES9P_GET_BPP, TXID, bf21, sizeof(bf21),
		  "{\"transactionId\":\"" TXID "\",\"prepareDownloadResponse\":\"vyEDoAEA\"}" },
		{ ES9P_CANCEL_SESSION, "0a", bf41, sizeof(bf41),
		  "{\"transactionId\":\"0a\",\"cancelSessionResponse\":\"v0EDoAEA\"}" },
		/* 16 bytes, the longest transaction id */
		{ ES9P_GET_BPP, "000102030405060708090A0B0C0D0E0F", bf21, sizeof(bf21),
		  "{\"transactionId\":\"000102030405060708090A0B0C0D0E0F\","
		  "\"prepareDownloadResponse\":\"vyEDoAEA\"}" },
	};
	struct esim_err err = { 0 };
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	/* euiccChallenge: the 16 raw bytes, not the 80 10 TLV; euiccInfo1: the whole BF20. */
	assert_int_equal(es9p_build_initiate_authentication("testsmdpplus1.example.com", challenge,
							    info1, sizeof(info1), &b, &err), 0);
	assert_string_equal(b.buf, "{\"smdpAddress\":\"testsmdpplus1.example.com\","
				   "\"euiccChallenge\":\"AAECAwQFBgcICQoLDA0ODw==\","
				   "\"euiccInfo1\":\"vyADggEC\"}");
	buf_release(&b);
	assert_int_equal(es9p_build_handle_notification(bf37, sizeof(bf37), &b, &err), 0);
	assert_string_equal(b.buf, "{\"pendingNotification\":\"vzcDvycA\"}");
	buf_release(&b);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (es9p_build_txid_request(rows[i].fn, rows[i].txid, rows[i].tlv, rows[i].len, &b,
					    &err) != 0)
			fail_msg("row %zu: %s", i, err.msg);
		if (strcmp(b.buf, rows[i].want) != 0)
			fail_msg("row %zu: got %s\nwant %s", i, b.buf, rows[i].want);
		buf_release(&b);
	}
}

static void test_build_rejects(void **state)
{
	static const struct {
		enum es9p_fn fn;
		const char *txid;
		size_t len;
	} rows[] = {
		{ ES9P_AUTHENTICATE_CLIENT, NULL, sizeof(bf38) },
		{ ES9P_AUTHENTICATE_CLIENT, "", sizeof(bf38) },
		{ ES9P_AUTHENTICATE_CLIENT, "0", sizeof(bf38) },                /* odd */
		{ ES9P_AUTHENTICATE_CLIENT, "0g", sizeof(bf38) },               /* not hex */
		{ ES9P_AUTHENTICATE_CLIENT, "00 1", sizeof(bf38) },
		{ ES9P_AUTHENTICATE_CLIENT, "000102030405060708090A0B0C0D0E0F10", sizeof(bf38) },
		{ ES9P_AUTHENTICATE_CLIENT, TXID, 0 },                          /* empty TLV */
		{ ES9P_INITIATE_AUTHENTICATION, TXID, sizeof(bf38) },          /* wrong builder */
		{ ES9P_HANDLE_NOTIFICATION, TXID, sizeof(bf38) },
	};
	struct esim_err err = { 0 };
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (es9p_build_txid_request(rows[i].fn, rows[i].txid, bf38, rows[i].len, &b, &err) == 0)
			fail_msg("row %zu accepted: %s", i, b.buf);
		assert_int_equal(err.status, ESIM_E_OTHER);
		assert_int_equal(b.len, 0);
	}
	assert_int_equal(es9p_build_initiate_authentication("", challenge, info1, sizeof(info1), &b,
							    &err), -1);
	assert_int_equal(es9p_build_initiate_authentication("x", challenge, info1, 0, &b, &err), -1);
	assert_int_equal(es9p_build_handle_notification(bf37, 0, &b, &err), -1);
	buf_release(&b);
}

/* ---- responses ---- */

struct parse_row {
	const char *name;
	const char *json;
	enum esim_status status;        /* ESIM_OK: must parse */
	const char *msg;                /* substring of err.msg */
	const char *subject, *reason, *smdp_message, *detail;
};

static void check_row(const struct parse_row *r, int ret, const struct esim_err *err)
{
	if (r->status == ESIM_OK) {
		if (ret != 0)
			fail_msg("%s: failed: %s", r->name, err->msg);
		return;
	}
	if (ret != -1)
		fail_msg("%s: accepted", r->name);
	if (err->status != r->status)
		fail_msg("%s: status %d, want %d (%s)", r->name, err->status, r->status, err->msg);
	if (r->msg && !strstr(err->msg, r->msg))
		fail_msg("%s: message '%s' lacks '%s'", r->name, err->msg, r->msg);
	if (r->subject && strcmp(err->subject_code, r->subject) != 0)
		fail_msg("%s: subject '%s'", r->name, err->subject_code);
	if (r->reason && strcmp(err->reason_code, r->reason) != 0)
		fail_msg("%s: reason '%s'", r->name, err->reason_code);
	if (r->smdp_message && strcmp(err->smdp_message, r->smdp_message) != 0)
		fail_msg("%s: smdp_message '%s'", r->name, err->smdp_message);
	if (r->detail && strcmp(err->detail, r->detail) != 0)
		fail_msg("%s: detail '%s'", r->name, err->detail);
}

#define BAD(what) ESIM_E_SMDP, "invalid response from the SM-DP+ to initiateAuthentication: " what, \
	NULL, NULL, NULL, NULL

static const struct parse_row ia_rows[] = {
	{ "success", "{" HDR_OK ",\"transactionId\":\"" TXID "\"" IA_REST, ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "with warning", "{" HDR("Executed-WithWarning") ",\"transactionId\":\"" TXID "\"" IA_REST,
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "unknown fields ignored",
	  "{\"otherCertsInChain\":[\"MAMCAQU=\",{\"x\":1}]," HDR_OK ",\"extra\":null,\"n\":5,"
	  "\"transactionId\":\"" TXID "\"" IA_REST, ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "base64 with newlines",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"MAqA\\nCAAR\\r\\nIjOqu8zd\\n\","
	  "\"serverSignature1\":\"XzcE\\r\\nAQID\\r\\nBA==\",\"euiccCiPKIdToBeUsed\":\" BBQREhMUFRYXGBka\\n"
	  "GxwdHh8gISIjJA== \",\"serverCertificate\":\"MAMC\\tAQU=\"}",
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "whitespace around", " \r\n{" HDR_OK ",\"transactionId\":\"" TXID "\"" IA_REST "\n",
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "failed 8.2.6/3.8", "{" HDR_FAILED("8.2.6", "3.8", "Refused") "}", ESIM_E_SMDP,
	  "the SM-DP+ refused the matching ID (wrong or already used activation code)",
	  "8.2.6", "3.8", "Refused", "ES9+ 8.2.6/3.8" },
	{ "failed, header checked before fields",
	  "{" HDR_FAILED("8.8.1", "3.8", "bad address") ",\"transactionId\":17}", ESIM_E_SMDP,
	  "does not accept the address", "8.8.1", "3.8", "bad address", "ES9+ 8.8.1/3.8" },
	{ "expired with codes",
	  "{\"header\":{\"functionExecutionStatus\":{\"status\":\"Expired\",\"statusCodeData\":"
	  "{\"subjectCode\":\"8.8.5\",\"reasonCode\":\"4.10\"}}}}", ESIM_E_SMDP,
	  "the download order has expired", "8.8.5", "4.10", "", "ES9+ 8.8.5/4.10" },
	{ "expired without codes", "{" HDR("Expired") "}", ESIM_E_SMDP,
	  "reports initiateAuthentication as expired", "", "", "", "ES9+ initiateAuthentication Expired" },
	{ "failed without codes", "{" HDR("Failed") "}", ESIM_E_SMDP,
	  "refused initiateAuthentication (no reason given)", "", "", "", NULL },
	{ "failed, unknown pair",
	  "{" HDR_FAILED("8.99", "9.9", "what") "}", ESIM_E_SMDP,
	  "subject 8.99, reason 9.9", "8.99", "9.9", "what", "ES9+ 8.99/9.9" },
	{ "failed, control characters in message",
	  "{" HDR_FAILED("8.2.6", "3.8", "a\\u001b[31mb\\nc") "}", ESIM_E_SMDP, NULL,
	  "8.2.6", "3.8", "a [31mb c", NULL },
	{ "failed, codes not codes",
	  "{\"header\":{\"functionExecutionStatus\":{\"status\":\"Failed\",\"statusCodeData\":"
	  "{\"subjectCode\":\"8.2.6; rm\",\"reasonCode\":3.8}}}}", ESIM_E_SMDP,
	  "(no reason given)", "", "", "", NULL },
	{ "not JSON", "{\"header\":", BAD("not JSON") },
	{ "empty body", "", BAD("empty body") },
	{ "trailing data", "{" HDR_OK ",\"transactionId\":\"" TXID "\"" IA_REST "x",
	  BAD("data after the JSON object") },
	{ "array", "[1,2]", BAD("not a JSON object") },
	{ "no header", "{\"transactionId\":\"" TXID "\"" IA_REST, BAD("no header") },
	{ "header not an object", "{\"header\":\"ok\"}", BAD("header is not an object") },
	{ "no status", "{\"header\":{\"functionExecutionStatus\":{}}}",
	  BAD("no functionExecutionStatus.status string") },
	{ "unknown status", "{" HDR("Executed-Maybe") "}", BAD("unknown status 'Executed-Maybe'") },
	{ "missing transactionId", "{" HDR_OK IA_REST, BAD("no transactionId") },
	{ "transactionId a number", "{" HDR_OK ",\"transactionId\":12" IA_REST,
	  BAD("transactionId is not a string") },
	{ "transactionId odd", "{" HDR_OK ",\"transactionId\":\"123\"" IA_REST,
	  BAD("transactionId '123' is not 1 to 16 bytes in hex") },
	{ "transactionId not hex", "{" HDR_OK ",\"transactionId\":\"12zz\"" IA_REST,
	  BAD("transactionId '12zz' is not 1 to 16 bytes in hex") },
	{ "transactionId too long",
	  "{" HDR_OK ",\"transactionId\":\"000102030405060708090A0B0C0D0E0F10\"" IA_REST,
	  BAD("transactionId '000102030405060708090A0B0C0D0E0F10' is not 1 to 16 bytes in hex") },
	{ "missing serverCertificate",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"" B64_SS1
	  "\",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID "\"}",
	  BAD("no serverCertificate") },
	{ "field wrong type",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":[\"" B64_SS1 "\"]"
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSigned1 is not a string") },
	{ "invalid base64",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"MAqA*CAARIjOqu8zd\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSigned1 is not valid base64") },
	{ "base64 bad padding",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"" B64_SS1 "\""
	  ",\"serverSignature1\":\"XzcEAQIDBA=\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSignature1 is not valid base64") },
	{ "empty field",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSigned1 is empty") },
	{ "wrong tag (value without 04 14)",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"" B64_SS1 "\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_SS1
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("euiccCiPKIdToBeUsed has tag 30, expected 4") },
	{ "trailing bytes after the TLV",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"MAqACAARIjOqu8zdAA==\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSigned1 is not one DER TLV") },
	{ "serverSigned1 for another transaction",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"MAqACAARIjOqu8ze\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}",
	  BAD("the transactionId in serverSigned1 is not " TXID) },
	{ "serverSigned1 without transactionId",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"serverSigned1\":\"MAOBAQE=\""
	  ",\"serverSignature1\":\"" B64_SIG "\",\"euiccCiPKIdToBeUsed\":\"" B64_PKID
	  "\",\"serverCertificate\":\"" B64_CERT "\"}", BAD("serverSigned1 has no transactionId") },
};

static void test_parse_initiate_authentication(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ia_rows) / sizeof(ia_rows[0]); i++) {
		const struct parse_row *r = &ia_rows[i];
		struct esim_err err = { 0 };
		struct es9p_auth1 a;
		int ret;

		ret = es9p_parse_initiate_authentication(r->json, strlen(r->json), &a, &err);
		check_row(r, ret, &err);
		if (ret == 0) {
			static const uint8_t txid[] = { 0x00, 0x11, 0x22, 0x33, 0xAA, 0xBB, 0xCC, 0xDD };

			/* Kept exactly as received, mixed case included. */
			assert_string_equal(a.transaction_id, TXID);
			assert_int_equal(a.txid_len, sizeof(txid));
			assert_memory_equal(a.txid, txid, sizeof(txid));
			assert_buf(&a.server_signed1, ss1, sizeof(ss1), r->name);
			assert_buf(&a.server_signature1, sig, sizeof(sig), r->name);
			assert_buf(&a.euicc_ci_pkid, pkid, sizeof(pkid), r->name);
			assert_buf(&a.server_certificate, cert, sizeof(cert), r->name);
		} else {
			/* Nothing half-filled is left behind. */
			assert_int_equal(a.server_signed1.len, 0);
			assert_int_equal(a.transaction_id[0], '\0');
		}
		es9p_auth1_release(&a);
	}
}

/* A JSON document that is not NUL-terminated where its length ends. */
static void test_parse_length_bounded(void **state)
{
	static const char doc[] = "{" HDR_OK ",\"transactionId\":\"" TXID "\"" IA_REST "GARBAGE";
	struct esim_err err = { 0 };
	struct es9p_auth1 a;

	(void)state;
	assert_int_equal(es9p_parse_initiate_authentication(doc, strlen(doc) - 7, &a, &err), 0);
	es9p_auth1_release(&a);
	assert_int_equal(es9p_parse_initiate_authentication(doc, strlen(doc), &a, &err), -1);
	assert_non_null(strstr(err.msg, "data after the JSON object"));
	es9p_auth1_release(&a);
}

#define BADAC(what) ESIM_E_SMDP, "invalid response from the SM-DP+ to authenticateClient: " what, \
	NULL, NULL, NULL, NULL

static const struct parse_row ac_rows[] = {
	{ "success", "{" HDR_OK ",\"transactionId\":\"" TXID "\"" AC_REST, ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "transactionId in the other case", "{" HDR_OK ",\"transactionId\":\"" TXID_ALT "\"" AC_REST,
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "with warning and unknown fields",
	  "{" HDR("Executed-WithWarning") ",\"transactionId\":\"" TXID "\",\"v3\":{\"a\":[1]}" AC_REST,
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "wrong transactionId", "{" HDR_OK ",\"transactionId\":\"00112233AABBCCDE\"" AC_REST,
	  BADAC("transactionId 00112233AABBCCDE does not match " TXID) },
	{ "shorter transactionId", "{" HDR_OK ",\"transactionId\":\"00112233AABBCC\"" AC_REST,
	  BADAC("transactionId 00112233AABBCC does not match " TXID) },
	{ "no transactionId", "{" HDR_OK AC_REST, BADAC("no transactionId") },
	{ "failed 8.2.7/3.8", "{" HDR_FAILED("8.2.7", "3.8", "CC refused") "}", ESIM_E_SMDP,
	  "the SM-DP+ refused the confirmation code", "8.2.7", "3.8", "CC refused", "ES9+ 8.2.7/3.8" },
	{ "failed 8.10.1/3.9", "{" HDR_FAILED("8.10.1", "3.9", "") "}", ESIM_E_SMDP,
	  "does not know the transaction", "8.10.1", "3.9", "", "ES9+ 8.10.1/3.9" },
	{ "profileMetadata not BF25",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"profileMetadata\":\"" B64_BPP "\",\"smdpSigned2\":\""
	  B64_SS1 "\",\"smdpSignature2\":\"" B64_SIG "\",\"smdpCertificate\":\"" B64_CERT "\"}",
	  BADAC("profileMetadata has tag BF36, expected BF25") },
	{ "missing smdpCertificate",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"profileMetadata\":\"" B64_META "\",\"smdpSigned2\":\""
	  B64_SS1 "\",\"smdpSignature2\":\"" B64_SIG "\"}", BADAC("no smdpCertificate") },
	{ "smdpSigned2 for another transaction",
	  "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"profileMetadata\":\"" B64_META "\",\"smdpSigned2\":\""
	  "MAqACAARIjOqu8ze\",\"smdpSignature2\":\"" B64_SIG "\",\"smdpCertificate\":\"" B64_CERT "\"}",
	  BADAC("the transactionId in smdpSigned2 is not " TXID) },
};

static void test_parse_authenticate_client(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ac_rows) / sizeof(ac_rows[0]); i++) {
		const struct parse_row *r = &ac_rows[i];
		struct esim_err err = { 0 };
		struct es9p_auth2 a;
		int ret;

		ret = es9p_parse_authenticate_client(r->json, strlen(r->json), TXID, &a, &err);
		check_row(r, ret, &err);
		if (ret == 0) {
			assert_buf(&a.profile_metadata, meta, sizeof(meta), r->name);
			assert_buf(&a.smdp_signed2, ss1, sizeof(ss1), r->name);
			assert_buf(&a.smdp_signature2, sig, sizeof(sig), r->name);
			assert_buf(&a.smdp_certificate, cert, sizeof(cert), r->name);
		} else {
			assert_int_equal(a.profile_metadata.len, 0);
		}
		es9p_auth2_release(&a);
	}
}

#define BADBPP(what) ESIM_E_SMDP, "invalid response from the SM-DP+ to getBoundProfilePackage: " what, \
	NULL, NULL, NULL, NULL

static const struct parse_row bpp_rows[] = {
	{ "success", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":\"" B64_BPP "\"}",
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "wrapped base64", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":\"vzYD\\r\\nvyMA\\r\\n\"}",
	  ESIM_OK, NULL, NULL, NULL, NULL, NULL },
	{ "wrong transactionId", "{" HDR_OK ",\"transactionId\":\"01\",\"boundProfilePackage\":\"" B64_BPP "\"}",
	  BADBPP("transactionId 01 does not match") },
	{ "not BF36", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":\"" B64_META "\"}",
	  BADBPP("boundProfilePackage has tag BF25, expected BF36") },
	{ "not base64", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":\"vzYDvyM\"}",
	  BADBPP("boundProfilePackage is not valid base64") },
	{ "null field", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":null}",
	  BADBPP("boundProfilePackage is not a string") },
	{ "failed", "{" HDR_FAILED("8.2", "3.7", "no BPP") "}", ESIM_E_SMDP,
	  "not available for a new download", "8.2", "3.7", "no BPP", "ES9+ 8.2/3.7" },
};

static void test_parse_get_bpp(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bpp_rows) / sizeof(bpp_rows[0]); i++) {
		const struct parse_row *r = &bpp_rows[i];
		struct esim_err err = { 0 };
		struct buf b = BUF_INIT;
		int ret;

		buf_addstr(&b, "old contents");
		ret = es9p_parse_get_bpp(r->json, strlen(r->json), TXID, &b, &err);
		check_row(r, ret, &err);
		if (ret == 0)
			assert_buf(&b, bpp, sizeof(bpp), r->name);
		else
			assert_int_equal(b.len, 0);
		buf_release(&b);
	}
}

static void test_parse_cancel_and_notification(void **state)
{
	static const struct parse_row cancel_rows[] = {
		{ "success", "{" HDR_OK "}", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "success with extra", "{" HDR_OK ",\"transactionId\":\"zz\"}", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "failed", "{" HDR_FAILED("8.10.1", "3.9", "unknown") "}", ESIM_E_SMDP,
		  "does not know the transaction", "8.10.1", "3.9", "unknown", "ES9+ 8.10.1/3.9" },
		{ "empty", "", ESIM_E_SMDP, "invalid response from the SM-DP+ to cancelSession: empty body",
		  NULL, NULL, NULL, NULL },
		{ "no header", "{}", ESIM_E_SMDP, "to cancelSession: no header", NULL, NULL, NULL, NULL },
	};
	/* handleNotification: any 2xx body is fine unless it is an explicit refusal. */
	static const struct parse_row notif_rows[] = {
		{ "empty", "", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "empty object", "{}", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "text", "OK", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "success header", "{" HDR_OK "}", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "odd header", "{\"header\":{\"functionExecutionStatus\":7}}", ESIM_OK, NULL, NULL, NULL, NULL, NULL },
		{ "failed", "{" HDR_FAILED("8.1.3", "6.1", "bad cert") "}", ESIM_E_SMDP,
		  "rejected the eUICC certificate", "8.1.3", "6.1", "bad cert", "ES9+ 8.1.3/6.1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cancel_rows) / sizeof(cancel_rows[0]); i++) {
		struct esim_err err = { 0 };

		check_row(&cancel_rows[i],
			  es9p_parse_cancel_session(cancel_rows[i].json, strlen(cancel_rows[i].json), &err),
			  &err);
	}
	for (i = 0; i < sizeof(notif_rows) / sizeof(notif_rows[0]); i++) {
		struct esim_err err = { 0 };

		check_row(&notif_rows[i],
			  es9p_parse_handle_notification(notif_rows[i].json, strlen(notif_rows[i].json), &err),
			  &err);
		if (notif_rows[i].status == ESIM_OK && err.msg[0])
			fail_msg("%s: err set on success: %s", notif_rows[i].name, err.msg);
	}
}

static void test_check_http(void **state)
{
	static const struct {
		enum es9p_fn fn;
		int status;
		const char *location;
		const char *msg;        /* NULL: accepted */
		const char *hint;
	} rows[] = {
		{ ES9P_INITIATE_AUTHENTICATION, 200, NULL, NULL, NULL },
		{ ES9P_HANDLE_NOTIFICATION, 204, NULL, NULL, NULL },
		{ ES9P_GET_BPP, 299, NULL, NULL, NULL },
		{ ES9P_INITIATE_AUTHENTICATION, 500, NULL,
		  "SM-DP+ answered HTTP 500 to initiateAuthentication", "" },
		{ ES9P_AUTHENTICATE_CLIENT, 404, NULL, "SM-DP+ answered HTTP 404 to authenticateClient",
		  "check the SM-DP+ address" },
		{ ES9P_GET_BPP, 302, "https://elsewhere.example/x",
		  "SM-DP+ answered HTTP 302 to getBoundProfilePackage, redirecting to "
		  "'https://elsewhere.example/x' (redirects are not followed)", "check the SM-DP+ address" },
		{ ES9P_CANCEL_SESSION, 301, NULL, "HTTP 301 to cancelSession, a redirect without a location", NULL },
		{ ES9P_HANDLE_NOTIFICATION, 100, NULL, "HTTP 100 to handleNotification", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct esim_err err = { 0 };
		int ret = es9p_check_http(rows[i].fn, rows[i].status, rows[i].location, &err);

		if (!rows[i].msg) {
			if (ret != 0)
				fail_msg("row %zu refused: %s", i, err.msg);
			continue;
		}
		if (ret != -1 || err.status != ESIM_E_NETWORK)
			fail_msg("row %zu: ret %d status %d", i, ret, err.status);
		if (!strstr(err.msg, rows[i].msg))
			fail_msg("row %zu: '%s' lacks '%s'", i, err.msg, rows[i].msg);
		if (rows[i].hint && strcmp(err.hint, rows[i].hint) != 0)
			fail_msg("row %zu: hint '%s'", i, err.hint);
	}
}

static void test_error_table(void **state)
{
	static const struct {
		const char *subject, *reason;
		int known;
		const char *msg;        /* exact for known pairs, substring otherwise */
		const char *hint;       /* substring */
	} rows[] = {
		{ "8.2.6", "3.8", 1,
		  "the SM-DP+ refused the matching ID (wrong or already used activation code)",
		  "check the activation code, or ask the carrier for a new one" },
		{ "8.10.1", "3.9", 1,
		  "the SM-DP+ does not know the transaction (the session expired or the id is wrong)",
		  "start the download again" },
		{ "8.2.7", "3.8", 1, "the SM-DP+ refused the confirmation code", "confirmation code" },
		{ "8.2.7", "2.2", 1, "the SM-DP+ requires a confirmation code and none was given", "confirmation code" },
		{ "8.8.5", "4.1", 1, "the download order has expired", "new activation code" },
		{ "8.8.5", "4.10", 1, "the download order has expired", "new activation code" },
		{ "8.8", "3.10", 1, "the SM-DP+ certificate carries an invalid OID", "carrier" },
		{ "8.1", "4.8", 1, "the eUICC does not have enough free memory for the profile", "delete" },
		{ "8.99", "9.9", 0, "the SM-DP+ refused the request (subject 8.99, reason 9.9)",
		  "subject 8.99, reason 9.9" },
		{ "8.2.6", "9.9", 0, "subject 8.2.6, reason 9.9", "SGP.22" },
		{ "8.77", "3.8", 0, "(subject 8.77, reason 3.8: refused)", "subject 8.77" },
		{ "8.2.6", "", 0, "subject 8.2.6, reason )", NULL },
	};
	char msg[256], hint[256];
	const char *m, *h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int known = es9p_error_lookup(rows[i].subject, rows[i].reason, &m, &h);

		if (known != rows[i].known)
			fail_msg("row %zu: lookup %d", i, known);
		if (known && (strcmp(m, rows[i].msg) != 0 || !h || !strstr(h, rows[i].hint)))
			fail_msg("row %zu: '%s' / '%s'", i, m, h ? h : "(null)");
		if (!known && (m || h))
			fail_msg("row %zu: unknown pair returned text", i);
		es9p_error_explain(rows[i].subject, rows[i].reason, msg, sizeof(msg), hint, sizeof(hint));
		if (known ? strcmp(msg, rows[i].msg) != 0 : !strstr(msg, rows[i].msg))
			fail_msg("row %zu: explain '%s'", i, msg);
		if (rows[i].hint && !strstr(hint, rows[i].hint))
			fail_msg("row %zu: explain hint '%s'", i, hint);
	}
	assert_int_equal(es9p_error_lookup(NULL, "3.8", &m, NULL), 0);
	assert_null(m);
	es9p_error_explain(NULL, NULL, msg, sizeof(msg), NULL, 0);
	assert_non_null(strstr(msg, "subject ?, reason ?"));
	/* Small buffers truncate, never overflow. */
	es9p_error_explain("8.2.6", "3.8", msg, 8, hint, 4);
	assert_string_equal(msg, "the SM-");
	assert_string_equal(hint, "che");
}

/* ---- the session, against a scripted helper ---- */

/*
 * Stand-in for esimctl-https: records its arguments, each request's path and body
 * (args, path.N, req.N) and answers request N with the bytes of reply.N.  With no
 * reply.N it exits 3; with hang.N it never answers; with exit-now it exits 5 at once.
 */
static const char fake_helper[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"[ -f \"$d/exit-now\" ] && exit 5\n"
	"printf '%s\\n' \"$@\" > \"$d/args\"\n"
	"printf '%s\\n' \"$ESIMCTL_RESOLVE\" > \"$d/env\"\n"
	"n=0\n"
	"while IFS= read -r cmd; do\n"
	"  case $cmd in\n"
	"  STATS) printf 'STATS 3 1 1\\n' ;;\n"
	"  'POST '*)\n"
	"    n=$((n + 1))\n"
	"    IFS= read -r len || exit 4\n"
	"    printf '%s\\n' \"${cmd#POST }\" > \"$d/path.$n\"\n"
	"    head -c \"$len\" > \"$d/req.$n\"\n"
	"    [ -f \"$d/hang.$n\" ] && exec sleep 120\n"
	"    [ -f \"$d/reply.$n\" ] || exit 3\n"
	"    cat \"$d/reply.$n\" ;;\n"
	"  *) exit 4 ;;\n"
	"  esac\n"
	"done\n"
	"exit 0\n";

struct fake {
	char dir[64];
	char helper[128];
};

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;
	char path[256], chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* reply.N = "<status> <len>[ <location>]\n<body>" or "ERR <code> <len>\n<msg>" */
static void reply(struct fake *f, int n, const char *head, const char *body)
{
	struct buf b = BUF_INIT;
	char name[32];

	if (strncmp(head, "ERR ", 4) == 0)
		buf_addf(&b, "%s %zu\n%s", head, strlen(body), body);
	else if (strchr(head, ' '))     /* "302 https://..." */
		buf_addf(&b, "%.*s %zu%s\n%s", (int)(strchr(head, ' ') - head), head, strlen(body),
			 strchr(head, ' '), body);
	else
		buf_addf(&b, "%s %zu\n%s", head, strlen(body), body);
	snprintf(name, sizeof(name), "reply.%d", n);
	write_file(f->dir, name, b.buf, b.len);
	buf_release(&b);
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_es9p.XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->helper, sizeof(f->helper), "%s/fake-https", f->dir);
	write_file(f->dir, "fake-https", fake_helper, strlen(fake_helper));
	if (chmod(f->helper, 0700) != 0)
		return -1;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_session_download_flow(void **state)
{
	struct fake *f = *state;
	const char *cas[] = { "ci-a.pem", "ci b.pem" };
	struct es9p_opts o = { cas, 2, 1500, 2500, 100000, f->helper };
	struct esim_err err = { 0 };
	struct es9p *s = NULL;
	struct es9p_auth1 a1;
	struct es9p_auth2 a2;
	struct buf b = BUF_INIT;
	unsigned rq = 0, cn = 0, hs = 0;
	char *text;

	reply(f, 1, "200", "{" HDR_OK ",\"transactionId\":\"" TXID "\"" IA_REST);
	reply(f, 2, "200", "{" HDR_OK ",\"transactionId\":\"" TXID "\"" AC_REST);
	reply(f, 3, "200", "{" HDR_OK ",\"transactionId\":\"" TXID "\",\"boundProfilePackage\":\"" B64_BPP "\"}");
	reply(f, 4, "204", "");
	reply(f, 5, "200", "{" HDR_OK "}");
	setenv("ESIMCTL_RESOLVE", "smdp.test:8443:127.0.0.1", 1);

	assert_int_equal(es9p_open("smdp.test:8443", &o, &s, &err), 0);
	assert_int_equal(es9p_initiate_authentication(s, NULL, challenge, info1, sizeof(info1), &a1, &err), 0);
	assert_string_equal(a1.transaction_id, TXID);
	assert_int_equal(es9p_authenticate_client(s, a1.transaction_id, bf38, sizeof(bf38), &a2, &err), 0);
	assert_buf(&a2.profile_metadata, meta, sizeof(meta), "profileMetadata");
	assert_int_equal(es9p_get_bpp(s, a1.transaction_id, bf21, sizeof(bf21), &b, &err), 0);
	assert_buf(&b, bpp, sizeof(bpp), "bpp");
	assert_int_equal(es9p_handle_notification(s, bf37, sizeof(bf37), &err), 0);
	assert_int_equal(es9p_cancel_session(s, a1.transaction_id, bf41, sizeof(bf41), &err), 0);
	assert_int_equal(es9p_stats(s, &rq, &cn, &hs, &err), 0);
	assert_int_equal(rq, 3);
	assert_int_equal(cn, 1);
	assert_int_equal(hs, 1);
	es9p_close(s);
	unsetenv("ESIMCTL_RESOLVE");

	text = read_text(f->dir, "args");
	assert_non_null(text);
	assert_string_equal(text, "--base\nhttps://smdp.test:8443\n--ca\nci-a.pem\n--ca\nci b.pem\n"
				  "--connect-timeout\n1500\n--timeout\n2500\n--max-size\n100000\n");
	free(text);
	text = read_text(f->dir, "env");
	assert_string_equal(text, "smdp.test:8443:127.0.0.1\n");
	free(text);
	text = read_text(f->dir, "path.1");
	assert_string_equal(text, "/gsma/rsp2/es9plus/initiateAuthentication\n");
	free(text);
	text = read_text(f->dir, "req.1");
	assert_string_equal(text, "{\"smdpAddress\":\"smdp.test:8443\",\"euiccChallenge\":"
				  "\"AAECAwQFBgcICQoLDA0ODw==\",\"euiccInfo1\":\"vyADggEC\"}");
	free(text);
	text = read_text(f->dir, "path.2");
	assert_string_equal(text, "/gsma/rsp2/es9plus/authenticateClient\n");
	free(text);
	text = read_text(f->dir, "req.2");
	assert_string_equal(text, "{\"transactionId\":\"" TXID "\",\"authenticateServerResponse\":\"vzgDoAEA\"}");
	free(text);
	text = read_text(f->dir, "path.3");
	assert_string_equal(text, "/gsma/rsp2/es9plus/getBoundProfilePackage\n");
	free(text);
	text = read_text(f->dir, "path.4");
	assert_string_equal(text, "/gsma/rsp2/es9plus/handleNotification\n");
	free(text);
	text = read_text(f->dir, "req.4");
	assert_string_equal(text, "{\"pendingNotification\":\"vzcDvycA\"}");
	free(text);
	text = read_text(f->dir, "path.5");
	assert_string_equal(text, "/gsma/rsp2/es9plus/cancelSession\n");
	free(text);
	es9p_auth1_release(&a1);
	es9p_auth2_release(&a2);
	buf_release(&b);
}

static void test_session_errors(void **state)
{
	struct fake *f = *state;
	struct es9p_opts o = { NULL, 0, 0, 0, 0, f->helper };
	struct esim_err err = { 0 };
	struct es9p *s = NULL;
	struct es9p_auth1 a1;
	struct es9p_auth2 a2;
	struct buf b = BUF_INIT;

	reply(f, 1, "ERR 7", "SSL certificate problem: certificate has expired");
	reply(f, 2, "500", "oops");
	reply(f, 3, "302 https://elsewhere.example/p", "moved");
	reply(f, 4, "ERR 2", "cannot open CA file 'x.pem': No such file or directory");
	reply(f, 5, "200", "{" HDR_FAILED("8.2.6", "3.8", "Refused") "}");
	reply(f, 6, "200", "{" HDR_OK ",\"transactionId\":\"FF\",\"boundProfilePackage\":\"" B64_BPP "\"}");
	/* no reply.7: the helper exits 3 */

	assert_int_equal(es9p_open("smdp.test", &o, &s, &err), 0);
	assert_int_equal(es9p_initiate_authentication(s, NULL, challenge, info1, sizeof(info1), &a1, &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_string_equal(err.msg, "initiateAuthentication to SM-DP+ 'smdp.test' failed: "
				     "SSL certificate problem: certificate has expired");
	assert_non_null(strstr(err.hint, "expired"));

	assert_int_equal(es9p_initiate_authentication(s, "other.test", challenge, info1, sizeof(info1), &a1, &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_string_equal(err.msg, "SM-DP+ answered HTTP 500 to initiateAuthentication");

	assert_int_equal(es9p_authenticate_client(s, TXID, bf38, sizeof(bf38), &a2, &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "HTTP 302 to authenticateClient, redirecting to 'https://elsewhere.example/p'"));

	assert_int_equal(es9p_get_bpp(s, TXID, bf21, sizeof(bf21), &b, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "cannot open CA file 'x.pem'"));

	assert_int_equal(es9p_initiate_authentication(s, NULL, challenge, info1, sizeof(info1), &a1, &err), -1);
	assert_int_equal(err.status, ESIM_E_SMDP);
	assert_string_equal(err.detail, "ES9+ 8.2.6/3.8");
	assert_string_equal(err.subject_code, "8.2.6");
	assert_string_equal(err.smdp_message, "Refused");

	assert_int_equal(es9p_get_bpp(s, TXID, bf21, sizeof(bf21), &b, &err), -1);
	assert_int_equal(err.status, ESIM_E_SMDP);
	assert_non_null(strstr(err.msg, "invalid response from the SM-DP+ to getBoundProfilePackage: "
					"transactionId FF does not match"));

	/* The helper dies: reported with its exit status, and the session stays dead. */
	assert_int_equal(es9p_handle_notification(s, bf37, sizeof(bf37), &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "exited with status 3"));
	assert_non_null(strstr(err.msg, f->helper));
	assert_int_equal(es9p_handle_notification(s, bf37, sizeof(bf37), &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "no longer running"));
	assert_int_equal(es9p_stats(s, NULL, NULL, NULL, &err), -1);
	es9p_close(s);
	es9p_auth1_release(&a1);
	es9p_auth2_release(&a2);
	buf_release(&b);
}

static void test_session_start_failures(void **state)
{
	struct fake *f = *state;
	struct es9p_opts o = { NULL, 0, 0, 0, 0, "/nonexistent/dir/esimctl-https" };
	struct esim_err err = { 0 };
	struct es9p *s = (struct es9p *)&err;
	static uint8_t big[256 * 1024];

	assert_int_equal(es9p_open("smdp.test", &o, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "cannot start the HTTPS helper '/nonexistent/dir/esimctl-https'"));
	assert_non_null(strstr(err.hint, "ESIMCTL_HTTPS_HELPER"));

	/* $ESIMCTL_HTTPS_HELPER is used when opts->helper is NULL. */
	o.helper = NULL;
	setenv("ESIMCTL_HTTPS_HELPER", "/nonexistent/env-helper", 1);
	assert_int_equal(es9p_open("smdp.test", &o, &s, &err), -1);
	assert_non_null(strstr(err.msg, "'/nonexistent/env-helper'"));
	unsetenv("ESIMCTL_HTTPS_HELPER");

	static const char *const bad[] = { "", "https://smdp.test", "smdp.test/path", "smdp.test:0",
					   "smdp.test:65536", "smdp test", ".smdp.test", "smdp.test:",
					   "a@b", "[::1" };
	o.helper = f->helper;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (es9p_open(bad[i], &o, &s, &err) != -1 || err.status != ESIM_E_USAGE)
			fail_msg("address '%s' accepted", bad[i]);
	}
	assert_int_equal(es9p_open(NULL, &o, &s, &err), -1);

	/*
	 * A helper that exits at once, and a request larger than the pipe buffer: the write
	 * fails with EPIPE.  SIGPIPE must not kill this process.
	 */
	write_file(f->dir, "exit-now", "", 0);
	assert_int_equal(es9p_open("[::1]:8443", &o, &s, &err), 0);
	big[0] = 0x30;
	assert_int_equal(es9p_handle_notification(s, big, sizeof(big), &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "exited with status 5"));
	es9p_close(s);
}

static void test_session_timeout(void **state)
{
	struct fake *f = *state;
	struct es9p_opts o = { NULL, 0, 100, 100, 0, f->helper };
	struct esim_err err = { 0 };
	struct es9p *s = NULL;
	struct es9p_auth1 a1;

	/* The helper's own timeouts (here 100 ms) plus a margin bound the wait. */
	write_file(f->dir, "hang.1", "", 0);
	assert_int_equal(es9p_open("smdp.test", &o, &s, &err), 0);
	assert_int_equal(es9p_initiate_authentication(s, NULL, challenge, info1, sizeof(info1), &a1, &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "the HTTPS helper did not answer within"));
	es9p_close(s);
	es9p_auth1_release(&a1);
}

/* ---- the real helper, when it was built next to this test ---- */

static int real_helper(char *path, size_t size)
{
	char self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return 0;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return 0;
	*slash = '\0';
	snprintf(path, size, "%s/esimctl-https", self);
	return access(path, X_OK) == 0;
}

static void test_real_helper(void **state)
{
	struct es9p_opts o = { NULL, 0, 3000, 5000, 0, NULL };
	const char *missing_ca[] = { "/nonexistent/ci.pem" };
	struct esim_err err = { 0 };
	struct es9p *s = NULL;
	struct es9p_auth1 a1;
	unsigned rq = 9, cn = 9, hs = 9;
	char path[600];

	(void)state;
	if (!real_helper(path, sizeof(path)))
		skip();
	/* Found next to the running program (the build directory) with no help. */
	unsetenv("ESIMCTL_HTTPS_HELPER");
	unsetenv("ESIMCTL_RESOLVE");
	/* Port 1 on the loopback: nothing listens, so the connection is refused. */
	assert_int_equal(es9p_open("127.0.0.1:1", &o, &s, &err), 0);
	assert_int_equal(es9p_initiate_authentication(s, NULL, challenge, info1, sizeof(info1), &a1, &err), -1);
	assert_int_equal(err.status, ESIM_E_NETWORK);
	assert_non_null(strstr(err.msg, "initiateAuthentication to SM-DP+ '127.0.0.1:1' failed: "));
	assert_non_null(strstr(err.msg, "onnect"));
	assert_int_equal(es9p_stats(s, &rq, &cn, &hs, &err), 0);
	assert_int_equal(rq, 1);
	assert_int_equal(hs, 0);
	es9p_close(s);
	es9p_auth1_release(&a1);

	/* An unusable --ca file: a usage error, reported by the first request. */
	o.ca_files = missing_ca;
	o.nca = 1;
	assert_int_equal(es9p_open("127.0.0.1:1", &o, &s, &err), 0);
	assert_int_equal(es9p_cancel_session(s, TXID, bf41, sizeof(bf41), &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "cannot open CA file '/nonexistent/ci.pem'"));
	es9p_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_requests),
		cmocka_unit_test(test_build_rejects),
		cmocka_unit_test(test_parse_initiate_authentication),
		cmocka_unit_test(test_parse_length_bounded),
		cmocka_unit_test(test_parse_authenticate_client),
		cmocka_unit_test(test_parse_get_bpp),
		cmocka_unit_test(test_parse_cancel_and_notification),
		cmocka_unit_test(test_check_http),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test_setup_teardown(test_session_download_flow, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_session_errors, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_session_start_failures, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_session_timeout, fake_setup, fake_teardown),
		cmocka_unit_test(test_real_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
