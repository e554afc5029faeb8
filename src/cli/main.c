/*
 * main.c - global options, the command table, output and the exit status.
 *
 * Global options are accepted before and after the command name: they are taken out of
 * argv first, then the command parses what is left with getopt_long.  Every path ends
 * in finish(), which prints the one JSON document (--json) or the error on stderr, flushes
 * stdout and returns the documented exit status (docs/EXIT-CODES.md).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "esimctl/jsonalloc.h"
#include "esimctl/secrets.h"
#include "esimctl/store.h"
#include "esimctl/text.h"
#include "esimctl/timeutil.h"

struct cmd {
	const char *name;
	int (*run)(struct app *app, int argc, char **argv);
	const struct cmd *sub;  /* command groups: device, carriers, ... */
	const char *summary;
	const char *usage;      /* options, one per line, as in the man page */
};

static const struct cmd device_cmds[] = {
	{ "add", cmd_device_add, NULL, "add a device to the inventory",
	  "usage: esimctl device add NAME --kind phone|tablet|watch|laptop|hotspot\n"
	  "                          [--platform ios|android|windows|macos|linux]\n"
	  "                          [--eid EID] [--imei IMEI] [--primary] [--euicc URI]\n"
	  "\n"
	  "  --kind KIND        what the device is; laptops and hotspots are data-only,\n"
	  "                     watches need a phone (companion mode)\n"
	  "  --platform OS      ios, android, windows, macos or linux\n"
	  "  --eid EID          the eUICC's 32-digit EID (check digits are verified)\n"
	  "  --imei IMEI        the 15-digit IMEI (Luhn check digit is verified)\n"
	  "  --primary          make this the primary device (tablets route voice through it)\n"
	  "  --euicc URI        reach the device's eUICC: soft:PATH (software eUICC),\n"
	  "                     at:DEVICE or at-csim:DEVICE (modem's AT port),\n"
	  "                     pcsc:READER (PC/SC reader: its name, a part of the name\n"
	  "                     only it has, #N counting from 0, or empty for the only\n"
	  "                     reader with a card)\n" },
	{ "list", cmd_device_list, NULL, "list devices and what they hold",
	  "usage: esimctl device list\n" },
	{ "remove", cmd_device_remove, NULL, "remove a device",
	  "usage: esimctl device remove NAME [--force]\n"
	  "\n"
	  "  --force            release the profiles the device holds first (recorded in history)\n" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct cmd carriers_cmds[] = {
	{ "list", cmd_carriers_list, NULL, "print the effective carrier policy table",
	  "usage: esimctl carriers [list]\n" },
	{ "show", cmd_carriers_show, NULL, "print one carrier's policy (names and aliases match)",
	  "usage: esimctl carriers show NAME\n" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct cmd notifications_cmds[] = {
	{ "list", cmd_notifications_list, NULL, "list notifications queued for the SM-DP+",
	  "usage: esimctl notifications list [--device DEVICE]\n" },
	{ "send", cmd_notifications_send, NULL, "send pending notifications (from eUICCs and the queue)",
	  "usage: esimctl notifications send [--device DEVICE]\n"
	  "\n"
	  "  Sends each pending notification with ES9+ handleNotification and removes it from the\n"
	  "  eUICC and the queue once the SM-DP+ accepted it; failures are kept (exit 7 or 8).\n" },
	{ "remove", cmd_notifications_remove, NULL, "drop a notification without sending it",
	  "usage: esimctl notifications remove SEQ --device DEVICE\n" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct cmd euicc_cmds[] = {
	{ "create-soft", cmd_euicc_create_soft, NULL, "create a software eUICC state file",
	  "usage: esimctl euicc create-soft PATH --eid EID --cert FILE --key FILE --eum FILE\n"
	  "                                 --ci FILE [--ci FILE ...]\n"
	  "\n"
	  "  --eid EID          the eUICC's EID (must equal the certificate's serialNumber)\n"
	  "  --cert FILE        CERT.EUICC (PEM or DER)\n"
	  "  --key FILE         its private key (PEM or DER; P-256 or brainpoolP256r1)\n"
	  "  --eum FILE         CERT.EUM that signed it\n"
	  "  --ci FILE          a trusted CI certificate (repeatable)\n" },
	{ "info", cmd_euicc_info, NULL, "EID, EUICCInfo2, installed profiles, pending notifications",
	  "usage: esimctl euicc info --device DEVICE\n" },
	{ "enable", cmd_euicc_enable, NULL, "enable a profile on a device's eUICC",
	  "usage: esimctl euicc enable PROFILE --device DEVICE\n" },
	{ "disable", cmd_euicc_disable, NULL, "disable a profile on a device's eUICC",
	  "usage: esimctl euicc disable PROFILE --device DEVICE\n" },
	{ "nickname", cmd_euicc_nickname, NULL, "set a profile's nickname on a device's eUICC",
	  "usage: esimctl euicc nickname PROFILE NAME --device DEVICE\n" },
	{ "sync", cmd_euicc_sync, NULL, "bring the store up to date with what a device's eUICC holds",
	  "usage: esimctl euicc sync --device DEVICE [--dry-run]\n"
	  "\n"
	  "  Adopts profiles on the eUICC that the store does not know (carrier guessed from the\n"
	  "  provider name, marked for review), releases bindings whose profile is gone from the\n"
	  "  eUICC and queues the eUICC's notifications the store lacks; every change is shown\n"
	  "  and recorded in the history.  Repairs an interrupted add, transfer or release, and\n"
	  "  brings a removable eUICC used in another device up to date.\n"
	  "  --dry-run          show the changes, write nothing\n" },
	{ "serve", cmd_euicc_serve, NULL, "serve a software eUICC as the card of a vpcd virtual PC/SC reader",
	  "usage: esimctl euicc serve soft:PATH [--vpcd HOST:PORT] [--atr HEX]\n"
	  "\n"
	  "  Connects to vsmartcard's vpcd (a pcscd driver, Debian vsmartcard-vpcd) and\n"
	  "  answers as the card in its reader until SIGINT or SIGTERM (exit 0); any PC/SC\n"
	  "  program (esimctl with pcsc:, another LPA) then reaches this eUICC.  Reconnects\n"
	  "  when pcscd restarts.\n"
	  "  --vpcd HOST:PORT   where vpcd listens (default 127.0.0.1:35963, the first\n"
	  "                     reader of Debian's /etc/reader.conf.d/vpcd; 35964 is the second)\n"
	  "  --atr HEX          announce this ATR instead of the software eUICC's own\n" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct cmd commands[] = {
	{ "add", cmd_add, NULL, "record a profile from an activation code",
	  "usage: esimctl add CODE|--code-file FILE --carrier CARRIER [--device DEVICE]\n"
	  "                   [--nickname NAME] [--iccid ICCID] [--data-only]\n"
	  "                   [--confirmation-code-file FILE | --confirmation-code CODE]\n"
	  "\n"
	  "  CODE                 activation code, LPA:1$<SM-DP+ address>$<matching ID>[$<OID>[$1]]\n"
	  "  --code-file FILE     read the activation code from FILE (- for standard input);\n"
	  "                       use this in scripts: a CODE argument is visible to other users\n"
	  "  --carrier CARRIER    the carrier (see 'esimctl carriers')\n"
	  "  --device DEVICE      the device the profile is installed on (active binding)\n"
	  "  --nickname NAME      a name to refer to the profile by\n"
	  "  --iccid ICCID        the profile's ICCID (18-20 digits, Luhn check digit)\n"
	  "  --data-only          the plan has no voice or SMS\n"
	  "  --confirmation-code-file FILE  the confirmation code for a download that needs one,\n"
	  "                       from FILE (- for standard input); else asked on a terminal\n"
	  "  --confirmation-code CODE  the same on the command line (visible to other users\n"
	  "                       until esimctl has read it; prefer the file form)\n"
	  "\n"
	  "  On a device with an eUICC (--euicc) the profile is downloaded from the SM-DP+\n"
	  "  (SGP.22) and installed; --carrier then defaults to the profile's provider name.\n"
	  "  A code already stored is reported (exit 0); an option that differs from the\n"
	  "  stored profile is refused (exit 2) and nothing changes.\n" },
	{ "transfer", cmd_transfer, NULL, "move a profile to another device, as the carrier allows",
	  "usage: esimctl transfer PROFILE --to DEVICE [--from DEVICE] [--dry-run [--at TIME]]\n"
	  "\n"
	  "  PROFILE            id (or 6+ of its first digits), ICCID or nickname\n"
	  "  --to DEVICE        target device\n"
	  "  --from DEVICE      source device (needed when the profile is on several)\n"
	  "  --dry-run          print the plan and exit with the status the real run would have\n"
	  "  --at TIME          with --dry-run: evaluate the plan at TIME (ISO 8601, UTC or offset)\n" },
	{ "list", cmd_list, NULL, "show profiles, where they are, and when they may move",
	  "usage: esimctl list [--device DEVICE] [--carrier CARRIER]\n" },
	{ "release", cmd_release, NULL, "end a profile's binding to a device",
	  "usage: esimctl release PROFILE [--device DEVICE]\n"
	  "       esimctl release --device DEVICE --all [--reason lost|stolen|sold|replaced]\n"
	  "\n"
	  "  --device DEVICE    the device to release from (needed when on several)\n"
	  "  --all              release every profile on DEVICE\n"
	  "  --reason REASON    why (recorded; changes the advice printed)\n" },
	{ "qr", cmd_qr, NULL, "write a backup QR code of an activation code, offline",
	  "usage: esimctl qr PROFILE [--png FILE | --svg FILE] [--size N] [--margin N] [--level L|M|Q|H]\n"
	  "       esimctl qr --code-file FILE|- [...] | --code CODE [...]\n"
	  "\n"
	  "  --code-file FILE   encode the activation code in FILE (- for standard input)\n"
	  "  --code CODE        the same from the command line (visible to other users)\n"
	  "  --png FILE         write a PNG (mode 0600)\n"
	  "  --svg FILE         write an SVG (mode 0600)\n"
	  "  --size N           pixels per module for PNG/SVG (1-64, default 8)\n"
	  "  --margin N         quiet zone in modules (0-16, default 4; 2 on the terminal)\n"
	  "  --level L          error correction L, M, Q or H (default M)\n"
	  "  --background B     terminal drawing for a dark or light background (default: dark\n"
	  "                     without colours on a terminal, light in a pipe)\n" },
	{ "device", NULL, device_cmds, "manage devices (add, list, remove)", NULL },
	{ "carriers", NULL, carriers_cmds, "inspect carrier policies (list, show)", NULL },
	{ "notifications", NULL, notifications_cmds, "SM-DP+ notifications (list, send, remove)", NULL },
	{ "euicc", NULL, euicc_cmds, "eUICCs (create-soft, info, enable, disable, nickname, sync, serve)", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const char global_usage[] =
	"usage: esimctl [--store PATH] [--json] [--quiet] [--wait-lock SECONDS]\n"
	"               [--show-secret] [--ca FILE] [--trust-system-ca] [--timeout SECONDS]\n"
	"               COMMAND [ARGS]\n"
	"       esimctl help COMMAND | --version\n";

static const char global_options[] =
	"global options (before or after the command):\n"
	"  --store PATH         store file (default $ESIMCTL_STORE or\n"
	"                       $XDG_DATA_HOME/esimctl/store.json)\n"
	"  --json               print exactly one JSON document on stdout\n"
	"  --quiet, -q          no notes or warnings on stderr\n"
	"  --wait-lock SECONDS  how long to wait for a busy store (default 5)\n"
	"  --show-secret        print matching IDs unmasked\n"
	"  --ca FILE            trust this CA for SM-DP+ TLS too (repeatable; $ESIMCTL_CA_FILE);\n"
	"                       the GSMA CI roots are built in\n"
	"  --trust-system-ca    also trust the system CA store for SM-DP+ TLS (risky: any\n"
	"                       public or proxy CA can then read matching IDs;\n"
	"                       $ESIMCTL_TRUST_SYSTEM_CA=1)\n"
	"  --timeout SECONDS    limit for each SM-DP+ request (default 60; $ESIMCTL_TIMEOUT)\n"
	"  --help, -h           help (esimctl help COMMAND)\n"
	"  --version            print the version\n";

static void print_command_list(FILE *f, const struct cmd *table, const char *prefix)
{
	for (const struct cmd *c = table; c->name; c++) {
		char name[64];

		snprintf(name, sizeof(name), "%s%s", prefix, c->name);
		fprintf(f, "  %-22s %s\n", name, c->summary);
	}
}

static void print_help(FILE *f, const struct cmd *c, const struct cmd *group)
{
	if (c && c->usage) {
		fputs(c->usage, f);
		fputs("\n", f);
		fputs(global_options, f);
	} else if (group) {
		char prefix[64];

		fprintf(f, "usage: esimctl %s SUBCOMMAND [ARGS]\n\nsubcommands:\n", group->name);
		snprintf(prefix, sizeof(prefix), "%s ", group->name);
		print_command_list(f, group->sub, prefix);
		fprintf(f, "\nrun 'esimctl help %s SUBCOMMAND' for its options\n", group->name);
	} else {
		fputs(global_usage, f);
		fputs("\ncommands:\n", f);
		print_command_list(f, commands, "");
		fputs("\n", f);
		fputs(global_options, f);
		fputs("\nexit status: 0 ok, 1 error, 2 usage, 3 store corrupt, 4 store busy, 5 not found,\n"
		      "6 refused by carrier policy, 7 network/TLS, 8 refused by SM-DP+, 9 eUICC/APDU,\n"
		      "10 eUICC unreachable, 11 output not written (see esimctl(1))\n", f);
	}
}

/*
 * Help asked for on the command line goes to stdout; with --json it becomes the "help"
 * string of the one JSON document, so stdout stays exactly one document.
 */
static void show_help(struct app *app, const struct cmd *c, const struct cmd *group)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!app->json) {
		print_help(stdout, c, group);
		return;
	}
	f = open_memstream(&text, &len);
	if (!f)
		return;
	print_help(f, c, group);
	if (fclose(f) == 0 && text)
		cJSON_AddStringToObject(app->out, "help", text);
	free(text);
}

static const struct cmd *find_cmd(const struct cmd *table, const char *name)
{
	for (const struct cmd *c = table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int global_has_value(const char *opt)
{
	return !strcmp(opt, "--store") || !strcmp(opt, "--wait-lock") || !strcmp(opt, "--ca") ||
	       !strcmp(opt, "--timeout");
}

/* --timeout / $ESIMCTL_TIMEOUT: seconds for each SM-DP+ request. */
static int parse_timeout(struct app *app, const char *what, const char *val)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(val, &end);
	if (errno || end == val || *end || t < 0.1 || t > 3600)
		return esim_fail(&app->err, ESIM_E_USAGE, "%s '%s': expected seconds between 0.1 and 3600", what, val);
	app->timeout_ms = (long)(t * 1000);
	return 0;
}

/*
 * Take the global options out of argv (anywhere before "--"); what is left is the
 * command and its arguments.  Returns -1 on a usage error.
 */
static int take_globals(struct app *app, int *argcp, char **argv, int *want_help, int *want_version)
{
	int argc = *argcp, out = 1, i;
	int dashdash = 0;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const char *val = NULL;
		char opt[32];

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			argv[out++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = 1;
			argv[out++] = a;
			continue;
		}
		if (!strcmp(a, "--json")) {
			app->json = 1;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			app->quiet = 1;
		} else if (!strcmp(a, "--show-secret")) {
			app->show_secret = 1;
		} else if (!strcmp(a, "--trust-system-ca")) {
			app->trust_system_ca = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*want_help = 1;
		} else if (!strcmp(a, "--version")) {
			*want_version = 1;
		} else {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);

			if (n >= sizeof(opt)) {
				argv[out++] = a;
				continue;
			}
			memcpy(opt, a, n);
			opt[n] = '\0';
			if (!global_has_value(opt)) {
				argv[out++] = a;
				continue;
			}
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				return esim_fail(&app->err, ESIM_E_USAGE, "option '%s' needs a value", opt);
			}
			if (!strcmp(opt, "--store")) {
				if (!*val)
					return esim_fail(&app->err, ESIM_E_USAGE, "--store needs a path");
				app->store_arg = val;
			} else if (!strcmp(opt, "--wait-lock")) {
				char *end;
				double w;

				errno = 0;
				w = strtod(val, &end);
				if (errno || end == val || *end || w < 0 || w > 86400)
					return esim_fail(&app->err, ESIM_E_USAGE,
							 "--wait-lock '%s': expected seconds between 0 and 86400", val);
				app->wait_lock = w;
			} else if (!strcmp(opt, "--timeout")) {
				if (parse_timeout(app, "--timeout", val) < 0)
					return -1;
			} else {
				app->ca_files = xrealloc(app->ca_files, (app->nca + 1) * sizeof(*app->ca_files));
				app->ca_files[app->nca++] = val;
			}
		}
	}
	argv[out] = NULL;
	*argcp = out;
	return 0;
}

static int init_clock(struct app *app)
{
	const char *now = getenv("ESIMCTL_NOW");

	if (now && *now) {
		struct esim_err e = { 0 };

		if (time_parse(now, &app->now, &e) < 0)
			return esim_fail(&app->err, ESIM_E_USAGE, "ESIMCTL_NOW: %s", e.msg);
		return 0;
	}
	app->now = (int64_t)time(NULL);
	return 0;
}

/* Messages quote what users, stores and servers gave: shown escaped (text.h), never obeyed. */
static void print_error(struct app *app)
{
	const char *name = app->cmd_name;
	struct esim_err *e = &app->err;
	struct buf t[5] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };

	text_escape_term(&t[0], e->msg);
	text_escape_term(&t[1], e->smdp_message);
	text_escape_term(&t[2], e->subject_code);
	text_escape_term(&t[3], e->reason_code);
	text_escape_term(&t[4], e->hint);
	if (name)
		fprintf(stderr, "esimctl: %s: %s\n", name, t[0].buf);
	else
		fprintf(stderr, "esimctl: %s\n", t[0].buf);
	if (e->smdp_message[0] || e->subject_code[0])
		fprintf(stderr, "esimctl: SM-DP+ said: %s%s%s%s%s%s\n",
			e->smdp_message[0] ? t[1].buf : "(no message)",
			e->subject_code[0] ? " [subject " : "", t[2].buf,
			e->reason_code[0] ? ", reason " : "", t[3].buf,
			e->subject_code[0] ? "]" : "");
	if (e->hint[0])
		fprintf(stderr, "hint: %s\n", t[4].buf);
	for (size_t i = 0; i < 5; i++)
		buf_release(&t[i]);
}

/* One value as cJSON_PrintUnformatted() prints it, through b (reused, wiped after). */
/* 1 when text[0..n) has no byte outside printable ASCII (cJSON escapes the rest below 0x20). */
static int ascii_printable(const char *text, size_t n)
{
	unsigned char other = 0;

	/* no early exit: the compiler makes this loop a vector one (the usual case is all ASCII) */
	for (size_t i = 0; i < n; i++)
		other |= (unsigned char)text[i] >= 0x7f;
	return !other;
}

static void print_piece(const cJSON *item, struct buf *b)
{
	size_t room = b->alloc > 4096 ? b->alloc - 1 : 4096;

	for (;;) {
		buf_grow(b, room);
		if (cJSON_PrintPreallocated((cJSON *)item, b->buf, (int)room, 0))
			break;
		room *= 2;
	}
	b->len = strlen(b->buf);
	/*
	 * cJSON copies string bytes as they are: text_json_repair() keeps invalid UTF-8 (from
	 * an old store, an SM-DP+ message) and raw DEL, C1 or bidi controls out of the output.
	 * Plain ASCII, the usual case, needs no second pass.
	 */
	if (!ascii_printable(b->buf, b->len)) {
		struct buf fixed = BUF_INIT;

		text_json_repair(&fixed, b->buf, b->len);
		fwrite(fixed.buf, 1, fixed.len, stdout);
		buf_wipe_release(&fixed);
	} else {
		fwrite(b->buf, 1, b->len, stdout);
	}
	/* With --show-secret the document holds matching IDs. */
	secure_wipe(b->buf, b->len);
	b->len = 0;
}

/*
 * The --json document, exactly as cJSON_PrintUnformatted() prints it, but one member of
 * the top-level object (one element of its arrays) at a time: `list --json` on a large
 * store never holds the whole text in memory next to the tree.  A command may print an
 * array member while it makes it (app_json_array_begin() ... _end()): then no tree of the
 * whole document exists either.  finish() prints the members left in app->out after the
 * ones already printed, "ok" last.
 */
static struct {
	int open;        /* '{' and at least one member printed */
	size_t n;        /* elements printed in the array being streamed */
	struct buf piece;
} doc_out = { 0, 0, BUF_INIT };

/* '{' or ',', then "key": */
static void print_key(const char *name)
{
	cJSON *key = cJSON_CreateStringReference(name);

	fputc(doc_out.open ? ',' : '{', stdout);
	doc_out.open = 1;
	print_piece(key, &doc_out.piece);
	cJSON_Delete(key);
	fputc(':', stdout);
}

/* Prints the members of doc, and takes them out of it. */
static void print_members(cJSON *doc)
{
	cJSON *m, *e;

	while (doc && (m = doc->child) != NULL) {
		print_key(m->string);
		if (!cJSON_IsArray(m)) {
			print_piece(m, &doc_out.piece);
		} else {
			fputc('[', stdout);
			cJSON_ArrayForEach(e, m) {
				if (e != m->child)
					fputc(',', stdout);
				print_piece(e, &doc_out.piece);
			}
			fputc(']', stdout);
		}
		cJSON_Delete(cJSON_DetachItemViaPointer(doc, m));
	}
}

void app_json_array_begin(struct app *app, const char *key)
{
	print_members(app->out);
	print_key(key);
	fputc('[', stdout);
	doc_out.n = 0;
}

void app_json_array_add(struct app *app, cJSON *item)
{
	(void)app;
	if (doc_out.n++)
		fputc(',', stdout);
	print_piece(item, &doc_out.piece);
	cJSON_Delete(item);
}

void app_json_array_end(struct app *app)
{
	(void)app;
	fputc(']', stdout);
}

static void print_document(cJSON *doc)
{
	print_members(doc);
	if (!doc_out.open)
		fputc('{', stdout);
	fputs("}\n", stdout);
	buf_release(&doc_out.piece);
}

static int finish(struct app *app, int rc)
{
	int status = rc < 0 ? (int)app->err.status : 0;

	if (rc < 0 && status == 0)
		status = ESIM_E_OTHER;
	if (rc < 0)
		print_error(app);
	if (app->json) {
		cJSON *doc = app->out ? app->out : cJSON_CreateObject();

		cJSON_DeleteItemFromObject(doc, "ok");
		cJSON_AddItemToObjectCS(doc, "ok", cJSON_CreateBool(rc == 0));
		if (rc < 0) {
			cJSON *e = cJSON_AddObjectToObject(doc, "error");

			cJSON_AddNumberToObject(e, "status", status);
			cJSON_AddStringToObject(e, "name", esim_status_name((enum esim_status)status));
			cJSON_AddStringToObject(e, "message", app->err.msg);
			if (app->err.hint[0])
				cJSON_AddStringToObject(e, "hint", app->err.hint);
			if (app->err.detail[0])
				cJSON_AddStringToObject(e, "detail", app->err.detail);
			if (app->err.subject_code[0])
				cJSON_AddStringToObject(e, "subject_code", app->err.subject_code);
			if (app->err.reason_code[0])
				cJSON_AddStringToObject(e, "reason_code", app->err.reason_code);
			if (app->err.smdp_message[0])
				cJSON_AddStringToObject(e, "smdp_message", app->err.smdp_message);
		}
		print_document(doc);
		cJSON_Delete(doc);
		app->out = NULL;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (status == 0) {
			fprintf(stderr, "esimctl: cannot write output: %s\n", strerror(errno ? errno : EIO));
			status = ESIM_E_OUTPUT;
		}
	}
	return status;
}

/*
 * Every command may hold secrets: matching IDs (the store, an activation code), a
 * confirmation code, a software eUICC's private key.  A core file would keep them on disk
 * (docs/reliability.md), so from the first instruction on: no core file (RLIMIT_CORE 0,
 * soft and hard, inherited by esimctl-https), and not dumpable, which with the default
 * fs.suid_dumpable=0 also covers a core piped to a handler, makes /proc/PID/{mem,environ,
 * maps} root's and refuses ptrace from other processes of the same user.
 * /proc/PID/cmdline stays readable by all: codes are taken out of argv after option
 * parsing (secretin.c).  Two system calls (2.3 us), done always: docs/reliability.md.
 */
static void harden_process(void)
{
	static const struct rlimit no_core = { 0, 0 };

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &no_core);
}

static char stdout_buf[64 << 10];

static void app_release(struct app *app)
{
	buf_release(&app->store_path);
	carrier_table_free(app->carriers);
	free(app->ca_files);
	free(app->known_smdp);
	cJSON_Delete(app->out);
	secret_forget_all();
	/* finish() flushed it; with --show-secret it held matching IDs */
	if (app->show_secret && !app->stdout_tty)
		secure_wipe(stdout_buf, sizeof(stdout_buf));
}

int main(int argc, char **argv)
{
	struct app app;
	int want_help = 0, want_version = 0, rc, status;
	const struct cmd *c, *group = NULL;
	const char *env;
	char cmdname[64];

	harden_process();
	/*
	 * A run is short, and memory it frees is best used again: glibc would put a block
	 * of 128 KiB or more (the store's text, the model's arrays) in pages of its own and
	 * unmap them when freed, and give the top of the heap back, so that the next block
	 * faults in fresh pages (1 to 2 us each on a virtual machine, as many as a tree of
	 * a large store has).  `list` at 1,000 profiles: 1,280 -> 1,147 page faults.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	/*
	 * cJSON holds matching IDs, keys and ES9+ secrets: its blocks are wiped when freed,
	 * and a tree's blocks come from a few chunks instead of one malloc() each.
	 */
	jsonalloc_install();
	memset(&app, 0, sizeof(app));
	buf_init(&app.store_path, 0);
	app.wait_lock = STORE_DEFAULT_WAIT_S;
	app.stdin_tty = isatty(STDIN_FILENO);
	app.stdout_tty = isatty(STDOUT_FILENO);
	if (!app.stdout_tty) {
		/*
		 * Into a pipe or a file, output goes in 64 KiB writes instead of stdio's 4 KiB
		 * ones (list --json at 1,000 profiles: 12 write() calls instead of 185).  The
		 * buffer is ours, so it is wiped at exit (--show-secret output passes through it).
		 */
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	}
	app.stderr_tty = isatty(STDERR_FILENO);
	if ((env = getenv("ESIMCTL_TIMEOUT")) && *env && parse_timeout(&app, "ESIMCTL_TIMEOUT", env) < 0)
		goto out_fail;
	if ((env = getenv("ESIMCTL_TRUST_SYSTEM_CA")) && *env && strcmp(env, "0") != 0) {
		if (strcmp(env, "1") != 0) {
			esim_fail(&app.err, ESIM_E_USAGE, "ESIMCTL_TRUST_SYSTEM_CA='%.20s': expected 1 or 0", env);
			goto out_fail;
		}
		app.trust_system_ca = 1;
	}
	if ((env = getenv("ESIMCTL_CA_FILE")) && *env) {
		app.ca_files = xrealloc(app.ca_files, sizeof(*app.ca_files));
		app.ca_files[app.nca++] = env;
	}

	if (take_globals(&app, &argc, argv, &want_help, &want_version) < 0) {
		fprintf(stderr, "%s", global_usage);
		goto out_fail;
	}
	if (app.json)
		app.out = cJSON_CreateObject();
	if (want_version) {
		if (app.json)
			cJSON_AddStringToObject(app.out, "version", ESIMCTL_VERSION);
		else
			printf("esimctl %s\n", ESIMCTL_VERSION);
		status = finish(&app, 0);
		goto out;
	}
	if (argc < 2) {
		if (want_help) {
			show_help(&app, NULL, NULL);
			status = finish(&app, 0);
			goto out;
		}
		print_help(stderr, NULL, NULL);
		esim_fail(&app.err, ESIM_E_USAGE, "no command given");
		goto out_fail;
	}
	/* "esimctl help [CMD [SUB]]" is "esimctl CMD [SUB] --help". */
	if (!strcmp(argv[1], "help")) {
		want_help = 1;
		argv++;
		argc--;
		if (argc < 2) {
			show_help(&app, NULL, NULL);
			status = finish(&app, 0);
			goto out;
		}
	}
	c = find_cmd(commands, argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			esim_fail(&app.err, ESIM_E_USAGE, "unknown option '%s'", argv[1]);
		else
			esim_fail(&app.err, ESIM_E_USAGE, "'%s' is not an esimctl command", argv[1]);
		esim_hint(&app.err, "run 'esimctl --help' for the list of commands");
		goto out_fail;
	}
	snprintf(cmdname, sizeof(cmdname), "%s", c->name);
	argv++;
	argc--;
	if (c->sub) {
		group = c;
		if (argc < 2 || argv[1][0] == '-') {
			/* "carriers" alone lists; other groups need a subcommand. */
			if (!want_help && c->sub == carriers_cmds) {
				c = &carriers_cmds[0];
			} else if (want_help) {
				show_help(&app, NULL, group);
				status = finish(&app, 0);
				goto out;
			} else {
				print_help(stderr, NULL, group);
				esim_fail(&app.err, ESIM_E_USAGE, "'%s' needs a subcommand", group->name);
				goto out_fail;
			}
		} else {
			c = find_cmd(group->sub, argv[1]);
			if (!c) {
				esim_fail(&app.err, ESIM_E_USAGE, "'%s %s' is not an esimctl command",
					  group->name, argv[1]);
				esim_hint(&app.err, "run 'esimctl help %s'", group->name);
				goto out_fail;
			}
			argv++;
			argc--;
		}
		snprintf(cmdname, sizeof(cmdname), "%s %s", group->name, c->name);
	}
	app.cmd_name = cmdname;
	if (want_help) {
		show_help(&app, c, NULL);
		status = finish(&app, 0);
		goto out;
	}
	if (init_clock(&app) < 0)
		goto out_fail;
	rc = c->run(&app, argc, argv);
	status = finish(&app, rc);
	goto out;

out_fail:
	status = finish(&app, -1);
out:
	app_release(&app);
	return status;
}
