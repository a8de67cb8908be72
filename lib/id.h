/* id.h — deployment ids: 12 characters of lowercase base32 from getrandom(). */
#ifndef SKIFF_ID_H
#define SKIFF_ID_H

#include <stddef.h>

#define ID_LEN 12

/* Writes a fresh id and its NUL into out[ID_LEN + 1]. Aborts if the kernel has no entropy. */
void id_new(char out[ID_LEN + 1]);
/* 1 when s is a well-formed deployment id. */
int id_valid(const char *s);
/* A secret: prefix, then base32 from getrandom up to len characters, and a NUL (out has
 * len + 1 bytes; the prefix is shorter than len). */
void id_secret_new(const char *prefix, char *out, size_t len);
/* 1 when s is prefix followed by base32 characters, len characters in all. */
int id_secret_valid(const char *prefix, size_t len, const char *s);
/* Random lowercase hex of 2*nbytes characters into out (for secrets). */
void id_hex(char *out, unsigned nbytes);

#endif
