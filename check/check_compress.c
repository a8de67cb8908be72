/* check_compress.c — the precompressed variants: what gzip and brotli write decodes back to
 * the very bytes read, at every size that crosses a chunk or a quality threshold; input that
 * does not compress gives a variant no smaller than itself (so the build drops it). */
#include <brotli/decode.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#include <zlib.h>

#include "compress.h"

static int mem_fd(const void *data, size_t n)
{
	int fd = memfd_create("check_compress", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		ck_assert_int_gt(w, 0);
		p += w;
		n -= (size_t)w;
	}
	return fd;
}

/* The whole content of fd from offset 0, its length in *n (caller frees). */
static unsigned char *fd_slurp(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	ck_assert_int_ge(end, 0);
	unsigned char *p = malloc((size_t)end + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, (size_t)end, 0), end);
	*n = (size_t)end;
	return p;
}

/* Text that compresses like a web asset: repeated words with some variety. */
static unsigned char *text_of(size_t n)
{
	static const char *words[] = { "function ", "return ", "const ", "{ ", "} ", "value",
				       "=> ", "document.", "querySelector(", "\"skiff\"", ";\n" };
	unsigned char *p = malloc(n + 1);
	ck_assert_ptr_nonnull(p);
	size_t o = 0;
	for (unsigned i = 0; o < n; i = i * 7 + 3) {
		const char *w = words[i % (sizeof(words) / sizeof(words[0]))];
		for (; *w && o < n; w++)
			p[o++] = (unsigned char)*w;
	}
	return p;
}

static unsigned char *gunzip(const unsigned char *in, size_t n, size_t want)
{
	unsigned char *out = malloc(want + 1);
	ck_assert_ptr_nonnull(out);
	z_stream z;
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);   /* gzip wrapper only */
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)want + 1;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, want);
	ck_assert_uint_eq(z.avail_in, 0);                    /* nothing after the stream */
	inflateEnd(&z);
	return out;
}

static unsigned char *unbrotli(const unsigned char *in, size_t n, size_t want)
{
	size_t got = want + 1;
	unsigned char *out = malloc(got);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(BrotliDecoderDecompress(n, in, &got, out), BROTLI_DECODER_RESULT_SUCCESS);
	ck_assert_uint_eq(got, want);
	return out;
}

/* Compresses data with kind and checks the round trip and the reported size. */
static size_t round_trip(enum compress_kind kind, const unsigned char *data, size_t n)
{
	int in = mem_fd(data, n), out = memfd_create("out", MFD_CLOEXEC);
	ck_assert_int_ge(out, 0);
	off_t at = lseek(in, 0, SEEK_CUR);
	unsigned long long size = 0;
	struct error err;
	ck_assert_msg(compress_fd(kind, in, out, &size, &err) == 0, "%s", err.message);
	ck_assert_int_eq(lseek(in, 0, SEEK_CUR), at);        /* the input offset is not moved */
	size_t clen;
	unsigned char *c = fd_slurp(out, &clen);
	ck_assert_uint_eq(size, clen);
	unsigned char *back = kind == COMPRESS_GZIP ? gunzip(c, clen, n) : unbrotli(c, clen, n);
	ck_assert_msg(n == 0 || memcmp(back, data, n) == 0, "%s: %zu bytes differ after decoding",
		      compress_name(kind), n);
	free(back);
	free(c);
	close(in);
	close(out);
	return clen;
}

/* Sizes around the 64 KiB read chunk and brotli's quality thresholds (8 KiB, 1 MiB). */
static const size_t sizes[] = { 0, 1, 1023, 1024, 8191, 8192, 65535, 65536, 65537, 200000,
				(1u << 20), (1u << 20) + 1 };

START_TEST(test_compress_gzip_round_trip)
{
	size_t n = sizes[_i];
	unsigned char *data = text_of(n);
	size_t c = round_trip(COMPRESS_GZIP, data, n);
	if (n >= 1024)
		ck_assert_msg(c < n / 3, "gzip of %zu bytes of text: %zu", n, c);
	free(data);
}
END_TEST

START_TEST(test_compress_br_round_trip)
{
	size_t n = sizes[_i];
	unsigned char *data = text_of(n);
	size_t c = round_trip(COMPRESS_BR, data, n);
	if (n >= 1024)
		ck_assert_msg(c < n / 3, "brotli of %zu bytes of text: %zu", n, c);
	free(data);
}
END_TEST

/* Random bytes do not compress: the variant is no smaller, which is what makes the build keep
 * only the original. Both decoders still read it back exactly. */
START_TEST(test_compress_random_not_smaller)
{
	enum { N = 100000 };
	unsigned char *data = malloc(N);
	ck_assert_ptr_nonnull(data);
	for (size_t o = 0; o < N;) {
		ssize_t r = getrandom(data + o, N - o, 0);
		ck_assert_int_gt(r, 0);
		o += (size_t)r;
	}
	ck_assert_uint_ge(round_trip(COMPRESS_GZIP, data, N), N);
	ck_assert_uint_ge(round_trip(COMPRESS_BR, data, N), N);
	free(data);
}
END_TEST

/* The variant goes after whatever out_fd already holds, from its current position. */
START_TEST(test_compress_appends_at_position)
{
	unsigned char *data = text_of(5000);
	int in = mem_fd(data, 5000), out = mem_fd("HEAD", 4);
	unsigned long long size = 0;
	struct error err;
	ck_assert_int_eq(compress_fd(COMPRESS_GZIP, in, out, &size, &err), 0);
	size_t n;
	unsigned char *all = fd_slurp(out, &n);
	ck_assert_uint_eq(n, 4 + size);
	ck_assert_int_eq(memcmp(all, "HEAD", 4), 0);
	free(gunzip(all + 4, n - 4, 5000));
	free(all);
	free(data);
	close(in);
	close(out);
}
END_TEST

START_TEST(test_compress_write_error)
{
	unsigned char *data = text_of(5000);
	int in = mem_fd(data, 5000);
	int ro = memfd_create("ro", MFD_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
	int out = open(path, O_RDONLY | O_CLOEXEC);      /* not writable */
	ck_assert_int_ge(out, 0);
	unsigned long long size = 0;
	struct error err;
	ck_assert_int_eq(compress_fd(COMPRESS_BR, in, out, &size, &err), SKIFF_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "cannot write"));
	free(data);
	close(in);
	close(out);
	close(ro);
}
END_TEST

START_TEST(test_compress_names)
{
	/* the manifest's keys and Content-Encoding values skiff-serve sends */
	ck_assert_str_eq(compress_name(COMPRESS_GZIP), "gzip");
	ck_assert_str_eq(compress_name(COMPRESS_BR), "br");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compress");
	TCase *tc = tcase_create("compress");
	tcase_set_timeout(tc, 60);
	int nsizes = (int)(sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_loop_test(tc, test_compress_gzip_round_trip, 0, nsizes);
	tcase_add_loop_test(tc, test_compress_br_round_trip, 0, nsizes);
	tcase_add_test(tc, test_compress_random_not_smaller);
	tcase_add_test(tc, test_compress_appends_at_position);
	tcase_add_test(tc, test_compress_write_error);
	tcase_add_test(tc, test_compress_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
