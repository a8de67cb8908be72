/* http.c — the FastCGI accept loop (plain CGI when stdin is not a socket), route matching,
 * request bodies and the one response writer. */
#include "http.h"
#include "log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t http_stopping;

static void http_on_term(int sig)
{
	(void)sig;
	http_stopping = 1;
	FCGX_ShutdownPending();
}

const char *http_param(const struct http_request *req, const char *name)
{
	if (req->fcgx)
		return FCGX_GetParam(name, req->envp);
	return getenv(name);
}

static ssize_t http_read(struct http_request *req, char *p, size_t n)
{
	if (req->fcgx) {
		int got = FCGX_GetStr(p, n > 65536 ? 65536 : (int)n, ((FCGX_Request *)req->fcgx)->in);
		return got;
	}
	for (;;) {
		ssize_t got = read(STDIN_FILENO, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		return got;
	}
}

static void http_write(struct http_request *req, const char *p, size_t n)
{
	if (req->fcgx) {
		FCGX_PutStr(p, (int)n, ((FCGX_Request *)req->fcgx)->out);
		return;
	}
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

const char *http_reason(int status)
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

void http_header_str(struct http_response *resp, const char *name, const char *value)
{
	size_t n = strnlen(value, HTTP_HEADER_VALUE_MAX - 1);
	buf_puts(&resp->headers, name);
	buf_append(&resp->headers, ": ", 2);
	size_t at = resp->headers.len;
	buf_append(&resp->headers, value, n);
	/* a header value never carries a line break */
	if (resp->headers.err == 0)
		for (char *p = resp->headers.data + at; p < resp->headers.data + at + n; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
	buf_append(&resp->headers, "\r\n", 2);
}

void http_header(struct http_response *resp, const char *name, const char *fmt, ...)
{
	char value[HTTP_HEADER_VALUE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	http_header_str(resp, name, value);
}

/* "Name: value\r\n" with a number, without printf (every response has one or two). */
static void http_head_number(struct buf *b, const char *name, unsigned long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	buf_puts(b, name);
	buf_append(b, p, (size_t)(digits + sizeof(digits) - p));
	buf_append(b, "\r\n", 2);
}

int http_json(struct http_response *resp, int status, json_t *obj)
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

int http_error(struct http_request *req, struct http_response *resp, const struct error *err)
{
	int status = error_status(err->code);
	const char *name = err->name[0] ? err->name : error_default_name(err->code);
	if (status >= 500)
		log_error("request failed method=%s path=%s status=%d code=%s message=\"%s\"",
			  req->method, req->path, status, name, err->message);
	else
		log_info("request refused method=%s path=%s status=%d code=%s message=\"%s\"",
			 req->method, req->path, status, name, err->message);
	json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", name, "message", err->message);
	return http_json(resp, status, e);
}

int http_fail(struct http_request *req, struct http_response *resp, int code, const char *name,
	      const char *fmt, ...)
{
	struct error err;
	err.code = code;
	snprintf(err.name, sizeof(err.name), "%s", name ? name : error_default_name(code));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	return http_error(req, resp, &err);
}

int http_see_other(struct http_response *resp, const char *location)
{
	resp->status = 303;
	http_header(resp, "Location", "%s", location);
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "See %s\n", location);
	return 303;
}

int http_body(struct http_request *req, struct buf *out, struct error *err)
{
	buf_init(out, req->max_body);
	if (req->content_length > req->max_body)
		return error_set(err, SKIFF_ELIMIT, "body_too_large",
				 "request body is larger than %zu bytes", req->max_body);
	char chunk[8192];
	for (;;) {
		ssize_t n = http_read(req, chunk, sizeof(chunk));
		if (n < 0)
			return error_set(err, SKIFF_EIO, "body_read_failed", "cannot read request body");
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n))
			return error_set(err, SKIFF_ELIMIT, "body_too_large",
					 "request body is larger than %zu bytes", req->max_body);
		if (!req->fcgx && out->len >= req->content_length)
			break; /* CGI: read exactly CONTENT_LENGTH */
	}
	if (out->len < req->content_length)
		return error_set(err, SKIFF_EINVALID, "body_truncated",
				 "request body shorter than Content-Length");
	return 0;
}

static int http_hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decodes application/x-www-form-urlencoded text ('+' is a space) into out (len+1 bytes). */
static int http_form_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[j++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 1 < n ? http_hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? http_hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			char c = (char)(hi * 16 + lo);
			if (c == '\0')
				return -1;
			out[j++] = c;
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	*outlen = j;
	return 0;
}

#define HTTP_FORM_FIELDS_MAX 64
#define HTTP_FORM_KEY_MAX 64

int http_form_parse(const char *s, size_t len, json_t **out, struct error *err)
{
	json_t *obj = json_object();
	char *tmp = malloc(len + 1);
	if (!tmp)
		abort();
	size_t pos = 0, fields = 0;
	int rc = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && s[end] != '&')
			end++;
		if (end > pos) {
			const char *eq = memchr(s + pos, '=', end - pos);
			size_t klen = eq ? (size_t)(eq - (s + pos)) : end - pos;
			char key[HTTP_FORM_KEY_MAX + 1];
			size_t kdl, vdl;
			if (++fields > HTTP_FORM_FIELDS_MAX) {
				rc = error_set(err, SKIFF_EINVALID, "invalid_form", "too many form fields");
				goto out;
			}
			if (klen > HTTP_FORM_KEY_MAX || http_form_decode(s + pos, klen, key, &kdl) < 0) {
				rc = error_set(err, SKIFF_EINVALID, "invalid_form", "malformed form field name");
				goto out;
			}
			if (eq) {
				if (http_form_decode(eq + 1, (size_t)(s + end - (eq + 1)), tmp, &vdl) < 0) {
					rc = error_set(err, SKIFF_EINVALID, "invalid_form",
						       "malformed value of form field '%s'", key);
					goto out;
				}
			} else {
				tmp[0] = '\0';
				vdl = 0;
			}
			json_t *v = json_stringn(tmp, vdl);
			if (!v) {
				rc = error_set(err, SKIFF_EINVALID, "invalid_form",
					       "form field '%s' is not valid UTF-8", key);
				goto out;
			}
			json_object_set_new(obj, key, v);
		}
		pos = end + 1;
	}
out:
	free(tmp);
	if (rc < 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

const char *http_query_get(struct http_request *req, const char *name)
{
	json_t *q = NULL;
	if (http_form_parse(req->query, strlen(req->query), &q, NULL) < 0)
		return NULL;
	const char *v = json_string_value(json_object_get(q, name));
	char *copy = v ? arena_strdup(req->arena, v) : NULL;
	json_decref(q);
	return copy;
}

/* "application/json; charset=utf-8" → compares the media type only. */
static int http_media_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);
	if (strncasecmp(ctype, want, n) != 0)
		return 0;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

int http_body_object(struct http_request *req, json_t **out, bool *is_form, struct error *err)
{
	struct buf body = BUF_INIT(0);
	*is_form = http_media_is(req->content_type, "application/x-www-form-urlencoded");
	bool is_json = http_media_is(req->content_type, "application/json");
	if (req->content_length == 0 && !*is_form) {
		*out = json_object();
		return 0;
	}
	if (!is_json && !*is_form)
		return error_set(err, SKIFF_ETYPE, "unsupported_media_type",
				 "send application/json or application/x-www-form-urlencoded, not '%s'",
				 req->content_type[0] ? req->content_type : "(none)");
	int rc = http_body(req, &body, err);
	if (rc < 0)
		goto out;
	if (*is_form) {
		rc = http_form_parse(buf_cstr(&body), body.len, out, err);
		goto out;
	}
	json_error_t jerr;
	json_t *obj = json_loadb(buf_cstr(&body), body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_json", "malformed JSON at line %d column %d: %s",
			       jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		rc = error_set(err, SKIFF_EINVALID, "invalid_json", "the request body must be a JSON object");
		goto out;
	}
	*out = obj;
out:
	buf_dispose(&body);
	return rc;
}

int http_wants_html(const struct http_request *req)
{
	const char *accept = http_param(req, "HTTP_ACCEPT");
	return accept && strstr(accept, "text/html") != NULL;
}

/* Same origin: the Origin (or Referer) names the Host this request came to. */
static int http_same_origin(const struct http_request *req)
{
	const char *origin = http_param(req, "HTTP_ORIGIN");
	const char *referer = http_param(req, "HTTP_REFERER");
	const char *src = origin && *origin && strcmp(origin, "null") ? origin : referer;
	if (!src || !*req->host)
		return 0;
	const char *p = strstr(src, "://");
	if (!p)
		return 0;
	p += 3;
	size_t hl = strlen(req->host);
	return strncasecmp(p, req->host, hl) == 0 && (p[hl] == '\0' || p[hl] == '/');
}

int http_auth_mutation(struct http_request *req, bool is_form, struct error *err)
{
	if (is_form && !http_same_origin(req))
		return error_set(err, SKIFF_EFORBIDDEN, "cross_origin",
				 "form posts must come from the dashboard's own origin");
	if (req->cfg->auth_disabled)
		return 0;
	const char *user = http_param(req, "REMOTE_USER");
	if (user && *user)
		return 0;
	const char *auth = http_param(req, "HTTP_AUTHORIZATION");
	if (auth && req->cfg->api_token[0] && strncasecmp(auth, "Bearer ", 7) == 0) {
		unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)auth + 7, strlen(auth + 7), a);
		SHA256((const unsigned char *)req->cfg->api_token, strlen(req->cfg->api_token), b);
		if (CRYPTO_memcmp(a, b, sizeof(a)) == 0)
			return 0;
		return error_set(err, SKIFF_EAUTH, "invalid_token", "the bearer token is not valid");
	}
	return error_set(err, SKIFF_EAUTH, "unauthorized",
			 "this request needs a bearer token or an authenticated user");
}

/* Matches path against pattern; "{}" captures one non-empty segment. */
static int http_route_match(const char *pattern, const char *path, struct http_request *req)
{
	if (!strcmp(pattern, "*"))
		return 1;
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);
			if (n == 0 || np >= HTTP_MAX_PARAMS)
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
	req->nparams = np;
	return 1;
}

static void http_respond(struct http_request *req, struct http_response *resp)
{
	struct buf head = BUF_INIT(65536);
	int head_only = !strcmp(req->method, "HEAD");
	int s = resp->status >= 100 && resp->status <= 999 ? resp->status : 500;
	char status[] = { (char)('0' + s / 100), (char)('0' + s / 10 % 10), (char)('0' + s % 10), ' ' };
	buf_puts(&head, "Status: ");
	buf_append(&head, status, sizeof(status));
	buf_puts(&head, http_reason(s));
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
		http_head_number(&head, "Content-Length: ", (unsigned long long)resp->fd_length);
	} else if (resp->status != 304 && resp->status != 204) {
		http_head_number(&head, "Content-Length: ", resp->body.len);
	}
	buf_append(&head, buf_cstr(&resp->headers), resp->headers.len);
	buf_puts(&head, "\r\n");
	http_write(req, buf_cstr(&head), head.len);
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
			http_write(req, chunk, (size_t)n);
			off += n;
			left -= n;
		}
		return;
	}
	http_write(req, buf_cstr(&resp->body), resp->body.len);
}

static void http_handle(const struct http_program *prog, struct http_request *req)
{
	struct http_response resp;
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.fd = -1;
	buf_init(&resp.headers, 32768);
	buf_init(&resp.body, 64u << 20);

	req->method = http_param(req, "REQUEST_METHOD");
	if (!req->method || !*req->method)
		req->method = "GET";
	const char *uri = http_param(req, "REQUEST_URI");
	const char *qs = http_param(req, "QUERY_STRING");
	if (!uri || !*uri) {
		const char *pi = http_param(req, "PATH_INFO");
		uri = arena_printf(req->arena, "%s%s%s", pi && *pi ? pi : "/", qs && *qs ? "?" : "",
				   qs && *qs ? qs : "");
	}
	req->uri = uri;
	const char *host = http_param(req, "HTTP_HOST");
	req->host = host ? host : "";
	const char *ct = http_param(req, "CONTENT_TYPE");
	req->content_type = ct ? ct : "";
	req->path = "/";
	req->query = "";
	req->max_body = (size_t)req->cfg->max_body;

	const char *cl = http_param(req, "CONTENT_LENGTH");
	req->content_length = 0;
	if (cl && *cl) {
		char *end;
		errno = 0;
		req->content_length = strtoull(cl, &end, 10);
		if (errno || *end || cl[0] == '-') {
			http_fail(req, &resp, SKIFF_EINVALID, "invalid_content_length",
				  "Content-Length is not a number");
			goto respond;
		}
	}
	if (strlen(uri) > HTTP_URI_MAX) {
		http_fail(req, &resp, SKIFF_EURITOOLONG, NULL, "the request URI is longer than %d bytes",
			  HTTP_URI_MAX);
		goto respond;
	}
	const char *q = strchr(uri, '?');
	req->path = q ? arena_strndup(req->arena, uri, (size_t)(q - uri)) : uri;
	req->query = q ? q + 1 : "";

	const char *method = !strcmp(req->method, "HEAD") ? "GET" : req->method;
	const struct http_route *found = NULL;
	struct buf allow = BUF_INIT(256);
	for (size_t i = 0; i < prog->nroutes; i++) {
		const struct http_route *r = &prog->routes[i];
		if (!http_route_match(r->pattern, req->path, req))
			continue;
		if (!strcmp(r->method, "*") || !strcmp(r->method, method)) {
			found = r;
			break;
		}
		buf_printf(&allow, "%s%s", allow.len ? ", " : "", r->method);
	}
	if (!found) {
		if (allow.len) {
			http_header(&resp, "Allow", "%s", buf_cstr(&allow));
			http_fail(req, &resp, SKIFF_EMETHOD, NULL, "%s is not allowed on %s", req->method,
				  req->path);
		} else {
			http_fail(req, &resp, SKIFF_ENOTFOUND, NULL, "no such endpoint: %s", req->path);
		}
		buf_dispose(&allow);
		goto respond;
	}
	buf_dispose(&allow);
	if (found->max_body)
		req->max_body = found->max_body;
	if (req->content_length > req->max_body) {
		http_fail(req, &resp, SKIFF_ELIMIT, "body_too_large",
			  "request body is larger than %zu bytes", req->max_body);
		goto respond;
	}
	resp.status = found->handler(req, &resp);
	if (resp.body.err || resp.headers.err) {
		buf_reset(&resp.headers);
		http_fail(req, &resp, SKIFF_EINTERNAL, NULL, "response too large");
	}
respond:
	http_respond(req, &resp);
	log_debug("request method=%s path=%s status=%d", req->method, req->path, resp.status);
	if (resp.fd >= 0)
		close(resp.fd);
	buf_dispose(&resp.headers);
	buf_dispose(&resp.body);
}

/* A unix listening socket, mode 0660 (FCGX_OpenSocket would exit the process on failure). */
static int http_listen_unix(const char *path)
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

static void http_usage(const struct http_program *prog, FILE *f)
{
	fprintf(f,
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
}

/* Serves one CGI request, or FastCGI requests until SIGTERM. Returns the exit code. */
static int http_serve(const struct http_program *prog, const struct config *cfg, void *app,
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
		listen_fd = http_listen_unix(sock_path);
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
		http_handle(prog, &req);
		arena_dispose(&arena);
		return 0;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = http_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	FCGX_Request fcgx;
	if (FCGX_InitRequest(&fcgx, listen_fd, 0) != 0) {
		log_error("FCGX_InitRequest failed");
		return 3;
	}
	log_info("serving FastCGI fd=%d", listen_fd);
	sd_notify(0, "READY=1");
	while (!http_stopping && FCGX_Accept_r(&fcgx) >= 0) {
		memset(&req, 0, sizeof(req));
		req.arena = &arena;
		req.cfg = cfg;
		req.app = app;
		req.fcgx = &fcgx;
		req.envp = fcgx.envp;
		http_handle(prog, &req);
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

int http_main(int argc, char **argv, const struct http_program *prog)
{
	const char *cfg_path = NULL, *sock_path = NULL;
	int check_only = 0;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:s:n", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 's': sock_path = optarg; break;
		case 'n': check_only = 1; break;
		case 'h': http_usage(prog, stdout); return 0;
		case 'V': printf("%s %s\n", prog->name, SKIFF_VERSION); return 0;
		default: http_usage(prog, stderr); return 2;
		}
	}
	if (optind != argc) {
		http_usage(prog, stderr);
		return 2;
	}
	log_init(prog->name, LOG_INFO);
	static struct config cfg;
	struct error err;
	error_clear(&err);
	if (config_load(&cfg, cfg_path, &err) < 0) {
		fprintf(stderr, "%s: configuration error: %s\n", prog->name, err.message);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration ok\n", prog->name);
		return 0;
	}
	void *app = NULL;
	if (prog->init && prog->init(&cfg, &app, &err) < 0) {
		log_error("start-up failed message=\"%s\"", err.message);
		return 3;
	}

	int code = http_serve(prog, &cfg, app, sock_path);
	if (prog->fini)
		prog->fini(app);
	return code;
}
