/*
 * lpa.h - the SGP.22 procedures an LPA runs: profile download (ES9+ and ES10b together),
 * profile deletion, and the notification queue.
 *
 * These functions drive an open struct es10_ctx (the eUICC) and open ES9+ sessions as
 * needed; they never touch the store.  The caller records what they report (profile
 * metadata, notifications that could not be sent) and decides what to commit.
 *
 * Failures and cancellation (SGP.22 §5.7.14, §5.6.5): once the eUICC has a session
 * (AuthenticateServer done) and until it returns a ProfileInstallationResult, any failure
 * cancels the session on both sides: ES10b CancelSession, then ES9+ cancelSession with
 * the eUICC's signed answer.  The error reported is the one that caused the cancel.
 */
#ifndef ESIMCTL_LPA_H
#define ESIMCTL_LPA_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/actcode.h"
#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/es10.h"

/* How to reach SM-DP+s (see es9p.h). */
struct lpa_net {
	const char *const *ca_files;   /* extra trusted CAs (PEM/DER files) */
	size_t nca;
	int trust_system_ca;           /* also the system CA store (es9p_opts.system_ca) */
	long connect_timeout_ms;       /* 0: default */
	long timeout_ms;               /* 0: default */
	/*
	 * SM-DP+ addresses known from activation codes ("host:port").  A notification
	 * address without a port whose host matches one of them is sent there: SM-DP+s
	 * name themselves without the port, which only matters for test servers.
	 */
	const char *const *known;
	size_t nknown;
};

/* Progress for people (stderr on a TTY); every member may be NULL. */
struct lpa_progress {
	void (*step)(void *arg, const char *what);
	void (*bytes)(void *arg, size_t done, size_t total);
	void *arg;
};

/* A pending notification taken from the eUICC. */
struct lpa_notice {
	uint64_t seq;
	unsigned event;                /* ES10_EVENT_* */
	char address[ES10_ADDRESS_MAX + 1];
	char iccid[21];
	struct buf tlv;                /* the exact signed BF37 / 30 TLV */
	int sent;                      /* 1: the SM-DP+ accepted it */
	int kept;                      /* sent, but the eUICC could not drop it: sent again later */
	struct esim_err err;           /* why not sent, or (kept) why not dropped */
};
void lpa_notice_release(struct lpa_notice *n);
void lpa_notices_free(struct lpa_notice *n, size_t count);

/* What the download installed. */
struct lpa_download_result {
	char iccid[21];
	char *provider;                /* serviceProviderName, malloc()ed or NULL */
	char *profile_name;            /* profileName, malloc()ed or NULL */
	const char *profile_class;     /* "test", "provisioning", "operational" */
	struct lpa_notice install;     /* the install notification (sent or not) */
	unsigned requests;             /* ES9+ HTTP requests made */
	unsigned connections;          /* TLS connections opened */
};
void lpa_download_result_release(struct lpa_download_result *r);

/*
 * The caller's hooks around the eUICC's change (both may be NULL).  before_install runs
 * just before ES10b.LoadBoundProfilePackage (in the download procedure of SGP.22 section
 * 3.1.3); installed runs once the eUICC has answered with its ProfileInstallationResult (ok: 1 success, 0 error
 * result) and before the install notification is delivered (ES9+.HandleNotification,
 * SGP.22 section 5.6.4), so the caller can record the profile and queue the notification
 * first: delivering it is then a separate step that may be interrupted without loss.
 * installed is not called when the eUICC produced no result (the session is cancelled).
 */
struct lpa_install_hooks {
	void (*before_install)(void *arg);
	void (*installed)(void *arg, const struct lpa_download_result *res, int ok);
	void *arg;
};

/*
 * Ask for the confirmation code (no echo).  Returns 0 with the code in out, or -1 with
 * err (no terminal: ESIM_E_USAGE).  The caller wipes out.
 */
typedef int (*lpa_cc_prompt)(void *arg, char *out, size_t outsz, struct esim_err *err);

/*
 * Download the profile for ac into the eUICC and send the install notification on the
 * same ES9+ session.  cc: confirmation code or NULL (then prompt is used when the
 * SM-DP+ requires one).  imei: 15 digits or NULL.  On success (0) res holds the profile
 * and res->install says whether the notification was delivered; an undelivered one is
 * still on the eUICC and in res->install.tlv for the caller to queue.  On failure (-1)
 * res->install.tlv is non-empty when the eUICC produced an error result that must still
 * be reported (queued like any other notification).  hooks: see lpa_install_hooks.
 */
int lpa_download(struct es10_ctx *ctx, const struct actcode *ac, const char *cc,
		 lpa_cc_prompt prompt, void *prompt_arg, const char *imei,
		 const struct lpa_net *net, const struct lpa_progress *prog,
		 const struct lpa_install_hooks *hooks, struct lpa_download_result *res,
		 struct esim_err *err);

/* Disable (when enabled) and delete the profile.  Not on the eUICC: ESIM_E_NOTFOUND. */
int lpa_delete_profile(struct es10_ctx *ctx, const char *iccid, struct esim_err *err);

/*
 * Take every pending notification from the eUICC; when send is set, send each to its
 * address (one ES9+ session per address) and remove it from the eUICC after a 2xx.
 * *out (count *n) reports all of them, sent or not; free with lpa_notices_free().
 * Returns -1 only when the eUICC could not be read.
 */
int lpa_process_notifications(struct es10_ctx *ctx, const struct lpa_net *net, int send,
			      struct lpa_notice **out, size_t *n, struct esim_err *err);

/* Send one notification TLV (a stored copy) to address. */
int lpa_send_notification(const char *address, const uint8_t *tlv, size_t len,
			  const struct lpa_net *net, struct esim_err *err);

#endif
