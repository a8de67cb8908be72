/* response.h — what a handler fills in, and the one writer that sends it: status, headers,
 * a body from memory or a file, X-Sendfile, HEAD. */
#ifndef SKIFF_RESPONSE_H
#define SKIFF_RESPONSE_H

#include <jansson.h>
#include <sys/types.h>
#include "buf.h"
#include "error.h"
#include "request.h"

#define RESPONSE_HEADER_VALUE_MAX 2048   /* longer values are cut */

struct http_response {
	int status;
	const char *content_type;     /* NULL: no Content-Type */
	struct buf headers;           /* extra "Name: value\r\n" lines */
	struct buf body;
	const char *sendfile;         /* X-Sendfile path; when set no body is written */
	int fd;                       /* when >= 0 and no sendfile: body streamed from fd */
	off_t fd_offset;
	off_t fd_length;
};

/* Adds "name: value" to the response (line breaks in value become spaces). */
void response_header_str(struct http_response *resp, const char *name, const char *value);
void response_header(struct http_response *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets status and a JSON body (steals the reference to obj). Returns status. */
int response_json(struct http_response *resp, int status, json_t *obj);
/* Logs a refused or failed request (one line; level by the status of err->code). */
void response_log_error(const struct http_request *req, const struct error *err);
/* A JSON error {"error":{"code","message"}} with the status of err->code, and a log line. */
int response_error(struct http_request *req, struct http_response *resp, const struct error *err);
/* Shorthand: error_set then response_error. */
int response_fail(struct http_request *req, struct http_response *resp, int code, const char *name,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 303 See Other to location (for form posts). */
int response_see_other(struct http_response *resp, const char *location);
/* Reason phrase of a status. */
const char *response_reason(int status);
/* Writes status, headers and body (none for HEAD, 304 or X-Sendfile) to the web server. */
void response_send(struct http_request *req, struct http_response *resp);

#endif
