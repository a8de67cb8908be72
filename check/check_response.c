/* check_response.c — the response helpers: header values without line breaks, JSON errors with
 * the status of their code, 303 for form posts, reason phrases. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "response.h"
#include "testresponse.h"

START_TEST(test_response_header_no_injection)
{
	struct http_response resp;
	testresponse_init(&resp);
	response_header(&resp, "Location", "/x\r\nSet-Cookie: a=b\nX: y");
	ck_assert_ptr_null(strstr(buf_cstr(&resp.headers), "\r\nSet-Cookie"));
	ck_assert_ptr_null(strstr(buf_cstr(&resp.headers), "\nX:"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&resp.headers), "Location: /x"));
	/* exactly one header line */
	const char *h = buf_cstr(&resp.headers);
	ck_assert_ptr_eq(strstr(h, "\r\n"), h + resp.headers.len - 2);
	testresponse_dispose(&resp);
}
END_TEST

START_TEST(test_response_error_json)
{
	struct http_response resp;
	testresponse_init(&resp);
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/api/projects";
	struct error err;
	error_set(&err, SKIFF_ECONFLICT, "slug_taken", "the slug 'x' is taken \"quoted\" \xc3\xa9");
	log_init("check_response", LOG_ERROR); /* keep the test output quiet */
	ck_assert_int_eq(response_error(&req, &resp, &err), 409);
	ck_assert_int_eq(resp.status, 409);
	ck_assert_str_eq(resp.content_type, "application/json");
	json_error_t jerr;
	json_t *o = json_loads(buf_cstr(&resp.body), 0, &jerr);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
			 "slug_taken");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "message")),
			 "the slug 'x' is taken \"quoted\" \xc3\xa9");
	json_decref(o);
	/* response_fail with no name uses the code's default */
	ck_assert_int_eq(response_fail(&req, &resp, SKIFF_EREDIS, NULL, "down"), 503);
	o = json_loads(buf_cstr(&resp.body), 0, &jerr);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "error"), "code")),
			 "redis_unavailable");
	json_decref(o);
	testresponse_dispose(&resp);
}
END_TEST

START_TEST(test_response_see_other)
{
	struct http_response resp;
	testresponse_init(&resp);
	ck_assert_int_eq(response_see_other(&resp, "/deployments/abcdefgh2345"), 303);
	ck_assert_int_eq(resp.status, 303);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&resp.headers),
				     "Location: /deployments/abcdefgh2345\r\n"));
	testresponse_dispose(&resp);
}
END_TEST

START_TEST(test_response_reason)
{
	ck_assert_str_eq(response_reason(202), "Accepted");
	ck_assert_str_eq(response_reason(303), "See Other");
	ck_assert_str_eq(response_reason(413), "Content Too Large");
	ck_assert_str_eq(response_reason(415), "Unsupported Media Type");
	ck_assert_str_eq(response_reason(503), "Service Unavailable");
	/* every status the error table can produce has a real reason phrase */
	for (int code = SKIFF_EINVALID; code >= SKIFF_EUPSTREAM; code--)
		ck_assert_str_ne(response_reason(error_status(code)), "Status");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("response");
	TCase *tr = tcase_create("response");
	tcase_add_test(tr, test_response_header_no_injection);
	tcase_add_test(tr, test_response_error_json);
	tcase_add_test(tr, test_response_see_other);
	tcase_add_test(tr, test_response_reason);
	suite_add_tcase(s, tr);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
