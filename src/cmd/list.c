/* list.c - esimctl list [--device D] [--carrier C] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "esimctl/policy.h"
#include "esimctl/store.h"
#include "esimctl/timeutil.h"

/*
 * Live bindings grouped by profile in one pass (profiles are indexed by id), so listing
 * stays linear in the store size.
 */
struct grouping {
	size_t *start;           /* per profile: first slot in ptrs */
	size_t *count;
	struct binding **ptrs;
};

static void group_bindings(const struct store *s, struct grouping *g)
{
	size_t *pidx = xcalloc(s->nbindings ? s->nbindings : 1, sizeof(*pidx));
	size_t total = 0, pos = 0;

	g->start = xcalloc(s->nprofiles + 1, sizeof(*g->start));
	g->count = xcalloc(s->nprofiles + 1, sizeof(*g->count));
	for (size_t i = 0; i < s->nbindings; i++) {
		struct profile *p;

		pidx[i] = (size_t)-1;
		if (s->bindings[i].state == BIND_RELEASED)
			continue;
		if (!(p = model_profile_by_id(s, s->bindings[i].profile)))
			continue;
		pidx[i] = (size_t)(p - s->profiles);
		g->count[pidx[i]]++;
		total++;
	}
	for (size_t i = 0; i < s->nprofiles; i++) {
		g->start[i] = pos;
		pos += g->count[i];
		g->count[i] = 0;
	}
	g->ptrs = xcalloc(total ? total : 1, sizeof(*g->ptrs));
	for (size_t i = 0; i < s->nbindings; i++) {
		if (pidx[i] == (size_t)-1)
			continue;
		g->ptrs[g->start[pidx[i]] + g->count[pidx[i]]++] = &s->bindings[i];
	}
	free(pidx);
}

static void group_free(struct grouping *g)
{
	free(g->start);
	free(g->count);
	free(g->ptrs);
}

static int bound_to(struct binding *const *b, size_t n, const char *device)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i]->device, device))
			return 1;
	return 0;
}

static void human_profile(struct app *app, const struct profile *p, struct binding *const *b, size_t n)
{
	const struct carrier_policy *c;
	struct buf where = BUF_INIT;
	char next[64];
	int unknown;
	int64_t when;

	c = app_policy_for(app, p->carrier, &unknown);
	for (size_t i = 0; i < n; i++) {
		enum binding_state st = app_effective_state(b[i], app->now);

		buf_addf(&where, "%s%s", i ? ", " : "", b[i]->device);
		if (st == BIND_PENDING && !b[i]->ready_at) {
			buf_addstr(&where, " (pending: awaiting a new activation code)");
		} else if (st == BIND_PENDING) {
			char iso[TIME_ISO_LEN];

			time_format(b[i]->ready_at, iso);
			buf_addf(&where, " (pending until %s)", iso);
		} else {
			buf_addf(&where, " (%s)", binding_state_name(st));
		}
	}
	if (c->model == MODEL_SINGLE_DEVICE) {
		snprintf(next, sizeof(next), "never (new profile)");
	} else {
		when = c->model == MODEL_SEQUENTIAL ? policy_next_transfer(c, p->last_transfer, app->now) : 0;
		if (when > app->now) {
			char iso[TIME_ISO_LEN], dur[32];

			time_format(when, iso);
			duration_format(when - app->now, dur, sizeof(dur));
			snprintf(next, sizeof(next), "%s (in %s)", iso, dur);
		} else {
			snprintf(next, sizeof(next), "now");
		}
	}
	printf("%-8s  %-12s  %-14s  %-13s  %-10s  %-20s  %s\n", p->id, p->nickname ? p->nickname : "-",
	       p->carrier, unknown ? "unknown" : carrier_model_name(c->model), plan_type_name(p->plan),
	       p->iccid ? p->iccid : "-", next);
	printf("          on: %s\n", n ? where.buf : "no device");
	buf_release(&where);
}

int cmd_list(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "carrier", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *device = NULL, *carrier = NULL, *path;
	char want_key[128] = "", key[128];
	const struct carrier_policy *want_pol = NULL;
	struct store *s = NULL;
	struct grouping g;
	cJSON *parr = NULL, *darr = NULL;
	size_t shown = 0;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'c': carrier = optarg; break;
		default: return app_getopt_error(app, c, argv);
		}
	}
	if (optind < argc)
		return app_usage(app, "unexpected argument '%s'", argv[optind]);
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (!app_carriers(app))
		goto fail;
	if (device && !app_find_device(app, s, device))
		goto fail;
	if (carrier) {
		carrier_key(carrier, want_key, sizeof(want_key));
		want_pol = carrier_find(app_carriers(app), carrier);
	}
	group_bindings(s, &g);
	if (app->json)
		parr = cJSON_AddArrayToObject(app->out, "profiles");
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct profile *p = &s->profiles[i];
		struct binding *const *b = g.ptrs + g.start[i];
		size_t n = g.count[i];

		if (device && !bound_to(b, n, device))
			continue;
		if (carrier) {
			/* names and aliases of one carrier match each other ("CMCC", "China Mobile") */
			carrier_key(p->carrier, key, sizeof(key));
			if (strcmp(key, want_key) &&
			    !(want_pol && carrier_find(app_carriers(app), p->carrier) == want_pol))
				continue;
		}
		/* the header only above profiles that are shown (filters may match none) */
		if (!app->json && !shown)
			printf("%-8s  %-12s  %-14s  %-13s  %-10s  %-20s  %s\n", "PROFILE", "NICKNAME", "CARRIER",
			       "MODEL", "PLAN", "ICCID", "NEXT TRANSFER");
		shown++;
		if (app->json)
			cJSON_AddItemToArray(parr, json_profile(app, s, p, b, n));
		else
			human_profile(app, p, b, n);
	}
	group_free(&g);
	if (app->json)
		darr = cJSON_AddArrayToObject(app->out, "devices");
	else if (s->ndevices)
		printf("%s%-16s %-8s %-8s %s\n", shown ? "\n" : "", "DEVICE", "KIND", "PRIMARY", "HOLDS");
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];

		if (device && strcmp(d->name, device))
			continue;
		if (app->json) {
			cJSON_AddItemToArray(darr, json_device(s, d, app->now));
		} else {
			struct binding **b = NULL;
			size_t n = model_live_bindings_of_device(s, d->name, &b);
			struct buf holds = BUF_INIT;

			for (size_t j = 0; j < n; j++)
				buf_addf(&holds, "%s%s", j ? ", " : "", b[j]->profile);
			printf("%-16s %-8s %-8s %s\n", d->name, device_kind_name(d->kind), d->primary ? "yes" : "no",
			       n ? holds.buf : "-");
			buf_release(&holds);
			free(b);
		}
	}
	if (app->json) {
		cJSON *na = cJSON_AddArrayToObject(app->out, "pending_notifications");

		for (size_t i = 0; i < s->nnotifications; i++)
			cJSON_AddItemToArray(na, json_notification(&s->notifications[i]));
	} else {
		if (!s->nprofiles && !s->ndevices)
			app_note(app, "the store is empty; start with 'esimctl device add NAME --kind phone'\n");
		if (s->nnotifications)
			printf("\n%zu notification%s pending for the SM-DP+: run 'esimctl notifications send'\n",
			       s->nnotifications, s->nnotifications == 1 ? "" : "s");
	}
	model_free(s);
	return 0;
fail:
	model_free(s);
	return -1;
}
