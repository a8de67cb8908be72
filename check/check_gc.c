/* check_gc.c — retention and the sweep against a real redis-server and the file store: the
 * newest N ready deployments plus the current one stay, expired ones lose their manifests and
 * log streams, the sweep reclaims exactly the blobs nothing kept names, never a young one, and
 * never one a build or an upload finishing during the sweep relies on (a build pins those), and
 * builds uploading or uploads finishing back to back never keep it from running. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "gc.h"
#include "hash.h"
#include "id.h"
#include "log.h"
#include "manifest.h"
#include "model.h"
#include "model_gc.h"
#include "model_lifecycle.h"
#include "model_log.h"
#include "redis.h"
#include "retention.h"
#include "store.h"
#include "testenv.h"

#define OLD (2 * 3600)   /* seconds: older than the default grace period */

struct fixture {
	struct config cfg;
	struct redis *r;
	struct store *s;
	int serial;
};

static void fixture_init(struct fixture *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	testenv_config(&f->cfg, name);
	struct error err;
	f->r = redis_new(&f->cfg);
	ck_assert_msg(store_open(&f->s, &f->cfg, &err) == 0, "store: %s", err.message);
}

static void fixture_dispose(struct fixture *f)
{
	store_free(f->s);
	redis_free(f->r);
}

static redisReply *cmd(struct fixture *f, const char *fmt, const char *key, const char *a1,
			const char *a2, const char *a3, const char *a4)
{
	struct error err;
	char k[REDIS_KEY_MAX];
	redis_key(f->r, k, "%s", key);
	redisReply *reply = redis_cmd(f->r, &err, fmt, k, a1, a2, a3, a4);
	ck_assert_msg(reply != NULL, "redis: %s", err.message);
	return reply;
}

static void cmd_free(struct fixture *f, const char *fmt, const char *key, const char *a1,
		     const char *a2, const char *a3, const char *a4)
{
	freeReplyObject(cmd(f, fmt, key, a1, a2, a3, a4));
}

static void hget(struct fixture *f, const char *key, const char *field, char *out, size_t n)
{
	redisReply *reply = cmd(f, "HGET %s %s", key, field, NULL, NULL, NULL);
	snprintf(out, n, "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
	freeReplyObject(reply);
}

static long long exists(struct fixture *f, const char *key)
{
	redisReply *reply = cmd(f, "EXISTS %s", key, NULL, NULL, NULL, NULL);
	long long n = reply->integer;
	freeReplyObject(reply);
	return n;
}

static void set_age(const char *path, long long age_s)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age_s;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A blob with content text, age_s old. */
static void blob(struct fixture *f, const char *text, long long age_s, char hash[65])
{
	char tmp[400], path[STORE_PATH_MAX];
	struct error err;
	snprintf(tmp, sizeof(tmp), "%s/blob-%d-%d", testenv_dir, getpid(), f->serial++);
	FILE *fp = fopen(tmp, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	hash_buffer(text, strlen(text), hash);
	ck_assert_msg(store_blob_put(f->s, hash, tmp, "text/plain", &err) == 0, "%s", err.message);
	unlink(tmp);
	ck_assert_int_eq(store_blob_path(f->s, hash, path, &err), 0);
	set_age(path, age_s);
}

static bool blob_exists(struct fixture *f, const char *hash)
{
	struct error err;
	return store_blob_exists(f->s, hash, &err) == 1;
}

static void object_age(struct fixture *f, const char *key, long long age_s)
{
	char path[STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", f->cfg.store_path, key);
	set_age(path, age_s);
}

static bool object_exists(struct fixture *f, const char *key)
{
	char path[STORE_PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", f->cfg.store_path, key);
	return stat(path, &st) == 0;
}

/* A manifest for id naming files[i] = hashes (variants: gz/br names, may be NULL). */
static void manifest(struct fixture *f, const char *id, const char *const *hashes, size_t n,
		     const char *gz, const char *br, long long age_s)
{
	json_t *files = json_object();
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/f%zu.html", i);
		json_t *e = json_pack("{s:s,s:i,s:s}", "hash", hashes[i], "size", 10, "type",
				      "text/html; charset=utf-8");
		if (i == 0 && gz)
			json_object_set_new(e, "gzip", json_pack("{s:s,s:i}", "hash", gz, "size", 5));
		if (i == 0 && br)
			json_object_set_new(e, "br", json_pack("{s:s,s:i}", "hash", br, "size", 4));
		json_object_set_new(files, path, e);
	}
	json_t *m = json_pack("{s:i,s:s,s:i,s:o,s:{}}", "version", 1, "deployment", id, "created",
			      1, "files", files, "config");
	char *text = json_dumps(m, JSON_COMPACT);
	char key[256];
	struct error err;
	snprintf(key, sizeof(key), "manifests/%s.json", id);
	ck_assert_int_eq(store_manifest_put(f->s, id, text, strlen(text), &err), 0);
	object_age(f, key, age_s);
	free(text);
	json_decref(m);
}

static void project(struct fixture *f, const char *slug)
{
	char key[256];
	snprintf(key, sizeof(key), "project:%s", slug);
	cmd_free(f, "HSET %s slug %s git_url %s", key, slug, "https://example.com/a/b.git", NULL, NULL);
	cmd_free(f, "ZADD %s 1 %s", "projects", slug, NULL, NULL, NULL);
}

/* A deployment of slug created at `created` (its order), in state, with a log stream. */
static void deployment(struct fixture *f, const char *slug, const char *state, int created,
		       char id[ID_LEN + 1])
{
	char key[256], score[16];
	id_new(id);
	snprintf(key, sizeof(key), "deployment:%s", id);
	cmd_free(f, "HSET %s project %s state %s id %s", key, slug, state, id, NULL);
	snprintf(key, sizeof(key), "project:%s:deployments", slug);
	snprintf(score, sizeof(score), "%d", created);
	cmd_free(f, "ZADD %s %s %s", key, score, id, NULL, NULL);
	snprintf(key, sizeof(key), "log:%s", id);
	cmd_free(f, "XADD %s * k line s system m %s", key, "built-from-stream", NULL, NULL, NULL);
}

static void set_current(struct fixture *f, const char *slug, const char *id)
{
	char key[256];
	snprintf(key, sizeof(key), "project:%s", slug);
	cmd_free(f, "HSET %s current %s", key, id, NULL, NULL, NULL);
}

/* Deployment id expired age_s ago, as its record says (the sweep counts from then). */
static void expired_ago(struct fixture *f, const char *id, long long age_s)
{
	char key[256], then[24];
	snprintf(key, sizeof(key), "deployment:%s", id);
	snprintf(then, sizeof(then), "%lld", clock_wall_ms() - age_s * 1000);
	cmd_free(f, "HSET %s expired %s", key, then, NULL, NULL, NULL);
}

static const char *state_of(struct fixture *f, const char *id)
{
	static char st[32];
	char key[256];
	snprintf(key, sizeof(key), "deployment:%s", id);
	hget(f, key, "state", st, sizeof(st));
	return st;
}

START_TEST(test_retention_keeps_newest_ready_and_current)
{
	struct fixture f;
	fixture_init(&f, "ret");
	project(&f, "site");
	char ids[14][ID_LEN + 1];
	/* 12 ready, plus a failed and a canceled one among them (never counted, never expired) */
	for (int i = 0; i < 14; i++)
		deployment(&f, "site", i == 4 ? "error" : i == 9 ? "canceled" : "ready", i + 1, ids[i]);
	set_current(&f, "site", ids[13]);
	char h[65];
	blob(&f, "x", OLD, h);
	const char *hs[] = { h };
	for (int i = 0; i < 14; i++)
		manifest(&f, ids[i], hs, 1, NULL, NULL, OLD);
	/* the oldest has its log archived already; the second oldest not yet */
	char key[256];
	struct error err;
	snprintf(key, sizeof(key), "logs/%s.log", ids[0]);
	ck_assert_int_eq(store_log_put(f.s, ids[0], "archived\n", 9, &err), 0);

	struct retention_stats st;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(retention_run(f.r, f.s, 10, 10, &st, &err), 0);
	/* ready newest first: 13 12 11 10 8 7 6 5 3 2 | 1 0 → the eleventh and twelfth expire */
	ck_assert_uint_eq(st.expired, 2);
	ck_assert_uint_eq(st.logs_trimmed, 2);
	for (int i = 0; i < 14; i++) {
		const char *want = i <= 1 ? "expired" : i == 4 ? "error" : i == 9 ? "canceled" : "ready";
		ck_assert_msg(!strcmp(state_of(&f, ids[i]), want), "deployment %d is %s, not %s", i,
			      state_of(&f, ids[i]), want);
		/* every manifest stays: the sweep drops an expired one gc_grace after its expiry */
		snprintf(key, sizeof(key), "manifests/%s.json", ids[i]);
		ck_assert_msg(object_exists(&f, key), "manifest %d", i);
		snprintf(key, sizeof(key), "log:%s", ids[i]);
		ck_assert_msg(exists(&f, key) == (i > 1), "log stream %d", i);
	}
	/* the archived copy was kept as it was; the missing one was written from the stream */
	struct buf text = BUF_INIT(1024);
	ck_assert_int_eq(store_log_get(f.s, ids[0], &text, &err), 0);
	ck_assert_str_eq(buf_cstr(&text), "archived\n");
	buf_reset(&text);
	ck_assert_int_eq(store_log_get(f.s, ids[1], &text, &err), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&text), "built-from-stream"));
	buf_dispose(&text);
	/* an expired deployment cannot become current again */
	ck_assert_int_eq(model_lifecycle_rollback(f.r, "site", ids[0], false, "test", &err),
			 SKIFF_ECONFLICT);
	/* a second run changes nothing */
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(retention_run(f.r, f.s, 10, 10, &st, &err), 0);
	ck_assert_uint_eq(st.expired, 0);
	fixture_dispose(&f);
}
END_TEST

/* Failed and canceled deployments beyond the newest `keep` of them keep their records, and
 * their log streams go to the archive. */
START_TEST(test_retention_trims_old_failed_logs)
{
	struct fixture f;
	fixture_init(&f, "fail");
	project(&f, "site");
	char ids[5][ID_LEN + 1];
	for (int i = 0; i < 5; i++)
		deployment(&f, "site", i % 2 ? "canceled" : "error", i + 1, ids[i]);
	struct retention_stats st;
	struct error err;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(retention_run(f.r, f.s, 3, 10, &st, &err), 0);
	ck_assert_uint_eq(st.expired, 0);
	ck_assert_uint_eq(st.logs_trimmed, 2);
	char key[256];
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(state_of(&f, ids[i]), i % 2 ? "canceled" : "error");
		snprintf(key, sizeof(key), "log:%s", ids[i]);
		ck_assert_msg(exists(&f, key) == (i >= 2), "log stream %d", i);
		snprintf(key, sizeof(key), "logs/%s.log", ids[i]);
		ck_assert_msg(object_exists(&f, key) == (i < 2), "archived log %d", i);
	}
	fixture_dispose(&f);
}
END_TEST

/* Preview deployments are counted apart from production's: many previews never push
 * production out, and what a preview serves stays. */
START_TEST(test_retention_keeps_previews_apart)
{
	struct fixture f;
	fixture_init(&f, "prev");
	project(&f, "site");
	char prod[3][ID_LEN + 1], prev[6][ID_LEN + 1], key[256];
	for (int i = 0; i < 3; i++)
		deployment(&f, "site", "ready", i + 1, prod[i]);
	for (int i = 0; i < 6; i++) {
		deployment(&f, "site", "ready", 10 + i, prev[i]);
		snprintf(key, sizeof(key), "deployment:%s", prev[i]);
		cmd_free(&f, "HSET %s preview %s context %s", key, "b-feature", "preview", NULL, NULL);
	}
	set_current(&f, "site", prod[2]);
	/* the preview serves its oldest deployment (a later build of it was stale) */
	cmd_free(&f, "HSET %s branch %s current %s", "project:site:preview:b-feature", "feature",
		 prev[0], NULL, NULL);
	cmd_free(&f, "ZADD %s 1 %s", "project:site:previews", "b-feature", NULL, NULL, NULL);
	struct retention_stats st;
	struct error err;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(retention_project(f.r, f.s, "site", 2, 3, &st, &err), 0);
	/* production: the newest two kept (and current); previews: the newest three and prev[0] */
	ck_assert_str_eq(state_of(&f, prod[0]), "expired");
	ck_assert_str_eq(state_of(&f, prod[1]), "ready");
	ck_assert_str_eq(state_of(&f, prod[2]), "ready");
	ck_assert_str_eq(state_of(&f, prev[0]), "ready");
	ck_assert_str_eq(state_of(&f, prev[1]), "expired");
	ck_assert_str_eq(state_of(&f, prev[2]), "expired");
	for (int i = 3; i < 6; i++)
		ck_assert_str_eq(state_of(&f, prev[i]), "ready");
	ck_assert_uint_eq(st.expired, 3);
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_retention_keeps_rolled_back_current)
{
	struct fixture f;
	fixture_init(&f, "pin");
	project(&f, "site");
	char ids[12][ID_LEN + 1];
	for (int i = 0; i < 12; i++)
		deployment(&f, "site", "ready", i + 1, ids[i]);
	struct error err;
	/* rolled back (and pinned) to the oldest: it stays, the next oldest goes */
	set_current(&f, "site", ids[11]);
	ck_assert_int_eq(model_lifecycle_rollback(f.r, "site", ids[0], true, "test", &err), 0);
	struct retention_stats st;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(retention_project(f.r, f.s, "site", 10, 10, &st, &err), 0);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_str_eq(state_of(&f, ids[0]), "ready");
	ck_assert_str_eq(state_of(&f, ids[1]), "expired");
	for (int i = 2; i < 12; i++)
		ck_assert_str_eq(state_of(&f, ids[i]), "ready");
	ck_assert_int_eq(retention_project(f.r, f.s, "nosuch", 10, 10, &st, &err), SKIFF_ENOTFOUND);
	fixture_dispose(&f);
}
END_TEST

/* A sweep that waits up to finish_wait_ms for uploads finishing before it. */
static void sweep_waiting(struct fixture *f, long long grace_s, long finish_wait_ms,
			  struct gc_stats *st)
{
	struct gc_settings set;
	gc_settings_default(&set);
	set.grace_s = grace_s;
	set.finish_wait_ms = finish_wait_ms;
	struct error err;
	error_clear(&err);
	ck_assert_msg(gc_sweep(f->r, f->s, &set, st, &err) == 0, "gc: %s", err.message);
}

static void sweep(struct fixture *f, long long grace_s, struct gc_stats *st)
{
	sweep_waiting(f, grace_s, GC_FINISH_WAIT_MS, st);
}

START_TEST(test_gc_reclaims_exactly_unique_blobs)
{
	struct fixture f;
	fixture_init(&f, "uniq");
	project(&f, "site");
	char ids[11][ID_LEN + 1];
	for (int i = 0; i < 11; i++)
		deployment(&f, "site", "ready", i + 1, ids[i]);
	set_current(&f, "site", ids[10]);
	char shared[65], a1[65], a2[65], agz[65], abr[65], b1[65], bgz[65], young[65], orphan[65];
	blob(&f, "shared by every deployment", OLD, shared);
	blob(&f, "only in the oldest (1)", OLD, a1);
	blob(&f, "only in the oldest (2)", OLD, a2);
	blob(&f, "gzip of the oldest's first file", OLD, agz);
	blob(&f, "br of the oldest's first file", OLD, abr);
	blob(&f, "only in the newer ones", OLD, b1);
	blob(&f, "gzip of the newer ones' first file", OLD, bgz);
	blob(&f, "uploaded a moment ago, no manifest yet", 10, young);
	blob(&f, "named by nothing for a long time", OLD, orphan);
	const char *oldest[] = { a1, shared, a2 };
	manifest(&f, ids[0], oldest, 3, agz, abr, OLD);
	const char *newer[] = { b1, shared };
	for (int i = 1; i < 11; i++)
		manifest(&f, ids[i], newer, 2, bgz, NULL, OLD);
	struct retention_stats rs;
	memset(&rs, 0, sizeof(rs));
	struct error err;
	ck_assert_int_eq(retention_run(f.r, f.s, 10, 10, &rs, &err), 0);
	ck_assert_uint_eq(rs.expired, 1);
	ck_assert_str_eq(state_of(&f, ids[0]), "expired");
	expired_ago(&f, ids[0], OLD);          /* long enough ago */

	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.blobs, 9);
	ck_assert_uint_eq(st.blobs_deleted, 5);
	ck_assert_uint_eq(st.blobs_young, 1);
	ck_assert_uint_eq(st.blobs_named, 3);
	ck_assert_uint_eq(st.manifests_kept, 10);
	unsigned long long bytes = strlen("only in the oldest (1)") + strlen("only in the oldest (2)") +
				   strlen("gzip of the oldest's first file") +
				   strlen("br of the oldest's first file") +
				   strlen("named by nothing for a long time");
	ck_assert_uint_eq(st.bytes_deleted, bytes);
	ck_assert(!blob_exists(&f, a1) && !blob_exists(&f, a2) && !blob_exists(&f, agz) &&
		  !blob_exists(&f, abr) && !blob_exists(&f, orphan));
	ck_assert(blob_exists(&f, shared) && blob_exists(&f, b1) && blob_exists(&f, bgz) &&
		  blob_exists(&f, young));
	/* the next sweep finds nothing more */
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	/* a dry run counts without deleting */
	struct gc_settings set;
	gc_settings_default(&set);
	set.grace_s = 0;
	set.dry_run = true;
	ck_assert_int_eq(gc_sweep(f.r, f.s, &set, &st, &err), 0);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(blob_exists(&f, young));
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_gc_deleted_project_leaves_nothing)
{
	struct fixture f;
	fixture_init(&f, "del");
	project(&f, "gone");
	project(&f, "stays");
	char g1[ID_LEN + 1], g2[ID_LEN + 1], s1[ID_LEN + 1], failed[ID_LEN + 1];
	deployment(&f, "gone", "ready", 1, g1);
	deployment(&f, "gone", "ready", 2, g2);
	deployment(&f, "gone", "error", 3, failed);
	deployment(&f, "stays", "ready", 1, s1);
	set_current(&f, "gone", g2);
	set_current(&f, "stays", s1);
	char shared[65], only1[65], only2[65], mine[65];
	blob(&f, "shared between the projects", OLD, shared);
	blob(&f, "only in gone 1", OLD, only1);
	blob(&f, "only in gone 2", OLD, only2);
	blob(&f, "only in stays", OLD, mine);
	const char *m1[] = { only1, shared }, *m2[] = { only2, shared }, *m3[] = { mine, shared };
	manifest(&f, g1, m1, 2, NULL, NULL, OLD);
	manifest(&f, g2, m2, 2, NULL, NULL, OLD);
	manifest(&f, s1, m3, 2, NULL, NULL, OLD);
	const char *logs[] = { g1, g2, failed, s1 };
	struct error err;
	for (int i = 0; i < 4; i++) {
		char key[256];
		snprintf(key, sizeof(key), "logs/%s.log", logs[i]);
		ck_assert_int_eq(store_log_put(f.s, logs[i], "log\n", 4, &err), 0);
		object_age(&f, key, OLD);
	}
	ck_assert_int_eq(model_lifecycle_delete(f.r, "gone", &err), 0);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.manifests_dropped, 2);
	ck_assert_uint_eq(st.logs_dropped, 3);
	ck_assert_uint_eq(st.blobs_deleted, 2);
	ck_assert(!blob_exists(&f, only1) && !blob_exists(&f, only2));
	ck_assert(blob_exists(&f, shared) && blob_exists(&f, mine));
	char key[256];
	snprintf(key, sizeof(key), "manifests/%s.json", g1);
	ck_assert(!object_exists(&f, key));
	snprintf(key, sizeof(key), "logs/%s.log", failed);
	ck_assert(!object_exists(&f, key));
	snprintf(key, sizeof(key), "manifests/%s.json", s1);
	ck_assert(object_exists(&f, key));
	snprintf(key, sizeof(key), "logs/%s.log", s1);
	ck_assert(object_exists(&f, key));
	fixture_dispose(&f);
}
END_TEST

/* The deployment that was current a moment ago may still be served for a second (a web
 * server's fast path, skiff-serve's memo): its blobs stay for the grace period counted from
 * its expiry, however old its manifest and blobs are, then go. */
START_TEST(test_gc_expired_blobs_outlive_the_grace)
{
	struct fixture f;
	fixture_init(&f, "expgrace");
	project(&f, "site");
	char ids[3][ID_LEN + 1], h[3][65];
	const char *text[] = { "only in the oldest", "only in the middle", "only in the newest" };
	for (int i = 0; i < 3; i++) {
		deployment(&f, "site", "ready", i + 1, ids[i]);
		blob(&f, text[i], OLD, h[i]);
		const char *hs[] = { h[i] };
		manifest(&f, ids[i], hs, 1, NULL, NULL, OLD);
	}
	set_current(&f, "site", ids[0]);       /* rolled back to the oldest, then ... */
	set_current(&f, "site", ids[2]);       /* ... the newest went live: the oldest expires */
	struct retention_stats rs;
	struct error err;
	memset(&rs, 0, sizeof(rs));
	ck_assert_int_eq(retention_run(f.r, f.s, 2, 2, &rs, &err), 0);
	ck_assert_uint_eq(rs.expired, 1);
	ck_assert_str_eq(state_of(&f, ids[0]), "expired");
	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	ck_assert_uint_eq(st.manifests_dropped, 0);
	ck_assert(blob_exists(&f, h[0]));
	expired_ago(&f, ids[0], OLD);          /* two hours later */
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.manifests_dropped, 1);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, h[0]));
	ck_assert(blob_exists(&f, h[1]) && blob_exists(&f, h[2]));
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_gc_young_orphans_wait)
{
	/* a deleted project's manifest written within the grace period stays for now */
	struct fixture f;
	fixture_init(&f, "young");
	char id[ID_LEN + 1], h[65];
	id_new(id);
	blob(&f, "named by a manifest without a deployment", OLD, h);
	const char *hs[] = { h };
	manifest(&f, id, hs, 1, NULL, NULL, 5);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	ck_assert_uint_eq(st.manifests_dropped, 0);
	ck_assert(blob_exists(&f, h));
	fixture_dispose(&f);
}
END_TEST

/* n hashes of the texts "{word} 0", "{word} 1", …: in h, and pointed at from hashes. */
static void hashes_of(const char *word, int n, char (*h)[65], const char **hashes)
{
	for (int i = 0; i < n; i++) {
		char text[32];
		snprintf(text, sizeof(text), "%s %d", word, i);
		hash_buffer(text, strlen(text), h[i]);
		hashes[i] = h[i];
	}
}

/* A deployment building in its upload phase (as the sweep used to look for them). */
static void uploading(struct fixture *f, char id[ID_LEN + 1])
{
	char key[256];
	deployment(f, "site", "building", 1, id);
	snprintf(key, sizeof(key), "deployment:%s", id);
	cmd_free(f, "HSET %s phase %s", key, "upload", NULL, NULL, NULL);
	cmd_free(f, "LPUSH %s %s", "queue:active", id, NULL, NULL, NULL);
}

/* (a) A build in its upload phase no longer makes the sweep defer: the old blob it found stored
 * and pinned stays, the old blob nothing names or pins goes. Unpinned, it goes too. */
START_TEST(test_gc_keeps_what_an_uploading_build_pinned)
{
	struct fixture f;
	fixture_init(&f, "pinned");
	project(&f, "site");
	char id[ID_LEN + 1], found[65], orphan[65];
	uploading(&f, id);
	blob(&f, "a blob the uploading build found stored", OLD, found);
	blob(&f, "an old blob nothing names", OLD, orphan);
	struct error err;
	const char *hashes[] = { found };
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 1, 1000, &err), 0);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert_msg(!st.deferred, "the sweep deferred for a build uploading");
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert_uint_eq(st.blobs_pinned, 1);
	ck_assert(!blob_exists(&f, orphan));
	ck_assert_msg(blob_exists(&f, found), "the sweep deleted a blob a build pinned");
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_pinned, 0);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, found));
	/* another sweep holding the fence: this one defers, and no build can pin meanwhile */
	cmd_free(&f, "SET %s %s PX 5000", "gc:sweep", "other-sweep", NULL, NULL, NULL);
	sweep(&f, 0, &st);
	ck_assert(st.deferred);
	ck_assert_int_eq(model_gc_pin(f.r, id, hashes, 1, GC_PIN_TTL_MS, &err), 0);
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 1, 200, &err), SKIFF_ETIMEOUT);
	ck_assert_str_eq(err.name, "gc_running");
	ck_assert_int_eq(exists(&f, "gc:pins"), 0);
	cmd_free(&f, "DEL %s", "gc:sweep", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 1, 200, &err), 0);
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	fixture_dispose(&f);
}
END_TEST

/* (b) A pin whose deadline passed (a build that died without unpinning) keeps nothing: the
 * sweep deletes the blob and forgets the pin; renewing it then says it is gone. */
START_TEST(test_gc_expired_pin_keeps_nothing)
{
	struct fixture f;
	fixture_init(&f, "pinexpired");
	project(&f, "site");
	char id[ID_LEN + 1], found[65];
	uploading(&f, id);
	blob(&f, "a blob a dead build pinned", OLD, found);
	struct error err;
	const char *hashes[] = { found };
	ck_assert_int_eq(model_gc_pin(f.r, id, hashes, 1, 1, &err), 1);
	testenv_sleep_ms(20);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.blobs_pinned, 0);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, found));
	ck_assert_int_eq(exists(&f, "gc:pins"), 0);
	char key[64];
	snprintf(key, sizeof(key), "gc:pin:%s", id);
	ck_assert_int_eq(exists(&f, key), 0);
	ck_assert_int_eq(model_gc_pin_renew(f.r, id, GC_PIN_TTL_MS, &err), 0);
	/* a live pin renewed keeps its blobs past its first deadline */
	blob(&f, "a blob a live build pinned", OLD, found);
	ck_assert_int_eq(model_gc_pin(f.r, id, hashes, 1, 300, &err), 1);
	ck_assert_int_eq(model_gc_pin_renew(f.r, id, GC_PIN_TTL_MS, &err), 1);
	testenv_sleep_ms(400);
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_pinned, 1);
	ck_assert(blob_exists(&f, found));
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	fixture_dispose(&f);
}
END_TEST

/* A build's next batch adds to its pin only while that is live: a pin that lapsed (a sweep
 * may have deleted what it kept) is not made again by gc_pin_more. */
START_TEST(test_gc_lapsed_pin_is_not_made_again)
{
	struct fixture f;
	fixture_init(&f, "pinmore");
	char id[ID_LEN + 1], h[2][65];
	const char *hashes[2];
	id_new(id);
	hashes_of("batch", 2, h, hashes);
	struct error err;
	ck_assert_int_eq(gc_pin_more(f.r, id, hashes, 1, 1000, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "pin_lost");
	ck_assert_int_eq(exists(&f, "gc:pins"), 0);
	ck_assert_int_eq(model_gc_pin(f.r, id, hashes, 1, 1, &err), 1);
	testenv_sleep_ms(20);                   /* its deadline passed */
	ck_assert_int_eq(gc_pin_more(f.r, id, hashes + 1, 1, 1000, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "pin_lost");
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	/* a live one is added to and its deadline moved */
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 1, 1000, &err), 0);
	ck_assert_int_eq(gc_pin_more(f.r, id, hashes + 1, 1, 1000, &err), 0);
	char key[64];
	snprintf(key, sizeof(key), "gc:pin:%s", id);
	redisReply *rep = cmd(&f, "SCARD %s", key, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(rep->integer, 2);
	freeReplyObject(rep);
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	fixture_dispose(&f);
}
END_TEST

/* A deployment pins at most 3 blobs for each of max_files (a file and its two variants). */
START_TEST(test_gc_pin_is_bounded)
{
	struct fixture f;
	fixture_init(&f, "pinbound");
	f.cfg.max_files = 2;
	char id[ID_LEN + 1], h[7][65];
	const char *hashes[7];
	id_new(id);
	hashes_of("blob", 7, h, hashes);
	struct error err;
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 4, 1000, &err), 0);
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 6, 1000, &err), 0); /* 4 of them again */
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 7, 1000, &err), SKIFF_ELIMIT);
	ck_assert_msg(strstr(err.message, "more than 6 stored blobs"), "%s", err.message);
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	/* one hash named 7 times in one call (files of the same bytes) is one blob */
	const char *same[7];
	for (int i = 0; i < 7; i++)
		same[i] = h[0];
	ck_assert_int_eq(gc_pin(f.r, id, same, 7, 1000, &err), 0);
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 6, 1000, &err), 0);
	ck_assert_int_eq(model_gc_unpin(f.r, id, &err), 0);
	/* nothing to pin makes no pin */
	ck_assert_int_eq(gc_pin(f.r, id, hashes, 0, 1000, &err), 0);
	ck_assert_int_eq(exists(&f, "gc:pins"), 0);
	fixture_dispose(&f);
}
END_TEST

/* Returns once the redis-server of testenv has run a command naming `word` (MONITOR on c). */
static void monitor_until(redisContext *c, const char *word)
{
	for (;;) {
		redisReply *reply = NULL;
		if (redisGetReply(c, (void **)&reply) != REDIS_OK)
			_exit(5);
		bool seen = reply->type == REDIS_REPLY_STATUS && strstr(reply->str, word);
		freeReplyObject(reply);
		if (seen)
			return;
	}
}

/* A child that runs act(arg) on its own connection as soon as Redis has run a command naming
 * `word` (a step of the sweep in the parent); returns once it is watching. The child exits with
 * act's answer. */
static pid_t on_command(const char *name, const char *word,
			int (*act)(struct fixture *, const char *), const char *arg)
{
	int watching[2];
	ck_assert_int_eq(pipe(watching), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fixture b;
		fixture_init(&b, name);   /* ready before: act follows the command at once */
		redisContext *c = redisConnectUnix(testenv_sock);
		redisReply *reply = c && !c->err ? redisCommand(c, "MONITOR") : NULL;
		if (!reply || write(watching[1], "w", 1) != 1)
			_exit(4);
		freeReplyObject(reply);
		monitor_until(c, word);
		_exit(act(&b, arg));
	}
	char w;
	ck_assert_int_eq(read(watching[0], &w, 1), 1);
	close(watching[0]);
	close(watching[1]);
	return pid;
}

static void child_exits(pid_t pid, int code)
{
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), code);
}

/* A build entering its upload phase: it pins the blob it relies on, waiting for the fence. */
static int build_enters_upload(struct fixture *b, const char *id)
{
	char key[64], hash[65];
	struct error err;
	cmd_free(b, "LPUSH %s %s", "queue:active", id, NULL, NULL, NULL);
	snprintf(key, sizeof(key), "deployment:%s", id);
	cmd_free(b, "HSET %s phase %s", key, "upload", NULL, NULL, NULL);
	hash_buffer(id, strlen(id), hash);
	const char *hashes[] = { hash };
	return gc_pin(b->r, id, hashes, 1, 10000, &err) == 0 ? 0 : 3;
}

/* A build that pins an old blob (a hash in arg) while a sweep holds the fence: its first try
 * is refused, then it waits; once pinned, the blob is already gone (the sweep did not see the
 * pin), so it would upload it again. Exits 0 when all of that holds. */
static int build_pins_during_sweep(struct fixture *b, const char *hash)
{
	char id[ID_LEN + 1];
	struct error err;
	id_new(id);
	const char *hashes[] = { hash };
	if (model_gc_pin(b->r, id, hashes, 1, GC_PIN_TTL_MS, &err) != 0)
		return 6;
	if (gc_pin(b->r, id, hashes, 1, 10000, &err) < 0)
		return 3;
	if (exists(b, "gc:sweep") != 0)
		return 7;
	return blob_exists(b, hash) ? 8 : 0;
}

/* The fence gone under a sweep, as when the sweep outlives its TTL. */
static int fence_expires(struct fixture *b, const char *unused)
{
	(void)unused;
	cmd_free(b, "DEL %s", "gc:sweep", NULL, NULL, NULL, NULL);
	return 0;
}

/* A project with `n` ready deployments whose manifests all name *named (one old blob), one old
 * blob *orphan nothing names, and a build in its build phase (queue:active: *sentinel). */
static void busy_store(struct fixture *f, int n, char sentinel[ID_LEN + 1], char named[65],
		       char orphan[65])
{
	char key[64];
	project(f, "site");
	deployment(f, "site", "building", 1, sentinel);
	snprintf(key, sizeof(key), "deployment:%s", sentinel);
	cmd_free(f, "HSET %s phase %s", key, "build", NULL, NULL, NULL);
	cmd_free(f, "LPUSH %s %s", "queue:active", sentinel, NULL, NULL, NULL);
	blob(f, "an old blob nothing names", OLD, orphan);
	blob(f, "named by the ready deployments", OLD, named);
	const char *names[] = { named };
	for (int i = 0; i < n; i++) {
		char id[ID_LEN + 1];
		deployment(f, "site", "ready", 10 + i, id);
		manifest(f, id, names, 1, NULL, NULL, OLD);
	}
}

/* A build that enters its upload phase after the sweep read the pins waits for the fence, so it
 * is harmless: the sweep does not defer for it at its end. The build starts on the sweep's own
 * read of the pins, and many manifests keep the sweep busy meanwhile. */
START_TEST(test_gc_build_waiting_for_the_fence_does_not_defer_it)
{
	struct fixture f;
	fixture_init(&f, "latebuild");
	char sentinel[ID_LEN + 1], late[ID_LEN + 1], orphan[65], named[65];
	busy_store(&f, 400, sentinel, named, orphan);
	deployment(&f, "site", "building", 2, late);
	pid_t pid = on_command("latebuild", "gc:pins", build_enters_upload, late);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	child_exits(pid, 0);
	ck_assert_msg(!st.deferred, "the sweep deferred for a build waiting for it");
	ck_assert_uint_eq(st.manifests_kept, 400);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, orphan) && blob_exists(&f, named));
	fixture_dispose(&f);
}
END_TEST

/* A sweep whose fence expired before it deletes (a build or an upload may have got past it)
 * deletes nothing. */
START_TEST(test_gc_defers_when_its_fence_expired)
{
	struct fixture f;
	fixture_init(&f, "expired");
	char sentinel[ID_LEN + 1], orphan[65], named[65];
	busy_store(&f, 400, sentinel, named, orphan);
	pid_t pid = on_command("expired", "gc:pins", fence_expires, NULL);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	child_exits(pid, 0);
	ck_assert(st.deferred);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	ck_assert(blob_exists(&f, orphan));
	fixture_dispose(&f);
}
END_TEST

/* (c) A build that pins while a sweep holds the fence waits and is pinned once the sweep
 * released it; that sweep did not see the pin (Redis ordered the two): it deleted the old blob,
 * and the build, checking the store after its pin, finds it missing. The blob uploaded again
 * then stays through the next sweep. */
START_TEST(test_gc_pin_during_a_sweep_waits_for_it)
{
	struct fixture f;
	fixture_init(&f, "pinwait");
	char sentinel[ID_LEN + 1], orphan[65], named[65], relied[65];
	busy_store(&f, 400, sentinel, named, orphan);
	blob(&f, "an old blob a build is about to rely on", OLD, relied);
	pid_t pid = on_command("pinwait", "gc:pins", build_pins_during_sweep, relied);
	struct gc_stats st;
	sweep(&f, 3600, &st);
	child_exits(pid, 0);
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.blobs_pinned, 0);
	ck_assert_uint_eq(st.blobs_deleted, 2);
	ck_assert(!blob_exists(&f, relied) && blob_exists(&f, named));
	blob(&f, "an old blob a build is about to rely on", OLD, relied); /* uploaded again */
	sweep(&f, 3600, &st);
	ck_assert_uint_eq(st.blobs_pinned, 1);
	ck_assert(blob_exists(&f, relied));
	fixture_dispose(&f);
}
END_TEST

/* An upload of the deploy protocol is never queued: one that began finishing before the sweep
 * and is still finishing after finish_wait_ms makes it defer; one left by a program that died
 * is forgotten after GC_FENCE_TTL_MS; none begins while a sweep holds the fence. */
START_TEST(test_gc_defers_for_a_long_finish)
{
	struct fixture f;
	fixture_init(&f, "finish");
	char id[ID_LEN + 1], orphan[65], ticket[GC_TICKET_MAX];
	id_new(id);
	blob(&f, "a blob the finishing upload found stored", OLD, orphan);
	struct error err;
	ck_assert_int_eq(gc_finish_begin(f.r, id, ticket, 1000, &err), 0);
	struct gc_stats st;
	long long t0 = clock_mono_ms();
	sweep_waiting(&f, 0, 300, &st);
	ck_assert(st.deferred);
	ck_assert_int_ge(clock_mono_ms() - t0, 300);
	ck_assert(blob_exists(&f, orphan));
	gc_finish_end(f.r, ticket);
	/* a record as old as the fence's TTL, by Redis's clock */
	cmd_free(&f, "ZADD %s %s %s", "gc:finishing", "1", "died.0", NULL, NULL);
	sweep(&f, 0, &st);
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, orphan));
	ck_assert_int_eq(model_gc_finishing(f.r, GC_FENCE_TTL_MS, &err), 0);
	/* while a sweep holds the fence an upload cannot begin finishing: it waits */
	cmd_free(&f, "SET %s %s PX 5000", "gc:sweep", "other-sweep", NULL, NULL, NULL);
	ck_assert_int_eq(gc_finish_begin(f.r, id, ticket, 200, &err), SKIFF_ETIMEOUT);
	ck_assert_int_eq(model_gc_finishing(f.r, GC_FENCE_TTL_MS, &err), 0);
	gc_finish_end(f.r, ticket);
	cmd_free(&f, "DEL %s", "gc:sweep", NULL, NULL, NULL, NULL);
	fixture_dispose(&f);
}
END_TEST

/* An upload that began finishing just before the sweep took its fence: the sweep waits for it,
 * then sees its manifest and keeps the old blob it found stored, and reclaims the rest. */
START_TEST(test_gc_waits_for_a_finish_that_began_before_it)
{
	struct fixture f;
	fixture_init(&f, "before");
	project(&f, "site");
	char id[ID_LEN + 1], found[65], orphan[65];
	deployment(&f, "site", "building", 1, id);
	blob(&f, "an old blob the upload did not send again", OLD, found);
	blob(&f, "an old blob nothing names", OLD, orphan);
	int began[2];
	ck_assert_int_eq(pipe(began), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fixture c;
		char ticket[GC_TICKET_MAX], key[64];
		struct error err;
		fixture_init(&c, "before");
		if (gc_finish_begin(c.r, id, ticket, 5000, &err) < 0 || write(began[1], "b", 1) != 1)
			_exit(3);
		if (!blob_exists(&c, found))
			_exit(4);
		testenv_sleep_ms(300); /* the variants, the site's config */
		const char *names[] = { found };
		manifest(&c, id, names, 1, NULL, NULL, 0);
		snprintf(key, sizeof(key), "deployment:%s", id);
		cmd_free(&c, "HSET %s state %s", key, "ready", NULL, NULL, NULL);
		gc_finish_end(c.r, ticket);
		fixture_dispose(&c);
		_exit(0);
	}
	char b;
	ck_assert_int_eq(read(began[0], &b, 1), 1);
	struct gc_stats st;
	sweep(&f, 0, &st);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.manifests_kept, 1);
	ck_assert(blob_exists(&f, found));
	ck_assert_uint_eq(st.blobs_deleted, 1);
	ck_assert(!blob_exists(&f, orphan));
	close(began[0]);
	close(began[1]);
	fixture_dispose(&f);
}
END_TEST

/* One of two deploy-token holders finishing uploads back to back, each finish overlapping the
 * other's, for `ms` milliseconds: exits 0 when none of them timed out. */
static void finisher_child(const char *name, int offset_ms, long ms)
{
	struct fixture f;
	fixture_init(&f, name);
	testenv_sleep_ms(offset_ms);
	long long end = clock_mono_ms() + ms;
	while (clock_mono_ms() < end) {
		char id[ID_LEN + 1], ticket[GC_TICKET_MAX];
		struct error err;
		id_new(id);
		int rc = gc_finish_begin(f.r, id, ticket, 10000, &err);
		testenv_sleep_ms(30); /* checking the blobs, writing the manifest */
		gc_finish_end(f.r, ticket);
		if (rc < 0)
			_exit(3);
	}
	fixture_dispose(&f);
	_exit(0);
}

START_TEST(test_gc_back_to_back_finishes_do_not_starve_the_sweep)
{
	struct fixture f;
	fixture_init(&f, "stream");
	char orphan[65];
	blob(&f, "an old blob nothing names", OLD, orphan);
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			finisher_child("stream", i * 15, 4000);
	}
	testenv_sleep_ms(200);  /* both are finishing, one after the other */
	struct error err;
	ck_assert_int_eq(model_gc_finishing(f.r, GC_FENCE_TTL_MS, &err), 1);
	struct gc_stats st;
	int sweeps = 0;
	long long t0 = clock_mono_ms();
	do {
		sweep(&f, 0, &st);
		sweeps++;
	} while (st.blobs_deleted == 0 && sweeps < 10);
	long long took = clock_mono_ms() - t0;
	int status, running = 0;
	for (int i = 0; i < 2; i++)
		running += waitpid(pids[i], &status, WNOHANG) == 0;
	ck_assert_msg(st.blobs_deleted == 1 && !blob_exists(&f, orphan),
		      "%d sweeps during the finishes deleted nothing", sweeps);
	ck_assert_int_eq(sweeps, 1);
	ck_assert_msg(running == 2, "the finishes were over before the sweep (%lld ms)", took);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WEXITSTATUS(status) == 0, "a finish waited for the sweep too long");
	}
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_gc_unreadable_kept_manifest_stops_the_sweep)
{
	struct fixture f;
	fixture_init(&f, "corrupt");
	project(&f, "site");
	char id[ID_LEN + 1], orphan[65];
	deployment(&f, "site", "ready", 1, id);
	blob(&f, "maybe named by the unreadable manifest", OLD, orphan);
	struct error err;
	ck_assert_int_eq(store_manifest_put(f.s, id, "{\"version\":1,", 13, &err), 0);
	struct gc_settings set;
	gc_settings_default(&set);
	struct gc_stats st;
	ck_assert_int_lt(gc_sweep(f.r, f.s, &set, &st, &err), 0);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	ck_assert(blob_exists(&f, orphan));
	/* and the fence was released */
	ck_assert_int_eq(exists(&f, "gc:sweep"), 0);
	fixture_dispose(&f);
}
END_TEST

/* Pins that cannot be read (here gc:pins is not a sorted set) end the sweep before it deletes
 * anything, as an unreadable kept manifest does. */
START_TEST(test_gc_unreadable_pins_stop_the_sweep)
{
	struct fixture f;
	fixture_init(&f, "badpins");
	char orphan[65];
	blob(&f, "maybe pinned by a build", OLD, orphan);
	cmd_free(&f, "SET %s %s", "gc:pins", "not-a-sorted-set", NULL, NULL, NULL);
	struct gc_settings set;
	gc_settings_default(&set);
	struct gc_stats st;
	struct error err;
	ck_assert_int_lt(gc_sweep(f.r, f.s, &set, &st, &err), 0);
	ck_assert_msg(strstr(err.message, "cannot read the blobs builds pinned"), "%s", err.message);
	ck_assert_uint_eq(st.blobs_deleted, 0);
	ck_assert(blob_exists(&f, orphan));
	ck_assert_int_eq(exists(&f, "gc:sweep"), 0);
	cmd_free(&f, "DEL %s", "gc:pins", NULL, NULL, NULL, NULL);
	fixture_dispose(&f);
}
END_TEST

/* A build as skiff-build runs it, following the sweep protocol (lib/gc.h): record the upload
 * phase, pin the blobs it relies on (waiting for the fence), then store what is missing, write
 * the manifest, become ready, unpin.
 * Each build reuses the previous build's garbage blob (old, named by nothing when the build
 * starts) and leaves a new one behind. With `finish`, an upload of the deploy protocol
 * instead: recorded as finishing, then the same from the check of the blobs on. */
static void builder_child(const char *name, int builds, bool finish)
{
	struct fixture f;
	fixture_init(&f, name);
	char prev_garbage[65] = "";
	for (int b = 0; b < builds; b++) {
		char id[ID_LEN + 1], fresh[65], garbage[65], text[64], key[64];
		struct error err;
		char ticket[GC_TICKET_MAX] = "";
		deployment(&f, "site", "building", 100 + b, id);
		snprintf(key, sizeof(key), "deployment:%s", id);
		if (finish) {
			if (gc_finish_begin(f.r, id, ticket, 10000, &err) < 0)
				_exit(3);
		}
		snprintf(text, sizeof(text), "fresh %d of %d", b, getpid());
		if (!finish) {
			const char *pins[2] = { fresh, prev_garbage };
			hash_buffer(text, strlen(text), fresh);
			cmd_free(&f, "LPUSH %s %s", "queue:active", id, NULL, NULL, NULL);
			cmd_free(&f, "HSET %s phase %s", key, "upload", NULL, NULL, NULL);
			if (gc_pin(f.r, id, pins, prev_garbage[0] ? 2 : 1, 10000, &err) < 0)
				_exit(3);
		}
		blob(&f, text, 0, fresh);
		const char *names[2] = { fresh, prev_garbage };
		size_t n = 1;
		if (prev_garbage[0] && blob_exists(&f, prev_garbage)) /* found stored: not uploaded */
			n = 2;
		testenv_sleep_ms(3); /* the time between the check and the manifest */
		manifest(&f, id, names, n, NULL, NULL, 0);
		cmd_free(&f, "HSET %s state %s", key, "ready", NULL, NULL, NULL);
		if (finish) {
			gc_finish_end(f.r, ticket);
		} else {
			cmd_free(&f, "HSET %s phase %s", key, "", NULL, NULL, NULL);
			cmd_free(&f, "LREM %s 0 %s", "queue:active", id, NULL, NULL, NULL);
			if (model_gc_unpin(f.r, id, &err) < 0)
				_exit(3);
		}
		snprintf(text, sizeof(text), "garbage %d of %d", b, getpid());
		blob(&f, text, OLD, garbage);
		memcpy(prev_garbage, garbage, sizeof(garbage));
		testenv_sleep_ms(10); /* between builds: a window for sweeps that do delete */
	}
	fixture_dispose(&f);
	_exit(0);
}

/* Every blob a ready deployment's manifest names is in the store. */
static int missing_named_blobs(struct fixture *f)
{
	redisReply *ids = cmd(f, "ZRANGE %s 0 -1", "project:site:deployments", NULL, NULL, NULL, NULL);
	int missing = 0;
	for (size_t i = 0; i < ids->elements; i++) {
		const char *id = ids->element[i]->str;
		if (strcmp(state_of(f, id), "ready"))
			continue;
		struct buf text = BUF_INIT(1 << 20);
		struct manifest *m = NULL;
		struct error err;
		ck_assert_int_eq(store_manifest_get(f->s, id, &text, &err), 0);
		ck_assert_int_eq(manifest_parse(buf_cstr(&text), text.len, &m, &err), 0);
		for (size_t j = 0; j < m->nfiles; j++)
			missing += !blob_exists(f, m->files[j].hash);
		manifest_free(m);
		buf_dispose(&text);
	}
	freeReplyObject(ids);
	return missing;
}

static void race(const char *name, bool finish, int *missing, size_t *deleted)
{
	struct fixture f;
	fixture_init(&f, name);
	project(&f, "site");
	enum { BUILDS = 20 };
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		builder_child(name, BUILDS, finish);
	*deleted = 0;
	int status = 0;
	/* sweep with no grace period at all, as often as possible, while the builds run */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct gc_stats st;
		sweep(&f, 0, &st);
		*deleted += st.blobs_deleted;
		testenv_sleep_ms(1);
	}
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* with the builds done, one more sweep leaves only what a ready manifest names */
	struct gc_stats st;
	sweep(&f, 0, &st);
	*deleted += st.blobs_deleted;
	ck_assert(!st.deferred);
	ck_assert_uint_eq(st.blobs, st.blobs_named + st.blobs_deleted);
	*missing = missing_named_blobs(&f);
	fixture_dispose(&f);
}

START_TEST(test_gc_sweeps_during_builds_never_delete_a_named_blob)
{
	int missing;
	size_t deleted;
	race("race", false, &missing, &deleted);
	ck_assert_msg(missing == 0, "%d blobs named by ready manifests were deleted", missing);
	ck_assert_msg(deleted > 0, "the sweeps reclaimed nothing");
}
END_TEST

START_TEST(test_gc_sweeps_during_finishes_never_delete_a_named_blob)
{
	int missing;
	size_t deleted;
	race("finrace", true, &missing, &deleted);
	ck_assert_msg(missing == 0, "%d blobs named by ready manifests were deleted", missing);
	ck_assert_msg(deleted > 0, "the sweeps reclaimed nothing");
}
END_TEST

/* ---- the lifecycle around deletion, rollback and history pages ---------------------------- */

/* A deleted deployment is never written back: not its log stream, not its record; the ECS task
 * of one that was building is left for skiff-dispatch to stop. */
START_TEST(test_lifecycle_delete_writes_nothing_back)
{
	struct fixture f;
	fixture_init(&f, "delrun");
	project(&f, "site");
	char run[ID_LEN + 1], done[ID_LEN + 1], key[256];
	deployment(&f, "site", "ready", 1, done);
	deployment(&f, "site", "building", 2, run);
	snprintf(key, sizeof(key), "deployment:%s", run);
	cmd_free(&f, "HSET %s task_arn %s", key, "arn:aws:ecs:eu-west-1:1:task/c/abc", NULL, NULL, NULL);
	snprintf(key, sizeof(key), "deployment:%s", done);
	cmd_free(&f, "HSET %s task_arn %s", key, "arn:aws:ecs:eu-west-1:1:task/c/old", NULL, NULL, NULL);
	struct error err;
	ck_assert_int_eq(model_lifecycle_delete(f.r, "site", &err), 0);
	/* the build goes on for a moment: what it writes must not bring anything back */
	ck_assert_int_eq(model_log_append(f.r, run, LOG_SRC_STDOUT, "still here", 10, &err),
			 SKIFF_ENOTFOUND);
	struct deployment change;
	model_deployment_init(&change);
	snprintf(change.commit, sizeof(change.commit), "0123abcd");
	ck_assert_int_eq(model_deployment_update(f.r, run, &change, MODEL_SET(COMMIT), &err),
			 SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_deployment_state(f.r, run, DEPLOYMENT_ERROR, "", NULL, 0, &err),
			 SKIFF_ENOTFOUND);
	snprintf(key, sizeof(key), "log:%s", run);
	ck_assert_int_eq(exists(&f, key), 0);
	snprintf(key, sizeof(key), "deployment:%s", run);
	ck_assert_int_eq(exists(&f, key), 0);
	/* the running build's task waits to be stopped; the finished one's does not */
	snprintf(key, sizeof(key), "orphan_task:%s", run);
	redisReply *reply = cmd(&f, "GET %s", key, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(reply->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(reply->str, "arn:aws:ecs:eu-west-1:1:task/c/abc");
	freeReplyObject(reply);
	reply = cmd(&f, "TTL %s", key, NULL, NULL, NULL, NULL);
	ck_assert(reply->integer > 0 && reply->integer <= MODEL_ORPHAN_TASK_TTL_S);
	freeReplyObject(reply);
	snprintf(key, sizeof(key), "orphan_task:%s", done);
	ck_assert_int_eq(exists(&f, key), 0);
	fixture_dispose(&f);
}
END_TEST

/* The rollback record lasts until a build goes live; a rollback to the current deployment
 * records nothing. */
START_TEST(test_lifecycle_rollback_record)
{
	struct fixture f;
	fixture_init(&f, "rbrec");
	project(&f, "site");
	char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1], v[64], at[32];
	deployment(&f, "site", "ready", 1, a);
	deployment(&f, "site", "ready", 2, b);
	set_current(&f, "site", b);
	struct error err;
	ck_assert_int_eq(model_lifecycle_rollback(f.r, "site", a, false, "alice", &err), 0);
	hget(&f, "project:site", "rolled_back_from", v, sizeof(v));
	ck_assert_str_eq(v, b);
	hget(&f, "project:site", "rolled_back_by", v, sizeof(v));
	ck_assert_str_eq(v, "alice");
	hget(&f, "project:site", "rolled_back_at", at, sizeof(at));
	ck_assert(at[0] != '\0');
	/* again, to what is current now: 200, nothing recorded, only the pin applies */
	ck_assert_int_eq(model_lifecycle_rollback(f.r, "site", a, true, "bob", &err), 0);
	hget(&f, "project:site", "current", v, sizeof(v));
	ck_assert_str_eq(v, a);
	hget(&f, "project:site", "rolled_back_from", v, sizeof(v));
	ck_assert_str_eq(v, b);
	hget(&f, "project:site", "rolled_back_by", v, sizeof(v));
	ck_assert_str_eq(v, "alice");
	hget(&f, "project:site", "pinned", v, sizeof(v));
	ck_assert_str_eq(v, "1");
	/* a build while pinned does not go live and keeps the record */
	deployment(&f, "site", "building", 3, c);
	ck_assert_int_eq(model_deployment_promote(f.r, c, NULL, 0, &err), 0);
	hget(&f, "project:site", "rolled_back_from", v, sizeof(v));
	ck_assert_str_eq(v, b);
	/* unpinned, the next build goes live and the record goes */
	ck_assert_int_eq(model_lifecycle_unpin(f.r, "site", &err), 0);
	deployment(&f, "site", "building", 4, c);
	ck_assert_int_eq(model_deployment_promote(f.r, c, NULL, 0, &err), 0);
	hget(&f, "project:site", "current", v, sizeof(v));
	ck_assert_str_eq(v, c);
	hget(&f, "project:site", "rolled_back_from", v, sizeof(v));
	ck_assert_str_eq(v, "");
	hget(&f, "project:site", "rolled_back_by", v, sizeof(v));
	ck_assert_str_eq(v, "");
	hget(&f, "project:site", "rolled_back_at", v, sizeof(v));
	ck_assert_str_eq(v, "");
	fixture_dispose(&f);
}
END_TEST

/* History pages by cursor: deployments created between two pages neither repeat nor skip one,
 * and ties (one millisecond) split across pages stay in order. */
START_TEST(test_lifecycle_history_pages_are_stable)
{
	struct fixture f;
	fixture_init(&f, "pages");
	project(&f, "site");
	char id[ID_LEN + 1];
	const int scores[] = { 1, 2, 3, 3, 3, 4 };
	for (int i = 0; i < 6; i++)
		deployment(&f, "site", "ready", scores[i], id);
	redisReply *all = cmd(&f, "ZREVRANGE %s 0 -1", "project:site:deployments", NULL, NULL, NULL, NULL);
	ck_assert_uint_eq(all->elements, 6);
	struct error err;
	struct model_cursor pos[2], after;
	json_t *ids = NULL;
	size_t seen = 0;
	ck_assert_int_eq(model_deployment_page(f.r, "site", NULL, 2, &ids, pos, &err), 0);
	for (int round = 0; json_array_size(ids) > 0 && round < 10; round++) {
		for (size_t i = 0; i < json_array_size(ids); i++, seen++) {
			ck_assert_uint_lt(seen, all->elements);
			ck_assert_str_eq(json_string_value(json_array_get(ids, i)), all->element[seen]->str);
		}
		after = pos[json_array_size(ids) - 1];
		json_decref(ids);
		ids = NULL;
		deployment(&f, "site", "queued", 100 + round, id); /* newer than everything */
		ck_assert_int_eq(model_deployment_page(f.r, "site", &after, 2, &ids, pos, &err), 0);
	}
	json_decref(ids);
	ck_assert_uint_eq(seen, 6);
	freeReplyObject(all);
	fixture_dispose(&f);
}
END_TEST

static Suite *gc_suite(void)
{
	Suite *s = suite_create("gc");
	TCase *tc = tcase_create("redis");
	tcase_add_unchecked_fixture(tc, testenv_setup, testenv_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_retention_keeps_newest_ready_and_current);
	tcase_add_test(tc, test_retention_keeps_rolled_back_current);
	tcase_add_test(tc, test_retention_keeps_previews_apart);
	tcase_add_test(tc, test_retention_trims_old_failed_logs);
	tcase_add_test(tc, test_gc_reclaims_exactly_unique_blobs);
	tcase_add_test(tc, test_gc_deleted_project_leaves_nothing);
	tcase_add_test(tc, test_gc_young_orphans_wait);
	tcase_add_test(tc, test_gc_keeps_what_an_uploading_build_pinned);
	tcase_add_test(tc, test_gc_expired_pin_keeps_nothing);
	tcase_add_test(tc, test_gc_lapsed_pin_is_not_made_again);
	tcase_add_test(tc, test_gc_pin_is_bounded);
	tcase_add_test(tc, test_gc_pin_during_a_sweep_waits_for_it);
	tcase_add_test(tc, test_gc_unreadable_kept_manifest_stops_the_sweep);
	tcase_add_test(tc, test_gc_unreadable_pins_stop_the_sweep);
	tcase_add_test(tc, test_gc_expired_blobs_outlive_the_grace);
	tcase_add_test(tc, test_gc_build_waiting_for_the_fence_does_not_defer_it);
	tcase_add_test(tc, test_gc_defers_when_its_fence_expired);
	tcase_add_test(tc, test_gc_defers_for_a_long_finish);
	tcase_add_test(tc, test_gc_waits_for_a_finish_that_began_before_it);
	tcase_add_test(tc, test_gc_back_to_back_finishes_do_not_starve_the_sweep);
	tcase_add_test(tc, test_gc_sweeps_during_builds_never_delete_a_named_blob);
	tcase_add_test(tc, test_gc_sweeps_during_finishes_never_delete_a_named_blob);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_add_unchecked_fixture(tc, testenv_setup, testenv_teardown);
	tcase_add_test(tc, test_lifecycle_delete_writes_nothing_back);
	tcase_add_test(tc, test_lifecycle_rollback_record);
	tcase_add_test(tc, test_lifecycle_history_pages_are_stable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("check_gc", LOG_WARN);
	SRunner *sr = srunner_create(gc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
