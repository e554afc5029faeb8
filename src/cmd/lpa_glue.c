/* lpa_glue.c - placeholder while the ES9+ client lands */
#include "cmd/lpa_glue.h"
#include "euicc/backend.h"
int backend_probe(const char *uri, struct buf *normalized, char eid[33], struct esim_err *err)
{ (void)normalized; (void)eid; return esim_fail(err, ESIM_E_USAGE, "eUICC backend '%s' unavailable", uri); }
int glue_has_euicc(const struct device *d) { return d && d->euicc != NULL; }
int glue_transfer_check(struct app *app, struct store *s, const struct profile *p, const char *from, const struct device *to)
{ (void)app; (void)s; (void)p; (void)from; (void)to; return 0; }
int glue_transfer_release_source(struct app *app, struct store *s, struct profile *p, const char *from)
{ (void)app; (void)s; (void)p; (void)from; return 0; }
int glue_release_on_device(struct app *app, struct store *s, struct profile *p, struct device *d)
{ (void)app; (void)s; (void)p; (void)d; return 0; }
int glue_download(struct app *app, struct store *s, const struct actcode *ac, struct device *d, const char *cc, struct profile *p)
{ (void)s; (void)ac; (void)cc; (void)p; return app_fail(app, ESIM_E_NOREADER, "cannot reach eUICC of '%s'", d->name); }
