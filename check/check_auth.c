/* check_auth.c — who may change and who may read: bearer token, REMOTE_USER, auth_disabled,
 * and the same-origin rule for changes (CGI: the variables come from the environment). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static struct config auth_cfg;
static struct arena auth_arena;

static struct http_request auth_request(bool auth_disabled, const char *token)
{
	config_defaults(&auth_cfg);
	auth_cfg.auth_disabled = auth_disabled;
	snprintf(auth_cfg.api_token, sizeof(auth_cfg.api_token), "%s", token);
	snprintf(auth_cfg.dashboard_url, sizeof(auth_cfg.dashboard_url), "http://localhost");
	arena_init(&auth_arena);
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.arena = &auth_arena;
	req.cfg = &auth_cfg;
	req.method = "POST";
	req.path = "/api/projects";
	req.host = "localhost";
	return req;
}

static int auth(bool auth_disabled, const char *token, struct error *err)
{
	struct http_request req = auth_request(auth_disabled, token);
	error_clear(err);
	return auth_mutation(&req, err);
}

static void auth_env_clear(void)
{
	unsetenv("HTTP_AUTHORIZATION");
	unsetenv("REMOTE_USER");
	unsetenv("HTTP_ORIGIN");
	unsetenv("HTTP_REFERER");
	unsetenv("HTTP_SEC_FETCH_SITE");
}

START_TEST(test_auth_token)
{
	struct error err;
	auth_env_clear();
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
	ck_assert_int_eq(error_status(err.code), 401);
	setenv("HTTP_AUTHORIZATION", "Bearer wrong", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
	ck_assert_str_eq(err.name, "invalid_token");
	/* a valid token needs no Origin: API clients, curl, CI */
	setenv("HTTP_AUTHORIZATION", "Bearer s3cret", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), 0);
	setenv("HTTP_AUTHORIZATION", "bearer s3cret", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), 0);
	/* and a foreign Origin does not matter to it */
	setenv("HTTP_ORIGIN", "http://evil.example", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), 0);
	ck_assert_int_eq(auth(true, "s3cret", &err), 0);
	unsetenv("HTTP_ORIGIN");
	setenv("HTTP_AUTHORIZATION", "Bearer s3cret2", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
	setenv("HTTP_AUTHORIZATION", "Bearer s3cre", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
	setenv("HTTP_AUTHORIZATION", "Basic czNjcmV0", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
	/* no token configured: no bearer token opens the door, not even an empty one */
	setenv("HTTP_AUTHORIZATION", "Bearer ", 1);
	ck_assert_int_eq(auth(false, "", &err), SKIFF_EAUTH);
	/* a wrong token under auth_disabled is still not a way around the origin rule */
	setenv("HTTP_AUTHORIZATION", "Bearer anything", 1);
	ck_assert_int_eq(auth(true, "", &err), SKIFF_EFORBIDDEN);
}
END_TEST

START_TEST(test_auth_remote_user)
{
	struct error err;
	auth_env_clear();
	setenv("REMOTE_USER", "alice", 1);
	/* Basic credentials are resent by the browser: the web server's user alone is ambient */
	ck_assert_int_eq(auth(false, "", &err), SKIFF_EFORBIDDEN);
	ck_assert_str_eq(err.name, "cross_origin");
	setenv("HTTP_ORIGIN", "http://localhost", 1);
	ck_assert_int_eq(auth(false, "", &err), 0);
	setenv("REMOTE_USER", "", 1);
	ck_assert_int_eq(auth(false, "", &err), SKIFF_EAUTH);
	ck_assert_int_eq(auth(true, "", &err), 0); /* auth_disabled: local use */
}
END_TEST

START_TEST(test_auth_origin)
{
	struct error err;
	auth_env_clear();
	/* auth_disabled, and neither Origin nor Sec-Fetch-Site: refused, whatever the body */
	ck_assert_int_eq(auth(true, "", &err), SKIFF_EFORBIDDEN);
	ck_assert_int_eq(error_status(err.code), 403);
	static const char *ours[] = { "http://localhost", "HTTP://LOCALHOST", "http://localhost:80" };
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		setenv("HTTP_ORIGIN", ours[i], 1);
		ck_assert_msg(auth(true, "", &err) == 0, "Origin %s refused", ours[i]);
	}
	static const char *foreign[] = {
		"http://evil.example", "http://localhost.evil.example", "http://evillocalhost",
		"http://localhost:8080", "https://localhost", "localhost", "null", "http://localhost/",
		"http://evil.example/localhost", "http://user@localhost", "http://localhost?x",
		"file://", "http://localhost:",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		setenv("HTTP_ORIGIN", foreign[i], 1);
		ck_assert_msg(auth(true, "", &err) == SKIFF_EFORBIDDEN, "Origin %s accepted",
			      foreign[i]);
	}
	/* a foreign Origin is not overruled by Sec-Fetch-Site or a friendly Referer */
	setenv("HTTP_ORIGIN", "http://evil.example", 1);
	setenv("HTTP_SEC_FETCH_SITE", "same-origin", 1);
	setenv("HTTP_REFERER", "http://localhost/", 1);
	ck_assert_int_eq(auth(true, "", &err), SKIFF_EFORBIDDEN);
	/* without Origin, Sec-Fetch-Site decides; a Referer alone is not enough */
	unsetenv("HTTP_ORIGIN");
	ck_assert_int_eq(auth(true, "", &err), 0);
	static const char *sites[] = { "cross-site", "same-site", "none", "" };
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
		setenv("HTTP_SEC_FETCH_SITE", sites[i], 1);
		ck_assert_msg(auth(true, "", &err) == SKIFF_EFORBIDDEN, "Sec-Fetch-Site %s accepted",
			      sites[i]);
	}
	unsetenv("HTTP_SEC_FETCH_SITE");
	ck_assert_int_eq(auth(true, "", &err), SKIFF_EFORBIDDEN);
	/* the right origin still needs credentials when auth is on */
	setenv("HTTP_ORIGIN", "http://localhost", 1);
	ck_assert_int_eq(auth(false, "s3cret", &err), SKIFF_EAUTH);
}
END_TEST

/* The dashboard's origin comes from dashboard_url: its path and default port do not count. */
START_TEST(test_auth_origin_dashboard_url)
{
	struct error err;
	auth_env_clear();
	struct http_request req = auth_request(true, "");
	snprintf(auth_cfg.dashboard_url, sizeof(auth_cfg.dashboard_url),
		 "https://Skiff.example.com:443/dashboard/");
	setenv("HTTP_ORIGIN", "https://skiff.example.com", 1);
	ck_assert_int_eq(auth_mutation(&req, &err), 0);
	setenv("HTTP_ORIGIN", "http://skiff.example.com", 1);
	ck_assert_int_eq(auth_mutation(&req, &err), SKIFF_EFORBIDDEN);
	/* the Host header is the attacker's to choose (DNS rebinding): it is not the reference */
	req.host = "evil.example";
	setenv("HTTP_ORIGIN", "http://evil.example", 1);
	ck_assert_int_eq(auth_mutation(&req, &err), SKIFF_EFORBIDDEN);
	snprintf(auth_cfg.dashboard_url, sizeof(auth_cfg.dashboard_url), "http://127.0.0.1:8080");
	setenv("HTTP_ORIGIN", "http://127.0.0.1:8080", 1);
	ck_assert_int_eq(auth_mutation(&req, &err), 0);
	setenv("HTTP_ORIGIN", "http://127.0.0.1:8081", 1);
	ck_assert_int_eq(auth_mutation(&req, &err), SKIFF_EFORBIDDEN);
}
END_TEST

START_TEST(test_auth_read)
{
	struct error err;
	auth_env_clear();
	struct http_request req = auth_request(false, "s3cret");
	req.method = "GET";
	auth_cfg.public_reads = true;
	ck_assert_int_eq(auth_read(&req, &err), 0);
	auth_cfg.public_reads = false;
	ck_assert_int_eq(auth_read(&req, &err), SKIFF_EAUTH);
	ck_assert_int_eq(error_status(err.code), 401);
	setenv("HTTP_AUTHORIZATION", "Bearer wrong", 1);
	ck_assert_int_eq(auth_read(&req, &err), SKIFF_EAUTH);
	setenv("HTTP_AUTHORIZATION", "Bearer s3cret", 1);
	ck_assert_int_eq(auth_read(&req, &err), 0);
	unsetenv("HTTP_AUTHORIZATION");
	/* a read changes nothing: the web server's user needs no Origin */
	setenv("REMOTE_USER", "alice", 1);
	ck_assert_int_eq(auth_read(&req, &err), 0);
	unsetenv("REMOTE_USER");
	auth_cfg.auth_disabled = true;
	ck_assert_int_eq(auth_read(&req, &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auth");
	TCase *ta = tcase_create("auth");
	tcase_add_test(ta, test_auth_token);
	tcase_add_test(ta, test_auth_remote_user);
	tcase_add_test(ta, test_auth_origin);
	tcase_add_test(ta, test_auth_origin_dashboard_url);
	tcase_add_test(ta, test_auth_read);
	suite_add_tcase(s, ta);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
