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
#include "esimctl/text.h"

/* Defined in carrier_table.c. */
extern const struct carrier_policy carrier_builtin_rows[];
extern const size_t carrier_builtin_nrows;

#define KEY_MAX 256              /* normalised keys; names are capped well below */
#define NAME_MAX_CHARS 64        /* name, region, each alias */
#define REPROV_TEXT_MAX_CHARS 64
#define NOTES_MAX_CHARS 160      /* notes end up in warning lines */
#define KEY_MIN_CHARS 2          /* a one-letter key would match anything typed short */
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
	       c == '-' || c == '.' || c == '_';
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
			/* "AT&T" == "AT and T"; "e&" stays "eand", not a bare "e" */
			if (*s == '&')
				rep = "and";
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

int carrier_name_blank(const char *name)
{
	for (const unsigned char *s = (const unsigned char *)name; s && *s; s++)
		if (!key_ignored_ascii(*s) && *s != '&' && !(s[0] == 0xc2 && s[1] == 0xa0) &&
		    !(s[0] == 0xa0 && s > (const unsigned char *)name && s[-1] == 0xc2))
			return 0;
	return 1;
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
	if (text_chars(key) < KEY_MIN_CHARS)
		return NULL;        /* "E" is not Etisalat, nor EE */
	i = find_index(t, key);
	return i < 0 ? NULL : &rows[i];
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions) of two keys. */
static size_t key_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	size_t rows[3][KEY_MAX + 1];
	size_t *pp = rows[0], *p = rows[1], *c = rows[2];

	if (na > KEY_MAX || nb > KEY_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= nb; j++)
		p[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t *t;

		c[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = p[j] + 1;

			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[nb];
}

/* How close key is to k: 0 for a prefix, else the distance; SIZE_MAX when not close. */
static size_t key_closeness(const char *key, const char *k)
{
	size_t n = strlen(key), m = strlen(k), d, limit;

	if (n && strncmp(k, key, n) == 0)
		return 0;
	d = key_distance(key, k);
	limit = (n < m ? n : m) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	return d <= limit ? d + 1 : SIZE_MAX;
}

size_t carrier_suggest(const struct carrier_table *t, const char *name,
		       const struct carrier_policy **out, size_t max)
{
	char key[KEY_MAX], k[KEY_MAX];
	size_t n, nout = 0, score[CARRIER_SUGGEST_MAX];
	const struct carrier_policy *rows = rows_of(t, &n);

	if (max > CARRIER_SUGGEST_MAX)
		max = CARRIER_SUGGEST_MAX;
	carrier_key(name, key, sizeof(key));
	if (!key[0] || !max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct carrier_policy *c = &rows[i];
		size_t best;

		carrier_key(c->name, k, sizeof(k));
		best = key_closeness(key, k);
		for (size_t a = 0; a < CARRIER_MAX_ALIASES && c->aliases[a]; a++) {
			size_t s;

			carrier_key(c->aliases[a], k, sizeof(k));
			if ((s = key_closeness(key, k)) < best)
				best = s;
		}
		if (best == SIZE_MAX)
			continue;
		/* insertion into the sorted list; equal scores keep table order */
		{
			size_t at = nout;

			while (at > 0 && score[at - 1] > best)
				at--;
			if (at >= max)
				continue;
			if (nout < max)
				nout++;
			for (size_t j = nout - 1; j > at; j--) {
				out[j] = out[j - 1];
				score[j] = score[j - 1];
			}
			out[at] = c;
			score[at] = best;
		}
	}
	return nout;
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
	struct text_check tc;

	if (text_check(v->valuestring, &tc) < 0)
		return load_fail(ld, path, "must be UTF-8 text without control characters "
				 "(%s at character %zu)", tc.problem == TEXT_BAD_UTF8 ? "invalid byte" : "control character",
				 tc.chars + 1);
	if (!v->valuestring[0])
		return load_fail(ld, path, "must not be empty");
	if (tc.chars > maxlen)
		return load_fail(ld, path, "too long (%zu characters, at most %zu)", tc.chars, maxlen);
	return 0;
}

/* A name or alias: a string whose normalised key is not empty. */
static int check_name(struct loader *ld, const cJSON *v, const char *path)
{
	char key[KEY_MAX];

	if (check_string(ld, v, path, NAME_MAX_CHARS, 0) < 0)
		return -1;
	if (carrier_name_blank(v->valuestring))
		return load_fail(ld, path, "must contain a letter or digit");
	carrier_key(v->valuestring, key, sizeof(key));
	if (text_chars(key) < KEY_MIN_CHARS)
		return load_fail(ld, path, "must contain at least %d letters or digits (names are compared "
				 "without case, accents, spaces and '-', '.', '_'; '&' reads as \"and\")",
				 KEY_MIN_CHARS);
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
			if (check_string(ld, v, path, NAME_MAX_CHARS, 0) < 0)
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
			if (check_string(ld, v, path, REPROV_TEXT_MAX_CHARS, 1) < 0)
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
			if (check_string(ld, v, path, NOTES_MAX_CHARS, 1) < 0)
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

/* One normalised name or alias of a row, for check_unambiguous(). */
struct key_ref {
	char key[KEY_MAX];
	size_t row;
	const char *text;        /* as written */
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Where row r came from, for a message: "carriers[3]" of the user's file, or built-in. */
static void row_origin(const struct loader *ld, size_t r, char *out, size_t outsz)
{
	if (ld && r < ld->atouched && ld->touched[r])
		snprintf(out, outsz, "%s: carriers[%ld]", ld->src, ld->touched_by[r]);
	else
		snprintf(out, outsz, "built-in carrier table");
}

/*
 * Every normalised name and alias names one row, and none is shorter than
 * KEY_MIN_CHARS: the whole table after the user's file, built-in rows included.
 */
static int check_unambiguous(const struct carrier_table *t, const struct loader *ld,
			     struct esim_err *err)
{
	size_t n = 0, cap = t->nrows * CARRIER_MAX_ALIASES + 1;
	struct key_ref *refs = xcalloc(cap, sizeof(*refs));
	int rc = 0;

	for (size_t r = 0; r < t->nrows; r++) {
		const struct carrier_policy *c = &t->rows[r];

		for (size_t a = 0; a <= CARRIER_MAX_ALIASES; a++) {
			const char *s = a == 0 ? c->name : c->aliases[a - 1];

			if (!s)
				break;
			carrier_key(s, refs[n].key, sizeof(refs[n].key));
			refs[n].row = r;
			refs[n].text = s;
			if (text_chars(refs[n].key) < KEY_MIN_CHARS) {
				char where[160];

				row_origin(ld, r, where, sizeof(where));
				rc = esim_fail(err, ld ? ESIM_E_USAGE : ESIM_E_OTHER,
					       "%s: '%s' has fewer than %d letters or digits", where, s,
					       KEY_MIN_CHARS);
				goto out;
			}
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(refs[i].key, refs[i - 1].key) || refs[i].row == refs[i - 1].row)
			continue;
		{
			char where[160];
			size_t r = ld && refs[i].row < ld->atouched && ld->touched[refs[i].row] ? refs[i].row
											   : refs[i - 1].row;

			row_origin(ld, r, where, sizeof(where));
			rc = esim_fail(err, ld && ld->touched[r] ? ESIM_E_USAGE : ESIM_E_OTHER,
				       "%s: '%s' (%s) and '%s' (%s) read the same after normalising ('%s')",
				       where, refs[i - 1].text, t->rows[refs[i - 1].row].name, refs[i].text,
				       t->rows[refs[i].row].name, refs[i].key);
			goto out;
		}
	}
out:
	free(refs);
	return rc;
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
		if (load_overrides(&ld, override_json) < 0 || check_unambiguous(t, &ld, err) < 0) {
			free(ld.touched);
			free(ld.touched_by);
			carrier_table_free(t);
			return -1;
		}
		free(ld.touched);
		free(ld.touched_by);
	} else if (check_unambiguous(t, NULL, err) < 0) {
		carrier_table_free(t);
		return -1;
	}
	*out = t;
	return 0;
}
