/* check_program.c — the options every program shares: -c, -s, -n, its own flags, --help and
 * --version, and the exit codes of a usage error and a bad configuration. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "program.h"

static bool once;

static const struct program daemon_prog = {
	.name = "check-daemon",
	.usage = "usage: check-daemon [-c FILE] [-n] [--once]\n",
	.flags = { { "once", &once } },
};

static const struct program fcgi_prog = {
	.name = "check-fcgi",
	.usage = "usage: check-fcgi [-c FILE] [-s SOCKET] [-n]\n",
	.takes_socket = true,
};

static int parse(const struct program *p, struct program_options *o, ...)
{
	char *argv[16] = { (char *)p->name };
	int argc = 1;
	va_list ap;
	va_start(ap, o);
	for (char *a; argc < 15 && (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	return program_parse(p, argc, argv, o);
}

START_TEST(test_program_options)
{
	struct program_options o;
	once = false;
	ck_assert_int_eq(parse(&daemon_prog, &o, "-c", "/etc/x.conf", "-n", "--once", NULL), -1);
	ck_assert_str_eq(o.config_path, "/etc/x.conf");
	ck_assert(o.check_only);
	ck_assert(once);
	ck_assert_ptr_null(o.socket_path);
	ck_assert_int_eq(parse(&fcgi_prog, &o, "-s", "/run/x.sock", NULL), -1);
	ck_assert_str_eq(o.socket_path, "/run/x.sock");
	ck_assert_ptr_null(o.config_path);
	ck_assert(!o.check_only);
}
END_TEST

START_TEST(test_program_usage_errors)
{
	struct program_options o;
	/* -s belongs to the FastCGI programs only; unknown options and stray words are refused */
	ck_assert_int_eq(parse(&daemon_prog, &o, "-s", "/run/x.sock", NULL), 2);
	ck_assert_int_eq(parse(&fcgi_prog, &o, "--once", NULL), 2);
	ck_assert_int_eq(parse(&daemon_prog, &o, "-x", NULL), 2);
	ck_assert_int_eq(parse(&daemon_prog, &o, "extra", NULL), 2);
	ck_assert_int_eq(parse(&daemon_prog, &o, "-c", NULL), 2);
	/* --help and --version end the program successfully */
	ck_assert_int_eq(parse(&daemon_prog, &o, "--help", NULL), 0);
	ck_assert_int_eq(parse(&daemon_prog, &o, "--version", NULL), 0);
}
END_TEST

START_TEST(test_program_configure)
{
	struct program_options o;
	struct config cfg;
	memset(&o, 0, sizeof(o));
	o.config_path = "/dev/null";
	ck_assert_int_eq(program_configure(&daemon_prog, &o, &cfg), -1);
	o.check_only = true;
	ck_assert_int_eq(program_configure(&daemon_prog, &o, &cfg), 0);
	/* a configuration that does not load is exit code 1, with -n or without */
	char path[] = "/tmp/check_program.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "store = tape\n", 13), 13);
	close(fd);
	o.config_path = path;
	ck_assert_int_eq(program_configure(&daemon_prog, &o, &cfg), 1);
	o.check_only = false;
	ck_assert_int_eq(program_configure(&daemon_prog, &o, &cfg), 1);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("program");
	TCase *tc = tcase_create("program");
	tcase_add_test(tc, test_program_options);
	tcase_add_test(tc, test_program_usage_errors);
	tcase_add_test(tc, test_program_configure);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
