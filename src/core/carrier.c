/*
 * carrier.c - carrier lookup, name normalisation and the user override loader.
 *
 * The effective table starts as a copy of the built-in rows (carrier_table.c) and is
 * then patched by the user's carriers.json text, format in docs/carriers-format.md.
 * The loader is strict: unknown keys, duplicate keys, wrong types and out-of-range
 * values are errors naming the JSON path, since a typo silently ignored would make
 * esimctl apply the wrong policy.  Nothing here reads files.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "esimctl/buf.h"
#include "esimctl/carrier.h"

/* Defined in carrier_table.c. */
extern const struct carrier_policy carrier_builtin_rows[];
extern const size_t carrier_builtin_nrows;

#define KEY_MAX 256              /* normalised keys; names are capped well below */
#define NAME_MAX_BYTES 64        /* name, region, each alias */
#define REPROV_TEXT_MAX_BYTES 64
#define NOTES_MAX_BYTES 160      /* notes end up in 256-byte warning lines */
#define MAX_DEVICES_LIMIT 64
#define MAX_ENTRIES 1000         /* lookups are linear; a real file has a handful */
#define SECONDS_LIMIT (366 * 24 * 3600)
#define DEFAULT_REGION "unknown"

struct carrier_table {
	struct carrier_policy *rows;
	size_t nrows, arows;
	char **owned;            /* every string copied from the user's JSON */
	size_t nowned, aowned;
};

static const struct carrier_policy default_policy = {
	.name = "unknown carrier",
	.region = DEFAULT_REGION,
	.model = MODEL_SEQUENTIAL,
	.max_devices = 1,
	.cloud_sync = SYNC_UNKNOWN,
	.transfer_min_s = -1,
	.transfer_max_s = -1,
	.cooldown_s = -1,
	.reprov_min_s = -1,
	.reprov_max_s = -1,
	.reprov_text = NULL,
	.notes = NULL,
	.aliases = { NULL },
	.overridden = 0,
	.is_default = 1,
};

const struct carrier_policy *carrier_default(void)
{
	return &default_policy;
}

const char *carrier_model_name(enum carrier_model m)
{
	switch (m) {
	case MODEL_CONCURRENT:
		return "concurrent";
	case MODEL_SEQUENTIAL:
		return "sequential";
	case MODEL_SINGLE_DEVICE:
		return "single-device";
	}
	return "unknown";
}

const char *cloud_sync_name(enum cloud_sync s)
{
	switch (s) {
	case SYNC_UNKNOWN:
		return "unknown";
	case SYNC_NO:
		return "no";
	case SYNC_YES:
		return "yes";
	case SYNC_PARTIAL:
		return "partial";
	}
	return "unknown";
}

/*
 * ASCII replacements for U+00C0..U+00FF (UTF-8 C3 80..C3 BF), already lower case.
 * NULL for the two symbols in that range (multiplication and division signs), which
 * are kept as they are.
 */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c",   /* À Á Â Ã Ä Å Æ Ç */
	"e", "e", "e", "e", "i", "i", "i", "i",    /* È É Ê Ë Ì Í Î Ï */
	"d", "n", "o", "o", "o", "o", "o", NULL,   /* Ð Ñ Ò Ó Ô Õ Ö × */
	"o", "u", "u", "u", "u", "y", "th", "ss",  /* Ø Ù Ú Û Ü Ý Þ ß */
	"a", "a", "a", "a", "a", "a", "ae", "c",   /* à á â ã ä å æ ç */
	"e", "e", "e", "e", "i", "i", "i", "i",    /* è é ê ë ì í î ï */
	"d", "n", "o", "o", "o", "o", "o", NULL,   /* ð ñ ò ó ô õ ö ÷ */
	"o", "u", "u", "u", "u", "y", "th", "y",   /* ø ù ú û ü ý þ ÿ */
};

static int key_ignored_ascii(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       c == '&' || c == '-' || c == '.' || c == '_';
}

void carrier_key(const char *name, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = 0;

	if (!out || outsz == 0)
		return;
	out[0] = '\0';
	if (!name)
		return;
	while (*s) {
		char one[3] = { 0 };
		const char *rep = one;
		size_t len;

		if (*s < 0x80) {
			if (key_ignored_ascii(*s)) {
				s++;
				continue;
			}
			one[0] = (char)tolower(*s);
			s++;
		} else if (s[0] == 0xc3 && s[1] >= 0x80 && s[1] <= 0xbf) {
			rep = latin1_fold[s[1] - 0x80];
			if (!rep) {
				one[0] = (char)s[0];
				one[1] = (char)s[1];
				rep = one;
			}
			s += 2;
		} else if (s[0] == 0xc2 && s[1] == 0xa0) {
			s += 2;                 /* no-break space */
			continue;
		} else if ((s[0] == 0xcc && s[1] >= 0x80 && s[1] <= 0xbf) ||
			   (s[0] == 0xcd && s[1] >= 0x80 && s[1] <= 0xaf)) {
			s += 2;                 /* combining accent (decomposed "é") */
			continue;
		} else {
			one[0] = (char)*s;     /* other bytes are compared as they are */
			s++;
		}
		len = strlen(rep);
		if (n + len >= outsz)
			break;
		memcpy(out + n, rep, len);
		n += len;
		out[n] = '\0';
	}
}

/* 1 when key matches the name or one of the aliases of c. */
static int policy_has_key(const struct carrier_policy *c, const char *key)
{
	char k[KEY_MAX];

	carrier_key(c->name, k, sizeof(k));
	if (strcmp(k, key) == 0)
		return 1;
	for (size_t i = 0; i < CARRIER_MAX_ALIASES && c->aliases[i]; i++) {
		carrier_key(c->aliases[i], k, sizeof(k));
		if (strcmp(k, key) == 0)
			return 1;
	}
	return 0;
}

static const struct carrier_policy *rows_of(const struct carrier_table *t, size_t *n)
{
	if (!t) {
		*n = carrier_builtin_nrows;
		return carrier_builtin_rows;
	}
	*n = t->nrows;
	return t->rows;
}

/* Index of the row answering to key, or -1. */
static long find_index(const struct carrier_table *t, const char *key)
{
	size_t n;
	const struct carrier_policy *rows = rows_of(t, &n);

	if (!key[0])
		return -1;
	for (size_t i = 0; i < n; i++)
		if (policy_has_key(&rows[i], key))
			return (long)i;
	return -1;
}

const struct carrier_policy *carrier_find(const struct carrier_table *t, const char *name)
{
	char key[KEY_MAX];
	size_t n;
	const struct carrier_policy *rows = rows_of(t, &n);
	long i;

	carrier_key(name, key, sizeof(key));
	i = find_index(t, key);
	return i < 0 ? NULL : &rows[i];
}

size_t carrier_table_count(const struct carrier_table *t)
{
	return t ? t->nrows : carrier_builtin_nrows;
}

const struct carrier_policy *carrier_table_at(const struct carrier_table *t, size_t i)
{
	size_t n;
	const struct carrier_policy *rows = rows_of(t, &n);

	return i < n ? &rows[i] : NULL;
}

void carrier_table_free(struct carrier_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->rows);
	free(t);
}

static const char *table_strdup(struct carrier_table *t, const char *s)
{
	if (t->nowned == t->aowned) {
		t->aowned = t->aowned ? t->aowned * 2 : 16;
		t->owned = xrealloc(t->owned, t->aowned * sizeof(*t->owned));
	}
	t->owned[t->nowned] = xstrdup(s);
	return t->owned[t->nowned++];
}

static struct carrier_policy *table_append(struct carrier_table *t)
{
	if (t->nrows == t->arows) {
		t->arows = t->arows ? t->arows * 2 : 32;
		t->rows = xrealloc(t->rows, t->arows * sizeof(*t->rows));
	}
	memset(&t->rows[t->nrows], 0, sizeof(t->rows[0]));
	return &t->rows[t->nrows++];
}

/* ---- the override loader ---- */

struct loader {
	const char *src;          /* file name for messages */
	struct esim_err *err;
	struct carrier_table *t;
	unsigned char *touched;   /* per row: set by an earlier entry of this file */
	long *touched_by;         /* that entry's index */
	size_t atouched;
};

static int load_fail(struct loader *ld, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int load_fail(struct loader *ld, const char *path, const char *fmt, ...)
{
	char rule[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	return esim_fail(ld->err, ESIM_E_USAGE, "%s: %s: %s", ld->src, path, rule);
}

/*
 * Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) with no
 * C0 or C1 control characters and no DEL.
 */
static int valid_text(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned cp;
		int more;

		if (*s < 0x80) {
			if (*s < 0x20 || *s == 0x7f)
				return 0;
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf) {
			cp = *s & 0x1fu;
			more = 1;
		} else if (*s >= 0xe0 && *s <= 0xef) {
			cp = *s & 0x0fu;
			more = 2;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			cp = *s & 0x07u;
			more = 3;
		} else {
			return 0;
		}
		s++;
		for (int i = 0; i < more; i++, s++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*s & 0x3fu);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
	}
	return 1;
}

/* A copy of s that is safe to quote in a message: at most 40 bytes, no controls. */
static void quotable(const char *s, char out[48])
{
	size_t n = 0;

	for (; *s && n < 40; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	if (*s) {
		/* do not end inside a UTF-8 sequence */
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)out[n - 1] >= 0xc0)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Line and column (in characters, both from 1) of position pos in text. */
static void line_col(const char *text, const char *pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < pos && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/*
 * A repeated key is an error: cJSON keeps both and a lookup would pick one silently.
 * Keys are checked against a short allowed list first, so `seen` (one bit per allowed
 * key) finds repeats in linear time.
 */
static int check_repeat(struct loader *ld, unsigned *seen, size_t idx, const char *key,
			const char *path)
{
	char q[48];

	if (!(*seen & (1u << idx))) {
		*seen |= 1u << idx;
		return 0;
	}
	quotable(key, q);
	return load_fail(ld, path, "key '%s' appears more than once", q);
}

static int check_string(struct loader *ld, const cJSON *v, const char *path, size_t maxlen,
			int allow_null)
{
	if (allow_null && cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return load_fail(ld, path, allow_null ? "must be a string or null" : "must be a string");
	if (!valid_text(v->valuestring))
		return load_fail(ld, path, "must be UTF-8 text without control characters");
	if (!v->valuestring[0])
		return load_fail(ld, path, "must not be empty");
	if (strlen(v->valuestring) > maxlen)
		return load_fail(ld, path, "too long (at most %zu bytes)", maxlen);
	return 0;
}

/* A name or alias: a string whose normalised key is not empty. */
static int check_name(struct loader *ld, const cJSON *v, const char *path)
{
	char key[KEY_MAX];

	if (check_string(ld, v, path, NAME_MAX_BYTES, 0) < 0)
		return -1;
	carrier_key(v->valuestring, key, sizeof(key));
	if (!key[0])
		return load_fail(ld, path, "must contain a letter or digit");
	return 0;
}

/* A duration in `unit` seconds (60 for minutes...), rounded to whole seconds. */
static int get_seconds(struct loader *ld, const cJSON *v, const char *path, int unit, int *out)
{
	double s;

	if (!cJSON_IsNumber(v))
		return load_fail(ld, path, "must be a number");
	if (v->valuedouble < 0)
		return load_fail(ld, path, "must not be negative");
	s = v->valuedouble * unit;
	if (!isfinite(s) || s > SECONDS_LIMIT)
		return load_fail(ld, path, "too large (at most 366 days)");
	*out = (int)lround(s);
	return 0;
}

/* number | [min, max] | null (unknown: -1, -1) */
static int get_range(struct loader *ld, const cJSON *v, const char *path, int unit,
		     int *min, int *max)
{
	char p[160];
	const cJSON *a, *b;

	if (cJSON_IsNull(v)) {
		*min = *max = -1;
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		if (get_seconds(ld, v, path, unit, min) < 0)
			return -1;
		*max = *min;
		return 0;
	}
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
		return load_fail(ld, path, "must be a number, [min, max] or null");
	a = v->child;
	b = a->next;
	snprintf(p, sizeof(p), "%s[0]", path);
	if (get_seconds(ld, a, p, unit, min) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s[1]", path);
	if (get_seconds(ld, b, p, unit, max) < 0)
		return -1;
	if (*min > *max)
		return load_fail(ld, path, "min must not be greater than max");
	return 0;
}

/* What one entry of "carriers" sets; has_* says whether the key was present. */
struct patch {
	const char *name;
	int has_region, has_model, has_max, has_sync, has_transfer, has_cooldown;
	int has_reprov, has_reprov_text, has_notes;
	const char *region;
	enum carrier_model model;
	int max_devices;
	enum cloud_sync sync;
	int tmin, tmax, cooldown, rmin, rmax;
	const char *reprov_text, *notes;     /* NULL when set to null */
	const cJSON *aliases;
};

static const char *const entry_keys[] = {
	"name", "region", "model", "max_devices", "cloud_sync",
	"transfer_minutes", "transfer_seconds", "cooldown_hours", "cooldown_seconds",
	"reprovision_hours", "reprovision_seconds", "reprovision_text", "notes", "aliases",
};
#define NENTRY_KEYS (sizeof(entry_keys) / sizeof(entry_keys[0]))
_Static_assert(NENTRY_KEYS <= 32, "check_repeat keeps one bit per key in an unsigned");

static int unknown_key(struct loader *ld, const char *path, const char *key,
		       const char *const *allowed, size_t nallowed)
{
	char q[48];
	char list[400];
	size_t n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < nallowed && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", allowed[i]);
	quotable(key, q);
	if (path[0])
		return load_fail(ld, path, "unknown key '%s' (allowed: %s)", q, list);
	return esim_fail(ld->err, ESIM_E_USAGE, "%s: unknown key '%s' at the top level (allowed: %s)",
			 ld->src, q, list);
}

static int parse_model(const char *s, enum carrier_model *out)
{
	static const enum carrier_model all[] = { MODEL_CONCURRENT, MODEL_SEQUENTIAL, MODEL_SINGLE_DEVICE };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, carrier_model_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

static int parse_sync(const char *s, enum cloud_sync *out)
{
	static const enum cloud_sync all[] = { SYNC_UNKNOWN, SYNC_NO, SYNC_YES, SYNC_PARTIAL };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, cloud_sync_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

/* Type- and range-check one entry into p (cross-field rules come in apply_patch). */
static int read_patch(struct loader *ld, const cJSON *e, const char *epath, struct patch *p)
{
	char path[160];
	const cJSON *name = NULL;
	const char *transfer_key = NULL, *cooldown_key = NULL, *reprov_key = NULL;
	unsigned seen = 0;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(e))
		return load_fail(ld, epath, "must be an object");
	for (const cJSON *v = e->child; v; v = v->next) {
		const char *k = v->string;
		size_t i;

		for (i = 0; i < NENTRY_KEYS; i++)
			if (strcmp(k, entry_keys[i]) == 0)
				break;
		if (i == NENTRY_KEYS)
			return unknown_key(ld, epath, k, entry_keys, NENTRY_KEYS);
		if (check_repeat(ld, &seen, i, k, epath) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s.%s", epath, k);

		if (strcmp(k, "name") == 0) {
			if (check_name(ld, v, path) < 0)
				return -1;
			name = v;
		} else if (strcmp(k, "region") == 0) {
			if (check_string(ld, v, path, NAME_MAX_BYTES, 0) < 0)
				return -1;
			p->has_region = 1;
			p->region = v->valuestring;
		} else if (strcmp(k, "model") == 0) {
			if (!cJSON_IsString(v) || parse_model(v->valuestring, &p->model) < 0)
				return load_fail(ld, path, "must be one of concurrent, sequential, single-device");
			p->has_model = 1;
		} else if (strcmp(k, "max_devices") == 0) {
			if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
			    v->valuedouble < 1 || v->valuedouble > MAX_DEVICES_LIMIT)
				return load_fail(ld, path, "must be a whole number from 1 to %d",
						 MAX_DEVICES_LIMIT);
			p->has_max = 1;
			p->max_devices = (int)v->valuedouble;
		} else if (strcmp(k, "cloud_sync") == 0) {
			if (!cJSON_IsString(v) || parse_sync(v->valuestring, &p->sync) < 0)
				return load_fail(ld, path, "must be one of yes, no, partial, unknown");
			p->has_sync = 1;
		} else if (strncmp(k, "transfer_", 9) == 0) {
			if (transfer_key)
				return load_fail(ld, path, "give only one of %s and %s", transfer_key, k);
			if (get_range(ld, v, path, k[9] == 'm' ? 60 : 1, &p->tmin, &p->tmax) < 0)
				return -1;
			transfer_key = k;
			p->has_transfer = 1;
		} else if (strncmp(k, "cooldown_", 9) == 0) {
			if (cooldown_key)
				return load_fail(ld, path, "give only one of %s and %s", cooldown_key, k);
			if (cJSON_IsNull(v))
				p->cooldown = -1;
			else if (!cJSON_IsNumber(v))
				return load_fail(ld, path, "must be a number or null");
			else if (get_seconds(ld, v, path, k[9] == 'h' ? 3600 : 1, &p->cooldown) < 0)
				return -1;
			cooldown_key = k;
			p->has_cooldown = 1;
		} else if (strcmp(k, "reprovision_text") == 0) {
			if (check_string(ld, v, path, REPROV_TEXT_MAX_BYTES, 1) < 0)
				return -1;
			p->has_reprov_text = 1;
			p->reprov_text = cJSON_IsNull(v) ? NULL : v->valuestring;
		} else if (strncmp(k, "reprovision_", 12) == 0) {
			if (reprov_key)
				return load_fail(ld, path, "give only one of %s and %s", reprov_key, k);
			if (get_range(ld, v, path, k[12] == 'h' ? 3600 : 1, &p->rmin, &p->rmax) < 0)
				return -1;
			reprov_key = k;
			p->has_reprov = 1;
		} else if (strcmp(k, "notes") == 0) {
			if (check_string(ld, v, path, NOTES_MAX_BYTES, 1) < 0)
				return -1;
			p->has_notes = 1;
			p->notes = cJSON_IsNull(v) ? NULL : v->valuestring;
		} else if (strcmp(k, "aliases") == 0) {
			size_t j = 0;

			if (!cJSON_IsArray(v))
				return load_fail(ld, path, "must be an array of strings");
			for (const cJSON *a = v->child; a; a = a->next, j++) {
				char apath[192];

				snprintf(apath, sizeof(apath), "%s[%zu]", path, j);
				if (check_name(ld, a, apath) < 0)
					return -1;
			}
			p->aliases = v;
		}
	}
	if (!name) {
		snprintf(path, sizeof(path), "%s.name", epath);
		return load_fail(ld, path, "required");
	}
	p->name = name->valuestring;
	return 0;
}

static void touched_grow(struct loader *ld, size_t n)
{
	if (n <= ld->atouched)
		return;
	ld->touched = xrealloc(ld->touched, n);
	ld->touched_by = xrealloc(ld->touched_by, n * sizeof(*ld->touched_by));
	memset(ld->touched + ld->atouched, 0, n - ld->atouched);
	ld->atouched = n;
}

/* Add alias a to row r unless r already answers to it. */
static int add_alias(struct loader *ld, struct carrier_policy *r, const char *a, const char *path)
{
	char key[KEY_MAX];
	size_t n = 0;

	carrier_key(a, key, sizeof(key));
	if (policy_has_key(r, key))
		return 0;
	while (n < CARRIER_MAX_ALIASES && r->aliases[n])
		n++;
	if (n >= CARRIER_MAX_ALIASES - 1)
		return load_fail(ld, path, "too many aliases (at most %d per carrier, built-in ones included)",
				 CARRIER_MAX_ALIASES - 1);
	r->aliases[n] = table_strdup(ld->t, a);
	r->aliases[n + 1] = NULL;
	return 0;
}

static int apply_patch(struct loader *ld, const struct patch *p, size_t idx, const char *epath)
{
	char path[160], key[KEY_MAX];
	struct carrier_table *t = ld->t;
	struct carrier_policy row;
	long at;
	int was_concurrent;

	carrier_key(p->name, key, sizeof(key));
	at = find_index(t, key);
	if (at >= 0 && ld->touched[at]) {
		char q[48];

		quotable(p->name, q);
		snprintf(path, sizeof(path), "%s.name", epath);
		return load_fail(ld, path, "'%s' names the same carrier as carriers[%ld]", q,
				 ld->touched_by[at]);
	}
	if (at >= 0) {
		row = t->rows[at];
		was_concurrent = row.model == MODEL_CONCURRENT;
	} else {
		if (!p->has_model) {
			snprintf(path, sizeof(path), "%s.model", epath);
			return load_fail(ld, path, "required for a carrier that is not built in");
		}
		memset(&row, 0, sizeof(row));
		row.name = table_strdup(t, p->name);
		row.region = DEFAULT_REGION;
		row.model = p->model;
		row.max_devices = 1;
		row.cloud_sync = SYNC_UNKNOWN;
		row.transfer_min_s = row.transfer_max_s = -1;
		row.cooldown_s = -1;
		row.reprov_min_s = row.reprov_max_s = -1;
		was_concurrent = 0;
	}

	if (p->has_region)
		row.region = table_strdup(t, p->region);
	if (p->has_model)
		row.model = p->model;
	if (p->has_sync)
		row.cloud_sync = p->sync;
	if (p->has_transfer) {
		row.transfer_min_s = p->tmin;
		row.transfer_max_s = p->tmax;
	}
	if (p->has_cooldown)
		row.cooldown_s = p->cooldown;
	if (p->has_reprov) {
		row.reprov_min_s = p->rmin;
		row.reprov_max_s = p->rmax;
	}
	if (p->has_reprov_text)
		row.reprov_text = p->reprov_text ? table_strdup(t, p->reprov_text) : NULL;
	if (p->has_notes)
		row.notes = p->notes ? table_strdup(t, p->notes) : NULL;

	snprintf(path, sizeof(path), "%s.max_devices", epath);
	if (row.model == MODEL_CONCURRENT) {
		if (p->has_max)
			row.max_devices = p->max_devices;
		else if (!was_concurrent)
			return load_fail(ld, path, "required for a concurrent carrier");
	} else {
		if (p->has_max && p->max_devices != 1)
			return load_fail(ld, path, "must be 1 for a %s carrier",
					 carrier_model_name(row.model));
		row.max_devices = 1;
	}

	if (p->aliases) {
		size_t j = 0;

		for (const cJSON *a = p->aliases->child; a; a = a->next, j++) {
			char apath[192], akey[KEY_MAX];
			long other;

			snprintf(apath, sizeof(apath), "%s.aliases[%zu]", epath, j);
			carrier_key(a->valuestring, akey, sizeof(akey));
			other = find_index(t, akey);
			if (other >= 0 && other != at) {
				char q[48];

				quotable(a->valuestring, q);
				return load_fail(ld, apath, "'%s' already names %s", q, t->rows[other].name);
			}
			if (add_alias(ld, &row, a->valuestring, apath) < 0)
				return -1;
		}
	}

	row.overridden = 1;
	row.is_default = 0;
	if (at < 0) {
		at = (long)t->nrows;
		*table_append(t) = row;
		touched_grow(ld, t->nrows);
	} else {
		t->rows[at] = row;
	}
	ld->touched[at] = 1;
	ld->touched_by[at] = (long)idx;
	return 0;
}

static int load_overrides(struct loader *ld, const char *text)
{
	const char *end = NULL;
	const char *p;
	cJSON *root;
	const cJSON *carriers = NULL;
	int ret = -1;

	for (p = text; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	if (!*p)
		return esim_fail(ld->err, ESIM_E_USAGE,
				 "%s: empty file (expected {\"carriers\": [...]})", ld->src);
	root = cJSON_ParseWithLengthOpts(text, strlen(text) + 1, &end, 1);
	if (!root) {
		int line, col;
		char near[48];

		if (!end)
			end = text + strlen(text);
		/*
		 * cJSON sometimes reports the byte after the offending one; when that lands on
		 * white space, point at the last character before it instead.
		 */
		while (end > text && *end && strchr(" \t\r\n", *end))
			end--;
		line_col(text, end, &line, &col);
		if (*end) {
			char frag[16];
			size_t n = 0;

			/* up to 10 bytes, not cutting a UTF-8 sequence */
			while (end[n] && end[n] != '\n' && n < sizeof(frag) - 1 &&
			       (n < 10 || ((unsigned char)end[n] & 0xc0) == 0x80))
				n++;
			memcpy(frag, end, n);
			frag[n] = '\0';
			quotable(frag, near);
			return esim_fail(ld->err, ESIM_E_USAGE,
					 "%s: line %d, column %d: invalid JSON near '%s'",
					 ld->src, line, col, near);
		}
		return esim_fail(ld->err, ESIM_E_USAGE,
				 "%s: line %d, column %d: invalid JSON (unexpected end of file)",
				 ld->src, line, col);
	}

	if (!cJSON_IsObject(root)) {
		esim_fail(ld->err, ESIM_E_USAGE,
			  "%s: the top level must be an object: {\"carriers\": [...]}", ld->src);
		goto out;
	}
	for (const cJSON *v = root->child; v; v = v->next) {
		static const char *const top_keys[] = { "carriers" };
		unsigned seen = carriers ? 1 : 0;

		if (strcmp(v->string, "carriers") != 0) {
			unknown_key(ld, "", v->string, top_keys, 1);
			goto out;
		}
		if (check_repeat(ld, &seen, 0, v->string, "top level") < 0)
			goto out;
		carriers = v;
	}
	if (!carriers) {
		load_fail(ld, "carriers", "required");
		goto out;
	}
	if (!cJSON_IsArray(carriers)) {
		load_fail(ld, "carriers", "must be an array");
		goto out;
	}
	if (cJSON_GetArraySize(carriers) > MAX_ENTRIES) {
		load_fail(ld, "carriers", "too many entries (at most %d)", MAX_ENTRIES);
		goto out;
	}
	{
		size_t i = 0;

		for (const cJSON *e = carriers->child; e; e = e->next, i++) {
			char epath[32];
			struct patch pt;

			snprintf(epath, sizeof(epath), "carriers[%zu]", i);
			if (read_patch(ld, e, epath, &pt) < 0 || apply_patch(ld, &pt, i, epath) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

int carrier_table_new(const char *override_json, const char *srcname,
		      struct carrier_table **out, struct esim_err *err)
{
	struct carrier_table *t;
	struct loader ld = { 0 };

	*out = NULL;
	t = xcalloc(1, sizeof(*t));
	for (size_t i = 0; i < carrier_builtin_nrows; i++)
		*table_append(t) = carrier_builtin_rows[i];
	if (override_json) {
		ld.src = srcname ? srcname : "carriers.json";
		ld.err = err;
		ld.t = t;
		touched_grow(&ld, t->nrows);
		if (load_overrides(&ld, override_json) < 0) {
			free(ld.touched);
			free(ld.touched_by);
			carrier_table_free(t);
			return -1;
		}
		free(ld.touched);
		free(ld.touched_by);
	}
	*out = t;
	return 0;
}
