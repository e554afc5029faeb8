/*
 * plan.c - the binding state machine (see plan.h).
 */
#include <stdlib.h>
#include <string.h>

#include "esimctl/plan.h"

size_t binding_promote(struct store *s, int64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nbindings; i++) {
		struct binding *b = &s->bindings[i];

		if (b->state == BIND_PENDING && b->ready_at != TIME_NONE && b->ready_at <= now) {
			b->state = BIND_ACTIVE;
			b->since = b->ready_at;
			model_add_history(s, b->ready_at, "ready", b->profile, NULL, b->device, "active",
					  "transfer completed (estimated ready time reached)");
			n++;
		}
	}
	return n;
}

/* The live binding of profile on device, or NULL. */
static struct binding *live_on(const struct store *s, const char *profile, const char *device)
{
	struct binding **v = NULL, *found = NULL;
	size_t n = model_live_bindings_of_profile(s, profile, &v);

	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(v[i]->device, device))
			found = v[i];
	free(v);
	return found;
}

static void release(struct binding *b, int64_t now)
{
	b->state = BIND_RELEASED;
	b->released_at = now;
}

int binding_release(struct store *s, const char *profile, const char *device, int64_t now,
		    const char *detail, struct esim_err *err)
{
	struct binding *b = live_on(s, profile, device);

	if (!b)
		return esim_fail(err, ESIM_E_NOTFOUND, "profile %s is not on device '%s'", profile,
				 device);
	release(b, now);
	model_add_history(s, now, "release", profile, device, NULL, "ok", detail);
	return 0;
}

static void add_binding(struct store *s, const char *profile, const char *device,
			enum binding_state state, int64_t now, int64_t ready_at)
{
	struct binding nb;

	memset(&nb, 0, sizeof(nb));
	nb.profile = model_strdup(s, profile);
	nb.device = model_strdup(s, device);
	nb.state = state;
	nb.since = now;
	nb.ready_at = ready_at;
	nb.released_at = TIME_NONE;
	model_add_binding(s, &nb);
}

void binding_place(struct store *s, const char *profile, const char *device, int64_t now)
{
	add_binding(s, profile, device, BIND_ACTIVE, now, TIME_NONE);
}

size_t binding_complete_awaiting(struct store *s, const char *device, int64_t now,
				 const char ***profiles)
{
	size_t n = 0;

	if (profiles)
		*profiles = NULL;
	for (size_t i = 0; i < s->nbindings; i++) {
		struct binding *b = &s->bindings[i];

		if (b->state != BIND_PENDING || b->ready_at != TIME_NONE || strcmp(b->device, device))
			continue;
		release(b, now);
		model_add_history(s, now, "transfer-complete", b->profile, NULL, device, "ok",
				  "completed by downloading a new profile");
		if (profiles) {
			*profiles = xrealloc(*profiles, (n + 1) * sizeof(**profiles));
			(*profiles)[n] = b->profile;
		}
		n++;
	}
	return n;
}

int plan_needs_new_code(const struct transfer_plan *plan, const struct device *to)
{
	return plan->action != PLAN_NOOP && plan->action != PLAN_REFUSE && to && to->euicc;
}

int plan_apply(struct store *s, struct profile *p, const struct transfer_plan *plan,
	       const struct device *to, int ever_bound, int64_t now, struct esim_err *err)
{
	int awaiting = plan_needs_new_code(plan, to);
	struct binding *src = NULL;
	const char *from = NULL;

	switch (plan->action) {
	case PLAN_REFUSE:
		return esim_fail(err, plan->status ? plan->status : ESIM_E_POLICY, "%s",
				 plan->reason[0] ? plan->reason : "transfer refused");
	case PLAN_NOOP:
		return 0;
	case PLAN_PLACE:
	case PLAN_ADD_CONCURRENT:
		break;
	case PLAN_SWAP:
	case PLAN_MOVE:
		from = plan->release_from;
		if (!from || !(src = live_on(s, p->id, from)))
			return esim_fail(err, ESIM_E_NOTFOUND, "profile %s is not on device '%s'", p->id,
					 from ? from : "(none)");
		break;
	}
	if (live_on(s, p->id, to->name))
		return esim_fail(err, ESIM_E_USAGE, "profile %s is already on device '%s'", p->id,
				 to->name);

	/* The source first: adding a binding may move the array src points into. */
	if (src)
		release(src, now);
	if (plan->action == PLAN_MOVE)
		/* no ready_at (TIME_NONE): waiting for the new activation code */
		add_binding(s, p->id, to->name, BIND_PENDING, now, awaiting ? TIME_NONE : plan->ready_max);
	else
		add_binding(s, p->id, to->name, awaiting ? BIND_PENDING : BIND_ACTIVE, now, TIME_NONE);

	/* Re-placing a released profile is a carrier transfer too: it starts a cooldown. */
	if (plan->action != PLAN_PLACE || ever_bound)
		p->last_transfer = now;
	model_add_history(s, now, "transfer", p->id, from, to->name,
			  plan->action == PLAN_MOVE ? "pending" : "active", plan->summary);
	return 0;
}
