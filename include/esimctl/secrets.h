/*
 * secrets.h - the secrets this process knows, and masking them in a server's text (pure).
 *
 * An SM-DP+ may quote what it was sent, or what its order holds, in the text it answers
 * with (statusCodeData.message, an HTTP Location, a status string).  esimctl echoes that
 * text on stderr, in --json and in the store's notification errors, so every piece of
 * server text goes through secret_mask() where it enters esimctl (es9p.c copy_text) before
 * anything prints or stores it.
 *
 * The registry holds private copies (wiped when forgotten, and by secret_forget_all() at
 * exit).  Masking is in place and keeps the length: each masked byte becomes '*'.
 * What is masked, case-insensitively:
 *   - every run of 8 or more characters that also occurs in a known secret (a secret
 *     quoted whole, cut short, or in another case);
 *   - every run of 16 or more hex digits that also occurs in a secret's hex encoding
 *     (a server quoting the matching ID's bytes, e.g. from the DER it received);
 *   - a secret shorter than 8 characters wherever it occurs whole.
 * Fragments shorter than that are left alone: they collide with ordinary words.
 *
 *	secret_add(SECRET_MATCHING_ID, ac.matching_id);
 *	...
 *	secret_mask(copy_of_server_text);
 */
#ifndef ESIMCTL_SECRETS_H
#define ESIMCTL_SECRETS_H

#include <stddef.h>

enum secret_kind {
	SECRET_MATCHING_ID,  /* SGP.22 §4.1: a bearer secret */
	SECRET_CC,           /* confirmation code: never stored, wiped after the download */
};

#define SECRET_MIN_RUN 8       /* characters of a secret that count as a quote */
#define SECRET_MIN_HEX_RUN 16  /* hex digits (8 bytes) of a secret's encoding */

/* Remember s (copied; empty strings and repeats are ignored). */
void secret_add(enum secret_kind kind, const char *s);
/* Wipe and forget every secret of that kind (the confirmation code after its download). */
void secret_forget_kind(enum secret_kind kind);
/* Wipe and forget everything (at exit). */
void secret_forget_all(void);
/* Mask every known secret in the NUL-terminated text; returns the bytes masked. */
size_t secret_mask(char *text);

#endif
