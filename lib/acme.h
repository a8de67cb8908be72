/* acme.h — the web server configuration that gives custom domains their certificates: under
 * Apache an include file of mod_md managed domains, each with its HTTPS virtual host. */
#ifndef SKIFF_ACME_H
#define SKIFF_ACME_H

#include <jansson.h>
#include "buf.h"
#include "config.h"
#include "error.h"

#define ACME_FILE_MAX (1024 * 1024)    /* bytes of the generated file */

/* The text of cfg->acme_file for the domains names (a JSON array of validated names, sorted)
 * into out, and the names it covers into *covered (a new array): for acme = apache one
 * MDomainSet (HTTP redirected to HTTPS once its certificate is valid) and an HTTP and an
 * HTTPS virtual host including cfg->acme_site per name, all of them covered; for acme =
 * lighttpd the certificate and key of each name whose certificate is in acme_cert_dir
 * (picked by SNI), only those covered. */
int acme_render(const struct config *cfg, json_t *names, struct buf *out, json_t **covered,
		struct error *err);
/* Changes whenever the client puts a new certificate for name in acme_cert_dir; 0 for none. */
long long acme_cert_version(const struct config *cfg, const char *name);
/* 1 when acme_cert_dir holds a certificate and key for name. */
int acme_cert_present(const struct config *cfg, const char *name);

/* Writes data to path atomically (a temporary file renamed over it, mode 0644); 1 when the
 * content changed, 0 when path already held exactly data. */
int acme_write(const char *path, const struct buf *data, struct error *err);

#endif
