/*
 * qr.c - QR codes for activation codes (payload: SGP.22 §4.1, ISO/IEC 18004).
 *
 * Encoding is libqrencode's; this file validates the text, copies the module matrix
 * out of libqrencode's representation and renders it as terminal text, SVG or PNG.
 * No I/O: every renderer appends to a struct buf.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>

#include "esimctl/qr.h"

/*
 * A defensive cap on the payload.  An activation code with every field at the
 * 255-character cap of actcode_parse() stays well below it, and it fits a version 40
 * symbol in byte mode at levels L (2953 bytes) and M (2331 bytes).
 */
#define QR_TEXT_MAX 2048

/*
 * The void renderers cannot report a bad margin, so they clamp it to 0..QR_MARGIN_MAX
 * (and the SVG module size to at least 1); this keeps every size computation far from
 * overflow.  The CLI validates its options before getting here.
 */
#define QR_MARGIN_MAX 1000

/* Largest PNG side in pixels; a version 40 code at 8 px per module is 1448 px. */
#define QR_PNG_MAX_SIDE 16384

static const char level_names[] = "LMQH";

int qr_level_parse(const char *s, enum qr_level *out)
{
	const char *p;

	if (!s || !s[0] || s[1])
		return -1;
	p = strchr(level_names, s[0] >= 'a' && s[0] <= 'z' ? s[0] - 'a' + 'A' : s[0]);
	if (!p)
		return -1;
	*out = (enum qr_level)(p - level_names);
	return 0;
}

static int to_qrencode_level(enum qr_level level, QRecLevel *out)
{
	switch (level) {
	case QR_LEVEL_L: *out = QR_ECLEVEL_L; return 0;
	case QR_LEVEL_M: *out = QR_ECLEVEL_M; return 0;
	case QR_LEVEL_Q: *out = QR_ECLEVEL_Q; return 0;
	case QR_LEVEL_H: *out = QR_ECLEVEL_H; return 0;
	}
	return -1;
}

/* Free a libqrencode symbol; its modules spell out the matching ID, so wipe them. */
static void qrcode_wipe_free(QRcode *qr)
{
	if (!qr)
		return;
	if (qr->data && qr->width > 0)
		secure_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

/* The highest level below `level` whose symbol holds `text`, or -1 if none does. */
static int fitting_lower_level(const char *text, enum qr_level level)
{
	for (int l = (int)level - 1; l >= (int)QR_LEVEL_L; l--) {
		QRecLevel ql;
		QRcode *qr;

		if (to_qrencode_level((enum qr_level)l, &ql) < 0)
			continue;
		qr = QRcode_encodeString(text, 0, ql, QR_MODE_8, 1);
		if (qr) {
			qrcode_wipe_free(qr);
			return l;
		}
	}
	return -1;
}

int qr_encode(const char *text, enum qr_level level, struct qr_matrix *out, struct esim_err *err)
{
	QRecLevel ql;
	QRcode *qr;
	size_t len, n;

	out->width = 0;
	out->cells = NULL;
	if (!text || !text[0])
		return esim_fail(err, ESIM_E_USAGE, "QR code text is empty");
	/* A C string cannot carry NUL, so bounding its length is all the checking left. */
	len = strnlen(text, QR_TEXT_MAX + 1);
	if (len > QR_TEXT_MAX)
		return esim_fail(err, ESIM_E_USAGE, "QR code text is too long (%zu bytes, maximum %d)",
				 strlen(text), QR_TEXT_MAX);
	if (to_qrencode_level(level, &ql) < 0)
		return esim_fail(err, ESIM_E_USAGE, "unknown QR error correction level %d",
				 (int)level);

	/*
	 * Case-sensitive: with 0, libqrencode upper-cases the text to stay in
	 * alphanumeric mode, which would change a MatchingID (SGP.22 §4.1).  QR_MODE_8
	 * only says how non-alphanumeric bytes go (as bytes, not Kanji); libqrencode
	 * still picks numeric/alphanumeric segments where they are shorter.
	 */
	errno = 0;
	qr = QRcode_encodeString(text, 0, ql, QR_MODE_8, 1);
	if (!qr) {
		int e = errno;
		int lower;

		if (e != ERANGE)      /* ENOMEM; EINVAL cannot happen after the checks above */
			return esim_fail(err, ESIM_E_OTHER, "cannot encode QR code: %s",
					 e ? strerror(e) : "libqrencode failed");
		esim_fail(err, ESIM_E_USAGE,
			  "text of %zu bytes does not fit in a QR code at error correction level %c",
			  len, level_names[level]);
		lower = fitting_lower_level(text, level);
		if (lower >= 0)
			return esim_hint(err, "use a lower level: --level %c", level_names[lower]);
		return esim_hint(err, "shorten the text");
	}

	n = (size_t)qr->width * (size_t)qr->width;
	out->cells = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		out->cells[i] = qr->data[i] & 1;   /* bit 0: dark module */
	out->width = qr->width;
	qrcode_wipe_free(qr);
	return 0;
}

void qr_matrix_free(struct qr_matrix *m)
{
	if (!m)
		return;
	if (m->cells && m->width > 0)
		secure_wipe(m->cells, (size_t)m->width * (size_t)m->width);
	free(m->cells);
	m->cells = NULL;
	m->width = 0;
}

static int matrix_width(const struct qr_matrix *m)
{
	return m && m->cells && m->width > 0 ? m->width : 0;
}

/* Module (x, y) in quiet-zone-free coordinates; anything outside the symbol is light. */
static int is_dark(const struct qr_matrix *m, int w, int x, int y)
{
	return x >= 0 && y >= 0 && x < w && y < w && m->cells[(size_t)y * (size_t)w + (size_t)x];
}

static int clamp_margin(int margin)
{
	return margin < 0 ? 0 : margin > QR_MARGIN_MAX ? QR_MARGIN_MAX : margin;
}

int qr_term_columns(const struct qr_matrix *m, int margin)
{
	return matrix_width(m) + 2 * clamp_margin(margin);
}

void qr_render_term(const struct qr_matrix *m, int margin, int style, struct buf *out)
{
	/* Indexed by top | bottom << 1: which half of the cell is drawn in the foreground. */
	static const char *const glyph[4] = { " ", "\u2580", "\u2584", "\u2588" };
	static const char sgr_on[] = "\033[30;47m", sgr_off[] = "\033[0m";
	int w = matrix_width(m);
	int ansi = style == QR_TERM_ANSI, drawn = style == QR_TERM_DARK_BG ? 0 : 1;
	int n, lines;

	margin = clamp_margin(margin);
	n = w + 2 * margin;
	lines = (n + 1) / 2;
	buf_grow(out, (size_t)lines * ((size_t)n * 3 + sizeof(sgr_on) + sizeof(sgr_off) + 1));

	/*
	 * The foreground draws the modules whose darkness equals `drawn`: the dark ones for
	 * a light background (or the explicit white of SGR 47), the light ones and the quiet
	 * zone for a dark background.  With an odd number of rows the last half row lies
	 * outside the code: drawn as background, it is light only where the terminal is.
	 */
	for (int line = 0; line < lines; line++) {
		int y = 2 * line - margin;

		if (ansi)
			buf_add(out, sgr_on, sizeof(sgr_on) - 1);
		for (int x = -margin; x < w + margin; x++) {
			int top = is_dark(m, w, x, y) == drawn;
			int bottom = y + 1 < w + margin && is_dark(m, w, x, y + 1) == drawn;

			buf_addstr(out, glyph[top | bottom << 1]);
		}
		if (ansi)
			buf_add(out, sgr_off, sizeof(sgr_off) - 1);
		buf_addch(out, '\n');
	}
}

void qr_render_svg(const struct qr_matrix *m, int size, int margin, struct buf *out)
{
	int w = matrix_width(m);
	long long n, px;

	if (size < 1)
		size = 1;
	if (margin < 0)
		margin = 0;
	if (margin > QR_MARGIN_MAX)
		margin = QR_MARGIN_MAX;
	n = (long long)w + 2LL * margin;
	px = n * size;

	buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		 "width=\"%lld\" height=\"%lld\" viewBox=\"0 0 %lld %lld\" "
		 "shape-rendering=\"crispEdges\">\n", px, px, n, n);
	buf_addf(out, "<rect width=\"%lld\" height=\"%lld\" fill=\"#fff\"/>\n", n, n);
	buf_addstr(out, "<path fill=\"#000\" d=\"");
	/* User units are modules; one rectangle per horizontal run of dark modules. */
	for (int y = 0; y < w; y++) {
		int x = 0;

		while (x < w) {
			int start;

			if (!is_dark(m, w, x, y)) {
				x++;
				continue;
			}
			start = x;
			while (x < w && is_dark(m, w, x, y))
				x++;
			buf_addf(out, "M%d %dh%dv1h-%dz", start + margin, y + margin,
				 x - start, x - start);
		}
	}
	buf_addstr(out, "\"/>\n</svg>\n");
}

/*
 * On the heap, not on qr_render_png()'s stack: the error callback writes msg between
 * setjmp() and longjmp(), which leaves a non-volatile local indeterminate.
 */
struct png_job {
	char msg[200];
	size_t rowbytes;
	uint8_t row[];
};

static void png_error_cb(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);

	snprintf(job->msg, sizeof(job->msg), "%s", msg ? msg : "libpng error");
	png_longjmp(png, 1);
}

/* core/ does no I/O: libpng would print warnings to stderr by default. */
static void png_warning_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void png_write_cb(png_structp png, png_bytep data, size_t len)
{
	buf_add(png_get_io_ptr(png), data, len);
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

/*
 * Everything libpng may longjmp out of, kept apart from qr_render_png() so that no
 * local of the function that called setjmp() changes afterwards.
 */
static void png_write_body(png_structp png, png_infop info, const struct qr_matrix *m,
			   int w, int size, int margin, struct png_job *job)
{
	int n = w + 2 * margin;
	png_uint_32 side = (png_uint_32)n * (png_uint_32)size;
	uint8_t *row = job->row;
	size_t rowbytes = job->rowbytes;

	png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Filters buy nothing at 1 bit per pixel. */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);

	/* One packed row per module row (1 = white), written `size` times. */
	for (int y = -margin; y < w + margin; y++) {
		memset(row, 0xff, rowbytes);
		for (int x = 0; x < w; x++) {
			size_t p, end;

			if (!is_dark(m, w, x, y))
				continue;
			p = (size_t)(x + margin) * (size_t)size;
			end = p + (size_t)size;
			for (; p < end && (p & 7); p++)
				row[p >> 3] &= (uint8_t)~(0x80u >> (p & 7));
			for (; p + 8 <= end; p += 8)
				row[p >> 3] = 0;
			for (; p < end; p++)
				row[p >> 3] &= (uint8_t)~(0x80u >> (p & 7));
		}
		for (int r = 0; r < size; r++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
}

int qr_render_png(const struct qr_matrix *m, int size, int margin, struct buf *out,
		  struct esim_err *err)
{
	struct png_job *job;
	png_structp png;
	png_infop info;
	size_t rowbytes, start = out->len;
	int w = matrix_width(m);
	long long n;

	if (!w)
		return esim_fail(err, ESIM_E_OTHER, "cannot write PNG: empty QR matrix");
	if (size < 1)
		return esim_fail(err, ESIM_E_USAGE, "QR module size must be at least 1 px, not %d",
				 size);
	if (margin < 0)
		return esim_fail(err, ESIM_E_USAGE, "QR margin must not be negative, not %d",
				 margin);
	n = (long long)w + 2LL * margin;
	if (n > QR_PNG_MAX_SIDE || n * size > QR_PNG_MAX_SIDE) {
		esim_fail(err, ESIM_E_USAGE, "PNG of %lld modules at %d px each is too large "
			  "(maximum %d px per side)", n, size, QR_PNG_MAX_SIDE);
		return esim_hint(err, "use a smaller --size or --margin");
	}
	rowbytes = ((size_t)(n * size) + 7) / 8;

	job = xcalloc(1, sizeof(*job) + rowbytes);
	job->rowbytes = rowbytes;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job, png_error_cb, png_warning_cb);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		free(job);
		return esim_fail(err, ESIM_E_OTHER, "cannot write PNG: out of memory");
	}
	png_set_write_fn(png, out, png_write_cb, png_flush_cb);

	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		esim_fail(err, ESIM_E_OTHER, "cannot write PNG: %s", job->msg);
		secure_wipe(job->row, rowbytes);
		free(job);
		out->len = start;            /* drop the partial image */
		if (out->alloc)
			out->buf[start] = '\0';
		return -1;
	}
	png_write_body(png, info, m, w, size, margin, job);
	png_destroy_write_struct(&png, &info);
	secure_wipe(job->row, rowbytes);
	free(job);
	return 0;
}
