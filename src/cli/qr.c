/*
 * qr.c - esimctl qr PROFILE | qr --code CODE | qr --code-file FILE|-
 *                   [--png FILE | --svg FILE] [--size N] [--margin N] [--level L]
 *                   [--background dark|light]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/qr.h"
#include "esimctl/store.h"
#include "store/outfile.h"

int cmd_qr(struct app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "code", required_argument, NULL, 'c' },
		{ "code-file", required_argument, NULL, 'f' },
		{ "png", required_argument, NULL, 'p' },
		{ "svg", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'S' },
		{ "margin", required_argument, NULL, 'm' },
		{ "level", required_argument, NULL, 'l' },
		{ "background", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	const char *png = NULL, *svg = NULL, *background = NULL, *path, *code_file = NULL;
	char *code = NULL;
	long size = 8, margin = -1;
	enum qr_level level = QR_LEVEL_M;
	struct actcode ac;
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct qr_matrix m = { 0, NULL };
	struct output_info oi = { OUTPUT_NEW, BUF_INIT, 0 };
	struct store *s = NULL;
	int c, rc = -1;

	memset(&ac, 0, sizeof(ac));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			/* keep the code out of /proc/PID/cmdline from here on */
			app_drop_secret(&code);
			if (app_take_secret_arg(app, "--code", optarg, APP_CODE_MAX, &code) < 0)
				goto out;
			break;
		case 'f': code_file = optarg; break;
		case 'p': png = optarg; break;
		case 's': svg = optarg; break;
		case 'S':
			if (app_parse_int(app, "--size", optarg, 1, 64, &size) < 0)
				goto out;
			break;
		case 'm':
			if (app_parse_int(app, "--margin", optarg, 0, 16, &margin) < 0)
				goto out;
			break;
		case 'l':
			if (app_check_text(app, "--level", optarg, 0) < 0)
				goto out;
			if (qr_level_parse(optarg, &level) < 0) {
				app_usage(app, "--level '%s': must be L, M, Q or H", optarg);
				goto out;
			}
			break;
		case 'b':
			if (strcmp(optarg, "dark") && strcmp(optarg, "light")) {
				app_usage(app, "--background: must be dark or light");
				goto out;
			}
			background = optarg;
			break;
		default: app_getopt_error(app, c, argv); goto out;
		}
	}
	if (background && (png || svg)) {
		app_usage(app, "--background is for the terminal rendering, not --png or --svg");
		goto out;
	}
	if (app_check_text(app, "--code", code, 0) < 0 ||
	    (optind < argc && app_check_text(app, "PROFILE", argv[optind], 0) < 0))
		goto out;
	if (png && svg) {
		app_usage(app, "give either --png or --svg, not both");
		goto out;
	}
	/* The output path's usage errors come before any work (esimctl(1) OUTPUT FILES). */
	if (png || svg) {
		const char *opt = png ? "--png" : "--svg";

		if (output_check(png ? png : svg, png != NULL, app->stdout_tty, &app->err) < 0) {
			if (!app->err.hint[0])
				esim_hint(&app->err, "run 'esimctl help qr'");
			goto out;
		}
		if (app->json && !strcmp(png ? png : svg, "-")) {
			app_usage(app, "%s -: standard output carries the JSON document with --json", opt);
			goto out;
		}
	}
	if (code && code_file) {
		app_usage(app, "give either --code or --code-file, not both");
		goto out;
	}
	if ((code || code_file) && optind != argc) {
		app_usage(app, "give either PROFILE or %s, not both", code ? "--code" : "--code-file");
		goto out;
	}
	if (!code && !code_file && optind != argc - 1) {
		app_usage(app, optind >= argc ? "missing the PROFILE (or --code CODE)" : "unexpected argument '%s'",
			  argv[optind + (optind < argc)]);
		goto out;
	}
	if (code_file && (app_read_secret(app, "--code-file", code_file, APP_CODE_MAX, &code) < 0 ||
			  app_check_text(app, "--code-file", code, 0) < 0))
		goto out;
	if (code) {
		rc = actcode_parse(code, &ac, &app->err);
		app_drop_secret(&code);
		if (rc < 0)
			goto out;
		rc = -1;
	} else {
		struct profile *p;

		if (!(path = app_store_path(app)) || store_load(path, &s, &app->err) < 0)
			goto out;
		if (model_resolve_profile(s, argv[optind], &p, &app->err) < 0)
			goto out;
		if (!p->ac) {
			app_fail(app, ESIM_E_NOTFOUND, "profile %s has no activation code stored",
				 model_profile_shown_id(s, p));
			goto out;
		}
		actcode_unpack(p->ac, &ac);
	}
	/* The QR code carries exactly the canonical activation code. */
	actcode_format(&ac, &text);
	if (qr_encode(text.buf, level, &m, &app->err) < 0)
		goto out;
	if (png || svg) {
		const char *file = png ? png : svg;

		if (margin < 0)
			margin = 4;
		if (png) {
			if (qr_render_png(&m, (int)size, (int)margin, &out, &app->err) < 0)
				goto out;
		} else {
			qr_render_svg(&m, (int)size, (int)margin, &out);
		}
		if (output_write(file, out.buf, out.len, png != NULL, &oi, &app->err) < 0)
			goto out;
		if (app->json) {
			cJSON_AddStringToObject(app->out, "file", file);
			cJSON_AddStringToObject(app->out, "format", png ? "png" : "svg");
			cJSON_AddNumberToObject(app->out, "modules", m.width);
			cJSON_AddNumberToObject(app->out, "bytes", (double)out.len);
		}
		if (oi.is_stdout)
			/* the data went to stdout: the report must not follow it there */
			app_note(app, "wrote %s (%s, %d modules)\n", file, png ? "PNG" : "SVG", m.width);
		else if (oi.kind == OUTPUT_IN_PLACE)
			app_print(app, "wrote %s (%s, %d modules)\n", file, png ? "PNG" : "SVG", m.width);
		else if (strcmp(file, oi.target.buf))
			app_print(app, "wrote %s -> %s (%s, %d modules, mode 0600)\n", file, oi.target.buf,
				  png ? "PNG" : "SVG", m.width);
		else
			app_print(app, "wrote %s (%s, %d modules, mode 0600)\n", file, png ? "PNG" : "SVG",
				  m.width);
		app_note(app, "this QR code holds the full activation code: store it like a password\n");
	} else {
		int ansi = app->stdout_tty && !getenv("NO_COLOR") &&
			   !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
		int style, cols;
		size_t have = app_columns(app);

		if (margin < 0)
			margin = 2;
		/*
		 * Colours (black on white) scan on any theme.  Without them (NO_COLOR, a dumb
		 * terminal) a terminal is assumed dark, the usual theme, and gets the light
		 * modules drawn; files and pipes keep dark-on-light.  --background overrides.
		 */
		if (background)
			style = !strcmp(background, "dark") ? QR_TERM_DARK_BG : QR_TERM_LIGHT_BG;
		else if (app->json)
			style = QR_TERM_LIGHT_BG;
		else
			style = ansi ? QR_TERM_ANSI : app->stdout_tty ? QR_TERM_DARK_BG : QR_TERM_LIGHT_BG;
		cols = qr_term_columns(&m, (int)margin);
		if (have && (size_t)cols > have && !app->json)
			app_warn(app, "the QR code is %d columns wide but the terminal has %zu: lines will wrap "
				 "and it will not scan; widen the terminal or use --png FILE", cols, have);
		qr_render_term(&m, (int)margin, style, &out);
		if (app->json) {
			cJSON_AddStringToObject(app->out, "format", "terminal");
			cJSON_AddNumberToObject(app->out, "modules", m.width);
			cJSON_AddStringToObject(app->out, "text", out.buf);
		} else {
			fwrite(out.buf, 1, out.len, stdout);
		}
	}
	rc = 0;
out:
	qr_matrix_free(&m);
	buf_release(&oi.target);
	buf_wipe_release(&text);
	buf_release(&out);
	secure_wipe(&ac, sizeof(ac));
	app_drop_secret(&code);
	model_free(s);
	return rc;
}
