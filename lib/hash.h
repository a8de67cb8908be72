/* hash.h — SHA-256 of files and buffers as lowercase hex. */
#ifndef SKIFF_HASH_H
#define SKIFF_HASH_H

#include <stddef.h>
#include "error.h"

#define HASH_HEX_LEN 64

/* SHA-256 and size of everything readable from fd, from offset 0 (the offset is not moved). */
int hash_fd(int fd, char out[HASH_HEX_LEN + 1], unsigned long long *size, struct error *err);
/* The same of the file at path (a symlink is refused). */
int hash_file(const char *path, char out[HASH_HEX_LEN + 1], unsigned long long *size,
	      struct error *err);
/* SHA-256 of a buffer. */
void hash_buffer(const void *data, size_t len, char out[HASH_HEX_LEN + 1]);
/* SHA-256 and size of everything readable from fd, read with pread from offset 0 (the file
 * offset is not moved). */
int hash_fd(int fd, char out[HASH_HEX_LEN + 1], unsigned long long *size, struct error *err);
/* A digest computed piece by piece, for bytes read once (a request body). */
struct hash_stream;
struct hash_stream *hash_stream_new(void);
void hash_stream_update(struct hash_stream *h, const void *data, size_t len);
void hash_stream_final(struct hash_stream *h, char out[HASH_HEX_LEN + 1]);
void hash_stream_free(struct hash_stream *h);

#endif
