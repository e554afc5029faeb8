/* carriers.c - esimctl carriers [list] | carriers show NAME */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static void print_row(const struct carrier_policy *c)
{
	char devices[16], transfer[32], cooldown[32];

	snprintf(devices, sizeof(devices), "%d", c->max_devices);
	fmt_range(c->transfer_min_s, c->transfer_max_s, transfer, sizeof(transfer));
	fmt_cooldown(c->cooldown_s, cooldown, sizeof(cooldown));
	printf("%s%-15s %-14s %-13s %-7s %-7s %-10s %-8s %-17s %s\n", c->overridden ? "*" : " ",
	       c->name, c->region ? c->region : "-", carrier_model_name(c->model), devices,
	       cloud_sync_name(c->cloud_sync),
	       c->model == MODEL_SEQUENTIAL ? transfer : "-",
	       c->model == MODEL_SEQUENTIAL ? cooldown : "-",
	       c->reprov_text ? c->reprov_text : "-", c->notes ? c->notes : "");
}

static void print_header(void)
{
	printf(" %-15s %-14s %-13s %-7s %-7s %-10s %-8s %-17s %s\n", "CARRIER", "REGION", "MODEL",
	       "DEVICES", "SYNC", "TRANSFER", "COOLDOWN", "REPROVISIONING", "NOTES");
}

int cmd_carriers_list(struct app *app, int argc, char **argv)
{
	const struct carrier_table *t;
	struct buf path = BUF_INIT;
	cJSON *arr = NULL;
	int overridden = 0;

	if (argc > 1)
		return app_usage(app, "unexpected argument '%s'", argv[1]);
	if (!(t = app_carriers(app)))
		return -1;
	app_carriers_path(&path);
	if (app->json) {
		cJSON_AddStringToObject(app->out, "override_file", path.buf);
		arr = cJSON_AddArrayToObject(app->out, "carriers");
	} else {
		print_header();
	}
	for (size_t i = 0; i < carrier_table_count(t); i++) {
		const struct carrier_policy *c = carrier_table_at(t, i);

		overridden |= c->overridden;
		if (app->json)
			cJSON_AddItemToArray(arr, json_carrier(c));
		else
			print_row(c);
	}
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
	print_header();
	print_row(c);
	if (c->aliases[0]) {
		printf("\naliases:");
		for (size_t i = 0; i < CARRIER_MAX_ALIASES && c->aliases[i]; i++)
			printf("%s %s", i ? "," : "", c->aliases[i]);
		printf("\n");
	}
	return 0;
}
