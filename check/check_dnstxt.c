/* check_dnstxt.c — the parser of DNS answers to a TXT query, on answers built here: records
 * of several strings, CNAMEs before them, every truncation of a good answer, counts that lie,
 * string lengths past the record, values too long, more records than kept, a compression loop;
 * and the nameserver setting's syntax. */
#include <check.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnstxt.h"

struct msg {
	unsigned char b[DNSTXT_ANSWER_MAX];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->len + n, sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	put(m, b, 2);
}

/* "_skiff-challenge.www.example.org" as DNS labels */
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		unsigned char l = (unsigned char)n;
		put(m, &l, 1);
		put(m, name, n);
		name += n + (dot ? 1 : 0);
	}
	put(m, "", 1);
}

#define QNAME "_skiff-challenge.www.example.org"

/* A response header and the question; ancount as given. */
static void start(struct msg *m, unsigned ancount)
{
	m->len = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);   /* response, recursion desired and available, NOERROR */
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, QNAME);
	put16(m, 16);       /* TXT */
	put16(m, 1);        /* IN */
}

/* An answer record whose owner is the question's name (a pointer to offset 12). */
static void rr(struct msg *m, unsigned type, const unsigned char *rdata, size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

/* A TXT record of the strings given, NULL-terminated. */
static void txt(struct msg *m, const char *first, ...)
{
	unsigned char rd[2048];
	size_t n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t l = strlen(s);
		rd[n++] = (unsigned char)l;
		memcpy(rd + n, s, l);
		n += l;
	}
	va_end(ap);
	rr(m, 16, rd, n);
}

static int parse(const struct msg *m, struct dnstxt *out)
{
	struct error err;
	error_clear(&err);
	return dnstxt_parse(m->b, m->len, out, &err);
}

START_TEST(test_dnstxt_records)
{
	struct msg m;
	struct dnstxt t;
	start(&m, 3);
	const unsigned char cname[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	rr(&m, 5, cname, sizeof(cname));
	txt(&m, "v=spf1 -all", NULL);
	txt(&m, "abcdefghij", "klmnop", NULL);   /* a value in two strings is one value */
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_str_eq(t.value[0], "v=spf1 -all");
	ck_assert_str_eq(t.value[1], "abcdefghijklmnop");

	start(&m, 0);
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

/* Every prefix of a good answer is refused or parsed within bounds, never read past. */
START_TEST(test_dnstxt_truncated)
{
	struct msg m;
	struct dnstxt t;
	start(&m, 2);
	txt(&m, "first", NULL);
	txt(&m, "second", "part", NULL);
	size_t whole = m.len;
	for (size_t len = 0; len < whole; len++) {
		unsigned char *copy = malloc(len ? len : 1);   /* exactly len: ASan sees overreads */
		memcpy(copy, m.b, len);
		struct error err;
		error_clear(&err);
		int rc = dnstxt_parse(copy, len, &t, &err);
		ck_assert_msg(rc == SKIFF_EUPSTREAM, "a %zu-byte prefix of %zu accepted", len, whole);
		free(copy);
	}
	m.len = whole;
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, 2);
}
END_TEST

START_TEST(test_dnstxt_hostile)
{
	struct msg m;
	struct dnstxt t;
	/* the header claims 65535 answers, one follows */
	start(&m, 65535);
	txt(&m, "only", NULL);
	ck_assert_int_eq(parse(&m, &t), SKIFF_EUPSTREAM);

	/* a string's length byte runs past its record: that record is skipped, not read past */
	start(&m, 2);
	const unsigned char bad[] = { 200, 'x', 'y' };
	rr(&m, 16, bad, sizeof(bad));
	txt(&m, "good", NULL);
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(t.value[0], "good");

	/* a value over DNSTXT_VALUE_MAX joined (two strings of 200), and one with a NUL */
	char s200[201];
	memset(s200, 'a', 200);
	s200[200] = '\0';
	start(&m, 3);
	txt(&m, s200, s200, NULL);
	const unsigned char nul[] = { 3, 'a', 0, 'b' };
	rr(&m, 16, nul, sizeof(nul));
	txt(&m, s200, NULL);
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(strlen(t.value[0]), 200);

	/* more records than kept: the first DNSTXT_RECORDS_MAX */
	start(&m, 40);
	for (int i = 0; i < 40; i++) {
		char v[16];
		snprintf(v, sizeof(v), "r%d", i);
		txt(&m, v, NULL);
	}
	ck_assert_int_eq(parse(&m, &t), 0);
	ck_assert_uint_eq(t.n, DNSTXT_RECORDS_MAX);
	ck_assert_str_eq(t.value[DNSTXT_RECORDS_MAX - 1], "r15");

	/* an owner name that points at itself */
	start(&m, 1);
	size_t at = m.len;
	put16(&m, 0xc000 | (unsigned)at);
	put16(&m, 16);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 300);
	put16(&m, 2);
	put(&m, "\001x", 2);
	ck_assert_int_eq(parse(&m, &t), SKIFF_EUPSTREAM);

	/* longer than an answer is read */
	struct error err;
	error_clear(&err);
	static unsigned char big[DNSTXT_ANSWER_MAX + 1];
	memcpy(big, m.b, m.len);
	ck_assert_int_eq(dnstxt_parse(big, sizeof(big), &t, &err), SKIFF_EUPSTREAM);
}
END_TEST

START_TEST(test_dnstxt_server)
{
	struct sockaddr_in a;
	struct error err;
	error_clear(&err);
	ck_assert_int_eq(dnstxt_server_parse("127.0.0.1:5353", &a, &err), 0);
	ck_assert_uint_eq(ntohs(a.sin_port), 5353);
	ck_assert_uint_eq(ntohl(a.sin_addr.s_addr), 0x7f000001);
	ck_assert_int_eq(dnstxt_server_parse("192.0.2.1", &a, &err), 0);
	ck_assert_uint_eq(ntohs(a.sin_port), 53);
	const char *bad[] = { "", ":53", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
			      "127.0.0.1:-5", "127.0.0.1:53x", "localhost:53", "::1", "1.2.3:53",
			      "999.0.0.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(dnstxt_server_parse(bad[i], &a, &err) == SKIFF_EINVALID,
			      "'%s' accepted", bad[i]);
	ck_assert_str_eq(err.name, "invalid_nameserver");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dnstxt");
	TCase *tc = tcase_create("dnstxt");
	tcase_add_test(tc, test_dnstxt_records);
	tcase_add_test(tc, test_dnstxt_truncated);
	tcase_add_test(tc, test_dnstxt_hostile);
	tcase_add_test(tc, test_dnstxt_server);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
