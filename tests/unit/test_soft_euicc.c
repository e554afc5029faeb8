/*
 * test_soft_euicc.c - the software eUICC driven over its APDU transport.
 *
 * The test mints its own PKI (CI -> EUM -> eUICC, CI -> DPauth/DPpb) on P-256 and on
 * brainpoolP256r1, creates a soft eUICC in a temporary directory and plays a minimal
 * SM-DP+ against it with raw APDUs: authentication, PrepareDownload, a Bound Profile
 * Package protected with bsp_protect(), profile management, notifications, and hostile
 * APDUs.  When ESIMCTL_SRC is set and ../shared/sgp26 exists next to the source tree,
 * the SGP.26 test identity and a real TS.48 profile package are used as well.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/rspcrypto.h"
#include "esimctl/apdu.h"
#include "esimctl/buf.h"
#include "esimctl/der.h"
#include "esimctl/error.h"
#include "esimctl/ids.h"
#include "card/soft/soft.h"

#include <cjson/cJSON.h>

#define EID "89049032123451234512345678901235"
#define SMDP_ADDR "testsmdpplus1.example.com"
#define ICCID_A "8949449999999990023"
#define ICCID_B "89000123456789012341"
#define ICCID_C "8949449999999990031"

static const uint8_t smdp_oid[] = { 0x88, 0x37, 0x0A }; /* 2.999.10 */

/* ---------------------------------------------------------------------------------- */
/* test PKI */

struct pki {
	const char *curve;
	char eid[33];
	struct buf ci, eum, euicc, euicc_key;        /* DER certs, PEM key */
	struct buf dpauth, dppb;                     /* DER */
	struct buf other_ci;                         /* a CI the eUICC does not know */
	struct buf dpauth_unknown_ci;                /* DPauth under other_ci */
	struct buf dpauth_forged;                    /* AKI of our CI, signed by another key */
	struct buf dpauth_wrong_policy;              /* DPpb policy on a DPauth */
	struct buf dpauth_p384;                      /* DPauth on secp384r1 */
	struct buf dppb_unknown_ci;
	struct buf euicc_other_eid;                  /* signed by EUM, other serialNumber */
	struct buf euicc_outside;                    /* EID outside the EUM's constraint */
	struct buf eum_other_ci;                     /* EUM signed by other_ci */
	struct buf eum_key_pem;
	struct rsp_key *dpauth_key, *dppb_key, *p384_key;
	uint8_t ci_ski[20];
	size_t ci_ski_len;
};

static void der_out(X509 *x, struct buf *out)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	assert_true(n > 0);
	buf_add(out, p, (size_t)n);
	OPENSSL_free(p);
}

static void pem_key_out(EVP_PKEY *k, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &p);
	buf_add(out, p, (size_t)n);
	BIO_free(b);
}

static struct rsp_key *to_rsp_key(EVP_PKEY *k)
{
	struct buf pem = BUF_INIT;
	struct rsp_key *rk = NULL;
	struct esim_err err = { 0 };

	pem_key_out(k, &pem);
	assert_int_equal(rsp_key_load((const uint8_t *)pem.buf, pem.len, &rk, &err), 0);
	buf_release(&pem);
	return rk;
}

static EVP_PKEY *gen_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static CONF *nc_conf(void)
{
	static const char text[] = "[nc_dn]\nserialNumber = 89049032\n";
	CONF *c = NCONF_new(NULL);
	BIO *b = BIO_new_mem_buf(text, -1);
	long line;

	assert_int_equal(NCONF_load_bio(c, b, &line), 1);
	BIO_free(b);
	return c;
}

/*
 * A certificate for key, subject (O, serialNumber, CN), issued by issuer/ikey (NULL:
 * self-signed).  The variadic part is (nid, value) pairs ending with 0.
 */
static X509 *mk_cert(EVP_PKEY *key, const char *o, const char *serial, const char *cn,
		     X509 *issuer, EVP_PKEY *ikey, long sn, ...)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	CONF *conf = nc_conf();
	va_list ap;
	int nid;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), sn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"ES", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0);
	if (serial)
		X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_ASC,
					   (const unsigned char *)serial, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	va_start(ap, sn);
	while ((nid = va_arg(ap, int)) != 0) {
		const char *value = va_arg(ap, const char *);
		X509V3_CTX ctx;
		X509_EXTENSION *ex;

		X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
		X509V3_set_nconf(&ctx, conf);
		ex = X509V3_EXT_nconf_nid(conf, &ctx, nid, value);
		assert_non_null(ex);
		X509_add_ext(x, ex, -1);
		X509_EXTENSION_free(ex);
	}
	va_end(ap);
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	NCONF_free(conf);
	return x;
}

static void pki_make(struct pki *p, const char *curve)
{
	EVP_PKEY *kci = gen_key(curve), *keum = gen_key(curve), *keuicc = gen_key(curve);
	EVP_PKEY *kauth = gen_key(curve), *kpb = gen_key(curve), *kother = gen_key(curve);
	EVP_PKEY *k384 = gen_key("P-384");
	X509 *ci, *eum, *euicc, *auth, *pb, *oci, *x;
	struct rsp_cert *c = NULL;
	struct esim_err err = { 0 };
	int n;

	memset(p, 0, sizeof(*p));
	p->curve = curve;
	memcpy(p->eid, EID, 33);
	ci = mk_cert(kci, "RSPTEST", NULL, "Test CI", NULL, NULL, 1,
		     NID_basic_constraints, "critical,CA:TRUE",
		     NID_key_usage, "critical,keyCertSign,cRLSign",
		     NID_subject_key_identifier, "hash",
		     NID_certificate_policies, "critical,2.23.146.1.2.1.0", 0);
	oci = mk_cert(kother, "OTHER", NULL, "Unknown CI", NULL, NULL, 2,
		      NID_basic_constraints, "critical,CA:TRUE",
		      NID_subject_key_identifier, "hash", 0);
	eum = mk_cert(keum, "RSP Test EUM", NULL, "EUM Test", ci, kci, 3,
		      NID_basic_constraints, "critical,CA:TRUE,pathlen:0",
		      NID_key_usage, "critical,keyCertSign",
		      NID_subject_key_identifier, "hash",
		      NID_authority_key_identifier, "keyid:always",
		      NID_certificate_policies, "critical,2.23.146.1.2.1.2",
		      NID_name_constraints, "critical,permitted;dirName:nc_dn", 0);
	euicc = mk_cert(keuicc, "RSP Test EUM", p->eid, "Test eUICC", eum, keum, 4,
			NID_key_usage, "critical,digitalSignature",
			NID_subject_key_identifier, "hash",
			NID_authority_key_identifier, "keyid:always",
			NID_certificate_policies, "critical,2.23.146.1.2.1.1", 0);
	auth = mk_cert(kauth, "ACME", NULL, "TEST SM-DP+", ci, kci, 5,
		       NID_key_usage, "critical,digitalSignature",
		       NID_subject_key_identifier, "hash",
		       NID_authority_key_identifier, "keyid:always",
		       NID_certificate_policies, "critical,2.23.146.1.2.1.4",
		       NID_subject_alt_name, "RID:2.999.10", 0);
	pb = mk_cert(kpb, "ACME", NULL, "TEST SM-DP+", ci, kci, 6,
		     NID_key_usage, "critical,digitalSignature",
		     NID_subject_key_identifier, "hash",
		     NID_authority_key_identifier, "keyid:always",
		     NID_certificate_policies, "critical,2.23.146.1.2.1.5",
		     NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(ci, &p->ci);
	der_out(eum, &p->eum);
	der_out(euicc, &p->euicc);
	der_out(auth, &p->dpauth);
	der_out(pb, &p->dppb);
	der_out(oci, &p->other_ci);
	pem_key_out(keuicc, &p->euicc_key);
	pem_key_out(keum, &p->eum_key_pem);

	x = mk_cert(kauth, "ACME", NULL, "TEST SM-DP+", oci, kother, 7,
		    NID_authority_key_identifier, "keyid:always",
		    NID_certificate_policies, "2.23.146.1.2.1.4",
		    NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(x, &p->dpauth_unknown_ci);
	X509_free(x);
	x = mk_cert(kauth, "ACME", NULL, "TEST SM-DP+", ci, kother, 8,
		    NID_authority_key_identifier, "keyid:always",
		    NID_certificate_policies, "2.23.146.1.2.1.4",
		    NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(x, &p->dpauth_forged);
	X509_free(x);
	x = mk_cert(kauth, "ACME", NULL, "TEST SM-DP+", ci, kci, 9,
		    NID_authority_key_identifier, "keyid:always",
		    NID_certificate_policies, "2.23.146.1.2.1.5",
		    NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(x, &p->dpauth_wrong_policy);
	X509_free(x);
	x = mk_cert(k384, "ACME", NULL, "TEST SM-DP+", ci, kci, 10,
		    NID_authority_key_identifier, "keyid:always",
		    NID_certificate_policies, "2.23.146.1.2.1.4",
		    NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(x, &p->dpauth_p384);
	X509_free(x);
	x = mk_cert(kpb, "ACME", NULL, "TEST SM-DP+", oci, kother, 11,
		    NID_authority_key_identifier, "keyid:always",
		    NID_certificate_policies, "2.23.146.1.2.1.5",
		    NID_subject_alt_name, "RID:2.999.10", 0);
	der_out(x, &p->dppb_unknown_ci);
	X509_free(x);
	x = mk_cert(keuicc, "RSP Test EUM", "89049032000000000000000000000066", "Test eUICC", eum,
		    keum, 12, NID_authority_key_identifier, "keyid:always", 0);
	der_out(x, &p->euicc_other_eid);
	X509_free(x);
	x = mk_cert(keuicc, "RSP Test EUM", "89049033000000000000000000000088", "Test eUICC", eum,
		    keum, 14, NID_authority_key_identifier, "keyid:always", 0);
	der_out(x, &p->euicc_outside);
	X509_free(x);
	x = mk_cert(keum, "RSP Test EUM", NULL, "EUM Test", oci, kother, 13,
		    NID_basic_constraints, "critical,CA:TRUE,pathlen:0",
		    NID_authority_key_identifier, "keyid:always", 0);
	der_out(x, &p->eum_other_ci);
	X509_free(x);

	p->dpauth_key = to_rsp_key(kauth);
	p->dppb_key = to_rsp_key(kpb);
	/* rsp_key_load only takes the two RSP curves; keep the P-384 key out of it. */
	p->p384_key = NULL;
	assert_int_equal(rsp_cert_load((const uint8_t *)p->ci.buf, p->ci.len, &c, &err), 0);
	n = rsp_cert_ski(c, p->ci_ski, sizeof(p->ci_ski));
	assert_int_equal(n, 20);
	p->ci_ski_len = (size_t)n;
	rsp_cert_free(c);

	X509_free(ci);
	X509_free(oci);
	X509_free(eum);
	X509_free(euicc);
	X509_free(auth);
	X509_free(pb);
	EVP_PKEY_free(kci);
	EVP_PKEY_free(keum);
	EVP_PKEY_free(keuicc);
	EVP_PKEY_free(kauth);
	EVP_PKEY_free(kpb);
	EVP_PKEY_free(kother);
	EVP_PKEY_free(k384);
}

static void pki_free(struct pki *p)
{
	struct buf *bufs[] = {
		&p->ci, &p->eum, &p->euicc, &p->euicc_key, &p->dpauth, &p->dppb, &p->other_ci,
		&p->dpauth_unknown_ci, &p->dpauth_forged, &p->dpauth_wrong_policy,
		&p->dpauth_p384, &p->dppb_unknown_ci, &p->euicc_other_eid, &p->eum_other_ci,
		&p->euicc_outside,
		&p->eum_key_pem,
	};
	size_t i;

	for (i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		buf_release(bufs[i]);
	rsp_key_free(p->dpauth_key);
	rsp_key_free(p->dppb_key);
	rsp_key_free(p->p384_key);
}

/* ---------------------------------------------------------------------------------- */
/* per-test context: a fresh soft eUICC in a temporary directory */

struct tctx {
	struct pki *pki;
	char dir[64];
	char path[160];
	struct apdu_transport tr;
	int opened;
	unsigned ch;            /* logical channel in use */
	int with_le;            /* append Le to the last STORE DATA block */
	size_t mss;             /* STORE DATA block size */
};

static struct pki pki_nist, pki_brp;

/* $TMPDIR when it is short enough for the fixed-size paths here, else /tmp. */
static const char *tmpdir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d && strlen(d) < 32 ? d : "/tmp";
}

static int group_setup_nist(void **state)
{
	pki_make(&pki_nist, "P-256");
	*state = &pki_nist;
	return 0;
}

static int group_setup_brp(void **state)
{
	pki_make(&pki_brp, "brainpoolP256r1");
	*state = &pki_brp;
	return 0;
}

static int group_teardown(void **state)
{
	pki_free(*state);
	return 0;
}

static void create_euicc(struct tctx *t)
{
	const uint8_t *cis[1] = { (const uint8_t *)t->pki->ci.buf };
	size_t cilens[1] = { t->pki->ci.len };
	struct esim_err err = { 0 };
	int rc;

	rc = soft_euicc_create(t->path, t->pki->eid, (const uint8_t *)t->pki->euicc.buf,
			       t->pki->euicc.len, (const uint8_t *)t->pki->euicc_key.buf,
			       t->pki->euicc_key.len, (const uint8_t *)t->pki->eum.buf,
			       t->pki->eum.len, cis, cilens, 1, &err);
	if (rc != 0)
		fail_msg("create: %s", err.msg);
}

static uint16_t apdu(struct tctx *t, const uint8_t *tx, size_t txlen, struct buf *data);

static void open_euicc(struct tctx *t)
{
	struct esim_err err = { 0 };
	struct buf d = BUF_INIT;
	uint8_t tx[22] = { 0x00, 0xA4, 0x04, 0x00, 0x10, 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10,
			   0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t open_ch[] = { 0x00, 0x70, 0x00, 0x00, 0x01 };

	if (soft_euicc_open(t->path, &t->tr, &err) != 0)
		fail_msg("open: %s", err.msg);
	assert_int_equal(t->tr.open(t->tr.priv, &err), 0);
	t->opened = 1;
	assert_int_equal(apdu(t, open_ch, sizeof(open_ch), &d), 0x9000);
	assert_int_equal(d.len, 1);
	t->ch = (uint8_t)d.buf[0];
	assert_true(t->ch >= 1 && t->ch <= 3);
	tx[0] = (uint8_t)t->ch;
	assert_int_equal(apdu(t, tx, sizeof(tx), &d), 0x9000);
	assert_true(d.len > 2 && (uint8_t)d.buf[0] == 0x6F);
	buf_release(&d);
}

static void close_euicc(struct tctx *t)
{
	if (t->opened)
		t->tr.close(t->tr.priv);
	t->opened = 0;
	memset(&t->tr, 0, sizeof(t->tr));
}

static int test_setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->pki = *state;
	snprintf(t->dir, sizeof(t->dir), "%s/test_soft_euicc.XXXXXX", tmpdir());
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/euicc.json", t->dir);
	t->with_le = 1;
	t->mss = 120;
	create_euicc(t);
	open_euicc(t);
	*state = t;
	return 0;
}

static int test_teardown(void **state)
{
	struct tctx *t = *state;
	char cmd[200];

	close_euicc(t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

/* ---------------------------------------------------------------------------------- */
/* APDU helpers */

static uint16_t apdu(struct tctx *t, const uint8_t *tx, size_t txlen, struct buf *data)
{
	struct esim_err err = { 0 };
	uint8_t rx[APDU_RX_MAX];
	size_t rxlen = 0;

	memset(rx, 0xEE, sizeof(rx));
	assert_int_equal(t->tr.transmit(t->tr.priv, tx, txlen, rx, &rxlen, &err), 0);
	assert_true(rxlen >= 2 && rxlen <= APDU_RX_MAX);
	if (data) {
		buf_reset(data);
		buf_add(data, rx, rxlen - 2);
	}
	return (uint16_t)(rx[rxlen - 2] << 8 | rx[rxlen - 1]);
}

static uint16_t apdu_hex(struct tctx *t, const char *hex, struct buf *data)
{
	struct buf b = BUF_INIT;
	uint16_t sw;

	assert_int_equal(hex_decode(hex, &b), 0);
	sw = apdu(t, (const uint8_t *)b.buf, b.len, data);
	buf_release(&b);
	return sw;
}

static uint8_t cla(unsigned ch, int proprietary)
{
	if (ch < 4)
		return (uint8_t)((proprietary ? 0x80 : 0x00) | ch);
	return (uint8_t)((proprietary ? 0xC0 : 0x40) | (ch - 4));
}

/* Collect 61xx continuations into resp. */
static uint16_t fetch_rest(struct tctx *t, uint16_t sw, struct buf *resp)
{
	struct buf d = BUF_INIT;

	while ((sw & 0xFF00) == 0x6100) {
		uint8_t gr[5] = { cla(t->ch, 0), 0xC0, 0x00, 0x00, (uint8_t)(sw & 0xFF) };

		sw = apdu(t, gr, sizeof(gr), &d);
		buf_add(resp, d.buf, d.len);
	}
	buf_release(&d);
	return sw;
}

/* One ES10 command over STORE DATA (chained by t->mss); resp gets the whole response. */
static uint16_t es10(struct tctx *t, const void *req, size_t len, struct buf *resp)
{
	const uint8_t *p = req;
	struct buf d = BUF_INIT;
	size_t off = 0;
	unsigned blk = 0;
	uint16_t sw;

	buf_reset(resp);
	for (;;) {
		size_t n = len - off > t->mss ? t->mss : len - off;
		int last = off + n == len;
		uint8_t tx[261];
		size_t txlen = 5 + n;

		tx[0] = cla(t->ch, 1);
		tx[1] = 0xE2;
		tx[2] = last ? 0x91 : 0x11;
		tx[3] = (uint8_t)blk++;
		tx[4] = (uint8_t)n;
		memcpy(tx + 5, p + off, n);
		if (last && t->with_le)
			tx[txlen++] = 0x00;
		sw = apdu(t, tx, txlen, &d);
		off += n;
		if (last)
			break;
		if (sw != 0x9000 || d.len) {
			buf_release(&d);
			return sw;
		}
	}
	buf_add(resp, d.buf, d.len);
	buf_release(&d);
	return fetch_rest(t, sw, resp);
}

static uint16_t es10_hex(struct tctx *t, const char *hex, struct buf *resp)
{
	struct buf b = BUF_INIT;
	uint16_t sw;

	assert_int_equal(hex_decode(hex, &b), 0);
	sw = es10(t, b.buf, b.len, resp);
	buf_release(&b);
	return sw;
}

static void assert_buf_hex(const struct buf *got, const char *want)
{
	struct buf g = BUF_INIT;

	hex_encode((const uint8_t *)got->buf, got->len, &g);
	if (strcmp(g.buf, want) != 0)
		fail_msg("got  %s\nwant %s", g.buf, want);
	buf_release(&g);
}

/* Parse resp as exactly one TLV with tag. */
static void top(const struct buf *resp, uint32_t tag, struct der_node *n)
{
	assert_int_equal(der_parse((const uint8_t *)resp->buf, resp->len, n), 0);
	assert_int_equal(n->tag, tag);
}

static struct der_node child(const struct der_node *parent, uint32_t tag)
{
	struct der_node n;

	if (der_find(parent, tag, &n) != 1)
		fail_msg("tag %X not found", tag);
	return n;
}

static uint64_t child_uint(const struct der_node *parent, uint32_t tag)
{
	struct der_node n = child(parent, tag);
	uint64_t v;

	assert_int_equal(der_get_uint(&n, &v), 0);
	return v;
}

/* An ES10 result TAG { 80 01 r } */
static int es10_result(struct tctx *t, const struct buf *req, uint32_t tag)
{
	struct buf resp = BUF_INIT;
	struct der_node n;
	int r;

	assert_int_equal(es10(t, req->buf, req->len, &resp), 0x9000);
	top(&resp, tag, &n);
	r = (int)child_uint(&n, 0x80);
	buf_release(&resp);
	return r;
}

static struct rsp_cert *load_cert(const struct buf *der)
{
	struct rsp_cert *c = NULL;
	struct esim_err err = { 0 };

	assert_int_equal(rsp_cert_load((const uint8_t *)der->buf, der->len, &c, &err), 0);
	return c;
}

/* ---------------------------------------------------------------------------------- */
/* minimal SM-DP+ */

struct dp_session {
	uint8_t txid[16];
	size_t txid_len;
	uint8_t challenge[16];
	uint8_t server_challenge[16];
	uint8_t sig1[RSP_SIG_LEN];      /* euiccSignature1 */
	uint8_t sig2[RSP_SIG_LEN];      /* smdpSignature2 */
	uint8_t otpk[RSP_PUB_LEN];      /* otPK.EUICC */
};

struct auth_opts {
	const struct buf *cert;         /* default: pki->dpauth */
	struct rsp_key *key;            /* default: pki->dpauth_key */
	const uint8_t *ski;             /* default: the CI's */
	size_t ski_len;
	int bad_signature;
	int wrong_challenge;
	int no_challenge;
	const char *matching_id;
};

static void get_challenge(struct tctx *t, uint8_t out[16])
{
	struct buf resp = BUF_INIT;
	struct der_node n, c;

	assert_int_equal(es10_hex(t, "BF2E00", &resp), 0x9000);
	top(&resp, 0xBF2E, &n);
	c = child(&n, 0x80);
	assert_int_equal(c.len, 16);
	memcpy(out, c.value, 16);
	buf_release(&resp);
}

/* AuthenticateServer; returns the BF38 response in resp. */
static void authenticate(struct tctx *t, const struct auth_opts *o, struct dp_session *s,
			 struct buf *resp)
{
	struct buf ss1 = BUF_INIT, req = BUF_INIT;
	struct esim_err err = { 0 };
	const struct buf *cert = o && o->cert ? o->cert : &t->pki->dpauth;
	struct rsp_key *key = o && o->key ? o->key : t->pki->dpauth_key;
	uint8_t sig[RSP_SIG_LEN];
	const char *mid = o && o->matching_id ? o->matching_id : "TEST-MATCHING-ID";
	size_t m, a0, a1;
	static const uint8_t tac[4] = { 0x35, 0x29, 0x06, 0x11 };

	memset(s, 0, sizeof(*s));
	if (!(o && o->no_challenge))
		get_challenge(t, s->challenge);
	assert_int_equal(rsp_random(s->txid, 16, &err), 0);
	s->txid_len = 16;
	assert_int_equal(rsp_random(s->server_challenge, 16, &err), 0);
	if (o && o->wrong_challenge)
		s->challenge[3] ^= 0x40;

	m = der_begin(&ss1, 0x30);
	der_put_tlv(&ss1, 0x80, s->txid, s->txid_len);
	der_put_tlv(&ss1, 0x81, s->challenge, 16);
	der_put_tlv(&ss1, 0x83, SMDP_ADDR, strlen(SMDP_ADDR));
	der_put_tlv(&ss1, 0x84, s->server_challenge, 16);
	der_end(&ss1, m);
	assert_int_equal(rsp_sign(key, (const uint8_t *)ss1.buf, ss1.len, sig, &err), 0);
	if (o && o->bad_signature)
		sig[10] ^= 1;

	m = der_begin(&req, 0xBF38);
	buf_add(&req, ss1.buf, ss1.len);
	der_put_tlv(&req, 0x5F37, sig, sizeof(sig));
	if (o && o->ski)
		der_put_tlv(&req, 0x04, o->ski, o->ski_len);
	else
		der_put_tlv(&req, 0x04, t->pki->ci_ski, t->pki->ci_ski_len);
	buf_add(&req, cert->buf, cert->len);
	a0 = der_begin(&req, 0xA0);
	der_put_tlv(&req, 0x80, mid, strlen(mid));
	a1 = der_begin(&req, 0xA1);
	der_put_tlv(&req, 0x80, tac, sizeof(tac));
	der_put_tlv(&req, 0xA1, NULL, 0);
	der_end(&req, a1);
	der_end(&req, a0);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, resp), 0x9000);
	buf_release(&ss1);
	buf_release(&req);
}

/* The error code of a BF38/BF21 error response, or -1 for a success. */
static int auth_result(const struct buf *resp, uint32_t tag, const struct dp_session *s)
{
	struct der_node n, e, tx;

	top(resp, tag, &n);
	if (der_find(&n, 0xA1, &e) != 1)
		return -1;
	tx = child(&e, 0x80);
	assert_int_equal(tx.len, s->txid_len);
	assert_memory_equal(tx.value, s->txid, s->txid_len);
	return (int)child_uint(&e, 0x02);
}

/* Full check of a successful AuthenticateServerResponse; keeps euiccSignature1. */
static void check_auth_ok(struct tctx *t, const struct buf *resp, struct dp_session *s)
{
	struct der_node n, a0, signed1, sig, c, tx;
	struct der_iter it;
	struct rsp_cert *euicc = load_cert(&t->pki->euicc);

	top(resp, 0xBF38, &n);
	a0 = child(&n, 0xA0);
	der_iter_init(&it, &a0);
	assert_int_equal(der_iter_next(&it, &signed1), 1);
	assert_int_equal(signed1.tag, 0x30);
	assert_int_equal(der_iter_next(&it, &sig), 1);
	assert_int_equal(sig.tag, 0x5F37);
	assert_int_equal(sig.len, RSP_SIG_LEN);
	assert_int_equal(rsp_cert_verify(euicc, signed1.tlv, signed1.tlv_len, sig.value), 1);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tlv_len, t->pki->euicc.len);
	assert_memory_equal(c.tlv, t->pki->euicc.buf, c.tlv_len);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tlv_len, t->pki->eum.len);
	assert_memory_equal(c.tlv, t->pki->eum.buf, c.tlv_len);
	assert_int_equal(der_iter_next(&it, &c), 0);
	/* euiccSigned1 = 30 { 80 txid, 83 address, 84 serverChallenge, BF22, A0 ctx } */
	der_iter_init(&it, &signed1);
	assert_int_equal(der_iter_next(&it, &tx), 1);
	assert_int_equal(tx.tag, 0x80);
	assert_memory_equal(tx.value, s->txid, s->txid_len);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0x83);
	assert_int_equal(c.len, strlen(SMDP_ADDR));
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0x84);
	assert_memory_equal(c.value, s->server_challenge, 16);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0xBF22);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0xA0);
	assert_int_equal(der_iter_next(&it, &c), 0);
	memcpy(s->sig1, sig.value, RSP_SIG_LEN);
	rsp_cert_free(euicc);
}

static void auth_ok(struct tctx *t, struct dp_session *s)
{
	struct buf resp = BUF_INIT;

	authenticate(t, NULL, s, &resp);
	assert_int_equal(auth_result(&resp, 0xBF38, s), -1);
	check_auth_ok(t, &resp, s);
	buf_release(&resp);
}

struct prep_opts {
	int cc_required;
	const char *cc;                 /* confirmation code, hashCc sent when set */
	const struct buf *cert;         /* default pki->dppb */
	int bad_signature;
	int wrong_txid;
	const uint8_t *bpp_otpk;        /* 5F49 in smdpSigned2 */
};

static void prepare(struct tctx *t, const struct prep_opts *o, struct dp_session *s,
		    struct buf *resp)
{
	struct buf ss2 = BUF_INIT, msg = BUF_INIT, req = BUF_INIT;
	struct esim_err err = { 0 };
	uint8_t cc = o && o->cc_required ? 0xFF : 0x00, tx[16], hcc[32];
	size_t m;

	memcpy(tx, s->txid, s->txid_len);
	if (o && o->wrong_txid)
		tx[0] ^= 0x01;
	m = der_begin(&ss2, 0x30);
	der_put_tlv(&ss2, 0x80, tx, s->txid_len);
	der_put_tlv(&ss2, 0x01, &cc, 1);
	if (o && o->bpp_otpk)
		der_put_tlv(&ss2, 0x5F49, o->bpp_otpk, RSP_PUB_LEN);
	der_end(&ss2, m);
	buf_add(&msg, ss2.buf, ss2.len);
	der_put_tlv(&msg, 0x5F37, s->sig1, RSP_SIG_LEN);
	assert_int_equal(rsp_sign(t->pki->dppb_key, (const uint8_t *)msg.buf, msg.len, s->sig2,
				  &err), 0);
	if (o && o->bad_signature)
		s->sig2[5] ^= 0x80;
	m = der_begin(&req, 0xBF21);
	buf_add(&req, ss2.buf, ss2.len);
	der_put_tlv(&req, 0x5F37, s->sig2, RSP_SIG_LEN);
	if (o && o->cc) {
		rsp_hash_cc(o->cc, s->txid, s->txid_len, hcc);
		der_put_tlv(&req, 0x04, hcc, 32);
	}
	if (o && o->cert)
		buf_add(&req, o->cert->buf, o->cert->len);
	else
		buf_add(&req, t->pki->dppb.buf, t->pki->dppb.len);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, resp), 0x9000);
	buf_release(&ss2);
	buf_release(&msg);
	buf_release(&req);
}

/* Check a successful PrepareDownloadResponse and keep otPK.EUICC. */
static void check_prepare_ok(struct tctx *t, const struct buf *resp, struct dp_session *s,
			     const char *cc)
{
	struct der_node n, a0, signed2, sig, c;
	struct der_iter it;
	struct rsp_cert *euicc = load_cert(&t->pki->euicc);
	struct buf msg = BUF_INIT;

	top(resp, 0xBF21, &n);
	a0 = child(&n, 0xA0);
	der_iter_init(&it, &a0);
	assert_int_equal(der_iter_next(&it, &signed2), 1);
	assert_int_equal(signed2.tag, 0x30);
	assert_int_equal(der_iter_next(&it, &sig), 1);
	assert_int_equal(sig.tag, 0x5F37);
	assert_int_equal(sig.len, RSP_SIG_LEN);
	buf_add(&msg, signed2.tlv, signed2.tlv_len);
	der_put_tlv(&msg, 0x5F37, s->sig2, RSP_SIG_LEN);
	assert_int_equal(rsp_cert_verify(euicc, (const uint8_t *)msg.buf, msg.len, sig.value), 1);
	der_iter_init(&it, &signed2);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0x80);
	assert_memory_equal(c.value, s->txid, s->txid_len);
	assert_int_equal(der_iter_next(&it, &c), 1);
	assert_int_equal(c.tag, 0x5F49);
	assert_int_equal(c.len, RSP_PUB_LEN);
	assert_int_equal(c.value[0], 0x04);
	memcpy(s->otpk, c.value, RSP_PUB_LEN);
	if (cc) {
		uint8_t h[32];

		rsp_hash_cc(cc, s->txid, s->txid_len, h);
		assert_int_equal(der_iter_next(&it, &c), 1);
		assert_int_equal(c.tag, 0x04);
		assert_int_equal(c.len, 32);
		assert_memory_equal(c.value, h, 32);
	}
	assert_int_equal(der_iter_next(&it, &c), 0);
	rsp_cert_free(euicc);
	buf_release(&msg);
}

static void prepare_ok(struct tctx *t, struct dp_session *s)
{
	struct buf resp = BUF_INIT;

	prepare(t, NULL, s, &resp);
	assert_int_equal(auth_result(&resp, 0xBF21, s), -1);
	check_prepare_ok(t, &resp, s, NULL);
	buf_release(&resp);
}

/* ---------------------------------------------------------------------------------- */
/* Bound Profile Package (SM-DP+ side, SGP.22 §2.5.4) */

enum tamper {
	T_NONE,
	T_86_CIPHER,    /* flip a ciphertext byte of the second 86 */
	T_88_MAC,       /* flip a MAC byte of the first 88 */
	T_87_MAC,       /* flip a MAC byte of the A0 87 */
	T_OTHER_OTPK,   /* bound to another eUICC's one-time key */
	T_OTHER_EID,    /* keys derived for another EID */
	T_BAD_TXID,
	T_BAD_CRT,
	T_BAD_REMOTE_OP,
	T_BAD_SIGN,
};

struct bpp_opts {
	const char *iccid;              /* metadata ICCID */
	const char *header_iccid;       /* ProfileHeader ICCID, default the same */
	int pclass;                     /* -1: absent */
	unsigned ppr;                   /* profilePolicyRules bits, 0: absent */
	unsigned events;                /* B6 events, 0: no B6 */
	int with_a2;
	int whole;                      /* the whole BF36 in one ES10 command */
	int split_meta;                 /* metadata over two 88 segments */
	int no_header;                  /* the first PE is not the ProfileHeader */
	int icon;                       /* iconType, icon and profileOwner in the metadata */
	int tamper;
	const struct buf *upp;          /* a real UPP instead of the synthetic PEs */
};

struct bpp {
	struct buf segs[64];
	size_t nsegs;
	struct buf whole;               /* the BF36 TLV */
};

static void bpp_free(struct bpp *b)
{
	size_t i;

	for (i = 0; i < b->nsegs; i++)
		buf_release(&b->segs[i]);
	buf_release(&b->whole);
	memset(b, 0, sizeof(*b));
}

static void plain_bcd(const char *digits, uint8_t out[10])
{
	size_t i, n = strlen(digits);

	for (i = 0; i < 20; i++) {
		unsigned nib = i < n ? (unsigned)(digits[i] - '0') : 0xF;

		if (i % 2)
			out[i / 2] |= (uint8_t)nib;
		else
			out[i / 2] = (uint8_t)(nib << 4);
	}
}

static void synthetic_upp(const char *iccid, int no_header, struct buf *out)
{
	uint8_t bcd[10], filler[2500];
	size_t m, i;

	for (i = 0; i < sizeof(filler); i++)
		filler[i] = (uint8_t)(i * 7 + 3);
	plain_bcd(iccid, bcd);
	if (no_header)
		der_put_tlv(out, 0xA1, filler, 40);
	m = der_begin(out, 0xA0);
	der_put_uint(out, 0x80, 2);
	der_put_uint(out, 0x81, 3);
	der_put_tlv(out, 0x82, "SOFT EUICC TEST", 15);
	der_put_tlv(out, 0x83, bcd, 10);
	der_put_tlv(out, 0xA5, "\x81\x00\x82\x00", 4);
	der_end(out, m);
	der_put_tlv(out, 0xA1, filler, 1500);
	der_put_tlv(out, 0xA2, filler, 300);
	der_put_tlv(out, 0xBF22, filler, 2500);
	der_put_tlv(out, 0xAA, "\xA0\x03\x80\x01\x00", 5);
}

static void metadata(const struct bpp_opts *o, struct buf *out)
{
	uint8_t bcd[10];
	size_t m;

	assert_int_equal(iccid_to_bcd(o->iccid, bcd), 0);
	m = der_begin(out, 0xBF25);
	der_put_tlv(out, 0x5A, bcd, 10);
	der_put_tlv(out, 0x91, "Soft Operator", 13);
	der_put_tlv(out, 0x92, "Soft Test Profile", 17);
	if (o->icon) {
		der_put_uint(out, 0x93, 1);
		der_put_tlv(out, 0x94, "\x89PNG\r\n\x1a\n", 8);
	}
	if (o->pclass >= 0)
		der_put_uint(out, 0x95, (uint64_t)o->pclass);
	if (o->events) {
		size_t b6 = der_begin(out, 0xB6), e;
		uint8_t bits[2] = { 0x04, (uint8_t)(o->events << 4) };
		int k;

		/* one entry with all events, bits 0..3 -> 0x80..0x10 */
		bits[1] = 0;
		for (k = 0; k < 4; k++)
			if (o->events & (1u << k))
				bits[1] |= (uint8_t)(0x80 >> k);
		e = der_begin(out, 0x30);
		der_put_tlv(out, 0x80, bits, 2);
		der_put_tlv(out, 0x81, "notify.example.com", 18);
		der_end(out, e);
		der_end(out, b6);
	}
	if (o->ppr) {
		uint8_t bits[2] = { 0x05, 0 };
		int k;

		for (k = 0; k < 3; k++)
			if (o->ppr & (1u << k))
				bits[1] |= (uint8_t)(0x80 >> k);
		der_put_tlv(out, 0x99, bits, 2);
	}
	if (o->icon)
		der_put_tlv(out, 0xB7, "\x80\x03\x62\xF2\x10\x81\x01\xFF", 8);
	der_end(out, m);
}

static struct buf *new_seg(struct bpp *b)
{
	assert_true(b->nsegs < sizeof(b->segs) / sizeof(b->segs[0]));
	buf_init(&b->segs[b->nsegs], 0);
	return &b->segs[b->nsegs++];
}

static void hdr(struct buf *out, uint32_t tag, size_t len)
{
	der_put_tag(out, tag);
	der_put_len(out, len);
}

static void build_bpp(struct tctx *t, const struct bpp_opts *o, const struct dp_session *s,
		      struct bpp *b)
{
	struct esim_err err = { 0 };
	struct rsp_key *otsk = NULL, *other = NULL;
	uint8_t otpk_dp[RSP_PUB_LEN], peer[RSP_PUB_LEN], shs[32], kdf[48], sig[RSP_SIG_LEN];
	uint8_t eid[16], txid[16];
	struct buf bf23 = BUF_INIT, msg = BUF_INIT, info = BUF_INIT, a0 = BUF_INIT, a1 = BUF_INIT;
	struct buf a2 = BUF_INIT, a3 = BUF_INIT, tmp = BUF_INIT, upp = BUF_INIT, meta = BUF_INIT;
	struct buf first87 = BUF_INIT, first87b = BUF_INIT;
	struct buf segs88[2] = { BUF_INIT, BUF_INIT }, segs86[40];
	size_t n86 = 0, i, m, crt;
	struct bsp bsp;
	enum rsp_curve curve = rsp_key_curve(t->pki->dppb_key);
	static const char host[] = "soft.example";
	uint8_t op = o->tamper == T_BAD_REMOTE_OP ? 2 : 1;
	uint8_t keylen = o->tamper == T_BAD_CRT ? 0x20 : 0x10;

	memset(b, 0, sizeof(*b));
	memcpy(peer, s->otpk, RSP_PUB_LEN);
	if (o->tamper == T_OTHER_OTPK)
		assert_int_equal(rsp_ecka_generate(curve, &other, peer, &err), 0);
	assert_int_equal(rsp_ecka_generate(curve, &otsk, otpk_dp, &err), 0);
	assert_int_equal(rsp_ecka_derive(otsk, peer, shs, &err), 0);
	assert_int_equal(eid_to_bcd(t->pki->eid, eid), 0);
	if (o->tamper == T_OTHER_EID)
		eid[15] ^= 0x11;
	buf_addch(&info, 0x88);
	buf_addch(&info, 0x10);
	buf_addch(&info, (int)strlen(host));
	buf_addstr(&info, host);
	buf_addch(&info, 16);
	buf_add(&info, eid, 16);
	rsp_kdf(shs, (const uint8_t *)info.buf, info.len, kdf);
	bsp_init(&bsp, kdf);

	/* BF23 */
	memcpy(txid, s->txid, s->txid_len);
	if (o->tamper == T_BAD_TXID)
		txid[2] ^= 0x55;
	m = der_begin(&bf23, 0xBF23);
	der_put_tlv(&bf23, 0x82, &op, 1);
	der_put_tlv(&bf23, 0x80, txid, s->txid_len);
	crt = der_begin(&bf23, 0xA6);
	der_put_tlv(&bf23, 0x80, "\x88", 1);
	der_put_tlv(&bf23, 0x81, &keylen, 1);
	der_put_tlv(&bf23, 0x84, host, strlen(host));
	der_end(&bf23, crt);
	der_put_tlv(&bf23, 0x5F49, otpk_dp, RSP_PUB_LEN);
	/* smdpSign input: the TLVs so far (after BF23's header) || 5F49 otPK.EUICC */
	{
		struct der_node n;
		size_t hl;

		buf_add(&tmp, bf23.buf, bf23.len);
		der_end(&tmp, m);
		assert_int_equal(der_parse((const uint8_t *)tmp.buf, tmp.len, &n), 0);
		hl = n.tlv_len - n.len;
		buf_add(&msg, tmp.buf + hl, tmp.len - hl);
		buf_reset(&tmp);
	}
	der_put_tlv(&msg, 0x5F49, peer, RSP_PUB_LEN);
	assert_int_equal(rsp_sign(t->pki->dppb_key, (const uint8_t *)msg.buf, msg.len, sig, &err), 0);
	if (o->tamper == T_BAD_SIGN)
		sig[0] ^= 0x01;
	der_put_tlv(&bf23, 0x5F37, sig, RSP_SIG_LEN);
	der_end(&bf23, m);

	/* A0: ConfigureISDP */
	assert_int_equal(bsp_protect(&bsp, 0x87, (const uint8_t *)"\xBF\x24\x00", 3, &first87, &err), 0);
	if (o->tamper == T_87_MAC)
		first87.buf[first87.len - 1] ^= 0x01;
	buf_add(&a0, first87.buf, first87.len);

	/* A1: StoreMetadata */
	metadata(o, &meta);
	if (o->split_meta) {
		size_t half = meta.len / 2;

		assert_int_equal(bsp_protect(&bsp, 0x88, (const uint8_t *)meta.buf, half, &segs88[0],
					     &err), 0);
		assert_int_equal(bsp_protect(&bsp, 0x88, (const uint8_t *)meta.buf + half,
					     meta.len - half, &segs88[1], &err), 0);
	} else {
		assert_int_equal(bsp_protect(&bsp, 0x88, (const uint8_t *)meta.buf, meta.len,
					     &segs88[0], &err), 0);
	}
	if (o->tamper == T_88_MAC)
		segs88[0].buf[segs88[0].len - 2] ^= 0x01;
	buf_add(&a1, segs88[0].buf, segs88[0].len);
	buf_add(&a1, segs88[1].buf, segs88[1].len);

	/* A2: ReplaceSessionKeys */
	if (o->with_a2) {
		uint8_t k[48];
		struct buf bf26 = BUF_INIT;

		assert_int_equal(rsp_random(k, sizeof(k), &err), 0);
		m = der_begin(&bf26, 0xBF26);
		der_put_tlv(&bf26, 0x80, k, 16);
		der_put_tlv(&bf26, 0x81, k + 16, 16);
		der_put_tlv(&bf26, 0x82, k + 32, 16);
		der_end(&bf26, m);
		assert_int_equal(bsp_protect(&bsp, 0x87, (const uint8_t *)bf26.buf, bf26.len,
					     &first87b, &err), 0);
		buf_add(&a2, first87b.buf, first87b.len);
		bsp_init_keys(&bsp, k + 16, k + 32, k);
		buf_release(&bf26);
	}

	/* A3: the profile elements, 1007 plaintext bytes per 86 */
	if (o->upp)
		buf_add(&upp, o->upp->buf, o->upp->len);
	else
		synthetic_upp(o->header_iccid ? o->header_iccid : o->iccid, o->no_header, &upp);
	for (i = 0; i < upp.len; i += 1007) {
		size_t n = upp.len - i > 1007 ? 1007 : upp.len - i;

		assert_true(n86 < sizeof(segs86) / sizeof(segs86[0]));
		buf_init(&segs86[n86], 0);
		assert_int_equal(bsp_protect(&bsp, 0x86, (const uint8_t *)upp.buf + i, n,
					     &segs86[n86], &err), 0);
		if (o->tamper == T_86_CIPHER && n86 == 1)
			segs86[n86].buf[10] ^= 0x01;
		buf_add(&a3, segs86[n86].buf, segs86[n86].len);
		n86++;
	}

	/* The whole BF36 */
	m = der_begin(&b->whole, 0xBF36);
	buf_add(&b->whole, bf23.buf, bf23.len);
	der_put_tlv(&b->whole, 0xA0, a0.buf, a0.len);
	der_put_tlv(&b->whole, 0xA1, a1.buf, a1.len);
	if (o->with_a2)
		der_put_tlv(&b->whole, 0xA2, a2.buf, a2.len);
	der_put_tlv(&b->whole, 0xA3, a3.buf, a3.len);
	der_end(&b->whole, m);
	{
		struct der_node n;

		assert_int_equal(der_parse((const uint8_t *)b->whole.buf, b->whole.len, &n), 0);
		/* SGP.22 §5.7.6 segmentation */
		hdr(new_seg(b), 0xBF36, n.len);
		buf_add(&b->segs[0], bf23.buf, bf23.len);
	}
	hdr(new_seg(b), 0xA0, a0.len);
	buf_add(&b->segs[b->nsegs - 1], first87.buf, first87.len);
	hdr(new_seg(b), 0xA1, a1.len);
	for (i = 0; i < 2; i++)
		if (segs88[i].len)
			buf_add(new_seg(b), segs88[i].buf, segs88[i].len);
	if (o->with_a2) {
		hdr(new_seg(b), 0xA2, a2.len);
		buf_add(&b->segs[b->nsegs - 1], first87b.buf, first87b.len);
	}
	hdr(new_seg(b), 0xA3, a3.len);
	for (i = 0; i < n86; i++) {
		buf_add(new_seg(b), segs86[i].buf, segs86[i].len);
		buf_release(&segs86[i]);
	}

	secure_wipe(shs, sizeof(shs));
	secure_wipe(kdf, sizeof(kdf));
	bsp_wipe(&bsp);
	rsp_key_free(otsk);
	rsp_key_free(other);
	buf_release(&bf23);
	buf_release(&msg);
	buf_release(&info);
	buf_release(&a0);
	buf_release(&a1);
	buf_release(&a2);
	buf_release(&a3);
	buf_release(&tmp);
	buf_release(&upp);
	buf_release(&meta);
	buf_release(&first87);
	buf_release(&first87b);
	buf_release(&segs88[0]);
	buf_release(&segs88[1]);
}

/*
 * Send the segments one ES10 command each; resp gets the first non-empty response.
 * Returns the index of the segment that answered (nsegs if none did).
 */
static size_t send_bpp(struct tctx *t, const struct bpp *b, struct buf *resp)
{
	size_t i;

	buf_reset(resp);
	for (i = 0; i < b->nsegs; i++) {
		assert_int_equal(es10(t, b->segs[i].buf, b->segs[i].len, resp), 0x9000);
		if (resp->len)
			return i;
	}
	return i;
}

struct pir {
	int ok;
	uint64_t seq;
	int cmd, reason;
	uint8_t aid[16];
};

/* Verify a ProfileInstallationResult (SGP.22 §2.5.6) and decode its outcome. */
static void check_pir(struct tctx *t, const struct buf *resp, const struct dp_session *s,
		      const char *iccid, struct pir *out)
{
	struct der_node n, data, sig, meta, c, a2, res;
	struct rsp_cert *euicc = load_cert(&t->pki->euicc);
	uint8_t bcd[10];

	memset(out, 0, sizeof(*out));
	top(resp, 0xBF37, &n);
	data = child(&n, 0xBF27);
	sig = child(&n, 0x5F37);
	assert_int_equal(sig.len, RSP_SIG_LEN);
	assert_int_equal(rsp_cert_verify(euicc, data.tlv, data.tlv_len, sig.value), 1);
	c = child(&data, 0x80);
	assert_int_equal(c.len, s->txid_len);
	assert_memory_equal(c.value, s->txid, s->txid_len);
	meta = child(&data, 0xBF2F);
	out->seq = child_uint(&meta, 0x80);
	c = child(&meta, 0x81);
	assert_int_equal(c.len, 2);
	assert_memory_equal(c.value, "\x07\x80", 2);
	c = child(&meta, 0x0C);
	assert_int_equal(c.len, strlen(SMDP_ADDR));
	assert_memory_equal(c.value, SMDP_ADDR, c.len);
	if (iccid) {
		assert_int_equal(iccid_to_bcd(iccid, bcd), 0);
		c = child(&meta, 0x5A);
		assert_memory_equal(c.value, bcd, 10);
	}
	c = child(&data, 0x06);
	assert_int_equal(c.len, sizeof(smdp_oid));
	assert_memory_equal(c.value, smdp_oid, sizeof(smdp_oid));
	a2 = child(&data, 0xA2);
	if (der_find(&a2, 0xA0, &res) == 1) {
		out->ok = 1;
		c = child(&res, 0x4F);
		assert_int_equal(c.len, 16);
		memcpy(out->aid, c.value, 16);
		c = child(&res, 0x04);
		assert_true(c.len > 0);
	} else {
		res = child(&a2, 0xA1);
		out->cmd = (int)child_uint(&res, 0x80);
		out->reason = (int)child_uint(&res, 0x81);
	}
	rsp_cert_free(euicc);
}

/* A whole download; returns the PIR outcome. */
static void download(struct tctx *t, const struct bpp_opts *o, struct pir *pir)
{
	struct dp_session s;
	struct bpp b;
	struct buf resp = BUF_INIT;
	size_t at;

	auth_ok(t, &s);
	prepare_ok(t, &s);
	build_bpp(t, o, &s, &b);
	if (o->whole) {
		/* one command carrying everything: the response comes at once */
		assert_int_equal(es10(t, b.whole.buf, b.whole.len, &resp), 0x9000);
		at = b.nsegs - 1;
	} else {
		at = send_bpp(t, &b, &resp);
	}
	assert_true(at < b.nsegs);
	check_pir(t, &resp, &s, NULL, pir);
	if (pir->ok)
		assert_int_equal(at, b.nsegs - 1);
	bpp_free(&b);
	buf_release(&resp);
}

static void install(struct tctx *t, const char *iccid, unsigned events, unsigned ppr,
		    struct pir *pir)
{
	struct bpp_opts o = { .iccid = iccid, .pclass = 2, .events = events, .ppr = ppr };

	download(t, &o, pir);
	assert_true(pir->ok);
}

/* ---------------------------------------------------------------------------------- */
/* ES10 request builders */

static void req_profile_ref(struct buf *b, uint32_t tag, const char *iccid, const uint8_t *aid)
{
	size_t m = der_begin(b, tag), a0 = 0;
	uint8_t bcd[10];

	buf_reset(b);
	m = der_begin(b, tag);
	if (tag != 0xBF33)
		a0 = der_begin(b, 0xA0);
	if (iccid) {
		assert_int_equal(iccid_to_bcd(iccid, bcd), 0);
		der_put_tlv(b, 0x5A, bcd, 10);
	} else {
		der_put_tlv(b, 0x4F, aid, 16);
	}
	if (tag != 0xBF33) {
		der_end(b, a0);
		der_put_tlv(b, 0x81, "\xFF", 1);
	}
	der_end(b, m);
}

static int enable(struct tctx *t, const char *iccid)
{
	struct buf b = BUF_INIT;
	int r;

	req_profile_ref(&b, 0xBF31, iccid, NULL);
	r = es10_result(t, &b, 0xBF31);
	buf_release(&b);
	return r;
}

static int disable(struct tctx *t, const char *iccid)
{
	struct buf b = BUF_INIT;
	int r;

	req_profile_ref(&b, 0xBF32, iccid, NULL);
	r = es10_result(t, &b, 0xBF32);
	buf_release(&b);
	return r;
}

static int delete_profile(struct tctx *t, const char *iccid)
{
	struct buf b = BUF_INIT;
	int r;

	req_profile_ref(&b, 0xBF33, iccid, NULL);
	r = es10_result(t, &b, 0xBF33);
	buf_release(&b);
	return r;
}

/* Profile state by ICCID from GetProfilesInfo: -1 absent, 0 disabled, 1 enabled. */
static int profile_state(struct tctx *t, const char *iccid, struct buf *e3)
{
	struct buf resp = BUF_INIT;
	struct der_node n, list, p, c;
	struct der_iter it;
	uint8_t bcd[10];
	int state = -1;

	assert_int_equal(iccid_to_bcd(iccid, bcd), 0);
	assert_int_equal(es10_hex(t, "BF2D00", &resp), 0x9000);
	top(&resp, 0xBF2D, &n);
	list = child(&n, 0xA0);
	der_iter_init(&it, &list);
	while (der_iter_next(&it, &p) == 1) {
		assert_int_equal(p.tag, 0xE3);
		c = child(&p, 0x5A);
		if (c.len == 10 && memcmp(c.value, bcd, 10) == 0) {
			c = child(&p, 0x9F70);
			state = c.value[0];
			if (e3) {
				buf_reset(e3);
				buf_add(e3, p.tlv, p.tlv_len);
			}
		}
	}
	buf_release(&resp);
	return state;
}

static size_t count_children(const struct buf *resp, uint32_t tag)
{
	struct der_node n, list, c;
	struct der_iter it;
	size_t k = 0;

	top(resp, tag, &n);
	list = child(&n, 0xA0);
	der_iter_init(&it, &list);
	while (der_iter_next(&it, &c) == 1)
		k++;
	return k;
}

/* ListNotification: number of entries and the seq/event of entry i. */
static size_t list_notifications(struct tctx *t, const char *filter_hex, uint64_t *seqs,
				 unsigned *events)
{
	struct buf resp = BUF_INIT;
	struct der_node n, list, c, e;
	struct der_iter it;
	size_t k = 0;

	assert_int_equal(es10_hex(t, filter_hex, &resp), 0x9000);
	top(&resp, 0xBF28, &n);
	list = child(&n, 0xA0);
	der_iter_init(&it, &list);
	while (der_iter_next(&it, &c) == 1) {
		assert_int_equal(c.tag, 0xBF2F);
		if (seqs)
			seqs[k] = child_uint(&c, 0x80);
		e = child(&c, 0x81);
		assert_int_equal(e.len, 2);
		if (events)
			events[k] = e.value[1];
		k++;
	}
	buf_release(&resp);
	return k;
}

/* ---------------------------------------------------------------------------------- */
/* tests */

static void test_identity(void **state)
{
	struct tctx *t = *state;
	struct buf resp = BUF_INIT;
	struct der_node n, c, l;
	uint8_t eid[16], ch1[16], ch2[16];

	assert_int_equal(eid_to_bcd(t->pki->eid, eid), 0);
	/* GetEID, with and without Le (the second goes through 61xx / GET RESPONSE) */
	assert_int_equal(es10_hex(t, "BF3E035C015A", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3E125A1089049032123451234512345678901235");
	t->with_le = 0;
	assert_int_equal(es10_hex(t, "BF3E035C015A", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3E125A1089049032123451234512345678901235");
	t->with_le = 1;

	/* EUICCInfo1 */
	assert_int_equal(es10_hex(t, "BF2000", &resp), 0x9000);
	top(&resp, 0xBF20, &n);
	c = child(&n, 0x82);
	assert_memory_equal(c.value, "\x02\x02\x02", 3);
	l = child(&n, 0xA9);
	c = child(&l, 0x04);
	assert_int_equal(c.len, t->pki->ci_ski_len);
	assert_memory_equal(c.value, t->pki->ci_ski, c.len);
	l = child(&n, 0xAA);
	c = child(&l, 0x04);
	assert_memory_equal(c.value, t->pki->ci_ski, c.len);

	/* EUICCInfo2 */
	assert_int_equal(es10_hex(t, "BF2200", &resp), 0x9000);
	top(&resp, 0xBF22, &n);
	c = child(&n, 0x82);
	assert_memory_equal(c.value, "\x02\x02\x02", 3);
	c = child(&n, 0x81);
	assert_int_equal(c.len, 3);
	c = child(&n, 0x84);
	c = child(&n, 0x88);
	l = child(&n, 0xAA);
	c = child(&l, 0x04);
	assert_memory_equal(c.value, t->pki->ci_ski, c.len);
	c = child(&n, 0x04);
	assert_int_equal(c.len, 3);
	c = child(&n, 0x0C);
	assert_int_equal(c.len, strlen("TEST-SOFT-EUICC"));

	/* challenges are fresh */
	get_challenge(t, ch1);
	get_challenge(t, ch2);
	assert_memory_not_equal(ch1, ch2, 16);

	/* configured addresses and the default SM-DP+ */
	assert_int_equal(es10_hex(t, "BF3C00", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3C11810F6C70612E64732E67736D612E636F6D");
	assert_int_equal(es10_hex(t, "BF3F11800F64702E736F66742E6578616D706C65", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3F03800100");
	assert_int_equal(es10_hex(t, "BF3C00", &resp), 0x9000);
	top(&resp, 0xBF3C, &n);
	c = child(&n, 0x80);
	assert_int_equal(c.len, 15);
	assert_memory_equal(c.value, "dp.soft.example", 15);

	/* GetRAT: no rules */
	assert_int_equal(es10_hex(t, "BF4300", &resp), 0x9000);
	assert_buf_hex(&resp, "BF4302A000");
	/* empty lists */
	assert_int_equal(es10_hex(t, "BF2D00", &resp), 0x9000);
	assert_buf_hex(&resp, "BF2D02A000");
	assert_int_equal(es10_hex(t, "BF2800", &resp), 0x9000);
	assert_buf_hex(&resp, "BF2802A000");

	/* big blocks work too */
	t->mss = 255;
	assert_int_equal(es10_hex(t, "BF3E035C015A", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3E125A1089049032123451234512345678901235");
	buf_release(&resp);
}

static void test_create_checks(void **state)
{
	struct tctx *t = *state;
	struct pki *p = t->pki;
	struct esim_err err = { 0 };
	const uint8_t *cis[2] = { (const uint8_t *)p->ci.buf, (const uint8_t *)p->other_ci.buf };
	size_t cilens[2] = { p->ci.len, p->other_ci.len };
	char path[160];
	struct stat sb;
	static const uint8_t junk[] = "not a certificate";

#define CREATE(eid, cert, key, eum, n) soft_euicc_create(path, eid, \
		(const uint8_t *)(cert)->buf, (cert)->len, (const uint8_t *)(key)->buf, (key)->len, \
		(const uint8_t *)(eum)->buf, (eum)->len, cis, cilens, n, &err)

	/* the file made by the setup: 0600, and never overwritten */
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s", t->path);
	assert_int_equal(CREATE(p->eid, &p->euicc, &p->euicc_key, &p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "already exists"));

	snprintf(path, sizeof(path), "%s/other.json", t->dir);
	/* EID check digits */
	assert_int_equal(CREATE("89049032123451234512345678901234", &p->euicc, &p->euicc_key,
				&p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	/* certificate serialNumber is another EID */
	assert_int_equal(CREATE(p->eid, &p->euicc_other_eid, &p->euicc_key, &p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "serialNumber"));
	/* the EUM's nameConstraints do not cover 89049033 */
	assert_int_equal(CREATE("89049033000000000000000000000088", &p->euicc_outside,
				&p->euicc_key, &p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "does not permit"));
	/* key of someone else */
	assert_int_equal(CREATE(p->eid, &p->euicc, &p->eum_key_pem, &p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "does not match"));
	/* eUICC not issued by this EUM */
	assert_int_equal(CREATE(p->eid, &p->euicc, &p->euicc_key, &p->ci, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	/* EUM not issued by a known CI */
	cis[0] = (const uint8_t *)p->other_ci.buf;
	cilens[0] = p->other_ci.len;
	assert_int_equal(CREATE(p->eid, &p->euicc, &p->euicc_key, &p->eum, 1), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "CI"));
	/* no CI at all */
	assert_int_equal(CREATE(p->eid, &p->euicc, &p->euicc_key, &p->eum, 0), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	/* garbage */
	assert_int_equal(soft_euicc_create(path, p->eid, junk, sizeof(junk), (const uint8_t *)
					   p->euicc_key.buf, p->euicc_key.len,
					   (const uint8_t *)p->eum.buf, p->eum.len, cis, cilens, 1,
					   &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(stat(path, &sb), -1);
	/* the other serialNumber is fine with its own EID; two CIs, the second signs */
	cis[0] = (const uint8_t *)p->other_ci.buf;
	cilens[0] = p->other_ci.len;
	cis[1] = (const uint8_t *)p->ci.buf;
	cilens[1] = p->ci.len;
	if (CREATE("89049032000000000000000000000066", &p->euicc_other_eid, &p->euicc_key,
		   &p->eum, 2) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
#undef CREATE
}

static void test_two_cis(void **state)
{
	struct tctx *t = *state;
	struct pki *p = t->pki;
	struct esim_err err = { 0 };
	const uint8_t *cis[2] = { (const uint8_t *)p->other_ci.buf, (const uint8_t *)p->ci.buf };
	size_t cilens[2] = { p->other_ci.len, p->ci.len };
	struct buf resp = BUF_INIT;
	struct der_node n, l, c;
	struct der_iter it;
	struct dp_session s;
	size_t k = 0;

	/* A second eUICC trusting two CIs: verification lists both, signing the EUM's one. */
	close_euicc(t);
	assert_int_equal(unlink(t->path), 0);
	assert_int_equal(soft_euicc_create(t->path, p->eid, (const uint8_t *)p->euicc.buf,
					   p->euicc.len, (const uint8_t *)p->euicc_key.buf,
					   p->euicc_key.len, (const uint8_t *)p->eum.buf, p->eum.len,
					   cis, cilens, 2, &err), 0);
	open_euicc(t);
	assert_int_equal(es10_hex(t, "BF2000", &resp), 0x9000);
	top(&resp, 0xBF20, &n);
	l = child(&n, 0xA9);
	der_iter_init(&it, &l);
	while (der_iter_next(&it, &c) == 1)
		k++;
	assert_int_equal(k, 2);
	l = child(&n, 0xAA);
	c = child(&l, 0x04);
	assert_int_equal(c.len, p->ci_ski_len);
	assert_memory_equal(c.value, p->ci_ski, c.len);
	/* CERT.DPauth under the second CI verifies (it is in the verification list) */
	{
		struct auth_opts o = { .cert = &p->dpauth_unknown_ci };

		authenticate(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF38, &s), -1);
		check_auth_ok(t, &resp, &s);
	}
	/* but the CI to be used for the eUICC's signature must be the one it has a chain for */
	{
		uint8_t ski[20];
		int len;
		struct rsp_cert *oc = load_cert(&p->other_ci);
		struct auth_opts o = { .ski = ski };

		len = rsp_cert_ski(oc, ski, sizeof(ski));
		assert_int_equal(len, 20);
		o.ski_len = 20;
		authenticate(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF38, &s), 7);
		rsp_cert_free(oc);
	}
	auth_ok(t, &s);
	buf_release(&resp);
}

static void test_authenticate_errors(void **state)
{
	struct tctx *t = *state;
	struct pki *p = t->pki;
	struct buf resp = BUF_INIT;
	struct dp_session s;
	uint8_t ski[20];
	size_t i;
	struct {
		struct auth_opts o;
		int code;
	} cases[] = {
		{ { .ski = ski, .ski_len = 20 }, 7 },                      /* ciPKUnknown */
		{ { .cert = &p->dpauth_unknown_ci }, 7 },                 /* DPauth from unknown CI */
		{ { .cert = &p->dpauth_forged }, 1 },                     /* not signed by the CI */
		{ { .cert = &p->dpauth_wrong_policy }, 1 },               /* DPpb policy */
		{ { .cert = &p->dppb, .key = p->dppb_key }, 1 },          /* a DPpb as DPauth */
		{ { .cert = &p->dpauth_p384 }, 3 },                       /* unsupportedCurve */
		{ { .bad_signature = 1 }, 2 },                            /* invalidSignature */
		{ { .wrong_challenge = 1 }, 6 },                          /* euiccChallengeMismatch */
		{ { .no_challenge = 1 }, 4 },                             /* no challenge: no session */
	};

	memset(ski, 0x5A, sizeof(ski));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		authenticate(t, &cases[i].o, &s, &resp);
		if (auth_result(&resp, 0xBF38, &s) != cases[i].code)
			fail_msg("case %zu: got %d, want %d", i, auth_result(&resp, 0xBF38, &s),
				 cases[i].code);
	}
	/* the error encoding: BF38 { A1 { 80 txid, 02 code } } */
	authenticate(t, &cases[6].o, &s, &resp);
	{
		struct buf want = BUF_INIT;
		size_t m = der_begin(&want, 0xBF38), a1 = der_begin(&want, 0xA1);

		der_put_tlv(&want, 0x80, s.txid, s.txid_len);
		der_put_tlv(&want, 0x02, "\x02", 1);
		der_end(&want, a1);
		der_end(&want, m);
		assert_int_equal(resp.len, want.len);
		assert_memory_equal(resp.buf, want.buf, want.len);
		buf_release(&want);
	}
	/* a challenge is good for one AuthenticateServer only: a replay finds no session */
	auth_ok(t, &s);
	{
		struct auth_opts o = { .no_challenge = 1 };

		authenticate(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF38, &s), 4);
	}
	/* structurally broken requests are refused at the APDU level */
	assert_int_equal(es10_hex(t, "BF3800", &resp), 0x6A80);
	assert_int_equal(es10_hex(t, "BF38053003800101", &resp), 0x6A80);
	buf_release(&resp);
}

static void test_prepare_download(void **state)
{
	struct tctx *t = *state;
	struct pki *p = t->pki;
	struct buf resp = BUF_INIT;
	struct dp_session s;
	uint8_t first[RSP_PUB_LEN];

	/* no session */
	memset(&s, 0, sizeof(s));
	s.txid_len = 4;
	memcpy(s.txid, "\x01\x02\x03\x04", 4);
	prepare(t, NULL, &s, &resp);
	assert_int_equal(auth_result(&resp, 0xBF21, &s), 4);

	auth_ok(t, &s);
	{
		struct prep_opts o = { .cert = &p->dppb_unknown_ci };

		prepare(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF21, &s), 1);
	}
	{
		struct prep_opts o = { .cert = &p->dpauth };    /* DPauth policy, not DPpb */

		prepare(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF21, &s), 1);
	}
	{
		struct prep_opts o = { .bad_signature = 1 };

		prepare(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF21, &s), 2);
	}
	{
		/* the error carries the transaction id of the request */
		struct prep_opts o = { .wrong_txid = 1 };
		struct dp_session w = s;

		prepare(t, &o, &s, &resp);
		w.txid[0] ^= 0x01;
		assert_int_equal(auth_result(&resp, 0xBF21, &w), 5);
	}
	{
		/* Confirmation Code required but not given */
		struct prep_opts o = { .cc_required = 1 };

		prepare(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF21, &s), 127);
	}
	{
		struct prep_opts o = { .cc_required = 1, .cc = "1234" };

		prepare(t, &o, &s, &resp);
		assert_int_equal(auth_result(&resp, 0xBF21, &s), -1);
		check_prepare_ok(t, &resp, &s, "1234");
	}
	memcpy(first, s.otpk, RSP_PUB_LEN);
	/* a second PrepareDownload in the session gets a new one-time key ... */
	prepare_ok(t, &s);
	assert_memory_not_equal(first, s.otpk, RSP_PUB_LEN);
	memcpy(first, s.otpk, RSP_PUB_LEN);
	/* ... unless the SM-DP+ asks for the one already bound (bppEuiccOtpk) */
	{
		struct prep_opts o = { .bpp_otpk = first };

		prepare(t, &o, &s, &resp);
		check_prepare_ok(t, &resp, &s, NULL);
		assert_memory_equal(first, s.otpk, RSP_PUB_LEN);
	}
	assert_int_equal(es10_hex(t, "BF2100", &resp), 0x6A80);
	buf_release(&resp);
}

static void test_download(void **state)
{
	struct tctx *t = *state;
	struct buf resp = BUF_INIT, e3 = BUF_INIT;
	struct der_node n, c;
	struct pir pir;
	uint64_t seqs[8];
	unsigned events[8];
	static const uint8_t aid1[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF,
					  0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00 };
	size_t i;
	struct {
		struct bpp_opts o;
		int with_le;
		size_t mss;
	} cases[] = {
		{ { .iccid = ICCID_A, .pclass = -1 }, 1, 120 },
		{ { .iccid = ICCID_B, .pclass = 2, .with_a2 = 1, .split_meta = 1 }, 0, 120 },
		{ { .iccid = ICCID_C, .pclass = 0, .whole = 1, .with_a2 = 1, .events = 0xF }, 1, 255 },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t->with_le = cases[i].with_le;
		t->mss = cases[i].mss;
		download(t, &cases[i].o, &pir);
		if (!pir.ok)
			fail_msg("case %zu: cmd %d reason %d", i, pir.cmd, pir.reason);
		assert_int_equal(pir.seq, i + 1);
		assert_int_equal(pir.aid[14], 0x10 + i);
		assert_int_equal(profile_state(t, cases[i].o.iccid, NULL), 0);
	}
	assert_memory_equal(pir.aid + 15, aid1 + 15, 1);
	/* the profile as GetProfilesInfo shows it */
	assert_int_equal(profile_state(t, ICCID_A, &e3), 0);
	top(&e3, 0xE3, &n);
	c = child(&n, 0x4F);
	assert_memory_equal(c.value, aid1, 16);
	c = child(&n, 0x91);
	assert_int_equal(c.len, 13);
	c = child(&n, 0x92);
	assert_int_equal(c.len, 17);
	assert_int_equal(child_uint(&n, 0x95), 2);      /* absent class = operational */
	assert_int_equal(profile_state(t, ICCID_C, &e3), 0);
	top(&e3, 0xE3, &n);
	assert_int_equal(child_uint(&n, 0x95), 0);
	c = child(&n, 0xB6);

	/* three install notifications, and each BF37 can be retrieved unchanged */
	assert_int_equal(list_notifications(t, "BF2800", seqs, events), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(seqs[i], i + 1);
		assert_int_equal(events[i], 0x80);
	}
	assert_int_equal(es10_hex(t, "BF2B05A003800103", &resp), 0x9000);
	top(&resp, 0xBF2B, &n);
	c = child(&n, 0xA0);
	{
		struct der_node pirn;
		struct buf one = BUF_INIT;

		assert_int_equal(der_parse(c.value, c.len, &pirn), 0);
		assert_int_equal(pirn.tag, 0xBF37);
		buf_add(&one, pirn.tlv, pirn.tlv_len);
		/* signature and structure; the transaction id is not known here */
		{
			struct der_node bf37, data, sig;
			struct rsp_cert *euicc = load_cert(&t->pki->euicc);

			top(&one, 0xBF37, &bf37);
			data = child(&bf37, 0xBF27);
			sig = child(&bf37, 0x5F37);
			assert_int_equal(rsp_cert_verify(euicc, data.tlv, data.tlv_len, sig.value), 1);
			rsp_cert_free(euicc);
		}
		buf_release(&one);
	}
	buf_release(&resp);
	buf_release(&e3);
}

static void test_real_upp_sizes(void **state)
{
	struct tctx *t = *state;
	struct bpp_opts o = { .iccid = ICCID_A, .pclass = 2 };
	struct buf upp = BUF_INIT;
	struct pir pir;
	uint8_t bcd[10], big[3000];
	size_t m;

	/* A header PE spanning two segments, a PE ending exactly on a segment boundary,
	 * an empty PE: the stream parser has to carry all of them over. */
	memset(big, 0x42, sizeof(big));
	plain_bcd(ICCID_A, bcd);
	m = der_begin(&upp, 0xA0);
	der_put_uint(&upp, 0x80, 2);
	der_put_tlv(&upp, 0x82, big, 1100);   /* long profileType: header spans segments */
	der_put_tlv(&upp, 0x83, bcd, 10);
	der_end(&upp, m);
	der_put_tlv(&upp, 0xA3, big, 1007 - 4 - ((upp.len) % 1007));
	der_put_tlv(&upp, 0xA4, big, 3000);
	der_put_tlv(&upp, 0xA5, big, 0);
	o.upp = &upp;
	download(t, &o, &pir);
	if (!pir.ok)
		fail_msg("cmd %d reason %d", pir.cmd, pir.reason);
	buf_release(&upp);
}

static void test_download_failures(void **state)
{
	struct tctx *t = *state;
	struct pir pir;
	size_t i, before, after;
	struct {
		struct bpp_opts o;
		int cmd, reason;
	} cases[] = {
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_86_CIPHER }, 5, 8 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_88_MAC }, 2, 8 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_87_MAC }, 1, 8 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_OTHER_OTPK }, 0, 2 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_OTHER_EID }, 1, 8 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_BAD_TXID }, 0, 3 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_BAD_CRT }, 0, 4 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_BAD_REMOTE_OP }, 0, 5 },
		{ { .iccid = ICCID_A, .pclass = 2, .tamper = T_BAD_SIGN }, 0, 2 },
		{ { .iccid = ICCID_A, .pclass = 2, .header_iccid = ICCID_C }, 5, 13 },
		{ { .iccid = ICCID_A, .pclass = 2, .no_header = 1 }, 5, 12 },
		{ { .iccid = ICCID_A, .pclass = 3 }, 2, 6 },
		{ { .iccid = ICCID_A, .pclass = 2, .with_a2 = 1, .tamper = T_86_CIPHER }, 5, 8 },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		before = list_notifications(t, "BF2800", NULL, NULL);
		download(t, &cases[i].o, &pir);
		if (pir.ok || pir.cmd != cases[i].cmd || pir.reason != cases[i].reason)
			fail_msg("case %zu: ok %d cmd %d reason %d", i, pir.ok, pir.cmd, pir.reason);
		after = list_notifications(t, "BF2800", NULL, NULL);
		assert_int_equal(after, before + 1);
		assert_int_equal(profile_state(t, ICCID_A, NULL), -1);
	}
	/* the ICCID is already there */
	install(t, ICCID_A, 0, 0, &pir);
	{
		struct bpp_opts o = { .iccid = ICCID_A, .pclass = 2 };

		download(t, &o, &pir);
		assert_false(pir.ok);
		assert_int_equal(pir.cmd, 2);
		assert_int_equal(pir.reason, 9);
	}
}

static void test_download_session_rules(void **state)
{
	struct tctx *t = *state;
	struct buf resp = BUF_INIT;
	struct dp_session s;
	struct bpp b;
	struct bpp_opts o = { .iccid = ICCID_A, .pclass = 2, .tamper = T_86_CIPHER };
	struct pir pir;
	size_t at, i;

	/* segments without a prepared session */
	assert_int_equal(es10_hex(t, "A30486020000", &resp), 0x6985);
	assert_int_equal(es10_hex(t, "BF36820100BF2300", &resp), 0x6985);
	auth_ok(t, &s);
	assert_int_equal(es10_hex(t, "BF36820100BF2300", &resp), 0x6985);

	/* after a failure, the remaining segments find no session */
	prepare_ok(t, &s);
	build_bpp(t, &o, &s, &b);
	at = send_bpp(t, &b, &resp);
	check_pir(t, &resp, &s, ICCID_A, &pir);
	assert_int_equal(pir.reason, 8);
	assert_true(at + 1 < b.nsegs);
	assert_int_equal(es10(t, b.segs[at + 1].buf, b.segs[at + 1].len, &resp), 0x6985);
	bpp_free(&b);

	/* a BF36 arriving while one is loading ends the first with an interruption */
	auth_ok(t, &s);
	prepare_ok(t, &s);
	o.tamper = T_NONE;
	build_bpp(t, &o, &s, &b);
	for (i = 0; i < 3; i++) {
		assert_int_equal(es10(t, b.segs[i].buf, b.segs[i].len, &resp), 0x9000);
		assert_int_equal(resp.len, 0);
	}
	assert_int_equal(es10(t, b.segs[0].buf, b.segs[0].len, &resp), 0x9000);
	check_pir(t, &resp, &s, NULL, &pir);
	assert_false(pir.ok);
	assert_int_equal(pir.reason, 11);
	bpp_free(&b);

	/* a package that ends early (BF36 length used up before A3) */
	auth_ok(t, &s);
	prepare_ok(t, &s);
	build_bpp(t, &o, &s, &b);
	{
		struct buf cut = BUF_INIT;
		struct der_node n;
		size_t keep = b.segs[0].len + b.segs[1].len;

		/* rewrite the BF36 length so that only BF23 and A0 fit */
		assert_int_equal(der_parse((const uint8_t *)b.whole.buf, b.whole.len, &n), 0);
		der_put_tlv(&cut, 0xBF36, n.value, keep - (n.tlv_len - n.len));
		assert_int_equal(es10(t, cut.buf, cut.len, &resp), 0x9000);
		check_pir(t, &resp, &s, NULL, &pir);
		assert_false(pir.ok);
		assert_int_equal(pir.cmd, 2);
		buf_release(&cut);
	}
	bpp_free(&b);
	buf_release(&resp);
}

static void verify_other_notification(struct tctx *t, uint64_t seq, unsigned event_byte,
				      const char *iccid)
{
	struct buf resp = BUF_INIT, req = BUF_INIT;
	struct der_node n, list, note, meta, sig, c;
	struct rsp_cert *euicc = load_cert(&t->pki->euicc);
	size_t m, a0;
	uint8_t bcd[10];

	m = der_begin(&req, 0xBF2B);
	a0 = der_begin(&req, 0xA0);
	der_put_uint(&req, 0x80, seq);
	der_end(&req, a0);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
	top(&resp, 0xBF2B, &n);
	list = child(&n, 0xA0);
	assert_int_equal(der_parse(list.value, list.len, &note), 0);
	assert_int_equal(note.tag, 0x30);
	meta = child(&note, 0xBF2F);
	sig = child(&note, 0x5F37);
	assert_int_equal(rsp_cert_verify(euicc, meta.tlv, meta.tlv_len, sig.value), 1);
	assert_int_equal(child_uint(&meta, 0x80), seq);
	c = child(&meta, 0x81);
	assert_int_equal(c.value[1], event_byte);
	c = child(&meta, 0x0C);
	assert_memory_equal(c.value, "notify.example.com", 18);
	c = child(&meta, 0x5A);
	assert_int_equal(iccid_to_bcd(iccid, bcd), 0);
	assert_memory_equal(c.value, bcd, 10);
	/* 30 { BF2F, 5F37, CERT.EUICC, CERT.EUM } */
	{
		struct der_iter it;
		struct der_node x;
		int k = 0;

		der_iter_init(&it, &note);
		while (der_iter_next(&it, &x) == 1)
			k++;
		assert_int_equal(k, 4);
	}
	rsp_cert_free(euicc);
	buf_release(&resp);
	buf_release(&req);
}

static void test_profile_management(void **state)
{
	struct tctx *t = *state;
	struct buf req = BUF_INIT, resp = BUF_INIT, e3 = BUF_INIT;
	struct der_node n, c;
	struct pir pa, pb, pc;
	uint64_t seqs[16];
	unsigned events[16];
	size_t k;

	install(t, ICCID_A, 0xF, 0, &pa);                       /* all events */
	install(t, ICCID_B, (1u << 1) | (1u << 2), 0, &pb);     /* enable, disable */
	install(t, ICCID_C, 0, (1u << 1) | (1u << 2), &pc);     /* ppr1 + ppr2, no events */
	assert_int_equal(pa.seq, 1);
	assert_int_equal(pc.seq, 3);

	assert_int_equal(enable(t, ICCID_A), 0);                /* seq 4: enable A */
	assert_int_equal(profile_state(t, ICCID_A, NULL), 1);
	assert_int_equal(enable(t, ICCID_A), 2);                /* already enabled */
	assert_int_equal(enable(t, "8949449999999990049"), 1);  /* unknown */
	/* enable B by AID: A is disabled implicitly (seq 5 disable A, seq 6 enable B) */
	req_profile_ref(&req, 0xBF31, NULL, pb.aid);
	assert_int_equal(es10_result(t, &req, 0xBF31), 0);
	assert_int_equal(profile_state(t, ICCID_A, NULL), 0);
	assert_int_equal(profile_state(t, ICCID_B, NULL), 1);
	assert_int_equal(disable(t, ICCID_A), 2);
	assert_int_equal(delete_profile(t, ICCID_B), 2);        /* enabled */
	assert_int_equal(disable(t, ICCID_B), 0);               /* seq 7 disable B */
	assert_int_equal(delete_profile(t, ICCID_A), 0);        /* seq 8 delete A */
	assert_int_equal(delete_profile(t, ICCID_A), 1);
	assert_int_equal(profile_state(t, ICCID_A, NULL), -1);

	/* PPRs: C can be enabled but neither disabled nor replaced nor deleted */
	assert_int_equal(enable(t, ICCID_C), 0);
	assert_int_equal(disable(t, ICCID_C), 3);
	assert_int_equal(enable(t, ICCID_B), 3);
	assert_int_equal(profile_state(t, ICCID_C, &e3), 1);
	top(&e3, 0xE3, &n);
	c = child(&n, 0x99);
	assert_int_equal(c.len, 2);
	assert_int_equal(c.value[1], 0x60);
	assert_int_equal(delete_profile(t, ICCID_C), 2);

	k = list_notifications(t, "BF2800", seqs, events);
	assert_int_equal(k, 8);
	{
		static const unsigned want_ev[8] = { 0x80, 0x80, 0x80, 0x40, 0x20, 0x40, 0x20, 0x10 };
		size_t i;

		for (i = 0; i < 8; i++) {
			assert_int_equal(seqs[i], i + 1);
			assert_int_equal(events[i], want_ev[i]);
		}
	}
	verify_other_notification(t, 4, 0x40, ICCID_A);
	verify_other_notification(t, 5, 0x20, ICCID_A);
	verify_other_notification(t, 6, 0x40, ICCID_B);
	verify_other_notification(t, 8, 0x10, ICCID_A);
	/* ListNotification filtered by event */
	assert_int_equal(list_notifications(t, "BF280481020640", seqs, NULL), 2);
	assert_int_equal(seqs[0], 4);
	assert_int_equal(seqs[1], 6);
	assert_int_equal(list_notifications(t, "BF280481020520", NULL, NULL), 2);
	assert_int_equal(list_notifications(t, "BF280481020410", NULL, NULL), 1);
	assert_int_equal(list_notifications(t, "BF280481020780", NULL, NULL), 3);
	assert_int_equal(list_notifications(t, "BF280481020430", NULL, NULL), 3);

	/* RetrieveNotificationsList: all, by event, unknown seq */
	assert_int_equal(es10_hex(t, "BF2B00", &resp), 0x9000);
	assert_int_equal(count_children(&resp, 0xBF2B), 8);
	assert_int_equal(es10_hex(t, "BF2B06A00481020640", &resp), 0x9000);
	assert_int_equal(count_children(&resp, 0xBF2B), 2);
	assert_int_equal(es10_hex(t, "BF2B05A003800163", &resp), 0x9000);
	assert_buf_hex(&resp, "BF2B03810101");
	/* RemoveNotificationFromList */
	assert_int_equal(es10_hex(t, "BF3003800104", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3003800100");
	assert_int_equal(es10_hex(t, "BF3003800104", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3003800101");
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 7);

	/* SetNickname */
	{
		uint8_t bcd[10];
		size_t m;

		assert_int_equal(iccid_to_bcd(ICCID_B, bcd), 0);
		buf_reset(&req);
		m = der_begin(&req, 0xBF29);
		der_put_tlv(&req, 0x5A, bcd, 10);
		der_put_tlv(&req, 0x90, "work", 4);
		der_end(&req, m);
		assert_int_equal(es10_result(t, &req, 0xBF29), 0);
		assert_int_equal(profile_state(t, ICCID_B, &e3), 0);
		top(&e3, 0xE3, &n);
		c = child(&n, 0x90);
		assert_int_equal(c.len, 4);
		assert_memory_equal(c.value, "work", 4);
		/* unknown ICCID */
		bcd[3] ^= 0x11;
		buf_reset(&req);
		m = der_begin(&req, 0xBF29);
		der_put_tlv(&req, 0x5A, bcd, 10);
		der_put_tlv(&req, 0x90, "x", 1);
		der_end(&req, m);
		assert_int_equal(es10_result(t, &req, 0xBF29), 1);
	}

	/* GetProfilesInfo with search criteria and a tag list */
	{
		uint8_t bcd[10];
		size_t m, a0;

		assert_int_equal(iccid_to_bcd(ICCID_B, bcd), 0);
		buf_reset(&req);
		m = der_begin(&req, 0xBF2D);
		a0 = der_begin(&req, 0xA0);
		der_put_tlv(&req, 0x5A, bcd, 10);
		der_end(&req, a0);
		der_put_tlv(&req, 0x5C, "\x5A\x90\x9F\x70", 4);
		der_end(&req, m);
		assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
		assert_buf_hex(&resp, "BF2D1AA018E3165A0A98001032547698103214" "9F7001009004776F726B");
	}
	assert_int_equal(es10_hex(t, "BF2D05A003950102", &resp), 0x9000);
	assert_int_equal(count_children(&resp, 0xBF2D), 2);
	assert_int_equal(es10_hex(t, "BF2D05A003950100", &resp), 0x9000);
	assert_int_equal(count_children(&resp, 0xBF2D), 0);
	assert_int_equal(es10_hex(t, "BF2D05A0034F0100", &resp), 0x9000);
	assert_int_equal(count_children(&resp, 0xBF2D), 0);
	assert_int_equal(es10_hex(t, "BF2D03A00100", &resp), 0x9000);
	assert_buf_hex(&resp, "BF2D03810101");
	buf_release(&req);
	buf_release(&resp);
	buf_release(&e3);
}

static void test_cancel_session(void **state)
{
	struct tctx *t = *state;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct dp_session s;
	struct der_node n, a0, signed_, sig, c;
	struct rsp_cert *euicc = load_cert(&t->pki->euicc);
	struct bpp b;
	struct bpp_opts o = { .iccid = ICCID_A, .pclass = 2 };
	size_t m;

	/* no session */
	assert_int_equal(es10_hex(t, "BF41158010000102030405060708090A0B0C0D0E0F810100", &resp),
			 0x9000);
	assert_buf_hex(&resp, "BF4103810105");

	auth_ok(t, &s);
	/* wrong transaction id */
	m = der_begin(&req, 0xBF41);
	der_put_tlv(&req, 0x80, "\x01\x02", 2);
	der_put_uint(&req, 0x81, 1);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
	assert_buf_hex(&resp, "BF4103810105");
	/* the right one: signed 30 { 80 txid, 81 smdpOid, 82 reason } */
	buf_reset(&req);
	m = der_begin(&req, 0xBF41);
	der_put_tlv(&req, 0x80, s.txid, s.txid_len);
	der_put_uint(&req, 0x81, 1);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
	top(&resp, 0xBF41, &n);
	a0 = child(&n, 0xA0);
	signed_ = child(&a0, 0x30);
	sig = child(&a0, 0x5F37);
	assert_int_equal(rsp_cert_verify(euicc, signed_.tlv, signed_.tlv_len, sig.value), 1);
	c = child(&signed_, 0x80);
	assert_memory_equal(c.value, s.txid, s.txid_len);
	c = child(&signed_, 0x81);
	assert_int_equal(c.len, 3);
	assert_memory_equal(c.value, smdp_oid, 3);
	assert_int_equal(child_uint(&signed_, 0x82), 1);
	/* the session is gone */
	assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
	assert_buf_hex(&resp, "BF4103810105");
	prepare(t, NULL, &s, &resp);
	assert_int_equal(auth_result(&resp, 0xBF21, &s), 4);

	/* cancel in the middle of a package */
	auth_ok(t, &s);
	prepare_ok(t, &s);
	build_bpp(t, &o, &s, &b);
	assert_int_equal(es10(t, b.segs[0].buf, b.segs[0].len, &resp), 0x9000);
	assert_int_equal(resp.len, 0);
	buf_reset(&req);
	m = der_begin(&req, 0xBF41);
	der_put_tlv(&req, 0x80, s.txid, s.txid_len);
	der_put_uint(&req, 0x81, 5);
	der_end(&req, m);
	assert_int_equal(es10(t, req.buf, req.len, &resp), 0x9000);
	top(&resp, 0xBF41, &n);
	a0 = child(&n, 0xA0);
	assert_int_equal(es10(t, b.segs[1].buf, b.segs[1].len, &resp), 0x6985);
	assert_int_equal(profile_state(t, ICCID_A, NULL), -1);
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 0);
	bpp_free(&b);
	rsp_cert_free(euicc);
	buf_release(&req);
	buf_release(&resp);
}

static void test_memory_reset(void **state)
{
	struct tctx *t = *state;
	struct buf resp = BUF_INIT;
	struct pir pir;
	struct bpp_opts test_profile = { .iccid = ICCID_C, .pclass = 0 };

	assert_int_equal(es10_hex(t, "BF3404820205E0", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3403800101");              /* nothing to delete */
	install(t, ICCID_A, 0xF, 0, &pir);
	install(t, ICCID_B, 0xF, 0, &pir);
	download(t, &test_profile, &pir);
	assert_true(pir.ok);
	assert_int_equal(enable(t, ICCID_A), 0);
	assert_int_equal(es10_hex(t, "BF3F06800464702E78", &resp), 0x9000);
	/* operational profiles only (the enabled one too); no notifications are made */
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 4);
	assert_int_equal(es10_hex(t, "BF340482020780", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3403800100");
	assert_int_equal(profile_state(t, ICCID_A, NULL), -1);
	assert_int_equal(profile_state(t, ICCID_B, NULL), -1);
	assert_int_equal(profile_state(t, ICCID_C, NULL), 0);
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 4);
	/* test profiles */
	assert_int_equal(es10_hex(t, "BF340482020640", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3403800100");
	assert_int_equal(profile_state(t, ICCID_C, NULL), -1);
	/* default SM-DP+ address */
	assert_int_equal(es10_hex(t, "BF340482020520", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3403800100");
	assert_int_equal(es10_hex(t, "BF3C00", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3C11810F6C70612E64732E67736D612E636F6D");
	assert_int_equal(es10_hex(t, "BF3404820205E0", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3403800101");
	assert_int_equal(es10_hex(t, "BF3400", &resp), 0x6A80);
	buf_release(&resp);
}

static void test_persistence(void **state)
{
	struct tctx *t = *state;
	struct buf resp = BUF_INIT, before = BUF_INIT, file = BUF_INIT;
	struct pir pir;
	struct stat sb;
	FILE *f;
	char line[512];

	install(t, ICCID_A, 0xF, 0, &pir);
	install(t, ICCID_B, 0x0, (1u << 2), &pir);
	{
		struct bpp_opts o = { .iccid = "8949449999999990049", .pclass = 1, .icon = 1 };
		struct buf e3 = BUF_INIT;
		struct der_node n, c;

		download(t, &o, &pir);
		assert_true(pir.ok);
		assert_int_equal(profile_state(t, "8949449999999990049", &e3), 0);
		top(&e3, 0xE3, &n);
		assert_int_equal(child_uint(&n, 0x93), 1);
		c = child(&n, 0x94);
		assert_int_equal(c.len, 8);
		c = child(&n, 0xB7);
		assert_int_equal(c.len, 8);
		assert_int_equal(child_uint(&n, 0x95), 1);
		buf_release(&e3);
	}
	assert_int_equal(enable(t, ICCID_A), 0);
	assert_int_equal(es10_hex(t, "BF3F06800464702E78", &resp), 0x9000);
	assert_int_equal(es10_hex(t, "BF2D00", &before), 0x9000);
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 4);

	close_euicc(t);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* the state file is JSON with the documented top-level names */
	f = fopen(t->path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		buf_addstr(&file, line);
	fclose(f);
	assert_non_null(strstr(file.buf, "\"format\""));
	assert_non_null(strstr(file.buf, "\"eid\":\t\"" EID "\""));
	assert_non_null(strstr(file.buf, "\"private_key\""));
	assert_non_null(strstr(file.buf, "\"notifications\""));
	assert_non_null(strstr(file.buf, "\"next_seq\":\t5"));

	open_euicc(t);
	assert_int_equal(es10_hex(t, "BF2D00", &resp), 0x9000);
	assert_int_equal(resp.len, before.len);
	assert_memory_equal(resp.buf, before.buf, before.len);
	assert_int_equal(list_notifications(t, "BF2800", NULL, NULL), 4);
	assert_int_equal(es10_hex(t, "BF3C00", &resp), 0x9000);
	top(&resp, 0xBF3C, &(struct der_node){ 0 });
	/* sequence numbers continue */
	install(t, ICCID_C, 0, 0, &pir);
	assert_int_equal(pir.seq, 5);
	/* session state did not survive */
	assert_int_equal(es10_hex(t, "BF41158010000102030405060708090A0B0C0D0E0F810100", &resp),
			 0x9000);
	assert_buf_hex(&resp, "BF4103810105");
	/* a corrupt file is refused with a message */
	close_euicc(t);
	f = fopen(t->path, "w");
	assert_non_null(f);
	fputs("{\"format\": \"something else\"}", f);
	fclose(f);
	{
		struct esim_err err = { 0 };
		struct apdu_transport tr;

		assert_int_equal(soft_euicc_open(t->path, &tr, &err), -1);
		assert_int_equal(err.status, ESIM_E_EUICC);
		assert_null(tr.priv);
	}
	buf_release(&resp);
	buf_release(&before);
	buf_release(&file);
}

static void test_apdu_layer(void **state)
{
	struct tctx *t = *state;
	struct buf d = BUF_INIT;
	char hex[64];
	size_t i;
	uint16_t sw;
	unsigned extra[20], nextra = 0;
	static const struct {
		const char *hex;
		uint16_t sw;
	} cases[] = {
		{ "80E291", 0x6700 },                                 /* truncated header */
		{ "", 0x6700 },
		{ "80E2910005BF2E00", 0x6700 },                       /* Lc says 5, 3 follow */
		{ "80E29100000003BF2E00", 0x6985 },                   /* extended length: taken, */
		{ "80E291000000", 0x6700 },                           /* cut short */
		{ "80E2910000000001", 0x6700 },                       /* Lc 0000 */
		{ "80E291000000050102", 0x6700 },                     /* Lc says 5, 2 follow */
		{ "80E29100000003BF2E000100", 0x6985 },               /* with Le 0100 */
		{ "80E2910003BF2E00", 0x6985 },                       /* channel 0: nothing selected */
		{ "00A4040005A000000558", 0x6A82 },                   /* unknown AID */
		{ "00A4040010A0000005591010FFFFFFFF8900000200", 0x6A82 }, /* ECASD is not here */
		{ "00A40000023F00", 0x6A86 },                         /* select by file id */
		{ "8012000000", 0x6D00 },                             /* unknown INS */
		{ "FFE2910003BF2E00", 0x6E00 },                       /* CLA FF */
		{ "20E2910003BF2E00", 0x6E00 },                       /* RFU CLA */
		{ "00E2910003BF2E00", 0x6E00 },                       /* STORE DATA needs 80 */
		{ "8070000001", 0x6E00 },                             /* MANAGE CHANNEL needs 00 */
		{ "8CE2910003BF2E00", 0x6882 },                       /* secure messaging */
		{ "90E2910003BF2E00", 0x6884 },                       /* command chaining */
		{ "C5E2910003BF2E00", 0x6881 },                       /* channel 9: not open */
		{ "00C0000000", 0x6985 },                             /* nothing to get */
		{ "0070800000", 0x6A86 },                             /* close channel 0 */
		{ "0070800700", 0x6881 },                             /* close a closed channel */
		{ "0070400000", 0x6A86 },
		{ "80AA00000AA9088100820101830107", 0x9000 },         /* TERMINAL CAPABILITY */
		{ "00AA00000AA9088100820101830107", 0x6E00 },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sw = apdu_hex(t, cases[i].hex, &d);
		if (sw != cases[i].sw)
			fail_msg("case %zu (%s): got %04X want %04X", i, cases[i].hex, sw, cases[i].sw);
	}

	/* STORE DATA on the selected channel: P1, P2 sequence, sizes */
#define SD(p1, p2, data) (snprintf(hex, sizeof(hex), "%02XE2%s%s", cla(t->ch, 1), p1 p2, data), \
			  apdu_hex(t, hex, &d))
	assert_int_equal(SD("12", "00", "03BF2E00"), 0x6A86);      /* P1 */
	assert_int_equal(SD("91", "01", "03BF2E00"), 0x6A86);      /* first block is not 00 */
	assert_int_equal(SD("11", "00", "02BF2E"), 0x9000);
	assert_int_equal(SD("91", "02", "0100"), 0x6A86);          /* block 01 missing */
	assert_int_equal(SD("91", "01", "0100"), 0x6A86);          /* chain was dropped */
	assert_int_equal(SD("11", "00", "02BF2E"), 0x9000);
	assert_int_equal(SD("11", "00", "02BF3E"), 0x9000);        /* restart at block 00 */
	assert_int_equal(SD("91", "01", "04035C015A"), 0x6115);
	assert_int_equal(SD("91", "00", "00"), 0x6700);            /* empty block */
	/* an unfetched response is dropped by the next command */
	assert_int_equal(SD("91", "00", "03BF3E00"), 0x6115);
	assert_int_equal(SD("91", "00", "03BF3E00"), 0x6115);
	snprintf(hex, sizeof(hex), "%02XC0000005", cla(t->ch, 1));
	assert_int_equal(apdu_hex(t, hex, &d), 0x6110);            /* partial GET RESPONSE */
	assert_int_equal(d.len, 5);
	snprintf(hex, sizeof(hex), "%02XC0000100", cla(t->ch, 0));
	assert_int_equal(apdu_hex(t, hex, &d), 0x6A86);
	snprintf(hex, sizeof(hex), "%02XC0000000", cla(t->ch, 0));
	assert_int_equal(apdu_hex(t, hex, &d), 0x9000);
	assert_int_equal(d.len, 16);
	/* ES10 level problems */
	assert_int_equal(SD("91", "00", "02BF2E"), 0x6A80);        /* truncated TLV */
	assert_int_equal(SD("91", "00", "05BF3E055C01"), 0x6A80);
	assert_int_equal(SD("91", "00", "03BF7F00"), 0x6A88);      /* unknown function */
	assert_int_equal(SD("91", "00", "025A00"), 0x6A88);
	assert_int_equal(SD("91", "00", "0388015A"), 0x6985);      /* a BPP segment */
	assert_int_equal(SD("91", "00", "04BF2E0000"), 0x6A80);    /* trailing byte */
#undef SD

	/*
	 * Extended length (ISO 7816-4 §5.1), as the ATR advertises: GetEID in one extended
	 * case 4 APDU answers directly with Le 01 00 (256), through 61xx without Le (case 3);
	 * a 1024-byte extended block then a short one make one chain (a padded GetEID: cut
	 * short, its TLV would be refused with 6A80).
	 */
	snprintf(hex, sizeof(hex), "%02XE2910000000" "6BF3E035C015A0100", cla(t->ch, 1));
	assert_int_equal(apdu_hex(t, hex, &d), 0x9000);
	assert_int_equal(d.len, 21);
	assert_memory_equal(d.buf, "\xBF\x3E\x12\x5A\x10", 5);
	snprintf(hex, sizeof(hex), "%02XE2910000000" "6BF3E035C015A", cla(t->ch, 1));
	assert_int_equal(apdu_hex(t, hex, &d), 0x6115);
	snprintf(hex, sizeof(hex), "%02XE2910000000" "6BF3E035C015A0005", cla(t->ch, 1));
	assert_int_equal(apdu_hex(t, hex, &d), 0x6115);            /* Ne 5: too short */
	{
		uint8_t big[7 + 1024], last[5 + 201 + 1];

		/* BF3E 82 04C4 { 5C 01 5A, 04 82 04BD <1213 zero bytes> }: 1225 bytes */
		memset(big, 0, sizeof(big));
		memset(last, 0, sizeof(last));
		memcpy(big, "\x00\xE2\x11\x00\x00\x04\x00\xBF\x3E\x82\x04\xC4\x5C\x01\x5A"
		       "\x04\x82\x04\xBD", 19);
		big[0] = cla(t->ch, 1);
		assert_int_equal(apdu(t, big, sizeof(big), &d), 0x9000);
		last[0] = cla(t->ch, 1);
		memcpy(last + 1, "\xE2\x91\x01", 3);
		last[4] = 1225 - 1024;
		/* one chain of 1225 bytes, a GetEID (extra elements are allowed): the EID */
		assert_int_equal(apdu(t, last, sizeof(last), &d), 0x9000);
		assert_int_equal(d.len, 21);
		assert_memory_equal(d.buf, "\xBF\x3E\x12\x5A\x10", 5);
	}

	/* oversized command: more than 64 KiB in one chain */
	for (i = 0; i < 600; i++) {
		uint8_t tx[5 + 120];

		tx[0] = cla(t->ch, 1);
		tx[1] = 0xE2;
		tx[2] = 0x11;
		tx[3] = (uint8_t)i;
		tx[4] = 120;
		memset(tx + 5, 0xBF, 120);
		sw = apdu(t, tx, sizeof(tx), &d);
		if (sw != 0x9000)
			break;
	}
	assert_int_equal(sw, 0x6A84);
	assert_true(i * 120 <= 65536 && (i + 1) * 120 > 65536);

	/* logical channels: open them all, use one >= 4, close them */
	for (;;) {
		sw = apdu_hex(t, "0070000001", &d);
		if (sw != 0x9000)
			break;
		assert_int_equal(d.len, 1);
		extra[nextra++] = (uint8_t)d.buf[0];
	}
	assert_int_equal(sw, 0x6A81);
	assert_int_equal(nextra, 18);       /* 19 logical channels, one used by the setup */
	{
		unsigned saved = t->ch;
		struct buf resp = BUF_INIT;

		t->ch = 9;
		snprintf(hex, sizeof(hex), "%02XA4040010A0000005591010FFFFFFFF8900000100", cla(9, 0));
		assert_int_equal(apdu_hex(t, hex, &d), 0x611A);
		assert_int_equal(fetch_rest(t, 0x611A, &d), 0x9000);
		assert_int_equal(d.len, 26);
		assert_int_equal(es10_hex(t, "BF3E035C015A", &resp), 0x9000);
		assert_buf_hex(&resp, "BF3E125A1089049032123451234512345678901235");
		t->ch = saved;
		buf_release(&resp);
	}
	for (i = 0; i < nextra; i++) {
		snprintf(hex, sizeof(hex), "007080%02X00", extra[i]);
		assert_int_equal(apdu_hex(t, hex, &d), 0x9000);
	}
	/* closed: its selection is gone */
	snprintf(hex, sizeof(hex), "%02XE2910003BF2E00", cla(9, 1));
	assert_int_equal(apdu_hex(t, hex, &d), 0x6881);
	/* SELECT with P2 0C: no FCI; partial AID */
	snprintf(hex, sizeof(hex), "%02XA4040C10A0000005591010FFFFFFFF8900000100", cla(t->ch, 0));
	assert_int_equal(apdu_hex(t, hex, &d), 0x9000);
	assert_int_equal(d.len, 0);
	snprintf(hex, sizeof(hex), "%02XA4040009A0000005591010FFFF00", cla(t->ch, 0));
	assert_int_equal(apdu_hex(t, hex, &d), 0x9000);
	assert_int_equal(d.len, 26);
	assert_int_equal((uint8_t)d.buf[0], 0x6F);
	buf_release(&d);
}

/* Random and mutated input: every APDU gets a status word, nothing crashes. */
static void test_fuzz(void **state)
{
	struct tctx *t = *state;
	struct buf d = BUF_INIT, resp = BUF_INIT;
	struct dp_session s;
	struct bpp b;
	struct bpp_opts o = { .iccid = ICCID_A, .pclass = 2, .with_a2 = 1 };
	uint8_t tx[300];
	unsigned seed = 12345;
	size_t i, j;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0xFF)
	for (i = 0; i < 20000; i++) {
		size_t len = RND() % 270;

		for (j = 0; j < len; j++)
			tx[j] = (uint8_t)RND();
		if (len > 1 && RND() % 2) {
			/* plausible headers hit the deeper paths more often */
			tx[0] = cla(t->ch, RND() % 4 != 0);
			tx[1] = (uint8_t[]){ 0xE2, 0xC0, 0xA4, 0x70, 0xAA }[RND() % 5];
			if (len > 4 && tx[1] == 0xE2) {
				tx[2] = RND() % 2 ? 0x91 : 0x11;
				tx[3] = (uint8_t)(RND() % 3);
				tx[4] = (uint8_t)(len - 5);
			}
			if (tx[1] == 0x70 && len > 3 && tx[2] == 0)
				tx[2] = 0x80;   /* do not use up the channels */
		}
		(void)apdu(t, tx, len, &d);
	}
	/* the card still works: reopen the channel state from scratch */
	close_euicc(t);
	open_euicc(t);

	/* random ES10 payloads behind correct framing */
	for (i = 0; i < 3000; i++) {
		size_t len = 1 + RND() % 200;
		static const uint8_t tags[][2] = {
			{ 0xBF, 0x38 }, { 0xBF, 0x21 }, { 0xBF, 0x2D }, { 0xBF, 0x31 }, { 0xBF, 0x33 },
			{ 0xBF, 0x2B }, { 0xBF, 0x28 }, { 0xBF, 0x41 }, { 0xBF, 0x34 }, { 0xBF, 0x29 },
		};

		for (j = 0; j < len; j++)
			tx[j] = (uint8_t)RND();
		if (len > 3) {
			size_t k = RND() % (sizeof(tags) / sizeof(tags[0]));

			tx[0] = tags[k][0];
			tx[1] = tags[k][1];
			tx[2] = (uint8_t)(RND() % 2 ? len - 3 : RND());
		}
		(void)es10(t, tx, len, &resp);
	}
	assert_int_equal(profile_state(t, ICCID_A, NULL), -1);

	/* mutated package segments */
	for (i = 0; i < 40; i++) {
		auth_ok(t, &s);
		prepare_ok(t, &s);
		build_bpp(t, &o, &s, &b);
		for (j = 0; j < b.nsegs; j++) {
			struct buf *seg = &b.segs[j];

			if (RND() % 4 == 0) {
				size_t pos = RND() % seg->len;

				seg->buf[pos] = (char)(seg->buf[pos] ^ (1 << (RND() % 8)));
			}
			if (RND() % 10 == 0)
				seg->len = RND() % seg->len + 1;
			(void)es10(t, seg->buf, seg->len, &resp);
			if (resp.len)
				break;
		}
		bpp_free(&b);
	}
#undef RND
	buf_release(&d);
	buf_release(&resp);
}

static void test_transport_uri(void **state)
{
	struct tctx *t = *state;
	struct apdu_transport tr;
	struct esim_err err = { 0 };
	char uri[200];
	struct buf resp = BUF_INIT;

	assert_int_equal(apdu_transport_open_uri("mbim:0", &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_string_equal(err.msg, "eUICC backend 'mbim' is not supported by this build; "
			    "supported: soft:PATH, at:DEVICE, at-csim:DEVICE, pcsc:[READER]");
	/* pcsc: is a backend: without pcscd it is unreachable, with advice to start it. */
	snprintf(uri, sizeof(uri), "%s/no-pcscd/pcscd.comm", t->dir);
	setenv("PCSCLITE_CSOCK_NAME", uri, 1);
	assert_int_equal(apdu_transport_open_uri("pcsc:", &tr, &err), -1);
	unsetenv("PCSCLITE_CSOCK_NAME");
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_non_null(strstr(err.msg, "cannot reach pcscd"));
	assert_non_null(strstr(err.hint, "start pcscd"));
	assert_null(tr.priv);
	/* at: is a backend now: a missing port is unreachable, not unsupported. */
	snprintf(uri, sizeof(uri), "at:%s/no-such-tty", t->dir);
	assert_int_equal(apdu_transport_open_uri(uri, &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_non_null(strstr(err.msg, "cannot open serial port"));
	assert_int_equal(apdu_transport_open_uri("at-csim:", &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(apdu_transport_open_uri("euicc.json", &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(apdu_transport_open_uri("soft:", &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_int_equal(apdu_transport_open_uri(NULL, &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	snprintf(uri, sizeof(uri), "soft:%s/missing.json", t->dir);
	assert_int_equal(apdu_transport_open_uri(uri, &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);

	/* the real thing, through the URI */
	close_euicc(t);
	snprintf(uri, sizeof(uri), "soft:%s", t->path);
	assert_int_equal(apdu_transport_open_uri(uri, &t->tr, &err), 0);
	assert_int_equal(t->tr.open(t->tr.priv, &err), 0);
	t->opened = 1;
	t->ch = 0;
	assert_int_equal(apdu_hex(t, "00A4040010A0000005591010FFFFFFFF8900000100", &resp), 0x611A);
	assert_int_equal(es10_hex(t, "BF3E035C015A", &resp), 0x9000);
	assert_buf_hex(&resp, "BF3E125A1089049032123451234512345678901235");
	buf_release(&resp);
}

static void test_lock(void **state)
{
	struct tctx *t = *state;
	struct apdu_transport tr;
	struct esim_err err = { 0 };

	/* open_euicc() in the setup holds the lock */
	assert_int_equal(soft_euicc_open(t->path, &tr, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOREADER);
	assert_non_null(strstr(err.msg, "in use"));
	close_euicc(t);
	assert_int_equal(soft_euicc_open(t->path, &tr, &err), 0);
	tr.close(tr.priv);
}

/* Every ISD-P slot in use: the next package fails in storeMetadata. */
static void test_full(void **state)
{
	struct tctx *t = *state;
	struct pir pir;
	char first[21] = "", iccid[21];
	int i;

	for (i = 0; i < 32; i++) {
		snprintf(iccid, sizeof(iccid), "894944999999999%03d", i);
		iccid[18] = (char)('0' + luhn_digit(iccid));
		iccid[19] = '\0';
		if (i == 0)
			memcpy(first, iccid, sizeof(first));
		install(t, iccid, 0, 0, &pir);
		assert_int_equal(pir.aid[14], 0x10 + i);
	}
	{
		struct bpp_opts o = { .iccid = ICCID_B, .pclass = 2 };

		download(t, &o, &pir);
		assert_false(pir.ok);
		assert_int_equal(pir.cmd, 2);
		assert_int_equal(pir.reason, 10);
	}
	/* freeing a slot makes room, and the freed AID is reused */
	assert_int_equal(delete_profile(t, first), 0);
	install(t, ICCID_B, 0, 0, &pir);
	assert_int_equal(pir.aid[14], 0x10);
}

/* The state file is checked on open: each damaged variant is refused, none crashes. */
static void test_corrupt_state(void **state)
{
	struct tctx *t = *state;
	struct buf text = BUF_INIT;
	struct pir pir;
	FILE *f;
	char chunk[4096];
	size_t n, i;
	static const char *const mutations[][2] = {
		{ "version", "2" },
		{ "format", "\"other\"" },
		{ "eid", "\"89049032123451234512345678901234\"" },
		{ "eid", "7" },
		{ "euicc_certificate", "\"AAAA\"" },
		{ "eum_certificate", "\"!!\"" },
		{ "ci_certificates", "[]" },
		{ "ci_certificates", "[1]" },
		{ "private_key", "\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"" },
		{ "svn", "\"2.2\"" },
		{ "next_seq", "-1" },
		{ "next_seq", "1" },            /* below the stored notifications */
		{ "profiles", "{}" },
		{ "profiles", "[{\"iccid\":\"12\"}]" },
		{ "profiles", "[{\"iccid\":\"8949449999999990023\",\"isdp_aid\":\"A0\",\"state\":\"enabled\"}]" },
		{ "notifications", "[{\"seq\":1}]" },
		{ "notifications", "7" },
	};

	install(t, ICCID_A, 0xF, 0, &pir);
	assert_int_equal(enable(t, ICCID_A), 0);
	close_euicc(t);
	f = fopen(t->path, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&text, chunk, n);
	fclose(f);
	for (i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		cJSON *root = cJSON_Parse(text.buf);
		char *out;
		struct esim_err err = { 0 };
		struct apdu_transport tr;

		assert_non_null(root);
		cJSON_ReplaceItemInObjectCaseSensitive(root, mutations[i][0],
						       cJSON_Parse(mutations[i][1]));
		out = cJSON_Print(root);
		f = fopen(t->path, "wb");
		assert_non_null(f);
		fputs(out, f);
		fclose(f);
		if (soft_euicc_open(t->path, &tr, &err) == 0) {
			tr.close(tr.priv);
			fail_msg("mutation %zu (%s) accepted", i, mutations[i][0]);
		}
		assert_int_equal(err.status, ESIM_E_EUICC);
		cJSON_free(out);
		cJSON_Delete(root);
	}
	/* truncated JSON */
	f = fopen(t->path, "wb");
	assert_non_null(f);
	fwrite(text.buf, 1, text.len / 2, f);
	fclose(f);
	{
		struct esim_err err = { 0 };
		struct apdu_transport tr;

		assert_int_equal(soft_euicc_open(t->path, &tr, &err), -1);
		assert_int_equal(err.status, ESIM_E_EUICC);
	}
	buf_release(&text);
}

/* ---------------------------------------------------------------------------------- */
/* SGP.26 test identity */

static int read_file(const char *dir, const char *name, struct buf *out)
{
	char path[512];
	FILE *f;
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

static void sgp26_variant(const char *dir, const char *v, const char *workdir)
{
	struct buf ci = BUF_INIT, eum = BUF_INIT, cert = BUF_INIT, key = BUF_INIT, upp = BUF_INIT;
	struct buf authc = BUF_INIT, authk = BUF_INIT, pbc = BUF_INIT, pbk = BUF_INIT;
	struct buf resp = BUF_INIT, e3 = BUF_INIT;
	struct esim_err err = { 0 };
	struct pki p;
	struct tctx t;
	char name[128];
	const uint8_t *cis[1];
	size_t cilens[1];
	struct rsp_cert *c = NULL;
	struct dp_session s;
	struct pir pir;
	struct der_node n, x;
	int k;

#define RD(b, fmt) do { snprintf(name, sizeof(name), fmt, v); \
		assert_int_equal(read_file(dir, name, b), 0); } while (0)
	RD(&ci, "CertificateIssuer/CERT_CI_ECDSA_%s.der");
	RD(&eum, "EUM/CERT_EUM_ECDSA_%s.der");
	RD(&cert, "eUICC/CERT_EUICC_ECDSA_%s.der");
	RD(&key, "eUICC/SK_EUICC_ECDSA_%s.pem");
	RD(&authc, "DPauth/CERT_S_SM_DPauth_ECDSA_%s.der");
	RD(&authk, "DPauth/SK_S_SM_DPauth_ECDSA_%s.pem");
	RD(&pbc, "DPpb/CERT_S_SM_DPpb_ECDSA_%s.der");
	RD(&pbk, "DPpb/SK_S_SM_DPpb_ECDSA_%s.pem");
	assert_int_equal(read_file(dir, "upp/TS48V1-A-UNIQUE.der", &upp), 0);
#undef RD
	memset(&p, 0, sizeof(p));
	memcpy(p.eid, "89049032123451234512345678901235", 33);
	buf_add(&p.ci, ci.buf, ci.len);
	buf_add(&p.eum, eum.buf, eum.len);
	buf_add(&p.euicc, cert.buf, cert.len);
	buf_add(&p.euicc_key, key.buf, key.len);
	buf_add(&p.dpauth, authc.buf, authc.len);
	buf_add(&p.dppb, pbc.buf, pbc.len);
	assert_int_equal(rsp_key_load((const uint8_t *)authk.buf, authk.len, &p.dpauth_key, &err), 0);
	assert_int_equal(rsp_key_load((const uint8_t *)pbk.buf, pbk.len, &p.dppb_key, &err), 0);
	assert_int_equal(rsp_cert_load((const uint8_t *)ci.buf, ci.len, &c, &err), 0);
	assert_int_equal(rsp_cert_ski(c, p.ci_ski, sizeof(p.ci_ski)), 20);
	p.ci_ski_len = 20;
	rsp_cert_free(c);

	memset(&t, 0, sizeof(t));
	t.pki = &p;
	t.with_le = 0;
	t.mss = 120;
	snprintf(t.dir, sizeof(t.dir), "%s", workdir);
	snprintf(t.path, sizeof(t.path), "%s/sgp26-%s.json", workdir, v);
	cis[0] = (const uint8_t *)ci.buf;
	cilens[0] = ci.len;
	if (soft_euicc_create(t.path, p.eid, (const uint8_t *)cert.buf, cert.len,
			      (const uint8_t *)key.buf, key.len, (const uint8_t *)eum.buf, eum.len,
			      cis, cilens, 1, &err) != 0)
		fail_msg("%s: %s", v, err.msg);
	open_euicc(&t);
	assert_int_equal(es10_hex(&t, "BF2000", &resp), 0x9000);
	top(&resp, 0xBF20, &n);
	x = child(&n, 0xAA);
	x = child(&x, 0x04);
	assert_memory_equal(x.value, p.ci_ski, 20);
	auth_ok(&t, &s);
	prepare_ok(&t, &s);
	/* and a real TS.48 profile package through the whole BPP path */
	{
		struct bpp_opts o = { .iccid = "8949449999999990023", .pclass = 0, .upp = &upp,
				      .with_a2 = 1 };
		struct bpp b;
		size_t at;

		build_bpp(&t, &o, &s, &b);
		at = send_bpp(&t, &b, &resp);
		assert_int_equal(at, b.nsegs - 1);
		check_pir(&t, &resp, &s, "8949449999999990023", &pir);
		assert_true(pir.ok);
		bpp_free(&b);
	}
	assert_int_equal(profile_state(&t, "8949449999999990023", &e3), 0);
	close_euicc(&t);

	/* negative SGP.26 material, when present (NIST only) */
	if (strcmp(v, "NIST") == 0) {
		static const char *const bad[] = {
			"negative/CERT_EUICC_ECDSA_NIST_INVALID.der",
			"negative/CERT_EUICC_ECDSA_NIST_INVALID_EID.der",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct buf nb = BUF_INIT;

			if (read_file(dir, bad[i], &nb) < 0) {
				buf_release(&nb);
				continue;
			}
			snprintf(t.path, sizeof(t.path), "%s/neg%zu.json", workdir, i);
			k = soft_euicc_create(t.path, p.eid, (const uint8_t *)nb.buf, nb.len,
					      (const uint8_t *)key.buf, key.len,
					      (const uint8_t *)eum.buf, eum.len, cis, cilens, 1, &err);
			assert_int_equal(k, -1);
			assert_int_equal(err.status, ESIM_E_USAGE);
			buf_release(&nb);
		}
	}
	pki_free(&p);
	buf_release(&ci);
	buf_release(&eum);
	buf_release(&cert);
	buf_release(&key);
	buf_release(&upp);
	buf_release(&authc);
	buf_release(&authk);
	buf_release(&pbc);
	buf_release(&pbk);
	buf_release(&resp);
	buf_release(&e3);
}

static void test_sgp26(void **state)
{
	const char *src = getenv("ESIMCTL_SRC"), *env = getenv("ESIMCTL_SGP26");
	char dir[512] = "", tmp[64], cmd[128];
	struct stat sb;

	(void)state;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
	} else if (src) {
		snprintf(dir, sizeof(dir), "%s/../shared/sgp26", src);
	} else {
		print_message("ESIMCTL_SRC and ESIMCTL_SGP26 not set: SGP.26 test skipped\n");
		skip();
	}
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		print_message("%s not found: SGP.26 test skipped\n", dir);
		skip();
	}
	snprintf(tmp, sizeof(tmp), "%s/test_soft_euicc.XXXXXX", tmpdir());
	assert_non_null(mkdtemp(tmp));
	sgp26_variant(dir, "NIST", tmp);
	sgp26_variant(dir, "BRP", tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_create_checks),
		T(test_two_cis),
		T(test_authenticate_errors),
		T(test_prepare_download),
		T(test_download),
		T(test_real_upp_sizes),
		T(test_download_failures),
		T(test_download_session_rules),
		T(test_profile_management),
		T(test_cancel_session),
		T(test_memory_reset),
		T(test_persistence),
		T(test_apdu_layer),
		T(test_fuzz),
		T(test_transport_uri),
		T(test_full),
		T(test_corrupt_state),
	};
	const struct CMUnitTest once[] = {
		T(test_lock),
		cmocka_unit_test(test_sgp26),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("soft_euicc_p256", tests, group_setup_nist,
					      group_teardown);
	failed += cmocka_run_group_tests_name("soft_euicc_brainpool", tests, group_setup_brp,
					      group_teardown);
	failed += cmocka_run_group_tests_name("soft_euicc_once", once, group_setup_nist,
					      group_teardown);
	return failed ? 1 : 0;
}
