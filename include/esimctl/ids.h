/*
 * ids.h - identifiers: EID, ICCID, IMEI validation and BCD coding (pure).
 *
 * Validation errors are ESIM_E_USAGE with a message naming the identifier and the rule
 * ("EID '8904...': check digits do not match (EID mod 97 must be 1)").
 */
#ifndef ESIMCTL_IDS_H
#define ESIMCTL_IDS_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/error.h"

/* 1 when the digit string passes the Luhn check. */
int luhn_valid(const char *digits);
/* Luhn check digit (0-9) for a digit string that lacks it. */
int luhn_digit(const char *digits);

/* EID: 32 decimal digits, as an integer mod 97 == 1 (SGP.29 / ITU-T E.118). */
int eid_validate(const char *eid, struct esim_err *err);
/* ICCID: 18-20 decimal digits, '89' prefix not required, last digit Luhn. */
int iccid_validate(const char *iccid, struct esim_err *err);
/* IMEI: 15 decimal digits, Luhn. */
int imei_validate(const char *imei, struct esim_err *err);

/* ICCID <-> 10-byte swapped-nibble BCD (F padding in the high nibble). */
int iccid_to_bcd(const char *iccid, uint8_t out[10]);
/* out needs 21 bytes; trailing F nibbles are dropped. -1 on a non-BCD nibble. */
int iccid_from_bcd(const uint8_t in[10], char out[21]);
/* EID <-> 16 bytes plain BCD (no swap). */
int eid_to_bcd(const char *eid, uint8_t out[16]);
int eid_from_bcd(const uint8_t in[16], char out[33]);
/* IMEI (15 digits) -> 8 bytes swapped BCD with F padding. */
int imei_to_bcd(const char *imei, uint8_t out[8]);

#endif
