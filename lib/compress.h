/* compress.h — precompressed variants of text assets (gzip through zlib, brotli), written at
 * build time so the web server can send them as they are. */
#ifndef SKIFF_COMPRESS_H
#define SKIFF_COMPRESS_H

#include "error.h"

#define COMPRESS_MIN_BYTES 1024   /* smaller files are not worth a variant */

enum compress_kind { COMPRESS_GZIP, COMPRESS_BR };

/* Compresses the whole of in_fd (read with pread from offset 0; the offset is not moved)
 * into out_fd (written from its current position). *out_size receives the compressed size. */
int compress_fd(enum compress_kind kind, int in_fd, int out_fd, unsigned long long *out_size,
		struct error *err);
/* "gzip" / "br": the manifest's and Content-Encoding's name. */
const char *compress_name(enum compress_kind kind);

#endif
