/* check_id.c — deployment ids (12 characters of lowercase base32), random hex secrets, and
 * base32 secrets behind a prefix. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_id_new_shape)
{
	for (int i = 0; i < 1000; i++) {
		char id[ID_LEN + 1];
		memset(id, 'X', sizeof(id));
		id_new(id);
		ck_assert_uint_eq(strlen(id), ID_LEN);
		ck_assert_uint_eq(strspn(id, "abcdefghijklmnopqrstuvwxyz234567"), ID_LEN);
		ck_assert_msg(id_valid(id), "id_new made '%s', which id_valid refuses", id);
	}
}
END_TEST

START_TEST(test_id_new_unique)
{
	enum { N = 20000 };
	char (*ids)[ID_LEN + 1] = calloc(N, sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	for (int i = 0; i < N; i++)
		id_new(ids[i]);
	qsort(ids, N, sizeof(*ids), id_cmp);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	free(ids);
}
END_TEST

START_TEST(test_id_new_uses_whole_alphabet)
{
	/* every one of the 32 symbols shows up in every position: 60 bits of randomness */
	unsigned seen[ID_LEN] = { 0 };
	const char *alpha = "abcdefghijklmnopqrstuvwxyz234567";
	for (int i = 0; i < 5000; i++) {
		char id[ID_LEN + 1];
		id_new(id);
		for (int j = 0; j < ID_LEN; j++)
			seen[j] |= 1u << (strchr(alpha, id[j]) - alpha);
	}
	for (int j = 0; j < ID_LEN; j++)
		ck_assert_msg(seen[j] == 0xffffffffu, "position %d misses symbols: %08x", j, seen[j]);
}
END_TEST

START_TEST(test_id_valid_refuses)
{
	ck_assert(id_valid("abcdefgh2345"));
	ck_assert(!id_valid(NULL));
	ck_assert(!id_valid(""));
	ck_assert(!id_valid("abcdefgh234"));   /* 11 */
	ck_assert(!id_valid("abcdefgh23456")); /* 13 */
	ck_assert(!id_valid("Abcdefgh2345"));  /* uppercase */
	ck_assert(!id_valid("abcdefgh2340"));  /* 0 is not base32 */
	ck_assert(!id_valid("abcdefgh2341"));
	ck_assert(!id_valid("abcdefgh2348"));
	ck_assert(!id_valid("abcdefgh2349"));
	ck_assert(!id_valid("abcdefgh-345"));
	ck_assert(!id_valid("abcdefgh/../"));
	ck_assert(!id_valid("abcdef%2e%2e"));
	ck_assert(!id_valid("abcdefgh234\n"));
	ck_assert(!id_valid("abcdefgh2345\n"));
}
END_TEST

START_TEST(test_id_hex)
{
	char out[129];
	memset(out, 'X', sizeof(out));
	id_hex(out, 32);
	ck_assert_uint_eq(strlen(out), 64);
	ck_assert_uint_eq(strspn(out, "0123456789abcdef"), 64);
	char other[65];
	id_hex(other, 32);
	ck_assert_str_ne(out, other);
	id_hex(out, 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_id_secret)
{
	/* longer than one read from getrandom's buffer, with and without a prefix */
	char out[101], other[101];
	memset(out, 'X', sizeof(out));
	id_secret_new("pre_", out, 100);
	ck_assert_uint_eq(strlen(out), 100);
	ck_assert_int_eq(strncmp(out, "pre_", 4), 0);
	ck_assert_uint_eq(strspn(out + 4, "abcdefghijklmnopqrstuvwxyz234567"), 96);
	ck_assert_int_eq(id_secret_valid("pre_", 100, out), 1);
	id_secret_new("pre_", other, 100);
	ck_assert_str_ne(out, other);
	ck_assert_int_eq(id_secret_valid("pre_", 99, out), 0);
	ck_assert_int_eq(id_secret_valid("pro_", 100, out), 0);
	ck_assert_int_eq(id_secret_valid("", 100, out), 0); /* '_' is not base32 */
	out[50] = 'A';
	ck_assert_int_eq(id_secret_valid("pre_", 100, out), 0);
	ck_assert_int_eq(id_secret_valid("pre_", 100, NULL), 0);
	id_secret_new("", out, 32);
	ck_assert_uint_eq(strspn(out, "abcdefghijklmnopqrstuvwxyz234567"), 32);
	ck_assert_uint_eq(strlen(out), 32);
	ck_assert_int_eq(id_secret_valid("", 32, out), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("id");
	TCase *tc = tcase_create("id");
	tcase_add_test(tc, test_id_new_shape);
	tcase_add_test(tc, test_id_new_unique);
	tcase_add_test(tc, test_id_new_uses_whole_alphabet);
	tcase_add_test(tc, test_id_valid_refuses);
	tcase_add_test(tc, test_id_hex);
	tcase_add_test(tc, test_id_secret);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
