/* site.h — skiff-serve: the program's context and its two halves: site.c finds the
 * deployment a request is for, main.c turns lib/serve.c's decision into the response. */
#ifndef SKIFF_SERVE_SITE_H
#define SKIFF_SERVE_SITE_H

#include "app.h"
#include "request.h"
#include "model.h"
#include "manifest.h"
#include "manifest_cache.h"
#include "host.h"


struct serve_app {
	struct app *app;                   /* config, Redis, store */
	struct manifest_cache *cache;
	struct site_memo *memo;            /* site.c: Redis answers still fresh */
};

/* A project's primary domain, as skiff-serve remembers it. */
struct site_primary {
	char name[HOST_DOMAIN_MAX + 1];    /* "": the project has none */
	bool active;                       /* its state is active */
	bool redirect_project;             /* {slug}.{domain} redirects to it too */
};

/* What site_manifest found out besides the manifest, from the same look-up of the Host. */
struct site_answer {
	/* where the request goes instead with a 308 (in req's arena; no manifest then): the
	 * same path and query on the project's primary domain, from its other custom domains
	 * and, when the project asks, from {slug}.{domain}; else, under acme = lighttpd, a plain
	 * HTTP request for a custom domain whose certificate is active goes to
	 * https://name[:acme_https_port]. NULL for any other request and for ACME challenges and
	 * ownership checks. (Under Apache, mod_md redirects to HTTPS.) */
	const char *location;
	/* req came over HTTPS for a custom domain whose project turned HSTS on */
	bool hsts;
};

/* The manifest serving req's Host, borrowed from the cache, or NULL with ans->location set. On
 * failure returns a negative error whose status (error_status) is the page to answer: 400
 * bad Host, 404 unknown site or deployment, 410 expired, 503 Redis or store down. */
int site_manifest(struct serve_app *sa, struct http_request *req, struct manifest **out,
		  struct site_answer *ans, struct error *err);

/* For a request of DOMAIN_WELL_KNOWN{token} on a custom domain whose token it is (in any
 * state): 1 and *token (in req's arena) to answer. 0 when it is not, a negative code (err
 * set) when Redis failed. */
int site_domain_token(struct serve_app *sa, struct http_request *req, const char **token,
		      struct error *err);

#endif
