/*
 * add.c - esimctl add CODE|--code-file FILE --carrier C [--device D] [--nickname N]
 *                    [--iccid ICCID] [--data-only] [--confirmation-code[-file] ...]
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/plan.h"
#include "cli/rsp/lpa_glue.h"
#include "esimctl/ids.h"
#include "esimctl/policy.h"
#include "esimctl/secrets.h"
#include "esimctl/store.h"

static int valid_nickname(struct app *app, const char *n)
{
	return app_check_text(app, "--nickname", n, APP_NAME_MAX);
}

static void report(struct app *app, const struct store *s, const struct profile *p, int existed)
{
	struct buf code = BUF_INIT;

	if (app->json) {
		cJSON_AddItemToObject(app->out, "profile", json_profile(app, s, p, NULL, 0));
		cJSON_AddBoolToObject(app->out, "created", !existed);
		return;
	}
	app_format_code(app, p->ac, &code);
	printf("%s profile %s%s%s%s (%s, %s)\n", existed ? "already have" : "added",
	       model_profile_shown_id(s, p),
	       p->nickname ? " '" : "", p->nickname ? term_text(p->nickname) : "", p->nickname ? "'" : "",
	       term_text(p->carrier), plan_type_name(p->plan));
	printf("  code: %s\n", code.buf);
	if (p->iccid)
		printf("  ICCID: %s\n", term_text(p->iccid));
	buf_wipe_release(&code);
}

/* What `add` was told about a profile, to compare with one already stored. */
struct add_opts {
	const char *carrier, *device, *nickname, *iccid;
	int data_only;
};

static int same_carrier(struct app *app, const char *a, const char *b)
{
	int ua, ub;
	const struct carrier_policy *pa, *pb;

	if (!strcmp(a, b))
		return 1;
	/* Two spellings of one carrier in the table ("AT&T", "att") are the same carrier. */
	pa = app_policy_for(app, a, &ua);
	pb = app_policy_for(app, b, &ub);
	return !ua && !ub && pa == pb;
}

static void differs(struct app *app, struct buf *msg, int *n, const char *opt,
		    const char *stored, const char *given)
{
	if (app->json) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(app->out, "differences");
		cJSON *o = cJSON_CreateObject();

		if (!d)
			d = cJSON_AddArrayToObject(app->out, "differences");
		cJSON_AddStringToObject(o, "option", opt);
		json_str(o, "stored", stored);
		cJSON_AddStringToObject(o, "given", given);
		cJSON_AddItemToArray(d, o);
	}
	buf_addf(msg, "%s%s '%s' (stored: %s%s%s)", (*n)++ ? "; " : "", opt, given,
		 stored ? "'" : "", stored ? stored : "none", stored ? "'" : "");
}

/*
 * The code is already stored as p.  Options that say the same as the store (or are not
 * given) make this the idempotent repeat of an earlier add: 0.  Any option that says
 * something else is refused with every difference named, and the profile is left as it
 * was: esimctl does not guess whether the user meant to change the profile or made a
 * mistake, and silently ignoring the option would lose what was asked.
 */
static int check_readd(struct app *app, const struct store *s, const struct profile *p,
		       const struct add_opts *o)
{
	struct buf msg = BUF_INIT, on = BUF_INIT;
	const char *shown = model_profile_shown_id(s, p);
	int n = 0, device_differs = 0;

	if (o->carrier && !same_carrier(app, o->carrier, p->carrier))
		differs(app, &msg, &n, "--carrier", p->carrier, o->carrier);
	if (o->device) {
		struct binding **b;
		size_t nb = model_live_bindings_of_profile(s, p->id, &b), i;

		for (i = 0; i < nb && strcmp(b[i]->device, o->device); i++)
			;
		if (i == nb) {
			for (i = 0; i < nb; i++)
				buf_addf(&on, "%s%s", i ? ", " : "", b[i]->device);
			differs(app, &msg, &n, "--device", nb ? on.buf : NULL, o->device);
			device_differs = 1;
		}
		free(b);
	}
	if (o->nickname && (!p->nickname || strcmp(p->nickname, o->nickname)))
		differs(app, &msg, &n, "--nickname", p->nickname, o->nickname);
	if (o->iccid && (!p->iccid || strcmp(p->iccid, o->iccid)))
		differs(app, &msg, &n, "--iccid", p->iccid, o->iccid);
	if (o->data_only && p->plan != PLAN_DATA_ONLY)
		differs(app, &msg, &n, "--data-only", plan_type_name(p->plan),
			plan_type_name(PLAN_DATA_ONLY));
	buf_release(&on);
	if (!n)
		return 0;
	if (app->json)
		cJSON_AddItemToObject(app->out, "profile", json_profile(app, s, p, NULL, 0));
	app_fail(app, ESIM_E_USAGE, "this activation code is already profile %s, which differs: %s; "
		 "nothing was changed", shown, msg.buf);
	if (device_differs && n == 1)
		esim_hint(&app->err, "to move it, run 'esimctl transfer %s --to %s'", shown, o->device);
	else
		esim_hint(&app->err, "repeat the add without the options that differ, or see the "
			  "profile with 'esimctl list'");
	buf_release(&msg);
	return -1;
}

/*
 * Record np in s (taking its strings; np is cleared but keeps its id), bound to device
 * when given, with the history entry.  For a download the store is the one read again
 * after the download: when another command added the same profile or removed the device
 * meanwhile, what the eUICC installed is still recorded, and the user is told.
 */
static struct profile *record_profile(struct app *app, struct store *s, struct profile *np,
				      const char *device)
{
	struct device *d = device ? model_device(s, device) : NULL;
	struct profile *p;
	char id[PROFILE_ID_LEN + 1];
	const char *detail = NULL;

	memcpy(id, np->id, sizeof(id));
	if (!np->carrier)
		np->carrier = xstrdup(np->provider ? np->provider : "unknown");
	if (device && !d) {
		app_warn(app, "device '%s' was removed while the profile was downloaded: profile %s is "
			 "recorded without a device (its eUICC still holds it)", device, id);
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
		req.last_transfer = TIME_NONE;
		req.carrier = app_policy_for(app, np->carrier, &unknown);
		req.carrier_unknown = unknown;
		req.carrier_name = np->carrier;
		req.plan = np->plan;
		req.to = d->name;
		req.to_kind = d->kind;
		req.inventory_has_phone = model_has_phone(s);
		req.has_primary_phone = model_has_primary_phone(s);
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
			app_warn(app, "carrier '%s' is not in the table; transfers will assume the strictest "
				 "sequential policy in it (record the real one in your carriers file, see "
				 "'esimctl carriers list')", np->carrier);
	}
	app_warn_carrier_suggestions(app, np->carrier);
	if ((p = model_profile_by_id(s, id)) != NULL) {
		/* Added by another command during the download: the download is recorded on it. */
		app_warn(app, "profile %s was added by another esimctl during the download; the eUICC's "
			 "profile is recorded on it", model_profile_shown_id(s, p));
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
		actcode_packed_free(np->ac);
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
		if (i == n)
			binding_place(s, p->id, d->name, app->now);
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
		{ "code-file", required_argument, NULL, 'f' },
		{ "confirmation-code-file", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char *carrier = NULL, *device = NULL, *nickname = NULL, *iccid = NULL, *path;
	const char *code_file = NULL, *cc_file = NULL;
	char *cc = NULL, *code = NULL;
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
			/* keep the code out of /proc/PID/cmdline from here on */
			app_drop_secret(&cc);
			if (app_take_secret_arg(app, "--confirmation-code", optarg, APP_CC_MAX, &cc) < 0)
				goto out;
			break;
		case 'f': code_file = optarg; break;
		case 'F': cc_file = optarg; break;
		default: rc = app_getopt_error(app, c, argv); goto out;
		}
	}
	if (code_file ? optind != argc : optind != argc - 1) {
		if (code_file)
			rc = app_usage(app, "give either CODE or --code-file, not both");
		else
			rc = app_usage(app, optind >= argc ? "missing the activation CODE (or --code-file FILE)"
							   : "unexpected argument '%s'", argv[optind + (optind < argc)]);
		goto out;
	}
	if (app_check_carrier(app, "--carrier", carrier) < 0 || app_check_text(app, "--device", device, 0) < 0 ||
	    app_check_text(app, "--iccid", iccid, 0) < 0)
		goto out;
	if (code_file && cc_file && !strcmp(code_file, "-") && !strcmp(cc_file, "-")) {
		rc = app_usage(app, "--code-file - and --confirmation-code-file - cannot both read standard input");
		goto out;
	}
	if (cc_file && cc) {
		rc = app_usage(app, "give either --confirmation-code or --confirmation-code-file, not both");
		goto out;
	}
	if (code_file ? app_read_secret(app, "--code-file", code_file, APP_CODE_MAX, &code) < 0
		      : app_take_secret_arg(app, "activation CODE", argv[optind], APP_CODE_MAX, &code) < 0)
		goto out;
	if (cc_file && app_read_secret(app, "--confirmation-code-file", cc_file, APP_CC_MAX, &cc) < 0)
		goto out;
	if (app_check_text(app, code_file ? "--code-file" : "CODE", code, 0) < 0) {
		app_drop_secret(&code);
		goto out;
	}
	rc = actcode_parse(code, &ac, &app->err);
	app_drop_secret(&code);
	if (rc < 0)
		goto out;
	rc = -1;
	/* What an SM-DP+ may quote back at us is masked wherever esimctl shows it (secrets.h). */
	secret_add(SECRET_MATCHING_ID, ac.matching_id);
	secret_add(SECRET_CC, cc);
	if (iccid && iccid_validate(iccid, &app->err) < 0)
		goto out;
	if (nickname && valid_nickname(app, nickname) < 0)
		goto out;
	if (!(path = app_store_path(app)) || !app_carriers(app))
		goto out;
	actcode_format(&ac, &canon);
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		goto out;
	app_promote_ready(s, app->now);
	/*
	 * The same code again (compared as codes, never by id: an id is a hash prefix):
	 * report the profile we have, idempotent for scripts, unless the options say
	 * something else about it.
	 */
	if ((existing = model_profile_by_code(s, &ac)) != NULL) {
		struct add_opts o = { carrier, device, nickname, iccid, data_only };

		store_abort(txn);
		txn = NULL;
		if (check_readd(app, s, existing, &o) < 0)
			goto out;
		report(app, s, existing, 1);
		rc = 0;
		goto out;
	}
	/* After the re-add check: repeating an add an older esimctl accepted stays exit 0. */
	if (nickname && model_check_nickname_shape(nickname, &app->err) < 0)
		goto out;
	model_new_profile_id(s, canon.buf, np.id);
	if (device && !(d = app_find_device(app, s, device)))
		goto out;
	/* SGP.22 §4.1: the code's flag says a confirmation code is needed; ask nobody mid-download. */
	if (d && glue_has_euicc(d) && ac.cc_required && !cc && !app_can_prompt(app)) {
		app_usage(app, "the activation code requires a confirmation code and there is no terminal to ask for it");
		esim_hint(&app->err, "give the code from the carrier with --confirmation-code-file FILE "
			  "(or - for standard input)");
		goto out;
	}
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
					 model_profile_shown_id(s, &s->profiles[i]));
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
	np.ac = actcode_pack(&ac);
	np.created = app->now;
	np.last_transfer = TIME_NONE;
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
	app_drop_secret(&cc);
	app_drop_secret(&code);
	secret_forget_kind(SECRET_CC);
	free(np.carrier);
	free(np.nickname);
	free(np.iccid);
	free(np.provider);
	free(np.profile_name);
	free(np.profile_class);
	actcode_packed_free(np.ac);
	actcode_wipe(&ac);
	buf_wipe_release(&canon);
	if (txn)
		store_abort(txn);
	model_free(s);
	return rc;
}
