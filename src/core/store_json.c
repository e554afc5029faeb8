/*
 * store_json.c - the store's JSON text <-> struct store (docs/store-format.md).
 *
 * Reading validates every field, naming the JSON path of the first problem.  There are
 * two front ends to one set of checks (load_device() ... load_notification(), which see
 * a record as a struct jrec of its known fields):
 *
 *   - a streaming reader for what the writer produces: strict JSON with any whitespace
 *     and keys in any order within a record, the arrays in the writer's order.  It builds
 *     the model record by record from a window of the text, with no parse tree, so
 *     loading costs the model's memory and little more (docs/performance.md).  It never
 *     reports a problem: on anything it does not accept it gives up;
 *   - cJSON's parse tree of the whole text, which accepts any valid JSON (all \u escapes,
 *     arrays in any order, ...) and reports the exact problem: the line and column of a
 *     syntax error as cJSON finds it, or the first invalid field.
 *
 * store_from_json() tries the first and falls back to the second, so the stores it
 * accepts and the messages it gives are exactly those of the tree alone.  The streaming
 * reader accepts a subset of what the tree accepts and yields the same model for it: no
 * \u escapes above \u007F, raw control characters or non-integer numbers in fields;
 * records take the first of duplicate keys (as cJSON_GetObjectItemCaseSensitive() does);
 * bindings are checked against the devices and profiles read before them, which the
 * writer's order guarantees.
 *
 * Writing does not build a cJSON tree: the writer below emits keys in a fixed order, one
 * array element per line, which keeps large stores fast to save and makes `diff` of two
 * stores show whole records.  Both directions are pure (no files: the streaming reader
 * and writer get their bytes through callbacks, see store_stream.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/store_stream.h"
#include "esimctl/model.h"
#include "esimctl/timeutil.h"

#define CORRUPT_HINT "restore the store from a backup or repair it by hand; it was not modified"

/* ---- a record's known fields, from either front end ---- */

enum jtype { JT_ABSENT, JT_NULL, JT_FALSE, JT_TRUE, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT, JT_OTHER };

struct jrec;

struct jval {
	enum jtype type;
	const char *str;          /* JT_STRING: decoded, NUL-terminated */
	size_t off;               /* streaming reader: offset of str in its scratch buffer */
	double num;               /* JT_NUMBER */
	const struct jrec *obj;   /* JT_OBJECT: the fields of a nested record (activation_code) */
};

#define JREC_MAX 12

struct jrec {
	const char *const *keys;  /* field names, NULL-terminated, at most JREC_MAX */
	struct jval v[JREC_MAX];
};

enum { DV_NAME, DV_KIND, DV_PLATFORM, DV_EID, DV_IMEI, DV_PRIMARY, DV_EUICC, DV_CREATED };
static const char *const device_keys[] = {
	"name", "kind", "platform", "eid", "imei", "primary", "euicc", "created", NULL
};

enum {
	PR_ID, PR_ICCID, PR_CARRIER, PR_PLAN, PR_NICKNAME, PR_AC, PR_PROVIDER, PR_PROFILE_NAME,
	PR_PROFILE_CLASS, PR_CREATED, PR_LAST_TRANSFER, PR_REVIEW
};
static const char *const profile_keys[] = {
	"id", "iccid", "carrier", "plan", "nickname", "activation_code", "provider",
	"profile_name", "profile_class", "created", "last_transfer", "review", NULL
};

enum { AC_SMDP, AC_MID, AC_OID, AC_CC };
static const char *const actcode_keys[] = { "smdp", "matching_id", "oid", "cc_required", NULL };

enum { BD_PROFILE, BD_DEVICE, BD_STATE, BD_SINCE, BD_READY_AT, BD_RELEASED_AT };
static const char *const binding_keys[] = {
	"profile", "device", "state", "since", "ready_at", "released_at", NULL
};

enum { HI_TIME, HI_OP, HI_PROFILE, HI_FROM, HI_TO, HI_OUTCOME, HI_DETAIL };
static const char *const history_keys[] = {
	"time", "op", "profile", "from", "to", "outcome", "detail", NULL
};

enum { NO_DEVICE, NO_SEQ, NO_EVENT, NO_ADDRESS, NO_ICCID, NO_DATA, NO_QUEUED, NO_ATTEMPTS, NO_LAST_ERROR };
static const char *const notification_keys[] = {
	"device", "seq", "event", "address", "iccid", "data", "queued", "attempts", "last_error", NULL
};

/* ---- profile ids seen, for validating without keeping the profiles ---- */

/* An id is 8 lower-case hex digits: a 32-bit value, kept + 2^32 so that 0 means empty. */
struct idset {
	uint64_t *slot;
	size_t cap, n; /* cap: a power of two, or 0 */
};

static int id_value(const char *id, uint32_t *v)
{
	uint32_t x = 0;
	size_t i;

	for (i = 0; id[i]; i++) {
		char ch = id[i];

		if (i == PROFILE_ID_LEN)
			return -1;
		if (ch >= '0' && ch <= '9')
			x = x << 4 | (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x = x << 4 | (uint32_t)(ch - 'a' + 10);
		else
			return -1;
	}
	if (i != PROFILE_ID_LEN)
		return -1;
	*v = x;
	return 0;
}

static size_t idset_pos(const struct idset *s, uint64_t key)
{
	size_t mask = s->cap - 1, i = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;

	while (s->slot[i] && s->slot[i] != key)
		i = (i + 1) & mask;
	return i;
}

static int idset_has(const struct idset *s, const char *id)
{
	uint32_t v;

	if (!s->cap || id_value(id, &v) < 0)
		return 0;
	return s->slot[idset_pos(s, (uint64_t)v | UINT64_C(1) << 32)] != 0;
}

static void idset_add(struct idset *s, const char *id)
{
	uint32_t v;
	uint64_t key;
	size_t i;

	if (id_value(id, &v) < 0)
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct idset big = { NULL, s->cap ? s->cap * 2 : 1024, 0 };

		big.slot = xcalloc(big.cap, sizeof(*big.slot));
		for (i = 0; i < s->cap; i++)
			if (s->slot[i])
				big.slot[idset_pos(&big, s->slot[i])] = s->slot[i];
		big.n = s->n;
		free(s->slot);
		*s = big;
	}
	key = (uint64_t)v | UINT64_C(1) << 32;
	i = idset_pos(s, key);
	if (!s->slot[i]) {
		s->slot[i] = key;
		s->n++;
	}
}

/* ---- checks shared by both front ends ---- */

struct jctx {
	const char *src;
	struct esim_err *err;
	char where[96];      /* "profiles[3]" */
	int quiet;           /* streaming reader: no messages (its caller falls back to the tree) */
	int check_only;      /* STORE_READ_CHECK_ONLY: keep only devices and profile ids */
	struct idset ids;    /* check_only: the profile ids read so far */
	struct buf code;     /* scratch for activation codes (wiped after each use) */
};

static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "store 'x': profiles[3].carrier: missing" */
static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	if (c->quiet)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!*c->where && !field)
		esim_fail(c->err, ESIM_E_STORE, "store '%s': %s", c->src, what);
	else
		esim_fail(c->err, ESIM_E_STORE, "store '%s': %s%s%s: %s", c->src, c->where,
			  field && *c->where ? "." : "", field ? field : "", what);
	return esim_hint(c->err, CORRUPT_HINT);
}

static const char *type_name(const struct jval *v)
{
	switch (v->type) {
	case JT_STRING: return "a string";
	case JT_NUMBER: return "a number";
	case JT_FALSE:
	case JT_TRUE: return "a boolean";
	case JT_NULL: return "null";
	case JT_ARRAY: return "an array";
	case JT_OBJECT: return "an object";
	case JT_ABSENT:
	case JT_OTHER: break;
	}
	return "an unknown value";
}

/* Optional fields may be absent or null; required ones must be present. */
static int get_cstr(struct jctx *c, const struct jrec *r, int f, int required, int nonempty,
		    const char **out)
{
	const struct jval *it = &r->v[f];
	const char *key = r->keys[f];

	*out = NULL;
	if (it->type == JT_ABSENT || (!required && it->type == JT_NULL)) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (it->type != JT_STRING)
		return jfail(c, key, "expected a string, found %s", type_name(it));
	if (nonempty && !*it->str)
		return jfail(c, key, "empty");
	*out = it->str;
	return 0;
}

/* get_cstr(), copied into *out (NULL when absent). */
static int get_str(struct jctx *c, const struct jrec *r, int f, int required, int nonempty,
		   char **out)
{
	const char *s;

	*out = NULL;
	if (get_cstr(c, r, f, required, nonempty, &s) < 0)
		return -1;
	*out = xstrdup(s);
	return 0;
}

static int get_time(struct jctx *c, const struct jrec *r, int f, int required, int64_t *out)
{
	const struct jval *it = &r->v[f];
	const char *key = r->keys[f];
	struct esim_err terr;

	*out = 0;
	if (it->type == JT_ABSENT || (!required && it->type == JT_NULL)) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (it->type != JT_STRING)
		return jfail(c, key, "expected a time string, found %s", type_name(it));
	if (c->quiet)
		return time_parse(it->str, out, NULL) < 0 ? -1 : 0;
	memset(&terr, 0, sizeof(terr));
	if (time_parse(it->str, out, &terr) < 0)
		return jfail(c, key, "%s", terr.msg[0] ? terr.msg : "not an ISO 8601 time");
	return 0;
}

static int get_bool(struct jctx *c, const struct jrec *r, int f, int required, int *out)
{
	const struct jval *it = &r->v[f];
	const char *key = r->keys[f];

	*out = 0;
	if (it->type == JT_ABSENT || (!required && it->type == JT_NULL)) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (it->type != JT_TRUE && it->type != JT_FALSE)
		return jfail(c, key, "expected true or false, found %s", type_name(it));
	*out = it->type == JT_TRUE;
	return 0;
}

/* Integers beyond 2^53 are not exact in a JSON double; nothing in the store needs them. */
#define JSON_INT_MAX 9007199254740992.0

/* A whole number within +-2^53 (NaN fails the range test). */
static int is_json_int(double v)
{
	if (!(v >= -JSON_INT_MAX && v <= JSON_INT_MAX))
		return 0;
	return (double)(int64_t)v == v;
}

static int get_int(struct jctx *c, const struct jrec *r, int f, int64_t min, int64_t max,
		   int64_t *out)
{
	const struct jval *it = &r->v[f];
	const char *key = r->keys[f];
	double v;

	*out = 0;
	if (it->type == JT_ABSENT)
		return jfail(c, key, "missing");
	if (it->type != JT_NUMBER)
		return jfail(c, key, "expected an integer, found %s", type_name(it));
	v = it->num;
	if (!is_json_int(v))
		return jfail(c, key, "expected an integer, found %g", v);
	if (v < (double)min || v > (double)max)
		return jfail(c, key, "%.0f is out of range (%" PRId64 " to %" PRId64 ")", v, min, max);
	*out = (int64_t)v;
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

#define ICCID_MAX_DIGITS 20

static int get_iccid(struct jctx *c, const struct jrec *r, int f, const char **out)
{
	if (get_cstr(c, r, f, 0, 0, out) < 0)
		return -1;
	if (*out && (!all_digits(*out) || strlen(*out) > ICCID_MAX_DIGITS))
		return jfail(c, r->keys[f], "'%s' is not an ICCID (1 to %d digits)", *out,
			     ICCID_MAX_DIGITS);
	return 0;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* ---- records ---- */

static void device_fields_free(struct device *d)
{
	free(d->name);
	free(d->platform);
	free(d->eid);
	free(d->imei);
	free(d->euicc);
}

static int load_device(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct device d = { 0 };
	struct device *dup;
	const char *kind;

	if (get_str(c, r, DV_NAME, 1, 0, &d.name) < 0)
		goto fail;
	if (c->quiet) {
		if (model_valid_device_name(d.name, NULL) < 0)
			goto fail;
	} else {
		struct esim_err nerr = { 0 };

		if (model_valid_device_name(d.name, &nerr) < 0) {
			jfail(c, "name", "%s", nerr.msg);
			goto fail;
		}
	}
	if ((dup = model_device(s, d.name)) != NULL) {
		jfail(c, "name", "duplicate device name '%s' (also devices[%zu])", d.name,
		      (size_t)(dup - s->devices));
		goto fail;
	}
	if (get_cstr(c, r, DV_KIND, 1, 0, &kind) < 0)
		goto fail;
	if (device_kind_parse(kind, &d.kind) < 0) {
		jfail(c, "kind", "unknown kind '%s' (expected phone, tablet, watch, laptop or hotspot)",
		      kind);
		goto fail;
	}
	if (get_str(c, r, DV_PLATFORM, 0, 1, &d.platform) < 0 ||
	    get_str(c, r, DV_EID, 0, 1, &d.eid) < 0 ||
	    get_str(c, r, DV_IMEI, 0, 1, &d.imei) < 0 ||
	    get_bool(c, r, DV_PRIMARY, 1, &d.primary) < 0 ||
	    get_str(c, r, DV_EUICC, 0, 1, &d.euicc) < 0 ||
	    get_time(c, r, DV_CREATED, 1, &d.created) < 0)
		goto fail;
	/* Kept even when only checking: bindings are checked against the devices. */
	model_add_device(s, &d);
	return 0;
fail:
	device_fields_free(&d);
	return -1;
}

/*
 * The code is checked by the same parser as user input, so the store can only hold
 * codes that `esimctl add` would accept; what is kept is the parser's canonical form.
 */
static int load_actcode(struct jctx *c, const struct jval *v, struct profile *p)
{
	const struct jrec *r = v->obj;
	const char *smdp, *mid, *oid;
	struct buf *text = &c->code;
	size_t wlen = strlen(c->where);
	int cc = 0, ret = -1;

	if (v->type == JT_ABSENT || v->type == JT_NULL)
		return 0;
	if (v->type != JT_OBJECT)
		return jfail(c, "activation_code", "expected an object, found %s", type_name(v));
	if (!c->quiet)
		snprintf(c->where + wlen, sizeof(c->where) - wlen, ".activation_code");
	if (get_cstr(c, r, AC_SMDP, 1, 1, &smdp) < 0 ||
	    get_cstr(c, r, AC_MID, 1, 0, &mid) < 0 ||
	    get_cstr(c, r, AC_OID, 0, 0, &oid) < 0 ||
	    get_bool(c, r, AC_CC, 1, &cc) < 0)
		goto out;
	if (strchr(smdp, '$') || strchr(mid, '$') || (oid && strchr(oid, '$'))) {
		jfail(c, NULL, "a field contains '$'");
		goto out;
	}
	buf_reset(text);
	buf_addstr(text, "LPA:1$");
	buf_addstr(text, smdp);
	buf_addch(text, '$');
	buf_addstr(text, mid);
	if (oid || cc) {
		buf_addch(text, '$');
		buf_addstr(text, oid ? oid : "");
	}
	if (cc)
		buf_addstr(text, "$1");
	if (c->quiet) {
		if (actcode_parse(text->buf, &p->ac, NULL) < 0)
			goto out;
	} else {
		struct esim_err aerr = { 0 };
		int rc = actcode_parse(text->buf, &p->ac, &aerr);

		if (rc < 0)
			jfail(c, NULL, "%s", aerr.msg[0] ? aerr.msg : "invalid activation code");
		secure_wipe(&aerr, sizeof(aerr));
		if (rc < 0)
			goto out;
	}
	p->has_ac = 1;
	ret = 0;
out:
	c->where[wlen] = '\0';
	secure_wipe(text->buf, text->len); /* the matching ID is a bearer secret */
	return ret;
}

static int valid_profile_id(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
			return 0;
	return n == PROFILE_ID_LEN;
}

static const char *const profile_classes[] = { "test", "provisioning", "operational", NULL };

/*
 * The loaders check a record with the strings borrowed from it and copy them only into
 * what they keep, so that checking alone (STORE_READ_CHECK_ONLY) allocates nothing.
 */
static int load_profile(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct profile p = { 0 };
	struct profile *dup;
	const char *id, *iccid, *carrier, *plan, *nickname, *provider, *pname, *pclass, *review;

	if (get_cstr(c, r, PR_ID, 1, 0, &id) < 0)
		return -1;
	if (!valid_profile_id(id))
		return jfail(c, "id", "'%s' is not a profile id (%d lower-case hex digits)", id,
			     PROFILE_ID_LEN);
	if (c->check_only) {
		if (idset_has(&c->ids, id))
			return jfail(c, "id", "duplicate profile id '%s'", id);
	} else if ((dup = model_profile_by_id(s, id)) != NULL) {
		return jfail(c, "id", "duplicate profile id '%s' (also profiles[%zu])", id,
			     (size_t)(dup - s->profiles));
	}
	if (get_iccid(c, r, PR_ICCID, &iccid) < 0 ||
	    get_cstr(c, r, PR_CARRIER, 1, 1, &carrier) < 0 ||
	    get_cstr(c, r, PR_PLAN, 1, 0, &plan) < 0)
		return -1;
	if (plan_type_parse(plan, &p.plan) < 0)
		return jfail(c, "plan", "unknown plan '%s' (expected voice+data or data-only)", plan);
	if (get_cstr(c, r, PR_NICKNAME, 0, 1, &nickname) < 0 ||
	    load_actcode(c, &r->v[PR_AC], &p) < 0 ||
	    get_cstr(c, r, PR_PROVIDER, 0, 0, &provider) < 0 ||
	    get_cstr(c, r, PR_PROFILE_NAME, 0, 0, &pname) < 0 ||
	    get_cstr(c, r, PR_PROFILE_CLASS, 0, 0, &pclass) < 0 ||
	    get_cstr(c, r, PR_REVIEW, 0, 0, &review) < 0)
		goto fail;
	if (pclass && !in_list(pclass, profile_classes)) {
		jfail(c, "profile_class",
		      "unknown class '%s' (expected test, provisioning or operational)", pclass);
		goto fail;
	}
	if (get_time(c, r, PR_CREATED, 1, &p.created) < 0 ||
	    get_time(c, r, PR_LAST_TRANSFER, 0, &p.last_transfer) < 0)
		goto fail;
	if (c->check_only) {
		idset_add(&c->ids, id);
		/* the matching ID is a bearer secret (actcode_parse() zeroed the rest) */
		secure_wipe(p.ac.matching_id, strlen(p.ac.matching_id));
		return 0;
	}
	memcpy(p.id, id, PROFILE_ID_LEN + 1);
	p.iccid = xstrdup(iccid);
	p.carrier = xstrdup(carrier);
	p.nickname = xstrdup(nickname);
	p.provider = xstrdup(provider);
	p.profile_name = xstrdup(pname);
	p.profile_class = xstrdup(pclass);
	p.review = xstrdup(review);
	model_add_profile(s, &p);
	return 0;
fail:
	/* The matching ID is a bearer secret. */
	secure_wipe(&p.ac, sizeof(p.ac));
	return -1;
}

static int load_binding(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct binding b = { 0 };
	const char *profile, *device, *state;

	if (get_cstr(c, r, BD_PROFILE, 1, 0, &profile) < 0)
		return -1;
	if (c->check_only ? !idset_has(&c->ids, profile) : !model_profile_by_id(s, profile))
		return jfail(c, "profile", "unknown profile '%s'", profile);
	if (get_cstr(c, r, BD_DEVICE, 1, 0, &device) < 0 ||
	    get_cstr(c, r, BD_STATE, 1, 0, &state) < 0)
		return -1;
	if (binding_state_parse(state, &b.state) < 0)
		return jfail(c, "state", "unknown state '%s' (expected pending, active or released)",
			     state);
	/*
	 * Removing a device leaves its released bindings behind as history, so only
	 * bindings that still hold a profile must name a device that exists.
	 */
	if (b.state != BIND_RELEASED && !model_device(s, device))
		return jfail(c, "device", "unknown device '%s'", device);
	if (get_time(c, r, BD_SINCE, 1, &b.since) < 0 ||
	    get_time(c, r, BD_READY_AT, 0, &b.ready_at) < 0 ||
	    get_time(c, r, BD_RELEASED_AT, 0, &b.released_at) < 0)
		return -1;
	if (!c->check_only) {
		b.profile = xstrdup(profile);
		b.device = xstrdup(device);
		model_add_binding(s, &b);
	}
	return 0;
}

static int load_history(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct history_entry h = { 0 };
	const char *op, *profile, *from, *to, *outcome, *detail;

	if (get_time(c, r, HI_TIME, 1, &h.time) < 0 ||
	    get_cstr(c, r, HI_OP, 1, 1, &op) < 0 ||
	    get_cstr(c, r, HI_PROFILE, 0, 0, &profile) < 0 ||
	    get_cstr(c, r, HI_FROM, 0, 0, &from) < 0 ||
	    get_cstr(c, r, HI_TO, 0, 0, &to) < 0 ||
	    get_cstr(c, r, HI_OUTCOME, 1, 1, &outcome) < 0 ||
	    get_cstr(c, r, HI_DETAIL, 0, 0, &detail) < 0)
		return -1;
	if (!c->check_only)
		model_add_history(s, h.time, op, profile, from, to, outcome, detail);
	return 0;
}

static const char *const notification_events[] = { "install", "enable", "disable", "delete",
						     NULL };

static int load_notification(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct pending_notification n = { 0 };
	const char *device, *event, *address, *iccid, *data, *last_error;
	int64_t attempts = 0;

	if (get_cstr(c, r, NO_DEVICE, 1, 1, &device) < 0 ||
	    get_int(c, r, NO_SEQ, INT32_MIN, INT64_C(9007199254740992), &n.seq) < 0 ||
	    get_cstr(c, r, NO_EVENT, 1, 0, &event) < 0)
		return -1;
	if (!in_list(event, notification_events))
		return jfail(c, "event",
			     "unknown event '%s' (expected install, enable, disable or delete)", event);
	if (get_cstr(c, r, NO_ADDRESS, 1, 1, &address) < 0 ||
	    get_iccid(c, r, NO_ICCID, &iccid) < 0 ||
	    get_cstr(c, r, NO_DATA, 1, 1, &data) < 0 ||
	    get_time(c, r, NO_QUEUED, 1, &n.queued) < 0 ||
	    get_int(c, r, NO_ATTEMPTS, 0, INT32_MAX, &attempts) < 0 ||
	    get_cstr(c, r, NO_LAST_ERROR, 0, 0, &last_error) < 0)
		return -1;
	if (c->check_only)
		return 0;
	n.attempts = (int)attempts;
	n.device = xstrdup(device);
	n.event = xstrdup(event);
	n.address = xstrdup(address);
	n.iccid = xstrdup(iccid);
	n.data_b64 = xstrdup(data);
	n.last_error = xstrdup(last_error);
	model_add_notification(s, &n);
	return 0;
}

typedef int (*load_fn)(struct jctx *, struct store *, const struct jrec *);

/* The top-level arrays, in the order they are loaded (and written). */
static const struct {
	const char *name;
	load_fn load;
	const char *const *keys;
} arrays[] = {
	{ "devices", load_device, device_keys },
	{ "profiles", load_profile, profile_keys },
	{ "bindings", load_binding, binding_keys },
	{ "history", load_history, history_keys },
	{ "notifications", load_notification, notification_keys },
};
#define NARRAYS (sizeof(arrays) / sizeof(arrays[0]))

static void ctx_release(struct jctx *c)
{
	free(c->ids.slot);
	buf_wipe_release(&c->code);
}

/* ---- front end 1: the streaming reader ---- */

enum { J_OK, J_MORE, J_BAD, J_IO };

struct jin {
	const char *p, *end;  /* the unread part of the window */
	char *win;            /* reader mode: the window's buffer (NULL: all text in memory) */
	size_t cap;
	store_read_fn rd;
	void *rdarg;
	size_t used;          /* reader mode: bytes of win ever written, to wipe */
	int eof;              /* no bytes beyond end */
	int status;           /* why the last call failed: J_MORE, J_BAD or J_IO */
	int rd_errno;
	struct buf scratch;   /* decoded strings of the current record */
};

#define WINDOW_MIN ((size_t)1 << 20)
#define STEP_MIN ((size_t)64 << 10)
#define SKIP_DEPTH_MAX 64  /* deeper unknown values go to the tree (cJSON allows 1000) */
#define NUMBER_MAX 63      /* cJSON reads at most 63 characters of a number */

#define AVAIL(in) ((size_t)((in)->end - (in)->p))

/* Ran out of window: more text may follow (retry with a bigger window), or it ended early. */
static int need(struct jin *in)
{
	in->status = in->eof ? J_BAD : J_MORE;
	return -1;
}

static int bad(struct jin *in)
{
	in->status = J_BAD;
	return -1;
}

/* At least `want` bytes from in->p in the window, unless the text ends first. */
static int fill(struct jin *in, size_t want)
{
	size_t have = AVAIL(in);

	if (in->eof || have >= want)
		return 0;
	if (want + 1 > in->cap) {
		size_t cap = in->cap * 2 > want + 1 ? in->cap * 2 : want + 1;
		char *w = xmalloc(cap);

		memcpy(w, in->p, have);
		secure_wipe(in->win, in->used);
		free(in->win);
		in->used = have;
		in->win = w;
		in->cap = cap;
	} else {
		memmove(in->win, in->p, have);
	}
	in->p = in->win;
	in->end = in->win + have;
	while (!in->eof && AVAIL(in) < want) {
		ssize_t n = in->rd(in->rdarg, in->win + AVAIL(in), in->cap - AVAIL(in));

		if (n < 0) {
			in->rd_errno = errno;
			in->status = J_IO;
			return -1;
		}
		if (n == 0)
			in->eof = 1;
		in->end += n;
		if ((size_t)(in->end - in->win) > in->used)
			in->used = (size_t)(in->end - in->win);
	}
	return 0;
}

/*
 * Run one step of the parse (a record, a key, a separator) from in->p.  A step that runs
 * off the window is retried from the same place with a bigger window, so steps have no
 * effect until they cannot fail for lack of text.
 */
static int step(struct jin *in, int (*fn)(struct jin *, void *), void *arg)
{
	size_t want = STEP_MIN;

	for (;;) {
		const char *mark;

		if (fill(in, want) < 0)
			return -1;
		mark = in->p;
		in->status = J_OK;
		buf_reset(&in->scratch);
		if (fn(in, arg) == 0)
			return 0;
		if (in->status != J_MORE)
			return -1;
		in->p = mark;
		want = AVAIL(in) + STEP_MIN;
	}
}

static void skip_ws(struct jin *in)
{
	while (in->p < in->end &&
	       (*in->p == ' ' || *in->p == '\n' || *in->p == '\r' || *in->p == '\t'))
		in->p++;
}

/* Whitespace, then ch. */
static int expect(struct jin *in, char ch)
{
	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p != ch)
		return bad(in);
	in->p++;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Bytes that end a run of plain characters in a string. */
static int string_stop(char ch)
{
	return (unsigned char)ch < 0x20 || ch == '"' || ch == '\\';
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The first byte from q that ends a run of plain characters, or end.  Eight bytes at a
 * time: the usual "has a zero byte" tests fire exactly when the word holds a '"', a '\\' or
 * a byte below 0x20, and the lowest bit that fires is the first such byte (a borrow only
 * runs upwards, past the byte that caused it).
 */
static const char *string_run(const char *q, const char *end)
{
	while (end - q >= 8) {
		uint64_t w, quote, bslash, hit;

		memcpy(&w, q, 8);
		quote = w ^ (ONES * '"');
		bslash = w ^ (ONES * '\\');
		hit = (((quote - ONES) & ~quote) | ((bslash - ONES) & ~bslash) | ((w - ONES * 0x20) & ~w)) &
		      HIGHS;
		if (hit) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return q + __builtin_ctzll(hit) / 8;
#else
			break;
#endif
		}
		q += 8;
	}
	while (q < end && !string_stop(*q))
		q++;
	return q;
}

static void scratch_add(struct buf *b, const char *p, size_t n)
{
	if (b->alloc - b->len <= n)
		buf_grow(b, n);
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

/*
 * The string at in->p, decoded into the scratch buffer with its NUL when keep (*off: where
 * it starts).  Raw control characters and \u escapes beyond \u007F are left to the tree.
 */
static int parse_string(struct jin *in, int keep, size_t *off)
{
	const char *q = in->p + 1;

	*off = in->scratch.len;
	for (;;) {
		const char *run = q;
		char ch;

		q = string_run(q, in->end);
		if (q == in->end)
			return need(in);
		if (keep)
			scratch_add(&in->scratch, run, (size_t)(q - run));
		if (*q == '"')
			break;
		if (*q != '\\')
			return bad(in);
		if (q + 1 == in->end)
			return need(in);
		switch (q[1]) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u':
			/* \u0000 to \u007F: one byte, as cJSON decodes it (the writer's \u00XX) */
			if (in->end - q < 6)
				return need(in);
			if (q[2] != '0' || q[3] != '0' || q[4] < '0' || q[4] > '7' || hexval(q[5]) < 0)
				return bad(in);
			ch = (char)((q[4] - '0') << 4 | hexval(q[5]));
			q += 4;
			break;
		default: return bad(in);
		}
		if (keep)
			scratch_add(&in->scratch, &ch, 1);
		q += 2;
	}
	if (keep)
		scratch_add(&in->scratch, "", 1);
	in->p = q + 1;
	return 0;
}

static int is_digit(const char *q)
{
	return *q >= '0' && *q <= '9';
}

/*
 * A JSON number at in->p.  With out, only integers (the store's numbers), read with strtod
 * as cJSON does; without, any number is skipped.
 */
static int parse_number(struct jin *in, double *out)
{
	const char *q = in->p;
	char text[NUMBER_MAX + 1];
	size_t n;

	if (q < in->end && *q == '-')
		q++;
	if (q == in->end)
		return need(in);
	if (*q == '0')
		q++;
	else if (is_digit(q))
		while (q < in->end && is_digit(q))
			q++;
	else
		return bad(in);
	if (q < in->end && *q == '.' && !out) {
		if (++q == in->end)
			return need(in);
		if (!is_digit(q))
			return bad(in);
		while (q < in->end && is_digit(q))
			q++;
	}
	if (q < in->end && (*q == 'e' || *q == 'E') && !out) {
		if (++q < in->end && (*q == '+' || *q == '-'))
			q++;
		if (q == in->end)
			return need(in);
		if (!is_digit(q))
			return bad(in);
		while (q < in->end && is_digit(q))
			q++;
	}
	/* A number never ends a store; what follows must be there to see where it ends. */
	if (q == in->end)
		return need(in);
	n = (size_t)(q - in->p);
	if (n > NUMBER_MAX)
		return bad(in);
	if (out) {
		memcpy(text, in->p, n);
		text[n] = '\0';
		*out = strtod(text, NULL);
	}
	in->p = q;
	return 0;
}

static int parse_literal(struct jin *in, const char *lit, size_t n)
{
	if (AVAIL(in) < n)
		return memcmp(in->p, lit, AVAIL(in)) ? bad(in) : need(in);
	if (memcmp(in->p, lit, n))
		return bad(in);
	in->p += n;
	return 0;
}

/* Any value at in->p (after whitespace), checked and not kept. */
static int skip_value(struct jin *in, int depth)
{
	size_t off;
	char close;

	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	switch (*in->p) {
	case '"': return parse_string(in, 0, &off);
	case 't': return parse_literal(in, "true", 4);
	case 'f': return parse_literal(in, "false", 5);
	case 'n': return parse_literal(in, "null", 4);
	case '{': close = '}'; break;
	case '[': close = ']'; break;
	default: return parse_number(in, NULL);
	}
	if (depth >= SKIP_DEPTH_MAX)
		return bad(in);
	in->p++;
	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p == close) {
		in->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			skip_ws(in);
			if (in->p == in->end)
				return need(in);
			if (*in->p != '"')
				return bad(in);
			if (parse_string(in, 0, &off) < 0 || expect(in, ':') < 0)
				return -1;
		}
		if (skip_value(in, depth + 1) < 0)
			return -1;
		skip_ws(in);
		if (in->p == in->end)
			return need(in);
		if (*in->p == close) {
			in->p++;
			return 0;
		}
		if (*in->p != ',')
			return bad(in);
		in->p++;
	}
}

/* key is k (n bytes, no NUL among them) */
static int key_is(const char *key, const char *k, size_t n)
{
	size_t i = 0;

	while (i < n && key[i] == k[i])
		i++;
	return i == n && !key[n];
}

/*
 * Index of the key k (n bytes) in keys, or -1.  The search starts at `first`, the key
 * after the previous one: records keep the writer's order, with optional keys left out.
 */
static int key_index(const char *const *keys, const char *k, size_t n, int first)
{
	int i;

	for (i = first; keys[i]; i++)
		if (key_is(keys[i], k, n))
			return i;
	for (i = 0; i < first; i++)
		if (key_is(keys[i], k, n))
			return i;
	return -1;
}

/* The key at in->p and its ':'; *index in keys, or -1 when it is not one of them. */
static int parse_key(struct jin *in, const char *const *keys, int first, int *index)
{
	const char *k = in->p + 1, *q = string_run(k, in->end);
	size_t off, len;

	if (q == in->end)
		return need(in);
	if (*q == '"') {
		/* no escapes: compare in place */
		*index = key_index(keys, k, (size_t)(q - k), first);
		in->p = q + 1;
	} else {
		len = in->scratch.len;
		if (parse_string(in, 1, &off) < 0)
			return -1;
		*index = key_index(keys, in->scratch.buf + off, strlen(in->scratch.buf + off), first);
		in->scratch.len = len;
	}
	return expect(in, ':');
}

/*
 * The object at in->p into r: known keys (the first of duplicates, as in the tree), the
 * others checked and skipped.  sub_keys/sub: the one field holding a nested record.
 */
static int parse_record(struct jin *in, const char *const *keys, struct jrec *r,
			int sub_field, const char *const *sub_keys, struct jrec *sub)
{
	r->keys = keys;
	for (int i = 0; keys[i]; i++)
		r->v[i].type = JT_ABSENT;
	in->p++; /* '{' */
	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p == '}') {
		in->p++;
		return 0;
	}
	for (int next = 0;;) {
		struct jval *v;
		int i;

		skip_ws(in);
		if (in->p == in->end)
			return need(in);
		if (*in->p != '"')
			return bad(in);
		if (parse_key(in, keys, next, &i) < 0)
			return -1;
		next = i + 1;
		skip_ws(in);
		if (in->p == in->end)
			return need(in);
		v = i >= 0 && r->v[i].type == JT_ABSENT ? &r->v[i] : NULL;
		if (!v) {
			if (skip_value(in, 1) < 0)
				return -1;
		} else if (*in->p == '"') {
			v->type = JT_STRING;
			if (parse_string(in, 1, &v->off) < 0)
				return -1;
		} else if (*in->p == '{' && i == sub_field) {
			v->type = JT_OBJECT;
			v->obj = sub;
			if (parse_record(in, sub_keys, sub, -1, NULL, NULL) < 0)
				return -1;
		} else if (*in->p == '{' || *in->p == '[') {
			v->type = *in->p == '{' ? JT_OBJECT : JT_ARRAY;
			v->obj = NULL;
			if (skip_value(in, 1) < 0)
				return -1;
		} else if (*in->p == 't' || *in->p == 'f' || *in->p == 'n') {
			v->type = *in->p == 't' ? JT_TRUE : *in->p == 'f' ? JT_FALSE : JT_NULL;
			if (skip_value(in, 1) < 0)
				return -1;
		} else {
			v->type = JT_NUMBER;
			if (parse_number(in, &v->num) < 0)
				return -1;
		}
		skip_ws(in);
		if (in->p == in->end)
			return need(in);
		if (*in->p == '}') {
			in->p++;
			return 0;
		}
		if (*in->p != ',')
			return bad(in);
		in->p++;
	}
}

/* Scratch offsets to pointers, once the record is complete (the buffer may have moved). */
static void resolve(struct jrec *r, const char *base)
{
	for (int i = 0; r->keys[i]; i++) {
		struct jval *v = &r->v[i];

		if (v->type == JT_STRING)
			v->str = base + v->off;
		else if (v->type == JT_OBJECT && v->obj)
			resolve((struct jrec *)v->obj, base);
	}
}

struct sparse {
	struct jctx *c;
	struct store *s;
	size_t array;         /* index in arrays[] of the array being read */
	int last;             /* a record step: that was the last element */
	int member;           /* a key step: -1 other, NARRAYS "schema", else index in arrays[] */
	int end;              /* a separator step: that was the '}' */
	struct jval schema;
};

/* One array element and the ',' or ']' after it; loads it once it is complete. */
static int record_step(struct jin *in, void *arg)
{
	struct sparse *sp = arg;
	struct jrec r, sub;
	int is_profile = arrays[sp->array].load == load_profile;

	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p != '{')
		return bad(in);
	if (parse_record(in, arrays[sp->array].keys, &r, is_profile ? PR_AC : -1,
			 actcode_keys, &sub) < 0)
		return -1;
	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p != ',' && *in->p != ']')
		return bad(in);
	sp->last = *in->p++ == ']';
	resolve(&r, in->scratch.buf);
	if (arrays[sp->array].load(sp->c, sp->s, &r) < 0)
		return bad(in);
	return 0;
}

/* '[' and, for an empty array, ']'. */
static int array_open_step(struct jin *in, void *arg)
{
	struct sparse *sp = arg;

	if (expect(in, '[') < 0)
		return -1;
	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	sp->last = *in->p == ']';
	if (sp->last)
		in->p++;
	return 0;
}

/* A member's key and its ':'. */
static int key_step(struct jin *in, void *arg)
{
	struct sparse *sp = arg;
	size_t off;

	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p != '"')
		return bad(in);
	if (parse_string(in, 1, &off) < 0 || expect(in, ':') < 0)
		return -1;
	sp->member = -1;
	if (!strcmp(in->scratch.buf + off, "schema"))
		sp->member = (int)NARRAYS;
	for (size_t i = 0; i < NARRAYS; i++)
		if (!strcmp(in->scratch.buf + off, arrays[i].name))
			sp->member = (int)i;
	return 0;
}

static int skip_step(struct jin *in, void *arg)
{
	(void)arg;
	return skip_value(in, 1);
}

static int schema_step(struct jin *in, void *arg)
{
	struct sparse *sp = arg;

	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p == '-' || is_digit(in->p)) {
		sp->schema.type = JT_NUMBER;
		return parse_number(in, &sp->schema.num);
	}
	sp->schema.type = JT_OTHER;
	return skip_value(in, 1);
}

/* ',' or '}' after a member. */
static int sep_step(struct jin *in, void *arg)
{
	struct sparse *sp = arg;

	skip_ws(in);
	if (in->p == in->end)
		return need(in);
	if (*in->p != ',' && *in->p != '}')
		return bad(in);
	sp->end = *in->p++ == '}';
	return 0;
}

static int open_step(struct jin *in, void *arg)
{
	(void)arg;
	return expect(in, '{');
}

/* The whole store; 0 with s filled, or -1 with in->status. */
static int stream_parse(struct jin *in, struct jctx *c, struct store *s)
{
	struct sparse sp;
	size_t next = 0; /* arrays before this one are read, or absent */
	int seen[NARRAYS] = { 0 }, have_schema = 0;

	memset(&sp, 0, sizeof(sp));
	sp.c = c;
	sp.s = s;
	if (step(in, open_step, NULL) < 0)
		return -1;
	do {
		if (step(in, key_step, &sp) < 0)
			return -1;
		if (sp.member == (int)NARRAYS && !have_schema) {
			have_schema = 1;
			if (step(in, schema_step, &sp) < 0)
				return -1;
		} else if (sp.member >= 0 && sp.member < (int)NARRAYS && !seen[sp.member]) {
			/* Bindings are checked against what was read before them. */
			if ((size_t)sp.member < next)
				return bad(in);
			seen[sp.member] = 1;
			next = (size_t)sp.member + 1;
			sp.array = (size_t)sp.member;
			if (step(in, array_open_step, &sp) < 0)
				return -1;
			while (!sp.last)
				if (step(in, record_step, &sp) < 0)
					return -1;
		} else if (step(in, skip_step, &sp) < 0) {
			return -1;
		}
		if (step(in, sep_step, &sp) < 0)
			return -1;
	} while (!sp.end);
	/* Only whitespace may follow the document. */
	for (;;) {
		skip_ws(in);
		if (in->p < in->end)
			return bad(in);
		if (in->eof)
			break;
		if (fill(in, STEP_MIN) < 0)
			return -1;
	}
	if (!have_schema || sp.schema.type != JT_NUMBER || sp.schema.num != STORE_SCHEMA)
		return bad(in);
	return 0;
}

/* Runs the streaming reader over in; 0, 1 (not accepted) or -1 (read error). */
static int stream_load(struct jin *in, unsigned flags, struct store **out)
{
	struct jctx c;
	struct store *s = model_new();
	int rc;

	memset(&c, 0, sizeof(c));
	c.src = "";
	c.quiet = 1;
	c.check_only = (flags & STORE_READ_CHECK_ONLY) != 0;
	buf_init(&c.code, 0);
	buf_init(&in->scratch, 0);
	rc = stream_parse(in, &c, s);
	ctx_release(&c);
	buf_wipe_release(&in->scratch);
	if (rc == 0 && !c.check_only) {
		*out = s;
		return 0;
	}
	model_free(s);
	if (rc == 0)
		return 0;
	if (in->status == J_IO) {
		errno = in->rd_errno;
		return -1;
	}
	return 1;
}

int store_read_stream(store_read_fn rd, void *arg, unsigned flags, struct store **out)
{
	struct jin in;
	int rc, saved;

	*out = NULL;
	memset(&in, 0, sizeof(in));
	in.cap = WINDOW_MIN;
	in.win = xmalloc(in.cap);
	in.p = in.end = in.win;
	in.rd = rd;
	in.rdarg = arg;
	rc = stream_load(&in, flags, out);
	saved = errno;
	/* The text holds matching IDs, which are bearer secrets. */
	secure_wipe(in.win, in.used);
	free(in.win);
	errno = saved;
	return rc;
}

/* ---- front end 2: cJSON's parse tree ---- */

static void jval_from_tree(const cJSON *it, struct jval *v)
{
	memset(v, 0, sizeof(*v));
	if (!it)
		v->type = JT_ABSENT;
	else if (cJSON_IsString(it) && it->valuestring)
		v->type = JT_STRING, v->str = it->valuestring;
	else if (cJSON_IsNumber(it))
		v->type = JT_NUMBER, v->num = it->valuedouble;
	else if (cJSON_IsBool(it))
		v->type = cJSON_IsTrue(it) ? JT_TRUE : JT_FALSE;
	else if (cJSON_IsNull(it))
		v->type = JT_NULL;
	else if (cJSON_IsArray(it))
		v->type = JT_ARRAY;
	else if (cJSON_IsObject(it))
		v->type = JT_OBJECT;
	else
		v->type = JT_OTHER;
}

static void jrec_from_tree(const cJSON *obj, const char *const *keys, struct jrec *r)
{
	r->keys = keys;
	for (int i = 0; keys[i]; i++)
		jval_from_tree(cJSON_GetObjectItemCaseSensitive(obj, keys[i]), &r->v[i]);
}

static int load_array(struct jctx *c, struct store *s, const cJSON *root, size_t a)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, arrays[a].name);
	const cJSON *it;
	size_t i = 0;

	/* A missing array is an empty one: `{"schema":1}` is a valid empty store. */
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr)) {
		struct jval v;

		jval_from_tree(arr, &v);
		return jfail(c, arrays[a].name, "expected an array, found %s", type_name(&v));
	}
	cJSON_ArrayForEach(it, arr) {
		struct jrec r, sub;

		snprintf(c->where, sizeof(c->where), "%s[%zu]", arrays[a].name, i);
		if (!cJSON_IsObject(it)) {
			struct jval v;

			jval_from_tree(it, &v);
			return jfail(c, NULL, "expected an object, found %s", type_name(&v));
		}
		jrec_from_tree(it, arrays[a].keys, &r);
		if (arrays[a].load == load_profile && r.v[PR_AC].type == JT_OBJECT) {
			jrec_from_tree(cJSON_GetObjectItemCaseSensitive(it, "activation_code"),
				       actcode_keys, &sub);
			r.v[PR_AC].obj = &sub;
		}
		if (arrays[a].load(c, s, &r) < 0)
			return -1;
		i++;
	}
	c->where[0] = '\0';
	return 0;
}

static void text_position(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t l = 1, bol = 0;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n') {
			l++;
			bol = i + 1;
		}
	*line = l;
	*col = off - bol + 1;
}

static int syntax_error(struct jctx *c, const char *text, size_t off)
{
	size_t line, col;

	text_position(text, off, &line, &col);
	esim_fail(c->err, ESIM_E_STORE, "store '%s' is not valid JSON at line %zu, column %zu",
		  c->src, line, col);
	return esim_hint(c->err, CORRUPT_HINT);
}

static int from_tree(struct jctx *c, const char *text, size_t len, struct store **out)
{
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *schema;
	struct store *s = NULL;
	int ret = -1;
	size_t off;

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		return syntax_error(c, text, off);
	}
	/* Only whitespace may follow the document. */
	for (off = (size_t)(end - text); off < len; off++)
		if (text[off] != ' ' && text[off] != '\t' && text[off] != '\n' && text[off] != '\r')
			break;
	if (off < len) {
		syntax_error(c, text, off);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		struct jval v;

		jval_from_tree(root, &v);
		jfail(c, NULL, "expected a JSON object at the top level, found %s", type_name(&v));
		goto out;
	}
	schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!schema) {
		jfail(c, "schema", "missing");
		goto out;
	}
	if (!cJSON_IsNumber(schema) || !is_json_int(schema->valuedouble) ||
	    schema->valuedouble < INT32_MIN || schema->valuedouble > INT32_MAX) {
		struct jval v;

		jval_from_tree(schema, &v);
		jfail(c, "schema", "expected an integer, found %s", type_name(&v));
		goto out;
	}
	if ((int)schema->valuedouble != STORE_SCHEMA) {
		esim_fail(c->err, ESIM_E_STORE,
			  "store '%s' has schema %d; this esimctl understands schema %d", c->src,
			  (int)schema->valuedouble, STORE_SCHEMA);
		esim_hint(c->err, "upgrade esimctl to use this store; it was not modified");
		goto out;
	}

	s = model_new();
	/* Fixed order: bindings refer to devices and profiles loaded before them. */
	for (size_t a = 0; a < NARRAYS; a++)
		if (load_array(c, s, root, a) < 0)
			goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	model_free(s);
	cJSON_Delete(root);
	return ret;
}

int store_from_json(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err)
{
	struct jctx c;
	struct jin in;
	int ret;

	*out = NULL;
	memset(&in, 0, sizeof(in));
	in.p = text;
	in.end = text + len;
	in.eof = 1;
	if (stream_load(&in, 0, out) == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.src = srcname ? srcname : "(store)";
	c.err = err;
	buf_init(&c.code, 0);
	ret = from_tree(&c, text, len, out);
	ctx_release(&c);
	return ret;
}

/* ---- writer ---- */

static void put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	size_t n = strlen(s);

	if (string_run(s, s + n) == s + n) {
		/* nothing to escape: the usual case */
		buf_grow(b, n + 2);
		b->buf[b->len++] = '"';
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		b->buf[b->len++] = '"';
		b->buf[b->len] = '\0';
		return;
	}
	buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		const char *esc = NULL;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (ch) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: break;
		}
		if (esc) {
			buf_addstr(b, esc);
		} else {
			char u[7] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 0xf], '\0' };

			buf_addstr(b, u);
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_addch(b, '"');
}

/* Object writer: `first` tracks the comma. */
struct obj {
	struct buf *b;
	int first;
};

/* Keys are the constants below: nothing to escape. */
static void key(struct obj *o, const char *k)
{
	if (!o->first)
		buf_addch(o->b, ',');
	o->first = 0;
	buf_addch(o->b, '"');
	buf_addstr(o->b, k);
	buf_add(o->b, "\":", 2);
}

static void put_str(struct obj *o, const char *k, const char *v)
{
	if (!v)
		return;
	key(o, k);
	put_string(o->b, v);
}

/* Optional fields the reader requires to be non-empty: "" is written as absent. */
static void put_opt(struct obj *o, const char *k, const char *v)
{
	if (v && *v)
		put_str(o, k, v);
}

static void put_time(struct obj *o, const char *k, int64_t t, int required)
{
	char iso[TIME_ISO_LEN];

	if (!t && !required)
		return;
	time_format(t, iso);
	key(o, k);
	put_string(o->b, iso);
}

static void put_bool(struct obj *o, const char *k, int v)
{
	key(o, k);
	buf_addstr(o->b, v ? "true" : "false");
}

static void put_int(struct obj *o, const char *k, int64_t v)
{
	key(o, k);
	buf_addf(o->b, "%" PRId64, v);
}

static void open_array(struct buf *b, const char *name, size_t n)
{
	buf_addstr(b, ",\n");
	put_string(b, name);
	buf_addstr(b, n ? ":[\n" : ":[");
}

static void close_array(struct buf *b, size_t n)
{
	buf_addstr(b, n ? "\n]" : "]");
}

static void element_sep(struct buf *b, size_t i)
{
	if (i)
		buf_addstr(b, ",\n");
}

/* Where the text goes: all into b, or b flushed whenever it holds chunk bytes. */
struct wout {
	struct buf *b;
	size_t chunk;
	int (*flush)(void *arg, struct buf *b);
	void *arg;
};

/* After each element: 0, or -1 when a flush failed. */
static int wflush(const struct wout *w)
{
	if (!w->flush || w->b->len < w->chunk)
		return 0;
	return w->flush(w->arg, w->b) < 0 ? -1 : 0;
}

static int write_store(const struct store *s, const struct wout *w)
{
	struct buf *b = w->b;

	buf_addf(b, "{\"schema\":%d", STORE_SCHEMA);

	open_array(b, "devices", s->ndevices);
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];
		struct obj o = { b, 1 };

		element_sep(b, i);
		buf_addch(b, '{');
		put_str(&o, "name", d->name);
		put_str(&o, "kind", device_kind_name(d->kind));
		put_opt(&o, "platform", d->platform);
		put_opt(&o, "eid", d->eid);
		put_opt(&o, "imei", d->imei);
		put_bool(&o, "primary", d->primary);
		put_opt(&o, "euicc", d->euicc);
		put_time(&o, "created", d->created, 1);
		buf_addch(b, '}');
		if (wflush(w) < 0)
			return -1;
	}
	close_array(b, s->ndevices);

	open_array(b, "profiles", s->nprofiles);
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct profile *p = &s->profiles[i];
		struct obj o = { b, 1 };

		element_sep(b, i);
		buf_addch(b, '{');
		put_str(&o, "id", p->id);
		put_opt(&o, "iccid", p->iccid);
		put_str(&o, "carrier", p->carrier ? p->carrier : "");
		put_str(&o, "plan", plan_type_name(p->plan));
		put_opt(&o, "nickname", p->nickname);
		if (p->has_ac) {
			struct obj a = { b, 1 };

			key(&o, "activation_code");
			buf_addch(b, '{');
			put_str(&a, "smdp", p->ac.smdp);
			put_str(&a, "matching_id", p->ac.matching_id);
			if (p->ac.oid[0])
				put_str(&a, "oid", p->ac.oid);
			put_bool(&a, "cc_required", p->ac.cc_required);
			buf_addch(b, '}');
		}
		put_str(&o, "provider", p->provider);
		put_str(&o, "profile_name", p->profile_name);
		put_str(&o, "profile_class", p->profile_class);
		put_time(&o, "created", p->created, 1);
		put_time(&o, "last_transfer", p->last_transfer, 0);
		put_str(&o, "review", p->review);
		buf_addch(b, '}');
		if (wflush(w) < 0)
			return -1;
	}
	close_array(b, s->nprofiles);

	open_array(b, "bindings", s->nbindings);
	for (size_t i = 0; i < s->nbindings; i++) {
		const struct binding *bd = &s->bindings[i];
		struct obj o = { b, 1 };

		element_sep(b, i);
		buf_addch(b, '{');
		put_str(&o, "profile", bd->profile ? bd->profile : "");
		put_str(&o, "device", bd->device ? bd->device : "");
		put_str(&o, "state", binding_state_name(bd->state));
		put_time(&o, "since", bd->since, 1);
		put_time(&o, "ready_at", bd->ready_at, 0);
		put_time(&o, "released_at", bd->released_at, 0);
		buf_addch(b, '}');
		if (wflush(w) < 0)
			return -1;
	}
	close_array(b, s->nbindings);

	open_array(b, "history", s->nhistory);
	for (size_t i = 0; i < s->nhistory; i++) {
		const struct history_entry *h = &s->history[i];
		struct obj o = { b, 1 };

		element_sep(b, i);
		buf_addch(b, '{');
		put_time(&o, "time", h->time, 1);
		put_str(&o, "op", h->op ? h->op : "");
		put_str(&o, "profile", h->profile);
		put_str(&o, "from", h->from);
		put_str(&o, "to", h->to);
		put_str(&o, "outcome", h->outcome ? h->outcome : "");
		put_str(&o, "detail", h->detail);
		buf_addch(b, '}');
		if (wflush(w) < 0)
			return -1;
	}
	close_array(b, s->nhistory);

	open_array(b, "notifications", s->nnotifications);
	for (size_t i = 0; i < s->nnotifications; i++) {
		const struct pending_notification *n = &s->notifications[i];
		struct obj o = { b, 1 };

		element_sep(b, i);
		buf_addch(b, '{');
		put_str(&o, "device", n->device ? n->device : "");
		put_int(&o, "seq", n->seq);
		put_str(&o, "event", n->event ? n->event : "");
		put_str(&o, "address", n->address ? n->address : "");
		put_opt(&o, "iccid", n->iccid);
		put_str(&o, "data", n->data_b64 ? n->data_b64 : "");
		put_time(&o, "queued", n->queued, 1);
		put_int(&o, "attempts", n->attempts);
		put_str(&o, "last_error", n->last_error);
		buf_addch(b, '}');
		if (wflush(w) < 0)
			return -1;
	}
	close_array(b, s->nnotifications);

	buf_addstr(b, "}\n");
	return 0;
}

void store_to_json(const struct store *s, struct buf *out)
{
	struct wout w = { out, 0, NULL, NULL };

	/* About 300 bytes per profile: one allocation for typical stores. */
	buf_grow(out, 256 + 300 * (s->nprofiles + s->nbindings + s->nhistory) +
		       200 * s->ndevices + 600 * s->nnotifications);
	write_store(s, &w);
}

int store_write_stream(const struct store *s, struct buf *b, size_t chunk,
		       int (*flush)(void *arg, struct buf *b), void *arg)
{
	struct wout w = { b, chunk, flush, arg };

	if (write_store(s, &w) < 0)
		return -1;
	return b->len && flush(arg, b) < 0 ? -1 : 0;
}
