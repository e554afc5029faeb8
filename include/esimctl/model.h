/*
 * model.h - the in-memory store: devices, profiles, bindings, history (pure).
 *
 * One struct store owns everything it points to (heap strings).  The JSON text form is
 * documented in docs/store-format.md; store_json.c converts both ways without touching
 * files.  Lookups by name and id go through hash indexes built on load and kept up to
 * date by the model_* mutators, so nothing is quadratic in the store size.
 *
 * Times are int64 seconds since the epoch; an optional time that is not set is TIME_NONE
 * (timeutil.h), never 0, which is 1970-01-01T00:00:00Z like any other time.
 */
#ifndef ESIMCTL_MODEL_H
#define ESIMCTL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "esimctl/actcode.h"
#include "esimctl/strpool.h"
#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/timeutil.h"

#define STORE_SCHEMA 1
/*
 * Profile ids.  A profile's full id is PROFILE_ID_LEN lower-case hex digits of the
 * SHA-256 of its canonical activation code (stores written before ids grew hold
 * PROFILE_ID_LEGACY_LEN-digit ones, which stay valid).  Output shows the shortest
 * prefix of at least PROFILE_ID_SHOWN_MIN digits that still names the profile, as git
 * abbreviates object names; a reference may be any unique prefix of at least
 * PROFILE_ID_REF_MIN digits.
 */
#define PROFILE_ID_LEN 16
#define PROFILE_ID_LEGACY_LEN 8
#define PROFILE_ID_SHOWN_MIN 8
#define PROFILE_ID_REF_MIN 6

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
	char *isdr_aid;    /* ISD-R AID to select instead of the standard one (upper-case hex,
			      isdr.h), or NULL for the standard AID; only with euicc */
	int64_t created;
};

struct profile {
	char id[PROFILE_ID_LEN + 1]; /* full id, 8 or 16 hex digits (see PROFILE_ID_LEN); unique */
	char *iccid;       /* NULL when unknown */
	char *carrier;     /* as the user named it; policy lookup is by alias */
	enum plan_type plan;
	char *nickname;    /* NULL when none; unique among profiles when set */
	struct actcode_packed *ac; /* NULL when the profile has no activation code */
	char *provider;    /* service provider name from the profile metadata, or NULL */
	char *profile_name;/* profile name from the metadata, or NULL */
	char *profile_class; /* "test"|"provisioning"|"operational" or NULL */
	char *review;      /* why a person should check this record (e.g. adopted by euicc sync), or NULL */
	int64_t created;
	int64_t last_transfer; /* end of the last transfer (for cooldowns), TIME_NONE = never */
};

struct binding {
	char *profile;     /* profile id */
	char *device;      /* device name */
	enum binding_state state;
	int64_t since;     /* when it entered this state */
	int64_t ready_at;  /* pending: estimated ready time (TIME_NONE = unknown) */
	int64_t released_at; /* TIME_NONE until released */
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
	struct strpool strings;  /* model_strdup()'s copies; see "Strings" below */
};

struct store *model_new(void);
void model_free(struct store *s);
/*
 * Room for that many more devices, profiles, ... (arrays and indexes), allocated once:
 * a loader that knows the counts (store_json.c) then does not grow and copy an array
 * step by step (which would also leave copies of matching IDs behind in freed memory).
 */
void model_reserve(struct store *s, size_t ndevices, size_t nprofiles, size_t nbindings,
		   size_t nhistory, size_t nnotifications);

/* Lookups: NULL / -1 when absent.  O(1) average. */
struct device *model_device(const struct store *s, const char *name);
struct profile *model_profile_by_id(const struct store *s, const char *id);
/*
 * Resolve a PROFILE reference.  The first rule that matches decides:
 *   1. the exact full id (hex digits in any case);
 *   2. the exact ICCID;
 *   3. the exact nickname;
 *   4. a prefix of an id, at least PROFILE_ID_REF_MIN hex digits.
 * So every profile answers to its full id, whatever the other names are.  Not found:
 * ESIM_E_NOTFOUND.  Two matches under one rule (an id prefix shared by two profiles, an
 * ICCID or nickname repeated in a hand-edited store): ESIM_E_USAGE with the candidates
 * listed by their shown ids ("'1a2b3c' matches 2 profiles: 1a2b3c4d5 (id prefix), ...").
 */
int model_resolve_profile(const struct store *s, const char *ref, struct profile **out,
			  struct esim_err *err);
/* The profile whose canonical activation code equals ac's, or NULL.  Linear in the store. */
struct profile *model_profile_by_code(const struct store *s, const struct actcode *ac);
/*
 * The id a new profile with canonical code `canon` gets: model_profile_id() of it, or
 * when another profile (with another code: look for the code first) already has that
 * id, the first free one of model_profile_id_n(canon, 1, ...), (canon, 2, ...) ...
 */
void model_new_profile_id(const struct store *s, const char *canon, char out[PROFILE_ID_LEN + 1]);
/*
 * The id to show for profile p: the shortest prefix of p->id, at least
 * PROFILE_ID_SHOWN_MIN digits, that resolves to p (no other id starts with it and it is
 * no other profile's ICCID or nickname); p->id itself when nothing shorter does.
 * model_shown_id() takes an id as stored in a binding or history entry and returns it
 * unchanged when no profile has it.  The string lives until the store next changes.
 */
const char *model_profile_shown_id(const struct store *s, const struct profile *p);
const char *model_shown_id(const struct store *s, const char *id);
/*
 * A nickname may not look like an id or an ICCID, which it would shadow or be shadowed
 * by: PROFILE_ID_REF_MIN or more hex digits, or digits only.  -1 with ESIM_E_USAGE.
 */
int model_check_nickname_shape(const char *nickname, struct esim_err *err);

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
/*
 * Strings.  A record's strings are the store's: each is either a copy in the store's
 * pool (model_strdup(); the loader makes all of them so) or a malloc()ed string handed
 * over with a record (model_add_*).  Replace or drop one only through the model:
 * model_set_str() for any field, the setters below for indexed ones; never free() one.
 */
char *model_strdup(struct store *s, const char *str);
/* *field = a copy of value (NULL for NULL), the old string dropped. */
void model_set_str(struct store *s, char **field, const char *value);
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
/* 1 when the inventory holds a phone marked primary. */
int model_has_primary_phone(const struct store *s);

/*
 * Full id for a key (canonical code, or an ICCID): the first PROFILE_ID_LEN hex digits of
 * its SHA-256.  model_profile_id_n() with n > 0 hashes key, '#' and n in decimal instead:
 * the n-th alternative when the first id is taken by a different code.
 */
void model_profile_id(const char *key, char out[PROFILE_ID_LEN + 1]);
void model_profile_id_n(const char *key, unsigned n, char out[PROFILE_ID_LEN + 1]);
/* 1 when id is a valid stored profile id: 8 or 16 lower-case hex digits. */
int model_valid_profile_id(const char *id);
/* Device names: [A-Za-z0-9._-], 1..64, not starting with '-'. */
int model_valid_device_name(const char *name, struct esim_err *err);

/*
 * JSON text <-> model (store_json.c).  store_from_json() validates everything (a store
 * as esimctl writes it is parsed and loaded one record at a time, any other text as one
 * cJSON tree, with the same result); an error
 * is ESIM_E_STORE naming `srcname`, the line and column (syntax) or the JSON path
 * ("profiles[3].carrier: missing") of the problem; an unknown "schema" is refused.
 */
int store_from_json(const char *text, size_t len, const char *srcname, struct store **out,
		    struct esim_err *err);
/*
 * store_from_json() of text that is not needed afterwards: it is wiped and released
 * before this returns (a text loaded as one tree, as soon as cJSON has parsed it).  text
 * is empty (BUF_INIT) on return.
 */
int store_from_json_buf(struct buf *text, const char *srcname, struct store **out,
			struct esim_err *err);
void store_to_json(const struct store *s, struct buf *out);

#endif
