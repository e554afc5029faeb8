/*
 * es10_errors.c - ES10 result codes and status words -> names and messages.
 *
 * Names are the ASN.1 identifiers of SGP.22 (§5.7.13, §5.7.5, §2.5.6), so a user can look them up;
 * messages say what happened in words.  Const tables, searched linearly (they are tiny).
 */
#include <stddef.h>

#include "esimctl/es10.h"

struct code_entry {
	int code;
	const char *name;
	const char *message;
};

#define END { -1, NULL, NULL }

static const struct code_entry auth_server[] = {
	{ 1, "invalidCertificate", "the SM-DP+ certificate (CERT.DPauth) is invalid" },
	{ 2, "invalidSignature", "the SM-DP+ signature (serverSignature1) does not verify" },
	{ 3, "unsupportedCurve", "the SM-DP+ certificate uses an unsupported curve" },
	{ 4, "noSessionContext", "the eUICC has no session in progress" },
	{ 5, "invalidOid", "the SM-DP+ OID is invalid" },
	{ 6, "euiccChallengeMismatch", "the SM-DP+ answered another eUICC challenge" },
	{ 7, "ciPKUnknown", "the eUICC does not know the certificate issuer the SM-DP+ chose" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry prepare_download[] = {
	{ 1, "invalidCertificate", "the SM-DP+ certificate (CERT.DPpb) is invalid" },
	{ 2, "invalidSignature", "the SM-DP+ signature (smdpSignature2) does not verify" },
	{ 3, "unsupportedCurve", "the SM-DP+ certificate uses an unsupported curve" },
	{ 4, "noSessionContext", "the eUICC has no session in progress" },
	{ 5, "invalidTransactionId", "the transaction id does not match the session" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry bpp_command[] = {
	{ 0, "initialiseSecureChannel", "initialising the secure channel" },
	{ 1, "configureISDP", "configuring the ISD-P" },
	{ 2, "storeMetadata", "storing the profile metadata" },
	{ 3, "storeMetadata2", "storing the profile metadata" },
	{ 4, "replaceSessionKeys", "replacing the session keys" },
	{ 5, "loadProfileElements", "loading the profile elements" },
	END
};

static const struct code_entry install_error[] = {
	{ 1, "incorrectInputValues", "the eUICC received incorrect input values" },
	{ 2, "invalidSignature", "the SM-DP+ signature does not verify" },
	{ 3, "invalidTransactionId", "the transaction id does not match the session" },
	{ 4, "unsupportedCrtValues", "the SM-DP+ asked for unsupported key parameters" },
	{ 5, "unsupportedRemoteOperationType", "unsupported remote operation type" },
	{ 6, "unsupportedProfileClass", "the eUICC does not accept this profile class" },
	{ 7, "scp03tStructureError", "a protected segment is malformed" },
	{ 8, "scp03tSecurityError", "a protected segment failed its integrity check" },
	{ 9, "installFailedDueToIccidAlreadyExistsOnEuicc",
	  "a profile with this ICCID is already installed" },
	{ 10, "installFailedDueToInsufficientMemoryForProfile",
	  "the eUICC has not enough memory for the profile" },
	{ 11, "installFailedDueToInterruption", "the installation was interrupted" },
	{ 12, "installFailedDueToPEProcessingError", "the eUICC could not process the profile" },
	{ 13, "installFailedDueToDataMismatch", "the profile does not match its metadata" },
	{ 14, "testProfileInstallFailedDueToInvalidNaaKey", "the test profile has an invalid NAA key" },
	{ 15, "pprNotAllowed", "the profile's policy rules are not allowed on this eUICC" },
	{ 127, "installFailedDueToUnknownError", "unknown installation error" },
	END
};

static const struct code_entry cancel_reason[] = {
	{ 0, "endUserRejection", "the user rejected the download" },
	{ 1, "postponed", "the download was postponed" },
	{ 2, "timeout", "the download timed out" },
	{ 3, "pprNotAllowed", "the profile's policy rules are not allowed" },
	{ 4, "metadataMismatch", "the profile metadata does not match" },
	{ 5, "loadBppExecutionError", "loading the bound profile package failed" },
	{ 127, "undefinedReason", "undefined reason" },
	END
};

static const struct code_entry cancel_error[] = {
	{ 5, "invalidTransactionId", "the eUICC has no session with this transaction id" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry enable[] = {
	{ 0, "ok", "ok" },
	{ 1, "iccidOrAidNotFound", "no such profile on the eUICC" },
	{ 2, "profileNotInDisabledState", "the profile is already enabled" },
	{ 3, "disallowedByPolicy", "the profile policy rules of the enabled profile forbid it" },
	{ 4, "wrongProfileReenabling", "the profile cannot be re-enabled now" },
	{ 5, "catBusy", "the eUICC is busy with a proactive session" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry disable[] = {
	{ 0, "ok", "ok" },
	{ 1, "iccidOrAidNotFound", "no such profile on the eUICC" },
	{ 2, "profileNotInEnabledState", "the profile is not enabled" },
	{ 3, "disallowedByPolicy", "the profile's policy rules forbid disabling it" },
	{ 5, "catBusy", "the eUICC is busy with a proactive session" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry delete_profile[] = {
	{ 0, "ok", "ok" },
	{ 1, "iccidOrAidNotFound", "no such profile on the eUICC" },
	{ 2, "profileNotInDisabledState", "the profile is enabled" },
	{ 3, "disallowedByPolicy", "the profile's policy rules forbid deleting it" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry set_nickname[] = {
	{ 0, "ok", "ok" },
	{ 1, "iccidNotFound", "no such profile on the eUICC" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry set_default_dp[] = {
	{ 0, "ok", "ok" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry memory_reset[] = {
	{ 0, "ok", "ok" },
	{ 1, "nothingToDelete", "there was nothing to delete" },
	{ 5, "catBusy", "the eUICC is busy with a proactive session" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry list_notification[] = {
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry retrieve_notification[] = {
	{ 1, "noResultAvailable", "no such notification" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry remove_notification[] = {
	{ 0, "ok", "ok" },
	{ 1, "nothingToDelete", "no such notification" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry profiles_info[] = {
	{ 1, "incorrectInputValues", "the eUICC rejected the search criteria" },
	{ 127, "undefinedError", "undefined error" },
	END
};

static const struct code_entry *const tables[] = {
	[ES10_CODE_AUTH_SERVER] = auth_server,
	[ES10_CODE_PREPARE_DOWNLOAD] = prepare_download,
	[ES10_CODE_BPP_COMMAND] = bpp_command,
	[ES10_CODE_INSTALL_ERROR] = install_error,
	[ES10_CODE_CANCEL_REASON] = cancel_reason,
	[ES10_CODE_CANCEL_ERROR] = cancel_error,
	[ES10_CODE_ENABLE] = enable,
	[ES10_CODE_DISABLE] = disable,
	[ES10_CODE_DELETE] = delete_profile,
	[ES10_CODE_SET_NICKNAME] = set_nickname,
	[ES10_CODE_SET_DEFAULT_DP] = set_default_dp,
	[ES10_CODE_MEMORY_RESET] = memory_reset,
	[ES10_CODE_LIST_NOTIFICATION] = list_notification,
	[ES10_CODE_RETRIEVE_NOTIFICATION] = retrieve_notification,
	[ES10_CODE_REMOVE_NOTIFICATION] = remove_notification,
	[ES10_CODE_PROFILES_INFO] = profiles_info,
};

static const struct code_entry *lookup(enum es10_code_kind kind, int code)
{
	const struct code_entry *e;

	if ((unsigned)kind >= sizeof(tables) / sizeof(tables[0]) || !tables[kind])
		return NULL;
	for (e = tables[kind]; e->name; e++)
		if (e->code == code)
			return e;
	return NULL;
}

const char *es10_code_name(enum es10_code_kind kind, int code)
{
	const struct code_entry *e = lookup(kind, code);

	return e ? e->name : "unknown";
}

const char *es10_code_message(enum es10_code_kind kind, int code)
{
	const struct code_entry *e = lookup(kind, code);

	return e ? e->message : "unknown result code";
}

/* ISO/IEC 7816-4 and GlobalPlatform status words seen from eUICCs. */
static const struct {
	unsigned sw;
	unsigned mask;
	const char *message;
} sw_table[] = {
	{ 0x6283, 0xFFFF, "selected application is locked" },
	{ 0x6400, 0xFFFF, "execution error" },
	{ 0x6581, 0xFFFF, "memory failure" },
	{ 0x6700, 0xFFFF, "wrong length" },
	{ 0x6881, 0xFFFF, "logical channel not supported" },
	{ 0x6882, 0xFFFF, "secure messaging not supported" },
	{ 0x6982, 0xFFFF, "security status not satisfied" },
	{ 0x6983, 0xFFFF, "authentication method blocked" },
	{ 0x6985, 0xFFFF, "conditions of use not satisfied" },
	{ 0x6986, 0xFFFF, "command not allowed" },
	{ 0x6A80, 0xFFFF, "incorrect data in the command" },
	{ 0x6A81, 0xFFFF, "function not supported" },
	{ 0x6A82, 0xFFFF, "file or application not found" },
	{ 0x6A84, 0xFFFF, "not enough memory" },
	{ 0x6A86, 0xFFFF, "incorrect parameters P1-P2" },
	{ 0x6A87, 0xFFFF, "Lc inconsistent with P1-P2" },
	{ 0x6A88, 0xFFFF, "referenced data not found" },
	{ 0x6B00, 0xFFFF, "wrong parameters P1-P2" },
	{ 0x6D00, 0xFFFF, "instruction not supported" },
	{ 0x6E00, 0xFFFF, "class not supported" },
	{ 0x6F00, 0xFFFF, "no precise diagnosis" },
	{ 0x6200, 0xFF00, "warning, state unchanged" },
	{ 0x6300, 0xFF00, "warning, state changed" },
	{ 0x6400, 0xFF00, "execution error" },
	{ 0x6500, 0xFF00, "execution error, state changed" },
	{ 0x6700, 0xFF00, "wrong length" },
	{ 0x6800, 0xFF00, "function in CLA not supported" },
	{ 0x6900, 0xFF00, "command not allowed" },
	{ 0x6A00, 0xFF00, "wrong parameters" },
	{ 0x6C00, 0xFF00, "wrong Le" },
	{ 0x6F00, 0xFF00, "internal error" },
};

const char *es10_sw_message(unsigned sw)
{
	size_t i;

	for (i = 0; i < sizeof(sw_table) / sizeof(sw_table[0]); i++)
		if ((sw & sw_table[i].mask) == sw_table[i].sw)
			return sw_table[i].message;
	return "unknown status word";
}

const char *es10_event_name(unsigned event)
{
	switch (event) {
	case ES10_EVENT_INSTALL:
		return "install";
	case ES10_EVENT_ENABLE:
		return "enable";
	case ES10_EVENT_DISABLE:
		return "disable";
	case ES10_EVENT_DELETE:
		return "delete";
	default:
		return "unknown";
	}
}

const char *es10_profile_state_name(int state)
{
	switch (state) {
	case ES10_STATE_DISABLED:
		return "disabled";
	case ES10_STATE_ENABLED:
		return "enabled";
	default:
		return "unknown";
	}
}

const char *es10_profile_class_name(int cls)
{
	switch (cls) {
	case ES10_CLASS_TEST:
		return "test";
	case ES10_CLASS_PROVISIONING:
		return "provisioning";
	case ES10_CLASS_OPERATIONAL:
		return "operational";
	default:
		return "unknown";
	}
}
