/* endpoint.h — the FastCGI loop every endpoint program shares: a route table with per-route
 * body limits and access, one arena and one response per request, plain CGI when stdin is
 * not a socket. */
#ifndef SKIFF_ENDPOINT_H
#define SKIFF_ENDPOINT_H

#include <stddef.h>
#include "config.h"
#include "error.h"
#include "request.h"
#include "response.h"

typedef int (*http_handler)(struct http_request *req, struct http_response *resp);

/* Who may reach a route before its handler runs. */
enum endpoint_access {
	ENDPOINT_PRIVATE = 0,         /* auth_read: credentials unless public_reads */
	ENDPOINT_PUBLIC,              /* anyone: health, signed webhooks, the sites */
	ENDPOINT_CAPABILITY,          /* anyone who knows the URL: its last {} is a secret, so
				       * logs show the route's pattern instead of the path */
};

struct http_route {
	const char *method;           /* "GET", "POST", "DELETE", or "*" */
	const char *pattern;          /* "/api/projects/{}/deployments"; "*" matches any path */
	http_handler handler;
	size_t max_body;              /* 0: the configured max_body */
	enum endpoint_access access;
};

/* A path of the dashboard host and every method it answers, whichever program serves it. */
struct endpoint_resource {
	const char *pattern;
	const char *allow;            /* "GET, HEAD, POST" */
};

/* The dashboard host's resources: skiff-create and skiff-status answer 405 with the whole
 * Allow list for a method the other program serves. NULL-terminated. */
extern const struct endpoint_resource endpoint_dashboard[];

/* A route whose body is neither JSON nor a form (an upload of raw bytes): the one
 * Content-Type it takes; any other answers 415 before the handler runs. */
struct endpoint_body {
	const char *method;
	const char *pattern;
	const char *content_type;     /* "application/octet-stream" */
};

struct http_program {
	const char *name;             /* "skiff-create" */
	const char *summary;          /* one line for --help */
	const struct http_route *routes;
	size_t nroutes;
	const struct endpoint_resource *resources; /* NULL: Allow from routes alone */
	const struct endpoint_body *bodies; /* NULL-terminated; NULL: none */
	/* Builds the program's context once at start; may be NULL. Nonzero fails start. */
	int (*init)(const struct config *cfg, void **app, struct error *err);
	void (*fini)(void *app);
};

/* Parses -c FILE, -n, -s SOCKET, --help, --version; loads the configuration; serves requests
 * until SIGTERM (FastCGI) or one request (CGI). Returns the process exit code. */
int endpoint_main(int argc, char **argv, const struct http_program *prog);

#endif
