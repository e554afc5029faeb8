/*
 * es9p_errors.c - ES9+ subjectCode/reasonCode pairs -> plain language (see esimctl/es9p.h).
 *
 * The pairs are those of SGP.22 as used by lpac (euicc/es9p_errors.c), euicc-go
 * (v2/rsp_errors.go) and osmo-smdpp; where the implementations disagree on a reason
 * code both rows are here (SGP.22 §5.6.1-§5.6.5).  The message says what happened, the hint
 * what the user can do.  Const tables, searched linearly (they are small).
 */
#include <stdio.h>
#include <string.h>

#include "esimctl/es9p.h"

struct es9p_error_row {
	const char *subject;
	const char *reason;
	const char *message;
	const char *hint;
};

#define NEW_CODE "ask the carrier for a new activation code"
#define CARRIER "contact the carrier: this eUICC cannot be served by this SM-DP+"
#define SERVER "the SM-DP+ is misconfigured; contact the carrier"

static const struct es9p_error_row rows[] = {
	/* eUICC, its certificates and its EID (subject 8.1.x) */
	{ "8.1", "4.8", "the eUICC does not have enough free memory for the profile",
	  "delete a profile you no longer need from the eUICC and try again" },
	{ "8.1", "6.1", "the SM-DP+ could not verify the eUICC's signature",
	  "start the download again; if it keeps failing, " CARRIER },
	{ "8.1.1", "2.2", "the SM-DP+ needs the EID for this order and none was given",
	  "ask the carrier to link the order to this device's EID" },
	{ "8.1.1", "3.8", "the SM-DP+ refused this eUICC: the order is for another EID",
	  "check that the activation code is meant for this device, or ask the carrier to issue it for this EID" },
	{ "8.1.1", "3.1", "the profile is already bound to another eUICC",
	  "ask the carrier to release the profile or to issue a new one" },
	{ "8.1.1", "3.10", "the profile is already bound to another eUICC",
	  "ask the carrier to release the profile or to issue a new one" },
	{ "8.1.2", "6.1", "the SM-DP+ rejected the eUICC manufacturer (EUM) certificate", CARRIER },
	{ "8.1.2", "6.3", "the eUICC manufacturer (EUM) certificate has expired", CARRIER },
	{ "8.1.3", "6.1", "the SM-DP+ rejected the eUICC certificate", CARRIER },
	{ "8.1.3", "6.3", "the eUICC certificate has expired", CARRIER },
	{ "8.1.4", "6.1", "the EID is outside the range its manufacturer certificate allows", CARRIER },

	/* the profile and the order (8.2.x) */
	{ "8.2", "1.2", "the profile has not been released for download yet",
	  "wait until the carrier has released the profile, or ask them to" },
	{ "8.2", "3.7", "the profile package is not available for a new download", NEW_CODE },
	{ "8.2.1", "3.3", "the profile (ICCID) is not available", NEW_CODE },
	{ "8.2.1", "3.9", "the SM-DP+ does not know the profile (unknown ICCID)", NEW_CODE },
	{ "8.2.5", "4.3", "the SM-DP+ has no profile suitable for this eUICC or device",
	  "check with the carrier that this device is supported" },
	{ "8.2.6", "3.8", "the SM-DP+ refused the matching ID (wrong or already used activation code)",
	  "check the activation code, or ask the carrier for a new one" },
	{ "8.2.6", "3.3", "the matching ID conflicts with another order", NEW_CODE },
	{ "8.2.7", "2.2", "the SM-DP+ requires a confirmation code and none was given",
	  "run the download again with the confirmation code from the carrier" },
	{ "8.2.7", "3.8", "the SM-DP+ refused the confirmation code",
	  "check the confirmation code and try again" },
	{ "8.2.7", "6.4", "too many wrong confirmation codes: the order is locked", NEW_CODE },

	/* the SM-DP+ itself and the download order (8.8.x) */
	{ "8.8", "3.1", "the SM-DP+ certificate carries an invalid OID", SERVER },
	{ "8.8", "3.10", "the SM-DP+ certificate carries an invalid OID", SERVER },
	{ "8.8.1", "3.8", "the SM-DP+ does not accept the address it was called by",
	  "check the SM-DP+ address in the activation code" },
	{ "8.8.2", "3.1", "the SM-DP+ supports none of the certificate issuers (CI) the eUICC knows",
	  "this eUICC and this SM-DP+ trust different CIs (a test eUICC with a production SM-DP+, or the reverse?)" },
	{ "8.8.3", "3.1", "the SM-DP+ does not support the eUICC's SGP.22 version", CARRIER },
	{ "8.8.4", "3.7", "the SM-DP+ has no certificate under a CI the eUICC trusts", CARRIER },
	{ "8.8.5", "4.1", "the download order has expired", NEW_CODE },
	{ "8.8.5", "4.10", "the download order has expired", NEW_CODE },
	{ "8.8.5", "6.4", "the download order has been tried too many times", NEW_CODE },

	/* SM-DS (8.9.x) */
	{ "8.9.1", "3.8", "the SM-DS does not accept the address it was called by",
	  "check the SM-DS address" },
	{ "8.9.5", "3.9", "the SM-DS does not know the event",
	  "the event may have been deleted; ask the carrier" },

	/* the session (8.10.x) and the CI (8.11.x) */
	{ "8.10.1", "3.9", "the SM-DP+ does not know the transaction (the session expired or the id is wrong)",
	  "start the download again" },
	{ "8.11.1", "3.9", "the SM-DP+ does not know the eUICC's CI public key", CARRIER },

	/* request format, as osmo-smdpp reports it */
	{ "1.2.1", "2.1", "the SM-DP+ rejected the request's content type",
	  "report this as an esimctl bug" },
	{ "1.3.1", "2.2", "the SM-DP+ found a mandatory element missing from the request",
	  "report this as an esimctl bug" },
};

/* What a reason code usually means, whatever the subject (SGP.22 §5.6; names unconfirmed). */
static const struct {
	const char *reason;
	const char *meaning;
} reasons[] = {
	{ "1.2", "not allowed" },
	{ "2.2", "mandatory element missing" },
	{ "3.1", "not supported" },
	{ "3.3", "conflict or already in use" },
	{ "3.7", "not available" },
	{ "3.8", "refused" },
	{ "3.9", "unknown" },
	{ "3.10", "invalid association" },
	{ "4.2", "execution error" },
	{ "4.8", "insufficient memory" },
	{ "4.10", "time to live expired" },
	{ "5.1", "inaccessible" },
	{ "6.1", "verification failed" },
	{ "6.3", "expired" },
	{ "6.4", "maximum number of retries exceeded" },
};

int es9p_error_lookup(const char *subject, const char *reason, const char **message,
		      const char **hint)
{
	size_t i;

	if (message)
		*message = NULL;
	if (hint)
		*hint = NULL;
	if (!subject || !reason)
		return 0;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].subject, subject) == 0 && strcmp(rows[i].reason, reason) == 0) {
			if (message)
				*message = rows[i].message;
			if (hint)
				*hint = rows[i].hint;
			return 1;
		}
	}
	return 0;
}

void es9p_error_explain(const char *subject, const char *reason, char *msg, size_t msgsz,
			char *hint, size_t hintsz)
{
	const char *m, *h, *meaning = NULL;
	size_t i;

	if (!subject)
		subject = "?";
	if (!reason)
		reason = "?";
	if (es9p_error_lookup(subject, reason, &m, &h)) {
		snprintf(msg, msgsz, "%s", m);
		if (hint)
			snprintf(hint, hintsz, "%s", h ? h : "");
		return;
	}
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].reason, reason) == 0)
			meaning = reasons[i].meaning;
	if (meaning)
		snprintf(msg, msgsz, "the SM-DP+ refused the request (subject %s, reason %s: %s)",
			 subject, reason, meaning);
	else
		snprintf(msg, msgsz, "the SM-DP+ refused the request (subject %s, reason %s)",
			 subject, reason);
	if (hint)
		snprintf(hint, hintsz,
			 "look up subject %s, reason %s in GSMA SGP.22, or contact the carrier",
			 subject, reason);
}
