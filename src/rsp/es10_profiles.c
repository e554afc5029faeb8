/*
 * es10_profiles.c - ES10b/c notifications and profile management: ListNotification,
 * RetrieveNotificationsList, RemoveNotificationFromList, GetProfilesInfo, Enable,
 * Disable, Delete, SetNickname, eUICCMemoryReset, GetRAT.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esimctl/der.h"
#include "esimctl/es10.h"
#include "esimctl/ids.h"
#include "rsp/es10_internal.h"

/* ------------------------------------------------------------------------------------ */
/* Notifications (SGP.22 §5.7.9-§5.7.11).                                              */

/*
 * A list response BFxx { A0 { items } | 81 error }: *list is the A0 node, or *code the
 * error (list untouched).  -1 when it is neither.
 */
static int list_or_error(const struct der_node *top, struct der_node *list, int *code)
{
	struct der_node alt;

	*code = -1;
	if (es10_only_child(top, &alt) < 0)
		return -1;
	if (alt.tag == 0xA0) {
		*list = alt;
		return 0;
	}
	if (alt.tag == 0x81 && es10_get_int(&alt, code) == 0)
		return 0;
	return -1;
}

static int parse_notifications(const uint8_t *p, size_t len, struct es10_notification **out,
			       size_t *count, int *code, const char **why)
{
	struct es10_notification *v = NULL;
	struct der_node top, list, n;
	struct der_iter it;
	size_t alloc = 0, k = 0;
	int r;

	*out = NULL;
	*count = 0;
	*why = "not a BF28 list";
	if (es10_parse_top(p, len, TAG_LIST_NOTIFICATION, &top) < 0 ||
	    list_or_error(&top, &list, code) < 0)
		return -1;
	if (*code >= 0)
		return 0;
	*why = "bad NotificationMetadata";
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (k == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		if (es10_parse_metadata(&n, &v[k]) < 0)
			goto fail;
		k++;
	}
	if (r < 0)
		goto fail;
	*out = v;
	*count = k;
	return 0;
fail:
	free(v);
	return -1;
}

int es10_parse_notifications(const uint8_t *tlv, size_t len, struct es10_notification **out,
			     size_t *n, struct esim_err *err)
{
	const char *why;
	int code;

	if (parse_notifications(tlv, len, out, n, &code, &why) < 0)
		return es10_malformed(err, "ListNotification", why);
	if (code >= 0)
		return es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_LIST_NOTIFICATION,
				 "ListNotification", "list notifications", code);
	return 0;
}

int es10_list_notifications(struct es10_ctx *ctx, unsigned events, struct es10_notification **out,
			    size_t *n, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	const char *why;
	size_t mark;
	int ret = -1, code;

	*out = NULL;
	*n = 0;
	if (events & ~ES10_EVENT_ALL)
		return esim_fail(err, ESIM_E_USAGE, "notification filter: unknown event bits");
	mark = der_begin(&req, TAG_LIST_NOTIFICATION);
	if (events)
		es10_put_bits(&req, 0x81, events);
	der_end(&req, mark);
	if (es10_command(ctx, &req, &resp, TAG_LIST_NOTIFICATION, &top, err) < 0)
		goto out;
	if (parse_notifications((const uint8_t *)resp.buf, resp.len, out, n, &code, &why) < 0) {
		es10_malformed(err, "ListNotification", why);
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_LIST_NOTIFICATION, "ListNotification",
			  "list notifications", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

/* seqNumber of a PendingNotification: BF37 { BF27 { BF2F } } or 30 { BF2F }. */
static int pending_seq(const struct der_node *item, uint64_t *seq)
{
	struct der_node n = *item, md, s;

	if (item->tag == TAG_PIR) {
		if (der_find(item, TAG_PIR_DATA, &n) != 1)
			return -1;
	} else if (item->tag != 0x30) {
		return -1;
	}
	if (der_find(&n, TAG_NOTIFICATION_METADATA, &md) != 1 || der_find(&md, 0x80, &s) != 1 ||
	    der_get_uint(&s, seq) < 0)
		return -1;
	return 0;
}

int es10_retrieve_notification(struct es10_ctx *ctx, uint64_t seq, struct buf *tlv_out,
			       struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top, list, n;
	struct der_iter it;
	size_t mark, inner, items = 0;
	uint64_t s;
	int ret = -1, code, r, found = 0;

	buf_reset(tlv_out);
	mark = der_begin(&req, TAG_RETRIEVE_NOTIFICATIONS);
	inner = der_begin(&req, 0xA0);
	der_put_uint(&req, 0x80, seq);
	der_end(&req, inner);
	der_end(&req, mark);
	if (es10_command(ctx, &req, &resp, TAG_RETRIEVE_NOTIFICATIONS, &top, err) < 0)
		goto out;
	if (list_or_error(&top, &list, &code) < 0) {
		es10_malformed(err, "RetrieveNotificationsList", "not a list");
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		es10_code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC,
			  ES10_CODE_RETRIEVE_NOTIFICATION, "RetrieveNotificationsList",
			  "retrieve the notification", code);
		goto out;
	}
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		items++;
		if (pending_seq(&n, &s) < 0) {
			es10_malformed(err, "RetrieveNotificationsList", "bad PendingNotification");
			goto out;
		}
		if (s == seq && !found) {
			buf_add(tlv_out, n.tlv, n.tlv_len);     /* exact bytes, never re-encoded */
			found = 1;
		}
	}
	if (r < 0) {
		es10_malformed(err, "RetrieveNotificationsList", "bad contents");
		goto out;
	}
	if (!found) {
		if (items)
			es10_malformed(err, "RetrieveNotificationsList", "other notifications returned");
		else
			esim_fail(err, ESIM_E_NOTFOUND, "no notification with sequence number %"
				  PRIu64 " on the eUICC", seq);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		buf_reset(tlv_out);
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_remove_notification(struct es10_ctx *ctx, uint64_t seq, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	char subject[64];
	size_t mark;
	int ret = -1, code;

	mark = der_begin(&req, TAG_REMOVE_NOTIFICATION);
	der_put_uint(&req, 0x80, seq);
	der_end(&req, mark);
	if (es10_command(ctx, &req, &resp, TAG_REMOVE_NOTIFICATION, &top, err) < 0 ||
	    es10_get_result(ctx, &resp, TAG_REMOVE_NOTIFICATION, "RemoveNotificationFromList", &code,
		       err) < 0)
		goto out;
	if (code != 0) {
		snprintf(subject, sizeof(subject), "remove notification %" PRIu64, seq);
		es10_code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC,
			  ES10_CODE_REMOVE_NOTIFICATION, "RemoveNotificationFromList", subject,
			  code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* Profiles.                                                                           */

static void profile_clear(struct es10_profile *p)
{
	size_t i;

	free(p->nickname);
	free(p->spn);
	free(p->name);
	for (i = 0; i < p->notif_count; i++)
		free(p->notif[i].address);
	free(p->notif);
	memset(p, 0, sizeof(*p));
}

void es10_profiles_free(struct es10_profile *p, size_t n)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < n; i++)
		profile_clear(&p[i]);
	free(p);
}

static void set_text(char **dst, const struct der_node *n)
{
	free(*dst);
	*dst = es10_dup_text(n);
}

/* notificationConfigurationInfo B6 { 30 { 80 events, 81 address } * } */
static int parse_notif_config(const struct der_node *b6, struct es10_profile *p)
{
	struct der_iter it;
	struct der_node n, ev, addr;
	char address[ES10_ADDRESS_MAX + 1];
	size_t alloc = 0, i;
	int r;

	for (i = 0; i < p->notif_count; i++)    /* a repeated B6 replaces the first */
		free(p->notif[i].address);
	free(p->notif);
	p->notif = NULL;
	p->notif_count = 0;
	der_iter_init(&it, b6);
	while ((r = der_iter_next(&it, &n)) == 1) {
		unsigned events;

		if (n.tag != 0x30 || der_find(&n, 0x80, &ev) != 1 || es10_get_bits(&ev, &events) < 0 ||
		    der_find(&n, 0x81, &addr) != 1 || es10_get_address(&addr, address) < 0)
			return -1;
		if (p->notif_count == alloc) {
			alloc = alloc ? 2 * alloc : 4;
			p->notif = xrealloc(p->notif, alloc * sizeof(*p->notif));
		}
		p->notif[p->notif_count].events = events;
		p->notif[p->notif_count].address = xstrdup(address);
		p->notif_count++;
	}
	return r;
}

/* mccMnc, 3 bytes as in TS 24.008: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1.  Cosmetic only. */
static void decode_mccmnc(const struct der_node *n, char out[7])
{
	unsigned d[6];
	size_t k = 0, i;

	out[0] = '\0';
	if (n->len != 3)
		return;
	d[0] = n->value[0] & 0xF;
	d[1] = n->value[0] >> 4;
	d[2] = n->value[1] & 0xF;
	d[3] = n->value[2] & 0xF;
	d[4] = n->value[2] >> 4;
	d[5] = n->value[1] >> 4;
	for (i = 0; i < 6; i++) {
		if (i == 5 && d[i] == 0xF)
			break;          /* two-digit MNC */
		if (d[i] > 9) {
			out[0] = '\0';
			return;
		}
		out[k++] = (char)('0' + d[i]);
	}
	out[k] = '\0';
}

static int parse_profile(const struct der_node *e3, struct es10_profile *p)
{
	struct der_iter it;
	struct der_node n, owner;
	int r, v;

	memset(p, 0, sizeof(*p));
	p->state = ES10_STATE_UNKNOWN;
	p->profile_class = ES10_CLASS_OPERATIONAL;
	p->icon_type = ES10_ICON_NONE;
	if (e3->tag != TAG_PROFILE_INFO)
		return -1;
	der_iter_init(&it, e3);
	while ((r = der_iter_next(&it, &n)) == 1) {
		switch (n.tag) {
		case 0x5A:
			if (es10_get_iccid(&n, p->iccid) < 0)
				return -1;
			break;
		case 0x4F: {
			struct buf hex = BUF_INIT;

			if (n.len < 1 || n.len > 16)
				return -1;
			hex_encode(n.value, n.len, &hex);
			memcpy(p->aid, hex.buf, hex.len + 1);
			buf_release(&hex);
			break;
		}
		case TAG_PROFILE_STATE:
			if (es10_get_int(&n, &v) < 0)
				return -1;
			p->state = v == 0 || v == 1 ? v : ES10_STATE_UNKNOWN;
			break;
		case 0x90:
			set_text(&p->nickname, &n);
			break;
		case 0x91:
			set_text(&p->spn, &n);
			break;
		case 0x92:
			set_text(&p->name, &n);
			break;
		case 0x93:
			if (es10_get_int(&n, &v) < 0)
				return -1;
			p->icon_type = v == 0 || v == 1 ? v : ES10_ICON_NONE;
			break;
		case 0x95:
			if (es10_get_int(&n, &v) < 0)
				return -1;
			p->profile_class = v <= 2 ? v : ES10_CLASS_UNKNOWN;
			break;
		case 0xB6:
			if (parse_notif_config(&n, p) < 0)
				return -1;
			break;
		case 0xB7:
			r = der_find(&n, 0x80, &owner);
			if (r < 0)
				return -1;
			if (r == 1)
				decode_mccmnc(&owner, p->owner_mccmnc);
			break;
		case 0x99:
			if (es10_get_bits(&n, &p->pprs) < 0)
				return -1;
			break;
		default:
			break;          /* icon, dpProprietaryData, access rules... */
		}
	}
	return r;
}

static int parse_profiles(const uint8_t *tlv, size_t len, struct es10_profile **out, size_t *count,
			  int *code, const char **why)
{
	struct es10_profile *v = NULL;
	struct der_node top, list, n;
	struct der_iter it;
	size_t alloc = 0, k = 0;
	int r;

	*out = NULL;
	*count = 0;
	*why = "not a BF2D list";
	if (es10_parse_top(tlv, len, TAG_PROFILES_INFO, &top) < 0 ||
	    list_or_error(&top, &list, code) < 0)
		return -1;
	if (*code >= 0)
		return 0;
	*why = "bad ProfileInfo";
	der_iter_init(&it, &list);
	while ((r = der_iter_next(&it, &n)) == 1) {
		if (k == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		k++;
		if (parse_profile(&n, &v[k - 1]) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	*out = v;
	*count = k;
	return 0;
fail:
	es10_profiles_free(v, k);
	return -1;
}

int es10_parse_profiles(const uint8_t *tlv, size_t len, struct es10_profile **out, size_t *n,
			struct esim_err *err)
{
	const char *why;
	int code;

	if (parse_profiles(tlv, len, out, n, &code, &why) < 0)
		return es10_malformed(err, "GetProfilesInfo", why);
	if (code >= 0)
		return es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_PROFILES_INFO, "GetProfilesInfo",
				 "list profiles", code);
	return 0;
}

int es10_get_profiles_query(struct es10_ctx *ctx, const char *iccid, const uint8_t *tags,
			    size_t tags_len, struct es10_profile **out, size_t *n,
			    struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	uint8_t bcd[10];
	const char *why;
	size_t mark, crit;
	int ret = -1, code;

	*out = NULL;
	*n = 0;
	if (iccid && es10_iccid_arg(iccid, bcd, err) < 0)
		return -1;
	mark = der_begin(&req, TAG_PROFILES_INFO);
	if (iccid) {
		crit = der_begin(&req, 0xA0);
		der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
		der_end(&req, crit);
	}
	if (tags)
		der_put_tlv(&req, 0x5C, tags, tags_len);
	der_end(&req, mark);
	if (es10_command(ctx, &req, &resp, TAG_PROFILES_INFO, &top, err) < 0)
		goto out;
	if (parse_profiles((const uint8_t *)resp.buf, resp.len, out, n, &code, &why) < 0) {
		es10_malformed(err, "GetProfilesInfo", why);
		goto out;
	}
	if (code >= 0) {
		ctx->last_result = code;
		es10_code_fail(err, ESIM_E_EUICC, ES10_CODE_PROFILES_INFO, "GetProfilesInfo",
			  "list profiles", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_get_profiles(struct es10_ctx *ctx, struct es10_profile **out, size_t *n,
		      struct esim_err *err)
{
	return es10_get_profiles_query(ctx, NULL, es10_profile_tags, sizeof(es10_profile_tags),
				       out, n, err);
}

/* Enable / Disable / Delete / SetNickname: send req, check BFxx { 80 result }. */
static int profile_op(struct es10_ctx *ctx, const struct buf *req, uint32_t tag,
		      enum es10_code_kind kind, const char *fn, const char *verb, const char *iccid,
		      struct esim_err *err)
{
	struct buf resp = BUF_INIT;
	struct der_node top;
	char subject[64];
	int ret = -1, code;

	if (es10_command(ctx, req, &resp, tag, &top, err) < 0 ||
	    es10_get_result(ctx, &resp, tag, fn, &code, err) < 0)
		goto out;
	if (code != 0) {
		snprintf(subject, sizeof(subject), "%s profile %s", verb, iccid);
		es10_code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC, kind, fn, subject, code);
		if (kind == ES10_CODE_DELETE && code == 2)
			esim_hint(err, "disable the profile first");
		else if (code == 5)
			esim_hint(err, "try again in a moment");
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	return ret;
}

static int enable_disable(struct es10_ctx *ctx, uint32_t tag, const char *iccid, int refresh,
			  struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10], flag = refresh ? 0xFF : 0x00;
	size_t mark, id;
	int ret;

	if (es10_iccid_arg(iccid, bcd, err) < 0)
		return -1;
	/* profileIdentifier is an untagged CHOICE, hence A0 { 5A ... } (SGP.22 §5.7.16, §5.7.17). */
	mark = der_begin(&req, tag);
	id = der_begin(&req, 0xA0);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_end(&req, id);
	der_put_tlv(&req, 0x81, &flag, 1);
	der_end(&req, mark);
	if (tag == TAG_ENABLE)
		ret = profile_op(ctx, &req, tag, ES10_CODE_ENABLE, "EnableProfile", "enable",
				 iccid, err);
	else
		ret = profile_op(ctx, &req, tag, ES10_CODE_DISABLE, "DisableProfile", "disable",
				 iccid, err);
	buf_release(&req);
	return ret;
}

int es10_enable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err)
{
	return enable_disable(ctx, TAG_ENABLE, iccid, refresh, err);
}

int es10_disable(struct es10_ctx *ctx, const char *iccid, int refresh, struct esim_err *err)
{
	return enable_disable(ctx, TAG_DISABLE, iccid, refresh, err);
}

int es10_delete(struct es10_ctx *ctx, const char *iccid, struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10];
	size_t mark;
	int ret;

	if (es10_iccid_arg(iccid, bcd, err) < 0)
		return -1;
	/* DeleteProfileRequest is the bare CHOICE: no A0, no refresh flag (SGP.22 §5.7.18). */
	mark = der_begin(&req, TAG_DELETE);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_end(&req, mark);
	ret = profile_op(ctx, &req, TAG_DELETE, ES10_CODE_DELETE, "DeleteProfile", "delete",
			 iccid, err);
	buf_release(&req);
	return ret;
}

int es10_set_nickname(struct es10_ctx *ctx, const char *iccid, const char *nickname,
		      struct esim_err *err)
{
	struct buf req = BUF_INIT;
	uint8_t bcd[10];
	size_t mark, len;
	int ret;

	if (es10_iccid_arg(iccid, bcd, err) < 0)
		return -1;
	len = nickname ? strlen(nickname) : 0;
	if (!nickname || len > ES10_NICKNAME_MAX)
		return esim_fail(err, ESIM_E_USAGE, "nickname: must be at most %d bytes",
				 ES10_NICKNAME_MAX);
	mark = der_begin(&req, TAG_SET_NICKNAME);
	der_put_tlv(&req, 0x5A, bcd, sizeof(bcd));
	der_put_tlv(&req, 0x90, nickname, len);
	der_end(&req, mark);
	ret = profile_op(ctx, &req, TAG_SET_NICKNAME, ES10_CODE_SET_NICKNAME, "SetNickname",
			 "set the nickname of", iccid, err);
	buf_release(&req);
	return ret;
}

int es10_memory_reset(struct es10_ctx *ctx, unsigned options, struct esim_err *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct der_node top;
	size_t mark;
	int ret = -1, code;

	if (options == 0 || (options & ~ES10_RESET_ALL))
		return esim_fail(err, ESIM_E_USAGE, "memory reset: no or unknown options");
	mark = der_begin(&req, TAG_MEMORY_RESET);
	es10_put_bits(&req, 0x82, options);
	der_end(&req, mark);
	if (es10_command(ctx, &req, &resp, TAG_MEMORY_RESET, &top, err) < 0 ||
	    es10_get_result(ctx, &resp, TAG_MEMORY_RESET, "eUICCMemoryReset", &code, err) < 0)
		goto out;
	if (code != 0) {
		es10_code_fail(err, code == 1 ? ESIM_E_NOTFOUND : ESIM_E_EUICC, ES10_CODE_MEMORY_RESET,
			  "eUICCMemoryReset", "reset the eUICC memory", code);
		goto out;
	}
	ret = 0;
out:
	buf_release(&resp);
	buf_release(&req);
	return ret;
}

int es10_get_rat(struct es10_ctx *ctx, struct buf *tlv, struct esim_err *err)
{
	struct der_node top;

	if (es10_simple_get(ctx, TAG_RAT, tlv, &top, err) < 0)
		goto fail;
	if (es10_check_children(&top) < 0) {
		es10_malformed(err, "GetRAT", "bad contents");
		goto fail;
	}
	return 0;
fail:
	buf_reset(tlv);
	return -1;
}

