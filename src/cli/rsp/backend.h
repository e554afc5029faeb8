/*
 * backend.h - eUICC backends by URI, for the commands.
 *
 * backend_probe() opens the backend named by uri, reads the EID over ES10c and closes
 * it again; it also normalises the URI (a soft: path becomes absolute) so the store
 * keeps a URI that works from any directory.
 */
#ifndef ESIMCTL_BACKEND_H
#define ESIMCTL_BACKEND_H

#include "esimctl/buf.h"
#include "esimctl/error.h"

int backend_probe(const char *uri, struct buf *normalized, char eid[33], struct esim_err *err);

#endif
