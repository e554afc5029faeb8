/*
 * soft_bpp.c - the software eUICC (soft.c): LoadBoundProfilePackage: BPP segments, SCP03t, ProfileInstallationResult.
 */
#include "card/soft/soft_internal.h"

/* ------------------------------------------------------------------------------------ */
/* LoadBoundProfilePackage (SGP.22 §5.7.6) */

int soft_stage_cmd(int stage)
{
	switch (stage) {
	case L_BF36:
	case L_BF23:
		return BPP_INIT_SECURE_CHANNEL;
	case L_A0_HDR:
	case L_A0:
		return BPP_CONFIGURE_ISDP;
	case L_A1_HDR:
	case L_A1:
		return BPP_STORE_METADATA;
	case L_A2:
		return BPP_REPLACE_SESSION_KEYS;
	default:
		return BPP_LOAD_PE;
	}
}

/*
 * End of an installation attempt: build ProfileInstallationResult (SGP.22 §2.5.6), keep it as a
 * pending notification, forget the session.  ok: l->meta has become profile p.
 *   BF37 { BF27 { 80 txid, BF2F {...}, [06 smdpOid], A2 { A0 {4F aid, 04 sima}
 *                                                     | A1 {80 cmd, 81 reason} } },
 *          5F37 euiccSignPIR }
 */
uint16_t soft_pir_finish(struct soft *s, const struct soft_profile *p, int cmd, int reason,
			   struct buf *r)
{
	static const uint8_t sima_ok[] = { 0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00 };
	struct session *se = &s->sess;
	struct load *l = &se->load;
	struct buf tbs = BUF_INIT, out = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t sig[RSP_SIG_LEN];
	const struct soft_profile *who = p ? p : (l->have_meta ? &l->meta : NULL);
	uint64_t seq = s->st.next_seq;
	size_t m, a2, res;
	uint16_t sw = SW_OK;

	m = der_begin(&tbs, 0xBF27);
	der_put_tlv(&tbs, 0x80, se->txid, se->txid_len);
	soft_notif_meta(&tbs, seq, EV_INSTALL, se->server_address, who ? who->iccid_bcd : NULL);
	if (se->pb_oid.len)
		der_put_tlv(&tbs, 0x06, se->pb_oid.buf, se->pb_oid.len);
	a2 = der_begin(&tbs, 0xA2);
	if (p) {
		res = der_begin(&tbs, 0xA0);
		der_put_tlv(&tbs, 0x4F, p->aid, sizeof(p->aid));
		der_put_tlv(&tbs, 0x04, sima_ok, sizeof(sima_ok));
	} else {
		res = der_begin(&tbs, 0xA1);
		der_put_uint(&tbs, 0x80, (uint64_t)cmd);
		der_put_uint(&tbs, 0x81, (uint64_t)reason);
	}
	der_end(&tbs, res);
	der_end(&tbs, a2);
	der_end(&tbs, m);
	if (rsp_sign(s->st.key, (const uint8_t *)tbs.buf, tbs.len, sig, &e) < 0) {
		sw = SW_UNKNOWN;
		soft_reload_state(s);
		goto out;
	}
	m = der_begin(&out, 0xBF37);
	buf_add(&out, tbs.buf, tbs.len);
	der_put_tlv(&out, 0x5F37, sig, sizeof(sig));
	der_end(&out, m);
	s->st.next_seq++;
	soft_notif_add(s, seq, EV_INSTALL, se->server_address, who ? who->iccid : NULL, &out);
	if (soft_persist(s) < 0) {
		soft_reload_state(s);
		sw = SW_MEMORY_FAILURE;
		goto out;
	}
	buf_add(r, out.buf, out.len);
out:
	soft_session_reset(s);
	buf_release(&tbs);
	buf_release(&out);
	return sw;
}

/* InitialiseSecureChannelRequest (SGP.22 §5.5, ES8+). */
static int load_bf23(struct soft *s, const struct der_node *bf23, int *reason)
{
	struct session *se = &s->sess;
	struct der_iter it, ic;
	struct der_node op, tx, crt, otpk, sign, extra, ktype, klen, host;
	struct buf msg = BUF_INIT, info = BUF_INIT;
	struct esim_err e = { 0 };
	uint8_t shs[32], kdf[48];
	uint64_t opid;
	int rc = -1;

	*reason = PIR_INCORRECT_INPUT;
	der_iter_init(&it, bf23);
	if (soft_next_child(&it, 0x82, &op) < 0 || soft_next_child(&it, 0x80, &tx) < 0 ||
	    soft_next_child(&it, 0xA6, &crt) < 0 || soft_next_child(&it, 0x5F49, &otpk) < 0 ||
	    soft_next_child(&it, 0x5F37, &sign) < 0 || der_iter_next(&it, &extra) != 0)
		goto out;
	if (der_get_uint(&op, &opid) < 0 || opid != 1) {
		*reason = PIR_UNSUPPORTED_REMOTE_OP;
		goto out;
	}
	if (!soft_txid_equal(se, &tx)) {
		*reason = PIR_INVALID_TXID;
		goto out;
	}
	der_iter_init(&ic, &crt);
	if (soft_next_child(&ic, 0x80, &ktype) < 0 || ktype.len != 1 || ktype.value[0] != 0x88 ||
	    soft_next_child(&ic, 0x81, &klen) < 0 || klen.len != 1 || klen.value[0] != 0x10 ||
	    soft_next_child(&ic, 0x84, &host) < 0 || host.len < 1 || host.len > 16 ||
	    der_iter_next(&ic, &extra) != 0) {
		*reason = PIR_UNSUPPORTED_CRT;
		goto out;
	}
	if (otpk.len != RSP_PUB_LEN || otpk.value[0] != 0x04)
		goto out;
	/* smdpSign covers 82 || 80 || A6 || 5F49 otPK.DP || 5F49 otPK.EUICC. */
	buf_add(&msg, op.tlv, (size_t)(otpk.tlv + otpk.tlv_len - op.tlv));
	der_put_tlv(&msg, 0x5F49, se->otpk, RSP_PUB_LEN);
	if (sign.len != RSP_SIG_LEN || !se->dppb ||
	    rsp_cert_verify(se->dppb, (const uint8_t *)msg.buf, msg.len, sign.value) != 1) {
		*reason = PIR_INVALID_SIGNATURE;
		goto out;
	}
	if (!se->otsk || rsp_ecka_derive(se->otsk, otpk.value, shs, &e) < 0)
		goto out;
	/* SharedInfo = keyType || keyLen || len(hostId) || hostId || len(EID) || EID */
	buf_addch(&info, ktype.value[0]);
	buf_addch(&info, klen.value[0]);
	buf_addch(&info, (int)host.len);
	buf_add(&info, host.value, host.len);
	buf_addch(&info, 16);
	buf_add(&info, s->st.eid_bcd, 16);
	rsp_kdf(shs, (const uint8_t *)info.buf, info.len, kdf);
	bsp_init(&se->load.bsp, kdf);
	/* The one-time key has done its job. */
	rsp_key_free(se->otsk);
	se->otsk = NULL;
	rc = 0;
out:
	secure_wipe(shs, sizeof(shs));
	secure_wipe(kdf, sizeof(kdf));
	buf_release(&msg);
	buf_release(&info);
	return rc;
}

/* StoreMetadataRequest BF25 (SGP.22 §5.5, ES8+.StoreMetadata) into l->meta. */
static int parse_metadata(struct soft *s, const struct buf *plain, struct soft_profile *p,
			  int *reason)
{
	struct der_node top, n;
	struct der_iter it;
	uint64_t v;
	size_t i;
	int have_iccid = 0, rc;

	*reason = PIR_INCORRECT_INPUT;
	if (der_parse((const uint8_t *)plain->buf, plain->len, &top) < 0 || top.tag != 0xBF25)
		return -1;
	der_iter_init(&it, &top);
	while ((rc = der_iter_next(&it, &n)) == 1) {
		switch (n.tag) {
		case 0x5A:
			if (n.len != 10 || iccid_from_bcd(n.value, p->iccid) < 0)
				return -1;
			memcpy(p->iccid_bcd, n.value, 10);
			have_iccid = 1;
			break;
		case 0x91:
		case 0x92:
			if (n.len > 255 || !soft_node_is_text(&n))
				return -1;
			if (n.tag == 0x91) {
				free(p->spn);
				p->spn = soft_node_strdup(&n);
			} else {
				free(p->name);
				p->name = soft_node_strdup(&n);
			}
			break;
		case 0x93:
			if (der_get_uint(&n, &v) < 0 || v > 1)
				return -1;
			p->icon_type = (int)v;
			break;
		case 0x94:
			if (n.len > 1024)
				return -1;
			buf_reset(&p->icon);
			buf_add(&p->icon, n.value, n.len);
			if (p->icon_type < 0)
				p->icon_type = 0;
			break;
		case 0x95:
			if (der_get_uint(&n, &v) < 0)
				return -1;
			if (v > CLASS_OPERATIONAL) {
				*reason = PIR_UNSUPPORTED_CLASS;
				return -1;
			}
			p->pclass = (int)v;
			break;
		case 0xB6: {
			struct der_iter ic;
			struct der_node e, ev, addr;

			der_iter_init(&ic, &n);
			while ((rc = der_iter_next(&ic, &e)) == 1) {
				struct notif_config c;

				if (e.tag != 0x30 || der_find(&e, 0x80, &ev) != 1 ||
				    der_find(&e, 0x81, &addr) != 1 || soft_get_bits(&ev, &c.events) < 0 ||
				    addr.len > 255 || !soft_node_is_text(&addr) || p->nncfg >= 16)
					return -1;
				c.events &= (1u << EV_COUNT) - 1;
				c.address = soft_node_strdup(&addr);
				p->ncfg = xrealloc(p->ncfg, (p->nncfg + 1) * sizeof(*p->ncfg));
				p->ncfg[p->nncfg++] = c;
			}
			if (rc < 0)
				return -1;
			break;
		}
		case 0xB7:
			if (n.len > 255)
				return -1;
			buf_reset(&p->owner);
			buf_add(&p->owner, n.value, n.len);
			break;
		case 0x99:
			if (soft_get_bits(&n, &p->ppr) < 0)
				return -1;
			p->ppr &= 0x0F;
			break;
		default:
			break;  /* dpProprietaryData, access rules, later additions */
		}
	}
	if (rc < 0 || !have_iccid)
		return -1;
	for (i = 0; i < s->st.nprofiles; i++) {
		if (strcmp(s->st.profiles[i].iccid, p->iccid) == 0) {
			*reason = PIR_ICCID_EXISTS;
			return -1;
		}
	}
	if (s->st.nprofiles >= MAX_PROFILES) {
		*reason = PIR_NO_MEMORY;
		return -1;
	}
	return 0;
}

/* ReplaceSessionKeysRequest BF26 { 80 initialMacChainingValue, 81 ppkEnc, 82 ppkCmac }. */
static int load_bf26(struct load *l, int *reason)
{
	struct der_node top, mcv, enc, mac, extra;
	struct der_iter it;

	*reason = PIR_INCORRECT_INPUT;
	if (der_parse((const uint8_t *)l->plain.buf, l->plain.len, &top) < 0 || top.tag != 0xBF26)
		return -1;
	der_iter_init(&it, &top);
	if (soft_next_child(&it, 0x80, &mcv) < 0 || mcv.len != 16 || soft_next_child(&it, 0x81, &enc) < 0 ||
	    enc.len != 16 || soft_next_child(&it, 0x82, &mac) < 0 || mac.len != 16 ||
	    der_iter_next(&it, &extra) != 0)
		return -1;
	bsp_init_keys(&l->bsp, enc.value, mac.value, mcv.value);
	return 0;
}

/*
 * Consume the decrypted ProfileElement stream.  PEs span segments; only the first
 * (the ProfileHeader, whose iccid [3] is plain BCD) is buffered whole, the others are
 * checked for framing and skipped.
 */
static int pe_process(struct load *l, int *reason)
{
	for (;;) {
		uint32_t tag;
		size_t vlen, hl, k;
		int h;

		if (l->pe_skip) {
			k = l->pe_skip < l->pe.len ? l->pe_skip : l->pe.len;
			soft_buf_consume(&l->pe, k);
			l->pe_skip -= k;
			if (l->pe_skip)
				return 0;
		}
		if (l->pe.len == 0)
			return 0;
		h = soft_tlv_header((const uint8_t *)l->pe.buf, l->pe.len, &tag, &vlen, &hl);
		if (h == 0)
			return 0;
		if (h < 0 || ((uint8_t)l->pe.buf[0] & 0xE0) != 0xA0) {
			*reason = PIR_PE_PROCESSING;
			return -1;
		}
		if (!l->pe_header_seen) {
			struct der_node hdr, ic;
			char iccid[21];

			if (tag != 0xA0 || vlen > MAX_HEADER_PE) {
				*reason = PIR_PE_PROCESSING;
				return -1;
			}
			if (l->pe.len < hl + vlen)
				return 0;
			if (der_parse((const uint8_t *)l->pe.buf, hl + vlen, &hdr) < 0 ||
			    der_find(&hdr, 0x83, &ic) != 1 ||
			    soft_plain_bcd_iccid(ic.value, ic.len, iccid) < 0) {
				*reason = PIR_PE_PROCESSING;
				return -1;
			}
			if (strcmp(iccid, l->meta.iccid) != 0) {
				*reason = PIR_DATA_MISMATCH;
				return -1;
			}
			l->pe_header_seen = 1;
			soft_buf_consume(&l->pe, hl + vlen);
		} else {
			k = l->pe.len < hl ? l->pe.len : hl;
			soft_buf_consume(&l->pe, k);
			l->pe_skip = vlen;
		}
	}
}

/* Take a whole TLV with tag from the front of pend: 1 got it, 0 need more, -1 bad. */
static int take_tlv(struct load *l, uint32_t tag, size_t max, size_t limit, struct der_node *n)
{
	uint32_t t;
	size_t vlen, hl;
	int h = soft_tlv_header((const uint8_t *)l->pend.buf, l->pend.len, &t, &vlen, &hl);

	if (h <= 0)
		return h;
	if (t != tag || vlen > max || hl > limit || vlen > limit - hl)
		return -1;
	if (l->pend.len < hl + vlen)
		return 0;
	return der_read((const uint8_t *)l->pend.buf, hl + vlen, n, NULL) < 0 ? -1 : 1;
}

/* Take a constructed header (A0..A3) whose value fits in limit. */
static int take_hdr(struct load *l, uint32_t *tag, size_t *vlen, size_t limit)
{
	size_t hl;
	int h = soft_tlv_header((const uint8_t *)l->pend.buf, l->pend.len, tag, vlen, &hl);

	if (h <= 0)
		return h;
	if (hl > limit || *vlen > limit - hl)
		return -1;
	soft_buf_consume(&l->pend, hl);
	l->bf36_left -= hl;
	return 1;
}

/* One segment consumed from pend: keep the length books. */
static void took(struct load *l, size_t n, int in_seq)
{
	soft_buf_consume(&l->pend, n);
	l->bf36_left -= n;
	if (in_seq)
		l->seq_left -= n;
}

static void install_profile(struct soft *s, struct soft_profile *out)
{
	struct load *l = &s->sess.load;
	unsigned b;
	size_t i;

	*out = l->meta;
	soft_profile_init(&l->meta);
	l->have_meta = 0;
	memcpy(out->aid, soft_isdp_aid_base, 16);
	for (b = ISDP_FIRST; b <= 0xFF; b++) {
		for (i = 0; i < s->st.nprofiles; i++)
			if (s->st.profiles[i].aid[14] == b)
				break;
		if (i == s->st.nprofiles)
			break;
	}
	out->aid[14] = (uint8_t)b;
	out->enabled = 0;
}

/*
 * Feed the bytes of one ES10 command into the BPP loader.  Returns the status word;
 * r receives BF37 when the installation ends (success or failure).
 */
uint16_t soft_load_feed(struct soft *s, const uint8_t *data, size_t len, struct buf *r)
{
	struct load *l = &s->sess.load;
	struct der_node n;
	uint32_t tag;
	size_t vlen, hl;
	int h, reason = PIR_INCORRECT_INPUT, cmd = BPP_INIT_SECURE_CHANNEL;

	buf_add(&l->pend, data, len);
/* Wait for the next command, unless the BF36 length says nothing more can come. */
#define NEED_MORE() do { if (l->stage != L_BF36 && l->pend.len >= l->bf36_left) goto fail; \
		return SW_OK; } while (0)
	for (;;) {
		cmd = soft_stage_cmd(l->stage);
		switch (l->stage) {
		case L_BF36:
			h = soft_tlv_header((const uint8_t *)l->pend.buf, l->pend.len, &tag, &vlen, &hl);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || tag != 0xBF36)
				goto fail;
			soft_buf_consume(&l->pend, hl);
			l->bf36_left = vlen;
			l->stage = L_BF23;
			continue;
		case L_BF23:
			h = take_tlv(l, 0xBF23, MAX_BF23, l->bf36_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || load_bf23(s, &n, &reason) < 0)
				goto fail;
			took(l, n.tlv_len, 0);
			l->stage = L_A0_HDR;
			continue;
		case L_A0_HDR:
		case L_A1_HDR:
		case L_A2A3_HDR:
		case L_A3_HDR:
			reason = PIR_SCP03T_STRUCTURE;
			h = take_hdr(l, &tag, &vlen, l->bf36_left);
			if (h == 0)
				NEED_MORE();
			if (h < 0)
				goto fail;
			if (l->stage == L_A0_HDR && tag == 0xA0)
				l->stage = L_A0;
			else if (l->stage == L_A1_HDR && tag == 0xA1)
				l->stage = L_A1;
			else if (l->stage == L_A2A3_HDR && tag == 0xA2)
				l->stage = L_A2;
			else if ((l->stage == L_A2A3_HDR || l->stage == L_A3_HDR) && tag == 0xA3)
				l->stage = L_A3;
			else
				goto fail;
			cmd = soft_stage_cmd(l->stage);
			l->seq_left = vlen;
			buf_reset(&l->plain);
			continue;
		case L_A0:
		case L_A1:
		case L_A2:
			if (l->seq_left == 0) {
				struct der_node top;

				if (l->stage == L_A0) {
					reason = PIR_INCORRECT_INPUT;
					if (der_parse((const uint8_t *)l->plain.buf, l->plain.len, &top) < 0 ||
					    top.tag != 0xBF24)
						goto fail;
					l->stage = L_A1_HDR;
				} else if (l->stage == L_A1) {
					if (parse_metadata(s, &l->plain, &l->meta, &reason) < 0)
						goto fail;
					l->have_meta = 1;
					l->stage = L_A2A3_HDR;
				} else {
					if (load_bf26(l, &reason) < 0)
						goto fail;
					l->stage = L_A3_HDR;
				}
				buf_wipe_release(&l->plain);
				continue;
			}
			reason = PIR_SCP03T_STRUCTURE;
			h = take_tlv(l, l->stage == L_A1 ? 0x88 : 0x87, MAX_SEGMENT, l->seq_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || bsp_unprotect(&l->bsp, n.tlv, n.tlv_len, &l->plain, &reason) < 0)
				goto fail;
			if (l->plain.len > MAX_SEQ_PLAIN) {
				reason = PIR_INCORRECT_INPUT;
				goto fail;
			}
			took(l, n.tlv_len, 1);
			continue;
		case L_A3:
			if (l->seq_left == 0) {
				struct soft_profile *p;

				reason = PIR_PE_PROCESSING;
				if (l->bf36_left != 0 || l->pend.len != 0 || !l->pe_header_seen ||
				    l->pe_skip != 0 || l->pe.len != 0)
					goto fail;
				reason = PIR_NO_MEMORY;
				if (s->st.nprofiles >= MAX_PROFILES)
					goto fail;
				s->st.profiles = xrealloc(s->st.profiles, (s->st.nprofiles + 1) *
							  sizeof(*s->st.profiles));
				p = &s->st.profiles[s->st.nprofiles];
				install_profile(s, p);
				s->st.nprofiles++;
				return soft_pir_finish(s, p, 0, 0, r);
			}
			reason = PIR_SCP03T_STRUCTURE;
			h = take_tlv(l, 0x86, MAX_SEGMENT, l->seq_left, &n);
			if (h == 0)
				NEED_MORE();
			if (h < 0 || bsp_unprotect(&l->bsp, n.tlv, n.tlv_len, &l->pe, &reason) < 0)
				goto fail;
			took(l, n.tlv_len, 1);
			if (pe_process(l, &reason) < 0)
				goto fail;
			continue;
		default:
			goto fail;
		}
	}
#undef NEED_MORE
fail:
	return soft_pir_finish(s, NULL, cmd, reason, r);
}
