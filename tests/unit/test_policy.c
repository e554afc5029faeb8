/* test_policy.c - the transfer rules engine: every model, limits, cooldowns, warnings. */
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
#include "esimctl/policy.h"

#define NOW INT64_C(1795255200) /* 2026-11-21T10:00:00Z */
#define NEVER INT64_MIN         /* `ago` value: never transferred */
#define MIN 60
#define HOUR 3600
#define DAY (24 * HOUR)

/* Policies that are not in the built-in table. */
static const struct carrier_policy solo = {
	.name = "Solo", .region = "X", .model = MODEL_CONCURRENT, .max_devices = 1,
	.transfer_min_s = -1, .transfer_max_s = -1, .cooldown_s = -1,
	.reprov_min_s = -1, .reprov_max_s = -1,
};
static const struct carrier_policy odd = {
	.name = "Odd", .region = "X", .model = MODEL_SEQUENTIAL, .max_devices = 1,
	.transfer_min_s = 90, .transfer_max_s = 150, .cooldown_s = -1,
	.reprov_min_s = -1, .reprov_max_s = -1,
};
static const struct carrier_policy single_bare = {
	.name = "Bare", .region = "X", .model = MODEL_SINGLE_DEVICE, .max_devices = 1,
	.transfer_min_s = -1, .transfer_max_s = -1, .cooldown_s = -1,
	.reprov_min_s = -1, .reprov_max_s = -1,
};

struct pcase {
	const char *label;
	const char *carrier;       /* built-in name; NULL: unknown carrier "Foo Mobile" */
	const struct carrier_policy *custom; /* instead of a built-in row */
	const char *holders;       /* "phone,tablet*": '*' marks a pending binding */
	const char *from, *to;
	enum device_kind kind;
	enum plan_type plan;
	int has_phone, ever_bound;
	int64_t ago;               /* last transfer this long before NOW; NEVER */
	enum plan_action action;
	enum esim_status status;
	const char *reason;        /* exact, NULL: not checked ("" = empty) */
	const char *summary;       /* exact, NULL: not checked */
	const char *warnings;      /* all warnings joined by '|', exact */
};

#define AT_T_NOTE "AT&T: support can expedite a transfer"
#define TABLET_VOICE "voice on tablet 'tablet' may route through the primary phone"
#define COOLDOWN_UNKNOWN "cooldown unknown for this carrier; it may refuse a transfer made soon after this one"
#define FOO_UNKNOWN "carrier 'Foo Mobile' is not in the table; assuming the strictest sequential " \
	"policy in it (one device, 24 h cooldown, transfer time 20-30 min). Record the real policy " \
	"in your carriers file ('esimctl carriers list' shows where; format: docs/carriers-format.md)"

static const struct pcase cases[] = {
	/* ---- concurrent ---- */
	{ "first placement", "T-Mobile", NULL, "", NULL, "phone", DEV_PHONE, PLAN_VOICE_DATA, 1, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", "place the profile on 'phone' (active)", "" },
	{ "below the limit", "T-Mobile", NULL, "phone,tablet,watch,laptop", NULL, "phone2", DEV_PHONE,
	  PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_ADD_CONCURRENT, ESIM_OK, "",
	  "add 'phone2' as another active device; phone, tablet, watch, laptop keep the profile "
	  "(T-Mobile allows 5 devices at once, 5 in use after this)", "" },
	{ "at the limit", "T-Mobile", NULL, "phone,tablet,watch,laptop,hotspot", NULL, "phone2",
	  DEV_PHONE, PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "T-Mobile allows 5 devices at once; profile is already on phone, tablet, watch, laptop, hotspot",
	  "", "" },
	{ "one below a limit of 2", "Docomo", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY,
	  1, 1, NEVER, PLAN_ADD_CONCURRENT, ESIM_OK, "",
	  "add 'tablet' as another active device; phone keeps the profile "
	  "(NTT Docomo allows 2 devices at once, 2 in use after this)",
	  "NTT Docomo: limited to domestic use" },
	{ "a pending binding counts", "NTT Docomo", NULL, "phone,tablet*", NULL, "laptop", DEV_LAPTOP,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "NTT Docomo allows 2 devices at once; profile is already on phone, tablet (pending)", "", "" },
	{ "limit of one", NULL, &solo, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1, NEVER,
	  PLAN_REFUSE, ESIM_E_POLICY, "Solo allows 1 device at once; profile is already on phone", "", "" },
	{ "already there", "T-Mobile", NULL, "phone,tablet", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY,
	  1, 1, NEVER, PLAN_NOOP, ESIM_OK, "already on 'tablet'", "nothing to do: already on 'tablet'", "" },
	{ "already there at the limit", "Docomo", NULL, "phone,tablet", NULL, "phone", DEV_PHONE,
	  PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_NOOP, ESIM_OK, "already on 'phone'", NULL,
	  "NTT Docomo: limited to domestic use" },
	{ "--from not a holder", "Vodafone", NULL, "phone", "laptop", "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_NOTFOUND,
	  "profile is not on device 'laptop' (it is on phone)", "", "" },
	{ "notes as warnings", "Vodafone", NULL, "phone", NULL, "tablet", DEV_TABLET,
	  PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_ADD_CONCURRENT, ESIM_OK, "", NULL,
	  TABLET_VOICE "|Vodafone: requires Red Business plan" },
	/* --from moves: released on the source, active on the target, even at the limit */
	{ "swap at the limit", "Vodafone", NULL, "phone,tablet,watch", "phone", "hotspot", DEV_HOTSPOT,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_SWAP, ESIM_OK, "",
	  "move from 'phone' to 'hotspot': 'phone' is released and 'hotspot' becomes active now "
	  "(Vodafone allows 3 devices at once, 3 in use after this)",
	  "Vodafone: requires Red Business plan" },
	{ "swap below the limit", "T-Mobile", NULL, "phone", "phone", "laptop", DEV_LAPTOP,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_SWAP, ESIM_OK, "",
	  "move from 'phone' to 'laptop': 'phone' is released and 'laptop' becomes active now "
	  "(T-Mobile allows 5 devices at once, 1 in use after this)", "" },
	{ "swap with a limit of one", NULL, &solo, "phone", "phone", "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_SWAP, ESIM_OK, "", NULL, "" },
	{ "swap from a pending binding", "NTT Docomo", NULL, "phone,tablet*", "tablet", "laptop",
	  DEV_LAPTOP, PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_SWAP, ESIM_OK, "", NULL,
	  "the transfer to 'tablet' is still pending; moving it again may restart the wait|"
	  "NTT Docomo: limited to domestic use" },
	{ "swap: --from not a holder", "Vodafone", NULL, "phone,tablet,watch", "laptop", "hotspot",
	  DEV_HOTSPOT, PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_NOTFOUND,
	  "profile is not on device 'laptop' (it is on phone, tablet, watch)", "", "" },

	/* ---- sequential ---- */
	{ "cooldown: one second before the end", "AT&T", NULL, "phone", NULL, "tablet", DEV_TABLET,
	  PLAN_VOICE_DATA, 1, 1, DAY - 1, PLAN_REFUSE, ESIM_E_POLICY,
	  "AT&T allows one transfer every 24 h; the next one is possible at 2026-11-21T10:00:01Z (in 1s)",
	  "", "" },
	{ "cooldown: exactly at the end", "AT&T", NULL, "phone", NULL, "tablet", DEV_TABLET,
	  PLAN_VOICE_DATA, 1, 1, DAY, PLAN_MOVE, ESIM_OK, "", NULL, TABLET_VOICE "|" AT_T_NOTE },
	{ "cooldown: long ago", "AT&T", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_VOICE_DATA, 1, 1,
	  30 * DAY, PLAN_MOVE, ESIM_OK, "", NULL, TABLET_VOICE "|" AT_T_NOTE },
	{ "move", "AT&T", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_VOICE_DATA, 1, 1, NEVER,
	  PLAN_MOVE, ESIM_OK, "",
	  "move from 'phone' to 'tablet': 'phone' loses service now and 'tablet' should be ready in "
	  "10-15 min; expect a connectivity gap of 10-15 min; next transfer possible at "
	  "2026-11-22T10:00:00Z",
	  TABLET_VOICE "|" AT_T_NOTE },
	{ "cooldown of 12 h", "EE", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1,
	  HOUR, PLAN_REFUSE, ESIM_E_POLICY,
	  "EE allows one transfer every 12 h; the next one is possible at 2026-11-21T21:00:00Z "
	  "(in 11 h 00 min)", "", "" },
	{ "no cooldown", "Verizon", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1, 1,
	  PLAN_MOVE, ESIM_OK, "",
	  "move from 'phone' to 'tablet': 'phone' loses service now and 'tablet' should be ready in "
	  "5-10 min; expect a connectivity gap of 5-10 min", "" },
	{ "fixed transfer time", "Singtel", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1,
	  1, NEVER, PLAN_MOVE, ESIM_OK, "",
	  "move from 'phone' to 'tablet': 'phone' loses service now and 'tablet' should be ready in "
	  "10 min; expect a connectivity gap of 10 min; next transfer possible at 2026-11-21T16:00:00Z",
	  "" },
	{ "seconds and unknown cooldown", NULL, &odd, "phone", NULL, "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, 1, PLAN_MOVE, ESIM_OK, "",
	  "move from 'phone' to 'tablet': 'phone' loses service now and 'tablet' should be ready in "
	  "90-150 s; expect a connectivity gap of 90-150 s", COOLDOWN_UNKNOWN },
	{ "no holders: placed", "AT&T", NULL, "", NULL, "phone", DEV_PHONE, PLAN_VOICE_DATA, 1, 1,
	  NEVER, PLAN_PLACE, ESIM_OK, "", "place the profile on 'phone' (active)", AT_T_NOTE },
	{ "no holders: cooldown still applies", "AT&T", NULL, "", NULL, "phone", DEV_PHONE,
	  PLAN_VOICE_DATA, 1, 1, HOUR, PLAN_REFUSE, ESIM_E_POLICY,
	  "AT&T allows one transfer every 24 h; the next one is possible at 2026-11-22T09:00:00Z "
	  "(in 23 h 00 min)", "", "" },
	{ "--from not a holder", "AT&T", NULL, "phone", "laptop", "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_NOTFOUND,
	  "profile is not on device 'laptop' (it is on phone)", "", "" },
	{ "--from with no holders", "AT&T", NULL, "", "laptop", "tablet", DEV_TABLET, PLAN_DATA_ONLY,
	  1, 1, NEVER, PLAN_REFUSE, ESIM_E_NOTFOUND,
	  "profile is not on device 'laptop' (it is not on any device)", "", "" },
	{ "several holders, no --from", "Verizon", NULL, "phone,tablet*", NULL, "laptop", DEV_LAPTOP,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_USAGE,
	  "profile is on 2 devices (phone, tablet (pending)); name the one to move it from with --from",
	  "", "" },
	{ "several holders, --from", "Verizon", NULL, "phone,tablet", "tablet", "laptop", DEV_LAPTOP,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_MOVE, ESIM_OK, "",
	  "move from 'tablet' to 'laptop': 'tablet' loses service now and 'laptop' should be ready in "
	  "5-10 min; expect a connectivity gap of 5-10 min", "" },
	{ "already there, even in a cooldown", "AT&T", NULL, "tablet*", NULL, "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, 60, PLAN_NOOP, ESIM_OK, "already on 'tablet' (transfer pending)",
	  "nothing to do: already on 'tablet' (transfer pending)", AT_T_NOTE },
	{ "--from the target", "AT&T", NULL, "phone", "phone", "phone", DEV_PHONE, PLAN_VOICE_DATA, 1,
	  1, NEVER, PLAN_NOOP, ESIM_OK, "already on 'phone'", NULL, AT_T_NOTE },
	{ "moving a pending profile again", "Verizon", NULL, "tablet*", NULL, "phone", DEV_PHONE,
	  PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_MOVE, ESIM_OK, "", NULL,
	  "the transfer to 'tablet' is still pending; moving it again may restart the wait" },
	/* the strictest sequential row of the table: Etisalat's 20-30 min, AT&T's 24 h */
	{ "unknown carrier", NULL, NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1,
	  DAY, PLAN_MOVE, ESIM_OK, "",
	  "move from 'phone' to 'tablet': 'phone' loses service now and 'tablet' should be ready in "
	  "20-30 min; expect a connectivity gap of 20-30 min; next transfer possible at "
	  "2026-11-22T10:00:00Z",
	  FOO_UNKNOWN },
	{ "unknown carrier: its cooldown", NULL, NULL, "phone", NULL, "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, HOUR, PLAN_REFUSE, ESIM_E_POLICY,
	  "Foo Mobile allows one transfer every 24 h; the next one is possible at "
	  "2026-11-22T09:00:00Z (in 23 h 00 min)", "", "" },
	{ "unknown carrier, placed", NULL, NULL, "", NULL, "phone", DEV_PHONE, PLAN_VOICE_DATA, 1, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", "place the profile on 'phone' (active)", FOO_UNKNOWN },
	{ "unknown carrier, refused", NULL, NULL, "phone,tablet", NULL, "laptop", DEV_LAPTOP,
	  PLAN_VOICE_DATA, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_USAGE,
	  "profile is on 2 devices (phone, tablet); name the one to move it from with --from", "", "" },

	/* ---- single device ---- */
	{ "never bound: placed", "China Mobile", NULL, "", NULL, "phone", DEV_PHONE, PLAN_VOICE_DATA, 1,
	  0, NEVER, PLAN_PLACE, ESIM_OK, "",
	  "place the profile on 'phone' (active); China Mobile binds it to that device for good",
	  "China Mobile: must be done in-country" },
	{ "bound once, released", "China Mobile", NULL, "", NULL, "tablet", DEV_TABLET,
	  PLAN_DATA_ONLY, 1, 1, NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "China Mobile binds a profile to the device it was first installed on; to use 'tablet', "
	  "order a new profile from China Mobile (re-provisioning time: 24-48 h; must be done in-country)",
	  "", "" },
	{ "on a device", "Claro", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1,
	  NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "America Movil binds a profile to the device it was first installed on; to use 'tablet', "
	  "order a new profile from America Movil (re-provisioning time: varies by country; contact "
	  "the local subsidiary)", "", "" },
	{ "holders imply bound", "Jio", NULL, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 0,
	  NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "Reliance Jio binds a profile to the device it was first installed on; to use 'tablet', "
	  "order a new profile from Reliance Jio (re-provisioning time: 12-24 h; needs Aadhaar "
	  "verification)", "", "" },
	{ "no figures", NULL, &single_bare, "phone", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 1, 1,
	  NEVER, PLAN_REFUSE, ESIM_E_POLICY,
	  "Bare binds a profile to the device it was first installed on; to use 'tablet', order a new "
	  "profile from Bare", "", "" },
	{ "already there", "MTN", NULL, "phone", NULL, "phone", DEV_PHONE, PLAN_VOICE_DATA, 1, 1,
	  NEVER, PLAN_NOOP, ESIM_OK, "already on 'phone'", NULL, "MTN: limited international support" },

	/* ---- device warnings ---- */
	{ "voice on a laptop", "Verizon", NULL, "", NULL, "work-laptop", DEV_LAPTOP, PLAN_VOICE_DATA,
	  1, 0, NEVER, PLAN_PLACE, ESIM_OK, "", NULL,
	  "voice and SMS will not work on laptop 'work-laptop'; only data" },
	{ "data on a laptop", "Verizon", NULL, "", NULL, "work-laptop", DEV_LAPTOP, PLAN_DATA_ONLY, 1,
	  0, NEVER, PLAN_PLACE, ESIM_OK, "", NULL, "" },
	{ "voice on a hotspot", "T-Mobile", NULL, "phone", NULL, "mifi", DEV_HOTSPOT, PLAN_VOICE_DATA,
	  1, 1, NEVER, PLAN_ADD_CONCURRENT, ESIM_OK, "", NULL,
	  "voice and SMS will not work on hotspot 'mifi'; only data" },
	{ "watch without a phone", "T-Mobile", NULL, "", NULL, "w", DEV_WATCH, PLAN_VOICE_DATA, 0, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", NULL,
	  "watch 'w' runs in companion mode and needs a phone; none is in the inventory" },
	{ "watch with a phone", "T-Mobile", NULL, "", NULL, "w", DEV_WATCH, PLAN_VOICE_DATA, 1, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", NULL, "" },
	{ "voice on a tablet", "T-Mobile", NULL, "", NULL, "tablet", DEV_TABLET, PLAN_VOICE_DATA, 1, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", NULL, TABLET_VOICE },
	/* no primary phone (has_phone 0 here): no routing through one is promised */
	{ "voice on a tablet, no primary phone", "T-Mobile", NULL, "", NULL, "tablet", DEV_TABLET,
	  PLAN_VOICE_DATA, 0, 0, NEVER, PLAN_PLACE, ESIM_OK, "", NULL, "" },
	{ "data on a tablet", "T-Mobile", NULL, "", NULL, "tablet", DEV_TABLET, PLAN_DATA_ONLY, 0, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", NULL, "" },
	{ "everything at once", NULL, NULL, "", NULL, "w", DEV_WATCH, PLAN_VOICE_DATA, 0, 0,
	  NEVER, PLAN_PLACE, ESIM_OK, "", NULL,
	  FOO_UNKNOWN
	  "|watch 'w' runs in companion mode and needs a phone; none is in the inventory" },
};

/* Split "phone,tablet*" into holders (strings point into *store, which the caller frees). */
static size_t make_holders(const char *spec, struct policy_holder *out, char **store)
{
	size_t n = 0;
	char *s, *p;

	*store = s = strdup(spec);
	assert_non_null(s);
	while (*s && n < POLICY_MAX_HOLDERS) {
		p = strchr(s, ',');
		if (p)
			*p = '\0';
		out[n].state = BIND_ACTIVE;
		if (s[0] && s[strlen(s) - 1] == '*') {
			s[strlen(s) - 1] = '\0';
			out[n].state = BIND_PENDING;
		}
		out[n++].device = s;
		if (!p)
			break;
		s = p + 1;
	}
	return n;
}

static void joined_warnings(const struct transfer_plan *plan, struct buf *out)
{
	for (size_t i = 0; i < plan->nwarnings; i++) {
		if (i)
			buf_addch(out, '|');
		buf_addstr(out, plan->warnings[i]);
	}
}

static void run_case(const struct pcase *c)
{
	struct policy_holder holders[POLICY_MAX_HOLDERS];
	struct transfer_req req = { 0 };
	struct transfer_plan plan;
	struct carrier_policy unknown;
	struct esim_err err = { 0 };
	struct buf w = BUF_INIT;
	char *store;
	int ret;

	if (c->custom) {
		req.carrier = c->custom;
		req.carrier_name = c->custom->name;
	} else if (c->carrier) {
		req.carrier = carrier_find(NULL, c->carrier);
		req.carrier_name = c->carrier;
		if (!req.carrier)
			fail_msg("%s: no carrier %s", c->label, c->carrier);
	} else {
		req.carrier = policy_unknown_carrier(NULL, &unknown);
		req.carrier_unknown = 1;
		req.carrier_name = "Foo Mobile";
	}
	req.plan = c->plan;
	req.nholders = make_holders(c->holders, holders, &store);
	req.holders = holders;
	req.from = c->from;
	req.to = c->to;
	req.to_kind = c->kind;
	req.inventory_has_phone = c->has_phone;
	req.has_primary_phone = c->has_phone;
	req.ever_bound = c->ever_bound;
	req.last_transfer = c->ago == NEVER ? TIME_NONE : NOW - c->ago;
	req.now = NOW;

	memset(&plan, 0x5a, sizeof(plan)); /* transfer_decide must fill every field */
	ret = transfer_decide(&req, &plan, &err);
	joined_warnings(&plan, &w);

	if (plan.action != c->action)
		fail_msg("%s: action %d, want %d (%s)", c->label, plan.action, c->action, plan.reason);
	if (plan.status != c->status)
		fail_msg("%s: status %d, want %d", c->label, plan.status, c->status);
	if (c->reason && strcmp(plan.reason, c->reason) != 0)
		fail_msg("%s: reason\n got: %s\nwant: %s", c->label, plan.reason, c->reason);
	if (c->summary && strcmp(plan.summary, c->summary) != 0)
		fail_msg("%s: summary\n got: %s\nwant: %s", c->label, plan.summary, c->summary);
	if (strcmp(w.buf, c->warnings) != 0)
		fail_msg("%s: warnings\n got: %s\nwant: %s", c->label, w.buf, c->warnings);
	if (c->action == PLAN_REFUSE) {
		assert_int_equal(ret, -1);
		assert_int_equal(err.status, c->status);
		assert_string_equal(err.msg, plan.reason);
	} else {
		assert_int_equal(ret, 0);
		assert_int_equal(err.status, ESIM_OK);        /* untouched */
		assert_string_equal(err.msg, "");
		if (c->action != PLAN_NOOP)
			assert_string_equal(plan.reason, "");
	}
	if (c->action == PLAN_SWAP)
		assert_string_equal(plan.release_from, c->from);
	else if (c->action != PLAN_MOVE)
		assert_null(plan.release_from);
	if (c->action != PLAN_MOVE) {
		assert_int_equal(plan.ready_min, TIME_NONE);
		assert_int_equal(plan.ready_max, TIME_NONE);
		assert_int_equal(plan.cooldown_until, TIME_NONE);
	}
	if (!(c->action == PLAN_REFUSE && c->status == ESIM_E_POLICY))
		assert_int_equal(plan.earliest, TIME_NONE);
	buf_release(&w);
	free(store);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* The figures of a move, and the cooldown boundary seen through plan fields. */
static void decide(const char *carrier, const char *holder, int64_t last, int64_t now,
		   struct transfer_plan *plan, struct esim_err *err, int *ret)
{
	struct policy_holder h = { holder, BIND_ACTIVE };
	struct transfer_req req = { 0 };

	req.carrier = carrier ? carrier_find(NULL, carrier) : carrier_default();
	req.carrier_unknown = carrier == NULL;
	req.carrier_name = carrier ? carrier : "Foo";
	req.holders = holder ? &h : NULL;
	req.nholders = holder ? 1 : 0;
	req.to = "tablet";
	req.to_kind = DEV_TABLET;
	req.plan = PLAN_DATA_ONLY;
	req.inventory_has_phone = 1;
	req.ever_bound = 1;
	req.last_transfer = last;
	req.now = now;
	*ret = transfer_decide(&req, plan, err);
}

static void test_move_figures(void **state)
{
	struct transfer_plan plan;
	struct esim_err err = { 0 };
	int ret;

	(void)state;
	decide("AT&T", "phone", 0, NOW, &plan, &err, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(plan.action, PLAN_MOVE);
	assert_string_equal(plan.release_from, "phone");
	assert_int_equal(plan.ready_min, NOW + 10 * MIN);
	assert_int_equal(plan.ready_max, NOW + 15 * MIN);
	assert_int_equal(plan.gap_min_s, 10 * MIN);
	assert_int_equal(plan.gap_max_s, 15 * MIN);
	assert_int_equal(plan.transfer_time_known, 1);
	assert_int_equal(plan.cooldown_until, NOW + DAY);
	assert_int_equal(plan.earliest, TIME_NONE);

	decide("Verizon", "phone", NOW - 1, NOW, &plan, &err, &ret);
	assert_int_equal(plan.action, PLAN_MOVE);
	assert_int_equal(plan.ready_min, NOW + 5 * MIN);
	assert_int_equal(plan.ready_max, NOW + 10 * MIN);
	assert_int_equal(plan.cooldown_until, TIME_NONE);  /* no cooldown */

	decide(NULL, "phone", NOW - 1, NOW, &plan, &err, &ret);
	assert_int_equal(plan.action, PLAN_MOVE);
	assert_int_equal(plan.transfer_time_known, 0);
	assert_int_equal(plan.ready_min, NOW + POLICY_UNKNOWN_TRANSFER_S);
	assert_int_equal(plan.ready_max, NOW + POLICY_UNKNOWN_TRANSFER_S);
	assert_int_equal(plan.gap_min_s, POLICY_UNKNOWN_TRANSFER_S);
	assert_int_equal(plan.gap_max_s, POLICY_UNKNOWN_TRANSFER_S);
	assert_int_equal(plan.cooldown_until, TIME_NONE);  /* unknown cooldown */
}

static void test_cooldown_boundaries(void **state)
{
	static const struct {
		const char *carrier;
		int cooldown;
	} seq[] = { { "AT&T", DAY }, { "EE", 12 * HOUR }, { "Singtel", 6 * HOUR }, { "Etisalat", DAY } };
	struct transfer_plan plan;
	struct esim_err err = { 0 };
	int ret;

	(void)state;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int64_t last = NOW - 5 * DAY;
		int64_t end = last + seq[i].cooldown;

		decide(seq[i].carrier, "phone", last, end - 1, &plan, &err, &ret);
		assert_int_equal(ret, -1);
		assert_int_equal(plan.action, PLAN_REFUSE);
		assert_int_equal(plan.status, ESIM_E_POLICY);
		assert_int_equal(err.status, ESIM_E_POLICY);
		assert_int_equal(plan.earliest, end);
		assert_non_null(strstr(plan.reason, "(in 1s)"));

		decide(seq[i].carrier, "phone", last, end, &plan, &err, &ret);
		assert_int_equal(ret, 0);
		assert_int_equal(plan.action, PLAN_MOVE);
		assert_int_equal(plan.earliest, TIME_NONE);
		assert_int_equal(plan.cooldown_until, end + seq[i].cooldown);

		decide(seq[i].carrier, "phone", last, last + 1, &plan, &err, &ret);
		assert_int_equal(plan.action, PLAN_REFUSE);
		assert_int_equal(plan.earliest, end);

		/* just after the transfer itself: still the same earliest time */
		decide(seq[i].carrier, "phone", last, last, &plan, &err, &ret);
		assert_int_equal(plan.earliest, end);
	}
}

static void test_policy_next_transfer(void **state)
{
	static const struct {
		const char *carrier;         /* NULL: no policy at all */
		int64_t last, now, want;
	} nt[] = {
		{ "AT&T", TIME_NONE, NOW, TIME_NONE },            /* never transferred */
		{ "AT&T", NOW - DAY + 1, NOW, NOW + 1 },          /* one second to go */
		{ "AT&T", NOW - DAY, NOW, TIME_NONE },                    /* exactly at the end */
		{ "AT&T", NOW - DAY - 1, NOW, TIME_NONE },
		{ "AT&T", NOW, NOW, NOW + DAY },                  /* just transferred */
		{ "AT&T", NOW + 10, NOW, NOW + 10 + DAY },        /* clock went back */
		{ "EE", NOW - HOUR, NOW, NOW + 11 * HOUR },
		{ "Singtel", NOW - HOUR, NOW, NOW + 5 * HOUR },
		{ "Verizon", NOW - 1, NOW, TIME_NONE },                   /* cooldown none */
		{ "Foo", NOW - 1, NOW, TIME_NONE },                       /* unknown: default, -1 */
		{ "T-Mobile", NOW - 1, NOW, TIME_NONE },                  /* concurrent */
		{ "China Mobile", NOW - 1, NOW, TIME_NONE },              /* single-device */
		{ NULL, NOW - 1, NOW, TIME_NONE },
		/* time 0 is a time: a transfer at 1970-01-01T00:00:00Z starts a cooldown */
		{ "AT&T", 0, HOUR, DAY },
		{ "AT&T", 0, 0, DAY },
		{ "AT&T", -HOUR, 0, DAY - HOUR },
		{ "AT&T", 0, DAY, TIME_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(nt) / sizeof(nt[0]); i++) {
		const struct carrier_policy *c = NULL;
		int64_t got;

		if (nt[i].carrier) {
			c = carrier_find(NULL, nt[i].carrier);
			if (!c)
				c = carrier_default();
		}
		got = policy_next_transfer(c, nt[i].last, nt[i].now);
		if (got != nt[i].want)
			fail_msg("case %zu (%s): got %lld, want %lld", i, nt[i].carrier ? nt[i].carrier : "NULL",
				 (long long)got, (long long)nt[i].want);
	}
	/* no overflow near the end of time */
	{
		struct carrier_policy c = *carrier_find(NULL, "AT&T");

		assert_int_equal(policy_next_transfer(&c, INT64_MAX - 5, NOW), INT64_MAX);
	}
}

/* Overridden carriers drive the engine like built-in ones. */
static void test_with_overrides(void **state)
{
	struct carrier_table *t = NULL;
	struct esim_err err = { 0 };
	struct transfer_plan plan;
	struct policy_holder h = { "phone", BIND_ACTIVE };
	struct transfer_req req = { 0 };

	(void)state;
	assert_int_equal(carrier_table_new(
		"{\"carriers\": [{\"name\": \"Free\", \"model\": \"sequential\", "
		"\"transfer_seconds\": [30, 45], \"cooldown_seconds\": 100, \"notes\": \"via the app\"},"
		"{\"name\": \"T-Mobile US\", \"max_devices\": 1}]}",
		"test.json", &t, &err), 0);
	req.carrier = carrier_find(t, "free");
	assert_non_null(req.carrier);
	req.carrier_name = "free";
	req.holders = &h;
	req.nholders = 1;
	req.to = "tablet";
	req.to_kind = DEV_TABLET;
	req.plan = PLAN_DATA_ONLY;
	req.inventory_has_phone = 1;
	req.ever_bound = 1;
	req.last_transfer = NOW - 99;
	req.now = NOW;
	assert_int_equal(transfer_decide(&req, &plan, &err), -1);
	assert_string_equal(plan.reason, "Free allows one transfer every 100 s; the next one is "
			    "possible at 2026-11-21T10:00:01Z (in 1s)");
	req.last_transfer = NOW - 100;
	assert_int_equal(transfer_decide(&req, &plan, &err), 0);
	assert_int_equal(plan.action, PLAN_MOVE);
	assert_int_equal(plan.ready_max, NOW + 45);
	assert_string_equal(plan.warnings[0], "Free: via the app");

	req.carrier = carrier_find(t, "T-Mobile");
	req.carrier_name = "T-Mobile";
	assert_int_equal(transfer_decide(&req, &plan, &err), -1);
	assert_string_equal(err.msg, "T-Mobile allows 1 device at once; profile is already on phone");
	assert_string_equal(err.hint, "move it from one of those devices with --from DEVICE, or release "
			    "it from one of them first");

	req.carrier = carrier_find(t, "China Mobile");
	req.carrier_name = "CMCC";
	assert_int_equal(transfer_decide(&req, &plan, &err), -1);
	assert_string_equal(err.hint, "the profile itself cannot be moved; ask China Mobile for a new one");
	carrier_table_free(t);
}

/* Long names and many holders are cut with "...", never overflowing. */
static void test_long_text(void **state)
{
	struct policy_holder h[POLICY_MAX_HOLDERS];
	char names[POLICY_MAX_HOLDERS][65];
	char longname[200];
	struct transfer_req req = { 0 };
	struct transfer_plan plan;
	struct esim_err err = { 0 };
	size_t len;

	(void)state;
	for (size_t i = 0; i < POLICY_MAX_HOLDERS; i++) {
		memset(names[i], 'a' + (int)i, 64);
		names[i][64] = '\0';
		h[i].device = names[i];
		h[i].state = BIND_ACTIVE;
	}
	req.carrier = carrier_find(NULL, "T-Mobile");
	req.carrier_name = "T-Mobile";
	req.holders = h;
	req.nholders = POLICY_MAX_HOLDERS;
	req.to = "phone";
	req.now = NOW;
	assert_int_equal(transfer_decide(&req, &plan, &err), -1);
	len = strlen(plan.reason);
	assert_int_equal(len, sizeof(plan.reason) - 1);
	assert_string_equal(plan.reason + len - 3, "...");
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);

	/* a long unknown carrier name: the warning is cut, not dropped */
	memset(longname, 'z', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	req.carrier = carrier_default();
	req.carrier_unknown = 1;
	req.carrier_name = longname;
	req.nholders = 0;
	assert_int_equal(transfer_decide(&req, &plan, &err), 0);
	assert_true(plan.nwarnings >= 1);
	assert_int_equal(strlen(plan.warnings[0]), sizeof(plan.warnings[0]) - 1);
	assert_string_equal(plan.warnings[0] + sizeof(plan.warnings[0]) - 4, "...");
}

/* An unknown carrier gets the strictest sequential row of the effective table. */
static void test_unknown_default(void **state)
{
	static const struct {
		const char *overrides;      /* NULL: the built-in table */
		int cooldown_s, tmin, tmax;
	} t[] = {
		{ NULL, DAY, 20 * MIN, 30 * MIN },
		/* a stricter row raises it; a laxer override of the strictest does not lower it
		 * below the next one (Etisalat still has 24 h) */
		{ "{\"carriers\":[{\"name\":\"Slow\",\"model\":\"sequential\","
		  "\"transfer_minutes\":[40,90],\"cooldown_hours\":72}]}", 3 * DAY, 40 * MIN, 90 * MIN },
		{ "{\"carriers\":[{\"name\":\"AT&T\",\"cooldown_hours\":1}]}", DAY, 20 * MIN, 30 * MIN },
		/* a concurrent row is not a sequential behaviour */
		{ "{\"carriers\":[{\"name\":\"Wide\",\"model\":\"concurrent\",\"max_devices\":9}]}",
		  DAY, 20 * MIN, 30 * MIN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct carrier_table *tab = NULL;
		struct esim_err err = { 0 };
		struct carrier_policy d;

		if (t[i].overrides)
			assert_int_equal(carrier_table_new(t[i].overrides, "c.json", &tab, &err), 0);
		assert_ptr_equal(policy_unknown_carrier(tab, &d), &d);
		assert_int_equal(d.model, MODEL_SEQUENTIAL);
		assert_int_equal(d.max_devices, 1);
		assert_true(d.is_default);
		assert_int_equal(d.cooldown_s, t[i].cooldown_s);
		assert_int_equal(d.transfer_min_s, t[i].tmin);
		assert_int_equal(d.transfer_max_s, t[i].tmax);
		carrier_table_free(tab);
	}
}

static void test_bad_requests(void **state)
{
	struct transfer_req req = { 0 };
	struct transfer_plan plan;
	struct esim_err err = { 0 };

	(void)state;
	req.carrier = NULL;                 /* treated as the default */
	req.last_transfer = TIME_NONE;      /* never transferred: no cooldown in the way */
	req.to = NULL;
	assert_int_equal(transfer_decide(&req, &plan, &err), -1);
	assert_int_equal(plan.status, ESIM_E_USAGE);
	assert_int_equal(err.status, ESIM_E_USAGE);
	req.to = "";
	assert_int_equal(transfer_decide(&req, &plan, NULL), -1);
	{
		struct policy_holder two[2] = { { "a", BIND_ACTIVE }, { "b", BIND_ACTIVE } };

		req.to = "c";
		req.holders = two;
		req.nholders = 2;
		assert_int_equal(transfer_decide(&req, &plan, &err), -1);
		assert_int_equal(err.status, ESIM_E_USAGE);
		assert_string_equal(err.hint, "add --from DEVICE");
		assert_int_equal(plan.nwarnings, 0);
		req.holders = NULL;
		req.nholders = 0;
	}
	req.to = "phone";
	req.carrier_name = "Foo";
	assert_int_equal(transfer_decide(&req, &plan, &err), 0);
	assert_int_equal(plan.action, PLAN_PLACE);
	assert_non_null(strstr(plan.warnings[0], "carrier 'Foo' is not in the table"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_move_figures),
		cmocka_unit_test(test_cooldown_boundaries),
		cmocka_unit_test(test_policy_next_transfer),
		cmocka_unit_test(test_with_overrides),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_unknown_default),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
