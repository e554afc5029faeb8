/*
 * model.h - the in-memory store: devices, profiles, bindings, history (pure).
 *
 * One struct store owns everything it points to (heap strings).  The JSON text form is
 * documented in docs/store-format.md; store_json.c converts both ways without touching
 * files.  Lookups by name and id go through hash indexes built on load and kept up to
 * date by the model_* mutators, so nothing is quadratic in the store size.
 *
 * Times are int64 seconds since the epoch, 0 meaning "not set".
 */
#ifndef ESIMCTL_MODEL_H
#define ESIMCTL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/actcode.h"
#include "esimctl/buf.h"
#include "esimctl/error.h"

#define STORE_SCHEMA 1
#define PROFILE_ID_LEN 8 /* hex characters of the short id */

enum device_kind { DEV_PHONE, DEV_TABLET, DEV_WATCH, DEV_LAPTOP, DEV_HOTSPOT, DEV_KIND_COUNT };
enum plan_type { PLAN_VOICE_DATA, PLAN_DATA_ONLY };
enum binding_state { BIND_PENDING, BIND_ACTIVE, BIND_RELEASED };

const char *device_kind_name(enum device_kind k);          /* "phone" ... */
int device_kind_parse(const char *s, enum device_kind *out); /* -1 if unknown */
const char *plan_type_name(enum plan_type p);               /* "voice+data", "data-only" */
int plan_type_parse(const char *s, enum plan_type *out);
const char *binding_state_name(enum binding_state s);       /* "pending" ... */
int binding_state_parse(const char *s, enum binding_state *out);
/* Capabilities from the source material. */
int device_kind_data_only(enum device_kind k);   /* laptop, hotspot: no voice/SMS */
int device_kind_companion(enum device_kind k);   /* watch: needs a phone */

struct device {
	char *name;        /* unique, case-sensitive, [A-Za-z0-9._-]{1,64} */
	enum device_kind kind;
	char *platform;    /* ios|android|windows|macos|linux or NULL */
	char *eid;         /* NULL when unknown */
	char *imei;        /* NULL when unknown */
	int primary;
	char *euicc;       /* eUICC backend URI ("soft:/path", "pcsc:0", "at:/dev/ttyUSB2") or NULL */
	int64_t created;
};

struct profile {
	char id[PROFILE_ID_LEN + 1]; /* stable short id: hex of SHA-256 of the canonical code (or ICCID) */
	char *iccid;       /* NULL when unknown */
	char *carrier;     /* as the user named it; policy lookup is by alias */
	enum plan_type plan;
	char *nickname;    /* NULL when none; unique among profiles when set */
	int has_ac;
	struct actcode ac; /* when has_ac */
	char *provider;    /* service provider name from the profile metadata, or NULL */
	char *profile_name;/* profile name from the metadata, or NULL */
	char *profile_class; /* "test"|"provisioning"|"operational" or NULL */
	char *review;      /* why a person should check this record (e.g. adopted by euicc sync), or NULL */
	int64_t created;
	int64_t last_transfer; /* end of the last transfer (for cooldowns), 0 = never */
};

struct binding {
	char *profile;     /* profile id */
	char *device;      /* device name */
	enum binding_state state;
	int64_t since;     /* when it entered this state */
	int64_t ready_at;  /* pending: estimated ready time (0 = unknown) */
	int64_t released_at;
};

struct history_entry {
	int64_t time;
	char *op;          /* "add", "transfer", "release", "device-add", "device-remove", ... */
	char *profile;     /* id or NULL */
	char *from;        /* device or NULL */
	char *to;          /* device or NULL */
	char *outcome;     /* "ok", "pending", "refused", ... */
	char *detail;      /* free text or NULL */
};

/* A notification queued for the SM-DP+ (kept until a 2xx from handleNotification). */
struct pending_notification {
	char *device;      /* device whose eUICC produced it */
	int64_t seq;       /* eUICC seqNumber */
	char *event;       /* "install" | "enable" | "disable" | "delete" */
	char *address;     /* notificationAddress (SM-DP+ FQDN) */
	char *iccid;       /* or NULL */
	char *data_b64;    /* the exact signed TLV, base64 */
	int64_t queued;
	int attempts;
	char *last_error;  /* or NULL */
};

struct model_index; /* private hash indexes */

struct store {
	int schema;
	struct device *devices;      size_t ndevices, adevices;
	struct profile *profiles;    size_t nprofiles, aprofiles;
	struct binding *bindings;    size_t nbindings, abindings;
	struct history_entry *history; size_t nhistory, ahistory;
	struct pending_notification *notifications; size_t nnotifications, anotifications;
	struct model_index *idx;
};

struct store *model_new(void);
void model_free(struct store *s);

/* Lookups: NULL / -1 when absent.  O(1) average. */
struct device *model_device(const struct store *s, const char *name);
struct profile *model_profile_by_id(const struct store *s, const char *id);
/*
 * Resolve a PROFILE reference: an ICCID, a short id (or a unique prefix of at least
 * 4 characters), or a nickname.  Not found: ESIM_E_NOTFOUND.  Ambiguous: ESIM_E_USAGE
 * with every candidate listed in the message ("'work' matches 2 profiles: 1a2b3c4d
 * (nickname work), 89...").
 */
int model_resolve_profile(const struct store *s, const char *ref, struct profile **out,
			  struct esim_err *err);

/*
 * Mutators keep the indexes right.  Returned pointers are valid until the next add.
 * Change a profile's ICCID or nickname with model_set_iccid()/model_set_nickname()
 * (copies; NULL clears); after editing any other indexed key in place (device name,
 * profile id) call model_reindex().
 */
struct device *model_add_device(struct store *s, const struct device *d);   /* takes ownership of strings */
int model_remove_device(struct store *s, const char *name);
struct profile *model_add_profile(struct store *s, const struct profile *p); /* takes ownership */
struct binding *model_add_binding(struct store *s, const struct binding *b); /* takes ownership */
void model_add_history(struct store *s, int64_t t, const char *op, const char *profile,
		       const char *from, const char *to, const char *outcome, const char *detail); /* copies */
struct pending_notification *model_add_notification(struct store *s, const struct pending_notification *n); /* takes ownership */
void model_remove_notification(struct store *s, size_t i);
void model_set_iccid(struct store *s, struct profile *p, const char *iccid);
void model_set_nickname(struct store *s, struct profile *p, const char *nickname);
void model_reindex(struct store *s);

/* Non-released bindings of a profile / a device, in store order; caller frees the array. */
size_t model_live_bindings_of_profile(const struct store *s, const char *profile_id, struct binding ***out);
size_t model_live_bindings_of_device(const struct store *s, const char *device, struct binding ***out);
/* 1 when any binding (even released) ever existed for the profile. */
int model_profile_ever_bound(const struct store *s, const char *profile_id);
/* 1 when the inventory holds a phone. */
int model_has_phone(const struct store *s);

/* Short id of a profile: first 8 hex chars of SHA-256 of the key (canonical code or ICCID). */
void model_profile_id(const char *key, char out[PROFILE_ID_LEN + 1]);
/* Device names: [A-Za-z0-9._-], 1..64, not starting with '-'. */
int model_valid_device_name(const char *name, struct esim_err *err);

/*
 * JSON text <-> model (store_json.c).  store_from_json() validates everything; an error
 * is ESIM_E_STORE naming `srcname`, the line and column (syntax) or the JSON path
 * ("profiles[3].carrier: missing") of the problem; an unknown "schema" is refused.
 */
int store_from_json(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err);
void store_to_json(const struct store *s, struct buf *out);

#endif
