/* api.h — how records look to API clients: site URLs and the JSON shapes of projects and
 * deployments, shared by every program that answers with them. */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include "model.h"

/* "http://{slug}.{domain}[:port]/" or, with id, the immutable "{slug}--{id}" URL (or, with
 * a preview key for id, the preview's "{slug}--{key}"). */
void api_site_url(const struct config *cfg, const char *slug, const char *id, char *out,
		  size_t outlen);
/* An address on the dashboard host: dashboard_url followed by the formatted path ("/..."),
 * so that every URL an answer names is absolute. */
void api_dashboard_url(const struct config *cfg, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A deployment → its API object (new reference); current_id (may be NULL) is its project's. */
json_t *api_deployment(const struct config *cfg, const struct deployment *d,
		       const char *current_id);
/* A project → its API object (new reference). */
json_t *api_project(const struct config *cfg, const struct project *p);
struct repo_access;
/* How skiff reaches a project's repository (new reference): whether a token is set and its
 * user, the deploy key's public half and fingerprint, the pinned host key; never a secret. */
json_t *api_repository(const struct repo_access *a);
/* A preview of project slug → its API object (new reference), with its address as "url". */
json_t *api_preview(const struct config *cfg, const char *slug, const struct preview *pv);

#endif
