/* check_proc.c — running build commands: exit codes, output split into lines per stream,
 * over-long lines, the exact environment, no inherited descriptors, limits, the timeout
 * killing the whole process group, stopping from the tick. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "clock.h"

struct lines {
	char out[16384];
	char err[4096];
	int cut;
	size_t longest;
	int ticks;
	int stop_at_tick;
};

static void on_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	struct lines *l = ctx;
	char *dst = stream == PROC_STDOUT ? l->out : l->err;
	size_t cap = stream == PROC_STDOUT ? sizeof(l->out) : sizeof(l->err);
	size_t n = strlen(dst);
	if (len > l->longest)
		l->longest = len;
	l->cut += cut;
	if (len > 64)
		len = 64; /* enough to compare */
	snprintf(dst + n, cap - n, "%.*s|", (int)len, line);
}

static int on_tick(void *ctx)
{
	struct lines *l = ctx;
	l->ticks++;
	return l->stop_at_tick && l->ticks >= l->stop_at_tick;
}

static const char *const env_min[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };

static int run(const char *script, long timeout_s, struct lines *l, struct proc_result *res)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_spec spec = { .argv = argv, .envp = env_min, .cwd = "/", .timeout_s = timeout_s };
	struct error err;
	memset(l, 0, sizeof(*l) - sizeof(l->stop_at_tick));
	return proc_run(&spec, on_line, on_tick, l, res, &err);
}

START_TEST(test_proc_exit_code_and_streams)
{
	struct lines l = { 0 };
	struct proc_result res;
	ck_assert_int_eq(run("echo one; echo two >&2; echo three; printf partial; exit 4", 0, &l, &res), 0);
	ck_assert(res.exited);
	ck_assert_int_eq(res.exit_code, 4);
	ck_assert_str_eq(l.out, "one|three|partial|");
	ck_assert_str_eq(l.err, "two|");
	ck_assert(!res.timed_out);
	ck_assert(!res.stopped);
}
END_TEST

START_TEST(test_proc_crlf_and_empty_lines)
{
	struct lines l = { 0 };
	struct proc_result res;
	ck_assert_int_eq(run("printf 'a\\r\\n\\nb\\n'", 0, &l, &res), 0);
	ck_assert_str_eq(l.out, "a||b|");
	ck_assert_int_eq(res.exit_code, 0);
}
END_TEST

START_TEST(test_proc_long_line_cut)
{
	struct lines l = { 0 };
	struct proc_result res;
	ck_assert_int_eq(run("head -c 10000 /dev/zero | tr '\\0' a; echo; echo next", 0, &l, &res), 0);
	ck_assert_int_eq(l.cut, 1);
	ck_assert_uint_eq(l.longest, PROC_LINE_MAX);
	/* the rest of the long line is dropped; the next line arrives whole */
	ck_assert_ptr_nonnull(strstr(l.out, "|next|"));
	ck_assert_int_eq(res.exit_code, 0);
}
END_TEST

START_TEST(test_proc_environment_is_exactly_given)
{
	struct lines l = { 0 };
	struct proc_result res;
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *envp[] = { "ONLY=this", NULL };
	struct proc_spec spec = { .argv = argv, .envp = envp, .cwd = "/" };
	struct error err;
	setenv("SKIFF_SECRET_FOR_TEST", "leak", 1);
	ck_assert_int_eq(proc_run(&spec, on_line, NULL, &l, &res, &err), 0);
	ck_assert_str_eq(l.out, "ONLY=this|");
}
END_TEST

START_TEST(test_proc_no_inherited_descriptors)
{
	struct lines l = { 0 };
	struct proc_result res;
	int fd = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	ck_assert_int_eq(dup2(fd, 100), 100);
	ck_assert_int_eq(run("ls /proc/self/fd | tr '\\n' ' '", 0, &l, &res), 0);
	ck_assert_ptr_null(strstr(l.out, "100"));
	ck_assert_ptr_nonnull(strstr(l.out, "0 1 2 "));
	close(100);
	close(fd);
}
END_TEST

static void ignore_usr1(int sig)
{
	(void)sig;
}

/* A forked child starts clean whatever its parent set up: nothing blocked, handled and
 * ignored signals back to their default, descriptors from close_from up closed. */
START_TEST(test_proc_child_reset)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ignore_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	int fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(dup2(fd, 60), 60);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		proc_child_reset(50);
		sigset_t now;
		sigprocmask(SIG_SETMASK, NULL, &now);
		struct sigaction usr1, pipe;
		sigaction(SIGUSR1, NULL, &usr1);
		sigaction(SIGPIPE, NULL, &pipe);
		int bits = (sigismember(&now, SIGTERM) ? 1 : 0) |
			   (usr1.sa_handler != SIG_DFL ? 2 : 0) | (pipe.sa_handler != SIG_DFL ? 4 : 0) |
			   (fcntl(60, F_GETFD) >= 0 ? 8 : 0) | (fcntl(fd, F_GETFD) < 0 ? 16 : 0);
		_exit(bits);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "left in the child: %s%s%s%s%s",
		      WEXITSTATUS(status) & 1 ? "SIGTERM blocked; " : "",
		      WEXITSTATUS(status) & 2 ? "SIGUSR1 handler; " : "",
		      WEXITSTATUS(status) & 4 ? "SIGPIPE ignored; " : "",
		      WEXITSTATUS(status) & 8 ? "fd 60 open; " : "",
		      WEXITSTATUS(status) & 16 ? "fd below close_from closed" : "");
	close(60);
	close(fd);
}
END_TEST

START_TEST(test_proc_limits_applied)
{
	struct lines l = { 0 };
	struct proc_result res;
	const char *argv[] = { "/bin/sh", "-c", "grep -E 'Max (cpu time|address space)' /proc/self/limits", NULL };
	struct proc_spec spec = { .argv = argv, .envp = env_min, .cwd = "/", .cpu_s = 7, .memory_mb = 256 };
	struct error err;
	ck_assert_int_eq(proc_run(&spec, on_line, NULL, &l, &res, &err), 0);
	ck_assert_msg(strstr(l.out, "Max cpu time              7 ") != NULL, "%s", l.out);
	ck_assert_msg(strstr(l.out, "268435456") != NULL, "%s", l.out);
}
END_TEST

/* A file size limit kills the writer with SIGXFSZ; passed descriptors arrive as 3, 4 and
 * nothing else does; join_fd gets "0". */
START_TEST(test_proc_file_limit_and_passed_descriptors)
{
	struct lines l = { 0 };
	struct proc_result res;
	struct error err;
	int p1[2], p2[2], join[2];
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	ck_assert_int_eq(pipe(join), 0);
	int pass[] = { p2[1], p1[1] };
	const char *argv[] = { "/bin/sh", "-c",
			       "echo three >&3; echo four >&4; ls /proc/self/fd | tr '\\n' ' '; "
			       "f=/tmp/check_proc_fsize.$$; dd if=/dev/zero of=$f bs=1M count=3 "
			       "2>/dev/null; s=$?; rm -f $f; exit $s", NULL };
	struct proc_spec spec = { .argv = argv, .envp = env_min, .cwd = "/", .file_mb = 1,
				  .pass_fds = pass, .npass = 2, .join_fd = join[1] };
	ck_assert_int_eq(proc_run(&spec, on_line, NULL, &l, &res, &err), 0);
	close(p1[1]);
	close(p2[1]);
	close(join[1]);
	char b1[16] = "", b2[16] = "", j[4] = "";
	ck_assert_int_gt(read(p1[0], b1, sizeof(b1) - 1), 0);
	ck_assert_int_gt(read(p2[0], b2, sizeof(b2) - 1), 0);
	ck_assert_int_eq(read(join[0], j, sizeof(j) - 1), 1);
	ck_assert_str_eq(b1, "four\n");  /* pass[1] became descriptor 4 */
	ck_assert_str_eq(b2, "three\n");
	ck_assert_str_eq(j, "0");
	ck_assert_msg(strstr(l.out, "0 1 2 3 4 5 |") != NULL /* 5: ls reading the directory */, "%s", l.out);
	ck_assert(!res.exited || res.exit_code != 0);
	ck_assert_int_eq(res.exited ? res.exit_code - 128 : res.signal, SIGXFSZ);
	close(p1[0]);
	close(p2[0]);
	close(join[0]);
}
END_TEST

/* 1 when pid no longer runs (gone, or a zombie waiting for its new parent). */
static int gone(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

START_TEST(test_proc_timeout_kills_the_group)
{
	char pidfile[] = "/tmp/check_proc.XXXXXX";
	int fd = mkstemp(pidfile);
	ck_assert_int_ge(fd, 0);
	close(fd);
	char script[256];
	snprintf(script, sizeof(script), "sleep 100 & echo $! > %s; echo started; sleep 100", pidfile);
	struct lines l = { 0 };
	struct proc_result res;
	long long t0 = clock_mono_ms();
	ck_assert_int_eq(run(script, 1, &l, &res), 0);
	long long took = clock_mono_ms() - t0;
	ck_assert(res.timed_out);
	ck_assert(!res.exited);
	ck_assert_int_lt(took, (PROC_KILL_GRACE_S + 5) * 1000);
	ck_assert_str_eq(l.out, "started|");
	FILE *f = fopen(pidfile, "r");
	long bg = 0;
	ck_assert_int_eq(fscanf(f, "%ld", &bg), 1);
	fclose(f);
	unlink(pidfile);
	/* the background process of the group went with it */
	for (int i = 0; i < 50 && !gone((pid_t)bg); i++)
		usleep(20000);
	ck_assert_msg(gone((pid_t)bg), "background process %ld survived", bg);
	char what[128];
	proc_describe(&res, 1, what, sizeof(what));
	ck_assert_str_eq(what, "timed out after 1 s");
}
END_TEST

START_TEST(test_proc_stopped_by_tick)
{
	struct lines l = { 0 };
	l.stop_at_tick = 1;
	struct proc_result res;
	ck_assert_int_eq(run("trap '' TERM; sleep 30", 0, &l, &res), 0);
	ck_assert(res.stopped);
	ck_assert(!res.exited);
	ck_assert_int_ge(l.ticks, 1);
}
END_TEST

START_TEST(test_proc_exec_failure)
{
	struct lines l = { 0 };
	struct proc_result res;
	const char *argv[] = { "/nonexistent/program", NULL };
	struct proc_spec spec = { .argv = argv, .envp = env_min, .cwd = "/", .timeout_s = 0 };
	struct error err;
	ck_assert_int_eq(proc_run(&spec, on_line, NULL, &l, &res, &err), 0);
	ck_assert(res.exited);
	ck_assert_int_eq(res.exit_code, 127);
	ck_assert_str_eq(l.err, "skiff: cannot execute the build command|");
	const char *argv2[] = { "/bin/true", NULL };
	struct proc_spec spec2 = { .argv = argv2, .envp = env_min, .cwd = "/nonexistent-dir" };
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(proc_run(&spec2, on_line, NULL, &l, &res, &err), 0);
	ck_assert_int_eq(res.exit_code, 127);
	ck_assert_str_eq(l.err, "skiff: cannot enter the build directory|");
}
END_TEST

START_TEST(test_proc_describe)
{
	char s[128];
	struct proc_result r = { .exited = true, .exit_code = 2 };
	proc_describe(&r, 10, s, sizeof(s));
	ck_assert_str_eq(s, "exited with code 2");
	r.exit_code = 137;
	proc_describe(&r, 10, s, sizeof(s));
	ck_assert_str_eq(s, "was killed, probably out of memory (exit 137)");
	struct proc_result k = { .exited = false, .signal = SIGKILL };
	proc_describe(&k, 10, s, sizeof(s));
	ck_assert_str_eq(s, "was killed, probably out of memory (exit 137)");
	k.signal = SIGSEGV;
	proc_describe(&k, 10, s, sizeof(s));
	ck_assert_str_eq(s, "was killed by signal 11");
	k.signal = SIGXCPU;
	proc_describe(&k, 10, s, sizeof(s));
	ck_assert_ptr_nonnull(strstr(s, "CPU time"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("proc");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_proc_exit_code_and_streams);
	tcase_add_test(tc, test_proc_file_limit_and_passed_descriptors);
	tcase_add_test(tc, test_proc_crlf_and_empty_lines);
	tcase_add_test(tc, test_proc_long_line_cut);
	tcase_add_test(tc, test_proc_environment_is_exactly_given);
	tcase_add_test(tc, test_proc_no_inherited_descriptors);
	tcase_add_test(tc, test_proc_child_reset);
	tcase_add_test(tc, test_proc_limits_applied);
	tcase_add_test(tc, test_proc_timeout_kills_the_group);
	tcase_add_test(tc, test_proc_stopped_by_tick);
	tcase_add_test(tc, test_proc_exec_failure);
	tcase_add_test(tc, test_proc_describe);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
