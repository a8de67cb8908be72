/* check_model_env.c — a project's variables and settings changes against a real redis-server:
 * created with the project in one step, replaced whole or one at a time, limited in number,
 * settings written with updated and a bounded history, everything gone with the project. */
#include "modelenv.h"
#include "env.h"
#include "model_env.h"
#include "model_lifecycle.h"

static struct env_list *env_of(const char *json)
{
	struct env_list *l = NULL;
	struct error err;
	json_t *j = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(env_list_from_json(j, &l, &err), 0);
	json_decref(j);
	return l;
}

START_TEST(test_model_env_create_and_get)
{
	char id[ID_LEN + 1];
	id_new(id);
	struct project p;
	struct deployment d;
	project_rec(&p, "site", "https://github.com/o/r.git", id);
	deployment_rec(&d, id, "site");
	struct env_list *l = env_of("[{\"name\":\"A\",\"value\":\"1\"},"
				    "{\"name\":\"B\",\"value\":\"v1:sealed\",\"secret\":true,"
				    "\"contexts\":[\"preview\"]}]");
	l->vars[1].sealed = true;
	struct error err;
	ck_assert_int_eq(model_project_create_env(r, &p, &d, l, &err), 0);
	env_list_free(l);
	l = NULL;
	ck_assert_int_eq(model_env_get(r, "site", &l, &err), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(env_list_find(l, "A")->value, "1");
	ck_assert(!env_list_find(l, "A")->secret);
	ck_assert(env_list_find(l, "B")->secret);
	ck_assert(env_list_find(l, "B")->sealed);
	ck_assert_uint_eq(env_list_find(l, "B")->contexts, ENV_PREVIEW);
	env_list_free(l);
	/* a slug taken: the other project's variables are untouched */
	project_rec(&p, "site", "https://github.com/o/other.git", id);
	l = env_of("[{\"name\":\"A\",\"value\":\"overwritten\"}]");
	ck_assert_int_eq(model_project_create_env(r, &p, &d, l, &err), SKIFF_ECONFLICT);
	env_list_free(l);
	ck_assert_int_eq(model_env_get(r, "site", &l, &err), 0);
	ck_assert_str_eq(env_list_find(l, "A")->value, "1");
	env_list_free(l);
	/* a project without variables has none */
	create("bare", id);
	ck_assert_int_eq(model_env_get(r, "bare", &l, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	env_list_free(l);
}
END_TEST

START_TEST(test_model_env_put_delete_limit)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct env_list *l = env_of("[{\"name\":\"X\",\"value\":\"1\"}]");
	struct error err;
	ck_assert_int_eq(model_env_put(r, "nope", &l->vars[0], "alice", &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(model_env_put(r, "site", &l->vars[0], "alice", &err), 0);
	for (int i = 1; i < ENV_COUNT_MAX; i++) {
		snprintf(l->vars[0].name, sizeof(l->vars[0].name), "V%d", i);
		ck_assert_int_eq(model_env_put(r, "site", &l->vars[0], "alice", &err), 0);
	}
	snprintf(l->vars[0].name, sizeof(l->vars[0].name), "ONE_MORE");
	ck_assert_int_eq(model_env_put(r, "site", &l->vars[0], "alice", &err), SKIFF_ELIMIT);
	ck_assert_str_eq(err.name, "env_too_large");
	snprintf(l->vars[0].name, sizeof(l->vars[0].name), "X"); /* replacing one still works */
	ck_assert_int_eq(model_env_put(r, "site", &l->vars[0], "alice", &err), 0);
	ck_assert_int_eq(model_env_delete(r, "site", "X", "bob", &err), 0);
	ck_assert_int_eq(model_env_delete(r, "site", "X", "bob", &err), SKIFF_ENOTFOUND);
	ck_assert_str_eq(err.name, "env_not_found");
	env_list_free(l);
	json_t *changes = NULL;
	ck_assert_int_eq(model_project_changes(r, "site", &changes, &err), 0);
	ck_assert_uint_eq(json_array_size(changes), MODEL_CHANGES_MAX); /* bounded */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(changes, 0), "by")),
			 "bob");
	json_decref(changes);
}
END_TEST

START_TEST(test_model_env_settings)
{
	char id[ID_LEN + 1];
	create("site", id);
	struct project change;
	struct error err;
	ck_assert_int_eq(model_project_get(r, "site", &change, &err), 0);
	snprintf(change.build_command, sizeof(change.build_command), "make site");
	snprintf(change.branch, sizeof(change.branch), "%s", "");
	change.watch = false;
	snprintf(change.git_url, sizeof(change.git_url), "https://elsewhere/x.git"); /* not in set */
	struct env_list *l = env_of("[{\"name\":\"NEW\",\"value\":\"2\"}]");
	json_t *fields = json_pack("[s,s,s]", "buildCommand", "branch", "env");
	ck_assert_int_eq(model_project_settings(r, "site", &change,
						PROJECT_SET(BUILD_COMMAND) | PROJECT_SET(BRANCH) |
						PROJECT_SET(WATCH), l, fields, "carol", &err), 0);
	struct project p;
	ck_assert_int_eq(model_project_get(r, "site", &p, &err), 0);
	ck_assert_str_eq(p.build_command, "make site");
	ck_assert_str_eq(p.branch, "");
	ck_assert_str_eq(p.git_url, "https://github.com/o/r.git");
	ck_assert_str_eq(rc_hget(key("project:site"), "watch"), "0");
	ck_assert(p.updated != MODEL_NONE && p.updated > 1700000000000LL);
	env_list_free(l);
	ck_assert_int_eq(model_env_get(r, "site", &l, &err), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->vars[0].name, "NEW");
	env_list_free(l);
	/* without env the variables stay */
	ck_assert_int_eq(model_project_settings(r, "site", &change, PROJECT_SET(BUILD_COMMAND),
						NULL, fields, "carol", &err), 0);
	ck_assert_int_eq(model_env_get(r, "site", &l, &err), 0);
	ck_assert_uint_eq(l->n, 1);
	env_list_free(l);
	json_t *changes = NULL;
	ck_assert_int_eq(model_project_changes(r, "site", &changes, &err), 0);
	ck_assert_uint_eq(json_array_size(changes), 2);
	json_t *last = json_array_get(changes, 0);
	ck_assert_str_eq(json_string_value(json_object_get(last, "by")), "carol");
	ck_assert_uint_eq(json_array_size(json_object_get(last, "fields")), 3);
	json_decref(changes);
	ck_assert_int_eq(model_project_settings(r, "gone", &change, PROJECT_SET(BUILD_COMMAND),
						NULL, fields, "carol", &err), SKIFF_ENOTFOUND);
	ck_assert_int_eq(rc_int("EXISTS %s", key("project:gone"), NULL), 0);
	json_decref(fields);
	/* deleting the project takes its variables and history */
	ck_assert_int_eq(model_lifecycle_delete(r, "site", &err), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", key("project:site:env"), NULL), 0);
	ck_assert_int_eq(rc_int("EXISTS %s", key("project:site:changes"), NULL), 0);
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_model_env_create_and_get);
	tcase_add_test(tc, test_model_env_put_delete_limit);
	tcase_add_test(tc, test_model_env_settings);
}

int main(void)
{
	return modelenv_run("model_env", add_tests);
}
