/* check_model_queue.c — the reliable build queue and the leases of running builds against a
 * real redis-server. */
#include "modelenv.h"
#include "model_queue.h"

START_TEST(test_model_queue_fifo)
{
	char a[ID_LEN + 1], b[ID_LEN + 1], got[ID_LEN + 1];
	create("first", a);
	create("second", b);
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, 1, got, &err), 0);
	ck_assert_str_eq(got, a); /* oldest first */
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	json_t *active = NULL;
	ck_assert_int_eq(model_queue_active(r, &active, &err), 0);
	ck_assert_uint_eq(json_array_size(active), 1);
	ck_assert_str_eq(json_string_value(json_array_get(active, 0)), a);
	json_decref(active);
	ck_assert_int_eq(model_queue_pop(r, 1, got, &err), 0);
	ck_assert_str_eq(got, b);
	ck_assert_int_eq(model_queue_done(r, a, &err), 0);
	ck_assert_int_eq(model_queue_active(r, &active, &err), 0);
	ck_assert_uint_eq(json_array_size(active), 1);
	ck_assert_str_eq(json_string_value(json_array_get(active, 0)), b);
	json_decref(active);
	ck_assert_int_eq(model_queue_done(r, b, &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", "skiff:queue:active", NULL), 0);
}
END_TEST

START_TEST(test_model_queue_pop_timeout)
{
	char got[ID_LEN + 1] = "junk";
	struct error err;
	double t0 = now_s();
	ck_assert_int_eq(model_queue_pop(r, 0.2, got, &err), 0);
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
	char got[ID_LEN + 1] = "junk";
	struct error err;
	error_clear(&err);
	double t0 = now_s();
	int rc = model_queue_pop(r, 0.7, got, &err);
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
	char got[ID_LEN + 1];
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep(200000);
		redisContext *c = redisConnectUnix(sock_path);
		freeReplyObject(redisCommand(c, "LPUSH skiff:queue abcdefgh2345"));
		_exit(0);
	}
	struct error err;
	double t0 = now_s();
	ck_assert_int_eq(model_queue_pop(r, 0.9, got, &err), 0);
	ck_assert_str_eq(got, "abcdefgh2345");
	ck_assert(now_s() - t0 < 0.85);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_model_queue_pop_garbage)
{
	freeReplyObject(rc_cmd("LPUSH skiff:queue %s", "not-a-deployment-id"));
	char got[ID_LEN + 1] = "junk";
	struct error err;
	ck_assert_int_eq(model_queue_pop(r, 0.1, got, &err), 0);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue:active", NULL), 0);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 0);
}
END_TEST

/* ---- leases ---------------------------------------------------------------------- */

START_TEST(test_model_lease)
{
	const char *id = "abcdefgh2345";
	struct error err;
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
	ck_assert_int_eq(model_lease_renew(r, id, 5, &err), 0);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 1);
	long long ttl = rc_int("TTL %s", key("lease:%s", id), NULL);
	ck_assert(ttl > 0 && ttl <= 5);
	ck_assert_int_eq(model_lease_renew(r, id, 100, &err), 0);
	ttl = rc_int("TTL %s", key("lease:%s", id), NULL);
	ck_assert(ttl > 5 && ttl <= 100);
	ck_assert_int_eq(model_lease_drop(r, id, &err), 0);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
}
END_TEST

START_TEST(test_model_lease_expires)
{
	const char *id = "abcdefgh2345";
	struct error err;
	ck_assert_int_eq(model_lease_renew(r, id, 1, &err), 0);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 1);
	double t0 = now_s();
	while (model_lease_alive(r, id, &err) == 1 && now_s() - t0 < 3)
		usleep(50000);
	ck_assert_int_eq(model_lease_alive(r, id, &err), 0);
	ck_assert(now_s() - t0 > 0.5);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_queue_fifo);
	tcase_add_test(tc, test_model_queue_pop_timeout);
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
