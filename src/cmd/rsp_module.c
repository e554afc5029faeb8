/*
 * rsp_module.c - the door to esimctl-rsp.so, the SGP.22 module.
 *
 * Everything that needs libcrypto (the eUICC backends, ES9+, the LPA procedures and
 * the commands that drive eUICCs) is built into esimctl-rsp.so and loaded here on
 * first use, so commands that touch no eUICC never map libcrypto (see CMakeLists.txt).
 * Each function below has the name and signature of the module's function it forwards
 * to (lpa_glue.h, cmd.h); the module is linked -Bsymbolic, so its own calls never land
 * back here.
 *
 * The module is looked up in $ESIMCTL_RSP_MODULE, next to the binary (the build tree),
 * in ../libexec/esimctl beside it, and in the configured libexec directory.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/lpa_glue.h"
#include "euicc/backend.h"

#ifndef ESIMCTL_LIBEXECDIR
#define ESIMCTL_LIBEXECDIR "/usr/local/libexec/esimctl"
#endif
#define MODULE_NAME "esimctl-rsp.so"

static void *module;

static int try_open(const char *path, struct buf *tried, char *why, size_t whysz)
{
	buf_addf(tried, "%s%s", tried->len ? ", " : "", path);
	if (access(path, R_OK) != 0)
		return -1;
	module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!module) {
		snprintf(why, whysz, "%s", dlerror());
		return -1;
	}
	return 0;
}

static void *module_sym(const char *name, struct esim_err *err)
{
	char self[PATH_MAX], path[PATH_MAX + 64], why[512] = "";
	struct buf tried = BUF_INIT;
	const char *env = getenv("ESIMCTL_RSP_MODULE");
	void *f;

	if (!module) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		self[n > 0 ? n : 0] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		if (env && *env) {
			try_open(env, &tried, why, sizeof(why));
		} else {
			snprintf(path, sizeof(path), "%s/" MODULE_NAME, self);
			if (!n || try_open(path, &tried, why, sizeof(why)) < 0) {
				snprintf(path, sizeof(path), "%s/../libexec/esimctl/" MODULE_NAME, self);
				if (!n || try_open(path, &tried, why, sizeof(why)) < 0)
					try_open(ESIMCTL_LIBEXECDIR "/" MODULE_NAME, &tried, why, sizeof(why));
			}
		}
		if (!module) {
			esim_fail(err, ESIM_E_OTHER, "cannot load the SGP.22 module %s (tried %s)%s%s", MODULE_NAME,
				  tried.buf, why[0] ? ": " : "", why);
			esim_hint(err, "reinstall esimctl, or point ESIMCTL_RSP_MODULE at %s", MODULE_NAME);
			buf_release(&tried);
			return NULL;
		}
	}
	buf_release(&tried);
	if (!(f = dlsym(module, name)))
		esim_fail(err, ESIM_E_OTHER, "the SGP.22 module has no '%s': it does not match this esimctl", name);
	return f;
}

int glue_has_euicc(const struct device *d)
{
	return d && d->euicc != NULL;
}

/* Forward to the module's function of the same name, or fail with err. */
#define FORWARD(ret_err, name, params, args, err)                                     \
	int name params                                                                 \
	{                                                                               \
		int (*fn_) params;                                                      \
		void *sym_ = module_sym(#name, err);                                    \
                                                                                        \
		if (!sym_)                                                              \
			return ret_err;                                                 \
		memcpy(&fn_, &sym_, sizeof(fn_));                                      \
		return fn_ args;                                                        \
	}

FORWARD(-1, backend_probe, (const char *uri, struct buf *normalized, char eid[33], struct esim_err *err),
	(uri, normalized, eid, err), err)
FORWARD(-1, glue_download, (struct app *app, const char *path, const struct store *s, const struct actcode *ac,
			    const struct device *d, char *cc, struct profile *p, glue_record_fn record,
			    struct store **final), (app, path, s, ac, d, cc, p, record, final), &app->err)
FORWARD(-1, glue_release_on_device, (struct app *app, struct store *s, struct profile *p, struct device *d),
	(app, s, p, d), &app->err)
FORWARD(-1, glue_transfer_release_source, (struct app *app, struct store *s, struct profile *p, const char *from),
	(app, s, p, from), &app->err)

FORWARD(-1, glue_hold, (struct app *app, const struct device *d), (app, d), &app->err)
FORWARD(-1, glue_finish, (struct app *app, const char *path), (app, path), &app->err)

/* The eUICC-free part of the transfer check needs no module. */
int glue_transfer_check(struct app *app, struct store *s, const struct profile *p, const char *from,
			const struct device *to)
{
	const struct device *src = from ? model_device(s, from) : NULL;

	(void)to;
	if (glue_has_euicc(src) && !p->iccid)
		return app_fail(app, ESIM_E_USAGE, "profile %s has no ICCID, so it cannot be deleted from the eUICC of '%s'",
				p->id, src->name);
	return 0;
}

#define FORWARD_CMD(name) FORWARD(-1, name, (struct app *app, int argc, char **argv), (app, argc, argv), &app->err)
FORWARD_CMD(cmd_euicc_create_soft)
FORWARD_CMD(cmd_euicc_info)
FORWARD_CMD(cmd_euicc_enable)
FORWARD_CMD(cmd_euicc_disable)
FORWARD_CMD(cmd_euicc_nickname)
FORWARD_CMD(cmd_euicc_sync)
FORWARD_CMD(cmd_notifications_list)
FORWARD_CMD(cmd_notifications_send)
FORWARD_CMD(cmd_notifications_remove)
