/*
 * plan.h - the binding state machine: applying decisions to the model (pure: no clock,
 * no I/O; the caller passes `now`).
 *
 * A binding says that a profile is (or was) on a device:
 *
 *	        plan_apply (move)                  ready_at <= now: binding_promote()
 *	   ───────────────────────► pending ─────────────────────────────► active
 *	   plan_apply (place/add/swap) ─────────────────────────────────► active
 *	   pending | active ── binding_release(), plan_apply (move/swap: the source) ──► released
 *
 * Released bindings are never changed again: they are the record that the profile was on
 * a device, which single-device carriers and cooldowns depend on.  A pending binding with
 * no ready_at (TIME_NONE) waits for a new activation code: SGP.22 has no way for one eUICC to hand a
 * profile to another, so a target with an eUICC gets it only by a new download
 * (binding_complete_awaiting() settles it when that download is recorded).
 *
 * Every function changes the store it is given in place and records what it did in the
 * history; on an error (-1 with err) the store is unchanged.  Commands call these and
 * never write binding fields (state, since, ready_at, released_at, last_transfer)
 * themselves.
 */
#ifndef ESIMCTL_PLAN_H
#define ESIMCTL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/error.h"
#include "esimctl/model.h"
#include "esimctl/policy.h"

/*
 * Pending bindings whose ready time has passed become active as of that time (history
 * "ready").  Returns how many changed.
 */
size_t binding_promote(struct store *s, int64_t now);

/*
 * End the live binding of a profile on a device: released at `now`, history "release"
 * with `detail` (the reason, or NULL).  Not live there: ESIM_E_NOTFOUND.
 */
int binding_release(struct store *s, const char *profile, const char *device, int64_t now,
		    const char *detail, struct esim_err *err);

/* Record a profile as active on a device from `now` (a new profile installed there). */
void binding_place(struct store *s, const char *profile, const char *device, int64_t now);

/*
 * A profile was downloaded to `device`: transfers there that waited for a new activation
 * code are complete.  Their bindings are released (the new download has its own) with
 * history "transfer-complete".  Returns how many; *profiles (when not NULL) gets the
 * profile ids, borrowed from the store, in a new array the caller frees.
 */
size_t binding_complete_awaiting(struct store *s, const char *device, int64_t now,
				 const char ***profiles);

/* 1 when carrying out the plan to `to` needs a new activation code (see above). */
int plan_needs_new_code(const struct transfer_plan *plan, const struct device *to);

/*
 * Carry out a plan that transfer_decide() made for profile p (in s) and target `to`:
 *   PLAN_PLACE, PLAN_ADD_CONCURRENT: a new binding on `to`, active (pending awaiting a
 *     code on an eUICC);
 *   PLAN_SWAP: the binding on plan->release_from released, a new active one on `to`;
 *   PLAN_MOVE: the source released, a pending binding on `to` ready at plan->ready_max;
 *   PLAN_NOOP: nothing.
 * A transfer starts the carrier's cooldown (p->last_transfer = now), and so does
 * re-placing a profile that was on a device before (`ever_bound`).  History "transfer".
 * PLAN_REFUSE, a source that does not hold the profile or a target that already does:
 * -1 with err, nothing changed.
 */
int plan_apply(struct store *s, struct profile *p, const struct transfer_plan *plan,
	       const struct device *to, int ever_bound, int64_t now, struct esim_err *err);

#endif
