/*
 * rsp_export.c - the one symbol esimctl-rsp.so exports to the binary: its versioned
 * descriptor (rsp_module.h).  Built into the module only.
 */
#include "cli/rsp/lpa_glue.h"
#include "cli/rsp/rsp_module.h"
#include "cli/rsp/backend.h"

extern const struct rsp_module esimctl_rsp_module;

__attribute__((visibility("default"))) const struct rsp_module esimctl_rsp_module = {
	RSP_MODULE_SIZES,
	.version = ESIMCTL_VERSION,
	.backend_probe = backend_probe,
	.glue_download = glue_download,
	.glue_hold = glue_hold,
	.glue_finish = glue_finish,
	.glue_release_on_device = glue_release_on_device,
	.glue_transfer_release_source = glue_transfer_release_source,
	.cmd_euicc_create_soft = cmd_euicc_create_soft,
	.cmd_euicc_info = cmd_euicc_info,
	.cmd_euicc_enable = cmd_euicc_enable,
	.cmd_euicc_disable = cmd_euicc_disable,
	.cmd_euicc_nickname = cmd_euicc_nickname,
	.cmd_euicc_sync = cmd_euicc_sync,
	.cmd_euicc_serve = cmd_euicc_serve,
	.cmd_notifications_list = cmd_notifications_list,
	.cmd_notifications_send = cmd_notifications_send,
	.cmd_notifications_remove = cmd_notifications_remove,
};
