/* html_settings.h — a project's settings page (/projects/{slug}/settings): a plain HTML form
 * posted to skiff-create, rendered by skiff-status (GET) and by skiff-create after a failed
 * post (with what was typed) or a webhook secret rotation (shown once). Layout contract:
 * doc/dashboard.md. */
#ifndef SKIFF_HTML_SETTINGS_H
#define SKIFF_HTML_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include "error.h"
#include "request.h"
#include "response.h"

#define HTML_SETTINGS_NEW_ROWS 3   /* empty variable rows under the existing ones */

/* Renders the page of project slug. typed (may be NULL): the form as posted, shown instead of
 * the stored settings (secret values never written back); err (may be NULL): why the post
 * failed, with its status, above the form and by its field; rotated (may be NULL): a new
 * webhook secret to show once; saved: the "saved" notice. A missing project is a 404 page. */
int html_settings_render(struct http_request *req, struct http_response *resp, const char *slug,
			 json_t *typed, const struct error *err, const char *rotated, bool saved);

#endif
