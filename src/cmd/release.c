/* release.c - esimctl release PROFILE [--device D] | release --device D --all [--reason R] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/lpa_glue.h"
#include "esimctl/store.h"

static const char *const reasons[] = { "lost", "stolen", "sold", "replaced", NULL };

/* What remains to be done with the carrier, by reason and transfer model. */
static void advise(struct app *app, cJSON *next_steps, const struct store *s, const struct profile *p,
		   const char *device, const char *reason, int deleted)
{
	const struct carrier_policy *c;
	char line[768];
	int unknown;
	struct binding **b = NULL;
	size_t n;

	c = app_policy_for(app, p->carrier, &unknown);
	if (reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen")))
		snprintf(line, sizeof(line),
			 "contact %s now to suspend the line and block profile %s on the %s device '%s'",
			 p->carrier, p->id, reason, device);
	else if (reason && !strcmp(reason, "sold"))
		snprintf(line, sizeof(line),
			 "erase the eSIM on '%s' before handing it over, and tell %s that profile %s left the device",
			 device, p->carrier, p->id);
	else if (deleted)
		snprintf(line, sizeof(line), "profile %s was deleted from the eUICC of '%s' and %s was notified",
			 p->id, device, p->carrier);
	else
		snprintf(line, sizeof(line), "make sure profile %s is deleted or disabled on '%s'", p->id, device);
	cJSON_AddItemToArray(next_steps, cJSON_CreateString(line));
	if (!app->json)
		printf("  - %s\n", line);

	n = model_live_bindings_of_profile(s, p->id, &b);
	free(b);
	switch (c->model) {
	case MODEL_CONCURRENT:
		snprintf(line, sizeof(line), n ? "%s: the profile stays in use on %zu other device%s"
					       : "%s: the profile can be added to another device (up to %zu at once)",
			 c->name, n ? n : (size_t)c->max_devices, n == 1 ? "" : "s");
		break;
	case MODEL_SEQUENTIAL:
		snprintf(line, sizeof(line),
			 "%s: to use the profile elsewhere, ask for a transfer ('esimctl transfer %s --to DEVICE')%s%s",
			 unknown ? p->carrier : c->name, p->id, c->notes ? "; " : "", c->notes ? c->notes : "");
		break;
	case MODEL_SINGLE_DEVICE:
		snprintf(line, sizeof(line),
			 "%s does not move profiles: order a new one (re-provisioning %s)%s%s", c->name,
			 c->reprov_text ? c->reprov_text : "time unknown", c->notes ? "; " : "",
			 c->notes ? c->notes : "");
		break;
	}
	cJSON_AddItemToArray(next_steps, cJSON_CreateString(line));
	if (!app->json)
		printf("  - %s\n", line);
}

/*
 * Open the eUICCs this release will change before the store is locked (their locks are
 * taken first, see glue_hold()).  The store is read without the lock: the locked pass
 * decides again; an eUICC it needs that was not held is opened then.
 */
static int hold_euiccs(struct app *app, const char *path, const char *ref, const char *device, const char *reason,
		       int *held)
{
	struct store *s = NULL;
	struct profile *p;
	struct binding **b = NULL;
	struct esim_err e = { 0 };
	size_t n;
	int rc = 0;

	if ((reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen"))) || store_load(path, &s, &e) < 0)
		return 0;
	if (!ref)
		n = model_live_bindings_of_device(s, device, &b);
	else if (model_resolve_profile(s, ref, &p, &e) == 0)
		n = model_live_bindings_of_profile(s, p->id, &b);
	else
		n = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct device *d = model_device(s, b[i]->device);

		if (glue_has_euicc(d) && (!device || !strcmp(device, d->name))) {
			rc = glue_hold(app, d);
			*held = 1;
		}
	}
	free(b);
	model_free(s);
	return rc;
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
				app_fail(app, ESIM_E_NOTFOUND, "profile %s is not on device '%s'", p->id, device);
				if (n)
					esim_hint(&app->err, "it is on '%s'", b[0]->device);
				goto out;
			}
			n = k;
		} else if (n == 0) {
			app_fail(app, ESIM_E_NOTFOUND, "profile %s is not on any device", p->id);
			goto out;
		} else if (n > 1) {
			app_usage(app, "profile %s is on %zu devices; say which with --device", p->id, n);
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
		b[i]->state = BIND_RELEASED;
		b[i]->released_at = app->now;
		model_add_history(s, app->now, "release", b[i]->profile, dev_name, NULL, "ok", reason);
		{
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "profile", b[i]->profile);
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

		app_print(app, "released profile %s from '%s'%s%s%s\n", b[i]->profile, b[i]->device,
			  reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
		if (bp) {
			const struct device *d = model_device(s, b[i]->device);
			int lost = reason && (!strcmp(reason, "lost") || !strcmp(reason, "stolen"));

			app_print(app, "to do with the carrier:\n");
			advise(app, next_steps, s, bp, b[i]->device, reason, d && glue_has_euicc(d) && !lost);
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
