/* check_model.c — the Redis data model against a real redis-server that main() starts on a
 * private unix socket: records, atomic create, state machine, promotion, log stream, queue,
 * leases, and what happens when Redis is gone or hung. */
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
static json_t *nofields; /* an empty object: NULL fields have a test of their own */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static redisReply *rc_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *reply = redisvCommand(raw, fmt, ap);
	va_end(ap);
	ck_assert_msg(reply != NULL, "raw Redis command failed: %s", raw->errstr);
	ck_assert_msg(reply->type != REDIS_REPLY_ERROR, "Redis error: %s", reply->str);
	return reply;
}

static long long rc_int(const char *fmt, const char *a, const char *b)
{
	redisReply *reply = rc_cmd(fmt, a, b);
	ck_assert_int_eq(reply->type, REDIS_REPLY_INTEGER);
	long long v = reply->integer;
	freeReplyObject(reply);
	return v;
}

/* HGET key field as a string ("" when missing), static storage. */
static const char *rc_hget(const char *key, const char *field)
{
	static char out[8192];
	redisReply *reply = rc_cmd("HGET %s %s", key, field);
	snprintf(out, sizeof(out), "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
	freeReplyObject(reply);
	return out;
}

/* The whole dataset, digested by Redis: any changed, added or removed value changes it. */
static void rc_digest(char out[64])
{
	redisReply *reply = rc_cmd("DEBUG DIGEST");
	snprintf(out, 64, "%s", reply->str);
	freeReplyObject(reply);
}

static long long rc_dbsize(void)
{
	redisReply *reply = rc_cmd("DBSIZE");
	long long n = reply->integer;
	freeReplyObject(reply);
	return n;
}

/* Entries of a stream as "k/s/m" strings joined by '|'. */
static const char *rc_stream(const char *key)
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

static void setup(void)
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
	nofields = json_object();
}

static void teardown(void)
{
	json_decref(nofields);
	redis_free(r);
	redisFree(raw);
}

static json_t *project_obj(const char *slug, const char *git_url, const char *id)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "slug", slug, "git_url", git_url, "branch",
			 "main", "created", "1700000000000", "latest", id, "current", "");
}

static json_t *deployment_obj(const char *id, const char *slug)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "project", slug, "git_url",
			 "https://github.com/o/r.git", "ref", "main", "state", STATE_QUEUED, "trigger",
			 "api", "created", "1700000000000");
}

/* Creates project slug with a fresh deployment; returns its id in id. */
static void create(const char *slug, char id[ID_LEN + 1])
{
	id_new(id);
	json_t *p = project_obj(slug, "https://github.com/o/r.git", id), *d = deployment_obj(id, slug);
	struct error err;
	error_clear(&err);
	int rc = model_project_create(r, p, d, &err);
	ck_assert_msg(rc == 0, "create %s: %s", slug, err.message);
	json_decref(p);
	json_decref(d);
}

/* prefix + formatted suffix, in one of a few rotating static buffers */
static const char *key(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *key(const char *fmt, ...)
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

/* 1 when member is in the sorted set */
static int rc_zhas(const char *zkey, const char *member)
{
	redisReply *reply = rc_cmd("ZSCORE %s %s", zkey, member);
	int has = reply->type == REDIS_REPLY_STRING;
	freeReplyObject(reply);
	return has;
}

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
	json_t *rec = NULL;
	struct error err;
	ck_assert_int_eq(model_project_get(r, "site", &rec, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "git_url")),
			 "https://github.com/o/r.git");
	json_decref(rec);
	ck_assert_int_eq(model_deployment_get(r, id, &rec, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "state")), "queued");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "id")), id);
	json_decref(rec);
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
	json_t *p = project_obj("site", "https://github.com/o/r.git", id), *d = deployment_obj(id, "site");
	struct error err;
	ck_assert_int_eq(model_project_create(r, p, d, &err), 0);
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
	json_decref(p);
	json_decref(d);
}
END_TEST

START_TEST(test_model_project_create_conflict_writes_nothing)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1], before[64], after[64];
	create("site", id);
	rc_digest(before);
	long long keys = rc_dbsize();
	id_new(id2);
	json_t *p = project_obj("site", "https://github.com/other/x.git", id2),
	       *d = deployment_obj(id2, "site");
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(model_project_create(r, p, d, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "slug_taken");
	ck_assert_ptr_nonnull(strstr(err.message, "site"));
	ck_assert_int_eq(error_status(err.code), 409);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(rc_dbsize(), keys);
	ck_assert_str_eq(rc_hget("skiff:project:site", "git_url"), "https://github.com/o/r.git");
	json_decref(p);
	json_decref(d);
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
			json_t *p = project_obj("race", "https://github.com/o/r.git", id),
			       *d = deployment_obj(id, "race");
			struct error err;
			int rc = model_project_create(mine, p, d, &err);
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
	json_t *d = deployment_obj(id2, "site");
	json_object_set_new(d, "trigger", json_string("redeploy"));
	struct error err;
	ck_assert_int_eq(model_deployment_create(r, "site", d, &err), 0);
	ck_assert_str_eq(rc_hget("skiff:project:site", "latest"), id2);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id2), "trigger"), "redeploy");
	ck_assert_int_eq(rc_int("ZCARD %s", "skiff:project:site:deployments", NULL), 2);
	ck_assert_int_eq(rc_int("LLEN %s", "skiff:queue", NULL), 2);
	ck_assert_str_eq(rc_stream(key("log:%s", id2)), "state/system/queued");
	json_decref(d);
}
END_TEST

START_TEST(test_model_deployment_create_unknown_project)
{
	char id[ID_LEN + 1], before[64], after[64];
	id_new(id);
	rc_digest(before);
	json_t *d = deployment_obj(id, "ghost");
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(model_deployment_create(r, "ghost", d, &err), SKIFF_ENOTFOUND);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(rc_dbsize(), 0);
	json_decref(d);
}
END_TEST

START_TEST(test_model_get_not_found)
{
	json_t *rec = NULL;
	struct error err;
	char cur[ID_LEN + 1];
	ck_assert_int_eq(model_project_get(r, "nope", &rec, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(error_status(err.code), 404);
	ck_assert_int_eq(model_deployment_get(r, "abcdefgh2345", &rec, &err), SKIFF_ENOTFOUND);
	ck_assert_ptr_null(rec);
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
		json_t *d = deployment_obj(more[i], "first");
		ck_assert_int_eq(model_deployment_create(r, "first", d, &err), 0);
		json_decref(d);
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
	json_t *f = json_pack("{s:s}", "started", "1700000001000");
	ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "clone", f, &err), 0);
	json_decref(f);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "building");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "phase"), "clone");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "started"), "1700000001000");
	ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "build", nofields, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "finished"), "");
	f = json_pack("{s:s,s:s}", "error", "build command exited with 1", "exit_code", "1");
	ck_assert_int_eq(model_deployment_state(r, id, STATE_ERROR, NULL, f, &err), 0);
	json_decref(f);
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/queued|state/system/building clone|state/system/building build|"
			 "state/system/error|end/system/error");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "error");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "error"), "build command exited with 1");
	ck_assert_str_ne(rc_hget(key("deployment:%s", id), "finished"), "");
}
END_TEST

START_TEST(test_model_state_final_is_final)
{
	static const char *finals[] = { STATE_READY, STATE_ERROR, STATE_CANCELED };
	for (size_t i = 0; i < 3; i++) {
		char id[ID_LEN + 1], slug[16], before[64], after[64];
		snprintf(slug, sizeof(slug), "site%zu", i);
		create(slug, id);
		struct error err;
		ck_assert_int_eq(model_deployment_state(r, id, finals[i], NULL, nofields, &err), 0);
		rc_digest(before);
		error_clear(&err);
		ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "clone", nofields, &err),
				 SKIFF_ECONFLICT);
		ck_assert_str_eq(err.name, "already_finished");
		ck_assert_int_eq(model_deployment_state(r, id, STATE_ERROR, NULL, nofields, &err),
				 SKIFF_ECONFLICT);
		rc_digest(after);
		ck_assert_str_eq(after, before); /* no stream entry, no field changed */
		ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), finals[i]);
	}
}
END_TEST

START_TEST(test_model_state_unknown_deployment)
{
	struct error err;
	ck_assert_int_eq(model_deployment_state(r, "abcdefgh2345", STATE_BUILDING, "clone", nofields, &err),
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
	ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "clone", NULL, &err), 0);
	ck_assert_int_eq(model_deployment_promote(r, id, NULL, &err), 0);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "ready");
}
END_TEST

START_TEST(test_model_update_fields)
{
	char id[ID_LEN + 1];
	create("site", id);
	json_t *f = json_pack("{s:s,s:s,s:i}", "commit", "0123abcd", "files", "12", "ignored", 5);
	struct error err;
	long long entries = rc_int("XLEN %s", key("log:%s", id), NULL);
	ck_assert_int_eq(model_deployment_update(r, id, f, &err), 0);
	json_decref(f);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "commit"), "0123abcd");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "files"), "12");
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
	ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "upload", nofields, &err), 0);
	json_t *f = json_pack("{s:s,s:s}", "files", "3", "bytes", "1234");
	ck_assert_int_eq(model_deployment_promote(r, id, f, &err), 0);
	json_decref(f);
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
	json_t *d = deployment_obj(id2, "site");
	ck_assert_int_eq(model_deployment_create(r, "site", d, &err), 0);
	json_decref(d);
	ck_assert_int_eq(model_deployment_promote(r, id2, nofields, &err), 0);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id2);
	/* promoting a finished deployment again is refused */
	ck_assert_int_eq(model_deployment_promote(r, id, nofields, &err), SKIFF_ECONFLICT);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), 0);
	ck_assert_str_eq(cur, id2);
}
END_TEST

START_TEST(test_model_promote_pinned)
{
	char id[ID_LEN + 1], id2[ID_LEN + 1], cur[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_deployment_promote(r, id, nofields, &err), 0);
	freeReplyObject(rc_cmd("HSET skiff:project:site pinned 1"));
	id_new(id2);
	json_t *d = deployment_obj(id2, "site");
	ck_assert_int_eq(model_deployment_create(r, "site", d, &err), 0);
	json_decref(d);
	ck_assert_int_eq(model_deployment_promote(r, id2, nofields, &err), 0);
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
	ck_assert_int_eq(model_deployment_state(r, id, STATE_CANCELED, NULL, nofields, &err), 0);
	rc_digest(before);
	error_clear(&err);
	ck_assert_int_eq(model_deployment_promote(r, id, nofields, &err), SKIFF_ECANCELED);
	rc_digest(after);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(model_project_current(r, "site", cur, &err), SKIFF_ENOTFOUND);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "canceled");
}
END_TEST

START_TEST(test_model_promote_unknown)
{
	struct error err;
	ck_assert_int_eq(model_deployment_promote(r, "abcdefgh2345", nofields, &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_dbsize(), 0);
}
END_TEST

/* ---- the log stream ------------------------------------------------------------ */

START_TEST(test_model_log_append_and_read)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct error err;
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDOUT, "npm run build", 13, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_STDERR, "warning: x\xc3\xa9", 12, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id, STATE_BUILDING, "build", nofields, &err), 0);
	ck_assert_int_eq(model_log_append(r, id, LOG_SRC_SYSTEM, "", 0, &err), 0);
	ck_assert_int_eq(model_deployment_state(r, id, STATE_ERROR, NULL, nofields, &err), 0);
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

/* ---- queue ----------------------------------------------------------------------- */

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

/* ---- Redis gone, hung, restarted ---------------------------------------------------- */

START_TEST(test_model_redis_down)
{
	struct config down = cfg;
	snprintf(down.redis_socket, sizeof(down.redis_socket), "%s/missing/redis.sock", tmpdir);
	struct redis *d = redis_new(&down);
	struct error err;
	json_t *rec = NULL;
	char id[ID_LEN + 1];
	id_new(id);
	double t0 = now_s();
	error_clear(&err);
	ck_assert_int_eq(model_project_get(d, "site", &rec, &err), SKIFF_EREDIS);
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_int_eq(error_status(err.code), 503);
	json_t *p = project_obj("site", "https://github.com/o/r.git", id), *dep = deployment_obj(id, "site");
	error_clear(&err);
	ck_assert_int_eq(model_project_create(d, p, dep, &err), SKIFF_EREDIS);
	ck_assert_str_eq(err.name, "redis_unavailable");
	ck_assert_int_eq(model_deployment_state(d, id, STATE_BUILDING, "clone", nofields, &err),
			 SKIFF_EREDIS);
	ck_assert_int_eq(model_log_append(d, id, LOG_SRC_STDOUT, "x", 1, &err), SKIFF_EREDIS);
	ck_assert_int_lt(model_lease_alive(d, id, &err), 0);
	ck_assert_msg(now_s() - t0 < 1.0, "took %.2f s", now_s() - t0);
	json_decref(p);
	json_decref(dep);
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
	json_t *rec = NULL;
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
	json_t *rec = NULL;
	error_clear(&err);
	ck_assert_msg(model_project_get(r, "site", &rec, &err) == 0, "%s", err.message);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "slug")), "site");
	json_decref(rec);
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

/* ---- the test's own redis-server ---------------------------------------------------- */

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

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skiff-check-model.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/redis.sock", tmpdir);
	pid_t redis = redis_start();
	if (redis < 0) {
		fprintf(stderr, "check_model: cannot start redis-server on %s\n", sock_path);
		return EXIT_FAILURE;
	}

	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
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
	tcase_add_test(tc, test_model_log_append_and_read);
	tcase_add_test(tc, test_model_log_append_notifies);
	tcase_add_test(tc, test_model_log_line_cut);
	tcase_add_test(tc, test_model_log_line_cut_utf8);
	tcase_add_test(tc, test_model_log_read_pages);
	tcase_add_test(tc, test_model_log_read_limit);
	tcase_add_test(tc, test_model_queue_fifo);
	tcase_add_test(tc, test_model_queue_pop_timeout);
	tcase_add_test(tc, test_model_queue_pop_longer_than_redis_timeout);
	tcase_add_test(tc, test_model_queue_pop_wakes);
	tcase_add_test(tc, test_model_queue_pop_garbage);
	tcase_add_test(tc, test_model_lease);
	tcase_add_test(tc, test_model_lease_expires);
	tcase_add_test(tc, test_model_redis_down);
	tcase_add_test(tc, test_model_redis_hung);
	tcase_add_test(tc, test_model_reconnect);
	tcase_add_test(tc, test_model_no_resend_after_timeout);
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
