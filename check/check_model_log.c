/* check_model_log.c — each deployment's log stream against a real redis-server: appends that
 * wake listeners, long lines cut on a character boundary, reads in pages and within a limit. */
#include "modelenv.h"
#include "model_log.h"

START_TEST(test_model_log_append_and_read)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, "npm run build", 13, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDERR, "warning: x\xc3\xa9", 12, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "build", NULL, 0, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_SYSTEM, "", 0, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_ERROR, NULL, NULL, 0, &err), 0);
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/queued|line/stdout/npm run build|line/stderr/warning: x\xc3\xa9|"
			 "state/system/building build|line/system/|state/system/error|end/system/error");
	struct buf out = BUF_INIT(1 << 20);
	ck_assert_int_eq(model_log_read(r, id, &out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), "==> queued\nnpm run build\nwarning: x\xc3\xa9\n"
					 "==> building build\n\n==> error\n");
	buf_dispose(&out);
}
END_TEST

START_TEST(test_model_log_append_notifies)
{
	char id[ID_LEN + 1];
	create("site", id);
	redisContext *sub = redisConnectUnix(sock_path);
	ck_assert(sub && !sub->err);
	freeReplyObject(redisCommand(sub, "SUBSCRIBE %s", key("events:%s", id)));
	struct error err;
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, "hi", 2, &err), 0);
	struct timeval tv = { 2, 0 };
	redisSetTimeout(sub, tv);
	void *msg = NULL;
	ck_assert_int_eq(redisGetReply(sub, &msg), REDIS_OK);
	redisReply *reply = msg;
	redisReply *x = rc_cmd("XREVRANGE %s + - COUNT 1", key("log:%s", id));
	ck_assert_str_eq(reply->element[2]->str, x->element[0]->element[0]->str);
	freeReplyObject(x);
	freeReplyObject(reply);
	redisFree(sub);
}
END_TEST

START_TEST(test_model_log_line_cut)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	char line[5000];
	memset(line, 'x', sizeof(line));
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, line, LOG_LINE_MAX, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, line, LOG_LINE_MAX + 1, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, line, sizeof(line), &err), 0);
	redisReply *x = rc_cmd("XRANGE %s - +", key("log:%s", id));
	ck_assert_uint_eq(x->elements, 4);
	redisReply *f1 = x->element[1]->element[1];
	ck_assert_uint_eq(f1->element[5]->len, LOG_LINE_MAX); /* exactly the limit: kept whole */
	ck_assert_ptr_null(strstr(f1->element[5]->str, "[line cut]"));
	for (int i = 2; i <= 3; i++) { /* one byte over, and far over */
		redisReply *f = x->element[i]->element[1];
		ck_assert_uint_eq(f->element[5]->len, LOG_LINE_MAX + strlen(" [line cut]"));
		ck_assert_str_eq(f->element[5]->str + LOG_LINE_MAX, " [line cut]");
	}
	freeReplyObject(x);
}
END_TEST

/* A cut line still ends on a whole UTF-8 character: no broken glyph before "[line cut]". */
START_TEST(test_model_log_line_cut_utf8)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	char line[LOG_LINE_MAX + 100];
	memset(line, 'a', LOG_LINE_MAX - 1);
	for (size_t i = LOG_LINE_MAX - 1; i + 1 < sizeof(line); i += 2)
		memcpy(line + i, "\xc3\xa9", 2); /* "é" straddles the limit */
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, line, sizeof(line) - 1, &err), 0);
	redisReply *x = rc_cmd("XREVRANGE %s + - COUNT 1", key("log:%s", id));
	redisReply *m = x->element[0]->element[1]->element[5];
	json_t *s = json_stringn(m->str, m->len); /* NULL when not valid UTF-8 */
	ck_assert_msg(s != NULL, "the cut line is not valid UTF-8");
	ck_assert_ptr_nonnull(strstr(m->str, "[line cut]"));
	json_decref(s);
	freeReplyObject(x);
}
END_TEST

START_TEST(test_model_log_read_pages)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	enum { N = 2500 };
	for (int i = 0; i < N; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d", i);
		ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, line, (size_t)n, &err), 0);
	}
	struct buf out = BUF_INIT(1 << 20);
	ck_assert_int_eq(model_log_read(r, id, &out, &err), 0);
	/* every line once, in order */
	const char *p = buf_cstr(&out);
	ck_assert(!strncmp(p, "==> queued\nline 0\nline 1\n", 25));
	int count = 0;
	for (const char *q = p; (q = strchr(q, '\n')); q++)
		count++;
	ck_assert_int_eq(count, N + 1);
	char want[32];
	for (int i = 0; i < N; i += 499) {
		snprintf(want, sizeof(want), "\nline %d\n", i);
		ck_assert_msg(strstr(p, want) != NULL, "missing line %d", i);
	}
	ck_assert_str_eq(p + out.len - strlen("line 2499\n"), "line 2499\n");
	buf_dispose(&out);
}
END_TEST

START_TEST(test_model_log_read_limit)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	for (int i = 0; i < 20; i++)
		model_log_append(r, id, LOG_SRC_STDOUT, "0123456789", 10, &err);
	struct buf out = BUF_INIT(100);
	error_clear(&err);
	ck_assert_int_eq(model_log_read(r, id, &out, &err), SKIFF_ELIMIT);
	ck_assert_uint_le(out.len, 100);
	buf_dispose(&out);
	/* an unknown deployment has an empty log */
	struct buf none = BUF_INIT(100);
	ck_assert_int_eq(model_log_read(r, "abcdefgh2345", &none, &err), 0);
	ck_assert_uint_eq(none.len, 0);
	buf_dispose(&none);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_log_append_and_read);
	tcase_add_test(tc, test_model_log_append_notifies);
	tcase_add_test(tc, test_model_log_line_cut);
	tcase_add_test(tc, test_model_log_line_cut_utf8);
	tcase_add_test(tc, test_model_log_read_pages);
	tcase_add_test(tc, test_model_log_read_limit);
}

int main(void)
{
	return modelenv_run("model_log", add_tests);
}
