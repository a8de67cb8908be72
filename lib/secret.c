/* secret.c — AES-256-GCM sealing of values at rest (libcrypto EVP), and the key file. */
#include "secret.h"
#include "hex.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KEY_FILE_MAX 128 /* bytes read from the key file: more is a fault */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The one error of an unusable key file: names the path and the fault, never the content. */
static int key_fault(struct error *err, const char *path, const char *what)
{
	return error_set(err, SKIFF_EINTERNAL, "secret_key_unavailable", "secret_key_file %s: %s",
			 path, what);
}

int secret_key_load(const char *path, struct secret_key *k, struct error *err)
{
	unsigned char buf[KEY_FILE_MAX + 1];
	ssize_t got = 0;
	int rc = 0;
	int fd = -1;

	memset(k, 0, sizeof(*k));
	if (!path || !*path)
		return error_set(err, SKIFF_EINTERNAL, "secret_key_unavailable",
				 "secret_key_file is not set");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno == ENOENT ? key_fault(err, path, "missing (create it: head -c 32 "
						 "/dev/urandom > FILE, mode 0600)")
			: key_fault(err, path, errno == ELOOP ? "is a symbolic link" : strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = key_fault(err, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = key_fault(err, path, "not a regular file");
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		rc = key_fault(err, path, "owned by another user (root or this service's own)");
		goto out;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		rc = key_fault(err, path, "readable or writable by others (chmod 0600, or 0640 "
			       "with the group of the services)");
		goto out;
	}
	while (got < (ssize_t)sizeof(buf)) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - (size_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = key_fault(err, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += r;
	}
	if (got == SECRET_KEY_LEN) {
		memcpy(k->bytes, buf, SECRET_KEY_LEN);
	} else if ((got == 2 * SECRET_KEY_LEN ||
		    (got == 2 * SECRET_KEY_LEN + 1 && buf[2 * SECRET_KEY_LEN] == '\n'))) {
		char text[2 * SECRET_KEY_LEN + 1];
		memcpy(text, buf, 2 * SECRET_KEY_LEN);
		text[2 * SECRET_KEY_LEN] = '\0';
		int bad = hex_decode(text, SECRET_KEY_LEN, k->bytes);
		OPENSSL_cleanse(text, sizeof(text));
		if (bad) {
			rc = key_fault(err, path, "64 characters that are not all hex digits");
			goto out;
		}
	} else {
		rc = key_fault(err, path, "not 32 bytes (nor 64 hex digits)");
		goto out;
	}
	k->loaded = true;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		secret_key_dispose(k);
	return rc;
}

void secret_key_dispose(struct secret_key *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

static int secret_check_args(const struct secret_key *k, const char *aad, struct error *err)
{
	if (!k || !k->loaded)
		return error_set(err, SKIFF_EINTERNAL, "secret_key_unavailable",
				 "no secret key is loaded");
	if (!aad || strlen(aad) > SECRET_AAD_MAX)
		return error_set(err, SKIFF_EINVALID, "secret_invalid",
				 "the field name of a secret is missing or longer than %d bytes",
				 SECRET_AAD_MAX);
	return 0;
}

int secret_seal(const struct secret_key *k, const char *aad, const void *plain, size_t n,
		char **out, struct error *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *text = NULL;
	int rc = secret_check_args(k, aad, err);
	int len = 0;

	*out = NULL;
	if (rc < 0)
		return rc;
	if (n > SECRET_PLAIN_MAX)
		return error_set(err, SKIFF_ELIMIT, "secret_too_large",
				 "a secret value is longer than %d bytes", SECRET_PLAIN_MAX);
	size_t raw_len = SECRET_NONCE_LEN + n + SECRET_TAG_LEN;
	raw = malloc(raw_len);
	size_t text_len = sizeof(SECRET_PREFIX) - 1 + 4 * ((raw_len + 2) / 3);
	text = malloc(text_len + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!raw || !text || !ctx)
		abort();
	if (getrandom(raw, SECRET_NONCE_LEN, 0) != SECRET_NONCE_LEN) {
		rc = error_set(err, SKIFF_ESYS, "secret_random", "getrandom: %s", strerror(errno));
		goto out;
	}
	unsigned char *ct = raw + SECRET_NONCE_LEN;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, k->bytes, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN, ct + n) != 1) {
		rc = error_set(err, SKIFF_EINTERNAL, "secret_cipher", "AES-256-GCM sealing failed");
		goto out;
	}
	memcpy(text, SECRET_PREFIX, sizeof(SECRET_PREFIX) - 1);
	int b = EVP_EncodeBlock((unsigned char *)text + sizeof(SECRET_PREFIX) - 1, raw,
				(int)raw_len);
	assert(b >= 0 && (size_t)b == text_len - (sizeof(SECRET_PREFIX) - 1));
	text[text_len] = '\0';
	*out = text;
	text = NULL;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (raw)
		OPENSSL_cleanse(raw, raw_len);
	free(raw);
	free(text);
	return rc;
}

bool secret_is_sealed(const char *s)
{
	size_t p = sizeof(SECRET_PREFIX) - 1;
	if (!s || strncmp(s, SECRET_PREFIX, p) != 0)
		return false;
	s += p;
	size_t n = strlen(s);
	if (n == 0 || n % 4 != 0)
		return false;
	size_t body = strspn(s, b64_alphabet);
	size_t pad = n - body;
	if (pad > 2)
		return false;
	for (size_t i = body; i < n; i++)
		if (s[i] != '=')
			return false;
	return true;
}

int secret_open(const struct secret_key *k, const char *aad, const char *sealed, char **plain,
		size_t *n, struct error *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t raw_len = 0, plain_len = 0;
	int rc = secret_check_args(k, aad, err);
	int len = 0;

	*plain = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	if (!secret_is_sealed(sealed) || strlen(sealed) >= SECRET_SEALED_MAX) {
		rc = error_set(err, SKIFF_EINVALID, "secret_invalid",
			       "a stored secret is not in the sealed form (v1:base64)");
		goto out;
	}
	const char *b64 = sealed + sizeof(SECRET_PREFIX) - 1;
	size_t b64_len = strlen(b64);
	size_t pad = (b64[b64_len - 1] == '=') + (b64_len > 1 && b64[b64_len - 2] == '=');
	raw = malloc(b64_len / 4 * 3 + 1);
	if (!raw)
		abort();
	int d = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
	if (d < 0 || (size_t)d < pad) {
		rc = error_set(err, SKIFF_EINVALID, "secret_invalid",
			       "a stored secret is not valid base64");
		goto out;
	}
	raw_len = (size_t)d - pad;
	if (raw_len < SECRET_NONCE_LEN + SECRET_TAG_LEN) {
		rc = error_set(err, SKIFF_EINVALID, "secret_invalid", "a stored secret is truncated");
		goto out;
	}
	plain_len = raw_len - SECRET_NONCE_LEN - SECRET_TAG_LEN;
	out = malloc(plain_len + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!out || !ctx)
		abort();
	const unsigned char *ct = raw + SECRET_NONCE_LEN;
	unsigned char tag[SECRET_TAG_LEN];
	memcpy(tag, ct + plain_len, SECRET_TAG_LEN);
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, k->bytes, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    (plain_len > 0 &&
	     EVP_DecryptUpdate(ctx, (unsigned char *)out, &len, ct, (int)plain_len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + plain_len, &len) != 1) {
		rc = error_set(err, SKIFF_EINVALID, "secret_invalid",
			       "a stored secret cannot be opened: another key, another field, or "
			       "altered");
		goto out;
	}
	out[plain_len] = '\0';
	*plain = out;
	*n = plain_len;
	out = NULL;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (raw)
		OPENSSL_cleanse(raw, b64_len / 4 * 3 + 1);
	free(raw);
	if (out)
		secret_plain_free(out, plain_len + 1);
	return rc;
}

void secret_plain_free(char *plain, size_t n)
{
	if (!plain)
		return;
	OPENSSL_cleanse(plain, n);
	free(plain);
}

static void secret_json_wipe(json_t *v, int depth)
{
	const char *k;
	size_t i;
	json_t *x;
	if (depth > 16 || v->refcount != 1)  /* another holder still reads it */
		return;
	if (json_is_string(v)) {
		/* jansson's own copy: cleansed in place before it is freed */
		OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			secret_json_wipe(x, depth + 1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			secret_json_wipe(x, depth + 1);
	}
}

void secret_json_free(json_t *v)
{
	if (!v)
		return;
	secret_json_wipe(v, 0);  /* only what this last reference held */
	json_decref(v);
}
