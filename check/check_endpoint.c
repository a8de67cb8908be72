/* check_endpoint.c — the shared endpoint loop driven as plain CGI: route matching and its
 * captures, 404 and 405 with a complete Allow, HEAD, per-route body limits, the private-read
 * rule, malformed request lines refused before any handler runs, and routes that take raw
 * bytes of one declared type. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "endpoint.h"

/* Echoes the captured path segments, so a test sees what the route table matched. */
static int echo_handler(struct http_request *req, struct http_response *resp)
{
	json_t *o = json_object();
	json_object_set_new(o, "handler", json_string("echo"));
	for (size_t i = 0; i < REQUEST_MAX_PARAMS && req->params[i]; i++)
		json_object_set_new(o, i ? "p1" : "p0", json_string(req->params[i]));
	return response_json(resp, 200, o);
}

static int create_handler(struct http_request *req, struct http_response *resp)
{
	(void)req;
	return response_json(resp, 201, json_pack("{s:s}", "handler", "create"));
}

/* Reads a raw body to its end and says how many bytes came. */
static int raw_handler(struct http_request *req, struct http_response *resp)
{
	char chunk[64];
	ssize_t n;
	long long total = 0;
	while ((n = request_body_read(req, chunk, sizeof(chunk))) > 0)
		total += n;
	return response_json(resp, 200, json_pack("{s:s,s:I}", "handler", "raw", "bytes",
						  (json_int_t)total));
}

static const struct http_route routes[] = {
	{ "PUT", "/api/things/{}/raw", raw_handler, 0, ENDPOINT_PUBLIC },
	{ "GET", "/api/things", echo_handler, 0, ENDPOINT_PRIVATE },
	{ "POST", "/api/things", create_handler, 16, ENDPOINT_PUBLIC },
	{ "GET", "/api/things/{}/parts/{}", echo_handler, 0, ENDPOINT_PUBLIC },
	{ "GET", "/healthz", echo_handler, 0, ENDPOINT_PUBLIC },
};

static const struct endpoint_resource resources[] = {
	{ "/api/things", "GET, HEAD, POST" },
	{ "/api/things/{}", "GET, HEAD, DELETE" },
	{ NULL, NULL },
};

static const struct endpoint_body bodies[] = {
	{ "PUT", "/api/things/{}/raw", "application/octet-stream" },
	{ NULL, NULL, NULL },
};

static const struct http_program program = {
	.name = "check-endpoint",
	.summary = "a test program",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.resources = resources,
	.bodies = bodies,
};

static char out[65536];

/* Runs one CGI request in a child: env is "NAME=value" strings, NULL-terminated. Returns what
 * the program wrote to stdout (status line, headers, body) in out. */
static const char *cgi(const char *method, const char *uri, const char *const *env)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		int in = open("/dev/null", O_RDONLY);
		dup2(in, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		setenv("REQUEST_METHOD", method, 1);
		setenv("REQUEST_URI", uri, 1);
		setenv("SKIFF_LOG_LEVEL", "error", 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		char *argv[] = { "check-endpoint", "-c", "/dev/null", NULL };
		_exit(endpoint_main(3, argv, &program));
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	out[len] = '\0';
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(b);
	return b + 4;
}

static void assert_status(const char *resp, const char *status)
{
	ck_assert_msg(!strncmp(resp, status, strlen(status)), "want '%s', got '%.60s'", status,
		      resp);
}

static const char *const public_reads[] = { "SKIFF_PUBLIC_READS=true", NULL };

START_TEST(test_endpoint_route_captures)
{
	const char *r = cgi("GET", "/api/things/a1/parts/b2?x=1", NULL);
	assert_status(r, "Status: 200 OK\r\n");
	json_t *o = json_loads(body_of(r), 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "p0")), "a1");
	ck_assert_str_eq(json_string_value(json_object_get(o, "p1")), "b2");
	json_decref(o);
	/* one trailing slash is tolerated; an empty or an extra segment is not the route */
	assert_status(cgi("GET", "/api/things/a1/parts/b2/", NULL), "Status: 200 ");
	assert_status(cgi("GET", "/api/things//parts/b2", NULL), "Status: 404 ");
	assert_status(cgi("GET", "/api/things/a1/parts/b2/c", NULL), "Status: 404 ");
	r = cgi("GET", "/nowhere", NULL);
	assert_status(r, "Status: 404 ");
	ck_assert_ptr_nonnull(strstr(body_of(r), "\"not_found\""));
}
END_TEST

START_TEST(test_endpoint_method_not_allowed)
{
	/* the Allow list of the routes... */
	const char *r = cgi("DELETE", "/api/things/a1/parts/b2", NULL);
	assert_status(r, "Status: 405 ");
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	/* ...unless the resource table names every method, whichever program serves it */
	r = cgi("PUT", "/api/things", NULL);
	assert_status(r, "Status: 405 ");
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: GET, HEAD, POST\r\n"));
	r = cgi("DELETE", "/api/things/a1", NULL);
	assert_status(r, "Status: 405 ");
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: GET, HEAD, DELETE\r\n"));
}
END_TEST

START_TEST(test_endpoint_head)
{
	const char *r = cgi("HEAD", "/healthz", NULL);
	assert_status(r, "Status: 200 ");
	ck_assert_ptr_nonnull(strstr(r, "Content-Length: "));
	ck_assert_str_eq(body_of(r), "");
	ck_assert_ptr_nonnull(strstr(body_of(cgi("GET", "/healthz", NULL)), "\"echo\""));
}
END_TEST

START_TEST(test_endpoint_private_read)
{
	assert_status(cgi("GET", "/api/things", NULL), "Status: 401 ");
	static const char *const token[] = { "SKIFF_API_TOKEN=s3cret",
					     "HTTP_AUTHORIZATION=Bearer s3cret", NULL };
	assert_status(cgi("GET", "/api/things", token), "Status: 200 ");
	assert_status(cgi("GET", "/api/things", public_reads), "Status: 200 ");
	/* a public route needs nothing */
	assert_status(cgi("GET", "/healthz", NULL), "Status: 200 ");
}
END_TEST

START_TEST(test_endpoint_refused_before_handler)
{
	/* the route's own body limit, from Content-Length alone */
	static const char *const big[] = { "CONTENT_LENGTH=17", NULL };
	const char *r = cgi("POST", "/api/things", big);
	assert_status(r, "Status: 413 ");
	ck_assert_ptr_null(strstr(r, "\"create\""));
	static const char *const fits[] = { "CONTENT_LENGTH=0", NULL };
	assert_status(cgi("POST", "/api/things", fits), "Status: 201 ");
	static const char *const bad[] = { "CONTENT_LENGTH=12x", NULL };
	r = cgi("POST", "/api/things", bad);
	assert_status(r, "Status: 400 ");
	ck_assert_ptr_nonnull(strstr(r, "invalid_content_length"));
	static const char *const negative[] = { "CONTENT_LENGTH=-1", NULL };
	assert_status(cgi("POST", "/api/things", negative), "Status: 400 ");
	/* a URI longer than REQUEST_URI_MAX */
	static char uri[REQUEST_URI_MAX + 16];
	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[sizeof(uri) - 1] = '\0';
	assert_status(cgi("GET", uri, NULL), "Status: 414 ");
}
END_TEST

/* A route declared in bodies[] takes its one type and nothing else, refused before its
 * handler; routes not declared there are left to their handlers. */
START_TEST(test_endpoint_raw_body_type)
{
	static const char *const json[] = { "CONTENT_TYPE=application/json", "CONTENT_LENGTH=0",
					    NULL };
	const char *r = cgi("PUT", "/api/things/a/raw", json);
	assert_status(r, "Status: 415 ");
	ck_assert_ptr_nonnull(strstr(r, "application/octet-stream"));
	ck_assert_ptr_null(strstr(r, "\"raw\""));
	assert_status(cgi("PUT", "/api/things/a/raw", NULL), "Status: 415 ");
	static const char *const near[] = { "CONTENT_TYPE=application/octet-streamX",
					    "CONTENT_LENGTH=0", NULL };
	assert_status(cgi("PUT", "/api/things/a/raw", near), "Status: 415 ");
	static const char *const raw[] = { "CONTENT_TYPE=application/octet-stream",
					   "CONTENT_LENGTH=0", NULL };
	r = cgi("PUT", "/api/things/a/raw", raw);
	assert_status(r, "Status: 200 ");
	ck_assert_ptr_nonnull(strstr(r, "\"raw\""));
	ck_assert(strstr(r, "\"bytes\":0") || strstr(r, "\"bytes\": 0"));
	static const char *const param[] = { "CONTENT_TYPE=Application/Octet-Stream; x=1",
					     "CONTENT_LENGTH=0", NULL };
	assert_status(cgi("PUT", "/api/things/a/raw", param), "Status: 200 ");
	/* the POST route of the same program is not affected */
	static const char *const fits[] = { "CONTENT_TYPE=application/json", "CONTENT_LENGTH=0",
					    NULL };
	assert_status(cgi("POST", "/api/things", fits), "Status: 201 ");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("endpoint");
	tcase_add_test(tc, test_endpoint_route_captures);
	tcase_add_test(tc, test_endpoint_method_not_allowed);
	tcase_add_test(tc, test_endpoint_head);
	tcase_add_test(tc, test_endpoint_private_read);
	tcase_add_test(tc, test_endpoint_refused_before_handler);
	tcase_add_test(tc, test_endpoint_raw_body_type);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
