/* check_model_upload.c — deployments of the deploy protocol against a real redis-server: created
 * building in phase upload with their file list in one step and never queued; log lines
 * appended once per sequence number however often a batch is retried, and not after the end. */
#include "modelenv.h"
#include "clock.h"
#include "model_log.h"
#include "model_upload.h"

/* A deployment of slug created by the protocol, with a file list. */
static void upload_new(const char *slug, char id[ID_LEN + 1], bool preview)
{
	struct deployment d;
	id_new(id);
	model_deployment_init(&d);
	memcpy(d.id, id, sizeof(d.id));
	snprintf(d.project, sizeof(d.project), "%s", slug);
	snprintf(d.trigger, sizeof(d.trigger), "upload");
	d.created = clock_wall_ms();
	struct error err;
	int rc = model_upload_create(r, &d, "{\"/index.html\":\"ab\"}", "", preview, &err);
	ck_assert_msg(rc == 0, "upload create: %s", err.message);
}

START_TEST(test_model_upload_create)
{
	char first[ID_LEN + 1], id[ID_LEN + 1];
	create("site", first);
	long long queued = rc_int("LLEN %s%s", key("queue"), "");
	upload_new("site", id, true);
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "state"), "building");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "phase"), "upload");
	ck_assert_str_eq(rc_hget(key("deployment:%s", id), "trigger"), "upload");
	ck_assert_str_eq(rc_hget(key("project:site"), "latest"), id);
	ck_assert_int_eq(rc_zhas(key("project:site:deployments"), id), 1);
	ck_assert_int_eq(rc_int("LLEN %s%s", key("queue"), ""), queued); /* not queued */
	ck_assert_str_eq(rc_stream(key("log:%s", id)), "state/system/building upload");
	struct buf files = BUF_INIT(1 << 20), config = BUF_INIT(1 << 20);
	bool preview = false;
	struct error err;
	ck_assert_int_eq(model_upload_get(r, id, &files, &config, &preview, &err), 0);
	ck_assert_str_eq(buf_cstr(&files), "{\"/index.html\":\"ab\"}");
	ck_assert(preview);
	ck_assert_int_eq(model_upload_get(r, first, &files, &config, &preview, &err), SKIFF_ENOTFOUND);
	/* a list larger than the caller's buffer is refused, not cut */
	struct buf small = BUF_INIT(4);
	ck_assert_int_eq(model_upload_get(r, id, &small, &config, &preview, &err), SKIFF_ELIMIT);
	buf_dispose(&small);
	buf_dispose(&files);
	buf_dispose(&config);
}
END_TEST

START_TEST(test_model_upload_unknown_project)
{
	char d[64], after[64], id[ID_LEN + 1];
	rc_digest(d);
	struct deployment dep;
	model_deployment_init(&dep);
	id_new(id);
	memcpy(dep.id, id, sizeof(dep.id));
	snprintf(dep.project, sizeof(dep.project), "nope");
	struct error err;
	ck_assert_int_eq(model_upload_create(r, &dep, "{}", "", false, &err), SKIFF_ENOTFOUND);
	rc_digest(after);
	ck_assert_str_eq(d, after);
}
END_TEST

START_TEST(test_model_upload_log_once)
{
	char first[ID_LEN + 1], id[ID_LEN + 1];
	create("site", first);
	upload_new("site", id, false);
	struct model_upload_line batch[] = {
		{ 0, LOG_SRC_STDOUT, "npm run build" },
		{ 1, LOG_SRC_STDERR, "warning" },
	};
	size_t n = 9;
	struct error err;
	ck_assert_int_eq(model_upload_log(r, id, batch, 2, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(model_upload_log(r, id, batch, 2, &n, &err), 0); /* retried */
	ck_assert_uint_eq(n, 0);
	struct model_upload_line next[] = {
		{ 1, LOG_SRC_STDERR, "warning" },
		{ 5, LOG_SRC_STDOUT, "done" },
	};
	ck_assert_int_eq(model_upload_log(r, id, next, 2, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rc_stream(key("log:%s", id)),
			 "state/system/building upload|line/stdout/npm run build|line/stderr/warning|"
			 "line/stdout/done");
	ck_assert_int_eq(model_deployment_state(r, id, DEPLOYMENT_ERROR, NULL, NULL, 0, &err), 0);
	struct model_upload_line late[] = { { 6, LOG_SRC_STDOUT, "late" } };
	ck_assert_int_eq(model_upload_log(r, id, late, 1, &n, &err), SKIFF_ECONFLICT);
	ck_assert_str_eq(err.name, "not_building");
	ck_assert_int_eq(model_upload_log(r, first, late, 1, &n, &err), SKIFF_ENOTFOUND);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_upload_create);
	tcase_add_test(tc, test_model_upload_unknown_project);
	tcase_add_test(tc, test_model_upload_log_once);
}

int main(void)
{
	return modelenv_run("model_upload", add_tests);
}
