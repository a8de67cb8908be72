/* html.c — head, top bar and error page shared by every server-rendered dashboard page. */
#include "html.h"

void html_head(struct buf *b, const char *title, int refresh)
{
	buf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	/* only without JavaScript: with it, app.js follows the build live instead */
	if (refresh)
		buf_puts(b, "<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>\n");
	buf_puts(b, "<title>");
	buf_put_html(b, title);
	buf_puts(b, " · skiff</title>\n<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
		    "<link rel=\"stylesheet\" href=\"/style.css\">\n"
		    "<script src=\"/app.js\" defer></script>\n</head>\n<body>\n"
		    "<header class=\"topbar\">\n\t<a class=\"brand\" href=\"/\">skiff</a>\n"
		    "\t<nav><a href=\"/\">Deploy</a><a href=\"/projects\">Projects</a></nav>\n"
		    "</header>\n");
}

void html_send(struct http_response *resp, struct buf *b, int status)
{
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	response_header(resp, "Cache-Control", "no-cache");
	response_header(resp, "X-Content-Type-Options", "nosniff");
	response_header(resp, "Content-Security-Policy",
		    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
	buf_reset(&resp->body);
	buf_append(&resp->body, buf_cstr(b), b->len);
	buf_dispose(b);
}

int html_error(struct http_request *req, struct http_response *resp, const struct error *err,
	       const char *back_href, const char *back_text)
{
	response_log_error(req, err);
	int status = error_status(err->code);
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, "Error", 0);
	buf_puts(&b, "<main id=\"error-page\" class=\"page\">\n<h1>");
	buf_put_html(&b, status == 404 ? "Not found" : status >= 500 ? "Something went wrong"
								  : "That did not work");
	buf_puts(&b, "</h1>\n<div id=\"error\" class=\"error-box\" role=\"alert\" data-code=\"");
	buf_put_html(&b, err->name);
	buf_puts(&b, "\">");
	buf_put_html(&b, err->message);
	buf_puts(&b, "</div>\n<p><a href=\"");
	buf_put_html(&b, back_href);
	buf_puts(&b, "\">");
	buf_put_html(&b, back_text);
	buf_puts(&b, "</a></p>\n</main>\n</body>\n</html>\n");
	html_send(resp, &b, status);
	return status;
}
