/* test_text.c - UTF-8 checks, display width and escaping (src/core/text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esimctl/text.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static void test_decode(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		uint32_t cp;
	} rows[] = {
		{ "A", 1, 'A' },
		{ "\xc3\xa9", 2, 0xe9 },                 /* é */
		{ "\xe6\x9d\xb1", 3, 0x6771 },           /* 東 */
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 },      /* emoji */
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
		{ "\xc2\x80", 2, 0x80 },
		{ "\xef\xbf\xbd", 3, 0xfffd },
		/* refused: overlong forms, surrogates, past U+10FFFF, stray and cut bytes */
		{ "\xc0\xaf", 0, 0xc0 },
		{ "\xc1\xbf", 0, 0xc1 },
		{ "\xe0\x80\xaf", 0, 0xe0 },
		{ "\xe0\x9f\xbf", 0, 0xe0 },
		{ "\xf0\x80\x80\xaf", 0, 0xf0 },
		{ "\xf0\x8f\xbf\xbf", 0, 0xf0 },
		{ "\xed\xa0\x80", 0, 0xed },             /* U+D800 */
		{ "\xed\xbf\xbf", 0, 0xed },             /* U+DFFF */
		{ "\xf4\x90\x80\x80", 0, 0xf4 },         /* U+110000 */
		{ "\xf5\x80\x80\x80", 0, 0xf5 },
		{ "\xff", 0, 0xff },
		{ "\xfe", 0, 0xfe },
		{ "\x80", 0, 0x80 },
		{ "\xc3", 0, 0xc3 },
		{ "\xc3(", 0, 0xc3 },
		{ "\xe6\x9d", 0, 0xe6 },
		{ "\xe6\x9d(", 0, 0xe6 },
		{ "\xf0\x9f\x98", 0, 0xf0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		uint32_t cp = 0;
		size_t len = utf8_decode(rows[i].in, strlen(rows[i].in), &cp);

		if (len != rows[i].len || cp != rows[i].cp)
			fail_msg("row %zu: got len %zu cp U+%04X, expected %zu U+%04X", i, len, (unsigned)cp,
				 rows[i].len, (unsigned)rows[i].cp);
	}
}

static void test_check(void **state)
{
	static const struct {
		const char *in;
		enum text_problem problem;
		size_t chars, offset;
		uint32_t value;
	} rows[] = {
		{ "", TEXT_OK, 0, 0, 0 },
		{ "Verizon", TEXT_OK, 7, 0, 0 },
		{ "Am\xc3\xa9rica M\xc3\xb3vil", TEXT_OK, 13, 0, 0 },
		{ "\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf", TEXT_OK, 5, 0, 0 },
		{ "e\xcc\x81", TEXT_OK, 2, 0, 0 },        /* e + combining acute: 2 code points */
		{ "Evil\x1b[2JCo", TEXT_CONTROL, 4, 4, 0x1b },
		{ "a\tb", TEXT_CONTROL, 1, 1, '\t' },
		{ "a\nb", TEXT_CONTROL, 1, 1, '\n' },
		{ "del\x7f", TEXT_CONTROL, 3, 3, 0x7f },
		{ "c1\xc2\x9b" "2J", TEXT_CONTROL, 2, 2, 0x9b },   /* C1 CSI */
		{ "x\xe2\x80\xae" "abc", TEXT_CONTROL, 1, 1, 0x202e }, /* right-to-left override */
		{ "x\xe2\x81\xa6", TEXT_CONTROL, 1, 1, 0x2066 },
		{ "x\xe2\x80\xa8", TEXT_CONTROL, 1, 1, 0x2028 },
		{ "x\xd8\x9c", TEXT_CONTROL, 1, 1, 0x061c },      /* Arabic letter mark */
		{ "x\xe2\x80\x8e", TEXT_CONTROL, 1, 1, 0x200e },  /* left-to-right mark */
		{ "x\xe2\x80\x8f", TEXT_CONTROL, 1, 1, 0x200f },
		{ "x\xe2\x80\xa9", TEXT_CONTROL, 1, 1, 0x2029 },  /* paragraph separator */
		{ "x\xe2\x81\xa9", TEXT_CONTROL, 1, 1, 0x2069 },  /* pop directional isolate */
		{ "\xc2\x80", TEXT_CONTROL, 0, 0, 0x80 },
		{ "\xc2\x9f", TEXT_CONTROL, 0, 0, 0x9f },
		/* neighbours that are text */
		{ "\xc2\xa0", TEXT_OK, 1, 0, 0 },                  /* no-break space */
		{ "\xe2\x80\x8d", TEXT_OK, 1, 0, 0 },              /* zero-width joiner */
		{ "\xe2\x80\xaf", TEXT_OK, 1, 0, 0 },              /* narrow no-break space */
		{ "\xe2\x81\xaa", TEXT_OK, 1, 0, 0 },              /* U+206A, past the isolates */
		{ "~", TEXT_OK, 1, 0, 0 },
		{ "\xff\xfe", TEXT_BAD_UTF8, 0, 0, 0xff },
		{ "ok\xc3", TEXT_BAD_UTF8, 2, 2, 0xc3 },
		{ "\xed\xa0\x80", TEXT_BAD_UTF8, 0, 0, 0xed },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct text_check c;
		int rc = text_check(rows[i].in, &c);

		if (rc != (rows[i].problem == TEXT_OK ? 0 : -1) || c.problem != rows[i].problem ||
		    c.chars != rows[i].chars || c.offset != rows[i].offset || c.value != rows[i].value)
			fail_msg("row %zu: rc %d problem %d chars %zu offset %zu value %x", i, rc,
				 (int)c.problem, c.chars, c.offset, (unsigned)c.value);
	}
}

static void test_chars_and_width(void **state)
{
	static const struct {
		const char *in;
		size_t chars, width;
	} rows[] = {
		{ "", 0, 0 },
		{ "abc", 3, 3 },
		{ "m\xc3\xa9xico", 6, 6 },
		{ "Am\xc3\xa9rica M\xc3\xb3vil", 13, 13 },
		{ "\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf", 5, 10 }, /* 東京データ */
		{ "\xed\x95\x9c\xea\xb8\x80", 2, 4 },     /* 한글 */
		{ "\xef\xbc\xa1", 1, 2 },                 /* fullwidth A */
		{ "\xf0\x9f\x98\x80", 1, 2 },             /* emoji */
		{ "e\xcc\x81", 2, 1 },                    /* combining acute: width 0 */
		{ "a\xe2\x80\x8b" "b", 3, 2 },            /* zero-width space */
		{ "\xd7\x90", 1, 1 },                     /* Hebrew alef */
		{ "\xe3\x81\x8b\xe3\x82\x99", 2, 2 },     /* か + combining voiced mark */
		/* escapes: as wide as their visible form */
		{ "a\x1b", 2, 5 },                        /* a\x1b */
		{ "\xff", 1, 4 },                         /* \xff */
		{ "\xe2\x80\xae", 1, 8 },                 /* \u{202e} */
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t c = text_chars(rows[i].in), w = text_width(rows[i].in);

		if (c != rows[i].chars || w != rows[i].width)
			fail_msg("row %zu: chars %zu width %zu, expected %zu %zu", i, c, w, rows[i].chars,
				 rows[i].width);
	}
	/* 64 'é' are 64 characters in 128 bytes */
	{
		char s[129];

		for (int i = 0; i < 64; i++)
			memcpy(s + 2 * i, "\xc3\xa9", 2);
		s[128] = '\0';
		assert_int_equal(text_chars(s), 64);
		assert_int_equal(text_width(s), 64);
	}
}

static void test_escape_term(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "plain", "plain" },
		{ "Am\xc3\xa9rica", "Am\xc3\xa9rica" },
		{ "Evil\x1b[2JCo", "Evil\\x1b[2JCo" },
		{ "a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd" },
		{ "\x7f", "\\x7f" },
		{ "\xc2\x9b" "2J", "\\x9b2J" },
		{ "\xe2\x80\xae" "txt", "\\u{202e}txt" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "ok\xe6\x9d", "ok\\xe6\\x9d" },
		{ "\xe6\x9d\xb1", "\xe6\x9d\xb1" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct buf b = BUF_INIT;

		text_escape_term(&b, rows[i].in);
		if (strcmp(b.buf, rows[i].out) != 0)
			fail_msg("row %zu: got '%s', expected '%s'", i, b.buf, rows[i].out);
		if (text_width(rows[i].in) != text_width(b.buf))
			fail_msg("row %zu: width of the input %zu != width of its form %zu", i,
				 text_width(rows[i].in), text_width(b.buf));
		buf_release(&b);
	}
}

static void test_fit(void **state)
{
	static const struct {
		const char *in;
		size_t width;
		int pad;
		const char *out;
	} rows[] = {
		{ "abc", 5, 1, "abc  " },
		{ "abc", 5, 0, "abc" },
		{ "abc", 3, 1, "abc" },
		{ "abcdef", 4, 1, "abc\xe2\x80\xa6" },
		{ "m\xc3\xa9xico", 8, 1, "m\xc3\xa9xico  " },
		{ "\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf", 12, 1,
		  "\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf  " },
		/* a wide character that does not fit is left out, the cell is padded */
		{ "\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf", 6, 1,
		  "\xe6\x9d\xb1\xe4\xba\xac\xe2\x80\xa6 " },
		{ "Evil\x1b[2JCo", 7, 1, "Evil\xe2\x80\xa6  " },
		{ "Evil\x1b[2JCo", 20, 1, "Evil\\x1b[2JCo       " },
		{ "e\xcc\x81t\xc3\xa9", 3, 1, "e\xcc\x81t\xc3\xa9" },
		{ "", 2, 1, "  " },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct buf b = BUF_INIT;
		size_t used = text_fit(&b, rows[i].in, rows[i].width, rows[i].pad);

		if (strcmp(b.buf, rows[i].out) != 0)
			fail_msg("row %zu: got '%s', expected '%s'", i, b.buf, rows[i].out);
		if (rows[i].pad && (used != rows[i].width || text_width(b.buf) != rows[i].width))
			fail_msg("row %zu: %zu columns (text %zu), expected %zu", i, used, text_width(b.buf),
				 rows[i].width);
		buf_release(&b);
	}
}

static void test_escape_json(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "plain", "\"plain\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "Am\xc3\xa9rica", "\"Am\xc3\xa9rica\"" },
		{ "Evil\x1b[2JCo", "\"Evil\\u001b[2JCo\"" },
		{ "\b\f\n\r\t\x01", "\"\\b\\f\\n\\r\\t\\u0001\"" },
		{ "\x7f\xc2\x9b", "\"\\u007f\\u009b\"" },
		{ "\xe2\x80\xae", "\"\\u202e\"" },
		{ "\xff\xfe", "\"\\ufffd\\ufffd\"" },
		{ "a\xe6\x9d" "b", "\"a\\ufffd\\ufffdb\"" },
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct buf b = BUF_INIT;

		text_escape_json(&b, rows[i].in);
		if (strcmp(b.buf, rows[i].out) != 0)
			fail_msg("row %zu: got '%s', expected '%s'", i, b.buf, rows[i].out);
		buf_release(&b);
	}
	{
		struct buf b = BUF_INIT;

		text_escape_json(&b, NULL);
		assert_string_equal(b.buf, "null");
		buf_release(&b);
	}
}

static void test_json_repair(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "{\"a\":\"x\"}", "{\"a\":\"x\"}" },
		{ "{\"a\":\"\xff\"}", "{\"a\":\"\\ufffd\"}" },
		{ "{\"a\":\"\\u001b\\\"\"}", "{\"a\":\"\\u001b\\\"\"}" },
		{ "{\"a\":\"\x7f\xc2\x85\xe2\x80\xa8\"}", "{\"a\":\"\\u007f\\u0085\\u2028\"}" },
		{ "{\"a\":\x01" "0}", "{\"a\":\x01" "0}" },   /* stream placeholders pass */
		{ "[\"\xc3\xa9\"]", "[\"\xc3\xa9\"]" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct buf b = BUF_INIT;

		text_json_repair(&b, rows[i].in, strlen(rows[i].in));
		if (strcmp(b.buf, rows[i].out) != 0)
			fail_msg("row %zu: got '%s', expected '%s'", i, b.buf, rows[i].out);
		buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_chars_and_width),
		cmocka_unit_test(test_escape_term),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_json_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
