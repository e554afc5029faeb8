/*
 * soft_internal.h - what the files of the software eUICC share (private to src/card/soft).
 */
#ifndef ESIMCTL_SOFT_INTERNAL_H
#define ESIMCTL_SOFT_INTERNAL_H

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
#include "esimctl/isdr.h"
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

extern const uint8_t soft_isdr_aid[16];
/* ISD-P AIDs: A0000005591010FFFFFFFF89000010 00, ...11 00, ... (byte 14 varies). */
extern const uint8_t soft_isdp_aid_base[16];
#define ISDP_FIRST 0x10

/* Certificate policies (SGP.22 certificate profiles, id-rspRole). */
#define OID_POLICY_DPAUTH "2.23.146.1.2.1.4"
#define OID_POLICY_DPPB "2.23.146.1.2.1.5"

/* NotificationEvent bits (BIT STRING numbering). */
enum notif_event { EV_INSTALL = 0, EV_ENABLE = 1, EV_DISABLE = 2, EV_DELETE = 3, EV_COUNT };
extern const char *const soft_event_names[EV_COUNT];

/* PPR bits (profilePolicyRules). */
#define PPR_UPDATE_CONTROL 0
#define PPR1 1 /* disabling not allowed */
#define PPR2 2 /* deletion not allowed */
#define PPR3 3 /* delete on disable (older modules) */
extern const char *const soft_ppr_names[4];

enum profile_class { CLASS_TEST = 0, CLASS_PROVISIONING = 1, CLASS_OPERATIONAL = 2 };
extern const char *const soft_class_names[3];

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
	/* The ISD-R's AID ("isdr_aid" in the file, for tests of removable cards whose vendor
	 * AID differs); isdr_aid_len 0: the standard soft_isdr_aid. */
	uint8_t isdr_aid[16];
	size_t isdr_aid_len;
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

/* ---- shared between the files of src/card/soft ---- */

int soft_tlv_header(const uint8_t *p, size_t n, uint32_t *tag, size_t *len, size_t *hdrlen);
void soft_buf_consume(struct buf *b, size_t n);
void soft_put_bits(struct buf *b, uint32_t tag, unsigned mask);
int soft_get_bits(const struct der_node *n, unsigned *mask);
int soft_oid_encode(const char *dotted, struct buf *out);
int soft_plain_bcd_iccid(const uint8_t *in, size_t len, char out[21]);
char *soft_node_strdup(const struct der_node *n);
int soft_node_is_text(const struct der_node *n);
int soft_event_from_name(const char *s);
void soft_session_reset(struct soft *s);
int soft_persist(struct soft *s);
int soft_txid_equal(const struct session *se, const struct der_node *n);
int soft_reload_state(struct soft *s);
void soft_profile_clear(struct soft_profile *p);
void soft_profile_init(struct soft_profile *p);
void soft_notif_clear(struct soft_notif *n);
void soft_state_clear(struct soft_state *st);
int soft_load_cert_arg(const char *what, const uint8_t *data, size_t len, struct rsp_cert **out,
			 struct esim_err *err);
int soft_identity_check(struct soft_state *st, enum esim_status status, struct esim_err *err);
int soft_state_write(const char *path, const struct soft_state *st, struct esim_err *err);
int soft_state_from_json(const char *path, const char *text, size_t len, struct soft_state *st,
			   struct esim_err *err);
void soft_notif_meta(struct buf *b, uint64_t seq, int event, const char *address,
		       const uint8_t *iccid_bcd);
void soft_notif_add(struct soft *s, uint64_t seq, int event, const char *address,
		      const char *iccid, const struct buf *der);
int soft_notify_other(struct soft *s, const struct soft_profile *p, int event);
int soft_notif_stored_meta(const struct soft_notif *n, struct der_node *meta);
uint16_t soft_simple_result(struct buf *r, uint32_t tag, int result);
uint16_t soft_es10_get_eid(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_info1(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_info2(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_challenge(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_addresses(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_set_default_dp(struct soft *s, const struct der_node *req, struct buf *r);
int soft_next_child(struct der_iter *it, uint32_t tag, struct der_node *n);
uint16_t soft_es10_authenticate_server(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_prepare_download(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_cancel_session(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_profiles_info(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_enable(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_disable(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_delete(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_set_nickname(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_memory_reset(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_get_rat(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_list_notifications(struct soft *s, const struct der_node *req, struct buf *r);
uint16_t soft_es10_retrieve_notifications(struct soft *s, const struct der_node *req,
					    struct buf *r);
uint16_t soft_es10_remove_notification(struct soft *s, const struct der_node *req, struct buf *r);
int soft_stage_cmd(int stage);
uint16_t soft_pir_finish(struct soft *s, const struct soft_profile *p, int cmd, int reason,
			   struct buf *r);
uint16_t soft_load_feed(struct soft *s, const uint8_t *data, size_t len, struct buf *r);

#endif
