/*
 * isdr.c - ISD-R AIDs: the standard one, the known vendor alternatives, parsing (isdr.h).
 */
#include <string.h>

#include "esimctl/der.h"
#include "esimctl/isdr.h"

#define STD_PREFIX 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10

/*
 * Sources of the alternatives (checked against both):
 *   OpenEUICC  estkme-group/openeuicc, app-common/src/main/java/im/angry/openeuicc/util/
 *              PreferenceUtils.kt, DEFAULT_AID_LIST (which refers to the Osmocom eUICC
 *              manual, euicc-manual.osmocom.org/docs/lpa/applet-id-oem/);
 *   EasyLPAC   creamlike1024/EasyLPAC, config.go, AID_5BER / AID_ESIMME / AID_XESIM
 *              (values it passes to lpac as LPAC_CUSTOM_ISD_R_AID).
 */
const struct isdr_aid isdr_known[] = {
	{ "standard", { STD_PREFIX, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00 }, 16,
	  "GSMA SGP.02 §2.2.3 (ISD-R AID), referred to by SGP.22" },
	{ "5ber.eSIM", { STD_PREFIX, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x05, 0x05, 0x00 }, 16,
	  "OpenEUICC DEFAULT_AID_LIST; EasyLPAC AID_5BER" },
	{ "eSIM.me", { STD_PREFIX, 0x00, 0x00, 0x00, 0x00, 0x89, 0x00, 0x00, 0x03, 0x00 }, 16,
	  "OpenEUICC DEFAULT_AID_LIST; EasyLPAC AID_ESIMME" },
	{ "Xesim", { STD_PREFIX, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x77 }, 16,
	  "OpenEUICC DEFAULT_AID_LIST; EasyLPAC AID_XESIM" },
	/* "A0 'estkme' FFFFFFFF 'ISD-R'" */
	{ "eSTK.me", { 0xA0, 0x65, 0x73, 0x74, 0x6B, 0x6D, 0x65, 0xFF, 0xFF, 0xFF, 0xFF, 0x49, 0x53,
		       0x44, 0x2D, 0x52 }, 16,
	  "OpenEUICC DEFAULT_AID_LIST" },
};

const size_t isdr_known_count = sizeof(isdr_known) / sizeof(isdr_known[0]);

const struct isdr_aid *isdr_aid_lookup(const uint8_t *aid, size_t len)
{
	for (size_t i = 0; aid && i < isdr_known_count; i++)
		if (isdr_known[i].len == len && memcmp(isdr_known[i].aid, aid, len) == 0)
			return &isdr_known[i];
	return NULL;
}

const char *isdr_aid_vendor(const uint8_t *aid, size_t len)
{
	const struct isdr_aid *k = isdr_aid_lookup(aid, len);

	return k ? k->vendor : "custom";
}

int isdr_aid_is_standard(const uint8_t *aid, size_t len)
{
	return isdr_aid_lookup(aid, len) == ISDR_STANDARD;
}

int isdr_aid_parse(const char *hex, const char *what, uint8_t out[ISDR_AID_MAX], size_t *len,
		   struct esim_err *err)
{
	size_t n, i;
	int cat;

	*len = 0;
	if (!what)
		what = "AID";
	if (!hex || !*hex)
		return esim_fail(err, ESIM_E_USAGE, "%s: empty; want 10 to 32 hex digits "
				 "(an AID of 5 to 16 bytes)", what);
	n = strlen(hex);
	for (i = 0; i < n; i++)
		if (hex_digit(hex[i]) < 0)
			return esim_fail(err, ESIM_E_USAGE, "%s '%.40s': '%c' at position %zu is not "
					 "a hex digit", what, hex, hex[i] >= 0x20 && hex[i] < 0x7F ?
					 hex[i] : '?', i + 1);
	if (n % 2)
		return esim_fail(err, ESIM_E_USAGE, "%s '%.40s': odd number of hex digits (%zu); "
				 "an AID is whole bytes", what, hex, n);
	if (n / 2 < ISDR_AID_MIN || n / 2 > ISDR_AID_MAX)
		return esim_fail(err, ESIM_E_USAGE, "%s '%.40s': %zu bytes; an AID has 5 to 16 "
				 "(10 to 32 hex digits)", what, hex, n / 2);
	cat = hex_digit(hex[0]);
	if (cat == 0xB || cat == 0xC)
		return esim_fail(err, ESIM_E_USAGE, "%s '%.40s': category '%X' (the first hex "
				 "digit) is reserved by ISO/IEC 7816-4; ISD-R AIDs start with A",
				 what, hex, cat);
	for (i = 0; i < n / 2; i++)
		out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	*len = n / 2;
	return 0;
}

char *isdr_aid_hex(const uint8_t *aid, size_t len, char out[ISDR_AID_HEX])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (len > ISDR_AID_MAX)
		len = ISDR_AID_MAX;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[aid[i] >> 4];
		out[2 * i + 1] = digits[aid[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}
