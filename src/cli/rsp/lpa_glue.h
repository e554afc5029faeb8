/*
 * lpa_glue.h - where the commands meet the SGP.22 code (src/cli/rsp/lpa_glue.c).
 *
 * Each function is a no-op returning 0 for devices without an eUICC backend, so the
 * commands read the same whether a device is only tracked in the store or reachable.
 * Notifications the SM-DP+ did not take are queued in the store (never dropped) and
 * retried by 'esimctl notifications send'.
 */
#ifndef ESIMCTL_LPA_GLUE_H
#define ESIMCTL_LPA_GLUE_H

#include "cli/cmd.h"
#include "esimctl/es10.h"
#include "esimctl/lpa.h"

/* 1 when the device has an eUICC backend. */
int glue_has_euicc(const struct device *d);

/* An open eUICC of a device. */
struct glue_conn {
	struct apdu_transport t;
	struct es10_ctx ctx;
	int open;
};
int glue_open(struct app *app, const struct device *d, struct glue_conn *c);
void glue_close(struct glue_conn *c);
/* Network settings for s's SM-DP+s (borrowed pointers valid while s and app live). */
void glue_net(struct app *app, const struct store *s, struct lpa_net *net);

/* transfer: can the move be carried out with the devices' eUICCs? */
int glue_transfer_check(struct app *app, struct store *s, const struct profile *p, const char *from,
			const struct device *to);
/* transfer: delete the profile on the source eUICC and notify the SM-DP+. */
int glue_transfer_release_source(struct app *app, struct store *s, struct profile *p, const char *from);
/*
 * release: disable + delete on the device's eUICC.  When the eUICC is held (glue_hold()),
 * SIGINT/SIGTERM/SIGHUP are deferred from here on and its notifications are queued in s
 * unsent: the caller commits s, then glue_finish() delivers them.  Otherwise they are sent
 * at once (and queued when that fails).
 */
int glue_release_on_device(struct app *app, struct store *s, struct profile *p, struct device *d);
/*
 * Record a downloaded profile p in s (the store re-read under its lock), bound to device,
 * taking p's strings; returns the recorded profile.  Provided by add.
 */
typedef struct profile *(*glue_record_fn)(struct app *app, struct store *s, struct profile *p,
					   const char *device);
/*
 * add: download the profile for ac into d's eUICC (ES9+/ES10) without holding the store
 * lock (s is the store as read when deciding; path is locked again to record).  Once the
 * eUICC has installed the profile, with SIGINT/SIGTERM/SIGHUP deferred from just before
 * the installation until the commit: the store at path is locked, re-read, p (filled with
 * iccid, provider, profile_name, profile_class) is recorded with record(), a transfer
 * waiting on this device for a new activation code is completed, the install
 * notification is queued, and the store is committed.  Then the notification is
 * delivered and its outcome recorded in a second commit, after the eUICC is closed.  cc
 * (the confirmation code or NULL) is wiped once the download has used it, before the
 * first commit.  0 with *final the committed
 * store (caller frees), or -1 with app->err.
 */
int glue_download(struct app *app, const char *path, const struct store *s, const struct actcode *ac,
		  const struct device *d, char *cc, struct profile *p, glue_record_fn record,
		  struct store **final);
/*
 * Defer SIGINT, SIGTERM and SIGHUP (blocked, not lost) while the eUICC and the store
 * disagree; glue_deliver_signals() lets any that arrived take effect.  Both idempotent.
 */
void glue_defer_signals(void);
void glue_deliver_signals(void);
/*
 * Open d's eUICC and keep it open (with its lock) until glue_finish(): commands call it
 * before store_begin(), so the eUICC's lock is always taken before the store's (as add
 * and euicc sync do) and no two commands wait on each other.  No-op without an eUICC.
 */
int glue_hold(struct app *app, const struct device *d);
/*
 * After the caller's commit (or when it gives up): let deferred signals take effect,
 * deliver the notifications of every held eUICC that changed (without the store lock),
 * record the outcome in the store at path in a short commit, and close them.  Returns 0.
 */
int glue_finish(struct app *app, const char *path);
/*
 * The caller is about to change d's held eUICC (glue_hold()) under the store lock: its
 * connection, or NULL when d is not the device held (it was changed in between).
 */
struct glue_conn *glue_held_conn(const struct device *d);
/*
 * After that change: queue the eUICC's notifications in s (committed by the caller before
 * anything goes over the network); glue_finish() delivers them.
 */
void glue_changed(struct app *app, struct store *s, const struct device *d);
/* Queue one notification the eUICC holds and that is not sent yet (no-op when queued). */
void glue_queue_notice(struct app *app, struct store *s, const char *dev, const struct lpa_notice *x,
		       const char *why);
/* Record the outcome of sending notices from device dev: queue the unsent, drop the sent. */
void glue_record_notices(struct app *app, struct store *s, const char *dev, struct lpa_notice *n,
			 size_t count);

#endif
