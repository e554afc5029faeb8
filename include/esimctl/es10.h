/*
 * es10.h - the LPA side of ES10a/b/c (SGP.22 §5.7.3-§5.7.21) over an apdu_transport.
 *
 * Every ES10 function is one DER request TLV sent with GlobalPlatform STORE DATA on a
 * logical channel where the ISD-R is selected, and one DER response TLV back.  This
 * module builds the requests, does the APDU framing (channel-coded CLA, block chaining,
 * 61xx GET RESPONSE, 6Cxx), parses every response strictly and turns the eUICC's
 * result codes into named errors.  It does no other I/O and keeps no global state.
 *
 *	struct es10_ctx ctx;
 *	char eid[33];
 *
 *	es10_ctx_init(&ctx);
 *	if (es10_open(&ctx, &transport, err) < 0)   // transport is closed on failure
 *		return -1;
 *	ret = es10_get_eid(&ctx, eid, err);
 *	es10_close(&ctx);                             // closes the channel and the transport
 *
 * Errors (struct esim_err, every function returns 0 or -1):
 *   ESIM_E_NOREADER  the transport failed (propagated from the backend as it set it);
 *   ESIM_E_EUICC     a status word other than 90 00 (detail "SW 6A88", the message names
 *                    its meaning), a malformed response ("malformed response to GetEID"),
 *                    or an ES10 business error (detail "EnableProfile result 3"; the
 *                    message names it: "disallowedByPolicy");
 *   ESIM_E_NOTFOUND  the eUICC reports that the profile / notification does not exist;
 *   ESIM_E_SMDP      data that came from the SM-DP+ (serverSigned1, certificates, the
 *                    Bound Profile Package...) is not well-formed DER of the expected
 *                    type.  It is the SM-DP+ that sent it, so the exit status blames it,
 *                    and nothing is sent to the eUICC;
 *   ESIM_E_USAGE     a caller argument is invalid (ICCID, IMEI, nickname too long...).
 * After every function that received a result code, ctx->last_result holds it (-1 when
 * the response had none), so a caller may treat, say, "already enabled" as success.
 *
 * Strings taken from the eUICC are NUL-terminated; invalid UTF-8 and control characters
 * in free text (nickname, names) are replaced by '?', so they can be printed as they are.
 * Addresses (FQDNs) must be printable ASCII or the response is rejected as malformed.
 */
#ifndef ESIMCTL_ES10_H
#define ESIMCTL_ES10_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/apdu.h"
#include "esimctl/buf.h"
#include "esimctl/error.h"

#define ES10_BLOCK_SHORT 255       /* largest STORE DATA block in a short APDU */
#define ES10_BLOCK_EXT 1024        /* STORE DATA block in an extended-length APDU */
#define ES10_CHANNEL_MAX 19        /* highest logical channel (ISO/IEC 7816-4 CLA coding) */
#define ES10_RESPONSE_MAX (1u << 20) /* largest response accepted from the eUICC */
#define ES10_ADDRESS_MAX 255       /* bytes of an FQDN (SM-DP+, SM-DS, notification) */
#define ES10_NICKNAME_MAX 64       /* bytes of a nickname sent by es10_set_nickname */
#define ES10_MATCHING_ID_MAX 255   /* bytes of a matchingId */
#define ES10_TXID_MAX 16           /* TransactionId: 1..16 bytes */

/* ISD-R AID (SGP.02 §2.2.3). */
extern const uint8_t es10_isdr_aid[16];

struct es10_ctx {
	/* Settings: set by es10_ctx_init(), may be changed before es10_open(). */
	/*
	 * STORE DATA block size.  0 (default): automatic, ES10_BLOCK_EXT bytes in extended-
	 * length APDUs when the transport's ATR advertises them, else 255; 1..255: blocks of
	 * that size in short APDUs only (ESIMCTL_STORE_DATA_BLOCK).  Either way a block the
	 * card answers 6700 (wrong length), or the transport refuses (APDU_TOO_LONG), makes
	 * the session go down to 255, 120, 64, 32 bytes, resending the command from block 0.
	 */
	size_t mss;
	int basic_channel;       /* 1: use channel 0, no MANAGE CHANNEL (default 0) */
	int terminal_capability; /* 1: send TERMINAL CAPABILITY first (default 0) */

	/* State, read-only for callers. */
	struct apdu_transport *t; /* borrowed while open; its close() runs in es10_close() */
	int channel;             /* logical channel in use (0..19), -1 when not open */
	int last_result;         /* last ES10 result code received, -1 for none */
	int own_channel;         /* 1: the transport's open_channel() opened it */
	/* APDUs exchanged since es10_ctx_init() (C-APDU bytes sent, R-APDU bytes received,
	 * status words included), whatever the backend. */
	unsigned long apdus;
	unsigned long long apdu_tx_bytes, apdu_rx_bytes;
	unsigned long apdus_refused; /* C-APDUs the transport refused (APDU_TOO_LONG) */
	/* STORE DATA blocks of this session (es10_open() resets them): */
	size_t block;            /* size in use; 0 until the first STORE DATA */
	size_t block_ok;         /* largest block the card has taken */
	unsigned fallbacks;      /* times the size went down */
};

void es10_ctx_init(struct es10_ctx *ctx);

/*
 * Connect: t->open(), [TERMINAL CAPABILITY], MANAGE CHANNEL open, SELECT ISD-R on the
 * new channel (or t->open_channel() doing both, or SELECT on channel 0 for a transport
 * with basic_channel set: esimctl/apdu.h).  ctx keeps the pointer t (it must stay valid until es10_close()).  The
 * transport is owned from here on: on failure it has already been closed (t->close()
 * ran) and es10_close(ctx) is a harmless no-op; on success es10_close() closes it.
 */
int es10_open(struct es10_ctx *ctx, struct apdu_transport *t, struct esim_err *err);
/* MANAGE CHANNEL close (errors ignored), then t->close().  Safe to call twice. */
void es10_close(struct es10_ctx *ctx);

/*
 * Send one ES10 request TLV and collect the response data (without SW) into resp,
 * which is reset first.  An empty response is valid (intermediate BPP segments).
 * Usable for any ES10 function this header does not wrap.
 */
int es10_transmit(struct es10_ctx *ctx, const uint8_t *req, size_t reqlen, struct buf *resp,
		  struct esim_err *err);

/* ---- ES10c GetEID / ES10b GetEUICCInfo1, GetEUICCInfo2, GetEUICCChallenge ---------- */

/* EID as 32 upper-case hex characters (decimal digits for any valid EID). */
int es10_get_eid(struct es10_ctx *ctx, char out[33], struct esim_err *err);

/* The complete BF20 EUICCInfo1 TLV, as ES9+ initiateAuthentication wants it. */
int es10_get_euicc_info1(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err);

struct es10_version {
	int present;
	uint8_t major, minor, rev;
};
/* "2.3.1", or "" when absent.  Returns out. */
char *es10_version_str(const struct es10_version *v, char out[12]);

enum es10_euicc_category {
	ES10_CATEGORY_ABSENT = -1,
	ES10_CATEGORY_OTHER = 0,
	ES10_CATEGORY_BASIC = 1,
	ES10_CATEGORY_MEDIUM = 2,
	ES10_CATEGORY_CONTACTLESS = 3,
};

/* rspCapability bits (ASN.1 bit n = 1u << n). */
#define ES10_RSP_ADDITIONAL_PROFILE (1u << 0)
#define ES10_RSP_CRL_SUPPORT (1u << 1)
#define ES10_RSP_RPM_SUPPORT (1u << 2)
#define ES10_RSP_TEST_PROFILE_SUPPORT (1u << 3)

/* Summary of EUICCInfo2 (BF22, SGP.22 §5.7.8).  Sizes are -1 when the eUICC did not report them. */
struct es10_euicc_info2 {
	struct es10_version profile_version;   /* profileVersion 81 (SAIP) */
	struct es10_version svn;               /* svn 82 (SGP.22 version) */
	struct es10_version firmware_version;  /* euiccFirmwareVer 83 */
	struct es10_version ts102241_version;  /* ts102241Version 86 */
	struct es10_version gp_version;        /* globalplatformVersion 87 */
	struct es10_version pp_version;        /* ppVersion 04 */
	int64_t installed_apps;                /* extCardResource 81 */
	int64_t free_nvm;                      /* extCardResource 82, bytes */
	int64_t free_ram;                      /* extCardResource 83, bytes */
	unsigned rsp_capability;               /* rspCapability 88, ES10_RSP_* bits */
	size_t ci_pkid_verification_count;     /* euiccCiPKIdListForVerification A9 */
	size_t ci_pkid_signing_count;          /* euiccCiPKIdListForSigning AA */
	int euicc_category;                    /* euiccCategory 8B, enum es10_euicc_category */
	char sas_number[129];                  /* sasAcreditationNumber 0C, "" if absent */
};

/*
 * The complete BF22 TLV into tlv (may be NULL) and its summary into info (may be NULL).
 * es10_parse_euicc_info2() is the pure parser (for tests and fuzzing).
 */
int es10_get_euicc_info2(struct es10_ctx *ctx, struct buf *tlv, struct es10_euicc_info2 *info,
			 struct esim_err *err);
int es10_parse_euicc_info2(const uint8_t *tlv, size_t len, struct es10_euicc_info2 *info,
			   struct esim_err *err);

/* The 16-byte euiccChallenge (raw bytes, as ES9+ wants them base64-encoded). */
int es10_get_challenge(struct es10_ctx *ctx, uint8_t out[16], struct esim_err *err);

/* ---- ES10a ----------------------------------------------------------------------- */

struct es10_addresses {
	char default_dp[ES10_ADDRESS_MAX + 1]; /* defaultDpAddress, "" when not set */
	char root_ds[ES10_ADDRESS_MAX + 1];    /* rootDsAddress */
};
int es10_get_configured_addresses(struct es10_ctx *ctx, struct es10_addresses *out,
				  struct esim_err *err);
/* address: printable ASCII, at most 255 bytes; "" clears the default SM-DP+. */
int es10_set_default_dp(struct es10_ctx *ctx, const char *address, struct esim_err *err);

/* ---- ES10b download: AuthenticateServer, PrepareDownload, LoadBPP, CancelSession --- */

/*
 * AuthenticateServer (SGP.22 §5.7.13).  The four TLVs are those from ES9+ initiateAuthentication,
 * complete with tags: serverSigned1 (30), serverSignature1 (5F37), euiccCiPKIdToBeUsed
 * (04) and serverCertificate (30).  ctxParams1 is built here:
 *   A0 { [80 matchingId]  A1 deviceInfo { 80 tac(4)  A1 00  [82 imei(8)] } }
 * matching_id NULL omits 80 (SM-DS and default SM-DP+ flows); "" sends 80 00.
 * imei NULL or 15 digits: with an IMEI the TAC is the first 4 bytes of its swapped-BCD
 * coding, as lpac does; without, TAC 35 29 06 11.
 * resp receives the complete BF38 TLV, also when the eUICC answers with an error
 * (then -1, ESIM_E_EUICC naming the AuthenticateServer error, ctx->last_result = code).
 */
int es10_authenticate_server(struct es10_ctx *ctx, const struct buf *server_signed1,
			     const struct buf *server_signature1, const struct buf *ci_pkid,
			     const struct buf *server_certificate, const char *matching_id,
			     const char *imei, struct buf *resp, struct esim_err *err);

/*
 * What the LPA needs from smdpSigned2 (30 { 80 transactionId, 01 ccRequiredFlag, ... }):
 * the transaction id (for hashCc) and whether a confirmation code is required.
 * Malformed input: ESIM_E_SMDP.
 */
int es10_smdp_signed2_info(const uint8_t *tlv, size_t len, uint8_t txid[ES10_TXID_MAX],
			   size_t *txid_len, int *cc_required, struct esim_err *err);

/*
 * PrepareDownload.  smdp_signed2 (30), smdp_signature2 (5F37) and smdp_certificate (30)
 * are complete TLVs from ES9+ authenticateClient; hash_cc is the 32-byte hashCc (SGP.22 §5.7.5)
 * or NULL.  When smdpSigned2 says a confirmation code is required and hash_cc is NULL,
 * nothing is sent: ESIM_E_USAGE.  When no code is required, hash_cc is ignored (hashCc
 * belongs in the request only then).  resp receives the complete BF21 TLV, also on error.
 */
int es10_prepare_download(struct es10_ctx *ctx, const struct buf *smdp_signed2,
			  const struct buf *smdp_signature2, const struct buf *smdp_certificate,
			  const uint8_t *hash_cc, struct buf *resp, struct esim_err *err);

/* bppCommandId (SGP.22 §2.5.6). */
enum es10_bpp_command {
	ES10_BPP_INITIALISE_SECURE_CHANNEL = 0,
	ES10_BPP_CONFIGURE_ISDP = 1,
	ES10_BPP_STORE_METADATA = 2,
	ES10_BPP_STORE_METADATA2 = 3,
	ES10_BPP_REPLACE_SESSION_KEYS = 4,
	ES10_BPP_LOAD_PROFILE_ELEMENTS = 5,
};

/* errorReason of ProfileInstallationResult (SGP.22 §2.5.6). */
enum es10_install_error {
	ES10_INSTALL_INCORRECT_INPUT_VALUES = 1,
	ES10_INSTALL_INVALID_SIGNATURE = 2,
	ES10_INSTALL_INVALID_TRANSACTION_ID = 3,
	ES10_INSTALL_UNSUPPORTED_CRT_VALUES = 4,
	ES10_INSTALL_UNSUPPORTED_REMOTE_OPERATION_TYPE = 5,
	ES10_INSTALL_UNSUPPORTED_PROFILE_CLASS = 6,
	ES10_INSTALL_SCP03T_STRUCTURE_ERROR = 7,
	ES10_INSTALL_SCP03T_SECURITY_ERROR = 8,
	ES10_INSTALL_ICCID_ALREADY_EXISTS = 9,
	ES10_INSTALL_INSUFFICIENT_MEMORY = 10,
	ES10_INSTALL_INTERRUPTION = 11,
	ES10_INSTALL_PE_PROCESSING_ERROR = 12,
	ES10_INSTALL_DATA_MISMATCH = 13,
	ES10_INSTALL_TEST_PROFILE_INVALID_NAA_KEY = 14,
	ES10_INSTALL_PPR_NOT_ALLOWED = 15,
	ES10_INSTALL_UNKNOWN_ERROR = 127,
};

/* ProfileInstallationResult (BF37, SGP.22 §2.5.6) in short. */
struct es10_install_result {
	int ok;                       /* 1: successResult, 0: errorResult */
	uint8_t txid[ES10_TXID_MAX];  /* transactionId */
	size_t txid_len;
	uint64_t seq;                 /* notificationMetadata seqNumber */
	char address[ES10_ADDRESS_MAX + 1]; /* notificationAddress: where to send the BF37 */
	char iccid[21];               /* notificationMetadata iccid, "" if absent */
	uint8_t aid[16];              /* successResult ISD-P AID */
	size_t aid_len;
	int bpp_command_id;           /* errorResult, enum es10_bpp_command; -1 on success */
	int error_reason;             /* errorResult, enum es10_install_error; -1 on success */
};

/*
 * LoadBoundProfilePackage.  The BF36 BPP is checked completely first (malformed:
 * ESIM_E_SMDP "the SM-DP+ sent a malformed bound profile package (...)", nothing sent),
 * then sent segment by segment as SGP.22 §5.7.6 takes it, one ES10 command each, stopping at
 * the first command that returns data.  progress (may be NULL) is called after each
 * segment with the BPP bytes sent so far and len.
 *
 * pir receives the complete BF37 TLV, unchanged: it must be sent as the install
 * notification (ES9+ handleNotification) whether installation succeeded or not.
 * Returns 0 when the profile was installed; -1 otherwise.  After -1, a non-empty pir
 * means the eUICC reported errorResult (ESIM_E_EUICC naming the phase and errorReason,
 * *res filled): send the notification, do not cancel the session.  An empty pir means
 * the load broke off (transport, SW, or no result): cancel the session
 * (loadBppExecutionError).  res may be NULL.
 */
int es10_load_bpp(struct es10_ctx *ctx, const uint8_t *bpp, size_t len,
		  void (*progress)(void *arg, size_t done, size_t total), void *arg,
		  struct buf *pir, struct es10_install_result *res, struct esim_err *err);
/* Pure parser of a BF37 TLV.  0 also for errorResult (then res->ok == 0). */
int es10_parse_install_result(const uint8_t *tlv, size_t len, struct es10_install_result *res,
			      struct esim_err *err);

/* CancelSessionReason (SGP.22 §5.7.14). */
enum es10_cancel_reason {
	ES10_CANCEL_END_USER_REJECTION = 0,
	ES10_CANCEL_POSTPONED = 1,
	ES10_CANCEL_TIMEOUT = 2,
	ES10_CANCEL_PPR_NOT_ALLOWED = 3,
	ES10_CANCEL_METADATA_MISMATCH = 4,
	ES10_CANCEL_LOAD_BPP_EXECUTION_ERROR = 5,
	ES10_CANCEL_UNDEFINED_REASON = 127,
};
/* resp receives the signed BF41 TLV for ES9+ cancelSession (ok alternative only). */
int es10_cancel_session(struct es10_ctx *ctx, const uint8_t *txid, size_t txid_len,
			enum es10_cancel_reason reason, struct buf *resp, struct esim_err *err);

/* ---- ES10b notifications (SGP.22 §5.7.9-§5.7.11) ----------------------------------- */

/* NotificationEvent bits (BIT STRING bit n = 1u << n); also the filter argument. */
#define ES10_EVENT_INSTALL (1u << 0)
#define ES10_EVENT_ENABLE (1u << 1)
#define ES10_EVENT_DISABLE (1u << 2)
#define ES10_EVENT_DELETE (1u << 3)
#define ES10_EVENT_ALL 0x0Fu
/* "install", "enable", "disable", "delete" for a single bit, else "unknown". */
const char *es10_event_name(unsigned event);

struct es10_notification {
	uint64_t seq;          /* seqNumber */
	unsigned event;        /* profileManagementOperation, ES10_EVENT_* (normally one bit) */
	char address[ES10_ADDRESS_MAX + 1]; /* notificationAddress */
	char iccid[21];        /* "" when absent */
};

/*
 * ListNotification.  events: 0 for all (BF28 00), else a filter of ES10_EVENT_* bits.
 * *out is a malloc()ed array (NULL when *n == 0): the caller frees it with free().
 */
int es10_list_notifications(struct es10_ctx *ctx, unsigned events, struct es10_notification **out,
			    size_t *n, struct esim_err *err);
int es10_parse_notifications(const uint8_t *tlv, size_t len, struct es10_notification **out,
			     size_t *n, struct esim_err *err);
/*
 * RetrieveNotificationsList for one seqNumber: tlv_out (reset first) receives the exact
 * BF37 or 30 PendingNotification TLV, never re-encoded.  None: ESIM_E_NOTFOUND.
 */
int es10_retrieve_notification(struct es10_ctx *ctx, uint64_t seq, struct buf *tlv_out,
			       struct esim_err *err);
/* RemoveNotificationFromList.  nothingToDelete: ESIM_E_NOTFOUND. */
int es10_remove_notification(struct es10_ctx *ctx, uint64_t seq, struct esim_err *err);

/* ---- ES10c profiles ------------------------------------------------------------------ */

enum es10_profile_state {
	ES10_STATE_UNKNOWN = -1, /* absent or a value v2 does not define */
	ES10_STATE_DISABLED = 0,
	ES10_STATE_ENABLED = 1,
};
enum es10_profile_class {
	ES10_CLASS_UNKNOWN = -1,
	ES10_CLASS_TEST = 0,
	ES10_CLASS_PROVISIONING = 1,
	ES10_CLASS_OPERATIONAL = 2, /* also when absent (ASN.1 DEFAULT) */
};
enum es10_icon_type {
	ES10_ICON_NONE = -1,
	ES10_ICON_JPG = 0,
	ES10_ICON_PNG = 1,
};
/* Profile policy rules (BIT STRING bit n = 1u << n). */
#define ES10_PPR_UPDATE_CONTROL (1u << 0)
#define ES10_PPR1 (1u << 1) /* disabling not allowed */
#define ES10_PPR2 (1u << 2) /* deletion not allowed */

const char *es10_profile_state_name(int state); /* "disabled", "enabled", "unknown" */
const char *es10_profile_class_name(int cls);   /* "test", "provisioning", "operational" */

struct es10_notif_config {
	unsigned events;       /* ES10_EVENT_* bits */
	char *address;         /* notificationAddress */
};

struct es10_profile {
	char iccid[21];        /* "" if the eUICC left it out */
	char aid[33];          /* isdpAid, upper-case hex, "" if absent */
	int state;             /* enum es10_profile_state */
	char *nickname;        /* NULL when absent */
	char *spn;             /* serviceProviderName, NULL when absent */
	char *name;            /* profileName, NULL when absent */
	int profile_class;     /* enum es10_profile_class */
	int icon_type;         /* enum es10_icon_type */
	char owner_mccmnc[7];  /* profileOwner mccMnc as "310410" / "26201", "" if absent */
	unsigned pprs;         /* profilePolicyRules, ES10_PPR* bits */
	struct es10_notif_config *notif; /* notificationConfigurationInfo */
	size_t notif_count;
};

/* Tags es10_get_profiles() asks for (no icon): 5A 4F 9F70 90 91 92 93 95 B6 B7 99. */
extern const uint8_t es10_profile_tags[12];

/*
 * GetProfilesInfo for all profiles with the es10_profile_tags list.  *out (NULL when
 * *n == 0) is freed with es10_profiles_free(*out, *n).
 */
int es10_get_profiles(struct es10_ctx *ctx, struct es10_profile **out, size_t *n,
		      struct esim_err *err);
/*
 * The general form: iccid NULL for all profiles, else only that one; tags NULL for
 * the eUICC's default set (no tagList).  With neither, the request is BF2D 00.
 */
int es10_get_profiles_query(struct es10_ctx *ctx, const char *iccid, const uint8_t *tags,
			    size_t tags_len, struct es10_profile **out, size_t *n,
			    struct esim_err *err);
int es10_parse_profiles(const uint8_t *tlv, size_t len, struct es10_profile **out, size_t *n,
			struct esim_err *err);
void es10_profiles_free(struct es10_profile *p, size_t n);

/*
 * Enable / Disable / Delete by ICCID (18-20 digits).  refresh asks the eUICC for a
 * REFRESH (refreshFlag).  iccidOrAidNotFound: ESIM_E_NOTFOUND; profileNotIn...State,
 * disallowedByPolicy, catBusy...: ESIM_E_EUICC with a message saying which.
 */
int es10_enable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err);
int es10_disable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err);
int es10_delete(struct es10_ctx *ctx, const char *iccid, struct esim_err *err);
/* nickname: at most 64 bytes of UTF-8, "" removes it.  iccidNotFound: ESIM_E_NOTFOUND. */
int es10_set_nickname(struct es10_ctx *ctx, const char *iccid, const char *nickname,
		      struct esim_err *err);

/* eUICCMemoryReset resetOptions (BIT STRING bit n = 1u << n). */
#define ES10_RESET_DELETE_OPERATIONAL (1u << 0)
#define ES10_RESET_DELETE_TEST (1u << 1)       /* deleteFieldLoadedTestProfiles */
#define ES10_RESET_DEFAULT_SMDP (1u << 2)      /* resetDefaultSmdpAddress */
#define ES10_RESET_ALL 0x07u
/* options: nonzero ES10_RESET_* bits.  nothingToDelete: ESIM_E_NOTFOUND. */
int es10_memory_reset(struct es10_ctx *ctx, unsigned options, struct esim_err *err);

/* GetRAT: the complete BF43 TLV (rules authorisation table), not interpreted. */
int es10_get_rat(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err);

/* ---- Result codes -> names and messages (es10_errors.c) ------------------------------- */

enum es10_code_kind {
	ES10_CODE_AUTH_SERVER,      /* AuthenticateServer errors */
	ES10_CODE_PREPARE_DOWNLOAD, /* PrepareDownload errors */
	ES10_CODE_BPP_COMMAND,      /* bppCommandId */
	ES10_CODE_INSTALL_ERROR,    /* ProfileInstallationResult errorReason */
	ES10_CODE_CANCEL_REASON,    /* CancelSessionReason */
	ES10_CODE_CANCEL_ERROR,     /* CancelSession errors */
	ES10_CODE_ENABLE,           /* EnableProfile result */
	ES10_CODE_DISABLE,          /* DisableProfile result */
	ES10_CODE_DELETE,           /* DeleteProfile result */
	ES10_CODE_SET_NICKNAME,     /* SetNickname result */
	ES10_CODE_SET_DEFAULT_DP,   /* SetDefaultDpAddress result */
	ES10_CODE_MEMORY_RESET,     /* eUICCMemoryReset result */
	ES10_CODE_LIST_NOTIFICATION, /* ListNotification error */
	ES10_CODE_RETRIEVE_NOTIFICATION, /* RetrieveNotificationsList error */
	ES10_CODE_REMOVE_NOTIFICATION, /* RemoveNotificationFromList result */
	ES10_CODE_PROFILES_INFO,    /* GetProfilesInfo error */
};

/* ASN.1 name ("disallowedByPolicy"), or "unknown" for a code the kind lacks. */
const char *es10_code_name(enum es10_code_kind kind, int code);
/* Lower-case explanation for messages ("the profile's policy rules forbid it"). */
const char *es10_code_message(enum es10_code_kind kind, int code);
/* Meaning of a status word ("referenced data not found"), "unknown status word" else. */
const char *es10_sw_message(unsigned sw);

#endif
