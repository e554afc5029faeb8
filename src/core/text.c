/*
 * text.c - UTF-8 validation, character count, display width and escaping (see text.h).
 *
 * Decoding follows RFC 3629 section 4 (the syntax of UTF-8 byte sequences): the second
 * byte's range depends on the first (E0 A0..BF, ED 80..9F, F0 90..BF, F4 80..8F), which
 * rules out overlong forms, surrogates and values past U+10FFFF without a second check.
 */
#include <stdio.h>
#include <string.h>

#include "esimctl/text.h"

size_t utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (n == 0) {
		*cp = 0;
		return 0;
	}
	*cp = s[0];
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0fu;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07u;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = (v << 6) | (s[1] & 0x3fu);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	*cp = v;
	return len;
}

int text_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

struct range {
	uint32_t lo, hi;
};

/*
 * Zero width: combining marks (general categories Mn, Me), Hangul medial vowels and
 * final consonants, zero-width spaces and joiners, variation selectors.
 */
static const struct range zero_width[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x05bf, 0x05bf },
	{ 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 }, { 0x05c7, 0x05c7 }, { 0x0610, 0x061a },
	{ 0x064b, 0x065f }, { 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0711, 0x0711 }, { 0x0730, 0x074a },
	{ 0x07a6, 0x07b0 }, { 0x07eb, 0x07f3 }, { 0x0816, 0x0819 }, { 0x081b, 0x0823 },
	{ 0x0825, 0x0827 }, { 0x0829, 0x082d }, { 0x0859, 0x085b }, { 0x08d3, 0x08e1 },
	{ 0x08e3, 0x0902 }, { 0x093a, 0x093a }, { 0x093c, 0x093c }, { 0x0941, 0x0948 },
	{ 0x094d, 0x094d }, { 0x0951, 0x0957 }, { 0x0962, 0x0963 }, { 0x0981, 0x0981 },
	{ 0x09bc, 0x09bc }, { 0x09c1, 0x09c4 }, { 0x09cd, 0x09cd }, { 0x09e2, 0x09e3 },
	{ 0x0a01, 0x0a02 }, { 0x0a3c, 0x0a3c }, { 0x0a41, 0x0a51 }, { 0x0a70, 0x0a71 },
	{ 0x0a75, 0x0a75 }, { 0x0a81, 0x0a82 }, { 0x0abc, 0x0abc }, { 0x0ac1, 0x0ac8 },
	{ 0x0acd, 0x0acd }, { 0x0ae2, 0x0ae3 }, { 0x0b01, 0x0b01 }, { 0x0b3c, 0x0b3c },
	{ 0x0b3f, 0x0b3f }, { 0x0b41, 0x0b44 }, { 0x0b4d, 0x0b4d }, { 0x0b56, 0x0b56 },
	{ 0x0b62, 0x0b63 }, { 0x0b82, 0x0b82 }, { 0x0bc0, 0x0bc0 }, { 0x0bcd, 0x0bcd },
	{ 0x0c3e, 0x0c40 }, { 0x0c46, 0x0c56 }, { 0x0c62, 0x0c63 }, { 0x0cbc, 0x0cbc },
	{ 0x0ccc, 0x0ccd }, { 0x0ce2, 0x0ce3 }, { 0x0d41, 0x0d44 }, { 0x0d4d, 0x0d4d },
	{ 0x0dca, 0x0dca }, { 0x0dd2, 0x0dd6 }, { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a },
	{ 0x0e47, 0x0e4e }, { 0x0eb1, 0x0eb1 }, { 0x0eb4, 0x0ebc }, { 0x0ec8, 0x0ecd },
	{ 0x0f18, 0x0f19 }, { 0x0f35, 0x0f35 }, { 0x0f37, 0x0f37 }, { 0x0f39, 0x0f39 },
	{ 0x0f71, 0x0f7e }, { 0x0f80, 0x0f84 }, { 0x0f86, 0x0f87 }, { 0x0f8d, 0x0fbc },
	{ 0x0fc6, 0x0fc6 }, { 0x102d, 0x1030 }, { 0x1032, 0x1037 }, { 0x1039, 0x103a },
	{ 0x103d, 0x103e }, { 0x1058, 0x1059 }, { 0x105e, 0x1060 }, { 0x1071, 0x1074 },
	{ 0x1082, 0x1082 }, { 0x1085, 0x1086 }, { 0x108d, 0x108d }, { 0x109d, 0x109d },
	{ 0x1160, 0x11ff }, { 0x135d, 0x135f }, { 0x1712, 0x1714 }, { 0x1732, 0x1734 },
	{ 0x1752, 0x1753 }, { 0x1772, 0x1773 }, { 0x17b4, 0x17b5 }, { 0x17b7, 0x17bd },
	{ 0x17c6, 0x17c6 }, { 0x17c9, 0x17d3 }, { 0x17dd, 0x17dd }, { 0x180b, 0x180f },
	{ 0x18a9, 0x18a9 }, { 0x1920, 0x1922 }, { 0x1927, 0x1928 }, { 0x1932, 0x1932 },
	{ 0x1939, 0x193b }, { 0x1a17, 0x1a18 }, { 0x1a1b, 0x1a1b }, { 0x1a56, 0x1a56 },
	{ 0x1a58, 0x1a7f }, { 0x1ab0, 0x1aff }, { 0x1b00, 0x1b03 }, { 0x1b34, 0x1b34 },
	{ 0x1b36, 0x1b3a }, { 0x1b3c, 0x1b3c }, { 0x1b42, 0x1b42 }, { 0x1b6b, 0x1b73 },
	{ 0x1b80, 0x1b81 }, { 0x1ba2, 0x1ba5 }, { 0x1ba8, 0x1bad }, { 0x1be6, 0x1be6 },
	{ 0x1c2c, 0x1c33 }, { 0x1c36, 0x1c37 }, { 0x1cd0, 0x1cd2 }, { 0x1cd4, 0x1ce8 },
	{ 0x1ced, 0x1ced }, { 0x1cf4, 0x1cf4 }, { 0x1cf8, 0x1cf9 }, { 0x1dc0, 0x1dff },
	{ 0x200b, 0x200d }, { 0x2060, 0x2064 }, { 0x20d0, 0x20f0 }, { 0x2cef, 0x2cf1 },
	{ 0x2d7f, 0x2d7f }, { 0x2de0, 0x2dff }, { 0x302a, 0x302d }, { 0x3099, 0x309a },
	{ 0xa66f, 0xa672 }, { 0xa674, 0xa67d }, { 0xa69e, 0xa69f }, { 0xa6f0, 0xa6f1 },
	{ 0xa802, 0xa802 }, { 0xa806, 0xa806 }, { 0xa80b, 0xa80b }, { 0xa825, 0xa826 },
	{ 0xa8c4, 0xa8c5 }, { 0xa8e0, 0xa8f1 }, { 0xa926, 0xa92d }, { 0xa947, 0xa951 },
	{ 0xa980, 0xa982 }, { 0xa9b3, 0xa9b3 }, { 0xa9b6, 0xa9b9 }, { 0xa9bc, 0xa9bd },
	{ 0xaa29, 0xaa2e }, { 0xaa31, 0xaa32 }, { 0xaa35, 0xaa36 }, { 0xaa43, 0xaa43 },
	{ 0xaa4c, 0xaa4c }, { 0xaab0, 0xaab0 }, { 0xaab2, 0xaab4 }, { 0xaab7, 0xaab8 },
	{ 0xaabe, 0xaabf }, { 0xaac1, 0xaac1 }, { 0xabe5, 0xabe5 }, { 0xabe8, 0xabe8 },
	{ 0xabed, 0xabed }, { 0xfb1e, 0xfb1e }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
	{ 0xfeff, 0xfeff }, { 0x101fd, 0x101fd }, { 0x10a01, 0x10a0f }, { 0x10a38, 0x10a3f },
	{ 0x11001, 0x11001 }, { 0x11038, 0x11046 }, { 0x1d167, 0x1d169 }, { 0x1d17b, 0x1d182 },
	{ 0x1d185, 0x1d18b }, { 0x1d1aa, 0x1d1ad }, { 0x1e8d0, 0x1e8d6 }, { 0x1e944, 0x1e94a },
	{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f }, { 0xe0100, 0xe01ef },
};

/* Wide and fullwidth (East Asian Width W and F), including emoji presentation. */
static const struct range wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x23e9, 0x23ec },
	{ 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 }, { 0x25fd, 0x25fe }, { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 }, { 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 }, { 0x26ce, 0x26ce },
	{ 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea }, { 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 },
	{ 0x26fa, 0x26fa }, { 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf },
	{ 0x2b1b, 0x2b1c }, { 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
	{ 0xa960, 0xa97f }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 },
	{ 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18aff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 }, { 0x1f0cf, 0x1f0cf },
	{ 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a }, { 0x1f200, 0x1f202 }, { 0x1f210, 0x1f23b },
	{ 0x1f240, 0x1f248 }, { 0x1f250, 0x1f251 }, { 0x1f260, 0x1f265 }, { 0x1f300, 0x1f320 },
	{ 0x1f32d, 0x1f335 }, { 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca },
	{ 0x1f3cf, 0x1f3d3 }, { 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 }, { 0x1f3f8, 0x1f43e },
	{ 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc }, { 0x1f4ff, 0x1f53d }, { 0x1f54b, 0x1f54e },
	{ 0x1f550, 0x1f567 }, { 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 },
	{ 0x1f5fb, 0x1f64f }, { 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc }, { 0x1f6d0, 0x1f6d2 },
	{ 0x1f6d5, 0x1f6d7 }, { 0x1f6eb, 0x1f6ec }, { 0x1f6f4, 0x1f6fc }, { 0x1f7e0, 0x1f7eb },
	{ 0x1f90c, 0x1f93a }, { 0x1f93c, 0x1f945 }, { 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faff },
	{ 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static int in_table(uint32_t cp, const struct range *t, size_t n)
{
	size_t lo = 0, hi = n;

	if (cp < t[0].lo || cp > t[n - 1].hi)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp > t[mid].hi)
			lo = mid + 1;
		else if (cp < t[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int text_cp_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (in_table(cp, zero_width, NELEM(zero_width)))
		return 0;
	return in_table(cp, wide, NELEM(wide)) ? 2 : 1;
}

int text_check(const char *s, struct text_check *out)
{
	size_t n = strlen(s), i = 0, chars = 0;

	memset(out, 0, sizeof(*out));
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);

		if (len == 0 || text_is_control(cp)) {
			out->problem = len == 0 ? TEXT_BAD_UTF8 : TEXT_CONTROL;
			out->chars = chars;
			out->offset = i;
			out->value = cp;
			return -1;
		}
		i += len;
		chars++;
	}
	out->chars = chars;
	return 0;
}

size_t text_chars(const char *s)
{
	size_t n = strlen(s), i = 0, chars = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);

		i += len ? len : 1;
		chars++;
	}
	return chars;
}

/*
 * One unit of the terminal form at s: its length in bytes, its display width and, when
 * it must be escaped, the escape in esc (else esc[0] = '\0').
 */
static size_t term_unit(const char *s, size_t n, char esc[16], size_t *width)
{
	uint32_t cp;
	size_t len = utf8_decode(s, n, &cp);

	esc[0] = '\0';
	if (len == 0 || text_is_control(cp)) {
		if (cp < 0x100)
			snprintf(esc, 16, "\\x%02x", (unsigned)cp);
		else
			snprintf(esc, 16, "\\u{%04x}", (unsigned)cp);
		*width = strlen(esc);
		return len ? len : 1;
	}
	*width = (size_t)text_cp_width(cp);
	return len;
}

void text_escape_term(struct buf *out, const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		char esc[16];
		size_t w, len;

		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
			size_t j = i + 1;

			while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7f)
				j++;
			buf_add(out, s + i, j - i);
			i = j;
			continue;
		}
		len = term_unit(s + i, n - i, esc, &w);
		if (esc[0])
			buf_addstr(out, esc);
		else
			buf_add(out, s + i, len);
		i += len;
	}
}

size_t text_width(const char *s)
{
	size_t n = strlen(s), i = 0, width = 0;

	while (i < n) {
		char esc[16];
		size_t w;

		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
			i++;
			width++;
			continue;
		}
		i += term_unit(s + i, n - i, esc, &w);
		width += w;
	}
	return width;
}

size_t text_fit(struct buf *out, const char *s, size_t width, int pad)
{
	static const char ellipsis[] = "\u2026";
	size_t n = strlen(s), i = 0, used = 0, sw = text_width(s);

	if (sw > width) {
		/* keep room for the ellipsis; zero-width marks stay with their base character */
		while (i < n && width > 0) {
			char esc[16];
			size_t w, len = term_unit(s + i, n - i, esc, &w);

			if (used + w > width - 1)
				break;
			if (esc[0])
				buf_addstr(out, esc);
			else
				buf_add(out, s + i, len);
			used += w;
			i += len;
		}
		if (width > 0) {
			buf_add(out, ellipsis, sizeof(ellipsis) - 1);
			used++;
		}
	} else {
		text_escape_term(out, s);
		used = sw;
	}
	while (pad && used < width) {
		buf_addch(out, ' ');
		used++;
	}
	return used;
}

/* \uHHHH for a code point of the BMP (all that is escaped here is in the BMP). */
static void json_u(struct buf *out, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', hex[(cp >> 12) & 0xf], hex[(cp >> 8) & 0xf],
			hex[(cp >> 4) & 0xf], hex[cp & 0xf] };

	buf_add(out, esc, sizeof(esc));
}

/* The string body (no quotes) of s[0..n) with the escapes of text_escape_json(). */
static void json_body(struct buf *out, const char *s, size_t n, int escape_ascii)
{
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len;

		if (c >= 0x20 && c < 0x7f && (!escape_ascii || (c != '"' && c != '\\'))) {
			i++;
			continue;
		}
		if (c < 0x80 && !escape_ascii && c != 0x7f) {
			i++;        /* repairing printed JSON: its ASCII is already right */
			continue;
		}
		buf_add(out, s + run, i - run);
		len = c < 0x80 ? 1 : utf8_decode(s + i, n - i, &cp);
		if (c < 0x80)
			cp = c;
		if (len == 0) {
			json_u(out, 0xfffd);
			len = 1;
		} else if (c == '"' || c == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, c);
		} else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
			buf_addch(out, '\\');
			buf_addch(out, c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		} else if (text_is_control(cp)) {
			json_u(out, cp);
		} else {
			buf_add(out, s + i, len);
		}
		i += len;
		run = i;
	}
	buf_add(out, s + run, i - run);
}

void text_escape_json(struct buf *out, const char *s)
{
	if (!s) {
		buf_add(out, "null", 4);
		return;
	}
	buf_addch(out, '"');
	json_body(out, s, strlen(s), 1);
	buf_addch(out, '"');
}

void text_json_repair(struct buf *out, const char *json, size_t n)
{
	json_body(out, json, n, 0);
}
