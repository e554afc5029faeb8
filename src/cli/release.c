/* release.c - esimctl release PROFILE [--device D] | release --device D --all [--reason R] */
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

static const char *const reasons[] = { "lost", "stolen", "sold", "replaced", NULL };

/*
 * What the carrier's policy allows next for a profile that left a device.  It is asked of
 * the engine that decides transfers (transfer_decide(), for a device that does not hold
 * the profile), so the advice never names a command that would then be refused, and says
 * from when the next transfer is allowed.  Returns that time (now when it is allowed
 * now), or 0 when the profile cannot move at all.
 */
static int64_t advise_policy(struct app *app, const struct store *s, const struct profile *p,
			     char *line, size_t linesz)
{
	struct policy_holder holders[POLICY_MAX_HOLDERS];
	const struct carrier_policy *c;
	struct binding **live = NULL;
	struct transfer_req req;
	struct transfer_plan plan;
	struct esim_err e = { 0 };
	char iso[TIME_ISO_LEN], left[48], notes[200] = "";
	const char *name;
	size_t n;
	int unknown, rc;
	int64_t when = TIME_NONE;

	c = app_policy_for(app, p->carrier, &unknown);
	name = unknown ? p->carrier : c->name;
	if (c->notes && c->notes[0])
		snprintf(notes, sizeof(notes), "; %s", c->notes);
	n = model_live_bindings_of_profile(s, p->id, &live);
	if (n > POLICY_MAX_HOLDERS)
		n = POLICY_MAX_HOLDERS;
	for (size_t i = 0; i < n; i++) {
		holders[i].device = live[i]->device;
		holders[i].state = app_effective_state(live[i], app->now);
	}
	memset(&req, 0, sizeof(req));
	req.carrier = c;
	req.carrier_unknown = unknown;
	req.carrier_name = p->carrier;
	req.plan = p->plan;
	req.holders = holders;
	req.nholders = n;
	req.from = c->model == MODEL_CONCURRENT && n >= (size_t)c->max_devices ? holders[0].device : NULL;
	req.to = "another device";    /* never a device name: names have no spaces */
	req.to_kind = DEV_PHONE;
	req.inventory_has_phone = 1;
	req.ever_bound = model_profile_ever_bound(s, p->id);
	req.last_transfer = p->last_transfer;
	req.now = app->now;
	rc = transfer_decide(&req, &plan, &e);
	if (rc < 0 && plan.earliest != TIME_NONE) {
		char cool[32];

		time_format(plan.earliest, iso);
		duration_format(plan.earliest - app->now, left, sizeof(left));
		fmt_cooldown(c->cooldown_s, cool, sizeof(cool));
		snprintf(line, linesz,
			 "%s allows one transfer every %s: the earliest transfer to another device is "
			 "at %s (in %s); then 'esimctl transfer %s --to DEVICE'%s",
			 name, cool, iso, left, model_profile_shown_id(s, p), notes);
		when = plan.earliest;
	} else if (rc < 0 && c->model == MODEL_SINGLE_DEVICE) {
		snprintf(line, linesz, "%s does not move profiles: order a new one (re-provisioning %s)%s",
			 name, c->reprov_text ? c->reprov_text : "time unknown", notes);
	} else if (rc < 0) {
		snprintf(line, linesz, "%s: %s", name, plan.reason);
	} else if (plan.action == PLAN_SWAP) {
		snprintf(line, linesz,
			 "%s: the profile stays in use on %zu other device%s, the most it allows; to use it "
			 "elsewhere, move it ('esimctl transfer %s --from DEVICE --to DEVICE')%s",
			 name, n, n == 1 ? "" : "s", model_profile_shown_id(s, p), notes);
		when = app->now;
	} else if (c->model == MODEL_CONCURRENT) {
		if (n)
			snprintf(line, linesz, "%s: the profile stays in use on %zu other device%s", name, n,
				 n == 1 ? "" : "s");
		else
			snprintf(line, linesz, "%s: the profile can be added to another device (up to %d at once)",
				 name, c->max_devices);
		when = app->now;
	} else {
		snprintf(line, linesz,
			 "%s: to use the profile elsewhere, ask for a transfer ('esimctl transfer %s --to DEVICE')%s",
			 name, model_profile_shown_id(s, p), notes);
		when = app->now;
	}
	free(live);
	return when;
}

/* What remains to be done with the carrier, by reason and transfer model. */
static void advise(struct app *app, cJSON *next_steps, cJSON *rel, const struct store *s,
		   const struct profile *p, const char *device, const char *reason, int deleted)
{
	char line[768];

	if (reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen")))
		snprintf(line, sizeof(line),
			 "contact %s now to suspend the line and block profile %s on the %s device '%s'",
			 p->carrier, model_profile_shown_id(s, p), reason, device);
	else if (reason && !strcmp(reason, "sold"))
		snprintf(line, sizeof(line),
			 "erase the eSIM on '%s' before handing it over, and tell %s that profile %s left the device",
			 device, p->carrier, model_profile_shown_id(s, p));
	else if (deleted)
		snprintf(line, sizeof(line), "profile %s was deleted from the eUICC of '%s' and %s was notified",
			 model_profile_shown_id(s, p), device, p->carrier);
	else
		snprintf(line, sizeof(line), "make sure profile %s is deleted or disabled on '%s'", model_profile_shown_id(s, p), device);
	cJSON_AddItemToArray(next_steps, cJSON_CreateString(line));
	if (!app->json)
		printf("  - %s\n", term_text(line));

	json_time(rel, "next_transfer", advise_policy(app, s, p, line, sizeof(line)));
	cJSON_AddItemToArray(next_steps, cJSON_CreateString(line));
	if (!app->json)
		printf("  - %s\n", term_text(line));
}

/*
 * Open the eUICCs this release will change before the store is locked (their locks are
 * taken first, see glue_hold()).  The store is read without the lock: the locked pass
 * decides again; an eUICC it needs that was not held is opened then.
 */
static int hold_euiccs(struct app *app, const char *path, const char *ref, const char *device, const char *reason,
		       int *held)
{
	/* A lost or stolen device cannot be reached: its eUICC is left alone. */
	if (reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen")))
		return 0;
	return app_hold_euiccs(app, path, ref, device, NULL, held);
}

int cmd_release(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'A' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *device = NULL, *reason = NULL, *path;
	int all = 0, c, rc = -1, held = 0;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct binding **b = NULL;
	size_t n = 0, done = 0;
	struct profile *p = NULL;
	cJSON *released = cJSON_CreateArray(), *next_steps = cJSON_CreateArray();

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'A': all = 1; break;
		case 'r': reason = optarg; break;
		default: rc = app_getopt_error(app, c, argv); goto out;
		}
	}
	if (app_check_text(app, "--device", device, 0) < 0 || app_check_text(app, "--reason", reason, 0) < 0 ||
	    (optind < argc && app_check_text(app, "PROFILE", argv[optind], 0) < 0))
		goto out;
	if (reason) {
		size_t i;

		for (i = 0; reasons[i] && strcmp(reasons[i], reason); i++)
			;
		if (!reasons[i]) {
			rc = app_usage(app, "--reason '%s': must be lost, stolen, sold or replaced", reason);
			goto out;
		}
	}
	if (all) {
		if (!device || optind != argc) {
			rc = app_usage(app, optind != argc ? "--all takes no PROFILE" : "--all needs --device DEVICE");
			goto out;
		}
	} else if (optind != argc - 1) {
		rc = app_usage(app, optind >= argc ? "missing the PROFILE to release (or --device D --all)"
						   : "unexpected argument '%s'", argv[optind + (optind < argc)]);
		goto out;
	}
	if (!(path = app_store_path(app)) || !app_carriers(app))
		goto out;
	if (hold_euiccs(app, path, all ? NULL : argv[optind], device, reason, &held) < 0)
		goto out;
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		goto out;
	app_promote_ready(s, app->now);
	if (device && !app_find_device(app, s, device))
		goto out;
	if (all) {
		n = model_live_bindings_of_device(s, device, &b);
	} else {
		if (model_resolve_profile(s, argv[optind], &p, &app->err) < 0)
			goto out;
		n = model_live_bindings_of_profile(s, p->id, &b);
		if (device) {
			size_t k = 0;

			for (size_t i = 0; i < n; i++)
				if (!strcmp(b[i]->device, device))
					b[k++] = b[i];
			if (!k) {
				app_fail(app, ESIM_E_NOTFOUND, "profile %s is not on device '%s'", model_profile_shown_id(s, p), device);
				if (n)
					esim_hint(&app->err, "it is on '%s'", b[0]->device);
				goto out;
			}
			n = k;
		} else if (n == 0) {
			app_fail(app, ESIM_E_NOTFOUND, "profile %s is not on any device", model_profile_shown_id(s, p));
			goto out;
		} else if (n > 1) {
			app_usage(app, "profile %s is on %zu devices; say which with --device", model_profile_shown_id(s, p), n);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct profile *bp = model_profile_by_id(s, b[i]->profile);
		struct device *d = model_device(s, b[i]->device);
		char *dev_name = b[i]->device;

		/* A lost or stolen device cannot be reached; its eUICC is left alone. */
		if (bp && d && !(reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen"))) &&
		    glue_release_on_device(app, s, bp, d) < 0) {
			if (done) {
				/* Keep what the eUICC already did. */
				struct esim_err e = app->err, e2 = { 0 };

				store_commit(txn, s, &e2);
				txn = NULL;
				app->err = e;
			}
			goto out;
		}
		/* b[i] stays valid: releasing adds no binding */
		if (binding_release(s, b[i]->profile, dev_name, app->now, reason, &app->err) < 0)
			goto out;
		{
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "profile", model_shown_id(s, b[i]->profile));
			cJSON_AddStringToObject(o, "device", dev_name);
			cJSON_AddItemToArray(released, o);
		}
		done++;
	}
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (held) {
		/* Committed: now the notifications, without the store lock. */
		glue_finish(app, rc == 0 ? path : NULL);
		held = 0;
	}
	if (rc < 0)
		goto out;
	if (!done)
		app_print(app, "nothing to release: device '%s' holds no profile\n", device);
	for (size_t i = 0; i < n; i++) {
		const struct profile *bp = model_profile_by_id(s, b[i]->profile);

		app_print(app, "released profile %s from '%s'%s%s%s\n", model_shown_id(s, b[i]->profile), b[i]->device,
			  reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
		if (bp) {
			const struct device *d = model_device(s, b[i]->device);
			int lost = reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen"));

			app_print(app, "to do with the carrier:\n");
			advise(app, next_steps, cJSON_GetArrayItem(released, (int)i), s, bp, b[i]->device,
			       reason, d && glue_has_euicc(d) && !lost);
		}
	}
	if (app->json) {
		cJSON_AddItemToObject(app->out, "released", released);
		cJSON_AddItemToObject(app->out, "next_steps", next_steps);
		json_str(app->out, "reason", reason);
		released = next_steps = NULL;
	}
out:
	if (txn)
		store_abort(txn);
	txn = NULL;
	if (held)
		glue_finish(app, NULL);
	cJSON_Delete(released);
	cJSON_Delete(next_steps);
	free(b);
	model_free(s);
	return rc;
}
