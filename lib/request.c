/* request.c — one request's variables, body (JSON or form) and query string, read the same
 * way from FastCGI and from plain CGI. */
#include "request.h"
#include "percent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Not a general hash: a variable's name is told apart by its length and three of its bytes
 * (the HTTP_ ones differ at the end), and a collision costs one comparison more. */
static size_t request_hash(const char *name, size_t len)
{
	unsigned char a = (unsigned char)name[0], b = (unsigned char)name[len / 2],
		      c = (unsigned char)name[len - 1];
	return (len * 131u + a * 31u + b * 17u + c * 7u) & (REQUEST_INDEX_SLOTS - 1);
}

void request_index(struct http_request *req)
{
	size_t n = 0;
	req->indexed = false;
	for (char **e = req->envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			continue;   /* no name: nothing asks for it */
		if (++n > REQUEST_INDEX_SLOTS / 2)
			return;     /* request_param scans instead */
		size_t len = (size_t)(eq - *e), i = request_hash(*e, len);
		for (;; i = (i + 1) & (REQUEST_INDEX_SLOTS - 1)) {
			struct request_index_slot *s = &req->index[i];
			if (!s->entry) {
				s->entry = *e;
				s->len = len;
				break;
			}
			if (s->len == len && !memcmp(s->entry, *e, len))
				break;      /* a second of one name: the first one stays */
		}
	}
	req->indexed = true;
}

const char *request_param(const struct http_request *req, const char *name)
{
	if (!req->fcgx)
		return getenv(name);
	if (!req->indexed)
		return FCGX_GetParam(name, req->envp);
	size_t len = strlen(name);
	if (!len)
		return NULL;
	for (size_t i = request_hash(name, len); req->index[i].entry;
	     i = (i + 1) & (REQUEST_INDEX_SLOTS - 1))
		if (req->index[i].len == len && !memcmp(req->index[i].entry, name, len))
			return req->index[i].entry + len + 1;
	return NULL;
}

static ssize_t request_read(struct http_request *req, char *p, size_t n)
{
	if (req->fcgx)
		return FCGX_GetStr(p, n > 65536 ? 65536 : (int)n, ((FCGX_Request *)req->fcgx)->in);
	for (;;) {
		ssize_t got = read(STDIN_FILENO, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		return got;
	}
}

void request_write(struct http_request *req, const char *p, size_t n)
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

ssize_t request_body_read(struct http_request *req, void *p, size_t n)
{
	if (!req->fcgx) {
		if (req->body_read >= req->content_length)
			return 0;
		if (n > req->content_length - req->body_read)
			n = (size_t)(req->content_length - req->body_read);
	}
	ssize_t got = request_read(req, p, n);
	if (got > 0)
		req->body_read += (unsigned long long)got;
	return got;
}

int request_body(struct http_request *req, struct buf *out, struct error *err)
{
	buf_init(out, req->max_body);
	if (req->content_length > req->max_body)
		return error_set(err, SKIFF_ELIMIT, "body_too_large",
				 "request body is larger than %zu bytes", req->max_body);
	char chunk[8192];
	for (;;) {
		ssize_t n = request_read(req, chunk, sizeof(chunk));
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

/* Decodes application/x-www-form-urlencoded text ('+' is a space) into out (len+1 bytes). */
static int request_form_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	if (percent_decode(s, n, PERCENT_PLUS | PERCENT_NO_NUL, out, n, outlen) < 0)
		return -1;
	out[*outlen] = '\0';
	return 0;
}

#define REQUEST_FORM_FIELDS_MAX 64
#define REQUEST_FORM_KEY_MAX 64

int request_form_parse(const char *s, size_t len, json_t **out, struct error *err)
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
			char key[REQUEST_FORM_KEY_MAX + 1];
			size_t kdl, vdl;
			if (++fields > REQUEST_FORM_FIELDS_MAX) {
				rc = error_set(err, SKIFF_EINVALID, "invalid_form", "too many form fields");
				goto out;
			}
			if (klen > REQUEST_FORM_KEY_MAX ||
			    request_form_decode(s + pos, klen, key, &kdl) < 0) {
				rc = error_set(err, SKIFF_EINVALID, "invalid_form", "malformed form field name");
				goto out;
			}
			if (eq) {
				if (request_form_decode(eq + 1, (size_t)(s + end - (eq + 1)), tmp, &vdl) < 0) {
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

const char *request_query_get(struct http_request *req, const char *name)
{
	json_t *q = NULL;
	if (request_form_parse(req->query, strlen(req->query), &q, NULL) < 0)
		return NULL;
	const char *v = json_string_value(json_object_get(q, name));
	char *copy = v ? arena_strdup(req->arena, v) : NULL;
	json_decref(q);
	return copy;
}

/* "application/json; charset=utf-8" → compares the media type only. */
int request_media_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);
	if (strncasecmp(ctype, want, n) != 0)
		return 0;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/* A body that starts like a JSON object or array (after blanks). */
static bool request_looks_like_json(const struct buf *body)
{
	size_t i = 0;
	while (i < body->len && strchr(" \t\r\n", body->data[i]))
		i++;
	return i < body->len && (body->data[i] == '{' || body->data[i] == '[');
}

static int request_json_hint(struct error *err)
{
	return error_set(err, SKIFF_ETYPE, "unsupported_media_type",
			 "the body looks like JSON but is not sent as JSON: add the header "
			 "'Content-Type: application/json' (curl: --json, or -H 'Content-Type: "
			 "application/json')");
}

int request_body_object(struct http_request *req, json_t **out, bool *is_form, struct error *err)
{
	struct buf body = BUF_INIT(0);
	*out = NULL;
	*is_form = request_media_is(req->content_type, "application/x-www-form-urlencoded");
	bool is_json = request_media_is(req->content_type, "application/json");
	/* a DELETE needs no body; anything else that sends none, or another type, is refused
	 * before its body is read (an empty text/plain POST is what a cross-site form sends) */
	if (!is_json && !*is_form && !req->content_type[0] && req->content_length == 0 &&
	    !strcmp(req->method ? req->method : "", "DELETE")) {
		*out = json_object();
		return 0;
	}
	if (!is_json && !*is_form && req->content_length == 0)
		return error_set(err, SKIFF_ETYPE, "unsupported_media_type",
				 "send a body of type application/json (an empty object {} is fine) "
				 "or application/x-www-form-urlencoded, not an empty '%s' one",
				 req->content_type[0] ? req->content_type : "untyped");
	int rc = request_body(req, &body, err);
	if (rc < 0)
		goto out;
	if (!is_json && !*is_form) {
		rc = request_looks_like_json(&body) && !req->content_type[0]
			     ? request_json_hint(err)
			     : error_set(err, SKIFF_ETYPE, "unsupported_media_type",
					 "send application/json or application/x-www-form-urlencoded, "
					 "not '%s'", req->content_type[0] ? req->content_type : "(none)");
		goto out;
	}
	if (body.len == 0) {
		*out = json_object();
		goto out;
	}
	if (*is_form) {
		/* curl -d sends this type by default: a JSON body under it is a mistake */
		if (request_looks_like_json(&body)) {
			*is_form = false; /* the client is a script: answer it in JSON */
			rc = request_json_hint(err);
		} else {
			rc = request_form_parse(buf_cstr(&body), body.len, out, err);
		}
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

int request_wants_html(const struct http_request *req)
{
	const char *accept = request_param(req, "HTTP_ACCEPT");
	return accept && strstr(accept, "text/html") != NULL;
}

int request_confidential(const struct http_request *req)
{
	const char *https = request_param(req, "HTTPS");
	const char *addr = request_param(req, "REMOTE_ADDR");
	struct in_addr v4;
	struct in6_addr v6;
	if (https && !strcasecmp(https, "on"))
		return 1;
	if (!addr)
		return 0;
	if (inet_pton(AF_INET, addr, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6) ||
		       (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
	return 0;
}
