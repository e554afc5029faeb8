/* device.c - esimctl device add | list | remove */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/plan.h"
#include "esimctl/ids.h"
#include "esimctl/isdr.h"
#include "esimctl/store.h"
#include "cli/rsp/backend.h"

static const char *const platforms[] = { "ios", "android", "windows", "macos", "linux", NULL };

static int valid_platform(const char *p)
{
	for (size_t i = 0; platforms[i]; i++)
		if (!strcmp(platforms[i], p))
			return 1;
	return 0;
}

int cmd_device_add(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "platform", required_argument, NULL, 'p' },
		{ "eid", required_argument, NULL, 'e' },
		{ "imei", required_argument, NULL, 'i' },
		{ "primary", no_argument, NULL, 'P' },
		{ "euicc", required_argument, NULL, 'u' },
		{ "isdr-aid", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	const char *kind = NULL, *platform = NULL, *eid = NULL, *imei = NULL, *euicc = NULL, *isdr_aid = NULL;
	char eid_buf[33] = "", aid_used[ISDR_AID_HEX] = "";
	uint8_t aid[ISDR_AID_MAX];
	size_t aidlen;
	struct buf euicc_uri = BUF_INIT;
	int primary = 0, c, rc = -1;
	struct device d;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	const char *path;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kind = optarg; break;
		case 'p': platform = optarg; break;
		case 'e': eid = optarg; break;
		case 'i': imei = optarg; break;
		case 'P': primary = 1; break;
		case 'u': euicc = optarg; break;
		case 'A': isdr_aid = optarg; break;
		default: return app_getopt_error(app, c, argv);
		}
	}
	if (optind != argc - 1)
		return app_usage(app, optind >= argc ? "missing the device NAME" : "unexpected argument '%s'",
				 argv[optind + (optind < argc)]);
	memset(&d, 0, sizeof(d));
	if (app_check_text(app, "device NAME", argv[optind], 0) < 0 || app_check_text(app, "--kind", kind, 0) < 0 ||
	    app_check_text(app, "--platform", platform, 0) < 0 || app_check_text(app, "--eid", eid, 0) < 0 ||
	    app_check_text(app, "--imei", imei, 0) < 0)
		return -1;
	if (model_valid_device_name(argv[optind], &app->err) < 0)
		return -1;
	if (!kind)
		return app_usage(app, "--kind is required: phone, tablet, watch, laptop or hotspot");
	if (device_kind_parse(kind, &d.kind) < 0)
		return app_usage(app, "--kind '%s': must be phone, tablet, watch, laptop or hotspot", kind);
	if (platform && !valid_platform(platform))
		return app_usage(app, "--platform '%s': must be ios, android, windows, macos or linux", platform);
	if (eid && eid_validate(eid, &app->err) < 0)
		return -1;
	if (imei && imei_validate(imei, &app->err) < 0)
		return -1;
	if (isdr_aid && !euicc)
		return app_usage(app, "--isdr-aid needs --euicc URI: the AID is selected on that eUICC");
	if (isdr_aid && isdr_aid_parse(isdr_aid, "--isdr-aid", aid, &aidlen, &app->err) < 0)
		return -1;
	if (euicc) {
		/* Reach the eUICC now: a device bound to an eUICC we cannot talk to is useless. */
		if (backend_probe(app, euicc, isdr_aid, &euicc_uri, eid_buf, aid_used, &app->err) < 0)
			goto out;
		if (eid && strcmp(eid, eid_buf)) {
			app_fail(app, ESIM_E_USAGE, "--eid %s does not match the eUICC's EID %s", eid, eid_buf);
			goto out;
		}
		eid = eid_buf;
	}
	if (!(path = app_store_path(app)))
		goto out;
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		goto out;
	app_promote_ready(s, app->now);
	if (model_device(s, argv[optind])) {
		app_fail(app, ESIM_E_USAGE, "a device named '%s' already exists", argv[optind]);
		esim_hint(&app->err, "pick another name, or remove it first with 'esimctl device remove %s'",
			  argv[optind]);
		goto out;
	}
	if (primary)
		for (size_t i = 0; i < s->ndevices; i++)
			s->devices[i].primary = 0;
	d.name = xstrdup(argv[optind]);
	d.platform = xstrdup(platform);
	d.eid = xstrdup(eid);
	d.imei = xstrdup(imei);
	d.primary = primary;
	d.euicc = euicc ? xstrdup(euicc_uri.buf) : NULL;
	/*
	 * The AID that answered, unless it is the standard one: given with --isdr-aid, or found
	 * among the known alternatives when the card refused the standard AID.
	 */
	if (euicc && isdr_aid_parse(aid_used, NULL, aid, &aidlen, NULL) == 0 && !isdr_aid_is_standard(aid, aidlen))
		d.isdr_aid = xstrdup(aid_used);
	d.created = app->now;
	model_add_device(s, &d);
	model_add_history(s, app->now, "device-add", NULL, NULL, argv[optind], "ok", device_kind_name(d.kind));
	if (d.kind == DEV_WATCH && !model_has_phone(s))
		app_warn(app, "watch '%s' runs in companion mode and needs a phone; none is in the inventory",
			 argv[optind]);
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (rc == 0) {
		if (app->json)
			cJSON_AddItemToObject(app->out, "device", json_device(s, model_device(s, argv[optind]), app->now));
		app_print(app, "added device '%s' (%s%s%s%s)\n", argv[optind], device_kind_name(d.kind),
			  platform ? ", " : "", platform ? platform : "", primary ? ", primary" : "");
		if (euicc)
			app_print(app, "eUICC %s, EID %s\n", euicc_uri.buf, eid);
		if (d.isdr_aid && !isdr_aid) {
			app_note(app, "the eUICC refused the standard ISD-R AID and answered under %s's "
				 "(%s): stored for this device\n", isdr_aid_vendor(aid, aidlen), d.isdr_aid);
		} else if (d.isdr_aid) {
			app_print(app, "ISD-R AID %s\n", d.isdr_aid);
		}
	}
out:
	if (txn)
		store_abort(txn);
	model_free(s);
	buf_release(&euicc_uri);
	return rc;
}

int cmd_device_list(struct app *app, int argc, char **argv)
{
	struct store *s = NULL;
	const char *path;
	cJSON *arr = NULL;

	if (argc > 1)
		return app_usage(app, "unexpected argument '%s'", argv[1]);
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (app->json)
		arr = cJSON_AddArrayToObject(app->out, "devices");
	if (!app->json && s->ndevices == 0)
		app_note(app, "no devices yet; add one with 'esimctl device add NAME --kind KIND'\n");
	else
		app_print(app, "%-16s %-8s %-8s %-8s %s\n", "NAME", "KIND", "PLATFORM", "PRIMARY", "HOLDS");
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];

		if (app->json) {
			cJSON_AddItemToArray(arr, json_device(s, d, app->now));
		} else {
			struct binding **b = NULL;
			size_t n = model_live_bindings_of_device(s, d->name, &b);
			struct buf holds = BUF_INIT;

			for (size_t j = 0; j < n; j++)
				buf_addf(&holds, "%s%s(%s)", j ? ", " : "", model_shown_id(s, b[j]->profile),
					 binding_state_name(app_effective_state(b[j], app->now)));
			printf("%-16s %-8s %-8s %-8s %s\n", d->name, device_kind_name(d->kind),
			       d->platform ? term_text(d->platform) : "-", d->primary ? "yes" : "no", n ? holds.buf : "-");
			free(b);
			buf_release(&holds);
		}
	}
	model_free(s);
	return 0;
}

int cmd_device_remove(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	int force = 0, c, rc = -1;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct binding **b = NULL;
	const char *path, *name;
	size_t n;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'f')
			force = 1;
		else
			return app_getopt_error(app, c, argv);
	}
	if (optind != argc - 1)
		return app_usage(app, optind >= argc ? "missing the device NAME" : "unexpected argument '%s'",
				 argv[optind + (optind < argc)]);
	name = argv[optind];
	if (app_check_text(app, "device NAME", name, 0) < 0)
		return -1;
	if (!(path = app_store_path(app)))
		return -1;
	if (store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		return -1;
	app_promote_ready(s, app->now);
	if (!app_find_device(app, s, name))
		goto out;
	n = model_live_bindings_of_device(s, name, &b);
	if (n && !force) {
		struct buf list = BUF_INIT;

		for (size_t i = 0; i < n; i++)
			buf_addf(&list, "%s%s", i ? ", " : "", model_shown_id(s, b[i]->profile));
		app_fail(app, ESIM_E_OTHER, "device '%s' still holds %zu profile%s (%s)", name, n,
			 n == 1 ? "" : "s", list.buf);
		esim_hint(&app->err, "release them first ('esimctl release --device %s --all'), or use --force",
			  name);
		buf_release(&list);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* b[i] stays valid: releasing adds no binding */
		if (binding_release(s, b[i]->profile, name, app->now, "device removed with --force",
				    &app->err) < 0)
			goto out;
		app_note(app, "released profile %s from '%s'\n", model_shown_id(s, b[i]->profile), name);
	}
	/*
	 * The released bindings stay: they are the record that the profile was on a device,
	 * which single-device carriers and cooldowns depend on (the loader accepts released
	 * bindings of removed devices).
	 */
	model_remove_device(s, name);
	model_add_history(s, app->now, "device-remove", NULL, name, NULL, "ok", force ? "forced" : NULL);
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (rc == 0) {
		if (app->json) {
			cJSON_AddStringToObject(app->out, "removed", name);
			cJSON_AddNumberToObject(app->out, "released", (double)n);
		}
		app_print(app, "removed device '%s'%s\n", name, n ? " (its profiles were released)" : "");
	}
out:
	free(b);
	if (txn)
		store_abort(txn);
	model_free(s);
	return rc;
}
