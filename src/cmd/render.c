/*
 * render.c - rendering shared by list, device, carriers, transfer.
 *
 * Profiles and devices are written as JSON text (json_*_text(), for list's output on
 * large stores, see jsonstream.h) and json_profile() / json_device() parse that text, so
 * both ways give the same document.
 */
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/jsonstream.h"
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

/* ---- JSON as text, exactly as cJSON_PrintUnformatted() prints it (jsonstream.h) ---- */

void json_text_str(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run;
	size_t n = 0;

	if (!s) {
		buf_add(out, "null", 4);
		return;
	}
	while (p[n] > 31 && p[n] != '"' && p[n] != '\\')
		n++;
	if (!p[n]) {
		/* nothing to escape: the usual case */
		buf_grow(out, n + 2);
		out->buf[out->len++] = '"';
		memcpy(out->buf + out->len, s, n);
		out->len += n;
		out->buf[out->len++] = '"';
		out->buf[out->len] = '\0';
		return;
	}
	buf_addch(out, '"');
	for (run = p; *p; p++) {
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

		if (*p > 31 && *p != '"' && *p != '\\')
			continue;
		n = 2;
		buf_add(out, run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			n = 6;
			break;
		}
		buf_add(out, esc, n);
	}
	buf_add(out, run, (size_t)(p - run));
	buf_addch(out, '"');
}

/* cJSON 1.7's print_number(): %d when the value equals its int, else %1.15g or %1.17g. */
void json_text_number(struct buf *out, double d)
{
	char text[32];
	int vi = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	double back = 0.0;

	if (isnan(d) || isinf(d)) {
		buf_add(out, "null", 4);
	} else if (d == (double)vi) {
		snprintf(text, sizeof(text), "%d", vi);
		buf_addstr(out, text);
	} else {
		snprintf(text, sizeof(text), "%1.15g", d);
		if (sscanf(text, "%lg", &back) != 1 ||
		    !(fabs(back - d) <= fmax(fabs(back), fabs(d)) * DBL_EPSILON))
			snprintf(text, sizeof(text), "%1.17g", d);
		buf_addstr(out, text);
	}
}

/* ,"key": (no comma for the first member) */
static void jkey(struct buf *out, const char *k)
{
	size_t n = strlen(k);
	char *w;

	buf_grow(out, n + 4);
	w = out->buf + out->len;
	if (out->len && w[-1] != '{')
		*w++ = ',';
	*w++ = '"';
	memcpy(w, k, n);
	w += n;
	*w++ = '"';
	*w++ = ':';
	*w = '\0';
	out->len = (size_t)(w - out->buf);
}

static void jstr(struct buf *out, const char *k, const char *v)
{
	jkey(out, k);
	json_text_str(out, v);
}

static void jbool(struct buf *out, const char *k, int v)
{
	jkey(out, k);
	if (v)
		buf_add(out, "true", 4);
	else
		buf_add(out, "false", 5);
}

/* An ISO time, null for 0 (json_time()). */
static void jtime(struct buf *out, const char *k, int64_t t)
{
	char iso[TIME_ISO_LEN];

	jkey(out, k);
	if (!t) {
		buf_add(out, "null", 4);
		return;
	}
	time_format(t, iso);
	json_text_str(out, iso);
}

/* The text as a tree, for callers that add to the document. */
static cJSON *parse_text(struct buf *text)
{
	cJSON *o = cJSON_ParseWithLength(text->buf, text->len);

	if (!o)
		abort(); /* the writers above only write valid JSON; cJSON failed to allocate */
	return o;
}

void json_device_text(const struct store *s, const struct device *d, int64_t now, struct buf *out)
{
	struct binding **b = NULL;
	size_t n;

	buf_addch(out, '{');
	jstr(out, "name", d->name);
	jstr(out, "kind", device_kind_name(d->kind));
	jstr(out, "platform", d->platform);
	jstr(out, "eid", d->eid);
	jstr(out, "imei", d->imei);
	jbool(out, "primary", d->primary);
	jstr(out, "euicc", d->euicc);
	jbool(out, "data_only", device_kind_data_only(d->kind));
	jtime(out, "created", d->created);
	jkey(out, "holds");
	buf_addch(out, '[');
	n = model_live_bindings_of_device(s, d->name, &b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(out, ',');
		buf_addch(out, '{');
		jstr(out, "profile", b[i]->profile);
		jstr(out, "state", binding_state_name(app_effective_state(b[i], now)));
		buf_addch(out, '}');
	}
	buf_add(out, "]}", 2);
	free(b);
}

cJSON *json_device(const struct store *s, const struct device *d, int64_t now)
{
	struct buf text = BUF_INIT;
	cJSON *o;

	json_device_text(s, d, now, &text);
	o = parse_text(&text);
	buf_release(&text);
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

void json_profile_text(struct app *app, const struct store *s, const struct profile *p,
		       struct binding *const *lb, size_t nb, const struct carrier_policy *c,
		       int unknown, struct buf *out)
{
	struct binding **b = NULL;
	size_t n;
	int64_t next;

	buf_addch(out, '{');
	jstr(out, "id", p->id);
	jstr(out, "iccid", p->iccid);
	jstr(out, "nickname", p->nickname);
	jstr(out, "carrier", p->carrier);
	jbool(out, "carrier_known", !unknown);
	jstr(out, "model", carrier_model_name(c->model));
	jstr(out, "plan", plan_type_name(p->plan));
	jkey(out, "activation_code");
	if (p->has_ac) {
		struct buf code = BUF_INIT;

		app_format_code(app, &p->ac, &code);
		buf_addch(out, '{');
		jstr(out, "code", code.buf);
		jstr(out, "smdp", p->ac.smdp);
		if (app->show_secret) {
			jstr(out, "matching_id", p->ac.matching_id);
		} else {
			char masked[ACTCODE_FIELD_MAX + 1];

			actcode_mask(p->ac.matching_id, masked, sizeof(masked));
			jstr(out, "matching_id", masked);
		}
		jbool(out, "masked", !app->show_secret);
		jstr(out, "oid", p->ac.oid[0] ? p->ac.oid : NULL);
		jbool(out, "cc_required", p->ac.cc_required);
		buf_addch(out, '}');
		if (app->show_secret)
			buf_wipe_release(&code);
		else
			buf_release(&code);
	} else {
		buf_add(out, "null", 4);
	}
	jstr(out, "provider", p->provider);
	jstr(out, "profile_name", p->profile_name);
	jstr(out, "profile_class", p->profile_class);
	jtime(out, "created", p->created);
	jtime(out, "last_transfer", p->last_transfer);
	if (p->review)   /* only when set: the document is unchanged for other profiles */
		jstr(out, "review", p->review);
	next = c->model == MODEL_SEQUENTIAL ? policy_next_transfer(c, p->last_transfer, app->now) : 0;
	/* single-device profiles never move: a new profile must be ordered */
	jbool(out, "transferable", c->model != MODEL_SINGLE_DEVICE);
	jkey(out, "cooldown_remaining_s");
	json_text_number(out, next > app->now ? (double)(next - app->now) : 0);
	if (c->model == MODEL_SINGLE_DEVICE)
		jstr(out, "next_transfer", NULL);
	else
		jtime(out, "next_transfer", next > app->now ? next : app->now);
	jkey(out, "bindings");
	buf_addch(out, '[');
	if (lb) {
		n = nb;
	} else {
		n = model_live_bindings_of_profile(s, p->id, &b);
		lb = b;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(out, ',');
		buf_addch(out, '{');
		jstr(out, "device", lb[i]->device);
		jstr(out, "state", binding_state_name(app_effective_state(lb[i], app->now)));
		jtime(out, "since", lb[i]->since);
		jtime(out, "ready_at", lb[i]->ready_at);
		buf_addch(out, '}');
	}
	buf_add(out, "]}", 2);
	free(b);
}

cJSON *json_profile(struct app *app, const struct store *s, const struct profile *p,
		    struct binding *const *lb, size_t nb)
{
	const struct carrier_policy *c;
	struct buf text = BUF_INIT;
	int unknown;
	cJSON *o;

	c = app_policy_for(app, p->carrier, &unknown);
	json_profile_text(app, s, p, lb, nb, c, unknown, &text);
	o = parse_text(&text);
	/* With --show-secret the text holds the matching ID. */
	buf_wipe_release(&text);
	return o;
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
