/* test_plan.c - the binding state machine (src/core/plan.c), as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/buf.h"
#include "esimctl/plan.h"

#define NOW INT64_C(1795255200) /* 2026-11-21T10:00:00Z */
#define PID "0d34e856"
#define OTHER "56e0c4f1"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Bindings as text, in store order: "device=state" with "+N" after a pending state for
 * ready_at = NOW + N ("+0": ready_at 0, awaiting a new activation code; "-N": in the
 * past) and "@N" for since = NOW + N when it is not NOW - 3600 (the fixtures' default).
 * A binding of the other profile is written "other:device=state".
 */
static void parse_bindings(struct store *s, const char *spec)
{
	char *copy = strdup(spec), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct binding b;
		char *eq = strchr(tok, '='), *plus, *at;
		const char *profile = PID;

		memset(&b, 0, sizeof(b));
		b.ready_at = b.released_at = TIME_NONE;
		if (!strncmp(tok, "other:", 6)) {
			profile = OTHER;
			tok += 6;
		}
		assert_non_null(eq);
		*eq++ = '\0';
		if ((at = strchr(eq, '@')) != NULL) {
			*at++ = '\0';
			b.since = NOW + strtoll(at, NULL, 10);
		} else {
			b.since = NOW - 3600;
		}
		plus = strpbrk(eq, "+-");
		if (plus) {
			b.ready_at = strtoll(plus, NULL, 10);
			b.ready_at = *plus == '+' && b.ready_at == 0 ? TIME_NONE : NOW + b.ready_at;
			*plus = '\0';
		}
		assert_int_equal(binding_state_parse(eq, &b.state), 0);
		if (b.state == BIND_RELEASED)
			b.released_at = NOW - 60;
		b.profile = strdup(profile);
		b.device = strdup(tok);
		model_add_binding(s, &b);
	}
	free(copy);
}

/* The bindings back as text, in the format above (released_at shown as "!N" when NOW + N). */
static void format_bindings(const struct store *s, struct buf *out)
{
	for (size_t i = 0; i < s->nbindings; i++) {
		const struct binding *b = &s->bindings[i];

		buf_addf(out, "%s%s%s=%s", i ? "," : "", strcmp(b->profile, PID) ? "other:" : "",
			 b->device, binding_state_name(b->state));
		if (b->state == BIND_PENDING)
			buf_addf(out, "%+lld", b->ready_at != TIME_NONE ? (long long)(b->ready_at - NOW) : 0LL);
		if (b->since != NOW - 3600)
			buf_addf(out, "@%lld", (long long)(b->since - NOW));
		if (b->state == BIND_RELEASED && b->released_at != NOW - 60)
			buf_addf(out, "!%lld", (long long)(b->released_at - NOW));
	}
}

static struct store *fixture(const char *bindings, struct profile **p)
{
	static const char *const names[] = { "phone", "tablet", "watch", "card" };
	struct store *s = model_new();
	struct profile np;

	for (size_t i = 0; i < NELEM(names); i++) {
		struct device d;

		memset(&d, 0, sizeof(d));
		d.name = strdup(names[i]);
		d.kind = DEV_PHONE;
		/* "card" has an eUICC: it can only get a profile by a new download */
		d.euicc = !strcmp(names[i], "card") ? strdup("soft:/nonexistent") : NULL;
		d.created = NOW - 7200;
		model_add_device(s, &d);
	}
	memset(&np, 0, sizeof(np));
	memcpy(np.id, PID, sizeof(PID));
	np.carrier = strdup("AT&T");
	np.created = NOW - 7200;
	np.last_transfer = NOW - 86400 * 2;
	*p = model_add_profile(s, &np);
	memset(&np, 0, sizeof(np));
	memcpy(np.id, OTHER, sizeof(OTHER));
	np.carrier = strdup("T-Mobile");
	np.created = NOW - 7200;
	np.last_transfer = TIME_NONE;
	model_add_profile(s, &np);
	*p = model_profile_by_id(s, PID);
	parse_bindings(s, bindings);
	return s;
}

/* The last history entry as "op from>to outcome". */
static void last_history(const struct store *s, struct buf *out)
{
	const struct history_entry *h;

	if (!s->nhistory)
		return;
	h = &s->history[s->nhistory - 1];
	buf_addf(out, "%s %s>%s %s", h->op, h->from ? h->from : "-", h->to ? h->to : "-", h->outcome);
}

/* ---- plan_apply ---- */

struct apply_case {
	const char *label;
	const char *before;
	enum plan_action action;
	const char *from;          /* plan->release_from */
	int64_t ready_in;          /* PLAN_MOVE: ready_max - NOW */
	const char *to;
	int ever_bound;
	int rc;
	enum esim_status status;   /* when rc is -1 */
	const char *after;         /* bindings; NULL: unchanged */
	int cooldown_started;      /* last_transfer set to NOW */
	const char *history;       /* last history entry, "" for none added */
};

static const struct apply_case apply_cases[] = {
	{ "first placement", "", PLAN_PLACE, NULL, 0, "phone", 0, 0, ESIM_OK,
	  "phone=active@0", 0, "transfer ->phone active" },
	{ "re-placing a released profile starts a cooldown", "phone=released", PLAN_PLACE, NULL, 0,
	  "tablet", 1, 0, ESIM_OK, "phone=released,tablet=active@0", 1, "transfer ->tablet active" },
	{ "concurrent: another active device", "phone=active", PLAN_ADD_CONCURRENT, NULL, 0, "watch",
	  1, 0, ESIM_OK, "phone=active,watch=active@0", 1, "transfer ->watch active" },
	{ "sequential move: released, pending until ready", "phone=active", PLAN_MOVE, "phone", 900,
	  "tablet", 1, 0, ESIM_OK, "phone=released!0,tablet=pending+900@0", 1,
	  "transfer phone>tablet pending" },
	{ "move from a pending binding", "phone=released,tablet=pending+300", PLAN_MOVE, "tablet", 600,
	  "watch", 1, 0, ESIM_OK, "phone=released,tablet=released!0,watch=pending+600@0", 1,
	  "transfer tablet>watch pending" },
	{ "concurrent swap at the limit", "phone=active,tablet=active,watch=active", PLAN_SWAP, "phone",
	  0, "card", 1, 0, ESIM_OK,
	  /* card has an eUICC: pending until the new code is downloaded */
	  "phone=released!0,tablet=active,watch=active,card=pending+0@0", 1,
	  "transfer phone>card active" },
	{ "swap to a device without an eUICC: active at once", "phone=active,other:tablet=active",
	  PLAN_SWAP, "phone", 0, "watch", 1, 0, ESIM_OK,
	  "phone=released!0,other:tablet=active,watch=active@0", 1, "transfer phone>watch active" },
	{ "an eUICC cannot hand a profile to another: move waits for a code", "phone=active",
	  PLAN_MOVE, "phone", 900, "card", 1, 0, ESIM_OK, "phone=released!0,card=pending+0@0", 1,
	  "transfer phone>card pending" },
	{ "placing on an eUICC waits for a code", "", PLAN_PLACE, NULL, 0, "card", 0, 0, ESIM_OK,
	  "card=pending+0@0", 0, "transfer ->card active" },
	{ "nothing to do", "phone=active", PLAN_NOOP, NULL, 0, "phone", 1, 0, ESIM_OK, NULL, 0, "" },
	{ "a refused plan changes nothing", "phone=active", PLAN_REFUSE, NULL, 0, "tablet", 1, -1,
	  ESIM_E_POLICY, NULL, 0, "" },
	{ "source does not hold it", "phone=active", PLAN_MOVE, "watch", 900, "tablet", 1, -1,
	  ESIM_E_NOTFOUND, NULL, 0, "" },
	{ "source only held it before", "watch=released,phone=active", PLAN_SWAP, "watch", 0, "tablet",
	  1, -1, ESIM_E_NOTFOUND, NULL, 0, "" },
	{ "the other profile's binding is not a source", "other:watch=active,phone=active", PLAN_MOVE,
	  "watch", 900, "tablet", 1, -1, ESIM_E_NOTFOUND, NULL, 0, "" },
	{ "target already holds it", "phone=active,tablet=pending+60", PLAN_MOVE, "phone", 900,
	  "tablet", 1, -1, ESIM_E_USAGE, NULL, 0, "" },
};

static void test_plan_apply(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(apply_cases); i++) {
		const struct apply_case *c = &apply_cases[i];
		struct transfer_plan plan;
		struct esim_err err = { 0 };
		struct buf got = BUF_INIT, hist = BUF_INIT;
		struct profile *p;
		struct store *s = fixture(c->before, &p);
		int64_t last = p->last_transfer;
		size_t nhist = s->nhistory;
		int rc;

		memset(&plan, 0, sizeof(plan));
		plan.action = c->action;
		plan.status = c->action == PLAN_REFUSE ? ESIM_E_POLICY : ESIM_OK;
		plan.release_from = c->from;
		plan.ready_max = c->ready_in ? NOW + c->ready_in : TIME_NONE;
		snprintf(plan.summary, sizeof(plan.summary), "case %zu", i);
		rc = plan_apply(s, p, &plan, model_device(s, c->to), c->ever_bound, NOW, &err);
		format_bindings(s, &got);
		if (s->nhistory > nhist)
			last_history(s, &hist);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (%s)", c->label, rc, c->rc, err.msg);
		if (rc < 0 && err.status != c->status)
			fail_msg("%s: status %d, want %d", c->label, err.status, c->status);
		if (strcmp(got.buf, c->after ? c->after : c->before))
			fail_msg("%s: bindings\n got: %s\nwant: %s", c->label, got.buf,
				 c->after ? c->after : c->before);
		if (strcmp(hist.buf, c->history))
			fail_msg("%s: history '%s', want '%s'", c->label, hist.buf, c->history);
		if ((p->last_transfer == NOW) != c->cooldown_started ||
		    (!c->cooldown_started && p->last_transfer != last))
			fail_msg("%s: last_transfer moved wrongly", c->label);
		buf_release(&got);
		buf_release(&hist);
		model_free(s);
	}
}

/* ---- binding_promote, binding_release, binding_complete_awaiting ---- */

struct step_case {
	const char *label;
	const char *before;
	char op;                   /* 'p' promote, 'r' release, 'c' complete awaiting */
	const char *device;        /* r, c */
	int result;                /* p, c: count; r: rc */
	const char *after;
	const char *history;
};

static const struct step_case step_cases[] = {
	{ "ready time passed: active since then", "phone=released,tablet=pending-60", 'p', NULL, 1,
	  "phone=released,tablet=active@-60", "ready ->tablet active" },
	{ "ready exactly now", "tablet=pending+0,watch=pending-0", 'p', NULL, 1,
	  "tablet=pending+0,watch=active@0", "ready ->watch active" },
	{ "not yet ready", "tablet=pending+1", 'p', NULL, 0, "tablet=pending+1", "" },
	{ "awaiting a code is never promoted", "card=pending+0", 'p', NULL, 0, "card=pending+0", "" },
	{ "several at once", "tablet=pending-5,other:watch=pending-9,phone=active", 'p', NULL, 2,
	  "tablet=active@-5,other:watch=active@-9,phone=active", "ready ->watch active" },
	{ "release an active binding", "phone=active,tablet=active", 'r', "tablet", 0,
	  "phone=active,tablet=released!0", "release tablet>- ok" },
	{ "release a pending binding", "phone=released,tablet=pending+600", 'r', "tablet", 0,
	  "phone=released,tablet=released!0", "release tablet>- ok" },
	{ "released twice: not found", "phone=released", 'r', "phone", -1, "phone=released", "" },
	{ "never there: not found", "phone=active", 'r', "watch", -1, "phone=active", "" },
	{ "only the other profile there", "other:watch=active", 'r', "watch", -1,
	  "other:watch=active", "" },
	{ "a download completes the transfers awaiting a code there",
	  "phone=released,card=pending+0,other:card=pending+0,other:tablet=pending+0", 'c', "card", 2,
	  "phone=released,card=released!0,other:card=released!0,other:tablet=pending+0",
	  "transfer-complete ->card ok" },
	{ "a timed pending binding is not awaiting a code", "card=pending+60", 'c', "card", 0,
	  "card=pending+60", "" },
};

static void test_steps(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(step_cases); i++) {
		const struct step_case *c = &step_cases[i];
		struct esim_err err = { 0 };
		struct buf got = BUF_INIT, hist = BUF_INIT;
		struct profile *p;
		struct store *s = fixture(c->before, &p);
		size_t nhist = s->nhistory;
		int result = 0;

		if (c->op == 'p') {
			result = (int)binding_promote(s, NOW);
		} else if (c->op == 'r') {
			result = binding_release(s, PID, c->device, NOW, "lost", &err);
			if (result < 0)
				assert_int_equal(err.status, ESIM_E_NOTFOUND);
			else
				assert_string_equal(s->history[s->nhistory - 1].detail, "lost");
		} else {
			const char **ids = NULL;

			result = (int)binding_complete_awaiting(s, c->device, NOW, &ids);
			for (int k = 0; k < result; k++)
				assert_non_null(model_profile_by_id(s, ids[k]));
			free(ids);
		}
		format_bindings(s, &got);
		if (s->nhistory > nhist)
			last_history(s, &hist);
		if (result != c->result)
			fail_msg("%s: result %d, want %d", c->label, result, c->result);
		if (strcmp(got.buf, c->after))
			fail_msg("%s: bindings\n got: %s\nwant: %s", c->label, got.buf, c->after);
		if (strcmp(hist.buf, c->history))
			fail_msg("%s: history '%s', want '%s'", c->label, hist.buf, c->history);
		buf_release(&got);
		buf_release(&hist);
		model_free(s);
	}
}

/* binding_place(): what `add --device` records. */
static void test_place(void **state)
{
	struct profile *p;
	struct store *s = fixture("phone=released", &p);
	struct buf got = BUF_INIT;

	(void)state;
	binding_place(s, PID, "watch", NOW);
	format_bindings(s, &got);
	assert_string_equal(got.buf, "phone=released,watch=active@0");
	assert_int_equal(p->last_transfer, NOW - 86400 * 2);
	buf_release(&got);
	model_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_apply),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
