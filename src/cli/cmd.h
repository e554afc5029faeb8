/*
 * cmd.h - what the commands share: the app context, output helpers and prototypes.
 *
 * Only src/cli/ touches argv, stdout, stderr and exit statuses.  A command
 * returns 0, or -1 with app->err filled; main() prints the error and exits with
 * app->err.status.  With --json a command puts its result fields into app->out and
 * prints nothing on stdout itself: main() adds "ok" (and "error") and prints exactly
 * one document.
 */
#ifndef ESIMCTL_CMD_H
#define ESIMCTL_CMD_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "esimctl/buf.h"
#include "esimctl/carrier.h"
#include "esimctl/error.h"
#include "esimctl/model.h"

struct app {
	const char *store_arg;     /* --store */
	struct buf store_path;     /* resolved on first use */
	int json;                  /* --json */
	int quiet;                 /* --quiet: no notes or warnings on stderr */
	int show_secret;           /* --show-secret: print matching IDs unmasked */
	double wait_lock;          /* --wait-lock seconds */
	long timeout_ms;           /* --timeout: each SM-DP+ request, 0 = default */
	int64_t now;               /* the clock (ESIMCTL_NOW overrides) */
	const char **ca_files;     /* --ca FILE (repeatable) + $ESIMCTL_CA_FILE */
	size_t nca;
	int trust_system_ca;       /* --trust-system-ca / $ESIMCTL_TRUST_SYSTEM_CA=1 */
	int stdin_tty, stdout_tty, stderr_tty;
	const char *self_path;     /* /proc/self/exe, for the helper programs */
	const char *cmd_name;      /* "transfer", "device add", ... for messages */
	struct carrier_table *carriers; /* loaded on first use */
	cJSON *out;                /* --json result object */
	const char **known_smdp;   /* SM-DP+ addresses with ports, for glue_net() */
	size_t nknown_smdp;
	struct esim_err err;
};

/* The resolved store path (--store, $ESIMCTL_STORE, XDG default). */
const char *app_store_path(struct app *app);
/* The effective carrier table (built-in + user file); NULL with app->err on error. */
const struct carrier_table *app_carriers(struct app *app);
/* Path of the user carrier file: $ESIMCTL_CARRIERS, else $XDG_CONFIG_HOME/esimctl/carriers.json. */
void app_carriers_path(struct buf *out);

/* A warning: stderr "esimctl: warning: ..." (unless --quiet) and the JSON "warnings" array. */
void app_warn(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Human text on stdout; suppressed with --json. */
void app_print(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note on stderr for people (progress, hints); suppressed with --quiet and --json. */
void app_note(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set app->err and return -1. */
int app_fail(struct app *app, enum esim_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Usage error for the current command, with a pointer to --help. */
int app_usage(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * --json output printed while it is made, for documents that grow with the store: an
 * array member of the top-level object, one element at a time (app_json_array_add()
 * prints and deletes the element).  Members already in app->out are printed first, in
 * their order; what is added to app->out later comes after the streamed arrays, "ok"
 * last, so warnings (app_warn()) must come before the first app_json_array_begin().
 * Only with app->json; main.c (the document is one per process).
 */
void app_json_array_begin(struct app *app, const char *key);
void app_json_array_add(struct app *app, cJSON *item);
void app_json_array_end(struct app *app);

/* JSON helpers: add a string (NULL -> null), an ISO time (0 -> null). */
void json_str(cJSON *o, const char *k, const char *v);
void json_time(cJSON *o, const char *k, int64_t t);

/* Activation code text for output: masked unless --show-secret. */
void app_format_code(struct app *app, const struct actcode_packed *ac, struct buf *out);

/*
 * Secrets given to a command (secretin.c): read an activation code or confirmation code
 * of at most max bytes from FILE or "-" (stdin) into *out (heap, wipe with
 * app_drop_secret); take one from an argv string, which is overwritten in place so that
 * /proc/PID/cmdline no longer shows it.  app_can_prompt: a terminal to ask on.
 */
int app_read_secret(struct app *app, const char *opt, const char *path, size_t max, char **out);
int app_take_secret_arg(struct app *app, const char *opt, char *arg, size_t max, char **out);
void app_drop_secret(char **s);
int app_can_prompt(const struct app *app);
#define APP_CC_MAX 128   /* confirmation code, bytes */
#define APP_CODE_MAX 1024 /* activation code, bytes */

/* Parse a non-negative integer option value; usage error naming the option otherwise. */
int app_parse_int(struct app *app, const char *opt, const char *val, long min, long max, long *out);

/*
 * Promote pending bindings whose ready time has passed to active (recorded in history);
 * called by every store-changing command so the store reflects what list shows.
 */
void app_promote_ready(struct store *s, int64_t now);
/* Effective state of a binding at now (pending -> active once ready_at has passed). */
enum binding_state app_effective_state(const struct binding *b, int64_t now);

/* Look up a device or fail with ESIM_E_NOTFOUND and a hint. */
struct device *app_find_device(struct app *app, struct store *s, const char *name);
/* Policy of a profile's carrier; *unknown set when the default is used. */
const struct carrier_policy *app_policy_for(struct app *app, const char *carrier, int *unknown);

/*
 * Open and hold (glue_hold()) the eUICCs of the devices that hold profile `ref` (or, with
 * ref NULL, that device `only` holds), limited to `only` and never `except` when given,
 * before the store is locked: the eUICC's lock is always taken before the store's.
 * *held is set when one was held.  0, or -1 with app->err.
 */
int app_hold_euiccs(struct app *app, const char *path, const char *ref, const char *only,
		    const char *except, int *held);
/* How many eUICCs app_hold_euiccs() would hold, judged on a store already read. */
int app_euiccs_to_hold(struct store *s, const char *ref, const char *only, const char *except);

/* Commands. */
int cmd_add(struct app *app, int argc, char **argv);
int cmd_list(struct app *app, int argc, char **argv);
int cmd_transfer(struct app *app, int argc, char **argv);
int cmd_release(struct app *app, int argc, char **argv);
int cmd_qr(struct app *app, int argc, char **argv);
int cmd_device_add(struct app *app, int argc, char **argv);
int cmd_device_list(struct app *app, int argc, char **argv);
int cmd_device_remove(struct app *app, int argc, char **argv);
int cmd_carriers_list(struct app *app, int argc, char **argv);
int cmd_carriers_show(struct app *app, int argc, char **argv);
int cmd_notifications_list(struct app *app, int argc, char **argv);
int cmd_notifications_send(struct app *app, int argc, char **argv);
int cmd_notifications_remove(struct app *app, int argc, char **argv);
int cmd_euicc_create_soft(struct app *app, int argc, char **argv);
int cmd_euicc_info(struct app *app, int argc, char **argv);
int cmd_euicc_scan(struct app *app, int argc, char **argv);
int cmd_euicc_enable(struct app *app, int argc, char **argv);
int cmd_euicc_disable(struct app *app, int argc, char **argv);
int cmd_euicc_nickname(struct app *app, int argc, char **argv);
int cmd_euicc_sync(struct app *app, int argc, char **argv);
int cmd_euicc_serve(struct app *app, int argc, char **argv);

/* render.c: shared human/JSON rendering. */
/* "10-15 min", "10 min", "unknown", "none" */
void fmt_range(int min_s, int max_s, char *out, size_t outsz);
void fmt_cooldown(int s, char *out, size_t outsz);
cJSON *json_device(const struct store *s, const struct device *d, int64_t now);
/*
 * json_device() listing only the holdings keep() accepts (NULL: all).  With borrow, the
 * object refers to the model's strings instead of copying them: it must be deleted before
 * the model is changed or freed (list --json prints and deletes each one at once).
 */
cJSON *json_device_kept(const struct store *s, const struct device *d, int64_t now,
			int (*keep)(void *arg, const struct binding *b), void *arg, int borrow);
/* b/nb: the profile's live bindings (NULL: looked up). */
cJSON *json_profile(struct app *app, const struct store *s, const struct profile *p,
		    struct binding *const *b, size_t nb);
/*
 * json_profile() with the carrier policy already looked up (app_policy_for()); borrow as
 * for json_device_kept().
 */
cJSON *json_profile_policy(struct app *app, const struct store *s, const struct profile *p,
			  struct binding *const *lb, size_t nb, const struct carrier_policy *c,
			  int unknown, int borrow);
cJSON *json_carrier(const struct carrier_policy *c);
/*
 * Commands whose only option is --device D, with exactly npos positional arguments
 * (argv[optind]...); required: --device must be given.
 */
int app_parse_device_opt(struct app *app, int argc, char **argv, const char **device, int npos,
			 int required);
/* A queued notification as JSON. */
cJSON *json_notification(const struct pending_notification *n);
/*
 * Check a string the user gave for `what` ("--carrier", "PROFILE"): UTF-8 without control
 * characters (text.h), not empty, at most max_chars characters (0: APP_TEXT_MAX).  NULL
 * (not given) passes.  Otherwise a usage error naming `what` and the problem, without
 * echoing the bytes.
 */
#define APP_TEXT_MAX 256
#define APP_NAME_MAX 64          /* carrier, nickname */
int app_check_text(struct app *app, const char *what, const char *value, size_t max_chars);
/* --carrier C: app_check_text() and something left to match after normalising. */
int app_check_carrier(struct app *app, const char *what, const char *value);
/*
 * s as shown on a terminal (text_escape_term(): control characters and bytes that are
 * not UTF-8 made visible), for printf("%s").  Valid until 8 more calls; NULL gives NULL.
 */
const char *term_text(const char *s);
/* "did you mean 'EE' or 'Etisalat'?" for a carrier not in the table; empty when nothing is close. */
void app_carrier_suggestions(struct app *app, const char *name, struct buf *out);
/* A warning "carrier 'E': did you mean ...?" when name is not in the table but close to some. */
void app_warn_carrier_suggestions(struct app *app, const char *name);
/*
 * Human tables: cells are escaped and padded by display width (text.h), and the columns
 * fitted to the terminal (app_columns()).  Measure every cell, fit, then print the rows.
 */
struct tcol {
	const char *head;
	size_t min;         /* cut no narrower than this nor its heading (0: never cut) */
	size_t max;         /* nor measured wider (0: no limit) */
	size_t w;           /* measured, then fitted */
};
/* $COLUMNS, else the width of the terminal on stdout; 0 (no limit) for a pipe or file. */
size_t app_columns(const struct app *app);
void table_measure(struct tcol *c, const char *cell);
/* Narrow the widest columns (not below min), then the last, to fit app_columns(). */
void table_fit(const struct app *app, struct tcol *cols, size_t n);
/* One row: cells[i] of cols[i], two spaces apart, no trailing spaces, "\n" at the end. */
void table_row(struct buf *line, const struct tcol *cols, size_t n, const char *const *cells);
void table_head(struct buf *line, const struct tcol *cols, size_t n);
/* Standard getopt error handling: returns -1 with a usage error. */
int app_getopt_error(struct app *app, int c, char **argv);

#endif
