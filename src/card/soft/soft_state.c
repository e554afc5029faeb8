/*
 * soft_state.c - the software eUICC (soft.c): the state file: create, load, save, lock, identity checks.
 */
#include "card/soft/soft_internal.h"

/* ------------------------------------------------------------------------------------ */
/* state: lifetime */

void soft_profile_clear(struct soft_profile *p)
{
	size_t i;

	free(p->nickname);
	free(p->spn);
	free(p->name);
	buf_release(&p->icon);
	for (i = 0; i < p->nncfg; i++)
		free(p->ncfg[i].address);
	free(p->ncfg);
	buf_release(&p->owner);
	memset(p, 0, sizeof(*p));
	p->icon_type = -1;
	buf_init(&p->icon, 0);
	buf_init(&p->owner, 0);
}

void soft_profile_init(struct soft_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->icon_type = -1;
	p->pclass = CLASS_OPERATIONAL;
	buf_init(&p->icon, 0);
	buf_init(&p->owner, 0);
}

void soft_notif_clear(struct soft_notif *n)
{
	free(n->address);
	buf_release(&n->der);
	memset(n, 0, sizeof(*n));
}

void soft_state_clear(struct soft_state *st)
{
	size_t i;

	rsp_cert_free(st->cert);
	rsp_cert_free(st->eum);
	for (i = 0; i < st->ncis; i++) {
		rsp_cert_free(st->cis[i]);
		if (st->ci_ski)
			buf_release(&st->ci_ski[i]);
	}
	free(st->cis);
	free(st->ci_ski);
	rsp_key_free(st->key);
	for (i = 0; i < st->nprofiles; i++)
		soft_profile_clear(&st->profiles[i]);
	free(st->profiles);
	for (i = 0; i < st->nnotifs; i++)
		soft_notif_clear(&st->notifs[i]);
	free(st->notifs);
	free(st->default_dp);
	free(st->root_ds);
	memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------------------------ */
/* state: identity checks (shared by create and open) */

int soft_load_cert_arg(const char *what, const uint8_t *data, size_t len, struct rsp_cert **out,
			 struct esim_err *err)
{
	struct esim_err e2 = { 0 };

	if (!data || !len)
		return esim_fail(err, ESIM_E_USAGE, "%s: no certificate given", what);
	if (rsp_cert_load(data, len, out, &e2) < 0)
		return esim_fail(err, ESIM_E_USAGE, "%s: %s", what, e2.msg[0] ? e2.msg :
				 "not a PEM or DER X.509 certificate");
	return 0;
}

/*
 * Check that the identity in st (eid, cert, eum, cis, key) is consistent and fill
 * eid_bcd, ci_ski and sign_ci.  Failures use status.
 */
int soft_identity_check(struct soft_state *st, enum esim_status status, struct esim_err *err)
{
	char serial[128];
	uint8_t probe[32], sig[RSP_SIG_LEN];
	size_t i;
	int found = 0;
	enum rsp_curve curve;

	if (eid_validate(st->eid, err) < 0)
		return -1;
	if (eid_to_bcd(st->eid, st->eid_bcd) < 0)
		return esim_fail(err, status, "EID '%s' cannot be BCD coded", st->eid);
	curve = rsp_cert_curve(st->cert);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
		return esim_fail(err, status, "eUICC certificate: unsupported curve (P-256 or "
				 "brainpoolP256r1 required)");
	if (rsp_key_curve(st->key) != curve)
		return esim_fail(err, status, "eUICC private key is not on the certificate's curve");
	/* The key belongs to the certificate when a fresh signature verifies. */
	rsp_sha256(st->eid, strlen(st->eid), probe);
	if (rsp_sign(st->key, probe, sizeof(probe), sig, err) < 0)
		return -1;
	if (rsp_cert_verify(st->cert, probe, sizeof(probe), sig) != 1)
		return esim_fail(err, status, "eUICC private key does not match the eUICC "
				 "certificate");
	if (rsp_cert_subject_serial(st->cert, serial, sizeof(serial)) < 0)
		return esim_fail(err, status, "eUICC certificate has no subject serialNumber (EID)");
	if (strcmp(serial, st->eid) != 0)
		return esim_fail(err, status, "eUICC certificate subject serialNumber '%.40s' is "
				 "not the EID '%s'", serial, st->eid);
	if (rsp_cert_signed_by(st->cert, st->eum) != 1)
		return esim_fail(err, status, "eUICC certificate is not signed by the EUM "
				 "certificate");
	curve = rsp_cert_curve(st->eum);
	if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
		return esim_fail(err, status, "EUM certificate: unsupported curve");
	if (rsp_cert_eum_permits(st->eum, st->eid) != 1)
		return esim_fail(err, status, "EUM certificate does not permit EID '%s'", st->eid);
	if (st->ncis == 0)
		return esim_fail(err, status, "no CI certificate given");
	st->ci_ski = xcalloc(st->ncis, sizeof(*st->ci_ski));
	for (i = 0; i < st->ncis; i++) {
		uint8_t ski[64];
		int n = rsp_cert_ski(st->cis[i], ski, sizeof(ski));

		buf_init(&st->ci_ski[i], 0);
		curve = rsp_cert_curve(st->cis[i]);
		if (curve != RSP_CURVE_P256 && curve != RSP_CURVE_BRP256)
			return esim_fail(err, status, "CI certificate %zu: unsupported curve", i + 1);
		if (n <= 0)
			return esim_fail(err, status, "CI certificate %zu has no Subject Key "
					 "Identifier", i + 1);
		buf_add(&st->ci_ski[i], ski, (size_t)n);
		if (!found && rsp_cert_signed_by(st->eum, st->cis[i]) == 1) {
			st->sign_ci = i;
			found = 1;
		}
	}
	if (!found)
		return esim_fail(err, status, "EUM certificate is not signed by any of the CI "
				 "certificates");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* state: JSON */

static void json_add_b64(cJSON *o, const char *name, const uint8_t *p, size_t len)
{
	struct buf b = BUF_INIT;

	base64_encode(p, len, &b);
	cJSON_AddStringToObject(o, name, b.buf);
	buf_release(&b);
}

static void json_add_hex(cJSON *o, const char *name, const uint8_t *p, size_t len)
{
	struct buf b = BUF_INIT;

	hex_encode(p, len, &b);
	cJSON_AddStringToObject(o, name, b.buf);
	buf_release(&b);
}

static cJSON *json_names(unsigned mask, const char *const *names, int count)
{
	cJSON *a = cJSON_CreateArray();
	int i;

	for (i = 0; i < count; i++)
		if (mask & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
	return a;
}

static cJSON *profile_to_json(const struct soft_profile *p)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;

	cJSON_AddStringToObject(o, "iccid", p->iccid);
	json_add_hex(o, "isdp_aid", p->aid, sizeof(p->aid));
	cJSON_AddStringToObject(o, "state", p->enabled ? "enabled" : "disabled");
	if (p->nickname)
		cJSON_AddStringToObject(o, "nickname", p->nickname);
	cJSON_AddStringToObject(o, "service_provider_name", p->spn ? p->spn : "");
	cJSON_AddStringToObject(o, "profile_name", p->name ? p->name : "");
	cJSON_AddStringToObject(o, "class", soft_class_names[p->pclass]);
	if (p->icon_type >= 0) {
		cJSON_AddStringToObject(o, "icon_type", p->icon_type ? "png" : "jpg");
		json_add_b64(o, "icon", (const uint8_t *)p->icon.buf, p->icon.len);
	}
	a = cJSON_AddArrayToObject(o, "notification_config");
	for (i = 0; i < p->nncfg; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToObject(e, "events", json_names(p->ncfg[i].events, soft_event_names,
							      EV_COUNT));
		cJSON_AddStringToObject(e, "address", p->ncfg[i].address);
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddItemToObject(o, "ppr", json_names(p->ppr, soft_ppr_names, 4));
	if (p->owner.len)
		json_add_hex(o, "profile_owner", (const uint8_t *)p->owner.buf, p->owner.len);
	return o;
}

/* Serialise st; returns a heap string (the private key is inside: wipe it). */
static char *state_to_json(const struct soft_state *st, struct esim_err *err)
{
	cJSON *root = cJSON_CreateObject(), *a;
	const uint8_t *der;
	size_t len, i;
	struct buf pem = BUF_INIT;
	char svn[16], *text = NULL;

	cJSON_AddStringToObject(root, "format", SOFT_FORMAT);
	cJSON_AddNumberToObject(root, "version", SOFT_VERSION);
	cJSON_AddStringToObject(root, "eid", st->eid);
	rsp_cert_der(st->cert, &der, &len);
	json_add_b64(root, "euicc_certificate", der, len);
	rsp_cert_der(st->eum, &der, &len);
	json_add_b64(root, "eum_certificate", der, len);
	a = cJSON_AddArrayToObject(root, "ci_certificates");
	for (i = 0; i < st->ncis; i++) {
		struct buf b = BUF_INIT;

		rsp_cert_der(st->cis[i], &der, &len);
		base64_encode(der, len, &b);
		cJSON_AddItemToArray(a, cJSON_CreateString(b.buf));
		buf_release(&b);
	}
	if (rsp_key_to_pem(st->key, &pem, err) < 0)
		goto out;
	cJSON_AddStringToObject(root, "private_key", pem.buf);
	snprintf(svn, sizeof(svn), "%u.%u.%u", st->svn[0], st->svn[1], st->svn[2]);
	cJSON_AddStringToObject(root, "svn", svn);
	if (st->default_dp)
		cJSON_AddStringToObject(root, "default_dp_address", st->default_dp);
	cJSON_AddStringToObject(root, "root_ds_address", st->root_ds ? st->root_ds : DEFAULT_ROOT_DS);
	cJSON_AddNumberToObject(root, "next_seq", (double)st->next_seq);
	if (st->isdr_aid_len) {
		char hex[ISDR_AID_HEX];

		cJSON_AddStringToObject(root, "isdr_aid", isdr_aid_hex(st->isdr_aid, st->isdr_aid_len, hex));
	}
	a = cJSON_AddArrayToObject(root, "profiles");
	for (i = 0; i < st->nprofiles; i++)
		cJSON_AddItemToArray(a, profile_to_json(&st->profiles[i]));
	a = cJSON_AddArrayToObject(root, "notifications");
	for (i = 0; i < st->nnotifs; i++) {
		const struct soft_notif *n = &st->notifs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "seq", (double)n->seq);
		cJSON_AddStringToObject(o, "event", soft_event_names[n->event]);
		cJSON_AddStringToObject(o, "address", n->address);
		if (n->iccid[0])
			cJSON_AddStringToObject(o, "iccid", n->iccid);
		json_add_b64(o, "der", (const uint8_t *)n->der.buf, n->der.len);
		cJSON_AddItemToArray(a, o);
	}
	text = cJSON_Print(root);
	if (!text)
		esim_fail(err, ESIM_E_OTHER, "cannot serialise the soft eUICC state");
out:
	buf_wipe_release(&pem);
	/* The tree holds the PEM too. */
	{
		cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "private_key");

		if (cJSON_IsString(k) && k->valuestring)
			secure_wipe(k->valuestring, strlen(k->valuestring));
	}
	cJSON_Delete(root);
	return text;
}

int soft_state_write(const char *path, const struct soft_state *st, struct esim_err *err)
{
	char *text = state_to_json(st, err);
	int rc;

	if (!text)
		return -1;
	rc = atomic_write_file(path, text, strlen(text), err);
	secure_wipe(text, strlen(text));
	cJSON_free(text);
	return rc;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int jb64(const cJSON *o, const char *name, struct buf *out)
{
	const char *s = jstr(o, name);

	if (!s)
		return -1;
	return base64_decode(s, strlen(s), out);
}

static int jnames(const cJSON *o, const char *name, const char *const *names, int count,
		  unsigned *mask)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *e;

	*mask = 0;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		int i;

		if (!cJSON_IsString(e))
			return -1;
		for (i = 0; i < count; i++)
			if (strcmp(e->valuestring, names[i]) == 0)
				break;
		if (i == count)
			return -1;
		*mask |= 1u << i;
	}
	return 0;
}

/* A non-negative integer that fits a uint64_t exactly as a double. */
static int juint(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    (double)(uint64_t)v->valuedouble != v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int profile_from_json(const cJSON *o, struct soft_profile *p)
{
	const char *s;
	struct buf b = BUF_INIT;
	const cJSON *a, *e;
	int i;

	soft_profile_init(p);
	if (!cJSON_IsObject(o))
		return -1;
	s = jstr(o, "iccid");
	if (!s || strlen(s) < 1 || strlen(s) > 20 || iccid_to_bcd(s, p->iccid_bcd) < 0)
		return -1;
	memcpy(p->iccid, s, strlen(s) + 1);
	s = jstr(o, "isdp_aid");
	if (!s || hex_decode(s, &b) < 0 || b.len != 16) {
		buf_release(&b);
		return -1;
	}
	memcpy(p->aid, b.buf, 16);
	buf_release(&b);
	s = jstr(o, "state");
	if (!s || (strcmp(s, "enabled") && strcmp(s, "disabled")))
		return -1;
	p->enabled = strcmp(s, "enabled") == 0;
	p->nickname = xstrdup(jstr(o, "nickname"));
	p->spn = xstrdup(jstr(o, "service_provider_name"));
	p->name = xstrdup(jstr(o, "profile_name"));
	s = jstr(o, "class");
	p->pclass = -1;
	for (i = 0; s && i < 3; i++)
		if (strcmp(s, soft_class_names[i]) == 0)
			p->pclass = i;
	if (p->pclass < 0)
		return -1;
	s = jstr(o, "icon_type");
	if (s) {
		if (strcmp(s, "jpg") == 0)
			p->icon_type = 0;
		else if (strcmp(s, "png") == 0)
			p->icon_type = 1;
		else
			return -1;
		if (jb64(o, "icon", &p->icon) < 0)
			return -1;
	}
	a = cJSON_GetObjectItemCaseSensitive(o, "notification_config");
	if (a && !cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		struct notif_config c;

		if (jnames(e, "events", soft_event_names, EV_COUNT, &c.events) < 0 || !jstr(e, "address"))
			return -1;
		c.address = xstrdup(jstr(e, "address"));
		p->ncfg = xrealloc(p->ncfg, (p->nncfg + 1) * sizeof(*p->ncfg));
		p->ncfg[p->nncfg++] = c;
	}
	if (jnames(o, "ppr", soft_ppr_names, 4, &p->ppr) < 0)
		return -1;
	s = jstr(o, "profile_owner");
	if (s && hex_decode(s, &p->owner) < 0)
		return -1;
	return 0;
}

static int parse_svn(const char *s, uint8_t out[3])
{
	unsigned a, b, c;
	char extra;

	if (!s || sscanf(s, "%u.%u.%u%c", &a, &b, &c, &extra) != 3 || a > 255 || b > 255 || c > 255)
		return -1;
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	return 0;
}

/* Parse the state file text into st (identity checked). */
int soft_state_from_json(const char *path, const char *text, size_t len, struct soft_state *st,
			   struct esim_err *err)
{
	cJSON *root = cJSON_ParseWithLength(text, len), *a, *e;
	struct buf b = BUF_INIT;
	const char *s;
	uint64_t v;
	int ret = -1;

#define BAD(what) do { esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, what); \
		goto out; } while (0)
	memset(st, 0, sizeof(*st));
	if (!cJSON_IsObject(root))
		BAD("not a JSON object");
	s = jstr(root, "format");
	if (!s || strcmp(s, SOFT_FORMAT) != 0)
		BAD("not a soft eUICC state file (format is not \"" SOFT_FORMAT "\")");
	if (juint(root, "version", &v) < 0 || v != SOFT_VERSION)
		BAD("unsupported state file version");
	s = jstr(root, "eid");
	if (!s || strlen(s) != 32)
		BAD("bad or missing \"eid\"");
	memcpy(st->eid, s, 33);
	if (jb64(root, "euicc_certificate", &b) < 0 ||
	    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->cert, err) < 0)
		BAD("bad \"euicc_certificate\"");
	buf_reset(&b);
	if (jb64(root, "eum_certificate", &b) < 0 ||
	    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->eum, err) < 0)
		BAD("bad \"eum_certificate\"");
	a = cJSON_GetObjectItemCaseSensitive(root, "ci_certificates");
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
		BAD("bad \"ci_certificates\"");
	st->cis = xcalloc((size_t)cJSON_GetArraySize(a), sizeof(*st->cis));
	cJSON_ArrayForEach(e, a) {
		buf_reset(&b);
		if (!cJSON_IsString(e) || base64_decode(e->valuestring, strlen(e->valuestring), &b) < 0 ||
		    rsp_cert_load((const uint8_t *)b.buf, b.len, &st->cis[st->ncis], err) < 0)
			BAD("bad entry in \"ci_certificates\"");
		st->ncis++;
	}
	s = jstr(root, "private_key");
	if (!s || rsp_key_load((const uint8_t *)s, strlen(s), &st->key, err) < 0)
		BAD("bad \"private_key\"");
	if (soft_identity_check(st, ESIM_E_EUICC, err) < 0) {
		char msg[sizeof(err->msg)];

		memcpy(msg, err->msg, sizeof(msg));
		esim_fail(err, ESIM_E_EUICC, "soft eUICC '%s': %s", path, msg);
		goto out;
	}
	if (parse_svn(jstr(root, "svn"), st->svn) < 0)
		BAD("bad \"svn\"");
	st->default_dp = xstrdup(jstr(root, "default_dp_address"));
	s = jstr(root, "root_ds_address");
	st->root_ds = xstrdup(s ? s : DEFAULT_ROOT_DS);
	if (juint(root, "next_seq", &st->next_seq) < 0)
		BAD("bad \"next_seq\"");
	s = jstr(root, "isdr_aid");
	if (s && isdr_aid_parse(s, "\"isdr_aid\"", st->isdr_aid, &st->isdr_aid_len, NULL) < 0)
		BAD("bad \"isdr_aid\" (want 10 to 32 hex digits)");
	a = cJSON_GetObjectItemCaseSensitive(root, "profiles");
	if (a && !cJSON_IsArray(a))
		BAD("bad \"profiles\"");
	if (cJSON_GetArraySize(a) > MAX_PROFILES)
		BAD("too many profiles");
	st->profiles = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*st->profiles));
	cJSON_ArrayForEach(e, a) {
		struct soft_profile *p = &st->profiles[st->nprofiles];
		size_t i;

		if (profile_from_json(e, p) < 0) {
			soft_profile_clear(p);
			BAD("bad entry in \"profiles\"");
		}
		st->nprofiles++;
		for (i = 0; i + 1 < st->nprofiles; i++)
			if (strcmp(st->profiles[i].iccid, p->iccid) == 0 ||
			    memcmp(st->profiles[i].aid, p->aid, 16) == 0 ||
			    (p->enabled && st->profiles[i].enabled))
				BAD("duplicate ICCID or ISD-P, or two enabled profiles");
	}
	a = cJSON_GetObjectItemCaseSensitive(root, "notifications");
	if (a && !cJSON_IsArray(a))
		BAD("bad \"notifications\"");
	st->notifs = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*st->notifs));
	cJSON_ArrayForEach(e, a) {
		struct soft_notif *n = &st->notifs[st->nnotifs];
		const char *iccid = jstr(e, "iccid");

		memset(n, 0, sizeof(*n));
		buf_init(&n->der, 0);
		if (juint(e, "seq", &n->seq) < 0 || !jstr(e, "event") ||
		    (n->event = soft_event_from_name(jstr(e, "event"))) < 0 || !jstr(e, "address") ||
		    (iccid && strlen(iccid) > 20) || jb64(e, "der", &n->der) < 0 || n->der.len == 0) {
			soft_notif_clear(n);
			BAD("bad entry in \"notifications\"");
		}
		n->address = xstrdup(jstr(e, "address"));
		if (iccid)
			memcpy(n->iccid, iccid, strlen(iccid) + 1);
		st->nnotifs++;
		if (n->seq >= st->next_seq)
			BAD("\"next_seq\" is not above every notification's seq");
	}
	ret = 0;
#undef BAD
out:
	buf_release(&b);
	if (root) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "private_key");

		if (cJSON_IsString(k) && k->valuestring)
			secure_wipe(k->valuestring, strlen(k->valuestring));
	}
	cJSON_Delete(root);
	if (ret < 0)
		soft_state_clear(st);
	return ret;
}
