/* add.c - esimctl add CODE --carrier C [--device D] [--nickname N] [--iccid ICCID] [--data-only] */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/lpa_glue.h"
#include "esimctl/ids.h"
#include "esimctl/policy.h"
#include "esimctl/store.h"

static int valid_nickname(struct app *app, const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 64)
		return app_usage(app, "--nickname '%s': must be 1 to 64 characters", n);
	for (const unsigned char *c = (const unsigned char *)n; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return app_usage(app, "--nickname: control characters are not allowed");
	return 0;
}

static void report(struct app *app, const struct store *s, const struct profile *p, int existed)
{
	struct buf code = BUF_INIT;

	if (app->json) {
		cJSON_AddItemToObject(app->out, "profile", json_profile(app, s, p, NULL, 0));
		cJSON_AddBoolToObject(app->out, "created", !existed);
		return;
	}
	app_format_code(app, &p->ac, &code);
	printf("%s profile %s%s%s%s (%s, %s)\n", existed ? "already have" : "added", p->id,
	       p->nickname ? " '" : "", p->nickname ? p->nickname : "", p->nickname ? "'" : "", p->carrier,
	       plan_type_name(p->plan));
	printf("  code: %s\n", code.buf);
	if (p->iccid)
		printf("  ICCID: %s\n", p->iccid);
	buf_wipe_release(&code);
}

/*
 * Record np in s (taking its strings; np is cleared but keeps its id), bound to device
 * when given, with the history entry.  For a download the store is the one read again
 * after the download: when another command added the same profile or removed the device
 * meanwhile, what the eUICC installed is still recorded, and the user is told.
 */
static struct profile *record_profile(struct app *app, struct store *s, struct profile *np, const char *device)
{
	struct device *d = device ? model_device(s, device) : NULL;
	struct profile *p;
	char id[PROFILE_ID_LEN + 1];
	const char *detail = NULL;

	memcpy(id, np->id, sizeof(id));
	if (!np->carrier)
		np->carrier = xstrdup(np->provider ? np->provider : "unknown");
	if (device && !d) {
		app_warn(app, "device '%s' was removed while the profile was downloaded: profile %s is recorded "
			 "without a device (its eUICC still holds it)", device, id);
		detail = "device removed during the download";
	}
	if (np->nickname) {
		struct profile *other;
		struct esim_err e = { 0 };

		if (model_resolve_profile(s, np->nickname, &other, &e) == 0 || e.status == ESIM_E_USAGE) {
			app_warn(app, "nickname '%s' was taken by another profile meanwhile: profile %s has none",
				 np->nickname, id);
			free(np->nickname);
			np->nickname = NULL;
		}
	}
	if (d) {
		struct transfer_req req;
		struct transfer_plan plan;
		int unknown = 0;

		memset(&req, 0, sizeof(req));
		req.carrier = app_policy_for(app, np->carrier, &unknown);
		req.carrier_unknown = unknown;
		req.carrier_name = np->carrier;
		req.plan = np->plan;
		req.to = d->name;
		req.to_kind = d->kind;
		req.inventory_has_phone = model_has_phone(s);
		req.now = app->now;
		/* A first placement is always allowed; the engine still says what to watch for. */
		if (transfer_decide(&req, &plan, &app->err) == 0)
			for (size_t i = 0; i < plan.nwarnings; i++)
				app_warn(app, "%s", plan.warnings[i]);
		esim_err_clear(&app->err);
	} else if (!device) {
		int unknown;

		app_policy_for(app, np->carrier, &unknown);
		if (unknown)
			app_warn(app, "carrier '%s' is not in the table; transfers will use a conservative default "
				 "(add it to the carriers file, see 'esimctl carriers')", np->carrier);
	}
	if ((p = model_profile_by_id(s, id)) != NULL) {
		/* Added by another command during the download: the download is recorded on it. */
		app_warn(app, "profile %s was added by another esimctl during the download; the eUICC's "
			 "profile is recorded on it", id);
		if (!p->iccid && np->iccid)
			model_set_iccid(s, p, np->iccid);
		if (!p->provider) {
			p->provider = np->provider;
			np->provider = NULL;
		}
		if (!p->profile_name) {
			p->profile_name = np->profile_name;
			np->profile_name = NULL;
		}
		if (!p->profile_class) {
			p->profile_class = np->profile_class;
			np->profile_class = NULL;
		}
		free(np->carrier);
		free(np->nickname);
		free(np->iccid);
		free(np->provider);
		free(np->profile_name);
		free(np->profile_class);
		actcode_wipe(&np->ac);
		detail = "the profile was added by another command during the download";
	} else {
		p = model_add_profile(s, np);
	}
	memset(np, 0, sizeof(*np));
	memcpy(np->id, id, sizeof(id));
	if (d) {
		struct binding **live = NULL;
		size_t n = model_live_bindings_of_profile(s, p->id, &live), i;

		for (i = 0; i < n && strcmp(live[i]->device, d->name); i++)
			;
		free(live);
		if (i == n) {
			struct binding b;

			memset(&b, 0, sizeof(b));
			b.profile = xstrdup(p->id);
			b.device = xstrdup(d->name);
			b.state = BIND_ACTIVE;
			b.since = app->now;
			model_add_binding(s, &b);
		}
	}
	model_add_history(s, app->now, "add", p->id, NULL, d ? d->name : NULL, "ok", detail);
	return p;
}

int cmd_add(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "carrier", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "nickname", required_argument, NULL, 'n' },
		{ "iccid", required_argument, NULL, 'i' },
		{ "data-only", no_argument, NULL, 'D' },
		{ "confirmation-code", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	const char *carrier = NULL, *device = NULL, *nickname = NULL, *iccid = NULL, *path;
	char *cc = NULL;
	int data_only = 0, c, rc = -1;
	struct actcode ac;
	struct buf canon = BUF_INIT;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct profile np, *existing;
	struct device *d = NULL;

	memset(&np, 0, sizeof(np));
	memset(&ac, 0, sizeof(ac));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c': carrier = optarg; break;
		case 'd': device = optarg; break;
		case 'n': nickname = optarg; break;
		case 'i': iccid = optarg; break;
		case 'D': data_only = 1; break;
		case 'C':
			free(cc);
			cc = xstrdup(optarg);
			/* keep the code out of /proc/PID/cmdline from here on */
			secure_wipe(optarg, strlen(optarg));
			break;
		default: rc = app_getopt_error(app, c, argv); goto out;
		}
	}
	if (optind != argc - 1) {
		rc = app_usage(app, optind >= argc ? "missing the activation CODE" : "unexpected argument '%s'",
			       argv[optind + (optind < argc)]);
		goto out;
	}
	if (actcode_parse(argv[optind], &ac, &app->err) < 0)
		goto out;
	if (iccid && iccid_validate(iccid, &app->err) < 0)
		goto out;
	if (nickname && valid_nickname(app, nickname) < 0)
		goto out;
	if (!(path = app_store_path(app)) || !app_carriers(app))
		goto out;
	actcode_format(&ac, &canon);
	model_profile_id(canon.buf, np.id);
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		goto out;
	app_promote_ready(s, app->now);
	/* The same code again: report the profile we have (idempotent for scripts). */
	if ((existing = model_profile_by_id(s, np.id)) != NULL) {
		store_abort(txn);
		txn = NULL;
		report(app, s, existing, 1);
		rc = 0;
		goto out;
	}
	if (device && !(d = app_find_device(app, s, device)))
		goto out;
	if (!carrier && !(d && glue_has_euicc(d))) {
		app_usage(app, "--carrier is required (see 'esimctl carriers')");
		goto out;
	}
	if (iccid) {
		/* An ICCID equal to another profile's nickname would make the reference ambiguous. */
		for (size_t i = 0; i < s->nprofiles; i++)
			if ((s->profiles[i].iccid && !strcmp(s->profiles[i].iccid, iccid)) ||
			    (s->profiles[i].nickname && !strcmp(s->profiles[i].nickname, iccid))) {
				app_fail(app, ESIM_E_USAGE, "ICCID %s %s profile %s", iccid,
					 s->profiles[i].iccid && !strcmp(s->profiles[i].iccid, iccid)
						 ? "already belongs to" : "is the nickname of",
					 s->profiles[i].id);
				goto out;
			}
	}
	if (nickname) {
		struct profile *other;
		struct esim_err e = { 0 };

		if (model_resolve_profile(s, nickname, &other, &e) == 0 || e.status == ESIM_E_USAGE) {
			app_fail(app, ESIM_E_USAGE, "nickname '%s' is already used by (or looks like) another profile",
				 nickname);
			esim_hint(&app->err, "pick another --nickname");
			goto out;
		}
	}
	np.carrier = xstrdup(carrier);
	np.plan = data_only ? PLAN_DATA_ONLY : PLAN_VOICE_DATA;
	np.nickname = xstrdup(nickname);
	np.iccid = xstrdup(iccid);
	np.has_ac = 1;
	np.ac = ac;
	np.created = app->now;
	if (d && glue_has_euicc(d)) {
		struct store *final = NULL;

		/*
		 * Decided under the store lock; the download runs without it (other commands on
		 * the store go on meanwhile) and glue_download() takes it again to record what the
		 * eUICC installed, re-checked against the store as it is then.
		 */
		store_abort(txn);
		txn = NULL;
		rc = glue_download(app, path, s, &ac, d, cc, &np, record_profile, &final);
		if (rc == 0)
			report(app, final, model_profile_by_id(final, np.id), 0);
		model_free(final);
		goto out;
	}
	existing = record_profile(app, s, &np, d ? d->name : NULL);
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (rc == 0)
		report(app, s, existing, 0);
out:
	if (cc) {
		secure_wipe(cc, strlen(cc));
		free(cc);
	}
	free(np.carrier);
	free(np.nickname);
	free(np.iccid);
	free(np.provider);
	free(np.profile_name);
	free(np.profile_class);
	actcode_wipe(&ac);
	buf_wipe_release(&canon);
	if (txn)
		store_abort(txn);
	model_free(s);
	return rc;
}
