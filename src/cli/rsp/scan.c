/*
 * scan.c - esimctl euicc scan: every eUICC this machine can reach, read-only.
 *
 * Places scanned: every PC/SC reader pcscd knows (with or without a card), then the
 * serial ports /dev/ttyUSB* and /dev/ttyACM* and each --port.  At each, the ISD-R is
 * selected under the standard AID and, when the card refuses it, under each known vendor
 * alternative (esimctl/isdr.h); when one answers, GetEID (ES10c, SGP.22 §5.7.20) and
 * GetEUICCInfo2 (ES10b, §5.7.8) are read.  Nothing else is sent: no command that changes
 * the card, not even the retrieval of notifications.  AT ports get a short per-command
 * timeout and are never waited for when another process holds them.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "card/at.h"
#include "card/pcsc.h"
#include "esimctl/apdu.h"
#include "esimctl/es10.h"
#include "esimctl/isdr.h"
#include "esimctl/store.h"

#define SCAN_AT_TIMEOUT_MS 2000 /* per AT command; ESIMCTL_AT_TIMEOUT overrides */
#define SCAN_PORTS_MAX 256

/* What one place holds. */
struct place {
	char uri[320];
	const char *type;          /* "pcsc" or "at" */
	const char *where;         /* reader name or serial port */
	const char *status;        /* see docs/json-output.md: "euicc", "no-card", ... */
	struct esim_err err;       /* why not, when status is not "euicc" */
	char eid[33];
	char aid[ISDR_AID_HEX];
	const char *vendor;        /* of the AID that answered */
	int have_info;
	struct es10_euicc_info2 info;
	char info_error[sizeof(((struct esim_err *)0)->msg)];      /* GetEUICCInfo2 failed after GetEID worked */
	char warning[sizeof(((struct apdu_transport *)0)->warning)];
	char atr[2 * 33 + 1];
	cJSON *devices;            /* names of the store's devices on this eUICC (an array) */
};

/*
 * The store's devices on p's eUICC: those with its EID, or with its URI.  A device added
 * by another name for the reader ("pcsc:" for the only one) has the EID device add read.
 */
static void place_devices(const struct store *s, struct place *p)
{
	p->devices = cJSON_CreateArray();
	for (size_t i = 0; s && i < s->ndevices; i++) {
		const struct device *d = &s->devices[i];

		if ((d->eid && !strcasecmp(d->eid, p->eid)) || (d->euicc && !strcmp(d->euicc, p->uri)))
			cJSON_AddItemToArray(p->devices, cJSON_CreateString(d->name));
	}
}

/* The status of a transport or ES10 failure. */
static const char *failure_status(const struct esim_err *e)
{
	static const struct { const char *kind, *status; } kinds[] = {
		{ AT_KIND_BUSY, "busy" },
		{ AT_KIND_DENIED, "permission-denied" },
		{ AT_KIND_ABSENT, "absent" },
		{ AT_KIND_NOT_MODEM, "not-a-modem" },
		{ AT_KIND_SILENT, "no-answer" },
	};

	/* pcsc.c puts the pcsc-lite return code in detail ("SCARD 0x8010000B"). */
	static const struct { const char *detail, *status; } scard[] = {
		{ "SCARD 0x8010000B", "busy" },              /* SCARD_E_SHARING_VIOLATION */
		{ "SCARD 0x8010000C", "no-card" },           /* SCARD_E_NO_SMARTCARD */
		{ "SCARD 0x80100069", "no-card" },           /* SCARD_W_REMOVED_CARD */
		{ "SCARD 0x80100027", "permission-denied" }, /* SCARD_E_NO_ACCESS */
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(e->detail, kinds[i].kind))
			return kinds[i].status;
	for (size_t i = 0; i < sizeof(scard) / sizeof(scard[0]); i++)
		if (!strcmp(e->detail, scard[i].detail))
			return scard[i].status;
	/* The card or modem answered, but no ISD-R under any AID tried: not an eUICC. */
	if (e->status == ESIM_E_EUICC)
		return "not-euicc";
	if (e->status == ESIM_E_NOREADER)
		return "unreachable";
	return "error";
}

/*
 * Select the ISD-R on an opened transport t (owned from here on) and read the EID and
 * EUICCInfo2.  Fills p; 0 when an ISD-R answered.
 */
static int probe(struct apdu_transport *t, struct place *p)
{
	struct es10_ctx ctx;
	struct esim_err e = { 0 };

	es10_ctx_init(&ctx);
	ctx.try_known_aids = 1;
	if (es10_open(&ctx, t, &p->err) < 0) {
		p->status = failure_status(&p->err);
		return -1;
	}
	if (es10_get_eid(&ctx, p->eid, &p->err) < 0) {
		es10_close(&ctx);
		p->status = failure_status(&p->err);
		return -1;
	}
	p->status = "euicc";
	isdr_aid_hex(ctx.isdr_aid, ctx.isdr_aid_len, p->aid);
	p->vendor = isdr_aid_vendor(ctx.isdr_aid, ctx.isdr_aid_len);
	if (es10_get_euicc_info2(&ctx, NULL, &p->info, &e) == 0)
		p->have_info = 1;
	else
		snprintf(p->info_error, sizeof(p->info_error), "%s", e.msg);
	es10_close(&ctx);
	return 0;
}

static void scan_at(const char *port, int timeout_ms, struct place *p)
{
	struct apdu_transport t;
	struct place csim;

	p->type = "at";
	p->where = port;
	snprintf(p->uri, sizeof(p->uri), "at:%s", port);
	if (at_transport_open_timeout(port, 0, timeout_ms, &t, &p->err) < 0) {
		snprintf(p->warning, sizeof(p->warning), "%s", t.warning);
		p->status = failure_status(&p->err);
		return;
	}
	snprintf(p->warning, sizeof(p->warning), "%s", t.warning);
	if (probe(&t, p) == 0 || strcmp(p->status, "not-euicc"))
		return;
	/*
	 * A modem without logical channels (AT+CCHO answers ERROR) may still reach the
	 * ISD-R on the basic channel with AT+CSIM: try at-csim: before giving up.
	 */
	csim = *p;
	memset(&csim.err, 0, sizeof(csim.err));
	snprintf(csim.uri, sizeof(csim.uri), "at-csim:%s", port);
	if (at_transport_open_timeout(port, 1, timeout_ms, &t, &csim.err) == 0 && probe(&t, &csim) == 0)
		*p = csim;
}

static void scan_pcsc_reader(const struct pcsc_reader *r, struct place *p)
{
	struct apdu_transport t;

	p->type = "pcsc";
	p->where = r->name;
	snprintf(p->uri, sizeof(p->uri), "pcsc:%s", r->name);
	if (!r->has_card) {
		p->status = "no-card";
		esim_fail(&p->err, ESIM_E_NOREADER, "no card in the reader");
		return;
	}
	for (size_t i = 0; i < r->atrlen && i < sizeof(r->atr); i++)
		snprintf(p->atr + 2 * i, 3, "%02X", r->atr[i]);
	if (pcsc_transport_open(r->name, &t, &p->err) < 0) {
		p->status = failure_status(&p->err);
		return;
	}
	probe(&t, p);
}

/* The serial ports to try: /dev/ttyUSB*, /dev/ttyACM*, then each --port; no duplicates. */
static size_t collect_ports(char **given, size_t ngiven, char **out, glob_t *g)
{
	size_t n = 0;
	int flags = 0;

	memset(g, 0, sizeof(*g));
	if (glob("/dev/ttyUSB*", 0, NULL, g) == 0)
		flags = GLOB_APPEND;
	glob("/dev/ttyACM*", flags, NULL, g);
	for (size_t i = 0; i < g->gl_pathc && n < SCAN_PORTS_MAX; i++)
		out[n++] = g->gl_pathv[i];
	for (size_t i = 0; i < ngiven && n < SCAN_PORTS_MAX; i++) {
		char a[PATH_MAX], b[PATH_MAX];
		size_t j;

		for (j = 0; j < n; j++)
			if (!strcmp(out[j], given[i]) ||
			    (realpath(out[j], a) && realpath(given[i], b) && !strcmp(a, b)))
				break;
		if (j == n)
			out[n++] = given[i];
	}
	return n;
}

/* p's entry of "scanned"; it takes p's device list */
static cJSON *place_json(struct place *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uri", p->uri);
	cJSON_AddStringToObject(o, "type", p->type);
	cJSON_AddStringToObject(o, !strcmp(p->type, "pcsc") ? "reader" : "port", p->where);
	cJSON_AddStringToObject(o, "status", p->status);
	json_str(o, "reason", strcmp(p->status, "euicc") ? p->err.msg : NULL);
	json_str(o, "hint", strcmp(p->status, "euicc") && p->err.hint[0] ? p->err.hint : NULL);
	json_str(o, "atr", p->atr[0] ? p->atr : NULL);
	json_str(o, "eid", p->eid[0] ? p->eid : NULL);
	if (p->eid[0]) {
		cJSON *aid;

		if (p->devices)
			cJSON_AddItemToObject(o, "devices", p->devices);
		p->devices = NULL;
		aid = cJSON_AddObjectToObject(o, "isdr");
		cJSON_AddStringToObject(aid, "aid", p->aid);
		cJSON_AddStringToObject(aid, "vendor", p->vendor);
		cJSON_AddBoolToObject(aid, "standard", !strcmp(p->vendor, "standard"));
	}
	if (p->have_info) {
		cJSON *i = cJSON_AddObjectToObject(o, "info");
		char v[12];

		cJSON_AddStringToObject(i, "svn", es10_version_str(&p->info.svn, v));
		cJSON_AddStringToObject(i, "profile_version", es10_version_str(&p->info.profile_version, v));
		cJSON_AddStringToObject(i, "firmware_version", es10_version_str(&p->info.firmware_version, v));
		if (p->info.free_nvm >= 0)
			cJSON_AddNumberToObject(i, "free_nvm", (double)p->info.free_nvm);
		if (p->info.free_ram >= 0)
			cJSON_AddNumberToObject(i, "free_ram", (double)p->info.free_ram);
		cJSON_AddNumberToObject(i, "ci_keys", (double)p->info.ci_pkid_verification_count);
		json_str(i, "sas_accreditation", p->info.sas_number[0] ? p->info.sas_number : NULL);
	} else {
		cJSON_AddNullToObject(o, "info");
	}
	json_str(o, "info_error", p->info_error[0] ? p->info_error : NULL);
	json_str(o, "warning", p->warning[0] ? p->warning : NULL);
	return o;
}

static void place_print(struct app *app, const struct place *p)
{
	char v1[12], v2[12], v3[12];

	if (strcmp(p->status, "euicc")) {
		app_print(app, "%-28s %s: %s\n", p->uri, p->status, p->err.msg);
		return;
	}
	app_print(app, "%-28s eUICC, EID %s\n", p->uri, p->eid);
	app_print(app, "%-28s ISD-R %s (%s%s)\n", "", p->aid, p->vendor,
		  strcmp(p->vendor, "standard") ? "'s AID: the standard one was refused" : "");
	if (cJSON_GetArraySize(p->devices) > 0) {
		const cJSON *n;

		app_print(app, "%-28s in the store as device ", "");
		cJSON_ArrayForEach(n, p->devices)
			app_print(app, "%s'%s'", n == p->devices->child ? "" : ", ", n->valuestring);
		app_print(app, "\n");
	} else {
		app_print(app, "%-28s not in the store: esimctl device add NAME --kind KIND --euicc %s\n", "",
			  p->uri);
	}
	if (p->have_info) {
		app_print(app, "%-28s SGP.22 %s, SAIP %s, firmware %s", "", es10_version_str(&p->info.svn, v1),
			  es10_version_str(&p->info.profile_version, v2),
			  es10_version_str(&p->info.firmware_version, v3));
		if (p->info.free_nvm >= 0)
			app_print(app, ", free NVM %lld bytes", (long long)p->info.free_nvm);
		app_print(app, ", %zu CI key%s\n", p->info.ci_pkid_verification_count,
			  p->info.ci_pkid_verification_count == 1 ? "" : "s");
	} else {
		app_print(app, "%-28s EUICCInfo2 not read: %s\n", "", p->info_error);
	}
}

int cmd_euicc_scan(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	char **given = NULL, *ports[SCAN_PORTS_MAX];
	size_t ngiven = 0, nports, nreaders = 0, nplaces, found = 0, k = 0;
	struct pcsc_reader *readers = NULL;
	struct place *places = NULL;
	struct esim_err pcsc_err = { 0 };
	int c, pcsc_ok, timeout_ms = SCAN_AT_TIMEOUT_MS;
	const char *env = getenv("ESIMCTL_AT_TIMEOUT");
	cJSON *arr = NULL;
	glob_t g;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'p') {
			free(given);
			return app_getopt_error(app, c, argv);
		}
		if (!*optarg || ngiven == SCAN_PORTS_MAX) {
			free(given);
			return app_usage(app, *optarg ? "at most %d --port options" : "--port needs a serial "
					 "port: --port /dev/ttyUSB2", SCAN_PORTS_MAX);
		}
		given = xrealloc(given, (ngiven + 1) * sizeof(*given));
		given[ngiven++] = optarg;
	}
	if (optind != argc) {
		free(given);
		return app_usage(app, "unexpected argument '%s'", argv[optind]);
	}
	if (env && *env)
		timeout_ms = 0;  /* at.c reads and checks it */
	/*
	 * A reader another process holds is reported, not waited for: pcsc.c retries for
	 * ESIMCTL_PCSC_WAIT seconds, which the scan sets to 0 unless the user did.
	 */
	setenv("ESIMCTL_PCSC_WAIT", "0", 0);

	pcsc_ok = pcsc_list_readers(&readers, &nreaders, &pcsc_err) == 0;
	if (!pcsc_ok)
		nreaders = 0;
	nports = collect_ports(given, ngiven, ports, &g);
	nplaces = nreaders + nports;
	places = xcalloc(nplaces ? nplaces : 1, sizeof(*places));
	for (size_t i = 0; i < nreaders; i++)
		scan_pcsc_reader(&readers[i], &places[k++]);
	for (size_t i = 0; i < nports; i++)
		scan_at(ports[i], timeout_ms, &places[k++]);

	if (!pcsc_ok)
		app_note(app, "PC/SC: %s%s%s\n", pcsc_err.msg, pcsc_err.hint[0] ? "; " : "", pcsc_err.hint);
	/* Which of the store's devices each eUICC is; a store that cannot be read only loses that. */
	{
		const char *path = app_store_path(app);
		struct esim_err e = { 0 };
		struct store *s = NULL;

		if (!path) {
			app_warn(app, "the store's devices are not shown: %s", app->err.msg);
			esim_err_clear(&app->err);
		} else if (store_load(path, &s, &e) < 0) {
			app_warn(app, "the store's devices are not shown: %s", e.msg);
		}
		for (size_t i = 0; i < nplaces; i++)
			if (!strcmp(places[i].status, "euicc"))
				place_devices(s, &places[i]);
		model_free(s);
	}
	if (app->json) {
		cJSON *o = cJSON_AddObjectToObject(app->out, "pcsc");

		cJSON_AddBoolToObject(o, "available", pcsc_ok);
		cJSON_AddNumberToObject(o, "readers", (double)nreaders);
		json_str(o, "error", pcsc_ok ? NULL : pcsc_err.msg);
		json_str(o, "hint", !pcsc_ok && pcsc_err.hint[0] ? pcsc_err.hint : NULL);
		arr = cJSON_AddArrayToObject(app->out, "scanned");
	}
	for (size_t i = 0; i < nplaces; i++) {
		struct place *p = &places[i];

		/* ModemManager may grab any of the ports: say so for each, as device add does. */
		if (p->warning[0])
			app_warn(app, "%s", p->warning);
		if (!strcmp(p->status, "euicc"))
			found++;
		if (arr)
			cJSON_AddItemToArray(arr, place_json(p));
		else
			place_print(app, p);
	}
	if (app->json)
		cJSON_AddNumberToObject(app->out, "found", (double)found);
	if (!nplaces)
		app_print(app, "no PC/SC reader and no serial port found\n");
	else
		app_print(app, "%zu place%s scanned, %zu eUICC%s found\n", nplaces, nplaces == 1 ? "" : "s", found,
			  found == 1 ? "" : "s");
	globfree(&g);
	for (size_t i = 0; i < nplaces; i++)
		cJSON_Delete(places[i].devices);
	free(places);
	free(readers);
	free(given);
	return 0;
}
