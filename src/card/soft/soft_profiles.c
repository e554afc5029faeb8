/*
 * soft_profiles.c - the software eUICC (soft.c): profile management: GetProfilesInfo, Enable, Disable, Delete, SetNickname, eUICCMemoryReset, GetRAT.
 */
#include "card/soft/soft_internal.h"

/* ---- profiles (SGP.22 §5.7.15-§5.7.18) ---- */

static struct soft_profile *profile_by_id(struct soft *s, const struct der_node *id)
{
	size_t i;

	for (i = 0; i < s->st.nprofiles; i++) {
		struct soft_profile *p = &s->st.profiles[i];

		if (id->tag == 0x5A && id->len == 10 && memcmp(id->value, p->iccid_bcd, 10) == 0)
			return p;
		if (id->tag == 0x4F && id->len == 16 && memcmp(id->value, p->aid, 16) == 0)
			return p;
	}
	return NULL;
}

static struct soft_profile *profile_enabled(struct soft *s)
{
	size_t i;

	for (i = 0; i < s->st.nprofiles; i++)
		if (s->st.profiles[i].enabled)
			return &s->st.profiles[i];
	return NULL;
}

/* Default ProfileInfo set when the request has no tagList. */
static const uint32_t default_tags[] = {
	0x5A, 0x4F, 0x9F70, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0xB6, 0xB7, 0x99,
};

static int tag_wanted(const uint32_t *tags, size_t ntags, uint32_t tag)
{
	size_t i;

	for (i = 0; i < ntags; i++)
		if (tags[i] == tag)
			return 1;
	return 0;
}

static void put_profile_info(const struct soft_profile *p, const uint32_t *tags, size_t ntags,
			     struct buf *r)
{
	size_t m = der_begin(r, 0xE3), i;
	uint8_t v;

	if (tag_wanted(tags, ntags, 0x5A))
		der_put_tlv(r, 0x5A, p->iccid_bcd, 10);
	if (tag_wanted(tags, ntags, 0x4F))
		der_put_tlv(r, 0x4F, p->aid, 16);
	if (tag_wanted(tags, ntags, 0x9F70)) {
		v = p->enabled ? 1 : 0;
		der_put_tlv(r, 0x9F70, &v, 1);
	}
	if (tag_wanted(tags, ntags, 0x90) && p->nickname)
		der_put_tlv(r, 0x90, p->nickname, strlen(p->nickname));
	if (tag_wanted(tags, ntags, 0x91))
		der_put_tlv(r, 0x91, p->spn ? p->spn : "", p->spn ? strlen(p->spn) : 0);
	if (tag_wanted(tags, ntags, 0x92))
		der_put_tlv(r, 0x92, p->name ? p->name : "", p->name ? strlen(p->name) : 0);
	if (tag_wanted(tags, ntags, 0x93) && p->icon_type >= 0)
		der_put_uint(r, 0x93, (uint64_t)p->icon_type);
	if (tag_wanted(tags, ntags, 0x94) && p->icon_type >= 0)
		der_put_tlv(r, 0x94, p->icon.buf, p->icon.len);
	if (tag_wanted(tags, ntags, 0x95))
		der_put_uint(r, 0x95, (uint64_t)p->pclass);
	if (tag_wanted(tags, ntags, 0xB6) && p->nncfg) {
		size_t b6 = der_begin(r, 0xB6);

		for (i = 0; i < p->nncfg; i++) {
			size_t e = der_begin(r, 0x30);

			soft_put_bits(r, 0x80, p->ncfg[i].events);
			der_put_tlv(r, 0x81, p->ncfg[i].address, strlen(p->ncfg[i].address));
			der_end(r, e);
		}
		der_end(r, b6);
	}
	if (tag_wanted(tags, ntags, 0xB7) && p->owner.len)
		der_put_tlv(r, 0xB7, p->owner.buf, p->owner.len);
	if (tag_wanted(tags, ntags, 0x99) && p->ppr)
		soft_put_bits(r, 0x99, p->ppr);
	der_end(r, m);
}

/*
 * GetProfilesInfo: BF2D { [A0 { 5A | 4F | 95 }] [5C tagList] } ->
 * BF2D { A0 { E3 ... } } or BF2D { 81 error }.
 */
uint16_t soft_es10_profiles_info(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node n, crit;
	uint32_t tags[64];
	size_t ntags = 0, i, m, a0;
	int have_crit = 0, have_tags = 0, rc;
	uint64_t pclass = 0;

	der_iter_init(&it, req);
	while ((rc = der_iter_next(&it, &n)) == 1) {
		if (n.tag == 0xA0 && !have_crit) {
			struct der_node extra;
			struct der_iter ic;

			der_iter_init(&ic, &n);
			if (der_iter_next(&ic, &crit) != 1 || der_iter_next(&ic, &extra) != 0)
				goto bad;
			if (crit.tag == 0x95) {
				if (der_get_uint(&crit, &pclass) < 0)
					goto bad;
			} else if (crit.tag != 0x5A && crit.tag != 0x4F) {
				goto bad;
			}
			have_crit = 1;
		} else if (n.tag == 0x5C && !have_tags) {
			size_t off = 0;

			/* A tag list: 1- or 2-byte tags back to back. */
			while (off < n.len) {
				uint32_t t = n.value[off++];

				if ((t & 0x1F) == 0x1F) {
					if (off >= n.len)
						goto bad;
					t = (t << 8) | n.value[off++];
				}
				if (ntags < sizeof(tags) / sizeof(tags[0]))
					tags[ntags++] = t;
			}
			have_tags = 1;
		} else {
			goto bad;
		}
	}
	if (rc < 0)
		goto bad;
	m = der_begin(r, 0xBF2D);
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nprofiles; i++) {
		const struct soft_profile *p = &s->st.profiles[i];

		if (have_crit) {
			if (crit.tag == 0x95 && (uint64_t)p->pclass != pclass)
				continue;
			if (crit.tag == 0x5A && (crit.len != 10 || memcmp(crit.value, p->iccid_bcd, 10)))
				continue;
			if (crit.tag == 0x4F && (crit.len != 16 || memcmp(crit.value, p->aid, 16)))
				continue;
		}
		if (ntags)
			put_profile_info(p, tags, ntags, r);
		else
			put_profile_info(p, default_tags,
					 sizeof(default_tags) / sizeof(default_tags[0]), r);
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
bad:
	m = der_begin(r, 0xBF2D);
	der_put_uint(r, 0x81, 1);       /* incorrectInputValues */
	der_end(r, m);
	return SW_OK;
}

/* The profile identifier of Enable/Disable: A0 { 5A | 4F }, then 81 refreshFlag. */
static int parse_profile_ref(const struct der_node *req, struct der_node *id)
{
	struct der_iter it, ia;
	struct der_node a0, extra, refresh;
	int rc;

	der_iter_init(&it, req);
	if (soft_next_child(&it, 0xA0, &a0) < 0)
		return -1;
	der_iter_init(&ia, &a0);
	if (der_iter_next(&ia, id) != 1 || (id->tag != 0x5A && id->tag != 0x4F) ||
	    der_iter_next(&ia, &extra) != 0)
		return -1;
	rc = der_iter_next(&it, &refresh);
	if (rc < 0 || (rc == 1 && (refresh.tag != 0x81 || refresh.len != 1)))
		return -1;
	if (rc == 1 && der_iter_next(&it, &extra) != 0)
		return -1;
	return 0;
}

/*
 * State changes (SGP.22 §5.7.16-§5.7.18).  Persisting is the commit point: on a failed write the
 * in-memory state is reloaded from the file so that memory and file never disagree.
 */

static uint16_t commit(struct soft *s, struct buf *r, uint32_t tag, int result)
{
	if (soft_persist(s) < 0) {
		soft_reload_state(s);
		return SW_MEMORY_FAILURE;
	}
	return soft_simple_result(r, tag, result);
}

uint16_t soft_es10_enable(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node id;
	struct soft_profile *p, *cur;

	if (parse_profile_ref(req, &id) < 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return soft_simple_result(r, 0xBF31, 1);
	if (p->enabled)
		return soft_simple_result(r, 0xBF31, 2);
	cur = profile_enabled(s);
	if (cur && (cur->ppr & (1u << PPR1)))
		return soft_simple_result(r, 0xBF31, 3);
	if (cur) {
		cur->enabled = 0;
		if (soft_notify_other(s, cur, EV_DISABLE) < 0)
			goto fail;
	}
	p->enabled = 1;
	if (soft_notify_other(s, p, EV_ENABLE) < 0)
		goto fail;
	return commit(s, r, 0xBF31, 0);
fail:
	soft_reload_state(s);
	return SW_UNKNOWN;
}

uint16_t soft_es10_disable(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node id;
	struct soft_profile *p;

	if (parse_profile_ref(req, &id) < 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return soft_simple_result(r, 0xBF32, 1);
	if (!p->enabled)
		return soft_simple_result(r, 0xBF32, 2);
	if (p->ppr & (1u << PPR1))
		return soft_simple_result(r, 0xBF32, 3);
	p->enabled = 0;
	if (soft_notify_other(s, p, EV_DISABLE) < 0) {
		soft_reload_state(s);
		return SW_UNKNOWN;
	}
	return commit(s, r, 0xBF32, 0);
}

static void profile_remove(struct soft *s, struct soft_profile *p)
{
	size_t i = (size_t)(p - s->st.profiles);

	soft_profile_clear(p);
	memmove(&s->st.profiles[i], &s->st.profiles[i + 1],
		(s->st.nprofiles - i - 1) * sizeof(*p));
	s->st.nprofiles--;
}

/* DeleteProfile: BF33 { 5A iccid } or BF33 { 4F aid } (a bare CHOICE). */
uint16_t soft_es10_delete(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node id, extra;
	struct soft_profile *p;

	der_iter_init(&it, req);
	if (der_iter_next(&it, &id) != 1 || (id.tag != 0x5A && id.tag != 0x4F) ||
	    der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return soft_simple_result(r, 0xBF33, 1);
	if (p->enabled)
		return soft_simple_result(r, 0xBF33, 2);
	if (p->ppr & (1u << PPR2))
		return soft_simple_result(r, 0xBF33, 3);
	if (soft_notify_other(s, p, EV_DELETE) < 0) {
		soft_reload_state(s);
		return SW_UNKNOWN;
	}
	profile_remove(s, p);
	return commit(s, r, 0xBF33, 0);
}

/* SetNickname: BF29 { 5A iccid, 90 nickname } */
uint16_t soft_es10_set_nickname(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_iter it;
	struct der_node id, nick, extra;
	struct soft_profile *p;

	der_iter_init(&it, req);
	if (soft_next_child(&it, 0x5A, &id) < 0 || id.len != 10 || soft_next_child(&it, 0x90, &nick) < 0 ||
	    nick.len > 64 || !soft_node_is_text(&nick) || der_iter_next(&it, &extra) != 0)
		return SW_WRONG_DATA;
	if (!(p = profile_by_id(s, &id)))
		return soft_simple_result(r, 0xBF29, 1);
	free(p->nickname);
	p->nickname = nick.len ? soft_node_strdup(&nick) : NULL;
	return commit(s, r, 0xBF29, 0);
}

/* eUICCMemoryReset: BF34 { 82 resetOptions } */
uint16_t soft_es10_memory_reset(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node opt;
	unsigned bits;
	size_t i;
	int changed = 0;

	if (der_find(req, 0x82, &opt) != 1 || soft_get_bits(&opt, &bits) < 0)
		return SW_WRONG_DATA;
	for (i = s->st.nprofiles; i-- > 0;) {
		struct soft_profile *p = &s->st.profiles[i];

		if (((bits & 1u) && p->pclass == CLASS_OPERATIONAL) ||
		    ((bits & 2u) && p->pclass == CLASS_TEST)) {
			profile_remove(s, p);
			changed = 1;
		}
	}
	if ((bits & 4u) && s->st.default_dp) {
		free(s->st.default_dp);
		s->st.default_dp = NULL;
		changed = 1;
	}
	soft_session_reset(s);
	if (!changed)
		return soft_simple_result(r, 0xBF34, 1);
	return commit(s, r, 0xBF34, 0);
}

/* GetRAT: no rules authorised. */
uint16_t soft_es10_get_rat(struct soft *s, const struct der_node *req, struct buf *r)
{
	size_t m, a0;

	(void)s;
	(void)req;
	m = der_begin(r, 0xBF43);
	a0 = der_begin(r, 0xA0);
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* ListNotification: BF28 { [81 events] } -> BF28 { A0 { BF2F ... } } */
uint16_t soft_es10_list_notifications(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node ev;
	unsigned mask = ~0u;
	size_t i, m, a0;
	int rc = der_find(req, 0x81, &ev);

	if (rc < 0 || (rc == 1 && soft_get_bits(&ev, &mask) < 0))
		return SW_WRONG_DATA;
	m = der_begin(r, 0xBF28);
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nnotifs; i++) {
		const struct soft_notif *n = &s->st.notifs[i];
		struct der_node meta;

		if (!(mask & (1u << n->event)))
			continue;
		if (soft_notif_stored_meta(n, &meta) == 0) {
			buf_add(r, meta.tlv, meta.tlv_len);
		} else {
			uint8_t bcd[10];
			int has = n->iccid[0] && iccid_to_bcd(n->iccid, bcd) == 0;

			soft_notif_meta(r, n->seq, n->event, n->address, has ? bcd : NULL);
		}
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* RetrieveNotificationsList: BF2B { [A0 { 80 seq | 81 events }] } */
uint16_t soft_es10_retrieve_notifications(struct soft *s, const struct der_node *req,
					    struct buf *r)
{
	struct der_node a0n, crit, extra;
	struct der_iter it;
	unsigned mask = ~0u;
	uint64_t seq = 0;
	int by_seq = 0, rc = der_find(req, 0xA0, &a0n), found = 0;
	size_t i, m, a0;

	if (rc < 0)
		return SW_WRONG_DATA;
	if (rc == 1) {
		der_iter_init(&it, &a0n);
		if (der_iter_next(&it, &crit) != 1 || der_iter_next(&it, &extra) != 0)
			return SW_WRONG_DATA;
		if (crit.tag == 0x80) {
			if (der_get_uint(&crit, &seq) < 0)
				return SW_WRONG_DATA;
			by_seq = 1;
		} else if (crit.tag != 0x81 || soft_get_bits(&crit, &mask) < 0) {
			return SW_WRONG_DATA;
		}
	}
	for (i = 0; i < s->st.nnotifs; i++)
		if (by_seq ? s->st.notifs[i].seq == seq : !!(mask & (1u << s->st.notifs[i].event)))
			found++;
	m = der_begin(r, 0xBF2B);
	if (by_seq && !found) {
		der_put_uint(r, 0x81, 1);       /* noResultAvailable */
		der_end(r, m);
		return SW_OK;
	}
	a0 = der_begin(r, 0xA0);
	for (i = 0; i < s->st.nnotifs; i++) {
		const struct soft_notif *n = &s->st.notifs[i];

		if (by_seq ? n->seq == seq : !!(mask & (1u << n->event)))
			buf_add(r, n->der.buf, n->der.len);
	}
	der_end(r, a0);
	der_end(r, m);
	return SW_OK;
}

/* RemoveNotificationFromList: BF30 { 80 seq } -> BF30 { 80 ok 0 | nothingToDelete 1 } */
uint16_t soft_es10_remove_notification(struct soft *s, const struct der_node *req, struct buf *r)
{
	struct der_node sn;
	uint64_t seq;
	size_t i;

	if (der_find(req, 0x80, &sn) != 1 || der_get_uint(&sn, &seq) < 0)
		return SW_WRONG_DATA;
	for (i = 0; i < s->st.nnotifs; i++) {
		if (s->st.notifs[i].seq != seq)
			continue;
		soft_notif_clear(&s->st.notifs[i]);
		memmove(&s->st.notifs[i], &s->st.notifs[i + 1],
			(s->st.nnotifs - i - 1) * sizeof(s->st.notifs[0]));
		s->st.nnotifs--;
		return commit(s, r, 0xBF30, 0);
	}
	return soft_simple_result(r, 0xBF30, 1);
}
