/* hash.h — SHA-256 of files and buffers as lowercase hex. */
#ifndef SKIFF_HASH_H
#define SKIFF_HASH_H

#include <stddef.h>
#include "error.h"

#define HASH_HEX_LEN 64

int hash_file(const char *path, char out[HASH_HEX_LEN + 1], unsigned long long *size,
	      struct error *err);
void hash_buffer(const void *data, size_t len, char out[HASH_HEX_LEN + 1]);

#endif
