/* html.h — the dashboard's page chrome for server-rendered HTML (skiff-status pages and
 * skiff-create's answers to plain form posts). Layout contract: doc/dashboard.md. */
#ifndef SKIFF_HTML_H
#define SKIFF_HTML_H

#include "buf.h"
#include "error.h"
#include "request.h"
#include "response.h"

#define HTML_PAGE_MAX (32u << 20)

/* <!doctype> … <header class="topbar">; refresh adds a <noscript> meta refresh (2 s). */
void html_head(struct buf *b, const char *title, int refresh);
/* Sets the response to the page in b (takes b's data) with the dashboard's headers. */
void html_send(struct http_response *resp, struct buf *b, int status);
/* A complete error page with err's status, message and a link back; logs like response_error. */
int html_error(struct http_request *req, struct http_response *resp, const struct error *err,
	       const char *back_href, const char *back_text);

#endif
