/* hash.c — SHA-256 through OpenSSL's EVP interface. */
#include "hash.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hash_stream *hash_stream_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	return (struct hash_stream *)ctx;
}

void hash_stream_update(struct hash_stream *h, const void *data, size_t len)
{
	EVP_DigestUpdate((EVP_MD_CTX *)h, data, len);
}

void hash_stream_final(struct hash_stream *h, char out[HASH_HEX_LEN + 1])
{
	unsigned char md[32];
	EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, NULL);
	hex_encode(md, 32, out);
}

void hash_stream_free(struct hash_stream *h)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

int hash_fd(int fd, char out[HASH_HEX_LEN + 1], unsigned long long *size, struct error *err)
{
	struct hash_stream *h = hash_stream_new();
	unsigned char chunk[65536];
	unsigned long long total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), (off_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_set(err, SKIFF_EIO, NULL, "read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		hash_stream_update(h, chunk, (size_t)n);
		total += (unsigned long long)n;
	}
	if (rc == 0) {
		hash_stream_final(h, out);
		if (size)
			*size = total;
	}
	hash_stream_free(h);
	return rc;
}

int hash_file(const char *path, char out[HASH_HEX_LEN + 1], unsigned long long *size,
	      struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
	int rc = hash_fd(fd, out, size, NULL);
	if (rc < 0)
		error_set(err, SKIFF_EIO, NULL, "cannot read %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

void hash_buffer(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
	unsigned char md[32];
	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}
