/*
 * render.c - rendering shared by list, device, carriers, transfer.
 *
 * Profiles and devices for --json are cJSON objects (json_profile(), json_device()), the
 * same for list, add and device.
 */
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "esimctl/jsonnum.h"
#include "esimctl/policy.h"
#include "esimctl/text.h"
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

int app_check_text(struct app *app, const char *what, const char *value, size_t max_chars)
{
	struct text_check c;

	if (!value)
		return 0;
	if (!max_chars)
		max_chars = APP_TEXT_MAX;
	if (!value[0])
		return app_usage(app, "%s: must not be empty", what);
	if (text_check(value, &c) < 0) {
		if (c.problem == TEXT_BAD_UTF8) {
			app_usage(app, "%s: not valid UTF-8 (byte 0x%02x at character %zu)", what,
				  (unsigned)c.value, c.chars + 1);
			return esim_hint(&app->err, "give UTF-8 text: check the encoding of the terminal or script");
		}
		app_usage(app, "%s: control character U+%04X at character %zu is not allowed", what,
			  (unsigned)c.value, c.chars + 1);
		return esim_hint(&app->err, "give printable text: no escape sequences, tabs, newlines or "
				 "direction overrides");
	}
	if (c.chars > max_chars)
		return app_usage(app, "%s: too long (%zu characters, at most %zu)", what, c.chars, max_chars);
	return 0;
}

int app_check_carrier(struct app *app, const char *what, const char *value)
{
	if (app_check_text(app, what, value, APP_NAME_MAX) < 0)
		return -1;
	if (value && carrier_name_blank(value))
		return app_usage(app, "%s '%s': must contain a letter or digit", what, value);
	return 0;
}

const char *term_text(const char *s)
{
	static struct buf ring[8];
	static unsigned next;
	struct buf *b;
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return NULL;
	while (*p >= 0x20 && *p < 0x7f)
		p++;
	if (!*p)
		return s;            /* printable ASCII: as it is */
	b = &ring[next++ % 8];
	buf_reset(b);
	text_escape_term(b, s);
	return b->buf;
}

void app_carrier_suggestions(struct app *app, const char *name, struct buf *out)
{
	const struct carrier_table *t = app_carriers(app);
	const struct carrier_policy *s[CARRIER_SUGGEST_MAX];
	size_t n = t ? carrier_suggest(t, name, s, CARRIER_SUGGEST_MAX) : 0;

	buf_reset(out);
	for (size_t i = 0; i < n; i++)
		buf_addf(out, "%s'%s'", i == 0 ? "did you mean " : i + 1 == n ? " or " : ", ", s[i]->name);
	if (n)
		buf_addch(out, '?');
}

size_t app_columns(const struct app *app)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && *env) {
		char *end;
		unsigned long v = strtoul(env, &end, 10);

		if (!*end && v > 0 && v < 100000)
			return (size_t)v;
	}
	if (app->stdout_tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

void table_measure(struct tcol *c, const char *cell)
{
	size_t w = text_width(cell ? cell : "");

	if (c->max && w > c->max)
		w = c->max;
	if (w > c->w)
		c->w = w;
}

#define TABLE_GAP 2

void table_fit(const struct app *app, struct tcol *cols, size_t n)
{
	size_t limit = app_columns(app), total = 0;

	for (size_t i = 0; i < n; i++) {
		size_t h = text_width(cols[i].head);

		if (cols[i].w < h)
			cols[i].w = h;
		if (cols[i].min && cols[i].min < h)
			cols[i].min = h;            /* headings are never cut */
		if (!cols[i].min || cols[i].min > cols[i].w)
			cols[i].min = cols[i].w;
		total += cols[i].w + (i ? TABLE_GAP : 0);
	}
	if (!limit || !n)
		return;
	/* the widest column that can give a character gives one, until the table fits */
	while (total > limit) {
		size_t best = n;

		for (size_t i = 0; i + 1 < n; i++)
			if (cols[i].w > cols[i].min && (best == n || cols[i].w > cols[best].w))
				best = i;
		if (best == n)
			break;
		cols[best].w--;
		total--;
	}
	/* the last column takes what is left, but at least its minimum */
	if (total > limit) {
		size_t cut = total - limit;
		size_t room = cols[n - 1].w > cols[n - 1].min ? cols[n - 1].w - cols[n - 1].min : 0;

		cols[n - 1].w -= cut < room ? cut : room;
	}
}

void table_row(struct buf *line, const struct tcol *cols, size_t n, const char *const *cells)
{
	size_t pending = 0;      /* spaces owed: written only before a later non-empty cell */

	for (size_t i = 0; i < n; i++) {
		const char *c = cells[i] ? cells[i] : "";
		size_t used;

		if (i)
			pending += TABLE_GAP;
		if (!*c) {
			pending += cols[i].w;
			continue;
		}
		if (pending) {
			buf_grow(line, pending);
			memset(line->buf + line->len, ' ', pending);
			line->len += pending;
			line->buf[line->len] = '\0';
			pending = 0;
		}
		used = text_fit(line, c, cols[i].w, 0);
		pending = used < cols[i].w ? cols[i].w - used : 0;
	}
	buf_addch(line, '\n');
}

void table_head(struct buf *line, const struct tcol *cols, size_t n)
{
	const char *heads[16];

	for (size_t i = 0; i < n && i < 16; i++)
		heads[i] = cols[i].head;
	table_row(line, cols, n < 16 ? n : 16, heads);
}

void app_warn_carrier_suggestions(struct app *app, const char *name)
{
	const struct carrier_table *t = app_carriers(app);
	struct buf dym = BUF_INIT;

	if (!name || !t || carrier_find(t, name))
		return;
	app_carrier_suggestions(app, name, &dym);
	if (dym.len)
		app_warn(app, "carrier '%s' is not in the table: %s", name, dym.buf);
	buf_release(&dym);
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

/* A value that is a string literal (an enum's name): not copied either. */
static void add_lit(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateStringReference(v));
}

/*
 * A string of the model: copied, or with borrow referenced (the object is deleted before
 * the model changes, see cmd.h).  NULL: null when nullable, else no member (as
 * add_str()).
 */
static void add_model(cJSON *o, const char *k, const char *v, int borrow, int nullable)
{
	if (!v) {
		if (nullable)
			cJSON_AddItemToObjectCS(o, k, cJSON_CreateNull());
		return;
	}
	cJSON_AddItemToObjectCS(o, k, borrow ? cJSON_CreateStringReference(v) : cJSON_CreateString(v));
}

static void add_bool(cJSON *o, const char *k, int v)
{
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateBool(v));
}

cJSON *json_device(const struct store *s, const struct device *d, int64_t now)
{
	return json_device_kept(s, d, now, NULL, NULL, 0);
}

cJSON *json_device_kept(const struct store *s, const struct device *d, int64_t now,
			int (*keep)(void *arg, const struct binding *b), void *arg, int borrow)
{
	cJSON *o = cJSON_CreateObject(), *holds;
	struct binding **b = NULL;
	size_t n;

	add_model(o, "name", d->name, borrow, 0);
	add_lit(o, "kind", device_kind_name(d->kind));
	add_model(o, "platform", d->platform, borrow, 1);
	add_model(o, "eid", d->eid, borrow, 1);
	add_model(o, "imei", d->imei, borrow, 1);
	add_bool(o, "primary", d->primary);
	add_model(o, "euicc", d->euicc, borrow, 1);
	if (d->isdr_aid)   /* only when set: older consumers see the same object */
		add_model(o, "isdr_aid", d->isdr_aid, borrow, 0);
	add_bool(o, "data_only", device_kind_data_only(d->kind));
	json_time(o, "created", d->created);
	holds = cJSON_AddArrayToObject(o, "holds");
	n = model_live_bindings_of_device(s, d->name, &b);
	for (size_t i = 0; i < n; i++) {
		cJSON *h;

		if (keep && !keep(arg, b[i]))
			continue;
		h = cJSON_CreateObject();
		add_model(h, "profile", model_shown_id(s, b[i]->profile), borrow, 0);
		add_lit(h, "state", binding_state_name(app_effective_state(b[i], now)));
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
			  int unknown, int borrow)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	struct binding **b = NULL;
	size_t n;
	int64_t next;

	add_model(o, "id", model_profile_shown_id(s, p), borrow, 1);
	add_model(o, "full_id", p->id, borrow, 1);
	add_model(o, "iccid", p->iccid, borrow, 1);
	add_model(o, "nickname", p->nickname, borrow, 1);
	add_model(o, "carrier", p->carrier, borrow, 1);
	add_bool(o, "carrier_known", !unknown);
	add_lit(o, "model", carrier_model_name(c->model));
	add_lit(o, "plan", plan_type_name(p->plan));
	if (p->ac) {
		cJSON *a = cJSON_AddObjectToObject(o, "activation_code");
		struct buf code = BUF_INIT;

		app_format_code(app, p->ac, &code);
		add_str(a, "code", code.buf);
		add_model(a, "smdp", p->ac->smdp, borrow, 0);
		if (app->show_secret) {
			add_model(a, "matching_id", p->ac->matching_id, borrow, 0);
		} else {
			char masked[ACTCODE_FIELD_MAX + 1];

			actcode_mask(p->ac->matching_id, masked, sizeof(masked));
			add_str(a, "matching_id", masked);
		}
		add_bool(a, "masked", !app->show_secret);
		add_model(a, "oid", p->ac->oid[0] ? p->ac->oid : NULL, borrow, 1);
		add_bool(a, "cc_required", p->ac->cc_required);
		if (app->show_secret)
			buf_wipe_release(&code);
		else
			buf_release(&code);
	} else {
		cJSON_AddItemToObjectCS(o, "activation_code", cJSON_CreateNull());
	}
	add_model(o, "provider", p->provider, borrow, 1);
	add_model(o, "profile_name", p->profile_name, borrow, 1);
	add_model(o, "profile_class", p->profile_class, borrow, 1);
	json_time(o, "created", p->created);
	json_time(o, "last_transfer", p->last_transfer);
	if (p->review)   /* only when set: the document is unchanged for other profiles */
		add_model(o, "review", p->review, borrow, 1);
	next = c->model == MODEL_SEQUENTIAL ? policy_next_transfer(c, p->last_transfer, app->now) : TIME_NONE;
	/* single-device profiles never move: a new profile must be ordered */
	add_bool(o, "transferable", c->model != MODEL_SINGLE_DEVICE);
	cJSON_AddItemToObjectCS(o, "cooldown_remaining_s",
				json_number_int(next > app->now ? next - app->now : 0));
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

		add_model(e, "device", lb[i]->device, borrow, 0);
		add_lit(e, "state", binding_state_name(app_effective_state(lb[i], app->now)));
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

	return json_profile_policy(app, s, p, lb, nb, c, unknown, 0);
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
	if (app_check_text(app, "--device", *device, 0) < 0)
		return -1;
	for (int i = optind; i < argc; i++)
		if (app_check_text(app, "argument", argv[i], 0) < 0)
			return -1;
	if (argc - optind != npos)
		return app_usage(app, argc - optind < npos ? "missing argument" : "unexpected argument '%s'",
				 argv[argc - 1]);
	return 0;
}

cJSON *json_notification(const struct pending_notification *n)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "device", n->device);
	cJSON_AddItemToObjectCS(o, "seq", json_number_int(n->seq));
	cJSON_AddStringToObject(o, "event", n->event);
	cJSON_AddStringToObject(o, "address", n->address);
	json_str(o, "iccid", n->iccid);
	json_time(o, "queued", n->queued);
	cJSON_AddItemToObjectCS(o, "attempts", json_number_int(n->attempts));
	json_str(o, "last_error", n->last_error);
	return o;
}
