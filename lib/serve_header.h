/* serve_header.h — the response headers of a serve decision, set and read by name. */
#ifndef SKIFF_SERVE_HEADER_H
#define SKIFF_SERVE_HEADER_H

#include "serve.h"

/* Adds a header to d (ignored beyond SERVE_HEADERS_MAX). A name already present is replaced
 * (names compare without case). value must outlive d. */
void serve_header_set(struct serve_decision *d, const char *name, const char *value);
/* The value of header name in d, or NULL. */
const char *serve_header_get(const struct serve_decision *d, const char *name);

#endif
