/* check_hex.c — the one hex encoder and decoder: every byte value both ways, either case in,
 * lower case out, anything else refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

START_TEST(test_hex_every_byte_round_trip)
{
	unsigned char all[256], back[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	char text[513];
	memset(text, 'X', sizeof(text));
	hex_encode(all, sizeof(all), text);
	ck_assert_uint_eq(strlen(text), 512);
	ck_assert_uint_eq(strspn(text, "0123456789abcdef"), 512);
	ck_assert_int_eq(memcmp(text, "000102", 6), 0);
	ck_assert_int_eq(memcmp(text + 506, "fdfeff", 6), 0);
	ck_assert_int_eq(hex_decode(text, sizeof(back), back), 0);
	ck_assert_int_eq(memcmp(all, back, sizeof(all)), 0);
}
END_TEST

START_TEST(test_hex_decode_either_case)
{
	unsigned char out[4];
	ck_assert_int_eq(hex_decode("DeadBEEF", 4, out), 0);
	ck_assert_int_eq(memcmp(out, "\xde\xad\xbe\xef", 4), 0);
	ck_assert_int_eq(hex_value('a'), 10);
	ck_assert_int_eq(hex_value('F'), 15);
	ck_assert_int_eq(hex_value('9'), 9);
}
END_TEST

START_TEST(test_hex_decode_refuses)
{
	static const char *bad[] = { "0g", "g0", " 1", "1 ", "-1", "0x", "\xc3\xa9", "1\0" };
	unsigned char out[1];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hex_decode(bad[i], 1, out) == -1, "'%s' decoded", bad[i]);
	ck_assert_int_eq(hex_value('G'), -1);
	ck_assert_int_eq(hex_value('\0'), -1);
	ck_assert_int_eq(hex_value('/'), -1);      /* the byte before '0' */
	ck_assert_int_eq(hex_value(':'), -1);      /* the byte after '9' */
	ck_assert_int_eq(hex_value('`'), -1);
	ck_assert_int_eq(hex_value('@'), -1);
}
END_TEST

START_TEST(test_hex_span)
{
	ck_assert_uint_eq(hex_span("0123456789abcdef"), 16);
	ck_assert_uint_eq(hex_span("abcG"), 3);
	ck_assert_uint_eq(hex_span("ABC"), 0);      /* ids and hashes are lower case */
	ck_assert_uint_eq(hex_span(""), 0);
}
END_TEST

START_TEST(test_hex_encode_empty)
{
	char out[1] = { 'X' };
	hex_encode("", 0, out);
	ck_assert_int_eq(out[0], '\0');
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("hex");
	tcase_add_test(tc, test_hex_every_byte_round_trip);
	tcase_add_test(tc, test_hex_decode_either_case);
	tcase_add_test(tc, test_hex_decode_refuses);
	tcase_add_test(tc, test_hex_span);
	tcase_add_test(tc, test_hex_encode_empty);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
