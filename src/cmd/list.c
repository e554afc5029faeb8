/* list.c - esimctl list [--device D] [--carrier C] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/jsonstream.h"
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

/*
 * Policies by carrier name as written in the store.  A store repeats a few names, and
 * app_policy_for() folds the name and scans the carrier table on every call.
 */
struct memo_slot {
	const char *name;        /* borrowed from a profile; NULL: empty slot */
	const struct carrier_policy *pol;
	int unknown;
	int match;               /* --carrier: this name is that carrier */
};

struct list_ctx {
	struct app *app;
	struct store *s;
	const char *device, *carrier;
	char want_key[128];
	const struct carrier_policy *want_pol;
	struct grouping g;
	struct memo_slot *memo;
	size_t memo_cap, memo_n; /* cap: a power of two */
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const struct memo_slot *policy_of(struct list_ctx *lc, const char *name)
{
	struct memo_slot *m;
	size_t mask, i;
	char key[128];

	if ((lc->memo_n + 1) * 2 > lc->memo_cap) {
		struct memo_slot *old = lc->memo;
		size_t oldcap = lc->memo_cap;

		lc->memo_cap = oldcap ? oldcap * 2 : 64;
		lc->memo = xcalloc(lc->memo_cap, sizeof(*lc->memo));
		for (size_t j = 0; j < oldcap; j++) {
			if (!old[j].name)
				continue;
			for (i = name_hash(old[j].name) & (lc->memo_cap - 1); lc->memo[i].name;
			     i = (i + 1) & (lc->memo_cap - 1))
				;
			lc->memo[i] = old[j];
		}
		free(old);
	}
	mask = lc->memo_cap - 1;
	for (i = name_hash(name) & mask; lc->memo[i].name; i = (i + 1) & mask)
		if (!strcmp(lc->memo[i].name, name))
			return &lc->memo[i];
	m = &lc->memo[i];
	m->name = name;
	m->pol = app_policy_for(lc->app, name, &m->unknown);
	if (lc->carrier) {
		/* names and aliases of one carrier match each other ("CMCC", "China Mobile") */
		carrier_key(name, key, sizeof(key));
		m->match = !strcmp(key, lc->want_key) ||
			   (lc->want_pol && carrier_find(app_carriers(lc->app), name) == lc->want_pol);
	}
	lc->memo_n++;
	return m;
}

/* NULL when the filters leave profile i out. */
static const struct memo_slot *shown(struct list_ctx *lc, size_t i)
{
	const struct memo_slot *m;

	if (lc->device && !bound_to(lc->g.ptrs + lc->g.start[i], lc->g.count[i], lc->device))
		return NULL;
	m = policy_of(lc, lc->s->profiles[i].carrier);
	return lc->carrier && !m->match ? NULL : m;
}

static void list_ctx_free(void *arg)
{
	struct list_ctx *lc = arg;

	group_free(&lc->g);
	free(lc->memo);
	model_free(lc->s);
	free(lc);
}

static void human_profile(struct app *app, const struct profile *p, const struct carrier_policy *c,
			  int unknown, struct binding *const *b, size_t n)
{
	struct buf where = BUF_INIT;
	char next[64];
	int64_t when;

	for (size_t i = 0; i < n; i++) {
		enum binding_state st = app_effective_state(b[i], app->now);

		if (i)
			buf_addstr(&where, ", ");
		buf_addstr(&where, b[i]->device);
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
	if (p->review)
		printf("          review: %s\n", p->review);
	buf_release(&where);
}

/* Output is built in a buffer and written out in pieces of about this size. */
#define LIST_CHUNK ((size_t)64 << 10)

static void flush_if_full(const struct app *app, struct buf *b, FILE *out, size_t min)
{
	if (b->len < min)
		return;
	fwrite(b->buf, 1, b->len, out);
	/* With --show-secret the text holds matching IDs. */
	if (app->show_secret)
		secure_wipe(b->buf, b->len);
	buf_reset(b);
}

/* "profiles": the array json_profile() would give, written piece by piece. */
static void write_profiles(void *arg, FILE *out)
{
	struct list_ctx *lc = arg;
	struct buf b = BUF_INIT;
	size_t n = 0;

	buf_grow(&b, LIST_CHUNK + 4096);
	buf_addch(&b, '[');
	for (size_t i = 0; i < lc->s->nprofiles; i++) {
		const struct memo_slot *m = shown(lc, i);

		if (!m)
			continue;
		if (n++)
			buf_addch(&b, ',');
		json_profile_text(lc->app, lc->s, &lc->s->profiles[i], lc->g.ptrs + lc->g.start[i],
				  lc->g.count[i], m->pol, m->unknown, &b);
		flush_if_full(lc->app, &b, out, LIST_CHUNK);
	}
	buf_addch(&b, ']');
	flush_if_full(lc->app, &b, out, 0);
	buf_release(&b);
}

static void write_devices(void *arg, FILE *out)
{
	struct list_ctx *lc = arg;
	struct buf b = BUF_INIT;
	size_t n = 0;

	buf_grow(&b, LIST_CHUNK + 4096);
	buf_addch(&b, '[');
	for (size_t i = 0; i < lc->s->ndevices; i++) {
		const struct device *d = &lc->s->devices[i];

		if (lc->device && strcmp(d->name, lc->device))
			continue;
		if (n++)
			buf_addch(&b, ',');
		json_device_text(lc->s, d, lc->app->now, &b);
		flush_if_full(lc->app, &b, out, LIST_CHUNK);
	}
	buf_addch(&b, ']');
	flush_if_full(lc->app, &b, out, 0);
	buf_release(&b);
}

static void list_human(struct list_ctx *lc)
{
	struct app *app = lc->app;
	const struct store *s = lc->s;
	size_t nshown = 0;

	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct memo_slot *m = shown(lc, i);

		if (!m)
			continue;
		/* the header only above profiles that are shown (filters may match none) */
		if (!nshown++)
			printf("%-8s  %-12s  %-14s  %-13s  %-10s  %-20s  %s\n", "PROFILE", "NICKNAME", "CARRIER",
			       "MODEL", "PLAN", "ICCID", "NEXT TRANSFER");
		human_profile(app, &s->profiles[i], m->pol, m->unknown, lc->g.ptrs + lc->g.start[i],
			      lc->g.count[i]);
	}
	if (s->ndevices)
		printf("%s%-16s %-8s %-8s %s\n", nshown ? "\n" : "", "DEVICE", "KIND", "PRIMARY", "HOLDS");
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];
		struct binding **b = NULL;
		struct buf holds = BUF_INIT;
		size_t n;

		if (lc->device && strcmp(d->name, lc->device))
			continue;
		n = model_live_bindings_of_device(s, d->name, &b);
		for (size_t j = 0; j < n; j++) {
			if (j)
				buf_addstr(&holds, ", ");
			buf_addstr(&holds, b[j]->profile);
		}
		printf("%-16s %-8s %-8s %s\n", d->name, device_kind_name(d->kind), d->primary ? "yes" : "no",
		       n ? holds.buf : "-");
		buf_release(&holds);
		free(b);
	}
	if (!s->nprofiles && !s->ndevices)
		app_note(app, "the store is empty; start with 'esimctl device add NAME --kind phone'\n");
	if (s->nnotifications)
		printf("\n%zu notification%s pending for the SM-DP+: run 'esimctl notifications send'\n",
		       s->nnotifications, s->nnotifications == 1 ? "" : "s");
}

int cmd_list(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "carrier", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *device = NULL, *carrier = NULL, *path;
	struct list_ctx *lc;
	struct store *s = NULL;
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
	if (!app_carriers(app) || (device && !app_find_device(app, s, device))) {
		model_free(s);
		return -1;
	}
	lc = xcalloc(1, sizeof(*lc));
	lc->app = app;
	lc->s = s;
	lc->device = device;
	lc->carrier = carrier;
	if (carrier) {
		carrier_key(carrier, lc->want_key, sizeof(lc->want_key));
		lc->want_pol = carrier_find(app_carriers(app), carrier);
	}
	group_bindings(s, &lc->g);
	if (!app->json) {
		list_human(lc);
		list_ctx_free(lc);
		return 0;
	}
	/*
	 * The arrays are written when main() prints the document (jsonstream.h): on a large
	 * store, as a cJSON tree they would take several times the store's memory.
	 */
	app_json_stream(app, "profiles", write_profiles, lc, NULL);
	app_json_stream(app, "devices", write_devices, lc, list_ctx_free);
	{
		cJSON *na = cJSON_AddArrayToObject(app->out, "pending_notifications");

		for (size_t i = 0; i < s->nnotifications; i++)
			cJSON_AddItemToArray(na, json_notification(&s->notifications[i]));
	}
	return 0;
}
