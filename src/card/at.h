/*
 * at.h - the AT modem backend (src/card/at.c): "at:DEVICE" and "at-csim:DEVICE".
 *
 * Internal header (src/card/).  at_transport_open() opens and locks the serial port, sets
 * it raw and turns echo off (ATE0); the transport then moves APDUs with AT+CGLA on a
 * logical channel that AT+CCHO opened with the ISD-R selected (csim_only = 0), or with
 * AT+CSIM on the basic channel (csim_only = 1).  3GPP TS 27.007 §8.17, §8.43, §8.45, §8.46.
 */
#ifndef ESIMCTL_CARD_AT_H
#define ESIMCTL_CARD_AT_H

#include "esimctl/apdu.h"
#include "esimctl/error.h"

/*
 * Errors: the port is missing, not a terminal, not permitted, locked by another process
 * (flock or a live UUCP lock file) or silent -> ESIM_E_NOREADER naming the cause and the
 * process that holds it where known.  On error *out is zeroed and nothing is held.
 */
int at_transport_open(const char *device, int csim_only, struct apdu_transport *out,
		      struct esim_err *err);
/*
 * The same with a per-command timeout of timeout_ms (`euicc scan` uses a short one);
 * 0: ESIMCTL_AT_TIMEOUT or the default.  On an open failure err->detail names its kind
 * (for a scan to classify): one of the AT_KIND_ strings.
 */
int at_transport_open_timeout(const char *device, int csim_only, int timeout_ms,
			      struct apdu_transport *out, struct esim_err *err);
#define AT_KIND_BUSY "port busy"           /* flock or a live UUCP lock file */
#define AT_KIND_DENIED "permission denied"
#define AT_KIND_ABSENT "no such port"
#define AT_KIND_NOT_MODEM "not a modem"    /* not a terminal, or ATE0 refused */
#define AT_KIND_SILENT "no answer"         /* nothing within the timeout */
#define AT_KIND_OTHER "cannot open"

#endif
