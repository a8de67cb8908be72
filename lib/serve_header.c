/* serve_header.c — the response headers of a serve decision, set and read by name. */
#include "serve_header.h"

#include <strings.h>

void serve_header_set(struct serve_decision *d, const char *name, const char *value)
{
	for (size_t i = 0; i < d->nheaders; i++) {
		if (strcasecmp(d->headers[i].name, name) == 0) {
			d->headers[i].value = value;
			return;
		}
	}
	if (d->nheaders < SERVE_HEADERS_MAX) {
		d->headers[d->nheaders].name = name;
		d->headers[d->nheaders++].value = value;
	}
}

const char *serve_header_get(const struct serve_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nheaders; i++)
		if (strcasecmp(d->headers[i].name, name) == 0)
			return d->headers[i].value;
	return NULL;
}
