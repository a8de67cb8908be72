/* modelenv.h — what the model's Check tests share: a redis-server of their own on a private
 * unix socket, skiff's connection and a raw one per test, helpers that read Redis directly,
 * and the main() that runs a suite against it. Header-only: each test binary includes it once. */
#ifndef SKIFF_MODELENV_H
#define SKIFF_MODELENV_H

#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "model.h"

static char tmpdir[64];
static char sock_path[128];

/* Per test (each in its own process): a config, skiff's connection and a raw one. */
static struct config cfg;
static struct redis *r;
static redisContext *raw;

static __attribute__((unused)) double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static __attribute__((unused)) redisReply *rc_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *reply = redisvCommand(raw, fmt, ap);
	va_end(ap);
	ck_assert_msg(reply != NULL, "raw Redis command failed: %s", raw->errstr);
	ck_assert_msg(reply->type != REDIS_REPLY_ERROR, "Redis error: %s", reply->str);
	return reply;
}

static __attribute__((unused)) long long rc_int(const char *fmt, const char *a, const char *b)
{
	redisReply *reply = rc_cmd(fmt, a, b);
	ck_assert_int_eq(reply->type, REDIS_REPLY_INTEGER);
	long long v = reply->integer;
	freeReplyObject(reply);
	return v;
}

/* HGET key field as a string ("" when missing), static storage. */
static __attribute__((unused)) const char *rc_hget(const char *key, const char *field)
{
	static char out[8192];
	redisReply *reply = rc_cmd("HGET %s %s", key, field);
	snprintf(out, sizeof(out), "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
	freeReplyObject(reply);
	return out;
}

/* The whole dataset, digested by Redis: any changed, added or removed value changes it. */
static __attribute__((unused)) void rc_digest(char out[64])
{
	redisReply *reply = rc_cmd("DEBUG DIGEST");
	snprintf(out, 64, "%s", reply->str);
	freeReplyObject(reply);
}

static __attribute__((unused)) long long rc_dbsize(void)
{
	redisReply *reply = rc_cmd("DBSIZE");
	long long n = reply->integer;
	freeReplyObject(reply);
	return n;
}

/* Entries of a stream as "k/s/m" strings joined by '|'. */
static __attribute__((unused)) const char *rc_stream(const char *key)
{
	static char out[65536];
	size_t used = 0;
	out[0] = '\0';
	redisReply *reply = rc_cmd("XRANGE %s - +", key);
	for (size_t i = 0; i < reply->elements; i++) {
		redisReply *f = reply->element[i]->element[1];
		const char *k = "", *s = "", *m = "";
		for (size_t j = 0; j + 1 < f->elements; j += 2) {
			if (!strcmp(f->element[j]->str, "k"))
				k = f->element[j + 1]->str;
			else if (!strcmp(f->element[j]->str, "s"))
				s = f->element[j + 1]->str;
			else if (!strcmp(f->element[j]->str, "m"))
				m = f->element[j + 1]->str;
		}
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s/%s/%s", i ? "|" : "", k,
					 s, m);
		ck_assert_uint_lt(used, sizeof(out));
	}
	freeReplyObject(reply);
	return out;
}

/* The id of a stream's last entry, static storage. */
static __attribute__((unused)) const char *rc_stream_last_id(const char *key)
{
	static char out[48];
	redisReply *reply = rc_cmd("XREVRANGE %s + - COUNT 1", key);
	ck_assert_uint_eq(reply->elements, 1);
	snprintf(out, sizeof(out), "%s", reply->element[0]->element[0]->str);
	freeReplyObject(reply);
	return out;
}

static __attribute__((unused)) void setup(void)
{
	/* as every skiff program does: a write to a connection Redis closed is an error, not death */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	config_defaults(&cfg);
	snprintf(cfg.redis_socket, sizeof(cfg.redis_socket), "%s", sock_path);
	cfg.redis_timeout_ms = 1000;
	log_init("check_model", LOG_ERROR);
	r = redis_new(&cfg);
	raw = redisConnectUnix(sock_path);
	ck_assert_msg(raw && !raw->err, "cannot connect to the test redis");
	freeReplyObject(rc_cmd("FLUSHALL"));
}

static __attribute__((unused)) void teardown(void)
{
	redis_free(r);
	redisFree(raw);
}

static __attribute__((unused)) void project_rec(struct project *p, const char *slug,
						  const char *git_url, const char *id)
{
	model_project_init(p);
	snprintf(p->slug, sizeof(p->slug), "%s", slug);
	snprintf(p->git_url, sizeof(p->git_url), "%s", git_url);
	snprintf(p->branch, sizeof(p->branch), "main");
	snprintf(p->latest, sizeof(p->latest), "%s", id);
	p->created = 1700000000000LL;
}

static __attribute__((unused)) void deployment_rec(struct deployment *d, const char *id,
						     const char *slug)
{
	model_deployment_init(d);
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->project, sizeof(d->project), "%s", slug);
	snprintf(d->git_url, sizeof(d->git_url), "https://github.com/o/r.git");
	snprintf(d->ref, sizeof(d->ref), "main");
	snprintf(d->trigger, sizeof(d->trigger), "api");
	d->created = 1700000000000LL;
}

/* Creates project slug with a fresh deployment; returns its id in id. */
static __attribute__((unused)) void create(const char *slug, char id[ID_LEN + 1])
{
	id_new(id);
	struct project p;
	struct deployment d;
	project_rec(&p, slug, "https://github.com/o/r.git", id);
	deployment_rec(&d, id, slug);
	struct error err;
	error_clear(&err);
	int rc = model_project_create(r, &p, &d, &err);
	ck_assert_msg(rc == 0, "create %s: %s", slug, err.message);
}

/* prefix + formatted suffix, in one of a few rotating static buffers */
static __attribute__((unused)) const char *key(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static __attribute__((unused)) const char *key(const char *fmt, ...)
{
	static char k[4][REDIS_KEY_MAX];
	static int n;
	char *out = k[n++ % 4];
	int used = snprintf(out, REDIS_KEY_MAX, "%s", cfg.redis_prefix);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + used, REDIS_KEY_MAX - (size_t)used, fmt, ap);
	va_end(ap);
	return out;
}

/* 1 when any key or value in Redis contains s (a secret must never be found there). */
static __attribute__((unused)) int rc_contains(const char *s)
{
	redisReply *keys = rc_cmd("KEYS *");
	int found = 0;
	for (size_t i = 0; i < keys->elements && !found; i++) {
		found |= strstr(keys->element[i]->str, s) != NULL;
		redisReply *d = rc_cmd("DUMP %s", keys->element[i]->str);
		found |= d->type == REDIS_REPLY_STRING && memmem(d->str, d->len, s, strlen(s)) != NULL;
		freeReplyObject(d);
	}
	freeReplyObject(keys);
	return found;
}

/* 1 when member is in the sorted set */
static __attribute__((unused)) int rc_zhas(const char *zkey, const char *member)
{
	redisReply *reply = rc_cmd("ZSCORE %s %s", zkey, member);
	int has = reply->type == REDIS_REPLY_STRING;
	freeReplyObject(reply);
	return has;
}

/* ---- the tests' own redis-server ---------------------------------------------------- */

static pid_t redis_start(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char logfile[160];
		snprintf(logfile, sizeof(logfile), "%s/redis.log", tmpdir);
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock_path,
		       "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", tmpdir,
		       "--logfile", logfile, "--daemonize", "no", "--enable-debug-command", "yes",
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		redisContext *c = redisConnectUnix(sock_path);
		if (c && !c->err) {
			redisReply *reply = redisCommand(c, "PING");
			int ok = reply && reply->type == REDIS_REPLY_STATUS;
			freeReplyObject(reply);
			redisFree(c);
			if (ok)
				return pid;
		} else if (c) {
			redisFree(c);
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Runs the tests of s (one test case with the fixture above) against a fresh redis-server. */
static int modelenv_run(const char *name, void (*add)(TCase *tc))
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skiff-check-model.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/redis.sock", tmpdir);
	pid_t redis = redis_start();
	if (redis < 0) {
		fprintf(stderr, "%s: cannot start redis-server on %s\n", name, sock_path);
		return EXIT_FAILURE;
	}
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	add(tc);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	kill(redis, SIGTERM);
	waitpid(redis, NULL, 0);
	char path[160];
	snprintf(path, sizeof(path), "%s/redis.log", tmpdir);
	unlink(path);
	unlink(sock_path);
	rmdir(tmpdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
