/*
 * jsonnum.h - whole numbers for cJSON output, printed as cJSON prints them.
 *
 * cJSON prints every number through printf ("%1.15g", or "%d" in newer versions) and
 * reads it back with sscanf() to check it: about 4,500 instructions a number, which
 * `list --json` pays once per profile.  Below 10^15 in magnitude both give the plain
 * decimal digits, so json_number_int() makes such a number a raw value of those digits;
 * bigger ones are left to cJSON_CreateNumber().  The printed text is the same either way
 * (tests/unit/test_jsonnum.c compares with cJSON's own).  The value is for printing: a
 * raw item is not cJSON_IsNumber().
 */
#ifndef ESIMCTL_JSONNUM_H
#define ESIMCTL_JSONNUM_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* Magnitudes below this print as plain digits with "%1.15g". */
#define JSON_PLAIN_INT_LIMIT INT64_C(1000000000000000)

cJSON *json_number_int(int64_t v);

#endif
