/* lpa_glue.c - commands <-> SGP.22 procedures (see lpa_glue.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/rsp/lpa_glue.h"
#include "crypto/rspcrypto.h"
#include "esimctl/apdu.h"
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
		if (!s->profiles[i].has_ac || !strchr(s->profiles[i].ac.smdp, ':'))
			continue;
		app->known_smdp = xrealloc(app->known_smdp, (app->nknown_smdp + 1) * sizeof(*app->known_smdp));
		app->known_smdp[app->nknown_smdp++] = s->profiles[i].ac.smdp;
	}
	net->known = app->known_smdp;
	net->nknown = app->nknown_smdp;
}

int glue_open(struct app *app, const struct device *d, struct glue_conn *c)
{
	memset(c, 0, sizeof(*c));
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
}

void glue_close(struct glue_conn *c)
{
	if (c->open) {
		apdu_trace(&c->ctx);
		es10_close(&c->ctx);
	}
	c->open = 0;
}

int backend_probe(const char *uri, struct buf *normalized, char eid[33], struct esim_err *err)
{
	struct apdu_transport t;
	struct es10_ctx ctx;
	int rc;

	buf_reset(normalized);
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
	/* No struct app here: the warning goes straight to stderr (device add). */
	if (t.warning[0])
		fprintf(stderr, "esimctl: warning: %s\n", t.warning);
	if (rc < 0)
		return -1;
	es10_ctx_init(&ctx);
	if (es10_open(&ctx, &t, err) < 0)
		return -1;
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

static int prompt_cc(void *arg, char *out, size_t outsz, struct esim_err *err)
{
	struct app *app = arg;
	struct termios old, quiet;
	char iobuf[256];   /* stdio's buffer would keep the code on the heap after fclose */
	size_t len;
	int fd;
	FILE *tty;

	if (!app->stdin_tty)
		return esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code and there is no terminal to ask");
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0 || !(tty = fdopen(fd, "r+"))) {
		if (fd >= 0)
			close(fd);
		return esim_fail(err, ESIM_E_USAGE, "the SM-DP+ requires a confirmation code and /dev/tty cannot be opened");
	}
	setvbuf(tty, iobuf, _IOFBF, sizeof(iobuf));
	fprintf(tty, "\nconfirmation code (from the carrier): ");
	fflush(tty);
	tcgetattr(fd, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	if (!fgets(out, (int)outsz, tty))
		out[0] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	secure_wipe(iobuf, sizeof(iobuf));
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	if (!len)
		return esim_fail(err, ESIM_E_USAGE, "no confirmation code given");
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
			free(pn->last_error);
			pn->last_error = xstrdup(x->err.msg);
		} else if (x->tlv.len) {
			struct pending_notification pn;
			struct buf b64 = BUF_INIT;

			memset(&pn, 0, sizeof(pn));
			base64_encode((const uint8_t *)x->tlv.buf, x->tlv.len, &b64);
			pn.device = xstrdup(dev);
			pn.seq = (int64_t)x->seq;
			pn.event = xstrdup(es10_event_name(x->event));
			pn.address = xstrdup(x->address);
			pn.iccid = x->iccid[0] ? xstrdup(x->iccid) : NULL;
			pn.data_b64 = buf_detach(&b64, NULL);
			pn.queued = app->now;
			pn.attempts = 1;
			pn.last_error = xstrdup(x->err.msg);
			model_add_notification(s, &pn);
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

int glue_download(struct app *app, struct store *s, const struct actcode *ac, struct device *d,
		  const char *cc, struct profile *p)
{
	struct glue_conn c;
	struct lpa_net net;
	struct lpa_progress prog = { NULL, NULL, NULL };
	struct lpa_download_result res;
	int rc, show = app->stderr_tty && !app->quiet;

	if (glue_open(app, d, &c) < 0)
		return -1;
	glue_net(app, s, &net);
	if (show) {
		prog.step = progress_step;
		prog.bytes = progress_bytes;
		fprintf(stderr, "downloading from %s into '%s':\n", ac->smdp, d->name);
	}
	rc = lpa_download(&c.ctx, ac, cc, prompt_cc, app, d->imei, &net, &prog, &res, &app->err);
	if (show)
		fprintf(stderr, "\r\033[K");
	if (res.install.tlv.len) {
		/* Sent or not, the install result is reported: keep an unsent one. */
		glue_record_notices(app, s, d->name, &res.install, 1);
	}
	if (app->json) {
		cJSON *o = cJSON_AddObjectToObject(app->out, "download");

		cJSON_AddStringToObject(o, "smdp", ac->smdp);
		cJSON_AddNumberToObject(o, "requests", res.requests);
		cJSON_AddNumberToObject(o, "tls_connections", res.connections);
		cJSON_AddBoolToObject(o, "installed", rc == 0);
		cJSON_AddBoolToObject(o, "notification_sent", res.install.sent);
	}
	if (rc == 0) {
		free(p->iccid);
		p->iccid = xstrdup(res.iccid);
		p->provider = res.provider;
		p->profile_name = res.profile_name;
		p->profile_class = xstrdup(res.profile_class);
		res.provider = res.profile_name = NULL;
		for (size_t i = 0; i < s->nprofiles; i++)
			if (s->profiles[i].iccid && !strcmp(s->profiles[i].iccid, p->iccid))
				app_warn(app, "ICCID %s is also recorded for profile %s", p->iccid, s->profiles[i].id);
		/* A transfer that waited for a new activation code on this device is now done. */
		for (size_t i = 0; i < s->nbindings; i++) {
			struct binding *b = &s->bindings[i];

			if (b->state == BIND_PENDING && b->ready_at == 0 && !strcmp(b->device, d->name)) {
				b->state = BIND_RELEASED;
				b->released_at = app->now;
				model_add_history(s, app->now, "transfer-complete", b->profile, NULL, d->name, "ok",
						  "completed by downloading a new profile");
				app_note(app, "transfer of profile %s to '%s' completed by this download\n", b->profile,
					 d->name);
			}
		}
	}
	lpa_download_result_release(&res);
	glue_close(&c);
	return rc;
}

int glue_release_on_device(struct app *app, struct store *s, struct profile *p, struct device *d)
{
	struct glue_conn c;
	struct esim_err e = { 0 };

	if (!glue_has_euicc(d))
		return 0;
	if (!p->iccid)
		return app_fail(app, ESIM_E_USAGE, "profile %s has no ICCID, so it cannot be found on the eUICC of '%s'",
				p->id, d->name);
	if (glue_open(app, d, &c) < 0)
		return -1;
	if (lpa_delete_profile(&c.ctx, p->iccid, &e) < 0) {
		if (e.status != ESIM_E_NOTFOUND) {
			app->err = e;
			glue_close(&c);
			return -1;
		}
		app_warn(app, "profile %s (ICCID %s) was already gone from the eUICC of '%s'", p->id, p->iccid, d->name);
	} else {
		app_note(app, "deleted ICCID %s from the eUICC of '%s'\n", p->iccid, d->name);
	}
	flush_notices(app, s, d, &c);
	glue_close(&c);
	return 0;
}

int glue_transfer_release_source(struct app *app, struct store *s, struct profile *p, const char *from)
{
	struct device *src = model_device(s, from);

	if (!glue_has_euicc(src))
		return 0;
	return glue_release_on_device(app, s, p, src);
}
