/* build_log.h — the deployment's build log as the parts of skiff-build write it. */
#ifndef SKIFF_BUILD_BUILD_LOG_H
#define SKIFF_BUILD_BUILD_LOG_H

#include "build.h"

/* Appends a system line to the deployment's log (also to stderr at debug level). While
 * Redis is unreachable, lines wait in b->log_pending (bounded) and go in first, in order,
 * once it answers again; build_log_flush(b, true) at the end of the build. */
void build_log(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a line of the commands' output (source: LOG_SRC_STDOUT / LOG_SRC_STDERR) after
 * making it safe to show: valid UTF-8, no escape sequences or control characters. */
void build_log_output(struct build *b, const char *source, const char *text, size_t len,
		      bool cut);
/* Appends the lines held while Redis was unreachable; force: even before log_retry_ms.
 * 0 when none is left. */
int build_log_flush(struct build *b, bool force, struct error *err);

#endif
