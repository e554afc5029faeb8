/* euicc.c - esimctl euicc create-soft | info | enable | disable | nickname | sync | serve */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/plan.h"
#include "cli/rsp/lpa_glue.h"
#include "esimctl/ids.h"
#include "esimctl/store.h"
#include "card/soft/soft.h"
#include "card/vpcd.h"
#include "cli/rsp/backend.h"
#include "esimctl/der.h"

static int read_input(struct app *app, const char *opt, const char *path, struct buf *out)
{
	struct esim_err e = { 0 };
	int rc = read_whole_file(path, out, &e);

	if (rc == 1)
		return app_usage(app, "%s '%s': no such file", opt, path);
	if (rc < 0) {
		app->err = e;
		app->err.status = ESIM_E_USAGE;
		return -1;
	}
	return 0;
}

int cmd_euicc_create_soft(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eid", required_argument, NULL, 'e' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "eum", required_argument, NULL, 'm' },
		{ "ci", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	const char *eid = NULL, *cert = NULL, *key = NULL, *eum = NULL;
	const char *ci[16];
	size_t nci = 0;
	struct buf bcert = BUF_INIT, bkey = BUF_INIT, beum = BUF_INIT, bci[16];
	const uint8_t *cis[16];
	size_t cilens[16];
	int c, rc = -1;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'e': eid = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'm': eum = optarg; break;
		case 'i':
			if (nci == 16)
				return app_usage(app, "at most 16 --ci certificates");
			ci[nci++] = optarg;
			break;
		default: return app_getopt_error(app, c, argv);
		}
	}
	if (optind != argc - 1)
		return app_usage(app, optind >= argc ? "missing the PATH of the new software eUICC" : "unexpected argument '%s'",
				 argv[optind + (optind < argc)]);
	if (!eid || !cert || !key || !eum || !nci)
		return app_usage(app, "--eid, --cert, --key, --eum and at least one --ci are required");
	for (size_t i = 0; i < nci; i++)
		buf_init(&bci[i], 0);
	if (read_input(app, "--cert", cert, &bcert) < 0 || read_input(app, "--key", key, &bkey) < 0 ||
	    read_input(app, "--eum", eum, &beum) < 0)
		goto out;
	for (size_t i = 0; i < nci; i++) {
		if (read_input(app, "--ci", ci[i], &bci[i]) < 0)
			goto out;
		cis[i] = (const uint8_t *)bci[i].buf;
		cilens[i] = bci[i].len;
	}
	if (soft_euicc_create(argv[optind], eid, (const uint8_t *)bcert.buf, bcert.len, (const uint8_t *)bkey.buf,
			      bkey.len, (const uint8_t *)beum.buf, beum.len, cis, cilens, nci, &app->err) < 0)
		goto out;
	if (app->json) {
		cJSON_AddStringToObject(app->out, "path", argv[optind]);
		cJSON_AddStringToObject(app->out, "eid", eid);
	}
	app_print(app, "created software eUICC %s (EID %s)\n", argv[optind], eid);
	app_note(app, "bind it to a device: esimctl device add NAME --kind KIND --euicc soft:%s\n", argv[optind]);
	rc = 0;
out:
	buf_wipe_release(&bkey);
	buf_release(&bcert);
	buf_release(&beum);
	for (size_t i = 0; i < nci; i++)
		buf_release(&bci[i]);
	return rc;
}

static struct device *euicc_device(struct app *app, struct store *s, const char *name)
{
	struct device *d = app_find_device(app, s, name);

	if (d && !glue_has_euicc(d)) {
		app_fail(app, ESIM_E_USAGE, "device '%s' has no eUICC backend", name);
		esim_hint(&app->err, "bind one with 'esimctl device add NAME --kind KIND --euicc soft:PATH'");
		return NULL;
	}
	return d;
}

int cmd_euicc_info(struct app *app, int argc, char **argv)
{
	const char *device = NULL, *path;
	struct store *s = NULL;
	struct device *d;
	struct glue_conn c = { .open = 0 };
	struct es10_euicc_info2 info;
	struct es10_profile *p = NULL;
	struct es10_notification *nl = NULL;
	size_t np = 0, nn = 0;
	char eid[33], v1[12], v2[12], v3[12];
	int rc = -1;

	if (app_parse_device_opt(app, argc, argv, &device, 0, 1) < 0)
		return -1;
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (!(d = euicc_device(app, s, device)) || glue_open(app, d, &c) < 0)
		goto out;
	if (es10_get_eid(&c.ctx, eid, &app->err) < 0 || es10_get_euicc_info2(&c.ctx, NULL, &info, &app->err) < 0 ||
	    es10_get_profiles(&c.ctx, &p, &np, &app->err) < 0 ||
	    es10_list_notifications(&c.ctx, 0, &nl, &nn, &app->err) < 0)
		goto out;
	es10_version_str(&info.svn, v1);
	es10_version_str(&info.profile_version, v2);
	es10_version_str(&info.firmware_version, v3);
	if (app->json) {
		cJSON *o = cJSON_AddObjectToObject(app->out, "euicc"), *arr;

		cJSON_AddStringToObject(o, "device", d->name);
		cJSON_AddStringToObject(o, "backend", d->euicc);
		cJSON_AddStringToObject(o, "eid", eid);
		cJSON_AddStringToObject(o, "svn", v1);
		cJSON_AddStringToObject(o, "profile_version", v2);
		cJSON_AddStringToObject(o, "firmware_version", v3);
		if (info.free_nvm >= 0)
			cJSON_AddNumberToObject(o, "free_nvm", (double)info.free_nvm);
		if (info.free_ram >= 0)
			cJSON_AddNumberToObject(o, "free_ram", (double)info.free_ram);
		cJSON_AddNumberToObject(o, "ci_keys", (double)info.ci_pkid_verification_count);
		json_str(o, "sas_accreditation", info.sas_number[0] ? info.sas_number : NULL);
		arr = cJSON_AddArrayToObject(o, "profiles");
		for (size_t i = 0; i < np; i++) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "iccid", p[i].iccid);
			cJSON_AddStringToObject(x, "aid", p[i].aid);
			cJSON_AddStringToObject(x, "state", es10_profile_state_name(p[i].state));
			json_str(x, "nickname", p[i].nickname);
			json_str(x, "provider", p[i].spn);
			json_str(x, "name", p[i].name);
			cJSON_AddStringToObject(x, "class", es10_profile_class_name(p[i].profile_class));
			cJSON_AddItemToArray(arr, x);
		}
		arr = cJSON_AddArrayToObject(o, "notifications");
		for (size_t i = 0; i < nn; i++) {
			cJSON *x = cJSON_CreateObject();

			cJSON_AddNumberToObject(x, "seq", (double)nl[i].seq);
			cJSON_AddStringToObject(x, "event", es10_event_name(nl[i].event));
			cJSON_AddStringToObject(x, "address", nl[i].address);
			json_str(x, "iccid", nl[i].iccid[0] ? nl[i].iccid : NULL);
			cJSON_AddItemToArray(arr, x);
		}
	} else {
		printf("device:    %s (%s)\nEID:       %s\nSGP.22:    %s\nSAIP:      %s\nfirmware:  %s\n", d->name,
		       d->euicc, eid, v1, v2, v3);
		if (info.free_nvm >= 0)
			printf("free NVM:  %lld bytes\n", (long long)info.free_nvm);
		printf("CI keys:   %zu\n", info.ci_pkid_verification_count);
		printf("\nprofiles (%zu):\n", np);
		for (size_t i = 0; i < np; i++)
			/* names from the card: shown, never obeyed */
			printf("  %-20s %-9s %-16s %s%s%s\n", p[i].iccid, es10_profile_state_name(p[i].state),
			       p[i].spn ? term_text(p[i].spn) : "-", p[i].name ? term_text(p[i].name) : "-",
			       p[i].nickname ? " nickname " : "", p[i].nickname ? term_text(p[i].nickname) : "");
		printf("\npending notifications on the eUICC (%zu):\n", nn);
		for (size_t i = 0; i < nn; i++)
			printf("  %-6llu %-8s %-20s %s\n", (unsigned long long)nl[i].seq, es10_event_name(nl[i].event),
			       nl[i].iccid[0] ? nl[i].iccid : "-", term_text(nl[i].address));
	}
	rc = 0;
out:
	free(nl);
	es10_profiles_free(p, np);
	glue_close(&c);
	model_free(s);
	return rc;
}

/* A PROFILE argument: a stored profile's ICCID, or an ICCID as such. */
static int profile_iccid(struct app *app, struct store *s, const char *ref, char out[21])
{
	struct profile *p;
	struct esim_err e = { 0 };

	if (model_resolve_profile(s, ref, &p, &e) == 0) {
		if (!p->iccid)
			return app_fail(app, ESIM_E_USAGE, "profile %s has no ICCID recorded",
					model_profile_shown_id(s, p));
		snprintf(out, 21, "%s", p->iccid);
		return 0;
	}
	if (iccid_validate(ref, NULL) == 0) {
		snprintf(out, 21, "%s", ref);
		return 0;
	}
	app->err = e;
	return -1;
}

enum op { OP_ENABLE, OP_DISABLE, OP_NICKNAME };

/*
 * The store's nickname follows the eUICC's, so the new name works as a PROFILE
 * reference, unless another profile already answers to it.
 */
static void sync_nickname(struct app *app, struct store *s, const char *iccid, const char *nickname)
{
	struct profile *p = NULL, *other;
	struct esim_err e = { 0 };

	for (size_t i = 0; i < s->nprofiles; i++)
		if (s->profiles[i].iccid && !strcmp(s->profiles[i].iccid, iccid))
			p = &s->profiles[i];
	if (!p)
		return;
	if (!*nickname) {
		model_set_nickname(s, p, NULL);
		return;
	}
	if (model_check_nickname_shape(nickname, &e) < 0) {
		app_warn(app, "nickname '%s' is set on the eUICC but not in the store: %s", nickname, e.msg);
		return;
	}
	if (model_resolve_profile(s, nickname, &other, &e) == 0 && other == p)
		return;
	if (e.status != ESIM_E_NOTFOUND) {
		app_warn(app, "nickname '%s' is set on the eUICC but not in the store: another profile answers to it",
			 nickname);
		return;
	}
	model_set_nickname(s, p, nickname);
}

/*
 * enable, disable, nickname: the eUICC's lock first, then the store's (as every eUICC
 * command), the change and its record under both, and the notifications it makes queued
 * in that commit; glue_finish() then delivers them without the store lock (a slow
 * SM-DP+ never keeps other commands off the store) and records the outcome.
 */
static int profile_op(struct app *app, int argc, char **argv, enum op op)
{
	static const char *const what[] = { "enabled", "disabled", "renamed" };
	const char *device = NULL, *path;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct device *d;
	struct glue_conn *c;
	char iccid[21];
	int rc = -1, r;

	if (app_parse_device_opt(app, argc, argv, &device, op == OP_NICKNAME ? 2 : 1, 1) < 0 ||
	    (op == OP_NICKNAME && app_check_text(app, "NICKNAME", argv[optind + 1], APP_NAME_MAX) < 0))
		return -1;
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (!(d = euicc_device(app, s, device)) || profile_iccid(app, s, argv[optind], iccid) < 0 ||
	    glue_hold(app, d) < 0)
		goto out;
	model_free(s);
	s = NULL;
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0 ||
	    !(d = euicc_device(app, s, device)) || profile_iccid(app, s, argv[optind], iccid) < 0)
		goto out;
	if (!(c = glue_held_conn(d))) {
		app_fail(app, ESIM_E_NOTFOUND, "device '%s' was changed while its eUICC was opened", device);
		esim_hint(&app->err, "run the command again");
		goto out;
	}
	/* From the eUICC's change until the commit, signals wait (glue_finish() lets them in). */
	glue_defer_signals();
	if (op == OP_ENABLE)
		r = es10_enable(&c->ctx, iccid, 1, &app->err);
	else if (op == OP_DISABLE)
		r = es10_disable(&c->ctx, iccid, 1, &app->err);
	else
		r = es10_set_nickname(&c->ctx, iccid, argv[optind + 1], &app->err);
	if (r < 0)
		goto out;
	if (op == OP_NICKNAME)
		sync_nickname(app, s, iccid, argv[optind + 1]);
	model_add_history(s, app->now, op == OP_ENABLE ? "euicc-enable" : op == OP_DISABLE ? "euicc-disable"
											: "euicc-nickname",
			  NULL, d->name, NULL, "ok", iccid);
	glue_changed(app, s, d);
	if (app->json) {
		cJSON_AddStringToObject(app->out, "iccid", iccid);
		cJSON_AddStringToObject(app->out, "result", what[op]);
	}
	app_print(app, "%s %s on '%s'\n", what[op], iccid, d->name);
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
out:
	if (txn)
		store_abort(txn);
	model_free(s);
	glue_finish(app, rc == 0 ? path : NULL);
	return rc;
}

int cmd_euicc_enable(struct app *app, int argc, char **argv)
{
	return profile_op(app, argc, argv, OP_ENABLE);
}

int cmd_euicc_disable(struct app *app, int argc, char **argv)
{
	return profile_op(app, argc, argv, OP_DISABLE);
}

int cmd_euicc_nickname(struct app *app, int argc, char **argv)
{
	return profile_op(app, argc, argv, OP_NICKNAME);
}

/* ---- euicc sync: the store follows what the eUICC really holds ---- */

struct sync_report {
	struct app *app;
	cJSON *changes;
	size_t n;
	int dry_run;
};

static cJSON *sync_change(struct sync_report *r, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One change: a line for people ("would ..." in a dry run) and an object for --json. */
static cJSON *sync_change(struct sync_report *r, const char *action, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddItemToArray(r->changes, o);
	r->n++;
	app_print(r->app, "  %s%s\n", r->dry_run ? "would: " : "", line);
	return o;
}

/* The carrier a profile's service provider name stands for, if the table knows it. */
static const char *guess_carrier(struct app *app, const char *spn, int *known)
{
	const struct carrier_table *t = app_carriers(app);
	const struct carrier_policy *c = t && spn ? carrier_find(t, spn) : NULL;

	*known = c != NULL;
	return c ? c->name : spn && *spn ? spn : "unknown";
}

/*
 * Compare s with the eUICC's profiles (ES10c.GetProfilesInfo, SGP.22 section 5.7.15) and
 * pending notifications (ES10b.ListNotification, section 5.7.9) and change s to agree.
 */
static void sync_apply(struct app *app, struct store *s, const char *dev, const struct es10_profile *cp, size_t ncp,
		       const struct lpa_notice *nl, size_t nn, struct sync_report *r)
{
	char detail[512];

	for (size_t i = 0; i < ncp; i++) {
		struct profile *p = NULL;
		struct binding **live = NULL;
		size_t nlive, k;
		int adopted = 0;

		if (!cp[i].iccid[0])
			continue;
		for (size_t j = 0; j < s->nprofiles && !p; j++)
			if (s->profiles[j].iccid && !strcmp(s->profiles[j].iccid, cp[i].iccid))
				p = &s->profiles[j];
		if (!p) {
			/* Installed by a command that was killed, or by another device's LPA: adopt it. */
			struct profile np;
			struct profile *other;
			struct esim_err e = { 0 };
			int known;
			const char *carrier = guess_carrier(app, cp[i].spn, &known);
			cJSON *o;

			memset(&np, 0, sizeof(np));
			model_profile_id(cp[i].iccid, np.id);
			if (model_profile_by_id(s, np.id)) {
				app_warn(app, "profile %s on the eUICC of '%s' cannot be adopted: id %s is taken",
					 cp[i].iccid, dev, np.id);
				continue;
			}
			np.iccid = xstrdup(cp[i].iccid);
			np.carrier = xstrdup(carrier);
			np.plan = PLAN_VOICE_DATA;
			if (cp[i].nickname && *cp[i].nickname &&
			    model_resolve_profile(s, cp[i].nickname, &other, &e) < 0 && e.status == ESIM_E_NOTFOUND)
				np.nickname = xstrdup(cp[i].nickname);
			np.provider = xstrdup(cp[i].spn);
			np.profile_name = xstrdup(cp[i].name);
			np.profile_class = xstrdup(es10_profile_class_name(cp[i].profile_class));
			np.created = app->now;
			if (known)
				snprintf(detail, sizeof(detail), "adopted from the eUICC of '%.64s' by euicc sync; carrier "
					 "'%.64s' guessed from the provider name '%.64s'", dev, carrier, cp[i].spn);
			else
				snprintf(detail, sizeof(detail), "adopted from the eUICC of '%.64s' by euicc sync; carrier "
					 "unknown (provider name '%.64s' is not in the carrier table)", dev,
					 cp[i].spn ? cp[i].spn : "none");
			np.review = xstrdup(detail);
			p = model_add_profile(s, &np);
			adopted = 1;
			o = sync_change(r, "adopt", "adopt profile %s (ICCID %s, %s%s%s, provider %s): carrier %s%s%s, "
					"marked for review", model_profile_shown_id(s, p), cp[i].iccid,
					es10_profile_state_name(cp[i].state),
					cp[i].name ? ", " : "", cp[i].name ? cp[i].name : "", cp[i].spn ? cp[i].spn : "-",
					carrier, known ? " (guessed)" : " (not in the carrier table)",
					p->nickname ? ", nickname from the eUICC" : "");
			cJSON_AddStringToObject(o, "profile", model_profile_shown_id(s, p));
			cJSON_AddStringToObject(o, "full_id", p->id);
			cJSON_AddStringToObject(o, "iccid", cp[i].iccid);
			cJSON_AddStringToObject(o, "state", es10_profile_state_name(cp[i].state));
			json_str(o, "provider", cp[i].spn);
			json_str(o, "profile_name", cp[i].name);
			json_str(o, "nickname", p->nickname);
			cJSON_AddStringToObject(o, "carrier", carrier);
			cJSON_AddBoolToObject(o, "carrier_known", known);
			cJSON_AddStringToObject(o, "review", detail);
			model_add_history(s, app->now, "euicc-sync", p->id, NULL, dev, "adopted", detail);
		}
		nlive = model_live_bindings_of_profile(s, p->id, &live);
		for (k = 0; k < nlive && strcmp(live[k]->device, dev); k++)
			;
		if (k == nlive) {
			cJSON *o;

			for (size_t j = 0; j < nlive; j++)
				app_warn(app, "profile %s is on the eUICC of '%s' but the store also binds it to '%s'",
					 model_profile_shown_id(s, p), dev, live[j]->device);
			binding_place(s, p->id, dev, app->now);
			if (!adopted) {   /* an adoption and its binding are one change */
				o = sync_change(r, "bind", "bind profile %s (ICCID %s) to '%s': it is on the eUICC",
						model_profile_shown_id(s, p),
						cp[i].iccid, dev);
				cJSON_AddStringToObject(o, "profile", model_profile_shown_id(s, p));
				cJSON_AddStringToObject(o, "full_id", p->id);
				cJSON_AddStringToObject(o, "iccid", cp[i].iccid);
				model_add_history(s, app->now, "euicc-sync", p->id, NULL, dev, "bound",
						  "found on the eUICC by euicc sync");
			}
		}
		free(live);
	}
	/* Bindings whose profile the eUICC no longer holds (deleted by a killed command, or elsewhere). */
	for (size_t i = 0; i < s->nbindings; i++) {
		struct binding *b = &s->bindings[i];
		const struct profile *p;
		size_t j;
		cJSON *o;

		if (b->state != BIND_ACTIVE || strcmp(b->device, dev) || !(p = model_profile_by_id(s, b->profile)))
			continue;
		if (!p->iccid) {
			app_warn(app, "profile %s is bound to '%s' but has no ICCID: it cannot be looked for on the eUICC",
				 model_profile_shown_id(s, p), dev);
			continue;
		}
		for (j = 0; j < ncp && strcmp(cp[j].iccid, p->iccid); j++)
			;
		if (j < ncp)
			continue;
		/* b is live on dev: binding_release() cannot fail here */
		(void)binding_release(s, p->id, dev, app->now, "no longer on the eUICC (found by euicc sync)",
				      NULL);
		o = sync_change(r, "gone", "release profile %s (ICCID %s) from '%s': it is no longer on the eUICC",
				model_profile_shown_id(s, p), p->iccid, dev);
		cJSON_AddStringToObject(o, "profile", model_profile_shown_id(s, p));
		cJSON_AddStringToObject(o, "full_id", p->id);
		cJSON_AddStringToObject(o, "iccid", p->iccid);
	}
	/* Notifications the eUICC holds and the store has not queued. */
	for (size_t i = 0; i < nn; i++) {
		const struct lpa_notice *x = &nl[i];
		size_t q;
		cJSON *o;

		for (q = 0; q < s->nnotifications; q++)
			if (!strcmp(s->notifications[q].device, dev) && s->notifications[q].seq == (int64_t)x->seq)
				break;
		if (q < s->nnotifications)
			continue;
		if (!x->tlv.len) {
			app_warn(app, "notification %llu on the eUICC of '%s' could not be read: %s",
				 (unsigned long long)x->seq, dev, x->err.msg);
			continue;
		}
		o = sync_change(r, "queue-notification", "queue notification %llu (%s%s%s) for %s",
				(unsigned long long)x->seq, es10_event_name(x->event), x->iccid[0] ? ", ICCID " : "",
				x->iccid, x->address);
		cJSON_AddNumberToObject(o, "seq", (double)x->seq);
		cJSON_AddStringToObject(o, "event", es10_event_name(x->event));
		json_str(o, "iccid", x->iccid[0] ? x->iccid : NULL);
		cJSON_AddStringToObject(o, "address", x->address);
		glue_queue_notice(app, s, dev, x, "imported from the eUICC by euicc sync");
		snprintf(detail, sizeof(detail), "notification %llu (%s) imported from the eUICC",
			 (unsigned long long)x->seq, es10_event_name(x->event));
		model_add_history(s, app->now, "euicc-sync", NULL, dev, NULL, "notification-queued", detail);
	}
}

int cmd_euicc_sync(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char *device = NULL, *path;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct device *d;
	struct glue_conn c = { .open = 0 };
	struct es10_profile *cp = NULL;
	struct lpa_notice *nl = NULL;
	size_t ncp = 0, nn = 0;
	struct sync_report r;
	char *dev = NULL;
	int rc = -1, ch;

	memset(&r, 0, sizeof(r));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': device = optarg; break;
		case 'n': r.dry_run = 1; break;
		default: return app_getopt_error(app, ch, argv);
		}
	}
	if (!device)
		return app_usage(app, "--device DEVICE is required");
	if (optind != argc)
		return app_usage(app, "unexpected argument '%s'", argv[optind]);
	if (!(path = app_store_path(app)) || !app_carriers(app) || store_load(path, &s, &app->err) < 0)
		return -1;
	/* The eUICC's lock first, then the store's (the order every eUICC command keeps). */
	if (!(d = euicc_device(app, s, device)) || glue_open(app, d, &c) < 0)
		goto out;
	dev = xstrdup(d->name);
	if (es10_get_profiles(&c.ctx, &cp, &ncp, &app->err) < 0 ||
	    lpa_process_notifications(&c.ctx, NULL, 0, &nl, &nn, &app->err) < 0)
		goto out;
	if (!r.dry_run) {
		char *uri = xstrdup(d->euicc);

		model_free(s);
		s = NULL;
		if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0) {
			free(uri);
			goto out;
		}
		d = model_device(s, dev);
		if (!d || !d->euicc || strcmp(d->euicc, uri)) {
			free(uri);
			app_fail(app, ESIM_E_NOTFOUND, "device '%s' was removed or changed while its eUICC was read", dev);
			esim_hint(&app->err, "run 'esimctl euicc sync --device %s' again", dev);
			goto out;
		}
		free(uri);
		app_promote_ready(s, app->now);
	}
	r.app = app;
	r.changes = cJSON_CreateArray();
	app_print(app, "eUICC of '%s' (%zu profile%s, %zu pending notification%s):\n", dev, ncp, ncp == 1 ? "" : "s",
		  nn, nn == 1 ? "" : "s");
	sync_apply(app, s, dev, cp, ncp, nl, nn, &r);
	if (!r.n)
		app_print(app, "  the store and the eUICC agree: nothing to change\n");
	else if (r.dry_run)
		app_print(app, "%zu change%s (dry run: nothing written)\n", r.n, r.n == 1 ? "" : "s");
	else
		app_print(app, "%zu change%s recorded\n", r.n, r.n == 1 ? "" : "s");
	if (app->json) {
		cJSON_AddStringToObject(app->out, "device", dev);
		cJSON_AddBoolToObject(app->out, "dry_run", r.dry_run);
		cJSON_AddBoolToObject(app->out, "in_agreement", r.n == 0);
		cJSON_AddItemToObject(app->out, "changes", r.changes);
		r.changes = NULL;
	}
	if (txn && r.n) {
		rc = store_commit(txn, s, &app->err);
		txn = NULL;
	} else {
		rc = 0;
	}
out:
	cJSON_Delete(r.changes);
	lpa_notices_free(nl, nn);
	es10_profiles_free(cp, ncp);
	glue_close(&c);
	if (txn)
		store_abort(txn);
	free(dev);
	model_free(s);
	return rc;
}

/* ---- euicc serve: the software eUICC as the card of a vpcd virtual reader ---- */

static volatile sig_atomic_t serve_stop;

static void serve_caught(int sig)
{
	(void)sig;
	serve_stop = 1;
}

static void serve_note(void *arg, const char *msg)
{
	app_note(arg, "esimctl: euicc serve: %s\n", msg);
}

int cmd_euicc_serve(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "atr", required_argument, NULL, 'a' },
		{ "vpcd", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	static const int sigs[] = { SIGINT, SIGTERM };
	const char *vpcd = VPCD_DEFAULT_HOST ":" VPCD_DEFAULT_PORT, *uri, *atr_hex = NULL;
	struct sigaction sa, old[2];
	struct buf normalized = BUF_INIT, atr = BUF_INIT;
	struct apdu_transport t;
	struct vpcd_serve s;
	char host[256], port[8], eid[33], aid_used[ISDR_AID_HEX];
	int c, rc = -1;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'a': atr_hex = optarg; break;
		case 'v': vpcd = optarg; break;
		default: return app_getopt_error(app, c, argv);
		}
	}
	if (optind != argc - 1)
		return app_usage(app, optind >= argc ? "missing the eUICC to serve (soft:PATH)" : "unexpected argument '%s'",
				 argv[optind + (optind < argc)]);
	uri = argv[optind];
	if (strncmp(uri, "soft:", 5) != 0 || !uri[5])
		return app_usage(app, "cannot serve '%s': only a software eUICC can be served (soft:PATH)", uri);
	if (vpcd_parse_address(vpcd, host, sizeof(host), port, sizeof(port), &app->err) < 0)
		return -1;
	if (atr_hex) {
		if (hex_decode(atr_hex, &atr) < 0 || atr.len < 2 || atr.len > 33 || atr.buf[0] != 0x3B) {
			buf_release(&atr);
			return app_usage(app, "--atr '%s': expected 2 to 33 bytes in hex starting with 3B", atr_hex);
		}
	}
	/* Reads the EID (and checks the state file) before the card is handed to vpcd. */
	if (backend_probe(app, uri, NULL, &normalized, eid, aid_used, &app->err) < 0)
		goto out;
	if (soft_euicc_open(normalized.buf + 5, &t, &app->err) < 0)
		goto out;
	if (!atr_hex)
		buf_add(&atr, t.atr, t.atrlen);   /* the software eUICC's own (soft.h) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_caught;  /* no SA_RESTART: poll() returns at once */
	sigemptyset(&sa.sa_mask);
	serve_stop = 0;
	for (size_t i = 0; i < 2; i++)
		sigaction(sigs[i], &sa, &old[i]);
	memset(&s, 0, sizeof(s));
	s.host = host;
	s.port = port;
	s.card = &t;
	s.atr = (const uint8_t *)atr.buf;
	s.atrlen = atr.len;
	s.stop = &serve_stop;
	s.note = serve_note;
	s.note_arg = app;
	app_note(app, "esimctl: euicc serve: serving eUICC %s (%s) as the card of vpcd at %s port %s\n",
		 eid, normalized.buf, host, port);
	rc = vpcd_serve(&s, &app->err);
	for (size_t i = 0; i < 2; i++)
		sigaction(sigs[i], &old[i], NULL);
	t.close(t.priv);
	if (rc == 0) {
		app_note(app, "esimctl: euicc serve: stopped after %lu APDUs\n", s.apdus);
		if (app->json) {
			cJSON *o = cJSON_AddObjectToObject(app->out, "serve");

			cJSON_AddStringToObject(o, "eid", eid);
			cJSON_AddStringToObject(o, "euicc", normalized.buf);
			cJSON_AddNumberToObject(o, "apdus", (double)s.apdus);
			cJSON_AddNumberToObject(o, "connections", (double)s.connections);
		}
	}
out:
	buf_release(&atr);
	buf_release(&normalized);
	return rc;
}
