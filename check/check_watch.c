/* check_watch.c — commit polling against a real redis-server and real git repositories:
 * a new commit is queued within two intervals, an unreachable repository backs off without
 * holding up others, one poll per repository at a time, a global per-minute budget. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "id.h"
#include "clock.h"
#include "model.h"
#include "model_lifecycle.h"
#include "redis.h"
#include "testenv.h"
#include "watch.h"

struct fixture {
	struct config cfg;
	struct redis *r;
	struct watch_settings s;
	char repo[300];
	char url[320];
};

static void fixture_init(struct fixture *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	testenv_config(&f->cfg, name);
	f->r = redis_new(&f->cfg);
	watch_settings_default(&f->s);
	f->s.interval_ms = 1000;
	f->s.timeout_ms = 5000;
	snprintf(f->repo, sizeof(f->repo), "%s/repo-%s", testenv_dir, name);
	snprintf(f->url, sizeof(f->url), "file://%s", f->repo);
}

static redisReply *cmd(struct fixture *f, const char *fmt, const char *a, const char *b)
{
	char key[REDIS_KEY_MAX];
	redis_key(f->r, key, "%s", a);
	struct error err;
	redisReply *reply = b ? redis_cmd(f->r, &err, fmt, key, b) : redis_cmd(f->r, &err, fmt, key);
	ck_assert_msg(reply != NULL, "redis: %s", err.message);
	return reply;
}

static void hget(struct fixture *f, const char *key, const char *field, char *out, size_t n)
{
	redisReply *reply = cmd(f, "HGET %s %s", key, field);
	snprintf(out, n, "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
	freeReplyObject(reply);
}

static long long zcard(struct fixture *f, const char *key)
{
	redisReply *reply = cmd(f, "ZCARD %s", key, NULL);
	long long n = reply->integer;
	freeReplyObject(reply);
	return n;
}

/* A watched project whose first deployment is ready at commit (NULL: still queued). */
static void project_new(struct fixture *f, const char *slug, const char *url, const char *commit)
{
	char id[ID_LEN + 1];
	struct error err;
	id_new(id);
	struct project p;
	struct deployment d;
	model_project_init(&p);
	snprintf(p.slug, sizeof(p.slug), "%s", slug);
	snprintf(p.git_url, sizeof(p.git_url), "%s", url);
	snprintf(p.branch, sizeof(p.branch), "main");
	snprintf(p.latest, sizeof(p.latest), "%s", id);
	model_deployment_init(&d);
	snprintf(d.id, sizeof(d.id), "%s", id);
	snprintf(d.project, sizeof(d.project), "%s", slug);
	snprintf(d.git_url, sizeof(d.git_url), "%s", url);
	d.state = commit ? DEPLOYMENT_READY : DEPLOYMENT_QUEUED;
	snprintf(d.trigger, sizeof(d.trigger), "api");
	snprintf(d.commit, sizeof(d.commit), "%s", commit ? commit : "");
	ck_assert_int_eq(model_project_create(f->r, &p, &d, &err), 0);
	ck_assert_int_eq(watch_project_add(f->r, slug, &err), 0);
}

/* The newest deployment of slug with trigger poll, into id; 0 when there is none. */
static int poll_deployment(struct fixture *f, const char *slug, char id[ID_LEN + 1])
{
	char key[128];
	snprintf(key, sizeof(key), "project:%s:deployments", slug);
	redisReply *reply = cmd(f, "ZREVRANGE %s 0 -1", key, NULL);
	int found = 0;
	for (size_t i = 0; i < reply->elements && !found; i++) {
		char dkey[64], trig[16];
		snprintf(dkey, sizeof(dkey), "deployment:%s", reply->element[i]->str);
		hget(f, dkey, "trigger", trig, sizeof(trig));
		if (!strcmp(trig, "poll")) {
			memcpy(id, reply->element[i]->str, ID_LEN + 1);
			found = 1;
		}
	}
	freeReplyObject(reply);
	return found;
}

static void tick(struct fixture *f, struct watch *w)
{
	struct error err;
	error_clear(&err);
	ck_assert_msg(watch_tick(w, f->r, clock_wall_ms(), &err) == 0, "watch_tick: %s", err.message);
}

START_TEST(test_watch_remote_head)
{
	struct fixture f;
	fixture_init(&f, "head");
	testenv_repo_new(f.repo);
	testenv_repo_commit(f.repo, "index.html", "one");
	char want[65], got[WATCH_COMMIT_MAX + 1];
	testenv_repo_head(f.repo, want);
	struct error err;
	ck_assert_int_eq(watch_remote_head(f.url, "main", NULL, got, &err), 0);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(watch_remote_head(f.url, "", NULL, got, &err), 0);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(watch_remote_head(f.url, "nope", NULL, got, &err), SKIFF_ENOTFOUND);
	char missing[400];
	snprintf(missing, sizeof(missing), "file://%s/missing", testenv_dir);
	ck_assert_int_eq(watch_remote_head(missing, "main", NULL, got, &err), SKIFF_EGIT);
	redis_free(f.r);
}
END_TEST

START_TEST(test_watch_new_commit_queued_within_two_intervals)
{
	struct fixture f;
	fixture_init(&f, "new");
	testenv_repo_new(f.repo);
	testenv_repo_commit(f.repo, "index.html", "one");
	char c1[65], c2[65], id[ID_LEN + 1], v[80];
	testenv_repo_head(f.repo, c1);
	project_new(&f, "site", f.url, c1);
	struct watch *w = watch_new(&f.cfg, &f.s);
	/* the first polls find the deployed commit: nothing to do */
	long long end = clock_wall_ms() + 1500;
	while (clock_wall_ms() < end) {
		tick(&f, w);
		testenv_sleep_ms(20);
	}
	ck_assert_int_eq(poll_deployment(&f, "site", id), 0);
	hget(&f, "project:site", "last_polled_commit", v, sizeof(v));
	ck_assert_str_eq(v, c1);
	ck_assert_int_eq(zcard(&f, "project:site:deployments"), 1);

	testenv_repo_commit(f.repo, "index.html", "two");
	testenv_repo_head(f.repo, c2);
	long long t0 = clock_wall_ms();
	while (!poll_deployment(&f, "site", id) && clock_wall_ms() - t0 < 5000) {
		tick(&f, w);
		testenv_sleep_ms(20);
	}
	long long took = clock_wall_ms() - t0;
	ck_assert_msg(poll_deployment(&f, "site", id), "no deployment after %lld ms", took);
	ck_assert_msg(took < 2 * f.s.interval_ms, "took %lld ms, more than two intervals", took);
	char dkey[64];
	snprintf(dkey, sizeof(dkey), "deployment:%s", id);
	hget(&f, dkey, "ref", v, sizeof(v));
	ck_assert_str_eq(v, c2);
	hget(&f, dkey, "state", v, sizeof(v));
	ck_assert_str_eq(v, "queued");
	hget(&f, dkey, "branch", v, sizeof(v));
	ck_assert_str_eq(v, "main");
	redisReply *reply = cmd(&f, "LPOS %s %s", "queue", id);
	ck_assert_int_eq(reply->type, REDIS_REPLY_INTEGER);
	freeReplyObject(reply);
	hget(&f, "project:site", "last_polled_commit", v, sizeof(v));
	ck_assert_str_eq(v, c2);
	/* later polls of the same head queue nothing more */
	end = clock_wall_ms() + 2500;
	while (clock_wall_ms() < end) {
		tick(&f, w);
		testenv_sleep_ms(20);
	}
	ck_assert_int_eq(zcard(&f, "project:site:deployments"), 2);
	watch_free(w);
	redis_free(f.r);
}
END_TEST

/* A TCP listener that never accepts: a connection to it hangs (the TLS handshake waits). */
static int blackhole(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 16), 0);
	socklen_t len = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return s;
}

START_TEST(test_watch_unreachable_backs_off_without_blocking)
{
	struct fixture f;
	fixture_init(&f, "dead");
	f.s.timeout_ms = 3000;
	testenv_repo_new(f.repo);
	testenv_repo_commit(f.repo, "index.html", "one");
	char c1[65], id[ID_LEN + 1], v[80], dead_url[96];
	testenv_repo_head(f.repo, c1);
	int port, hole = blackhole(&port);
	snprintf(dead_url, sizeof(dead_url), "https://127.0.0.1:%d/acme/site.git", port);
	project_new(&f, "dead", dead_url, "1111111111111111111111111111111111111111");
	project_new(&f, "live", f.url, "2222222222222222222222222222222222222222");
	struct watch *w = watch_new(&f.cfg, &f.s);
	long long t0 = clock_wall_ms();
	/* the live project's new commit is queued while the dead one's poll still hangs */
	while (!poll_deployment(&f, "live", id) && clock_wall_ms() - t0 < 6000) {
		tick(&f, w);
		testenv_sleep_ms(20);
	}
	ck_assert_msg(poll_deployment(&f, "live", id), "live project not polled");
	ck_assert_int_lt(clock_wall_ms() - t0, f.s.timeout_ms);
	hget(&f, "project:dead", "poll_failures", v, sizeof(v));
	ck_assert_msg(!strcmp(v, "") || !strcmp(v, "0"), "dead failed already: %s", v);
	ck_assert_uint_eq(watch_running(w), 1);
	/* the hanging poll is killed at the timeout and backs off: next poll after >= 2 intervals */
	while (clock_wall_ms() - t0 < 6000) {
		tick(&f, w);
		hget(&f, "project:dead", "poll_failures", v, sizeof(v));
		if (!strcmp(v, "1"))
			break;
		testenv_sleep_ms(20);
	}
	long long failed_at = clock_wall_ms();
	ck_assert_str_eq(v, "1");
	/* the killed poll holds no slot; the live project, polled every second, may be in a
	 * poll of its own just now, so wait out that short one (the dead one would never end) */
	while (watch_running(w) != 0 && clock_wall_ms() - failed_at < 1500) {
		testenv_sleep_ms(10);
		tick(&f, w);
	}
	ck_assert_uint_eq(watch_running(w), 0);
	hget(&f, "project:dead", "poll_error", v, sizeof(v));
	ck_assert_msg(strstr(v, "did not answer"), "poll_error: %s", v);
	hget(&f, "project:dead", "poll_next_ms", v, sizeof(v));
	long long next1 = strtoll(v, NULL, 10);
	ck_assert_int_ge(next1 - failed_at, 2 * f.s.interval_ms * 9 / 10 - 100);
	ck_assert_int_le(next1 - failed_at, 2 * f.s.interval_ms * 11 / 10 + 100);
	/* now refused at once (the listener is gone): the second failure doubles the delay */
	close(hole);
	redisReply *reply = cmd(&f, "ZADD %s 0 %s", "watch", "dead");
	freeReplyObject(reply);
	long long t1 = clock_wall_ms();
	while (clock_wall_ms() - t1 < 3000) {
		tick(&f, w);
		hget(&f, "project:dead", "poll_failures", v, sizeof(v));
		if (!strcmp(v, "2"))
			break;
		testenv_sleep_ms(20);
	}
	ck_assert_str_eq(v, "2");
	long long failed2 = clock_wall_ms();
	hget(&f, "project:dead", "poll_next_ms", v, sizeof(v));
	long long next2 = strtoll(v, NULL, 10);
	ck_assert_int_ge(next2 - failed2, 4 * f.s.interval_ms * 9 / 10 - 100);
	/* and it is not polled before then */
	long long polls = 0;
	while (clock_wall_ms() < failed2 + 1500) {
		tick(&f, w);
		polls += (long long)watch_running(w);
		testenv_sleep_ms(20);
	}
	hget(&f, "project:dead", "poll_failures", v, sizeof(v));
	ck_assert_str_eq(v, "2");
	/* a success resets the failures */
	reply = cmd(&f, "HSET %s git_url %s", "project:dead", f.url);
	freeReplyObject(reply);
	reply = cmd(&f, "ZADD %s 0 %s", "watch", "dead");
	freeReplyObject(reply);
	long long t2 = clock_wall_ms();
	while (clock_wall_ms() - t2 < 3000) {
		tick(&f, w);
		hget(&f, "project:dead", "poll_failures", v, sizeof(v));
		if (!strcmp(v, "0"))
			break;
		testenv_sleep_ms(20);
	}
	ck_assert_str_eq(v, "0");
	watch_free(w);
	redis_free(f.r);
}
END_TEST

START_TEST(test_watch_one_poll_per_repository)
{
	struct fixture f;
	fixture_init(&f, "one");
	testenv_repo_new(f.repo);
	testenv_repo_commit(f.repo, "index.html", "one");
	char c1[65], id[ID_LEN + 1];
	testenv_repo_head(f.repo, c1);
	project_new(&f, "a", f.url, "3333333333333333333333333333333333333333");
	project_new(&f, "b", f.url, "4444444444444444444444444444444444444444");
	struct watch *w = watch_new(&f.cfg, &f.s);
	size_t most = 0;
	long long t0 = clock_wall_ms();
	while ((!poll_deployment(&f, "a", id) || !poll_deployment(&f, "b", id)) &&
	       clock_wall_ms() - t0 < 4000) {
		tick(&f, w);
		if (watch_running(w) > most)
			most = watch_running(w);
		testenv_sleep_ms(5);
	}
	ck_assert_msg(poll_deployment(&f, "a", id) && poll_deployment(&f, "b", id),
		      "both projects of the repository are polled in turn");
	ck_assert_uint_eq(most, 1);
	watch_free(w);
	redis_free(f.r);
}
END_TEST

START_TEST(test_watch_minute_budget)
{
	struct fixture f;
	fixture_init(&f, "budget");
	f.s.per_minute = 2;
	f.s.concurrency = 8;
	char url[400], slug[16];
	for (int i = 0; i < 4; i++) {
		snprintf(url, sizeof(url), "file://%s/repo-budget-%d", testenv_dir, i);
		char path[400];
		snprintf(path, sizeof(path), "%s/repo-budget-%d", testenv_dir, i);
		testenv_repo_new(path);
		testenv_repo_commit(path, "index.html", "x");
		snprintf(slug, sizeof(slug), "p%d", i);
		project_new(&f, slug, url, "5555555555555555555555555555555555555555");
	}
	struct watch *w = watch_new(&f.cfg, &f.s);
	/* stay within one minute of the clock: the budget is per calendar minute */
	while (clock_wall_ms() % 60000 > 55000)
		testenv_sleep_ms(100);
	tick(&f, w);
	ck_assert_uint_eq(watch_running(w), 2);
	long long end = clock_wall_ms() + 1000;
	while (clock_wall_ms() < end) {
		tick(&f, w);
		ck_assert_uint_le(watch_running(w), 2);
		testenv_sleep_ms(20);
	}
	/* two were polled (queued), two wait for the next minute */
	int polled = 0;
	char id[ID_LEN + 1];
	for (int i = 0; i < 4; i++) {
		snprintf(slug, sizeof(slug), "p%d", i);
		polled += poll_deployment(&f, slug, id);
	}
	ck_assert_int_eq(polled, 2);
	watch_free(w);
	redis_free(f.r);
}
END_TEST

START_TEST(test_watch_first_poll_and_gone_projects)
{
	struct fixture f;
	fixture_init(&f, "first");
	testenv_repo_new(f.repo);
	testenv_repo_commit(f.repo, "index.html", "one");
	char c1[65], id[ID_LEN + 1], v[80];
	testenv_repo_head(f.repo, c1);
	/* its first build is still queued: the first poll must not queue the same head again */
	project_new(&f, "fresh", f.url, NULL);
	project_new(&f, "gone", f.url, NULL);
	struct error err;
	ck_assert_int_eq(model_lifecycle_delete(f.r, "gone", &err), 0);
	struct watch *w = watch_new(&f.cfg, &f.s);
	long long end = clock_wall_ms() + 1500;
	while (clock_wall_ms() < end) {
		tick(&f, w);
		testenv_sleep_ms(20);
	}
	ck_assert_int_eq(poll_deployment(&f, "fresh", id), 0);
	hget(&f, "project:fresh", "last_polled_commit", v, sizeof(v));
	ck_assert_str_eq(v, c1);
	/* the deleted project left the schedule, and its hash was not recreated */
	redisReply *reply = cmd(&f, "ZSCORE %s %s", "watch", "gone");
	ck_assert_int_eq(reply->type, REDIS_REPLY_NIL);
	freeReplyObject(reply);
	reply = cmd(&f, "EXISTS %s", "project:gone", NULL);
	ck_assert_int_eq(reply->integer, 0);
	freeReplyObject(reply);
	/* unwatching stops the polls */
	ck_assert_int_eq(watch_project_remove(f.r, "fresh", &err), 0);
	reply = cmd(&f, "ZSCORE %s %s", "watch", "fresh");
	ck_assert_int_eq(reply->type, REDIS_REPLY_NIL);
	freeReplyObject(reply);
	ck_assert_int_eq(watch_project_add(f.r, "nosuch", &err), SKIFF_ENOTFOUND);
	watch_free(w);
	redis_free(f.r);
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("redis");
	tcase_add_unchecked_fixture(tc, testenv_setup, testenv_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_watch_remote_head);
	tcase_add_test(tc, test_watch_new_commit_queued_within_two_intervals);
	tcase_add_test(tc, test_watch_unreachable_backs_off_without_blocking);
	tcase_add_test(tc, test_watch_one_poll_per_repository);
	tcase_add_test(tc, test_watch_minute_budget);
	tcase_add_test(tc, test_watch_first_poll_and_gone_projects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(watch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
