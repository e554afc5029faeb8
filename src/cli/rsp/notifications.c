/* notifications.c - esimctl notifications list | send | remove */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/rsp/lpa_glue.h"
#include "crypto/rspcrypto.h"
#include "esimctl/store.h"
#include "esimctl/timeutil.h"

int cmd_notifications_list(struct app *app, int argc, char **argv)
{
	const char *device = NULL, *path;
	struct store *s = NULL;
	cJSON *arr = NULL;

	if (app_parse_device_opt(app, argc, argv, &device, 0, 0) < 0)
		return -1;
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (device && !app_find_device(app, s, device)) {
		model_free(s);
		return -1;
	}
	if (app->json)
		arr = cJSON_AddArrayToObject(app->out, "notifications");
	else if (s->nnotifications)
		printf("%-12s %-6s %-8s %-22s %-20s %-8s %s\n", "DEVICE", "SEQ", "EVENT", "QUEUED", "ICCID",
		       "ATTEMPTS", "SM-DP+");
	for (size_t i = 0; i < s->nnotifications; i++) {
		const struct pending_notification *n = &s->notifications[i];
		char iso[TIME_ISO_LEN];

		if (device && strcmp(device, n->device))
			continue;
		if (app->json) {
			cJSON_AddItemToArray(arr, json_notification(n));
			continue;
		}
		time_format(n->queued, iso);
		printf("%-12s %-6lld %-8s %-22s %-20s %-8d %s\n", n->device, (long long)n->seq, term_text(n->event),
		       iso, n->iccid ? term_text(n->iccid) : "-", n->attempts, term_text(n->address));
		if (n->last_error)
			printf("             last error: %s\n", term_text(n->last_error));
	}
	if (!app->json && !s->nnotifications)
		app_note(app, "no notifications pending\n");
	model_free(s);
	return 0;
}

struct seen {
	const char *device;
	int64_t seq;
};

static int seen_has(const struct seen *v, size_t n, const char *device, int64_t seq)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].seq == seq && !strcmp(v[i].device, device))
			return 1;
	return 0;
}

/* What one eUICC gave us and what became of it. */
struct card_notices {
	const char *device;
	struct lpa_notice *n;
	size_t count;
};

/* What became of a stored copy sent from the queue. */
struct copy_outcome {
	char *device;
	int64_t seq;
	int sent;
	char *error;
};

/*
 * Send every pending notification: from each reachable eUICC (which also removes it
 * there), then any stored copy whose eUICC cannot be reached.  Failures are kept.  The
 * network is used without the store lock (the store is read, the SM-DP+s are contacted,
 * then the store is locked, read again and the outcomes recorded by device and sequence
 * number), so other commands on the store are not held up by a slow SM-DP+.
 */
int cmd_notifications_send(struct app *app, int argc, char **argv)
{
	const char *device = NULL, *path;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct lpa_net net;
	size_t failed = 0, sent = 0, ncards = 0, ncopies = 0;
	int rc = -1;
	struct esim_err last = { 0 };
	struct seen *seen = NULL;
	size_t nseen = 0;
	struct card_notices *cards = NULL;
	struct copy_outcome *copies = NULL;

	if (app_parse_device_opt(app, argc, argv, &device, 0, 0) < 0)
		return -1;
	if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
		return -1;
	if (device && !app_find_device(app, s, device))
		goto out;
	glue_net(app, s, &net);
	cards = xcalloc(s->ndevices ? s->ndevices : 1, sizeof(*cards));
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];
		struct glue_conn c;
		struct lpa_notice *n = NULL;
		size_t count = 0;
		struct esim_err e = { 0 };

		if (!glue_has_euicc(d) || (device && strcmp(device, d->name)))
			continue;
		if (glue_open(app, d, &c) < 0) {
			app_warn(app, "%s", app->err.msg);
			esim_err_clear(&app->err);
			continue;
		}
		if (lpa_process_notifications(&c.ctx, &net, 1, &n, &count, &e) < 0) {
			app_warn(app, "could not read the notifications of '%s': %s", d->name, e.msg);
		} else {
			for (size_t j = 0; j < count; j++) {
				seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
				seen[nseen].device = d->name;
				seen[nseen++].seq = (int64_t)n[j].seq;
				if (n[j].sent) {
					sent++;
				} else {
					failed++;
					last = n[j].err;
				}
			}
			cards[ncards].device = d->name;
			cards[ncards].n = n;
			cards[ncards++].count = count;
			n = NULL;
			count = 0;
		}
		lpa_notices_free(n, count);
		glue_close(&c);
	}
	/* Stored copies whose device could not give them to us (removed, unreachable). */
	copies = xcalloc(s->nnotifications ? s->nnotifications : 1, sizeof(*copies));
	for (size_t i = 0; i < s->nnotifications; i++) {
		struct pending_notification *pn = &s->notifications[i];
		struct buf tlv = BUF_INIT;
		struct esim_err e = { 0 };
		int ok;

		if (device && strcmp(device, pn->device))
			continue;
		if (seen_has(seen, nseen, pn->device, pn->seq))
			continue;   /* the eUICC gave it to us above and it was tried then */
		if (base64_decode(pn->data_b64, strlen(pn->data_b64), &tlv) < 0) {
			app_warn(app, "stored notification %lld of '%s' is damaged; remove it with 'esimctl notifications remove'",
				 (long long)pn->seq, pn->device);
			continue;
		}
		ok = lpa_send_notification(pn->address, (const uint8_t *)tlv.buf, tlv.len, &net, &e) == 0;
		buf_release(&tlv);
		copies[ncopies].device = xstrdup(pn->device);
		copies[ncopies].seq = pn->seq;
		copies[ncopies].sent = ok;
		copies[ncopies++].error = ok ? NULL : xstrdup(e.msg);
		if (ok) {
			app_note(app, "notification %lld (%s) delivered to %s\n", (long long)pn->seq, pn->event, pn->address);
			sent++;
			continue;
		}
		last = e;
		failed++;
		app_warn(app, "notification %lld (%s) for %s was not delivered: %s", (long long)pn->seq, pn->event,
			 pn->address, e.msg);
	}
	/* Record the outcomes in the store as it is now. */
	{
		struct store *now = NULL;

		if (store_begin(path, app->wait_lock, &txn, &now, &app->err) < 0)
			goto out;
		for (size_t i = 0; i < ncards; i++)
			glue_record_notices(app, now, cards[i].device, cards[i].n, cards[i].count);
		for (size_t i = 0; i < ncopies; i++)
			for (size_t q = 0; q < now->nnotifications; q++) {
				struct pending_notification *pn = &now->notifications[q];

				if (strcmp(pn->device, copies[i].device) || pn->seq != copies[i].seq)
					continue;
				if (copies[i].sent) {
					model_remove_notification(now, q);
				} else {
					pn->attempts++;
					model_set_str(now, &pn->last_error, copies[i].error);
				}
				break;
			}
		rc = store_commit(txn, now, &app->err);
		txn = NULL;
		model_free(now);
	}
	if (rc < 0)
		goto out;
	if (app->json) {
		cJSON_AddNumberToObject(app->out, "sent", (double)sent);
		cJSON_AddNumberToObject(app->out, "failed", (double)failed);
	}
	app_print(app, "%zu notification%s sent, %zu kept for later\n", sent, sent == 1 ? "" : "s", failed);
	if (failed) {
		app->err = last;
		snprintf(app->err.msg, sizeof(app->err.msg), "%zu notification%s could not be delivered (kept): %.400s",
			 failed, failed == 1 ? "" : "s", last.msg);
		if (!app->err.status)
			app->err.status = ESIM_E_NETWORK;
		rc = -1;
	}
out:
	for (size_t i = 0; i < ncards; i++)
		lpa_notices_free(cards[i].n, cards[i].count);
	free(cards);
	for (size_t i = 0; i < ncopies; i++) {
		free(copies[i].device);
		free(copies[i].error);
	}
	free(copies);
	free(seen);
	if (txn)
		store_abort(txn);
	model_free(s);
	return rc;
}

int cmd_notifications_remove(struct app *app, int argc, char **argv)
{
	const char *device = NULL, *path;
	struct store *s = NULL;
	struct store_txn *txn = NULL;
	struct device *d;
	long seq;
	int rc = -1, found = 0;

	if (app_parse_device_opt(app, argc, argv, &device, 1, 1) < 0)
		return -1;
	if (app_parse_int(app, "SEQ", argv[optind], 0, 0x7fffffffL, &seq) < 0)
		return -1;
	if (!(path = app_store_path(app)) || store_begin(path, app->wait_lock, &txn, &s, &app->err) < 0)
		return -1;
	if (!(d = app_find_device(app, s, device)))
		goto out;
	if (glue_has_euicc(d)) {
		struct glue_conn c;
		struct esim_err e = { 0 };

		if (glue_open(app, d, &c) < 0)
			goto out;
		if (es10_remove_notification(&c.ctx, (uint64_t)seq, &e) == 0)
			found = 1;
		else if (e.status != ESIM_E_NOTFOUND) {
			app->err = e;
			glue_close(&c);
			goto out;
		}
		glue_close(&c);
	}
	for (size_t i = 0; i < s->nnotifications; i++)
		if (!strcmp(s->notifications[i].device, device) && s->notifications[i].seq == seq) {
			model_remove_notification(s, i);
			found = 1;
			break;
		}
	if (!found) {
		app_fail(app, ESIM_E_NOTFOUND, "no notification %ld for device '%s'", seq, device);
		goto out;
	}
	model_add_history(s, app->now, "notification-remove", NULL, device, NULL, "ok", "removed without sending");
	rc = store_commit(txn, s, &app->err);
	txn = NULL;
	if (rc == 0) {
		if (app->json)
			cJSON_AddNumberToObject(app->out, "removed", (double)seq);
		app_print(app, "removed notification %ld of '%s' without sending it\n", seq, device);
	}
out:
	if (txn)
		store_abort(txn);
	model_free(s);
	return rc;
}
