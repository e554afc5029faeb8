/*
 * atline.h - the pure part of the AT modem backend (src/core/atline.c): no I/O.
 *
 * A modem answers a command (3GPP TS 27.007 §4.1, ITU-T V.250 §5.7) with lines framed by
 * CR LF: an optional echo of the command, information lines ("+CGLA: 4,\"9000\""), then one
 * final result code (OK, ERROR, +CME ERROR: n).  Unsolicited result codes (+CREG:, RING,
 * ^-prefixed vendor lines) may arrive before, inside or after an answer.  The backend
 * (src/card/at.c) reads bytes and feeds them here:
 *
 *	struct at_lines lb = AT_LINES_INIT;
 *	struct at_answer a;
 *	at_answer_init(&a, "AT+CGLA=1,10,\"81E2910003\"", "+CGLA:");
 *	for each byte c read:
 *		if (at_lines_push(&lb, c) && at_answer_line(&a, lb.line) == AT_DONE) break;
 *	a.final, a.cme, a.info hold the answer.
 */
#ifndef ESIMCTL_ATLINE_H
#define ESIMCTL_ATLINE_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/error.h"

/* The longest line kept: "+CGLA: 516,\"<516 hex digits>\"" and some slack. */
#define AT_LINE_MAX 1100

/* Line assembler: bytes in, one complete non-empty line out at a time. */
struct at_lines {
	char line[AT_LINE_MAX + 1]; /* the last complete line, NUL-terminated */
	size_t len;
	int overflow;               /* the current line is longer than AT_LINE_MAX */
};
#define AT_LINES_INIT { { 0 }, 0, 0 }

/*
 * Push one byte.  CR and LF end a line; empty lines are skipped; NUL bytes are dropped.
 * Returns 1 when l->line holds a complete line (valid until the next push), 0 otherwise.
 * A line longer than AT_LINE_MAX is returned cut to AT_LINE_MAX bytes with
 * l->overflow set (so that its answer fails to parse instead of being misread).
 */
int at_lines_push(struct at_lines *l, char c);

enum at_final {
	AT_NONE = 0,  /* no final result yet */
	AT_OK,
	AT_ERROR,     /* plain ERROR (V.250 §5.7.1) */
	AT_CME,       /* +CME ERROR: n (27.007 §9.2); a.cme holds n, -1 for a text form */
	AT_CMS,       /* +CMS ERROR: n (27.005 §3.2.5) */
};

enum at_step { AT_MORE = 0, AT_DONE = 1 };

struct at_answer {
	const char *cmd;      /* the command as sent, without CR: its echo is ignored */
	const char *prefix;   /* the expected information prefix ("+CGLA:"), NULL for none */
	int bare_number;      /* 1: a line of digits only is the information too (AT+CCHO) */
	enum at_final final;
	int cme;              /* with AT_CME / AT_CMS: the code, -1 for verbose text */
	char cme_text[64];    /* verbose form ("+CME ERROR: SIM busy"), else "" */
	char info[AT_LINE_MAX + 1]; /* the information line (prefix included), "" if none */
	int have_info;
	unsigned ignored;     /* lines ignored: echoes and unsolicited result codes */
};

void at_answer_init(struct at_answer *a, const char *cmd, const char *prefix, int bare_number);
/* Classify one line of the answer; AT_DONE after the final result code. */
enum at_step at_answer_line(struct at_answer *a, const char *line);

/*
 * Parse "+CGLA: <length>,<response>" or "+CSIM: <length>,<response>" (27.007 §8.43,
 * §8.17): <length> counts the hex characters of <response>, which may be quoted and in
 * either case.  out gets the bytes (at most outmax).  Returns 0, or -1 with err naming
 * what is wrong (ESIM_E_EUICC).
 */
int at_parse_hex_info(const char *info, const char *prefix, uint8_t *out, size_t outmax,
		      size_t *outlen, struct esim_err *err);
/* Parse the AT+CCHO answer: "<sessionid>" or "+CCHO: <sessionid>" (27.007 §8.45). */
int at_parse_session(const char *info, long *session, struct esim_err *err);
/*
 * Write "AT+CGLA=<ch>,<len>,\"HEX\"" (ch >= 0) or "AT+CSIM=<len>,\"HEX\"" (ch < 0) into
 * out (outsz bytes); hex is upper case.  Returns the length, or -1 when it does not fit.
 */
int at_format_apdu(char *out, size_t outsz, long ch, const uint8_t *apdu, size_t len);

/* Name of a +CME ERROR code of 27.007 §9.2.1 ("SIM busy"), or NULL when not in the table. */
const char *at_cme_name(int code);
/*
 * The exit status a +CME ERROR code stands for: the SIM cannot be reached (not inserted,
 * failure, busy, wrong, PIN/PUK needed) -> ESIM_E_NOREADER; anything else (operation not
 * allowed or supported, invalid index, incorrect parameters...) -> ESIM_E_EUICC.
 */
enum esim_status at_cme_status(int code);

#endif
