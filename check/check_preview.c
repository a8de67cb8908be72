/* check_preview.c — the previews setting and preview keys (lib/preview.c), and preview
 * addresses as skiff-serve parses them (lib/host.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "id.h"
#include "preview.h"

static int parse(const char *json, bool is_form, char out[PREVIEW_SETTING_MAX + 1])
{
	json_error_t jerr;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "bad test JSON %s", json);
	struct error err;
	int rc = preview_setting_parse(v, is_form, out, &err);
	json_decref(v);
	return rc;
}

START_TEST(test_preview_setting)
{
	char s[PREVIEW_SETTING_MAX + 1];
	ck_assert_int_eq(parse("\"none\"", false, s), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(parse("null", false, s), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(parse("\"all\"", false, s), 0);
	ck_assert_str_eq(s, "*");
	ck_assert_int_eq(parse("[\"feature/*\", \"staging\"]", false, s), 0);
	ck_assert_str_eq(s, "feature/* staging");
	/* a form sends one string */
	ck_assert_int_eq(parse("\"feature/*, release/*  hotfix\"", true, s), 0);
	ck_assert_str_eq(s, "feature/* release/* hotfix");
	ck_assert_int_eq(parse("\"\"", true, s), 0);
	ck_assert_str_eq(s, "");
	/* refused: a JSON string other than none/all, an empty array, non-strings, bad names */
	ck_assert_int_eq(parse("\"feature/*\"", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("[]", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("[1]", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("true", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("[\"a..b\"]", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("[\"has space\"]", false, s), SKIFF_EINVALID);
	ck_assert_int_eq(parse("[\"\"]", false, s), SKIFF_EINVALID);
	/* at most PREVIEW_PATTERNS_MAX patterns */
	json_t *many = json_array();
	for (int i = 0; i <= PREVIEW_PATTERNS_MAX; i++)
		json_array_append_new(many, json_string("b"));
	struct error err;
	ck_assert_int_eq(preview_setting_parse(many, false, s, &err), SKIFF_EINVALID);
	json_array_remove(many, 0);
	ck_assert_int_eq(preview_setting_parse(many, false, s, &err), 0);
	json_decref(many);
}
END_TEST

START_TEST(test_preview_setting_json)
{
	json_t *v = preview_setting_json("");
	ck_assert_str_eq(json_string_value(v), "none");
	json_decref(v);
	v = preview_setting_json("*");
	ck_assert_str_eq(json_string_value(v), "all");
	json_decref(v);
	v = preview_setting_json("feature/* staging");
	ck_assert_uint_eq(json_array_size(v), 2);
	ck_assert_str_eq(json_string_value(json_array_get(v, 0)), "feature/*");
	ck_assert_str_eq(json_string_value(json_array_get(v, 1)), "staging");
	json_decref(v);
}
END_TEST

START_TEST(test_preview_branch_wanted)
{
	ck_assert(preview_branch_wanted("*", "anything/at/all"));
	ck_assert(preview_branch_wanted("feature/* staging", "feature/login"));
	ck_assert(preview_branch_wanted("feature/* staging", "feature/a/b"));
	ck_assert(preview_branch_wanted("feature/* staging", "staging"));
	ck_assert(!preview_branch_wanted("feature/* staging", "staging2"));
	ck_assert(!preview_branch_wanted("feature/* staging", "feature"));
	ck_assert(!preview_branch_wanted("", "main"));
	ck_assert(!preview_branch_wanted("*", ""));
}
END_TEST

START_TEST(test_preview_key_branch)
{
	char k[PREVIEW_KEY_MAX + 1], k2[PREVIEW_KEY_MAX + 1];
	struct error err;
	ck_assert_int_eq(preview_key_branch("site", "staging", k, &err), 0);
	ck_assert_str_eq(k, "b-staging");
	/* a branch that is not a DNS label already gets a hash: distinct branches stay apart */
	ck_assert_int_eq(preview_key_branch("site", "feature/x", k, &err), 0);
	ck_assert_int_eq(preview_key_branch("site", "feature-x", k2, &err), 0);
	ck_assert_str_eq(k2, "b-feature-x");
	ck_assert_int_eq(strncmp(k, "b-feature-x-", 12), 0);
	ck_assert_uint_eq(strlen(k), 12 + PREVIEW_HASH_LEN);
	ck_assert_int_eq(preview_key_branch("site", "Feature-X", k2, &err), 0);
	ck_assert_str_ne(k2, "b-feature-x");
	ck_assert_int_eq(preview_key_branch("site", "-x", k2, &err), 0);
	ck_assert(preview_key_valid(k2));
	/* stable: the same branch always gets the same key */
	ck_assert_int_eq(preview_key_branch("site", "feature/x", k2, &err), 0);
	ck_assert_str_eq(k, k2);
	/* every label {slug}--{key} stays within 63 characters */
	const char *slugs[] = { "a", "site", "a-fairly-long-project-name-for-its-slug",
				"x123456789x123456789x123456789x123456789x123456789x" };
	const char *branches[] = { "main", "feature/x",
		"a-very-long-branch-name-that-goes-on-and-on-and-on-beyond-any-dns-label-limit",
		"UPPER/and.dots_and_underscores" };
	for (size_t i = 0; i < sizeof(slugs) / sizeof(slugs[0]); i++)
		for (size_t j = 0; j < sizeof(branches) / sizeof(branches[0]); j++) {
			ck_assert_int_eq(preview_key_branch(slugs[i], branches[j], k, &err), 0);
			ck_assert_msg(strlen(slugs[i]) + 2 + strlen(k) <= 63, "%s--%s", slugs[i], k);
			ck_assert_msg(preview_key_valid(k), "%s", k);
		}
	/* two long branches with the same beginning differ */
	ck_assert_int_eq(preview_key_branch("site", "a-very-long-branch-name-that-goes-on-and-on-and-on-beyond-one", k, &err), 0);
	ck_assert_int_eq(preview_key_branch("site", "a-very-long-branch-name-that-goes-on-and-on-and-on-beyond-two", k2, &err), 0);
	ck_assert_str_ne(k, k2);
	/* a slug that leaves no room for a hash */
	char slug[SLUG_MAX + 1];
	memset(slug, 'a', 60);
	slug[60] = '\0';
	ck_assert_int_eq(preview_key_branch(slug, "main", k, &err), SKIFF_ELIMIT);
}
END_TEST

START_TEST(test_preview_key_pr)
{
	char k[PREVIEW_KEY_MAX + 1];
	struct error err;
	ck_assert_int_eq(preview_key_pr("site", 7, k, &err), 0);
	ck_assert_str_eq(k, "pr-7");
	ck_assert_int_eq(preview_key_pr("site", 0, k, &err), SKIFF_EINVALID);
	ck_assert_int_eq(preview_key_pr("site", PREVIEW_PR_MAX + 1, k, &err), SKIFF_EINVALID);
	ck_assert(preview_key_valid("pr-123"));
	ck_assert(!preview_key_valid("pr-012"));
	ck_assert(!preview_key_valid("pr-"));
	ck_assert(!preview_key_valid("pr-1a"));
	ck_assert(!preview_key_valid("b-"));
	ck_assert(!preview_key_valid("b-x-"));
	ck_assert(!preview_key_valid("b-x--y"));
	ck_assert(!preview_key_valid("b-X"));
	/* a deployment id never looks like a key */
	for (int i = 0; i < 200; i++) {
		char id[ID_LEN + 1];
		id_new(id);
		ck_assert(!preview_key_valid(id));
	}
}
END_TEST

START_TEST(test_preview_host)
{
	struct host_site s;
	ck_assert_int_eq(host_site_parse("site--b-feature-x.example.com", "example.com", 0, &s), 0);
	ck_assert_str_eq(s.slug, "site");
	ck_assert_str_eq(s.preview, "b-feature-x");
	ck_assert_str_eq(s.deployment, "");
	ck_assert_int_eq(host_site_parse("Site--PR-12.example.com", "example.com", 0, &s), 0);
	ck_assert_str_eq(s.slug, "site");
	ck_assert_str_eq(s.preview, "pr-12");
	ck_assert_int_eq(host_site_parse("site--abcdefgh2345.example.com", "example.com", 0, &s), 0);
	ck_assert_str_eq(s.deployment, "abcdefgh2345");
	ck_assert_str_eq(s.preview, "");
	ck_assert_int_eq(host_site_parse("site.example.com", "example.com", 0, &s), 0);
	ck_assert_str_eq(s.preview, "");
	ck_assert_str_eq(s.deployment, "");
	ck_assert_int_eq(host_site_parse("site--b-.example.com", "example.com", 0, &s), SKIFF_ENOTFOUND);
	ck_assert_int_eq(host_site_parse("site--pr-x.example.com", "example.com", 0, &s), SKIFF_ENOTFOUND);
	ck_assert_int_eq(host_site_parse("site--c-x.example.com", "example.com", 0, &s), SKIFF_ENOTFOUND);
	ck_assert_int_eq(host_site_parse("--b-x.example.com", "example.com", 0, &s), SKIFF_ENOTFOUND);
}
END_TEST

static Suite *preview_suite(void)
{
	Suite *s = suite_create("preview");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_preview_setting);
	tcase_add_test(tc, test_preview_setting_json);
	tcase_add_test(tc, test_preview_branch_wanted);
	tcase_add_test(tc, test_preview_key_branch);
	tcase_add_test(tc, test_preview_key_pr);
	tcase_add_test(tc, test_preview_host);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(preview_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
