/*
 * timeutil.h - UTC ISO 8601 times as int64 seconds since the epoch (pure, no clock).
 *
 * The clock is read only in src/main.c (ESIMCTL_NOW overrides it) and passed down.
 */
#ifndef ESIMCTL_TIMEUTIL_H
#define ESIMCTL_TIMEUTIL_H

#include <stdint.h>
#include "esimctl/error.h"

#define TIME_ISO_LEN 21 /* "2026-11-21T10:00:00Z" + NUL */
/*
 * "No time": the value of an optional time that is not set (a profile never transferred,
 * a pending binding whose ready time is unknown).  Every other int64_t is a time, 0
 * (1970-01-01T00:00:00Z) included; time_parse() never returns this one.
 */
#define TIME_NONE INT64_MIN

/*
 * Parse "YYYY-MM-DDTHH:MM[:SS][.frac](Z|+HH:MM|-HH:MM)" (also "YYYY-MM-DD", midnight UTC,
 * and a space instead of 'T').  Errors are ESIM_E_USAGE naming the offending part.
 */
int time_parse(const char *s, int64_t *out, struct esim_err *err);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into out (TIME_ISO_LEN bytes). */
void time_format(int64_t t, char out[TIME_ISO_LEN]);
/* Human duration: "45s", "12 min", "2 h 05 min", "1 d 3 h". */
void duration_format(int64_t seconds, char *out, size_t outsz);

#endif
