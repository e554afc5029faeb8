/*
 * error.h - the one error type of esimctl.
 *
 * Library code fills a struct esim_err and returns -1; only src/main.c prints it and
 * turns err->status into the exit status.  The numeric values of enum esim_status are
 * a public contract (docs/EXIT-CODES.md): never renumber or reuse them.
 *
 *	if (fstat(fd, &st) == -1)
 *		return esim_fail(err, ESIM_E_STORE, "cannot stat '%s': %s", path, strerror(errno));
 */
#ifndef ESIMCTL_ERROR_H
#define ESIMCTL_ERROR_H

enum esim_status {
	ESIM_OK = 0,
	ESIM_E_OTHER = 1,     /* anything else */
	ESIM_E_USAGE = 2,     /* bad option or argument value (activation code, EID, time...) */
	ESIM_E_STORE = 3,     /* store corrupt, unreadable, unknown schema */
	ESIM_E_BUSY = 4,      /* store lock not obtained within --wait-lock */
	ESIM_E_NOTFOUND = 5,  /* profile, device, notification... not found */
	ESIM_E_POLICY = 6,    /* refused by carrier policy */
	ESIM_E_NETWORK = 7,   /* network or TLS failure, non-2xx HTTP */
	ESIM_E_SMDP = 8,      /* refused by the SM-DP+ (functionExecutionStatus Failed) */
	ESIM_E_EUICC = 9,     /* eUICC or APDU error */
	ESIM_E_NOREADER = 10, /* no reader, eUICC unreachable */
	ESIM_E_OUTPUT = 11,   /* output could not be written */
};
#define ESIM_STATUS_MAX 11

struct esim_err {
	enum esim_status status;
	char msg[512];     /* complete sentence-free message: "cannot open store 'x': ..." */
	char hint[256];    /* optional: what to do about it ("run 'esimctl device list'") */
	char detail[128];  /* optional: machine detail ("SW 6A88", "ES9+ 8.2.6/3.8") */
	/* SM-DP+ refusals (status ESIM_E_SMDP) keep the server's own words */
	char subject_code[32];
	char reason_code[32];
	char smdp_message[256];
};

/* Set err (if not NULL) and return -1. */
int esim_fail(struct esim_err *err, enum esim_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Set err->hint; returns -1 so it can be chained: return esim_hint(err, "..."). */
int esim_hint(struct esim_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stable snake_case name of a status, e.g. "policy_denied". */
const char *esim_status_name(enum esim_status status);
void esim_err_clear(struct esim_err *err);

#endif
