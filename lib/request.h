/* request.h — one HTTP request as the web server hands it over (FastCGI or plain CGI): its
 * variables, its body as JSON or a form, its query string. */
#ifndef SKIFF_REQUEST_H
#define SKIFF_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "error.h"

#define REQUEST_MAX_PARAMS 4
#define REQUEST_URI_MAX 8192
/* The variables request_index finds by hash: twice the most a request may bring (past that,
 * request_param scans them as libfcgi does). */
#define REQUEST_INDEX_SLOTS 128

struct request_index_slot {
	const char *entry;            /* "NAME=value" in envp */
	size_t len;                   /* of NAME */
};

struct http_request {
	struct arena *arena;          /* reset after the response */
	const struct config *cfg;
	void *app;                    /* the program's context (from http_program.init) */
	const char *method;           /* REQUEST_METHOD */
	const char *path;             /* raw path part of the URI (undecoded), or PATH_INFO */
	const char *log_path;         /* what logs and error messages show: path, or the route's
				       * pattern when the path holds a secret (ENDPOINT_CAPABILITY) */
	const char *query;            /* after '?', "" when none */
	const char *host;             /* HTTP_HOST, "" when none */
	const char *content_type;     /* CONTENT_TYPE, "" when none */
	unsigned long long content_length;
	const char *params[REQUEST_MAX_PARAMS]; /* path segments matched by "{}" in the route */
	size_t max_body;              /* the route's body limit */
	unsigned long long body_read; /* bytes of the body read so far by request_body_read */
	/* private */
	void *fcgx;                   /* FCGX_Request *, NULL in CGI mode */
	char **envp;
	bool indexed;                 /* index holds every variable of envp */
	struct request_index_slot index[REQUEST_INDEX_SLOTS];
};

/* A CGI/FastCGI variable ("HTTP_ACCEPT"), NULL when absent (the first of two with one name,
 * as libfcgi's scan finds). Valid for the request only. */
const char *request_param(const struct http_request *req, const char *name);
/* Hashes req->envp's variables once (FastCGI: a request brings 20 to 40 of them and a
 * responder asks for 10 to 20, most of them absent, each a scan of them all); req->index must
 * be zeroed. */
void request_index(struct http_request *req);
/* Writes n bytes of the response to the web server (short writes retried; errors dropped). */
void request_write(struct http_request *req, const char *p, size_t n);
/* Reads the whole body (at most req->max_body: SKIFF_ELIMIT beyond). */
int request_body(struct http_request *req, struct buf *out, struct error *err);
/* Reads at most n bytes of the body into p, for handlers that stream it: the count, 0 at its
 * end (in CGI mode after CONTENT_LENGTH bytes), negative on a read error. */
ssize_t request_body_read(struct http_request *req, void *p, size_t n);
/* 1 when ctype (a Content-Type) is the media type want, parameters aside. */
int request_media_is(const char *ctype, const char *want);
/* Reads the body as an object: JSON (application/json) or a form
 * (application/x-www-form-urlencoded, values as strings). *is_form tells which. An empty body
 * of either type is an empty object. Errors: 415 any other type (or none), 413 too large, 400
 * malformed or not an object. *out is the caller's. */
int request_body_object(struct http_request *req, json_t **out, bool *is_form, struct error *err);
/* Parses "a=1&b=x%20y" into an object of strings (later duplicates win). */
int request_form_parse(const char *s, size_t len, json_t **out, struct error *err);
/* Value of a query-string parameter, decoded, from the arena; NULL when absent. */
const char *request_query_get(struct http_request *req, const char *name);
/* 1 when the client prefers HTML (a browser form post or navigation). */
int request_wants_html(const struct http_request *req);
/* 1 when nobody on the network read the request: the web server received it over TLS
 * (HTTPS=on), or from this machine's loopback (REMOTE_ADDR 127.0.0.0/8 or ::1). What may
 * answer a secret in clear. */
int request_confidential(const struct http_request *req);

#endif
