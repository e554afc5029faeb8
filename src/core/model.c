/*
 * model.c - the in-memory store: enum name tables, mutators and hash indexes.
 *
 * The indexes are open-addressing tables (linear probing, FNV-1a) that hold array
 * positions, not pointers: the arrays move on realloc, the positions do not.  A lookup
 * compares against the live key in the store, so a table never owns a string.
 * Removal is rare (a device, a notification), so it rebuilds the affected table
 * instead of supporting tombstones.
 *
 * Bindings are indexed per profile and per device as chains in store order: a table
 * maps the key to the first binding, next[] links the rest and tail[] (kept for the
 * first binding of each chain) makes appends O(1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "esimctl/model.h"
#include "esimctl/sha256.h"

/* ---- enum name tables ---- */

static const char *const kind_names[DEV_KIND_COUNT] = {
	[DEV_PHONE] = "phone",
	[DEV_TABLET] = "tablet",
	[DEV_WATCH] = "watch",
	[DEV_LAPTOP] = "laptop",
	[DEV_HOTSPOT] = "hotspot",
};

static const char *const plan_names[] = {
	[PLAN_VOICE_DATA] = "voice+data",
	[PLAN_DATA_ONLY] = "data-only",
};

static const char *const state_names[] = {
	[BIND_PENDING] = "pending",
	[BIND_ACTIVE] = "active",
	[BIND_RELEASED] = "released",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int name_find(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *device_kind_name(enum device_kind k)
{
	return (unsigned)k < NELEM(kind_names) ? kind_names[k] : "unknown";
}

int device_kind_parse(const char *s, enum device_kind *out)
{
	int i = name_find(kind_names, NELEM(kind_names), s);

	if (i < 0)
		return -1;
	*out = (enum device_kind)i;
	return 0;
}

const char *plan_type_name(enum plan_type p)
{
	return (unsigned)p < NELEM(plan_names) ? plan_names[p] : "unknown";
}

int plan_type_parse(const char *s, enum plan_type *out)
{
	int i = name_find(plan_names, NELEM(plan_names), s);

	if (i < 0)
		return -1;
	*out = (enum plan_type)i;
	return 0;
}

const char *binding_state_name(enum binding_state s)
{
	return (unsigned)s < NELEM(state_names) ? state_names[s] : "unknown";
}

int binding_state_parse(const char *s, enum binding_state *out)
{
	int i = name_find(state_names, NELEM(state_names), s);

	if (i < 0)
		return -1;
	*out = (enum binding_state)i;
	return 0;
}

int device_kind_data_only(enum device_kind k)
{
	return k == DEV_LAPTOP || k == DEV_HOTSPOT;
}

int device_kind_companion(enum device_kind k)
{
	return k == DEV_WATCH;
}

/* ---- hash indexes ---- */

enum ikey {
	K_DEVICE,       /* devices[i].name, unique */
	K_PROFILE_ID,   /* profiles[i].id, unique */
	K_ICCID,        /* profiles[i].iccid, may repeat */
	K_NICKNAME,     /* profiles[i].nickname, may repeat (resolve reports it) */
	K_BIND_PROFILE, /* first binding of each profile's chain */
	K_BIND_DEVICE,  /* first binding of each device's chain */
	K_COUNT
};

struct hslot {
	uint32_t hash;
	uint32_t val; /* array position + 1; 0 = empty slot */
};

struct htab {
	struct hslot *slots;
	size_t cap; /* power of two, or 0 */
	size_t count;
};

enum { CHAIN_PROFILE, CHAIN_DEVICE, CHAIN_COUNT };

struct model_index {
	struct htab t[K_COUNT];
	size_t *next[CHAIN_COUNT]; /* next binding + 1 in the chain, 0 = end */
	size_t *tail[CHAIN_COUNT]; /* valid at the first binding of a chain */
	size_t achain;             /* allocated length of next[] and tail[] */
	/* Shown ids per profile position, built on first use and dropped on any change. */
	char (*shown)[PROFILE_ID_LEN + 1];
};

static void shown_drop(struct model_index *x)
{
	if (x) {
		free(x->shown);
		x->shown = NULL;
	}
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

static const char *key_of(const struct store *s, enum ikey k, size_t i)
{
	switch (k) {
	case K_DEVICE:
		return i < s->ndevices ? s->devices[i].name : NULL;
	case K_PROFILE_ID:
		return i < s->nprofiles ? s->profiles[i].id : NULL;
	case K_ICCID:
		return i < s->nprofiles ? s->profiles[i].iccid : NULL;
	case K_NICKNAME:
		return i < s->nprofiles ? s->profiles[i].nickname : NULL;
	case K_BIND_PROFILE:
		return i < s->nbindings ? s->bindings[i].profile : NULL;
	case K_BIND_DEVICE:
		return i < s->nbindings ? s->bindings[i].device : NULL;
	case K_COUNT:
		break;
	}
	return NULL;
}

static void htab_clear(struct htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
	t->count = 0;
}

static void htab_put_slot(struct htab *t, uint32_t hash, uint32_t val)
{
	size_t mask = t->cap - 1;
	size_t i = hash & mask;

	while (t->slots[i].val)
		i = (i + 1) & mask;
	t->slots[i].hash = hash;
	t->slots[i].val = val;
	t->count++;
}

static void htab_reserve(struct htab *t, size_t want)
{
	struct hslot *old = t->slots;
	size_t oldcap = t->cap;
	size_t cap = t->cap ? t->cap : 16;

	/* Keep the load factor at or below 1/2 so probe chains stay short. */
	while (cap / 2 < want)
		cap *= 2;
	if (cap == t->cap)
		return;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->cap = cap;
	t->count = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].val)
			htab_put_slot(t, old[i].hash, old[i].val);
	free(old);
}

/*
 * Position + 1 of the next entry whose key equals `key`, continuing the probe after
 * *cursor (start with *cursor = SIZE_MAX); 0 when there are no more.
 */
static size_t htab_next(const struct store *s, enum ikey k, const char *key, uint32_t hash,
			size_t *cursor)
{
	const struct htab *t = &s->idx->t[k];
	size_t mask, i;

	if (!t->cap)
		return 0;
	mask = t->cap - 1;
	i = *cursor == SIZE_MAX ? (hash & mask) : ((*cursor + 1) & mask);
	for (;; i = (i + 1) & mask) {
		const struct hslot *sl = &t->slots[i];
		const char *kk;

		if (!sl->val)
			return 0;
		if (sl->hash != hash)
			continue;
		kk = key_of(s, k, sl->val - 1);
		if (kk && strcmp(kk, key) == 0) {
			*cursor = i;
			return sl->val;
		}
	}
}

static size_t linear_find(const struct store *s, enum ikey k, const char *key, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *kk = key_of(s, k, i);

		if (kk && strcmp(kk, key) == 0)
			return i + 1;
	}
	return 0;
}

/* Position + 1 of the first entry with this key, 0 when absent. */
static size_t index_find(const struct store *s, enum ikey k, const char *key)
{
	size_t cursor = SIZE_MAX;

	if (!key)
		return 0;
	if (!s->idx) {
		/* A store not made by model_new(): correct, just slower. */
		size_t n = k == K_DEVICE ? s->ndevices
			 : k >= K_BIND_PROFILE ? s->nbindings : s->nprofiles;
		return linear_find(s, k, key, n);
	}
	return htab_next(s, k, key, fnv1a(key), &cursor);
}

static void index_insert(struct store *s, enum ikey k, size_t pos, int unique)
{
	const char *key = key_of(s, k, pos);
	struct htab *t = &s->idx->t[k];
	uint32_t h;

	if (!key)
		return;
	if (pos >= UINT32_MAX - 1)
		abort(); /* four billion entries do not fit any store file */
	h = fnv1a(key);
	if (unique) {
		size_t cursor = SIZE_MAX;

		if (htab_next(s, k, key, h, &cursor))
			return; /* the first one wins, as in a linear scan */
	}
	htab_reserve(t, t->count + 1);
	htab_put_slot(t, h, (uint32_t)(pos + 1));
}

static void chain_reserve(struct model_index *x, size_t n)
{
	size_t a = x->achain ? x->achain : 16;

	if (n <= x->achain)
		return;
	while (a < n)
		a *= 2;
	for (int c = 0; c < CHAIN_COUNT; c++) {
		x->next[c] = xrealloc(x->next[c], a * sizeof(size_t));
		x->tail[c] = xrealloc(x->tail[c], a * sizeof(size_t));
	}
	x->achain = a;
}

static void index_add_binding(struct store *s, size_t pos)
{
	static const enum ikey keys[CHAIN_COUNT] = { K_BIND_PROFILE, K_BIND_DEVICE };
	struct model_index *x = s->idx;

	chain_reserve(x, pos + 1);
	for (int c = 0; c < CHAIN_COUNT; c++) {
		const char *key = key_of(s, keys[c], pos);
		size_t head;

		x->next[c][pos] = 0;
		x->tail[c][pos] = pos;
		if (!key)
			continue;
		head = index_find(s, keys[c], key);
		if (head && head - 1 != pos) {
			x->next[c][x->tail[c][head - 1]] = pos + 1;
			x->tail[c][head - 1] = pos;
		} else {
			index_insert(s, keys[c], pos, 1);
		}
	}
}

static void index_rebuild_table(struct store *s, enum ikey k)
{
	size_t n = k == K_DEVICE ? s->ndevices : s->nprofiles;

	htab_clear(&s->idx->t[k]);
	htab_reserve(&s->idx->t[k], n);
	for (size_t i = 0; i < n; i++)
		index_insert(s, k, i, k == K_DEVICE || k == K_PROFILE_ID);
}

static void index_free(struct model_index *x)
{
	if (!x)
		return;
	for (int k = 0; k < K_COUNT; k++)
		htab_clear(&x->t[k]);
	for (int c = 0; c < CHAIN_COUNT; c++) {
		free(x->next[c]);
		free(x->tail[c]);
	}
	shown_drop(x);
	free(x);
}

void model_reindex(struct store *s)
{
	index_free(s->idx);
	s->idx = xcalloc(1, sizeof(*s->idx));
	index_rebuild_table(s, K_DEVICE);
	index_rebuild_table(s, K_PROFILE_ID);
	index_rebuild_table(s, K_ICCID);
	index_rebuild_table(s, K_NICKNAME);
	htab_reserve(&s->idx->t[K_BIND_PROFILE], s->nprofiles);
	for (size_t i = 0; i < s->nbindings; i++)
		index_add_binding(s, i);
}

static void ensure_index(struct store *s)
{
	if (!s->idx)
		model_reindex(s);
}

/* ---- lifetime ---- */

struct store *model_new(void)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->schema = STORE_SCHEMA;
	s->idx = xcalloc(1, sizeof(*s->idx));
	return s;
}

/* Drop a record's string: a pooled one stays until the pool goes, a malloc()ed one is freed. */
static void str_drop(struct store *s, char *str)
{
	if (str && !strpool_owns(&s->strings, str))
		free(str);
}

char *model_strdup(struct store *s, const char *str)
{
	return strpool_dup(&s->strings, str);
}

void model_set_str(struct store *s, char **field, const char *value)
{
	char *old = *field;

	*field = model_strdup(s, value);
	str_drop(s, old);
}

static void device_clear(struct store *s, struct device *d)
{
	str_drop(s, d->name);
	str_drop(s, d->platform);
	str_drop(s, d->eid);
	str_drop(s, d->imei);
	str_drop(s, d->euicc);
	str_drop(s, d->isdr_aid);
}

static void profile_clear(struct store *s, struct profile *p)
{
	str_drop(s, p->iccid);
	str_drop(s, p->carrier);
	str_drop(s, p->nickname);
	str_drop(s, p->provider);
	str_drop(s, p->profile_name);
	str_drop(s, p->profile_class);
	str_drop(s, p->review);
	actcode_packed_free(p->ac);
}

static void binding_clear(struct store *s, struct binding *b)
{
	str_drop(s, b->profile);
	str_drop(s, b->device);
}

static void history_clear(struct store *s, struct history_entry *h)
{
	str_drop(s, h->op);
	str_drop(s, h->profile);
	str_drop(s, h->from);
	str_drop(s, h->to);
	str_drop(s, h->outcome);
	str_drop(s, h->detail);
}

static void notification_clear(struct store *s, struct pending_notification *n)
{
	str_drop(s, n->device);
	str_drop(s, n->event);
	str_drop(s, n->address);
	str_drop(s, n->iccid);
	str_drop(s, n->data_b64);
	str_drop(s, n->last_error);
}

void model_free(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndevices; i++)
		device_clear(s, &s->devices[i]);
	for (size_t i = 0; i < s->nprofiles; i++)
		profile_clear(s, &s->profiles[i]);
	for (size_t i = 0; i < s->nbindings; i++)
		binding_clear(s, &s->bindings[i]);
	for (size_t i = 0; i < s->nhistory; i++)
		history_clear(s, &s->history[i]);
	for (size_t i = 0; i < s->nnotifications; i++)
		notification_clear(s, &s->notifications[i]);
	free(s->devices);
	free(s->profiles);
	free(s->bindings);
	free(s->history);
	free(s->notifications);
	index_free(s->idx);
	strpool_release(&s->strings);
	free(s);
}

/* Room for exactly n elements in *arr (element size sz), when it has less. */
static void *reserve(void *arr, size_t n, size_t *alloc, size_t sz)
{
	if (n <= *alloc)
		return arr;
	if (n > SIZE_MAX / sz)
		abort();
	arr = xrealloc(arr, n * sz);
	*alloc = n;
	return arr;
}

void model_reserve(struct store *s, size_t ndevices, size_t nprofiles, size_t nbindings,
		   size_t nhistory, size_t nnotifications)
{
	s->devices = reserve(s->devices, s->ndevices + ndevices, &s->adevices, sizeof(*s->devices));
	s->profiles = reserve(s->profiles, s->nprofiles + nprofiles, &s->aprofiles,
			      sizeof(*s->profiles));
	s->bindings = reserve(s->bindings, s->nbindings + nbindings, &s->abindings,
			      sizeof(*s->bindings));
	s->history = reserve(s->history, s->nhistory + nhistory, &s->ahistory, sizeof(*s->history));
	s->notifications = reserve(s->notifications, s->nnotifications + nnotifications,
				   &s->anotifications, sizeof(*s->notifications));
	ensure_index(s);
	htab_reserve(&s->idx->t[K_DEVICE], s->ndevices + ndevices);
	htab_reserve(&s->idx->t[K_PROFILE_ID], s->nprofiles + nprofiles);
	htab_reserve(&s->idx->t[K_ICCID], s->nprofiles + nprofiles);
	htab_reserve(&s->idx->t[K_NICKNAME], s->nprofiles + nprofiles);
	htab_reserve(&s->idx->t[K_BIND_PROFILE], s->nprofiles + nprofiles);
	htab_reserve(&s->idx->t[K_BIND_DEVICE], s->ndevices + ndevices);
	chain_reserve(s->idx, s->nbindings + nbindings);
}

/* Grow *arr (element size sz) so that it holds n + 1 elements. */
static void *grow(void *arr, size_t n, size_t *alloc, size_t sz)
{
	size_t a;

	if (n < *alloc)
		return arr;
	a = *alloc ? *alloc : 8;
	while (a <= n)
		a *= 2;
	if (a > SIZE_MAX / sz)
		abort();
	arr = xrealloc(arr, a * sz);
	*alloc = a;
	return arr;
}

/* ---- lookups ---- */

struct device *model_device(const struct store *s, const char *name)
{
	size_t pos = index_find(s, K_DEVICE, name);

	return pos ? &s->devices[pos - 1] : NULL;
}

struct profile *model_profile_by_id(const struct store *s, const char *id)
{
	size_t pos = index_find(s, K_PROFILE_ID, id);

	return pos ? &s->profiles[pos - 1] : NULL;
}

/* ---- mutators ---- */

struct device *model_add_device(struct store *s, const struct device *d)
{
	size_t pos = s->ndevices;

	ensure_index(s);
	s->devices = grow(s->devices, pos, &s->adevices, sizeof(*s->devices));
	s->devices[pos] = *d;
	s->ndevices++;
	index_insert(s, K_DEVICE, pos, 1);
	return &s->devices[pos];
}

int model_remove_device(struct store *s, const char *name)
{
	size_t pos = index_find(s, K_DEVICE, name);

	if (!pos)
		return -1;
	pos--;
	device_clear(s, &s->devices[pos]);
	memmove(&s->devices[pos], &s->devices[pos + 1],
		(s->ndevices - pos - 1) * sizeof(*s->devices));
	s->ndevices--;
	ensure_index(s);
	index_rebuild_table(s, K_DEVICE);
	return 0;
}

struct profile *model_add_profile(struct store *s, const struct profile *p)
{
	size_t pos = s->nprofiles;

	ensure_index(s);
	s->profiles = grow(s->profiles, pos, &s->aprofiles, sizeof(*s->profiles));
	s->profiles[pos] = *p;
	s->profiles[pos].id[PROFILE_ID_LEN] = '\0';
	s->nprofiles++;
	shown_drop(s->idx);
	index_insert(s, K_PROFILE_ID, pos, 1);
	index_insert(s, K_ICCID, pos, 0);
	index_insert(s, K_NICKNAME, pos, 0);
	return &s->profiles[pos];
}

void model_set_iccid(struct store *s, struct profile *p, const char *iccid)
{
	model_set_str(s, &p->iccid, iccid);
	ensure_index(s);
	shown_drop(s->idx);
	index_rebuild_table(s, K_ICCID);
}

void model_set_nickname(struct store *s, struct profile *p, const char *nickname)
{
	model_set_str(s, &p->nickname, nickname);
	ensure_index(s);
	shown_drop(s->idx);
	index_rebuild_table(s, K_NICKNAME);
}

struct binding *model_add_binding(struct store *s, const struct binding *b)
{
	size_t pos = s->nbindings;

	ensure_index(s);
	s->bindings = grow(s->bindings, pos, &s->abindings, sizeof(*s->bindings));
	s->bindings[pos] = *b;
	s->nbindings++;
	index_add_binding(s, pos);
	return &s->bindings[pos];
}

void model_add_history(struct store *s, int64_t t, const char *op, const char *profile,
		       const char *from, const char *to, const char *outcome, const char *detail)
{
	struct history_entry *h;

	s->history = grow(s->history, s->nhistory, &s->ahistory, sizeof(*s->history));
	h = &s->history[s->nhistory++];
	h->time = t;
	h->op = model_strdup(s, op);
	h->profile = model_strdup(s, profile);
	h->from = model_strdup(s, from);
	h->to = model_strdup(s, to);
	h->outcome = model_strdup(s, outcome);
	h->detail = model_strdup(s, detail);
}

struct pending_notification *model_add_notification(struct store *s,
						     const struct pending_notification *n)
{
	size_t pos = s->nnotifications;

	s->notifications = grow(s->notifications, pos, &s->anotifications,
				sizeof(*s->notifications));
	s->notifications[pos] = *n;
	s->nnotifications++;
	return &s->notifications[pos];
}

void model_remove_notification(struct store *s, size_t i)
{
	if (i >= s->nnotifications)
		return;
	notification_clear(s, &s->notifications[i]);
	memmove(&s->notifications[i], &s->notifications[i + 1],
		(s->nnotifications - i - 1) * sizeof(*s->notifications));
	s->nnotifications--;
}

/* ---- bindings ---- */

static size_t live_bindings(const struct store *s, int chain, enum ikey k, const char *key,
			    struct binding ***out)
{
	size_t head, n = 0, i;
	struct binding **v;

	*out = NULL;
	head = index_find(s, k, key);
	if (!head)
		return 0;
	if (!s->idx) {
		/* Unindexed store: scan. */
		for (i = 0; i < s->nbindings; i++) {
			const char *kk = key_of(s, k, i);

			if (kk && !strcmp(kk, key) && s->bindings[i].state != BIND_RELEASED)
				n++;
		}
		if (!n)
			return 0;
		v = xmalloc(n * sizeof(*v));
		n = 0;
		for (i = 0; i < s->nbindings; i++) {
			const char *kk = key_of(s, k, i);

			if (kk && !strcmp(kk, key) && s->bindings[i].state != BIND_RELEASED)
				v[n++] = &s->bindings[i];
		}
		*out = v;
		return n;
	}
	for (i = head; i; i = s->idx->next[chain][i - 1])
		if (s->bindings[i - 1].state != BIND_RELEASED)
			n++;
	if (!n)
		return 0;
	v = xmalloc(n * sizeof(*v));
	n = 0;
	for (i = head; i; i = s->idx->next[chain][i - 1])
		if (s->bindings[i - 1].state != BIND_RELEASED)
			v[n++] = &s->bindings[i - 1];
	*out = v;
	return n;
}

size_t model_live_bindings_of_profile(const struct store *s, const char *profile_id,
				      struct binding ***out)
{
	return live_bindings(s, CHAIN_PROFILE, K_BIND_PROFILE, profile_id, out);
}

size_t model_live_bindings_of_device(const struct store *s, const char *device,
				     struct binding ***out)
{
	return live_bindings(s, CHAIN_DEVICE, K_BIND_DEVICE, device, out);
}

int model_profile_ever_bound(const struct store *s, const char *profile_id)
{
	return index_find(s, K_BIND_PROFILE, profile_id) != 0;
}

int model_has_primary_phone(const struct store *s)
{
	for (size_t i = 0; i < s->ndevices; i++)
		if (s->devices[i].kind == DEV_PHONE && s->devices[i].primary)
			return 1;
	return 0;
}

int model_has_phone(const struct store *s)
{
	for (size_t i = 0; i < s->ndevices; i++)
		if (s->devices[i].kind == DEV_PHONE)
			return 1;
	return 0;
}

/* ---- ids and names ---- */

static void id_from_digest(const uint8_t md[32], char out[PROFILE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < PROFILE_ID_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[PROFILE_ID_LEN] = '\0';
}

void model_profile_id(const char *key, char out[PROFILE_ID_LEN + 1])
{
	uint8_t md[32];

	sha256(key, strlen(key), md);
	id_from_digest(md, out);
}

void model_profile_id_n(const char *key, unsigned n, char out[PROFILE_ID_LEN + 1])
{
	struct buf b = BUF_INIT;
	uint8_t md[32];

	if (n == 0) {
		model_profile_id(key, out);
		return;
	}
	buf_addf(&b, "%s#%u", key, n);
	sha256(b.buf, b.len, md);
	id_from_digest(md, out);
	/* The key is an activation code, whose matching ID is a bearer secret. */
	buf_wipe_release(&b);
}

static int is_lower_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int model_valid_profile_id(const char *id)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++)
		if (!is_lower_hex((unsigned char)id[n]))
			return 0;
	return n == PROFILE_ID_LEN || n == PROFILE_ID_LEGACY_LEN;
}

struct profile *model_profile_by_code(const struct store *s, const struct actcode *ac)
{
	/*
	 * Every profile is compared, not only the one at the code's id: an id is a hash
	 * prefix, so equal ids do not make equal codes, and a store written by an older
	 * esimctl (8-digit ids) or edited by hand may hold the code under another id.
	 */
	for (size_t i = 0; i < s->nprofiles; i++)
		if (s->profiles[i].ac && actcode_packed_same(s->profiles[i].ac, ac))
			return &s->profiles[i];
	return NULL;
}

void model_new_profile_id(const struct store *s, const char *canon, char out[PROFILE_ID_LEN + 1])
{
	/* Each taken id belongs to another code; there are fewer profiles than 2^32. */
	for (unsigned n = 0;; n++) {
		model_profile_id_n(canon, n, out);
		if (!model_profile_by_id(s, out))
			return;
	}
}

/* ---- shown (abbreviated) ids ---- */

struct id_pos {
	const char *id;
	size_t pos;
};

static int id_pos_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_pos *)a)->id, ((const struct id_pos *)b)->id);
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;

	while (a[n] && a[n] == b[n])
		n++;
	return n;
}

/* 1 when `name` is the ICCID or nickname of a profile other than the one at `pos`. */
static int names_other(const struct store *s, enum ikey k, const char *name, size_t pos)
{
	size_t cursor = SIZE_MAX, hit;

	while ((hit = htab_next(s, k, name, fnv1a(name), &cursor)) != 0)
		if (hit - 1 != pos)
			return 1;
	return 0;
}

/*
 * Sorted by id, the profile sharing the longest prefix with an id is one of its two
 * neighbours, so one sort gives every shown id: O(n log n) for the whole store.
 */
static void shown_build(const struct store *s)
{
	struct model_index *x = s->idx;
	struct id_pos *v = xmalloc((s->nprofiles ? s->nprofiles : 1) * sizeof(*v));
	size_t n = s->nprofiles;

	x->shown = xcalloc(n ? n : 1, sizeof(*x->shown));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct id_pos){ s->profiles[i].id, i };
	qsort(v, n, sizeof(*v), id_pos_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i].id), want = PROFILE_ID_SHOWN_MIN, lcp;
		char *out = x->shown[v[i].pos];

		if (i > 0 && (lcp = common_prefix(v[i].id, v[i - 1].id)) + 1 > want)
			want = lcp + 1;
		if (i + 1 < n && (lcp = common_prefix(v[i].id, v[i + 1].id)) + 1 > want)
			want = lcp + 1;
		for (;; want++) {
			if (want >= len) {
				/* The full id: rule 1 of model_resolve_profile() finds it. */
				memcpy(out, v[i].id, len + 1);
				break;
			}
			memcpy(out, v[i].id, want);
			out[want] = '\0';
			/* Rules 2 and 3 come before prefixes: a name that spells it wins. */
			if (!names_other(s, K_ICCID, out, v[i].pos) &&
			    !names_other(s, K_NICKNAME, out, v[i].pos))
				break;
		}
	}
	free(v);
}

const char *model_profile_shown_id(const struct store *s, const struct profile *p)
{
	size_t pos;

	if (!s->idx || p < s->profiles || p >= s->profiles + s->nprofiles)
		return p->id; /* always resolves */
	pos = (size_t)(p - s->profiles);
	if (!s->idx->shown)
		shown_build(s);
	return s->idx->shown[pos];
}

const char *model_shown_id(const struct store *s, const char *id)
{
	const struct profile *p = id ? model_profile_by_id(s, id) : NULL;

	return p ? model_profile_shown_id(s, p) : id;
}

int model_check_nickname_shape(const char *nickname, struct esim_err *err)
{
	size_t n = 0, hex = 0, digits = 0;

	if (!nickname)
		return 0;
	for (; nickname[n]; n++) {
		int c = (unsigned char)nickname[n];

		digits += c >= '0' && c <= '9';
		hex += (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}
	if (n == 0 || (digits < n && (hex < n || n < PROFILE_ID_REF_MIN)))
		return 0;
	esim_fail(err, ESIM_E_USAGE, "nickname '%s' looks like %s", nickname,
		  digits == n ? "an ICCID (digits only)" : "a profile id (hex digits only)");
	return esim_hint(err, "pick a name with a letter outside a-f (ids are %d or more hex "
			 "digits, ICCIDs are digits), e.g. '%s-x'", PROFILE_ID_REF_MIN, nickname);
}

#define DEVICE_NAME_MAX 64

int model_valid_device_name(const char *name, struct esim_err *err)
{
	size_t len;

	if (!name || !*name)
		return esim_fail(err, ESIM_E_USAGE, "device name is empty");
	len = strlen(name);
	if (len > DEVICE_NAME_MAX)
		return esim_fail(err, ESIM_E_USAGE,
				 "device name '%.20s...' is too long (%zu characters, at most %d)",
				 name, len, DEVICE_NAME_MAX);
	if (name[0] == '-')
		return esim_fail(err, ESIM_E_USAGE, "device name '%s' must not start with '-'",
				 name);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		unsigned c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		if (c >= 0x20 && c < 0x7f)
			esim_fail(err, ESIM_E_USAGE, "device name '%s': character '%c' is not allowed",
				  name, (char)c);
		else
			esim_fail(err, ESIM_E_USAGE,
				  "device name '%s': byte 0x%02x is not allowed", name, c);
		return esim_hint(err, "use letters, digits, '.', '_' and '-' (at most %d)",
				 DEVICE_NAME_MAX);
	}
	return 0;
}

/* ---- resolving a PROFILE argument ---- */

struct candidate {
	struct profile *p;
	const char *how;
};

struct candidates {
	struct candidate *v;
	size_t n, alloc;
};

static void cand_add(struct candidates *c, struct profile *p, const char *how)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].p == p)
			return;
	c->v = grow(c->v, c->n, &c->alloc, sizeof(*c->v));
	c->v[c->n].p = p;
	c->v[c->n].how = how;
	c->n++;
}

static void cand_add_all(const struct store *s, struct candidates *c, enum ikey k,
			 const char *key, const char *how)
{
	size_t cursor = SIZE_MAX, pos;

	if (!s->idx) {
		for (size_t i = 0; i < s->nprofiles; i++) {
			const char *kk = key_of(s, k, i);

			if (kk && !strcmp(kk, key))
				cand_add(c, &s->profiles[i], how);
		}
		return;
	}
	while ((pos = htab_next(s, k, key, fnv1a(key), &cursor)) != 0)
		cand_add(c, &s->profiles[pos - 1], how);
}

static int all_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return 0;
	return 1;
}

#define RESOLVE_MAX_LISTED 8

static void ambiguous(const struct store *s, const struct candidates *c, const char *ref,
		      struct esim_err *err)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "'%s' matches %zu profiles: ", ref, c->n);
	for (size_t i = 0; i < c->n && i < RESOLVE_MAX_LISTED; i++) {
		const struct profile *p = c->v[i].p;

		buf_addf(&b, "%s%s (%s", i ? ", " : "", model_profile_shown_id(s, p), c->v[i].how);
		if (!strcmp(c->v[i].how, "nickname"))
			buf_addf(&b, " %s", p->nickname);
		else if (p->nickname)
			buf_addf(&b, ", nickname %s", p->nickname);
		buf_addch(&b, ')');
	}
	if (c->n > RESOLVE_MAX_LISTED)
		buf_addf(&b, " and %zu more", c->n - RESOLVE_MAX_LISTED);
	esim_fail(err, ESIM_E_USAGE, "%s", b.buf);
	esim_hint(err, "use one of the ids shown (or the full id from 'esimctl --json list')");
	buf_release(&b);
}

int model_resolve_profile(const struct store *s, const char *ref, struct profile **out,
			  struct esim_err *err)
{
	struct candidates c = { NULL, 0, 0 };
	char lower[PROFILE_ID_LEN + 1];
	size_t len;
	int hex, ret = -1;

	*out = NULL;
	if (!ref || !*ref) {
		esim_fail(err, ESIM_E_USAGE, "empty profile reference");
		return esim_hint(err, "name a profile by id, ICCID or nickname");
	}
	len = strlen(ref);
	hex = len <= PROFILE_ID_LEN && all_hex(ref);
	if (hex)
		for (size_t i = 0; i <= len; i++)
			lower[i] = (char)((ref[i] >= 'A' && ref[i] <= 'F') ? ref[i] - 'A' + 'a' : ref[i]);

	/*
	 * One order, the first rule with a match decides (model.h): the full id, so that
	 * every profile can always be named; then the ICCID and the nickname, exactly;
	 * then id prefixes.  Nicknames that look like ids or ICCIDs are refused when set
	 * (model_check_nickname_shape()), but an old store may still hold one.
	 */
	if (hex && (*out = model_profile_by_id(s, lower)) != NULL)
		return 0;
	cand_add_all(s, &c, K_ICCID, ref, "iccid");
	if (!c.n)
		cand_add_all(s, &c, K_NICKNAME, ref, "nickname");
	if (!c.n && hex && len >= PROFILE_ID_REF_MIN) {
		for (size_t i = 0; i < s->nprofiles; i++)
			if (!strncmp(s->profiles[i].id, lower, len))
				cand_add(&c, &s->profiles[i], "id prefix");
	}

	if (c.n == 1) {
		*out = c.v[0].p;
		ret = 0;
	} else if (c.n == 0) {
		esim_fail(err, ESIM_E_NOTFOUND, "no profile matches '%s'", ref);
		if (hex && len < PROFILE_ID_REF_MIN)
			esim_hint(err, "an id prefix needs at least %d hex digits; run 'esimctl list' "
				  "to see profiles", PROFILE_ID_REF_MIN);
		else
			esim_hint(err, "run 'esimctl list' to see profiles");
	} else {
		ambiguous(s, &c, ref, err);
	}
	free(c.v);
	return ret;
}
