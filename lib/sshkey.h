/* sshkey.h — SSH keys for private repositories: ed25519 deploy keys in the formats OpenSSH
 * and libssh2 read, and SHA-256 fingerprints written as ssh-keygen -l writes them. */
#ifndef SKIFF_SSHKEY_H
#define SKIFF_SSHKEY_H

#include <stddef.h>
#include "error.h"

#define SSHKEY_COMMENT_MAX 64       /* the comment of a generated key ("skiff-{slug}") */
#define SSHKEY_PUBLIC_MAX 192       /* "ssh-ed25519 " base64(51 bytes) " " comment */
#define SSHKEY_PRIVATE_MAX 1024     /* the OpenSSH private key file of an ed25519 key */
#define SSHKEY_FINGERPRINT_MAX 56   /* "SHA256:" and 43 characters of base64 */
#define SSHKEY_TYPE_MAX 31          /* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */

/* A new ed25519 key pair: private in the OpenSSH private key format (unencrypted, as
 * ssh-keygen -t ed25519 -N '' writes it), public as an authorized_keys line ending in
 * comment, and the public key's fingerprint. The private key is wiped from every buffer but
 * out. */
int sshkey_generate(const char *comment, char private_out[SSHKEY_PRIVATE_MAX + 1],
		    char public_out[SSHKEY_PUBLIC_MAX + 1],
		    char fingerprint[SSHKEY_FINGERPRINT_MAX + 1], struct error *err);
/* "SHA256:" and the unpadded base64 of a SHA-256 digest of a key blob (or of the blob itself
 * when digest is 0: blob is then the 32-byte digest). */
void sshkey_fingerprint(const unsigned char *blob, size_t n, int digest,
			char out[SSHKEY_FINGERPRINT_MAX + 1]);
/* The fingerprint of an authorized_keys line ("type base64 [comment]"): 0, or SKIFF_EINVALID
 * when it is not one. */
int sshkey_public_fingerprint(const char *line, char out[SSHKEY_FINGERPRINT_MAX + 1],
			      struct error *err);

#endif
