/* host.h — which site a request's Host header names: {slug}.{domain} (the project's current
 * deployment), {slug}--{id}.{domain} (one deployment, forever) or {slug}--{key}.{domain} (a
 * preview: key "b-…" for a branch, "pr-N" for a pull request; preview.h). */
#ifndef SKIFF_HOST_H
#define SKIFF_HOST_H

#include "id.h"
#include "preview.h"
#include "validate.h"

#define HOST_MAX 255

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

#endif
