/*
 * ids.c - EID, ICCID and IMEI validation and BCD coding (see ids.h; ETSI TS 102 221 §13.2, SGP.29 §10).
 *
 * The BCD helpers only check the digit alphabet and length; whether a value is a
 * well-formed identifier (check digits) is the *_validate() functions' business, so
 * a card's odd ICCID can still be encoded and decoded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esimctl/ids.h"

#define EID_DIGITS 32
#define ICCID_MIN 18
#define ICCID_MAX 20
#define IMEI_DIGITS 15
#define SHOW_MAX 40 /* characters of a bad value quoted in a message */

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Copy at most SHOW_MAX characters of s for a message, '?' for anything unprintable. */
static void show_value(const char *s, char out[SHOW_MAX + 4])
{
	size_t i;

	for (i = 0; i < SHOW_MAX && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int id_fail(struct esim_err *err, const char *what, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int id_fail(struct esim_err *err, const char *what, const char *value, const char *fmt, ...)
{
	char shown[SHOW_MAX + 4];
	char msg[256];
	va_list ap;

	show_value(value, shown);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return esim_fail(err, ESIM_E_USAGE, "%s '%s': %s", what, shown, msg);
}

/* Digits only, min..max of them.  Returns the length, or -1 with err set. */
static int check_digits(const char *what, const char *s, size_t min, size_t max,
			struct esim_err *err)
{
	size_t n;

	if (!s || !*s)
		return esim_fail(err, ESIM_E_USAGE, "%s: empty", what);
	for (n = 0; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (is_digit(c))
			continue;
		if (c >= 0x21 && c < 0x7f)
			return id_fail(err, what, s, "character '%c' at position %zu is not a "
				       "decimal digit", c, n + 1);
		return id_fail(err, what, s, "byte 0x%02X at position %zu is not a decimal "
			       "digit", c, n + 1);
	}
	if (n < min || n > max) {
		if (min == max)
			return id_fail(err, what, s, "%zu digits, must be exactly %zu", n, min);
		return id_fail(err, what, s, "%zu digits, must be %zu to %zu", n, min, max);
	}
	return (int)n;
}

static int all_digits(const char *s, size_t *len)
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++)
		if (!is_digit((unsigned char)s[n]))
			return 0;
	*len = n;
	return 1;
}

/* Luhn sum of s; double_last says whether the rightmost digit is doubled. */
static unsigned luhn_sum(const char *s, size_t n, int double_last)
{
	unsigned sum = 0;
	int dbl = double_last;

	while (n--) {
		unsigned d = (unsigned)(s[n] - '0');

		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
	}
	return sum;
}

int luhn_valid(const char *digits)
{
	size_t n;

	if (!all_digits(digits, &n) || n == 0)
		return 0;
	return luhn_sum(digits, n, 0) % 10 == 0;
}

/* -1 (no check digit) when the input is not a digit string. */
int luhn_digit(const char *digits)
{
	size_t n;

	if (!all_digits(digits, &n))
		return -1;
	return (int)((10 - luhn_sum(digits, n, 1) % 10) % 10);
}

/* SGP.29 / ITU-T E.118: the 32-digit number mod 97 is 1.  Computed digit by digit. */
int eid_validate(const char *eid, struct esim_err *err)
{
	unsigned m = 0, head = 0;
	size_t i;

	if (check_digits("EID", eid, EID_DIGITS, EID_DIGITS, err) < 0)
		return -1;
	for (i = 0; i < EID_DIGITS; i++) {
		m = (m * 10 + (unsigned)(eid[i] - '0')) % 97;
		if (i == EID_DIGITS - 3)
			head = m;
	}
	if (m != 1) {
		id_fail(err, "EID", eid, "check digits do not match (EID mod 97 must be 1)");
		/* With the last two digits set to 00 the check digits are 98 - (EID mod 97). */
		return esim_hint(err, "with these first 30 digits the check digits would be %02u",
				 98 - head * 100 % 97);
	}
	return 0;
}

static int check_luhn(const char *what, const char *s, size_t n, struct esim_err *err)
{
	char payload[ICCID_MAX + 1];
	int want;

	if (luhn_valid(s))
		return 0;
	memcpy(payload, s, n - 1);
	payload[n - 1] = '\0';
	want = luhn_digit(payload);
	return id_fail(err, what, s, "Luhn check digit does not match (last digit must be %d)",
		       want);
}

int iccid_validate(const char *iccid, struct esim_err *err)
{
	int n = check_digits("ICCID", iccid, ICCID_MIN, ICCID_MAX, err);

	return n < 0 ? -1 : check_luhn("ICCID", iccid, (size_t)n, err);
}

int imei_validate(const char *imei, struct esim_err *err)
{
	int n = check_digits("IMEI", imei, IMEI_DIGITS, IMEI_DIGITS, err);

	return n < 0 ? -1 : check_luhn("IMEI", imei, (size_t)n, err);
}

/*
 * Swapped-nibble BCD as in EF.ICCID: digit pair d1 d2 -> (d2 << 4) | d1, F-padded,
 * so a 19-digit ICCID ends in 0xF<d19>.  n digits into outlen bytes.
 */
static int to_swapped_bcd(const char *s, size_t maxdigits, uint8_t *out, size_t outlen)
{
	size_t n, i;

	if (!all_digits(s, &n) || n == 0 || n > maxdigits)
		return -1;
	for (i = 0; i < outlen; i++) {
		unsigned lo = 2 * i < n ? (unsigned)(s[2 * i] - '0') : 0xF;
		unsigned hi = 2 * i + 1 < n ? (unsigned)(s[2 * i + 1] - '0') : 0xF;

		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int iccid_to_bcd(const char *iccid, uint8_t out[10])
{
	return to_swapped_bcd(iccid, ICCID_MAX, out, 10);
}

int imei_to_bcd(const char *imei, uint8_t out[8])
{
	size_t n;

	if (!all_digits(imei, &n) || n != IMEI_DIGITS)
		return -1;
	return to_swapped_bcd(imei, IMEI_DIGITS, out, 8);
}

/* F padding may only trail: once an F nibble is seen, every later nibble must be F. */
int iccid_from_bcd(const uint8_t in[10], char out[21])
{
	size_t i, n = 0;
	int padding = 0;

	out[0] = '\0';
	for (i = 0; i < 20; i++) {
		unsigned nib = i % 2 ? in[i / 2] >> 4 : in[i / 2] & 0xF;

		if (nib == 0xF) {
			padding = 1;
			continue;
		}
		if (nib > 9 || padding) {
			out[0] = '\0';
			return -1;
		}
		out[n++] = (char)('0' + nib);
	}
	if (n == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

int eid_to_bcd(const char *eid, uint8_t out[16])
{
	size_t n, i;

	if (!all_digits(eid, &n) || n != EID_DIGITS)
		return -1;
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)((eid[2 * i] - '0') << 4 | (eid[2 * i + 1] - '0'));
	return 0;
}

int eid_from_bcd(const uint8_t in[16], char out[33])
{
	size_t i;

	for (i = 0; i < 16; i++) {
		unsigned hi = in[i] >> 4, lo = in[i] & 0xF;

		if (hi > 9 || lo > 9) {
			out[0] = '\0';
			return -1;
		}
		out[2 * i] = (char)('0' + hi);
		out[2 * i + 1] = (char)('0' + lo);
	}
	out[32] = '\0';
	return 0;
}
