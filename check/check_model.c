/* check_model.c — the records of the Redis data model against a real redis-server: atomic
 * create, state machine, promotion, and what happens when Redis is gone or hung. */
#include "modelenv.h"
#include "model_log.h"
#include "model_queue.h"
#include "model_lifecycle.h"
#include "model_preview.h"

/* ---- create ------------------------------------------------------------------ */

START_TEST(test_model_project_create_records)
{
	char id[ID_LEN + 1];
	create("site", id);
	ck_assert_str_eq(rc_hget("skiff:project:site", "git_url"), "https://github.com/o/r.git");
	ck_assert_str_eq(rc_hget("skiff:project:site", "branch"), "main");
	ck_assert_str_eq(rc_hget("skiff:project:site", "latest"), id);
	ck_assert(rc_zhas("skiff:projects", "site"));
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "queued");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "project"), "site");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "trigger"), "api");
	redisReply *z = rc_cmd("ZRANGE skiff:project:site:deployments 0 -1");
	ck_assert_uint_eq(z->elements, 1);
	ck_assert_str_eq(z->element[0]->str, id);
	freeReplyObject(z);
	redisReply *q = rc_cmd("LRANGE skiff:queue 0 -1");
	ck_assert_uint_eq(q->elements, 1);
	ck_assert_str_eq(q->element[0]->str, id);
	freeReplyObject(q);
	ck_assert_str_eq(rc_stream(key("log:%s", id)), "state/system/queued");
	/* exactly these six keys exist: project, projects, deployment, its zset, queue, log */
	ck_assert_int_eq(rc_dbsize(), 6);
	/* and read back through the model */
	struct project p;
	struct deployment d;
	struct error err;
	ck_assert_int_eq(model_project_get(r, "site", &p, &err), 0);
	ck_assert_str_eq(p.git_url, "https://github.com/o/r.git");
	ck_assert_str_eq(p.branch, "main");
	ck_assert_int_eq(p.created, 1700000000000LL);
	ck_assert(!p.pinned && !p.watch);
	ck_assert_str_eq(p.build_command, "");   /* never set: empty, not stored */
	ck_assert_int_eq(p.rolled_back_at, MODEL_NONE);
	ck_assert_int_eq(model_deployment_get(r, id, &d, &err), 0);
	ck_assert_int_eq(d.state, DEPLOYMENT_QUEUED);
	ck_assert_str_eq(d.id, id);
	ck_assert_str_eq(d.project, "site");
	ck_assert_int_eq(d.started, MODEL_NONE);
}
END_TEST

/* A listener on events:{id} is woken with the id of the new stream entry. */
START_TEST(test_model_project_create_notifies)
{
	char id[ID_LEN + 1];
	id_new(id);
	redisContext *sub = redisConnectUnix(sock_path);
	ck_assert(sub && !sub->err);
	redisReply *reply = redisCommand(sub, "SUBSCRIBE %s", key("events:%s", id));
	freeReplyObject(reply);
	struct project p;
	struct deployment d;
	project_rec(&p, "site", "https://github.com/o/r.git", id);
	deployment_rec(&d, id, "site");
	struct error err;
	ck_assert_int_eq(model_project_create(r, &p, &d, &err), 0);
	struct timeval tv = { 2, 0 };
	redisSetTimeout(sub, tv);
	void *msg = NULL;
	ck_assert_int_eq(redisGetReply(sub, &msg), REDIS_OK);
	reply = msg;
	ck_assert_uint_eq(reply->elements, 3);
	ck_assert_str_eq(reply->element[0]->str, "message");
	redisReply *x = rc_cmd("XRANGE %s - +", key("log:%s", id));
	ck_assert_str_eq(reply->element[2]->str, x->element[0]->element[0]->str);
	freeReplyObject(x);
	freeReplyObject(reply);
	redisFree(sub);
}
END_TEST

START_TEST(test_model_project_create_conflict_writes_nothing)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1], before[64], after[64];
	create("site", id);
	rc_digest(before);
	long long keys = rc_dbsize();
	id_new(id2);
	struct project p;
	struct deployment d;
	project_rec(&p, "site", "https://github.com/other/x.git", id2);
	deployment_rec(&d, id2, "site");
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(model_project_create(r, &p, &d, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "slug_taken");
	ck_assert_ptr_nonnull(strstr(err.message, "site"));
	ck_assert_int_eq(error_status(err.code), 409);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(rc_dbsize(), keys);
	ck_assert_str_eq(rc_hget("skiff:project:site", "git_url"), "https://github.com/o/r.git");
}
END_TEST

/* Many processes racing for one slug: exactly one wins, one deployment is queued. */
START_TEST(test_model_project_create_race)
{
	enum { N = 8 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct redis *mine = redis_new(&cfg);
			char id[ID_LEN + 1];
			id_new(id);
			struct project p;
			struct deployment d;
			project_rec(&p, "race", "https://github.com/o/r.git", id);
			deployment_rec(&d, id, "race");
			struct error err;
			int rc = model_project_create(mine, &p, &d, &err);
			_exit(rc == 0 ? 0 : rc == SKIFF_ECONFLICT ? 1 : 2);
		}
	}
	int won = 0, lost = 0;
	for (int i = 0; i < N; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		ck_assert(WIFEXITED(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(lost, N - 1);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 1);
	ck_assert_int_eq(rc_int("ZCARD %s", "skiff:project:race:deployments", NULL), 1);
	ck_assert_int_eq(rc_dbsize(), 6);
}
END_TEST

START_TEST(test_model_prefix)
{
	char id[ID_LEN + 1];
	create("site", id);
	snprintf(cfg.redis_prefix, sizeof(cfg.redis_prefix), "other:");
	/* the same slug under another prefix is another installation */
	char id2[ID_LEN + 1];
	create("site", id2);
	redisReply *k = rc_cmd("KEYS *");
	int other = 0;
	for (size_t i = 0; i < k->elements; i++) {
		ck_assert_msg(!strncmp(k->element[i]->str, "skiff:", 6) ||
				      !strncmp(k->element[i]->str, "other:", 6),
			      "key outside the prefixes: %s", k->element[i]->str);
		other += !strncmp(k->element[i]->str, "other:", 6);
	}
	freeReplyObject(k);
	ck_assert_int_eq(other, 6);
	ck_assert_str_eq(rc_hget("other:project:site", "latest"), id2);
}
END_TEST

START_TEST(test_model_deployment_create)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1];
	create("site", id);
	id_new(id2);
	struct deployment d;
	deployment_rec(&d, id2, "site");
	snprintf(d.trigger, sizeof(d.trigger), "redeploy");
	struct error err;
	ck_assert_int_eq(model_deployment_create(r, "site", &d, &err), 0);
	ck_assert_str_eq(rc_hget("skiff:project:site", "latest"), id2);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id2), "trigger"), "redeploy");
	ck_assert_int_eq(rc_int("ZCARD %s", "skiff:project:site:deployments", NULL), 2);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 2);
	ck_assert_str_eq(rc_stream(key("log:%s", id2)), "state/system/queued");
}
END_TEST

START_TEST(test_model_deployment_create_unknown_project)
{
	char id[ID_LEN + 1], before[64], after[64];
	id_new(id);
	rc_digest(before);
	struct deployment d;
	deployment_rec(&d, id, "ghost");
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(model_deployment_create(r, "ghost", &d, &err), SKIFF_ENOTFOUND);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(rc_dbsize(), 0);
}
END_TEST

START_TEST(test_model_get_not_found)
{
	struct project p;
	struct deployment d;
	struct error err;
	char cur[ID_LEN + 1];
	ck_assert_int_eq(model_project_get(r, "nope", &p, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(error_status(err.code), 404);
	ck_assert_int_eq(model_deployment_get(r, "abcdefgh2345", &d, &err), SKIFF_ENOTFOUND);
	char id[ID_LEN + 1];
	create("site", id);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_project_current(r, "nope", cur, &err), SKIFF_ENOTFOUND);
}
END_TEST

START_TEST(test_model_lists)
{
	char ids[3][ID_LEN + 1];
	const char *slugs[] = { "first", "second", "third" };
	for (int i = 0; i < 3; i++) {
		create(slugs[i], ids[i]);
		usleep(3000); /* distinct creation times */
	}
	json_t *list = NULL;
	struct error err;
	ck_assert_int_eq(model_project_list(r, 10, &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 3);
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), "third"); /* newest first */
	ck_assert_str_eq(json_string_value(json_array_get(list, 2)), "first");
	json_decref(list);
	ck_assert_int_eq(model_project_list(r, 2, &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 2);
	json_decref(list);
	/* deployments of one project, paged */
	char more[4][ID_LEN + 1];
	for (int i = 0; i < 4; i++) {
		usleep(3000);
		id_new(more[i]);
		struct deployment d;
		deployment_rec(&d, more[i], "first");
		ck_assert_int_eq(model_deployment_create(r, "first", &d, &err), 0);
	}
	ck_assert_int_eq(model_deployment_list(r, "first", 0, 2, &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), more[3]);
	ck_assert_str_eq(json_string_value(json_array_get(list, 1)), more[2]);
	json_decref(list);
	ck_assert_int_eq(model_deployment_list(r, "first", 4, 2, &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), ids[0]);
	json_decref(list);
	ck_assert_int_eq(model_deployment_list(r, "nope", 0, 5, &list, &err), 0);
	ck_assert_uint_eq(json_array_size(list), 0);
	json_decref(list);
}
END_TEST

/* ---- states ------------------------------------------------------------------ */

START_TEST(test_model_state_transitions)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	struct deployment f;
	model_deployment_init(&f);
	f.started = 1700000001000LL;
	f.files = 99; /* not in the mask: not written */
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", &f,
						MODEL_SET(STARTED), &err), 0);
	ck_assert_int_eq(rc_int("HEXISTS %s %s", key("deployment:%s", id), "files"), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "building");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "phase"), "clone");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "started"), "1700000001000");
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "build", NULL, 0, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "finished"), "");
	snprintf(f.error, sizeof(f.error), "build command exited with 1");
	f.exit_code = 1;
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_ERROR, NULL, &f,
						MODEL_SET(ERROR) | MODEL_SET(EXIT_CODE), &err), 0);
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/queued|state/system/building clone|state/system/building build|"
			 "state/system/error|end/system/error");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "error");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "error"), "build command exited with 1");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "exit_code"), "1");
	ck_assert_str_ne(rc_hget(key("deployment:%s", id), "finished"), "");
}
END_TEST

START_TEST(test_model_state_final_is_final)
{
	static const enum deployment_state finals[] = { DEPLOYMENT_READY, DEPLOYMENT_ERROR,
							DEPLOYMENT_CANCELED };
	for (size_t i = 0; i < 3; i++) {
		char id[ID_LEN + 1], slug[16], before[64], after[64];
		snprintf(slug, sizeof(slug), "site%zu", i);
		create(slug, id);
		struct error err;
		ck_assert_int_eq(model_deployment_state(r, id, finals[i], NULL, NULL, 0, &err), 0);
		rc_digest(before);
		error_clear(&err);
		ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err),
				 SKIFF_ECONFLICT);
		ck_assert_str_eq(err.name, "already_finished");
		ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_ERROR, NULL, NULL, 0, &err),
				 SKIFF_ECONFLICT);
		rc_digest(after);
		ck_assert_str_eq(after, before); /* no stream entry, no field changed */
		ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), model_state_name(finals[i]));
	}
}
END_TEST

START_TEST(test_model_state_unknown_deployment)
{
	struct error err;
	ck_assert_int_eq(model_deployment_state(r, "abcdefgh2345", DEPLOYMENT_BUILDING, "clone", NULL,
						0, &err),
			 SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_dbsize(), 0); /* no stray log stream */
}
END_TEST

/* NULL means "no extra fields" (skiff-build passes it for every phase): it must not leak in a
 * long-running process (the sanitizer build reports leaks at exit). */
START_TEST(test_model_state_null_fields)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err), 0);
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "ready");
}
END_TEST

START_TEST(test_model_update_fields)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct deployment f;
	model_deployment_init(&f);
	snprintf(f.commit, sizeof(f.commit), "0123abcd");
	f.files = 12;
	/* a message set to "" is written ("" clears it); a number that is none is not */
	freeReplyObject(rc_cmd("HSET %s commit_message %s", key("deployment:%s", id), "from the push"));
	struct error err;
	long long entries = rc_int("XLEN %s", key("log:%s", id), NULL);
	ck_assert_int_eq(model_deployment_update(r, id, &f, MODEL_SET(COMMIT) | MODEL_SET(FILES) |
						 MODEL_SET(COMMIT_MESSAGE) | MODEL_SET(BYTES), &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "commit"), "0123abcd");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "files"), "12");
	ck_assert_int_eq(rc_int("HEXISTS %s %s", key("deployment:%s", id), "commit_message"), 1);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "commit_message"), "");
	ck_assert_int_eq(rc_int("HEXISTS %s %s", key("deployment:%s", id), "bytes"), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "queued");
	ck_assert_int_eq(rc_int("XLEN %s", key("log:%s", id), NULL), entries);
}
END_TEST

/* ---- promotion ----------------------------------------------------------------- */

START_TEST(test_model_promote_sets_current)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1], cur[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_BUILDING, "upload", NULL, 0, &err), 0);
	struct deployment f;
	model_deployment_init(&f);
	f.files = 3;
	f.bytes = 1234;
	ck_assert_int_eq(model_deployment_promote(r, id, &f, MODEL_SET(FILES) | MODEL_SET(BYTES),
						  &err), 0);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "ready");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "files"), "3");
	ck_assert_str_ne(rc_hget(key("deployment:%s", id), "finished"), "");
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/queued|state/system/building upload|state/system/ready|"
			 "end/system/ready");
	/* a later deployment takes over */
	id_new(id2);
	struct deployment d;
	deployment_rec(&d, id2, "site");
	ck_assert_int_eq(model_deployment_create(r, "site", &d, &err), 0);
	ck_assert_int_eq(model_deployment_promote(r, id2, NULL, 0, &err), 0);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id2);
	/* promoting a finished deployment again is refused */
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), SKIFF_ECONFLICT);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id2);
}
END_TEST

START_TEST(test_model_promote_pinned)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1], cur[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), 0);
	freeReplyObject(rc_cmd("HSET skiff:project:site pinned 1"));
	id_new(id2);
	struct deployment d;
	deployment_rec(&d, id2, "site");
	ck_assert_int_eq(model_deployment_create(r, "site", &d, &err), 0);
	ck_assert_int_eq(model_deployment_promote(r, id2, NULL, 0, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id2), "state"), "ready");
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id); /* the pinned deployment keeps serving */
}
END_TEST

START_TEST(test_model_promote_canceled)
{
	char id[ID_LEN + 1], before[64], after[64], cur[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_CANCELED, NULL, NULL, 0, &err), 0);
	rc_digest(before);
	error_clear(&err);
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, 0, &err), SKIFF_ECANCELED);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), SKIFF_ENOTFOUND);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "canceled");
}
END_TEST

START_TEST(test_model_promote_unknown)
{
	struct error err;
	ck_assert_int_eq(model_deployment_promote(r, "abcdefgh2345", NULL, 0, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_dbsize(), 0);
}
END_TEST

/* ---- typed records ------------------------------------------------------------- */

/* Every state's wire string parses back to it; anything else is DEPLOYMENT_UNKNOWN. */
START_TEST(test_model_state_names)
{
	static const char *const names[] = { "queued", "building", "ready", "error", "canceled",
					     "expired" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum deployment_state s = model_state_parse(names[i], strlen(names[i]));
		ck_assert_int_ne(s, DEPLOYMENT_UNKNOWN);
		ck_assert_str_eq(model_state_name(s), names[i]);
		ck_assert_int_eq(model_state_final(s), i >= 2);
	}
	ck_assert_int_eq(model_state_parse("ready ", 6), DEPLOYMENT_UNKNOWN);
	ck_assert_int_eq(model_state_parse("read", 4), DEPLOYMENT_UNKNOWN);
	ck_assert_int_eq(model_state_parse("", 0), DEPLOYMENT_UNKNOWN);
}
END_TEST

/* What a record is written with reads back field for field; what it was not given is not
 * stored at all; a number that is not one reads as none; a string too long is cut. */
START_TEST(test_model_record_round_trip)
{
	char id[ID_LEN + 1];
	struct project p, pr;
	struct deployment d, dr;
	struct error err;
	id_new(id);
	project_rec(&p, "site", "https://github.com/o/r.git", id);
	snprintf(p.build_command, sizeof(p.build_command), "make site");
	snprintf(p.output_dir, sizeof(p.output_dir), "out");
	snprintf(p.webhook_secret, sizeof(p.webhook_secret), "0123456789abcdef0123");
	p.watch = true;
	p.hsts = true;
	deployment_rec(&d, id, "site");
	snprintf(d.commit_message, sizeof(d.commit_message), "Fix the thing é");
	d.exit_code = -1;
	ck_assert_int_eq(model_project_create(r, &p, &d, &err), 0);
	ck_assert_int_eq(model_project_get(r, "site", &pr, &err), 0);
	ck_assert_str_eq(pr.build_command, "make site");
	ck_assert_str_eq(pr.output_dir, "out");
	ck_assert_str_eq(pr.webhook_secret, p.webhook_secret);
	ck_assert(pr.watch && !pr.pinned && pr.hsts);
	ck_assert_str_eq(rc_hget("skiff:project:site", "hsts"), "1");
	ck_assert_int_eq(pr.created, p.created);
	ck_assert_str_eq(pr.latest, id);
	ck_assert_str_eq(rc_hget("skiff:project:site", "watch"), "1");
	ck_assert_str_eq(rc_hget("skiff:project:site", "created"), "1700000000000");
	ck_assert_int_eq(rc_int("HEXISTS %s %s", "skiff:project:site", "install_command"), 0);
	ck_assert_int_eq(rc_int("HEXISTS %s %s", "skiff:project:site", "pinned"), 0);
	ck_assert_int_eq(model_deployment_get(r, id, &dr, &err), 0);
	ck_assert_str_eq(dr.commit_message, "Fix the thing é");
	ck_assert_int_eq(dr.exit_code, -1);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "exit_code"), "-1");
	ck_assert_int_eq(rc_int("HEXISTS %s %s", key("deployment:%s", id), "commit"), 0);
	ck_assert_int_eq(dr.state, DEPLOYMENT_QUEUED);
	/* written by others: a number that is not one, an unknown state, an overlong string */
	char longer[BRANCH_MAX + 50];
	memset(longer, 'b', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	freeReplyObject(rc_cmd("HSET %s files 12x state weird branch %s", key("deployment:%s", id),
			       longer));
	ck_assert_int_eq(model_deployment_get(r, id, &dr, &err), 0);
	ck_assert_int_eq(dr.files, MODEL_NONE);
	ck_assert_int_eq(dr.state, DEPLOYMENT_UNKNOWN);
	ck_assert_uint_eq(strlen(dr.branch), BRANCH_MAX);
}
END_TEST

/* ---- Redis gone, hung, restarted ---------------------------------------------------- */

START_TEST(test_model_redis_down)
{
	struct config down = cfg;
	snprintf(down.redis_socket, sizeof(down.redis_socket), "%s/missing/redis.sock", tmpdir);
	struct redis *d = redis_new(&down);
	struct error err;
	struct project p;
	struct deployment dep;
	char id[ID_LEN + 1];
	id_new(id);
	double t0 = now_s();
	error_clear(&err);
	ck_assert_int_eq(model_project_get(d, "site", &p, &err), SKIFF_EREDIS);
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_int_eq(error_status(err.code), 503);
	project_rec(&p, "site", "https://github.com/o/r.git", id);
	deployment_rec(&dep, id, "site");
	error_clear(&err);
	ck_assert_int_eq(model_project_create(d, &p, &dep, &err), SKIFF_EREDIS);
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_int_eq(model_deployment_state(d, id, DEPLOYMENT_BUILDING, "clone", NULL, 0, &err),
			 SKIFF_EREDIS);
	ck_assert_int_eq(model_log_append(d, id, LOG_SRC_STDOUT, "x", 1, &err), SKIFF_EREDIS);
	ck_assert_int_lt(model_lease_alive(d, id, &err), 0);
	ck_assert_msg(now_s() - t0 < 1.0, "took %.2f s", now_s() - t0);
	redis_free(d);
}
END_TEST

/* A Redis that accepts connections but never answers: an error after the timeout, no hang. */
START_TEST(test_model_redis_hung)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/hung.sock", tmpdir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0); /* connections queue up, nobody reads */
	struct config hung = cfg;
	snprintf(hung.redis_socket, sizeof(hung.redis_socket), "%s", path);
	hung.redis_timeout_ms = 200;
	struct redis *h = redis_new(&hung);
	struct error err;
	struct project rec;
	double t0 = now_s();
	error_clear(&err);
	ck_assert_int_eq(model_project_get(h, "site", &rec, &err), SKIFF_EREDIS);
	double dt = now_s() - t0;
	ck_assert_msg(dt < 1.5, "took %.2f s with a 200 ms timeout", dt);
	ck_assert_int_eq(error_status(err.code), 503);
	redis_free(h);
	close(fd);
	unlink(path);
}
END_TEST

/* After Redis drops the connection (restart, idle timeout) the next call reconnects. */
START_TEST(test_model_reconnect)
{
	char id[ID_LEN + 1], cur[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), SKIFF_ENOTFOUND);
	freeReplyObject(rc_cmd("CLIENT KILL TYPE normal SKIPME yes"));
	struct project rec;
	error_clear(&err);
	ck_assert_msg(model_project_get(r, "site", &rec, &err) == 0, "%s", err.message);
	ck_assert_str_eq(rec.slug, "site");
}
END_TEST

/* A command that timed out may still run once Redis gets to it: it is not sent again, or
 * a build's log line would be appended twice. */
START_TEST(test_model_no_resend_after_timeout)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct config slow = cfg;
	slow.redis_timeout_ms = 200;
	struct redis *s = redis_new(&slow);
	struct error err;
	ck_assert_int_eq(model_log_append(s, id, LOG_SRC_STDOUT, "before", 6, &err), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) { /* keeps Redis busy for 700 ms, longer than two timeouts */
		redisContext *c = redisConnectUnix(sock_path);
		redisReply *reply = c ? redisCommand(c, "DEBUG SLEEP 0.7") : NULL;
		_exit(reply ? 0 : 1);
	}
	usleep(100000);
	error_clear(&err);
	ck_assert_int_eq(model_log_append(s, id, LOG_SRC_STDOUT, "once", 4, &err), SKIFF_EREDIS);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/queued|line/stdout/before|line/stdout/once");
	redis_free(s);
}
END_TEST

/* A preview deployment: its record, coalescing with its own preview only, promotion to the
 * preview's current (never production's), the key of another branch refused, closing. */
START_TEST(test_model_preview_lifecycle)
{
	char prod[ID_LEN + 1], a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1], sup[ID_LEN + 1];
	struct error err;
	create("site", prod);
	struct deployment d;
	struct preview pv;
	model_preview_init(&pv);
	snprintf(pv.key, sizeof(pv.key), "b-feature");
	snprintf(pv.kind, sizeof(pv.kind), "branch");
	snprintf(pv.branch, sizeof(pv.branch), "feature");
	char *ids[] = { a, b };
	for (int i = 0; i < 2; i++) {
		id_new(ids[i]);
		deployment_rec(&d, ids[i], "site");
		snprintf(d.branch, sizeof(d.branch), "feature");
		snprintf(d.preview, sizeof(d.preview), "b-feature");
		ck_assert_int_eq(model_lifecycle_preview_deploy(r, "site", &d, &pv, sup, &err), 0);
	}
	ck_assert_str_eq(sup, a);                         /* the second replaced the first */
	ck_assert_str_eq(rc_hget(key("deployment:%s", a), "state"), "canceled");
	ck_assert_str_eq(rc_hget(key("deployment:%s", b), "context"), "preview");
	ck_assert_str_eq(rc_hget(key("project:site"), "latest"), prod); /* production's untouched */
	ck_assert_str_eq(rc_hget(key("project:site:preview:b-feature"), "queued"), b);
	/* a production redeploy does not supersede the preview's build */
	id_new(c);
	deployment_rec(&d, c, "site");
	ck_assert_int_eq(model_lifecycle_redeploy(r, "site", &d, sup, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", b), "state"), "queued");
	ck_assert_str_eq(rc_hget(key("deployment:%s", c), "context"), "production");
	/* promoted: the preview serves it, production does not */
	ck_assert_int_eq(model_deployment_promote(r, b, NULL, 0, &err), 0);
	char cur[ID_LEN + 1];
	ck_assert_int_eq(model_preview_current(r, "site", "b-feature", cur, &err), 0);
	ck_assert_str_eq(cur, b);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), SKIFF_ENOTFOUND);
	/* another branch with the same key */
	struct preview other = pv;
	snprintf(other.branch, sizeof(other.branch), "Feature");
	id_new(c);
	deployment_rec(&d, c, "site");
	snprintf(d.branch, sizeof(d.branch), "Feature");
	snprintf(d.preview, sizeof(d.preview), "b-feature");
	ck_assert_int_eq(model_lifecycle_preview_deploy(r, "site", &d, &other, sup, &err),
			 SKIFF_ECONFLICT);
	ck_assert_int_eq(rc_int("EXISTS %s", key("deployment:%s", c), NULL), 0);
	/* no more than PREVIEW_OPEN_MAX previews at once; one that exists still builds */
	for (int i = 0; i < PREVIEW_OPEN_MAX - 1; i++)
		rc_int("ZADD %s 1 %s", key("project:site:previews"), key("b-filler-%d", i));
	struct preview more = pv;
	snprintf(more.key, sizeof(more.key), "b-more");
	snprintf(more.branch, sizeof(more.branch), "more");
	id_new(c);
	deployment_rec(&d, c, "site");
	snprintf(d.branch, sizeof(d.branch), "more");
	snprintf(d.preview, sizeof(d.preview), "b-more");
	ck_assert_int_eq(model_lifecycle_preview_deploy(r, "site", &d, &more, sup, &err), SKIFF_ELIMIT);
	ck_assert_int_eq(rc_int("EXISTS %s", key("deployment:%s", c), NULL), 0);
	id_new(c);
	deployment_rec(&d, c, "site");
	snprintf(d.branch, sizeof(d.branch), "feature");
	snprintf(d.preview, sizeof(d.preview), "b-feature");
	ck_assert_int_eq(model_lifecycle_preview_deploy(r, "site", &d, &pv, sup, &err), 0);
	rc_int("DEL %s", key("project:site:previews"), NULL);
	rc_int("ZADD %s 1 %s", key("project:site:previews"), "b-feature");
	/* a preview deployment is never rolled back to */
	ck_assert_int_eq(model_lifecycle_rollback(r, "site", b, false, "test", &err), SKIFF_ECONFLICT);
	/* closed: the address goes, the deployment stays */
	ck_assert_int_eq(model_lifecycle_preview_close(r, "site", "b-feature", sup, &err), 1);
	ck_assert_int_eq(model_preview_current(r, "site", "b-feature", cur, &err), SKIFF_ENOTFOUND);
	ck_assert_str_eq(rc_hget(key("deployment:%s", b), "state"), "ready");
	ck_assert_int_eq(model_lifecycle_preview_close(r, "site", "b-feature", sup, &err), 0);
	json_t *keys = NULL;
	ck_assert_int_eq(model_preview_list(r, "site", 10, &keys, &err), 0);
	ck_assert_uint_eq(json_array_size(keys), 0);
	json_decref(keys);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_project_create_records);
	tcase_add_test(tc, test_model_project_create_notifies);
	tcase_add_test(tc, test_model_project_create_conflict_writes_nothing);
	tcase_add_test(tc, test_model_project_create_race);
	tcase_add_test(tc, test_model_prefix);
	tcase_add_test(tc, test_model_deployment_create);
	tcase_add_test(tc, test_model_deployment_create_unknown_project);
	tcase_add_test(tc, test_model_get_not_found);
	tcase_add_test(tc, test_model_lists);
	tcase_add_test(tc, test_model_state_transitions);
	tcase_add_test(tc, test_model_state_final_is_final);
	tcase_add_test(tc, test_model_state_unknown_deployment);
	tcase_add_test(tc, test_model_state_null_fields);
	tcase_add_test(tc, test_model_update_fields);
	tcase_add_test(tc, test_model_promote_sets_current);
	tcase_add_test(tc, test_model_promote_pinned);
	tcase_add_test(tc, test_model_promote_canceled);
	tcase_add_test(tc, test_model_promote_unknown);
	tcase_add_test(tc, test_model_state_names);
	tcase_add_test(tc, test_model_record_round_trip);
	tcase_add_test(tc, test_model_redis_down);
	tcase_add_test(tc, test_model_redis_hung);
	tcase_add_test(tc, test_model_reconnect);
	tcase_add_test(tc, test_model_no_resend_after_timeout);
	tcase_add_test(tc, test_model_preview_lifecycle);
}

int main(void)
{
	return modelenv_run("model", add_tests);
}
