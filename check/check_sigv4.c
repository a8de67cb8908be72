/* check_sigv4.c — skiff's SigV4 signer against AWS's published test suite (check/sigv4/,
 * from botocore): canonical request, string to sign and Authorization header of each case,
 * computed by lib/sigv4.c alone, without libcurl; and the canonical query string that S3
 * continuation tokens need ("+", "/", "=" encoded). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "hash.h"
#include "sigv4.h"

#define VEC_MAX 8192

static const char *vec_dir(void)
{
	const char *d = getenv("SKIFF_SIGV4_DIR");
	return d && *d ? d : "check/sigv4";
}

/* The file's bytes into out (NUL-terminated); its length, or -1. */
static long vec_read(const char *name, const char *ext, char *out, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.%s", vec_dir(), name, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	return (long)n;
}

static int vec_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
		: c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out. */
static void vec_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && vec_hex(s[i + 1]) >= 0 && vec_hex(s[i + 2]) >= 0) {
			out[o++] = (char)(vec_hex(s[i + 1]) * 16 + vec_hex(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* Signs the case's .req and compares with its .creq, .sts and .authz. */
static void vec_check(const char *name)
{
	static char req[VEC_MAX], want[VEC_MAX], path[VEC_MAX], uri[VEC_MAX], query[VEC_MAX];
	static char names[SIGV4_PARAMS_MAX][256], values[SIGV4_PARAMS_MAX][256];
	static char hnames[SIGV4_HEADERS_MAX][64];
	struct sigv4_pair params[SIGV4_PARAMS_MAX], headers[SIGV4_HEADERS_MAX];
	size_t np = 0, nh = 0;
	char method[16], hash[HASH_HEX_LEN + 1], date[SIGV4_DATE_LEN + 1] = "";
	ck_assert_msg(vec_read(name, "req", req, sizeof(req)) > 0, "cannot read %s.req", name);
	/* request line: METHOD SP PATH SP HTTP/1.1 (the path may hold spaces) */
	char *eol = strchr(req, '\n'), *sp = strchr(req, ' ');
	ck_assert_ptr_nonnull(eol);
	*eol = '\0';
	char *ver = strrchr(req, ' ');
	ck_assert(sp && ver && ver > sp);
	snprintf(method, sizeof(method), "%.*s", (int)(sp - req), req);
	snprintf(path, sizeof(path), "%.*s", (int)(ver - sp - 1), sp + 1);
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	vec_decode(path, strlen(path), want);
	size_t uo = 0;
	ck_assert_int_eq(aws_uri_encode(uri, sizeof(uri), &uo, want, strlen(want), true), 0);
	for (char *p = q; p && *p;) {
		size_t len = strcspn(p, "&"), k = strcspn(p, "=");
		if (k > len)
			k = len;
		ck_assert_uint_lt(np, SIGV4_PARAMS_MAX);
		vec_decode(p, k, names[np]);
		vec_decode(p + k + (k < len), len - k - (k < len), values[np]);
		params[np] = (struct sigv4_pair){ names[np], values[np] };
		np++;
		p += len + (p[len] == '&');
	}
	ck_assert_int_eq(sigv4_query(query, sizeof(query), params, np), 0);
	/* headers up to an empty line, then the body */
	char *line = eol + 1, *body = "";
	while (*line) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (!*line) {
			body = end ? end + 1 : "";
			break;
		}
		char *colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		ck_assert_uint_lt(nh, SIGV4_HEADERS_MAX);
		snprintf(hnames[nh], sizeof(hnames[nh]), "%.*s", (int)(colon - line), line);
		headers[nh] = (struct sigv4_pair){ hnames[nh], colon + 1 };
		if (!strcasecmp(hnames[nh], "x-amz-date"))
			snprintf(date, sizeof(date), "%s", colon + 1);
		nh++;
		if (!end)
			break;
		line = end + 1;
	}
	hash_buffer(body, strlen(body), hash);
	struct sigv4_request r = { method, uri, query, headers, nh, hash, date, "us-east-1",
				   "service" };
	struct buf creq = BUF_INIT(SIGV4_CREQ_MAX), sts = BUF_INIT(SIGV4_CREQ_MAX);
	char signed_headers[512], auth[SIGV4_AUTH_MAX];
	ck_assert_int_eq(sigv4_canonical_request(&r, &creq, signed_headers, sizeof(signed_headers)), 0);
	ck_assert(vec_read(name, "creq", want, sizeof(want)) > 0);
	ck_assert_msg(!strcmp(buf_cstr(&creq), want), "%s: canonical request\n%s\n--- expected\n%s",
		      name, buf_cstr(&creq), want);
	ck_assert_int_eq(sigv4_string_to_sign(&r, creq.data, creq.len, &sts), 0);
	ck_assert(vec_read(name, "sts", want, sizeof(want)) > 0);
	ck_assert_msg(!strcmp(buf_cstr(&sts), want), "%s: string to sign", name);
	ck_assert_int_eq(sigv4_authorization(&r, "AKIDEXAMPLE",
					     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", auth), 0);
	ck_assert(vec_read(name, "authz", want, sizeof(want)) > 0);
	ck_assert_str_eq(auth, want);
	buf_dispose(&creq);
	buf_dispose(&sts);
}

START_TEST(test_sigv4_aws_suite)
{
	DIR *d = opendir(vec_dir());
	ck_assert_msg(d != NULL, "no vectors in %s (run from the source tree or set SKIFF_SIGV4_DIR)",
		      vec_dir());
	struct dirent *de;
	int cases = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".req"))
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), de->d_name);
		vec_check(name);
		cases++;
	}
	closedir(d);
	ck_assert_int_eq(cases, 21);
}
END_TEST

/* S3 continuation tokens are base64: '+', '/' and '=' must be signed and sent as %2B %2F
 * %3D, whatever an HTTP library would make of them. */
START_TEST(test_sigv4_query_continuation_token)
{
	char q[512];
	struct sigv4_pair p[] = { { "prefix", "site/blobs/" }, { "list-type", "2" },
				  { "continuation-token", "1a+b/c==" }, { "max-keys", "1000" } };
	ck_assert_int_eq(sigv4_query(q, sizeof(q), p, 4), 0);
	ck_assert_str_eq(q, "continuation-token=1a%2Bb%2Fc%3D%3D&list-type=2&max-keys=1000"
			 "&prefix=site%2Fblobs%2F");
	ck_assert_int_eq(sigv4_query(q, 40, p, 4), -1);   /* too small: refused, not cut */
}
END_TEST

/* An S3 path is signed as it is sent; the date changes the signature. */
START_TEST(test_sigv4_s3_path_and_token)
{
	struct sigv4_pair h[] = { { "Host", "b.s3.amazonaws.com" },
				  { "x-amz-date", "20240501T120000Z" },
				  { "x-amz-content-sha256", "UNSIGNED-PAYLOAD" } };
	struct sigv4_request r = { "GET", "/a%20b/c", "", h, 3, "UNSIGNED-PAYLOAD",
				   "20240501T120000Z", "eu-west-1", "s3" };
	struct buf creq = BUF_INIT(SIGV4_CREQ_MAX);
	char sh[256], a1[SIGV4_AUTH_MAX], a2[SIGV4_AUTH_MAX];
	ck_assert_int_eq(sigv4_canonical_request(&r, &creq, sh, sizeof(sh)), 0);
	ck_assert_str_eq(sh, "host;x-amz-content-sha256;x-amz-date");
	ck_assert(!strncmp(buf_cstr(&creq), "GET\n/a%20b/c\n\n", 14));
	buf_dispose(&creq);
	ck_assert_int_eq(sigv4_authorization(&r, "AKID", "secret", a1), 0);
	ck_assert(strstr(a1, "Credential=AKID/20240501/eu-west-1/s3/aws4_request, "));
	r.amz_date = "20240501T120001Z";
	ck_assert_int_eq(sigv4_authorization(&r, "AKID", "secret", a2), 0);
	ck_assert_str_ne(a1, a2);
	char d[SIGV4_DATE_LEN + 1];
	sigv4_date(1714564800123LL, d);
	ck_assert_str_eq(d, "20240501T120000Z");
}
END_TEST

/* AWS's documented presigned URL (S3 API reference, "Authenticating Requests: Using Query
 * Parameters"): GET examplebucket/test.txt on 2013-05-24 for 86,400 s with the documentation's
 * example key pair. */
START_TEST(test_sigv4_presign_aws_example)
{
	struct sigv4_pair h[] = { { "Host", "examplebucket.s3.amazonaws.com" } };
	struct sigv4_request r = { "GET", "/test.txt", "", h, 1, NULL, "20130524T000000Z",
				   "us-east-1", "s3" };
	char q[2048];
	ck_assert_int_eq(sigv4_presign(&r, "AKIAIOSFODNN7EXAMPLE",
				       "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 86400, q,
				       sizeof(q)), 0);
	ck_assert_str_eq(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			 "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			 "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
			 "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	/* a cut is refused, never a shorter URL; so is an expiry past a week */
	ck_assert_int_eq(sigv4_presign(&r, "AKIAIOSFODNN7EXAMPLE", "k", "", 86400, q, 200), -1);
	ck_assert_int_eq(sigv4_presign(&r, "AKIAIOSFODNN7EXAMPLE", "k", "", 604801, q, sizeof(q)), -1);
	ck_assert_int_eq(sigv4_presign(&r, "AKIAIOSFODNN7EXAMPLE", "k", "", 0, q, sizeof(q)), -1);
}
END_TEST

/* A PUT that carries its checksum as a signed header, with a session token: both are in the
 * query, and the signature changes with the checksum (S3 then holds the body to it). */
START_TEST(test_sigv4_presign_checksum_token)
{
	struct sigv4_pair h[] = { { "host", "b.s3.amazonaws.com" },
				  { "x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" } };
	struct sigv4_request r = { "PUT", "/blobs/e3/e3b0", "", h, 2, NULL, "20240501T120000Z",
				   "eu-west-1", "s3" };
	char q1[4096], q2[4096];
	ck_assert_int_eq(sigv4_presign(&r, "ASIA1", "secret", "tok+en/=", 900, q1, sizeof(q1)), 0);
	ck_assert(strstr(q1, "&X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256&"));
	ck_assert(strstr(q1, "&X-Amz-Security-Token=tok%2Ben%2F%3D&"));
	ck_assert(strstr(q1, "&X-Amz-Expires=900&"));
	h[1].value = "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
	ck_assert_int_eq(sigv4_presign(&r, "ASIA1", "secret", "tok+en/=", 900, q2, sizeof(q2)), 0);
	ck_assert_str_ne(strstr(q1, "X-Amz-Signature="), strstr(q2, "X-Amz-Signature="));
	/* a session token as long as skiff takes, every byte encoded three times over, fits */
	char token[AWS_TOKEN_MAX], big[16384];
	memset(token, '+', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	ck_assert_int_eq(sigv4_presign(&r, "ASIA1", "secret", token, 900, big, sizeof(big)), 0);
	ck_assert(strstr(big, "X-Amz-Signature="));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sign");
	tcase_add_test(tc, test_sigv4_aws_suite);
	tcase_add_test(tc, test_sigv4_query_continuation_token);
	tcase_add_test(tc, test_sigv4_s3_path_and_token);
	tcase_add_test(tc, test_sigv4_presign_aws_example);
	tcase_add_test(tc, test_sigv4_presign_checksum_token);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
