/*
 * store_json.h - the two ways store_json.c loads a text, for its tests.
 *
 * store_from_json() tries store_json_stream() and, when that declines, loads with
 * store_json_tree(); tests check that the two agree on every text.
 */
#ifndef ESIMCTL_STORE_JSON_H
#define ESIMCTL_STORE_JSON_H

#include <stddef.h>

#include "esimctl/model.h"

/* Record by record: 0 loaded, 1 declined (*out NULL, err cleared); never -1. */
int store_json_stream(const char *text, size_t len, const char *srcname, struct store **out,
		      struct esim_err *err);
/* The whole text as one cJSON tree: 0 loaded, -1 with err set. */
int store_json_tree(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err);

#endif
