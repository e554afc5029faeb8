/* list.c - esimctl list [--device D] [--carrier C] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/policy.h"
#include "esimctl/store.h"
#include "esimctl/text.h"
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

/* A device's binding b is listed: its profile passes the --carrier filter. */
static int holding_shown(struct list_ctx *lc, const struct binding *b)
{
	const struct profile *p;

	if (!lc->carrier)
		return 1;
	p = model_profile_by_id(lc->s, b->profile);
	return p && policy_of(lc, p->carrier)->match;
}

static int holding_kept(void *arg, const struct binding *b)
{
	return holding_shown(arg, b);
}

/* With --carrier, a device is listed when it holds a profile of that carrier. */
static int device_shown(struct list_ctx *lc, const struct device *d)
{
	struct binding **b = NULL;
	size_t n;
	int any = 0;

	if (lc->device && strcmp(d->name, lc->device))
		return 0;
	if (!lc->carrier)
		return 1;
	n = model_live_bindings_of_device(lc->s, d->name, &b);
	for (size_t j = 0; j < n && !any; j++)
		any = holding_shown(lc, b[j]);
	free(b);
	return any;
}

static void list_ctx_free(struct list_ctx *lc)
{

	group_free(&lc->g);
	free(lc->memo);
	model_free(lc->s);
	free(lc);
}

/* a then b into out (outsz > 0), cut to fit: printf's "%s%s" without parsing a format */
static void cat2(char *out, size_t outsz, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > outsz - 1)
		na = outsz - 1;
	if (nb > outsz - 1 - na)
		nb = outsz - 1 - na;
	memcpy(out, a, na);
	memcpy(out + na, b, nb);
	out[na + nb] = '\0';
}

/* "now", "never (new profile)" or "in 23 h 45 min (2026-11-22T10:00:00Z)" */
static void next_text(const struct app *app, const struct profile *p, const struct carrier_policy *c,
		      char *out, size_t outsz)
{
	int64_t when;

	if (c->model == MODEL_SINGLE_DEVICE) {
		cat2(out, outsz, "never (new profile)", "");
		return;
	}
	when = c->model == MODEL_SEQUENTIAL ? policy_next_transfer(c, p->last_transfer, app->now) : TIME_NONE;
	if (when > app->now) {
		char iso[TIME_ISO_LEN], dur[32];

		time_format(when, iso);
		duration_format(when - app->now, dur, sizeof(dur));
		snprintf(out, outsz, "in %s (%s)", dur, iso);
	} else {
		cat2(out, outsz, "now", "");
	}
}

/* Where a profile is: "phone (active), laptop (pending until ...)". */
static void where_text(const struct app *app, struct binding *const *b, size_t n, struct buf *where)
{
	for (size_t i = 0; i < n; i++) {
		enum binding_state st = app_effective_state(b[i], app->now);

		if (i)
			buf_addstr(where, ", ");
		text_escape_term(where, b[i]->device);
		if (st == BIND_PENDING && b[i]->ready_at == TIME_NONE) {
			buf_addstr(where, " (pending: awaiting a new activation code)");
		} else if (st == BIND_PENDING) {
			char iso[TIME_ISO_LEN];

			time_format(b[i]->ready_at, iso);
			buf_addf(where, " (pending until %s)", iso);
		} else {
			buf_addstr(where, " (");
			buf_addstr(where, binding_state_name(st));
			buf_addch(where, ')');
		}
	}
}

enum { PC_ID, PC_NICK, PC_CARRIER, PC_MODEL, PC_PLAN, PC_NEXT, PC_N };

/* The cells of a profile's row; model and next are written into the buffers given. */
static void profile_cells(const struct app *app, const struct store *s, const struct profile *p,
			  const struct memo_slot *m, char *model, size_t modelsz, char *next, size_t nextsz, const char *cells[PC_N])
{
	/* an unknown carrier gets the default's model, as in JSON, marked with a footnote */
	cat2(model, modelsz, carrier_model_name(m->pol->model), m->unknown ? "*" : "");
	next_text(app, p, m->pol, next, nextsz);
	cells[PC_ID] = model_profile_shown_id(s, p);
	cells[PC_NICK] = p->nickname ? p->nickname : "-";
	cells[PC_CARRIER] = p->carrier;
	cells[PC_MODEL] = model;
	cells[PC_PLAN] = plan_type_name(p->plan);
	cells[PC_NEXT] = next;
}

/*
 * "profiles", "devices" and "pending_notifications" of the --json document, printed one
 * element at a time: the output never exists as one tree.
 */
static void list_json(struct list_ctx *lc)
{
	struct app *app = lc->app;
	const struct store *s = lc->s;

	app_json_array_begin(app, "profiles");
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct memo_slot *m = shown(lc, i);

		if (m)
			app_json_array_add(app, json_profile_policy(app, s, &s->profiles[i],
								    lc->g.ptrs + lc->g.start[i],
								    lc->g.count[i], m->pol, m->unknown, 1));
	}
	app_json_array_end(app);
	app_json_array_begin(app, "devices");
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];

		if (device_shown(lc, d))
			app_json_array_add(app, json_device_kept(s, d, app->now,
								 lc->carrier ? holding_kept : NULL, lc, 1));
	}
	app_json_array_end(app);
	app_json_array_begin(app, "pending_notifications");
	for (size_t i = 0; i < s->nnotifications; i++)
		app_json_array_add(app, json_notification(&s->notifications[i]));
	app_json_array_end(app);
}

static void list_human(struct list_ctx *lc)
{
	struct app *app = lc->app;
	const struct store *s = lc->s;
	struct tcol pc[PC_N] = {
		{ "PROFILE", 0, 0, 0 }, { "NICKNAME", 8, 32, 0 }, { "CARRIER", 8, 32, 0 },
		{ "MODEL", 0, 0, 0 }, { "PLAN", 0, 0, 0 }, { "NEXT TRANSFER", 3, 0, 0 },
	};
	struct tcol dc[4] = {
		{ "DEVICE", 8, 32, 0 }, { "KIND", 0, 0, 0 }, { "PRIMARY", 0, 0, 0 }, { "HOLDS", 8, 0, 0 },
	};
	struct buf line = BUF_INIT, *holds = NULL;
	size_t nshown = 0, ndev = 0;
	int any_unknown = 0;

	/* measure, fit, print */
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct memo_slot *m = shown(lc, i);
		const char *cells[PC_N];
		char model[32], next[96];

		if (!m)
			continue;
		nshown++;
		profile_cells(app, s, &s->profiles[i], m, model, sizeof(model), next, sizeof(next), cells);
		for (size_t k = 0; k < PC_N; k++)
			table_measure(&pc[k], cells[k]);
	}
	table_fit(app, pc, PC_N);
	if (nshown)
		table_head(&line, pc, PC_N);
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct memo_slot *m = shown(lc, i);
		const struct profile *p = &s->profiles[i];
		const char *cells[PC_N];
		char model[32], next[96];
		struct buf where = BUF_INIT;
		size_t n = lc->g.count[i];

		if (!m)
			continue;
		any_unknown |= m->unknown;
		profile_cells(app, s, p, m, model, sizeof(model), next, sizeof(next), cells);
		table_row(&line, pc, PC_N, cells);
		where_text(app, lc->g.ptrs + lc->g.start[i], n, &where);
		buf_addstr(&line, "          on: ");
		buf_addstr(&line, n ? where.buf : "no device");
		buf_addch(&line, '\n');
		if (p->iccid) {
			buf_addstr(&line, "          ICCID ");
			text_escape_term(&line, p->iccid);
			buf_addch(&line, '\n');
		}
		if (p->review) {
			buf_addstr(&line, "          review: ");
			text_escape_term(&line, p->review);
			buf_addch(&line, '\n');
		}
		buf_release(&where);
		fwrite(line.buf, 1, line.len, stdout);
		buf_reset(&line);
	}
	if (any_unknown)
		buf_addstr(&line, "* carrier not in the table: the conservative default applies\n");

	/* devices: with --carrier, those holding a profile of that carrier, and only those */
	holds = xcalloc(s->ndevices ? s->ndevices : 1, sizeof(*holds));
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];
		struct binding **b = NULL;
		size_t n, kept = 0;

		if (lc->device && strcmp(d->name, lc->device))
			continue;
		n = model_live_bindings_of_device(s, d->name, &b);
		for (size_t j = 0; j < n; j++) {
			enum binding_state st = app_effective_state(b[j], app->now);

			if (!holding_shown(lc, b[j]))
				continue;
			if (kept++)
				buf_addstr(&holds[i], ", ");
			buf_addstr(&holds[i], model_shown_id(s, b[j]->profile));
			if (st != BIND_ACTIVE)
				buf_addf(&holds[i], " (%s)", binding_state_name(st));
		}
		free(b);
		if (lc->carrier && !kept)
			continue;
		if (!kept)
			buf_addstr(&holds[i], "-");
		ndev++;
		table_measure(&dc[0], d->name);
		table_measure(&dc[1], device_kind_name(d->kind));
		table_measure(&dc[2], d->primary ? "yes" : "no");
		table_measure(&dc[3], holds[i].buf);
	}
	table_fit(app, dc, 4);
	if (ndev) {
		if (nshown)
			buf_addch(&line, '\n');
		table_head(&line, dc, 4);
	}
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];
		const char *cells[4];

		if (!holds[i].len)
			continue;
		cells[0] = d->name;
		cells[1] = device_kind_name(d->kind);
		cells[2] = d->primary ? "yes" : "no";
		cells[3] = holds[i].buf;
		table_row(&line, dc, 4, cells);
		buf_release(&holds[i]);
	}
	free(holds);
	fwrite(line.buf, 1, line.len, stdout);
	buf_release(&line);
	if (!s->nprofiles && !s->ndevices) {
		app_note(app, "the store is empty; start with 'esimctl device add NAME --kind phone'\n");
	} else if (lc->carrier && !nshown) {
		struct buf dym = BUF_INIT, q = BUF_INIT;

		if (!lc->want_pol)
			app_carrier_suggestions(app, lc->carrier, &dym);
		text_escape_term(&q, lc->carrier);
		app_note(app, "no profile of carrier '%s'%s%s%s\n", q.buf, dym.len ? " (" : "", dym.buf,
			 dym.len ? ")" : "");
		buf_release(&dym);
		buf_release(&q);
	}
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
	if (app_check_text(app, "--device", device, 0) < 0 || app_check_carrier(app, "--carrier", carrier) < 0)
		return -1;
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
	list_json(lc);
	list_ctx_free(lc);
	return 0;
}
