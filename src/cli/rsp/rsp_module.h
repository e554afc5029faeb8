/*
 * rsp_module.h - the versioned descriptor esimctl-rsp.so exports to the esimctl binary.
 *
 * The binary and the module share struct layouts (struct app, the model, errors,
 * buffers) and call into each other.  A module built from other sources, left behind in
 * libexec by an older or newer install, would read those structs with another layout
 * and corrupt memory silently.  So the module exports exactly one symbol,
 * RSP_MODULE_SYMBOL, of this type; the loader (src/cli/rsp_module.c) reads abi first,
 * then every size, and refuses the module on any difference:
 *   "esimctl-rsp.so at PATH is version X, this esimctl needs Y: reinstall" (exit 1).
 *
 * Contract: bump RSP_MODULE_ABI whenever this struct, a function's signature in the
 * table, or the meaning of a shared struct changes.  The leading abi/size fields never
 * move, so any two builds can compare them.
 */
#ifndef ESIMCTL_RSP_MODULE_H
#define ESIMCTL_RSP_MODULE_H

#include <stdint.h>

#include "cli/cmd.h"
#include "cli/rsp/lpa_glue.h"
#include "esimctl/isdr.h"

#define RSP_MODULE_ABI 5u
#define RSP_MODULE_SYMBOL "esimctl_rsp_module"

struct rsp_module {
	uint32_t abi;              /* RSP_MODULE_ABI of the module's build */
	uint32_t size;             /* sizeof(struct rsp_module) */
	/* sizeof() of every struct shared with the binary, in the module's build */
	uint32_t sizeof_app, sizeof_store, sizeof_device, sizeof_profile, sizeof_binding;
	uint32_t sizeof_actcode, sizeof_err, sizeof_buf;
	const char *version;       /* ESIMCTL_VERSION, for messages */
	/* the function table: the module's entry points */
	int (*backend_probe)(struct app *app, const char *uri, const char *isdr_aid,
			     struct buf *normalized, char eid[33], char aid_used[ISDR_AID_HEX],
			     struct esim_err *err);
	int (*glue_download)(struct app *app, const char *path, const struct store *s,
			     const struct actcode *ac, const struct device *d, char *cc, struct profile *p,
			     glue_record_fn record, struct store **final);
	int (*glue_hold)(struct app *app, const struct device *d);
	int (*glue_finish)(struct app *app, const char *path);
	int (*glue_release_on_device)(struct app *app, struct store *s, struct profile *p, struct device *d);
	int (*glue_transfer_release_source)(struct app *app, struct store *s, struct profile *p,
					    const char *from);
	int (*cmd_euicc_create_soft)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_info)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_enable)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_disable)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_nickname)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_sync)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_serve)(struct app *app, int argc, char **argv);
	int (*cmd_notifications_list)(struct app *app, int argc, char **argv);
	int (*cmd_notifications_send)(struct app *app, int argc, char **argv);
	int (*cmd_notifications_remove)(struct app *app, int argc, char **argv);
	int (*cmd_euicc_scan)(struct app *app, int argc, char **argv);
};

/* The sizes part of a descriptor for this build (abi, size and the sizeof_ fields). */
#define RSP_MODULE_SIZES                                                                  \
	.abi = RSP_MODULE_ABI, .size = sizeof(struct rsp_module),                         \
	.sizeof_app = sizeof(struct app), .sizeof_store = sizeof(struct store),           \
	.sizeof_device = sizeof(struct device), .sizeof_profile = sizeof(struct profile), \
	.sizeof_binding = sizeof(struct binding), .sizeof_actcode = sizeof(struct actcode), \
	.sizeof_err = sizeof(struct esim_err), .sizeof_buf = sizeof(struct buf)

#endif
