/*
 * render.c - rendering shared by list, device, carriers, transfer.
 *
 * Profiles and devices for --json are cJSON objects (json_profile(), json_device()), the
 * same for list, add and device.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "esimctl/policy.h"
#include "esimctl/timeutil.h"

static void fmt_dur(int s, char *out, size_t outsz)
{
	if (s % 3600 == 0 && s >= 3600)
		snprintf(out, outsz, "%d h", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, outsz, "%d min", s / 60);
	else
		snprintf(out, outsz, "%d s", s);
}

void fmt_range(int min_s, int max_s, char *out, size_t outsz)
{
	char a[32], b[32];

	if (min_s < 0 || max_s < 0) {
		snprintf(out, outsz, "unknown");
		return;
	}
	fmt_dur(min_s, a, sizeof(a));
	if (min_s == max_s) {
		snprintf(out, outsz, "%s", a);
		return;
	}
	fmt_dur(max_s, b, sizeof(b));
	/* "10-15 min" when both share the unit */
	if ((min_s % 3600 == 0 && max_s % 3600 == 0 && min_s) ||
	    (min_s % 3600 && max_s % 3600 && min_s % 60 == 0 && max_s % 60 == 0))
		snprintf(out, outsz, "%.*s-%s", (int)strcspn(a, " "), a, b);
	else
		snprintf(out, outsz, "%s-%s", a, b);
}

void fmt_cooldown(int s, char *out, size_t outsz)
{
	if (s < 0)
		snprintf(out, outsz, "unknown");
	else if (s == 0)
		snprintf(out, outsz, "none");
	else
		fmt_dur(s, out, outsz);
}

int app_getopt_error(struct app *app, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		return app_usage(app, "option '%s' needs a value", opt);
	if (optopt && optopt < 128 && optopt > 32)
		return app_usage(app, "unknown option '-%c'", optopt);
	return app_usage(app, "unknown option '%s'", opt);
}

/* ---- --json objects ---- */

/*
 * Members with literal keys, added without copying the key (json_str() does the same):
 * list --json builds tens of members per profile.
 */
static void add_str(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateString(v));
}

static void add_bool(cJSON *o, const char *k, int v)
{
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateBool(v));
}

cJSON *json_device(const struct store *s, const struct device *d, int64_t now)
{
	cJSON *o = cJSON_CreateObject(), *holds;
	struct binding **b = NULL;
	size_t n;

	add_str(o, "name", d->name);
	add_str(o, "kind", device_kind_name(d->kind));
	json_str(o, "platform", d->platform);
	json_str(o, "eid", d->eid);
	json_str(o, "imei", d->imei);
	add_bool(o, "primary", d->primary);
	json_str(o, "euicc", d->euicc);
	add_bool(o, "data_only", device_kind_data_only(d->kind));
	json_time(o, "created", d->created);
	holds = cJSON_AddArrayToObject(o, "holds");
	n = model_live_bindings_of_device(s, d->name, &b);
	for (size_t i = 0; i < n; i++) {
		cJSON *h = cJSON_CreateObject();

		add_str(h, "profile", b[i]->profile);
		add_str(h, "state", binding_state_name(app_effective_state(b[i], now)));
		cJSON_AddItemToArray(holds, h);
	}
	free(b);
	return o;
}

cJSON *json_carrier(const struct carrier_policy *c)
{
	cJSON *o = cJSON_CreateObject(), *a;

	cJSON_AddStringToObject(o, "name", c->name);
	json_str(o, "region", c->region);
	cJSON_AddStringToObject(o, "model", carrier_model_name(c->model));
	cJSON_AddNumberToObject(o, "max_devices", c->max_devices);
	cJSON_AddStringToObject(o, "cloud_sync", cloud_sync_name(c->cloud_sync));
	if (c->transfer_min_s >= 0) {
		cJSON_AddNumberToObject(o, "transfer_min_s", c->transfer_min_s);
		cJSON_AddNumberToObject(o, "transfer_max_s", c->transfer_max_s);
	} else {
		cJSON_AddNullToObject(o, "transfer_min_s");
		cJSON_AddNullToObject(o, "transfer_max_s");
	}
	if (c->cooldown_s >= 0)
		cJSON_AddNumberToObject(o, "cooldown_s", c->cooldown_s);
	else
		cJSON_AddNullToObject(o, "cooldown_s");
	if (c->reprov_min_s >= 0) {
		cJSON_AddNumberToObject(o, "reprovision_min_s", c->reprov_min_s);
		cJSON_AddNumberToObject(o, "reprovision_max_s", c->reprov_max_s);
	} else {
		cJSON_AddNullToObject(o, "reprovision_min_s");
		cJSON_AddNullToObject(o, "reprovision_max_s");
	}
	json_str(o, "reprovision", c->reprov_text);
	json_str(o, "notes", c->notes);
	a = cJSON_AddArrayToObject(o, "aliases");
	for (size_t i = 0; i < CARRIER_MAX_ALIASES && c->aliases[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(c->aliases[i]));
	cJSON_AddBoolToObject(o, "overridden", c->overridden);
	return o;
}

cJSON *json_profile_policy(struct app *app, const struct store *s, const struct profile *p,
			  struct binding *const *lb, size_t nb, const struct carrier_policy *c,
			  int unknown)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	struct binding **b = NULL;
	size_t n;
	int64_t next;

	json_str(o, "id", p->id);
	json_str(o, "iccid", p->iccid);
	json_str(o, "nickname", p->nickname);
	json_str(o, "carrier", p->carrier);
	add_bool(o, "carrier_known", !unknown);
	add_str(o, "model", carrier_model_name(c->model));
	add_str(o, "plan", plan_type_name(p->plan));
	if (p->has_ac) {
		cJSON *a = cJSON_AddObjectToObject(o, "activation_code");
		struct buf code = BUF_INIT;

		app_format_code(app, &p->ac, &code);
		add_str(a, "code", code.buf);
		add_str(a, "smdp", p->ac.smdp);
		if (app->show_secret) {
			add_str(a, "matching_id", p->ac.matching_id);
		} else {
			char masked[ACTCODE_FIELD_MAX + 1];

			actcode_mask(p->ac.matching_id, masked, sizeof(masked));
			add_str(a, "matching_id", masked);
		}
		add_bool(a, "masked", !app->show_secret);
		json_str(a, "oid", p->ac.oid[0] ? p->ac.oid : NULL);
		add_bool(a, "cc_required", p->ac.cc_required);
		if (app->show_secret)
			buf_wipe_release(&code);
		else
			buf_release(&code);
	} else {
		cJSON_AddItemToObjectCS(o, "activation_code", cJSON_CreateNull());
	}
	json_str(o, "provider", p->provider);
	json_str(o, "profile_name", p->profile_name);
	json_str(o, "profile_class", p->profile_class);
	json_time(o, "created", p->created);
	json_time(o, "last_transfer", p->last_transfer);
	next = c->model == MODEL_SEQUENTIAL ? policy_next_transfer(c, p->last_transfer, app->now) : 0;
	/* single-device profiles never move: a new profile must be ordered */
	add_bool(o, "transferable", c->model != MODEL_SINGLE_DEVICE);
	cJSON_AddItemToObjectCS(o, "cooldown_remaining_s",
				cJSON_CreateNumber(next > app->now ? (double)(next - app->now) : 0));
	if (c->model == MODEL_SINGLE_DEVICE)
		cJSON_AddItemToObjectCS(o, "next_transfer", cJSON_CreateNull());
	else
		json_time(o, "next_transfer", next > app->now ? next : app->now);
	arr = cJSON_AddArrayToObject(o, "bindings");
	if (lb) {
		n = nb;
	} else {
		n = model_live_bindings_of_profile(s, p->id, &b);
		lb = b;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		add_str(e, "device", lb[i]->device);
		add_str(e, "state", binding_state_name(app_effective_state(lb[i], app->now)));
		json_time(e, "since", lb[i]->since);
		json_time(e, "ready_at", lb[i]->ready_at);
		cJSON_AddItemToArray(arr, e);
	}
	free(b);
	return o;
}

cJSON *json_profile(struct app *app, const struct store *s, const struct profile *p,
		    struct binding *const *lb, size_t nb)
{
	int unknown;
	const struct carrier_policy *c = app_policy_for(app, p->carrier, &unknown);

	return json_profile_policy(app, s, p, lb, nb, c, unknown);
}

int app_parse_device_opt(struct app *app, int argc, char **argv, const char **device, int npos,
			 int required)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'd')
			*device = optarg;
		else
			return app_getopt_error(app, c, argv);
	}
	if (required && !*device)
		return app_usage(app, "--device DEVICE is required");
	if (argc - optind != npos)
		return app_usage(app, argc - optind < npos ? "missing argument" : "unexpected argument '%s'",
				 argv[argc - 1]);
	return 0;
}

cJSON *json_notification(const struct pending_notification *n)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "device", n->device);
	cJSON_AddNumberToObject(o, "seq", (double)n->seq);
	cJSON_AddStringToObject(o, "event", n->event);
	cJSON_AddStringToObject(o, "address", n->address);
	json_str(o, "iccid", n->iccid);
	json_time(o, "queued", n->queued);
	cJSON_AddNumberToObject(o, "attempts", n->attempts);
	json_str(o, "last_error", n->last_error);
	return o;
}
