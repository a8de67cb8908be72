/* check_buf.c — the bounded buffer (sticky limit error, NUL termination, growth, detach) and
 * the request arena (alignment, zeroing, reset and reuse, big allocations). */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "error.h"

/* ---- buf ---------------------------------------------------------------- */

START_TEST(test_buf_empty_cstr)
{
	struct buf b = BUF_INIT(16);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.err, 0);
	buf_dispose(&b);
	buf_dispose(&b); /* twice is harmless */
}
END_TEST

START_TEST(test_buf_append_exactly_max)
{
	struct buf b;
	buf_init(&b, 10);
	ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(buf_cstr(&b), "0123456789");
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_limit_sets_err_and_keeps_content)
{
	struct buf b;
	buf_init(&b, 10);
	buf_puts(&b, "01234");
	ck_assert_int_eq(buf_puts(&b, "567890"), SKIFF_ELIMIT); /* 11 bytes: one too many */
	ck_assert_int_eq(b.err, SKIFF_ELIMIT);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(buf_cstr(&b), "01234"); /* still NUL-terminated, nothing half-copied */
	ck_assert_uint_eq(strlen(b.data), b.len);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_err_is_sticky)
{
	struct buf b;
	buf_init(&b, 8);
	buf_puts(&b, "abc");
	buf_puts(&b, "too long for it");
	/* later appends that would fit do nothing: the caller checks err once */
	ck_assert_int_eq(buf_putc(&b, 'x'), SKIFF_ELIMIT);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), SKIFF_ELIMIT);
	ck_assert_int_eq(buf_append(&b, "y", 1), SKIFF_ELIMIT);
	ck_assert_str_eq(buf_cstr(&b), "abc");
	buf_reset(&b);
	ck_assert_int_eq(b.err, 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_int_eq(buf_puts(&b, "12345678"), 0);
	ck_assert_str_eq(buf_cstr(&b), "12345678");
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_zero_max)
{
	struct buf b = BUF_INIT(0);
	ck_assert_int_eq(buf_append(&b, "", 0), 0);
	ck_assert_int_eq(buf_putc(&b, 'a'), SKIFF_ELIMIT);
	ck_assert_str_eq(buf_cstr(&b), "");
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_binary_append)
{
	struct buf b = BUF_INIT(64);
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "a\0b\0", 4);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_printf_growth)
{
	struct buf b = BUF_INIT(1 << 20);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "line %04d|", i);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 1000 * 10);
	ck_assert_uint_eq(strlen(b.data), b.len);
	ck_assert_mem_eq(b.data, "line 0000|line 0001|", 20);
	ck_assert_str_eq(b.data + b.len - 10, "line 0999|");
	/* one printf much larger than the current capacity */
	char big[5000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "<%s>", big);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 10000 + 5001);
	ck_assert_int_eq(b.data[b.len - 1], '>');
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_printf_over_limit)
{
	struct buf b = BUF_INIT(10);
	buf_puts(&b, "abc");
	ck_assert_int_eq(buf_printf(&b, "%s", "12345678"), SKIFF_ELIMIT); /* 3 + 8 > 10 */
	ck_assert_str_eq(buf_cstr(&b), "abc");
	ck_assert_uint_eq(b.len, 3);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_sink)
{
	/* as curl calls it: every byte taken until the max, then 0 (the transfer fails) */
	struct buf b = BUF_INIT(8);
	char part[] = "abcdef";
	ck_assert_uint_eq(buf_sink(part, 1, 5, &b), 5);
	ck_assert_uint_eq(buf_sink(part, 1, 3, &b), 3);
	ck_assert_str_eq(buf_cstr(&b), "abcdeabc");
	ck_assert_uint_eq(buf_sink(part, 1, 1, &b), 0);
	ck_assert_int_ne(b.err, 0);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_reserve)
{
	struct buf b = BUF_INIT(100);
	buf_reserve(&b, 40);
	ck_assert_str_eq(buf_cstr(&b), "");
	const char *data = b.data;
	ck_assert_ptr_nonnull(data);
	/* the appends it made room for do not move the data */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_ptr_eq(b.data, data);
	/* never past max: the limit still holds, and still sets err */
	buf_reserve(&b, 1000);
	ck_assert_uint_le(b.cap, 101);
	ck_assert_int_eq(buf_printf(&b, "%060d", 0), 0);
	ck_assert_uint_eq(b.len, 100);
	ck_assert_int_eq(buf_putc(&b, 'x'), SKIFF_ELIMIT);
	ck_assert_uint_eq(b.len, 100);
	buf_reserve(&b, 10);   /* after the error: nothing */
	ck_assert_uint_le(b.cap, 101);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_detach)
{
	struct buf b = BUF_INIT(100);
	buf_puts(&b, "hello");
	char *p = buf_detach(&b);
	ck_assert_str_eq(p, "hello");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	/* the buffer is usable again, with its limit */
	buf_puts(&b, "again");
	ck_assert_str_eq(buf_cstr(&b), "again");
	ck_assert_ptr_ne(b.data, p);
	free(p);
	buf_dispose(&b);
}
END_TEST

START_TEST(test_buf_detach_empty)
{
	struct buf b = BUF_INIT(100);
	char *p = buf_detach(&b);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "");
	free(p);
}
END_TEST

/* ---- arena -------------------------------------------------------------- */

START_TEST(test_arena_alloc_aligned_zeroed)
{
	struct arena a;
	arena_init(&a);
	for (size_t n = 1; n < 100; n += 7) {
		unsigned char *p = arena_alloc(&a, n);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(p[i], 0);
		memset(p, 0xff, n);
	}
	arena_dispose(&a);
}
END_TEST

START_TEST(test_arena_strings)
{
	struct arena a;
	arena_init(&a);
	char *s = arena_strdup(&a, "slug");
	char *t = arena_strndup(&a, "deployment", 6);
	char *u = arena_printf(&a, "%s/%d", "path", 42);
	ck_assert_str_eq(s, "slug");
	ck_assert_str_eq(t, "deploy");
	ck_assert_str_eq(u, "path/42");
	ck_assert_ptr_null(arena_strdup(&a, NULL));
	/* the strings do not overlap */
	ck_assert_str_eq(s, "slug");
	arena_dispose(&a);
}
END_TEST

START_TEST(test_arena_reset_reuses_memory)
{
	struct arena a;
	arena_init(&a);
	char *first = arena_alloc(&a, 32);
	for (int i = 0; i < 2000; i++)
		memset(arena_alloc(&a, 100), 'x', 100); /* several blocks */
	ck_assert_uint_gt(a.used_total, 100000);
	arena_reset(&a);
	ck_assert_uint_eq(a.used_total, 0);
	char *again = arena_alloc(&a, 32);
	ck_assert_ptr_eq(again, first); /* the kept block is reused */
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(again[i], 0); /* and handed out zeroed */
	/* many request cycles stay usable */
	for (int r = 0; r < 100; r++) {
		char *s = arena_printf(&a, "request %d", r);
		ck_assert_str_eq(s, arena_printf(&a, "request %d", r));
		arena_reset(&a);
	}
	arena_dispose(&a);
	arena_reset(&a); /* reset of an empty arena does nothing */
}
END_TEST

START_TEST(test_arena_big_allocations)
{
	struct arena a;
	arena_init(&a);
	char *small = arena_strdup(&a, "before");
	size_t big = 1u << 20;
	unsigned char *p = arena_alloc(&a, big);
	unsigned char *q = arena_alloc(&a, big + 3);
	memset(p, 'p', big);
	memset(q, 'q', big + 3);
	char *after = arena_strdup(&a, "after");
	ck_assert_str_eq(small, "before");
	ck_assert_str_eq(after, "after");
	ck_assert_int_eq(p[0], 'p');
	ck_assert_int_eq(p[big - 1], 'p');
	ck_assert_int_eq(q[big + 2], 'q');
	ck_assert_uint_ge(a.used_total, 2 * big);
	arena_reset(&a);
	ck_assert_str_eq(arena_strdup(&a, "x"), "x");
	arena_dispose(&a);
}
END_TEST

START_TEST(test_arena_alloc_huge_aborts)
{
	/* a size near SIZE_MAX must not wrap to a tiny allocation that the caller then overruns */
	struct arena a;
	arena_init(&a);
	unsigned char *p = arena_alloc(&a, SIZE_MAX - 3);
	(void)p;
	ck_abort_msg("arena_alloc(SIZE_MAX - 3) returned instead of aborting");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tb = tcase_create("buf");
	tcase_add_test(tb, test_buf_empty_cstr);
	tcase_add_test(tb, test_buf_append_exactly_max);
	tcase_add_test(tb, test_buf_limit_sets_err_and_keeps_content);
	tcase_add_test(tb, test_buf_err_is_sticky);
	tcase_add_test(tb, test_buf_zero_max);
	tcase_add_test(tb, test_buf_binary_append);
	tcase_add_test(tb, test_buf_printf_growth);
	tcase_add_test(tb, test_buf_printf_over_limit);
	tcase_add_test(tb, test_buf_sink);
	tcase_add_test(tb, test_buf_detach);
	tcase_add_test(tb, test_buf_detach_empty);
	tcase_add_test(tb, test_buf_reserve);
	suite_add_tcase(s, tb);
	TCase *ta = tcase_create("arena");
	tcase_add_test(ta, test_arena_alloc_aligned_zeroed);
	tcase_add_test(ta, test_arena_strings);
	tcase_add_test(ta, test_arena_reset_reuses_memory);
	tcase_add_test(ta, test_arena_big_allocations);
	tcase_add_test_raise_signal(ta, test_arena_alloc_huge_aborts, SIGABRT);
	suite_add_tcase(s, ta);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
