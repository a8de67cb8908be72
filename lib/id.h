/* id.h — deployment ids: 12 characters of lowercase base32 from getrandom(). */
#ifndef SKIFF_ID_H
#define SKIFF_ID_H

#define ID_LEN 12

/* Writes a fresh id and its NUL into out[ID_LEN + 1]. Aborts if the kernel has no entropy. */
void id_new(char out[ID_LEN + 1]);
/* 1 when s is a well-formed deployment id. */
int id_valid(const char *s);
/* Random lowercase hex of 2*nbytes characters into out (for secrets). */
void id_hex(char *out, unsigned nbytes);

#endif
