/* transfer.c - esimctl transfer PROFILE --to D [--from D] [--dry-run [--at TIME]] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/rsp/lpa_glue.h"
#include "esimctl/plan.h"
#include "esimctl/policy.h"
#include "esimctl/store.h"
#include "esimctl/timeutil.h"

static const char *action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_REFUSE: return "refuse";
	case PLAN_NOOP: return "none";
	case PLAN_PLACE: return "place";
	case PLAN_ADD_CONCURRENT: return "add-concurrent";
	case PLAN_MOVE: return "move";
	case PLAN_SWAP: return "swap";
	}
	return "refuse";
}

static void report_plan(struct app *app, const struct store *s, const struct profile *p,
			const struct carrier_policy *c,
			const struct transfer_req *req, const struct transfer_plan *plan, int dry_run, int needs_code)
{
	char a[TIME_ISO_LEN], b[TIME_ISO_LEN];

	if (app->json) {
		cJSON *o = cJSON_AddObjectToObject(app->out, "plan");
		cJSON *w;

		cJSON_AddStringToObject(o, "action", action_name(plan->action));
		cJSON_AddStringToObject(o, "profile", model_profile_shown_id(s, p));
		json_str(o, "nickname", p->nickname);
		cJSON_AddStringToObject(o, "carrier", p->carrier);
		cJSON_AddBoolToObject(o, "carrier_known", !req->carrier_unknown);
		cJSON_AddStringToObject(o, "model", carrier_model_name(c->model));
		json_str(o, "from", plan->release_from ? plan->release_from : req->from);
		cJSON_AddStringToObject(o, "to", req->to);
		json_time(o, "at", req->now);
		json_str(o, "summary", plan->summary[0] ? plan->summary : NULL);
		json_str(o, "reason", plan->reason[0] ? plan->reason : NULL);
		if (plan->action == PLAN_MOVE) {
			json_time(o, "ready_min", plan->ready_min);
			json_time(o, "ready_max", plan->ready_max);
			cJSON_AddNumberToObject(o, "gap_min_s", plan->gap_min_s);
			cJSON_AddNumberToObject(o, "gap_max_s", plan->gap_max_s);
			cJSON_AddBoolToObject(o, "transfer_time_known", plan->transfer_time_known);
		}
		json_time(o, "earliest", plan->earliest);
		json_time(o, "cooldown_until", plan->cooldown_until);
		w = cJSON_AddArrayToObject(o, "warnings");
		for (size_t i = 0; i < plan->nwarnings; i++)
			cJSON_AddItemToArray(w, cJSON_CreateString(plan->warnings[i]));
		cJSON_AddBoolToObject(o, "needs_new_code", needs_code);
		cJSON_AddBoolToObject(app->out, "dry_run", dry_run);
		return;
	}
	for (size_t i = 0; i < plan->nwarnings; i++)
		app_warn(app, "%s", plan->warnings[i]);
	if (plan->action == PLAN_REFUSE)
		return;
	if (plan->action == PLAN_NOOP) {
		printf("%s\n", plan->reason[0] ? term_text(plan->reason) : "nothing to do");
		return;
	}
	printf("%s%s\n", dry_run ? "plan: " : "", term_text(plan->summary));
	if (plan->action == PLAN_SWAP) {
		printf("  %s: released at once\n", term_text(plan->release_from));
		if (!needs_code)
			printf("  %s: active at once\n", term_text(req->to));
	} else if (plan->action == PLAN_MOVE && needs_code) {
		printf("  %s: released at once\n", plan->release_from);
	} else if (plan->action == PLAN_MOVE) {
		time_format(plan->ready_min, a);
		time_format(plan->ready_max, b);
		printf("  %s: released at once\n", plan->release_from);
		if (plan->ready_min == plan->ready_max)
			printf("  %s: pending, ready about %s%s\n", req->to, b,
			       plan->transfer_time_known ? "" : " (transfer time unknown: estimate)");
		else
			printf("  %s: pending, ready between %s and %s\n", req->to, a, b);
	}
	if (plan->cooldown_until != TIME_NONE) {
		time_format(plan->cooldown_until, a);
		printf("  next transfer allowed from %s\n", a);
	}
	if (needs_code)
		printf("  %s has an eUICC: SGP.22 cannot move a profile between eUICCs, so %s must issue a new\n"
		       "  activation code for it; 'esimctl add CODE --device %s' completes the transfer\n",
		       req->to, term_text(p->carrier), req->to);
}

/*
 * Open the eUICCs of the devices holding the profile (other than the target) before the
 * store is locked: a move deletes it on its source's eUICC (see glue_hold()).
 */
static int hold_sources(struct app *app, const char *path, const char *ref, const char *to, int *held)
{
	return app_hold_euiccs(app, path, ref, NULL, to, held);
}

int cmd_transfer(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "at", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char *to = NULL, *from = NULL, *at = NULL, *path;
	int dry_run = 0, c, rc = -1, unknown, needs_code, held = 0;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct profile *p;
	struct device *target;
	const struct carrier_policy *pol;
	struct binding **live = NULL;
	struct policy_holder holders[POLICY_MAX_HOLDERS];
	struct transfer_req req;
	struct transfer_plan plan;
	size_t nlive;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		case 'n': dry_run = 1; break;
		case 'a': at = optarg; break;
		default: return app_getopt_error(app, c, argv);
		}
	}
	if (optind != argc - 1)
		return app_usage(app, optind >= argc ? "missing the PROFILE to transfer" : "unexpected argument '%s'",
				 argv[optind + (optind < argc)]);
	if (app_check_text(app, "PROFILE", argv[optind], 0) < 0 || app_check_text(app, "--to", to, 0) < 0 ||
	    app_check_text(app, "--from", from, 0) < 0 || app_check_text(app, "--at", at, 0) < 0)
		return -1;
	if (!to)
		return app_usage(app, "--to DEVICE is required");
	if (at && !dry_run)
		return app_usage(app, "--at only evaluates a plan; add --dry-run");
	if (at && time_parse(at, &app->now, &app->err) < 0)
		return -1;
	if (!(path = app_store_path(app)) || !app_carriers(app))
		return -1;
	if (dry_run ? store_load(path, &s, &app->err) : store_begin(path, app->wait_lock, &txn, &s, &app->err))
		goto out;
	/*
	 * Most moves have no source with an eUICC, and the locked read says so: the store is
	 * read once.  When one has, the lock is given back, the eUICCs are held first (their
	 * lock always comes before the store's, see glue_hold()), and the store is locked and
	 * read again.
	 */
	if (!dry_run && app_euiccs_to_hold(s, argv[optind], NULL, to) != 0) {
		store_abort(txn);
		txn = NULL;
		model_free(s);
		s = NULL;
		if (hold_sources(app, path, argv[optind], to, &held) < 0)
			goto out;
		if (store_begin(path, app->wait_lock, &txn, &s, &app->err))
			goto out;
	}
	if (!dry_run)
		app_promote_ready(s, app->now);
	if (model_resolve_profile(s, argv[optind], &p, &app->err) < 0)
		goto out;
	if (!(target = app_find_device(app, s, to)))
		goto out;
	if (from && !app_find_device(app, s, from))
		goto out;
	pol = app_policy_for(app, p->carrier, &unknown);
	app_warn_carrier_suggestions(app, p->carrier);
	nlive = model_live_bindings_of_profile(s, p->id, &live);
	if (nlive > POLICY_MAX_HOLDERS)
		nlive = POLICY_MAX_HOLDERS;
	for (size_t i = 0; i < nlive; i++) {
		holders[i].device = live[i]->device;
		holders[i].state = app_effective_state(live[i], app->now);
	}
	memset(&req, 0, sizeof(req));
	req.carrier = pol;
	req.carrier_unknown = unknown;
	req.carrier_name = p->carrier;
	req.plan = p->plan;
	req.holders = holders;
	req.nholders = nlive;
	req.from = from;
	req.to = target->name;
	req.to_kind = target->kind;
	req.inventory_has_phone = model_has_phone(s);
	req.has_primary_phone = model_has_primary_phone(s);
	req.ever_bound = model_profile_ever_bound(s, p->id);
	req.last_transfer = p->last_transfer;
	req.now = app->now;
	if (transfer_decide(&req, &plan, &app->err) < 0) {
		report_plan(app, s, p, pol, &req, &plan, dry_run, 0);
		goto out;
	}
	/* SGP.22 v2 cannot move a profile between eUICCs: plan the delete + new code. */
	if (plan.release_from && glue_transfer_check(app, s, p, plan.release_from, target) < 0)
		goto out;
	needs_code = plan_needs_new_code(&plan, target);
	report_plan(app, s, p, pol, &req, &plan, dry_run, needs_code);
	if (dry_run || plan.action == PLAN_NOOP) {
		rc = 0;
		goto out;
	}
	/* The source side of an eUICC-backed move: delete there, notify the SM-DP+. */
	if (plan.release_from && glue_transfer_release_source(app, s, p, plan.release_from) < 0)
		goto out;
	if (plan_apply(s, p, &plan, target, req.ever_bound, app->now, &app->err) < 0)
		goto out;
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (held) {
		/* Committed: now the source's notifications, without the store lock. */
		glue_finish(app, rc == 0 ? path : NULL);
		held = 0;
	}
	if (rc == 0 && app->json)
		cJSON_AddBoolToObject(app->out, "applied", 1);
out:
	free(live);
	if (txn)
		store_abort(txn);
	if (held)
		glue_finish(app, NULL);
	model_free(s);
	return rc;
}
