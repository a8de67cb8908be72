/* settings.h — the routes that change a project's settings and variables. */
#ifndef SKIFF_CREATE_SETTINGS_H
#define SKIFF_CREATE_SETTINGS_H

#include "endpoint.h"

/* PATCH /api/projects/{slug} (JSON) and POST /projects/{slug}/settings (the form). */
int create_settings(struct http_request *req, struct http_response *resp);
/* POST /api/projects/{slug}/domains/primary: the primary domain and whether {slug}.{domain}
 * redirects to it (the project page's form; JSON works too). */
int create_primary(struct http_request *req, struct http_response *resp);
/* PUT and DELETE /api/projects/{slug}/env/{NAME}. */
int create_env_put(struct http_request *req, struct http_response *resp);
int create_env_delete(struct http_request *req, struct http_response *resp);

#endif
