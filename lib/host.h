/* host.h — which site a request's Host header names: {slug}.{domain} (the project's current
 * deployment), {slug}--{id}.{domain} (one deployment, forever) or {slug}--{key}.{domain} (a
 * preview: key "b-…" for a branch, "pr-N" for a pull request; preview.h). */
#ifndef SKIFF_HOST_H
#define SKIFF_HOST_H

#include <stdbool.h>
#include "buf.h"
#include "error.h"
#include "id.h"
#include "preview.h"
#include "validate.h"

#define HOST_MAX 255
#define HOST_DOMAIN_MAX 253      /* a custom domain's name, without a trailing dot */
#define HOST_LABEL_MAX 63

struct host_site {
	char slug[SLUG_MAX + 1];
	char deployment[ID_LEN + 1];   /* "" for the current deployment */
	char preview[PREVIEW_KEY_MAX + 1];  /* a preview's key, or "" */
};

/* Parses host (the raw Host header) against domain and port (0 or 80: no port, or ":80").
 * Case-insensitive. Returns 0 and fills site, SKIFF_EINVALID for a malformed Host (empty,
 * over HOST_MAX, characters outside [a-z0-9.-], "..", a bad port), SKIFF_ENOTFOUND for a
 * well-formed host that names no site (another domain or port, nested labels, a bad slug,
 * deployment id or preview key). */
int host_site_parse(const char *host, const char *domain, long port, struct host_site *site);

/* The host name of the raw Host header host, lower-cased, without the port (which must be
 * port, as for host_site_parse) and without a trailing dot, into out. SKIFF_EINVALID for a
 * malformed Host, SKIFF_ENOTFOUND for another port. */
int host_name_parse(const char *host, long port, char out[HOST_MAX + 1]);

/* 0 when name may be a project's custom domain: lower-case A-labels of [a-z0-9-] (1-63
 * each, no '-' at either end, "--" in third position only as "xn--"), at least two of them,
 * 253 bytes at most, not an IP address (a numeric last label), not domain nor under it.
 * Else SKIFF_EINVALID with err's code invalid_domain or domain_reserved. */
int host_domain_check(const char *name, const char *domain, struct error *err);

/* Appends to b the absolute URL scheme://name[:port]path[?query] of a redirect that keeps
 * the request's path and query: https or http; port left out when 0 or the scheme's default;
 * a path that does not begin with '/' (an absolute-form request target) becomes "/"; every
 * byte of path and query outside '!'..'~' (controls, CR, LF, space, non-ASCII) is written
 * as %XX. name is the caller's, never the request's Host. Returns b->err. */
int host_location(struct buf *b, bool https, const char *name, long port, const char *path,
		  const char *query);

#endif
