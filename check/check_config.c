/* check_config.c — defaults, the file format, SKIFF_* overrides and the consistency checks
 * that `-n` runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

extern char **environ;

static char conf_path[64];

/* Each test runs in its own process (CK_FORK): a clean environment and a fresh file name. */
static void setup(void)
{
	for (;;) {
		char **e;
		for (e = environ; *e; e++)
			if (!strncmp(*e, "SKIFF_", 6))
				break;
		if (!*e)
			break;
		char name[128];
		size_t n = strcspn(*e, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, *e);
		unsetenv(name);
	}
	snprintf(conf_path, sizeof(conf_path), "/tmp/skiff-check-config.XXXXXX");
	int fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(conf_path);
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The settings every load needs on a machine without /var/lib/skiff (all absolute paths). */
#define BASE "store_path = /tmp/x/store\nwork_dir = /tmp/x/work\n"

/* A machine with no configuration file runs safely: the defaults pass the check, the API
 * needs authentication, local git URLs are refused. */
START_TEST(test_config_defaults_safe)
{
	struct config cfg;
	config_defaults(&cfg);
	struct error err;
	ck_assert_msg(config_check(&cfg, &err) == 0, "%s", err.message);
	ck_assert(!cfg.auth_disabled);
	ck_assert(!cfg.allow_local_git);
	ck_assert_str_eq(cfg.build_network, "egress");
	ck_assert_int_eq(cfg.build_tmp_mb, 1024);
	ck_assert_int_eq(cfg.build_disk_mb, 4096);
	ck_assert_int_eq(cfg.build_file_mb, 1024);
	ck_assert_int_eq(cfg.build_processes, 512);
	ck_assert_str_eq(cfg.api_token, "");
	ck_assert_str_eq(cfg.sandbox, "bwrap");
}
END_TEST

START_TEST(test_config_file_parsing)
{
	write_conf("# skiff test configuration\n"
		   "\n"
		   "   # indented comment\n"
		   BASE
		   "redis_socket = /run/redis/redis.sock\n"
		   "  redis_prefix=\"t1:\"  \n"
		   "domain = \"sites.example.com\"\n"
		   "max_body = 1024\n"
		   "auth_disabled = yes\n"
		   "allow_local_git = on\n"
		   "xsendfile = 0\n"
		   "api_token = \"a b c\"\n"
		   "concurrency=4\n"
		   "log_level = debug\n");
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_msg(config_load(&cfg, conf_path, &err) == 0, "%s", err.message);
	ck_assert_str_eq(cfg.redis_socket, "/run/redis/redis.sock");
	ck_assert_str_eq(cfg.redis_prefix, "t1:");
	ck_assert_str_eq(cfg.domain, "sites.example.com");
	ck_assert_int_eq(cfg.max_body, 1024);
	ck_assert(cfg.auth_disabled);
	ck_assert(cfg.allow_local_git);
	ck_assert(!cfg.xsendfile);
	ck_assert_str_eq(cfg.api_token, "a b c");
	ck_assert_int_eq(cfg.concurrency, 4);
	/* untouched keys keep their defaults */
	ck_assert_int_eq(cfg.redis_port, 6379);
	ck_assert_int_eq(cfg.build_timeout, 900);
}
END_TEST

START_TEST(test_config_later_line_wins)
{
	write_conf(BASE "concurrency = 3\nconcurrency = 5\n");
	struct config cfg;
	struct error err;
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), 0);
	ck_assert_int_eq(cfg.concurrency, 5);
}
END_TEST

START_TEST(test_config_unknown_key_names_line)
{
	write_conf(BASE "# comment\nredis_prot = 6380\n");
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_config");
	char want[128];
	snprintf(want, sizeof(want), "%s:4:", conf_path);
	ck_assert_msg(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
	ck_assert_ptr_nonnull(strstr(err.message, "redis_prot"));
}
END_TEST

START_TEST(test_config_line_without_equals)
{
	write_conf(BASE "redis_port 6380\n");
	struct config cfg;
	struct error err;
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	char want[128];
	snprintf(want, sizeof(want), "%s:3:", conf_path);
	ck_assert_msg(strstr(err.message, want) != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_config_bad_values)
{
	static const char *bad[] = {
		"redis_port = abc\n",
		"redis_port = 12x\n",
		"redis_port = \n",
		"redis_port = 99999999999999999999999\n",
		"redis_port = 1.5\n",
		"auth_disabled = maybe\n",
		"auth_disabled = TRUEISH\n",
		"xsendfile = \n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "%s", bad[i]);
		write_conf(text);
		struct config cfg;
		struct error err;
		error_clear(&err);
		ck_assert_msg(config_load(&cfg, conf_path, &err) == SKIFF_EINVALID, "accepted: %s",
			      bad[i]);
		ck_assert_msg(strstr(err.message, ":3:") != NULL, "no line number: %s", err.message);
	}
}
END_TEST

/* build_network names one of three modes; anything else is refused, never taken as host */
START_TEST(test_config_build_network)
{
	static const char *const good[] = { "egress", "none", "host" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "build_network = %s\n", good[i]);
		write_conf(text);
		struct config cfg;
		struct error err;
		ck_assert_int_eq(config_load(&cfg, conf_path, &err), 0);
		ck_assert_str_eq(cfg.build_network, good[i]);
	}
	write_conf(BASE "build_network = Host\n");
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_msg(strstr(err.message, "build_network") != NULL, "%s", err.message);
	write_conf(BASE "build_processes = 4\n");
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
}
END_TEST

START_TEST(test_config_out_of_range)
{
	static const char *bad[] = {
		"redis_port = 0\n",          "redis_port = 65536\n",   "redis_port = -1\n",
		"max_body = 255\n",          "max_body = 16777217\n",  "concurrency = 0\n",
		"lease_ttl = 2\n",           "redis_timeout_ms = 9\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "%s", bad[i]);
		write_conf(text);
		struct config cfg;
		struct error err;
		error_clear(&err);
		ck_assert_msg(config_load(&cfg, conf_path, &err) == SKIFF_EINVALID, "accepted: %s",
			      bad[i]);
		ck_assert_msg(strstr(err.message, "outside") != NULL, "%s", err.message);
	}
	/* the bounds themselves are fine */
	write_conf(BASE "redis_port = 65535\nmax_body = 256\nlease_ttl = 3\n");
	struct config cfg;
	struct error err;
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), 0);
	ck_assert_int_eq(cfg.redis_port, 65535);
}
END_TEST

START_TEST(test_config_overlong_value)
{
	char text[4096];
	char v[600];
	memset(v, 'd', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	snprintf(text, sizeof(text), BASE "domain = %.300s\n", v); /* domain holds 255 */
	write_conf(text);
	struct config cfg;
	struct error err;
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "domain"));
	ck_assert_ptr_nonnull(strstr(err.message, "longer"));
	/* through config_set too, and the old value stays */
	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "redis_prefix", v, &err), SKIFF_EINVALID);
	ck_assert_str_eq(cfg.redis_prefix, "skiff:");
}
END_TEST

START_TEST(test_config_overlong_line)
{
	char text[8192];
	char v[3000];
	memset(v, 'p', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	snprintf(text, sizeof(text), BASE "store_path = /%s\nconcurrency = 3\n", v);
	write_conf(text);
	struct config cfg;
	struct error err;
	error_clear(&err);
	/* refused with its line number, not split into a second bogus line */
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_msg(strstr(err.message, ":3:") != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_config_missing_file)
{
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_int_lt(config_load(&cfg, "/nonexistent/skiff.conf", &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent/skiff.conf"));
}
END_TEST

START_TEST(test_config_env_overrides_file)
{
	write_conf(BASE "redis_port = 6380\ndomain = file.example\nauth_disabled = true\n");
	setenv("SKIFF_REDIS_PORT", "6390", 1);
	setenv("SKIFF_DOMAIN", "env.example", 1);
	setenv("SKIFF_AUTH_DISABLED", "false", 1);
	setenv("SKIFF_REDIS_SOCKET", "/tmp/env.sock", 1);
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_msg(config_load(&cfg, conf_path, &err) == 0, "%s", err.message);
	ck_assert_int_eq(cfg.redis_port, 6390);
	ck_assert_str_eq(cfg.domain, "env.example");
	ck_assert(!cfg.auth_disabled);
	ck_assert_str_eq(cfg.redis_socket, "/tmp/env.sock");
}
END_TEST

START_TEST(test_config_env_selects_file)
{
	write_conf(BASE "concurrency = 7\n");
	setenv("SKIFF_CONFIG", conf_path, 1);
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_msg(config_load(&cfg, NULL, &err) == 0, "%s", err.message);
	ck_assert_int_eq(cfg.concurrency, 7);
}
END_TEST

START_TEST(test_config_env_bad_value_names_variable)
{
	write_conf(BASE);
	setenv("SKIFF_MAX_BODY", "lots", 1);
	struct config cfg;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "SKIFF_MAX_BODY"));
}
END_TEST

START_TEST(test_config_bad_log_level)
{
	write_conf(BASE "log_level = chatty\n");
	struct config cfg;
	struct error err;
	ck_assert_int_eq(config_load(&cfg, conf_path, &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "log_level"));
}
END_TEST

/* config_check: what -n reports for settings that parse but do not fit together. */
START_TEST(test_config_check_failures)
{
	static const struct {
		const char *text, *key;
	} bad[] = {
		{ "store = xyz\n", "store" },
		{ "store_path = relative/store\n", "store_path" },
		{ "store = s3\n", "s3_bucket" },
		{ "sse_soft_limit = 2000000\nsse_hard_limit = 1000000\n", "sse_soft_limit" },
		{ "sandbox = docker\n", "sandbox" },
		{ "launcher = k8s\n", "launcher" },
		{ "site_scheme = ftp\n", "site_scheme" },
		{ "domain = http://example.com\n", "domain" },
		{ "domain = example.com:8080\n", "domain" },
		{ "domain = \n", "domain" },
		{ "work_dir = work\n", "work_dir" },
		{ "redis_prefix = \n", "redis_prefix" },
		{ "domain_check_nameserver = ns1.example.com\n", "domain_check_nameserver" },
		{ "domain_check_nameserver = 127.0.0.1:99999\n", "domain_check_nameserver" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "%s", bad[i].text);
		write_conf(text);
		struct config cfg;
		struct error err;
		error_clear(&err);
		ck_assert_msg(config_load(&cfg, conf_path, &err) == SKIFF_EINVALID, "accepted: %s",
			      bad[i].text);
		ck_assert_msg(strstr(err.message, bad[i].key) != NULL, "'%s' does not name %s",
			      err.message, bad[i].key);
	}
}
END_TEST

START_TEST(test_config_set_types)
{
	struct config cfg;
	struct error err;
	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "concurrency", "8", &err), 0);
	ck_assert_int_eq(cfg.concurrency, 8);
	ck_assert_int_eq(config_set(&cfg, "allow_local_git", "true", &err), 0);
	ck_assert(cfg.allow_local_git);
	ck_assert_int_eq(config_set(&cfg, "no_such_key", "1", &err), SKIFF_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "no_such_key"));
	ck_assert_int_eq(config_set(&cfg, "concurrency", "many", &err), SKIFF_EINVALID);
	ck_assert_int_eq(cfg.concurrency, 8); /* unchanged */
}
END_TEST

/* config_print masks secrets: `skiff-... -n` output can be pasted into a bug report. */
START_TEST(test_config_print_masks_secrets)
{
	struct config cfg;
	struct error err;
	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "api_token", "sekrit-token-123", &err), 0);
	ck_assert_int_eq(config_set(&cfg, "s3_secret_key", "sekrit-key-456", &err), 0);
	char path[] = "/tmp/skiff-check-print.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	int saved = dup(1);
	dup2(fd, 1);
	config_print(&cfg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	char text[16384];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	ck_assert_ptr_null(strstr(text, "sekrit"));
	ck_assert_ptr_nonnull(strstr(text, "redis_prefix = skiff:\n"));
	ck_assert_ptr_nonnull(strstr(text, "api_token = "));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_defaults_safe);
	tcase_add_test(tc, test_config_file_parsing);
	tcase_add_test(tc, test_config_later_line_wins);
	tcase_add_test(tc, test_config_unknown_key_names_line);
	tcase_add_test(tc, test_config_line_without_equals);
	tcase_add_test(tc, test_config_bad_values);
	tcase_add_test(tc, test_config_build_network);
	tcase_add_test(tc, test_config_out_of_range);
	tcase_add_test(tc, test_config_overlong_value);
	tcase_add_test(tc, test_config_overlong_line);
	tcase_add_test(tc, test_config_missing_file);
	tcase_add_test(tc, test_config_env_overrides_file);
	tcase_add_test(tc, test_config_env_selects_file);
	tcase_add_test(tc, test_config_env_bad_value_names_variable);
	tcase_add_test(tc, test_config_bad_log_level);
	tcase_add_test(tc, test_config_check_failures);
	tcase_add_test(tc, test_config_set_types);
	tcase_add_test(tc, test_config_print_masks_secrets);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
