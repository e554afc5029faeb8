/*
 * jsonstream.h - --json output written as text instead of built as a cJSON tree.
 *
 * `esimctl list --json` on a store of 100,000 profiles prints about 70 MB; as a cJSON tree
 * (and then one printed string) that is several times the store's size in memory.
 * Instead list adds a placeholder member with app_json_stream(), and finish() in main.c
 * calls write() in its place while it prints the one document, after the command
 * returned 0.  release(arg), when not NULL, is called exactly once when the document has
 * been printed or dropped (the command failed); write() may use arg until then.
 *
 * The json_*_text() writers append exactly what cJSON_PrintUnformatted() gives for the
 * objects of json_profile() and json_device() (render.c), which are built from them, once
 * main.c has repaired the printed text (text_json_repair()): strings are escaped by
 * text_escape_json(), which also escapes DEL, C1 and bidi controls and replaces bytes
 * that are not UTF-8.
 */
#ifndef ESIMCTL_JSONSTREAM_H
#define ESIMCTL_JSONSTREAM_H

#include <stdio.h>

#include "cli/cmd.h"

void app_json_stream(struct app *app, const char *key, void (*write)(void *arg, FILE *out),
		     void *arg, void (*release)(void *arg));

/* c, unknown: the profile's policy, as app_policy_for() gives it. */
void json_profile_text(struct app *app, const struct store *s, const struct profile *p,
		       struct binding *const *b, size_t nb, const struct carrier_policy *c,
		       int unknown, struct buf *out);
void json_device_text(const struct store *s, const struct device *d, int64_t now, struct buf *out);
/* The same with only the holdings for which keep(arg, binding) is true (list --carrier). */
void json_device_text_kept(const struct store *s, const struct device *d, int64_t now,
			   int (*keep)(void *arg, const struct binding *b), void *arg, struct buf *out);

/* JSON text as cJSON_PrintUnformatted() writes it. */
void json_text_str(struct buf *out, const char *s);    /* NULL: null */
void json_text_number(struct buf *out, double d);

#endif
