/* lpa_glue.c - commands <-> SGP.22 procedures (see lpa_glue.h). */
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/rsp/lpa_glue.h"
#include "crypto/rspcrypto.h"
#include "esimctl/apdu.h"
#include "esimctl/isdr.h"
#include "esimctl/plan.h"
#include "esimctl/secrets.h"
#include "esimctl/store.h"
#include "esimctl/timeutil.h"
#include "cli/rsp/backend.h"

void glue_net(struct app *app, const struct store *s, struct lpa_net *net)
{
	memset(net, 0, sizeof(*net));
	net->ca_files = app->ca_files;
	net->nca = app->nca;
	net->trust_system_ca = app->trust_system_ca;
	if (app->timeout_ms) {
		net->timeout_ms = app->timeout_ms;
		net->connect_timeout_ms = app->timeout_ms < 10000 ? app->timeout_ms : 10000;
	}
	free(app->known_smdp);
	app->known_smdp = NULL;
	app->nknown_smdp = 0;
	for (size_t i = 0; s && i < s->nprofiles; i++) {
		/* Any of these SM-DP+s may quote a stored matching ID: masked (secrets.h). */
		const struct actcode_packed *ac = s->profiles[i].ac;

		if (ac)
			secret_add(SECRET_MATCHING_ID, ac->matching_id);
		if (!ac || !strchr(ac->smdp, ':'))
			continue;
		app->known_smdp = xrealloc(app->known_smdp, (app->nknown_smdp + 1) * sizeof(*app->known_smdp));
		app->known_smdp[app->nknown_smdp++] = ac->smdp;
	}
	net->known = app->known_smdp;
	net->nknown = app->nknown_smdp;
}

/*
 * ESIMCTL_STORE_DATA_BLOCK=N (1..255): STORE DATA blocks of N bytes in short APDUs only, a
 * diagnostic (bench/ compares it with the automatic size; docs/backends.md).  *mss 0 when
 * unset: automatic.
 */
static int store_data_block_env(size_t *mss, struct esim_err *err)
{
	const char *env = getenv("ESIMCTL_STORE_DATA_BLOCK");
	char *end;
	long v;

	*mss = 0;
	if (!env || !*env)
		return 0;
	v = strtol(env, &end, 10);
	if (*end || v < 1 || v > ES10_BLOCK_SHORT)
		return esim_fail(err, ESIM_E_USAGE, "ESIMCTL_STORE_DATA_BLOCK='%.20s': want a block "
				 "size of 1..%d bytes, or unset it for the automatic size", env,
				 ES10_BLOCK_SHORT);
	*mss = (size_t)v;
	return 0;
}

int glue_open(struct app *app, const struct device *d, struct glue_conn *c)
{
	size_t mss;

	memset(c, 0, sizeof(*c));
	if (store_data_block_env(&mss, &app->err) < 0)
		return -1;
	/* A software eUICC's state is checked where it is opened (soft_euicc_open()). */
	if (apdu_transport_open_uri(d->euicc, &c->t, &app->err) < 0) {
		if (c->t.warning[0])
			app_warn(app, "%s", c->t.warning);
		goto fail;
	}
	if (c->t.warning[0])
		app_warn(app, "%s", c->t.warning);
	/* We hold the eUICC's lock now: remove what writers killed mid-commit left behind. */
	if (!strncmp(d->euicc, "soft:", 5))
		atomic_write_cleanup(d->euicc + 5);
	es10_ctx_init(&c->ctx);
	c->ctx.mss = mss;
	if (d->isdr_aid && isdr_aid_parse(d->isdr_aid, "ISD-R AID", c->ctx.isdr_aid, &c->ctx.isdr_aid_len,
					  &app->err) < 0) {
		c->t.close(c->t.priv);
		goto fail;
	}
	if (es10_open(&c->ctx, &c->t, &app->err) < 0)
		goto fail;
	c->open = 1;
	return 0;
fail:
	{
		char msg[sizeof(app->err.msg)];

		snprintf(msg, sizeof(msg), "%s", app->err.msg);
		snprintf(app->err.msg, sizeof(app->err.msg), "eUICC of device '%.64s': %.400s", d->name, msg);
	}
	return -1;
}

/* ESIMCTL_TIMING=1: the APDUs of one eUICC session, on stderr (bench/ reads it). */
static void apdu_trace(const struct es10_ctx *ctx)
{
	const char *env = getenv("ESIMCTL_TIMING");

	if (!env || strcmp(env, "1") != 0)
		return;
	fprintf(stderr, "esimctl: apdu: %lu commands, %llu bytes sent, %llu bytes received\n",
		ctx->apdus, ctx->apdu_tx_bytes, ctx->apdu_rx_bytes);
	if (ctx->block)
		fprintf(stderr, "esimctl: apdu: STORE DATA blocks of %zu bytes (%s), %u fallbacks, "
			"%lu refused by the transport\n", ctx->block,
			ctx->block > ES10_BLOCK_SHORT ? "extended length" : "short", ctx->fallbacks,
			ctx->apdus_refused);
}

void glue_close(struct glue_conn *c)
{
	if (c->open) {
		apdu_trace(&c->ctx);
		es10_close(&c->ctx);
	}
	c->open = 0;
}

int backend_probe(struct app *app, const char *uri, const char *isdr_aid, struct buf *normalized, char eid[33],
		  char aid_used[ISDR_AID_HEX], struct esim_err *err)
{
	struct apdu_transport t;
	struct es10_ctx ctx;
	size_t mss;
	int rc;

	buf_reset(normalized);
	if (store_data_block_env(&mss, err) < 0)
		return -1;
	aid_used[0] = '\0';
	es10_ctx_init(&ctx);
	ctx.mss = mss;
	if (isdr_aid) {
		if (isdr_aid_parse(isdr_aid, "--isdr-aid", ctx.isdr_aid, &ctx.isdr_aid_len, err) < 0)
			return -1;
	} else {
		/* No AID given: the standard one, then the vendors' (a removable card's). */
		ctx.try_known_aids = 1;
	}
	if (!strncmp(uri, "soft:", 5)) {
		char real[PATH_MAX];

		if (!uri[5])
			return esim_fail(err, ESIM_E_USAGE, "--euicc soft: needs the path of a software eUICC state file");
		if (!realpath(uri + 5, real)) {
			esim_fail(err, ESIM_E_NOREADER, "software eUICC '%s' does not exist", uri + 5);
			return esim_hint(err, "create one with 'esimctl euicc create-soft PATH --eid EID ...'");
		}
		buf_addf(normalized, "soft:%s", real);
	} else {
		buf_addstr(normalized, uri);
	}
	rc = apdu_transport_open_uri(normalized->buf, &t, err);
	if (t.warning[0])
		app_warn(app, "%s", t.warning);
	if (rc < 0)
		return -1;
	if (es10_open(&ctx, &t, err) < 0)
		return -1;
	isdr_aid_hex(ctx.isdr_aid, ctx.isdr_aid_len, aid_used);
	rc = es10_get_eid(&ctx, eid, err);
	es10_close(&ctx);
	return rc;
}

/* ---- progress and the confirmation-code prompt ---- */

static void progress_step(void *arg, const char *what)
{
	(void)arg;
	fprintf(stderr, "\r\033[K  %s...", what);
	fflush(stderr);
}

static void progress_bytes(void *arg, size_t done, size_t total)
{
	(void)arg;
	fprintf(stderr, "\r\033[K  installing the profile... %zu / %zu bytes", done, total);
	fflush(stderr);
}

/* The signal that ended the prompt (0: none); the terminal is restored before it acts. */
static volatile sig_atomic_t prompt_signal;

static void prompt_caught(int sig)
{
	prompt_signal = sig;
}

/*
 * Ask for the confirmation code on /dev/tty with echo off.  A signal that would end the
 * process (Ctrl-C, Ctrl-\, SIGTERM, SIGHUP) interrupts the read (no SA_RESTART): the
 * terminal is restored first, then the signal is raised again with the handler that was
 * there before, so the process ends as it would have (exit 130 for Ctrl-C), echo on.
 */
static int prompt_cc(void *arg, char *out, size_t outsz, struct esim_err *err)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	static const char ask[] = "\nconfirmation code (from the carrier): ";
	struct app *app = arg;
	struct sigaction catch_sig, old_sa[sizeof(sigs) / sizeof(sigs[0])];
	struct termios old, quiet;
	size_t len = 0, i;
	int fd, restore;
	char ch;

	if (!app->stdin_tty)
		return esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code and there is no terminal to ask");
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code and /dev/tty cannot be opened");
	prompt_signal = 0;
	memset(&catch_sig, 0, sizeof(catch_sig));
	catch_sig.sa_handler = prompt_caught;
	sigemptyset(&catch_sig.sa_mask);
	/* A signal the caller ignores (nohup) stays ignored. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old_sa[i]) == 0 && old_sa[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &catch_sig, NULL);
	restore = tcgetattr(fd, &old) == 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)!write(fd, ask, sizeof(ask) - 1);
	/* read(2), not stdio: no buffer keeps the code after the prompt. */
	while (!prompt_signal) {
		ssize_t n = read(fd, &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ch == '\n' || ch == '\r')
			break;
		if (len + 1 < outsz)
			out[len++] = ch;
	}
	out[len] = '\0';
	ch = 0;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old_sa[i], NULL);
	if (prompt_signal) {
		secure_wipe(out, outsz);
		raise(prompt_signal);
		return esim_fail(err, ESIM_E_USAGE, "interrupted at the confirmation code prompt");
	}
	if (!len)
		return esim_fail(err, ESIM_E_USAGE, "no confirmation code given");
	/* An SM-DP+ quoting it back is masked (secrets.h); add forgets it after the download. */
	secret_add(SECRET_CC, out);
	return 0;
}

/* ---- notifications in the store ---- */

void glue_record_notices(struct app *app, struct store *s, const char *dev, struct lpa_notice *n, size_t count)
{
	cJSON *arr = NULL;

	if (app->json) {
		arr = cJSON_GetObjectItemCaseSensitive(app->out, "notifications");
		if (!arr)
			arr = cJSON_AddArrayToObject(app->out, "notifications");
	}
	for (size_t i = 0; i < count; i++) {
		struct lpa_notice *x = &n[i];
		size_t q;

		for (q = 0; q < s->nnotifications; q++)
			if (!strcmp(s->notifications[q].device, dev) && s->notifications[q].seq == (int64_t)x->seq)
				break;
		if (arr) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "device", dev);
			cJSON_AddNumberToObject(o, "seq", (double)x->seq);
			cJSON_AddStringToObject(o, "event", es10_event_name(x->event));
			cJSON_AddStringToObject(o, "address", x->address);
			json_str(o, "iccid", x->iccid[0] ? x->iccid : NULL);
			cJSON_AddBoolToObject(o, "sent", x->sent);
			if (!x->sent)
				cJSON_AddStringToObject(o, "error", x->err.msg);
			cJSON_AddItemToArray(arr, o);
		}
		if (x->sent && !x->kept) {
			if (q < s->nnotifications)
				model_remove_notification(s, q);
			app_note(app, "notification %llu (%s) delivered to %s\n", (unsigned long long)x->seq,
				 es10_event_name(x->event), x->address);
			continue;
		}
		/* Not sent, or sent but still on the eUICC: queue it; a repeat is harmless. */
		if (q < s->nnotifications) {
			struct pending_notification *pn = &s->notifications[q];

			pn->attempts++;
			model_set_str(s, &pn->last_error, x->err.msg);
		} else if (x->tlv.len) {
			glue_queue_notice(app, s, dev, x, x->err.msg);
			s->notifications[s->nnotifications - 1].attempts = 1;
		}
		if (x->kept)
			app_warn(app, "notification %llu (%s) was delivered to %s but the eUICC kept it: %s; it is "
				 "queued and 'esimctl notifications send' sends it again", (unsigned long long)x->seq,
				 es10_event_name(x->event), x->address, x->err.msg);
		else
			app_warn(app, "notification %llu (%s) for %s was not delivered: %s; it is kept and "
				 "'esimctl notifications send' retries it", (unsigned long long)x->seq,
				 es10_event_name(x->event), x->address, x->err.msg);
	}
}

/* Send whatever the eUICC holds and record the outcome. */
static void flush_notices(struct app *app, struct store *s, const struct device *d, struct glue_conn *c)
{
	struct lpa_net net;
	struct lpa_notice *n = NULL;
	size_t count = 0;
	struct esim_err e = { 0 };

	glue_net(app, s, &net);
	if (lpa_process_notifications(&c->ctx, &net, 1, &n, &count, &e) < 0) {
		app_warn(app, "could not read the notifications of '%s': %s", d->name, e.msg);
		return;
	}
	glue_record_notices(app, s, d->name, n, count);
	lpa_notices_free(n, count);
}

/* ---- the commands' hooks ---- */

/* ---- deferred signals (SGP.22 gives no rule; ours: never lose what the eUICC did) ---- */

static sigset_t saved_mask;
static int deferring;

void glue_defer_signals(void)
{
	sigset_t set;

	if (deferring)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &saved_mask) == 0)
		deferring = 1;
}

void glue_deliver_signals(void)
{
	if (!deferring)
		return;
	deferring = 0;
	/* A signal that arrived meanwhile takes effect here, with the store committed. */
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

void glue_queue_notice(struct app *app, struct store *s, const char *dev, const struct lpa_notice *x,
			 const char *why)
{
	struct pending_notification pn;
	struct buf b64 = BUF_INIT;

	for (size_t q = 0; q < s->nnotifications; q++)
		if (!strcmp(s->notifications[q].device, dev) && s->notifications[q].seq == (int64_t)x->seq)
			return;
	memset(&pn, 0, sizeof(pn));
	base64_encode((const uint8_t *)x->tlv.buf, x->tlv.len, &b64);
	pn.device = xstrdup(dev);
	pn.seq = (int64_t)x->seq;
	pn.event = xstrdup(es10_event_name(x->event));
	pn.address = xstrdup(x->address);
	pn.iccid = x->iccid[0] ? xstrdup(x->iccid) : NULL;
	pn.data_b64 = buf_detach(&b64, NULL);
	pn.queued = app->now;
	pn.attempts = 0;
	pn.last_error = why ? xstrdup(why) : NULL;
	model_add_notification(s, &pn);
}

/* ---- the commands' hooks ---- */

struct dl_state {
	struct app *app;
	const char *path;
	char device[65];
	struct profile *p;
	char *cc;              /* the confirmation code: wiped once used */
	glue_record_fn record;
	struct store *final;   /* the store as committed */
	int recorded;          /* the installation (or its error result) is in the store */
	struct esim_err store_err;
};

static void dl_before_install(void *arg)
{
	struct dl_state *x = arg;

	/*
	 * hashCc was sent with PrepareDownload: the code is wiped before any store commit,
	 * with the copy kept for masking server text (the SM-DP+ only ever saw its hash).
	 */
	if (x->cc)
		secure_wipe(x->cc, strlen(x->cc));
	secret_forget_kind(SECRET_CC);
	glue_defer_signals();
}

/*
 * The eUICC has installed the profile (ok) or produced an error result: record it and
 * queue the install notification in one commit, before the notification is delivered.
 */
static void dl_installed(void *arg, const struct lpa_download_result *res, int ok)
{
	struct dl_state *x = arg;
	struct app *app = x->app;
	struct store_txn *txn = NULL;
	struct store *s = NULL;

	glue_defer_signals();
	if (store_begin(x->path, app->wait_lock, &txn, &s, &x->store_err) < 0)
		goto out;
	app_promote_ready(s, app->now);
	if (ok) {
		struct profile *p = x->p;

		/* p is the new profile, not yet the store's: its strings are its own */
		free(p->iccid);
		p->iccid = xstrdup(res->iccid);
		free(p->provider);
		free(p->profile_name);
		free(p->profile_class);
		p->provider = xstrdup(res->provider);
		p->profile_name = xstrdup(res->profile_name);
		p->profile_class = xstrdup(res->profile_class);
		for (size_t i = 0; i < s->nprofiles; i++)
			if (s->profiles[i].iccid && !strcmp(s->profiles[i].iccid, p->iccid) &&
			    strcmp(s->profiles[i].id, p->id))
				app_warn(app, "ICCID %s is also recorded for profile %s", p->iccid,
					 model_profile_shown_id(s, &s->profiles[i]));
		x->record(app, s, p, x->device);
		/* A transfer that waited for a new activation code on this device is now done. */
		if (model_device(s, x->device)) {
			const char **done = NULL;
			size_t ndone = binding_complete_awaiting(s, x->device, app->now, &done);

			for (size_t i = 0; i < ndone; i++)
				app_note(app, "transfer of profile %s to '%s' completed by this download\n",
					 model_shown_id(s, done[i]), x->device);
			free(done);
		}
	}
	if (res->install.tlv.len)
		glue_queue_notice(app, s, x->device, &res->install, "not delivered yet (install in progress)");
	if (store_commit(txn, s, &x->store_err) < 0) {
		model_free(s);
		goto out;
	}
	x->final = s;
	x->recorded = 1;
out:
	glue_deliver_signals();
}

int glue_download(struct app *app, const char *path, const struct store *s, const struct actcode *ac,
		  const struct device *d, char *cc, struct profile *p, glue_record_fn record,
		  struct store **final)
{
	struct glue_conn c;
	struct lpa_net net;
	struct lpa_progress prog = { NULL, NULL, NULL };
	struct lpa_download_result res;
	struct dl_state x;
	struct lpa_install_hooks hooks = { dl_before_install, dl_installed, &x };
	int rc, show = app->stderr_tty && !app->quiet;

	*final = NULL;
	memset(&x, 0, sizeof(x));
	x.app = app;
	x.path = path;
	snprintf(x.device, sizeof(x.device), "%s", d->name);
	x.p = p;
	x.cc = cc;
	x.record = record;
	/* The eUICC's own lock (held until glue_close) keeps other downloads to it out. */
	if (glue_open(app, d, &c) < 0)
		return -1;
	glue_net(app, s, &net);
	if (show) {
		prog.step = progress_step;
		prog.bytes = progress_bytes;
		fprintf(stderr, "downloading from %s into '%s':\n", ac->smdp, d->name);
	}
	rc = lpa_download(&c.ctx, ac, cc, prompt_cc, app, d->imei, &net, &prog, &hooks, &res, &app->err);
	glue_deliver_signals();
	if (show)
		fprintf(stderr, "\r\033[K");
	if (app->json) {
		cJSON *o = cJSON_AddObjectToObject(app->out, "download");

		cJSON_AddStringToObject(o, "smdp", ac->smdp);
		cJSON_AddNumberToObject(o, "requests", res.requests);
		cJSON_AddNumberToObject(o, "tls_connections", res.connections);
		cJSON_AddBoolToObject(o, "installed", rc == 0);
		cJSON_AddBoolToObject(o, "notification_sent", res.install.sent);
	}
	/* The eUICC (and the software eUICC's key) is not needed for the last commit. */
	glue_close(&c);
	if (res.install.tlv.len && x.recorded) {
		/* Delivered or not: record the outcome of the notification queued above. */
		struct store_txn *txn = NULL;
		struct store *s2 = NULL;
		struct esim_err e = { 0 };

		if (store_begin(path, app->wait_lock, &txn, &s2, &e) == 0) {
			glue_record_notices(app, s2, x.device, &res.install, 1);
			if (store_commit(txn, s2, &e) == 0) {
				model_free(x.final);
				x.final = s2;
				s2 = NULL;
			}
			model_free(s2);
		}
		if (e.status)
			app_warn(app, "notification %llu (install) stays queued in the store: %s",
				 (unsigned long long)res.install.seq, e.msg);
	}
	if (!x.recorded && res.install.tlv.len) {
		/* The eUICC acted but the store could not be written: the eUICC is the record. */
		struct esim_err e = x.store_err;

		if (rc == 0)
			app->err = e;
		snprintf(app->err.msg, sizeof(app->err.msg),
			 "%s on the eUICC of '%.64s', but the store could not be updated: %.300s",
			 rc == 0 ? "the profile was installed" : "the installation failed", x.device, e.msg);
		snprintf(app->err.hint, sizeof(app->err.hint),
			 "run 'esimctl euicc sync --device %s' to bring the store up to date", x.device);
		if (!app->err.status)
			app->err.status = ESIM_E_STORE;
		rc = -1;
	}
	if (rc == 0)
		*final = x.final;
	else
		model_free(x.final);
	lpa_download_result_release(&res);
	return rc;
}

/* ---- eUICCs held across a command: the eUICC's lock before the store's ---- */

#define GLUE_MAX_HELD 8

static struct held {
	char *device;
	char *uri;
	int changed;            /* something was done: its notifications are to be delivered */
	struct glue_conn c;
} held[GLUE_MAX_HELD];
static size_t nheld;

static struct held *held_of(const struct device *d)
{
	for (size_t i = 0; i < nheld; i++)
		if (!strcmp(held[i].device, d->name) && d->euicc && !strcmp(held[i].uri, d->euicc))
			return &held[i];
	return NULL;
}

int glue_hold(struct app *app, const struct device *d)
{
	if (!glue_has_euicc(d) || held_of(d))
		return 0;
	if (nheld == GLUE_MAX_HELD)
		return app_fail(app, ESIM_E_USAGE, "too many eUICCs in one command (at most %d)", GLUE_MAX_HELD);
	if (glue_open(app, d, &held[nheld].c) < 0)
		return -1;
	held[nheld].device = xstrdup(d->name);
	held[nheld].uri = xstrdup(d->euicc);
	held[nheld].changed = 0;
	nheld++;
	return 0;
}

int glue_finish(struct app *app, const char *path)
{
	glue_deliver_signals();
	for (size_t i = 0; i < nheld; i++) {
		struct held *h = &held[i];
		struct lpa_notice *n = NULL;
		size_t count = 0;
		struct esim_err e = { 0 };

		if (h->changed && path) {
			struct lpa_net net;
			struct store *s = NULL;
			struct store_txn *txn = NULL;

			/* The network without the store lock; then a short commit of the outcome. */
			if (store_load(path, &s, &e) == 0) {
				glue_net(app, s, &net);
				if (lpa_process_notifications(&h->c.ctx, &net, 1, &n, &count, &e) < 0)
					app_warn(app, "could not read the notifications of '%s': %s", h->device, e.msg);
				model_free(s);
				s = NULL;
			}
			if (count && store_begin(path, app->wait_lock, &txn, &s, &e) == 0) {
				glue_record_notices(app, s, h->device, n, count);
				if (store_commit(txn, s, &e) < 0)
					app_warn(app, "the notifications of '%s' stay queued: %s", h->device, e.msg);
			} else if (count) {
				app_warn(app, "the notifications of '%s' stay queued: %s", h->device, e.msg);
			}
			model_free(s);
			lpa_notices_free(n, count);
		}
		glue_close(&h->c);
		free(h->device);
		free(h->uri);
	}
	nheld = 0;
	return 0;
}

/*
 * Queue what the eUICC holds now (not sent): the store is committed with them before
 * anything goes over the network.
 */
static void queue_card_notices(struct app *app, struct store *s, const struct device *d, struct glue_conn *c)
{
	struct lpa_notice *n = NULL;
	size_t count = 0;
	struct esim_err e = { 0 };

	if (lpa_process_notifications(&c->ctx, NULL, 0, &n, &count, &e) < 0) {
		app_warn(app, "could not read the notifications of '%s': %s", d->name, e.msg);
		return;
	}
	for (size_t i = 0; i < count; i++)
		if (n[i].tlv.len)
			glue_queue_notice(app, s, d->name, &n[i], "not delivered yet");
	lpa_notices_free(n, count);
}

struct glue_conn *glue_held_conn(const struct device *d)
{
	struct held *h = held_of(d);

	return h ? &h->c : NULL;
}

void glue_changed(struct app *app, struct store *s, const struct device *d)
{
	struct held *h = held_of(d);

	if (!h)
		return;
	h->changed = 1;
	queue_card_notices(app, s, d, &h->c);
}

int glue_release_on_device(struct app *app, struct store *s, struct profile *p, struct device *d)
{
	struct held *h;
	struct glue_conn local, *c;
	struct esim_err e = { 0 };

	if (!glue_has_euicc(d))
		return 0;
	if (!p->iccid)
		return app_fail(app, ESIM_E_USAGE, "profile %s has no ICCID, so it cannot be found on the eUICC of '%s'",
				model_profile_shown_id(s, p), d->name);
	h = held_of(d);
	if (h) {
		c = &h->c;
	} else if (glue_open(app, d, &local) < 0) {
		return -1;
	} else {
		c = &local;
	}
	/* From the eUICC's change until the caller's commit (glue_finish()), signals wait. */
	if (h)
		glue_defer_signals();
	if (lpa_delete_profile(&c->ctx, p->iccid, &e) < 0) {
		if (e.status != ESIM_E_NOTFOUND) {
			app->err = e;
			if (!h)
				glue_close(&local);
			return -1;
		}
		app_warn(app, "profile %s (ICCID %s) was already gone from the eUICC of '%s'", model_profile_shown_id(s, p), p->iccid, d->name);
	} else {
		app_note(app, "deleted ICCID %s from the eUICC of '%s'\n", p->iccid, d->name);
	}
	if (h) {
		glue_changed(app, s, d);
	} else {
		flush_notices(app, s, d, c);
		glue_close(&local);
	}
	return 0;
}

int glue_transfer_release_source(struct app *app, struct store *s, struct profile *p, const char *from)
{
	struct device *src = model_device(s, from);

	if (!glue_has_euicc(src))
		return 0;
	return glue_release_on_device(app, s, p, src);
}
