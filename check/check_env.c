/* check_env.c — project environment variables: names (POSIX, not skiff's own, not the
 * loader's), values and limits, the "env" array of a body, kept and sealed secrets, the stored
 * form and the API shape that never shows a secret. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "testfs.h"

START_TEST(test_env_names)
{
	static const char *good[] = { "A", "_", "API_URL", "a1", "NODE_ENV", "NODE_OPTIONS",
				      "VITE_KEY", "Lower_case", "SKIFFY" };
	static const char *bad[] = { "", "1A", "A-B", "A B", "A=B", "É", "PATH", "HOME", "CI",
				     "SKIFF", "SKIFF_COMMIT", "SKIFF_ANYTHING", "LD_PRELOAD",
				     "LD_LIBRARY_PATH", "GLIBC_TUNABLES", "GCONV_PATH", "BASH_ENV",
				     "IFS", "BASH_FUNC_x%%", "npm_config_cache",
				     /* what the build cache and quiet installs set, in any case */
				     "NPM_CONFIG_CACHE", "npm_config_store_dir", "NPM_CONFIG_STORE_DIR",
				     "YARN_CACHE_FOLDER", "yarn_cache_folder",
				     "npm_config_prefer_offline", "npm_config_update_notifier",
				     "npm_config_fund", "npm_config_audit" };
	struct error err;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(env_name_check(good[i], &err) == 0, "%s: %s", good[i], err.message);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(env_name_check(bad[i], &err) == SKIFF_EINVALID, "'%s' accepted", bad[i]);
		ck_assert_str_eq(err.name, "invalid_env_name");
	}
	char longest[ENV_NAME_MAX + 2];
	memset(longest, 'A', sizeof(longest));
	longest[ENV_NAME_MAX] = '\0';
	ck_assert_int_eq(env_name_check(longest, &err), 0);
	longest[ENV_NAME_MAX] = 'A';
	longest[ENV_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(env_name_check(longest, &err), SKIFF_EINVALID);
}
END_TEST

static int from(const char *text, struct env_list **out, struct error *err)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
	ck_assert_msg(j != NULL, "bad test JSON: %s", je.text);
	int rc = env_list_from_json(j, out, err);
	json_decref(j);
	return rc;
}

static void refused(const char *text, int code, const char *name)
{
	struct env_list *l = (struct env_list *)1;
	struct error err;
	ck_assert_msg(from(text, &l, &err) == code, "%s accepted", text);
	ck_assert_str_eq(err.name, name);
	ck_assert_ptr_null(l);
}

START_TEST(test_env_from_json)
{
	struct env_list *l = NULL;
	struct error err;
	ck_assert_int_eq(from("[{\"name\":\"A\",\"value\":\"1\"},"
			      "{\"name\":\"TOKEN\",\"value\":\"s\",\"secret\":true,"
			      "\"contexts\":[\"preview\"]},"
			      "{\"name\":\"P\",\"value\":\"\",\"contexts\":[\"production\",\"preview\"]}]",
			      &l, &err), 0);
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(env_list_find(l, "A")->value, "1");
	ck_assert_uint_eq(env_list_find(l, "A")->contexts, ENV_ALL);
	ck_assert(env_list_find(l, "TOKEN")->secret);
	ck_assert_uint_eq(env_list_find(l, "TOKEN")->contexts, ENV_PREVIEW);
	ck_assert_str_eq(env_list_find(l, "P")->value, "");
	env_list_free(l);

	ck_assert_int_eq(from("[]", &l, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	env_list_free(l);

	refused("{}", SKIFF_EINVALID, "invalid_env");
	refused("[1]", SKIFF_EINVALID, "invalid_env");
	refused("[{\"name\":\"A\"}]", SKIFF_EINVALID, "invalid_env_value");
	refused("[{\"name\":\"A\",\"value\":1}]", SKIFF_EINVALID, "invalid_env_value");
	refused("[{\"name\":\"A\",\"value\":\"a\\u0000b\"}]", SKIFF_EINVALID, "invalid_env_value");
	refused("[{\"name\":\"A\",\"value\":\"1\",\"color\":1}]", SKIFF_EINVALID, "invalid_env");
	refused("[{\"name\":\"A\",\"value\":\"1\",\"secret\":\"yes\"}]", SKIFF_EINVALID,
		"invalid_env");
	refused("[{\"name\":\"LD_PRELOAD\",\"value\":\"/x.so\"}]", SKIFF_EINVALID,
		"invalid_env_name");
	refused("[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"A\",\"value\":\"2\"}]",
		SKIFF_EINVALID, "invalid_env_name");
	refused("[{\"name\":\"A\",\"value\":\"1\",\"contexts\":[]}]", SKIFF_EINVALID,
		"invalid_env_context");
	refused("[{\"name\":\"A\",\"value\":\"1\",\"contexts\":[\"staging\"]}]", SKIFF_EINVALID,
		"invalid_env_context");
	refused("[{\"name\":\"A\",\"value\":\"1\",\"contexts\":\"preview\"}]", SKIFF_EINVALID,
		"invalid_env_context");
}
END_TEST

START_TEST(test_env_limits)
{
	struct error err;
	struct env_list *l = NULL;
	/* one value at the limit passes, one byte more does not */
	char *big = malloc(ENV_VALUE_MAX + 64);
	memset(big, 'x', ENV_VALUE_MAX + 64);
	json_t *item = json_pack("{s:s,s:s%}", "name", "BIG", "value", big, (size_t)ENV_VALUE_MAX);
	json_t *arr = json_pack("[O]", item);
	ck_assert_int_eq(env_list_from_json(arr, &l, &err), 0);
	env_list_free(l);
	json_decref(arr);
	json_decref(item);
	item = json_pack("{s:s,s:s%}", "name", "BIG", "value", big, (size_t)ENV_VALUE_MAX + 1);
	arr = json_pack("[O]", item);
	ck_assert_int_eq(env_list_from_json(arr, &l, &err), SKIFF_ELIMIT);
	ck_assert_str_eq(err.name, "env_too_large");
	json_decref(arr);
	json_decref(item);
	/* the count */
	arr = json_array();
	for (int i = 0; i <= ENV_COUNT_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "V%d", i);
		json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name, "value", "1"));
	}
	ck_assert_int_eq(env_list_from_json(arr, &l, &err), SKIFF_ELIMIT);
	json_array_remove(arr, 0);
	ck_assert_int_eq(env_list_from_json(arr, &l, &err), 0);
	env_list_free(l);
	json_decref(arr);
	/* the total: nine values of 8 KiB pass each, not together */
	arr = json_array();
	for (int i = 0; i < 9; i++) {
		char name[16];
		snprintf(name, sizeof(name), "V%d", i);
		json_array_append_new(arr, json_pack("{s:s,s:s%}", "name", name, "value", big,
						     (size_t)ENV_VALUE_MAX));
	}
	ck_assert_int_eq(env_list_from_json(arr, &l, &err), SKIFF_ELIMIT);
	ck_assert_str_eq(err.name, "env_too_large");
	json_decref(arr);
	free(big);
}
END_TEST

static void write_key(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
}

START_TEST(test_env_seal_keep_and_api)
{
	char dir[256], key[300];
	testfs_tmpdir(dir, sizeof(dir), "check_env");
	snprintf(key, sizeof(key), "%s/secret.key", dir);
	struct error err;
	struct env_list *old = NULL, *l = NULL;
	ck_assert_int_eq(from("[{\"name\":\"TOKEN\",\"value\":\"tok-123456\",\"secret\":true},"
			      "{\"name\":\"URL\",\"value\":\"https://x\"}]", &old, &err), 0);
	/* no key file: sealing says so */
	ck_assert_int_eq(env_list_seal(old, "site", key, &err), SKIFF_EINTERNAL);
	ck_assert_str_eq(err.name, "secret_key_unavailable");
	write_key(key);
	ck_assert_int_eq(env_list_seal(old, "site", key, &err), 0);
	const char *sealed = env_list_find(old, "TOKEN")->value;
	ck_assert(strncmp(sealed, "v1:", 3) == 0);
	ck_assert_ptr_null(strstr(sealed, "tok-123456"));
	ck_assert_str_eq(env_list_find(old, "URL")->value, "https://x");
	/* bound to the project and the name */
	struct secret_key k;
	ck_assert_int_eq(secret_key_load(key, &k, &err), 0);
	char *plain = NULL;
	size_t n;
	ck_assert_int_eq(secret_open(&k, "site/env/TOKEN", sealed, &plain, &n, &err), 0);
	ck_assert_str_eq(plain, "tok-123456");
	secret_plain_free(plain, n);
	ck_assert_int_eq(secret_open(&k, "other/env/TOKEN", sealed, &plain, &n, &err),
			 SKIFF_EINVALID);

	/* a secret sent without a value keeps the stored one; a new one needs a value */
	ck_assert_int_eq(from("[{\"name\":\"TOKEN\",\"secret\":true}]", &l, &err), 0);
	ck_assert_ptr_null(env_list_find(l, "TOKEN")->value);
	ck_assert_int_eq(env_list_merge_kept(l, old, &err), 0);
	ck_assert_str_eq(env_list_find(l, "TOKEN")->value, sealed);
	ck_assert_int_eq(env_list_seal(l, "site", key, &err), 0);
	ck_assert_str_eq(env_list_find(l, "TOKEN")->value, sealed); /* kept as stored */
	env_list_free(l);
	ck_assert_int_eq(from("[{\"name\":\"OTHER\",\"secret\":true}]", &l, &err), 0);
	ck_assert_int_eq(env_list_merge_kept(l, old, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "invalid_env_value");
	env_list_free(l);

	/* the API shows plain values, never a secret's */
	json_t *api = env_list_api(old);
	char *text = json_dumps(api, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(text,
		"[{\"contexts\":[\"production\",\"preview\"],\"name\":\"TOKEN\",\"secret\":true,"
		"\"set\":true},{\"contexts\":[\"production\",\"preview\"],\"name\":\"URL\","
		"\"secret\":false,\"set\":true,\"value\":\"https://x\"}]");
	free(text);
	json_decref(api);

	/* the stored form round trips */
	struct env_var back;
	char *enc = env_var_encode(env_list_find(old, "TOKEN"));
	ck_assert_int_eq(env_var_decode("TOKEN", enc, strlen(enc), &back, &err), 0);
	ck_assert(back.secret);
	ck_assert_str_eq(back.value, sealed);
	ck_assert_uint_eq(back.contexts, ENV_ALL);
	free(back.value);
	free(enc);
	ck_assert_int_lt(env_var_decode("X", "not json", 8, &back, &err), 0);
	env_list_free(old);
	testfs_rmtree(dir);
}
END_TEST

START_TEST(test_env_context_bit)
{
	ck_assert_uint_eq(env_context_bit(""), ENV_PRODUCTION);
	ck_assert_uint_eq(env_context_bit(NULL), ENV_PRODUCTION);
	ck_assert_uint_eq(env_context_bit("production"), ENV_PRODUCTION);
	ck_assert_uint_eq(env_context_bit("preview"), ENV_PREVIEW);
	ck_assert_uint_eq(env_context_bit("staging"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");
	tcase_add_test(tc, test_env_names);
	tcase_add_test(tc, test_env_from_json);
	tcase_add_test(tc, test_env_limits);
	tcase_add_test(tc, test_env_seal_keep_and_api);
	tcase_add_test(tc, test_env_context_bit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
