/* check_model_queue.c — the reliable build queue and the leases of running builds against a
 * real redis-server. */
#include "modelenv.h"
#include "model_queue.h"

#define OWNER_A "aaaaaaaaaaaaaaaa"
#define OWNER_B "bbbbbbbbbbbbbbbb"

START_TEST(test_model_queue_fifo)
{
	char a[ID_LEN + 1], b[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	create("first", a);
	create("second", b);
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a); /* oldest first */
	ck_assert_str_eq(tok, OWNER_A ".1");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	json_t *active = NULL;
	ck_assert_int_eq(model_queue_active(r, &active, &err), 0);
	ck_assert_uint_eq(json_array_size(active), 1);
	ck_assert_str_eq(json_string_value(json_array_get(active, 0)), a);
	json_decref(active);
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, b);
	ck_assert_str_eq(tok, OWNER_B ".1");
	ck_assert_int_eq(model_queue_done(r, a, OWNER_A ".1", &err), 1);
	ck_assert_int_eq(model_queue_active(r, &active, &err), 0);
	ck_assert_uint_eq(json_array_size(active), 1);
	ck_assert_str_eq(json_string_value(json_array_get(active, 0)), b);
	json_decref(active);
	ck_assert_int_eq(model_queue_done(r, b, OWNER_B ".1", &err), 1);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:queue:active", NULL), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:queue:claim:" OWNER_A, NULL), 0);
}
END_TEST

/* The claim sets the lease and the deployment's claim in the same step as the move to the
 * active list: a scan never sees an active build without its lease. */
START_TEST(test_model_queue_claim_sets_lease)
{
	char a[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	create("site", a);
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_int_eq(model_lease_alive(r, a, &err), 1);
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "claim"), tok);
	char seen[MODEL_CLAIM_MAX];
	ck_assert_int_eq(model_lease_claim(r, a, seen, &err), 1);
	ck_assert_str_eq(seen, tok);
	char b[ID_LEN + 1];
	create("never", b);
	ck_assert_int_eq(model_lease_claim(r, b, seen, &err), 0); /* never claimed */
	ck_assert_str_eq(seen, "");
	long long ttl = rc_int("TTL %s", key("lease:%s", a), NULL);
	ck_assert(ttl > 0 && ttl <= 30);
	enum model_recover what;
	ck_assert_int_eq(model_queue_recover(r, a, &what, &err), 0);
	ck_assert_int_eq(what, MODEL_RECOVER_ALIVE);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 1);
}
END_TEST

/* The operator's caps: a build of a project at its cap waits in its place while another
 * project's build goes ahead; over the total cap nothing is taken. */
START_TEST(test_model_queue_caps)
{
	char a1[ID_LEN + 1], a2[ID_LEN + 1], b1[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	struct error err;
	struct deployment d;
	create("a", a1);
	id_new(a2);
	deployment_rec(&d, a2, "a");
	ck_assert_int_eq(model_deployment_create(r, "a", &d, &err), 0);
	create("b", b1);
	cfg.concurrency_project = 1;
	cfg.concurrency_total = 2;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a1);
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, b1);   /* a2 is held: a1 runs */
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	ck_assert_int_eq(rc_int("LPOS %s %s", "skiff:queue", a2), 0);
	ck_assert_int_eq(model_queue_done(r, b1, "", &err), 1);
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, "");   /* still only a2, still held */
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 1);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:claim:" OWNER_B, NULL), 0);
	ck_assert_int_eq(model_queue_done(r, a1, "", &err), 1);
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a2);
	/* the total cap: two running, a third waits */
	char c1[ID_LEN + 1], e1[ID_LEN + 1];
	create("c", c1);
	create("e", e1);
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, c1);
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
}
END_TEST

START_TEST(test_model_queue_pop_timeout)
{
	char got[ID_LEN + 1] = "junk", tok[MODEL_CLAIM_MAX];
	struct error err;
	double t0 = now_s();
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 0.2, 30, got, tok, &err), 0);
	double dt = now_s() - t0;
	ck_assert_str_eq(got, "");
	ck_assert_msg(dt >= 0.15 && dt < 2.0, "pop waited %.2f s", dt);
}
END_TEST

/* A wait longer than the Redis reply timeout is clamped below it (model.h): the pop returns
 * empty, not a broken connection. */
START_TEST(test_model_queue_pop_longer_than_redis_timeout)
{
	cfg.redis_timeout_ms = 200;
	char got[ID_LEN + 1] = "junk", tok[MODEL_CLAIM_MAX];
	struct error err;
	error_clear(&err);
	double t0 = now_s();
	int rc = model_queue_pop(r, OWNER_A, 0.7, 30, got, tok, &err);
	double dt = now_s() - t0;
	ck_assert_msg(rc == 0, "pop with timeout 0.7 s and redis_timeout_ms 200 failed after %.2f s: %s",
		      dt, err.message);
	ck_assert_str_eq(got, "");
	ck_assert_msg(dt >= 0.05 && dt < 0.7, "returned after %.2f s", dt);
}
END_TEST

/* Work pushed while the dispatcher waits is picked up at once. */
START_TEST(test_model_queue_pop_wakes)
{
	char a[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	create("site", a);
	freeReplyObject(rc_cmd("DEL %s", "skiff:queue"));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep(200000);
		redisContext *c = redisConnectUnix(sock_path);
		freeReplyObject(redisCommand(c, "LPUSH skiff:queue %s", a));
		_exit(0);
	}
	struct error err;
	double t0 = now_s();
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 0.9, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a);
	ck_assert(now_s() - t0 < 0.85);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_model_queue_pop_garbage)
{
	freeReplyObject(rc_cmd("LPUSH skiff:queue %s", "not-a-deployment-id"));
	freeReplyObject(rc_cmd("LPUSH skiff:queue %s", "abcdefgh2345")); /* no such record */
	char got[ID_LEN + 1] = "junk", tok[MODEL_CLAIM_MAX] = "junk";
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(tok, "");
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(tok, "");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 0);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:deployment:abcdefgh2345", NULL), 0);
}
END_TEST

/* ---- recovery and takeover ------------------------------------------------------- */

/* A build whose lease expired is queued again, first in line; the old run can no longer
 * renew, promote or end the new run's queue entry. */
START_TEST(test_model_queue_recover_requeues)
{
	char a[ID_LEN + 1], b[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	char tok2[MODEL_CLAIM_MAX];
	create("site", a);
	create("other", b);
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a);
	ck_assert_int_eq(model_deployment_state(r, a, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	freeReplyObject(rc_cmd("DEL %s", key("lease:%s", a)));  /* its host died */
	enum model_recover what;
	ck_assert_int_eq(model_queue_recover(r, a, &what, &err), 0);
	ck_assert_int_eq(what, MODEL_RECOVER_REQUEUED);
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "state"), "queued");
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "claim"), "");
	/* a run started without a token sees that it was claimed once and queued again since */
	char seen[MODEL_CLAIM_MAX] = "junk";
	ck_assert_int_eq(model_lease_claim(r, a, seen, &err), 1);
	ck_assert_str_eq(seen, "");
	ck_assert_ptr_nonnull(strstr(rc_stream(key("log:%s", a)), "queued again, attempt 2 of 3"));
	/* a second scan at the same moment does nothing more */
	ck_assert_int_eq(model_queue_recover(r, a, &what, &err), 0);
	ck_assert_int_eq(what, MODEL_RECOVER_ALIVE);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 2);
	/* the old run is fenced off */
	ck_assert_int_eq(model_lease_renew(r, a, tok, 30, &err), 0);
	ck_assert_int_eq(model_lease_alive(r, a, &err), 0);
	/* next in line, ahead of the build queued before it */
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 1, 30, got, tok2, &err), 0);
	ck_assert_str_eq(got, a);
	ck_assert_str_eq(tok2, OWNER_B ".2");
	ck_assert_int_eq(model_lease_renew(r, a, tok, 30, &err), 0);
	ck_assert_int_eq(model_deployment_promote_claimed(r, a, tok, NULL, 0, &err),
			 SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "claim_lost");
	ck_assert_int_eq(model_queue_done(r, a, tok, &err), 0);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 1);
	model_lease_drop(r, a, tok, &err);
	ck_assert_int_eq(model_lease_alive(r, a, &err), 1);
	/* the new run goes on */
	ck_assert_int_eq(model_lease_renew(r, a, tok2, 30, &err), 1);
	ck_assert_int_eq(model_deployment_promote_claimed(r, a, tok2, NULL, 0, &err), 0);
	ck_assert_int_eq(model_queue_done(r, a, tok2, &err), 1);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 0);
}
END_TEST

/* A build lost MODEL_QUEUE_ATTEMPTS times ends in error rather than looping forever. */
START_TEST(test_model_queue_recover_gives_up)
{
	char a[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	create("site", a);
	struct error err;
	enum model_recover what = MODEL_RECOVER_ALIVE;
	for (int i = 1; i <= MODEL_QUEUE_ATTEMPTS; i++) {
		ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
		ck_assert_str_eq(got, a);
		freeReplyObject(rc_cmd("DEL %s", key("lease:%s", a)));
		ck_assert_int_eq(model_queue_recover(r, a, &what, &err), 0);
		ck_assert_int_eq(what, i < MODEL_QUEUE_ATTEMPTS ? MODEL_RECOVER_REQUEUED :
				 MODEL_RECOVER_FAILED);
	}
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "state"), "error");
	ck_assert_ptr_nonnull(strstr(rc_hget(key("deployment:%s", a), "error"),
				     "lease expired 3 times"));
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 0);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 0);
}
END_TEST

/* A finished build left in the active list is dropped, not queued again. */
START_TEST(test_model_queue_recover_drops_finished)
{
	char a[ID_LEN + 1], got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	create("site", a);
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, OWNER_A, 1, 30, got, tok, &err), 0);
	ck_assert_int_eq(model_deployment_promote_claimed(r, a, tok, NULL, 0, &err), 0);
	freeReplyObject(rc_cmd("DEL %s", key("lease:%s", a)));
	enum model_recover what;
	ck_assert_int_eq(model_queue_recover(r, a, &what, &err), 0);
	ck_assert_int_eq(what, MODEL_RECOVER_DROPPED);
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "state"), "ready");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 0);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 0);
}
END_TEST

/* What a dispatcher popped but did not claim before it died goes back to the queue once its
 * heartbeat expires; a live dispatcher's claim list is left alone. */
START_TEST(test_model_dispatcher_reclaims_dead_claims)
{
	char a[ID_LEN + 1], b[ID_LEN + 1];
	create("site", a);
	create("other", b);
	struct error err;
	ck_assert_int_eq(model_dispatcher_beat(r, OWNER_A, 1, &err), 0);
	ck_assert_int_eq(model_dispatcher_beat(r, OWNER_B, 30, &err), 0);
	/* both popped (BLMOVE), neither claimed */
	freeReplyObject(rc_cmd("LMOVE skiff:queue %s RIGHT LEFT", "skiff:queue:claim:" OWNER_A));
	freeReplyObject(rc_cmd("LMOVE skiff:queue %s RIGHT LEFT", "skiff:queue:claim:" OWNER_B));
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 0);
	ck_assert_int_eq(model_dispatcher_beat(r, OWNER_B, 30, &err), 0); /* A still beating */
	freeReplyObject(rc_cmd("DEL %s", "skiff:dispatcher:" OWNER_A));  /* A died */
	ck_assert_int_eq(model_dispatcher_beat(r, OWNER_B, 30, &err), 1);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:claim:" OWNER_B, NULL), 1);
	ck_assert_int_eq(rc_int("SISMEMBER %s %s", "skiff:dispatchers", OWNER_A), 0);
	/* B's own left-over is claimed by its next pop */
	char got[ID_LEN + 1], tok[MODEL_CLAIM_MAX];
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, b);
	ck_assert_int_eq(model_queue_pop(r, OWNER_B, 0.1, 30, got, tok, &err), 0);
	ck_assert_str_eq(got, a);
	ck_assert_int_eq(model_dispatcher_leave(r, OWNER_B, &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:dispatchers", NULL), 0);
}
END_TEST

/* ---- leases ---------------------------------------------------------------------- */

START_TEST(test_model_lease)
{
	const char *id = "abcdefgh2345";
	struct error err;
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
	ck_assert_int_eq(model_lease_renew(r, id, "", 5, &err), 1);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 1);
	long long ttl = rc_int("TTL %s", key("lease:%s", id), NULL);
	ck_assert(ttl > 0 && ttl <= 5);
	ck_assert_int_eq(model_lease_renew(r, id, "", 100, &err), 1);
	ttl = rc_int("TTL %s", key("lease:%s", id), NULL);
	ck_assert(ttl > 5 && ttl <= 100);
	ck_assert_int_eq(model_lease_drop(r, id, "", &err), 0);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
}
END_TEST

START_TEST(test_model_lease_expires)
{
	const char *id = "abcdefgh2345";
	struct error err;
	ck_assert_int_eq(model_lease_renew(r, id, "", 1, &err), 1);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 1);
	double t0 = now_s();
	while (model_lease_alive(r, id, &err) == 1 && now_s() - t0 < 3)
		usleep(50000);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
	ck_assert(now_s() - t0 > 0.5);
}
END_TEST

START_TEST(test_model_claim_valid)
{
	ck_assert(model_claim_valid(OWNER_A ".1"));
	ck_assert(model_claim_valid("0123456789abcdef.12"));
	ck_assert(!model_claim_valid(OWNER_A "."));
	ck_assert(!model_claim_valid(OWNER_A "1"));
	ck_assert(!model_claim_valid("AAAAAAAAAAAAAAAA.1"));
	ck_assert(!model_claim_valid("short.1"));
	ck_assert(!model_claim_valid(""));
	char owner[MODEL_OWNER_LEN + 1], other[MODEL_OWNER_LEN + 1];
	model_owner_new(owner);
	model_owner_new(other);
	ck_assert_uint_eq(strlen(owner), MODEL_OWNER_LEN);
	ck_assert_str_ne(owner, other);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_queue_fifo);
	tcase_add_test(tc, test_model_queue_claim_sets_lease);
	tcase_add_test(tc, test_model_queue_recover_requeues);
	tcase_add_test(tc, test_model_queue_recover_gives_up);
	tcase_add_test(tc, test_model_queue_recover_drops_finished);
	tcase_add_test(tc, test_model_dispatcher_reclaims_dead_claims);
	tcase_add_test(tc, test_model_claim_valid);
	tcase_add_test(tc, test_model_queue_pop_timeout);
	tcase_add_test(tc, test_model_queue_caps);
	tcase_add_test(tc, test_model_queue_pop_longer_than_redis_timeout);
	tcase_add_test(tc, test_model_queue_pop_wakes);
	tcase_add_test(tc, test_model_queue_pop_garbage);
	tcase_add_test(tc, test_model_lease);
	tcase_add_test(tc, test_model_lease_expires);
}

int main(void)
{
	return modelenv_run("model_queue", add_tests);
}
