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
	static const struct {
		const char *key;
		unsigned n;
		const char *id; /* printf '%s' KEY | sha256sum | cut -c1-16 */
	} rows[] = {
		{ "LPA:1$rsp.example.com$ABC-123", 0, "0bebd4b3532fc2bb" },
		{ "8944100000000000001", 0, "cf1878206fcbe6d3" },
		/* the pair: the same 8-digit prefix, different full ids */
		{ "LPA:1$rsp.example.com$COLL-61256", 0, "7fc9e696c20d9fd9" },
		{ "LPA:1$rsp.example.com$COLL-89616", 0, "7fc9e69605274473" },
		/* alternatives: KEY#n */
		{ "LPA:1$rsp.example.com$ABC-123", 1, "3e35f9781dcc00de" },
		{ "LPA:1$rsp.example.com$ABC-123", 2, "6bb2bb147adecb83" },
	};
	char id[PROFILE_ID_LEN + 1];

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		model_profile_id_n(rows[i].key, rows[i].n, id);
		assert_string_equal(id, rows[i].id);
		if (rows[i].n == 0) {
			model_profile_id(rows[i].key, id);
			assert_string_equal(id, rows[i].id);
		}
		assert_true(model_valid_profile_id(id));
	}
}

static const struct {
	const char *id;
	int ok;
} valid_ids[] = {
	{ "0bebd4b3", 1 },          /* written by older versions */
	{ "0bebd4b3532fc2bb", 1 },
	{ "0bebd4b", 0 },
	{ "0bebd4b3532fc2b", 0 },
	{ "0bebd4b3532fc2bb0", 0 },
	{ "0bebd4b3a", 0 },
	{ "0BEBD4B3", 0 },          /* stored in lower case */
	{ "0bebd4g3", 0 },
	{ "", 0 },
};

static void test_valid_profile_id(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(valid_ids); i++)
		if (model_valid_profile_id(valid_ids[i].id) != valid_ids[i].ok)
			fail_msg("'%s': want %d", valid_ids[i].id, valid_ids[i].ok);
	assert_false(model_valid_profile_id(NULL));
}

static struct profile *add_coded(struct store *s, const char *id, const char *code)
{
	struct esim_err err = { 0 };
	struct profile p;
	struct actcode ac;

	memset(&p, 0, sizeof(p));
	snprintf(p.id, sizeof(p.id), "%s", id);
	p.carrier = strdup("acme");
	if (actcode_parse(code, &ac, &err) != 0)
		fail_msg("'%s': %s", code, err.msg);
	p.ac = actcode_pack(&ac);
	p.created = 1700000000;
	return model_add_profile(s, &p);
}

/* A code is found as a code, whatever id it is stored under. */
static void test_profile_by_code(void **state)
{
	static const char *const a = "LPA:1$rsp.example.com$ABC-123";
	static const char *const b = "LPA:1$rsp.example.com$XYZ-999";
	struct store *s = model_new();
	struct actcode ac;
	struct esim_err err = { 0 };
	struct profile *pa;
	char id[PROFILE_ID_LEN + 1], want[PROFILE_ID_LEN + 1];

	(void)state;
	/* A hand-edited store: code A under the id that code B hashes to. */
	model_profile_id(b, id);
	pa = add_coded(s, id, a);
	assert_int_equal(actcode_parse(b, &ac, &err), 0);
	assert_null(model_profile_by_code(s, &ac));
	/* so B, though its id is taken, gets the first free alternative */
	model_new_profile_id(s, b, id);
	model_profile_id_n(b, 1, want);
	assert_string_equal(id, want);
	add_coded(s, want, b);
	assert_ptr_equal(model_profile_by_code(s, &ac), &s->profiles[1]);
	/* A, spelled differently, is the same code */
	assert_int_equal(actcode_parse("lpa:1$RSP.example.COM$ABC-123", &ac, &err), 0);
	pa = &s->profiles[0];
	assert_ptr_equal(model_profile_by_code(s, &ac), pa);
	/* a code differing only in the flag, the OID or the matching ID's case is another */
	assert_int_equal(actcode_parse("1$rsp.example.com$ABC-123$$1", &ac, &err), 0);
	assert_null(model_profile_by_code(s, &ac));
	assert_int_equal(actcode_parse("1$rsp.example.com$ABC-123$1.2", &ac, &err), 0);
	assert_null(model_profile_by_code(s, &ac));
	assert_int_equal(actcode_parse("1$rsp.example.com$abc-123", &ac, &err), 0);
	assert_null(model_profile_by_code(s, &ac));
	/* a legacy 8-digit id holding the code is found too */
	add_coded(s, "3e35f978", "1$rsp.example.com$LEGACY-1");
	assert_int_equal(actcode_parse("1$rsp.example.com$LEGACY-1", &ac, &err), 0);
	assert_ptr_equal(model_profile_by_code(s, &ac), &s->profiles[2]);
	model_free(s);
}

static const struct {
	const char *nick;
	int ok;
	const char *msg;
} nick_shapes[] = {
	{ "work", 1, NULL },
	{ "cafe", 1, NULL },           /* 4 hex digits: shorter than any id reference */
	{ "cafe1", 1, NULL },
	{ "travel-2", 1, NULL },
	{ "facade-x", 1, NULL },
	{ "1a2b3g", 1, NULL },
	{ "cafe12", 0, "looks like a profile id" },
	{ "facade", 0, "looks like a profile id" },
	{ "DEADBEEF", 0, "looks like a profile id" },
	{ "40b69c91", 0, "looks like a profile id" },
	{ "7fc9e696c20d9fd9", 0, "looks like a profile id" },
	{ "1", 0, "looks like an ICCID" },
	{ "42", 0, "looks like an ICCID" },
	{ "8944100000000000001", 0, "looks like an ICCID" },
};

static void test_nickname_shape(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(nick_shapes); i++) {
		struct esim_err err = { 0 };
		int rc = model_check_nickname_shape(nick_shapes[i].nick, &err);

		if (nick_shapes[i].ok) {
			if (rc != 0)
				fail_msg("'%s' refused: %s", nick_shapes[i].nick, err.msg);
			continue;
		}
		if (rc != -1 || err.status != ESIM_E_USAGE || !strstr(err.msg, nick_shapes[i].msg))
			fail_msg("'%s': rc %d message '%s', want '%s'", nick_shapes[i].nick, rc,
				 err.msg, nick_shapes[i].msg);
		assert_true(err.hint[0] != '\0');
	}
	assert_int_equal(model_check_nickname_shape(NULL, NULL), 0);
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

	add_profile(s, "1a2b3c4d", "8944100000000000001", "work");  /* legacy 8-digit ids */
	add_profile(s, "1a2bffff", "8944100000000000002", NULL);
	add_profile(s, "5e6f7a8b00000000", NULL, "home");
	/* names an older esimctl let through: they look like ids and ICCIDs */
	add_profile(s, "9abc000100000000", "8944100000000000003", "5e6f7a");
	add_profile(s, "cafe000100000000", NULL, "travel");
	add_profile(s, "7fc9e696c20d9fd9", NULL, NULL);              /* the pair */
	add_profile(s, "7fc9e69605274473", NULL, "second");
	add_profile(s, "40b69c91", NULL, NULL);
	add_profile(s, "1111222233334444", NULL, "40b69c91");        /* another's id */
	add_profile(s, "2222333344445555", NULL, "8944100000000000002"); /* another's ICCID */
	return s;
}

static const struct {
	const char *ref;
	int status;           /* 0 = resolves */
	const char *id;       /* expected profile when resolved */
	const char *msg;      /* substring of the error */
} resolve_cases[] = {
	/* 1. the exact id, any case, beats every name */
	{ "1a2b3c4d", 0, "1a2b3c4d", NULL },
	{ "1A2B3C4D", 0, "1a2b3c4d", NULL },
	{ "7fc9e696c20d9fd9", 0, "7fc9e696c20d9fd9", NULL },
	{ "40b69c91", 0, "40b69c91", NULL },                  /* not the nickname '40b69c91' */
	{ "1111222233334444", 0, "1111222233334444", NULL },  /* so that one is reachable too */
	/* 2. the exact ICCID beats a nickname */
	{ "8944100000000000002", 0, "1a2bffff", NULL },
	{ "8944100000000000003", 0, "9abc000100000000", NULL },
	/* 3. the exact nickname beats an id prefix */
	{ "work", 0, "1a2b3c4d", NULL },
	{ "home", 0, "5e6f7a8b00000000", NULL },
	{ "5e6f7a", 0, "9abc000100000000", NULL },
	{ "second", 0, "7fc9e69605274473", NULL },
	/* 4. a unique id prefix of 6 or more hex digits */
	{ "5e6f7a8", 0, "5e6f7a8b00000000", NULL },
	{ "1a2b3c", 0, "1a2b3c4d", NULL },
	{ "1a2bff", 0, "1a2bffff", NULL },
	{ "CAFE00", 0, "cafe000100000000", NULL },
	{ "cafe0001", 0, "cafe000100000000", NULL },
	{ "7fc9e696c", 0, "7fc9e696c20d9fd9", NULL },
	{ "7fc9e6960", 0, "7fc9e69605274473", NULL },
	{ "7FC9E69605", 0, "7fc9e69605274473", NULL },
	/* an id prefix two profiles share: both listed by the ids that name them */
	{ "7fc9e696", ESIM_E_USAGE, NULL,
	  "'7fc9e696' matches 2 profiles: 7fc9e696c (id prefix), 7fc9e6960 (id prefix, nickname second)" },
	{ "1a2b3c4", 0, "1a2b3c4d", NULL },
	{ "1a2b", ESIM_E_NOTFOUND, NULL, "no profile matches '1a2b'" },   /* too short */
	{ "1a2b3", ESIM_E_NOTFOUND, NULL, "no profile matches '1a2b3'" },
	{ "cafe", ESIM_E_NOTFOUND, NULL, "no profile matches 'cafe'" },
	{ "nope", ESIM_E_NOTFOUND, NULL, "no profile matches 'nope'" },
	{ "dead00", ESIM_E_NOTFOUND, NULL, "no profile matches 'dead00'" },
	{ "7fc9e696c20d9fd90", ESIM_E_NOTFOUND, NULL, "no profile matches" }, /* longer than an id */
	{ "1a2b3c4d0", ESIM_E_NOTFOUND, NULL, "no profile matches" },
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
		if (err.status == ESIM_E_NOTFOUND && !strstr(err.hint, "run 'esimctl list'"))
			fail_msg("'%s': hint '%s'", resolve_cases[i].ref, err.hint);
	}
	model_free(s);
}

/* Shown ids: shortest prefix of 8 or more that still resolves to the profile. */
static void test_shown_ids(void **state)
{
	static const struct {
		const char *id;
		const char *shown;
	} rows[] = {
		{ "1a2b3c4d", "1a2b3c4d" },
		{ "1a2bffff", "1a2bffff" },
		{ "5e6f7a8b00000000", "5e6f7a8b" },
		{ "9abc000100000000", "9abc0001" },
		{ "7fc9e696c20d9fd9", "7fc9e696c" },  /* lengthened on the clash */
		{ "7fc9e69605274473", "7fc9e6960" },
		{ "40b69c91", "40b69c91" },
		{ "1111222233334444", "11112222" },
	};
	struct store *s = resolve_fixture();
	struct profile *p;
	struct esim_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		p = model_profile_by_id(s, rows[i].id);
		assert_non_null(p);
		assert_string_equal(model_profile_shown_id(s, p), rows[i].shown);
		assert_string_equal(model_shown_id(s, rows[i].id), rows[i].shown);
	}
	/* an id no profile has is shown as it is */
	assert_string_equal(model_shown_id(s, "deadbeef"), "deadbeef");
	assert_null(model_shown_id(s, NULL));

	/* A prefix that is another profile's nickname (old store) or ICCID is skipped. */
	add_profile(s, "abcdef0123456789", NULL, NULL);
	add_profile(s, "3333444455556666", NULL, "abcdef01");
	add_profile(s, "1234567812345678", NULL, NULL);
	add_profile(s, "4444555566667777", "12345678", NULL);
	assert_string_equal(model_shown_id(s, "abcdef0123456789"), "abcdef012");
	assert_string_equal(model_shown_id(s, "1234567812345678"), "123456781");
	/* A legacy id that prefixes a new one keeps its 8 digits: exact ids come first. */
	add_profile(s, "7fc9e696", NULL, NULL);
	assert_string_equal(model_shown_id(s, "7fc9e696"), "7fc9e696");
	assert_string_equal(model_shown_id(s, "7fc9e696c20d9fd9"), "7fc9e696c");
	/* Lengthen as far as needed: ids sharing 15 digits show all 16. */
	add_profile(s, "aaaabbbbccccddd0", NULL, NULL);
	add_profile(s, "aaaabbbbccccddd1", NULL, NULL);
	assert_string_equal(model_shown_id(s, "aaaabbbbccccddd0"), "aaaabbbbccccddd0");
	/* Changing a name changes what is shown. */
	p = model_profile_by_id(s, "5e6f7a8b00000000");
	model_set_nickname(s, model_profile_by_id(s, "9abc000100000000"), "5e6f7a8b");
	assert_string_equal(model_profile_shown_id(s, p), "5e6f7a8b0");

	/* Every profile answers to its shown id and to its full id. */
	for (size_t i = 0; i < s->nprofiles; i++) {
		const char *shown = model_profile_shown_id(s, &s->profiles[i]);

		if (model_resolve_profile(s, shown, &p, &err) != 0 || p != &s->profiles[i])
			fail_msg("shown id '%s' of %s: %s", shown, s->profiles[i].id, err.msg);
		assert_int_equal(model_resolve_profile(s, s->profiles[i].id, &p, &err), 0);
		assert_ptr_equal(p, &s->profiles[i]);
		assert_true(strlen(shown) >= PROFILE_ID_SHOWN_MIN);
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
	/* A hand-edited store: a repeated ICCID, a repeated nickname. */
	add_profile(s, "aaaa000100000000", "8900000000000000001", "twin");
	add_profile(s, "bbbb000200000000", "8900000000000000001", "twin");
	assert_int_equal(model_resolve_profile(s, "8900000000000000001", &p, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	assert_non_null(strstr(err.msg, "matches 2 profiles: aaaa0001 (iccid, nickname twin), "
				       "bbbb0002 (iccid, nickname twin)"));
	assert_non_null(strstr(err.hint, "use one of the ids shown"));
	assert_int_equal(model_resolve_profile(s, "twin", &p, &err), -1);
	assert_non_null(strstr(err.msg, "aaaa0001 (nickname twin), bbbb0002 (nickname twin)"));
	/* each is still reachable by its id */
	assert_int_equal(model_resolve_profile(s, "bbbb0002", &p, &err), 0);
	assert_ptr_equal(p, &s->profiles[1]);

	/* Many candidates: the list is cut short. */
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "cccccc%04x000000", i);
		add_profile(s, id, NULL, NULL);
	}
	assert_int_equal(model_resolve_profile(s, "cccccc", &p, &err), -1);
	assert_non_null(strstr(err.msg, "'cccccc' matches 20 profiles"));
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

/* model_reserve(): the arrays do not move while that many are added; lookups still work. */
static void test_reserve(void **state)
{
	struct store *s = model_new();
	struct profile *first;
	struct device *dev;
	char id[PROFILE_ID_LEN + 1], name[32];

	(void)state;
	add_profile(s, "00000001", NULL, NULL);
	model_reserve(s, 50, 300, 300, 0, 0);
	assert_true(s->aprofiles >= 301);
	first = s->profiles;
	dev = NULL;
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		if (!dev)
			dev = add_device(s, name, DEV_PHONE);
		else
			add_device(s, name, DEV_PHONE);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "%08x", 0x1000 + i);
		add_profile(s, id, NULL, NULL);
		add_binding(s, id, "dev7", BIND_ACTIVE);
	}
	assert_ptr_equal(s->profiles, first);
	assert_ptr_equal(s->devices, dev);
	assert_ptr_equal(model_profile_by_id(s, "00000001"), &s->profiles[0]);
	assert_ptr_equal(model_profile_by_id(s, "0000112b"), &s->profiles[300]);
	assert_ptr_equal(model_device(s, "dev49"), &s->devices[49]);
	{
		struct binding **v = NULL;

		assert_int_equal(model_live_bindings_of_device(s, "dev7", &v), 300);
		free(v);
	}
	/* and it grows as before past the reserve */
	add_profile(s, "00000002", NULL, NULL);
	assert_ptr_equal(model_profile_by_id(s, "00000002"), &s->profiles[301]);
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
		cmocka_unit_test(test_valid_profile_id),
		cmocka_unit_test(test_profile_by_code),
		cmocka_unit_test(test_nickname_shape),
		cmocka_unit_test(test_shown_ids),
		cmocka_unit_test(test_device_names),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_duplicates),
		cmocka_unit_test(test_many_profiles),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_bindings_index),
		cmocka_unit_test(test_remove_device),
		cmocka_unit_test(test_set_keys),
		cmocka_unit_test(test_history_notifications),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
