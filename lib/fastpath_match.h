/* fastpath_match.h — what skiff-serve and lighttpd's fast path module must decide alike,
 * written once: plain C with no other skiff header, so that apache/mod_skiff_fastpath.c
 * compiles this very file (mk/lighttpd.mk). apache/skiff-fastpath.lua has its own Lua copy;
 * check/it_fastpath.sh compares both fast paths with skiff-serve. */
#ifndef SKIFF_FASTPATH_MATCH_H
#define SKIFF_FASTPATH_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#define FASTPATH_MATCH_PATH_MAX 2048   /* = PATH_URL_MAX (lib/path.h) */

/* Whether a raw request path of len bytes may have an entry in a fast-path tree: at most
 * FASTPATH_MATCH_PATH_MAX bytes, starting with '/', of [A-Za-z0-9._~/-] only, without "//"
 * or a segment starting with '.'. */
bool fastpath_match_path(const char *path, size_t len);
/* 1 when an If-None-Match list names etag (weak comparison) or is "*". */
int fastpath_match_etag(const char *list, const char *etag);

#endif
