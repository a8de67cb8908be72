/* site.h — the manifest's "config" from skiff.json, _redirects and _headers. */
#ifndef SKIFF_BUILD_SITE_H
#define SKIFF_BUILD_SITE_H

#include "build.h"
#include <jansson.h>
/* The manifest's "config" (skiff.json settings, _redirects, _headers). */
json_t *build_site_config(struct build *b, const char *redirects, size_t redirects_len,
			  const char *headers, size_t headers_len);

#endif
