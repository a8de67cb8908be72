/* html_form.h — the deploy form as the server renders it: after a failed form post (with what
 * was typed and the error next to its field) and at GET /project (with the configuration's
 * hint). htdocs/index.html is the same form, static. Layout contract: doc/dashboard.md. */
#ifndef SKIFF_HTML_FORM_H
#define SKIFF_HTML_FORM_H

#include <jansson.h>
#include "buf.h"
#include "config.h"
#include "error.h"
#include "request.h"
#include "response.h"

/* The hint under the repository field: which URLs this server accepts. */
const char *html_form_git_hint(const struct config *cfg);
/* A whole page (<main id="home">) with the deploy form. values (may be NULL) holds the fields
 * as posted (strings); the webhook secret is never written back. err (may be NULL) is shown
 * above the form, worded with the label of the field it concerns, and that field is marked. */
void html_form_page(struct buf *b, const struct config *cfg, json_t *values,
		    const struct error *err);
/* The page of a failed form post: the form with values and err, with err's status; logs
 * like response_error. */
int html_form_error(struct http_request *req, struct http_response *resp, json_t *values,
		    const struct error *err);

#endif
