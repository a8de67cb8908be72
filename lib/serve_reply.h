/* serve_reply.h — the response half of serve_decide: representation (br/gzip), conditional
 * requests, Range, caching headers and the _headers rules for a chosen file or page. */
#ifndef SKIFF_SERVE_REPLY_H
#define SKIFF_SERVE_REPLY_H

#include <stdbool.h>
#include "serve.h"

/* Fills d to send file with status (200, 404, 410). exact: the request path named this very
 * file (no rewrite or fallback), which alone allows immutable caching of hashed names. */
void serve_reply_file(const struct manifest *m, const struct manifest_file *file, int status,
		      bool exact, const struct serve_request *req, struct arena *arena,
		      struct serve_decision *d);
/* Adds the headers of the deployment's _headers rules matching path (normalised). */
void serve_reply_rules(const struct manifest *m, const char *path, struct arena *arena,
		       struct serve_decision *d);
/* 1 when a file name carries a content hash (app.3f2a9c1e.js, index-BkT3Fq1a.js). */
int serve_reply_name_hashed(const char *path);
/* Parses an IMF-fixdate; -1 when malformed. */
long long serve_reply_http_date(const char *s);

#endif
