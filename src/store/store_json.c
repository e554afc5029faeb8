/*
 * store_json.c - the store's JSON text <-> struct store (docs/store-format.md).
 *
 * Both directions go through cJSON.  Reading parses the whole text into a cJSON tree and
 * checks every field of every record (load_device() ... load_notification(), which see a
 * record as a struct jrec of its known fields), naming the first problem: the line and
 * column where cJSON stopped for a syntax error, or the JSON path of an invalid field
 * ("profiles[3].carrier: missing").  Writing prints each record with cJSON, in the fixed
 * layout of docs/store-format.md (keys in a fixed order, one array element per line), so
 * that `diff` of two stores shows whole records.  Both directions are pure (no files).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "esimctl/isdr.h"
#include "esimctl/model.h"
#include "esimctl/timeutil.h"
#include "store/store_json.h"

#define CORRUPT_HINT "restore the store from a backup or repair it by hand; it was not modified"

/* ---- a record's known fields ---- */

enum jtype { JT_ABSENT, JT_NULL, JT_FALSE, JT_TRUE, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT, JT_OTHER };

struct jrec;

struct jval {
	enum jtype type;
	const char *str;          /* JT_STRING: decoded, NUL-terminated */
	double num;               /* JT_NUMBER */
	const struct jrec *obj;   /* JT_OBJECT: the fields of a nested record (activation_code) */
};

#define JREC_MAX 12

struct jrec {
	const char *const *keys;  /* field names, NULL-terminated, at most JREC_MAX */
	struct jval v[JREC_MAX];
};

enum { DV_NAME, DV_KIND, DV_PLATFORM, DV_EID, DV_IMEI, DV_PRIMARY, DV_EUICC, DV_CREATED, DV_ISDR_AID };
static const char *const device_keys[] = {
	"name", "kind", "platform", "eid", "imei", "primary", "euicc", "created", "isdr_aid", NULL
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

/* ---- checks ---- */

struct jctx {
	const char *src;
	struct esim_err *err;
	/*
	 * Where the record being loaded is, for messages: "profiles[3]" (array, index) and
	 * ".activation_code" (sub).  Formatted only by jfail(): most stores have no error.
	 */
	const char *array;   /* NULL: at the top level */
	size_t index;
	const char *sub;     /* NULL, or the nested record's name */
	struct buf *drop;    /* the text, wiped and released once parsed, or NULL */
};

static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "store 'x': profiles[3].carrier: missing" */
static int jfail(struct jctx *c, const char *field, const char *fmt, ...)
{
	char what[384], where[96] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->array)
		snprintf(where, sizeof(where), "%s[%zu]%s%s", c->array, c->index, c->sub ? "." : "",
			 c->sub ? c->sub : "");
	if (!*where && !field)
		esim_fail(c->err, ESIM_E_STORE, "store '%s': %s", c->src, what);
	else
		esim_fail(c->err, ESIM_E_STORE, "store '%s': %s%s%s: %s", c->src, where,
			  field && *where ? "." : "", field ? field : "", what);
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

/* get_cstr(), copied into the store's pool (NULL when absent). */
static int get_str(struct jctx *c, struct store *s, const struct jrec *r, int f, int required,
		   int nonempty, char **out)
{
	const char *v;

	*out = NULL;
	if (get_cstr(c, r, f, required, nonempty, &v) < 0)
		return -1;
	*out = model_strdup(s, v);
	return 0;
}

static int get_time(struct jctx *c, const struct jrec *r, int f, int required, int64_t *out)
{
	const struct jval *it = &r->v[f];
	const char *key = r->keys[f];
	struct esim_err terr;

	*out = TIME_NONE;
	if (it->type == JT_ABSENT || (!required && it->type == JT_NULL)) {
		if (required)
			return jfail(c, key, "missing");
		return 0;
	}
	if (it->type != JT_STRING)
		return jfail(c, key, "expected a time string, found %s", type_name(it));
	terr.msg[0] = '\0'; /* esim_fail() sets all of it, and only then is it read */
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

static int load_device(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct device d = { 0 };
	struct device *dup;
	const char *kind;

	if (get_str(c, s, r, DV_NAME, 1, 0, &d.name) < 0)
		goto fail;
	{
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
	if (get_str(c, s, r, DV_PLATFORM, 0, 1, &d.platform) < 0 ||
	    get_str(c, s, r, DV_EID, 0, 1, &d.eid) < 0 ||
	    get_str(c, s, r, DV_IMEI, 0, 1, &d.imei) < 0 ||
	    get_bool(c, r, DV_PRIMARY, 1, &d.primary) < 0 ||
	    get_str(c, s, r, DV_EUICC, 0, 1, &d.euicc) < 0 ||
	    get_time(c, r, DV_CREATED, 1, &d.created) < 0 ||
	    get_str(c, s, r, DV_ISDR_AID, 0, 1, &d.isdr_aid) < 0)
		goto fail;
	if (d.isdr_aid) {
		struct esim_err aerr = { 0 };
		uint8_t aid[ISDR_AID_MAX];
		char hex[ISDR_AID_HEX];
		size_t len;

		if (!d.euicc) {
			jfail(c, "isdr_aid", "set, but the device has no \"euicc\"");
			goto fail;
		}
		if (isdr_aid_parse(d.isdr_aid, "ISD-R AID", aid, &len, &aerr) < 0) {
			jfail(c, "isdr_aid", "%s", aerr.msg);
			goto fail;
		}
		/* one spelling in memory: upper case, as device add writes it */
		memcpy(d.isdr_aid, isdr_aid_hex(aid, len, hex), 2 * len + 1);
	}
	model_add_device(s, &d);
	return 0;
fail:
	/* its strings are the store's (pooled): they go with the store the load drops */
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
	int cc = 0, ret = -1;

	if (v->type == JT_ABSENT || v->type == JT_NULL)
		return 0;
	if (v->type != JT_OBJECT)
		return jfail(c, "activation_code", "expected an object, found %s", type_name(v));
	c->sub = "activation_code";
	if (get_cstr(c, r, AC_SMDP, 1, 1, &smdp) < 0 ||
	    get_cstr(c, r, AC_MID, 1, 0, &mid) < 0 ||
	    get_cstr(c, r, AC_OID, 0, 0, &oid) < 0 ||
	    get_bool(c, r, AC_CC, 1, &cc) < 0)
		goto out;
	if (strchr(smdp, '$') || strchr(mid, '$') || (oid && strchr(oid, '$'))) {
		jfail(c, NULL, "a field contains '$'");
		goto out;
	}
	{
		struct esim_err aerr;
		struct actcode ac;

		aerr.msg[0] = '\0'; /* esim_fail() sets all of it, and only then is it read */
		if (actcode_from_fields(smdp, mid, oid, cc, &ac, &aerr) < 0) {
			jfail(c, NULL, "%s", aerr.msg[0] ? aerr.msg : "invalid activation code");
			/* the message may quote the code */
			secure_wipe(&aerr, sizeof(aerr));
			goto out;
		}
		p->ac = actcode_pack(&ac);
		actcode_wipe(&ac);
	}
	ret = 0;
out:
	c->sub = NULL;
	return ret;
}

static const char *const profile_classes[] = { "test", "provisioning", "operational", NULL };

/* The loaders check a record with the strings borrowed from the tree, then copy them. */
static int load_profile(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct profile p = { 0 };
	struct profile *dup;
	const char *id, *iccid, *carrier, *plan, *nickname, *provider, *pname, *pclass, *review;

	if (get_cstr(c, r, PR_ID, 1, 0, &id) < 0)
		return -1;
	if (!model_valid_profile_id(id))
		return jfail(c, "id", "'%s' is not a profile id (%d or %d lower-case hex digits)",
			     id, PROFILE_ID_LEGACY_LEN, PROFILE_ID_LEN);
	if ((dup = model_profile_by_id(s, id)) != NULL) {
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
	memcpy(p.id, id, strlen(id) + 1);
	p.iccid = model_strdup(s, iccid);
	p.carrier = model_strdup(s, carrier);
	p.nickname = model_strdup(s, nickname);
	p.provider = model_strdup(s, provider);
	p.profile_name = model_strdup(s, pname);
	p.profile_class = model_strdup(s, pclass);
	p.review = model_strdup(s, review);
	model_add_profile(s, &p);
	return 0;
fail:
	actcode_packed_free(p.ac);
	return -1;
}

static int load_binding(struct jctx *c, struct store *s, const struct jrec *r)
{
	struct binding b = { 0 };
	const char *profile, *device, *state;

	if (get_cstr(c, r, BD_PROFILE, 1, 0, &profile) < 0)
		return -1;
	if (!model_profile_by_id(s, profile))
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
	b.profile = model_strdup(s, profile);
	b.device = model_strdup(s, device);
	model_add_binding(s, &b);
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
	n.attempts = (int)attempts;
	n.device = model_strdup(s, device);
	n.event = model_strdup(s, event);
	n.address = model_strdup(s, address);
	n.iccid = model_strdup(s, iccid);
	n.data_b64 = model_strdup(s, data);
	n.last_error = model_strdup(s, last_error);
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

/* ---- reading: cJSON's parse tree ---- */

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

/*
 * The known fields of an object, in one pass over its members.  Of duplicate keys the
 * first counts, as with cJSON_GetObjectItemCaseSensitive(); unknown keys are ignored.
 */
static void jrec_from_tree(const cJSON *obj, const char *const *keys, struct jrec *r)
{
	const cJSON *it;
	int n, next = 0;

	r->keys = keys;
	for (n = 0; keys[n]; n++)
		r->v[n].type = JT_ABSENT;
	cJSON_ArrayForEach(it, obj) {
		int i;

		if (!it->string)
			continue;
		/*
		 * The writer puts the keys in this order (optional ones may be missing): try
		 * the keys after the last one found first, then all of them.
		 */
		for (i = next; i < n; i++)
			if (it->string[0] == keys[i][0] && !strcmp(it->string, keys[i]))
				break;
		if (i == n) {
			for (i = 0; i < next; i++)
				if (it->string[0] == keys[i][0] && !strcmp(it->string, keys[i]))
					break;
			if (i == next)
				continue; /* not a key of the record */
		}
		if (r->v[i].type == JT_ABSENT) {
			jval_from_tree(it, &r->v[i]);
			next = i + 1;
		}
	}
}

/* Element i of array a. */
static int load_record(struct jctx *c, struct store *s, size_t a, size_t i, const cJSON *it)
{
	struct jrec r, sub;

	c->array = arrays[a].name;
	c->index = i;
	if (!cJSON_IsObject(it)) {
		struct jval v;

		jval_from_tree(it, &v);
		return jfail(c, NULL, "expected an object, found %s", type_name(&v));
	}
	jrec_from_tree(it, arrays[a].keys, &r);
	if (arrays[a].load == load_profile && r.v[PR_AC].type == JT_OBJECT) {
		jrec_from_tree(cJSON_GetObjectItemCaseSensitive(it, "activation_code"), actcode_keys,
			       &sub);
		r.v[PR_AC].obj = &sub;
	}
	return arrays[a].load(c, s, &r);
}

static int load_array(struct jctx *c, struct store *s, cJSON *root, size_t a)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, arrays[a].name);
	cJSON *it;
	size_t i = 0;

	/* A missing array is an empty one: `{"schema":1}` is a valid empty store. */
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr)) {
		struct jval v;

		jval_from_tree(arr, &v);
		return jfail(c, arrays[a].name, "expected an array, found %s", type_name(&v));
	}
	{
		/*
		 * Room for all of them at once, made now: in the memory freed by the text and
		 * the records loaded before, rather than in fresh pages.
		 */
		size_t n[NARRAYS] = { 0 };

		_Static_assert(NARRAYS == 5, "model_reserve() takes the five arrays in this order");
		n[a] = (size_t)cJSON_GetArraySize(arr);
		model_reserve(s, n[0], n[1], n[2], n[3], n[4]);
	}
	/*
	 * Each record's part of the tree is freed as soon as it is loaded: the model is then
	 * built in memory the tree used, instead of in more fresh pages.
	 */
	while ((it = arr->child) != NULL) {
		if (load_record(c, s, a, i, it) < 0)
			return -1;
		cJSON_Delete(cJSON_DetachItemViaPointer(arr, it));
		i++;
	}
	c->array = NULL;
	return 0;
}

/* Line and column (1-based, in bytes) of text[off]: where cJSON stopped. */
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
	if (c->drop) {
		/* It holds matching IDs; the tree has all of it now. */
		secure_wipe(c->drop->buf, c->drop->len);
		buf_release(c->drop);
		text = NULL;
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

/*
 * ---- reading one record at a time ----
 *
 * A store as esimctl writes it is {"schema":1,"devices":[...],"profiles":[...],...} with
 * the arrays in loading order.  from_stream() walks that object and its arrays itself
 * (the braces, brackets, colons and commas, nothing else) and has cJSON parse every value
 * in them: each key, and each record, which is loaded and freed before the next is
 * parsed.  So no tree of the whole store is ever made: a record's nodes are parsed,
 * loaded and freed while they are in the cache, in the same few kilobytes of memory
 * (docs/performance.md: at 1,000 profiles, less than half the page faults).
 *
 * It loads nothing differently: the records go through load_record(), as from_tree()'s
 * do.  Any text it does not take as it is (another top-level order, a repeated key, a
 * schema that is not STORE_SCHEMA, a syntax error, a record that fails its checks) makes
 * it return 1 having kept nothing, and from_tree() loads the text whole and reports what
 * is wrong exactly as it always has.
 */

/* cJSON's whitespace: it skips every byte up to ' ' between tokens. */
static size_t skip_ws(const char *t, size_t len, size_t pos)
{
	while (pos < len && (unsigned char)t[pos] <= ' ')
		pos++;
	return pos;
}

/*
 * The value at *pos, parsed by cJSON, and *pos after it; NULL on any error.  A UTF-8 BOM
 * is skipped by cJSON at the start of what it is given, which is only right at the start
 * of the text.
 */
static cJSON *value_at(const char *t, size_t len, size_t *pos)
{
	const char *end = NULL;
	cJSON *v;

	if (len - *pos >= 3 && !memcmp(t + *pos, "\xEF\xBB\xBF", 3))
		return NULL;
	v = cJSON_ParseWithLengthOpts(t + *pos, len - *pos, &end, 0);
	if (v)
		*pos = (size_t)(end - t);
	return v;
}

/*
 * Arrays and objects v nests, itself included, counted up to limit + 1.  cJSON refuses a
 * document nested more than CJSON_NESTING_LIMIT deep; a record is two levels down in the
 * store, a value given to cJSON alone at the top: the streamed load declines what the
 * whole document would not have passed.
 */
static int nesting(const cJSON *v, int limit)
{
	int deepest = 0;

	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return 0;
	for (const cJSON *c = v->child; c && deepest < limit; c = c->next) {
		int d = nesting(c, limit - 1);

		if (d > deepest)
			deepest = d;
	}
	return 1 + deepest;
}

/* The next non-space byte is ch: *pos goes past it. */
static int take(const char *t, size_t len, size_t *pos, char ch)
{
	*pos = skip_ws(t, len, *pos);
	if (*pos >= len || t[*pos] != ch)
		return 0;
	(*pos)++;
	return 1;
}

/* Array a's elements, from its '['; 0 loaded, -1 anything else. */
static int stream_array(struct jctx *c, struct store *s, size_t a, const char *t, size_t len,
			size_t *pos)
{
	size_t i = 0;

	if (!take(t, len, pos, '['))
		return -1;
	if (take(t, len, pos, ']'))
		return 0;
	for (;; i++) {
		cJSON *it = value_at(t, len, pos);
		int rc;

		if (!it)
			return -1;
		if (nesting(it, CJSON_NESTING_LIMIT - 2) > CJSON_NESTING_LIMIT - 2) {
			cJSON_Delete(it);
			return -1;
		}
		rc = load_record(c, s, a, i, it);
		cJSON_Delete(it);
		if (rc < 0)
			return -1;
		if (take(t, len, pos, ']'))
			return 0;
		if (!take(t, len, pos, ','))
			return -1;
	}
}

/* 0 loaded into *out; 1: from_tree() must load it (see above). */
static int from_stream(struct jctx *c, const char *t, size_t len, struct store **out)
{
	struct store *s = NULL;
	size_t pos = 0, next = 0; /* next: arrays before it were seen */
	int first = 1;

	if (!take(t, len, &pos, '{'))
		return 1;
	for (;; first = 0) {
		cJSON *key = value_at(t, len, &pos), *v;
		size_t a;

		if (!key || !cJSON_IsString(key) || !take(t, len, &pos, ':')) {
			cJSON_Delete(key);
			goto other;
		}
		for (a = 0; a < NARRAYS && strcmp(key->valuestring, arrays[a].name); a++)
			;
		if (first != !strcmp(key->valuestring, "schema") || (a < NARRAYS && a < next)) {
			cJSON_Delete(key);
			goto other;
		}
		cJSON_Delete(key);
		if (a < NARRAYS) {
			if (stream_array(c, s, a, t, len, &pos) < 0)
				goto other;
			next = a + 1;
		} else {
			/* "schema", or a member esimctl does not know: ignored, as from_tree() does */
			if (!(v = value_at(t, len, &pos)))
				goto other;
			if (nesting(v, CJSON_NESTING_LIMIT - 1) > CJSON_NESTING_LIMIT - 1) {
				cJSON_Delete(v);
				goto other;
			}
			if (first && !(cJSON_IsNumber(v) && v->valuedouble == STORE_SCHEMA)) {
				cJSON_Delete(v);
				goto other;
			}
			cJSON_Delete(v);
			if (first)
				s = model_new();
		}
		if (take(t, len, &pos, '}'))
			break;
		if (!take(t, len, &pos, ','))
			goto other;
	}
	/* as from_tree(): only JSON's whitespace may follow */
	while (pos < len && (t[pos] == ' ' || t[pos] == '\t' || t[pos] == '\n' || t[pos] == '\r'))
		pos++;
	if (pos < len)
		goto other;
	c->array = NULL;
	*out = s;
	return 0;
other:
	model_free(s);
	c->array = NULL;
	c->index = 0;
	c->sub = NULL;
	esim_err_clear(c->err);
	return 1;
}

/* A load's context, and *out NULL until it succeeds. */
static void ctx_init(struct jctx *c, const char *srcname, struct esim_err *err, struct store **out)
{
	*out = NULL;
	memset(c, 0, sizeof(*c));
	c->src = srcname ? srcname : "(store)";
	c->err = err;
}

static int from_json(const char *text, size_t len, struct buf *drop, const char *srcname,
		     struct store **out, struct esim_err *err)
{
	struct jctx c;
	int ret;

	ctx_init(&c, srcname, err, out);
	c.drop = drop;
	ret = from_stream(&c, text, len, out);
	if (ret == 1)
		ret = from_tree(&c, text, len, out);
	if (drop) {
		secure_wipe(drop->buf, drop->len);
		buf_release(drop);
	}
	return ret;
}

int store_from_json(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err)
{
	return from_json(text, len, NULL, srcname, out, err);
}

int store_json_stream(const char *text, size_t len, const char *srcname, struct store **out,
		      struct esim_err *err)
{
	struct jctx c;

	ctx_init(&c, srcname, err, out);
	return from_stream(&c, text, len, out);
}

int store_json_tree(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err)
{
	struct jctx c;

	ctx_init(&c, srcname, err, out);
	return from_tree(&c, text, len, out);
}

int store_from_json_buf(struct buf *text, const char *srcname, struct store **out,
			struct esim_err *err)
{
	return from_json(text->buf, text->len, text, srcname, out, err);
}

/* ---- writer ---- */

/*
 * A record's object lives only until put_record() has printed it: keys (literals) and
 * the model's strings are referenced, not copied; only text made here (times, numbers)
 * is copied.
 */
static void put_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddItemToObjectCS(o, k, cJSON_CreateStringReference(v));
}

/* Optional fields the reader requires to be non-empty: "" is written as absent. */
static void put_opt(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		put_str(o, k, v);
}

static void put_bool(cJSON *o, const char *k, int v)
{
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateBool(v));
}

static void put_time(cJSON *o, const char *k, int64_t t, int required)
{
	char iso[TIME_ISO_LEN];

	if (t == TIME_NONE && !required)
		return;
	time_format(t, iso);
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateString(iso));
}

/* A whole number as decimal digits (a double would print 2^53 as 9.007199254740992e+15). */
static void put_int(cJSON *o, const char *k, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateRaw(num));
}

static cJSON *device_json(const struct device *d)
{
	cJSON *o = cJSON_CreateObject();

	put_str(o, "name", d->name);
	put_str(o, "kind", device_kind_name(d->kind));
	put_opt(o, "platform", d->platform);
	put_opt(o, "eid", d->eid);
	put_opt(o, "imei", d->imei);
	put_bool(o, "primary", d->primary);
	put_opt(o, "euicc", d->euicc);
	put_opt(o, "isdr_aid", d->isdr_aid);
	put_time(o, "created", d->created, 1);
	return o;
}

static cJSON *profile_json(const struct profile *p)
{
	cJSON *o = cJSON_CreateObject();

	put_str(o, "id", p->id);
	put_opt(o, "iccid", p->iccid);
	put_str(o, "carrier", p->carrier ? p->carrier : "");
	put_str(o, "plan", plan_type_name(p->plan));
	put_opt(o, "nickname", p->nickname);
	if (p->ac) {
		cJSON *a = cJSON_CreateObject();

		cJSON_AddItemToObjectCS(o, "activation_code", a);

		put_str(a, "smdp", p->ac->smdp);
		put_str(a, "matching_id", p->ac->matching_id);
		if (p->ac->oid[0])
			put_str(a, "oid", p->ac->oid);
		put_bool(a, "cc_required", p->ac->cc_required);
	}
	put_str(o, "provider", p->provider);
	put_str(o, "profile_name", p->profile_name);
	put_str(o, "profile_class", p->profile_class);
	put_time(o, "created", p->created, 1);
	put_time(o, "last_transfer", p->last_transfer, 0);
	put_str(o, "review", p->review);
	return o;
}

static cJSON *binding_json(const struct binding *b)
{
	cJSON *o = cJSON_CreateObject();

	put_str(o, "profile", b->profile ? b->profile : "");
	put_str(o, "device", b->device ? b->device : "");
	put_str(o, "state", binding_state_name(b->state));
	put_time(o, "since", b->since, 1);
	put_time(o, "ready_at", b->ready_at, 0);
	put_time(o, "released_at", b->released_at, 0);
	return o;
}

static cJSON *history_json(const struct history_entry *h)
{
	cJSON *o = cJSON_CreateObject();

	put_time(o, "time", h->time, 1);
	put_str(o, "op", h->op ? h->op : "");
	put_str(o, "profile", h->profile);
	put_str(o, "from", h->from);
	put_str(o, "to", h->to);
	put_str(o, "outcome", h->outcome ? h->outcome : "");
	put_str(o, "detail", h->detail);
	return o;
}

static cJSON *notification_json(const struct pending_notification *n)
{
	cJSON *o = cJSON_CreateObject();

	put_str(o, "device", n->device ? n->device : "");
	put_int(o, "seq", n->seq);
	put_str(o, "event", n->event ? n->event : "");
	put_str(o, "address", n->address ? n->address : "");
	put_opt(o, "iccid", n->iccid);
	put_str(o, "data", n->data_b64 ? n->data_b64 : "");
	put_time(o, "queued", n->queued, 1);
	put_int(o, "attempts", n->attempts);
	put_str(o, "last_error", n->last_error);
	return o;
}

/*
 * One record, printed by cJSON straight into out (cJSON_PrintPreallocated() says 0 when
 * the room was too small: retry with more).  The record refers to the model's matching
 * ID, so no copy of it is left to wipe; out holds one (the caller wipes it).
 */
static void put_record(struct buf *out, cJSON *o)
{
	size_t room = 512;

	for (;;) {
		buf_grow(out, room);
		if (cJSON_PrintPreallocated(o, out->buf + out->len, (int)room, 0)) {
			out->len += strlen(out->buf + out->len);
			break;
		}
		room *= 2;
	}
	cJSON_Delete(o);
}

#define PUT_ARRAY(out, name, arr, n, to_json)                          \
	do {                                                           \
		buf_addstr(out, ",\n\"" name "\":[");                  \
		for (size_t i_ = 0; i_ < (n); i_++) {                  \
			buf_addstr(out, i_ ? ",\n" : "\n");            \
			put_record(out, to_json(&(arr)[i_]));          \
		}                                                      \
		buf_addstr(out, (n) ? "\n]" : "]");                    \
	} while (0)

void store_to_json(const struct store *s, struct buf *out)
{
	/* About 300 bytes per record: one allocation for typical stores. */
	buf_grow(out, 256 + 300 * (s->nprofiles + s->nbindings + s->nhistory) +
		       200 * s->ndevices + 600 * s->nnotifications);
	buf_addf(out, "{\"schema\":%d", STORE_SCHEMA);
	PUT_ARRAY(out, "devices", s->devices, s->ndevices, device_json);
	PUT_ARRAY(out, "profiles", s->profiles, s->nprofiles, profile_json);
	PUT_ARRAY(out, "bindings", s->bindings, s->nbindings, binding_json);
	PUT_ARRAY(out, "history", s->history, s->nhistory, history_json);
	PUT_ARRAY(out, "notifications", s->notifications, s->nnotifications, notification_json);
	buf_addstr(out, "}\n");
}
