/* check_redis_auth.c — redis_username/redis_password against a redis-server whose default
 * user is off and whose only user is an ACL user: the right password works, a wrong one or
 * none is a clear error that names the user and never the password. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "redis.h"
#include "testenv.h"

#define PASSWORD "s3cret-Pa55"

static char pwfile[300];
/* the suite's redis-server: no default user, one ACL user with a password */
static const char *const auth_args[] = { "--user", "default", "off", "--user", "skiff", "on",
					 ">" PASSWORD, "~*", "&*", "+@all", NULL };

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void conf(struct config *cfg, const char *user, const char *password)
{
	config_defaults(cfg);
	snprintf(cfg->redis_socket, sizeof(cfg->redis_socket), "%s", testenv_sock);
	snprintf(cfg->redis_username, sizeof(cfg->redis_username), "%s", user);
	snprintf(cfg->redis_password, sizeof(cfg->redis_password), "%s", password);
}

START_TEST(test_auth_right_password_works)
{
	struct config cfg;
	conf(&cfg, "skiff", PASSWORD);
	struct redis *r = redis_new(&cfg);
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(redis_ping(r, &err), 0);
	/* a reconnect authenticates again */
	redis_disconnect(r);
	redisReply *reply = redis_cmd(r, &err, "SET %s %s", "k", "v");
	ck_assert_ptr_nonnull(reply);
	freeReplyObject(reply);
	redis_free(r);
}
END_TEST

START_TEST(test_auth_wrong_password_is_clear_error)
{
	struct config cfg;
	conf(&cfg, "skiff", "not-the-password");
	struct redis *r = redis_new(&cfg);
	struct error err;
	error_clear(&err);
	ck_assert_int_ne(redis_ping(r, &err), 0);
	ck_assert_int_eq(err.code, SKIFF_EREDIS);
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_ptr_nonnull(strstr(err.message, "user 'skiff'"));
	ck_assert_ptr_nonnull(strstr(err.message, "WRONGPASS"));
	ck_assert_ptr_null(strstr(err.message, "not-the-password"));
	redis_free(r);
}
END_TEST

START_TEST(test_auth_none_is_refused)
{
	struct config cfg;
	conf(&cfg, "", "");
	struct redis *r = redis_new(&cfg);
	struct error err;
	error_clear(&err);
	ck_assert_int_ne(redis_ping(r, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "NOAUTH"));
	redis_free(r);
}
END_TEST

START_TEST(test_auth_password_file)
{
	char conf_path[300];
	snprintf(conf_path, sizeof(conf_path), "%s/skiff.conf", testenv_dir);
	char text[768];
	snprintf(text, sizeof(text),
		 "redis_socket = %s\nredis_username = skiff\nredis_password_file = %s\n", testenv_sock,
		 pwfile);
	write_file(conf_path, text);
	write_file(pwfile, PASSWORD "\n");
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), 0);
	ck_assert_str_eq(cfg.redis_password, PASSWORD);
	struct redis *r = redis_new(&cfg);
	ck_assert_int_eq(redis_ping(r, &err), 0);
	redis_free(r);

	write_file(pwfile, "");
	ck_assert_int_lt(config_load(&cfg, conf_path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "is empty"));
	unlink(pwfile);
	ck_assert_int_lt(config_load(&cfg, conf_path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "redis_password_file"));

	snprintf(text, sizeof(text), "redis_socket = %s\nredis_username = skiff\n", testenv_sock);
	write_file(conf_path, text);
	ck_assert_int_lt(config_load(&cfg, conf_path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "needs redis_password"));
}
END_TEST

int main(void)
{
	unsetenv("SKIFF_CONFIG");
	testenv_redis_extra = auth_args;
	testenv_setup();
	snprintf(pwfile, sizeof(pwfile), "%s/password", testenv_dir);
	Suite *s = suite_create("redis_auth");
	TCase *tc = tcase_create("auth");
	tcase_add_test(tc, test_auth_right_password_works);
	tcase_add_test(tc, test_auth_wrong_password_is_clear_error);
	tcase_add_test(tc, test_auth_none_is_refused);
	tcase_add_test(tc, test_auth_password_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	testenv_teardown();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
