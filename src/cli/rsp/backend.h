/*
 * backend.h - eUICC backends by URI, for the commands.
 *
 * backend_probe() opens the backend named by uri, reads the EID over ES10c and closes
 * it again; it also normalises the URI (a soft: path becomes absolute) so the store
 * keeps a URI that works from any directory.
 *
 * A warning from the backend (a ModemManager that may hold the port) goes through
 * app_warn(), so --quiet and --json treat it as every other warning.
 *
 * isdr_aid (hex, or NULL): the ISD-R AID to select.  NULL selects the standard AID and,
 * when the eUICC refuses it, each known vendor alternative (esimctl/isdr.h).  aid_used
 * receives the hex of the AID that answered.  A malformed isdr_aid: ESIM_E_USAGE.
 */
#ifndef ESIMCTL_BACKEND_H
#define ESIMCTL_BACKEND_H

#include "cli/cmd.h"
#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/isdr.h"

int backend_probe(struct app *app, const char *uri, const char *isdr_aid, struct buf *normalized, char eid[33],
		  char aid_used[ISDR_AID_HEX], struct esim_err *err);

#endif
