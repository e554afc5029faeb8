/*
 * readerpick.h - which PC/SC reader a "pcsc:READER" URI means (src/core/readerpick.c).
 *
 * Pure: the PC/SC backend (src/card/pcsc.c) lists the readers and whether each holds a
 * card, and this decides.  READER is, in this order of preference:
 *   ""      the only reader that holds a card;
 *   "#N"    the N-th reader, counted from 0 in the order pcscd lists them (the numbers
 *           pcsc_scan and opensc-tool --list-readers print);
 *   NAME    a reader whose name is exactly NAME;
 *   PART    the one reader whose name contains PART, ignoring case.
 */
#ifndef ESIMCTL_READERPICK_H
#define ESIMCTL_READERPICK_H

#include <stddef.h>

enum reader_pick {
	READER_PICK_OK = 0,        /* *chosen is the reader's index */
	READER_PICK_NO_READER,     /* there is no reader at all */
	READER_PICK_NO_CARD,       /* READER empty and no reader holds a card */
	READER_PICK_SEVERAL,       /* READER empty or a PART: several candidates (match[]) */
	READER_PICK_NO_MATCH,      /* NAME / PART matches no reader, or #N is past the end */
	READER_PICK_BAD_INDEX,     /* "#" not followed by a decimal number */
};

/*
 * names[i], has_card[i] for the n readers.  match (n entries, may be NULL) gets 1 for each
 * candidate: the readers with a card (READER empty) or whose name contains PART, so the
 * caller can list them with READER_PICK_SEVERAL.
 */
enum reader_pick reader_pick(const char *spec, const char *const *names, const int *has_card,
			     size_t n, unsigned char *match, size_t *chosen);

#endif
