/* skiff-serve — the deployed sites: every request on {slug}.{domain} and
 * {slug}--{id}.{domain}, answered by lib/serve.c's rules with the body sent through
 * X-Sendfile (or streamed when the web server has no X-Sendfile). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoint.h"
#include "log.h"
#include "serve.h"
#include "serve_header.h"
#include "model_domain.h"
#include "site.h"

static int serve_init(const struct config *cfg, void **out, struct error *err)
{
	struct serve_app *sa = calloc(1, sizeof(*sa));
	if (!sa)
		abort();
	void *app = NULL;
	int rc = app_init(cfg, &app, err);
	if (rc < 0) {
		free(sa);
		return rc;
	}
	sa->app = app;
	sa->cache = manifest_cache_new(MANIFEST_CACHE_BYTES, MANIFEST_CACHE_ENTRIES);
	*out = sa;
	return 0;
}

static void serve_fini(void *p)
{
	struct serve_app *sa = p;
	if (!sa)
		return;
	manifest_cache_free(sa->cache);
	free(sa->memo);
	app_fini(sa->app);
	free(sa);
}

static void serve_facts(struct http_request *req, struct serve_request *sr)
{
	sr->method = req->method;
	sr->path = req->path;
	sr->query = req->query;
	sr->accept = request_param(req, "HTTP_ACCEPT");
	sr->accept_encoding = request_param(req, "HTTP_ACCEPT_ENCODING");
	sr->if_none_match = request_param(req, "HTTP_IF_NONE_MATCH");
	sr->if_modified_since = request_param(req, "HTTP_IF_MODIFIED_SINCE");
	sr->range = request_param(req, "HTTP_RANGE");
	sr->if_range = request_param(req, "HTTP_IF_RANGE");
}

/* The local file holding a blob: the file store's own path (no file system access on the hot
 * path), or the s3 backend's verified cache entry. */
static int serve_blob_path(struct serve_app *sa, const struct serve_decision *d,
			   char out[STORE_PATH_MAX], struct error *err)
{
	struct store *store;
	int rc = app_store(sa->app, &store, err);
	return rc < 0 ? rc : store_blob_serve_path(store, d->blob, (long long)d->blob_size, out,
						   err);
}

/* Writes d into resp. Returns the status. */
static int serve_respond(struct serve_app *sa, struct http_request *req,
			 struct http_response *resp, struct serve_decision *d)
{
	bool sendfile = req->cfg->xsendfile && d->body == SERVE_BODY_BLOB;
	/* Apache's mod_xsendfile acts only on status 200 and drops Content-Encoding: such
	 * bodies (404 pages, precompressed variants) go out from here */
	if (sendfile && req->cfg->xsendfile_plain_only &&
	    ((d->status != 200 && d->status != 206) || serve_header_get(d, "Content-Encoding")))
		sendfile = false;
	/* lighttpd and mod_xsendfile answer If-Modified-Since themselves from the blob file's
	 * mtime (304 for any later date), which would undo the exact-date rule that protects
	 * rollbacks: a request carrying it without If-None-Match gets its body from here */
	const char *ims = request_param(req, "HTTP_IF_MODIFIED_SINCE");
	const char *inm = request_param(req, "HTTP_IF_NONE_MATCH");
	if (sendfile && ims && *ims && !(inm && *inm))
		sendfile = false;
	if (sendfile && d->status == 206) {
		/* the web server answers the Range itself from the whole file (lighttpd and
		 * Apache's byterange filter both do); a 206 with X-Sendfile would send it all */
		d->status = 200;
	}
	if (d->body == SERVE_BODY_BLOB) {
		char path[STORE_PATH_MAX];
		struct error err;
		if (serve_blob_path(sa, d, path, &err) < 0) {
			log_error("blob unavailable hash=%s message=\"%s\"", d->blob, err.message);
			struct serve_request sr = { .method = req->method };
			serve_decide_page(503, &sr, d);
		} else if (sendfile) {
			resp->sendfile = arena_strdup(req->arena, path);
		} else {
			resp->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (resp->fd < 0) {
				log_error("blob missing hash=%s path=%s", d->blob, path);
				struct serve_request sr = { .method = req->method };
				serve_decide_page(503, &sr, d);
			} else {
				resp->fd_offset = (off_t)d->offset;
				resp->fd_length = (off_t)d->length;
			}
		}
	}
	resp->status = d->status;
	resp->content_type = d->content_type;
	for (size_t i = 0; i < d->nheaders; i++) {
		if (resp->sendfile && strcasecmp(d->headers[i].name, "Content-Range") == 0)
			continue;
		response_header_str(resp, d->headers[i].name, d->headers[i].value);
	}
	if (d->body == SERVE_BODY_PAGE)
		serve_page(&resp->body, d->status, d->location);
	return d->status;
}

/* skiff's own page for a failure before any deployment was found (JSON for API clients). */
static int serve_fail(struct serve_app *sa, struct http_request *req, struct http_response *resp,
		      const struct error *err)
{
	int status = error_status(err->code);
	const char *accept = request_param(req, "HTTP_ACCEPT");
	if (accept && strstr(accept, "application/json") && !strstr(accept, "text/html"))
		return response_error(req, resp, err);
	if (status >= 500)
		log_error("site unavailable host=%s status=%d message=\"%s\"", req->host, status,
			  err->message);
	struct serve_request sr = { .method = req->method };
	struct serve_decision d;
	serve_decide_page(status, &sr, &d);
	return serve_respond(sa, req, resp, &d);
}

static int serve_handle(struct http_request *req, struct http_response *resp)
{
	struct serve_app *sa = req->app;
	struct manifest *m = NULL;
	struct error err;
	error_clear(&err);
	if (!strncmp(req->path, DOMAIN_WELL_KNOWN, sizeof(DOMAIN_WELL_KNOWN) - 1)) {
		/* a custom domain's ownership check, answered in every state */
		const char *token = NULL;
		int rc = site_domain_token(sa, req, &token, &err);
		if (rc == 1) {
			response_header(resp, "Cache-Control", "no-store");
			resp->status = 200;
			resp->content_type = "text/plain; charset=utf-8";
			buf_append(&resp->body, token, strlen(token));
			return 200;
		}
		if (rc < 0)
			return serve_fail(sa, req, resp, &err);
	}
	struct site_answer ans;
	if (site_manifest(sa, req, &m, &ans, &err) < 0)
		return serve_fail(sa, req, resp, &err);
	if (ans.location) {
		response_header_str(resp, "Location", ans.location);
		if (ans.hsts)
			response_header(resp, "Strict-Transport-Security", "max-age=31536000");
		resp->status = 308;
		return 308;
	}
	struct serve_request sr;
	struct serve_decision d;
	serve_facts(req, &sr);
	serve_decide(m, &sr, req->arena, &d);
	if (ans.hsts)
		serve_header_set(&d, "Strict-Transport-Security", "max-age=31536000");
	log_debug("served host=%s path=%s status=%d reason=%s", req->host, req->path, d.status,
		  d.reason ? d.reason : "");
	return serve_respond(sa, req, resp, &d);
}

static const struct http_route serve_routes[] = {
	{ "*", "*", serve_handle, 0, ENDPOINT_PUBLIC },
};

int main(int argc, char **argv)
{
	static const struct http_program prog = {
		.name = "skiff-serve",
		.summary = "Serves the deployed sites ({slug}.{domain} and {slug}--{id}.{domain}).",
		.routes = serve_routes,
		.nroutes = sizeof(serve_routes) / sizeof(serve_routes[0]),
		.init = serve_init,
		.fini = serve_fini,
	};
	return endpoint_main(argc, argv, &prog);
}
