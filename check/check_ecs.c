/* check_ecs.c — the ECS launcher's RunTask request: only the deployment id, the API's URL,
 * the build token and the build's limits reach the task, never Redis, the store or a secret
 * of the dispatcher; a cluster is required; the client token follows the
 * parameters; Fargate Spot; AWS error names and clock skew. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "aws_auth.h"
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
	snprintf(cfg.ecs_api_url, sizeof(cfg.ecs_api_url), "https://skiff.internal");
	const char *bt = "skiffbuild_abcdefghijklmnopqrstuvwxyz234567abcd";
	struct ecs *e = NULL;
	struct error err;
	ck_assert_int_eq(ecs_new(&e, &cfg, &err), 0);
	json_t *req = ecs_run_request(e, "abcdefghijkl", bt);
	char *text = json_dumps(req, JSON_SORT_KEYS);
	ck_assert_ptr_null(strstr(text, "dispatcher-secret"));
	ck_assert_ptr_null(strstr(text, "AKIADISPATCHER"));
	/* the id and a hash of the other parameters: the same request twice is one token, a
	 * changed one is a new token (ECS refuses a token reused with other parameters) */
	const char *token = json_string_value(json_object_get(req, "clientToken"));
	ck_assert_uint_eq(strlen(token), 12 + 1 + 16);
	ck_assert(!strncmp(token, "abcdefghijkl-", 13));
	json_t *again = ecs_run_request(e, "abcdefghijkl", bt);
	ck_assert_str_eq(json_string_value(json_object_get(again, "clientToken")), token);
	json_decref(again);
	struct ecs *e2 = NULL;
	struct config cfg2 = cfg;
	snprintf(cfg2.ecs_subnets, sizeof(cfg2.ecs_subnets), "subnet-3");
	ck_assert_int_eq(ecs_new(&e2, &cfg2, &err), 0);
	again = ecs_run_request(e2, "abcdefghijkl", bt);
	ck_assert_str_ne(json_string_value(json_object_get(again, "clientToken")), token);
	json_decref(again);
	ecs_free(e2);
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
	int api = 0, has_token = 0;
	json_array_foreach(env, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *value = json_string_value(json_object_get(v, "value"));
		static const char *const allowed[] = { "SKIFF_DEPLOYMENT_ID", "SKIFF_API_URL",
						       "SKIFF_BUILD_TOKEN", "SKIFF_BUILD_TIMEOUT",
						       "SKIFF_MAX_FILES", "SKIFF_MAX_FILE_MB",
						       "SKIFF_MAX_OUTPUT_MB" };
		int known = 0;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			known |= !strcmp(name, allowed[k]);
		ck_assert_msg(known, "unexpected variable %s", name);
		api |= !strcmp(name, "SKIFF_API_URL") && !strcmp(value, "https://skiff.internal");
		has_token |= !strcmp(name, "SKIFF_BUILD_TOKEN") && !strcmp(value, bt);
	}
	ck_assert_msg(api, "the task gets the API as tasks reach it");
	ck_assert_msg(has_token, "the task gets its build token");
	ck_assert_ptr_null(strstr(text, "10.0.0.5"));   /* no Redis address */
	ck_assert_ptr_null(strstr(text, "\"sites\""));  /* no bucket */
	json_t *cmd = json_object_get(c, "command");
	ck_assert_str_eq(json_string_value(json_array_get(cmd, 0)), "--remote");
	ck_assert_str_eq(json_string_value(json_array_get(cmd, 1)), "abcdefghijkl");
	free(text);
	json_decref(req);
	ecs_free(e);
	cfg.ecs_cluster[0] = '\0'; /* required with launcher = ecs */
	ck_assert_int_eq(ecs_new(&e, &cfg, &err), SKIFF_EINVALID);
	ck_assert_ptr_null(e);
}
END_TEST

/* Fargate Spot: ecs_capacity_providers becomes capacityProviderStrategy, without a launch
 * type (ECS refuses both); a malformed setting is refused when the launcher starts. */
START_TEST(test_ecs_capacity_providers)
{
	struct config cfg;
	config_defaults(&cfg);
	snprintf(cfg.ecs_cluster, sizeof(cfg.ecs_cluster), "builds");
	snprintf(cfg.ecs_subnets, sizeof(cfg.ecs_subnets), "subnet-1");
	snprintf(cfg.ecs_capacity_providers, sizeof(cfg.ecs_capacity_providers),
		 "FARGATE_SPOT:4, FARGATE:1:2");
	struct ecs *e = NULL;
	struct error err;
	ck_assert_int_eq(ecs_new(&e, &cfg, &err), 0);
	json_t *req = ecs_run_request(e, "abcdefghijkl", "skiffbuild_x");
	ck_assert_ptr_null(json_object_get(req, "launchType"));
	json_t *st = json_object_get(req, "capacityProviderStrategy");
	ck_assert_uint_eq(json_array_size(st), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(st, 0), "capacityProvider")),
			 "FARGATE_SPOT");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(st, 0), "weight")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(st, 1), "base")), 2);
	json_decref(req);
	ecs_free(e);
	const char *bad[] = { "FARGATE_SPOT:x", "FARGATE:1001", ":1", "FAR GATE", "A,B,C,D,E,F,G",
			      "FARGATE:1:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cfg.ecs_capacity_providers, sizeof(cfg.ecs_capacity_providers), "%s", bad[i]);
		e = NULL;
		ck_assert_msg(ecs_new(&e, &cfg, &err) == SKIFF_EINVALID, "accepted %s", bad[i]);
		ck_assert_ptr_null(e);
		ck_assert_ptr_nonnull(strstr(err.message, "ecs_capacity_providers"));
	}
}
END_TEST

/* X-Amzn-ErrorType and __type values come with namespaces and URLs: the bare name decides. */
START_TEST(test_ecs_error_name)
{
	char out[64];
	aws_error_name("com.amazonaws.ecs#ThrottlingException", out, sizeof(out));
	ck_assert_str_eq(out, "ThrottlingException");
	aws_error_name("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral/", out,
		       sizeof(out));
	ck_assert_str_eq(out, "ThrottlingException");
	aws_error_name("aws.protocoltests.restjson#FooError:http://x/", out, sizeof(out));
	ck_assert_str_eq(out, "FooError");
	aws_error_name("ServerException", out, sizeof(out));
	ck_assert_str_eq(out, "ServerException");
	ck_assert(aws_clock_skewed("InvalidSignatureException",
				   "Signature expired: 20240501T120000Z is now earlier than ..."));
	ck_assert(aws_clock_skewed("RequestTimeTooSkewed", ""));
	ck_assert(!aws_clock_skewed("InvalidSignatureException", "The request signature we calculated"));
	struct aws_auth *a = aws_auth_new("AKID", "secret");
	struct aws_creds c;
	ck_assert_int_eq(aws_auth_skew(a, "Tue, 01 Jan 2036 00:00:00 GMT"), 1);
	ck_assert_int_eq(aws_auth_get(a, &c, NULL), 0);
	ck_assert(c.skew_ms > 300LL * 24 * 3600 * 1000);   /* the service's clock is years ahead */
	ck_assert_int_eq(aws_auth_skew(a, "yesterday"), 0);
	aws_auth_free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ecs");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, test_ecs_run_request);
	tcase_add_test(tc, test_ecs_capacity_providers);
	tcase_add_test(tc, test_ecs_error_name);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
