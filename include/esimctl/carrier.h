/*
 * carrier.h - carrier transfer policies: a built-in data table plus user overrides (pure).
 *
 * The built-in rows live in src/core/carrier_table.c as const data, one row per carrier.
 * User rows come from $XDG_CONFIG_HOME/esimctl/carriers.json (format in
 * docs/carriers-format.md); carrier_table_new() takes that file's *text* so this module
 * does no I/O.  An override row whose name or alias matches a built-in row replaces
 * that row field by field (unset fields are inherited); other rows are added.
 */
#ifndef ESIMCTL_CARRIER_H
#define ESIMCTL_CARRIER_H

#include <stddef.h>
#include "esimctl/buf.h"
#include "esimctl/error.h"

enum carrier_model { MODEL_CONCURRENT, MODEL_SEQUENTIAL, MODEL_SINGLE_DEVICE };
enum cloud_sync { SYNC_UNKNOWN, SYNC_NO, SYNC_YES, SYNC_PARTIAL };

#define CARRIER_MAX_ALIASES 8

struct carrier_policy {
	const char *name;          /* display name, e.g. "AT&T" */
	const char *region;        /* "USA" */
	enum carrier_model model;
	int max_devices;           /* concurrent device limit; 1 for the others */
	enum cloud_sync cloud_sync;
	int transfer_min_s;        /* sequential transfer time range; -1 = unknown */
	int transfer_max_s;
	int cooldown_s;            /* 0 = none, -1 = unknown */
	int reprov_min_s;          /* single-device re-provisioning time; -1 = unknown/varies */
	int reprov_max_s;
	const char *reprov_text;   /* "24-48 h", "varies by country"; NULL if n/a */
	const char *notes;         /* NULL if none */
	const char *aliases[CARRIER_MAX_ALIASES]; /* NULL-terminated */
	int overridden;            /* row changed or added by the user's file */
	int is_default;            /* the conservative default for an unknown carrier */
};

struct carrier_table;

/*
 * Build the effective table.  override_json may be NULL (no user file).  Errors in the
 * user file are ESIM_E_USAGE naming srcname and the JSON path ("carriers[2].model:
 * must be one of concurrent, sequential, single-device").
 */
int carrier_table_new(const char *override_json, const char *srcname,
		      struct carrier_table **out, struct esim_err *err);
void carrier_table_free(struct carrier_table *t);
size_t carrier_table_count(const struct carrier_table *t);
const struct carrier_policy *carrier_table_at(const struct carrier_table *t, size_t i);

/*
 * Find by name or alias, case-insensitively, ignoring accents of Latin-1 letters in
 * UTF-8 ("América Móvil" == "america movil"), spaces, '-', '.' and '_', with '&' read as
 * "and" ("AT&T" == "AT and T").  A name that normalises to fewer than 2 characters never
 * matches ("E" is not "e&").  NULL when unknown.  Every normalised name and alias of the
 * table belongs to one carrier only: carrier_table_new() refuses a clash.
 */
const struct carrier_policy *carrier_find(const struct carrier_table *t, const char *name);
/*
 * Carriers whose name or an alias is close to name, closest first, at most max (up to
 * CARRIER_SUGGEST_MAX): names it begins, then names within a small edit distance
 * (optimal string alignment on normalised names).  For "did you mean" messages.
 */
#define CARRIER_SUGGEST_MAX 3
size_t carrier_suggest(const struct carrier_table *t, const char *name,
		       const struct carrier_policy **out, size_t max);
/* The conservative default for an unknown carrier (sequential, unknown times). */
const struct carrier_policy *carrier_default(void);
/* Normalise a name for matching into out ("AT&T" -> "atandt"). */
/* 1 when name has nothing to compare: no character left but '&' after normalising. */
int carrier_name_blank(const char *name);
void carrier_key(const char *name, char *out, size_t outsz);

const char *carrier_model_name(enum carrier_model m); /* "concurrent", "sequential", "single-device" */
const char *cloud_sync_name(enum cloud_sync s);       /* "unknown", "no", "yes", "partial" */

#endif
