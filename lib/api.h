/* api.h — how records look to API clients: site URLs and the JSON shapes of projects and
 * deployments, shared by every program that answers with them. */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <jansson.h>
#include <stddef.h>
#include "config.h"

/* "http://{slug}.{domain}[:port]/" or, with id, the immutable "{slug}--{id}" URL. */
void api_site_url(const struct config *cfg, const char *slug, const char *id, char *out,
		  size_t outlen);
/* A deployment record (object of strings, as stored) → API object (new reference). */
json_t *api_deployment(const struct config *cfg, json_t *record, const char *current_id);
/* A project record → API object (new reference). */
json_t *api_project(const struct config *cfg, json_t *record);
/* 1 for ready, error, canceled, expired. */
int api_state_final(const char *state);

#endif
