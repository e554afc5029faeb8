/*
 * atline.c - AT command answers: line framing, echoes, unsolicited result codes, final
 * result codes and the hex payloads of +CGLA / +CSIM (see esimctl/atline.h).  No I/O.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esimctl/atline.h"
#include "esimctl/der.h"

int at_lines_push(struct at_lines *l, char c)
{
	if (c == '\r' || c == '\n') {
		if (l->len == 0) {
			l->overflow = 0;
			return 0;     /* empty line, or the LF after a CR */
		}
		l->line[l->len] = '\0';
		l->len = 0;
		return 1;
	}
	if (c == '\0')
		return 0;
	if (l->len == 0)
		l->overflow = 0;
	if (l->len >= AT_LINE_MAX) {
		l->overflow = 1;
		return 0;
	}
	l->line[l->len++] = c;
	return 0;
}

void at_answer_init(struct at_answer *a, const char *cmd, const char *prefix, int bare_number)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->prefix = prefix;
	a->bare_number = bare_number;
	a->cme = -1;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* "+CME ERROR: 14" or "+CME ERROR: SIM busy" (27.007 §9.1, numeric or verbose). */
static void error_code(struct at_answer *a, const char *rest)
{
	char *end;
	long v;

	while (*rest == ' ')
		rest++;
	v = strtol(rest, &end, 10);
	if (end != rest && *end == '\0' && v >= 0 && v <= INT_MAX) {
		a->cme = (int)v;
		return;
	}
	a->cme = -1;
	snprintf(a->cme_text, sizeof(a->cme_text), "%.*s", (int)sizeof(a->cme_text) - 1, rest);
}

enum at_step at_answer_line(struct at_answer *a, const char *line)
{
	/* Trailing blanks are not part of a result code. */
	size_t n = strlen(line);
	char tmp[AT_LINE_MAX + 1];

	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n > AT_LINE_MAX)
		n = AT_LINE_MAX;
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	if (a->final != AT_NONE)
		return AT_DONE;
	if (n == 0) {
		return AT_MORE;
	}
	/* The echo of the command (V.250 §6.2.4, ATE1), in whatever case the modem uses. */
	if (a->cmd && strcasecmp(tmp, a->cmd) == 0) {
		a->ignored++;
		return AT_MORE;
	}
	if (strcmp(tmp, "OK") == 0) {
		a->final = AT_OK;
		return AT_DONE;
	}
	if (strcmp(tmp, "ERROR") == 0) {
		a->final = AT_ERROR;
		return AT_DONE;
	}
	if (strncmp(tmp, "+CME ERROR:", 11) == 0) {
		a->final = AT_CME;
		error_code(a, tmp + 11);
		return AT_DONE;
	}
	if (strncmp(tmp, "+CMS ERROR:", 11) == 0) {
		a->final = AT_CMS;
		error_code(a, tmp + 11);
		return AT_DONE;
	}
	if (!a->have_info && ((a->prefix && strncmp(tmp, a->prefix, strlen(a->prefix)) == 0) ||
			      (a->bare_number && all_digits(tmp)))) {
		memcpy(a->info, tmp, n + 1);
		a->have_info = 1;
		return AT_MORE;
	}
	/* Anything else is unsolicited: +CREG:, RING, ^BOOT, +QIND:, a second echo... */
	a->ignored++;
	return AT_MORE;
}

int at_parse_hex_info(const char *info, const char *prefix, uint8_t *out, size_t outmax,
		      size_t *outlen, struct esim_err *err)
{
	size_t plen = strlen(prefix), hexlen = 0, i;
	const char *p = info, *hex;
	char *end;
	long len;
	int quoted = 0;

	*outlen = 0;
	if (strncmp(p, prefix, plen) != 0)
		return esim_fail(err, ESIM_E_EUICC, "modem answer '%.40s' is not %s", info, prefix);
	p += plen;
	while (*p == ' ')
		p++;
	len = strtol(p, &end, 10);
	if (end == p || len < 0 || *end != ',')
		return esim_fail(err, ESIM_E_EUICC, "modem answer '%.40s': no <length>,", info);
	p = end + 1;
	while (*p == ' ')
		p++;
	if (*p == '"') {
		quoted = 1;
		p++;
	}
	hex = p;
	while (hex_digit(p[hexlen]) >= 0)
		hexlen++;
	p += hexlen;
	if (quoted && *p++ != '"')
		return esim_fail(err, ESIM_E_EUICC, "modem answer '%.40s': response is not hex",
				 info);
	while (*p == ' ')
		p++;
	if (*p)
		return esim_fail(err, ESIM_E_EUICC, "modem answer '%.40s': response is not hex",
				 info);
	if ((size_t)len != hexlen)
		return esim_fail(err, ESIM_E_EUICC, "modem answer %s says %ld hex digits but has %zu",
				 prefix, len, hexlen);
	if (hexlen % 2)
		return esim_fail(err, ESIM_E_EUICC, "modem answer %s has an odd number of hex "
				 "digits (%zu)", prefix, hexlen);
	if (hexlen / 2 > outmax)
		return esim_fail(err, ESIM_E_EUICC, "modem answer %s of %zu bytes is longer than "
				 "%zu", prefix, hexlen / 2, outmax);
	for (i = 0; i < hexlen / 2; i++)
		out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	*outlen = hexlen / 2;
	return 0;
}

int at_parse_session(const char *info, long *session, struct esim_err *err)
{
	const char *p = info;
	char *end;
	long v;

	if (strncmp(p, "+CCHO:", 6) == 0)
		p += 6;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return esim_fail(err, ESIM_E_EUICC, "modem answer to AT+CCHO '%.40s' has no "
				 "session id", info);
	v = strtol(p, &end, 10);
	while (*end == ' ')
		end++;
	if (*end || v < 0 || v > 0xFFFF)
		return esim_fail(err, ESIM_E_EUICC, "modem answer to AT+CCHO '%.40s' has no "
				 "valid session id", info);
	*session = v;
	return 0;
}

int at_format_apdu(char *out, size_t outsz, long ch, const uint8_t *apdu, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	int n;
	size_t i, pos;

	if (ch >= 0)
		n = snprintf(out, outsz, "AT+CGLA=%ld,%zu,\"", ch, 2 * len);
	else
		n = snprintf(out, outsz, "AT+CSIM=%zu,\"", 2 * len);
	if (n < 0 || (size_t)n + 2 * len + 2 > outsz)
		return -1;
	pos = (size_t)n;
	for (i = 0; i < len; i++) {
		out[pos++] = digits[apdu[i] >> 4];
		out[pos++] = digits[apdu[i] & 15];
	}
	out[pos++] = '"';
	out[pos] = '\0';
	return (int)pos;
}

/* 27.007 §9.2.1, the general codes a SIM access can meet. */
static const struct {
	int code;
	const char *name;
	enum esim_status status;
} cme_table[] = {
	{ 0, "phone failure", ESIM_E_NOREADER },
	{ 1, "no connection to phone", ESIM_E_NOREADER },
	{ 3, "operation not allowed", ESIM_E_EUICC },
	{ 4, "operation not supported", ESIM_E_EUICC },
	{ 5, "PH-SIM PIN required", ESIM_E_NOREADER },
	{ 10, "SIM not inserted", ESIM_E_NOREADER },
	{ 11, "SIM PIN required", ESIM_E_NOREADER },
	{ 12, "SIM PUK required", ESIM_E_NOREADER },
	{ 13, "SIM failure", ESIM_E_NOREADER },
	{ 14, "SIM busy", ESIM_E_NOREADER },
	{ 15, "SIM wrong", ESIM_E_NOREADER },
	{ 16, "incorrect password", ESIM_E_EUICC },
	{ 17, "SIM PIN2 required", ESIM_E_NOREADER },
	{ 18, "SIM PUK2 required", ESIM_E_NOREADER },
	{ 20, "memory full", ESIM_E_EUICC },
	{ 21, "invalid index", ESIM_E_EUICC },
	{ 22, "not found", ESIM_E_EUICC },
	{ 23, "memory failure", ESIM_E_EUICC },
	{ 24, "text string too long", ESIM_E_EUICC },
	{ 25, "invalid characters in text string", ESIM_E_EUICC },
	{ 50, "incorrect parameters", ESIM_E_EUICC },
	{ 100, "unknown", ESIM_E_EUICC },
};

const char *at_cme_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(cme_table) / sizeof(cme_table[0]); i++)
		if (cme_table[i].code == code)
			return cme_table[i].name;
	return NULL;
}

enum esim_status at_cme_status(int code)
{
	size_t i;

	for (i = 0; i < sizeof(cme_table) / sizeof(cme_table[0]); i++)
		if (cme_table[i].code == code)
			return cme_table[i].status;
	return ESIM_E_EUICC;
}
