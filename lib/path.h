/* path.h — the request path normaliser of skiff-serve (doc/sites.md): percent-decode
 * once, reject what cannot name a file, resolve "." and ".." without leaving the root. */
#ifndef SKIFF_PATH_H
#define SKIFF_PATH_H

#include <stddef.h>
#include "buf.h"

#define PATH_URL_MAX 2048   /* bytes of the raw (encoded) path; longer: 414 */

/* Normalises the raw, still percent-encoded path of a request (no query string) into out
 * (at least len + 2, at most PATH_URL_MAX + 2 bytes needed): decoded once, "//" collapsed, "." and ".." resolved
 * ("/../x" is "/x"), a trailing slash kept ("/a/" stays "/a/", "/a/." becomes "/a/").
 * Returns 0, SKIFF_EURITOOLONG (414) when longer than PATH_URL_MAX, or SKIFF_EINVALID (400)
 * for a path not starting with '/', a bad or encoded-NUL escape, an encoded '/' or '\',
 * a raw '\' or control character, or bytes that are not valid UTF-8 (overlong forms,
 * surrogates). */
int path_normalize(const char *raw, size_t len, char *out, size_t outsize);

/* Appends a decoded path percent-encoded for a URL (Location headers): unreserved
 * characters, sub-delims, ':', '@' and '/' stay; everything else becomes %XX. */
int path_encode(struct buf *b, const char *path, size_t len);

/* 1 when the last segment of path contains a '.' (a file name with an extension). */
int path_has_extension(const char *path);
/* dir + "/" + name into out: its length, or -1 (out "") when it does not fit in size. Without
 * printf: the serving path builds one or two per request. */
int path_join(char *out, size_t size, const char *dir, const char *name);

#endif
