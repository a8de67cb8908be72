/* site_config.h — a deployment's manifest "config" (manifest.h): skiff.json's cleanUrls,
 * trailingSlash and spa, and the routing rules of `_redirects`, `_headers` and skiff.json,
 * parsed by lib/rules. One function for the local build and for the deploy protocol. */
#ifndef SKIFF_SITE_CONFIG_H
#define SKIFF_SITE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include "detect.h"

/* Receives one line for the build log per rule skipped, and a summary. */
typedef void (*site_config_note_fn)(void *ctx, const char *msg);

/* The config object (new reference) from d's skiff.json settings and the texts of
 * `_redirects` and `_headers` (either may be NULL): file rules first, then skiff.json's, as
 * Netlify orders _redirects before netlify.toml. */
json_t *site_config_build(const struct detect_result *d, const char *redirects,
			  size_t redirects_len, const char *headers, size_t headers_len,
			  site_config_note_fn note, void *ctx);

#endif
