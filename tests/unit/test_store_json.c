/* test_store_json.c - store JSON format: round trip, validation, scale (store_json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "esimctl/model.h"
#include "store/store_json.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Every field set, in the writer's exact layout (docs/store-format.md). */
static const char full_store[] =
	"{\"schema\":1,\n"
	"\"devices\":[\n"
	"{\"name\":\"pixel\",\"kind\":\"phone\",\"platform\":\"android\","
	"\"eid\":\"89049032000000000000000000000123\",\"imei\":\"356938035643809\","
	"\"primary\":true,\"euicc\":\"soft:state/pixel.json\",\"created\":\"2026-11-21T10:00:00Z\"},\n"
	"{\"name\":\"watch\",\"kind\":\"watch\",\"primary\":false,\"created\":\"2026-11-21T10:30:00Z\"}\n"
	"],\n"
	"\"profiles\":[\n"
	"{\"id\":\"0bebd4b3\",\"iccid\":\"8944100000000000001\",\"carrier\":\"Acme \\\"Mobile\\\"\","
	"\"plan\":\"voice+data\",\"nickname\":\"work\",\"activation_code\":{\"smdp\":\"rsp.example.com\","
	"\"matching_id\":\"ABC-123\",\"oid\":\"1.3.6.1.4.1.31746\",\"cc_required\":true},"
	"\"provider\":\"Acme\",\"profile_name\":\"Acme Work\",\"profile_class\":\"operational\","
	"\"created\":\"2026-11-21T10:00:00Z\",\"last_transfer\":\"2026-11-22T08:15:42Z\"},\n"
	"{\"id\":\"cf187820\",\"carrier\":\"Zed\",\"plan\":\"data-only\","
	"\"activation_code\":{\"smdp\":\"smdp.zed.example:8443\",\"matching_id\":\"\",\"cc_required\":false},"
	"\"created\":\"2026-11-21T10:30:00Z\"}\n"
	"],\n"
	"\"bindings\":[\n"
	"{\"profile\":\"0bebd4b3\",\"device\":\"pixel\",\"state\":\"released\","
	"\"since\":\"2026-11-22T08:15:42Z\",\"released_at\":\"2026-11-22T08:15:42Z\"},\n"
	"{\"profile\":\"0bebd4b3\",\"device\":\"watch\",\"state\":\"pending\","
	"\"since\":\"2026-11-22T08:15:42Z\",\"ready_at\":\"2026-11-22T08:45:42Z\"},\n"
	"{\"profile\":\"cf187820\",\"device\":\"old-laptop\",\"state\":\"released\","
	"\"since\":\"2026-11-21T10:30:00Z\",\"released_at\":\"2026-11-21T10:30:00Z\"}\n"
	"],\n"
	"\"history\":[\n"
	"{\"time\":\"2026-11-21T10:00:00Z\",\"op\":\"add\",\"profile\":\"0bebd4b3\",\"to\":\"pixel\","
	"\"outcome\":\"ok\"},\n"
	"{\"time\":\"2026-11-22T08:15:42Z\",\"op\":\"transfer\",\"profile\":\"0bebd4b3\","
	"\"from\":\"pixel\",\"to\":\"watch\",\"outcome\":\"pending\","
	"\"detail\":\"line1\\nline2 \\\\ tab\\t ctrl\\u0001 caf\xc3\xa9 / end\"}\n"
	"],\n"
	"\"notifications\":[\n"
	"{\"device\":\"pixel\",\"seq\":7,\"event\":\"install\",\"address\":\"rsp.example.com\","
	"\"iccid\":\"8944100000000000001\",\"data\":\"vycCAQ==\",\"queued\":\"2026-11-21T10:00:00Z\","
	"\"attempts\":2,\"last_error\":\"HTTP 503\"}\n"
	"]}\n";

static const char empty_store[] =
	"{\"schema\":1,\n\"devices\":[],\n\"profiles\":[],\n\"bindings\":[],\n\"history\":[],\n"
	"\"notifications\":[]}\n";

static struct store *load_ok(const char *text)
{
	struct store *s = (struct store *)1;
	struct esim_err err = { 0 };

	if (store_from_json(text, strlen(text), "t.json", &s, &err) != 0)
		fail_msg("load failed: %s", err.msg);
	assert_non_null(s);
	return s;
}

static void test_round_trip_text(void **state)
{
	struct buf out = BUF_INIT;
	struct store *s;
	cJSON *j;

	(void)state;
	s = load_ok(full_store);
	store_to_json(s, &out);
	assert_string_equal(out.buf, full_store);
	/* The writer's output is plain JSON to any parser. */
	j = cJSON_Parse(out.buf);
	assert_non_null(j);
	cJSON_Delete(j);
	model_free(s);
	buf_release(&out);

	s = load_ok(empty_store);
	store_to_json(s, &out);
	assert_string_equal(out.buf, empty_store);
	model_free(s);
	buf_release(&out);

	/* The bare minimum is an empty store too. */
	s = load_ok("{\"schema\":1}");
	store_to_json(s, &out);
	assert_string_equal(out.buf, empty_store);
	model_free(s);
	buf_release(&out);
}

/* Time 0 is a time: written, read back and written again, never taken for "not set". */
static void test_time_zero(void **state)
{
	static const char text[] =
		"{\"schema\":1,\n"
		"\"devices\":[\n"
		"{\"name\":\"p\",\"kind\":\"phone\",\"primary\":false,\"created\":\"1970-01-01T00:00:00Z\"}\n"
		"],\n"
		"\"profiles\":[\n"
		"{\"id\":\"0bebd4b3532fc2bb\",\"carrier\":\"Acme\",\"plan\":\"voice+data\",\"created\":\"1970-01-01T00:00:00Z\",\"last_transfer\":\"1970-01-01T00:00:00Z\"},\n"
		"{\"id\":\"cf187820\",\"carrier\":\"Acme\",\"plan\":\"voice+data\",\"created\":\"1970-01-01T00:00:00Z\"}\n"
		"],\n"
		"\"bindings\":[\n"
		"{\"profile\":\"0bebd4b3532fc2bb\",\"device\":\"p\",\"state\":\"pending\",\"since\":\"1970-01-01T00:00:00Z\",\"ready_at\":\"1970-01-01T00:00:00Z\",\"released_at\":\"1970-01-01T00:00:00Z\"}\n"
		"],\n"
		"\"history\":[],\n"
		"\"notifications\":[]}\n";
	struct buf out = BUF_INIT;
	struct store *s;

	(void)state;
	s = load_ok(text);
	assert_int_equal(s->profiles[0].last_transfer, 0);
	assert_int_equal(s->profiles[1].last_transfer, TIME_NONE);
	assert_int_equal(s->bindings[0].ready_at, 0);
	assert_int_equal(s->bindings[0].released_at, 0);
	store_to_json(s, &out);
	assert_string_equal(out.buf, text);
	model_free(s);
	buf_release(&out);
}

static void test_round_trip_fields(void **state)
{
	struct store *s;
	const struct profile *p;
	const struct device *d;

	(void)state;
	s = load_ok(full_store);
	assert_int_equal(s->schema, 1);
	assert_int_equal(s->ndevices, 2);
	d = model_device(s, "pixel");
	assert_non_null(d);
	assert_int_equal(d->kind, DEV_PHONE);
	assert_string_equal(d->platform, "android");
	assert_string_equal(d->eid, "89049032000000000000000000000123");
	assert_string_equal(d->imei, "356938035643809");
	assert_true(d->primary);
	assert_string_equal(d->euicc, "soft:state/pixel.json");
	assert_int_equal(d->created, 1795255200);
	d = model_device(s, "watch");
	assert_non_null(d);
	assert_null(d->platform);
	assert_null(d->eid);
	assert_false(d->primary);

	p = model_profile_by_id(s, "0bebd4b3");
	assert_non_null(p);
	assert_string_equal(p->iccid, "8944100000000000001");
	assert_string_equal(p->carrier, "Acme \"Mobile\"");
	assert_int_equal(p->plan, PLAN_VOICE_DATA);
	assert_string_equal(p->nickname, "work");
	assert_non_null(p->ac);
	assert_string_equal(p->ac->smdp, "rsp.example.com");
	assert_string_equal(p->ac->matching_id, "ABC-123");
	assert_string_equal(p->ac->oid, "1.3.6.1.4.1.31746");
	assert_true(p->ac->cc_required);
	assert_string_equal(p->provider, "Acme");
	assert_string_equal(p->profile_name, "Acme Work");
	assert_string_equal(p->profile_class, "operational");
	assert_int_equal(p->created, 1795255200);
	assert_int_equal(p->last_transfer, 1795335342);
	p = model_profile_by_id(s, "cf187820");
	assert_non_null(p);
	assert_null(p->iccid);
	assert_null(p->nickname);
	assert_int_equal(p->plan, PLAN_DATA_ONLY);
	assert_string_equal(p->ac->smdp, "smdp.zed.example:8443");
	assert_string_equal(p->ac->matching_id, "");
	assert_int_equal(p->last_transfer, TIME_NONE);   /* absent: never */

	assert_int_equal(s->nbindings, 3);
	assert_int_equal(s->bindings[1].state, BIND_PENDING);
	assert_int_equal(s->bindings[1].ready_at, 1795335342 + 1800);
	assert_int_equal(s->bindings[1].released_at, TIME_NONE);
	assert_int_equal(s->bindings[0].released_at, 1795335342);

	assert_int_equal(s->nhistory, 2);
	assert_null(s->history[0].from);
	assert_string_equal(s->history[1].detail, "line1\nline2 \\ tab\t ctrl\x01 caf\xc3\xa9 / end");

	assert_int_equal(s->nnotifications, 1);
	assert_int_equal(s->notifications[0].seq, 7);
	assert_int_equal(s->notifications[0].attempts, 2);
	assert_string_equal(s->notifications[0].data_b64, "vycCAQ==");
	assert_string_equal(s->notifications[0].last_error, "HTTP 503");
	model_free(s);
}

/* A store built through the API survives to_json -> from_json -> to_json unchanged. */
static void test_round_trip_api(void **state)
{
	struct store *s = model_new(), *t = NULL;
	struct device d = { 0 };
	struct profile p = { 0 };
	struct binding b = { 0 };
	struct pending_notification n = { 0 };
	struct buf one = BUF_INIT, two = BUF_INIT;
	struct esim_err err = { 0 };

	(void)state;
	d.name = strdup("tab");
	d.kind = DEV_TABLET;
	d.created = 1;
	model_add_device(s, &d);
	memcpy(p.id, "00c0ffee", 9);
	p.carrier = strdup("\x7f weird \x1f carrier \"quoted\" \\");
	p.plan = PLAN_DATA_ONLY;
	p.created = 1795255200;
	model_add_profile(s, &p);
	b.profile = strdup("00c0ffee");
	b.device = strdup("tab");
	b.state = BIND_ACTIVE;
	b.since = 1795255200;
	model_add_binding(s, &b);
	model_add_history(s, 1795255200, "add", NULL, NULL, NULL, "ok", "\r\b\f");
	n.device = strdup("tab");
	n.seq = -1;
	n.event = strdup("delete");
	n.address = strdup("a.example");
	n.data_b64 = strdup("AA==");
	n.queued = 1795255200;
	model_add_notification(s, &n);

	store_to_json(s, &one);
	assert_int_equal(store_from_json(one.buf, one.len, "one", &t, &err), 0);
	store_to_json(t, &two);
	assert_string_equal(one.buf, two.buf);
	assert_string_equal(t->profiles[0].carrier, "\x7f weird \x1f carrier \"quoted\" \\");
	assert_string_equal(t->history[0].detail, "\r\b\f");
	assert_non_null(strstr(one.buf, "\\u001f"));
	model_free(s);
	model_free(t);
	buf_release(&one);
	buf_release(&two);
}

static void test_lenient_input(void **state)
{
	static const char text[] =
		"  {\"future\":{\"x\":[1,2]},\"schema\":1.0,\"notifications\":[],\n"
		"\"profiles\":[{\"id\":\"0bebd4b3\",\"carrier\":\"A\",\"plan\":\"voice+data\","
		"\"nickname\":null,\"iccid\":null,\"new_field\":true,\"created\":\"2026-11-21 10:00Z\","
		"\"activation_code\":{\"smdp\":\"RSP.Example.COM\",\"matching_id\":\"X\","
		"\"cc_required\":false,\"extra\":1}}],"
		"\"devices\":[{\"created\":\"2026-11-21\",\"primary\":false,\"kind\":\"hotspot\","
		"\"name\":\"mifi\",\"color\":\"red\"},"
		/* an unknown key first is ignored too (it once took the first key's place) */
		"{\"color\":\"blue\",\"name\":\"pad\",\"kind\":\"tablet\",\"primary\":false,"
		"\"created\":\"2026-11-21\"}]}\r\n\t ";
	struct store *s;
	struct buf out = BUF_INIT;

	(void)state;
	s = load_ok(text);
	assert_int_equal(s->nprofiles, 1);
	assert_null(s->profiles[0].nickname);
	/* The code is kept in canonical form. */
	assert_string_equal(s->profiles[0].ac->smdp, "rsp.example.com");
	assert_int_equal(s->profiles[0].created, 1795255200);
	assert_int_equal(s->devices[0].created, 1795219200);
	assert_int_equal(s->ndevices, 2);
	assert_string_equal(s->devices[1].name, "pad");
	store_to_json(s, &out);
	assert_null(strstr(out.buf, "future"));
	assert_null(strstr(out.buf, "color"));
	assert_non_null(strstr(out.buf, "\"smdp\":\"rsp.example.com\""));
	buf_release(&out);
	model_free(s);
}

/* ---- corrupt inputs ---- */

#define DEV(extra) "{\"name\":\"a\",\"kind\":\"phone\",\"primary\":true,\"created\":\"2026-11-21T10:00:00Z\"" extra "}"
#define PROF(id, extra) "{\"id\":\"" id "\",\"carrier\":\"A\",\"plan\":\"voice+data\",\"created\":\"2026-11-21T10:00:00Z\"" extra "}"
#define AC(body) PROF("00000001", ",\"activation_code\":" body)
#define BIND(p, d, st) "{\"profile\":\"" p "\",\"device\":\"" d "\",\"state\":\"" st "\",\"since\":\"2026-11-21T10:00:00Z\"}"
#define NOTE(extra) "{\"device\":\"a\",\"event\":\"install\",\"address\":\"x.example\",\"data\":\"AA==\",\"queued\":\"2026-11-21T10:00:00Z\"" extra "}"

static const struct {
	const char *text;
	enum esim_status status;
	const char *msg;
} corrupt[] = {
	/* syntax */
	{ "{\"schema\":1,\n\"devices\":[\n{\"name\":\"a\" \"kind\":\"phone\"}]}", ESIM_E_STORE,
	  "store 't.json' is not valid JSON at line 3, column 13" },
	{ "{\"schema\":1,\n  \"devices\": [1,2,]\n}", ESIM_E_STORE, "at line 2, column 19" },
	{ "{\"schema\":1", ESIM_E_STORE, "at line 1, column 11" },
	{ "", ESIM_E_STORE, "is not valid JSON at line 1, column 1" },
	{ "{\"schema\":1}\n}", ESIM_E_STORE, "is not valid JSON at line 2, column 1" },
	{ "{\"schema\":1}{}", ESIM_E_STORE, "is not valid JSON at line 1, column 13" },
	/* top level and schema */
	{ "[]", ESIM_E_STORE, "store 't.json': expected a JSON object at the top level, found an array" },
	{ "{}", ESIM_E_STORE, "store 't.json': schema: missing" },
	{ "{\"schema\":\"1\"}", ESIM_E_STORE, "schema: expected an integer, found a string" },
	{ "{\"schema\":1.5}", ESIM_E_STORE, "schema: expected an integer" },
	{ "{\"schema\":2}", ESIM_E_STORE,
	  "store 't.json' has schema 2; this esimctl understands schema 1" },
	{ "{\"schema\":0,\"devices\":7}", ESIM_E_STORE, "has schema 0;" },
	{ "{\"schema\":1,\"devices\":{}}", ESIM_E_STORE,
	  "store 't.json': devices: expected an array, found an object" },
	{ "{\"schema\":1,\"history\":[1]}", ESIM_E_STORE,
	  "store 't.json': history[0]: expected an object, found a number" },
	/* devices */
	{ "{\"schema\":1,\"devices\":[{\"kind\":\"phone\"}]}", ESIM_E_STORE,
	  "store 't.json': devices[0].name: missing" },
	{ "{\"schema\":1,\"devices\":[{\"name\":7}]}", ESIM_E_STORE,
	  "devices[0].name: expected a string, found a number" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a b\"}]}", ESIM_E_STORE,
	  "devices[0].name: device name 'a b': character ' ' is not allowed" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a\",\"kind\":\"toaster\"}]}", ESIM_E_STORE,
	  "devices[0].kind: unknown kind 'toaster'" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a\",\"kind\":\"phone\",\"primary\":\"yes\"}]}",
	  ESIM_E_STORE, "devices[0].primary: expected true or false, found a string" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a\",\"kind\":\"phone\",\"primary\":true}]}",
	  ESIM_E_STORE, "devices[0].created: missing" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a\",\"kind\":\"phone\",\"primary\":true,"
	  "\"created\":\"yesterday\"}]}", ESIM_E_STORE, "devices[0].created: time 'yesterday'" },
	{ "{\"schema\":1,\"devices\":[{\"name\":\"a\",\"kind\":\"phone\",\"primary\":true,"
	  "\"created\":12}]}", ESIM_E_STORE, "devices[0].created: expected a time string, found a number" },
	{ "{\"schema\":1,\"devices\":[" DEV("") "," DEV("") "]}", ESIM_E_STORE,
	  "devices[1].name: duplicate device name 'a' (also devices[0])" },
	{ "{\"schema\":1,\"devices\":[" DEV(",\"eid\":\"\"") "]}", ESIM_E_STORE,
	  "devices[0].eid: empty" },
	/* profiles */
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "," PROF("00000002", "") ","
	  PROF("00000003", "") ",{\"id\":\"00000004\",\"plan\":\"data-only\"}]}", ESIM_E_STORE,
	  "store 't.json': profiles[3].carrier: missing" },
	{ "{\"schema\":1,\"profiles\":[" PROF("XYZ", "") "]}", ESIM_E_STORE,
	  "profiles[0].id: 'XYZ' is not a profile id (8 or 16 lower-case hex digits)" },
	{ "{\"schema\":1,\"profiles\":[" PROF("0000000A", "") "]}", ESIM_E_STORE,
	  "profiles[0].id: '0000000A' is not a profile id" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "," PROF("00000001", "") "]}",
	  ESIM_E_STORE, "profiles[1].id: duplicate profile id '00000001' (also profiles[0])" },
	{ "{\"schema\":1,\"profiles\":[{\"id\":\"00000001\",\"carrier\":\"A\",\"plan\":\"voice\"}]}",
	  ESIM_E_STORE, "profiles[0].plan: unknown plan 'voice'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", ",\"iccid\":\"89abc\"") "]}",
	  ESIM_E_STORE, "profiles[0].iccid: '89abc' is not an ICCID" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", ",\"iccid\":\"894410000000000000012\"") "]}",
	  ESIM_E_STORE, "profiles[0].iccid: '894410000000000000012' is not an ICCID" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", ",\"nickname\":\"\"") "]}",
	  ESIM_E_STORE, "profiles[0].nickname: empty" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", ",\"profile_class\":\"weird\"") "]}",
	  ESIM_E_STORE, "profiles[0].profile_class: unknown class 'weird'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", ",\"last_transfer\":\"2026-13-01T00:00:00Z\"") "]}",
	  ESIM_E_STORE, "profiles[0].last_transfer: time '2026-13-01T00:00:00Z'" },
	{ "{\"schema\":1,\"profiles\":[" AC("\"LPA:1$a.example$X\"") "]}", ESIM_E_STORE,
	  "profiles[0].activation_code: expected an object, found a string" },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"a.example\",\"cc_required\":false}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code.matching_id: missing" },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"a.example\",\"matching_id\":\"X\"}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code.cc_required: missing" },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"\",\"matching_id\":\"X\",\"cc_required\":false}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code.smdp: empty" },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"bad host!\",\"matching_id\":\"X\",\"cc_required\":false}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code: " },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"a.example\",\"matching_id\":\"X$Y\",\"cc_required\":false}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code: a field contains '$'" },
	{ "{\"schema\":1,\"profiles\":[" AC("{\"smdp\":\"a.example\",\"matching_id\":\"X\",\"oid\":\"not-an-oid\",\"cc_required\":false}") "]}",
	  ESIM_E_STORE, "profiles[0].activation_code: " },
	/* bindings */
	{ "{\"schema\":1,\"devices\":[" DEV("") "],\"bindings\":[" BIND("deadbeef", "a", "active") "]}",
	  ESIM_E_STORE, "store 't.json': bindings[0].profile: unknown profile 'deadbeef'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "],\"bindings\":[" BIND("00000001", "ghost", "active") "]}",
	  ESIM_E_STORE, "bindings[0].device: unknown device 'ghost'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "],\"bindings\":[" BIND("00000001", "ghost", "pending") "]}",
	  ESIM_E_STORE, "bindings[0].device: unknown device 'ghost'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "],\"devices\":[" DEV("") "],"
	  "\"bindings\":[" BIND("00000001", "a", "active") "," BIND("00000001", "a", "gone") "]}",
	  ESIM_E_STORE, "bindings[1].state: unknown state 'gone'" },
	{ "{\"schema\":1,\"profiles\":[" PROF("00000001", "") "],\"devices\":[" DEV("") "],"
	  "\"bindings\":[{\"profile\":\"00000001\",\"device\":\"a\",\"state\":\"active\"}]}",
	  ESIM_E_STORE, "bindings[0].since: missing" },
	/* history */
	{ "{\"schema\":1,\"history\":[{\"time\":\"2026-11-21T10:00:00Z\",\"outcome\":\"ok\"}]}",
	  ESIM_E_STORE, "history[0].op: missing" },
	{ "{\"schema\":1,\"history\":[{\"time\":\"2026-11-21T10:00:00Z\",\"op\":\"add\",\"outcome\":\"ok\",\"detail\":[]}]}",
	  ESIM_E_STORE, "history[0].detail: expected a string, found an array" },
	/* notifications */
	{ "{\"schema\":1,\"notifications\":[" NOTE(",\"seq\":1.5,\"attempts\":0") "]}",
	  ESIM_E_STORE, "notifications[0].seq: expected an integer, found 1.5" },
	{ "{\"schema\":1,\"notifications\":[" NOTE(",\"seq\":\"1\",\"attempts\":0") "]}",
	  ESIM_E_STORE, "notifications[0].seq: expected an integer, found a string" },
	{ "{\"schema\":1,\"notifications\":[" NOTE(",\"seq\":1,\"attempts\":-1") "]}",
	  ESIM_E_STORE, "notifications[0].attempts: -1 is out of range" },
	{ "{\"schema\":1,\"notifications\":[" NOTE(",\"seq\":1") "]}",
	  ESIM_E_STORE, "notifications[0].attempts: missing" },
	{ "{\"schema\":1,\"notifications\":[{\"device\":\"a\",\"seq\":1,\"event\":\"boot\"}]}",
	  ESIM_E_STORE, "notifications[0].event: unknown event 'boot'" },
};

static void test_corrupt_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(corrupt); i++) {
		struct store *s = (struct store *)1;
		struct esim_err err = { 0 };
		int rc = store_from_json(corrupt[i].text, strlen(corrupt[i].text), "t.json", &s, &err);

		if (rc != -1 || s != NULL)
			fail_msg("case %zu: accepted: %s", i, corrupt[i].text);
		if (err.status != corrupt[i].status || !strstr(err.msg, corrupt[i].msg))
			fail_msg("case %zu: status %d message '%s', want %d '%s'", i, err.status,
				 err.msg, corrupt[i].status, corrupt[i].msg);
		assert_true(err.hint[0] != '\0');
	}
}

static void test_error_hints(void **state)
{
	struct store *s;
	struct esim_err err = { 0 };

	(void)state;
	assert_int_equal(store_from_json("{\"schema\":3}", 12, "x", &s, &err), -1);
	assert_non_null(strstr(err.hint, "upgrade esimctl"));
	assert_int_equal(store_from_json("{", 1, "x", &s, &err), -1);
	assert_non_null(strstr(err.hint, "backup"));
	assert_non_null(strstr(err.hint, "not modified"));
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(store_from_json("{\"schema\":1}garbage", 12, "x", &s, &err), 0);
	model_free(s);
}

/* ---- scale ---- */

#define BIG 20000

static void test_large_store(void **state)
{
	struct store *s = model_new(), *t = NULL;
	struct buf one = BUF_INIT, two = BUF_INIT;
	struct esim_err err = { 0 };
	char iccid[24], nick[24];

	(void)state;
	for (int i = 0; i < BIG; i++) {
		struct profile p = { 0 };

		snprintf(p.id, sizeof(p.id), "%08x", (unsigned)i * 2654435761u);
		snprintf(iccid, sizeof(iccid), "89%017d", i);
		snprintf(nick, sizeof(nick), "n%d", i);
		p.iccid = strdup(iccid);
		p.nickname = strdup(nick);
		p.carrier = strdup("acme");
		p.created = 1795255200 + i;
		struct actcode ac = { .cc_required = 0 };

		snprintf(ac.smdp, sizeof(ac.smdp), "rsp.example.com");
		snprintf(ac.matching_id, sizeof(ac.matching_id), "MID-%d", i);
		p.ac = actcode_pack(&ac);
		model_add_profile(s, &p);
	}
	/*
	 * No timing is asserted (a test never depends on the machine's speed): growth with the
	 * store size is measured by bench/run.sh's scaling table.
	 */
	store_to_json(s, &one);
	assert_int_equal(store_from_json(one.buf, one.len, "big", &t, &err), 0);
	store_to_json(t, &two);
	assert_int_equal(t->nprofiles, BIG);
	assert_int_equal(one.len, two.len);
	assert_memory_equal(one.buf, two.buf, one.len);
	assert_non_null(model_profile_by_id(t, s->profiles[BIG - 1].id));
	model_free(s);
	model_free(t);
	buf_release(&one);
	buf_release(&two);
}

/* ---- the two loads agree (store_json.c: from_stream() and from_tree()) ---- */

static char *read_fixture(const char *name, size_t *len)
{
	const char *src = getenv("ESIMCTL_SRC");
	char path[1024];
	FILE *f;
	char *text;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/stores/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (set ESIMCTL_SRC)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return text;
}

static char *written(const struct store *s)
{
	struct buf b = BUF_INIT;

	store_to_json(s, &b);
	return buf_detach(&b, NULL);
}

/*
 * store_from_json() gives what the whole-tree load gives: the same store (written back
 * byte for byte) or the same error.  streamed: 1 the record-by-record load must take the
 * text, 0 it must decline it, -1 either; whenever it takes one, it agrees too.
 */
static void same_load(const char *text, size_t len, int streamed, const char *what)
{
	struct store *a = NULL, *t = NULL, *s = NULL;
	struct esim_err ea = { 0 }, et = { 0 }, es = { 0 };
	int ra = store_json_stream(text, len, "t.json", &a, &ea);
	int rt = store_json_tree(text, len, "t.json", &t, &et);
	int rs = store_from_json(text, len, "t.json", &s, &es);

	if (ra != 0 && ra != 1)
		fail_msg("%s: the streamed load returned %d", what, ra);
	if (streamed >= 0 && ra != !streamed)
		fail_msg("%s: streamed load %s it", what, ra == 0 ? "took" : "declined");
	if (ra == 1 && (a || ea.status || ea.msg[0]))
		fail_msg("%s: declined, but left a store or an error ('%s')", what, ea.msg);
	if (ra == 0) {
		char *x, *y;

		if (rt != 0)
			fail_msg("%s: streamed load took it, the tree refused it: %s", what, et.msg);
		x = written(a);
		y = written(t);
		if (strcmp(x, y))
			fail_msg("%s: the two loads made different stores", what);
		free(x);
		free(y);
	}
	if (rs != rt)
		fail_msg("%s: store_from_json() %d, the tree %d (%s)", what, rs, rt, es.msg);
	if (rs == 0) {
		char *x = written(s), *y = written(t);

		if (strcmp(x, y))
			fail_msg("%s: store_from_json() made another store than the tree", what);
		free(x);
		free(y);
	} else if (es.status != et.status || strcmp(es.msg, et.msg) || strcmp(es.hint, et.hint)) {
		fail_msg("%s: store_from_json() says '%s', the tree '%s'", what, es.msg, et.msg);
	}
	model_free(a);
	model_free(t);
	model_free(s);
}

static const char *const fixtures[] = { "empty.json", "family.json", "lost.json",
					"notifications.json" };

/* What esimctl writes is loaded record by record, and the same as whole. */
static void test_stream_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(fixtures); i++) {
		size_t len;
		char *text = read_fixture(fixtures[i], &len);
		struct store *s = load_ok(text);
		char *again = written(s);

		same_load(text, len, 1, fixtures[i]);
		/* and what it writes now */
		same_load(again, strlen(again), 1, "written back");
		free(again);
		model_free(s);
		free(text);
	}
}

/* text with its top-level members rebuilt by edit(), printed by cJSON */
static char *rebuilt(const char *text, void (*edit)(cJSON *root))
{
	cJSON *root = cJSON_Parse(text);
	char *out;

	assert_non_null(root);
	edit(root);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void reverse_members(cJSON *root)
{
	cJSON *rev = cJSON_CreateArray(), *m;

	while ((m = root->child) != NULL) {
		cJSON_DetachItemViaPointer(root, m);
		if (rev->child)
			cJSON_InsertItemInArray(rev, 0, m);
		else
			cJSON_AddItemToArray(rev, m);
	}
	while ((m = rev->child) != NULL) {
		cJSON_DetachItemViaPointer(rev, m);
		cJSON_AddItemToObject(root, m->string, m);
	}
	cJSON_Delete(rev);
}

static void schema_last(cJSON *root)
{
	cJSON_AddItemToObject(root, "schema", cJSON_DetachItemFromObject(root, "schema"));
}

/* The members named in order, in that order, then the others as they were. */
static void reorder(cJSON *root, const char *const *order)
{
	cJSON *rest = cJSON_CreateObject(), *m;

	while ((m = root->child) != NULL)
		cJSON_AddItemToObject(rest, m->string, cJSON_DetachItemViaPointer(root, m));
	for (; *order; order++)
		if ((m = cJSON_DetachItemFromObjectCaseSensitive(rest, *order)) != NULL)
			cJSON_AddItemToObject(root, *order, m);
	while ((m = rest->child) != NULL)
		cJSON_AddItemToObject(root, m->string, cJSON_DetachItemViaPointer(rest, m));
	cJSON_Delete(rest);
}

static void unknown_member(cJSON *root)
{
	static const char *const order[] = { "schema", "x-note", NULL };
	cJSON *x = cJSON_CreateObject();

	cJSON_AddItemToArray(cJSON_AddArrayToObject(x, "profiles"), cJSON_CreateString("not one"));
	cJSON_AddItemToObject(root, "x-note", x);
	reorder(root, order);
}

static void repeated_member(cJSON *root)
{
	/* the first "profiles" counts: this one is ignored by both */
	cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "profiles"), cJSON_CreateNumber(7));
}

static void bindings_first(cJSON *root)
{
	static const char *const order[] = { "schema", "bindings", NULL };

	reorder(root, order);
}

static void history_first(cJSON *root)
{
	/* no record refers to another: still out of loading order */
	static const char *const order[] = { "schema", "history", NULL };

	reorder(root, order);
}

static char *with(const char *text, const char *before, const char *after)
{
	char *out = malloc(strlen(before) + strlen(text) + strlen(after) + 1);

	assert_non_null(out);
	strcpy(out, before);
	strcat(out, text);
	strcat(out, after);
	return out;
}

/* Other shapes of a valid store: the whole tree loads them, and the same. */
static void test_stream_shapes(void **state)
{
	static const struct {
		void (*edit)(cJSON *root);
		int streamed;
		const char *what;
	} edits[] = {
		{ reverse_members, 0, "members reversed" },
		{ schema_last, 0, "schema last" },
		{ unknown_member, 1, "an unknown member" },
		{ repeated_member, 0, "a repeated member" },
		{ bindings_first, 0, "bindings before devices" },
		{ history_first, 0, "history before devices" },
	};
	size_t len;
	char *text = read_fixture("family.json", &len), *t;

	(void)state;
	for (size_t i = 0; i < NELEM(edits); i++) {
		t = rebuilt(text, edits[i].edit);
		same_load(t, strlen(t), edits[i].streamed, edits[i].what);
		cJSON_free(t);
	}
	/*
	 * As deep as cJSON takes a document (CJSON_NESTING_LIMIT arrays and objects, the
	 * store's own included), and one deeper: in a record, and in a member of the store.
	 * A record with a member the loader does not know also tests that such a member,
	 * first in the record, is ignored (it once took the place of "name").
	 */
	for (int extra = 0; extra <= 1; extra++) {
		struct buf b = BUF_INIT;
		const char *rec = strstr(text, "{\"name\"");
		int n = CJSON_NESTING_LIMIT - 3 + extra;

		assert_non_null(rec);
		buf_add(&b, text, (size_t)(rec - text) + 1);
		buf_addstr(&b, "\"x\":");
		for (int k = 0; k < n; k++)
			buf_addch(&b, '[');
		for (int k = 0; k < n; k++)
			buf_addch(&b, ']');
		buf_addch(&b, ',');
		buf_addstr(&b, rec + 1);
		same_load(b.buf, b.len, extra ? 0 : 1, extra ? "a record too deep" : "a record as deep as can be");
		buf_reset(&b);
		buf_addstr(&b, "{\"schema\":1,\"x\":");
		for (int k = 0; k < n + 2; k++)
			buf_addch(&b, '[');
		for (int k = 0; k < n + 2; k++)
			buf_addch(&b, ']');
		buf_addstr(&b, strchr(text, ','));
		same_load(b.buf, b.len, extra ? 0 : 1, extra ? "a member too deep" : "a member as deep as can be");
		buf_release(&b);
	}
	t = with(text, "\xEF\xBB\xBF", "");
	same_load(t, strlen(t), 0, "a byte order mark");
	free(t);
	t = with(text, " \t\r\n", " \r\n\t");
	same_load(t, strlen(t), 1, "whitespace around");
	free(t);
	t = with(text, "", "\x01");
	same_load(t, strlen(t), 0, "a control byte after");
	free(t);
	/* cJSON takes any byte up to ' ' between tokens, the streamed load too */
	t = strdup(text);
	for (char *p = t; (p = strchr(p, '\n')) != NULL && p[1]; p++)
		*p = '\x01'; /* not the last: after the document only JSON's whitespace */
	same_load(t, len, 1, "control bytes between records");
	free(t);
	free(text);
}

/* Every prefix, and thousands of one-byte changes, of stores: both loads agree. */
static void test_stream_mutations(void **state)
{
	static const char bytes[] = "{}[],:\"\\0x1 \t\n-.eE\x01";
	uint32_t rng = 12345;

	(void)state;
	for (size_t f = 0; f < NELEM(fixtures); f++) {
		size_t len;
		char *text = read_fixture(fixtures[f], &len), *m = malloc(len + 2);
		char what[96];

		assert_non_null(m);
		for (size_t n = 0; n < len; n += f == 1 ? 7 : 1) {
			snprintf(what, sizeof(what), "%s, first %zu bytes", fixtures[f], n);
			same_load(text, n, n == len ? 1 : -1, what);
		}
		for (int k = 0; k < 1500; k++) {
			size_t at, ml = len;

			rng = rng * 1103515245u + 12345u;
			at = (rng >> 8) % len;
			memcpy(m, text, len);
			switch ((rng >> 4) % 3) {
			case 0: /* replace */
				m[at] = bytes[(rng >> 20) % (sizeof(bytes) - 1)];
				break;
			case 1: /* delete */
				memmove(m + at, m + at + 1, len - at - 1);
				ml = len - 1;
				break;
			default: /* insert */
				memmove(m + at + 1, m + at, len - at);
				m[at] = bytes[(rng >> 20) % (sizeof(bytes) - 1)];
				ml = len + 1;
				break;
			}
			m[ml] = '\0';
			snprintf(what, sizeof(what), "%s, change %d at byte %zu", fixtures[f], k, at);
			same_load(m, ml, -1, what);
		}
		free(m);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_text),
		cmocka_unit_test(test_round_trip_fields),
		cmocka_unit_test(test_time_zero),
		cmocka_unit_test(test_round_trip_api),
		cmocka_unit_test(test_lenient_input),
		cmocka_unit_test(test_corrupt_table),
		cmocka_unit_test(test_error_hints),
		cmocka_unit_test(test_large_store),
		cmocka_unit_test(test_stream_fixtures),
		cmocka_unit_test(test_stream_shapes),
		cmocka_unit_test(test_stream_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
