/* testenv.h — for Check tests that need real servers and repositories: a private
 * redis-server on a unix socket in a temporary directory, a configuration pointing at it, and
 * commands (git) run without a shell. Header-only: each test binary includes it once. */
#ifndef SKIFF_TESTENV_H
#define SKIFF_TESTENV_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static char testenv_dir[256];
static char testenv_sock[320];
static pid_t testenv_redis_pid;
/* More redis-server arguments (NULL-terminated), set by a suite before testenv_setup. */
static const char *const *testenv_redis_extra;

static __attribute__((unused)) void testenv_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Runs argv (PATH lookup) in dir with stdout and stderr to /dev/null; the exit status. */
static __attribute__((unused)) int testenv_run(const char *dir, char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (dir && chdir(dir) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs argv in dir and captures the first line of its stdout into out. */
static __attribute__((unused)) int testenv_output(const char *dir, char *const argv[], char *out, size_t outlen)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		if (dir && chdir(dir) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < outlen && (n = read(fds[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* git with a fixed identity and no user configuration. */
#define TESTENV_GIT(dir, ...)                                                                    \
	testenv_run(dir, (char *const[]){ "git", "-c", "user.name=skiff test", "-c",                \
					 "user.email=test@skiff.invalid", "-c",                   \
					 "init.defaultBranch=main", "-c", "commit.gpgsign=false",  \
					 __VA_ARGS__, NULL })

/* A repository at path with one commit of file name containing text on branch main. */
static __attribute__((unused)) void testenv_repo_new(const char *path)
{
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(TESTENV_GIT(path, "init", "-q"), 0);
}

static __attribute__((unused)) void testenv_repo_commit(const char *path, const char *name, const char *text)
{
	char file[512];
	snprintf(file, sizeof(file), "%s/%s", path, name);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(TESTENV_GIT(path, "add", "-A"), 0);
	ck_assert_int_eq(TESTENV_GIT(path, "commit", "-q", "-m", (char *)text), 0);
}

static __attribute__((unused)) void testenv_repo_head(const char *path, char out[65])
{
	char buf[128];
	ck_assert_int_eq(testenv_output(path, (char *const[]){ "git", "rev-parse", "HEAD", NULL },
					buf, sizeof(buf)),
			 0);
	ck_assert_uint_eq(strlen(buf), 40);
	memcpy(out, buf, 41);
}

static __attribute__((unused)) int testenv_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Unchecked fixture: a private redis-server for the whole suite (runs in the parent). */
static __attribute__((unused)) void testenv_setup(void)
{
	snprintf(testenv_dir, sizeof(testenv_dir), "/tmp/skiff-check.XXXXXX");
	if (!mkdtemp(testenv_dir))
		abort();
	snprintf(testenv_sock, sizeof(testenv_sock), "%s/redis.sock", testenv_dir);
	testenv_redis_pid = fork();
	if (testenv_redis_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		const char *argv[48] = { "redis-server", "--port", "0", "--unixsocket", testenv_sock,
					 "--unixsocketperm", "700", "--save", "", "--appendonly",
					 "no", "--dir", testenv_dir };
		size_t n = 13;
		for (size_t i = 0; testenv_redis_extra && testenv_redis_extra[i] && n < 47; i++)
			argv[n++] = testenv_redis_extra[i];
		argv[n] = NULL;
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		redisContext *c = redisConnectUnix(testenv_sock);
		bool up = c && !c->err;
		redisFree(c);
		if (up)
			return;
		testenv_sleep_ms(50);
	}
	fprintf(stderr, "redis-server did not start\n");
	abort();
}

static __attribute__((unused)) void testenv_teardown(void)
{
	if (testenv_redis_pid > 0) {
		kill(testenv_redis_pid, SIGTERM);
		waitpid(testenv_redis_pid, NULL, 0);
	}
	if (testenv_dir[0] && !getenv("KEEP"))
		nftw(testenv_dir, testenv_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A configuration for one test: its own key prefix and store directory. */
static __attribute__((unused)) void testenv_config(struct config *cfg, const char *name)
{
	config_defaults(cfg);
	snprintf(cfg->redis_socket, sizeof(cfg->redis_socket), "%s", testenv_sock);
	snprintf(cfg->redis_prefix, sizeof(cfg->redis_prefix), "%s:", name);
	snprintf(cfg->store, sizeof(cfg->store), "file");
	snprintf(cfg->store_path, sizeof(cfg->store_path), "%s/store-%s", testenv_dir, name);
	cfg->allow_local_git = true;
}

#endif
