/*
 * policy.h - the transfer rules engine (pure: no clock, no I/O, no globals).
 *
 * transfer_decide() turns a request (profile, carrier policy, where the profile lives,
 * the target device, now) into a plan or a refusal, with every reason spelled out.
 * The CLI applies the plan to the store; --dry-run prints it.
 */
#ifndef ESIMCTL_POLICY_H
#define ESIMCTL_POLICY_H

#include <stdint.h>
#include "esimctl/carrier.h"
#include "esimctl/error.h"
#include "esimctl/model.h"

#define POLICY_MAX_WARNINGS 8
#define POLICY_MAX_HOLDERS 16
/* Estimate used when the carrier's transfer time is unknown. */
#define POLICY_UNKNOWN_TRANSFER_S (30 * 60)

struct policy_holder {        /* a device currently holding the profile */
	const char *device;
	enum binding_state state; /* BIND_ACTIVE or BIND_PENDING */
};

struct transfer_req {
	const struct carrier_policy *carrier; /* never NULL: carrier_default() for unknown */
	int carrier_unknown;                  /* the carrier was not in the table */
	const char *carrier_name;             /* as the user wrote it (for messages) */
	enum plan_type plan;
	const struct policy_holder *holders;  /* live bindings of the profile */
	size_t nholders;
	const char *from;                     /* --from, or NULL */
	const char *to;                       /* target device name */
	enum device_kind to_kind;
	int inventory_has_phone;
	int has_primary_phone;                /* a phone marked --primary (voice may route through it) */
	int ever_bound;                       /* the profile was ever on a device */
	int64_t last_transfer;                /* TIME_NONE = never */
	int64_t now;
};

enum plan_action {
	PLAN_REFUSE,       /* see status + reason */
	PLAN_NOOP,         /* already on the target; nothing to do (exit 0) */
	PLAN_PLACE,        /* first placement: active binding on the target */
	PLAN_ADD_CONCURRENT, /* concurrent: extra active binding on the target */
	PLAN_MOVE,         /* sequential: release source, pending binding on target */
	PLAN_SWAP,         /* concurrent, --from: release source, active binding on target */
};

struct transfer_plan {
	enum plan_action action;
	enum esim_status status;  /* ESIM_OK, or ESIM_E_POLICY / ESIM_E_USAGE / ESIM_E_NOTFOUND */
	char reason[512];         /* refusal (or noop) explanation; empty otherwise */
	char summary[512];        /* one line describing what will happen */
	const char *release_from; /* PLAN_MOVE, PLAN_SWAP: the source device (points into req) */
	int64_t ready_min;        /* PLAN_MOVE: earliest / latest ready time, else TIME_NONE */
	int64_t ready_max;        /*   ready_at stored = ready_max */
	int gap_min_s, gap_max_s; /* expected connectivity gap (PLAN_MOVE) */
	int transfer_time_known;
	int64_t earliest;         /* cooldown refusal: first allowed time; else TIME_NONE */
	int64_t cooldown_until;   /* after this transfer, next allowed time (TIME_NONE = none) */
	char warnings[POLICY_MAX_WARNINGS][384];
	size_t nwarnings;
};

/* Always fills plan; returns 0 when the plan is doable, -1 (with err) when refused. */
int transfer_decide(const struct transfer_req *req, struct transfer_plan *plan,
		    struct esim_err *err);

/*
 * When may this profile next be transferred?  TIME_NONE = now or no cooldown.  Used by `list`.
 */
int64_t policy_next_transfer(const struct carrier_policy *c, int64_t last_transfer, int64_t now);

/*
 * The conservative policy for a carrier that t (NULL: the built-in table) does not know:
 * the strictest sequential behaviour in t, so an unknown carrier is never allowed what
 * a known one would refuse: one device, the longest cooldown and the longest transfer
 * time of t's sequential rows (24 h and 20-30 min with the built-in table).  A field no
 * sequential row knows stays unknown (-1).  Fills *out (is_default set) and returns it.
 */
const struct carrier_policy *policy_unknown_carrier(const struct carrier_table *t,
						   struct carrier_policy *out);

#endif
