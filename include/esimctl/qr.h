/*
 * qr.h - QR codes for activation codes, rendered offline.
 *
 * qr_encode() wraps libqrencode (8-bit or alphanumeric mode chosen by libqrencode from
 * the text; case is preserved so the decoded bytes equal the input exactly).
 * Renderers write into a struct buf; the caller decides where the bytes go.
 */
#ifndef ESIMCTL_QR_H
#define ESIMCTL_QR_H

#include <stdint.h>
#include "esimctl/buf.h"
#include "esimctl/error.h"

enum qr_level { QR_LEVEL_L, QR_LEVEL_M, QR_LEVEL_Q, QR_LEVEL_H };

struct qr_matrix {
	int width;         /* modules per side, without quiet zone */
	uint8_t *cells;    /* width*width, 1 = dark */
};

int qr_level_parse(const char *s, enum qr_level *out); /* "L","M","Q","H" (any case) */
int qr_encode(const char *text, enum qr_level level, struct qr_matrix *out, struct esim_err *err);
void qr_matrix_free(struct qr_matrix *m);

/*
 * Terminal: Unicode half blocks, two module rows per character row, with a quiet zone
 * of `margin` modules (ISO/IEC 18004 asks for 4; a smaller one is the caller's choice).
 * The style says which modules the characters draw (in the terminal's foreground colour):
 *   QR_TERM_LIGHT_BG  the dark modules: for dark text on a light background (files, pipes);
 *   QR_TERM_ANSI      the dark modules, black on an explicit white background (SGR 30;47),
 *                     so the code scans on dark and light themes alike;
 *   QR_TERM_DARK_BG   the light modules and the quiet zone, without colours (NO_COLOR):
 *                     light text on a dark background then shows the code the right way
 *                     round, dark modules on a light quiet zone.
 */
enum qr_term_style { QR_TERM_LIGHT_BG = 0, QR_TERM_ANSI = 1, QR_TERM_DARK_BG = 2 };
void qr_render_term(const struct qr_matrix *m, int margin, int style, struct buf *out);
/* Columns the terminal rendering takes: the width with its quiet zone. */
int qr_term_columns(const struct qr_matrix *m, int margin);
/* SVG text: one <path> of dark modules, `size` px per module, `margin` modules quiet zone. */
void qr_render_svg(const struct qr_matrix *m, int size, int margin, struct buf *out);
/* PNG (libpng, 1-bit grayscale), `size` px per module. */
int qr_render_png(const struct qr_matrix *m, int size, int margin, struct buf *out,
		  struct esim_err *err);

#endif
