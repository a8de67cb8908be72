/* fuzz_http.c — libFuzzer target for the request parsers of lib/request.c: the body reader as a
 * CGI request sees it (request_body_object through stdin), the form parser and the query
 * lookup. Input = 1 selector byte (content type, which of the parsers), then the bytes.
 * Whatever is accepted must be an object whose form values are strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_types[] = {
	"application/json", "application/x-www-form-urlencoded",
	"application/json; charset=utf-8", "application/x-www-form-urlencoded; charset=UTF-8",
	"text/plain", "", "APPLICATION/JSON", "application/jsonx",
};

static void fuzz_check_object(json_t *o, bool strings)
{
	if (!json_is_object(o))
		abort();
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
		if (strings && !json_is_string(v))
			abort();
}

/* The body through a pipe on stdin, exactly CONTENT_LENGTH bytes, as CGI delivers it. */
static void fuzz_body(const char *ctype, const uint8_t *body, size_t len, bool short_body)
{
	int fds[2];
	if (len > 60000 || pipe(fds) != 0)
		return;
	size_t sent = short_body && len ? len - 1 : len;
	if (write(fds[1], body, sent) != (ssize_t)sent)
		abort();
	close(fds[1]);
	int saved = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	struct arena a;
	arena_init(&a);
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_body = 4096;
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.arena = &a;
	req.cfg = &cfg;
	req.method = "POST";
	req.path = "/api/projects";
	req.query = "";
	req.host = "localhost";
	req.content_type = ctype;
	req.content_length = len;
	req.max_body = 4096;
	json_t *out = NULL;
	bool is_form = false;
	struct error err;
	int rc = request_body_object(&req, &out, &is_form, &err);
	if (rc == 0)
		fuzz_check_object(out, is_form);
	else if (out || !err.message[0] || error_status(rc) < 400 || error_status(rc) > 499)
		abort();   /* a refusal is a client error with a message, and nothing leaks out */
	json_decref(out);
	arena_dispose(&a);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	fuzz_body(fuzz_types[sel % 8], body, len, sel & 0x80);

	json_t *form = NULL;
	struct error err;
	if (request_form_parse((const char *)body, len, &form, &err) == 0)
		fuzz_check_object(form, true);
	json_decref(form);

	/* the query: a NUL-terminated string, looked up by a name taken from its start */
	char *q = malloc(len + 1);
	if (!q)
		abort();
	memcpy(q, body, len);
	q[len] = '\0';
	struct arena a;
	arena_init(&a);
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.arena = &a;
	req.query = q;
	char name[16];
	size_t n = strcspn(q, "=&");
	n = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
	memcpy(name, q, n);
	name[n] = '\0';
	const char *v = request_query_get(&req, name);
	(void)request_query_get(&req, "project");
	if (v && strlen(v) > len)
		abort();   /* decoding never grows a value */
	arena_dispose(&a);
	free(q);
	return 0;
}
