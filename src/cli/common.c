/* common.c - helpers shared by the commands (see cmd.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/rsp/lpa_glue.h"
#include "esimctl/plan.h"
#include "esimctl/policy.h"
#include "esimctl/store.h"
#include "esimctl/text.h"
#include "esimctl/timeutil.h"
#include "store/safepath.h"

/*
 * The store holds matching IDs, which are bearer secrets.  esimctl writes it 0600, but
 * a copy or another tool may have opened it up: say so, with the fix.  (A writing command
 * replaces the file with a 0600 one anyway.)  Only for the user's own regular file: a
 * link, another user's file or a writable one is refused when it is opened, and a chmod
 * of a link's target would not be the fix.
 */
static void warn_exposed_store(struct app *app, const char *path)
{
	unsigned mode;

	if (!trust_exposed(path, &mode))
		return;
	app_warn(app, "store '%s' has mode %04o: other users can read the activation codes in it; "
		 "fix: chmod 600 '%s'", path, mode, path);
}

const char *app_store_path(struct app *app)
{
	if (!app->store_path.len) {
		struct esim_err e = { 0 };

		if (store_path(app->store_arg, &app->store_path, &e) < 0) {
			app->err = e;
			return NULL;
		}
		warn_exposed_store(app, app->store_path.buf);
	}
	return app->store_path.buf;
}

void app_carriers_path(struct buf *out)
{
	const char *p = getenv("ESIMCTL_CARRIERS");
	const char *xdg = getenv("XDG_CONFIG_HOME");

	buf_reset(out);
	if (p && *p)
		buf_addstr(out, p);
	else if (xdg && *xdg == '/')
		buf_addf(out, "%s/esimctl/carriers.json", xdg);
	else if (home_dir(out) == 0) /* never the working directory */
		buf_addstr(out, out->buf[out->len - 1] == '/' ? ".config/esimctl/carriers.json"
							    : "/.config/esimctl/carriers.json");
}

/*
 * The override file changes policy decisions, so it is a trusted file (safepath.h): the
 * user's or root's, in directories only they can change.  A symbolic link (dotfile
 * managers make them) is followed under the same rules.  Every problem is status 2, as
 * for an invalid file (esimctl(1) FILES).
 */
static const struct trust carriers_trust = {
	"carrier override file", ESIM_E_USAGE, TRUST_FOLLOW,
	"ESIMCTL_CARRIERS selects another file"
};

const struct carrier_table *app_carriers(struct app *app)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct esim_err e = { 0 };
	int rc = 1;

	if (app->carriers)
		return app->carriers;
	app_carriers_path(&path);
	/* No home at all: there is no user file, only the built-in table. */
	if (path.len)
		rc = trust_read_file(path.buf, &carriers_trust, &text, NULL, &e);
	if (rc < 0) {
		app->err = e;
		goto out;
	}
	if (carrier_table_new(rc == 1 ? NULL : text.buf, path.buf, &app->carriers, &e) < 0) {
		app->err = e;
		if (!app->err.hint[0])
			esim_hint(&app->err, "fix the file (format: docs/carriers-format.md) or move it away");
	}
out:
	buf_release(&path);
	buf_release(&text);
	return app->carriers;
}

const struct carrier_policy *app_policy_for(struct app *app, const char *carrier, int *unknown)
{
	/* One process, one carrier table: the default is derived from it once. */
	static struct carrier_policy unknown_policy;
	static const struct carrier_table *unknown_from;
	static int unknown_set;
	const struct carrier_table *t = app_carriers(app);
	const struct carrier_policy *p = t ? carrier_find(t, carrier) : NULL;

	*unknown = p == NULL;
	if (p)
		return p;
	if (!unknown_set || unknown_from != t) {
		policy_unknown_carrier(t, &unknown_policy);
		unknown_from = t;
		unknown_set = 1;
	}
	return &unknown_policy;
}

static void vwarn(struct app *app, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void vwarn(struct app *app, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (app->json) {
		cJSON *w = cJSON_GetObjectItemCaseSensitive(app->out, "warnings");

		if (!w)
			w = cJSON_AddArrayToObject(app->out, "warnings");
		cJSON_AddItemToArray(w, cJSON_CreateString(msg));
	}
	if (!app->quiet) {
		struct buf shown = BUF_INIT;

		text_escape_term(&shown, msg);    /* warnings quote names from the store */
		fprintf(stderr, "esimctl: warning: %s\n", shown.buf);
		buf_release(&shown);
	}
}

void app_warn(struct app *app, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(app, fmt, ap);
	va_end(ap);
}

void app_print(struct app *app, const char *fmt, ...)
{
	va_list ap;

	if (app->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void app_note(struct app *app, const char *fmt, ...)
{
	va_list ap;

	if (app->json || app->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int app_fail(struct app *app, enum esim_status st, const char *fmt, ...)
{
	va_list ap;

	esim_err_clear(&app->err);
	app->err.status = st;
	va_start(ap, fmt);
	vsnprintf(app->err.msg, sizeof(app->err.msg), fmt, ap);
	va_end(ap);
	return -1;
}

int app_usage(struct app *app, const char *fmt, ...)
{
	va_list ap;

	esim_err_clear(&app->err);
	app->err.status = ESIM_E_USAGE;
	va_start(ap, fmt);
	vsnprintf(app->err.msg, sizeof(app->err.msg), fmt, ap);
	va_end(ap);
	esim_hint(&app->err, "run 'esimctl help %s'", app->cmd_name ? app->cmd_name : "");
	return -1;
}

/* Keys are string literals: added without a copy (cJSON_AddItemToObjectCS()). */
void json_str(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObjectCS(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

void json_time(cJSON *o, const char *k, int64_t t)
{
	char iso[TIME_ISO_LEN];

	if (t == TIME_NONE) {
		cJSON_AddItemToObjectCS(o, k, cJSON_CreateNull());
		return;
	}
	time_format(t, iso);
	cJSON_AddItemToObjectCS(o, k, cJSON_CreateString(iso));
}

void app_format_code(struct app *app, const struct actcode_packed *ac, struct buf *out)
{
	actcode_packed_format(ac, !app->show_secret, out);
}

int app_parse_int(struct app *app, const char *opt, const char *val, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < min || v > max)
		return app_usage(app, "%s '%s': expected a whole number from %ld to %ld", opt, val, min, max);
	*out = v;
	return 0;
}

enum binding_state app_effective_state(const struct binding *b, int64_t now)
{
	if (b->state == BIND_PENDING && b->ready_at != TIME_NONE && b->ready_at <= now)
		return BIND_ACTIVE;
	return b->state;
}

void app_promote_ready(struct store *s, int64_t now)
{
	binding_promote(s, now);
}

struct device *app_find_device(struct app *app, struct store *s, const char *name)
{
	struct device *d = model_device(s, name);

	if (!d) {
		app_fail(app, ESIM_E_NOTFOUND, "no device named '%s'", name);
		esim_hint(&app->err, "run 'esimctl device list', or add it with 'esimctl device add %s --kind KIND'",
			  name);
	}
	return d;
}

/*
 * The eUICC devices app_hold_euiccs() holds for ref/only/except in store s: with app,
 * each is held (glue_hold()), else they are only counted.  The count, or -1 with app->err.
 */
static int euiccs_to_hold(struct app *app, struct store *s, const char *ref, const char *only,
			  const char *except)
{
	struct profile *p;
	struct binding **b = NULL;
	struct esim_err e = { 0 };
	size_t n = 0;
	int count = 0;

	if (!ref)
		n = model_live_bindings_of_device(s, only, &b);
	else if (model_resolve_profile(s, ref, &p, &e) == 0)
		n = model_live_bindings_of_profile(s, p->id, &b);
	for (size_t i = 0; i < n; i++) {
		const struct device *d = model_device(s, b[i]->device);

		if (glue_has_euicc(d) && (!only || !strcmp(only, d->name)) &&
		    (!except || strcmp(except, d->name))) {
			if (app && glue_hold(app, d) < 0) {
				count = -1;
				break;
			}
			count++;
		}
	}
	free(b);
	return count;
}

int app_euiccs_to_hold(struct store *s, const char *ref, const char *only, const char *except)
{
	return euiccs_to_hold(NULL, s, ref, only, except);
}

int app_hold_euiccs(struct app *app, const char *path, const char *ref, const char *only,
		    const char *except, int *held)
{
	struct store *s = NULL;
	struct esim_err e = { 0 };
	int n;

	/* Read without the lock: the locked pass decides again and opens what was not held. */
	if (store_load(path, &s, &e) < 0)
		return 0;
	n = euiccs_to_hold(app, s, ref, only, except);
	if (n != 0)
		*held = 1;
	model_free(s);
	return n < 0 ? -1 : 0;
}
