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

/* What model_log_each hands over, in order, and where it stops. */
struct each_seen {
	char text[256];
	size_t n, stop_after;
	char last_id[48];
};

static int each_collect(const struct model_log_entry *e, void *ctx)
{
	struct each_seen *s = ctx;
	size_t used = strlen(s->text);
	snprintf(s->text + used, sizeof(s->text) - used, "%s%s/%s/%s", s->n ? "|" : "", e->kind,
		 e->source, e->text);
	snprintf(s->last_id, sizeof(s->last_id), "%.*s", (int)e->id_len, e->id);
	return ++s->n == s->stop_after;
}

START_TEST(test_model_log_each)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, "one", 3, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDERR, "two", 3, &err), 0);
	struct each_seen all = { "", 0, 0, "" }, two = { "", 0, 0, "" }, stop = { "", 0, 1, "" };
	int more = -1;
	ck_assert_int_eq(model_log_each(r, id, 10, each_collect, &all, &more, &err), 0);
	ck_assert_str_eq(all.text, "state/system/queued|line/stdout/one|line/stderr/two");
	ck_assert_int_eq(more, 0);
	ck_assert_str_eq(all.last_id, rc_stream_last_id(key("log:%s", id)));
	ck_assert_int_eq(model_log_each(r, id, 2, each_collect, &two, &more, &err), 0);
	ck_assert_str_eq(two.text, "state/system/queued|line/stdout/one");
	ck_assert_int_eq(more, 1);
	ck_assert_int_eq(model_log_each(r, id, 10, each_collect, &stop, &more, &err), 0);
	ck_assert_str_eq(stop.text, "state/system/queued");
	ck_assert_int_eq(more, 0);
}
END_TEST

/* A dropped stream is gone (1), dropping it again finds nothing (0); the record stays. */
START_TEST(test_model_log_drop)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_log_drop(r, id, &err), 1);
	ck_assert_int_eq(rc_int("EXISTS %s", key("log:%s", id), NULL), 0);
	ck_assert_int_eq(model_log_drop(r, id, &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", key("deployment:%s", id), NULL), 1);
}
END_TEST

/* The names the SSE bridge sends are the keys the model writes, under any prefix, and a
 * channel name is read back to its deployment only when it is one. */
START_TEST(test_model_log_bridge_keys)
{
	char id[ID_LEN + 1], k[MODEL_LOG_KEY_MAX];
	create("site", id);
	model_log_stream_key(&cfg, id, k);
	ck_assert_str_eq(k, key("log:%s", id));
	model_log_record_key(&cfg, id, k);
	ck_assert_str_eq(k, key("deployment:%s", id));
	model_log_channel_key(&cfg, id, k);
	ck_assert_str_eq(k, key("events:%s", id));
	ck_assert_str_eq(model_log_channel_id(&cfg, k, strlen(k)), id);
	ck_assert_ptr_null(model_log_channel_id(&cfg, k, strlen(k) - 1));
	ck_assert_ptr_null(model_log_channel_id(&cfg, "other:events:abcdefgh2345", 25));
	struct config other = cfg;
	snprintf(other.redis_prefix, sizeof(other.redis_prefix), "p2:");
	model_log_stream_key(&other, id, k);
	ck_assert_str_eq(k + 3, key("log:%s", id) + strlen(cfg.redis_prefix));
	ck_assert_int_eq(strncmp(k, "p2:", 3), 0);
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
	tcase_add_test(tc, test_model_log_each);
	tcase_add_test(tc, test_model_log_drop);
	tcase_add_test(tc, test_model_log_bridge_keys);
}

int main(void)
{
	return modelenv_run("model_log", add_tests);
}
