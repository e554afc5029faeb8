/*
 * soft.c - the software eUICC (see soft.h and docs/soft-euicc.md).
 *
 * Three layers, bottom up:
 *   - the state file (identity, profiles, notifications) in JSON, persisted after every
 *     change with atomic_write_file();
 *   - the ISD-R: ES10a/b/c functions (SGP.22 §5.7), mutual
 *     authentication (§5.7.13, §5.7.5), the BPP loader (§5.7.6, §2.5), notifications
 *     (§5.7.9-§5.7.11) and profile state rules (§5.7.16-§5.7.18);
 *   - the card edge: ISO 7816-4 logical channels, SELECT, GlobalPlatform STORE DATA
 *     chaining and 61xx / GET RESPONSE (ISO/IEC 7816-4, ETSI TS 102 221).
 *
 * Everything that arrives over transmit() is hostile: TLVs are read with der.h or the
 * incremental header reader below, and every length is checked before use.
 */
#include "card/soft/soft_internal.h"

const uint8_t soft_isdr_aid[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
};

const uint8_t soft_isdp_aid_base[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
	0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00,
};

const uint8_t soft_euicc_atr[SOFT_EUICC_ATR_LEN] = {
	0x3B, 0x9A, 0x96, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0xC7,       /* TS T0 TA1 TD1 TD2 TA3 TB3 TD3 TA4 */
	0x80, 0x31, 0xE0, 0x73, 0xF6, 0x21, 0x57, 0x82, 0x90, 0x00, /* historical bytes */
	0xEE,                                                       /* TCK */
};

const char *const soft_event_names[EV_COUNT] = { "install", "enable", "disable", "delete" };

const char *const soft_ppr_names[4] = { "update_control", "ppr1", "ppr2", "ppr3" };

const char *const soft_class_names[3] = { "test", "provisioning", "operational" };

/* ------------------------------------------------------------------------------------ */
/* small helpers */

/*
 * Incremental TLV header reader: the same rules as der.h (tags of 1..3 bytes, definite
 * lengths of 1..4 bytes) but telling "need more bytes" (0) apart from "malformed" (-1).
 */
int soft_tlv_header(const uint8_t *p, size_t n, uint32_t *tag, size_t *len, size_t *hdrlen)
{
	size_t i, tl, ln, v = 0;
	uint32_t t;

	if (n < 1)
		return 0;
	t = p[0];
	tl = 1;
	if ((p[0] & 0x1F) == 0x1F) {
		for (i = 1;; i++) {
			if (i >= 3)
				return -1;
			if (i >= n)
				return 0;
			if (i == 1 && p[1] == 0x80)
				return -1;
			t = (t << 8) | p[i];
			if (!(p[i] & 0x80))
				break;
		}
		if (i == 1 && p[1] < 0x1F)
			return -1;
		tl = i + 1;
	}
	if (tl >= n)
		return 0;
	if (p[tl] < 0x80) {
		v = p[tl];
		ln = 1;
	} else {
		ln = p[tl] & 0x7F;
		if (ln == 0 || ln > 4)
			return -1;
		if (tl + ln >= n)
			return 0;
		for (i = 1; i <= ln; i++)
			v = (v << 8) | p[tl + i];
		ln++;
	}
	*tag = t;
	*len = v;
	*hdrlen = tl + ln;
	return 1;
}

/* Drop the first n bytes of b. */
void soft_buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		if (b->alloc)
			secure_wipe(b->buf, b->len);
		buf_reset(b);
		return;
	}
	memmove(b->buf, b->buf + n, b->len - n);
	b->len -= n;
	secure_wipe(b->buf + b->len, n);
	b->buf[b->len] = '\0';
}

/* NotificationEvent / PPR style BIT STRING <-> bit mask (bit 0 = first named bit). */
void soft_put_bits(struct buf *b, uint32_t tag, unsigned mask)
{
	uint8_t v[5] = { 0 };
	int top = -1, i;
	size_t nbytes;

	for (i = 0; i < 32; i++)
		if (mask & (1u << i))
			top = i;
	if (top < 0) {
		der_put_tlv(b, tag, v, 1);
		return;
	}
	nbytes = (size_t)top / 8 + 1;
	v[0] = (uint8_t)(nbytes * 8 - (size_t)top - 1);
	for (i = 0; i <= top; i++)
		if (mask & (1u << i))
			v[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	der_put_tlv(b, tag, v, nbytes + 1);
}

/* Bits beyond 31 are ignored.  -1 on a malformed BIT STRING. */
int soft_get_bits(const struct der_node *n, unsigned *mask)
{
	size_t i;
	unsigned m = 0;

	if (n->len < 1 || n->value[0] > 7 || (n->len == 1 && n->value[0] != 0))
		return -1;
	for (i = 0; i + 1 < n->len && i < 4; i++) {
		unsigned byte = n->value[1 + i];
		int bit;

		if (i + 2 == n->len)
			byte &= 0xFFu << n->value[0];
		for (bit = 0; bit < 8; bit++)
			if (byte & (0x80u >> bit))
				m |= 1u << (i * 8 + (size_t)bit);
	}
	*mask = m;
	return 0;
}

/* Dotted OID text -> DER content octets (no tag/length). */
int soft_oid_encode(const char *dotted, struct buf *out)
{
	uint64_t arcs[32];
	size_t n = 0, i;
	const char *p = dotted;

	while (*p) {
		uint64_t v = 0;

		if (n == 32 || *p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (v > (UINT64_C(1) << 56))
				return -1;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		arcs[n++] = v;
		if (*p == '.') {
			p++;
			if (!*p)
				return -1;
		} else if (*p) {
			return -1;
		}
	}
	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
		return -1;
	arcs[1] += arcs[0] * 40;
	for (i = 1; i < n; i++) {
		uint8_t tmp[10];
		size_t k = 0;
		uint64_t v = arcs[i];

		do {
			tmp[k++] = (uint8_t)(v & 0x7F);
			v >>= 7;
		} while (v);
		while (k--)
			buf_addch(out, tmp[k] | (k ? 0x80 : 0));
	}
	return 0;
}

/* ProfileHeader iccid [3]: plain BCD (no nibble swap), F padding at the end. */
int soft_plain_bcd_iccid(const uint8_t *in, size_t len, char out[21])
{
	size_t i, n = 0;
	int padding = 0;

	if (len != 10)
		return -1;
	for (i = 0; i < 20; i++) {
		unsigned nib = i % 2 ? in[i / 2] & 0xF : in[i / 2] >> 4;

		if (nib == 0xF) {
			padding = 1;
			continue;
		}
		if (nib > 9 || padding)
			return -1;
		out[n++] = (char)('0' + nib);
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

char *soft_node_strdup(const struct der_node *n)
{
	return xstrndup((const char *)n->value, n->len);
}

/* 1 when the node holds printable UTF-8-ish text without NUL bytes. */
int soft_node_is_text(const struct der_node *n)
{
	return memchr(n->value, 0, n->len) == NULL;
}

int soft_event_from_name(const char *s)
{
	int i;

	for (i = 0; i < EV_COUNT; i++)
		if (strcmp(s, soft_event_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* session */

static void load_init(struct load *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->pend, 0);
	buf_init(&l->plain, 0);
	buf_init(&l->pe, 0);
	soft_profile_init(&l->meta);
	l->stage = L_BF36;
}

static void load_reset(struct load *l)
{
	buf_wipe_release(&l->pend);
	buf_wipe_release(&l->plain);
	buf_wipe_release(&l->pe);
	bsp_wipe(&l->bsp);
	soft_profile_clear(&l->meta);
	load_init(l);
}

static void session_init(struct session *se)
{
	memset(se, 0, sizeof(*se));
	buf_init(&se->auth_oid, 0);
	buf_init(&se->pb_oid, 0);
	load_init(&se->load);
}

/* Forget the RSP session: challenge, transaction, one-time key, BSP keys. */
void soft_session_reset(struct soft *s)
{
	struct session *se = &s->sess;

	load_reset(&se->load);
	buf_release(&se->auth_oid);
	buf_release(&se->pb_oid);
	rsp_cert_free(se->dppb);
	rsp_key_free(se->otsk);
	secure_wipe(se, sizeof(*se));
	session_init(se);
}

int soft_persist(struct soft *s)
{
	struct esim_err e = { 0 };

	return soft_state_write(s->path, &s->st, &e);
}

int soft_txid_equal(const struct session *se, const struct der_node *n)
{
	return n->len == se->txid_len && se->txid_len > 0 &&
	       memcmp(n->value, se->txid, n->len) == 0;
}

/* ------------------------------------------------------------------------------------ */
/* ES10 dispatch */

typedef uint16_t (*es10_fn)(struct soft *s, const struct der_node *req, struct buf *r);

static const struct {
	uint32_t tag;
	es10_fn fn;
} es10_table[] = {
	{ 0xBF20, soft_es10_info1 },
	{ 0xBF21, soft_es10_prepare_download },
	{ 0xBF22, soft_es10_info2 },
	{ 0xBF28, soft_es10_list_notifications },
	{ 0xBF29, soft_es10_set_nickname },
	{ 0xBF2B, soft_es10_retrieve_notifications },
	{ 0xBF2D, soft_es10_profiles_info },
	{ 0xBF2E, soft_es10_challenge },
	{ 0xBF30, soft_es10_remove_notification },
	{ 0xBF31, soft_es10_enable },
	{ 0xBF32, soft_es10_disable },
	{ 0xBF33, soft_es10_delete },
	{ 0xBF34, soft_es10_memory_reset },
	{ 0xBF38, soft_es10_authenticate_server },
	{ 0xBF3C, soft_es10_addresses },
	{ 0xBF3E, soft_es10_get_eid },
	{ 0xBF3F, soft_es10_set_default_dp },
	{ 0xBF41, soft_es10_cancel_session },
	{ 0xBF43, soft_es10_get_rat },
};

/* Tags that only occur as LoadBoundProfilePackage segments (SGP.22 §5.7.6). */
static int is_bpp_segment(uint32_t tag)
{
	return (tag >= 0xA0 && tag <= 0xA3) || (tag >= 0x86 && tag <= 0x88);
}

static uint16_t es10_dispatch(struct soft *s, const uint8_t *req, size_t len, struct buf *r)
{
	struct session *se = &s->sess;
	struct der_node top;
	uint32_t tag = 0;
	size_t vlen, hl, i;
	int h = soft_tlv_header(req, len, &tag, &vlen, &hl);

	if (se->stage == SESS_LOADING && (se->load.pend.len > 0 || (h == 1 && is_bpp_segment(tag))))
		return soft_load_feed(s, req, len, r);
	if (h != 1)
		return SW_WRONG_DATA;
	if (tag == 0xBF36) {
		/* A new package while one is loading ends the first one. */
		if (se->stage == SESS_LOADING)
			return soft_pir_finish(s, NULL, soft_stage_cmd(se->load.stage), PIR_INTERRUPTION, r);
		if (se->stage != SESS_PREPARED)
			return SW_COND_NOT_SATISFIED;
		se->stage = SESS_LOADING;
		load_reset(&se->load);
		return soft_load_feed(s, req, len, r);
	}
	if (is_bpp_segment(tag))
		return SW_COND_NOT_SATISFIED;   /* no package is being loaded */
	if (der_parse(req, len, &top) < 0)
		return SW_WRONG_DATA;
	for (i = 0; i < sizeof(es10_table) / sizeof(es10_table[0]); i++)
		if (es10_table[i].tag == tag)
			return es10_table[i].fn(s, &top, r);
	return SW_REF_NOT_FOUND;
}

/* ------------------------------------------------------------------------------------ */
/* card edge: ISO 7816-4 / ETSI TS 102 221 §11.1.17 / GlobalPlatform STORE DATA */

static void chan_init(struct channel *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->in, 0);
	buf_init(&c->out, 0);
}

static void chan_reset(struct channel *c)
{
	buf_wipe_release(&c->in);
	buf_wipe_release(&c->out);
	chan_init(c);
}

static void power_up(struct soft *s)
{
	size_t i;

	for (i = 0; i < MAX_CHANNELS; i++)
		chan_reset(&s->ch[i]);
	s->ch[0].open = 1;
	soft_session_reset(s);
}

/* Short responses go out directly when the command had Le; the rest through 61xx. */
static uint16_t respond(struct channel *c, struct buf *resp, int has_le, unsigned le,
			uint8_t *rx, size_t *n)
{
	size_t ne = le ? le : 256;

	if (resp->len == 0)
		return SW_OK;
	if (has_le && resp->len <= ne) {
		memcpy(rx, resp->buf, resp->len);
		*n = resp->len;
		return SW_OK;
	}
	buf_wipe_release(&c->out);
	c->out = *resp;
	buf_init(resp, 0);
	c->out_off = 0;
	return (uint16_t)(0x6100 | (c->out.len >= 256 ? 0 : c->out.len));
}

static uint16_t apdu_manage_channel(struct soft *s, unsigned ch, uint8_t p1, uint8_t p2,
				    size_t lc, uint8_t *rx, size_t *n)
{
	unsigned k;

	if (lc)
		return SW_WRONG_LENGTH;
	if (p1 == 0x00) {
		if (p2 == 0) {
			for (k = 1; k < MAX_CHANNELS && s->ch[k].open; k++)
				;
			if (k == MAX_CHANNELS)
				return SW_FUNC_NOT_SUPPORTED;
		} else {
			k = p2;
			if (k >= MAX_CHANNELS || s->ch[k].open)
				return SW_WRONG_P1P2;
		}
		chan_reset(&s->ch[k]);
		s->ch[k].open = 1;
		if (p2 == 0) {
			rx[0] = (uint8_t)k;
			*n = 1;
		}
		return SW_OK;
	}
	if (p1 == 0x80) {
		k = p2 ? p2 : ch;
		if (k == 0 || k >= MAX_CHANNELS)
			return SW_WRONG_P1P2;
		if (!s->ch[k].open)
			return SW_CHANNEL_NOT_SUPPORTED;
		chan_reset(&s->ch[k]);
		return SW_OK;
	}
	return SW_WRONG_P1P2;
}

static uint16_t apdu_select(struct channel *c, uint8_t p1, uint8_t p2, const uint8_t *data,
			    size_t lc, int has_le, unsigned le, uint8_t *rx, size_t *n)
{
	struct buf fci = BUF_INIT;
	size_t m, a5;
	uint16_t sw;
	static const uint8_t max_len = 0xFF;

	if (p1 != 0x04 || (p2 != 0x00 && p2 != 0x04 && p2 != 0x0C))
		return SW_WRONG_P1P2;
	if (lc < 5 || lc > 16)
		return lc ? SW_FILE_NOT_FOUND : SW_WRONG_LENGTH;
	/* Full AID or a (GlobalPlatform partial-selection) prefix of it. */
	if (memcmp(data, soft_isdr_aid, lc) != 0)
		return SW_FILE_NOT_FOUND;
	buf_wipe_release(&c->in);
	c->in_active = 0;
	c->selected = 1;
	if (p2 == 0x0C)
		return SW_OK;
	m = der_begin(&fci, 0x6F);
	der_put_tlv(&fci, 0x84, soft_isdr_aid, sizeof(soft_isdr_aid));
	a5 = der_begin(&fci, 0xA5);
	der_put_tlv(&fci, 0x9F65, &max_len, 1);
	der_end(&fci, a5);
	der_end(&fci, m);
	sw = respond(c, &fci, has_le, le, rx, n);
	buf_release(&fci);
	return sw;
}

static uint16_t apdu_store_data(struct soft *s, struct channel *c, uint8_t p1, uint8_t p2,
				const uint8_t *data, size_t lc, int has_le, unsigned le,
				uint8_t *rx, size_t *n)
{
	struct buf resp = BUF_INIT;
	uint16_t sw;

	if (!c->selected)
		return SW_COND_NOT_SATISFIED;
	if ((p1 & 0x7F) != 0x11)
		return SW_WRONG_P1P2;
	if (!lc)
		return SW_WRONG_LENGTH;
	if (c->in_active && p2 == c->next_p2) {
		/* the next block of the command being assembled */
	} else if (p2 == 0) {
		buf_wipe_release(&c->in);
		c->in_active = 1;
	} else {
		buf_wipe_release(&c->in);
		c->in_active = 0;
		return SW_WRONG_P1P2;
	}
	if (c->in.len + lc > MAX_REQUEST) {
		buf_wipe_release(&c->in);
		c->in_active = 0;
		return SW_NOT_ENOUGH_MEMORY;
	}
	buf_add(&c->in, data, lc);
	c->next_p2 = (p2 + 1u) & 0xFF;
	if (!(p1 & 0x80))
		return SW_OK;
	c->in_active = 0;
	sw = es10_dispatch(s, (const uint8_t *)c->in.buf, c->in.len, &resp);
	buf_wipe_release(&c->in);
	if (sw == SW_OK)
		sw = respond(c, &resp, has_le, le, rx, n);
	buf_wipe_release(&resp);
	return sw;
}

static uint16_t apdu_get_response(struct channel *c, uint8_t p1, uint8_t p2, size_t lc,
				  int has_le, unsigned le, uint8_t *rx, size_t *n)
{
	size_t ne = has_le && le ? le : 256, rem, k;

	if (p1 || p2)
		return SW_WRONG_P1P2;
	if (lc)
		return SW_WRONG_LENGTH;
	if (c->out_off >= c->out.len)
		return SW_COND_NOT_SATISFIED;
	rem = c->out.len - c->out_off;
	k = rem < ne ? rem : ne;
	memcpy(rx, c->out.buf + c->out_off, k);
	*n = k;
	c->out_off += k;
	rem -= k;
	if (rem)
		return (uint16_t)(0x6100 | (rem >= 256 ? 0 : rem));
	buf_wipe_release(&c->out);
	c->out_off = 0;
	return SW_OK;
}

/*
 * An extended Le field as the short one codes it: Ne of 256 or more (00 00 is 65536) as 0
 * (256: what one R-APDU carries, the rest through 61xx), 1..255 as they are.
 */
static unsigned ext_le(const uint8_t *p)
{
	unsigned ne = (unsigned)p[0] << 8 | p[1];

	return ne == 0 || ne >= 256 ? 0 : ne;
}

/* One C-APDU; rx gets up to 256 data bytes (the caller appends SW1 SW2). */
static uint16_t apdu_process(struct soft *s, const uint8_t *tx, size_t txlen, uint8_t *rx,
			     size_t *n)
{
	uint8_t cla, ins, p1, p2;
	const uint8_t *data = NULL;
	size_t lc = 0;
	int has_le = 0, proprietary;
	unsigned le = 0, ch;
	struct channel *c;

	*n = 0;
	if (txlen < 4)
		return SW_WRONG_LENGTH;
	cla = tx[0];
	ins = tx[1];
	p1 = tx[2];
	p2 = tx[3];
	if (txlen == 5) {
		has_le = 1;
		le = tx[4];
	} else if (txlen > 5 && tx[4] != 0) {
		lc = tx[4];
		if (txlen == 6 + lc) {
			has_le = 1;
			le = tx[5 + lc];
		} else if (txlen != 5 + lc) {
			return SW_WRONG_LENGTH;
		}
		data = tx + 5;
	} else if (txlen > 5) {
		/* Extended length (ISO 7816-4 §5.1), as the ATR advertises: 00 then 2-byte fields. */
		if (txlen < 7)
			return SW_WRONG_LENGTH;
		if (txlen == 7) {
			has_le = 1;
			le = ext_le(tx + 5);
		} else {
			lc = (size_t)tx[5] << 8 | tx[6];
			if (lc == 0)
				return SW_WRONG_LENGTH;
			if (txlen == 9 + lc) {
				has_le = 1;
				le = ext_le(tx + 7 + lc);
			} else if (txlen != 7 + lc) {
				return SW_WRONG_LENGTH;
			}
			data = tx + 7;
		}
	}
	if (cla == 0xFF || (cla & 0x60) == 0x20)
		return SW_CLA_NOT_SUPPORTED;
	proprietary = (cla & 0x80) != 0;
	if (cla & 0x40) {
		ch = 4u + (cla & 0x0Fu);
		if (cla & 0x20)
			return SW_SM_NOT_SUPPORTED;
	} else {
		ch = cla & 0x03u;
		if (cla & 0x0C)
			return SW_SM_NOT_SUPPORTED;
	}
	if (cla & 0x10)
		return SW_CHAINING_NOT_SUPPORTED;
	if (ch >= MAX_CHANNELS || !s->ch[ch].open)
		return SW_CHANNEL_NOT_SUPPORTED;
	c = &s->ch[ch];
	if (ins != 0xC0) {
		/* Any other command drops an unfetched response (ISO 7816-4). */
		buf_wipe_release(&c->out);
		c->out_off = 0;
	}
	switch (ins) {
	case 0x70:
		if (proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_manage_channel(s, ch, p1, p2, lc, rx, n);
	case 0xA4:
		if (proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_select(c, p1, p2, data, lc, has_le, le, rx, n);
	case 0xE2:
		if (!proprietary)
			return SW_CLA_NOT_SUPPORTED;
		return apdu_store_data(s, c, p1, p2, data, lc, has_le, le, rx, n);
	case 0xC0:
		return apdu_get_response(c, p1, p2, lc, has_le, le, rx, n);
	case 0xAA:
		/* TERMINAL CAPABILITY: accepted, nothing to remember. */
		return proprietary ? SW_OK : SW_CLA_NOT_SUPPORTED;
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}

/* ------------------------------------------------------------------------------------ */
/* transport and lifetime */

/*
 * The state holds the eUICC's private key and decides what the card does: a trusted file
 * (safepath.h), refused like ssh refuses an unprotected key when another user owns it, can
 * read or write it, or can replace it through its directory; the same for its lock.
 */
static const struct trust state_trust = {
	"software eUICC", ESIM_E_NOREADER, TRUST_SECRET,
	"a state file elsewhere needs a device added with --euicc soft:PATH"
};

static int load_state_file(const char *path, struct soft_state *st, struct esim_err *err)
{
	struct buf text = BUF_INIT;
	int rc = trust_read_file(path, &state_trust, &text, NULL, err);

	if (rc == 1) {
		buf_release(&text);
		return esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s': no such file", path);
	}
	if (rc < 0) {
		buf_release(&text);
		return -1;
	}
	rc = soft_state_from_json(path, text.buf, text.len, st, err);
	buf_wipe_release(&text);
	return rc;
}

int soft_reload_state(struct soft *s)
{
	struct soft_state st;
	struct esim_err e = { 0 };

	if (load_state_file(s->path, &st, &e) < 0)
		return -1;
	soft_state_clear(&s->st);
	s->st = st;
	return 0;
}

static void soft_free(struct soft *s)
{
	size_t i;

	if (!s)
		return;
	soft_session_reset(s);
	load_reset(&s->sess.load);
	buf_release(&s->sess.auth_oid);
	buf_release(&s->sess.pb_oid);
	for (i = 0; i < MAX_CHANNELS; i++) {
		buf_wipe_release(&s->ch[i].in);
		buf_wipe_release(&s->ch[i].out);
	}
	soft_state_clear(&s->st);
	if (s->lock_fd >= 0)
		close(s->lock_fd);     /* drops the flock */
	free(s->path);
	secure_wipe(s, sizeof(*s));
	free(s);
}

static int soft_open_cb(void *priv, struct esim_err *err)
{
	if (!priv)
		return esim_fail(err, ESIM_E_NOREADER, "soft eUICC: not loaded");
	power_up(priv);
	return 0;
}

static int soft_transmit_cb(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			    size_t *rxlen, struct esim_err *err)
{
	size_t n = 0;
	uint16_t sw;

	if (!priv || !tx || !rx || !rxlen)
		return esim_fail(err, ESIM_E_EUICC, "soft eUICC: invalid transmit call");
	sw = apdu_process(priv, tx, txlen, rx, &n);
	rx[n] = (uint8_t)(sw >> 8);
	rx[n + 1] = (uint8_t)sw;
	*rxlen = n + 2;
	return 0;
}

static void soft_close_cb(void *priv)
{
	soft_free(priv);
}

static int lock_state(struct soft *s, struct esim_err *err)
{
	struct buf lp = BUF_INIT;
	int fd, waited = 0;

	buf_addf(&lp, "%s.lock", s->path);
	if (trust_open_lock(lp.buf, &state_trust, &fd, err) < 0) {
		buf_release(&lp);
		return -1;
	}
	buf_release(&lp);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': cannot lock: %s", s->path,
				  strerror(errno));
			close(fd);
			return -1;
		}
		if (waited >= LOCK_WAIT_MS) {
			esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s' is in use by another "
				  "process", s->path);
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	s->lock_fd = fd;
	return 0;
}

int soft_euicc_open(const char *path, struct apdu_transport *out, struct esim_err *err)
{
	struct soft *s;
	struct stat sb;
	size_t i;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !*path || !out)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC: no state file path given");
	/* Its directories first: nothing (not even the lock) is created in an unsafe one. */
	if (trust_check_dirs(path, &state_trust, err) < 0)
		return -1;
	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return esim_fail(err, ESIM_E_NOREADER, "soft eUICC '%s': no such file", path);
		return esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, strerror(errno));
	}
	s = xcalloc(1, sizeof(*s));
	s->lock_fd = -1;
	s->path = xstrdup(path);
	session_init(&s->sess);
	for (i = 0; i < MAX_CHANNELS; i++)
		chan_init(&s->ch[i]);
	if (lock_state(s, err) < 0 || load_state_file(path, &s->st, err) < 0) {
		soft_free(s);
		return -1;
	}
	power_up(s);
	out->open = soft_open_cb;
	out->transmit = soft_transmit_cb;
	out->close = soft_close_cb;
	out->priv = s;
	memcpy(out->atr, soft_euicc_atr, sizeof(soft_euicc_atr));
	out->atrlen = sizeof(soft_euicc_atr);
	return 0;
}

int soft_euicc_create(const char *path, const char *eid, const uint8_t *cert, size_t certlen,
		      const uint8_t *key, size_t keylen, const uint8_t *eum, size_t eumlen,
		      const uint8_t *const *cis, const size_t *cilens, size_t ncis,
		      struct esim_err *err)
{
	struct soft_state st;
	struct esim_err e2 = { 0 };
	struct stat sb;
	size_t i;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	if (!path || !*path)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC: no state file path given");
	if (lstat(path, &sb) == 0)
		return esim_fail(err, ESIM_E_USAGE, "soft eUICC state file '%s' already exists",
				 path);
	if (errno != ENOENT)
		return esim_fail(err, ESIM_E_USAGE, "cannot use '%s': %s", path, strerror(errno));
	if (!eid || eid_validate(eid, err) < 0)
		return eid ? -1 : esim_fail(err, ESIM_E_USAGE, "soft eUICC: no EID given");
	memcpy(st.eid, eid, 33);
	if (soft_load_cert_arg("eUICC certificate", cert, certlen, &st.cert, err) < 0 ||
	    soft_load_cert_arg("EUM certificate", eum, eumlen, &st.eum, err) < 0)
		goto out;
	if (!key || !keylen || rsp_key_load(key, keylen, &st.key, &e2) < 0) {
		esim_fail(err, ESIM_E_USAGE, "eUICC private key: %s", e2.msg[0] ? e2.msg :
			  "not a PEM or DER EC private key");
		goto out;
	}
	if (ncis && (!cis || !cilens)) {
		esim_fail(err, ESIM_E_USAGE, "soft eUICC: CI certificate list missing");
		goto out;
	}
	st.cis = xcalloc(ncis ? ncis : 1, sizeof(*st.cis));
	for (i = 0; i < ncis; i++) {
		char what[48];

		snprintf(what, sizeof(what), "CI certificate %zu", i + 1);
		if (soft_load_cert_arg(what, cis[i], cilens[i], &st.cis[i], err) < 0)
			goto out;
		st.ncis++;
	}
	if (soft_identity_check(&st, ESIM_E_USAGE, err) < 0)
		goto out;
	st.svn[0] = 2;
	st.svn[1] = 2;
	st.svn[2] = 2;
	st.next_seq = 1;
	st.root_ds = xstrdup(DEFAULT_ROOT_DS);
	rc = soft_state_write(path, &st, err);
out:
	soft_state_clear(&st);
	return rc;
}

