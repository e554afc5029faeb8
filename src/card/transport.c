/*
 * transport.c - apdu_transport_open_uri(): pick an eUICC backend by URI scheme.
 *
 * Backends: the software eUICC ("soft:PATH", src/card/soft/soft.c), AT modems
 * ("at:DEVICE", "at-csim:DEVICE", src/card/at.c) and PC/SC readers ("pcsc:[READER]",
 * src/card/pcsc.c).
 */
#include <string.h>

#include "esimctl/apdu.h"
#include "esimctl/error.h"
#include "card/at.h"
#include "card/pcsc.h"
#include "card/soft/soft.h"

#define SUPPORTED "soft:PATH, at:DEVICE, at-csim:DEVICE, pcsc:[READER]"

int apdu_transport_open_uri(const char *uri, struct apdu_transport *out, struct esim_err *err)
{
	const char *colon;
	size_t slen;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!uri || !*uri)
		return esim_fail(err, ESIM_E_USAGE, "no eUICC backend given; supported: " SUPPORTED);
	if (!out)
		return esim_fail(err, ESIM_E_USAGE, "eUICC backend '%s': no transport to fill", uri);
	colon = strchr(uri, ':');
	slen = colon ? (size_t)(colon - uri) : strlen(uri);
	if (slen == 4 && strncmp(uri, "soft", 4) == 0 && colon) {
		if (!colon[1])
			return esim_fail(err, ESIM_E_USAGE, "eUICC backend 'soft' needs a state file "
					 "path: soft:PATH");
		return soft_euicc_open(colon + 1, out, err);
	}
	if (slen == 2 && strncmp(uri, "at", 2) == 0 && colon)
		return at_transport_open(colon + 1, 0, out, err);
	if (slen == 4 && strncmp(uri, "pcsc", 4) == 0 && colon)
		return pcsc_transport_open(colon + 1, out, err);
	if (slen == 7 && strncmp(uri, "at-csim", 7) == 0 && colon)
		return at_transport_open(colon + 1, 1, out, err);
	if (slen > 64)
		slen = 64;
	return esim_fail(err, ESIM_E_USAGE, "eUICC backend '%.*s' is not supported by this build; "
			 "supported: " SUPPORTED, (int)slen, uri);
}
