/* request.h — the HTTP request of an SSE client: complete, parsed, validated. */
#ifndef SSE_REQUEST_H
#define SSE_REQUEST_H

#include "bridge.h"

/* Length of the header block (through the empty line) when p[0..n) holds all of it,
 * 0 when more bytes are needed. */
size_t request_complete(const char *p, size_t n);
/* Parses a complete header block. Returns 0, or the HTTP status of the error response
 * with its machine name in *code (400, 404, 405, 431, 505). */
int request_parse(const char *p, size_t n, struct request *req, const char **code);

#endif
