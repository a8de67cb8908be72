/* endpoint.c — the FastCGI accept loop (plain CGI when stdin is not a socket), route
 * matching with complete Allow lists, and the access rule of each route. */
#include "endpoint.h"
#include "auth.h"
#include "log.h"
#include "program.h"

#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

extern char **environ;

const struct endpoint_resource endpoint_dashboard[] = {
	{ "/api/projects", "GET, HEAD, POST" },
	{ "/project", "POST" },
	{ "/api/projects/{}", "GET, HEAD, PATCH, DELETE" },
	{ "/api/projects/{}/env", "GET, HEAD" },
	{ "/api/projects/{}/env/{}", "PUT, DELETE" },
	{ "/api/projects/{}/deployments", "GET, HEAD, POST" },
	{ "/api/projects/{}/rollback", "POST" },
	{ "/api/projects/{}/unpin", "POST" },
	{ "/api/projects/{}/delete", "POST" },
	{ "/api/deployments/{}", "GET, HEAD" },
	{ "/api/deployments/{}/log", "GET, HEAD, POST" },
	{ "/api/deployments/{}/cancel", "POST" },
	{ "/api/projects/{}/tokens", "GET, HEAD, POST" },
	{ "/api/projects/{}/tokens/{}", "DELETE" },
	{ "/api/projects/{}/repository", "GET, HEAD" },
	{ "/api/projects/{}/repository/token", "POST, DELETE" },
	{ "/api/projects/{}/repository/token/delete", "POST" },
	{ "/api/projects/{}/repository/deploy-key", "POST, DELETE" },
	{ "/api/projects/{}/repository/deploy-key/delete", "POST" },
	{ "/api/projects/{}/repository/host-key", "DELETE" },
	{ "/api/projects/{}/repository/host-key/delete", "POST" },
	{ "/api/projects/{}/tokens/{}/revoke", "POST" },
	{ "/api/projects/{}/build-hooks", "GET, HEAD, POST" },
	{ "/api/projects/{}/build-hooks/{}", "DELETE" },
	{ "/api/projects/{}/build-hooks/{}/delete", "POST" },
	{ "/api/projects/{}/notifications", "GET, HEAD, POST" },
	{ "/api/projects/{}/notifications/{}", "DELETE" },
	{ "/api/projects/{}/notifications/{}/delete", "POST" },
	{ "/api/projects/{}/commit-status", "POST, DELETE" },
	{ "/api/projects/{}/commit-status/delete", "POST" },
	{ "/api/projects/{}/domains", "GET, HEAD, POST" },
	{ "/api/projects/{}/domains/primary", "POST" },
	{ "/api/projects/{}/domains/{}", "DELETE" },
	{ "/api/projects/{}/domains/{}/delete", "POST" },
	{ "/api/deployments/{}/blobs/{}", "PUT" },
	{ "/api/deployments/{}/finish", "POST" },
	{ "/api/deployments/{}/fail", "POST" },
	{ "/api/whoami", "GET, HEAD" },
	{ "/api/deployments/{}/start", "POST" },
	{ "/api/deployments/{}/progress", "POST" },
	{ "/api/deployments/{}/credentials", "POST" },
	{ "/api/deployments/{}/files", "POST" },
	{ "/healthz", "GET, HEAD" },
	{ "/projects", "GET, HEAD" },
	{ "/projects/{}", "GET, HEAD" },
	{ "/projects/{}/settings", "GET, HEAD, POST" },
	{ "/projects/{}/hooks", "GET, HEAD" },
	{ "/deployments/{}", "GET, HEAD" },
	{ NULL, NULL },
};

/* Matches path against pattern; "{}" captures one non-empty segment. */
static int endpoint_route_match(const char *pattern, const char *path, struct http_request *req)
{
	if (!strcmp(pattern, "*"))
		return 1;
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);
			if (n == 0 || np >= REQUEST_MAX_PARAMS)
				return 0;
			req->params[np++] = arena_strndup(req->arena, s, n);
			s += n;
			p += 2;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*s == '/' && s[1] == '\0' && *p == '\0')
		s++; /* tolerate one trailing slash */
	if (*p || *s)
		return 0;
	return 1;
}

/* The route for the request, or NULL with a 404 or 405 (and its Allow) in resp. */
static const struct http_route *endpoint_route(const struct http_program *prog,
					       struct http_request *req, struct http_response *resp)
{
	const char *method = !strcmp(req->method, "HEAD") ? "GET" : req->method;
	struct buf allow = BUF_INIT(256);
	for (size_t i = 0; i < prog->nroutes; i++) {
		const struct http_route *r = &prog->routes[i];
		if (!endpoint_route_match(r->pattern, req->path, req))
			continue;
		if (r->access == ENDPOINT_CAPABILITY)
			req->log_path = r->pattern;
		if (!strcmp(r->method, "*") || !strcmp(r->method, method)) {
			buf_dispose(&allow);
			return r;
		}
		buf_printf(&allow, "%s%s%s", allow.len ? ", " : "", r->method,
			   strcmp(r->method, "GET") ? "" : ", HEAD");
	}
	for (const struct endpoint_resource *e = prog->resources; e && e->pattern; e++) {
		if (endpoint_route_match(e->pattern, req->path, req)) {
			buf_reset(&allow);
			buf_puts(&allow, e->allow);
			break;
		}
	}
	if (allow.len) {
		response_header(resp, "Allow", "%s", buf_cstr(&allow));
		response_fail(req, resp, SKIFF_EMETHOD, NULL, "%s is not allowed on %s (allowed: %s)",
			      req->method, req->log_path, buf_cstr(&allow));
	} else {
		response_fail(req, resp, SKIFF_ENOTFOUND, NULL, "no such endpoint: %s", req->path);
	}
	buf_dispose(&allow);
	return NULL;
}

/* The raw body type declared for route, or NULL. */
static const char *endpoint_body_type(const struct http_program *prog,
				      const struct http_route *route)
{
	for (const struct endpoint_body *b = prog->bodies; b && b->method; b++)
		if (!strcmp(b->method, route->method) && !strcmp(b->pattern, route->pattern))
			return b->content_type;
	return NULL;
}

static void endpoint_handle(const struct http_program *prog, struct http_request *req)
{
	struct http_response resp;
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.fd = -1;
	buf_init(&resp.headers, 32768);
	buf_reserve(&resp.headers, 1024);   /* a file's headers fit: no growing step by step */
	buf_init(&resp.body, 64u << 20);

	req->method = request_param(req, "REQUEST_METHOD");
	if (!req->method || !*req->method)
		req->method = "GET";
	const char *uri = request_param(req, "REQUEST_URI");
	const char *qs = request_param(req, "QUERY_STRING");
	if (!uri || !*uri) {
		const char *pi = request_param(req, "PATH_INFO");
		uri = arena_printf(req->arena, "%s%s%s", pi && *pi ? pi : "/", qs && *qs ? "?" : "",
				   qs && *qs ? qs : "");
	}
	const char *host = request_param(req, "HTTP_HOST");
	req->host = host ? host : "";
	const char *ct = request_param(req, "CONTENT_TYPE");
	req->content_type = ct ? ct : "";
	req->path = "/";
	req->log_path = req->path;
	req->query = "";
	req->max_body = (size_t)req->cfg->max_body;

	const char *cl = request_param(req, "CONTENT_LENGTH");
	req->content_length = 0;
	req->body_read = 0;
	if (cl && *cl) {
		char *end;
		errno = 0;
		req->content_length = strtoull(cl, &end, 10);
		if (errno || *end || cl[0] == '-') {
			response_fail(req, &resp, SKIFF_EINVALID, "invalid_content_length",
				      "Content-Length is not a number");
			goto respond;
		}
	}
	if (strlen(uri) > REQUEST_URI_MAX) {
		response_fail(req, &resp, SKIFF_EURITOOLONG, NULL,
			      "the request URI is longer than %d bytes", REQUEST_URI_MAX);
		goto respond;
	}
	const char *q = strchr(uri, '?');
	req->path = q ? arena_strndup(req->arena, uri, (size_t)(q - uri)) : uri;
	req->log_path = req->path;
	req->query = q ? q + 1 : "";

	const struct http_route *found = endpoint_route(prog, req, &resp);
	if (!found)
		goto respond;
	if (found->max_body)
		req->max_body = found->max_body;
	if (req->content_length > req->max_body) {
		response_fail(req, &resp, SKIFF_ELIMIT, "body_too_large",
			      "request body is larger than %zu bytes", req->max_body);
		goto respond;
	}
	const char *raw_type = endpoint_body_type(prog, found);
	if (raw_type && !request_media_is(req->content_type, raw_type)) {
		response_fail(req, &resp, SKIFF_ETYPE, "unsupported_media_type",
			      "%s %s takes a body of type %s", req->method, req->path, raw_type);
		goto respond;
	}
	struct error err;
	error_clear(&err);
	if (found->access == ENDPOINT_PRIVATE && auth_read(req, &err) < 0) {
		response_error(req, &resp, &err);
		goto respond;
	}
	resp.status = found->handler(req, &resp);
	if (resp.body.err || resp.headers.err) {
		buf_reset(&resp.headers);
		response_fail(req, &resp, SKIFF_EINTERNAL, NULL, "response too large");
	}
respond:
	response_send(req, &resp);
	log_debug("request method=%s path=%s status=%d", req->method,
		  req->log_path ? req->log_path : "-", resp.status);
	if (resp.fd >= 0)
		close(resp.fd);
	buf_dispose(&resp.headers);
	buf_dispose(&resp.body);
}

/* A unix listening socket, mode 0660 (FCGX_OpenSocket would exit the process on failure). */
static int endpoint_listen_unix(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void endpoint_on_stop(void)
{
	FCGX_ShutdownPending();
}

/* Serves one CGI request, or FastCGI requests until SIGTERM. Returns the exit code. */
static int endpoint_serve(const struct http_program *prog, const struct config *cfg, void *app,
			  const char *sock_path)
{
	struct arena arena;
	arena_init(&arena); /* allocates nothing until the first request */
	struct http_request req;

	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 3;
	}
	int listen_fd = -1;
	if (sock_path) {
		listen_fd = endpoint_listen_unix(sock_path);
		if (listen_fd < 0) {
			log_error("cannot listen socket=%s error=\"%s\"", sock_path, strerror(errno));
			return 3;
		}
	} else if (sd_listen_fds(0) >= 1) {
		listen_fd = SD_LISTEN_FDS_START;
	} else if (!FCGX_IsCGI()) {
		listen_fd = 0;
	}

	if (listen_fd < 0) {
		/* plain CGI: one request from the environment and stdin */
		memset(&req, 0, sizeof(req));
		req.arena = &arena;
		req.cfg = cfg;
		req.app = app;
		req.envp = environ;
		endpoint_handle(prog, &req);
		arena_dispose(&arena);
		return 0;
	}

	program_signals(endpoint_on_stop);
	FCGX_Request fcgx;
	if (FCGX_InitRequest(&fcgx, listen_fd, 0) != 0) {
		log_error("FCGX_InitRequest failed");
		return 3;
	}
	log_info("serving FastCGI fd=%d", listen_fd);
	sd_notify(0, "READY=1");
	while (!program_stopping() && FCGX_Accept_r(&fcgx) >= 0) {
		memset(&req, 0, sizeof(req));
		req.arena = &arena;
		req.cfg = cfg;
		req.app = app;
		req.fcgx = &fcgx;
		req.envp = fcgx.envp;
		request_index(&req);
		endpoint_handle(prog, &req);
		FCGX_Finish_r(&fcgx);
		arena_reset(&arena);
	}
	log_info("stopping");
	FCGX_Free(&fcgx, 1);
	arena_dispose(&arena);
	if (sock_path)
		unlink(sock_path);
	return 0;
}

int endpoint_main(int argc, char **argv, const struct http_program *prog)
{
	static char usage[2048];
	snprintf(usage, sizeof(usage),
		 "usage: %s [-c FILE] [-s SOCKET] [-n] [--help] [--version]\n"
		 "%s\n\n"
		 "  -c FILE     configuration file (default $SKIFF_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
		 "  -s SOCKET   listen on this unix socket (mode 0660) instead of the socket the web\n"
		 "              server or systemd passes; without either, serves one CGI request\n"
		 "  -n          check the configuration and exit (0 valid, 1 invalid)\n"
		 "  --help      this text\n"
		 "  --version   the version\n"
		 "Exit status: 0 success, 1 configuration error, 2 usage error, 3 start-up failure.\n",
		 prog->name, prog->summary);
	const struct program p = { .name = prog->name, .usage = usage, .takes_socket = true };
	struct program_options o;
	static struct config cfg;
	int code = program_parse(&p, argc, argv, &o);
	if (code >= 0 || (code = program_configure(&p, &o, &cfg)) >= 0)
		return code;
	void *app = NULL;
	struct error err;
	error_clear(&err);
	if (prog->init && prog->init(&cfg, &app, &err) < 0) {
		log_error("start-up failed message=\"%s\"", err.message);
		return 3;
	}
	code = endpoint_serve(prog, &cfg, app, o.socket_path);
	if (prog->fini)
		prog->fini(app);
	return code;
}
