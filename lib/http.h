/* http.h — the FastCGI loop every endpoint program shares: one request, one arena, one
 * response writer; a route table with per-route body limits; plain CGI when stdin is not a
 * socket. */
#ifndef SKIFF_HTTP_H
#define SKIFF_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "error.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_URI_MAX 8192

struct http_request {
	struct arena *arena;          /* reset after the response */
	const struct config *cfg;
	void *app;                    /* the program's context (from http_program.init) */
	const char *method;           /* REQUEST_METHOD */
	const char *uri;              /* raw REQUEST_URI (undecoded, with query) */
	const char *path;             /* raw path part of the URI (undecoded), or PATH_INFO */
	const char *query;            /* after '?', "" when none */
	const char *host;             /* HTTP_HOST, "" when none */
	const char *content_type;     /* CONTENT_TYPE, "" when none */
	unsigned long long content_length;
	const char *params[HTTP_MAX_PARAMS]; /* path segments matched by "{}" in the route */
	int nparams;
	size_t max_body;              /* the route's body limit */
	/* private */
	void *fcgx;                   /* FCGX_Request *, NULL in CGI mode */
	char **envp;
};

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

typedef int (*http_handler)(struct http_request *req, struct http_response *resp);

struct http_route {
	const char *method;           /* "GET", "POST", "DELETE", or "*" */
	const char *pattern;          /* "/api/projects/{}/deployments"; "*" matches any path */
	http_handler handler;
	size_t max_body;              /* 0: the configured max_body */
};

struct http_program {
	const char *name;             /* "skiff-create" */
	const char *summary;          /* one line for --help */
	const struct http_route *routes;
	size_t nroutes;
	/* Builds the program's context once at start; may be NULL. Nonzero fails start. */
	int (*init)(const struct config *cfg, void **app, struct error *err);
	void (*fini)(void *app);
};

/* Parses -c FILE, -n, -s SOCKET, --help, --version; loads the configuration; serves requests
 * until SIGTERM (FastCGI) or one request (CGI). Returns the process exit code. */
int http_main(int argc, char **argv, const struct http_program *prog);

/* A CGI/FastCGI variable ("HTTP_ACCEPT"), NULL when absent. Valid for the request only. */
const char *http_param(const struct http_request *req, const char *name);
/* Reads the whole body (at most req->max_body: SKIFF_ELIMIT beyond). */
int http_body(struct http_request *req, struct buf *out, struct error *err);
/* Reads the body as an object: JSON (application/json) or a form
 * (application/x-www-form-urlencoded, values as strings). *is_form tells which. Errors: 415
 * wrong type, 413 too large, 400 malformed or not an object. *out is the caller's. */
int http_body_object(struct http_request *req, json_t **out, bool *is_form, struct error *err);
/* Parses "a=1&b=x%20y" into an object of strings (later duplicates win). */
int http_form_parse(const char *s, size_t len, json_t **out, struct error *err);
/* Value of a query-string parameter, decoded, from the arena; NULL when absent. */
const char *http_query_get(struct http_request *req, const char *name);

#define HTTP_HEADER_VALUE_MAX 2048   /* longer values are cut */
/* Adds "name: value" to the response (line breaks in value become spaces). */
void http_header_str(struct http_response *resp, const char *name, const char *value);
void http_header(struct http_response *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets status and a JSON body (steals the reference to obj). Returns status. */
int http_json(struct http_response *resp, int status, json_t *obj);
/* A JSON error {"error":{"code","message"}} with the status of err->code, and a log line. */
int http_error(struct http_request *req, struct http_response *resp, const struct error *err);
/* Shorthand: error_set then http_error. */
int http_fail(struct http_request *req, struct http_response *resp, int code, const char *name,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 303 See Other to location (for form posts). */
int http_see_other(struct http_response *resp, const char *location);
/* Reason phrase of a status. */
const char *http_reason(int status);

/* Mutation guard (DESIGN.md section 9): a bearer token equal to api_token, or a REMOTE_USER
 * set by the web server, or auth_disabled; form posts must also come from the same origin. */
int http_auth_mutation(struct http_request *req, bool is_form, struct error *err);
/* 1 when the client prefers HTML (a browser form post or navigation). */
int http_wants_html(const struct http_request *req);

#endif
