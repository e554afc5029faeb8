/*
 * store_json.c - the store's JSON text <-> struct store (docs/store-format.md).
 *
 * Reading uses cJSON and validates every field, naming the JSON path of the first
 * problem.  Writing does not build a cJSON tree: the writer below emits keys in a fixed
 * order, one array element per line, which keeps large stores fast to save and makes
 * `diff` of two stores show whole records.  Both directions are pure (no files).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "esimctl/model.h"
#include "esimctl/timeutil.h"

#define CORRUPT_HINT "restore the store from a backup or repair it by hand; it was not modified"

struct jctx {
	const char *src;
	struct esim_err *err;
	char where[96]; /* "profiles[3]" */
};

static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "store 'x': profiles[3].carrier: missing" */
static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
{
	char what[384];
	va_list ap;

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

static const char *type_name(const cJSON *it)
{
	if (cJSON_IsString(it))
		return "a string";
	if (cJSON_IsNumber(it))
		return "a number";
	if (cJSON_IsBool(it))
		return "a boolean";
	if (cJSON_IsNull(it))
		return "null";
	if (cJSON_IsArray(it))
		return "an array";
	if (cJSON_IsObject(it))
		return "an object";
	return "an unknown value";
}

/*
 * Optional fields may be absent or null; required ones must be present.  Strings are
 * copied into *out (NULL when absent).
 */
static int get_str(struct jctx *c, const cJSON *obj, const char *key, int required,
		   int nonempty, char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!it || (!required && cJSON_IsNull(it))) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (!cJSON_IsString(it) || !it->valuestring)
		return jfail(c, key, "expected a string, found %s", type_name(it));
	if (nonempty && !*it->valuestring)
		return jfail(c, key, "empty");
	*out = xstrdup(it->valuestring);
	return 0;
}

static int get_time(struct jctx *c, const cJSON *obj, const char *key, int required,
		    int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	struct esim_err terr = { 0 };

	*out = 0;
	if (!it || (!required && cJSON_IsNull(it))) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (!cJSON_IsString(it) || !it->valuestring)
		return jfail(c, key, "expected a time string, found %s", type_name(it));
	if (time_parse(it->valuestring, out, &terr) < 0)
		return jfail(c, key, "%s", terr.msg[0] ? terr.msg : "not an ISO 8601 time");
	return 0;
}

static int get_bool(struct jctx *c, const cJSON *obj, const char *key, int required, int *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = 0;
	if (!it || (!required && cJSON_IsNull(it))) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (!cJSON_IsBool(it))
		return jfail(c, key, "expected true or false, found %s", type_name(it));
	*out = cJSON_IsTrue(it);
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

static int get_int(struct jctx *c, const cJSON *obj, const char *key, int64_t min, int64_t max,
		   int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	*out = 0;
	if (!it)
		return jfail(c, key, "missing");
	if (!cJSON_IsNumber(it))
		return jfail(c, key, "expected an integer, found %s", type_name(it));
	v = it->valuedouble;
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

static int get_iccid(struct jctx *c, const cJSON *obj, const char *key, char **out)
{
	if (get_str(c, obj, key, 0, 0, out) < 0)
		return -1;
	if (*out && (!all_digits(*out) || strlen(*out) > ICCID_MAX_DIGITS))
		return jfail(c, key, "'%s' is not an ICCID (1 to %d digits)", *out, ICCID_MAX_DIGITS);
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

static int load_device(struct jctx *c, struct store *s, const cJSON *o)
{
	struct device d = { 0 };
	struct device *dup;
	char *kind = NULL;
	struct esim_err nerr = { 0 };

	if (get_str(c, o, "name", 1, 0, &d.name) < 0)
		goto fail;
	if (model_valid_device_name(d.name, &nerr) < 0) {
		jfail(c, "name", "%s", nerr.msg);
		goto fail;
	}
	if ((dup = model_device(s, d.name)) != NULL) {
		jfail(c, "name", "duplicate device name '%s' (also devices[%zu])", d.name,
		      (size_t)(dup - s->devices));
		goto fail;
	}
	if (get_str(c, o, "kind", 1, 0, &kind) < 0)
		goto fail;
	if (device_kind_parse(kind, &d.kind) < 0) {
		jfail(c, "kind", "unknown kind '%s' (expected phone, tablet, watch, laptop or hotspot)",
		      kind);
		goto fail;
	}
	if (get_str(c, o, "platform", 0, 1, &d.platform) < 0 ||
	    get_str(c, o, "eid", 0, 1, &d.eid) < 0 ||
	    get_str(c, o, "imei", 0, 1, &d.imei) < 0 ||
	    get_bool(c, o, "primary", 1, &d.primary) < 0 ||
	    get_str(c, o, "euicc", 0, 1, &d.euicc) < 0 ||
	    get_time(c, o, "created", 1, &d.created) < 0)
		goto fail;
	free(kind);
	model_add_device(s, &d);
	return 0;
fail:
	free(kind);
	device_fields_free(&d);
	return -1;
}

static void profile_fields_free(struct profile *p)
{
	free(p->iccid);
	free(p->carrier);
	free(p->nickname);
	free(p->provider);
	free(p->profile_name);
	free(p->profile_class);
	secure_wipe(&p->ac, sizeof(p->ac));
}

/*
 * The code is checked by the same parser as user input, so the store can only hold
 * codes that `esimctl add` would accept; what is kept is the parser's canonical form.
 */
static int load_actcode(struct jctx *c, const cJSON *obj, struct profile *p)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, "activation_code");
	char *smdp = NULL, *mid = NULL, *oid = NULL;
	struct buf text = BUF_INIT;
	struct esim_err aerr = { 0 };
	size_t wlen = strlen(c->where);
	int cc = 0, ret = -1;

	if (!o || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o))
		return jfail(c, "activation_code", "expected an object, found %s", type_name(o));
	snprintf(c->where + wlen, sizeof(c->where) - wlen, ".activation_code");
	if (get_str(c, o, "smdp", 1, 1, &smdp) < 0 ||
	    get_str(c, o, "matching_id", 1, 0, &mid) < 0 ||
	    get_str(c, o, "oid", 0, 0, &oid) < 0 ||
	    get_bool(c, o, "cc_required", 1, &cc) < 0)
		goto out;
	if (strchr(smdp, '$') || strchr(mid, '$') || (oid && strchr(oid, '$'))) {
		jfail(c, NULL, "a field contains '$'");
		goto out;
	}
	buf_addf(&text, "LPA:1$%s$%s", smdp, mid);
	if (oid || cc)
		buf_addf(&text, "$%s", oid ? oid : "");
	if (cc)
		buf_addstr(&text, "$1");
	if (actcode_parse(text.buf, &p->ac, &aerr) < 0) {
		jfail(c, NULL, "%s", aerr.msg[0] ? aerr.msg : "invalid activation code");
		goto out;
	}
	p->has_ac = 1;
	ret = 0;
out:
	c->where[wlen] = '\0';
	buf_wipe_release(&text);
	free(smdp);
	if (mid) {
		secure_wipe(mid, strlen(mid));
		free(mid);
	}
	free(oid);
	secure_wipe(&aerr, sizeof(aerr));
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

static int load_profile(struct jctx *c, struct store *s, const cJSON *o)
{
	struct profile p = { 0 };
	struct profile *dup;
	char *id = NULL, *plan = NULL;

	if (get_str(c, o, "id", 1, 0, &id) < 0)
		goto fail;
	if (!valid_profile_id(id)) {
		jfail(c, "id", "'%s' is not a profile id (%d lower-case hex digits)", id,
		      PROFILE_ID_LEN);
		goto fail;
	}
	if ((dup = model_profile_by_id(s, id)) != NULL) {
		jfail(c, "id", "duplicate profile id '%s' (also profiles[%zu])", id,
		      (size_t)(dup - s->profiles));
		goto fail;
	}
	memcpy(p.id, id, PROFILE_ID_LEN + 1);
	if (get_iccid(c, o, "iccid", &p.iccid) < 0 ||
	    get_str(c, o, "carrier", 1, 1, &p.carrier) < 0 ||
	    get_str(c, o, "plan", 1, 0, &plan) < 0)
		goto fail;
	if (plan_type_parse(plan, &p.plan) < 0) {
		jfail(c, "plan", "unknown plan '%s' (expected voice+data or data-only)", plan);
		goto fail;
	}
	if (get_str(c, o, "nickname", 0, 1, &p.nickname) < 0 ||
	    load_actcode(c, o, &p) < 0 ||
	    get_str(c, o, "provider", 0, 0, &p.provider) < 0 ||
	    get_str(c, o, "profile_name", 0, 0, &p.profile_name) < 0 ||
	    get_str(c, o, "profile_class", 0, 0, &p.profile_class) < 0)
		goto fail;
	if (p.profile_class && !in_list(p.profile_class, profile_classes)) {
		jfail(c, "profile_class",
		      "unknown class '%s' (expected test, provisioning or operational)",
		      p.profile_class);
		goto fail;
	}
	if (get_time(c, o, "created", 1, &p.created) < 0 ||
	    get_time(c, o, "last_transfer", 0, &p.last_transfer) < 0)
		goto fail;
	free(id);
	free(plan);
	model_add_profile(s, &p);
	return 0;
fail:
	free(id);
	free(plan);
	profile_fields_free(&p);
	return -1;
}

static int load_binding(struct jctx *c, struct store *s, const cJSON *o)
{
	struct binding b = { 0 };
	char *state = NULL;

	if (get_str(c, o, "profile", 1, 0, &b.profile) < 0)
		goto fail;
	if (!model_profile_by_id(s, b.profile)) {
		jfail(c, "profile", "unknown profile '%s'", b.profile);
		goto fail;
	}
	if (get_str(c, o, "device", 1, 0, &b.device) < 0 ||
	    get_str(c, o, "state", 1, 0, &state) < 0)
		goto fail;
	if (binding_state_parse(state, &b.state) < 0) {
		jfail(c, "state", "unknown state '%s' (expected pending, active or released)",
		      state);
		goto fail;
	}
	/*
	 * Removing a device leaves its released bindings behind as history, so only
	 * bindings that still hold a profile must name a device that exists.
	 */
	if (b.state != BIND_RELEASED && !model_device(s, b.device)) {
		jfail(c, "device", "unknown device '%s'", b.device);
		goto fail;
	}
	if (get_time(c, o, "since", 1, &b.since) < 0 ||
	    get_time(c, o, "ready_at", 0, &b.ready_at) < 0 ||
	    get_time(c, o, "released_at", 0, &b.released_at) < 0)
		goto fail;
	free(state);
	model_add_binding(s, &b);
	return 0;
fail:
	free(state);
	free(b.profile);
	free(b.device);
	return -1;
}

static int load_history(struct jctx *c, struct store *s, const cJSON *o)
{
	struct history_entry h = { 0 };
	int ret = -1;

	if (get_time(c, o, "time", 1, &h.time) < 0 ||
	    get_str(c, o, "op", 1, 1, &h.op) < 0 ||
	    get_str(c, o, "profile", 0, 0, &h.profile) < 0 ||
	    get_str(c, o, "from", 0, 0, &h.from) < 0 ||
	    get_str(c, o, "to", 0, 0, &h.to) < 0 ||
	    get_str(c, o, "outcome", 1, 1, &h.outcome) < 0 ||
	    get_str(c, o, "detail", 0, 0, &h.detail) < 0)
		goto out;
	model_add_history(s, h.time, h.op, h.profile, h.from, h.to, h.outcome, h.detail);
	ret = 0;
out:
	free(h.op);
	free(h.profile);
	free(h.from);
	free(h.to);
	free(h.outcome);
	free(h.detail);
	return ret;
}

static const char *const notification_events[] = { "install", "enable", "disable", "delete",
						     NULL };

static int load_notification(struct jctx *c, struct store *s, const cJSON *o)
{
	struct pending_notification n = { 0 };
	int64_t attempts = 0;

	if (get_str(c, o, "device", 1, 1, &n.device) < 0 ||
	    get_int(c, o, "seq", INT32_MIN, INT64_C(9007199254740992), &n.seq) < 0 ||
	    get_str(c, o, "event", 1, 0, &n.event) < 0)
		goto fail;
	if (!in_list(n.event, notification_events)) {
		jfail(c, "event", "unknown event '%s' (expected install, enable, disable or delete)",
		      n.event);
		goto fail;
	}
	if (get_str(c, o, "address", 1, 1, &n.address) < 0 ||
	    get_iccid(c, o, "iccid", &n.iccid) < 0 ||
	    get_str(c, o, "data", 1, 1, &n.data_b64) < 0 ||
	    get_time(c, o, "queued", 1, &n.queued) < 0 ||
	    get_int(c, o, "attempts", 0, INT32_MAX, &attempts) < 0 ||
	    get_str(c, o, "last_error", 0, 0, &n.last_error) < 0)
		goto fail;
	n.attempts = (int)attempts;
	model_add_notification(s, &n);
	return 0;
fail:
	free(n.device);
	free(n.event);
	free(n.address);
	free(n.iccid);
	free(n.data_b64);
	free(n.last_error);
	return -1;
}

static int load_array(struct jctx *c, struct store *s, const cJSON *root, const char *name,
		      int (*load)(struct jctx *, struct store *, const cJSON *))
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
	const cJSON *it;
	size_t i = 0;

	/* A missing array is an empty one: `{"schema":1}` is a valid empty store. */
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return jfail(c, name, "expected an array, found %s", type_name(arr));
	cJSON_ArrayForEach(it, arr) {
		snprintf(c->where, sizeof(c->where), "%s[%zu]", name, i);
		if (!cJSON_IsObject(it))
			return jfail(c, NULL, "expected an object, found %s", type_name(it));
		if (load(c, s, it) < 0)
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

int store_from_json(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err)
{
	struct jctx c = { srcname ? srcname : "(store)", err, "" };
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *schema;
	struct store *s = NULL;
	int ret = -1;
	size_t off;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		return syntax_error(&c, text, off);
	}
	/* Only whitespace may follow the document. */
	for (off = (size_t)(end - text); off < len; off++)
		if (text[off] != ' ' && text[off] != '\t' && text[off] != '\n' && text[off] != '\r')
			break;
	if (off < len) {
		syntax_error(&c, text, off);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		jfail(&c, NULL, "expected a JSON object at the top level, found %s", type_name(root));
		goto out;
	}
	schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!schema) {
		jfail(&c, "schema", "missing");
		goto out;
	}
	if (!cJSON_IsNumber(schema) || !is_json_int(schema->valuedouble) ||
	    schema->valuedouble < INT32_MIN || schema->valuedouble > INT32_MAX) {
		jfail(&c, "schema", "expected an integer, found %s", type_name(schema));
		goto out;
	}
	if ((int)schema->valuedouble != STORE_SCHEMA) {
		esim_fail(err, ESIM_E_STORE,
			  "store '%s' has schema %d; this esimctl understands schema %d", c.src,
			  (int)schema->valuedouble, STORE_SCHEMA);
		esim_hint(err, "upgrade esimctl to use this store; it was not modified");
		goto out;
	}

	s = model_new();
	/* Fixed order: bindings refer to devices and profiles loaded before them. */
	if (load_array(&c, s, root, "devices", load_device) < 0 ||
	    load_array(&c, s, root, "profiles", load_profile) < 0 ||
	    load_array(&c, s, root, "bindings", load_binding) < 0 ||
	    load_array(&c, s, root, "history", load_history) < 0 ||
	    load_array(&c, s, root, "notifications", load_notification) < 0)
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	model_free(s);
	cJSON_Delete(root);
	return ret;
}

/* ---- writer ---- */

static void put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

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

static void key(struct obj *o, const char *k)
{
	if (!o->first)
		buf_addch(o->b, ',');
	o->first = 0;
	put_string(o->b, k);
	buf_addch(o->b, ':');
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

void store_to_json(const struct store *s, struct buf *out)
{
	struct buf *b = out;

	/* About 300 bytes per profile: one allocation for typical stores. */
	buf_grow(b, 256 + 300 * (s->nprofiles + s->nbindings + s->nhistory) +
		     200 * s->ndevices + 600 * s->nnotifications);
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
		buf_addch(b, '}');
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
	}
	close_array(b, s->nnotifications);

	buf_addstr(b, "}\n");
}
