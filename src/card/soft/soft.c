/*
 * soft.c - the software eUICC (see soft.h and docs/soft-euicc.md).
 *
 * Three layers, bottom up:
 *   - the state file (identity, profiles, notifications) in JSON, persisted after every
 *     change with atomic_write_file();
 *   - the ISD-R: ES10a/b/c functions (SGP.22 §5.7), mutual
 *     authentication (§5.7.13, §5.7.5), the BPP loader (§5.7.6, §2.5), notifications
 *     (§5.7.9-§5.7.11) and profile state rules (§5.7.16-§5.7.18);
 *   - the card edge: ISO 7816-4 logical channels, SELECT, GlobalPlatform STORE DATA
 *     chaining and 61xx / GET RESPONSE (ISO/IEC 7816-4, ETSI TS 102 221).
 *
 * Everything that arrives over transmit() is hostile: TLVs are read with der.h or the
 * incremental header reader below, and every length is checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "crypto/rspcrypto.h"
#include "esimctl/apdu.h"
#include "esimctl/buf.h"
#include "esimctl/der.h"
#include "esimctl/error.h"
#include "esimctl/ids.h"
#include "esimctl/store.h"
#include "card/soft/soft.h"
#include "store/safepath.h"

#define SOFT_FORMAT "esimctl-soft-euicc"
#define SOFT_VERSION 1

#define MAX_CHANNELS 20            /* basic channel 0 + logical channels 1..19 */
#define MAX_REQUEST 65536          /* one reassembled ES10 command */
#define MAX_PROFILES 32            /* ISD-P slots */
#define MAX_NOTIFICATIONS 256      /* pending notifications kept; the oldest go first */
#define MAX_SEGMENT 2048           /* one 86/87/88 TLV (SGP.22 allows 1020) */
#define MAX_BF23 1024
#define MAX_HEADER_PE 16384        /* the ProfileHeader PE is buffered whole */
#define MAX_SEQ_PLAIN 16384        /* plaintext of the A0 / A1 / A2 sequences */
#define LOCK_WAIT_MS 5000

#define DEFAULT_ROOT_DS "lpa.ds.gsma.com"
#define SAS_ACCREDITATION "TEST-SOFT-EUICC"

/* Status words. */
#define SW_OK 0x9000
#define SW_WRONG_LENGTH 0x6700
#define SW_CHANNEL_NOT_SUPPORTED 0x6881
#define SW_SM_NOT_SUPPORTED 0x6882
#define SW_CHAINING_NOT_SUPPORTED 0x6884
#define SW_COND_NOT_SATISFIED 0x6985
#define SW_WRONG_DATA 0x6A80
#define SW_FUNC_NOT_SUPPORTED 0x6A81
#define SW_FILE_NOT_FOUND 0x6A82
#define SW_NOT_ENOUGH_MEMORY 0x6A84
#define SW_WRONG_P1P2 0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_INS_NOT_SUPPORTED 0x6D00
#define SW_CLA_NOT_SUPPORTED 0x6E00
#define SW_MEMORY_FAILURE 0x6581
#define SW_UNKNOWN 0x6F00

static const uint8_t isdr_aid[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
};
/* ISD-P AIDs: A0000005591010FFFFFFFF89000010 00, ...11 00, ... (byte 14 varies). */
static const uint8_t isdp_aid_base[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00,
};
#define ISDP_FIRST 0x10

/* Certificate policies (SGP.22 certificate profiles, id-rspRole). */
#define OID_POLICY_DPAUTH "2.23.146.1.2.1.4"
#define OID_POLICY_DPPB "2.23.146.1.2.1.5"

/* NotificationEvent bits (BIT STRING numbering). */
enum notif_event { EV_INSTALL = 0, EV_ENABLE = 1, EV_DISABLE = 2, EV_DELETE = 3, EV_COUNT };
static const char *const event_names[EV_COUNT] = { "install", "enable", "disable", "delete" };

/* PPR bits (profilePolicyRules). */
#define PPR_UPDATE_CONTROL 0
#define PPR1 1 /* disabling not allowed */
#define PPR2 2 /* deletion not allowed */
#define PPR3 3 /* delete on disable (older modules) */
static const char *const ppr_names[4] = { "update_control", "ppr1", "ppr2", "ppr3" };

enum profile_class { CLASS_TEST = 0, CLASS_PROVISIONING = 1, CLASS_OPERATIONAL = 2 };
static const char *const class_names[3] = { "test", "provisioning", "operational" };

/* AuthenticateServer / PrepareDownload error codes (SGP.22 §5.7.13, §5.7.5). */
enum auth_error {
	AUTH_INVALID_CERTIFICATE = 1,
	AUTH_INVALID_SIGNATURE = 2,
	AUTH_UNSUPPORTED_CURVE = 3,
	AUTH_NO_SESSION = 4,
	AUTH_INVALID_OID_OR_TXID = 5, /* invalidOid (BF38) / invalidTransactionId (BF21) */
	AUTH_CHALLENGE_MISMATCH = 6,
	AUTH_CI_PK_UNKNOWN = 7,
	AUTH_UNDEFINED = 127,
};

/* ProfileInstallationResult bppCommandId and errorReason (SGP.22 §2.5.6). */
enum bpp_cmd {
	BPP_INIT_SECURE_CHANNEL = 0,
	BPP_CONFIGURE_ISDP = 1,
	BPP_STORE_METADATA = 2,
	BPP_REPLACE_SESSION_KEYS = 4,
	BPP_LOAD_PE = 5,
};
enum bpp_reason {
	PIR_INCORRECT_INPUT = 1,
	PIR_INVALID_SIGNATURE = 2,
	PIR_INVALID_TXID = 3,
	PIR_UNSUPPORTED_CRT = 4,
	PIR_UNSUPPORTED_REMOTE_OP = 5,
	PIR_UNSUPPORTED_CLASS = 6,
	PIR_SCP03T_STRUCTURE = 7,
	PIR_SCP03T_SECURITY = 8,
	PIR_ICCID_EXISTS = 9,
	PIR_NO_MEMORY = 10,
	PIR_INTERRUPTION = 11,
	PIR_PE_PROCESSING = 12,
	PIR_DATA_MISMATCH = 13,
	PIR_UNKNOWN = 127,
};

struct notif_config {
	unsigned events;        /* profileManagementOperation bits */
	char *address;          /* notificationAddress */
};

struct soft_profile {
	char iccid[21];
	uint8_t iccid_bcd[10];
	uint8_t aid[16];
	int enabled;
	char *nickname;         /* NULL when none */
	char *spn;              /* serviceProviderName */
	char *name;             /* profileName */
	int pclass;             /* enum profile_class */
	int icon_type;          /* -1 none, 0 jpg, 1 png */
	struct buf icon;
	struct notif_config *ncfg;
	size_t nncfg;
	unsigned ppr;           /* profilePolicyRules bits */
	struct buf owner;       /* profileOwner (B7) value, empty when absent */
};

struct soft_notif {
	uint64_t seq;
	int event;
	char *address;
	char iccid[21];         /* "" when the notification has none */
	struct buf der;         /* the exact signed PendingNotification TLV */
};

/* Persistent state: what the state file holds. */
struct soft_state {
	char eid[33];
	uint8_t eid_bcd[16];
	struct rsp_cert *cert;  /* CERT.EUICC */
	struct rsp_cert *eum;   /* CERT.EUM */
	struct rsp_cert **cis;
	size_t ncis;
	struct buf *ci_ski;     /* per CI: Subject Key Identifier (CI PKId) */
	size_t sign_ci;         /* the CI that issued the EUM: euiccCiPKIdListForSigning */
	struct rsp_key *key;    /* SK.EUICC */
	uint8_t svn[3];
	struct soft_profile *profiles;
	size_t nprofiles;
	struct soft_notif *notifs;
	size_t nnotifs;
	uint64_t next_seq;
	char *default_dp;       /* NULL when unset */
	char *root_ds;
};

/* Bound Profile Package loader (SGP.22 §5.7.6, §2.5.4). */
enum load_stage {
	L_BF36, L_BF23, L_A0_HDR, L_A0, L_A1_HDR, L_A1, L_A2A3_HDR, L_A2, L_A3_HDR, L_A3, L_DONE,
};

struct load {
	int stage;
	struct buf pend;        /* received bytes not yet consumed */
	size_t bf36_left;       /* BF36 value bytes not yet consumed */
	size_t seq_left;        /* bytes left in the current A0/A1/A2/A3 */
	struct bsp bsp;
	struct buf plain;       /* plaintext of the current A0/A1/A2 */
	struct soft_profile meta;
	int have_meta;
	struct buf pe;          /* PE stream bytes not yet consumed */
	size_t pe_skip;         /* value bytes of the current PE still to skip */
	int pe_header_seen;
};

enum sess_stage { SESS_NONE, SESS_CHALLENGE, SESS_AUTH, SESS_PREPARED, SESS_LOADING };

/* One RSP session, memory only (SGP.22 §5.7.13, §5.7.5). */
struct session {
	int stage;
	uint8_t challenge[16];
	uint8_t txid[16];
	size_t txid_len;
	char server_address[256];
	size_t ci;              /* CI that verified CERT.DPauth */
	struct buf auth_oid;    /* SM-DP+ OID (DER content) from CERT.DPauth */
	struct buf pb_oid;      /* ... and from CERT.DPpb */
	uint8_t euicc_sig1[RSP_SIG_LEN];
	struct rsp_cert *dppb;
	struct rsp_key *otsk;   /* otSK.EUICC.ECKA */
	uint8_t otpk[RSP_PUB_LEN];
	struct load load;
};

struct channel {
	int open;
	int selected;           /* ISD-R selected */
	struct buf in;          /* STORE DATA reassembly */
	int in_active;
	unsigned next_p2;
	struct buf out;         /* response waiting for GET RESPONSE */
	size_t out_off;
};

struct soft {
	char *path;
	int lock_fd;
	struct soft_state st;
	struct session sess;
	struct channel ch[MAX_CHANNELS];
};

/* ------------------------------------------------------------------------------------ */
/* small helpers */

/*
 * Incremental TLV header reader: the same rules as der.h (tags of 1..3 bytes, definite
 * lengths of 1..4 bytes) but telling "need more bytes" (0) apart from "malformed" (-1).
 */
static int tlv_header(const uint8_t *p, size_t n, uint32_t *tag, size_t *len, size_t *hdrlen)
{
	size_t i, tl, ln, v = 0;
	uint32_t t;

	if (n < 1)
		return 0;
	t = p[0];
	tl = 1;
	if ((p[0] & 0x1F) == 0x1F) {
		for (i = 1;; i++) {
			if (i >= 3)
				return -1;
			if (i >= n)
				return 0;
			if (i == 1 && p[1] == 0x80)
				return -1;
			t = (t << 8) | p[i];
			if (!(p[i] & 0x80))
				break;
		}
		if (i == 1 && p[1] < 0x1F)
			return -1;
		tl = i + 1;
	}
	if (tl >= n)
		return 0;
	if (p[tl] < 0x80) {
		v = p[tl];
		ln = 1;
	} else {
		ln = p[tl] & 0x7F;
		if (ln == 0 || ln > 4)
			return -1;
		if (tl + ln >= n)
			return 0;
		for (i = 1; i <= ln; i++)
			v = (v << 8) | p[tl + i];
		ln++;
	}
	*tag = t;
	*len = v;
	*hdrlen = tl + ln;
	return 1;
}

/* Drop the first n bytes of b. */
static void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		if (b->alloc)
			secure_wipe(b->buf, b->len);
		buf_reset(b);
		return;
	}
	memmove(b->buf, b->buf + n, b->len - n);
	b->len -= n;
	secure_wipe(b->buf + b->len, n);
	b->buf[b->len] = '\0';
}

/* NotificationEvent / PPR style BIT STRING <-> bit mask (bit 0 = first named bit). */
static void put_bits(struct buf *b, uint32_t tag, unsigned mask)
{
	uint8_t v[5] = { 0 };
	int top = -1, i;
	size_t nbytes;

	for (i = 0; i < 32; i++)
		if (mask & (1u << i))
			top = i;
	if (top < 0) {
		der_put_tlv(b, tag, v, 1);
		return;
	}
	nbytes = (size_t)top / 8 + 1;
	v[0] = (uint8_t)(nbytes * 8 - (size_t)top - 1);
	for (i = 0; i <= top; i++)
		if (mask & (1u << i))
			v[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	der_put_tlv(b, tag, v, nbytes + 1);
}

/* Bits beyond 31 are ignored.  -1 on a malformed BIT STRING. */
static int get_bits(const struct der_node *n, unsigned *mask)
{
	size_t i;
	unsigned m = 0;

	if (n->len < 1 || n->value[0] > 7 || (n->len == 1 && n->value[0] != 0))
		return -1;
	for (i = 0; i + 1 < n->len && i < 4; i++) {
		unsigned byte = n->value[1 + i];
		int bit;

		if (i + 2 == n->len)
			byte &= 0xFFu << n->value[0];
		for (bit = 0; bit < 8; bit++)
			if (byte & (0x80u >> bit))
				m |= 1u << (i * 8 + (size_t)bit);
	}
	*mask = m;
	return 0;
}

/* Dotted OID text -> DER content octets (no tag/length). */
static int oid_encode(const char *dotted, struct buf *out)
{
	uint64_t arcs[32];
	size_t n = 0, i;
	const char *p = dotted;

	while (*p) {
		uint64_t v = 0;

		if (n == 32 || *p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (v > (UINT64_C(1) << 56))
				return -1;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		arcs[n++] = v;
		if (*p == '.') {
			p++;
			if (!*p)
				return -1;
		} else if (*p) {
			return -1;
		}
	}
	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
		return -1;
	arcs[1] += arcs[0] * 40;
	for (i = 1; i < n; i++) {
		uint8_t tmp[10];
		size_t k = 0;
		uint64_t v = arcs[i];

		do {
			tmp[k++] = (uint8_t)(v & 0x7F);
			v >>= 7;
		} while (v);
		while (k--)
			buf_addch(out, tmp[k] | (k ? 0x80 : 0));
	}
	return 0;
}

/* ProfileHeader iccid [3]: plain BCD (no nibble swap), F padding at the end. */
static int plain_bcd_iccid(const uint8_t *in, size_t len, char out[21])
{
	size_t i, n = 0;
	int padding = 0;

	if (len != 10)
		return -1;
	for (i = 0; i < 20; i++) {
		unsigned nib = i % 2 ? in[i / 2] & 0xF : in[i / 2] >> 4;

		if (nib == 0xF) {
			padding = 1;
			continue;
		}
		if (nib > 9 || padding)
			return -1;
		out[n++] = (char)('0' + nib);
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

static char *node_strdup(const struct der_node *n)
{
	return xstrndup((const char *)n->value, n->len);
}

/* 1 when the node holds printable UTF-8-ish text without NUL bytes. */
static int node_is_text(const struct der_node *n)
{
	return memchr(n->value, 0, n->len) == NULL;
}

static int event_from_name(const char *s)
{
	int i;

	for (i = 0; i < EV_COUNT; i++)
		if (strcmp(s, event_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* state: lifetime */

static void profile_clear(struct soft_profile *p)
{
	size_t i;

	free(p->nickname);
	free(p->spn);
	free(p->name);
	buf_release(&p->icon);
	for (i = 0; i < p->nncfg; i++)
		free(p->ncfg[i].address);
	free(p->ncfg);
	buf_release(&p->owner);
	memset(p, 0, sizeof(*p));
	p->icon_type = -1;
	buf_init(&p->icon, 0);
	buf_init(&p->owner, 0);
}

static void profile_init(struct soft_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->icon_type = -1;
	p->pclass = CLASS_OPERATIONAL;
	buf_init(&p->icon, 0);
	buf_init(&p->owner, 0);
}

static void notif_clear(struct soft_notif *n)
{
	free(n->address);
	buf_release(&n->der);
	memset(n, 0, sizeof(*n));
}

static void state_clear(struct soft_state *st)
{
	size_t i;

	rsp_cert_free(st->cert);
	rsp_cert_free(st->eum);
	for (i = 0; i < st->ncis; i++) {
		rsp_cert_free(st->cis[i]);
		if (st->ci_ski)
			buf_release(&st->ci_ski[i]);
	}
	free(st->cis);
	free(st->ci_ski);
	rsp_key_free(st->key);
	for (i = 0; i < st->nprofiles; i++)
		profile_clear(&st->profiles[i]);
	free(st->profiles);
	for (i = 0; i < st->nnotifs; i++)
		notif_clear(&st->notifs[i]);
	free(st->notifs);
	free(st->default_dp);
	free(st->root_ds);
	memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------------------------ */
/* state: identity checks (shared by create and open) */

static int load_cert_arg(const char *what, const uint8_t *data, size_t len, struct rsp_cert **out,
			 struct esim_err *err)
{
	struct esim_err e2 = { 0 };

	if (!data || !len)
		return esim_fail(err, ESIM_E_USAGE, "%s: no certificate given", what);
	if (rsp_cert_load(data, len, out, &e2) < 0)
		return esim_fail(err, ESIM_E_USAGE, "%s: %s", what, e2.msg[0] ? e2.msg :
				 "not a PEM or DER X.509 certificate");
	return 0;
}

/*
 * Check that the identity in st (eid, cert, eum, cis, key) is consistent and fill
 * eid_bcd, ci_ski and sign_ci.  Failures use status.
 */
static int identity_check(struct soft_state *st, enum esim_status status, struct esim_err *err)
{
	char serial[128];
	uint8_t probe[32], sig[RSP_SIG_LEN];
	size_t i;
	int found = 0;
	enum rsp_curve curve;

	if (eid_validate(st->eid, err) < 0)
		return -1;
	if (eid_to_bcd(st->eid, st->eid_bcd) < 0)
		return esim_fail(err, status, "EID '%s' cannot be BCD coded", st->eid);
	curve = rsp_cert_curve(st->cert);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
		return esim_fail(err, status, "eUICC certificate: unsupported curve (P-256 or "
				 "brainpoolP256r1 required)");
	if (rsp_key_curve(st->key) != curve)
		return esim_fail(err, status, "eUICC private key is not on the certificate's curve");
	/* The key belongs to the certificate when a fresh signature verifies. */
	rsp_sha256(st->eid, strlen(st->eid), probe);
	if (rsp_sign(st->key, probe, sizeof(probe), sig, err) < 0)
		return -1;
	if (rsp_cert_verify(st->cert, probe, sizeof(probe), sig) != 1)
		return esim_fail(err, status, "eUICC private key does not match the eUICC "
				 "certificate");
	if (rsp_cert_subject_serial(st->cert, serial, sizeof(serial)) < 0)
		return esim_fail(err, status, "eUICC certificate has no subject serialNumber (EID)");
	if (strcmp(serial, st->eid) != 0)
		return esim_fail(err, status, "eUICC certificate subject serialNumber '%.40s' is "
				 "not the EID '%s'", serial, st->eid);
	if (rsp_cert_signed_by(st->cert, st->eum) != 1)
		return esim_fail(err, status, "eUICC certificate is not signed by the EUM "
				 "certificate");
	curve = rsp_cert_curve(st->eum);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
		return esim_fail(err, status, "EUM certificate: unsupported curve");
	if (rsp_cert_eum_permits(st->eum, st->eid) != 1)
		return esim_fail(err, status, "EUM certificate does not permit EID '%s'", st->eid);
	if (st->ncis == 0)
		return esim_fail(err, status, "no CI certificate given");
	st->ci_ski = xcalloc(st->ncis, sizeof(*st->ci_ski));
	for (i = 0; i < st->ncis; i++) {
		uint8_t ski[64];
		int n = rsp_cert_ski(st->cis[i], ski, sizeof(ski));

		buf_init(&st->ci_ski[i], 0);
		curve = rsp_cert_curve(st->cis[i]);
		if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
			return esim_fail(err, status, "CI certificate %zu: unsupported curve", i + 1);
		if (n <= 0)
			return esim_fail(err, status, "CI certificate %zu has no Subject Key "
					 "Identifier", i + 1);
		buf_add(&st->ci_ski[i], ski, (size_t)n);
		if (!found && rsp_cert_signed_by(st->eum, st->cis[i]) == 1) {
			st->sign_ci = i;
			found = 1;
		}
	}
	if (!found)
		return esim_fail(err, status, "EUM certificate is not signed by any of the CI "
				 "certificates");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* state: JSON */

static void json_add_b64(cJSON *o, const char *name, const uint8_t *p, size_t len)
{
	struct buf b = BUF_INIT;

	base64_encode(p, len, &b);
	cJSON_AddStringToObject(o, name, b.buf);
	buf_release(&b);
}

static void json_add_hex(cJSON *o, const char *name, const uint8_t *p, size_t len)
{
	struct buf b = BUF_INIT;

	hex_encode(p, len, &b);
	cJSON_AddStringToObject(o, name, b.buf);
	buf_release(&b);
}

static cJSON *json_names(unsigned mask, const char *const *names, int count)
{
	cJSON *a = cJSON_CreateArray();
	int i;

	for (i = 0; i < count; i++)
		if (mask & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
	return a;
}

static cJSON *profile_to_json(const struct soft_profile *p)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;

	cJSON_AddStringToObject(o, "iccid", p->iccid);
	json_add_hex(o, "isdp_aid", p->aid, sizeof(p->aid));
	cJSON_AddStringToObject(o, "state", p->enabled ? "enabled" : "disabled");
	if (p->nickname)
		cJSON_AddStringToObject(o, "nickname", p->nickname);
	cJSON_AddStringToObject(o, "service_provider_name", p->spn ? p->spn : "");
	cJSON_AddStringToObject(o, "profile_name", p->name ? p->name : "");
	cJSON_AddStringToObject(o, "class", class_names[p->pclass]);
	if (p->icon_type >= 0) {
		cJSON_AddStringToObject(o, "icon_type", p->icon_type ? "png" : "jpg");
		json_add_b64(o, "icon", (const uint8_t *)p->icon.buf, p->icon.len);
	}
	a = cJSON_AddArrayToObject(o, "notification_config");
	for (i = 0; i < p->nncfg; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToObject(e, "events", json_names(p->ncfg[i].events, event_names,
							      EV_COUNT));
		cJSON_AddStringToObject(e, "address", p->ncfg[i].address);
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddItemToObject(o, "ppr", json_names(p->ppr, ppr_names, 4));
	if (p->owner.len)
		json_add_hex(o, "profile_owner", (const uint8_t *)p->owner.buf, p->owner.len);
	return o;
}

/* Serialise st; returns a heap string (the private key is inside: wipe it). */
static char *state_to_json(const struct soft_state *st, struct esim_err *err)
{
	cJSON *root = cJSON_CreateObject(), *a;
	const uint8_t *der;
	size_t len, i;
	struct buf pem = BUF_INIT;
	char svn[16], *text = NULL;

	cJSON_AddStringToObject(root, "format", SOFT_FORMAT);
	cJSON_AddNumberToObject(root, "version", SOFT_VERSION);
	cJSON_AddStringToObject(root, "eid", st->eid);
	rsp_cert_der(st->cert, &der, &len);
	json_add_b64(root, "euicc_certificate", der, len);
	rsp_cert_der(st->eum, &der, &len);
	json_add_b64(root, "eum_certificate", der, len);
	a = cJSON_AddArrayToObject(root, "ci_certificates");
	for (i = 0; i < st->ncis; i++) {
		struct buf b = BUF_INIT;

		rsp_cert_der(st->cis[i], &der, &len);
		base64_encode(der, len, &b);
		cJSON_AddItemToArray(a, cJSON_CreateString(b.buf));
		buf_release(&b);
	}
	if (rsp_key_to_pem(st->key, &pem, err) < 0)
		goto out;
	cJSON_AddStringToObject(root, "private_key", pem.buf);
	snprintf(svn, sizeof(svn), "%u.%u.%u", st->svn[0], st->svn[1], st->svn[2]);
	cJSON_AddStringToObject(root, "svn", svn);
	if (st->default_dp)
		cJSON_AddStringToObject(root, "default_dp_address", st->default_dp);
	cJSON_AddStringToObject(root, "root_ds_address", st->root_ds ? st->root_ds : DEFAULT_ROOT_DS);
	cJSON_AddNumberToObject(root, "next_seq", (double)st->next_seq);
	a = cJSON_AddArrayToObject(root, "profiles");
	for (i = 0; i < st->nprofiles; i++)
		cJSON_AddItemToArray(a, profile_to_json(&st->profiles[i]));
	a = cJSON_AddArrayToObject(root, "notifications");
	for (i = 0; i < st->nnotifs; i++) {
		const struct soft_notif *n = &st->notifs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "seq", (double)n->seq);
		cJSON_AddStringToObject(o, "event", event_names[n->event]);
		cJSON_AddStringToObject(o, "address", n->address);
		if (n->iccid[0])
			cJSON_AddStringToObject(o, "iccid", n->iccid);
		json_add_b64(o, "der", (const uint8_t *)n->der.buf, n->der.len);
		cJSON_AddItemToArray(a, o);
	}
	text = cJSON_Print(root);
	if (!text)
		esim_fail(err, ESIM_E_OTHER, "cannot serialise the soft eUICC state");
out:
	buf_wipe_release(&pem);
	/* The tree holds the PEM too. */
	{
		cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "private_key");

		if (cJSON_IsString(k) && k->valuestring)
			secure_wipe(k->valuestring, strlen(k->valuestring));
	}
	cJSON_Delete(root);
	return text;
}

static int state_write(const char *path, const struct soft_state *st, struct esim_err *err)
{
	char *text = state_to_json(st, err);
	int rc;

	if (!text)
		return -1;
	rc = atomic_write_file(path, text, strlen(text), err);
	secure_wipe(text, strlen(text));
	cJSON_free(text);
	return rc;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int jb64(const cJSON *o, const char *name, struct buf *out)
{
	const char *s = jstr(o, name);

	if (!s)
		return -1;
	return base64_decode(s, strlen(s), out);
}

static int jnames(const cJSON *o, const char *name, const char *const *names, int count,
		  unsigned *mask)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *e;

	*mask = 0;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		int i;

		if (!cJSON_IsString(e))
			return -1;
		for (i = 0; i < count; i++)
			if (strcmp(e->valuestring, names[i]) == 0)
				break;
		if (i == count)
			return -1;
		*mask |= 1u << i;
	}
	return 0;
}

/* A non-negative integer that fits a uint64_t exactly as a double. */
static int juint(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    (double)(uint64_t)v->valuedouble != v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int profile_from_json(const cJSON *o, struct soft_profile *p)
{
	const char *s;
	struct buf b = BUF_INIT;
	const cJSON *a, *e;
	int i;

	profile_init(p);
	if (!cJSON_IsObject(o))
		return -1;
	s = jstr(o, "iccid");
	if (!s || strlen(s) < 1 || strlen(s) > 20 || iccid_to_bcd(s, p->iccid_bcd) < 0)
		return -1;
	memcpy(p->iccid, s, strlen(s) + 1);
	s = jstr(o, "isdp_aid");
	if (!s || hex_decode(s, &b) < 0 || b.len != 16) {
		buf_release(&b);
		return -1;
	}
	memcpy(p->aid, b.buf, 16);
	buf_release(&b);
	s = jstr(o, "state");
	if (!s || (strcmp(s, "enabled") && strcmp(s, "disabled")))
		return -1;
	p->enabled = strcmp(s, "enabled") == 0;
	p->nickname = xstrdup(jstr(o, "nickname"));
	p->spn = xstrdup(jstr(o, "service_provider_name"));
	p->name = xstrdup(jstr(o, "profile_name"));
	s = jstr(o, "class");
	p->pclass = -1;
	for (i = 0; s && i < 3; i++)
		if (strcmp(s, class_names[i]) == 0)
			p->pclass = i;
	if (p->pclass < 0)
		return -1;
	s = jstr(o, "icon_type");
	if (s) {
		if (strcmp(s, "jpg") == 0)
			p->icon_type = 0;
		else if (strcmp(s, "png") == 0)
			p->icon_type = 1;
		else
			return -1;
		if (jb64(o, "icon", &p->icon) < 0)
			return -1;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "notification_config");
	if (a && !cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		struct notif_config c;

		if (jnames(e, "events", event_names, EV_COUNT, &c.events) < 0 || !jstr(e, "address"))
			return -1;
		c.address = xstrdup(jstr(e, "address"));
		p->ncfg = xrealloc(p->ncfg, (p->nncfg + 1) * sizeof(*p->ncfg));
		p->ncfg[p->nncfg++] = c;
	}
	if (jnames(o, "ppr", ppr_names, 4, &p->ppr) < 0)
		return -1;
	s = jstr(o, "profile_owner");
	if (s && hex_decode(s, &p->owner) < 0)
		return -1;
	return 0;
}

static int parse_svn(const char *s, uint8_t out[3])
{
	unsigned a, b, c;
	char extra;

	if (!s || sscanf(s, "%u.%u.%u%c", &a, &b, &c, &extra) != 3 || a > 255 || b > 255 || c > 255)
		return -1;
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	return 0;
}

/* Parse the state file text into st (identity checked). */
static int state_from_json(const char *path, const char *text, size_t len, struct soft_state *st,
			   struct esim_err *err)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *a, *e;
	struct buf b = BUF_INIT;
	const char *s;
	uint64_t v;
	int ret = -1;

#define BAD(what) do { esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, what); \
		goto out; } while (0)
	memset(st, 0, sizeof(*st));
	if (!cJSON_IsObject(root))
		BAD("not a JSON object");
	s = jstr(root, "format");
	if (!s || strcmp(s, SOFT_FORMAT) != 0)
		BAD("not a soft eUICC state file (format is not \"" SOFT_FORMAT "\")");
	if (juint(root, "version", &v) < 0 || v != SOFT_VERSION)
		BAD("unsupported state file version");
	s = jstr(root, "eid");
	if (!s || strlen(s) != 32)
		BAD("bad or missing \"eid\"");
	memcpy(st->eid, s, 33);
	if (jb64(root, "euicc_certificate", &b) < 0 ||
	    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->cert, err) < 0)
		BAD("bad \"euicc_certificate\"");
	buf_reset(&b);
	if (jb64(root, "eum_certificate", &b) < 0 ||
	    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->eum, err) < 0)
		BAD("bad \"eum_certificate\"");
	a = cJSON_GetObjectItemCaseSensitive(root, "ci_certificates");
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
		BAD("bad \"ci_certificates\"");
	st->cis = xcalloc((size_t)cJSON_GetArraySize(a), sizeof(*st->cis));
	cJSON_ArrayForEach(e, a) {
		buf_reset(&b);
		if (!cJSON_IsString(e) || base64_decode(e->valuestring, strlen(e->valuestring), &b) < 0 ||
		    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->cis[st->ncis], err) < 0)
			BAD("bad entry in \"ci_certificates\"");
		st->ncis++;
	}
	s = jstr(root, "private_key");
	if (!s || rsp_key_load((const uint8_t *)s, strlen(s), &st->key, err) < 0)
		BAD("bad \"private_key\"");
	if (identity_check(st, ESIM_E_EUICC, err) < 0) {
		char msg[sizeof(err->msg)];

		memcpy(msg, err->msg, sizeof(msg));
		esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, msg);
		goto out;
	}
	if (parse_svn(jstr(root, "svn"), st->svn) < 0)
		BAD("bad \"svn\"");
	st->default_dp = xstrdup(jstr(root, "default_dp_address"));
	s = jstr(root, "root_ds_address");
	st->root_ds = xstrdup(s ? s : DEFAULT_ROOT_DS);
	if (juint(root, "next_seq", &st->next_seq) < 0)
		BAD("bad \"next_seq\"");
	a = cJSON_GetObjectItemCaseSensitive(root, "profiles");
	if (a && !cJSON_IsArray(a))
		BAD("bad \"profiles\"");
	if (cJSON_GetArraySize(a) > MAX_PROFILES)
		BAD("too many profiles");
	st->profiles = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*st->profiles));
	cJSON_ArrayForEach(e, a) {
		struct soft_profile *p = &st->profiles[st->nprofiles];
		size_t i;

		if (profile_from_json(e, p) < 0) {
			profile_clear(p);
			BAD("bad entry in \"profiles\"");
		}
		st->nprofiles++;
		for (i = 0; i + 1 < st->nprofiles; i++)
			if (strcmp(st->profiles[i].iccid, p->iccid) == 0 ||
			    memcmp(st->profiles[i].aid, p->aid, 16) == 0 ||
			    (p->enabled && st->profiles[i].enabled))
				BAD("duplicate ICCID or ISD-P, or two enabled profiles");
	}
	a = cJSON_GetObjectItemCaseSensitive(root, "notifications");
	if (a && !cJSON_IsArray(a))
		BAD("bad \"notifications\"");
	st->notifs = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*st->notifs));
	cJSON_ArrayForEach(e, a) {
		struct soft_notif *n = &st->notifs[st->nnotifs];
		const char *iccid = jstr(e, "iccid");

		memset(n, 0, sizeof(*n));
		buf_init(&n->der, 0);
		if (juint(e, "seq", &n->seq) < 0 || !jstr(e, "event") ||
		    (n->event = event_from_name(jstr(e, "event"))) < 0 || !jstr(e, "address") ||
		    (iccid && strlen(iccid) > 20) || jb64(e, "der", &n->der) < 0 || n->der.len == 0) {
			notif_clear(n);
			BAD("bad entry in \"notifications\"");
		}
		n->address = xstrdup(jstr(e, "address"));
		if (iccid)
			memcpy(n->iccid, iccid, strlen(iccid) + 1);
		st->nnotifs++;
		if (n->seq >= st->next_seq)
			BAD("\"next_seq\" is not above every notification's seq");
	}
	ret = 0;
#undef BAD
out:
	buf_release(&b);
	if (root) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "private_key");

		if (cJSON_IsString(k) && k->valuestring)
			secure_wipe(k->valuestring, strlen(k->valuestring));
	}
	cJSON_Delete(root);
	if (ret < 0)
		state_clear(st);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* session */

static void load_init(struct load *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->pend, 0);
	buf_init(&l->plain, 0);
	buf_init(&l->pe, 0);
	profile_init(&l->meta);
	l->stage = L_BF36;
}

static void load_reset(struct load *l)
{
	buf_wipe_release(&l->pend);
	buf_wipe_release(&l->plain);
	buf_wipe_release(&l->pe);
	bsp_wipe(&l->bsp);
	profile_clear(&l->meta);
	load_init(l);
}

static void session_init(struct session *se)
{
	memset(se, 0, sizeof(*se));
	buf_init(&se->auth_oid, 0);
	buf_init(&se->pb_oid, 0);
	load_init(&se->load);
}

/* Forget the RSP session: challenge, transaction, one-time key, BSP keys. */
static void session_reset(struct soft *s)
{
	struct session *se = &s->sess;

	load_reset(&se->load);
	buf_release(&se->auth_oid);
	buf_release(&se->pb_oid);
	rsp_cert_free(se->dppb);
	rsp_key_free(se->otsk);
	secure_wipe(se, sizeof(*se));
	session_init(se);
}

static int persist(struct soft *s)
{
	struct esim_err e = { 0 };

	return state_write(s->path, &s->st, &e);
}

static int txid_equal(const struct session *se, const struct der_node *n)
{
	return n->len == se->txid_len && se->txid_len > 0 &&
	       memcmp(n->value, se->txid, n->len) == 0;
}

/* ------------------------------------------------------------------------------------ */
/* notifications (SGP.22 §5.7.9-§5.7.11) */

static void notif_meta(struct buf *b, uint64_t seq, int event, const char *address,
		       const uint8_t *iccid_bcd)
{
	size_t m = der_begin(b, 0xBF2F);

	der_put_uint(b, 0x80, seq);
	put_bits(b, 0x81, 1u << event);
	der_put_tlv(b, 0x0C, address, strlen(address));
	if (iccid_bcd)
		der_put_tlv(b, 0x5A, iccid_bcd, 10);
	der_end(b, m);
}

static void notif_add(struct soft *s, uint64_t seq, int event, const char *address,
		      const char *iccid, const struct buf *der)
{
	struct soft_state *st = &s->st;
	struct soft_notif *n;

	if (st->nnotifs == MAX_NOTIFICATIONS) {
		notif_clear(&st->notifs[0]);
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
static int notify_other(struct soft *s, const struct soft_profile *p, int event)
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
	notif_meta(&tbs, seq, event, address, p->iccid_bcd);
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
	notif_add(s, seq, event, address, p->iccid, &out);
	rc = 0;
out:
	buf_release(&tbs);
	buf_release(&out);
	return rc;
}

/* The NotificationMetadata (BF2F) inside a stored notification, or -1. */
static int notif_stored_meta(const struct soft_notif *n, struct der_node *meta)
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
	put_bits(r, 0x85, uicc_cap);
	der_put_tlv(r, 0x86, ts102241, 3);
	der_put_tlv(r, 0x87, gp_version, 3);
	put_bits(r, 0x88, rsp_cap);
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
static uint16_t simple_result(struct buf *r, uint32_t tag, int result)
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
	if (rsp_cert_san_rid(c, dotted, sizeof(dotted)) < 0 || oid_encode(dotted, out) < 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* ES10a / ES10b / ES10c functions.  Each returns a status word; r gets the response. */

static uint16_t es10_get_eid(struct soft *s, const struct der_node *req, struct buf *r)
{
	size_t m;

	(void)req;
	m = der_begin(r, 0xBF3E);
	der_put_tlv(r, 0x5A, s->st.eid_bcd, 16);
	der_end(r, m);
	return SW_OK;
}

static uint16_t es10_info1(struct soft *s, const struct der_node *req, struct buf *r)
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

static uint16_t es10_info2(struct soft *s, const struct der_node *req, struct buf *r)
{
	(void)req;
	put_info2(s, r);
	return SW_OK;
}

/* A new challenge starts a new RSP session: whatever was going on is forgotten. */
static uint16_t es10_challenge(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct esim_err e = { 0 };
	size_t m;

	(void)req;
	session_reset(s);
	if (rsp_random(s->sess.challenge, sizeof(s->sess.challenge), &e) < 0)
		return SW_UNKNOWN;
	s->sess.stage = SESS_CHALLENGE;
	m = der_begin(r, 0xBF2E);
	der_put_tlv(r, 0x80, s->sess.challenge, 16);
	der_end(r, m);
	return SW_OK;
}

static uint16_t es10_addresses(struct soft *s, const struct der_node *req, struct buf *r)
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

static uint16_t es10_set_default_dp(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node a;
	char *old = s->st.default_dp;

	if (der_find(req, 0x80, &a) != 1 || a.len > 255 || !node_is_text(&a))
		return SW_WRONG_DATA;
	s->st.default_dp = a.len ? node_strdup(&a) : NULL;
	if (persist(s) < 0) {
		free(s->st.default_dp);
		s->st.default_dp = old;
		return SW_MEMORY_FAILURE;
	}
	free(old);
	return simple_result(r, 0xBF3F, 0);
}

/* Read the next child and require its tag. */
static int next_child(struct der_iter *it, uint32_t tag, struct der_node *n)
{
	return der_iter_next(it, n) == 1 && n->tag == tag ? 0 : -1;
}

/*
 * AuthenticateServer (SGP.22 §5.7.13).
 * BF38 { 30 serverSigned1, 5F37 serverSignature1, 04 euiccCiPKIdToBeUsed,
 *        30 serverCertificate, A0 ctxParams1 }
 */
static uint16_t es10_authenticate_server(struct soft *s, const struct der_node *req, struct buf *r)
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
	if (next_child(&it, 0x30, &ss1) < 0 || next_child(&it, 0x5F37, &sig1) < 0 ||
	    next_child(&it, 0x04, &ciid) < 0 || next_child(&it, 0x30, &certn) < 0 ||
	    next_child(&it, 0xA0, &ctx) < 0 || der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	der_iter_init(&it1, &ss1);
	if (next_child(&it1, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    next_child(&it1, 0x81, &chal) < 0 || chal.len != 16 ||
	    next_child(&it1, 0x83, &addr) < 0 || addr.len > 255 || !node_is_text(&addr) ||
	    next_child(&it1, 0x84, &schal) < 0 || schal.len != 16 ||
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
	session_reset(s);
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
static uint16_t es10_prepare_download(struct soft *s, const struct der_node *req, struct buf *r)
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
	if (next_child(&it, 0x30, &ss2) < 0 || next_child(&it, 0x5F37, &sig2) < 0)
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
	if (next_child(&it2, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    next_child(&it2, 0x01, &ccflag) < 0 || ccflag.len != 1)
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
	if (!txid_equal(se, &tx)) {
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
static uint16_t es10_cancel_session(struct soft *s, const struct der_node *req, struct buf *r)
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
	if (next_child(&it, 0x80, &tx) < 0 || tx.len < 1 || tx.len > 16 ||
	    next_child(&it, 0x81, &reason) < 0 || der_get_uint(&reason, &why) < 0 ||
	    der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (se->stage < SESS_AUTH || !txid_equal(se, &tx)) {
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
	session_reset(s);
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

/* ---- profiles (SGP.22 §5.7.15-§5.7.18) ---- */

static struct soft_profile *profile_by_id(struct soft *s, const struct der_node *id)
{
	size_t i;

	for (i = 0; i < s->st.nprofiles; i++) {
		struct soft_profile *p = &s->st.profiles[i];

		if (id->tag == 0x5A && id->len == 10 && memcmp(id->value, p->iccid_bcd, 10) == 0)
			return p;
		if (id->tag == 0x4F && id->len == 16 && memcmp(id->value, p->aid, 16) == 0)
			return p;
	}
	return NULL;
}

static struct soft_profile *profile_enabled(struct soft *s)
{
	size_t i;

	for (i = 0; i < s->st.nprofiles; i++)
		if (s->st.profiles[i].enabled)
			return &s->st.profiles[i];
	return NULL;
}

/* Default ProfileInfo set when the request has no tagList. */
static const uint32_t default_tags[] = {
	0x5A, 0x4F, 0x9F70, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0xB6, 0xB7, 0x99,
};

static int tag_wanted(const uint32_t *tags, size_t ntags, uint32_t tag)
{
	size_t i;

	for (i = 0; i < ntags; i++)
		if (tags[i] == tag)
			return 1;
	return 0;
}

static void put_profile_info(const struct soft_profile *p, const uint32_t *tags, size_t ntags,
			     struct buf *r)
{
	size_t m = der_begin(r, 0xE3), i;
	uint8_t v;

	if (tag_wanted(tags, ntags, 0x5A))
		der_put_tlv(r, 0x5A, p->iccid_bcd, 10);
	if (tag_wanted(tags, ntags, 0x4F))
		der_put_tlv(r, 0x4F, p->aid, 16);
	if (tag_wanted(tags, ntags, 0x9F70)) {
		v = p->enabled ? 1 : 0;
		der_put_tlv(r, 0x9F70, &v, 1);
	}
	if (tag_wanted(tags, ntags, 0x90) && p->nickname)
		der_put_tlv(r, 0x90, p->nickname, strlen(p->nickname));
	if (tag_wanted(tags, ntags, 0x91))
		der_put_tlv(r, 0x91, p->spn ? p->spn : "", p->spn ? strlen(p->spn) : 0);
	if (tag_wanted(tags, ntags, 0x92))
		der_put_tlv(r, 0x92, p->name ? p->name : "", p->name ? strlen(p->name) : 0);
	if (tag_wanted(tags, ntags, 0x93) && p->icon_type >= 0)
		der_put_uint(r, 0x93, (uint64_t)p->icon_type);
	if (tag_wanted(tags, ntags, 0x94) && p->icon_type >= 0)
		der_put_tlv(r, 0x94, p->icon.buf, p->icon.len);
	if (tag_wanted(tags, ntags, 0x95))
		der_put_uint(r, 0x95, (uint64_t)p->pclass);
	if (tag_wanted(tags, ntags, 0xB6) && p->nncfg) {
		size_t b6 = der_begin(r, 0xB6);

		for (i = 0; i < p->nncfg; i++) {
			size_t e = der_begin(r, 0x30);

			put_bits(r, 0x80, p->ncfg[i].events);
			der_put_tlv(r, 0x81, p->ncfg[i].address, strlen(p->ncfg[i].address));
			der_end(r, e);
		}
		der_end(r, b6);
	}
	if (tag_wanted(tags, ntags, 0xB7) && p->owner.len)
		der_put_tlv(r, 0xB7, p->owner.buf, p->owner.len);
	if (tag_wanted(tags, ntags, 0x99) && p->ppr)
		put_bits(r, 0x99, p->ppr);
	der_end(r, m);
}

/*
 * GetProfilesInfo: BF2D { [A0 { 5A | 4F | 95 }] [5C tagList] } ->
 * BF2D { A0 { E3 ... } } or BF2D { 81 error }.
 */
static uint16_t es10_profiles_info(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node n, crit;
	uint32_t tags[64];
	size_t ntags = 0, i, m, a0;
	int have_crit = 0, have_tags = 0, rc;
	uint64_t pclass = 0;

	der_iter_init(&it, req);
	while ((rc = der_iter_next(&it, &n)) == 1) {
		if (n.tag == 0xA0 && !have_crit) {
			struct der_node extra;
			struct der_iter ic;

			der_iter_init(&ic, &n);
			if (der_iter_next(&ic, &crit) != 1 || der_iter_next(&ic, &extra) != 0)
				goto bad;
			if (crit.tag == 0x95) {
				if (der_get_uint(&crit, &pclass) < 0)
					goto bad;
			} else if (crit.tag != 0x5A && crit.tag != 0x4F) {
				goto bad;
			}
			have_crit = 1;
		} else if (n.tag == 0x5C && !have_tags) {
			size_t off = 0;

			/* A tag list: 1- or 2-byte tags back to back. */
			while (off < n.len) {
				uint32_t t = n.value[off++];

				if ((t & 0x1F) == 0x1F) {
					if (off >= n.len)
						goto bad;
					t = (t << 8) | n.value[off++];
				}
				if (ntags < sizeof(tags) / sizeof(tags[0]))
					tags[ntags++] = t;
			}
			have_tags = 1;
		} else {
			goto bad;
		}
	}
	if (rc < 0)
		goto bad;
	m = der_begin(r, 0xBF2D);
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nprofiles; i++) {
		const struct soft_profile *p = &s->st.profiles[i];

		if (have_crit) {
			if (crit.tag == 0x95 && (uint64_t)p->pclass != pclass)
				continue;
			if (crit.tag == 0x5A && (crit.len != 10 || memcmp(crit.value, p->iccid_bcd, 10)))
				continue;
			if (crit.tag == 0x4F && (crit.len != 16 || memcmp(crit.value, p->aid, 16)))
				continue;
		}
		if (ntags)
			put_profile_info(p, tags, ntags, r);
		else
			put_profile_info(p, default_tags,
					 sizeof(default_tags) / sizeof(default_tags[0]), r);
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
bad:
	m = der_begin(r, 0xBF2D);
	der_put_uint(r, 0x81, 1);       /* incorrectInputValues */
	der_end(r, m);
	return SW_OK;
}

/* The profile identifier of Enable/Disable: A0 { 5A | 4F }, then 81 refreshFlag. */
static int parse_profile_ref(const struct der_node *req, struct der_node *id)
{
	struct der_iter it, ia;
	struct der_node a0, extra, refresh;
	int rc;

	der_iter_init(&it, req);
	if (next_child(&it, 0xA0, &a0) < 0)
		return -1;
	der_iter_init(&ia, &a0);
	if (der_iter_next(&ia, id) != 1 || (id->tag != 0x5A && id->tag != 0x4F) ||
	    der_iter_next(&ia, &extra) != 0)
		return -1;
	rc = der_iter_next(&it, &refresh);
	if (rc < 0 || (rc == 1 && (refresh.tag != 0x81 || refresh.len != 1)))
		return -1;
	if (rc == 1 && der_iter_next(&it, &extra) != 0)
		return -1;
	return 0;
}

/*
 * State changes (SGP.22 §5.7.16-§5.7.18).  Persisting is the commit point: on a failed write the
 * in-memory state is reloaded from the file so that memory and file never disagree.
 */
static int reload_state(struct soft *s);

static uint16_t commit(struct soft *s, struct buf *r, uint32_t tag, int result)
{
	if (persist(s) < 0) {
		reload_state(s);
		return SW_MEMORY_FAILURE;
	}
	return simple_result(r, tag, result);
}

static uint16_t es10_enable(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node id;
	struct soft_profile *p, *cur;

	if (parse_profile_ref(req, &id) < 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return simple_result(r, 0xBF31, 1);
	if (p->enabled)
		return simple_result(r, 0xBF31, 2);
	cur = profile_enabled(s);
	if (cur && (cur->ppr & (1u << PPR1)))
		return simple_result(r, 0xBF31, 3);
	if (cur) {
		cur->enabled = 0;
		if (notify_other(s, cur, EV_DISABLE) < 0)
			goto fail;
	}
	p->enabled = 1;
	if (notify_other(s, p, EV_ENABLE) < 0)
		goto fail;
	return commit(s, r, 0xBF31, 0);
fail:
	reload_state(s);
	return SW_UNKNOWN;
}

static uint16_t es10_disable(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node id;
	struct soft_profile *p;

	if (parse_profile_ref(req, &id) < 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return simple_result(r, 0xBF32, 1);
	if (!p->enabled)
		return simple_result(r, 0xBF32, 2);
	if (p->ppr & (1u << PPR1))
		return simple_result(r, 0xBF32, 3);
	p->enabled = 0;
	if (notify_other(s, p, EV_DISABLE) < 0) {
		reload_state(s);
		return SW_UNKNOWN;
	}
	return commit(s, r, 0xBF32, 0);
}

static void profile_remove(struct soft *s, struct soft_profile *p)
{
	size_t i = (size_t)(p - s->st.profiles);

	profile_clear(p);
	memmove(&s->st.profiles[i], &s->st.profiles[i + 1],
		(s->st.nprofiles - i - 1) * sizeof(*p));
	s->st.nprofiles--;
}

/* DeleteProfile: BF33 { 5A iccid } or BF33 { 4F aid } (a bare CHOICE). */
static uint16_t es10_delete(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node id, extra;
	struct soft_profile *p;

	der_iter_init(&it, req);
	if (der_iter_next(&it, &id) != 1 || (id.tag != 0x5A && id.tag != 0x4F) ||
	    der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return simple_result(r, 0xBF33, 1);
	if (p->enabled)
		return simple_result(r, 0xBF33, 2);
	if (p->ppr & (1u << PPR2))
		return simple_result(r, 0xBF33, 3);
	if (notify_other(s, p, EV_DELETE) < 0) {
		reload_state(s);
		return SW_UNKNOWN;
	}
	profile_remove(s, p);
	return commit(s, r, 0xBF33, 0);
}

/* SetNickname: BF29 { 5A iccid, 90 nickname } */
static uint16_t es10_set_nickname(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node id, nick, extra;
	struct soft_profile *p;

	der_iter_init(&it, req);
	if (next_child(&it, 0x5A, &id) < 0 || id.len != 10 || next_child(&it, 0x90, &nick) < 0 ||
	    nick.len > 64 || !node_is_text(&nick) || der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return simple_result(r, 0xBF29, 1);
	free(p->nickname);
	p->nickname = nick.len ? node_strdup(&nick) : NULL;
	return commit(s, r, 0xBF29, 0);
}

/* eUICCMemoryReset: BF34 { 82 resetOptions } */
static uint16_t es10_memory_reset(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node opt;
	unsigned bits;
	size_t i;
	int changed = 0;

	if (der_find(req, 0x82, &opt) != 1 || get_bits(&opt, &bits) < 0)
		return SW_WRONG_DATA;
	for (i = s->st.nprofiles; i-- > 0;) {
		struct soft_profile *p = &s->st.profiles[i];

		if (((bits & 1u) && p->pclass == CLASS_OPERATIONAL) ||
		    ((bits & 2u) && p->pclass == CLASS_TEST)) {
			profile_remove(s, p);
			changed = 1;
		}
	}
	if ((bits & 4u) && s->st.default_dp) {
		free(s->st.default_dp);
		s->st.default_dp = NULL;
		changed = 1;
	}
	session_reset(s);
	if (!changed)
		return simple_result(r, 0xBF34, 1);
	return commit(s, r, 0xBF34, 0);
}

/* GetRAT: no rules authorised. */
static uint16_t es10_get_rat(struct soft *s, const struct der_node *req, struct buf *r)
{
	size_t m, a0;

	(void)s;
	(void)req;
	m = der_begin(r, 0xBF43);
	a0 = der_begin(r, 0xA0);
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* ListNotification: BF28 { [81 events] } -> BF28 { A0 { BF2F ... } } */
static uint16_t es10_list_notifications(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node ev;
	unsigned mask = ~0u;
	size_t i, m, a0;
	int rc = der_find(req, 0x81, &ev);

	if (rc < 0 || (rc == 1 && get_bits(&ev, &mask) < 0))
		return SW_WRONG_DATA;
	m = der_begin(r, 0xBF28);
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nnotifs; i++) {
		const struct soft_notif *n = &s->st.notifs[i];
		struct der_node meta;

		if (!(mask & (1u << n->event)))
			continue;
		if (notif_stored_meta(n, &meta) == 0) {
			buf_add(r, meta.tlv, meta.tlv_len);
		} else {
			uint8_t bcd[10];
			int has = n->iccid[0] && iccid_to_bcd(n->iccid, bcd) == 0;

			notif_meta(r, n->seq, n->event, n->address, has ? bcd : NULL);
		}
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* RetrieveNotificationsList: BF2B { [A0 { 80 seq | 81 events }] } */
static uint16_t es10_retrieve_notifications(struct soft *s, const struct der_node *req,
					    struct buf *r)
{
	struct der_node a0n, crit, extra;
	struct der_iter it;
	unsigned mask = ~0u;
	uint64_t seq = 0;
	int by_seq = 0, rc = der_find(req, 0xA0, &a0n), found = 0;
	size_t i, m, a0;

	if (rc < 0)
		return SW_WRONG_DATA;
	if (rc == 1) {
		der_iter_init(&it, &a0n);
		if (der_iter_next(&it, &crit) != 1 || der_iter_next(&it, &extra) != 0)
			return SW_WRONG_DATA;
		if (crit.tag == 0x80) {
			if (der_get_uint(&crit, &seq) < 0)
				return SW_WRONG_DATA;
			by_seq = 1;
		} else if (crit.tag != 0x81 || get_bits(&crit, &mask) < 0) {
			return SW_WRONG_DATA;
		}
	}
	for (i = 0; i < s->st.nnotifs; i++)
		if (by_seq ? s->st.notifs[i].seq == seq : !!(mask & (1u << s->st.notifs[i].event)))
			found++;
	m = der_begin(r, 0xBF2B);
	if (by_seq && !found) {
		der_put_uint(r, 0x81, 1);       /* noResultAvailable */
		der_end(r, m);
		return SW_OK;
	}
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nnotifs; i++) {
		const struct soft_notif *n = &s->st.notifs[i];

		if (by_seq ? n->seq == seq : !!(mask & (1u << n->event)))
			buf_add(r, n->der.buf, n->der.len);
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* RemoveNotificationFromList: BF30 { 80 seq } -> BF30 { 80 ok 0 | nothingToDelete 1 } */
static uint16_t es10_remove_notification(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node sn;
	uint64_t seq;
	size_t i;

	if (der_find(req, 0x80, &sn) != 1 || der_get_uint(&sn, &seq) < 0)
		return SW_WRONG_DATA;
	for (i = 0; i < s->st.nnotifs; i++) {
		if (s->st.notifs[i].seq != seq)
			continue;
		notif_clear(&s->st.notifs[i]);
		memmove(&s->st.notifs[i], &s->st.notifs[i + 1],
			(s->st.nnotifs - i - 1) * sizeof(s->st.notifs[0]));
		s->st.nnotifs--;
		return commit(s, r, 0xBF30, 0);
	}
	return simple_result(r, 0xBF30, 1);
}

/* ------------------------------------------------------------------------------------ */
/* LoadBoundProfilePackage (SGP.22 §5.7.6) */

static int stage_cmd(int stage)
{
	switch (stage) {
	case L_BF36:
	case L_BF23:
		return BPP_INIT_SECURE_CHANNEL;
	case L_A0_HDR:
	case L_A0:
		return BPP_CONFIGURE_ISDP;
	case L_A1_HDR:
	case L_A1:
		return BPP_STORE_METADATA;
	case L_A2:
		return BPP_REPLACE_SESSION_KEYS;
	default:
		return BPP_LOAD_PE;
	}
}

/*
 * End of an installation attempt: build ProfileInstallationResult (SGP.22 §2.5.6), keep it as a
 * pending notification, forget the session.  ok: l->meta has become profile p.
 *   BF37 { BF27 { 80 txid, BF2F {...}, [06 smdpOid], A2 { A0 {4F aid, 04 sima}
 *                                                     | A1 {80 cmd, 81 reason} } },
 *          5F37 euiccSignPIR }
 */
static uint16_t pir_finish(struct soft *s, const struct soft_profile *p, int cmd, int reason,
			   struct buf *r)
{
	static const uint8_t sima_ok[] = { 0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00 };
	struct session *se = &s->sess;
	struct load *l = &se->load;
	struct buf tbs = BUF_INIT, out = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t sig[RSP_SIG_LEN];
	const struct soft_profile *who = p ? p : (l->have_meta ? &l->meta : NULL);
	uint64_t seq = s->st.next_seq;
	size_t m, a2, res;
	uint16_t sw = SW_OK;

	m = der_begin(&tbs, 0xBF27);
	der_put_tlv(&tbs, 0x80, se->txid, se->txid_len);
	notif_meta(&tbs, seq, EV_INSTALL, se->server_address, who ? who->iccid_bcd : NULL);
	if (se->pb_oid.len)
		der_put_tlv(&tbs, 0x06, se->pb_oid.buf, se->pb_oid.len);
	a2 = der_begin(&tbs, 0xA2);
	if (p) {
		res = der_begin(&tbs, 0xA0);
		der_put_tlv(&tbs, 0x4F, p->aid, sizeof(p->aid));
		der_put_tlv(&tbs, 0x04, sima_ok, sizeof(sima_ok));
	} else {
		res = der_begin(&tbs, 0xA1);
		der_put_uint(&tbs, 0x80, (uint64_t)cmd);
		der_put_uint(&tbs, 0x81, (uint64_t)reason);
	}
	der_end(&tbs, res);
	der_end(&tbs, a2);
	der_end(&tbs, m);
	if (rsp_sign(s->st.key, (const uint8_t *)tbs.buf, tbs.len, sig, &e) < 0) {
		sw = SW_UNKNOWN;
		reload_state(s);
		goto out;
	}
	m = der_begin(&out, 0xBF37);
	buf_add(&out, tbs.buf, tbs.len);
	der_put_tlv(&out, 0x5F37, sig, sizeof(sig));
	der_end(&out, m);
	s->st.next_seq++;
	notif_add(s, seq, EV_INSTALL, se->server_address, who ? who->iccid : NULL, &out);
	if (persist(s) < 0) {
		reload_state(s);
		sw = SW_MEMORY_FAILURE;
		goto out;
	}
	buf_add(r, out.buf, out.len);
out:
	session_reset(s);
	buf_release(&tbs);
	buf_release(&out);
	return sw;
}

/* InitialiseSecureChannelRequest (SGP.22 §5.5, ES8+). */
static int load_bf23(struct soft *s, const struct der_node *bf23, int *reason)
{
	struct session *se = &s->sess;
	struct der_iter it, ic;
	struct der_node op, tx, crt, otpk, sign, extra, ktype, klen, host;
	struct buf msg = BUF_INIT, info = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t shs[32], kdf[48];
	uint64_t opid;
	int rc = -1;

	*reason = PIR_INCORRECT_INPUT;
	der_iter_init(&it, bf23);
	if (next_child(&it, 0x82, &op) < 0 || next_child(&it, 0x80, &tx) < 0 ||
	    next_child(&it, 0xA6, &crt) < 0 || next_child(&it, 0x5F49, &otpk) < 0 ||
	    next_child(&it, 0x5F37, &sign) < 0 || der_iter_next(&it, &extra) != 0)
		goto out;
	if (der_get_uint(&op, &opid) < 0 || opid != 1) {
		*reason = PIR_UNSUPPORTED_REMOTE_OP;
		goto out;
	}
	if (!txid_equal(se, &tx)) {
		*reason = PIR_INVALID_TXID;
		goto out;
	}
	der_iter_init(&ic, &crt);
	if (next_child(&ic, 0x80, &ktype) < 0 || ktype.len != 1 || ktype.value[0] != 0x88 ||
	    next_child(&ic, 0x81, &klen) < 0 || klen.len != 1 || klen.value[0] != 0x10 ||
	    next_child(&ic, 0x84, &host) < 0 || host.len < 1 || host.len > 16 ||
	    der_iter_next(&ic, &extra) != 0) {
		*reason = PIR_UNSUPPORTED_CRT;
		goto out;
	}
	if (otpk.len != RSP_PUB_LEN || otpk.value[0] != 0x04)
		goto out;
	/* smdpSign covers 82 || 80 || A6 || 5F49 otPK.DP || 5F49 otPK.EUICC. */
	buf_add(&msg, op.tlv, (size_t)(otpk.tlv + otpk.tlv_len - op.tlv));
	der_put_tlv(&msg, 0x5F49, se->otpk, RSP_PUB_LEN);
	if (sign.len != RSP_SIG_LEN || !se->dppb ||
	    rsp_cert_verify(se->dppb, (const uint8_t *)msg.buf, msg.len, sign.value) != 1) {
		*reason = PIR_INVALID_SIGNATURE;
		goto out;
	}
	if (!se->otsk || rsp_ecka_derive(se->otsk, otpk.value, shs, &e) < 0)
		goto out;
	/* SharedInfo = keyType || keyLen || len(hostId) || hostId || len(EID) || EID */
	buf_addch(&info, ktype.value[0]);
	buf_addch(&info, klen.value[0]);
	buf_addch(&info, (int)host.len);
	buf_add(&info, host.value, host.len);
	buf_addch(&info, 16);
	buf_add(&info, s->st.eid_bcd, 16);
	rsp_kdf(shs, (const uint8_t *)info.buf, info.len, kdf);
	bsp_init(&se->load.bsp, kdf);
	/* The one-time key has done its job. */
	rsp_key_free(se->otsk);
	se->otsk = NULL;
	rc = 0;
out:
	secure_wipe(shs, sizeof(shs));
	secure_wipe(kdf, sizeof(kdf));
	buf_release(&msg);
	buf_release(&info);
	return rc;
}

/* StoreMetadataRequest BF25 (SGP.22 §5.5, ES8+.StoreMetadata) into l->meta. */
static int parse_metadata(struct soft *s, const struct buf *plain, struct soft_profile *p,
			  int *reason)
{
	struct der_node top, n;
	struct der_iter it;
	uint64_t v;
	size_t i;
	int have_iccid = 0, rc;

	*reason = PIR_INCORRECT_INPUT;
	if (der_parse((const uint8_t *)plain->buf, plain->len, &top) < 0 || top.tag != 0xBF25)
		return -1;
	der_iter_init(&it, &top);
	while ((rc = der_iter_next(&it, &n)) == 1) {
		switch (n.tag) {
		case 0x5A:
			if (n.len != 10 || iccid_from_bcd(n.value, p->iccid) < 0)
				return -1;
			memcpy(p->iccid_bcd, n.value, 10);
			have_iccid = 1;
			break;
		case 0x91:
		case 0x92:
			if (n.len > 255 || !node_is_text(&n))
				return -1;
			if (n.tag == 0x91) {
				free(p->spn);
				p->spn = node_strdup(&n);
			} else {
				free(p->name);
				p->name = node_strdup(&n);
			}
			break;
		case 0x93:
			if (der_get_uint(&n, &v) < 0 || v > 1)
				return -1;
			p->icon_type = (int)v;
			break;
		case 0x94:
			if (n.len > 1024)
				return -1;
			buf_reset(&p->icon);
			buf_add(&p->icon, n.value, n.len);
			if (p->icon_type < 0)
				p->icon_type = 0;
			break;
		case 0x95:
			if (der_get_uint(&n, &v) < 0)
				return -1;
			if (v > CLASS_OPERATIONAL) {
				*reason = PIR_UNSUPPORTED_CLASS;
				return -1;
			}
			p->pclass = (int)v;
			break;
		case 0xB6: {
			struct der_iter ic;
			struct der_node e, ev, addr;

			der_iter_init(&ic, &n);
			while ((rc = der_iter_next(&ic, &e)) == 1) {
				struct notif_config c;

				if (e.tag != 0x30 || der_find(&e, 0x80, &ev) != 1 ||
				    der_find(&e, 0x81, &addr) != 1 || get_bits(&ev, &c.events) < 0 ||
				    addr.len > 255 || !node_is_text(&addr) || p->nncfg >= 16)
					return -1;
				c.events &= (1u << EV_COUNT) - 1;
				c.address = node_strdup(&addr);
				p->ncfg = xrealloc(p->ncfg, (p->nncfg + 1) * sizeof(*p->ncfg));
				p->ncfg[p->nncfg++] = c;
			}
			if (rc < 0)
				return -1;
			break;
		}
		case 0xB7:
			if (n.len > 255)
				return -1;
			buf_reset(&p->owner);
			buf_add(&p->owner, n.value, n.len);
			break;
		case 0x99:
			if (get_bits(&n, &p->ppr) < 0)
				return -1;
			p->ppr &= 0x0F;
			break;
		default:
			break;  /* dpProprietaryData, access rules, later additions */
		}
	}
	if (rc < 0 || !have_iccid)
		return -1;
	for (i = 0; i < s->st.nprofiles; i++) {
		if (strcmp(s->st.profiles[i].iccid, p->iccid) == 0) {
			*reason = PIR_ICCID_EXISTS;
			return -1;
		}
	}
	if (s->st.nprofiles >= MAX_PROFILES) {
		*reason = PIR_NO_MEMORY;
		return -1;
	}
	return 0;
}

/* ReplaceSessionKeysRequest BF26 { 80 initialMacChainingValue, 81 ppkEnc, 82 ppkCmac }. */
static int load_bf26(struct load *l, int *reason)
{
	struct der_node top, mcv, enc, mac, extra;
	struct der_iter it;

	*reason = PIR_INCORRECT_INPUT;
	if (der_parse((const uint8_t *)l->plain.buf, l->plain.len, &top) < 0 || top.tag != 0xBF26)
		return -1;
	der_iter_init(&it, &top);
	if (next_child(&it, 0x80, &mcv) < 0 || mcv.len != 16 || next_child(&it, 0x81, &enc) < 0 ||
	    enc.len != 16 || next_child(&it, 0x82, &mac) < 0 || mac.len != 16 ||
	    der_iter_next(&it, &extra) != 0)
		return -1;
	bsp_init_keys(&l->bsp, enc.value, mac.value, mcv.value);
	return 0;
}

/*
 * Consume the decrypted ProfileElement stream.  PEs span segments; only the first
 * (the ProfileHeader, whose iccid [3] is plain BCD) is buffered whole, the others are
 * checked for framing and skipped.
 */
static int pe_process(struct load *l, int *reason)
{
	for (;;) {
		uint32_t tag;
		size_t vlen, hl, k;
		int h;

		if (l->pe_skip) {
			k = l->pe_skip < l->pe.len ? l->pe_skip : l->pe.len;
			buf_consume(&l->pe, k);
			l->pe_skip -= k;
			if (l->pe_skip)
				return 0;
		}
		if (l->pe.len == 0)
			return 0;
		h = tlv_header((const uint8_t *)l->pe.buf, l->pe.len, &tag, &vlen, &hl);
		if (h == 0)
			return 0;
		if (h < 0 || ((uint8_t)l->pe.buf[0] & 0xE0) != 0xA0) {
			*reason = PIR_PE_PROCESSING;
			return -1;
		}
		if (!l->pe_header_seen) {
			struct der_node hdr, ic;
			char iccid[21];

			if (tag != 0xA0 || vlen > MAX_HEADER_PE) {
				*reason = PIR_PE_PROCESSING;
				return -1;
			}
			if (l->pe.len < hl + vlen)
				return 0;
			if (der_parse((const uint8_t *)l->pe.buf, hl + vlen, &hdr) < 0 ||
			    der_find(&hdr, 0x83, &ic) != 1 ||
			    plain_bcd_iccid(ic.value, ic.len, iccid) < 0) {
				*reason = PIR_PE_PROCESSING;
				return -1;
			}
			if (strcmp(iccid, l->meta.iccid) != 0) {
				*reason = PIR_DATA_MISMATCH;
				return -1;
			}
			l->pe_header_seen = 1;
			buf_consume(&l->pe, hl + vlen);
		} else {
			k = l->pe.len < hl ? l->pe.len : hl;
			buf_consume(&l->pe, k);
			l->pe_skip = vlen;
		}
	}
}

/* Take a whole TLV with tag from the front of pend: 1 got it, 0 need more, -1 bad. */
static int take_tlv(struct load *l, uint32_t tag, size_t max, size_t limit, struct der_node *n)
{
	uint32_t t;
	size_t vlen, hl;
	int h = tlv_header((const uint8_t *)l->pend.buf, l->pend.len, &t, &vlen, &hl);

	if (h <= 0)
		return h;
	if (t != tag || vlen > max || hl > limit || vlen > limit - hl)
		return -1;
	if (l->pend.len < hl + vlen)
		return 0;
	return der_read((const uint8_t *)l->pend.buf, hl + vlen, n, NULL) < 0 ? -1 : 1;
}

/* Take a constructed header (A0..A3) whose value fits in limit. */
static int take_hdr(struct load *l, uint32_t *tag, size_t *vlen, size_t limit)
{
	size_t hl;
	int h = tlv_header((const uint8_t *)l->pend.buf, l->pend.len, tag, vlen, &hl);

	if (h <= 0)
		return h;
	if (hl > limit || *vlen > limit - hl)
		return -1;
	buf_consume(&l->pend, hl);
	l->bf36_left -= hl;
	return 1;
}

/* One segment consumed from pend: keep the length books. */
static void took(struct load *l, size_t n, int in_seq)
{
	buf_consume(&l->pend, n);
	l->bf36_left -= n;
	if (in_seq)
		l->seq_left -= n;
}

static void install_profile(struct soft *s, struct soft_profile *out)
{
	struct load *l = &s->sess.load;
	unsigned b;
	size_t i;

	*out = l->meta;
	profile_init(&l->meta);
	l->have_meta = 0;
	memcpy(out->aid, isdp_aid_base, 16);
	for (b = ISDP_FIRST; b <= 0xFF; b++) {
		for (i = 0; i < s->st.nprofiles; i++)
			if (s->st.profiles[i].aid[14] == b)
				break;
		if (i == s->st.nprofiles)
			break;
	}
	out->aid[14] = (uint8_t)b;
	out->enabled = 0;
}

/*
 * Feed the bytes of one ES10 command into the BPP loader.  Returns the status word;
 * r receives BF37 when the installation ends (success or failure).
 */
static uint16_t load_feed(struct soft *s, const uint8_t *data, size_t len, struct buf *r)
{
	struct load *l = &s->sess.load;
	struct der_node n;
	uint32_t tag;
	size_t vlen, hl;
	int h, reason = PIR_INCORRECT_INPUT, cmd = BPP_INIT_SECURE_CHANNEL;

	buf_add(&l->pend, data, len);
/* Wait for the next command, unless the BF36 length says nothing more can come. */
#define NEED_MORE() do { if (l->stage != L_BF36 && l->pend.len >= l->bf36_left) goto fail; \
		return SW_OK; } while (0)
	for (;;) {
		cmd = stage_cmd(l->stage);
		switch (l->stage) {
		case L_BF36:
			h = tlv_header((const uint8_t *)l->pend.buf, l->pend.len, &tag, &vlen, &hl);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || tag != 0xBF36)
				goto fail;
			buf_consume(&l->pend, hl);
			l->bf36_left = vlen;
			l->stage = L_BF23;
			continue;
		case L_BF23:
			h = take_tlv(l, 0xBF23, MAX_BF23, l->bf36_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || load_bf23(s, &n, &reason) < 0)
				goto fail;
			took(l, n.tlv_len, 0);
			l->stage = L_A0_HDR;
			continue;
		case L_A0_HDR:
		case L_A1_HDR:
		case L_A2A3_HDR:
		case L_A3_HDR:
			reason = PIR_SCP03T_STRUCTURE;
			h = take_hdr(l, &tag, &vlen, l->bf36_left);
			if (h == 0)
				NEED_MORE();
			if (h < 0)
				goto fail;
			if (l->stage == L_A0_HDR && tag == 0xA0)
				l->stage = L_A0;
			else if (l->stage == L_A1_HDR && tag == 0xA1)
				l->stage = L_A1;
			else if (l->stage == L_A2A3_HDR && tag == 0xA2)
				l->stage = L_A2;
			else if ((l->stage == L_A2A3_HDR || l->stage == L_A3_HDR) && tag == 0xA3)
				l->stage = L_A3;
			else
				goto fail;
			cmd = stage_cmd(l->stage);
			l->seq_left = vlen;
			buf_reset(&l->plain);
			continue;
		case L_A0:
		case L_A1:
		case L_A2:
			if (l->seq_left == 0) {
				struct der_node top;

				if (l->stage == L_A0) {
					reason = PIR_INCORRECT_INPUT;
					if (der_parse((const uint8_t *)l->plain.buf, l->plain.len, &top) < 0 ||
					    top.tag != 0xBF24)
						goto fail;
					l->stage = L_A1_HDR;
				} else if (l->stage == L_A1) {
					if (parse_metadata(s, &l->plain, &l->meta, &reason) < 0)
						goto fail;
					l->have_meta = 1;
					l->stage = L_A2A3_HDR;
				} else {
					if (load_bf26(l, &reason) < 0)
						goto fail;
					l->stage = L_A3_HDR;
				}
				buf_wipe_release(&l->plain);
				continue;
			}
			reason = PIR_SCP03T_STRUCTURE;
			h = take_tlv(l, l->stage == L_A1 ? 0x88 : 0x87, MAX_SEGMENT, l->seq_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || bsp_unprotect(&l->bsp, n.tlv, n.tlv_len, &l->plain, &reason) < 0)
				goto fail;
			if (l->plain.len > MAX_SEQ_PLAIN) {
				reason = PIR_INCORRECT_INPUT;
				goto fail;
			}
			took(l, n.tlv_len, 1);
			continue;
		case L_A3:
			if (l->seq_left == 0) {
				struct soft_profile *p;

				reason = PIR_PE_PROCESSING;
				if (l->bf36_left != 0 || l->pend.len != 0 || !l->pe_header_seen ||
				    l->pe_skip != 0 || l->pe.len != 0)
					goto fail;
				reason = PIR_NO_MEMORY;
				if (s->st.nprofiles >= MAX_PROFILES)
					goto fail;
				s->st.profiles = xrealloc(s->st.profiles, (s->st.nprofiles + 1) *
							  sizeof(*s->st.profiles));
				p = &s->st.profiles[s->st.nprofiles];
				install_profile(s, p);
				s->st.nprofiles++;
				return pir_finish(s, p, 0, 0, r);
			}
			reason = PIR_SCP03T_STRUCTURE;
			h = take_tlv(l, 0x86, MAX_SEGMENT, l->seq_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || bsp_unprotect(&l->bsp, n.tlv, n.tlv_len, &l->pe, &reason) < 0)
				goto fail;
			took(l, n.tlv_len, 1);
			if (pe_process(l, &reason) < 0)
				goto fail;
			continue;
		default:
			goto fail;
		}
	}
#undef NEED_MORE
fail:
	return pir_finish(s, NULL, cmd, reason, r);
}

/* ------------------------------------------------------------------------------------ */
/* ES10 dispatch */

typedef uint16_t (*es10_fn)(struct soft *s, const struct der_node *req, struct buf *r);

static const struct {
	uint32_t tag;
	es10_fn fn;
} es10_table[] = {
	{ 0xBF20, es10_info1 },
	{ 0xBF21, es10_prepare_download },
	{ 0xBF22, es10_info2 },
	{ 0xBF28, es10_list_notifications },
	{ 0xBF29, es10_set_nickname },
	{ 0xBF2B, es10_retrieve_notifications },
	{ 0xBF2D, es10_profiles_info },
	{ 0xBF2E, es10_challenge },
	{ 0xBF30, es10_remove_notification },
	{ 0xBF31, es10_enable },
	{ 0xBF32, es10_disable },
	{ 0xBF33, es10_delete },
	{ 0xBF34, es10_memory_reset },
	{ 0xBF38, es10_authenticate_server },
	{ 0xBF3C, es10_addresses },
	{ 0xBF3E, es10_get_eid },
	{ 0xBF3F, es10_set_default_dp },
	{ 0xBF41, es10_cancel_session },
	{ 0xBF43, es10_get_rat },
};

/* Tags that only occur as LoadBoundProfilePackage segments (SGP.22 §5.7.6). */
static int is_bpp_segment(uint32_t tag)
{
	return (tag >= 0xA0 && tag <= 0xA3) || (tag >= 0x86 && tag <= 0x88);
}

static uint16_t es10_dispatch(struct soft *s, const uint8_t *req, size_t len, struct buf *r)
{
	struct session *se = &s->sess;
	struct der_node top;
	uint32_t tag = 0;
	size_t vlen, hl, i;
	int h = tlv_header(req, len, &tag, &vlen, &hl);

	if (se->stage == SESS_LOADING && (se->load.pend.len > 0 || (h == 1 && is_bpp_segment(tag))))
		return load_feed(s, req, len, r);
	if (h != 1)
		return SW_WRONG_DATA;
	if (tag == 0xBF36) {
		/* A new package while one is loading ends the first one. */
		if (se->stage == SESS_LOADING)
			return pir_finish(s, NULL, stage_cmd(se->load.stage), PIR_INTERRUPTION, r);
		if (se->stage != SESS_PREPARED)
			return SW_COND_NOT_SATISFIED;
		se->stage = SESS_LOADING;
		load_reset(&se->load);
		return load_feed(s, req, len, r);
	}
	if (is_bpp_segment(tag))
		return SW_COND_NOT_SATISFIED;   /* no package is being loaded */
	if (der_parse(req, len, &top) < 0)
		return SW_WRONG_DATA;
	for (i = 0; i < sizeof(es10_table) / sizeof(es10_table[0]); i++)
		if (es10_table[i].tag == tag)
			return es10_table[i].fn(s, &top, r);
	return SW_REF_NOT_FOUND;
}

/* ------------------------------------------------------------------------------------ */
/* card edge: ISO 7816-4 / ETSI TS 102 221 §11.1.17 / GlobalPlatform STORE DATA */

static void chan_init(struct channel *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->in, 0);
	buf_init(&c->out, 0);
}

static void chan_reset(struct channel *c)
{
	buf_wipe_release(&c->in);
	buf_wipe_release(&c->out);
	chan_init(c);
}

static void power_up(struct soft *s)
{
	size_t i;

	for (i = 0; i < MAX_CHANNELS; i++)
		chan_reset(&s->ch[i]);
	s->ch[0].open = 1;
	session_reset(s);
}

/* Short responses go out directly when the command had Le; the rest through 61xx. */
static uint16_t respond(struct channel *c, struct buf *resp, int has_le, unsigned le,
			uint8_t *rx, size_t *n)
{
	size_t ne = le ? le : 256;

	if (resp->len == 0)
		return SW_OK;
	if (has_le && resp->len <= ne) {
		memcpy(rx, resp->buf, resp->len);
		*n = resp->len;
		return SW_OK;
	}
	buf_wipe_release(&c->out);
	c->out = *resp;
	buf_init(resp, 0);
	c->out_off = 0;
	return (uint16_t)(0x6100 | (c->out.len >= 256 ? 0 : c->out.len));
}

static uint16_t apdu_manage_channel(struct soft *s, unsigned ch, uint8_t p1, uint8_t p2,
				    size_t lc, uint8_t *rx, size_t *n)
{
	unsigned k;

	if (lc)
		return SW_WRONG_LENGTH;
	if (p1 == 0x00) {
		if (p2 == 0) {
			for (k = 1; k < MAX_CHANNELS && s->ch[k].open; k++)
				;
			if (k == MAX_CHANNELS)
				return SW_FUNC_NOT_SUPPORTED;
		} else {
			k = p2;
			if (k >= MAX_CHANNELS || s->ch[k].open)
				return SW_WRONG_P1P2;
		}
		chan_reset(&s->ch[k]);
		s->ch[k].open = 1;
		if (p2 == 0) {
			rx[0] = (uint8_t)k;
			*n = 1;
		}
		return SW_OK;
	}
	if (p1 == 0x80) {
		k = p2 ? p2 : ch;
		if (k == 0 || k >= MAX_CHANNELS)
			return SW_WRONG_P1P2;
		if (!s->ch[k].open)
			return SW_CHANNEL_NOT_SUPPORTED;
		chan_reset(&s->ch[k]);
		return SW_OK;
	}
	return SW_WRONG_P1P2;
}

static uint16_t apdu_select(struct channel *c, uint8_t p1, uint8_t p2, const uint8_t *data,
			    size_t lc, int has_le, unsigned le, uint8_t *rx, size_t *n)
{
	struct buf fci = BUF_INIT;
	size_t m, a5;
	uint16_t sw;
	static const uint8_t max_len = 0xFF;

	if (p1 != 0x04 || (p2 != 0x00 && p2 != 0x04 && p2 != 0x0C))
		return SW_WRONG_P1P2;
	if (lc < 5 || lc > 16)
		return lc ? SW_FILE_NOT_FOUND : SW_WRONG_LENGTH;
	/* Full AID or a (GlobalPlatform partial-selection) prefix of it. */
	if (memcmp(data, isdr_aid, lc) != 0)
		return SW_FILE_NOT_FOUND;
	buf_wipe_release(&c->in);
	c->in_active = 0;
	c->selected = 1;
	if (p2 == 0x0C)
		return SW_OK;
	m = der_begin(&fci, 0x6F);
	der_put_tlv(&fci, 0x84, isdr_aid, sizeof(isdr_aid));
	a5 = der_begin(&fci, 0xA5);
	der_put_tlv(&fci, 0x9F65, &max_len, 1);
	der_end(&fci, a5);
	der_end(&fci, m);
	sw = respond(c, &fci, has_le, le, rx, n);
	buf_release(&fci);
	return sw;
}

static uint16_t apdu_store_data(struct soft *s, struct channel *c, uint8_t p1, uint8_t p2,
				const uint8_t *data, size_t lc, int has_le, unsigned le,
				uint8_t *rx, size_t *n)
{
	struct buf resp = BUF_INIT;
	uint16_t sw;

	if (!c->selected)
		return SW_COND_NOT_SATISFIED;
	if ((p1 & 0x7F) != 0x11)
		return SW_WRONG_P1P2;
	if (!lc)
		return SW_WRONG_LENGTH;
	if (c->in_active && p2 == c->next_p2) {
		/* the next block of the command being assembled */
	} else if (p2 == 0) {
		buf_wipe_release(&c->in);
		c->in_active = 1;
	} else {
		buf_wipe_release(&c->in);
		c->in_active = 0;
		return SW_WRONG_P1P2;
	}
	if (c->in.len + lc > MAX_REQUEST) {
		buf_wipe_release(&c->in);
		c->in_active = 0;
		return SW_NOT_ENOUGH_MEMORY;
	}
	buf_add(&c->in, data, lc);
	c->next_p2 = (p2 + 1u) & 0xFF;
	if (!(p1 & 0x80))
		return SW_OK;
	c->in_active = 0;
	sw = es10_dispatch(s, (const uint8_t *)c->in.buf, c->in.len, &resp);
	buf_wipe_release(&c->in);
	if (sw == SW_OK)
		sw = respond(c, &resp, has_le, le, rx, n);
	buf_wipe_release(&resp);
	return sw;
}

static uint16_t apdu_get_response(struct channel *c, uint8_t p1, uint8_t p2, size_t lc,
				  int has_le, unsigned le, uint8_t *rx, size_t *n)
{
	size_t ne = has_le && le ? le : 256, rem, k;

	if (p1 || p2)
		return SW_WRONG_P1P2;
	if (lc)
		return SW_WRONG_LENGTH;
	if (c->out_off >= c->out.len)
		return SW_COND_NOT_SATISFIED;
	rem = c->out.len - c->out_off;
	k = rem < ne ? rem : ne;
	memcpy(rx, c->out.buf + c->out_off, k);
	*n = k;
	c->out_off += k;
	rem -= k;
	if (rem)
		return (uint16_t)(0x6100 | (rem >= 256 ? 0 : rem));
	buf_wipe_release(&c->out);
	c->out_off = 0;
	return SW_OK;
}

/* One C-APDU; rx gets up to 256 data bytes (the caller appends SW1 SW2). */
static uint16_t apdu_process(struct soft *s, const uint8_t *tx, size_t txlen, uint8_t *rx,
			     size_t *n)
{
	uint8_t cla, ins, p1, p2;
	const uint8_t *data = NULL;
	size_t lc = 0;
	int has_le = 0, proprietary;
	unsigned le = 0, ch;
	struct channel *c;

	*n = 0;
	if (txlen < 4)
		return SW_WRONG_LENGTH;
	cla = tx[0];
	ins = tx[1];
	p1 = tx[2];
	p2 = tx[3];
	if (txlen == 5) {
		has_le = 1;
		le = tx[4];
	} else if (txlen > 5) {
		lc = tx[4];
		if (lc == 0)
			return SW_WRONG_LENGTH;         /* extended length: not supported */
		if (txlen == 6 + lc) {
			has_le = 1;
			le = tx[5 + lc];
		} else if (txlen != 5 + lc) {
			return SW_WRONG_LENGTH;
		}
		data = tx + 5;
	}
	if (cla == 0xFF || (cla & 0x60) == 0x20)
		return SW_CLA_NOT_SUPPORTED;
	proprietary = (cla & 0x80) != 0;
	if (cla & 0x40) {
		ch = 4u + (cla & 0x0Fu);
		if (cla & 0x20)
			return SW_SM_NOT_SUPPORTED;
	} else {
		ch = cla & 0x03u;
		if (cla & 0x0C)
			return SW_SM_NOT_SUPPORTED;
	}
	if (cla & 0x10)
		return SW_CHAINING_NOT_SUPPORTED;
	if (ch >= MAX_CHANNELS || !s->ch[ch].open)
		return SW_CHANNEL_NOT_SUPPORTED;
	c = &s->ch[ch];
	if (ins != 0xC0) {
		/* Any other command drops an unfetched response (ISO 7816-4). */
		buf_wipe_release(&c->out);
		c->out_off = 0;
	}
	switch (ins) {
	case 0x70:
		if (proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_manage_channel(s, ch, p1, p2, lc, rx, n);
	case 0xA4:
		if (proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_select(c, p1, p2, data, lc, has_le, le, rx, n);
	case 0xE2:
		if (!proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_store_data(s, c, p1, p2, data, lc, has_le, le, rx, n);
	case 0xC0:
		return apdu_get_response(c, p1, p2, lc, has_le, le, rx, n);
	case 0xAA:
		/* TERMINAL CAPABILITY: accepted, nothing to remember. */
		return proprietary ? SW_OK : SW_CLA_NOT_SUPPORTED;
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}

/* ------------------------------------------------------------------------------------ */
/* transport and lifetime */

/*
 * The state holds the eUICC's private key and decides what the card does: a trusted file
 * (safepath.h), refused like ssh refuses an unprotected key when another user owns it, can
 * read or write it, or can replace it through its directory; the same for its lock.
 */
static const struct trust state_trust = {
	"software eUICC", ESIM_E_NOREADER, TRUST_SECRET,
	"a state file elsewhere needs a device added with --euicc soft:PATH"
};

static int load_state_file(const char *path, struct soft_state *st, struct esim_err *err)
{
	struct buf text = BUF_INIT;
	int rc = trust_read_file(path, &state_trust, &text, NULL, err);

	if (rc == 1) {
		buf_release(&text);
		return esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s': no such file", path);
	}
	if (rc < 0) {
		buf_release(&text);
		return -1;
	}
	rc = state_from_json(path, text.buf, text.len, st, err);
	buf_wipe_release(&text);
	return rc;
}

static int reload_state(struct soft *s)
{
	struct soft_state st;
	struct esim_err e = { 0 };

	if (load_state_file(s->path, &st, &e) < 0)
		return -1;
	state_clear(&s->st);
	s->st = st;
	return 0;
}

static void soft_free(struct soft *s)
{
	size_t i;

	if (!s)
		return;
	session_reset(s);
	load_reset(&s->sess.load);
	buf_release(&s->sess.auth_oid);
	buf_release(&s->sess.pb_oid);
	for (i = 0; i < MAX_CHANNELS; i++) {
		buf_wipe_release(&s->ch[i].in);
		buf_wipe_release(&s->ch[i].out);
	}
	state_clear(&s->st);
	if (s->lock_fd >= 0)
		close(s->lock_fd);     /* drops the flock */
	free(s->path);
	secure_wipe(s, sizeof(*s));
	free(s);
}

static int soft_open_cb(void *priv, struct esim_err *err)
{
	if (!priv)
		return esim_fail(err, ESIM_E_NOREADER, "soft eUICC: not loaded");
	power_up(priv);
	return 0;
}

static int soft_transmit_cb(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			    size_t *rxlen, struct esim_err *err)
{
	size_t n = 0;
	uint16_t sw;

	if (!priv || !tx || !rx || !rxlen)
		return esim_fail(err, ESIM_E_EUICC, "soft eUICC: invalid transmit call");
	sw = apdu_process(priv, tx, txlen, rx, &n);
	rx[n] = (uint8_t)(sw >> 8);
	rx[n + 1] = (uint8_t)sw;
	*rxlen = n + 2;
	return 0;
}

static void soft_close_cb(void *priv)
{
	soft_free(priv);
}

static int lock_state(struct soft *s, struct esim_err *err)
{
	struct buf lp = BUF_INIT;
	int fd, waited = 0;

	buf_addf(&lp, "%s.lock", s->path);
	if (trust_open_lock(lp.buf, &state_trust, &fd, err) < 0) {
		buf_release(&lp);
		return -1;
	}
	buf_release(&lp);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': cannot lock: %s", s->path,
				  strerror(errno));
			close(fd);
			return -1;
		}
		if (waited >= LOCK_WAIT_MS) {
			esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s' is in use by another "
				  "process", s->path);
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	s->lock_fd = fd;
	return 0;
}

int soft_euicc_open(const char *path, struct apdu_transport *out, struct esim_err *err)
{
	struct soft *s;
	struct stat sb;
	size_t i;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !*path || !out)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC: no state file path given");
	/* Its directories first: nothing (not even the lock) is created in an unsafe one. */
	if (trust_check_dirs(path, &state_trust, err) < 0)
		return -1;
	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s': no such file", path);
		return esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, strerror(errno));
	}
	s = xcalloc(1, sizeof(*s));
	s->lock_fd = -1;
	s->path = xstrdup(path);
	session_init(&s->sess);
	for (i = 0; i < MAX_CHANNELS; i++)
		chan_init(&s->ch[i]);
	if (lock_state(s, err) < 0 || load_state_file(path, &s->st, err) < 0) {
		soft_free(s);
		return -1;
	}
	power_up(s);
	out->open = soft_open_cb;
	out->transmit = soft_transmit_cb;
	out->close = soft_close_cb;
	out->priv = s;
	return 0;
}

int soft_euicc_create(const char *path, const char *eid, const uint8_t *cert, size_t certlen,
		      const uint8_t *key, size_t keylen, const uint8_t *eum, size_t eumlen,
		      const uint8_t *const *cis, const size_t *cilens, size_t ncis,
		      struct esim_err *err)
{
	struct soft_state st;
	struct esim_err e2 = { 0 };
	struct stat sb;
	size_t i;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	if (!path || !*path)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC: no state file path given");
	if (lstat(path, &sb) == 0)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC state file '%s' already exists",
				 path);
	if (errno != ENOENT)
		return esim_fail(err, ESIM_E_USAGE, "cannot use '%s': %s", path, strerror(errno));
	if (!eid || eid_validate(eid, err) < 0)
		return eid ? -1 : esim_fail(err, ESIM_E_USAGE, "soft eUICC: no EID given");
	memcpy(st.eid, eid, 33);
	if (load_cert_arg("eUICC certificate", cert, certlen, &st.cert, err) < 0 ||
	    load_cert_arg("EUM certificate", eum, eumlen, &st.eum, err) < 0)
		goto out;
	if (!key || !keylen || rsp_key_load(key, keylen, &st.key, &e2) < 0) {
		esim_fail(err, ESIM_E_USAGE, "eUICC private key: %s", e2.msg[0] ? e2.msg :
			  "not a PEM or DER EC private key");
		goto out;
	}
	if (ncis && (!cis || !cilens)) {
		esim_fail(err, ESIM_E_USAGE, "soft eUICC: CI certificate list missing");
		goto out;
	}
	st.cis = xcalloc(ncis ? ncis : 1, sizeof(*st.cis));
	for (i = 0; i < ncis; i++) {
		char what[48];

		snprintf(what, sizeof(what), "CI certificate %zu", i + 1);
		if (load_cert_arg(what, cis[i], cilens[i], &st.cis[i], err) < 0)
			goto out;
		st.ncis++;
	}
	if (identity_check(&st, ESIM_E_USAGE, err) < 0)
		goto out;
	st.svn[0] = 2;
	st.svn[1] = 2;
	st.svn[2] = 2;
	st.next_seq = 1;
	st.root_ds = xstrdup(DEFAULT_ROOT_DS);
	rc = state_write(path, &st, err);
out:
	state_clear(&st);
	return rc;
}
