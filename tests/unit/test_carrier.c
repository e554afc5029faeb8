/* test_carrier.c - built-in carrier table, name matching, the carriers.json loader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esimctl/buf.h"
#include "esimctl/carrier.h"

#define NBUILTIN 14
#define MIN 60
#define HOUR 3600

static struct carrier_table *load_ok(const char *json)
{
	struct carrier_table *t = NULL;
	struct esim_err err = { 0 };

	if (carrier_table_new(json, "test.json", &t, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	assert_non_null(t);
	return t;
}

static const struct carrier_policy *must_find(const struct carrier_table *t, const char *name)
{
	const struct carrier_policy *c = carrier_find(t, name);

	if (!c)
		fail_msg("carrier '%s' not found", name);
	return c;
}

/* ---- the built-in table ---- */

static const struct {
	const char *name, *region;
	enum carrier_model model;
	int max;
	enum cloud_sync sync;
	int tmin, tmax, cooldown, rmin, rmax;
	const char *reprov_text, *notes;
} builtin[] = {
	{ "T-Mobile", "USA", MODEL_CONCURRENT, 5, SYNC_YES, -1, -1, -1, -1, -1, NULL, NULL },
	{ "Vodafone", "EU", MODEL_CONCURRENT, 3, SYNC_YES, -1, -1, -1, -1, -1, NULL,
	  "requires Red Business plan" },
	{ "Orange", "France", MODEL_CONCURRENT, 3, SYNC_YES, -1, -1, -1, -1, -1, NULL,
	  "must be enabled in the carrier app" },
	{ "Telstra", "Australia", MODEL_CONCURRENT, 4, SYNC_YES, -1, -1, -1, -1, -1, NULL,
	  "international roaming needs separate activation" },
	{ "NTT Docomo", "Japan", MODEL_CONCURRENT, 2, SYNC_PARTIAL, -1, -1, -1, -1, -1, NULL,
	  "limited to domestic use" },
	{ "AT&T", "USA", MODEL_SEQUENTIAL, 1, SYNC_UNKNOWN, 10 * MIN, 15 * MIN, 24 * HOUR, -1, -1,
	  NULL, "support can expedite a transfer" },
	{ "Verizon", "USA", MODEL_SEQUENTIAL, 1, SYNC_UNKNOWN, 5 * MIN, 10 * MIN, 0, -1, -1, NULL,
	  NULL },
	{ "EE", "UK", MODEL_SEQUENTIAL, 1, SYNC_UNKNOWN, 15 * MIN, 20 * MIN, 12 * HOUR, -1, -1, NULL,
	  "slower at peak hours" },
	{ "Singtel", "Singapore", MODEL_SEQUENTIAL, 1, SYNC_UNKNOWN, 10 * MIN, 10 * MIN, 6 * HOUR,
	  -1, -1, NULL, NULL },
	{ "Etisalat", "UAE", MODEL_SEQUENTIAL, 1, SYNC_UNKNOWN, 20 * MIN, 30 * MIN, 24 * HOUR, -1, -1,
	  NULL, "needs in-app verification" },
	{ "China Mobile", "China", MODEL_SINGLE_DEVICE, 1, SYNC_UNKNOWN, -1, -1, -1, 24 * HOUR,
	  48 * HOUR, "24-48 h", "must be done in-country" },
	{ "Reliance Jio", "India", MODEL_SINGLE_DEVICE, 1, SYNC_UNKNOWN, -1, -1, -1, 12 * HOUR,
	  24 * HOUR, "12-24 h", "needs Aadhaar verification" },
	{ "MTN", "South Africa", MODEL_SINGLE_DEVICE, 1, SYNC_UNKNOWN, -1, -1, -1, 24 * HOUR,
	  24 * HOUR, "24 h", "limited international support" },
	{ "America Movil", "Latin America", MODEL_SINGLE_DEVICE, 1, SYNC_UNKNOWN, -1, -1, -1, -1, -1,
	  "varies by country", "contact the local subsidiary" },
};

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void test_builtin_rows(void **state)
{
	struct carrier_table *t = load_ok(NULL);

	(void)state;
	assert_int_equal(carrier_table_count(t), NBUILTIN);
	assert_int_equal(carrier_table_count(NULL), NBUILTIN);
	assert_int_equal(sizeof(builtin) / sizeof(builtin[0]), NBUILTIN);
	for (size_t i = 0; i < NBUILTIN; i++) {
		const struct carrier_policy *c = carrier_table_at(t, i);

		assert_non_null(c);
		assert_string_equal(c->name, builtin[i].name);
		assert_string_equal(c->region, builtin[i].region);
		assert_int_equal(c->model, builtin[i].model);
		assert_int_equal(c->max_devices, builtin[i].max);
		assert_int_equal(c->cloud_sync, builtin[i].sync);
		assert_int_equal(c->transfer_min_s, builtin[i].tmin);
		assert_int_equal(c->transfer_max_s, builtin[i].tmax);
		assert_int_equal(c->cooldown_s, builtin[i].cooldown);
		assert_int_equal(c->reprov_min_s, builtin[i].rmin);
		assert_int_equal(c->reprov_max_s, builtin[i].rmax);
		assert_str_or_null(c->reprov_text, builtin[i].reprov_text);
		assert_str_or_null(c->notes, builtin[i].notes);
		assert_int_equal(c->overridden, 0);
		assert_int_equal(c->is_default, 0);
		/* same rows with no table at all */
		assert_ptr_equal(carrier_table_at(NULL, i)->name, c->name);
	}
	assert_null(carrier_table_at(t, NBUILTIN));
	assert_null(carrier_table_at(NULL, NBUILTIN));
	carrier_table_free(t);
}

/* Every name and alias of every row finds that row and no other. */
static void test_builtin_keys_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < carrier_table_count(NULL); i++) {
		const struct carrier_policy *c = carrier_table_at(NULL, i);

		assert_ptr_equal(carrier_find(NULL, c->name), c);
		for (size_t j = 0; j < CARRIER_MAX_ALIASES && c->aliases[j]; j++) {
			if (carrier_find(NULL, c->aliases[j]) != c)
				fail_msg("alias '%s' of %s finds another row", c->aliases[j], c->name);
		}
	}
}

/* Every name and alias of the built-in table reads as one carrier, none as one letter. */
static void test_builtin_unambiguous(void **state)
{
	char a[256], b[256];

	(void)state;
	for (size_t i = 0; i < carrier_table_count(NULL); i++) {
		const struct carrier_policy *c = carrier_table_at(NULL, i);

		for (size_t x = 0; x <= CARRIER_MAX_ALIASES; x++) {
			const char *s = x ? c->aliases[x - 1] : c->name;

			if (!s)
				break;
			carrier_key(s, a, sizeof(a));
			if (strlen(a) < 2)
				fail_msg("%s: '%s' reads as '%s'", c->name, s, a);
			for (size_t j = 0; j < carrier_table_count(NULL); j++) {
				const struct carrier_policy *d = carrier_table_at(NULL, j);

				if (j == i)
					continue;
				for (size_t y = 0; y <= CARRIER_MAX_ALIASES; y++) {
					const char *t = y ? d->aliases[y - 1] : d->name;

					if (!t)
						break;
					carrier_key(t, b, sizeof(b));
					if (!strcmp(a, b))
						fail_msg("'%s' (%s) and '%s' (%s) both read '%s'", s, c->name, t,
							 d->name, a);
				}
			}
		}
	}
}

static const struct {
	const char *query;
	const char *want[CARRIER_SUGGEST_MAX + 1]; /* NULL-terminated */
} suggestions[] = {
	{ "E", { "EE", "Etisalat", NULL } },
	{ "e", { "EE", "Etisalat", NULL } },
	{ "Verizn", { "Verizon", NULL } },
	{ "verzion", { "Verizon", NULL } },          /* transposition */
	{ "Vodafon", { "Vodafone", NULL } },
	{ "T-Mobil", { "T-Mobile", NULL } },
	{ "Orage", { "Orange", NULL } },
	{ "Etisalt", { "Etisalat", NULL } },
	{ "China Mobil", { "China Mobile", NULL } },
	{ "Americ Movil", { "America Movil", NULL } },
	{ "Clara", { "America Movil", NULL } },      /* through the alias Claro */
	{ "Jip", { "Reliance Jio", NULL } },
	{ "Do", { "NTT Docomo", NULL } },           /* a beginning of the alias Docomo */
	{ "AT&", { "AT&T", NULL } },
	{ "Zebra Telecom", { NULL } },
	{ "Q", { NULL } },
	{ "", { NULL } },
};

static void test_suggest(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(suggestions) / sizeof(suggestions[0]); i++) {
		const struct carrier_policy *got[CARRIER_SUGGEST_MAX];
		size_t n = carrier_suggest(NULL, suggestions[i].query, got, CARRIER_SUGGEST_MAX), k;

		for (k = 0; suggestions[i].want[k]; k++)
			if (k >= n || strcmp(got[k]->name, suggestions[i].want[k]) != 0)
				fail_msg("'%s': suggestion %zu is %s, want %s", suggestions[i].query, k,
					 k < n ? got[k]->name : "nothing", suggestions[i].want[k]);
		if (n != k)
			fail_msg("'%s': %zu suggestions, want %zu (extra: %s)", suggestions[i].query, n, k,
				 got[k]->name);
	}
	{
		const struct carrier_policy *one[1];

		assert_int_equal(carrier_suggest(NULL, "E", one, 1), 1);
		assert_string_equal(one[0]->name, "EE");
	}
}

static void test_default(void **state)
{
	const struct carrier_policy *d = carrier_default();

	(void)state;
	assert_string_equal(d->name, "unknown carrier");
	assert_int_equal(d->model, MODEL_SEQUENTIAL);
	assert_int_equal(d->max_devices, 1);
	assert_int_equal(d->transfer_min_s, -1);
	assert_int_equal(d->transfer_max_s, -1);
	assert_int_equal(d->cooldown_s, -1);
	assert_int_equal(d->reprov_min_s, -1);
	assert_int_equal(d->cloud_sync, SYNC_UNKNOWN);
	assert_null(d->notes);
	assert_null(d->aliases[0]);
	assert_int_equal(d->is_default, 1);
	assert_int_equal(d->overridden, 0);
	assert_ptr_equal(carrier_default(), d);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(carrier_model_name(MODEL_CONCURRENT), "concurrent");
	assert_string_equal(carrier_model_name(MODEL_SEQUENTIAL), "sequential");
	assert_string_equal(carrier_model_name(MODEL_SINGLE_DEVICE), "single-device");
	assert_string_equal(carrier_model_name((enum carrier_model)42), "unknown");
	assert_string_equal(cloud_sync_name(SYNC_UNKNOWN), "unknown");
	assert_string_equal(cloud_sync_name(SYNC_NO), "no");
	assert_string_equal(cloud_sync_name(SYNC_YES), "yes");
	assert_string_equal(cloud_sync_name(SYNC_PARTIAL), "partial");
	assert_string_equal(cloud_sync_name((enum cloud_sync)42), "unknown");
}

/* ---- carrier_key and carrier_find ---- */

static const struct {
	const char *in, *key;
} keys[] = {
	{ "at&t", "atandt" },
	{ "AT and T", "atandt" },
	{ "T-Mobile", "tmobile" },
	{ "T.Mobile_US", "tmobileus" },
	{ "NTT Docomo", "nttdocomo" },
	{ "America Movil", "americamovil" },
	{ "América Móvil", "americamovil" },
	{ "AMÉRICA MÓVIL", "americamovil" },
	{ "Ame\xcc\x81rica Mo\xcc\x81vil", "americamovil" },  /* decomposed accents */
	{ "Am\xc3\xa9rica\xc2\xa0M\xc3\xb3vil", "americamovil" }, /* no-break space */
	{ "ÀÁÂÃÄÅ ÇÈÉÊË ÌÍÎÏ ÐÑ ÒÓÔÕÖØ ÙÚÛÜ Ý", "aaaaaaceeeeiiiidnoooooouuuuy" },
	{ "àáâãäå çèéêë ìíîï ðñ òóôõöø ùúûü ýÿ", "aaaaaaceeeeiiiidnoooooouuuuyy" },
	{ "Æther Þorn Straße", "aetherthornstrasse" },
	{ "Ñandú", "nandu" },
	{ "2×3", "2×3" },                  /* symbols in Latin-1 stay */
	{ "Мегафон", "Мегафон" },          /* other scripts are compared as written */
	{ "e&", "eand" },                  /* '&' reads as "and": never a bare "e" */
	{ "AT&T", "atandt" },
	{ "AT and T", "atandt" },
	{ " \t-._", "" },
	{ "", "" },
	{ "O'Neil/3", "o'neil/3" },
};

static void test_key_table(void **state)
{
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		carrier_key(keys[i].in, out, sizeof(out));
		if (strcmp(out, keys[i].key) != 0)
			fail_msg("carrier_key(\"%s\") = \"%s\", want \"%s\"", keys[i].in, out, keys[i].key);
	}
}

static void test_key_edges(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	carrier_key(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	carrier_key("abc", out, 0);            /* no room: nothing written */
	assert_int_equal(out[0], '\0');
	memset(out, 'x', sizeof(out));
	carrier_key("abc", out, 0);
	assert_int_equal(out[0], 'x');
	carrier_key("abcdefghij", out, sizeof(out));
	assert_string_equal(out, "abcdefg");
	carrier_key("abcdefgÆ", out, sizeof(out)); /* "ae" does not fit: not split */
	assert_string_equal(out, "abcdefg");
	carrier_key("AT&T", out, 3);
	assert_string_equal(out, "at");
	carrier_key("x", NULL, 8);             /* no buffer: no crash */
}

static const struct {
	const char *query, *want; /* want NULL: not found */
} finds[] = {
	{ "AT&T", "AT&T" },
	{ "att", "AT&T" },
	{ "at&t", "AT&T" },
	{ "ATT", "AT&T" },
	{ "AT and T", "AT&T" },
	{ "at-t", "AT&T" },
	{ "América Móvil", "America Movil" },
	{ "america movil", "America Movil" },
	{ "AMERICA MOVIL", "America Movil" },
	{ "Claro", "America Movil" },
	{ "telcel", "America Movil" },
	{ "Docomo", "NTT Docomo" },
	{ "ntt docomo", "NTT Docomo" },
	{ "NTT-DOCOMO", "NTT Docomo" },
	{ "T-Mobile", "T-Mobile" },
	{ "TMobile", "T-Mobile" },
	{ "t mobile", "T-Mobile" },
	{ "T-Mobile US", "T-Mobile" },
	{ "Vodafone", "Vodafone" },
	{ "orange", "Orange" },
	{ "TELSTRA", "Telstra" },
	{ "Verizon Wireless", "Verizon" },
	{ "ee", "EE" },
	{ "Everything Everywhere", "EE" },
	{ "SingTel", "Singtel" },
	{ "Etisalat", "Etisalat" },
	{ "e&", "Etisalat" },
	{ "Jio", "Reliance Jio" },
	{ "reliance jio", "Reliance Jio" },
	{ "CMCC", "China Mobile" },
	{ "China Mobile", "China Mobile" },
	{ "MTN", "MTN" },
	{ "e and", "Etisalat" },
	{ "E", NULL },                    /* one letter never matches (it was Etisalat's "e&") */
	{ "e", NULL },
	{ "E&", "Etisalat" },            /* "e&" in capitals */
	{ "Foo", NULL },
	{ "AT", NULL },
	{ "Mobile", NULL },
	{ "", NULL },
	{ "&&", NULL },
	{ "   ", NULL },
};

static void test_find_table(void **state)
{
	struct carrier_table *t = load_ok(NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
		const struct carrier_policy *a = carrier_find(t, finds[i].query);
		const struct carrier_policy *b = carrier_find(NULL, finds[i].query);

		if (!finds[i].want) {
			if (a || b)
				fail_msg("'%s' should not match, got %s", finds[i].query, (a ? a : b)->name);
			continue;
		}
		if (!a || strcmp(a->name, finds[i].want) != 0)
			fail_msg("'%s' should match %s, got %s", finds[i].query, finds[i].want,
				 a ? a->name : "nothing");
		assert_non_null(b);
		assert_string_equal(b->name, finds[i].want);
	}
	assert_null(carrier_find(t, NULL));
	carrier_table_free(t);
}

/* ---- overrides that load ---- */

static void test_override_field_by_field(void **state)
{
	struct carrier_table *t = load_ok("{\"carriers\": [{\"name\": \"att\", \"cooldown_hours\": 12}]}");
	const struct carrier_policy *c = must_find(t, "AT&T");

	(void)state;
	assert_int_equal(carrier_table_count(t), NBUILTIN);
	assert_string_equal(c->name, "AT&T");          /* display name kept */
	assert_string_equal(c->region, "USA");
	assert_int_equal(c->model, MODEL_SEQUENTIAL);
	assert_int_equal(c->cooldown_s, 12 * HOUR);    /* changed */
	assert_int_equal(c->transfer_min_s, 10 * MIN); /* inherited */
	assert_int_equal(c->transfer_max_s, 15 * MIN);
	assert_string_equal(c->notes, "support can expedite a transfer");
	assert_string_equal(c->aliases[0], "ATT");
	assert_string_equal(c->aliases[1], "AT and T");
	assert_null(c->aliases[2]);
	assert_int_equal(c->overridden, 1);
	assert_ptr_equal(carrier_table_at(t, 5), c);   /* same place in the table */
	for (size_t i = 0; i < carrier_table_count(t); i++)
		if (carrier_table_at(t, i) != c)
			assert_int_equal(carrier_table_at(t, i)->overridden, 0);
	/* the built-in rows themselves are untouched */
	assert_int_equal(carrier_find(NULL, "AT&T")->cooldown_s, 24 * HOUR);
	carrier_table_free(t);
}

static void test_override_fields(void **state)
{
	struct carrier_table *t = load_ok(
		"{\"carriers\": [\n"
		" {\"name\": \"Verizon\", \"region\": \"US\", \"cloud_sync\": \"partial\",\n"
		"  \"transfer_seconds\": [1, 2], \"cooldown_seconds\": 90, \"notes\": \"n1\",\n"
		"  \"reprovision_hours\": 2, \"reprovision_text\": \"2 h\", \"aliases\": [\"VZW\"]},\n"
		" {\"name\": \"Everything Everywhere\", \"transfer_minutes\": null,\n"
		"  \"cooldown_hours\": null, \"notes\": null, \"aliases\": []},\n"
		" {\"name\": \"Singtel\", \"transfer_minutes\": 0.5, \"cooldown_hours\": 1.5},\n"
		" {\"name\": \"MTN\", \"reprovision_text\": null, \"reprovision_seconds\": null},\n"
		" {\"name\": \"Telstra\", \"model\": \"sequential\", \"transfer_minutes\": 7},\n"
		" {\"name\": \"Docomo\", \"model\": \"concurrent\", \"max_devices\": 4},\n"
		" {\"name\": \"Reliance Jio\", \"model\": \"concurrent\", \"max_devices\": 2,\n"
		"  \"cloud_sync\": \"yes\"},\n"
		" {\"name\": \"America Movil\", \"aliases\": [\"AMX\", \"claro\", \"Claro Chile\"]},\n"
		" {\"name\": \"Orange\", \"notes\": \"app d’Orange ✓ 😀\"}\n"
		"]}");
	const struct carrier_policy *c;

	(void)state;
	assert_int_equal(carrier_table_count(t), NBUILTIN);

	c = must_find(t, "vzw");
	assert_string_equal(c->name, "Verizon");
	assert_string_equal(c->region, "US");
	assert_int_equal(c->cloud_sync, SYNC_PARTIAL);
	assert_int_equal(c->transfer_min_s, 1);
	assert_int_equal(c->transfer_max_s, 2);
	assert_int_equal(c->cooldown_s, 90);
	assert_int_equal(c->reprov_min_s, 2 * HOUR);
	assert_int_equal(c->reprov_max_s, 2 * HOUR);
	assert_string_equal(c->reprov_text, "2 h");
	assert_string_equal(c->notes, "n1");
	assert_string_equal(c->aliases[0], "Verizon Wireless");
	assert_string_equal(c->aliases[1], "VZW");
	assert_null(c->aliases[2]);
	assert_int_equal(c->overridden, 1);

	c = must_find(t, "EE");
	assert_int_equal(c->transfer_min_s, -1);
	assert_int_equal(c->transfer_max_s, -1);
	assert_int_equal(c->cooldown_s, -1);
	assert_null(c->notes);
	assert_string_equal(c->aliases[0], "Everything Everywhere");
	assert_null(c->aliases[1]);

	c = must_find(t, "Singtel");
	assert_int_equal(c->transfer_min_s, 30);
	assert_int_equal(c->transfer_max_s, 30);
	assert_int_equal(c->cooldown_s, 5400);

	c = must_find(t, "MTN");
	assert_null(c->reprov_text);
	assert_int_equal(c->reprov_min_s, -1);
	assert_int_equal(c->reprov_max_s, -1);
	assert_string_equal(c->notes, "limited international support");

	c = must_find(t, "Telstra");                     /* concurrent -> sequential */
	assert_int_equal(c->model, MODEL_SEQUENTIAL);
	assert_int_equal(c->max_devices, 1);
	assert_int_equal(c->transfer_min_s, 7 * MIN);
	assert_int_equal(c->cooldown_s, -1);

	c = must_find(t, "NTT Docomo");                  /* stays concurrent, new limit */
	assert_int_equal(c->max_devices, 4);

	c = must_find(t, "Jio");                         /* single-device -> concurrent */
	assert_int_equal(c->model, MODEL_CONCURRENT);
	assert_int_equal(c->max_devices, 2);
	assert_int_equal(c->cloud_sync, SYNC_YES);

	c = must_find(t, "Claro Chile");                 /* aliases are added, not replaced */
	assert_string_equal(c->name, "America Movil");
	assert_string_equal(c->aliases[0], "América Móvil");
	assert_string_equal(c->aliases[1], "Claro");
	assert_string_equal(c->aliases[2], "Telcel");
	assert_string_equal(c->aliases[3], "AMX");
	assert_string_equal(c->aliases[4], "Claro Chile");
	assert_null(c->aliases[5]);
	assert_ptr_equal(must_find(t, "amx"), c);

	assert_string_equal(must_find(t, "orange")->notes, "app d’Orange ✓ 😀");
	assert_int_equal(must_find(t, "T-Mobile")->overridden, 0);
	assert_int_equal(must_find(t, "AT&T")->overridden, 0);
	carrier_table_free(t);
}

static void test_override_new_rows(void **state)
{
	struct carrier_table *t = load_ok(
		"{\"carriers\":[{\"name\":\"Free Mobile\",\"region\":\"France\",\"model\":\"sequential\","
		"\"max_devices\":1,\"cloud_sync\":\"no\",\"transfer_minutes\":[10,15],\"cooldown_hours\":12,"
		"\"reprovision_hours\":[24,48],\"reprovision_text\":\"24-48 h\",\"notes\":\"via the app\","
		"\"aliases\":[\"Free\"]},"
		"{\"name\":\"Multi\",\"model\":\"concurrent\",\"max_devices\":64},"
		"{\"name\":\"Bare\",\"model\":\"single-device\"}]}");
	const struct carrier_policy *c;

	(void)state;
	assert_int_equal(carrier_table_count(t), NBUILTIN + 3);

	c = carrier_table_at(t, NBUILTIN);               /* appended in file order */
	assert_ptr_equal(must_find(t, "free"), c);
	assert_ptr_equal(must_find(t, "FREE MOBILE"), c);
	assert_ptr_equal(must_find(t, "free-mobile"), c);
	assert_null(carrier_find(NULL, "Free Mobile"));  /* built-in rows unchanged */
	assert_string_equal(c->name, "Free Mobile");
	assert_string_equal(c->region, "France");
	assert_int_equal(c->model, MODEL_SEQUENTIAL);
	assert_int_equal(c->max_devices, 1);
	assert_int_equal(c->cloud_sync, SYNC_NO);
	assert_int_equal(c->transfer_min_s, 10 * MIN);
	assert_int_equal(c->transfer_max_s, 15 * MIN);
	assert_int_equal(c->cooldown_s, 12 * HOUR);
	assert_int_equal(c->reprov_min_s, 24 * HOUR);
	assert_int_equal(c->reprov_max_s, 48 * HOUR);
	assert_string_equal(c->reprov_text, "24-48 h");
	assert_string_equal(c->notes, "via the app");
	assert_string_equal(c->aliases[0], "Free");
	assert_null(c->aliases[1]);
	assert_int_equal(c->overridden, 1);
	assert_int_equal(c->is_default, 0);

	c = must_find(t, "multi");
	assert_ptr_equal(carrier_table_at(t, NBUILTIN + 1), c);
	assert_int_equal(c->model, MODEL_CONCURRENT);
	assert_int_equal(c->max_devices, 64);

	c = must_find(t, "Bare");                        /* defaults for what is not given */
	assert_string_equal(c->region, "unknown");
	assert_int_equal(c->model, MODEL_SINGLE_DEVICE);
	assert_int_equal(c->max_devices, 1);
	assert_int_equal(c->cloud_sync, SYNC_UNKNOWN);
	assert_int_equal(c->transfer_min_s, -1);
	assert_int_equal(c->transfer_max_s, -1);
	assert_int_equal(c->cooldown_s, -1);
	assert_int_equal(c->reprov_min_s, -1);
	assert_int_equal(c->reprov_max_s, -1);
	assert_null(c->reprov_text);
	assert_null(c->notes);
	assert_null(c->aliases[0]);
	carrier_table_free(t);
}

static void test_override_empty_list(void **state)
{
	struct carrier_table *t = load_ok("{\"carriers\": []}");

	(void)state;
	assert_int_equal(carrier_table_count(t), NBUILTIN);
	carrier_table_free(t);
	t = load_ok(" \n{ \"carriers\" : [ ] }\n\n");
	assert_int_equal(carrier_table_count(t), NBUILTIN);
	carrier_table_free(t);
	carrier_table_free(NULL);
}

/* Seven distinct aliases fit; spellings of a name the row already answers to are skipped. */
static void test_override_aliases_fill(void **state)
{
	struct carrier_table *t = load_ok(
		"{\"carriers\": [{\"name\": \"Seven\", \"model\": \"sequential\",\n"
		" \"aliases\": [\"s1\", \"s2\", \"s3\", \"s4\", \"s5\", \"s6\", \"S-1\", \"seven\", \"s7\"]}]}");
	const struct carrier_policy *c = must_find(t, "s7");

	(void)state;
	for (int i = 0; i < CARRIER_MAX_ALIASES - 1; i++)
		assert_non_null(c->aliases[i]);            /* variants of a known key are skipped */
	assert_null(c->aliases[CARRIER_MAX_ALIASES - 1]);
	carrier_table_free(t);
}

/* ---- overrides that are refused ---- */

#define LONG65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG161 LONG65 LONG65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ROW(x) "{\"carriers\": [{\"name\": \"Zed\", \"model\": \"sequential\", " x "}]}"
#define ROW_CONC(x) "{\"carriers\": [{\"name\": \"Zed\", \"model\": \"concurrent\", " x "}]}"

static const struct {
	const char *json, *msg;
} bad[] = {
	/* syntax */
	{ "", "test.json: empty file (expected {\"carriers\": [...]})" },
	{ " \n\t ", "test.json: empty file (expected {\"carriers\": [...]})" },
	{ "{\"carriers\": [", "test.json: line 1, column 15: invalid JSON (unexpected end of file)" },
	{ "{\n  \"carriers\": [\n    {\"name\": \"x\",}\n  ]\n}",
	  "test.json: line 3, column 18: invalid JSON near '}'" },
	{ "{\n \"carriers\": [\n  {\"name\": \"Móvil\" \"x\"}]}",
	  "test.json: line 3, column 20: invalid JSON near '\"x\"}]}'" },
	{ "{\"carriers\": []} x", "test.json: line 1, column 18: invalid JSON near 'x'" },
	{ "{\"carriers\": [] /* no */}", "test.json: line 1, column 17: invalid JSON near '/* no */}'" },
	/* top level */
	{ "[]", "test.json: the top level must be an object: {\"carriers\": [...]}" },
	{ "\"carriers\"", "test.json: the top level must be an object: {\"carriers\": [...]}" },
	{ "{}", "test.json: carriers: required" },
	{ "{\"carriers\": {}}", "test.json: carriers: must be an array" },
	{ "{\"carriers\": null}", "test.json: carriers: must be an array" },
	{ "{\"carriers\": [], \"extra\": 1}",
	  "test.json: unknown key 'extra' at the top level (allowed: carriers)" },
	{ "{\"Carriers\": []}", "test.json: unknown key 'Carriers' at the top level (allowed: carriers)" },
	{ "{\"carriers\": [], \"carriers\": []}",
	  "test.json: top level: key 'carriers' appears more than once" },
	/* entries */
	{ "{\"carriers\": [1]}", "test.json: carriers[0]: must be an object" },
	{ "{\"carriers\": [{\"name\": \"AT&T\"}, []]}", "test.json: carriers[1]: must be an object" },
	{ ROW("\"modle\": \"x\""),
	  "test.json: carriers[0]: unknown key 'modle' (allowed: name, region, model, max_devices, "
	  "cloud_sync, transfer_minutes, transfer_seconds, cooldown_hours, cooldown_seconds, "
	  "reprovision_hours, reprovision_seconds, reprovision_text, notes, aliases)" },
	{ ROW("\"cooldown_minutes\": 5"),
	  "test.json: carriers[0]: unknown key 'cooldown_minutes' (allowed: name, region, model, "
	  "max_devices, cloud_sync, transfer_minutes, transfer_seconds, cooldown_hours, "
	  "cooldown_seconds, reprovision_hours, reprovision_seconds, reprovision_text, notes, aliases)" },
	{ ROW("\"model\": \"sequential\""), "test.json: carriers[0]: key 'model' appears more than once" },
	/* name */
	{ "{\"carriers\": [{\"model\": \"sequential\"}]}", "test.json: carriers[0].name: required" },
	{ "{\"carriers\": [{\"name\": 1}]}", "test.json: carriers[0].name: must be a string" },
	{ "{\"carriers\": [{\"name\": null}]}", "test.json: carriers[0].name: must be a string" },
	{ "{\"carriers\": [{\"name\": \"\"}]}", "test.json: carriers[0].name: must not be empty" },
	{ "{\"carriers\": [{\"name\": \"" LONG65 "\"}]}",
	  "test.json: carriers[0].name: too long (65 characters, at most 64)" },
	{ "{\"carriers\": [{\"name\": \"&-. _\"}]}",
	  "test.json: carriers[0].name: must contain a letter or digit" },
	{ "{\"carriers\": [{\"name\": \"a\\u0001b\"}]}",
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (control character at character 2)" },
	{ "{\"carriers\": [{\"name\": \"a\xff\"}]}",
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (invalid byte at character 2)" },
	{ "{\"carriers\": [{\"name\": \"a\xc3\"}]}",
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (invalid byte at character 2)" },
	{ "{\"carriers\": [{\"name\": \"\xc0\xaf\"}]}",    /* overlong '/' */
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (invalid byte at character 1)" },
	{ "{\"carriers\": [{\"name\": \"\xed\xa0\x80x\"}]}", /* surrogate in UTF-8 */
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (invalid byte at character 1)" },
	{ "{\"carriers\": [{\"name\": \"\\ud800x\"}]}",   /* cJSON refuses it in \\u */
	  "test.json: line 1, column 25: invalid JSON near '\\ud800x\"}]'" },
	{ "{\"carriers\": [{\"name\": \"\xc2\x85\"}]}",     /* C1 control NEL */
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (control character at character 1)" },
	{ "{\"carriers\": [{\"name\": \"\xf4\x90\x80\x80\"}]}", /* past U+10FFFF */
	  "test.json: carriers[0].name: must be UTF-8 text without control characters (invalid byte at character 1)" },
	/* model */
	{ "{\"carriers\": [{\"name\": \"Zed\"}]}",
	  "test.json: carriers[0].model: required for a carrier that is not built in" },
	{ "{\"carriers\": [{\"name\": \"AT&T\"}, {\"name\": \"EE\"}, {\"name\": \"Xy\", \"model\": \"parallel\"}]}",
	  "test.json: carriers[2].model: must be one of concurrent, sequential, single-device" },
	{ "{\"carriers\": [{\"name\": \"AT&T\", \"model\": \"Sequential\"}]}",
	  "test.json: carriers[0].model: must be one of concurrent, sequential, single-device" },
	{ "{\"carriers\": [{\"name\": \"AT&T\", \"model\": 2}]}",
	  "test.json: carriers[0].model: must be one of concurrent, sequential, single-device" },
	/* max_devices */
	{ ROW_CONC("\"max_devices\": 0"), "test.json: carriers[0].max_devices: must be a whole number from 1 to 64" },
	{ ROW_CONC("\"max_devices\": 65"), "test.json: carriers[0].max_devices: must be a whole number from 1 to 64" },
	{ ROW_CONC("\"max_devices\": 2.5"), "test.json: carriers[0].max_devices: must be a whole number from 1 to 64" },
	{ ROW_CONC("\"max_devices\": \"3\""), "test.json: carriers[0].max_devices: must be a whole number from 1 to 64" },
	{ ROW_CONC("\"max_devices\": -1"), "test.json: carriers[0].max_devices: must be a whole number from 1 to 64" },
	{ ROW_CONC("\"region\": \"X\""), "test.json: carriers[0].max_devices: required for a concurrent carrier" },
	{ ROW("\"max_devices\": 2"), "test.json: carriers[0].max_devices: must be 1 for a sequential carrier" },
	{ "{\"carriers\": [{\"name\": \"MTN\", \"max_devices\": 3}]}",
	  "test.json: carriers[0].max_devices: must be 1 for a single-device carrier" },
	{ "{\"carriers\": [{\"name\": \"Verizon\", \"model\": \"concurrent\"}]}",
	  "test.json: carriers[0].max_devices: required for a concurrent carrier" },
	/* cloud_sync */
	{ ROW("\"cloud_sync\": \"maybe\""), "test.json: carriers[0].cloud_sync: must be one of yes, no, partial, unknown" },
	{ ROW("\"cloud_sync\": true"), "test.json: carriers[0].cloud_sync: must be one of yes, no, partial, unknown" },
	/* transfer time */
	{ ROW("\"transfer_minutes\": -1"), "test.json: carriers[0].transfer_minutes: must not be negative" },
	{ ROW("\"transfer_minutes\": [15, 10]"), "test.json: carriers[0].transfer_minutes: min must not be greater than max" },
	{ ROW("\"transfer_minutes\": [1, 2, 3]"), "test.json: carriers[0].transfer_minutes: must be a number, [min, max] or null" },
	{ ROW("\"transfer_minutes\": []"), "test.json: carriers[0].transfer_minutes: must be a number, [min, max] or null" },
	{ ROW("\"transfer_minutes\": \"10\""), "test.json: carriers[0].transfer_minutes: must be a number, [min, max] or null" },
	{ ROW("\"transfer_minutes\": [1, \"2\"]"), "test.json: carriers[0].transfer_minutes[1]: must be a number" },
	{ ROW("\"transfer_minutes\": [-1, 2]"), "test.json: carriers[0].transfer_minutes[0]: must not be negative" },
	{ ROW("\"transfer_minutes\": 527041"), "test.json: carriers[0].transfer_minutes: too large (at most 366 days)" },
	{ ROW("\"transfer_minutes\": 1e999"), "test.json: carriers[0].transfer_minutes: too large (at most 366 days)" },
	{ ROW("\"transfer_minutes\": 10, \"transfer_seconds\": 600"),
	  "test.json: carriers[0].transfer_seconds: give only one of transfer_minutes and transfer_seconds" },
	/* cooldown */
	{ ROW("\"cooldown_hours\": -1"), "test.json: carriers[0].cooldown_hours: must not be negative" },
	{ ROW("\"cooldown_hours\": \"12\""), "test.json: carriers[0].cooldown_hours: must be a number or null" },
	{ ROW("\"cooldown_hours\": [1, 2]"), "test.json: carriers[0].cooldown_hours: must be a number or null" },
	{ ROW("\"cooldown_hours\": 8785"), "test.json: carriers[0].cooldown_hours: too large (at most 366 days)" },
	{ ROW("\"cooldown_seconds\": 1, \"cooldown_hours\": 1"),
	  "test.json: carriers[0].cooldown_hours: give only one of cooldown_seconds and cooldown_hours" },
	/* re-provisioning */
	{ ROW("\"reprovision_hours\": [48, 24]"), "test.json: carriers[0].reprovision_hours: min must not be greater than max" },
	{ ROW("\"reprovision_hours\": true"), "test.json: carriers[0].reprovision_hours: must be a number, [min, max] or null" },
	{ ROW("\"reprovision_hours\": 1, \"reprovision_seconds\": 1"),
	  "test.json: carriers[0].reprovision_seconds: give only one of reprovision_hours and reprovision_seconds" },
	{ ROW("\"reprovision_text\": 5"), "test.json: carriers[0].reprovision_text: must be a string or null" },
	{ ROW("\"reprovision_text\": \"\""), "test.json: carriers[0].reprovision_text: must not be empty" },
	{ ROW("\"reprovision_text\": \"" LONG65 "\""),
	  "test.json: carriers[0].reprovision_text: too long (65 characters, at most 64)" },
	/* text fields */
	{ ROW("\"notes\": \"" LONG161 "\""), "test.json: carriers[0].notes: too long (161 characters, at most 160)" },
	{ ROW("\"notes\": []"), "test.json: carriers[0].notes: must be a string or null" },
	{ ROW("\"notes\": \"tab\\there\""),
	  "test.json: carriers[0].notes: must be UTF-8 text without control characters (control character at character 4)" },
	{ ROW("\"region\": null"), "test.json: carriers[0].region: must be a string" },
	{ ROW("\"region\": \"" LONG65 "\""), "test.json: carriers[0].region: too long (65 characters, at most 64)" },
	/* aliases */
	{ ROW("\"aliases\": \"Z\""), "test.json: carriers[0].aliases: must be an array of strings" },
	{ ROW("\"aliases\": [1]"), "test.json: carriers[0].aliases[0]: must be a string" },
	{ ROW("\"aliases\": [\"ok\", \"\"]"), "test.json: carriers[0].aliases[1]: must not be empty" },
	{ ROW("\"aliases\": [\"&\"]"), "test.json: carriers[0].aliases[0]: must contain a letter or digit" },
	{ ROW("\"aliases\": [\"&&\"]"), "test.json: carriers[0].aliases[0]: must contain a letter or digit" },
	/* one-letter names and aliases: "E" would silently mean a carrier */
	{ ROW("\"aliases\": [\"E\"]"), "test.json: carriers[0].aliases[0]: must contain at least 2 letters or digits (names are compared without case, accents, spaces and '-', '.', '_'; '&' reads as \"and\")" },
	{ "{\"carriers\": [{\"name\": \"Z.\", \"model\": \"sequential\"}]}",
	  "test.json: carriers[0].name: must contain at least 2 letters or digits (names are compared without case, accents, spaces and '-', '.', '_'; '&' reads as \"and\")" },
	{ "{\"carriers\": [{\"name\": \"\u00c9\", \"model\": \"sequential\"}]}",
	  "test.json: carriers[0].name: must contain at least 2 letters or digits (names are compared without case, accents, spaces and '-', '.', '_'; '&' reads as \"and\")" },
	/* clashes after normalising, with the built-in rows and between the user's rows */
	{ ROW("\"aliases\": [\"E and\"]"), "test.json: carriers[0].aliases[0]: 'E and' already names Etisalat" },
	{ ROW("\"aliases\": [\"A.T. and T.\"]"),
	  "test.json: carriers[0].aliases[0]: 'A.T. and T.' already names AT&T" },
	{ "{\"carriers\": [{\"name\": \"M\u00e9xico Tel\", \"model\": \"sequential\"},"
	  " {\"name\": \"Other\", \"model\": \"sequential\", \"aliases\": [\"MEXICO-TEL\"]}]}",
	  "test.json: carriers[1].aliases[0]: 'MEXICO-TEL' already names M\u00e9xico Tel" },
	{ ROW("\"aliases\": [\"Jio\"]"), "test.json: carriers[0].aliases[0]: 'Jio' already names Reliance Jio" },
	{ ROW("\"aliases\": [\"zz\", \"at & t\"]"), "test.json: carriers[0].aliases[1]: 'at & t' already names AT&T" },
	{ "{\"carriers\": [{\"name\": \"EE\", \"aliases\": [\"Orange\"]}]}",
	  "test.json: carriers[0].aliases[0]: 'Orange' already names Orange" },
	{ ROW("\"aliases\": [\"a1\", \"a2\", \"a3\", \"a4\", \"a5\", \"a6\", \"a7\", \"a8\"]"),
	  "test.json: carriers[0].aliases[7]: too many aliases (at most 7 per carrier, built-in ones included)" },
	{ "{\"carriers\": [{\"name\": \"Claro\", \"aliases\": [\"a1\", \"a2\", \"a3\", \"a4\", \"a5\"]}]}",
	  "test.json: carriers[0].aliases[4]: too many aliases (at most 7 per carrier, built-in ones included)" },
	/* one entry per carrier */
	{ "{\"carriers\": [{\"name\": \"AT&T\", \"cooldown_hours\": 1}, {\"name\": \"att\", \"notes\": null}]}",
	  "test.json: carriers[1].name: 'att' names the same carrier as carriers[0]" },
	{ "{\"carriers\": [{\"name\": \"Free Mobile\", \"model\": \"sequential\", \"aliases\": [\"Free\"]},"
	  " {\"name\": \"EE\"}, {\"name\": \"FREE\", \"cooldown_hours\": 0}]}",
	  "test.json: carriers[2].name: 'FREE' names the same carrier as carriers[0]" },
	{ "{\"carriers\": [{\"name\": \"A1\", \"model\": \"sequential\", \"aliases\": [\"Zed\"]},"
	  " {\"name\": \"B1\", \"model\": \"sequential\", \"aliases\": [\"zed\"]}]}",
	  "test.json: carriers[1].aliases[0]: 'zed' already names A1" },
	/* messages quote what the user wrote, shortened and without control characters */
	{ "{\"carriers\": [{\"name\": \"Zed\", \"model\": \"sequential\", \"k\\u0007"
	  "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\": 1}]}",
	  "test.json: carriers[0]: unknown key 'k?yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...' (allowed: name, "
	  "region, model, max_devices, cloud_sync, transfer_minutes, transfer_seconds, cooldown_hours, "
	  "cooldown_seconds, reprovision_hours, reprovision_seconds, reprovision_text, notes, aliases)" },
};

static void test_override_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct carrier_table *t = (struct carrier_table *)&t; /* must be reset to NULL */
		struct esim_err err = { 0 };

		if (carrier_table_new(bad[i].json, "test.json", &t, &err) != -1)
			fail_msg("case %zu loaded: %s", i, bad[i].json);
		assert_null(t);
		assert_int_equal(err.status, ESIM_E_USAGE);
		if (strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("case %zu\n got: %s\nwant: %s", i, err.msg, bad[i].msg);
	}
}

static void test_override_entry_limit(void **state)
{
	struct buf json = BUF_INIT;
	struct carrier_table *t = NULL;
	struct esim_err err = { 0 };

	(void)state;
	buf_addstr(&json, "{\"carriers\": [");
	for (int i = 0; i < 1000; i++)
		buf_addf(&json, "%s{\"name\": \"c%d\", \"model\": \"sequential\"}", i ? "," : "", i);
	buf_addstr(&json, "]}");
	assert_int_equal(carrier_table_new(json.buf, "test.json", &t, &err), 0);
	assert_int_equal(carrier_table_count(t), NBUILTIN + 1000);
	assert_string_equal(must_find(t, "C999")->name, "c999");
	carrier_table_free(t);

	json.len -= 2;
	buf_addstr(&json, ",{\"name\": \"one more\", \"model\": \"sequential\"}]}");
	assert_int_equal(carrier_table_new(json.buf, "test.json", &t, &err), -1);
	assert_string_equal(err.msg, "test.json: carriers: too many entries (at most 1000)");
	buf_release(&json);
}

static void test_override_srcname(void **state)
{
	struct carrier_table *t = NULL;
	struct esim_err err = { 0 };

	(void)state;
	assert_int_equal(carrier_table_new("{}", NULL, &t, &err), -1);
	assert_string_equal(err.msg, "carriers.json: carriers: required");
	assert_int_equal(carrier_table_new("{}", "/home/u/.config/esimctl/carriers.json", &t, &err), -1);
	assert_string_equal(err.msg, "/home/u/.config/esimctl/carriers.json: carriers: required");
	assert_int_equal(carrier_table_new("{\"carriers\": [1]}", "x.json", &t, NULL), -1); /* no err */
	assert_null(t);
}

/* ---- the shipped example and the one in the documentation ---- */

/* Path of a file in the source tree, from this file's own path (tests/unit/...). */
static char *source_path(const char *rel)
{
	const char *me = __FILE__;
	const char *cut = strstr(me, "tests/unit/test_carrier.c");
	struct buf b = BUF_INIT;

	if (!cut)
		return NULL;
	buf_add(&b, me, (size_t)(cut - me));
	buf_addstr(&b, rel);
	return buf_detach(&b, NULL);
}

static char *slurp(const char *rel)
{
	char *path = source_path(rel);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	if (!path)
		return NULL;
	f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static void check_example(const char *json)
{
	struct carrier_table *t = load_ok(json);
	const struct carrier_policy *c;

	assert_int_equal(carrier_table_count(t), NBUILTIN + 2);
	c = must_find(t, "Free");
	assert_string_equal(c->name, "Free Mobile");
	assert_int_equal(c->model, MODEL_SEQUENTIAL);
	assert_int_equal(c->transfer_min_s, 10 * MIN);
	assert_int_equal(c->transfer_max_s, 15 * MIN);
	assert_int_equal(c->cooldown_s, 12 * HOUR);
	assert_int_equal(c->cloud_sync, SYNC_NO);
	c = must_find(t, "AT&T");
	assert_int_equal(c->overridden, 1);
	assert_int_equal(c->cooldown_s, 12 * HOUR);
	assert_int_equal(c->transfer_max_s, 15 * MIN);
	c = must_find(t, "extel");
	assert_int_equal(c->model, MODEL_SINGLE_DEVICE);
	assert_int_equal(c->reprov_min_s, 24 * HOUR);
	assert_string_equal(c->reprov_text, "24-48 h");
	carrier_table_free(t);
}

static void test_example_file(void **state)
{
	char *json = slurp("examples/carriers.json");

	(void)state;
	if (!json)
		skip();
	check_example(json);
	free(json);
}

static void test_doc_example(void **state)
{
	char *doc = slurp("docs/carriers-format.md");
	char *ex = slurp("examples/carriers.json");
	char *start, *end;

	(void)state;
	if (!doc || !ex) {
		free(doc);
		free(ex);
		skip();
	}
	start = strstr(doc, "```json\n");
	assert_non_null(start);
	start += strlen("```json\n");
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	check_example(start);
	assert_string_equal(start, ex);  /* the documentation shows the shipped file */
	free(doc);
	free(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_rows),
		cmocka_unit_test(test_builtin_keys_unique),
		cmocka_unit_test(test_builtin_unambiguous),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_key_edges),
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_override_field_by_field),
		cmocka_unit_test(test_override_fields),
		cmocka_unit_test(test_override_new_rows),
		cmocka_unit_test(test_override_empty_list),
		cmocka_unit_test(test_override_aliases_fill),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_override_entry_limit),
		cmocka_unit_test(test_override_srcname),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_doc_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
