/* compress.c — streaming gzip (zlib) and brotli compression from one fd to another. */
#include "compress.h"

#include <brotli/encode.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define COMPRESS_CHUNK 65536
/* Brotli's best quality costs about 1 ms per KiB plus a fixed ~2 ms per file; it is used where
 * it pays: files big enough for the savings to matter, small enough to stay quick. */
#define COMPRESS_BR_BEST_MIN (8u << 10)
#define COMPRESS_BR_BEST_MAX (1u << 20)

const char *compress_name(enum compress_kind kind)
{
	return kind == COMPRESS_GZIP ? "gzip" : "br";
}

static int compress_write(int fd, const unsigned char *p, size_t n, unsigned long long *total,
			  struct error *err)
{
	*total += n;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return error_set(err, SKIFF_EIO, NULL, "cannot write a compressed variant: %s",
					 strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the next chunk at *off; 0 at the end. */
static ssize_t compress_read(int fd, unsigned char *buf, off_t *off)
{
	for (;;) {
		ssize_t n = pread(fd, buf, COMPRESS_CHUNK, *off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			*off += n;
		return n;
	}
}

static int compress_gzip(int in, int out, unsigned long long *total, struct error *err)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return error_set(err, SKIFF_EINTERNAL, NULL, "deflateInit2 failed");
	unsigned char *ibuf = malloc(COMPRESS_CHUNK), *obuf = malloc(COMPRESS_CHUNK);
	if (!ibuf || !obuf)
		abort();
	off_t off = 0;
	int rc = 0, flush = Z_NO_FLUSH;
	while (rc == 0 && flush != Z_FINISH) {
		ssize_t n = compress_read(in, ibuf, &off);
		if (n < 0) {
			rc = error_set(err, SKIFF_EIO, NULL, "cannot read: %s", strerror(errno));
			break;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ibuf;
		z.avail_in = (uInt)n;
		do {
			z.next_out = obuf;
			z.avail_out = COMPRESS_CHUNK;
			int zr = deflate(&z, flush);
			if (zr == Z_STREAM_ERROR) {
				rc = error_set(err, SKIFF_EINTERNAL, NULL, "deflate failed");
				break;
			}
			rc = compress_write(out, obuf, COMPRESS_CHUNK - z.avail_out, total, err);
		} while (rc == 0 && z.avail_out == 0);
	}
	deflateEnd(&z);
	free(ibuf);
	free(obuf);
	return rc;
}

static int compress_br(int in, int out, unsigned long long *total, struct error *err)
{
	struct stat st;
	if (fstat(in, &st) < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot stat: %s", strerror(errno));
	BrotliEncoderState *s = BrotliEncoderCreateInstance(NULL, NULL, NULL);
	if (!s)
		abort();
	bool best = st.st_size >= (off_t)COMPRESS_BR_BEST_MIN &&
		    st.st_size <= (off_t)COMPRESS_BR_BEST_MAX;
	BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, best ? 11 : 9);
	BrotliEncoderSetParameter(s, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
	if (st.st_size > 0 && st.st_size < (1 << 30))
		BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT, (uint32_t)st.st_size);
	/* a window no larger than the file: much less to set up for small files */
	uint32_t lgwin = BROTLI_MIN_WINDOW_BITS;
	while (lgwin < BROTLI_MAX_WINDOW_BITS && ((off_t)1 << lgwin) - 16 < st.st_size)
		lgwin++;
	BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, lgwin);
	unsigned char *ibuf = malloc(COMPRESS_CHUNK), *obuf = malloc(COMPRESS_CHUNK);
	if (!ibuf || !obuf)
		abort();
	off_t off = 0;
	int rc = 0;
	bool eof = false;
	size_t avail_in = 0;
	const uint8_t *next_in = ibuf;
	while (rc == 0 && !BrotliEncoderIsFinished(s)) {
		if (avail_in == 0 && !eof) {
			ssize_t n = compress_read(in, ibuf, &off);
			if (n < 0) {
				rc = error_set(err, SKIFF_EIO, NULL, "cannot read: %s", strerror(errno));
				break;
			}
			eof = n == 0;
			avail_in = (size_t)n;
			next_in = ibuf;
		}
		size_t avail_out = COMPRESS_CHUNK;
		uint8_t *next_out = obuf;
		if (!BrotliEncoderCompressStream(s, eof ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
						 &avail_in, &next_in, &avail_out, &next_out, NULL)) {
			rc = error_set(err, SKIFF_EINTERNAL, NULL, "brotli compression failed");
			break;
		}
		rc = compress_write(out, obuf, COMPRESS_CHUNK - avail_out, total, err);
	}
	BrotliEncoderDestroyInstance(s);
	free(ibuf);
	free(obuf);
	return rc;
}

int compress_fd(enum compress_kind kind, int in_fd, int out_fd, unsigned long long *out_size,
		struct error *err)
{
	*out_size = 0;
	return kind == COMPRESS_GZIP ? compress_gzip(in_fd, out_fd, out_size, err) :
				       compress_br(in_fd, out_fd, out_size, err);
}
