/* secret.h — values sealed at rest: AES-256-GCM with a key from a root-owned file, bound to
 * their owner and field by additional authenticated data. */
#ifndef SKIFF_SECRET_H
#define SKIFF_SECRET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define SECRET_KEY_LEN 32       /* AES-256 */
#define SECRET_NONCE_LEN 12     /* 96 bits, random per value */
#define SECRET_TAG_LEN 16
#define SECRET_PLAIN_MAX 65536  /* bytes of one value */
#define SECRET_AAD_MAX 512      /* bytes of its owner/field name */
#define SECRET_PREFIX "v1:"     /* the version of the text form */
/* The longest sealed text: prefix, base64 of nonce|ciphertext|tag, NUL. */
#define SECRET_SEALED_MAX \
	(sizeof(SECRET_PREFIX) - 1 + \
	 4 * ((SECRET_NONCE_LEN + SECRET_PLAIN_MAX + SECRET_TAG_LEN + 2) / 3) + 1)

struct secret_key {
	unsigned char bytes[SECRET_KEY_LEN];
	bool loaded;
};

/* Reads the key from path: exactly 32 bytes, or 64 hex digits and an optional newline. The
 * file must be a regular file (not a symlink) owned by root or by this process's user, with
 * no permission for others and none to write for its group (0600, or root:skiff 0640 so that
 * the unprivileged services may read it). Errors (SKIFF_EINTERNAL,
 * "secret_key_unavailable") name the path and the fault, never the content. */
int secret_key_load(const char *path, struct secret_key *k, struct error *err);
/* Wipes the key from memory. */
void secret_key_dispose(struct secret_key *k);

/* Seals plain[0..n) (n <= SECRET_PLAIN_MAX) for the field named aad ("proj/env/NAME"): a
 * random nonce, AES-256-GCM, and *out = "v1:" base64(nonce|ciphertext|tag), malloc'd, owned
 * by the caller. */
int secret_seal(const struct secret_key *k, const char *aad, const void *plain, size_t n,
		char **out, struct error *err);
/* Opens a sealed text made by secret_seal with the same key and aad. *plain is malloc'd and
 * NUL-terminated (*n excludes the NUL); free it with secret_plain_free. A bad encoding, another
 * key, another aad or any altered byte is SKIFF_EINVALID ("secret_invalid") and leaves *plain
 * NULL. */
int secret_open(const struct secret_key *k, const char *aad, const char *sealed, char **plain,
		size_t *n, struct error *err);
/* Wipes and frees a value from secret_open (NULL does nothing). */
void secret_plain_free(char *plain, size_t n);
/* Wipes every string of a JSON value that carried plain secrets (objects and arrays walked),
 * then drops the reference (NULL does nothing). */
void secret_json_free(json_t *v);
/* Whether s has the shape of a sealed text (prefix and base64 alphabet); says nothing of its
 * authenticity. */
bool secret_is_sealed(const char *s);

#endif
