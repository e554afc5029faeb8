/*
 * carrier_table.c - the built-in carrier transfer policies (const data, see carrier.h).
 *
 * One row per carrier, grouped by model in the order of the source material's tables
 * (concurrent, sequential, single-device).  Figures are the published ones, converted to
 * seconds: "10-15 min" is 600..900, "24 hours" is 86400.
 *
 * Conventions for fields that the source gives no figure for:
 *   - transfer time and cooldown of concurrent and single-device carriers: -1 (n/a);
 *   - re-provisioning time of concurrent and sequential carriers: -1, text NULL;
 *   - cloud sync of sequential and single-device carriers: SYNC_UNKNOWN;
 *   - max_devices is 1 for every carrier that is not concurrent.
 * Marketing remarks ("best-in-class implementation") are not kept as notes: notes are
 * shown to the user as warnings, so only actionable conditions belong there.
 *
 * Aliases are other names a user may write for the same carrier (brands, former names).
 * Matching goes through carrier_key(), so "at&t" or "T Mobile" need no entry of their
 * own; the few folded variants listed ("ATT", "América Móvil") are there to be shown.
 * carrier.c reads these rows through the two declarations below.
 */
#include <stddef.h>

#include "esimctl/carrier.h"

extern const struct carrier_policy carrier_builtin_rows[];
extern const size_t carrier_builtin_nrows;

#define MIN_S(m) ((m) * 60)
#define HOUR_S(h) ((h) * 3600)

/* Shorthands for one model's shape; the other fields are listed in every row. */
#define CONCURRENT(n, sync) \
	.model = MODEL_CONCURRENT, .max_devices = (n), .cloud_sync = (sync), \
	.transfer_min_s = -1, .transfer_max_s = -1, .cooldown_s = -1, \
	.reprov_min_s = -1, .reprov_max_s = -1, .reprov_text = NULL
#define SEQUENTIAL(tmin, tmax, cool) \
	.model = MODEL_SEQUENTIAL, .max_devices = 1, .cloud_sync = SYNC_UNKNOWN, \
	.transfer_min_s = (tmin), .transfer_max_s = (tmax), .cooldown_s = (cool), \
	.reprov_min_s = -1, .reprov_max_s = -1, .reprov_text = NULL
#define SINGLE_DEVICE(rmin, rmax, text) \
	.model = MODEL_SINGLE_DEVICE, .max_devices = 1, .cloud_sync = SYNC_UNKNOWN, \
	.transfer_min_s = -1, .transfer_max_s = -1, .cooldown_s = -1, \
	.reprov_min_s = (rmin), .reprov_max_s = (rmax), .reprov_text = (text)

const struct carrier_policy carrier_builtin_rows[] = {
	/* Concurrent multi-device: the same profile active on several devices. */
	{ .name = "T-Mobile", .region = "USA", CONCURRENT(5, SYNC_YES),
	  .notes = NULL,
	  .aliases = { "TMobile", "T-Mobile US", NULL } },
	{ .name = "Vodafone", .region = "EU", CONCURRENT(3, SYNC_YES),
	  .notes = "requires Red Business plan",
	  .aliases = { NULL } },
	{ .name = "Orange", .region = "France", CONCURRENT(3, SYNC_YES),
	  .notes = "must be enabled in the carrier app",
	  .aliases = { NULL } },
	{ .name = "Telstra", .region = "Australia", CONCURRENT(4, SYNC_YES),
	  .notes = "international roaming needs separate activation",
	  .aliases = { NULL } },
	{ .name = "NTT Docomo", .region = "Japan", CONCURRENT(2, SYNC_PARTIAL),
	  .notes = "limited to domestic use",
	  .aliases = { "Docomo", NULL } },

	/* Sequential: released on one device before it becomes active on the next. */
	{ .name = "AT&T", .region = "USA", SEQUENTIAL(MIN_S(10), MIN_S(15), HOUR_S(24)),
	  .notes = "support can expedite a transfer",
	  .aliases = { "ATT", "AT and T", NULL } },
	{ .name = "Verizon", .region = "USA", SEQUENTIAL(MIN_S(5), MIN_S(10), 0),
	  .notes = NULL,
	  .aliases = { "Verizon Wireless", NULL } },
	{ .name = "EE", .region = "UK", SEQUENTIAL(MIN_S(15), MIN_S(20), HOUR_S(12)),
	  .notes = "slower at peak hours",
	  .aliases = { "Everything Everywhere", NULL } },
	{ .name = "Singtel", .region = "Singapore", SEQUENTIAL(MIN_S(10), MIN_S(10), HOUR_S(6)),
	  .notes = NULL,
	  .aliases = { NULL } },
	{ .name = "Etisalat", .region = "UAE", SEQUENTIAL(MIN_S(20), MIN_S(30), HOUR_S(24)),
	  .notes = "needs in-app verification",
	  .aliases = { "e&", NULL } },

	/* Single device: moving means ordering a new profile. */
	{ .name = "China Mobile", .region = "China",
	  SINGLE_DEVICE(HOUR_S(24), HOUR_S(48), "24-48 h"),
	  .notes = "must be done in-country",
	  .aliases = { "CMCC", NULL } },
	{ .name = "Reliance Jio", .region = "India",
	  SINGLE_DEVICE(HOUR_S(12), HOUR_S(24), "12-24 h"),
	  .notes = "needs Aadhaar verification",
	  .aliases = { "Jio", NULL } },
	{ .name = "MTN", .region = "South Africa",
	  SINGLE_DEVICE(HOUR_S(24), HOUR_S(24), "24 h"),
	  .notes = "limited international support",
	  .aliases = { NULL } },
	{ .name = "America Movil", .region = "Latin America",
	  SINGLE_DEVICE(-1, -1, "varies by country"),
	  .notes = "contact the local subsidiary",
	  .aliases = { "América Móvil", "Claro", "Telcel", NULL } },
};

const size_t carrier_builtin_nrows = sizeof(carrier_builtin_rows) / sizeof(carrier_builtin_rows[0]);
