/*
 * policy.c - the transfer rules engine (see policy.h).
 *
 * Pure: the caller passes `now`, the carrier row and the profile's live bindings.  Every
 * refusal names the rule and the figures behind it, so the user can tell a carrier limit
 * from a mistake on the command line.
 *
 * Order of the checks, common to all models:
 *   1. --from names a device that does not hold the profile   -> ESIM_E_NOTFOUND
 *   2. the target already holds it                           -> PLAN_NOOP
 * then the model's own rules (decide_concurrent/sequential/single below).  A no-op is
 * never refused for a cooldown or a device limit: nothing would change.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "esimctl/buf.h"
#include "esimctl/policy.h"
#include "esimctl/timeutil.h"

/* Copy s into dst, ending with "..." (on a UTF-8 boundary) when it does not fit. */
static void copy_text(char *dst, size_t dstsz, const char *s)
{
	size_t len = strlen(s);

	if (len < dstsz) {
		memcpy(dst, s, len + 1);
		return;
	}
	len = dstsz - 4;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	memcpy(dst, s, len);
	memcpy(dst + len, "...", 4);
}

/* Format into dst, cut with "..." when it does not fit (messages have fixed buffers). */
static void vset_text(char *dst, size_t dstsz, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vset_text(char *dst, size_t dstsz, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		dst[0] = '\0';
		return;
	}
	buf_grow(&b, (size_t)n);
	vsnprintf(b.buf, (size_t)n + 1, fmt, ap);
	copy_text(dst, dstsz, b.buf);
	buf_release(&b);
}

static void set_text(char *dst, size_t dstsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_text(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_text(dst, dstsz, fmt, ap);
	va_end(ap);
}

static void warn(struct transfer_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct transfer_plan *plan, const char *fmt, ...)
{
	va_list ap;

	if (plan->nwarnings >= POLICY_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vset_text(plan->warnings[plan->nwarnings++], sizeof(plan->warnings[0]), fmt, ap);
	va_end(ap);
}

/* Refuse: fill the plan and err alike; returns -1. */
static int refuse(struct transfer_plan *plan, struct esim_err *err, enum esim_status status,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct transfer_plan *plan, struct esim_err *err, enum esim_status status,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_text(plan->reason, sizeof(plan->reason), fmt, ap);
	va_end(ap);
	plan->action = PLAN_REFUSE;
	plan->status = status;
	return esim_fail(err, status, "%s", plan->reason);
}

/* "24 h", "10 min", "90 s": a carrier figure in its natural unit. */
static const char *span_unit(int a, int b, int *div)
{
	if (a % 3600 == 0 && b % 3600 == 0 && a > 0) {
		*div = 3600;
		return "h";
	}
	if (a % 60 == 0 && b % 60 == 0) {
		*div = 60;
		return "min";
	}
	*div = 1;
	return "s";
}

static void format_span(int s, char *out, size_t outsz)
{
	int div;
	const char *unit = span_unit(s, s, &div);

	snprintf(out, outsz, "%d %s", s / div, unit);
}

/* "10-15 min", or "10 min" when both ends are equal. */
static void format_range(int a, int b, char *out, size_t outsz)
{
	int div;
	const char *unit = span_unit(a, b, &div);

	if (a == b)
		snprintf(out, outsz, "%d %s", a / div, unit);
	else
		snprintf(out, outsz, "%d-%d %s", a / div, b / div, unit);
}

/* "phone, tablet (pending)" */
static void holder_list(const struct transfer_req *req, struct buf *out)
{
	for (size_t i = 0; i < req->nholders; i++) {
		if (i)
			buf_addstr(out, ", ");
		buf_addstr(out, req->holders[i].device ? req->holders[i].device : "?");
		if (req->holders[i].state == BIND_PENDING)
			buf_addstr(out, " (pending)");
	}
}

static const struct policy_holder *find_holder(const struct transfer_req *req, const char *dev)
{
	for (size_t i = 0; i < req->nholders; i++)
		if (req->holders[i].device && strcmp(req->holders[i].device, dev) == 0)
			return &req->holders[i];
	return NULL;
}

/* The carrier as messages name it: what the user wrote when it is not in the table. */
static const char *carrier_label(const struct transfer_req *req, const struct carrier_policy *c)
{
	if ((req->carrier_unknown || c->is_default) && req->carrier_name && req->carrier_name[0])
		return req->carrier_name;
	return c->name;
}

int64_t policy_next_transfer(const struct carrier_policy *c, int64_t last_transfer, int64_t now)
{
	int64_t until;

	if (!c || c->model != MODEL_SEQUENTIAL || last_transfer == TIME_NONE || c->cooldown_s <= 0)
		return TIME_NONE;
	if (last_transfer > INT64_MAX - c->cooldown_s)
		return INT64_MAX;
	until = last_transfer + c->cooldown_s;
	return until > now ? until : TIME_NONE;
}

const struct carrier_policy *policy_unknown_carrier(const struct carrier_table *t,
						   struct carrier_policy *out)
{
	const struct carrier_policy *r;

	memset(out, 0, sizeof(*out));
	out->name = "unknown carrier";
	out->region = "unknown";
	out->model = MODEL_SEQUENTIAL;
	out->max_devices = 1;
	out->cloud_sync = SYNC_UNKNOWN;
	out->transfer_min_s = out->transfer_max_s = out->cooldown_s = -1;
	out->reprov_min_s = out->reprov_max_s = -1;
	out->is_default = 1;
	for (size_t i = 0; (r = carrier_table_at(t, i)) != NULL; i++) {
		if (r->model != MODEL_SEQUENTIAL)
			continue;
		if (r->cooldown_s > out->cooldown_s)
			out->cooldown_s = r->cooldown_s;
		if (r->transfer_min_s >= 0 && r->transfer_max_s > out->transfer_max_s) {
			out->transfer_min_s = r->transfer_min_s;
			out->transfer_max_s = r->transfer_max_s;
		}
	}
	return out;
}

/* First of the warnings, so that it is read before the ones it explains. */
static void warn_unknown_carrier(const struct transfer_req *req, const struct carrier_policy *c,
				 struct transfer_plan *plan)
{
	char cool[64] = "unknown cooldown", range[48];

	if (!req->carrier_unknown && !c->is_default)
		return;
	if (c->cooldown_s > 0) {
		format_span(c->cooldown_s, range, sizeof(range));
		set_text(cool, sizeof(cool), "%s cooldown", range);
	}
	if (c->transfer_min_s >= 0)
		format_range(c->transfer_min_s, c->transfer_max_s, range, sizeof(range));
	else
		set_text(range, sizeof(range), "unknown");
	warn(plan, "carrier '%s' is not in the table; assuming the strictest sequential policy "
	     "in it (one device, %s, transfer time %s). Record the real policy in your "
	     "carriers file ('esimctl carriers list' shows where; format: docs/carriers-format.md)",
	     carrier_label(req, c), cool, range);
}

/* Warnings about the target device and the carrier's notes, after the model's own. */
static void add_warnings(const struct transfer_req *req, const struct carrier_policy *c,
			 struct transfer_plan *plan)
{
	const char *to = req->to;
	const char *kind = device_kind_name(req->to_kind);

	if (req->plan == PLAN_VOICE_DATA && device_kind_data_only(req->to_kind))
		warn(plan, "voice and SMS will not work on %s '%s'; only data", kind, to);
	if (device_kind_companion(req->to_kind) && !req->inventory_has_phone)
		warn(plan, "%s '%s' runs in companion mode and needs a phone; none is in the inventory",
		     kind, to);
	if (req->to_kind == DEV_TABLET && req->plan == PLAN_VOICE_DATA && req->has_primary_phone)
		warn(plan, "voice on %s '%s' may route through the primary phone", kind, to);
	if (c->notes && c->notes[0])
		warn(plan, "%s: %s", c->name, c->notes);
}

static int decide_concurrent(const struct transfer_req *req, const struct carrier_policy *c,
			     struct transfer_plan *plan, struct esim_err *err)
{
	int max = c->max_devices > 0 ? c->max_devices : 1;

	/*
	 * --from moves the profile: released on the source, active on the target, in one
	 * plan.  The count of devices does not change, so a carrier at its limit allows it.
	 */
	if (req->from) {
		const struct policy_holder *src = find_holder(req, req->from);

		plan->action = PLAN_SWAP;
		plan->release_from = src->device;
		set_text(plan->summary, sizeof(plan->summary),
			 "move from '%s' to '%s': '%s' is released and '%s' becomes active now "
			 "(%s allows %d device%s at once, %zu in use after this)",
			 src->device, req->to, src->device, req->to, carrier_label(req, c), max,
			 max == 1 ? "" : "s", req->nholders);
		if (src->state == BIND_PENDING)
			warn(plan, "the transfer to '%s' is still pending; moving it again may restart the wait",
			     src->device);
		return 0;
	}
	if (req->nholders >= (size_t)max) {
		struct buf list = BUF_INIT;

		holder_list(req, &list);
		refuse(plan, err, ESIM_E_POLICY, "%s allows %d device%s at once; profile is already on %s",
		       carrier_label(req, c), max, max == 1 ? "" : "s", list.buf);
		buf_release(&list);
		return esim_hint(err, "move it from one of those devices with --from DEVICE, or release "
				 "it from one of them first");
	}
	if (req->nholders == 0) {
		plan->action = PLAN_PLACE;
		set_text(plan->summary, sizeof(plan->summary), "place the profile on '%s' (active)",
			 req->to);
	} else {
		struct buf list = BUF_INIT;

		holder_list(req, &list);
		plan->action = PLAN_ADD_CONCURRENT;
		set_text(plan->summary, sizeof(plan->summary),
			 "add '%s' as another active device; %s keep%s the profile "
			 "(%s allows %d devices at once, %zu in use after this)",
			 req->to, list.buf, req->nholders == 1 ? "s" : "", carrier_label(req, c), max,
			 req->nholders + 1);
		buf_release(&list);
	}
	return 0;
}

static int decide_sequential(const struct transfer_req *req, const struct carrier_policy *c,
			     struct transfer_plan *plan, struct esim_err *err)
{
	const struct policy_holder *src;
	int64_t earliest = policy_next_transfer(c, req->last_transfer, req->now);
	char range[48], cool[64], iso[TIME_ISO_LEN];
	int tmin, tmax;

	if (earliest != TIME_NONE) {
		char left[48];

		time_format(earliest, iso);
		format_span(c->cooldown_s, cool, sizeof(cool));
		duration_format(earliest - req->now, left, sizeof(left));
		plan->earliest = earliest;
		return refuse(plan, err, ESIM_E_POLICY,
			      "%s allows one transfer every %s; the next one is possible at %s (in %s)",
			      carrier_label(req, c), cool, iso, left);
	}
	if (req->nholders == 0) {
		plan->action = PLAN_PLACE;
		set_text(plan->summary, sizeof(plan->summary), "place the profile on '%s' (active)",
			 req->to);
		if (c->cooldown_s < 0)
			warn(plan, "cooldown unknown for this carrier; it may refuse a transfer made "
			     "soon after this one");
		return 0;
	}
	if (req->from) {
		src = find_holder(req, req->from);
	} else if (req->nholders > 1) {
		struct buf list = BUF_INIT;

		holder_list(req, &list);
		refuse(plan, err, ESIM_E_USAGE,
		       "profile is on %zu devices (%s); name the one to move it from with --from",
		       req->nholders, list.buf);
		buf_release(&list);
		return esim_hint(err, "add --from DEVICE");
	} else {
		src = &req->holders[0];
	}

	tmin = c->transfer_min_s;
	tmax = c->transfer_max_s;
	plan->transfer_time_known = tmin >= 0 && tmax >= 0;
	if (!plan->transfer_time_known)
		tmin = tmax = POLICY_UNKNOWN_TRANSFER_S;
	if (tmax < tmin)
		tmax = tmin;
	plan->action = PLAN_MOVE;
	plan->release_from = src->device;
	plan->ready_min = req->now + tmin;
	plan->ready_max = req->now + tmax;
	plan->gap_min_s = tmin;
	plan->gap_max_s = tmax;
	if (c->cooldown_s > 0)
		plan->cooldown_until = req->now + c->cooldown_s;

	format_range(tmin, tmax, range, sizeof(range));
	if (plan->cooldown_until != TIME_NONE) {
		time_format(plan->cooldown_until, iso);
		set_text(cool, sizeof(cool), "; next transfer possible at %s", iso);
	} else {
		cool[0] = '\0';
	}
	set_text(plan->summary, sizeof(plan->summary),
		 "move from '%s' to '%s': '%s' loses service now and '%s' should be ready in %s%s%s; "
		 "expect a connectivity gap of %s%s%s",
		 src->device, req->to, src->device, req->to,
		 plan->transfer_time_known ? "" : "about ", range,
		 plan->transfer_time_known ? "" : " (estimate)",
		 plan->transfer_time_known ? "" : "about ", range, cool);

	if (!plan->transfer_time_known)
		warn(plan, "transfer time unknown for this carrier; estimating %s", range);
	if (c->cooldown_s < 0)
		warn(plan, "cooldown unknown for this carrier; it may refuse a transfer made "
		     "soon after this one");
	if (src->state == BIND_PENDING)
		warn(plan, "the transfer to '%s' is still pending; moving it again may restart the wait",
		     src->device);
	return 0;
}

static int decide_single(const struct transfer_req *req, const struct carrier_policy *c,
			 struct transfer_plan *plan, struct esim_err *err)
{
	struct buf why = BUF_INIT;
	const char *name = carrier_label(req, c);

	if (!req->ever_bound && req->nholders == 0) {
		plan->action = PLAN_PLACE;
		set_text(plan->summary, sizeof(plan->summary),
			 "place the profile on '%s' (active); %s binds it to that device for good",
			 req->to, name);
		return 0;
	}
	if (c->reprov_text && c->reprov_text[0])
		buf_addf(&why, "re-provisioning time: %s", c->reprov_text);
	if (c->notes && c->notes[0])
		buf_addf(&why, "%s%s", why.len ? "; " : "", c->notes);
	refuse(plan, err, ESIM_E_POLICY,
	       "%s binds a profile to the device it was first installed on; to use '%s', order "
	       "a new profile from %s%s%s%s",
	       name, req->to, name, why.len ? " (" : "", why.buf, why.len ? ")" : "");
	buf_release(&why);
	return esim_hint(err, "the profile itself cannot be moved; ask %s for a new one", name);
}

int transfer_decide(const struct transfer_req *req, struct transfer_plan *plan,
		    struct esim_err *err)
{
	const struct carrier_policy *c;
	const struct policy_holder *h;
	struct carrier_policy unknown;
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->ready_min = plan->ready_max = plan->earliest = plan->cooldown_until = TIME_NONE;
	plan->status = ESIM_OK;
	if (!req->to || !req->to[0])
		return refuse(plan, err, ESIM_E_USAGE, "no target device given");
	c = req->carrier ? req->carrier : policy_unknown_carrier(NULL, &unknown);

	if (req->from && !find_holder(req, req->from)) {
		struct buf list = BUF_INIT;

		holder_list(req, &list);
		refuse(plan, err, ESIM_E_NOTFOUND, "profile is not on device '%s' (%s%s)", req->from,
		       req->nholders ? "it is on " : "it is not on any device", list.buf);
		buf_release(&list);
		return -1;
	}
	if ((h = find_holder(req, req->to)) != NULL) {
		plan->action = PLAN_NOOP;
		set_text(plan->reason, sizeof(plan->reason), "already on '%s'%s", req->to,
			 h->state == BIND_PENDING ? " (transfer pending)" : "");
		set_text(plan->summary, sizeof(plan->summary), "nothing to do: %s", plan->reason);
		warn_unknown_carrier(req, c, plan);
		add_warnings(req, c, plan);
		return 0;
	}

	warn_unknown_carrier(req, c, plan);

	switch (c->model) {
	case MODEL_CONCURRENT:
		ret = decide_concurrent(req, c, plan, err);
		break;
	case MODEL_SINGLE_DEVICE:
		ret = decide_single(req, c, plan, err);
		break;
	case MODEL_SEQUENTIAL:
	default:
		ret = decide_sequential(req, c, plan, err);
		break;
	}
	if (ret < 0) {
		plan->nwarnings = 0;   /* warnings go with plans that are carried out */
		return -1;
	}
	add_warnings(req, c, plan);
	return 0;
}
