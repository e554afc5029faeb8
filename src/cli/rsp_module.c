/*
 * rsp_module.c - the door to esimctl-rsp.so, the SGP.22 module.
 *
 * Everything that needs libcrypto (the eUICC backends, ES9+, the LPA procedures and
 * the commands that drive eUICCs) is built into esimctl-rsp.so and loaded here on
 * first use, so commands that touch no eUICC never map libcrypto (see CMakeLists.txt).
 * Each function below has the name and signature of the module's function it forwards
 * to (lpa_glue.h, cmd.h), through the function table of the module's one exported
 * symbol, its versioned descriptor (rsp_module.h); the module is linked -Bsymbolic, so
 * its own calls never land back here.
 *
 * The module is looked up in $ESIMCTL_RSP_MODULE, next to the binary (the build tree),
 * in ../libexec/esimctl beside it, and in the configured libexec directory.  A module
 * whose descriptor differs from this build's (ABI number, struct sizes) is refused
 * before anything in it runs: exit 1, "... is version X, this esimctl needs Y: reinstall".
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/rsp/lpa_glue.h"
#include "cli/rsp/backend.h"
#include "cli/rsp/rsp_module.h"

#ifndef ESIMCTL_LIBEXECDIR
#define ESIMCTL_LIBEXECDIR "/usr/local/libexec/esimctl"
#endif
#define MODULE_NAME "esimctl-rsp.so"

static void *module;
static const struct rsp_module *desc;

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

/* The first shared struct whose size differs, or NULL. */
static const char *size_mismatch(const struct rsp_module *m, const struct rsp_module *want,
				 uint32_t *got, uint32_t *need)
{
	const struct {
		const char *name;
		uint32_t got, need;
	} sizes[] = {
		{ "struct rsp_module", m->size, want->size },
		{ "struct app", m->sizeof_app, want->sizeof_app },
		{ "struct store", m->sizeof_store, want->sizeof_store },
		{ "struct device", m->sizeof_device, want->sizeof_device },
		{ "struct profile", m->sizeof_profile, want->sizeof_profile },
		{ "struct binding", m->sizeof_binding, want->sizeof_binding },
		{ "struct actcode", m->sizeof_actcode, want->sizeof_actcode },
		{ "struct esim_err", m->sizeof_err, want->sizeof_err },
		{ "struct buf", m->sizeof_buf, want->sizeof_buf },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i].got != sizes[i].need) {
			*got = sizes[i].got;
			*need = sizes[i].need;
			return sizes[i].name;
		}
	}
	return NULL;
}

/* Read and check the module's descriptor: 0, or -1 with err (the module is closed). */
static int check_descriptor(const char *path, struct esim_err *err)
{
	static const struct rsp_module want = { RSP_MODULE_SIZES };
	const struct rsp_module *m = dlsym(module, RSP_MODULE_SYMBOL);
	const char *what = NULL;
	uint32_t got = 0, need = 0;

	if (!m)
		esim_fail(err, ESIM_E_OTHER,
			  "%s at %s is version 0 (it has no %s descriptor), this esimctl needs %u: reinstall",
			  MODULE_NAME, path, RSP_MODULE_SYMBOL, RSP_MODULE_ABI);
	else if (m->abi != RSP_MODULE_ABI)
		esim_fail(err, ESIM_E_OTHER, "%s at %s is version %u, this esimctl needs %u: reinstall",
			  MODULE_NAME, path, m->abi, RSP_MODULE_ABI);
	else if ((what = size_mismatch(m, &want, &got, &need)) != NULL)
		esim_fail(err, ESIM_E_OTHER,
			  "%s at %s is version %u (%s of %u bytes), this esimctl needs %u (%s of %u bytes): reinstall",
			  MODULE_NAME, path, m->abi, what, got, RSP_MODULE_ABI, what, need);
	else {
		desc = m;
		return 0;
	}
	esim_hint(err, "install %s from the same build as this esimctl (%s), or point "
		  "ESIMCTL_RSP_MODULE at it", MODULE_NAME, ESIMCTL_VERSION);
	dlclose(module);
	module = NULL;
	return -1;
}

static const struct rsp_module *module_desc(struct esim_err *err)
{
	char self[PATH_MAX], path[PATH_MAX + 64], why[512] = "";
	struct buf tried = BUF_INIT;
	const char *env = getenv("ESIMCTL_RSP_MODULE");
	const char *opened = path;

	if (desc)
		return desc;
	if (!module) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		self[n > 0 ? n : 0] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		if (env && *env) {
			opened = env;
			try_open(env, &tried, why, sizeof(why));
		} else {
			snprintf(path, sizeof(path), "%s/" MODULE_NAME, self);
			if (!n || try_open(path, &tried, why, sizeof(why)) < 0) {
				snprintf(path, sizeof(path), "%s/../libexec/esimctl/" MODULE_NAME, self);
				if (!n || try_open(path, &tried, why, sizeof(why)) < 0) {
					snprintf(path, sizeof(path), "%s", ESIMCTL_LIBEXECDIR "/" MODULE_NAME);
					try_open(path, &tried, why, sizeof(why));
				}
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
	if (check_descriptor(opened, err) < 0)
		return NULL;
	return desc;
}

int glue_has_euicc(const struct device *d)
{
	return d && d->euicc != NULL;
}

/* Forward to the module's function of the same name, or fail with err. */
#define FORWARD(ret_err, name, params, args, err)                                     \
	int name params                                                                 \
	{                                                                               \
		const struct rsp_module *m_ = module_desc(err);                         \
                                                                                        \
		if (!m_)                                                                \
			return ret_err;                                                 \
		return m_->name args;                                                   \
	}

FORWARD(-1, backend_probe, (struct app *app, const char *uri, const char *isdr_aid, struct buf *normalized,
			    char eid[33], char aid_used[ISDR_AID_HEX], struct esim_err *err),
	(app, uri, isdr_aid, normalized, eid, aid_used, err), err)
FORWARD(-1, glue_download, (struct app *app, const char *path, const struct store *s, const struct actcode *ac,
			    const struct device *d, char *cc, struct profile *p, glue_record_fn record,
			    struct store **final), (app, path, s, ac, d, cc, p, record, final), &app->err)
FORWARD(-1, glue_release_on_device, (struct app *app, struct store *s, struct profile *p, struct device *d),
	(app, s, p, d), &app->err)

FORWARD(-1, glue_hold, (struct app *app, const struct device *d), (app, d), &app->err)
FORWARD(-1, glue_finish, (struct app *app, const char *path), (app, path), &app->err)

/*
 * A move whose source has no eUICC has nothing to delete there: it needs no module (and
 * so no libcrypto or libcurl in a plain transfer's process).
 */
int glue_transfer_release_source(struct app *app, struct store *s, struct profile *p, const char *from)
{
	const struct rsp_module *m;

	if (!glue_has_euicc(model_device(s, from)))
		return 0;
	if (!(m = module_desc(&app->err)))
		return -1;
	return m->glue_transfer_release_source(app, s, p, from);
}

/* The eUICC-free part of the transfer check needs no module. */
int glue_transfer_check(struct app *app, struct store *s, const struct profile *p, const char *from,
			const struct device *to)
{
	const struct device *src = from ? model_device(s, from) : NULL;

	(void)to;
	if (glue_has_euicc(src) && !p->iccid)
		return app_fail(app, ESIM_E_USAGE, "profile %s has no ICCID, so it cannot be deleted from the eUICC of '%s'",
				model_profile_shown_id(s, p), src->name);
	return 0;
}

#define FORWARD_CMD(name) FORWARD(-1, name, (struct app *app, int argc, char **argv), (app, argc, argv), &app->err)
FORWARD_CMD(cmd_euicc_create_soft)
FORWARD_CMD(cmd_euicc_info)
FORWARD_CMD(cmd_euicc_enable)
FORWARD_CMD(cmd_euicc_disable)
FORWARD_CMD(cmd_euicc_nickname)
FORWARD_CMD(cmd_euicc_serve)
FORWARD_CMD(cmd_euicc_sync)
FORWARD_CMD(cmd_euicc_scan)
FORWARD_CMD(cmd_notifications_list)
FORWARD_CMD(cmd_notifications_send)
FORWARD_CMD(cmd_notifications_remove)
