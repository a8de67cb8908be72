/* response.c — the response a handler fills in, and the one function that writes it. */
#include "response.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

void response_header_str(struct http_response *resp, const char *name, const char *value)
{
	size_t n = strnlen(value, RESPONSE_HEADER_VALUE_MAX - 1);
	buf_puts(&resp->headers, name);
	buf_append(&resp->headers, ": ", 2);
	size_t at = resp->headers.len;
	buf_append(&resp->headers, value, n);
	/* a header value never carries a line break */
	if (resp->headers.err == 0 && strcspn(value, "\r\n") < n)
		for (char *p = resp->headers.data + at; p < resp->headers.data + at + n; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
	buf_append(&resp->headers, "\r\n", 2);
}

void response_header(struct http_response *resp, const char *name, const char *fmt, ...)
{
	char value[RESPONSE_HEADER_VALUE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	response_header_str(resp, name, value);
}

/* "Name: value\r\n" with a number, without printf (every response has one or two). */
static void response_head_number(struct buf *b, const char *name, unsigned long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	buf_puts(b, name);
	buf_append(b, p, (size_t)(digits + sizeof(digits) - p));
	buf_append(b, "\r\n", 2);
}

int response_json(struct http_response *resp, int status, json_t *obj)
{
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (!s)
		abort();
	buf_puts(&resp->body, s);
	buf_putc(&resp->body, '\n');
	free(s);
	return status;
}

void response_log_error(const struct http_request *req, const struct error *err)
{
	int status = error_status(err->code);
	const char *name = err->name[0] ? err->name : error_default_name(err->code);
	if (status >= 500)
		log_error("request failed method=%s path=%s status=%d code=%s message=\"%s\"",
			  req->method, req->log_path ? req->log_path : "-", status, name, err->message);
	else
		log_info("request refused method=%s path=%s status=%d code=%s message=\"%s\"",
			 req->method, req->log_path ? req->log_path : "-", status, name, err->message);
}

int response_error(struct http_request *req, struct http_response *resp, const struct error *err)
{
	const char *name = err->name[0] ? err->name : error_default_name(err->code);
	response_log_error(req, err);
	json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", name, "message", err->message);
	return response_json(resp, error_status(err->code), e);
}

int response_fail(struct http_request *req, struct http_response *resp, int code, const char *name,
		  const char *fmt, ...)
{
	struct error err;
	err.code = code;
	snprintf(err.name, sizeof(err.name), "%s", name ? name : error_default_name(code));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	return response_error(req, resp, &err);
}

int response_see_other(struct http_response *resp, const char *location)
{
	resp->status = 303;
	response_header(resp, "Location", "%s", location);
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "See %s\n", location);
	return 303;
}

void response_send(struct http_request *req, struct http_response *resp)
{
	struct buf head = BUF_INIT(65536);
	int head_only = !strcmp(req->method, "HEAD");
	int s = resp->status >= 100 && resp->status <= 999 ? resp->status : 500;
	/* one allocation: the status line and the names around these values take under 512 bytes */
	buf_reserve(&head, 512 + resp->headers.len + (resp->content_type ? strlen(resp->content_type) : 0) +
			   (resp->sendfile ? strlen(resp->sendfile) : 0));
	char status[] = { (char)('0' + s / 100), (char)('0' + s / 10 % 10), (char)('0' + s % 10), ' ' };
	buf_puts(&head, "Status: ");
	buf_append(&head, status, sizeof(status));
	buf_puts(&head, response_reason(s));
	buf_append(&head, "\r\n", 2);
	if (resp->content_type) {
		buf_puts(&head, "Content-Type: ");
		buf_puts(&head, resp->content_type);
		buf_append(&head, "\r\n", 2);
	}
	if (resp->sendfile) {
		buf_puts(&head, "X-Sendfile: ");
		buf_puts(&head, resp->sendfile);
		buf_append(&head, "\r\n", 2);
	} else if (resp->fd >= 0) {
		response_head_number(&head, "Content-Length: ", (unsigned long long)resp->fd_length);
	} else if (resp->status != 304 && resp->status != 204) {
		response_head_number(&head, "Content-Length: ", resp->body.len);
	}
	buf_append(&head, buf_cstr(&resp->headers), resp->headers.len);
	buf_puts(&head, "\r\n");
	request_write(req, buf_cstr(&head), head.len);
	buf_dispose(&head);
	if (head_only || resp->sendfile || resp->status == 304)
		return;
	if (resp->fd >= 0) {
		char chunk[65536];
		off_t left = resp->fd_length, off = resp->fd_offset;
		while (left > 0) {
			ssize_t n = pread(resp->fd, chunk,
					  left > (off_t)sizeof(chunk) ? sizeof(chunk) : (size_t)left, off);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				log_error("short read while sending a file path=%s", req->path);
				break;
			}
			request_write(req, chunk, (size_t)n);
			off += n;
			left -= n;
		}
		return;
	}
	request_write(req, buf_cstr(&resp->body), resp->body.len);
}
