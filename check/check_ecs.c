/* check_ecs.c — the ECS launcher's RunTask request: only the deployment id, Redis and the
 * store reach the task, never a secret; a cluster is required. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ecs.h"

START_TEST(test_ecs_run_request)
{
	struct config cfg;
	config_defaults(&cfg);
	snprintf(cfg.store, sizeof(cfg.store), "s3");
	snprintf(cfg.s3_bucket, sizeof(cfg.s3_bucket), "sites");
	snprintf(cfg.s3_access_key, sizeof(cfg.s3_access_key), "AKIADISPATCHER");
	snprintf(cfg.s3_secret_key, sizeof(cfg.s3_secret_key), "dispatcher-secret");
	snprintf(cfg.redis_host, sizeof(cfg.redis_host), "10.0.0.5");
	snprintf(cfg.ecs_cluster, sizeof(cfg.ecs_cluster), "builds");
	snprintf(cfg.ecs_subnets, sizeof(cfg.ecs_subnets), " subnet-1 ,subnet-2,");
	snprintf(cfg.ecs_security_groups, sizeof(cfg.ecs_security_groups), "sg-1");
	cfg.ecs_assign_public_ip = true;
	snprintf(cfg.ecs_redis_host, sizeof(cfg.ecs_redis_host), "redis.internal");
	struct ecs *e = NULL;
	struct error err;
	ck_assert_int_eq(ecs_new(&e, &cfg, &err), 0);
	json_t *req = ecs_run_request(e, "abcdefghijkl");
	char *text = json_dumps(req, JSON_SORT_KEYS);
	ck_assert_ptr_null(strstr(text, "dispatcher-secret"));
	ck_assert_ptr_null(strstr(text, "AKIADISPATCHER"));
	ck_assert_str_eq(json_string_value(json_object_get(req, "clientToken")), "abcdefghijkl");
	ck_assert_str_eq(json_string_value(json_object_get(req, "launchType")), "FARGATE");
	ck_assert_str_eq(json_string_value(json_object_get(req, "startedBy")), "skiff");
	json_t *vpc = json_object_get(json_object_get(req, "networkConfiguration"),
				      "awsvpcConfiguration");
	ck_assert_int_eq(json_array_size(json_object_get(vpc, "subnets")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vpc, "subnets"), 0)),
			 "subnet-1");
	ck_assert_str_eq(json_string_value(json_object_get(vpc, "assignPublicIp")), "ENABLED");
	json_t *c = json_array_get(json_object_get(json_object_get(req, "overrides"),
						   "containerOverrides"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "skiff-build");
	json_t *env = json_object_get(c, "environment"), *v;
	size_t i;
	int redis_host = 0;
	json_array_foreach(env, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		ck_assert_msg(!strcmp(name, "SKIFF_DEPLOYMENT_ID") || !strncmp(name, "SKIFF_REDIS_", 12) ||
				      !strncmp(name, "SKIFF_S3_", 9) || !strcmp(name, "SKIFF_STORE"),
			      "unexpected variable %s", name);
		ck_assert_msg(strcmp(name, "SKIFF_S3_ACCESS_KEY") && strcmp(name, "SKIFF_S3_SECRET_KEY"),
			      "credentials passed to the task");
		if (!strcmp(name, "SKIFF_REDIS_HOST"))
			redis_host = !strcmp(json_string_value(json_object_get(v, "value")),
					     "redis.internal");
	}
	ck_assert_msg(redis_host, "the task gets Redis as tasks reach it");
	free(text);
	json_decref(req);
	ecs_free(e);
	cfg.ecs_cluster[0] = '\0'; /* required with launcher = ecs */
	ck_assert_int_eq(ecs_new(&e, &cfg, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ecs");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, test_ecs_run_request);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
