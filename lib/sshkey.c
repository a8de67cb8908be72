/* sshkey.c — ed25519 deploy keys (libcrypto EVP) written in OpenSSH's own formats, and SHA-256
 * key fingerprints. */
#include "sshkey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SSHKEY_ED25519 "ssh-ed25519"
#define SSHKEY_BLOB_MAX 600          /* the binary private key file before base64 */
#define SSHKEY_LINE 70               /* base64 characters per line, as ssh-keygen writes */

/* A bounded writer of SSH wire encoding (RFC 4251): uint32 and length-prefixed strings. */
struct sshkey_wire {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

static void sshkey_put(struct sshkey_wire *w, const void *data, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void sshkey_put_u32(struct sshkey_wire *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	sshkey_put(w, b, 4);
}

static void sshkey_put_string(struct sshkey_wire *w, const void *data, size_t n)
{
	sshkey_put_u32(w, (uint32_t)n);
	sshkey_put(w, data, n);
}

/* The public key blob: string "ssh-ed25519", string key. */
static size_t sshkey_public_blob(const unsigned char pub[32], unsigned char out[64])
{
	struct sshkey_wire w = { out, 0, 64, 0 };
	sshkey_put_string(&w, SSHKEY_ED25519, sizeof(SSHKEY_ED25519) - 1);
	sshkey_put_string(&w, pub, 32);
	return w.len;
}

void sshkey_fingerprint(const unsigned char *blob, size_t n, int digest,
			char out[SSHKEY_FINGERPRINT_MAX + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned char b64[48];
	if (digest)
		SHA256(blob, n, md);
	else
		memcpy(md, blob, sizeof(md));
	int len = EVP_EncodeBlock(b64, md, sizeof(md));
	while (len > 0 && b64[len - 1] == '=')
		len--;
	snprintf(out, SSHKEY_FINGERPRINT_MAX + 1, "SHA256:%.*s", len, (const char *)b64);
}

int sshkey_public_fingerprint(const char *line, char out[SSHKEY_FINGERPRINT_MAX + 1],
			      struct error *err)
{
	const char *sp = strchr(line, ' ');
	unsigned char blob[SSHKEY_PUBLIC_MAX];
	size_t n = sp ? strcspn(sp + 1, " \n") : 0;
	if (!sp || n == 0 || n % 4 || n > 4 * (sizeof(blob) / 3))
		return error_set(err, SKIFF_EINVALID, "invalid_public_key",
				 "not an authorized_keys line");
	int len = EVP_DecodeBlock(blob, (const unsigned char *)sp + 1, (int)n);
	if (len < 0)
		return error_set(err, SKIFF_EINVALID, "invalid_public_key",
				 "the public key is not base64");
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (sp[n] == '=')
		len -= sp[n - 1] == '=' ? 2 : 1;
	sshkey_fingerprint(blob, (size_t)len, 1, out);
	return 0;
}

/* The raw private seed and public key of a new ed25519 key. */
static int sshkey_ed25519_new(unsigned char seed[32], unsigned char pub[32], struct error *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *key = NULL;
	size_t sl = 32, pl = 32;
	int ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1 &&
		 EVP_PKEY_get_raw_private_key(key, seed, &sl) == 1 &&
		 EVP_PKEY_get_raw_public_key(key, pub, &pl) == 1 && sl == 32 && pl == 32;
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return error_set(err, SKIFF_EINTERNAL, NULL, "cannot generate an ed25519 key");
	return 0;
}

/* The OpenSSH private key file ("openssh-key-v1", no cipher, one key) of seed/pub. */
static int sshkey_private_file(const unsigned char seed[32], const unsigned char pub[32],
			       const char *comment, char out[SSHKEY_PRIVATE_MAX + 1],
			       struct error *err)
{
	unsigned char blob[SSHKEY_BLOB_MAX], section[SSHKEY_BLOB_MAX], pubblob[64], both[64];
	unsigned char b64[4 * (SSHKEY_BLOB_MAX / 3) + 8];
	uint32_t check;
	int rc = 0;
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		return error_set(err, SKIFF_EINTERNAL, NULL, "no random bytes");
	size_t publen = sshkey_public_blob(pub, pubblob);
	memcpy(both, seed, 32);
	memcpy(both + 32, pub, 32);
	struct sshkey_wire s = { section, 0, sizeof(section), 0 };
	sshkey_put_u32(&s, check);
	sshkey_put_u32(&s, check);
	sshkey_put_string(&s, SSHKEY_ED25519, sizeof(SSHKEY_ED25519) - 1);
	sshkey_put_string(&s, pub, 32);
	sshkey_put_string(&s, both, 64);
	sshkey_put_string(&s, comment, strlen(comment));
	for (unsigned char pad = 1; s.len % 8; pad++)
		sshkey_put(&s, &pad, 1);
	struct sshkey_wire w = { blob, 0, sizeof(blob), 0 };
	sshkey_put(&w, "openssh-key-v1", 15); /* with its NUL */
	sshkey_put_string(&w, "none", 4);
	sshkey_put_string(&w, "none", 4);
	sshkey_put_string(&w, "", 0);
	sshkey_put_u32(&w, 1);
	sshkey_put_string(&w, pubblob, publen);
	sshkey_put_string(&w, section, s.len);
	if (s.overflow || w.overflow) {
		rc = error_set(err, SKIFF_EINTERNAL, NULL, "the private key does not fit");
		goto out;
	}
	int n = EVP_EncodeBlock(b64, blob, (int)w.len);
	size_t used = (size_t)snprintf(out, SSHKEY_PRIVATE_MAX + 1,
				       "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (int i = 0; i < n && used < SSHKEY_PRIVATE_MAX; i += SSHKEY_LINE)
		used += (size_t)snprintf(out + used, SSHKEY_PRIVATE_MAX + 1 - used, "%.*s\n",
					 n - i < SSHKEY_LINE ? n - i : SSHKEY_LINE,
					 (const char *)b64 + i);
	if (used < SSHKEY_PRIVATE_MAX)
		used += (size_t)snprintf(out + used, SSHKEY_PRIVATE_MAX + 1 - used,
					 "-----END OPENSSH PRIVATE KEY-----\n");
	if (used >= SSHKEY_PRIVATE_MAX)
		rc = error_set(err, SKIFF_EINTERNAL, NULL, "the private key does not fit");
out:
	OPENSSL_cleanse(blob, sizeof(blob));
	OPENSSL_cleanse(section, sizeof(section));
	OPENSSL_cleanse(both, sizeof(both));
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}

int sshkey_generate(const char *comment, char private_out[SSHKEY_PRIVATE_MAX + 1],
		    char public_out[SSHKEY_PUBLIC_MAX + 1],
		    char fingerprint[SSHKEY_FINGERPRINT_MAX + 1], struct error *err)
{
	unsigned char seed[32], pub[32], pubblob[64], b64[96];
	if (strlen(comment) > SSHKEY_COMMENT_MAX)
		return error_set(err, SKIFF_EINVALID, NULL, "the key's comment is too long");
	int rc = sshkey_ed25519_new(seed, pub, err);
	if (rc == 0)
		rc = sshkey_private_file(seed, pub, comment, private_out, err);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc < 0)
		return rc;
	size_t publen = sshkey_public_blob(pub, pubblob);
	int n = EVP_EncodeBlock(b64, pubblob, (int)publen);
	snprintf(public_out, SSHKEY_PUBLIC_MAX + 1, "%s %.*s %s", SSHKEY_ED25519, n,
		 (const char *)b64, comment);
	sshkey_fingerprint(pubblob, publen, 1, fingerprint);
	return 0;
}
