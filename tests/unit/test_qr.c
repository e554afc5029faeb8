/*
 * test_qr.c - qr_encode() and the three renderers.
 *
 * Every rendering is read back (PNG through libpng's reader, SVG by parsing its path,
 * terminal text by decoding the half blocks) and compared with the matrix module by
 * module.  The PNG and SVG files are also scanned with tests/cli/qrdecode.sh (zbarimg,
 * and rsvg-convert for SVG) and the payload must come back byte for byte; without
 * ESIMCTL_SRC (set by ctest), zbarimg or rsvg-convert that case is skipped, and the file
 * exits 77 (tests/unit/skip_status.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>
#include <qrencode.h>

#include "esimctl/qr.h"

#define LEVEL_BIT(l) (1u << (l))
#define ALL_LEVELS (LEVEL_BIT(QR_LEVEL_L) | LEVEL_BIT(QR_LEVEL_M) | \
		    LEVEL_BIT(QR_LEVEL_Q) | LEVEL_BIT(QR_LEVEL_H))

static const char level_letter[] = "LMQH";

#define LONG_LOWER "LPA:1$rsp.example.com$"
#define LONG_UPPER "LPA:1$RSP.EXAMPLE.COM$"

/* text = prefix + `fill_len` bytes cycling through `fill` + suffix */
static const struct qr_case {
	const char *name;
	const char *prefix;
	const char *fill;
	size_t fill_len;
	const char *suffix;
	unsigned ok_levels;     /* levels at which the text fits a version 40 symbol */
} cases[] = {
	{ "truphone, lower-case host", "LPA:1$rsp.truphone.com$QR-G-5C-1LS-1W1Z9P7", "", 0, "",
	  ALL_LEVELS },
	{ "truphone, upper case (alphanumeric mode)", "LPA:1$RSP.TRUPHONE.COM$QR-G-5C-1LS-1W1Z9P7",
	  "", 0, "", ALL_LEVELS },
	{ "lower-case prefix and token", "lpa:1$rsp.truphone.com$qr-g-5c-1ls-1w1z9p7", "", 0, "",
	  ALL_LEVELS },
	{ "mixed-case token", "LPA:1$smdp.example.com$aBcD-EfGh-1234-xYz", "", 0, "",
	  ALL_LEVELS },
	{ "all five fields", "LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1",
	  "", 0, "", ALL_LEVELS },
	{ "empty token", "LPA:1$SMDP.GSMA.COM$$1.3.6.1.4.1.31746", "", 0, "", ALL_LEVELS },
	{ "no LPA: prefix, one character", "1", "", 0, "", ALL_LEVELS },
	{ "255-char mixed-case matching id", "LPA:1$testsmdpplus1.example.com$",
	  "Ab9-xY7-Qz3-", 255, "", ALL_LEVELS },
	{ "255-char upper-case matching id", "LPA:1$TESTSMDPPLUS1.EXAMPLE.COM$",
	  "AB9-XY7-QZ3-", 255, "$1.3.6.1.4.1.31746$1", ALL_LEVELS },
	{ "255-char host", "LPA:1$", "abcdefghij.", 255, "$QR-G-5C-1LS-1W1Z9P7", ALL_LEVELS },
	{ "2048 bytes, byte mode", LONG_LOWER, "a1-B2-c3-", 2048 - sizeof(LONG_LOWER) + 1, "",
	  LEVEL_BIT(QR_LEVEL_L) | LEVEL_BIT(QR_LEVEL_M) },
	{ "2048 bytes, alphanumeric mode", LONG_UPPER, "A1-B2-C3-", 2048 - sizeof(LONG_UPPER) + 1, "",
	  LEVEL_BIT(QR_LEVEL_L) | LEVEL_BIT(QR_LEVEL_M) | LEVEL_BIT(QR_LEVEL_Q) },
	{ "UTF-8 bytes", "LPA:1$smdp.example.com$Gr\xc3\xbc\xc3\x9f" "e-\xe2\x82\xac", "", 0, "",
	  ALL_LEVELS },
	{ "payload ending in newlines", "LPA:1$smdp.example.com$AB\n\n", "", 0, "", ALL_LEVELS },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void build_text(const struct qr_case *c, struct buf *b)
{
	size_t flen = strlen(c->fill);

	buf_reset(b);
	buf_addstr(b, c->prefix);
	for (size_t i = 0; i < c->fill_len; i++)
		buf_addch(b, c->fill[i % flen]);
	buf_addstr(b, c->suffix);
}

static int cell(const struct qr_matrix *m, int x, int y)
{
	return m->cells[(size_t)y * (size_t)m->width + (size_t)x];
}

/* 7x7 finder pattern at (x0, y0) and its light separator where it lies inside. */
static int finder_at(const struct qr_matrix *m, int x0, int y0)
{
	for (int dy = -1; dy <= 7; dy++) {
		for (int dx = -1; dx <= 7; dx++) {
			int x = x0 + dx, y = y0 + dy, want;

			if (x < 0 || y < 0 || x >= m->width || y >= m->width)
				continue;
			if (dx == -1 || dy == -1 || dx == 7 || dy == 7)
				want = 0;
			else if (dx == 0 || dy == 0 || dx == 6 || dy == 6)
				want = 1;
			else
				want = dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4;
			if (cell(m, x, y) != want)
				return 0;
		}
	}
	return 1;
}

static void check_matrix(const struct qr_matrix *m, const char *text, enum qr_level level)
{
	static const QRecLevel ql[] = { QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H };
	QRcode *ref;
	int w = m->width, version;

	assert_non_null(m->cells);
	assert_true(w >= 21 && w <= 177);
	assert_int_equal((w - 17) % 4, 0);
	version = (w - 17) / 4;

	/* Same symbol as libqrencode in case-sensitive byte-hint mode, bit 0 only. */
	ref = QRcode_encodeString(text, 0, ql[level], QR_MODE_8, 1);
	assert_non_null(ref);
	assert_int_equal(ref->version, version);
	assert_int_equal(ref->width, 17 + 4 * version);
	for (int i = 0; i < w * w; i++)
		assert_int_equal(m->cells[i], ref->data[i] & 1);
	QRcode_free(ref);

	assert_true(finder_at(m, 0, 0));
	assert_true(finder_at(m, w - 7, 0));
	assert_true(finder_at(m, 0, w - 7));
	assert_false(finder_at(m, w - 7, w - 7));
	/* Timing patterns on row 6 and column 6, and the dark module (ISO 18004 §7.9). */
	for (int i = 8; i < w - 8; i++) {
		assert_int_equal(cell(m, i, 6), i % 2 == 0);
		assert_int_equal(cell(m, 6, i), i % 2 == 0);
	}
	assert_int_equal(cell(m, 8, w - 8), 1);
}

static void test_encode_table(void **state)
{
	struct buf text = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		int prev_width = 0;

		build_text(&cases[i], &text);
		for (int l = QR_LEVEL_L; l <= QR_LEVEL_H; l++) {
			struct qr_matrix m = { 0, NULL };
			struct esim_err err = { 0 };
			int ok = !!(cases[i].ok_levels & LEVEL_BIT(l));
			int rc = qr_encode(text.buf, (enum qr_level)l, &m, &err);

			if ((rc == 0) != ok)
				fail_msg("%s at level %c: %s", cases[i].name, level_letter[l],
					 rc == 0 ? "encoded, want an error" : err.msg);
			if (!ok) {
				char len[32];

				snprintf(len, sizeof(len), "%zu bytes", text.len);
				assert_int_equal(err.status, ESIM_E_USAGE);
				assert_non_null(strstr(err.msg, len));
				assert_non_null(strstr(err.hint, "--level"));
				assert_int_equal(m.width, 0);
				assert_null(m.cells);
				continue;
			}
			check_matrix(&m, text.buf, (enum qr_level)l);
			/* More error correction never makes the symbol smaller. */
			assert_true(m.width >= prev_width);
			prev_width = m.width;
			qr_matrix_free(&m);
			assert_null(m.cells);
			assert_int_equal(m.width, 0);
		}
	}
	buf_release(&text);
}

static void test_encode_keeps_case(void **state)
{
	static const char lower[] = "LPA:1$rsp.truphone.com$qr-g-5c-1ls-1w1z9p7";
	struct qr_matrix ml = { 0, NULL }, mu = { 0, NULL };
	QRcode *folded;

	(void)state;
	assert_int_equal(qr_encode(lower, QR_LEVEL_M, &ml, NULL), 0);
	assert_int_equal(qr_encode("LPA:1$RSP.TRUPHONE.COM$QR-G-5C-1LS-1W1Z9P7", QR_LEVEL_M,
				   &mu, NULL), 0);
	/* What a case-folding encoder would make of the lower-case text. */
	folded = QRcode_encodeString(lower, 0, QR_ECLEVEL_M, QR_MODE_8, 0);
	assert_non_null(folded);
	assert_int_equal(folded->width, mu.width);
	for (int i = 0; i < mu.width * mu.width; i++)
		assert_int_equal(folded->data[i] & 1, mu.cells[i]);
	assert_true(ml.width != mu.width || memcmp(ml.cells, mu.cells, (size_t)(ml.width * ml.width)));
	QRcode_free(folded);
	qr_matrix_free(&ml);
	qr_matrix_free(&mu);
}

static void test_encode_errors(void **state)
{
	char *big = malloc(2050);
	const struct {
		const char *text;
		int level;
		const char *msg;
	} errs[] = {
		{ NULL, QR_LEVEL_M, "empty" },
		{ "", QR_LEVEL_M, "empty" },
		{ big, QR_LEVEL_L, "(2049 bytes, maximum 2048)" },
		{ "LPA:1$a$b", 4, "level" },
		{ "LPA:1$a$b", -1, "level" },
	};

	(void)state;
	assert_non_null(big);
	memset(big, 'A', 2049);
	big[2049] = '\0';
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct qr_matrix m = { 99, (uint8_t *)big };
		struct esim_err err = { 0 };

		assert_int_equal(qr_encode(errs[i].text, (enum qr_level)errs[i].level, &m, &err), -1);
		assert_int_equal(err.status, ESIM_E_USAGE);
		assert_non_null(strstr(err.msg, errs[i].msg));
		assert_int_equal(m.width, 0);
		assert_null(m.cells);
		/* A NULL err is allowed. */
		assert_int_equal(qr_encode(errs[i].text, (enum qr_level)errs[i].level, &m, NULL), -1);
	}
	qr_matrix_free(NULL);
	free(big);
}

static void test_too_long_hints(void **state)
{
	const struct {
		size_t len;
		enum qr_level level;
		const char *hint;
	} rows[] = {
		{ 1300, QR_LEVEL_H, "--level Q" },   /* byte mode: H 1273, Q 1663 */
		{ 1700, QR_LEVEL_H, "--level M" },   /* M 2331 */
		{ 1700, QR_LEVEL_Q, "--level M" },
		{ 2048, QR_LEVEL_H, "--level M" },
		{ 2048, QR_LEVEL_Q, "--level M" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = malloc(rows[i].len + 1);
		struct qr_matrix m;
		struct esim_err err = { 0 };
		char want[64];

		assert_non_null(t);
		memset(t, 'z', rows[i].len);
		t[rows[i].len] = '\0';
		assert_int_equal(qr_encode(t, rows[i].level, &m, &err), -1);
		assert_int_equal(err.status, ESIM_E_USAGE);
		snprintf(want, sizeof(want), "text of %zu bytes", rows[i].len);
		assert_non_null(strstr(err.msg, want));
		assert_string_equal(strstr(err.hint, "--level"), rows[i].hint);
		free(t);
	}
}

static void test_level_parse(void **state)
{
	const struct {
		const char *in;
		int ok;
		enum qr_level level;
	} rows[] = {
		{ "L", 1, QR_LEVEL_L }, { "l", 1, QR_LEVEL_L }, { "M", 1, QR_LEVEL_M },
		{ "m", 1, QR_LEVEL_M }, { "Q", 1, QR_LEVEL_Q }, { "q", 1, QR_LEVEL_Q },
		{ "H", 1, QR_LEVEL_H }, { "h", 1, QR_LEVEL_H },
		{ NULL, 0, 0 }, { "", 0, 0 }, { "X", 0, 0 }, { "LL", 0, 0 }, { "low", 0, 0 },
		{ " L", 0, 0 }, { "L ", 0, 0 }, { "1", 0, 0 }, { "\xc3\x9c", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum qr_level l = (enum qr_level)99;

		assert_int_equal(qr_level_parse(rows[i].in, &l) == 0, rows[i].ok);
		if (rows[i].ok)
			assert_int_equal(l, rows[i].level);
		else
			assert_int_equal(l, 99);
	}
}

/* ---- renderers ---------------------------------------------------------------- */

static int dark_with_margin(const struct qr_matrix *m, int margin, int x, int y)
{
	x -= margin;
	y -= margin;
	return x >= 0 && y >= 0 && x < m->width && y < m->width && cell(m, x, y);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_png(const struct qr_matrix *m, int size, int margin, const struct buf *b)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	const unsigned char *p = (const unsigned char *)b->buf;
	uint32_t side = (uint32_t)((m->width + 2 * margin) * size);
	png_image img;
	unsigned char *px;

	assert_true(b->len > 8 + 25);
	assert_memory_equal(p, sig, 8);
	assert_int_equal(be32(p + 8), 13);
	assert_memory_equal(p + 12, "IHDR", 4);
	assert_int_equal(be32(p + 16), side);
	assert_int_equal(be32(p + 20), side);
	assert_int_equal(p[24], 1);     /* bit depth */
	assert_int_equal(p[25], 0);     /* greyscale */
	assert_int_equal(p[28], 0);     /* not interlaced */

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_int_not_equal(png_image_begin_read_from_memory(&img, b->buf, b->len), 0);
	img.format = PNG_FORMAT_GRAY;
	px = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(px);
	assert_int_not_equal(png_image_finish_read(&img, NULL, px, 0, NULL), 0);
	for (uint32_t y = 0; y < side; y++)
		for (uint32_t x = 0; x < side; x++)
			assert_int_equal(px[y * side + x],
					 dark_with_margin(m, margin, (int)x / size, (int)y / size)
					 ? 0 : 255);
	free(px);
	png_image_free(&img);
}

static void check_svg(const struct qr_matrix *m, int size, int margin, const struct buf *b)
{
	int n = m->width + 2 * margin, runs = 0, dark = 0;
	char want[160];
	const char *d;
	uint8_t *seen = calloc((size_t)n * (size_t)n, 1);

	assert_non_null(seen);
	assert_memory_equal(b->buf, "<?xml version=\"1.0\"", 19);
	snprintf(want, sizeof(want), "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"",
		 n * size, n * size, n, n);
	assert_non_null(strstr(b->buf, want));
	assert_non_null(strstr(b->buf, "shape-rendering=\"crispEdges\""));
	snprintf(want, sizeof(want), "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", n, n);
	assert_non_null(strstr(b->buf, want));
	assert_non_null(strstr(b->buf, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_string_equal(b->buf + b->len - 7, "</svg>\n");

	d = strstr(b->buf, "<path fill=\"#000\" d=\"");
	assert_non_null(d);
	d += strlen("<path fill=\"#000\" d=\"");
	while (*d == 'M') {
		int x, y, h, h2, used = 0;

		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &h, &h2, &used), 4);
		assert_true(used > 0);
		assert_int_equal(h, h2);
		assert_true(h >= 1 && x >= margin && y >= margin && x + h <= n - margin);
		/* Runs are maximal: light (or the edge) on both ends. */
		assert_false(dark_with_margin(m, margin, x - 1, y));
		assert_false(dark_with_margin(m, margin, x + h, y));
		for (int i = 0; i < h; i++) {
			assert_int_equal(seen[y * n + x + i], 0);
			seen[y * n + x + i] = 1;
		}
		runs++;
		d += used;
	}
	assert_memory_equal(d, "\"/>", 3);
	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++) {
			assert_int_equal(seen[y * n + x], dark_with_margin(m, margin, x, y));
			dark += seen[y * n + x];
		}
	assert_true(runs > 0 && runs <= dark);
	free(seen);
}

/* style: QR_TERM_LIGHT_BG, QR_TERM_ANSI or QR_TERM_DARK_BG (glyphs draw the light modules) */
static void check_term(const struct qr_matrix *m, int margin, int style, const struct buf *b)
{
	static const char on[] = "\033[30;47m", off[] = "\033[0m";
	int n = m->width + 2 * margin, lines = 0, ansi = style == QR_TERM_ANSI;
	const char *p = b->buf, *end = b->buf + b->len;

	if (!ansi)
		assert_null(memchr(b->buf, '\033', b->len));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int x = 0;

		assert_non_null(nl);
		if (ansi) {
			assert_memory_equal(p, on, strlen(on));
			p += strlen(on);
			assert_true(nl - p >= (ptrdiff_t)strlen(off));
			assert_memory_equal(nl - strlen(off), off, strlen(off));
			nl -= strlen(off);
		}
		while (p < nl) {
			int top = 0, bottom = 0, y = 2 * lines;

			if (*p == ' ') {
				p++;
			} else {
				assert_true(nl - p >= 3);
				assert_memory_equal(p, "\xe2\x96", 2);
				switch ((unsigned char)p[2]) {
				case 0x80: top = 1; bottom = 0; break;
				case 0x84: top = 0; bottom = 1; break;
				case 0x88: top = 1; bottom = 1; break;
				default: fail_msg("unexpected glyph on line %d", lines);
				}
				p += 3;
			}
			if (style == QR_TERM_DARK_BG) {
				/* light modules and quiet zone drawn; the half row past it is not */
				assert_int_equal(top, y < n && !dark_with_margin(m, margin, x, y));
				assert_int_equal(bottom, y + 1 < n && !dark_with_margin(m, margin, x, y + 1));
			} else {
				assert_int_equal(top, dark_with_margin(m, margin, x, y));
				assert_int_equal(bottom, dark_with_margin(m, margin, x, y + 1));
			}
			x++;
		}
		assert_int_equal(x, n);
		p = nl + (ansi ? strlen(off) : 0) + 1;
		lines++;
	}
	assert_int_equal(lines, (n + 1) / 2);
}

static const struct render_case {
	int size, margin;
} renders[] = {
	{ 8, 2 }, { 1, 0 }, { 3, 4 }, { 4, 1 }, { 9, 3 },
};

static void test_render_table(void **state)
{
	struct buf text = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct qr_matrix m;

		build_text(&cases[i], &text);
		assert_int_equal(qr_encode(text.buf, QR_LEVEL_L, &m, NULL), 0);
		for (size_t r = 0; r < sizeof(renders) / sizeof(renders[0]); r++) {
			struct buf b = BUF_INIT;
			struct esim_err err = { 0 };
			int size = renders[r].size, margin = renders[r].margin;

			assert_int_equal(qr_render_png(&m, size, margin, &b, &err), 0);
			check_png(&m, size, margin, &b);
			buf_release(&b);

			qr_render_svg(&m, size, margin, &b);
			check_svg(&m, size, margin, &b);
			buf_release(&b);

			qr_render_term(&m, margin, 0, &b);
			check_term(&m, margin, 0, &b);
			buf_release(&b);
			qr_render_term(&m, margin, 1, &b);
			check_term(&m, margin, 1, &b);
			buf_release(&b);
			qr_render_term(&m, margin, QR_TERM_DARK_BG, &b);
			check_term(&m, margin, QR_TERM_DARK_BG, &b);
			assert_int_equal(qr_term_columns(&m, margin), m.width + 2 * margin);
			buf_release(&b);
		}
		qr_matrix_free(&m);
	}
	buf_release(&text);
}

static void test_render_appends(void **state)
{
	struct qr_matrix m;
	struct buf b = BUF_INIT, alone = BUF_INIT;
	char want[128];

	(void)state;
	assert_int_equal(qr_encode("LPA:1$rsp.truphone.com$QR-G-5C-1LS-1W1Z9P7", QR_LEVEL_M,
				   &m, NULL), 0);
	qr_render_svg(&m, 8, 2, &alone);
	buf_addstr(&b, "prefix");
	qr_render_svg(&m, 8, 2, &b);
	assert_int_equal(b.len, 6 + alone.len);
	assert_memory_equal(b.buf + 6, alone.buf, alone.len);
	/* Out-of-range size and margin in the void renderers are clamped to 1 and 0. */
	buf_reset(&b);
	buf_reset(&alone);
	qr_render_svg(&m, 0, -3, &b);
	qr_render_svg(&m, 1, 0, &alone);
	assert_string_equal(b.buf, alone.buf);
	buf_reset(&b);
	buf_reset(&alone);
	qr_render_term(&m, -1, 1, &b);
	qr_render_term(&m, 0, 1, &alone);
	assert_string_equal(b.buf, alone.buf);
	buf_reset(&b);
	buf_reset(&alone);
	qr_render_term(&m, 1 << 30, 0, &b);
	qr_render_term(&m, 1000, 0, &alone);
	assert_string_equal(b.buf, alone.buf);
	buf_reset(&b);
	buf_reset(&alone);
	qr_render_svg(&m, 1 << 30, 1 << 30, &b);
	snprintf(want, sizeof(want), "width=\"%lld\" height=\"%lld\" viewBox=\"0 0 %d %d\"",
		 (m.width + 2000LL) << 30, (m.width + 2000LL) << 30, m.width + 2000, m.width + 2000);
	assert_non_null(strstr(b.buf, want));
	buf_release(&b);
	buf_release(&alone);
	qr_matrix_free(&m);
}

/* The smallest case by hand: a 1x1 dark "matrix" shows the glyph and SGR layout. */
static void test_term_layout(void **state)
{
	uint8_t one = 1;
	struct qr_matrix m = { 1, &one };
	struct buf b = BUF_INIT;

	(void)state;
	qr_render_term(&m, 1, 0, &b);
	assert_string_equal(b.buf, " \u2584 \n   \n");
	buf_reset(&b);
	qr_render_term(&m, 0, 1, &b);
	assert_string_equal(b.buf, "\033[30;47m\u2580\033[0m\n");
	buf_reset(&b);
	/* for a dark background: the quiet zone drawn light around the dark module */
	qr_render_term(&m, 1, QR_TERM_DARK_BG, &b);
	assert_string_equal(b.buf, "\u2588\u2580\u2588\n\u2580\u2580\u2580\n");
	buf_reset(&b);
	qr_render_svg(&m, 5, 1, &b);
	assert_non_null(strstr(b.buf, "viewBox=\"0 0 3 3\""));
	assert_non_null(strstr(b.buf, "d=\"M1 1h1v1h-1z\""));
	buf_release(&b);
}

static void test_png_errors(void **state)
{
	struct qr_matrix m, empty = { 0, NULL };
	const struct {
		const struct qr_matrix *m;
		int size, margin;
		enum esim_status status;
		const char *msg;
	} rows[] = {
		{ &m, 0, 2, ESIM_E_USAGE, "at least 1 px" },
		{ &m, -8, 2, ESIM_E_USAGE, "at least 1 px" },
		{ &m, 8, -1, ESIM_E_USAGE, "negative" },
		{ &m, 1000, 2, ESIM_E_USAGE, "too large" },
		{ &m, 1, 1 << 30, ESIM_E_USAGE, "too large" },
		{ &m, 1 << 30, 1 << 30, ESIM_E_USAGE, "too large" },
		{ &empty, 8, 2, ESIM_E_OTHER, "empty" },
		{ NULL, 8, 2, ESIM_E_OTHER, "empty" },
	};

	(void)state;
	assert_int_equal(qr_encode("LPA:1$rsp.truphone.com$QR-G-5C-1LS-1W1Z9P7", QR_LEVEL_H,
				   &m, NULL), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT;
		struct esim_err err = { 0 };

		buf_addstr(&b, "kept");
		assert_int_equal(qr_render_png(rows[i].m, rows[i].size, rows[i].margin, &b, &err),
				 -1);
		assert_int_equal(err.status, rows[i].status);
		assert_non_null(strstr(err.msg, rows[i].msg));
		assert_string_equal(b.buf, "kept");
		assert_int_equal(b.len, 4);
		buf_release(&b);
	}
	qr_matrix_free(&m);
}

/* ---- scanning with zbarimg ------------------------------------------------------ */

struct scan_env {
	char script[4096];
	char dir[4096];
	int svg;                /* rsvg-convert available */
};

static int write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(b->buf, 1, b->len, f) == b->len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Run qrdecode.sh on `img`; the payload goes to `outpath`.  Returns the exit status. */
static int run_decoder(const struct scan_env *env, const char *img, const char *outpath)
{
	pid_t pid;
	int status, fd;

	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		execl("/bin/sh", "sh", env->script, img, (char *)NULL);
		_exit(127);
	}
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void assert_scans_as(const struct scan_env *env, const char *img, const char *outpath,
			    const struct buf *text)
{
	struct buf got = BUF_INIT;
	FILE *f;
	char chunk[4096];
	size_t n;

	assert_int_equal(run_decoder(env, img, outpath), 0);
	f = fopen(outpath, "rb");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&got, chunk, n);
	fclose(f);
	if (got.len != text->len || memcmp(got.buf, text->buf, text->len))
		fail_msg("%s decoded as %zu bytes '%s', want %zu bytes '%s'", img, got.len,
			 got.buf, text->len, text->buf);
	buf_release(&got);
}

static const char *const scan_files[] = { "code.png", "code.svg", "payload" };

/* The temporary directory goes away even when an assertion fails half-way. */
static int scan_setup(void **state)
{
	*state = calloc(1, sizeof(struct scan_env));
	return *state ? 0 : -1;
}

static int scan_teardown(void **state)
{
	struct scan_env *env = *state;
	char path[4200];

	if (env && env->dir[0]) {
		for (size_t i = 0; i < sizeof(scan_files) / sizeof(scan_files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", env->dir, scan_files[i]);
			unlink(path);
		}
		if (rmdir(env->dir) != 0)
			print_message("cannot remove '%s': %s\n", env->dir, strerror(errno));
	}
	free(env);
	return 0;
}

static void test_scan_roundtrip(void **state)
{
	struct scan_env *env = *state;
	const char *src = getenv("ESIMCTL_SRC"), *tmp = getenv("TMPDIR");
	struct buf text = BUF_INIT, img = BUF_INIT;
	char png_path[4200], svg_path[4200], outpath[4200];
	int scans = 0;
	size_t l;

	if (!src || !*src) {
		print_message("skipped: ESIMCTL_SRC is not set (ctest sets it), the images are not scanned\n");
		skip();
	}
	if (access("/usr/bin/zbarimg", X_OK) != 0) {
		print_message("skipped: /usr/bin/zbarimg is not installed (Debian zbar-tools), "
			      "the images are not scanned\n");
		skip();
	}
	snprintf(env->script, sizeof(env->script), "%s/tests/cli/qrdecode.sh", src);
	assert_int_equal(access(env->script, R_OK), 0);
	env->svg = access("/usr/bin/rsvg-convert", X_OK) == 0;
	if (!env->svg)
		print_message("note: /usr/bin/rsvg-convert is not installed (Debian librsvg2-bin), "
			      "SVG output is not scanned; the case ends skipped\n");

	/* mkdtemp()'s template ends in six 'X'. */
	snprintf(env->dir, sizeof(env->dir), "%s/esimctl-test-qr.", tmp && *tmp ? tmp : "/tmp");
	l = strlen(env->dir);
	assert_true(l + 7 <= sizeof(env->dir));
	memset(env->dir + l, 'X', 6);
	env->dir[l + 6] = '\0';
	if (!mkdtemp(env->dir)) {
		env->dir[0] = '\0';
		fail_msg("mkdtemp: %s", strerror(errno));
	}
	snprintf(png_path, sizeof(png_path), "%s/%s", env->dir, scan_files[0]);
	snprintf(svg_path, sizeof(svg_path), "%s/%s", env->dir, scan_files[1]);
	snprintf(outpath, sizeof(outpath), "%s/%s", env->dir, scan_files[2]);

	for (size_t i = 0; i < NCASES; i++) {
		build_text(&cases[i], &text);
		for (int lv = QR_LEVEL_L; lv <= QR_LEVEL_H; lv++) {
			struct qr_matrix m;
			/* Vary the look: CLI defaults, tight quiet zone, spec quiet zone. */
			int size = (lv % 2) ? 8 : 4;
			int margin = lv == QR_LEVEL_Q ? 1 : lv == QR_LEVEL_H ? 4 : 2;

			if (!(cases[i].ok_levels & LEVEL_BIT(lv)))
				continue;
			assert_int_equal(qr_encode(text.buf, (enum qr_level)lv, &m, NULL), 0);

			buf_reset(&img);
			assert_int_equal(qr_render_png(&m, size, margin, &img, NULL), 0);
			assert_int_equal(write_file(png_path, &img), 0);
			assert_scans_as(env, png_path, outpath, &text);
			scans++;

			if (env->svg) {
				buf_reset(&img);
				qr_render_svg(&m, size, margin, &img);
				assert_int_equal(write_file(svg_path, &img), 0);
				assert_scans_as(env, svg_path, outpath, &text);
				scans++;
			}
			qr_matrix_free(&m);
		}
	}
	print_message("scanned %d images\n", scans);

	/* A file with no code in it is an error, not an empty payload. */
	{
		uint8_t none = 0;
		struct qr_matrix blank = { 1, &none };

		buf_reset(&img);
		assert_int_equal(qr_render_png(&blank, 8, 4, &img, NULL), 0);
		assert_int_equal(write_file(png_path, &img), 0);
		assert_int_equal(run_decoder(env, png_path, outpath), 1);
	}
	buf_release(&text);
	buf_release(&img);
	if (!env->svg) {
		print_message("skipped: the SVG scans (rsvg-convert is not installed)\n");
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_keeps_case),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_too_long_hints),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_appends),
		cmocka_unit_test(test_term_layout),
		cmocka_unit_test(test_png_errors),
		cmocka_unit_test_setup_teardown(test_scan_roundtrip, scan_setup, scan_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
