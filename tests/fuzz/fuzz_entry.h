/*
 * fuzz_entry.h - the entry logic of every libFuzzer target in tests/fuzz, shared with
 * tests/unit/test_fuzz_regress.c, which replays every file in tests/fuzz/regress/<target>/
 * through the very same functions in normal (gcc) builds.
 *
 * Each fz_<target>() takes one input and returns 0, or 1 after printing to stderr when a
 * property that must hold for every input is broken (a round trip that does not round
 * trip, a response longer than the APDU buffer...).  The fuzz targets abort() on 1, so
 * libFuzzer keeps the input; memory errors are left to the sanitizers.  Everything here is
 * static inline so a file that includes this header and uses only some of it stays clean
 * under -Wall -Wextra -Werror.
 *
 * Inputs (docs/fuzzing.md has the details and the seed corpora):
 *   fz_actcode      text of an activation code
 *   fz_store        store JSON (store_from_json, then a to_json / from_json round trip)
 *   fz_carriers     carrier override JSON (carrier_table_new)
 *   fz_der          bytes for der_*, hex_decode and base64_decode
 *   fz_es9p         byte 0 picks the ES9+ response parser, the rest is the HTTP body
 *   fz_es10         byte 0 picks the ES10 response parser, or drives es10_load_bpp /
 *                   an ES10 operation over a fake card whose answers come from the input
 *   fz_soft_apdu    [flags] then length-prefixed C-APDUs for the software eUICC
 *   fz_bpp          [flags][segment size] then the plaintext of A0/A1/[A2]/A3, which the
 *                   harness protects with the session keys of a real session
 *
 * The software eUICC targets keep one eUICC in a temporary directory ($ESIMCTL_FUZZ_TMPDIR,
 * else /dev/shm when writable, else $TMPDIR or /tmp) made from the TEST-ONLY identity in
 * tests/fuzz/identity/ (see mkidentity.sh there), and start every input from the same
 * state: fz_soft_apdu reloads the eUICC from a snapshot of its state file whenever an
 * input changed the file; fz_bpp undoes the install and its notifications over ES10 and
 * reloads only when that leaves a difference.  Files are found under $ESIMCTL_FUZZ_DIR,
 * else $ESIMCTL_SRC/tests/fuzz, else the directory this header was compiled from.
 * ESIMCTL_FUZZ_VERBOSE=1 makes the targets say what each input did.
 */
#ifndef ESIMCTL_FUZZ_ENTRY_H
#define ESIMCTL_FUZZ_ENTRY_H

#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "crypto/rspcrypto.h"
#include "esimctl/actcode.h"
#include "esimctl/apdu.h"
#include "esimctl/buf.h"
#include "esimctl/carrier.h"
#include "esimctl/der.h"
#include "esimctl/error.h"
#include "esimctl/es10.h"
#include "esimctl/es9p.h"
#include "esimctl/ids.h"
#include "esimctl/model.h"
#include "esimctl/store.h"
#include "card/soft/soft.h"
#include "rsp/es9p_internal.h"
#include "store/store_json.h"

/* Inputs longer than this are cut: nothing interesting needs more, and it keeps exec/s up. */
#define FZ_MAX_INPUT (64 * 1024)

/* ESIMCTL_FUZZ_VERBOSE=1: say what each input led to (for triage and seed writing). */
static inline int fz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("ESIMCTL_FUZZ_VERBOSE") && *getenv("ESIMCTL_FUZZ_VERBOSE") == '1';
	return v;
}

static inline int fz_fail(const char *target, const char *what)
{
	fprintf(stderr, "%s: property violated: %s\n", target, what);
	return 1;
}

/* A NUL-terminated copy (an input may hold NULs: the text then ends at the first). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* ---- paths ------------------------------------------------------------------------ */

/* out = <tests/fuzz>/rel */
static inline void fz_path(const char *rel, struct buf *out)
{
	const char *env = getenv("ESIMCTL_FUZZ_DIR");
	const char *src = getenv("ESIMCTL_SRC");
	const char *here = __FILE__, *slash = strrchr(here, '/');

	buf_reset(out);
	if (env && *env)
		buf_addf(out, "%s/%s", env, rel);
	else if (src && *src)
		buf_addf(out, "%s/tests/fuzz/%s", src, rel);
	else if (slash)
		buf_addf(out, "%.*s/%s", (int)(slash - here), here, rel);
	else
		buf_addstr(out, rel);
}

/* ---- fz_actcode ------------------------------------------------------------------- */

static inline int fz_actcode_same(const struct actcode *a, const struct actcode *b)
{
	return strcmp(a->smdp, b->smdp) == 0 && strcmp(a->matching_id, b->matching_id) == 0 &&
	       strcmp(a->oid, b->oid) == 0 && a->cc_required == b->cc_required;
}

/*
 * actcode_parse; for a valid code: parse(format(x)) == x, format is a fixed point, and
 * actcode_mask keeps the length, the first 3 and last 2 characters of IDs over 6
 * characters and stars everything else.
 */
static inline int fz_actcode(const uint8_t *data, size_t size)
{
	struct actcode a, b;
	struct esim_err err = { 0 };
	struct buf f1 = BUF_INIT, f2 = BUF_INIT, masked = BUF_INIT;
	char *text, *mask;
	size_t n, i;
	int ret = 0;

	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	text = fz_cstr(data, size);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (actcode_parse(text, &a, &err) < 0) {
		if (err.status != ESIM_E_USAGE || !err.msg[0])
			ret = fz_fail("actcode", "a rejected code without a usage error message");
		goto out;
	}
	actcode_format(&a, &f1);
	if (actcode_parse(f1.buf, &b, &err) < 0) {
		fprintf(stderr, "actcode: formatted '%s' does not parse: %s\n", f1.buf, err.msg);
		ret = fz_fail("actcode", "parse(format(x)) failed");
		goto out;
	}
	if (!fz_actcode_same(&a, &b)) {
		ret = fz_fail("actcode", "parse(format(x)) != x");
		goto out;
	}
	actcode_format(&b, &f2);
	if (f1.len != f2.len || memcmp(f1.buf, f2.buf, f1.len) != 0) {
		ret = fz_fail("actcode", "format(parse(format(x))) != format(x)");
		goto out;
	}
	actcode_format_masked(&a, &masked);
	n = strlen(a.matching_id);
	mask = xmalloc(n + 1);
	actcode_mask(a.matching_id, mask, n + 1);
	if (strlen(mask) != n)
		ret = fz_fail("actcode", "actcode_mask changed the length");
	for (i = 0; !ret && i < n; i++) {
		int keep = n > 6 && (i < 3 || i >= n - 2);

		if (mask[i] != (keep ? a.matching_id[i] : '*'))
			ret = fz_fail("actcode", "actcode_mask shows or hides the wrong characters");
	}
	free(mask);
out:
	actcode_wipe(&a);
	actcode_wipe(&b);
	buf_release(&f1);
	buf_release(&f2);
	buf_release(&masked);
	free(text);
	return ret;
}

/* ---- fz_store --------------------------------------------------------------------- */

/*
 * store_from_json on the raw bytes (not NUL-terminated: the parser must respect len);
 * it must agree with the whole-tree load (the same error, or the same store), and a
 * record-by-record load that takes the text must too; for an accepted store, to_json ->
 * from_json must succeed and to_json again must give the same text.
 */
static inline int fz_store_agree(const char *text, size_t size, int rc, const struct store *s,
				 const struct esim_err *err)
{
	struct store *t = NULL, *st = NULL;
	struct esim_err terr = { 0 }, serr = { 0 };
	struct buf a = BUF_INIT, b = BUF_INIT;
	int ret = 0, trc = store_json_tree(text, size, "fuzz.json", &t, &terr);
	int src = store_json_stream(text, size, "fuzz.json", &st, &serr);

	if (trc != rc || (rc < 0 && (terr.status != err->status || strcmp(terr.msg, err->msg))))
		ret = fz_fail("store", "store_from_json() and the whole-tree load disagree");
	if (src != 0 && src != 1)
		ret = fz_fail("store", "the record-by-record load returned neither 0 nor 1");
	if (src == 0 && trc < 0)
		ret = fz_fail("store", "the record-by-record load took a text the tree refuses");
	if (rc == 0 && trc == 0) {
		store_to_json(s, &a);
		store_to_json(t, &b);
		if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
			ret = fz_fail("store", "store_from_json() and the whole-tree load made two stores");
		if (src == 0) {
			buf_reset(&b);
			store_to_json(st, &b);
			if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
				ret = fz_fail("store", "the two loads made two stores");
		}
	}
	model_free(t);
	model_free(st);
	buf_release(&a);
	buf_release(&b);
	return ret;
}

static inline int fz_store(const uint8_t *data, size_t size)
{
	struct store *s = NULL, *s2 = NULL;
	struct esim_err err = { 0 };
	struct buf j1 = BUF_INIT, j2 = BUF_INIT;
	int ret = 0, rc;

	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	rc = store_from_json((const char *)data, size, "fuzz.json", &s, &err);
	ret = fz_store_agree((const char *)data, size, rc, s, &err);
	if (rc < 0) {
		if (s)
			ret = fz_fail("store", "*out set on failure");
		if (err.status != ESIM_E_STORE)
			ret = fz_fail("store", "a rejected store without ESIM_E_STORE");
		return ret;
	}
	store_to_json(s, &j1);
	if (store_from_json(j1.buf, j1.len, "fuzz-roundtrip.json", &s2, &err) < 0) {
		fprintf(stderr, "store: re-parse: %s\n%s\n", err.msg, j1.buf);
		ret = fz_fail("store", "store_from_json(store_to_json(s)) failed");
		goto out;
	}
	store_to_json(s2, &j2);
	if (j1.len != j2.len || memcmp(j1.buf, j2.buf, j1.len) != 0) {
		fprintf(stderr, "store: first:\n%s\nsecond:\n%s\n", j1.buf, j2.buf);
		ret = fz_fail("store", "to_json(from_json(to_json(s))) != to_json(s)");
	}
out:
	model_free(s);
	model_free(s2);
	buf_release(&j1);
	buf_release(&j2);
	return ret;
}

/* ---- fz_carriers ------------------------------------------------------------------ */

/*
 * carrier_table_new on override JSON; for an accepted table every row must be printable
 * through the accessors and found again by its own name.
 */
static inline int fz_carriers(const uint8_t *data, size_t size)
{
	struct carrier_table *t = NULL;
	struct esim_err err = { 0 };
	char *text, key[256];
	size_t i, j, n;
	int ret = 0;

	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	text = fz_cstr(data, size);
	if (carrier_table_new(text, "carriers.json", &t, &err) < 0) {
		if (err.status != ESIM_E_USAGE || !err.msg[0])
			ret = fz_fail("carriers", "a rejected table without a usage error message");
		carrier_table_free(t);
		free(text);
		return ret;
	}
	n = carrier_table_count(t);
	for (i = 0; i < n; i++) {
		const struct carrier_policy *p = carrier_table_at(t, i);

		if (!p || !p->name) {
			ret = fz_fail("carriers", "row without a name");
			break;
		}
		(void)carrier_model_name(p->model);
		(void)cloud_sync_name(p->cloud_sync);
		carrier_key(p->name, key, sizeof(key));
		if (key[0] && !carrier_find(t, p->name)) {
			fprintf(stderr, "carriers: '%s' not found\n", p->name);
			ret = fz_fail("carriers", "a row is not found by its own name");
			break;
		}
		for (j = 0; j < CARRIER_MAX_ALIASES && p->aliases[j]; j++)
			(void)carrier_find(t, p->aliases[j]);
	}
	(void)carrier_find(t, text);
	carrier_table_free(t);
	free(text);
	return ret;
}

/* ---- fz_der ----------------------------------------------------------------------- */

/* Walk every TLV (depth-limited), checking what the reader promises about each node. */
static inline int fz_der_walk(const struct der_node *n, int depth)
{
	struct der_iter it;
	struct der_node c, f, again;
	struct buf hdr = BUF_INIT;
	uint64_t v;
	int r, ret = 0, nchild = 0;

	/* A node re-encoded with the writer (minimal header) reads back the same. */
	der_put_tlv(&hdr, n->tag, n->value, n->len);
	if (der_parse((const uint8_t *)hdr.buf, hdr.len, &again) < 0 || again.tag != n->tag ||
	    again.len != n->len || again.constructed != n->constructed ||
	    (n->len && memcmp(again.value, n->value, n->len) != 0))
		ret = fz_fail("der", "der_put_tlv(node) does not read back as the node");
	if (n->tlv_len != (size_t)(n->value - n->tlv) + n->len)
		ret = fz_fail("der", "tlv_len != header + len");
	buf_release(&hdr);
	if (!n->constructed) {
		if (der_get_uint(n, &v) == 0) {
			struct buf b = BUF_INIT;
			struct der_node m;
			uint64_t v2;

			der_put_uint(&b, 0x02, v);
			if (der_parse((const uint8_t *)b.buf, b.len, &m) < 0 || der_get_uint(&m, &v2) < 0 ||
			    v2 != v)
				ret = fz_fail("der", "der_put_uint/der_get_uint round trip");
			buf_release(&b);
		}
		return ret;
	}
	if (depth >= 24)
		return ret;
	der_iter_init(&it, n);
	while ((r = der_iter_next(&it, &c)) == 1) {
		if (c.tlv < n->value || c.tlv + c.tlv_len > n->value + n->len)
			ret = fz_fail("der", "child outside its parent");
		/* der_find sees the first child with that tag (checked for the first few only:
		 * it is linear, and thousands of children would make this quadratic). */
		if (++nchild <= 16 && (der_find(n, c.tag, &f) != 1 || f.tag != c.tag || f.tlv > c.tlv))
			ret = fz_fail("der", "der_find misses a child der_iter_next returned");
		ret |= fz_der_walk(&c, depth + 1);
	}
	if (der_iter_next(&it, &c) != 0)
		ret = fz_fail("der", "iterator does not stay at its end");
	return ret;
}

/*
 * der_read over the input as a sequence of TLVs and der_parse on the whole; hex_decode and
 * base64_decode of the text, with their round trips and the promise that a failed
 * base64_decode leaves what out held untouched.
 */
static inline int fz_der(const uint8_t *data, size_t size)
{
	struct der_node n;
	struct buf b = BUF_INIT, e = BUF_INIT, d2 = BUF_INIT;
	size_t off = 0, used, i;
	char *text;
	int ret = 0;

	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	if (der_parse(data, size, &n) == 0) {
		if (n.tlv != data || n.tlv_len != size)
			ret = fz_fail("der", "der_parse node does not span the input");
	}
	while (off < size && der_read(data + off, size - off, &n, &used) == 0) {
		if (used == 0 || used > size - off || used != n.tlv_len)
			return fz_fail("der", "der_read consumed a bad length");
		ret |= fz_der_walk(&n, 0);
		off += used;
	}

	text = fz_cstr(data, size);
	if (hex_decode(text, &b) == 0) {
		hex_encode((const uint8_t *)b.buf, b.len, &e);
		for (i = 0; text[i]; i++)
			text[i] = (char)toupper((unsigned char)text[i]);
		if (e.len != strlen(text) || memcmp(e.buf, text, e.len) != 0)
			ret = fz_fail("der", "hex_encode(hex_decode(x)) != upper(x)");
	}
	free(text);

	buf_reset(&b);
	buf_reset(&e);
	buf_addstr(&b, "prefix");
	if (base64_decode((const char *)data, size, &b) == 0) {
		if (b.len < 6 || memcmp(b.buf, "prefix", 6) != 0)
			ret = fz_fail("der", "base64_decode overwrote what out held");
		/* decode(encode(y)) == y for every decoded y */
		base64_encode((const uint8_t *)b.buf + 6, b.len - 6, &e);
		if (base64_decode(e.buf, e.len, &d2) < 0 || d2.len != b.len - 6 ||
		    memcmp(d2.buf, b.buf + 6, d2.len) != 0)
			ret = fz_fail("der", "base64_decode(base64_encode(y)) != y");
	} else if (b.len != 6 || memcmp(b.buf, "prefix", 7) != 0) {
		ret = fz_fail("der", "a failed base64_decode changed out");
	}
	buf_release(&b);
	buf_release(&e);
	buf_release(&d2);
	return ret;
}

/* ---- fz_es9p ---------------------------------------------------------------------- */

/* The transactionId the txid-checking parsers compare against (the seeds use it). */
#define FZ_TXID "00112233AABBCCDD"

/*
 * Byte 0 picks the parser (mod 5): initiateAuthentication, authenticateClient,
 * getBoundProfilePackage, cancelSession, handleNotification.  The rest is the body,
 * not NUL-terminated.  Every failure must be ESIM_E_SMDP and leave no output behind.
 */
static inline int fz_es9p(const uint8_t *data, size_t size)
{
	struct esim_err err = { 0 };
	const char *json;
	size_t len;
	int ret = 0, r;

	if (size < 1)
		return 0;
	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	json = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 5) {
	case 0: {
		struct es9p_auth1 a;

		r = es9p_parse_initiate_authentication(json, len, &a, &err);
		if (r == 0 && (a.txid_len < 1 || a.txid_len > ES9P_TXID_MAX ||
			       strlen(a.transaction_id) != 2 * a.txid_len ||
			       !a.server_signed1.len || !a.server_certificate.len))
			ret = fz_fail("es9p", "initiateAuthentication accepted with bad fields");
		if (r < 0 && (a.server_signed1.len || a.transaction_id[0]))
			ret = fz_fail("es9p", "initiateAuthentication left output on failure");
		es9p_auth1_release(&a);
		break;
	}
	case 1: {
		struct es9p_auth2 a;

		r = es9p_parse_authenticate_client(json, len, FZ_TXID, &a, &err);
		if (r < 0 && (a.profile_metadata.len || a.smdp_signed2.len))
			ret = fz_fail("es9p", "authenticateClient left output on failure");
		es9p_auth2_release(&a);
		break;
	}
	case 2: {
		struct buf bpp = BUF_INIT;

		buf_addstr(&bpp, "old");
		r = es9p_parse_get_bpp(json, len, FZ_TXID, &bpp, &err);
		if (r < 0 && bpp.len)
			ret = fz_fail("es9p", "getBoundProfilePackage left output on failure");
		if (r == 0 && (bpp.len < 2 || (uint8_t)bpp.buf[0] != 0xBF || (uint8_t)bpp.buf[1] != 0x36))
			ret = fz_fail("es9p", "getBoundProfilePackage accepted a non-BF36");
		buf_release(&bpp);
		break;
	}
	case 3:
		r = es9p_parse_cancel_session(json, len, &err);
		break;
	default:
		r = es9p_parse_handle_notification(json, len, &err);
		break;
	}
	if (r < 0 && (err.status != ESIM_E_SMDP || !err.msg[0]))
		ret = fz_fail("es9p", "a rejected response that is not ESIM_E_SMDP with a message");
	if (r == 0 && err.status != ESIM_OK && err.status != ESIM_E_SMDP)
		ret = fz_fail("es9p", "success with an error status set");
	return ret;
}

/* ---- fz_es10 ---------------------------------------------------------------------- */

/* A fake card: each answer is [n][n + 2 bytes: data SW1 SW2] from the input. */
struct fz_card {
	const uint8_t *p;
	size_t left;
	int bad;                /* a C-APDU that no eUICC may receive */
	int answer_9000;        /* ignore p: answer 90 00 to everything */
};

static inline int fz_card_transmit(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
				   size_t *rxlen, struct esim_err *err)
{
	struct fz_card *c = priv;
	size_t n;

	/* ISO 7816-4 short APDUs: header, optional Lc + data, optional Le. */
	if (txlen < 4 || txlen > 5 + 255 + 1 ||
	    (txlen > 5 && (tx[4] == 0 || (txlen != 5u + tx[4] && txlen != 6u + tx[4]))))
		c->bad = 1;
	if (c->answer_9000) {
		rx[0] = 0x90;
		rx[1] = 0x00;
		*rxlen = 2;
		return 0;
	}
	if (c->left < 1)
		return esim_fail(err, ESIM_E_NOREADER, "fake card: no more answers");
	n = (size_t)c->p[0] + 2;
	c->p++;
	c->left--;
	if (n > c->left)
		n = c->left;
	if (n < 2)
		return esim_fail(err, ESIM_E_NOREADER, "fake card: short answer");
	memcpy(rx, c->p, n);
	*rxlen = n;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline int fz_card_open(void *priv, struct esim_err *err)
{
	(void)priv;
	(void)err;
	return 0;
}

static inline void fz_card_close(void *priv)
{
	(void)priv;
}

/* The ES10 operations card mode can run (byte 1 of the input, modulo the count). */
enum fz_es10_op {
	FZ_OP_EID, FZ_OP_INFO1, FZ_OP_INFO2, FZ_OP_CHALLENGE, FZ_OP_ADDRESSES, FZ_OP_SET_DP,
	FZ_OP_AUTH, FZ_OP_PREPARE, FZ_OP_LOAD_BPP, FZ_OP_CANCEL, FZ_OP_LIST_NOTIF,
	FZ_OP_RETRIEVE, FZ_OP_REMOVE, FZ_OP_PROFILES, FZ_OP_PROFILES_ICCID, FZ_OP_ENABLE,
	FZ_OP_DISABLE, FZ_OP_DELETE, FZ_OP_NICKNAME, FZ_OP_RESET, FZ_OP_RAT, FZ_OP_TRANSMIT,
	FZ_OP_COUNT
};

/* Small well-formed requests for the operations that take SM-DP+ data. */
static inline void fz_hexbuf(const char *hex, struct buf *b)
{
	buf_reset(b);
	if (hex_decode(hex, b) < 0)
		abort();
}

#define FZ_ICCID "89000123456789012341"
/* A BPP that passes es10_load_bpp's checks: BF36 { BF23, A0 {87}, A1 {88}, A3 {86} }. */
#define FZ_MIN_BPP "BF361E" "BF2303820101" "A006870400000000" "A106880400000000" \
	"A306860400000000"

static inline int fz_es10_op(struct es10_ctx *ctx, int op, const uint8_t *arg, size_t arglen)
{
	struct esim_err err = { 0 };
	struct buf b1 = BUF_INIT, b2 = BUF_INIT, b3 = BUF_INIT, b4 = BUF_INIT, resp = BUF_INIT;
	int r = 0;

	switch (op) {
	case FZ_OP_EID: {
		char eid[33];

		r = es10_get_eid(ctx, eid, &err);
		if (r == 0 && strlen(eid) != 32)
			r = 2;
		break;
	}
	case FZ_OP_INFO1:
		r = es10_get_euicc_info1(ctx, &b1, &err);
		break;
	case FZ_OP_INFO2: {
		struct es10_euicc_info2 info;
		char v[12];

		r = es10_get_euicc_info2(ctx, &b1, &info, &err);
		if (r == 0)
			(void)es10_version_str(&info.svn, v);
		break;
	}
	case FZ_OP_CHALLENGE: {
		uint8_t c[16];

		r = es10_get_challenge(ctx, c, &err);
		break;
	}
	case FZ_OP_ADDRESSES: {
		struct es10_addresses a;

		r = es10_get_configured_addresses(ctx, &a, &err);
		break;
	}
	case FZ_OP_SET_DP:
		r = es10_set_default_dp(ctx, "smdp.example.com", &err);
		break;
	case FZ_OP_AUTH:
		fz_hexbuf("3003800101", &b1);
		fz_hexbuf("5F370100", &b2);
		fz_hexbuf("04020102", &b3);
		fz_hexbuf("3003020105", &b4);
		r = es10_authenticate_server(ctx, &b1, &b2, &b3, &b4, "MID", NULL, &resp, &err);
		break;
	case FZ_OP_PREPARE:
		fz_hexbuf("3006800101010100", &b1);
		fz_hexbuf("5F370100", &b2);
		fz_hexbuf("3003020105", &b3);
		r = es10_prepare_download(ctx, &b1, &b2, &b3, NULL, &resp, &err);
		break;
	case FZ_OP_LOAD_BPP: {
		struct es10_install_result res;

		fz_hexbuf(FZ_MIN_BPP, &b1);
		r = es10_load_bpp(ctx, (const uint8_t *)b1.buf, b1.len, NULL, NULL, &resp, &res, &err);
		break;
	}
	case FZ_OP_CANCEL: {
		static const uint8_t txid[2] = { 0x01, 0x02 };

		r = es10_cancel_session(ctx, txid, sizeof(txid), ES10_CANCEL_POSTPONED, &resp, &err);
		break;
	}
	case FZ_OP_LIST_NOTIF: {
		struct es10_notification *v = NULL;
		size_t n = 0;

		r = es10_list_notifications(ctx, arglen ? arg[0] & 0x0F : 0, &v, &n, &err);
		free(v);
		break;
	}
	case FZ_OP_RETRIEVE:
		r = es10_retrieve_notification(ctx, 5, &resp, &err);
		break;
	case FZ_OP_REMOVE:
		r = es10_remove_notification(ctx, 5, &err);
		break;
	case FZ_OP_PROFILES:
	case FZ_OP_PROFILES_ICCID: {
		struct es10_profile *v = NULL;
		size_t n = 0;

		if (op == FZ_OP_PROFILES)
			r = es10_get_profiles(ctx, &v, &n, &err);
		else
			r = es10_get_profiles_query(ctx, FZ_ICCID, NULL, 0, &v, &n, &err);
		es10_profiles_free(v, n);
		break;
	}
	case FZ_OP_ENABLE:
		r = es10_enable(ctx, FZ_ICCID, 1, &err);
		break;
	case FZ_OP_DISABLE:
		r = es10_disable(ctx, FZ_ICCID, 0, &err);
		break;
	case FZ_OP_DELETE:
		r = es10_delete(ctx, FZ_ICCID, &err);
		break;
	case FZ_OP_NICKNAME:
		r = es10_set_nickname(ctx, FZ_ICCID, "fuzz", &err);
		break;
	case FZ_OP_RESET:
		r = es10_memory_reset(ctx, ES10_RESET_ALL, &err);
		break;
	case FZ_OP_RAT:
		r = es10_get_rat(ctx, &b1, &err);
		break;
	default:
		if (arglen)
			r = es10_transmit(ctx, arg, arglen, &resp, &err);
		break;
	}
	if (fz_verbose())
		fprintf(stderr, "es10 op %d: %d %s\n", op, r, r < 0 ? err.msg : "");
	if (r < 0 && (err.status == ESIM_OK || !err.msg[0]))
		r = 2;          /* every failure says what failed */
	buf_release(&b1);
	buf_release(&b2);
	buf_release(&b3);
	buf_release(&b4);
	buf_release(&resp);
	return r == 2 ? 1 : 0;
}

/*
 * Byte 0 (mod 7) picks:
 *   0 es10_parse_euicc_info2   1 es10_parse_install_result   2 es10_parse_notifications
 *   3 es10_parse_profiles      4 es10_smdp_signed2_info
 *   5 es10_load_bpp on the rest, over a card that answers 90 00 to every APDU
 *   6 card mode: [op][flags][answers...]: es10_open then one ES10 operation over a fake
 *     card whose answers come from the input (flags: bit 0 basic channel, bit 1 TERMINAL
 *     CAPABILITY, bits 2-7 the STORE DATA block size / 4)
 */
static inline int fz_es10(const uint8_t *data, size_t size)
{
	struct esim_err err = { 0 };
	const uint8_t *p = data + 1;
	size_t len = size ? size - 1 : 0;
	int ret = 0, r = 0;

	if (size < 1)
		return 0;
	if (size > FZ_MAX_INPUT)
		len = FZ_MAX_INPUT;
	switch (data[0] % 7) {
	case 0: {
		struct es10_euicc_info2 info;

		r = es10_parse_euicc_info2(p, len, &info, &err);
		if (r == 0 && (strlen(info.sas_number) >= sizeof(info.sas_number)))
			ret = fz_fail("es10", "info2 sas_number not terminated");
		break;
	}
	case 1: {
		struct es10_install_result res;

		r = es10_parse_install_result(p, len, &res, &err);
		if (r == 0 && (res.txid_len < 1 || res.txid_len > ES10_TXID_MAX ||
			       res.aid_len > sizeof(res.aid) || strlen(res.iccid) > 20))
			ret = fz_fail("es10", "install result out of range");
		break;
	}
	case 2: {
		struct es10_notification *v = NULL;
		size_t n = 12345, i;

		r = es10_parse_notifications(p, len, &v, &n, &err);
		if (r == 0) {
			if ((n == 0) != (v == NULL))
				ret = fz_fail("es10", "notification array and count disagree");
			for (i = 0; i < n; i++)
				if (strlen(v[i].address) > ES10_ADDRESS_MAX || strlen(v[i].iccid) > 20)
					ret = fz_fail("es10", "notification field too long");
		}
		free(v);
		break;
	}
	case 3: {
		struct es10_profile *v = NULL;
		size_t n = 12345, i;

		r = es10_parse_profiles(p, len, &v, &n, &err);
		if (r == 0) {
			if ((n == 0) != (v == NULL))
				ret = fz_fail("es10", "profile array and count disagree");
			for (i = 0; i < n; i++) {
				(void)es10_profile_state_name(v[i].state);
				(void)es10_profile_class_name(v[i].profile_class);
				if (strlen(v[i].iccid) > 20 || strlen(v[i].aid) > 32)
					ret = fz_fail("es10", "profile field too long");
			}
			es10_profiles_free(v, n);
		}
		break;
	}
	case 4: {
		uint8_t txid[ES10_TXID_MAX];
		size_t txid_len = 0;
		int cc = -1;

		r = es10_smdp_signed2_info(p, len, txid, &txid_len, &cc, &err);
		if (r == 0 && (txid_len < 1 || txid_len > ES10_TXID_MAX || (cc != 0 && cc != 1)))
			ret = fz_fail("es10", "smdpSigned2 info out of range");
		break;
	}
	case 5: {
		struct fz_card card = { NULL, 0, 0, 1 };
		struct apdu_transport t = { .open = fz_card_open, .transmit = fz_card_transmit,
					    .close = fz_card_close, .priv = &card };
		struct es10_ctx ctx;
		struct es10_install_result res;
		struct buf pir = BUF_INIT;

		es10_ctx_init(&ctx);
		ctx.basic_channel = 1;
		ctx.mss = 255;
		if (es10_open(&ctx, &t, &err) < 0)
			return fz_fail("es10", "es10_open over a card that says 90 00");
		r = es10_load_bpp(&ctx, p, len, NULL, NULL, &pir, &res, &err);
		if (r == 0 || pir.len)
			ret = fz_fail("es10", "load_bpp succeeded without a result from the card");
		es10_close(&ctx);
		buf_release(&pir);
		if (card.bad)
			ret = fz_fail("es10", "malformed C-APDU sent");
		break;
	}
	default: {
		struct fz_card card = { NULL, 0, 0, 0 };
		struct apdu_transport t = { .open = fz_card_open, .transmit = fz_card_transmit,
					    .close = fz_card_close, .priv = &card };
		struct es10_ctx ctx;
		int op, flags;

		if (len < 2)
			return 0;
		op = p[0] % FZ_OP_COUNT;
		flags = p[1];
		card.p = p + 2;
		card.left = len - 2;
		es10_ctx_init(&ctx);
		ctx.basic_channel = flags & 1;
		ctx.terminal_capability = (flags >> 1) & 1;
		ctx.mss = (size_t)(flags >> 2) * 4 + 1;
		if (es10_open(&ctx, &t, &err) == 0) {
			/* For FZ_OP_TRANSMIT the request is the first answer's bytes: reuse them. */
			ret = fz_es10_op(&ctx, op, card.p, card.left > 300 ? 300 : card.left);
			es10_close(&ctx);
		} else if (err.status == ESIM_OK || !err.msg[0]) {
			ret = fz_fail("es10", "es10_open failed without a message");
		}
		if (card.bad)
			ret = fz_fail("es10", "malformed C-APDU sent");
		return ret;
	}
	}
	if (r < 0 && (err.status == ESIM_OK || !err.msg[0]))
		ret = fz_fail("es10", "a rejected response without a status and message");
	return ret;
}

/* ---- the software eUICC: identity, state, session ---------------------------------- */

#define FZ_SMDP_ADDR "fuzz.smdp.example.com"
#define FZ_HOST_ID "fuzz.example"

struct fz_identity {
	char eid[33];
	struct buf euicc, euicc_key, eum, ci;   /* PEM as committed */
	struct rsp_cert *dpauth, *dppb;
	struct rsp_key *dpauth_key, *dppb_key;
	uint8_t ci_ski[64];
	size_t ci_ski_len;
};

struct fz_soft {
	int ready;
	struct fz_identity id;
	char dir[256];
	char path[280];
	struct buf snapshot;    /* the state file every input starts from */
	struct apdu_transport t;
	int open;
	struct stat st;         /* of the state file when the transport was opened */
};

static inline struct fz_soft *fz_soft_env(void)
{
	static struct fz_soft env;

	return &env;
}

static inline void fz_die(const char *what, const struct esim_err *err)
{
	fprintf(stderr, "fuzz harness setup: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
	abort();
}

static inline void fz_read_identity(const char *name, struct buf *out)
{
	struct buf path = BUF_INIT, rel = BUF_INIT;
	struct esim_err err = { 0 };

	buf_addf(&rel, "identity/%s", name);
	fz_path(rel.buf, &path);
	if (read_whole_file(path.buf, out, &err) != 0)
		fz_die(path.buf, &err);
	buf_release(&path);
	buf_release(&rel);
}

static inline void fz_load_identity(struct fz_identity *id)
{
	struct buf b = BUF_INIT;
	struct esim_err err = { 0 };
	struct rsp_cert *ci = NULL;
	int n;

	fz_read_identity("eid.txt", &b);
	if (b.len < 32)
		fz_die("identity/eid.txt: no EID", NULL);
	memcpy(id->eid, b.buf, 32);
	id->eid[32] = '\0';
	fz_read_identity("test-only-euicc.cert.pem", &id->euicc);
	fz_read_identity("test-only-euicc.key.pem", &id->euicc_key);
	fz_read_identity("test-only-eum.cert.pem", &id->eum);
	fz_read_identity("test-only-ci.cert.pem", &id->ci);
	buf_reset(&b);
	fz_read_identity("test-only-dpauth.cert.pem", &b);
	if (rsp_cert_load((const uint8_t *)b.buf, b.len, &id->dpauth, &err) < 0)
		fz_die("DPauth certificate", &err);
	buf_reset(&b);
	fz_read_identity("test-only-dppb.cert.pem", &b);
	if (rsp_cert_load((const uint8_t *)b.buf, b.len, &id->dppb, &err) < 0)
		fz_die("DPpb certificate", &err);
	buf_reset(&b);
	fz_read_identity("test-only-dpauth.key.pem", &b);
	if (rsp_key_load((const uint8_t *)b.buf, b.len, &id->dpauth_key, &err) < 0)
		fz_die("DPauth key", &err);
	buf_reset(&b);
	fz_read_identity("test-only-dppb.key.pem", &b);
	if (rsp_key_load((const uint8_t *)b.buf, b.len, &id->dppb_key, &err) < 0)
		fz_die("DPpb key", &err);
	if (rsp_cert_load((const uint8_t *)id->ci.buf, id->ci.len, &ci, &err) < 0)
		fz_die("CI certificate", &err);
	n = rsp_cert_ski(ci, id->ci_ski, sizeof(id->ci_ski));
	if (n <= 0)
		fz_die("CI certificate has no SKI", NULL);
	id->ci_ski_len = (size_t)n;
	rsp_cert_free(ci);
	buf_release(&b);
}

static inline void fz_soft_cleanup(void)
{
	struct fz_soft *fs = fz_soft_env();
	struct buf p = BUF_INIT;

	if (!fs->ready)
		return;
	if (fs->open)
		fs->t.close(fs->t.priv);
	fs->open = 0;
	unlink(fs->path);
	buf_addf(&p, "%s.lock", fs->path);
	unlink(p.buf);
	buf_release(&p);
	rmdir(fs->dir);
	fs->ready = 0;
}

static inline const char *fz_tmpdir(void)
{
	const char *d = getenv("ESIMCTL_FUZZ_TMPDIR");

	if (d && *d)
		return d;
	/* The eUICC fsyncs its state file after every change: tmpfs keeps that cheap. */
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	d = getenv("TMPDIR");
	return d && *d && strlen(d) < 100 ? d : "/tmp";
}

/* (Re)open the transport on the state file as it is now. */
static inline void fz_soft_open(struct fz_soft *fs)
{
	struct esim_err err = { 0 };

	if (fs->open)
		fs->t.close(fs->t.priv);
	fs->open = 0;
	if (soft_euicc_open(fs->path, &fs->t, &err) < 0)
		fz_die("soft_euicc_open", &err);
	if (stat(fs->path, &fs->st) < 0)
		fz_die("stat of the state file", NULL);
	fs->open = 1;
}

/* Put the snapshot back when an input changed the state file, then reopen. */
static inline void fz_soft_restore(struct fz_soft *fs, int force)
{
	struct stat now;
	struct esim_err err = { 0 };
	int changed = stat(fs->path, &now) < 0 || now.st_ino != fs->st.st_ino ||
		      now.st_size != fs->st.st_size || now.st_mtim.tv_sec != fs->st.st_mtim.tv_sec ||
		      now.st_mtim.tv_nsec != fs->st.st_mtim.tv_nsec;

	if (!changed && !force && fs->open)
		return;
	if (fz_verbose())
		fprintf(stderr, "soft: state file %s, reloading\n", changed ? "changed" : "kept");
	if (fs->open)
		fs->t.close(fs->t.priv);
	fs->open = 0;
	if (changed && atomic_write_file(fs->path, fs->snapshot.buf, fs->snapshot.len, &err) < 0)
		fz_die("restoring the state file", &err);
	fz_soft_open(fs);
}

/* A fresh eUICC from the test identity; the snapshot is taken by fz_soft_snapshot(). */
static inline struct fz_soft *fz_soft_setup(void)
{
	struct fz_soft *fs = fz_soft_env();
	struct esim_err err = { 0 };
	const uint8_t *cis[1];
	size_t cilens[1];

	if (fs->ready)
		return fs;
	memset(fs, 0, sizeof(*fs));
	fz_load_identity(&fs->id);
	if ((size_t)snprintf(fs->dir, sizeof(fs->dir), "%s/esimctl-fuzz.XXXXXX", fz_tmpdir()) >=
	    sizeof(fs->dir) || !mkdtemp(fs->dir))
		fz_die("cannot make a temporary directory", NULL);
	if ((size_t)snprintf(fs->path, sizeof(fs->path), "%s/euicc.json", fs->dir) >= sizeof(fs->path))
		fz_die("temporary directory name too long", NULL);
	cis[0] = (const uint8_t *)fs->id.ci.buf;
	cilens[0] = fs->id.ci.len;
	if (soft_euicc_create(fs->path, fs->id.eid, (const uint8_t *)fs->id.euicc.buf,
			      fs->id.euicc.len, (const uint8_t *)fs->id.euicc_key.buf,
			      fs->id.euicc_key.len, (const uint8_t *)fs->id.eum.buf, fs->id.eum.len,
			      cis, cilens, 1, &err) < 0)
		fz_die("soft_euicc_create", &err);
	fs->ready = 1;
	atexit(fz_soft_cleanup);
	fz_soft_open(fs);
	return fs;
}

static inline void fz_soft_snapshot(struct fz_soft *fs)
{
	struct esim_err err = { 0 };

	if (fs->open)
		fs->t.close(fs->t.priv);
	fs->open = 0;
	buf_reset(&fs->snapshot);
	if (read_whole_file(fs->path, &fs->snapshot, &err) != 0)
		fz_die("reading the state file", &err);
	fz_soft_open(fs);
}

/* What the SM-DP+ side keeps during one download. */
struct fz_dp {
	uint8_t txid[16];
	size_t txid_len;
	uint8_t sig1[RSP_SIG_LEN];      /* euiccSignature1 */
	uint8_t otpk[RSP_PUB_LEN];      /* otPK.EUICC.ECKA */
	struct bsp bsp;
};

/* The n-th child of TLV parent (0-based), or -1. */
static inline int fz_child(const struct der_node *parent, int idx, struct der_node *out)
{
	struct der_iter it;
	int i;

	der_iter_init(&it, parent);
	for (i = 0; i <= idx; i++)
		if (der_iter_next(&it, out) != 1)
			return -1;
	return 0;
}

/*
 * es10_open, then a real session prefix against the eUICC: GetEUICCChallenge,
 * AuthenticateServer and PrepareDownload, built and signed here with the TEST-ONLY
 * SM-DP+ identity; then the keys of InitialiseSecureChannel.  bf23 receives the signed
 * BF23 TLV, dp->bsp the session keys.  The ES10 context stays open; es10_close() would
 * close the soft transport too (then clear fs->open).  Returns 0, or -1 when the eUICC
 * refuses a step that must succeed (a harness bug: the caller aborts).
 */
static inline int fz_session(struct fz_soft *fs, struct es10_ctx *ctx, struct fz_dp *dp,
			     struct buf *bf23, struct esim_err *err)
{
	struct fz_identity *id = &fs->id;
	struct buf ss1 = BUF_INIT, sig = BUF_INIT, pkid = BUF_INIT, cert = BUF_INIT;
	struct buf resp = BUF_INIT, msg = BUF_INIT, info = BUF_INIT;
	struct rsp_key *otsk = NULL;
	struct der_node top, a0, n;
	uint8_t chal[16], s[RSP_SIG_LEN], otpk_dp[RSP_PUB_LEN], shs[32], kdf[48], eid[16];
	uint8_t srv_chal[16];
	const uint8_t *der;
	size_t derlen, m, crt, i;
	int ret = -1;

	memset(dp, 0, sizeof(*dp));
	es10_ctx_init(ctx);
	ctx->mss = 255;
	if (es10_open(ctx, &fs->t, err) < 0) {
		fs->open = 0;   /* es10_open() closed the transport */
		goto out;
	}
	if (es10_get_challenge(ctx, chal, err) < 0)
		goto out;
	/* Deterministic transaction and server challenge: only the eUICC draws random bytes. */
	for (i = 0; i < 16; i++) {
		dp->txid[i] = (uint8_t)(0xA0 + i);
		srv_chal[i] = (uint8_t)(0x30 + i);
	}
	dp->txid_len = 16;

	/* AuthenticateServer */
	m = der_begin(&ss1, 0x30);
	der_put_tlv(&ss1, 0x80, dp->txid, dp->txid_len);
	der_put_tlv(&ss1, 0x81, chal, 16);
	der_put_tlv(&ss1, 0x83, FZ_SMDP_ADDR, strlen(FZ_SMDP_ADDR));
	der_put_tlv(&ss1, 0x84, srv_chal, 16);
	der_end(&ss1, m);
	if (rsp_sign(id->dpauth_key, (const uint8_t *)ss1.buf, ss1.len, s, err) < 0)
		goto out;
	der_put_tlv(&sig, 0x5F37, s, sizeof(s));
	der_put_tlv(&pkid, 0x04, id->ci_ski, id->ci_ski_len);
	rsp_cert_der(id->dpauth, &der, &derlen);
	buf_add(&cert, der, derlen);
	if (es10_authenticate_server(ctx, &ss1, &sig, &pkid, &cert, "FUZZ-MATCHING-ID", NULL,
				     &resp, err) < 0)
		goto out;
	/* BF38 { A0 { 30 euiccSigned1, 5F37 euiccSignature1, ... } } */
	if (der_parse((const uint8_t *)resp.buf, resp.len, &top) < 0 ||
	    der_find(&top, 0xA0, &a0) != 1 || fz_child(&a0, 1, &n) < 0 || n.tag != 0x5F37 ||
	    n.len != RSP_SIG_LEN) {
		esim_fail(err, ESIM_E_OTHER, "fuzz: bad AuthenticateServerResponse");
		goto out;
	}
	memcpy(dp->sig1, n.value, RSP_SIG_LEN);

	/* PrepareDownload: smdpSigned2 = 30 { 80 txid, 01 ccRequiredFlag false } */
	buf_reset(&ss1);
	m = der_begin(&ss1, 0x30);
	der_put_tlv(&ss1, 0x80, dp->txid, dp->txid_len);
	der_put_tlv(&ss1, 0x01, "\x00", 1);
	der_end(&ss1, m);
	buf_add(&msg, ss1.buf, ss1.len);
	der_put_tlv(&msg, 0x5F37, dp->sig1, RSP_SIG_LEN);
	if (rsp_sign(id->dppb_key, (const uint8_t *)msg.buf, msg.len, s, err) < 0)
		goto out;
	buf_reset(&sig);
	der_put_tlv(&sig, 0x5F37, s, sizeof(s));
	buf_reset(&cert);
	rsp_cert_der(id->dppb, &der, &derlen);
	buf_add(&cert, der, derlen);
	if (es10_prepare_download(ctx, &ss1, &sig, &cert, NULL, &resp, err) < 0)
		goto out;
	/* BF21 { A0 { 30 { 80 txid, 5F49 otPK.EUICC }, 5F37 } } */
	if (der_parse((const uint8_t *)resp.buf, resp.len, &top) < 0 ||
	    der_find(&top, 0xA0, &a0) != 1 || fz_child(&a0, 0, &n) < 0 ||
	    der_find(&n, 0x5F49, &n) != 1 || n.len != RSP_PUB_LEN) {
		esim_fail(err, ESIM_E_OTHER, "fuzz: bad PrepareDownloadResponse");
		goto out;
	}
	memcpy(dp->otpk, n.value, RSP_PUB_LEN);

	/* InitialiseSecureChannel (SGP.22 §5.5, ES8+) and the session keys. */
	if (rsp_ecka_generate(RSP_CURVE_P256, &otsk, otpk_dp, err) < 0 ||
	    rsp_ecka_derive(otsk, dp->otpk, shs, err) < 0 || eid_to_bcd(id->eid, eid) < 0)
		goto out;
	buf_addch(&info, 0x88);
	buf_addch(&info, 0x10);
	buf_addch(&info, (int)strlen(FZ_HOST_ID));
	buf_addstr(&info, FZ_HOST_ID);
	buf_addch(&info, 16);
	buf_add(&info, eid, 16);
	rsp_kdf(shs, (const uint8_t *)info.buf, info.len, kdf);
	bsp_init(&dp->bsp, kdf);

	buf_reset(&msg);
	der_put_tlv(&msg, 0x82, "\x01", 1);
	der_put_tlv(&msg, 0x80, dp->txid, dp->txid_len);
	crt = der_begin(&msg, 0xA6);
	der_put_tlv(&msg, 0x80, "\x88", 1);
	der_put_tlv(&msg, 0x81, "\x10", 1);
	der_put_tlv(&msg, 0x84, FZ_HOST_ID, strlen(FZ_HOST_ID));
	der_end(&msg, crt);
	der_put_tlv(&msg, 0x5F49, otpk_dp, RSP_PUB_LEN);
	m = msg.len;
	/* smdpSign covers 82 || 80 || A6 || 5F49 otPK.DP || 5F49 otPK.EUICC */
	der_put_tlv(&msg, 0x5F49, dp->otpk, RSP_PUB_LEN);
	if (rsp_sign(id->dppb_key, (const uint8_t *)msg.buf, msg.len, s, err) < 0)
		goto out;
	msg.len = m;
	der_put_tlv(&msg, 0x5F37, s, sizeof(s));
	buf_reset(bf23);
	der_put_tlv(bf23, 0xBF23, msg.buf, msg.len);
	ret = 0;
out:
	secure_wipe(shs, sizeof(shs));
	secure_wipe(kdf, sizeof(kdf));
	rsp_key_free(otsk);
	buf_release(&ss1);
	buf_release(&sig);
	buf_release(&pkid);
	buf_release(&cert);
	buf_release(&resp);
	buf_release(&msg);
	buf_release(&info);
	return ret;
}

/* ---- fz_bpp ----------------------------------------------------------------------- */

/* One protected sequence (A0..A3): its segments, each a complete 86/87/88 TLV. */
struct fz_seq {
	struct buf segs[64];
	size_t n;
	struct buf all;         /* the segments back to back */
};

static inline void fz_seq_release(struct fz_seq *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		buf_release(&q->segs[i]);
	buf_release(&q->all);
	q->n = 0;
}

/* Cut plain into segments of at most segsz bytes and protect each with tag. */
static inline void fz_protect(struct bsp *b, uint8_t tag, const uint8_t *plain, size_t len,
			      size_t segsz, struct fz_seq *q)
{
	struct esim_err err = { 0 };
	size_t off = 0;

	buf_init(&q->all, 0);
	while (off < len && q->n < sizeof(q->segs) / sizeof(q->segs[0])) {
		size_t k = len - off < segsz ? len - off : segsz;
		struct buf *s = &q->segs[q->n++];

		buf_init(s, 0);
		if (bsp_protect(b, tag, plain + off, k, s, &err) < 0)
			fz_die("bsp_protect", &err);
		buf_add(&q->all, s->buf, s->len);
		off += k;
	}
}

/* Take [u16 length][bytes] from the input (cut at its end). */
static inline void fz_take(const uint8_t **p, size_t *left, const uint8_t **part, size_t *len)
{
	size_t n;

	*part = *p;
	*len = 0;
	if (*left < 2) {
		*p += *left;
		*left = 0;
		return;
	}
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	*left -= 2;
	if (n > *left)
		n = *left;
	*part = *p;
	*len = n;
	*p += n;
	*left -= n;
}

/* Send cmd as one ES10 command; 1 when the load is over (a response or an error). */
static inline int fz_send(struct es10_ctx *ctx, const struct buf *cmd, struct buf *resp)
{
	struct esim_err err = { 0 };

	if (!cmd->len)
		return 0;
	if (es10_transmit(ctx, (const uint8_t *)cmd->buf, cmd->len, resp, &err) < 0)
		return 1;
	return resp->len != 0;
}

#define FZ_BPP_RAW 0x01      /* the rest of the input is sent raw after BF23 */
#define FZ_BPP_A2 0x02       /* the plan has a ReplaceSessionKeys part */
#define FZ_BPP_WHOLE 0x04    /* the BF36 in one ES10 command */
#define FZ_BPP_LPA 0x08      /* through es10_load_bpp (LPA-side checks and segmentation) */

/*
 * Build the BPP the input describes, bound to the session in dp, and send it.  Input:
 *   [flags][segment size: plaintext bytes per 86/87/88, 0 = 1000]
 *   FZ_BPP_RAW: the remaining bytes follow BF23 unprotected, cut into ES10 commands of
 *               the segment size (0: one command);
 *   else:       [u16 n][n bytes] for A0 (configureISDP), A1 (storeMetadata),
 *               [A2 (replaceSessionKeys)], A3 (the profile elements), each protected
 *               with the current keys; after A2 the keys in its BF26 (when it parses);
 *               whatever input is left follows A3 unprotected.
 * Returns 1 when resp (if not empty) answers a command built here as BPP segments, 0
 * when it answers raw input bytes: those need not be BPP segments at all, and while a
 * package loads, the software eUICC answers any other ES10 command as that command
 * (es10_dispatch() in soft.c hands only BPP segments and their continuations to the
 * loader), so GetProfilesInfo between two segments gets a profile list.
 */
static inline int fz_bpp_run(struct es10_ctx *ctx, struct fz_dp *dp, const struct buf *bf23,
			     const uint8_t *data, size_t size, struct buf *resp)
{
	static const uint32_t tags[4] = { 0xA0, 0xA1, 0xA2, 0xA3 };
	static const uint8_t ptag[4] = { 0x87, 0x88, 0x87, 0x86 };
	struct fz_seq seq[4];
	struct buf body = BUF_INIT, whole = BUF_INIT, cmd = BUF_INIT, tail = BUF_INIT;
	const uint8_t *p = data;
	size_t left = size, segsz, i, k;
	unsigned flags;
	int done = 0, strict = 1;

	memset(seq, 0, sizeof(seq));
	buf_reset(resp);
	flags = left ? p[0] : 0;
	segsz = left > 1 ? p[1] : 0;
	p += left > 2 ? 2 : left;
	left -= left > 2 ? 2 : left;

	buf_add(&body, bf23->buf, bf23->len);
	if (flags & FZ_BPP_RAW) {
		buf_add(&tail, p, left);
	} else {
		segsz = segsz ? segsz : 1000;
		for (i = 0; i < 4; i++) {
			const uint8_t *part;
			size_t len;

			if (i == 2 && !(flags & FZ_BPP_A2))
				continue;
			fz_take(&p, &left, &part, &len);
			fz_protect(&dp->bsp, ptag[i], part, len, segsz, &seq[i]);
			if (i == 2) {
				struct der_node top, mcv, enc, mac;

				if (der_parse(part, len, &top) == 0 && top.tag == 0xBF26 &&
				    der_find(&top, 0x80, &mcv) == 1 && mcv.len == 16 &&
				    der_find(&top, 0x81, &enc) == 1 && enc.len == 16 &&
				    der_find(&top, 0x82, &mac) == 1 && mac.len == 16)
					bsp_init_keys(&dp->bsp, enc.value, mac.value, mcv.value);
			}
			der_put_tlv(&body, tags[i], seq[i].all.buf, seq[i].all.len);
		}
		buf_add(&tail, p, left);
	}
	buf_add(&body, tail.buf, tail.len);
	der_put_tlv(&whole, 0xBF36, body.buf, body.len);

	if (flags & FZ_BPP_LPA) {
		struct es10_install_result res;
		struct esim_err err = { 0 };

		(void)es10_load_bpp(ctx, (const uint8_t *)whole.buf, whole.len, NULL, NULL, resp, &res,
				    &err);
		goto out;
	}
	if (flags & FZ_BPP_WHOLE) {
		done = fz_send(ctx, &whole, resp);
		goto out;
	}
	/* SGP.22 §5.7.6: BF36 header + BF23; A0 header + first 87; ...; A1 header; each 88... */
	der_put_tag(&cmd, 0xBF36);
	der_put_len(&cmd, body.len);
	buf_add(&cmd, bf23->buf, bf23->len);
	done = fz_send(ctx, &cmd, resp);
	if (flags & FZ_BPP_RAW) {
		size_t chunk = segsz ? segsz : tail.len;

		strict = done;
		for (k = 0; !done && k < tail.len; k += chunk) {
			buf_reset(&cmd);
			buf_add(&cmd, tail.buf + k, tail.len - k < chunk ? tail.len - k : chunk);
			done = fz_send(ctx, &cmd, resp);
		}
		goto out;
	}
	for (i = 0; i < 4 && !done; i++) {
		if (i == 2 && !(flags & FZ_BPP_A2))
			continue;
		buf_reset(&cmd);
		der_put_tag(&cmd, tags[i]);
		der_put_len(&cmd, seq[i].all.len);
		k = 0;
		if ((i == 0 || i == 2) && seq[i].n) {
			buf_add(&cmd, seq[i].segs[0].buf, seq[i].segs[0].len);
			k = 1;
		}
		done = fz_send(ctx, &cmd, resp);
		for (; k < seq[i].n && !done; k++)
			done = fz_send(ctx, &seq[i].segs[k], resp);
	}
	if (!done && tail.len) {
		strict = 0;
		buf_reset(&cmd);
		buf_add(&cmd, tail.buf, tail.len);
		done = fz_send(ctx, &cmd, resp);
	}
out:
	for (i = 0; i < 4; i++)
		fz_seq_release(&seq[i]);
	buf_release(&body);
	buf_release(&whole);
	buf_release(&cmd);
	buf_release(&tail);
	return strict;
}

/* 1 when the state file says what the snapshot says, next_seq aside. */
static inline int fz_same_state(const struct fz_soft *fs)
{
	struct buf now = BUF_INIT;
	struct esim_err err = { 0 };
	cJSON *a = NULL, *b = NULL;
	int same = 0;

	if (read_whole_file(fs->path, &now, &err) == 0 &&
	    (a = cJSON_ParseWithLength(now.buf, now.len)) != NULL &&
	    (b = cJSON_ParseWithLength(fs->snapshot.buf, fs->snapshot.len)) != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(a, "next_seq");
		cJSON_DeleteItemFromObjectCaseSensitive(b, "next_seq");
		same = cJSON_Compare(a, b, 1) ? 1 : 0;
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	buf_release(&now);
	return same;
}

/*
 * The cheap reset after a fz_bpp input: power the card up again, delete the profile the
 * input installed and remove the notifications it queued (the fz_bpp snapshot has none),
 * then check that nothing else changed.  The state then differs from the snapshot only
 * in next_seq, which decides nothing but the value of later sequence numbers.  0 when
 * the eUICC is back (the transport stays open); -1: reload it from the snapshot.
 * Reloading costs about as much as the whole session (OpenSSL decoding of the identity),
 * so this doubles the exec/s of fz_bpp.
 */
static inline int fz_bpp_undo(struct fz_soft *fs, const struct buf *resp)
{
	struct es10_ctx ctx;
	struct es10_install_result res;
	struct es10_notification *v = NULL;
	struct esim_err err = { 0 };
	size_t n = 0, i;
	int ret = -1;

	es10_ctx_init(&ctx);
	ctx.mss = 255;
	if (es10_open(&ctx, &fs->t, &err) < 0) {
		fs->open = 0;   /* es10_open closed it */
		return -1;
	}
	if (resp->len && es10_parse_install_result((const uint8_t *)resp->buf, resp->len, &res,
						   &err) == 0 && res.ok &&
	    (!res.iccid[0] || es10_delete(&ctx, res.iccid, &err) < 0))
		goto out;
	if (es10_list_notifications(&ctx, 0, &v, &n, &err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (es10_remove_notification(&ctx, v[i].seq, &err) < 0)
			goto out;
	if (fz_same_state(fs) && stat(fs->path, &fs->st) == 0)
		ret = 0;
out:
	free(v);
	/* The context is dropped, not closed: es10_close() would close the transport too. */
	return ret;
}

/* Set up the eUICC for fz_bpp (LLVMFuzzerInitialize; the regression test calls it too). */
static inline void fz_bpp_init(void)
{
	struct fz_soft *fs = fz_soft_setup();

	if (!fs->snapshot.len)
		fz_soft_snapshot(fs);
}

/*
 * A whole download per input: session prefix, then the fuzzed BPP.  What the eUICC
 * answers to the package must be a ProfileInstallationResult that the LPA's parser
 * accepts, for this transaction; so must any BF37 it sends.  (An answer to raw input
 * bytes that are another ES10 command is that command's answer: see fz_bpp_run.)
 */
static inline int fz_bpp(const uint8_t *data, size_t size)
{
	struct fz_soft *fs = fz_soft_env();
	struct es10_ctx ctx;
	struct fz_dp dp;
	struct buf bf23 = BUF_INIT, resp = BUF_INIT;
	struct esim_err err = { 0 };
	int ret = 0, strict;

	fz_bpp_init();
	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	fz_soft_restore(fs, 0);
	if (fz_session(fs, &ctx, &dp, &bf23, &err) < 0)
		fz_die("session prefix", &err);
	strict = fz_bpp_run(&ctx, &dp, &bf23, data, size, &resp);
	/* A ProfileInstallationResult must always be valid; other answers only to raw bytes. */
	if (resp.len && (strict || (resp.len >= 2 && (uint8_t)resp.buf[0] == 0xBF &&
				    (uint8_t)resp.buf[1] == 0x37))) {
		struct es10_install_result res;
		struct esim_err e2 = { 0 };
		int pr = es10_parse_install_result((const uint8_t *)resp.buf, resp.len, &res, &e2);

		if (fz_verbose())
			fprintf(stderr, "bpp: result ok=%d bppCommandId=%d errorReason=%d\n",
				pr == 0 && res.ok, pr == 0 ? res.bpp_command_id : -2,
				pr == 0 ? res.error_reason : -2);
		if (pr < 0) {
			fprintf(stderr, "bpp: %s\n", e2.msg);
			ret = fz_fail("bpp", "the eUICC answered with something that is not a valid "
				      "ProfileInstallationResult");
		} else if (res.txid_len != dp.txid_len || memcmp(res.txid, dp.txid, dp.txid_len) != 0) {
			ret = fz_fail("bpp", "ProfileInstallationResult for another transaction");
		}
	}
	/*
	 * The eUICC wrote its state (the PIR is a pending notification): undo that, or go
	 * back to the snapshot.  The session's context is dropped without es10_close(),
	 * which would close the transport.
	 */
	if (fz_bpp_undo(fs, &resp) == 0) {
		fs->open = 1;
	} else {
		if (fz_verbose())
			fprintf(stderr, "bpp: state reloaded from the snapshot\n");
		if (fs->open)
			fs->t.close(fs->t.priv);
		fs->open = 0;
		fz_soft_restore(fs, 1);
	}
	bsp_wipe(&dp.bsp);
	buf_release(&bf23);
	buf_release(&resp);
	return ret;
}

/* ---- fz_soft_apdu ------------------------------------------------------------------ */

/* The plaintext of a valid profile for the BPP plan (also how the fz_bpp seeds look). */
static inline void fz_profile_plan(const char *iccid, unsigned flags, struct buf *plan)
{
	struct buf meta = BUF_INIT, upp = BUF_INIT;
	uint8_t bcd[10], plain[10], filler[600];
	size_t m, b6, e, i;

	if (iccid_to_bcd(iccid, bcd) < 0)
		abort();
	for (i = 0; i < 10; i++)        /* ProfileHeader iccid: plain BCD, F padded */
		plain[i] = (uint8_t)(bcd[i] << 4 | bcd[i] >> 4);
	for (i = 0; i < sizeof(filler); i++)
		filler[i] = (uint8_t)(i * 7 + 3);
	m = der_begin(&meta, 0xBF25);
	der_put_tlv(&meta, 0x5A, bcd, 10);
	der_put_tlv(&meta, 0x91, "Fuzz Operator", 13);
	der_put_tlv(&meta, 0x92, "Fuzz Profile", 12);
	der_put_uint(&meta, 0x95, 2);
	b6 = der_begin(&meta, 0xB6);
	e = der_begin(&meta, 0x30);
	der_put_tlv(&meta, 0x80, "\x04\xF0", 2);
	der_put_tlv(&meta, 0x81, FZ_SMDP_ADDR, strlen(FZ_SMDP_ADDR));
	der_end(&meta, e);
	der_end(&meta, b6);
	der_put_tlv(&meta, 0xB7, "\x80\x03\x62\xF2\x10", 5);
	der_end(&meta, m);
	m = der_begin(&upp, 0xA0);
	der_put_uint(&upp, 0x80, 2);
	der_put_uint(&upp, 0x81, 3);
	der_put_tlv(&upp, 0x82, "FUZZ", 4);
	der_put_tlv(&upp, 0x83, plain, 10);
	der_end(&upp, m);
	der_put_tlv(&upp, 0xA1, filler, sizeof(filler));
	der_put_tlv(&upp, 0xAA, "\xA0\x03\x80\x01\x00", 5);

	buf_addch(plan, (int)flags);
	buf_addch(plan, 0);
	buf_addch(plan, 0);
	buf_addch(plan, 3);
	buf_add(plan, "\xBF\x24\x00", 3);
	buf_addch(plan, (int)(meta.len >> 8));
	buf_addch(plan, (int)(meta.len & 0xFF));
	buf_add(plan, meta.buf, meta.len);
	buf_addch(plan, (int)(upp.len >> 8));
	buf_addch(plan, (int)(upp.len & 0xFF));
	buf_add(plan, upp.buf, upp.len);
	buf_release(&meta);
	buf_release(&upp);
}

/* Install a profile through a whole real download; 0 when the eUICC reports success. */
static inline int fz_install(struct fz_soft *fs, const char *iccid)
{
	struct es10_ctx ctx;
	struct fz_dp dp;
	struct buf bf23 = BUF_INIT, resp = BUF_INIT, plan = BUF_INIT;
	struct es10_install_result res;
	struct esim_err err = { 0 };
	int ret = -1;

	fz_profile_plan(iccid, 0, &plan);
	if (fz_session(fs, &ctx, &dp, &bf23, &err) < 0)
		fz_die("session prefix", &err);
	fz_bpp_run(&ctx, &dp, &bf23, (const uint8_t *)plan.buf, plan.len, &resp);
	if (resp.len && es10_parse_install_result((const uint8_t *)resp.buf, resp.len, &res,
						  &err) == 0 && res.ok)
		ret = 0;
	es10_close(&ctx);
	fs->open = 0;
	bsp_wipe(&dp.bsp);
	buf_release(&bf23);
	buf_release(&resp);
	buf_release(&plan);
	fz_soft_open(fs);
	return ret;
}

#define FZ_ICCID_ENABLED "8949449999999990023"
#define FZ_ICCID_DISABLED FZ_ICCID

/*
 * The eUICC every fz_soft_apdu input starts from: two profiles (FZ_ICCID_ENABLED enabled,
 * FZ_ICCID_DISABLED disabled, nickname "work"), their install and enable notifications,
 * a default SM-DP+ address.
 */
static inline void fz_soft_apdu_init(void)
{
	struct fz_soft *fs = fz_soft_setup();
	struct es10_ctx ctx;
	struct esim_err err = { 0 };

	if (fs->snapshot.len)
		return;
	if (fz_install(fs, FZ_ICCID_ENABLED) < 0 || fz_install(fs, FZ_ICCID_DISABLED) < 0)
		fz_die("installing the base profiles", NULL);
	es10_ctx_init(&ctx);
	if (es10_open(&ctx, &fs->t, &err) < 0 || es10_enable(&ctx, FZ_ICCID_ENABLED, 0, &err) < 0 ||
	    es10_set_nickname(&ctx, FZ_ICCID_DISABLED, "work", &err) < 0 ||
	    es10_set_default_dp(&ctx, FZ_SMDP_ADDR, &err) < 0)
		fz_die("preparing the base state", &err);
	es10_close(&ctx);
	fs->open = 0;
	fz_soft_snapshot(fs);
}

/*
 * Input: [flags] then C-APDUs, each [n][n bytes] (n == 0: [u16 n][n bytes], for APDUs
 * over 255 bytes).  Flags bit 0: SELECT ISD-R on the basic channel first.  The card is
 * powered up (t->open) before the first APDU; the state file is put back afterwards if
 * the input changed it.  Every response must be 2..APDU_RX_MAX bytes.
 */
static inline int fz_soft_apdu(const uint8_t *data, size_t size)
{
	static const uint8_t select_isdr[] = {
		0x00, 0xA4, 0x04, 0x00, 0x10, 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
		0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00, 0x00,
	};
	struct fz_soft *fs;
	struct esim_err err = { 0 };
	uint8_t rx[APDU_RX_MAX + 16];
	size_t rxlen, n, off = 1;
	int ret = 0;

	fz_soft_apdu_init();
	fs = fz_soft_env();
	if (size < 1)
		return 0;
	if (size > FZ_MAX_INPUT)
		size = FZ_MAX_INPUT;
	fz_soft_restore(fs, 0);
	if (fs->t.open(fs->t.priv, &err) < 0)
		fz_die("power up", &err);
	if (data[0] & 1) {
		rxlen = 0;
		if (fs->t.transmit(fs->t.priv, select_isdr, sizeof(select_isdr), rx, &rxlen, &err) < 0)
			fz_die("SELECT ISD-R", &err);
	}
	while (off < size && !ret) {
		n = data[off++];
		if (n == 0) {
			if (size - off < 2)
				break;
			n = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
		}
		if (n > size - off)
			n = size - off;
		rxlen = 0;
		memset(rx, 0xA5, sizeof(rx));
		if (fs->t.transmit(fs->t.priv, data + off, n, rx, &rxlen, &err) < 0)
			ret = fz_fail("soft_apdu", "transmit failed (the soft eUICC answers everything)");
		else if (rxlen < 2 || rxlen > APDU_RX_MAX)
			ret = fz_fail("soft_apdu", "response length outside 2..APDU_RX_MAX");
		else if (rx[APDU_RX_MAX] != 0xA5)
			ret = fz_fail("soft_apdu", "wrote past APDU_RX_MAX");
		if (fz_verbose() && !ret)
			fprintf(stderr, "soft_apdu: %02X%02X -> %zu bytes %02X%02X\n", data[off],
				n > 1 ? data[off + 1] : 0, rxlen - 2, rx[rxlen - 2], rx[rxlen - 1]);
		off += n;
	}
	fz_soft_restore(fs, 0);
	return ret;
}

/* ---- the table the regression test walks -------------------------------------------- */

struct fz_target {
	const char *name;               /* tests/fuzz/regress/<name>/ */
	int (*one)(const uint8_t *data, size_t size);
};

static inline const struct fz_target *fz_targets(size_t *n)
{
	static const struct fz_target t[] = {
		{ "fuzz_actcode", fz_actcode },
		{ "fuzz_store", fz_store },
		{ "fuzz_carriers", fz_carriers },
		{ "fuzz_der", fz_der },
		{ "fuzz_es9p", fz_es9p },
		{ "fuzz_es10", fz_es10 },
		{ "fuzz_soft_apdu", fz_soft_apdu },
		{ "fuzz_bpp", fz_bpp },
	};

	*n = sizeof(t) / sizeof(t[0]);
	return t;
}

#endif
