/* check_channel.c — which API URLs a remote build trusts with secrets: https, or plain http
 * whose host is this machine's loopback by its spelling; a host that only begins like one, a
 * name that merely resolves here, or another scheme is refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"

START_TEST(test_channel_https_anywhere)
{
	ck_assert(channel_confidential("https://anything"));
	ck_assert(channel_confidential("https://skiff.example.com:8443/base"));
	ck_assert(channel_confidential("https://10.0.0.5"));
}
END_TEST

START_TEST(test_channel_http_loopback)
{
	static const char *good[] = {
		"http://127.0.0.1", "http://127.0.0.1/", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api",
		"http://127.1.2.3", "http://127.255.255.254?x", "http://[::1]", "http://[::1]:8080",
		"http://[::1]/api", "http://localhost", "http://localhost:8080", "http://localhost/api",
		"http://localhost#f", "http://[0:0:0:0:0:0:0:1]:8080", "HTTP://127.0.0.1",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(channel_confidential(good[i]), "'%s' refused", good[i]);
}
END_TEST

START_TEST(test_channel_http_elsewhere_refused)
{
	char longhost[200];
	memset(longhost, 0, sizeof(longhost));
	memcpy(longhost, "http://127.0.0.1", 16);
	memset(longhost + 16, 'a', sizeof(longhost) - 17);
	static const char *bad[] = {
		"http://127.evil.example",      /* begins like a loopback address, is a name */
		"http://127.0.0.1.evil.example", "http://127.0.0.1evil", "http://localhost.evil.example",
		"http://localhostx", "http://api.localhost:8080", /* resolves here, but by a name */
		"http://evil.example", "http://10.0.0.5", "http://128.0.0.1", "http://[::2]",
		"http://[::1", "http://", "http:///api", "http://:80",
		"", "127.0.0.1", "ftp://127.0.0.1", "file:///etc/passwd",
		/* a user and password before the host: curl connects to what follows the '@' */
		"http://127.0.0.1:80@evil.example", "http://127.0.0.1:80@evil.example/api",
		"http://localhost:x@evil.example", "http://[::1]@evil.example", "http://127.0.0.1@10.0.0.5",
		"http://[::1]x.evil.example",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!channel_confidential(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!channel_confidential(longhost));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("channel");
	TCase *tc = tcase_create("channel");
	tcase_add_test(tc, test_channel_https_anywhere);
	tcase_add_test(tc, test_channel_http_loopback);
	tcase_add_test(tc, test_channel_http_elsewhere_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
