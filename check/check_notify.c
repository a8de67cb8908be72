/* check_notify.c — outgoing notifications without a network: the Skiff-Signature (a vector
 * computed with Python's hmac), the retry schedule, the receiver URL check, the payload, the
 * fixed words of a failed attempt. */
#include <check.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "model_notify.h"
#include "notify.h"

START_TEST(test_notify_signature_vector)
{
	char sig[NOTIFY_SIGNATURE_MAX];
	const char *body = "{\"a\":1}";
	notify_signature("whsec-test", 1700000000, body, strlen(body), sig);
	ck_assert_str_eq(sig, "t=1700000000,v1=fed7a1a6c799a6367d73724d76bc70c16678908a32a879cd1d"
			      "ed6565ac05cece");
	/* the timestamp is signed: another t, another signature */
	char other[NOTIFY_SIGNATURE_MAX];
	notify_signature("whsec-test", 1700000001, body, strlen(body), other);
	ck_assert_str_ne(strchr(sig, ','), strchr(other, ','));
}
END_TEST

START_TEST(test_notify_backoff)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.notify_retry_base_ms = 10000;
	ck_assert_int_eq(notify_backoff_ms(&cfg, 1), 10000);
	ck_assert_int_eq(notify_backoff_ms(&cfg, 2), 40000);
	ck_assert_int_eq(notify_backoff_ms(&cfg, 3), 160000);
	ck_assert_int_eq(notify_backoff_ms(&cfg, 4), 640000);
	ck_assert_int_eq(notify_backoff_ms(&cfg, 5), NOTIFY_RETRY_MAX_MS);
	ck_assert_int_eq(notify_backoff_ms(&cfg, 1000), NOTIFY_RETRY_MAX_MS);
	/* within the hour: the first attempt and seven retries, after 10 s, 40 s, 160 s, 640 s
	 * and three times 900 s (3,550 s); the next would come after 4,450 s */
	long long t = 0;
	int attempts = 1;
	while (t + notify_backoff_ms(&cfg, attempts) <= NOTIFY_RETRY_WINDOW_MS)
		t += notify_backoff_ms(&cfg, attempts++);
	ck_assert_int_eq(attempts, 8);
}
END_TEST

START_TEST(test_notify_url_check)
{
	struct error err;
	ck_assert_int_eq(notify_url_check("https://127.0.0.1:8443/x", true, &err), 0);
	ck_assert_int_eq(notify_url_check("http://127.0.0.1:8080/x", true, &err), 0);
	ck_assert_int_eq(notify_url_check("http://example.com/x", false, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_notification_url");
	ck_assert_int_eq(notify_url_check("ftp://example.com/x", true, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("https://u:p@example.com/x", true, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("/relative", true, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("", true, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check(NULL, true, &err), SKIFF_EINVALID);
	/* internal addresses, literal (no resolver needed) */
	ck_assert_int_eq(notify_url_check("https://127.0.0.1/x", false, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("https://10.0.0.5/x", false, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("https://[::1]/x", false, &err), SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("https://169.254.169.254/latest", false, &err),
			 SKIFF_EINVALID);
	ck_assert_int_eq(notify_url_check("https://93.184.215.14/x", false, &err), 0);
	char *big = malloc(NOTIFY_URL_MAX + 32);
	memcpy(big, "https://a.example/", 18);
	memset(big + 18, 'a', NOTIFY_URL_MAX);
	big[NOTIFY_URL_MAX + 1] = '\0';
	ck_assert_int_eq(notify_url_check(big, true, &err), SKIFF_EINVALID);
	free(big);
}
END_TEST

START_TEST(test_notify_payload)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.domain, sizeof(cfg.domain), "example.net");
	snprintf(cfg.site_scheme, sizeof(cfg.site_scheme), "https");
	snprintf(cfg.dashboard_url, sizeof(cfg.dashboard_url), "https://skiff.example.net");
	struct deployment d;
	model_deployment_init(&d);
	snprintf(d.id, sizeof(d.id), "abcdefghijkl");
	snprintf(d.project, sizeof(d.project), "site");
	snprintf(d.branch, sizeof(d.branch), "main");
	snprintf(d.commit, sizeof(d.commit), "0123456789abcdef0123456789abcdef01234567");
	snprintf(d.error, sizeof(d.error), "build failed: exit 3");
	json_t *p = notify_payload(&cfg, "deploy.failed", "evtevtevtevt", 1700000000000LL, &d,
				   "production");
	ck_assert_str_eq(json_string_value(json_object_get(p, "type")), "deploy.failed");
	json_t *dep = json_object_get(p, "deployment");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "state")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "context")), "production");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "branch")), "main");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "error")), "build failed: exit 3");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "url")),
			 "https://site--abcdefghijkl.example.net/");
	ck_assert_str_eq(json_string_value(json_object_get(dep, "dashboardUrl")),
			 "https://skiff.example.net/deployments/abcdefghijkl");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "project"), "url")),
			 "https://site.example.net/");
	json_decref(p);
	/* a ready deployment carries no error */
	p = notify_payload(&cfg, "deploy.ready", "evtevtevtevt", 1, &d, "production");
	ck_assert(json_is_null(json_object_get(json_object_get(p, "deployment"), "error")));
	json_decref(p);
}
END_TEST

START_TEST(test_notify_failure_text)
{
	static const struct {
		CURLcode cc;
		long status;
		bool refused;
		const char *want;
	} cases[] = {
		{ CURLE_OK, 500, false, "the receiver answered HTTP 500" },
		{ CURLE_OK, 307, false, "the receiver answered HTTP 307" },
		/* one address refused, another answered: the answer is what counts */
		{ CURLE_OK, 502, true, "the receiver answered HTTP 502" },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, false, "the name does not resolve" },
		{ CURLE_COULDNT_CONNECT, 0, false, "could not connect" },
		{ CURLE_COULDNT_CONNECT, 0, true, "the receiver's address is internal: refused" },
		{ CURLE_OPERATION_TIMEDOUT, 0, true, "the receiver's address is internal: refused" },
		{ CURLE_OPERATION_TIMEDOUT, 0, false, "timed out" },
		{ CURLE_WRITE_ERROR, 200, false, "the answer was longer than 65536 bytes" },
		{ CURLE_UNSUPPORTED_PROTOCOL, 0, false, "the URL's scheme is not allowed" },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, false,
		  "TLS error: the receiver's certificate is not trusted" },
		{ CURLE_SSL_CONNECT_ERROR, 0, false, "TLS error" },
		{ CURLE_GOT_NOTHING, 0, false, "no valid answer" },
		{ CURLE_RECV_ERROR, 0, false, "no valid answer" },
		{ CURLE_WEIRD_SERVER_REPLY, 0, false, "no valid answer" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[NOTIFY_ERROR_MAX + 1];
		notify_failure_text(cases[i].cc, cases[i].status, cases[i].refused, why, sizeof(why));
		ck_assert_str_eq(why, cases[i].want);
	}
	/* a short buffer is cut, never overrun */
	char small[8];
	notify_failure_text(CURLE_OK, 503, false, small, sizeof(small));
	ck_assert_str_eq(small, "the rec");
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_notify_signature_vector);
	tcase_add_test(tc, test_notify_backoff);
	tcase_add_test(tc, test_notify_url_check);
	tcase_add_test(tc, test_notify_payload);
	tcase_add_test(tc, test_notify_failure_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
