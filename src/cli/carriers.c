/* carriers.c - esimctl carriers [list] | carriers show NAME */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "esimctl/text.h"

enum { CC_NAME, CC_REGION, CC_MODEL, CC_DEVICES, CC_SYNC, CC_TRANSFER, CC_COOLDOWN, CC_REPROV, CC_NOTES, CC_N };

/* The cells of one carrier; the buffers hold the formatted figures. */
struct carrier_cells {
	char name[8 + 4 * 64], devices[16], transfer[32], cooldown[32];
	const char *v[CC_N];
};

static void carrier_cells(const struct carrier_policy *c, struct carrier_cells *k)
{
	snprintf(k->name, sizeof(k->name), "%s%s", c->overridden ? "*" : " ", c->name);
	snprintf(k->devices, sizeof(k->devices), "%d", c->max_devices);
	fmt_range(c->transfer_min_s, c->transfer_max_s, k->transfer, sizeof(k->transfer));
	fmt_cooldown(c->cooldown_s, k->cooldown, sizeof(k->cooldown));
	k->v[CC_NAME] = k->name;
	k->v[CC_REGION] = c->region ? c->region : "-";
	k->v[CC_MODEL] = carrier_model_name(c->model);
	k->v[CC_DEVICES] = k->devices;
	k->v[CC_SYNC] = cloud_sync_name(c->cloud_sync);
	k->v[CC_TRANSFER] = c->model == MODEL_SEQUENTIAL ? k->transfer : "-";
	k->v[CC_COOLDOWN] = c->model == MODEL_SEQUENTIAL ? k->cooldown : "-";
	k->v[CC_REPROV] = c->reprov_text ? c->reprov_text : "-";
	k->v[CC_NOTES] = c->notes ? c->notes : "";
}

/*
 * The table of carriers rows[0..n) on stdout, fitted to the terminal: when it is too
 * narrow for every column, the notes (then the re-provisioning time too) go on a line of
 * their own under each carrier.
 */
static void print_table(const struct app *app, const struct carrier_policy *const *rows, size_t n)
{
	struct tcol cols[CC_N] = {
		{ " CARRIER", 0, 30, 0 }, { "REGION", 8, 24, 0 }, { "MODEL", 0, 0, 0 },
		{ "DEVICES", 0, 0, 0 }, { "SYNC", 0, 0, 0 }, { "TRANSFER", 0, 0, 0 },
		{ "COOLDOWN", 0, 0, 0 }, { "REPROVISIONING", 0, 24, 0 }, { "NOTES", 0, 0, 0 },
	};
	struct carrier_cells k;
	struct buf out = BUF_INIT;
	size_t ncols = CC_N, limit = app_columns(app);

	for (size_t i = 0; i < n; i++) {
		carrier_cells(rows[i], &k);
		for (size_t j = 0; j < CC_N; j++)
			table_measure(&cols[j], k.v[j]);
	}
	while (limit && ncols > CC_REPROV) {
		size_t total = 0;

		for (size_t j = 0; j < ncols; j++)
			total += (j ? 2 : 0) + (cols[j].w > text_width(cols[j].head) ? cols[j].w
										   : text_width(cols[j].head));
		if (total <= limit)
			break;
		ncols--;
	}
	table_fit(app, cols, ncols);
	table_head(&out, cols, ncols);
	for (size_t i = 0; i < n; i++) {
		struct buf more = BUF_INIT;

		carrier_cells(rows[i], &k);
		table_row(&out, cols, ncols, k.v);
		if (ncols <= CC_REPROV && strcmp(k.v[CC_REPROV], "-"))
			buf_addf(&more, "re-provisioning: %s", k.v[CC_REPROV]);
		if (ncols <= CC_NOTES && *k.v[CC_NOTES])
			buf_addf(&more, "%snote: %s", more.len ? "; " : "", k.v[CC_NOTES]);
		if (more.len) {
			buf_addstr(&out, "   ");
			text_fit(&out, more.buf, limit > 3 ? limit - 3 : 1, 0);
			buf_addch(&out, '\n');
		}
		buf_release(&more);
	}
	fwrite(out.buf, 1, out.len, stdout);
	buf_release(&out);
}

int cmd_carriers_list(struct app *app, int argc, char **argv)
{
	const struct carrier_table *t;
	struct buf path = BUF_INIT;
	cJSON *arr = NULL;
	const struct carrier_policy **rows;
	int overridden = 0;

	if (argc > 1)
		return app_usage(app, "unexpected argument '%s'", argv[1]);
	if (!(t = app_carriers(app)))
		return -1;
	app_carriers_path(&path);
	if (app->json) {
		cJSON_AddStringToObject(app->out, "override_file", path.buf);
		arr = cJSON_AddArrayToObject(app->out, "carriers");
	}
	rows = xcalloc(carrier_table_count(t) + 1, sizeof(*rows));
	for (size_t i = 0; i < carrier_table_count(t); i++) {
		const struct carrier_policy *c = carrier_table_at(t, i);

		overridden |= c->overridden;
		rows[i] = c;
		if (app->json)
			cJSON_AddItemToArray(arr, json_carrier(c));
	}
	if (!app->json)
		print_table(app, rows, carrier_table_count(t));
	free(rows);
	if (!app->json) {
		if (overridden)
			printf("\n* changed or added by %s\n", path.buf);
		else
			app_note(app, "\nadd or override carriers in %s (see docs/carriers-format.md)\n", path.buf);
	}
	buf_release(&path);
	return 0;
}

int cmd_carriers_show(struct app *app, int argc, char **argv)
{
	const struct carrier_table *t;
	const struct carrier_policy *c;

	if (argc != 2)
		return app_usage(app, argc < 2 ? "missing the carrier NAME" : "unexpected argument '%s'",
				 argv[argc > 2 ? 2 : 0]);
	if (app_check_carrier(app, "carrier NAME", argv[1]) < 0 || !(t = app_carriers(app)))
		return -1;
	c = carrier_find(t, argv[1]);
	if (!c) {
		struct buf path = BUF_INIT, dym = BUF_INIT;

		app_carriers_path(&path);
		app_carrier_suggestions(app, argv[1], &dym);
		app_fail(app, ESIM_E_NOTFOUND, "carrier '%s' is not in the table%s%s", argv[1],
			 dym.len ? "; " : "", dym.buf);
		esim_hint(&app->err, "esimctl treats it as sequential with unknown times; add it to %s",
			  path.buf);
		buf_release(&path);
		buf_release(&dym);
		return -1;
	}
	if (app->json) {
		cJSON_AddItemToObject(app->out, "carrier", json_carrier(c));
		return 0;
	}
	print_table(app, &c, 1);
	if (c->aliases[0]) {
		struct buf line = BUF_INIT;

		buf_addstr(&line, "\naliases:");
		for (size_t i = 0; i < CARRIER_MAX_ALIASES && c->aliases[i]; i++) {
			buf_addstr(&line, i ? ", " : " ");
			text_escape_term(&line, c->aliases[i]);
		}
		printf("%s\n", line.buf);
		buf_release(&line);
	}
	return 0;
}
