/*
 * text.h - UTF-8 text for people and for JSON (pure, locale-independent).
 *
 * Every string a user gives esimctl (carrier, nickname, device name, ...) must be
 * well-formed UTF-8 (RFC 3629 section 3: no overlong forms, no surrogates, nothing past
 * U+10FFFF) without control characters; limits count characters (code points), not
 * bytes.  Whatever reaches the terminal or a JSON document goes through the escapers
 * below, so strings from an old store or a remote server are shown, never obeyed.
 *
 * "Control characters" here: C0 (U+0000..U+001F), DEL, C1 (U+0080..U+009F), and the
 * format characters that reorder or break a line on display: the bidirectional marks,
 * embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069) and the line and paragraph separators (U+2028, U+2029).
 *
 * Display width follows the East Asian Width property (Unicode UAX #11): wide and
 * fullwidth characters take 2 columns, combining marks and zero-width characters 0,
 * the rest 1.  The tables are compact and do not depend on setlocale().
 */
#ifndef ESIMCTL_TEXT_H
#define ESIMCTL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "esimctl/buf.h"

/*
 * Decode one UTF-8 sequence from s (at most n bytes).  Returns its length (1..4) with
 * *cp set, or 0 when s does not start a well-formed sequence (*cp = the first byte).
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* 1 for a control character (see above). */
int text_is_control(uint32_t cp);
/* Columns taken by a code point that is not a control: 0, 1 or 2. */
int text_cp_width(uint32_t cp);

enum text_problem { TEXT_OK, TEXT_BAD_UTF8, TEXT_CONTROL };

struct text_check {
	enum text_problem problem;
	size_t chars;        /* characters in s (TEXT_OK), or before the problem (1-based: chars + 1) */
	size_t offset;       /* byte offset of the problem */
	uint32_t value;      /* the control character, or the first bad byte */
};

/* Check s; 0 when it is UTF-8 without control characters, -1 with *out saying why. */
int text_check(const char *s, struct text_check *out);

/* Characters in s; each byte that is not part of a well-formed sequence counts one. */
size_t text_chars(const char *s);

/*
 * Terminal form of s: control characters and bytes that are not UTF-8 become visible
 * escapes ("\x1b", "\xff" for U+0000..U+00FF and bytes, "\u{202e}" above), the rest is
 * copied.  text_width() is the display width of that form.
 */
void text_escape_term(struct buf *out, const char *s);
size_t text_width(const char *s);

/*
 * Append the terminal form of s fitted to exactly `width` columns: cut with "..." (one
 * character, U+2026) when wider, padded with spaces when narrower (pad = 0: no padding).
 * Returns the columns written.
 */
size_t text_fit(struct buf *out, const char *s, size_t width, int pad);

/*
 * s as a JSON string literal with its quotes (RFC 8259 section 7): '"', '\\' and
 * U+0000..U+001F escaped as cJSON does, DEL, C1 and the format controls above as \uHHHH,
 * and each byte that is not UTF-8 replaced by \ufffd.  NULL gives null.
 */
void text_escape_json(struct buf *out, const char *s);

/*
 * Append JSON text (a printed document) with the same repairs applied inside its
 * strings: bytes that are not UTF-8 become \ufffd, DEL, C1 and format controls \uHHHH.
 * Outside strings JSON text is ASCII, so the repair never changes its structure.
 */
void text_json_repair(struct buf *out, const char *json, size_t n);

#endif
