/*
 * secrets.c - the registry of known secrets and secret_mask() (see secrets.h).
 *
 * Entries are upper-cased copies (matching IDs are upper case, SGP.22 §4.1, and a server
 * may quote them in either case) plus the upper-case hex of their bytes.  For masking,
 * every window of SECRET_MIN_RUN characters of an entry (SECRET_MIN_HEX_RUN of a hex
 * form) goes into a set of 64-bit hashes, built when the text to mask arrives after a
 * change: masking a text of n bytes is then n lookups, whatever the number of secrets (a
 * store may hold thousands of matching IDs).  A hash collision can only mask more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esimctl/buf.h"
#include "esimctl/secrets.h"

struct entry {
	enum secret_kind kind;
	char *text;  /* upper case */
	char *hex;   /* upper-case hex of the secret's bytes */
	size_t len;
};

struct hashset {
	uint64_t *slot;  /* 0: empty */
	size_t cap, n;   /* cap: 0 or a power of two */
};

static struct entry *entries;
static size_t nentries, entries_cap;
static struct hashset wholes;      /* kind + text of every entry: no repeats */
static struct hashset grams, hexgrams;
static int grams_stale = 1;

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static uint64_t hash_upper(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)upper((unsigned char)s[i]);
		h *= UINT64_C(0x100000001b3);
	}
	return h ? h : 1;
}

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)

static void set_free(struct hashset *set)
{
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

static int set_has(const struct hashset *set, uint64_t h)
{
	if (!set->cap)
		return 0;
	for (size_t i = (size_t)h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (set->slot[i] == h)
			return 1;
		if (!set->slot[i])
			return 0;
	}
}

static void set_put(struct hashset *set, uint64_t h)
{
	size_t i;

	if ((set->n + 1) * 2 > set->cap) {
		struct hashset bigger = { xcalloc(set->cap ? set->cap * 2 : 64, sizeof(uint64_t)), 0, 0 };

		bigger.cap = set->cap ? set->cap * 2 : 64;
		for (i = 0; i < set->cap; i++)
			if (set->slot[i])
				set_put(&bigger, set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	for (i = (size_t)h & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (set->slot[i] == h)
			return;
	set->slot[i] = h;
	set->n++;
}

static uint64_t whole_hash(enum secret_kind kind, const char *s, size_t n)
{
	return hash_upper(s, n, FNV_OFFSET ^ (uint64_t)kind);
}

void secret_add(enum secret_kind kind, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	struct entry *e;
	size_t n = s ? strlen(s) : 0;
	uint64_t h;

	if (!n)
		return;
	h = whole_hash(kind, s, n);
	if (set_has(&wholes, h))
		return;
	set_put(&wholes, h);
	if (nentries == entries_cap) {
		entries_cap = entries_cap ? entries_cap * 2 : 8;
		entries = xrealloc(entries, entries_cap * sizeof(*entries));
	}
	e = &entries[nentries++];
	e->kind = kind;
	e->len = n;
	e->text = xmalloc(n + 1);
	e->hex = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		e->text[i] = (char)upper((unsigned char)s[i]);
		e->hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		e->hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	e->text[n] = '\0';
	e->hex[2 * n] = '\0';
	grams_stale = 1;
}

static void entry_wipe(struct entry *e)
{
	secure_wipe(e->text, e->len);
	secure_wipe(e->hex, 2 * e->len);
	free(e->text);
	free(e->hex);
}

static void rebuild_wholes(void)
{
	set_free(&wholes);
	for (size_t i = 0; i < nentries; i++)
		set_put(&wholes, whole_hash(entries[i].kind, entries[i].text, entries[i].len));
}

void secret_forget_kind(enum secret_kind kind)
{
	size_t out = 0;

	for (size_t i = 0; i < nentries; i++) {
		if (entries[i].kind == kind)
			entry_wipe(&entries[i]);
		else
			entries[out++] = entries[i];
	}
	if (out == nentries)
		return;
	nentries = out;
	rebuild_wholes();
	/* The hashes of a short secret's windows are as good as the secret: drop them now. */
	set_free(&grams);
	set_free(&hexgrams);
	grams_stale = 1;
}

void secret_forget_all(void)
{
	for (size_t i = 0; i < nentries; i++)
		entry_wipe(&entries[i]);
	free(entries);
	entries = NULL;
	nentries = entries_cap = 0;
	set_free(&wholes);
	set_free(&grams);
	set_free(&hexgrams);
	grams_stale = 1;
}

static void build_grams(void)
{
	set_free(&grams);
	set_free(&hexgrams);
	for (size_t i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];

		for (size_t j = 0; j + SECRET_MIN_RUN <= e->len; j++)
			set_put(&grams, hash_upper(e->text + j, SECRET_MIN_RUN, FNV_OFFSET));
		for (size_t j = 0; j + SECRET_MIN_HEX_RUN <= 2 * e->len; j += 2)
			set_put(&hexgrams, hash_upper(e->hex + j, SECRET_MIN_HEX_RUN, FNV_OFFSET));
	}
	grams_stale = 0;
}

/* Mark every window of size w of text whose hash is in set. */
static void mark_windows(const char *text, size_t n, size_t w, const struct hashset *set, unsigned char *mark)
{
	for (size_t i = 0; set->n && i + w <= n; i++)
		if (set_has(set, hash_upper(text + i, w, FNV_OFFSET)))
			memset(mark + i, 1, w);
}

static int same_upper(const char *a, const char *upper_b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (upper((unsigned char)a[i]) != (unsigned char)upper_b[i])
			return 0;
	return 1;
}

size_t secret_mask(char *text)
{
	size_t n, masked = 0;
	unsigned char *mark;

	if (!text || !nentries || !(n = strlen(text)))
		return 0;
	if (grams_stale)
		build_grams();
	mark = xcalloc(n, 1);
	mark_windows(text, n, SECRET_MIN_RUN, &grams, mark);
	mark_windows(text, n, SECRET_MIN_HEX_RUN, &hexgrams, mark);
	/* Secrets too short for a window are masked where they occur whole. */
	for (size_t k = 0; k < nentries; k++) {
		const struct entry *e = &entries[k];

		if (e->len >= SECRET_MIN_RUN)
			continue;
		for (size_t i = 0; i + e->len <= n; i++)
			if (same_upper(text + i, e->text, e->len))
				memset(mark + i, 1, e->len);
	}
	for (size_t i = 0; i < n; i++) {
		if (mark[i]) {
			text[i] = '*';
			masked++;
		}
	}
	free(mark);
	return masked;
}
