/* error.c - esim_fail() and the status name table (docs/EXIT-CODES.md). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esimctl/error.h"

static const char *const status_names[] = {
	[ESIM_OK] = "ok",
	[ESIM_E_OTHER] = "error",
	[ESIM_E_USAGE] = "usage",
	[ESIM_E_STORE] = "store_corrupt",
	[ESIM_E_BUSY] = "store_busy",
	[ESIM_E_NOTFOUND] = "not_found",
	[ESIM_E_POLICY] = "policy_denied",
	[ESIM_E_NETWORK] = "network",
	[ESIM_E_SMDP] = "smdp_refused",
	[ESIM_E_EUICC] = "euicc",
	[ESIM_E_NOREADER] = "euicc_unreachable",
	[ESIM_E_OUTPUT] = "output",
};

const char *esim_status_name(enum esim_status status)
{
	if ((unsigned)status > ESIM_STATUS_MAX)
		return "error";
	return status_names[status];
}

void esim_err_clear(struct esim_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int esim_fail(struct esim_err *err, enum esim_status status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	esim_err_clear(err);
	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int esim_hint(struct esim_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
	return -1;
}
