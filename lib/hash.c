/* hash.c — SHA-256 through OpenSSL's EVP interface. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void hash_hex(const unsigned char *md, char out[HASH_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
}

int hash_file(const char *path, char out[HASH_HEX_LEN + 1], unsigned long long *size,
	      struct error *err)
{
	int rc = 0;
	EVP_MD_CTX *ctx = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	unsigned char chunk[65536];
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = error_set(err, SKIFF_EIO, NULL, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		total += (unsigned long long)n;
	}
	unsigned char md[32];
	EVP_DigestFinal_ex(ctx, md, NULL);
	hash_hex(md, out);
	if (size)
		*size = total;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

void hash_buffer(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
	unsigned char md[32];
	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	hash_hex(md, out);
}
