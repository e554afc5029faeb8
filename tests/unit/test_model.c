/* test_model.c - name tables, indexes, resolve, mutators (src/core/model.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/model.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct profile *add_profile(struct store *s, const char *id, const char *iccid,
				   const char *nickname)
{
	struct profile p;

	memset(&p, 0, sizeof(p));
	snprintf(p.id, sizeof(p.id), "%s", id);
	p.iccid = iccid ? strdup(iccid) : NULL;
	p.carrier = strdup("acme");
	p.nickname = nickname ? strdup(nickname) : NULL;
	p.created = 1700000000;
	return model_add_profile(s, &p);
}

static struct device *add_device(struct store *s, const char *name, enum device_kind kind)
{
	struct device d;

	memset(&d, 0, sizeof(d));
	d.name = strdup(name);
	d.kind = kind;
	d.created = 1700000000;
	return model_add_device(s, &d);
}

static void add_binding(struct store *s, const char *profile, const char *device,
			enum binding_state st)
{
	struct binding b;

	memset(&b, 0, sizeof(b));
	b.profile = strdup(profile);
	b.device = strdup(device);
	b.state = st;
	b.since = 1700000000;
	model_add_binding(s, &b);
}

/* ---- name tables ---- */

static void test_enum_names(void **state)
{
	static const char *const kinds[] = { "phone", "tablet", "watch", "laptop", "hotspot" };
	enum device_kind k;
	enum plan_type p;
	enum binding_state b;

	(void)state;
	for (size_t i = 0; i < NELEM(kinds); i++) {
		assert_string_equal(device_kind_name((enum device_kind)i), kinds[i]);
		assert_int_equal(device_kind_parse(kinds[i], &k), 0);
		assert_int_equal(k, (enum device_kind)i);
	}
	assert_int_equal(NELEM(kinds), DEV_KIND_COUNT);
	assert_int_equal(device_kind_parse("toaster", &k), -1);
	assert_int_equal(device_kind_parse("Phone", &k), -1);
	assert_int_equal(device_kind_parse(NULL, &k), -1);
	assert_string_equal(device_kind_name(DEV_KIND_COUNT), "unknown");

	assert_string_equal(plan_type_name(PLAN_VOICE_DATA), "voice+data");
	assert_string_equal(plan_type_name(PLAN_DATA_ONLY), "data-only");
	assert_int_equal(plan_type_parse("data-only", &p), 0);
	assert_int_equal(p, PLAN_DATA_ONLY);
	assert_int_equal(plan_type_parse("voice+data", &p), 0);
	assert_int_equal(p, PLAN_VOICE_DATA);
	assert_int_equal(plan_type_parse("voice", &p), -1);

	assert_string_equal(binding_state_name(BIND_PENDING), "pending");
	assert_string_equal(binding_state_name(BIND_ACTIVE), "active");
	assert_string_equal(binding_state_name(BIND_RELEASED), "released");
	assert_int_equal(binding_state_parse("released", &b), 0);
	assert_int_equal(b, BIND_RELEASED);
	assert_int_equal(binding_state_parse("gone", &b), -1);

	assert_true(device_kind_data_only(DEV_LAPTOP));
	assert_true(device_kind_data_only(DEV_HOTSPOT));
	assert_false(device_kind_data_only(DEV_PHONE));
	assert_false(device_kind_data_only(DEV_WATCH));
	assert_true(device_kind_companion(DEV_WATCH));
	assert_false(device_kind_companion(DEV_TABLET));
}

/* ---- ids and names ---- */

static void test_profile_id(void **state)
{
	char id[PROFILE_ID_LEN + 1];

	(void)state;
	/* printf '%s' 'LPA:1$rsp.example.com$ABC-123' | sha256sum | cut -c1-8 */
	model_profile_id("LPA:1$rsp.example.com$ABC-123", id);
	assert_string_equal(id, "0bebd4b3");
	model_profile_id("8944100000000000001", id);
	assert_string_equal(id, "cf187820");
}

static const struct {
	const char *name;
	int ok;
	const char *msg; /* substring of the error */
} device_names[] = {
	{ "pixel-8", 1, NULL },
	{ "Work.Phone_2", 1, NULL },
	{ "a", 1, NULL },
	{ "0123456789012345678901234567890123456789012345678901234567890123", 1, NULL },
	{ "01234567890123456789012345678901234567890123456789012345678901234", 0, "too long" },
	{ "", 0, "empty" },
	{ "-phone", 0, "must not start with '-'" },
	{ "my phone", 0, "not allowed" },
	{ "a/b", 0, "character '/' is not allowed" },
	{ "caf\xc3\xa9", 0, "byte 0xc3" },
	{ "tab\there", 0, "byte 0x09" },
};

static void test_device_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(device_names); i++) {
		struct esim_err err = { 0 };
		int rc = model_valid_device_name(device_names[i].name, &err);

		if (device_names[i].ok) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_int_equal(err.status, ESIM_E_USAGE);
		if (!strstr(err.msg, device_names[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", device_names[i].name, err.msg,
				 device_names[i].msg);
	}
	assert_int_equal(model_valid_device_name(NULL, NULL), -1);
}

/* ---- resolve ---- */

static struct store *resolve_fixture(void)
{
	struct store *s = model_new();

	add_profile(s, "1a2b3c4d", "8944100000000000001", "work");
	add_profile(s, "1a2bffff", "8944100000000000002", NULL);
	add_profile(s, "5e6f7a8b", NULL, "home");
	add_profile(s, "9abc0001", "8944100000000000003", "5e6f"); /* nickname = id prefix */
	add_profile(s, "cafe0001", NULL, "travel");
	return s;
}

static const struct {
	const char *ref;
	int status;           /* 0 = resolves */
	const char *id;       /* expected profile when resolved */
	const char *msg;      /* substring of the error */
} resolve_cases[] = {
	{ "8944100000000000002", 0, "1a2bffff", NULL },
	{ "1a2b3c4d", 0, "1a2b3c4d", NULL },
	{ "1A2B3C4D", 0, "1a2b3c4d", NULL },         /* ids are hex: case does not matter */
	{ "work", 0, "1a2b3c4d", NULL },
	{ "home", 0, "5e6f7a8b", NULL },
	{ "1a2b3", 0, "1a2b3c4d", NULL },            /* unique prefix */
	{ "1a2bf", 0, "1a2bffff", NULL },
	{ "cafe", 0, "cafe0001", NULL },             /* 4 characters is enough */
	{ "CAFE00", 0, "cafe0001", NULL },
	{ "1a2b", ESIM_E_USAGE, NULL, "'1a2b' matches 2 profiles: 1a2b3c4d (id prefix, nickname work), 1a2bffff (id prefix)" },
	{ "5e6f", ESIM_E_USAGE, NULL, "'5e6f' matches 2 profiles: 9abc0001 (nickname 5e6f), 5e6f7a8b (id prefix, nickname home)" },
	{ "caf", ESIM_E_NOTFOUND, NULL, "no profile matches 'caf'" }, /* prefix too short */
	{ "nope", ESIM_E_NOTFOUND, NULL, "no profile matches 'nope'" },
	{ "dead", ESIM_E_NOTFOUND, NULL, "no profile matches 'dead'" },
	{ "1a2b3c4d0", ESIM_E_NOTFOUND, NULL, "no profile matches" }, /* longer than an id */
	{ "Work", ESIM_E_NOTFOUND, NULL, "no profile matches" },      /* nicknames are exact */
	{ "89441", ESIM_E_NOTFOUND, NULL, "no profile matches" },     /* no ICCID prefixes */
	{ "", ESIM_E_USAGE, NULL, "empty profile reference" },
};

static void test_resolve(void **state)
{
	struct store *s = resolve_fixture();

	(void)state;
	for (size_t i = 0; i < NELEM(resolve_cases); i++) {
		struct esim_err err = { 0 };
		struct profile *p = (struct profile *)&err; /* must be reset */
		int rc = model_resolve_profile(s, resolve_cases[i].ref, &p, &err);

		if (resolve_cases[i].status == 0) {
			if (rc != 0)
				fail_msg("'%s': %s", resolve_cases[i].ref, err.msg);
			assert_non_null(p);
			assert_string_equal(p->id, resolve_cases[i].id);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_null(p);
		if (err.status != (enum esim_status)resolve_cases[i].status ||
		    !strstr(err.msg, resolve_cases[i].msg))
			fail_msg("'%s': status %d message '%s', want %d '%s'", resolve_cases[i].ref,
				 err.status, err.msg, resolve_cases[i].status, resolve_cases[i].msg);
		if (err.status == ESIM_E_NOTFOUND)
			assert_string_equal(err.hint, "run 'esimctl list' to see profiles");
	}
	model_free(s);
}

static void test_resolve_duplicates(void **state)
{
	struct store *s = model_new();
	struct esim_err err = { 0 };
	struct profile *p;
	char id[PROFILE_ID_LEN + 1];

	(void)state;
	/* A nickname that is also another profile's full id, and a repeated ICCID. */
	add_profile(s, "aaaa0001", "8900000000000000001", "bbbb0002");
	add_profile(s, "bbbb0002", "8900000000000000001", NULL);
	assert_int_equal(model_resolve_profile(s, "bbbb0002", &p, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "bbbb0002 (id)"));
	assert_non_null(strstr(err.msg, "aaaa0001 (nickname bbbb0002)"));
	assert_int_equal(model_resolve_profile(s, "8900000000000000001", &p, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "matches 2 profiles"));
	assert_string_equal(err.hint, "use the full 8-character id or the ICCID");

	/* Many candidates: the list is cut short. */
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "cccc%04x", i);
		add_profile(s, id, NULL, NULL);
	}
	assert_int_equal(model_resolve_profile(s, "cccc", &p, &err), -1);
	assert_non_null(strstr(err.msg, "'cccc' matches 20 profiles"));
	assert_non_null(strstr(err.msg, " and 12 more"));
	model_free(s);
}

/* ---- indexes under load ---- */

#define MANY 10000

static void test_many_profiles(void **state)
{
	struct store *s = model_new();
	char id[PROFILE_ID_LEN + 1], iccid[24], nick[32], name[32];

	(void)state;
	for (int i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
		snprintf(iccid, sizeof(iccid), "89%017d", i);
		snprintf(nick, sizeof(nick), "nick-%d", i);
		add_profile(s, id, iccid, i % 3 ? nick : NULL);
	}
	for (int i = 0; i < MANY / 10; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		add_device(s, name, i % 2 ? DEV_PHONE : DEV_LAPTOP);
	}
	assert_int_equal(s->nprofiles, MANY);
	for (int i = 0; i < MANY; i++) {
		struct profile *p;
		struct esim_err err = { 0 };

		snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
		snprintf(iccid, sizeof(iccid), "89%017d", i);
		snprintf(nick, sizeof(nick), "nick-%d", i);
		p = model_profile_by_id(s, id);
		assert_non_null(p);
		assert_ptr_equal(p, &s->profiles[i]);
		assert_int_equal(model_resolve_profile(s, iccid, &p, &err), 0);
		assert_ptr_equal(p, &s->profiles[i]);
		if (i % 3) {
			assert_int_equal(model_resolve_profile(s, nick, &p, &err), 0);
			assert_ptr_equal(p, &s->profiles[i]);
		}
	}
	for (int i = 0; i < MANY / 10; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		assert_ptr_equal(model_device(s, name), &s->devices[i]);
	}
	assert_null(model_profile_by_id(s, "zzzzzzzz"));
	assert_null(model_device(s, "dev-missing"));
	assert_null(model_device(s, NULL));

	/* model_reindex() gives the same answers. */
	model_reindex(s);
	snprintf(id, sizeof(id), "%08x", 4321u * 2654435761u);
	assert_ptr_equal(model_profile_by_id(s, id), &s->profiles[4321]);
	assert_ptr_equal(model_device(s, "dev999"), &s->devices[999]);
	model_free(s);
}

static void test_bindings_index(void **state)
{
	struct store *s = model_new();
	struct binding **v = NULL;
	char id[PROFILE_ID_LEN + 1];
	size_t n;

	(void)state;
	add_device(s, "phone", DEV_PHONE);
	add_device(s, "watch", DEV_WATCH);
	add_profile(s, "00000001", NULL, NULL);
	add_profile(s, "00000002", NULL, NULL);
	add_profile(s, "00000003", NULL, NULL);
	add_binding(s, "00000001", "phone", BIND_RELEASED);
	add_binding(s, "00000002", "watch", BIND_ACTIVE);
	add_binding(s, "00000001", "watch", BIND_PENDING);
	add_binding(s, "00000001", "phone", BIND_ACTIVE);

	n = model_live_bindings_of_profile(s, "00000001", &v);
	assert_int_equal(n, 2);
	assert_ptr_equal(v[0], &s->bindings[2]);
	assert_ptr_equal(v[1], &s->bindings[3]);
	free(v);
	n = model_live_bindings_of_device(s, "watch", &v);
	assert_int_equal(n, 2);
	assert_ptr_equal(v[0], &s->bindings[1]);
	assert_ptr_equal(v[1], &s->bindings[2]);
	free(v);
	n = model_live_bindings_of_device(s, "nothing", &v);
	assert_int_equal(n, 0);
	assert_null(v);
	s->bindings[1].state = BIND_RELEASED;
	n = model_live_bindings_of_profile(s, "00000002", &v);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_true(model_profile_ever_bound(s, "00000002"));
	assert_false(model_profile_ever_bound(s, "00000003"));
	assert_true(model_has_phone(s));

	/* Chains survive growth of the binding array. */
	for (int i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "%08x", 0x100 + i % 100);
		add_binding(s, id, i % 2 ? "phone" : "watch", i % 5 ? BIND_RELEASED : BIND_ACTIVE);
	}
	n = model_live_bindings_of_profile(s, "00000100", &v);
	assert_int_equal(n, 100); /* i = 0, 100, 200...: all multiples of 5 */
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1] < v[i]); /* store order */
	free(v);
	n = model_live_bindings_of_device(s, "phone", &v);
	assert_int_equal(n, 1 + MANY / 10); /* odd i that are multiples of 5 */
	free(v);
	model_free(s);
}

static void test_remove_device(void **state)
{
	struct store *s = model_new();
	struct binding **v = NULL;
	char name[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		add_device(s, name, i == 50 ? DEV_PHONE : DEV_TABLET);
	}
	add_profile(s, "00000001", NULL, NULL);
	add_binding(s, "00000001", "dev50", BIND_ACTIVE);

	assert_true(model_has_phone(s));
	assert_int_equal(model_remove_device(s, "dev50"), 0);
	assert_int_equal(model_remove_device(s, "dev50"), -1);
	assert_int_equal(model_remove_device(s, "never"), -1);
	assert_int_equal(s->ndevices, 99);
	assert_false(model_has_phone(s));
	assert_null(model_device(s, "dev50"));
	for (int i = 0; i < 100; i++) {
		struct device *d;

		if (i == 50)
			continue;
		snprintf(name, sizeof(name), "dev%d", i);
		d = model_device(s, name);
		assert_non_null(d);
		assert_string_equal(d->name, name);
		assert_ptr_equal(d, &s->devices[i < 50 ? i : i - 1]);
	}
	/* The caller handles bindings: they are untouched. */
	assert_int_equal(s->nbindings, 1);
	assert_int_equal(model_live_bindings_of_profile(s, "00000001", &v), 1);
	free(v);
	/* A new device with the old name is found again. */
	add_device(s, "dev50", DEV_WATCH);
	assert_int_equal(model_device(s, "dev50")->kind, DEV_WATCH);
	model_free(s);
}

static void test_set_keys(void **state)
{
	struct store *s = model_new();
	struct profile *p, *q;
	struct esim_err err = { 0 };

	(void)state;
	p = add_profile(s, "00000001", NULL, "old");
	add_profile(s, "00000002", NULL, NULL);
	model_set_nickname(s, p, "new");
	assert_int_equal(model_resolve_profile(s, "new", &q, &err), 0);
	assert_ptr_equal(q, p);
	assert_int_equal(model_resolve_profile(s, "old", &q, &err), -1);
	assert_int_equal(err.status, ESIM_E_NOTFOUND);
	model_set_iccid(s, &s->profiles[1], "8900000000000000007");
	assert_int_equal(model_resolve_profile(s, "8900000000000000007", &q, &err), 0);
	assert_ptr_equal(q, &s->profiles[1]);
	model_set_nickname(s, p, NULL);
	assert_null(p->nickname);
	assert_int_equal(model_resolve_profile(s, "new", &q, &err), -1);
	model_free(s);
}

static void test_history_notifications(void **state)
{
	struct store *s = model_new();
	struct pending_notification n;

	(void)state;
	model_add_history(s, 1700000000, "add", "00000001", NULL, "phone", "ok", NULL);
	model_add_history(s, 1700000100, "transfer", "00000001", "phone", "watch", "pending",
			  "waiting for the carrier");
	assert_int_equal(s->nhistory, 2);
	assert_string_equal(s->history[1].detail, "waiting for the carrier");
	assert_null(s->history[0].from);

	for (int i = 0; i < 3; i++) {
		memset(&n, 0, sizeof(n));
		n.device = strdup("phone");
		n.seq = i;
		n.event = strdup("install");
		n.address = strdup("rsp.example.com");
		n.data_b64 = strdup("vyc=");
		model_add_notification(s, &n);
	}
	model_remove_notification(s, 1);
	model_remove_notification(s, 7); /* out of range: ignored */
	assert_int_equal(s->nnotifications, 2);
	assert_int_equal(s->notifications[0].seq, 0);
	assert_int_equal(s->notifications[1].seq, 2);
	model_free(s);
	model_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_names),
		cmocka_unit_test(test_profile_id),
		cmocka_unit_test(test_device_names),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_duplicates),
		cmocka_unit_test(test_many_profiles),
		cmocka_unit_test(test_bindings_index),
		cmocka_unit_test(test_remove_device),
		cmocka_unit_test(test_set_keys),
		cmocka_unit_test(test_history_notifications),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
