#!/usr/bin/env python3
"""termshot.py THEME IN OUT.pgm - draw terminal text made of half blocks as a terminal would.

THEME is "dark" (light grey text on a near-black background) or "light" (the reverse).
Each character cell is 4 x 8 pixels, so each half block is one 4 x 4 pixel module.  SGR
30 / 47 (black foreground, white background) and SGR 0 (theme colours) are honoured; any
other escape sequence is an error.  The text is framed by 8 cells of the theme's
background, as on a screen, and written as a binary PGM for zbarimg.
"""
import re
import sys

THEMES = {"dark": (230, 24), "light": (24, 240)}   # (foreground, background)
CW, CH, FRAME = 4, 8, 8


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in THEMES:
        sys.exit("usage: termshot.py dark|light IN OUT.pgm")
    theme_fg, theme_bg = THEMES[sys.argv[1]]
    text = open(sys.argv[2], encoding="utf-8").read()
    rows = []
    for line in text.split("\n"):
        if line == "":
            continue
        fg, bg = theme_fg, theme_bg
        cells = []
        pos = 0
        for m in re.finditer(r"\x1b\[([0-9;]*)m|(.)", line):
            if m.group(1) is not None:
                for code in (m.group(1) or "0").split(";"):
                    if code in ("", "0"):
                        fg, bg = theme_fg, theme_bg
                    elif code == "30":
                        fg = 0
                    elif code == "47":
                        bg = 255
                    else:
                        sys.exit("termshot.py: unexpected SGR %s" % code)
                continue
            ch = m.group(2)
            if ch == "\x1b":
                sys.exit("termshot.py: unexpected escape sequence")
            top, bottom = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}.get(ch, (None, None))
            if top is None:
                sys.exit("termshot.py: unexpected character %r" % ch)
            cells.append((fg if top else bg, fg if bottom else bg))
        rows.append(cells)
    width = max(len(r) for r in rows) + 2 * FRAME
    height = len(rows) + 2 * FRAME
    img = bytearray([theme_bg]) * (width * CW * height * CH)
    for cy, r in enumerate(rows):
        for cx, (top, bottom) in enumerate(r):
            for py in range(CH):
                v = top if py < CH // 2 else bottom
                base = ((cy + FRAME) * CH + py) * width * CW + (cx + FRAME) * CW
                img[base:base + CW] = bytes([v]) * CW
    with open(sys.argv[3], "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (width * CW, height * CH))
        f.write(img)


main()
