/* check_secret.c — sealed values: round trip, and refusal of every altered bit, another field,
 * another key and bad encodings; the key file's shape, owner and permissions. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "secret.h"
#include "testfs.h"

/* Base64 both ways for the tests' own tampering (padding removed from the decoded length). */
static int b64_decode(unsigned char *out, const char *b64)
{
	size_t n = strlen(b64);
	int d = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	return d - (b64[n - 1] == '=') - (b64[n - 2] == '=');
}

static void b64_encode(char *out, const unsigned char *raw, size_t n)
{
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
}

static struct secret_key test_key(unsigned char fill)
{
	struct secret_key k;
	memset(&k, 0, sizeof(k));
	for (int i = 0; i < SECRET_KEY_LEN; i++)
		k.bytes[i] = (unsigned char)(fill + i);
	k.loaded = true;
	return k;
}

static char *seal(const struct secret_key *k, const char *aad, const char *plain)
{
	char *out = NULL;
	struct error err;
	ck_assert_int_eq(secret_seal(k, aad, plain, strlen(plain), &out, &err), 0);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* Opening must fail with secret_invalid and hand back nothing. */
static void open_refused(const struct secret_key *k, const char *aad, const char *sealed)
{
	char *plain = (char *)1;
	size_t n = 99;
	struct error err;
	ck_assert_int_eq(secret_open(k, aad, sealed, &plain, &n, &err), SKIFF_EINVALID);
	ck_assert_str_eq(err.name, "secret_invalid");
	ck_assert_ptr_null(plain);
	ck_assert_uint_eq(n, 0);
}

START_TEST(test_secret_round_trip)
{
	struct secret_key k = test_key(1);
	static const char *values[] = { "", "x", "hunter2", "a value with spaces\nand a newline" };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *s = seal(&k, "proj/env/TOKEN", values[i]);
		ck_assert(strncmp(s, "v1:", 3) == 0);
		ck_assert(secret_is_sealed(s));
		if (strlen(values[i]) >= 7) /* shorter runs of letters occur in base64 by chance */
			ck_assert_ptr_null(strstr(s, values[i]));
		char *plain = NULL;
		size_t n = 0;
		struct error err;
		ck_assert_int_eq(secret_open(&k, "proj/env/TOKEN", s, &plain, &n, &err), 0);
		ck_assert_uint_eq(n, strlen(values[i]));
		ck_assert_str_eq(plain, values[i]);
		secret_plain_free(plain, n);
		free(s);
	}
}
END_TEST

START_TEST(test_secret_binary_and_largest)
{
	struct secret_key k = test_key(7);
	unsigned char *big = malloc(SECRET_PLAIN_MAX);
	for (size_t i = 0; i < SECRET_PLAIN_MAX; i++)
		big[i] = (unsigned char)(i * 31);
	char *s = NULL;
	struct error err;
	ck_assert_int_eq(secret_seal(&k, "p/f", big, SECRET_PLAIN_MAX, &s, &err), 0);
	ck_assert_uint_lt(strlen(s), SECRET_SEALED_MAX);
	char *plain = NULL;
	size_t n = 0;
	ck_assert_int_eq(secret_open(&k, "p/f", s, &plain, &n, &err), 0);
	ck_assert_uint_eq(n, SECRET_PLAIN_MAX);
	ck_assert_int_eq(memcmp(plain, big, n), 0);
	secret_plain_free(plain, n);
	free(s);
	s = (char *)1;
	ck_assert_int_eq(secret_seal(&k, "p/f", big, SECRET_PLAIN_MAX + 1, &s, &err), SKIFF_ELIMIT);
	ck_assert_ptr_null(s);
	free(big);
}
END_TEST

START_TEST(test_secret_fresh_nonce)
{
	struct secret_key k = test_key(1);
	char *a = seal(&k, "p/env/X", "same value");
	char *b = seal(&k, "p/env/X", "same value");
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

/* Every bit of nonce, ciphertext and tag flipped, one at a time: each is refused. */
START_TEST(test_secret_tamper_refused)
{
	struct secret_key k = test_key(3);
	char *s = seal(&k, "proj/env/API_KEY", "s3cr3t-value");
	size_t raw_len = SECRET_NONCE_LEN + strlen("s3cr3t-value") + SECRET_TAG_LEN;
	unsigned char raw[128], alt[128];
	ck_assert_int_eq(b64_decode(raw, s + 3), (int)raw_len);
	for (size_t bit = 0; bit < raw_len * 8; bit++) {
		memcpy(alt, raw, raw_len);
		alt[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		char text[256] = "v1:";
		b64_encode(text + 3, alt, raw_len);
		open_refused(&k, "proj/env/API_KEY", text);
	}
	/* and a character of the text form changed (still valid base64) */
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", s);
	copy[10] = copy[10] == 'A' ? 'B' : 'A';
	open_refused(&k, "proj/env/API_KEY", copy);
	free(s);
}
END_TEST

START_TEST(test_secret_wrong_aad_refused)
{
	struct secret_key k = test_key(3);
	char *s = seal(&k, "alpha/env/TOKEN", "value-of-alpha");
	open_refused(&k, "beta/env/TOKEN", s);   /* another project */
	open_refused(&k, "alpha/env/OTHER", s);  /* another field */
	open_refused(&k, "alpha/env/TOKE", s);
	open_refused(&k, "", s);
	free(s);
}
END_TEST

START_TEST(test_secret_wrong_key_refused)
{
	struct secret_key k1 = test_key(3), k2 = test_key(3);
	k2.bytes[31] ^= 0x80;
	char *s = seal(&k1, "p/env/X", "value");
	open_refused(&k2, "p/env/X", s);
	free(s);
	/* no key loaded: a clear error, not a crash */
	struct secret_key none;
	memset(&none, 0, sizeof(none));
	char *out = NULL;
	struct error err;
	ck_assert_int_eq(secret_seal(&none, "p/env/X", "v", 1, &out, &err), SKIFF_EINTERNAL);
	ck_assert_str_eq(err.name, "secret_key_unavailable");
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_secret_bad_encodings_refused)
{
	struct secret_key k = test_key(5);
	char *s = seal(&k, "p/env/X", "value");
	char buf[256];
	static const char *bad[] = {
		"", "v1:", "v1", "v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "plain text",
		"v1:AAAA",                                  /* shorter than nonce and tag */
		"v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* not a multiple of 4 */
		"v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A", /* padding inside */
		"v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA====", /* too much padding */
		"v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAA", /* a space */
		"v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_AA", /* base64url is not the form */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		open_refused(&k, "p/env/X", bad[i]);
	/* truncated by one group, and with a group appended */
	snprintf(buf, sizeof(buf), "%s", s);
	buf[strlen(buf) - 4] = '\0';
	open_refused(&k, "p/env/X", buf);
	snprintf(buf, sizeof(buf), "%sAAAA", s);
	open_refused(&k, "p/env/X", buf);
	snprintf(buf, sizeof(buf), "%s\n", s);
	open_refused(&k, "p/env/X", buf);
	free(s);
}
END_TEST

static void put_key(const char *path, const void *data, size_t n, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void load_fails(const char *path, const char *why)
{
	struct secret_key k;
	struct error err;
	ck_assert_int_eq(secret_key_load(path, &k, &err), SKIFF_EINTERNAL);
	ck_assert_str_eq(err.name, "secret_key_unavailable");
	ck_assert_msg(strstr(err.message, path) != NULL, "message names no path: %s", err.message);
	ck_assert_msg(strstr(err.message, why) != NULL, "'%s' not in: %s", why, err.message);
	ck_assert(!k.loaded);
}

START_TEST(test_secret_key_file)
{
	char dir[256], path[300], link[300];
	testfs_tmpdir(dir, sizeof(dir), "check_secret");
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	unsigned char raw[SECRET_KEY_LEN];
	for (int i = 0; i < SECRET_KEY_LEN; i++)
		raw[i] = (unsigned char)(0xa0 + i);
	struct secret_key k;
	struct error err;

	load_fails(path, "missing");
	put_key(path, raw, sizeof(raw), 0600);
	ck_assert_int_eq(secret_key_load(path, &k, &err), 0);
	ck_assert(k.loaded);
	ck_assert_int_eq(memcmp(k.bytes, raw, sizeof(raw)), 0);
	/* sealed with the file's key, opened with the same bytes */
	char *s = seal(&k, "p/env/X", "v");
	struct secret_key same = test_key(0);
	memcpy(same.bytes, raw, sizeof(raw));
	char *plain = NULL;
	size_t n;
	ck_assert_int_eq(secret_open(&same, "p/env/X", s, &plain, &n, &err), 0);
	secret_plain_free(plain, n);
	free(s);
	secret_key_dispose(&k);
	ck_assert(!k.loaded);

	put_key(path, raw, sizeof(raw), 0640); /* root:skiff 0640 is allowed */
	ck_assert_int_eq(secret_key_load(path, &k, &err), 0);
	put_key(path, raw, sizeof(raw), 0644);
	load_fails(path, "others");
	put_key(path, raw, sizeof(raw), 0660);
	load_fails(path, "others");
	put_key(path, raw, sizeof(raw), 0604);
	load_fails(path, "others");

	static const char hex[] =
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\n";
	put_key(path, hex, strlen(hex), 0600);
	ck_assert_int_eq(secret_key_load(path, &k, &err), 0);
	ck_assert_int_eq(memcmp(k.bytes, raw, sizeof(raw)), 0);
	put_key(path, hex, strlen(hex) - 1, 0600); /* without the newline */
	ck_assert_int_eq(secret_key_load(path, &k, &err), 0);
	char badhex[sizeof(hex)];
	memcpy(badhex, hex, sizeof(hex));
	badhex[5] = 'g';
	put_key(path, badhex, strlen(badhex), 0600);
	load_fails(path, "hex");
	put_key(path, raw, sizeof(raw) - 1, 0600);
	load_fails(path, "32 bytes");
	put_key(path, "", 0, 0600);
	load_fails(path, "32 bytes");
	unsigned char longer[SECRET_KEY_LEN + 1] = { 0 };
	put_key(path, longer, sizeof(longer), 0600);
	load_fails(path, "32 bytes");

	put_key(path, raw, sizeof(raw), 0600);
	ck_assert_int_eq(symlink(path, link), 0);
	load_fails(link, "symbolic link");
	load_fails(dir, "regular file");
	/* the bytes of the key never appear in an error */
	put_key(path, hex, strlen(hex) - 1, 0644);
	ck_assert_int_lt(secret_key_load(path, &k, &err), 0);
	ck_assert_ptr_null(strstr(err.message, "a0a1a2"));
	testfs_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("secret");
	tcase_add_test(tc, test_secret_round_trip);
	tcase_add_test(tc, test_secret_binary_and_largest);
	tcase_add_test(tc, test_secret_fresh_nonce);
	tcase_add_test(tc, test_secret_tamper_refused);
	tcase_add_test(tc, test_secret_wrong_aad_refused);
	tcase_add_test(tc, test_secret_wrong_key_refused);
	tcase_add_test(tc, test_secret_bad_encodings_refused);
	tcase_add_test(tc, test_secret_key_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
