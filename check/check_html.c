/* check_html.c — the server-rendered pages' chrome: every HTML special character escaped
 * wherever a page shows text it did not write, the error page, the dashboard's headers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "log.h"
#include "testresponse.h"

/* Each special character alone, then all of them in a row, then text that must stay. */
static const struct {
	const char *in, *out;
} escapes[] = {
	{ "&", "&amp;" },
	{ "<", "&lt;" },
	{ ">", "&gt;" },
	{ "\"", "&quot;" },
	{ "'", "&#39;" },
	{ "<a href=\"x\" title='y'>Tom & Jerry</a>",
	  "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;" },
	{ "&amp;", "&amp;amp;" },                 /* already escaped text is escaped again */
	{ "plain ünïcode / = ; `", "plain ünïcode / = ; `" },
	{ "", "" },
};

START_TEST(test_html_escape_every_special)
{
	struct buf b = BUF_INIT(1000);
	ck_assert_int_eq(buf_put_html(&b, escapes[_i].in), 0);
	ck_assert_str_eq(buf_cstr(&b), escapes[_i].out);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_html_escape_limit)
{
	/* an escape that does not fit is not written in part: no "&am" left in a page */
	struct buf b = BUF_INIT(6);
	ck_assert_int_eq(buf_put_html(&b, "ab&c"), SKIFF_ELIMIT);
	ck_assert_str_eq(buf_cstr(&b), "ab");
	buf_dispose(&b);
}
END_TEST

START_TEST(test_html_head_title_escaped)
{
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, "<script>alert('x')</script> & \"more\"", 0);
	const char *p = buf_cstr(&b);
	ck_assert_ptr_nonnull(strstr(p, "<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
					"&amp; &quot;more&quot; · skiff</title>"));
	ck_assert_ptr_null(strstr(p, "<script>alert"));
	ck_assert_ptr_null(strstr(p, "http-equiv=\"refresh\""));
	buf_dispose(&b);
}
END_TEST

START_TEST(test_html_head_refresh_only_without_script)
{
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	html_head(&b, "Building", 1);
	const char *p = buf_cstr(&b);
	const char *ns = strstr(p, "<noscript>");
	ck_assert_ptr_nonnull(ns);
	ck_assert_ptr_eq(strstr(p, "http-equiv=\"refresh\""), strstr(ns, "http-equiv=\"refresh\""));
	ck_assert_ptr_nonnull(strstr(ns, "</noscript>"));
	ck_assert_ptr_nonnull(strstr(p, "<header class=\"topbar\">"));
	buf_dispose(&b);
}
END_TEST

START_TEST(test_html_send_headers)
{
	struct http_response resp;
	testresponse_init(&resp);
	buf_puts(&resp.body, "stale");
	struct buf b = BUF_INIT(HTML_PAGE_MAX);
	buf_puts(&b, "<p>page</p>");
	html_send(&resp, &b, 201);
	ck_assert_int_eq(resp.status, 201);
	ck_assert_str_eq(resp.content_type, "text/html; charset=utf-8");
	ck_assert_str_eq(buf_cstr(&resp.body), "<p>page</p>");      /* replaced, not appended */
	const char *h = buf_cstr(&resp.headers);
	ck_assert_ptr_nonnull(strstr(h, "X-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "frame-ancestors 'none'"));
	ck_assert_ptr_nonnull(strstr(h, "Cache-Control: no-cache\r\n"));
	ck_assert_ptr_null(b.data);                                   /* b was taken */
	testresponse_dispose(&resp);
}
END_TEST

/* The error page shows the error's name, message and the way back, all escaped, under the
 * heading and with the status of the error's code. */
START_TEST(test_html_error_page)
{
	static const struct {
		int code;
		int status;
		const char *heading;
	} cases[] = {
		{ SKIFF_ENOTFOUND, 404, "<h1>Not found</h1>" },
		{ SKIFF_EREDIS, 503, "<h1>Something went wrong</h1>" },
		{ SKIFF_EINVALID, 400, "<h1>That did not work</h1>" },
	};
	log_init("check_html", LOG_ERROR);
	struct http_request req;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/new";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_response resp;
		testresponse_init(&resp);
		struct error err;
		error_set(&err, cases[i].code, "bad\"name", "<b>slug</b> & 'co'");
		ck_assert_int_eq(html_error(&req, &resp, &err, "/x?a=1&b=\"2\"", "<Back>"),
				 cases[i].status);
		ck_assert_int_eq(resp.status, cases[i].status);
		const char *p = buf_cstr(&resp.body);
		ck_assert_ptr_nonnull(strstr(p, cases[i].heading));
		ck_assert_ptr_nonnull(strstr(p, "data-code=\"bad&quot;name\">"
						"&lt;b&gt;slug&lt;/b&gt; &amp; &#39;co&#39;</div>"));
		ck_assert_ptr_nonnull(strstr(p, "<a href=\"/x?a=1&amp;b=&quot;2&quot;\">"
						"&lt;Back&gt;</a>"));
		ck_assert_ptr_null(strstr(p, "<b>"));
		ck_assert_ptr_nonnull(strstr(p, "</html>\n"));
		testresponse_dispose(&resp);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("html");
	tcase_add_loop_test(tc, test_html_escape_every_special, 0,
			    (int)(sizeof(escapes) / sizeof(escapes[0])));
	tcase_add_test(tc, test_html_escape_limit);
	tcase_add_test(tc, test_html_head_title_escaped);
	tcase_add_test(tc, test_html_head_refresh_only_without_script);
	tcase_add_test(tc, test_html_send_headers);
	tcase_add_test(tc, test_html_error_page);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
