/*
 * badmodule.c - deliberately mismatched stand-ins for esimctl-rsp.so, for the loader's
 * version check (src/cli/rsp_module.c, tests/cli/t1220-module-abi.sh).  Built three
 * times: BADMODULE_abi (the next ABI number), BADMODULE_size (this ABI, but a struct app
 * 8 bytes larger, as a module built from other sources would have), BADMODULE_none (no
 * descriptor at all, like a module from before the descriptor).  Every entry point
 * aborts: the loader must refuse the module before calling any.
 */
#include <stdlib.h>

#include "cli/rsp/rsp_module.h"

static int trap(struct app *app, int argc, char **argv)
{
	(void)app;
	(void)argc;
	(void)argv;
	abort();
}

int cmd_euicc_info(struct app *app, int argc, char **argv);
int cmd_euicc_info(struct app *app, int argc, char **argv)
{
	return trap(app, argc, argv);
}

#ifdef BADMODULE_abi
#define ABI (RSP_MODULE_ABI + 1)
#else
#define ABI RSP_MODULE_ABI
#endif
#ifdef BADMODULE_size
#define APP_SIZE (sizeof(struct app) + 8)
#else
#define APP_SIZE sizeof(struct app)
#endif

#ifndef BADMODULE_none
extern const struct rsp_module esimctl_rsp_module;
const struct rsp_module esimctl_rsp_module = {
	.abi = ABI, .size = sizeof(struct rsp_module), .sizeof_app = APP_SIZE,
	.sizeof_store = sizeof(struct store), .sizeof_device = sizeof(struct device),
	.sizeof_profile = sizeof(struct profile), .sizeof_binding = sizeof(struct binding),
	.sizeof_actcode = sizeof(struct actcode), .sizeof_err = sizeof(struct esim_err),
	.sizeof_buf = sizeof(struct buf),
	.version = "mismatched",
	.cmd_euicc_create_soft = trap,
	.cmd_euicc_info = trap,
	.cmd_euicc_enable = trap,
	.cmd_euicc_disable = trap,
	.cmd_euicc_nickname = trap,
	.cmd_notifications_list = trap,
	.cmd_notifications_send = trap,
	.cmd_notifications_remove = trap,
};
#endif
