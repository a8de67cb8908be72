/* fastpath.h — the tree a web server answers warm hits from by itself (doc/operators.md,
 * "The serving fast path"): per deployment, one small entry per request path that skiff-serve
 * would answer with a plain file, and per site a symlink switched with one rename(2).
 *
 * Layout under dir (the `fastpath_dir` setting):
 *   deployments/{id}/{path}@   one line per request path: what to send (below)
 *   sites/{slug}               symlink to ../deployments/{id}, the site's live tree
 * Links are switched and dropped under a lock (flock on sites/), and the tree a link named is
 * moved aside under it too: a link only ever names a whole tree, and a tree is removed only
 * once no link names it, however many processes link and drop at once.
 *   suffix                     what follows a slug in a site's Host (fastpath_suffix)
 * An entry's name is the request path with '@' appended ("/" → "@", "/docs/" → "docs/@",
 * "/about" → "about@"), so a page and a directory of the same name never collide. Only paths
 * of [A-Za-z0-9._~/-] without "//" or a segment starting with '.' get an entry
 * (fastpath_match_path, lib/fastpath_match.h): the web server serves nothing else.
 *
 * An entry, tab-separated on one line:
 *   2 q content-type hash path size gzip-hash gzip-path gzip-size br-hash br-path br-size
 *   {name value}...
 * 2 is the format (FASTPATH_FORMAT; a script skips entries of another), q is 1 when a
 * _redirects rule of the deployment looks at the query string (a request with one goes to
 * skiff-serve), absent variants are "-" (three times), and the name/value pairs are every
 * header skiff-serve sends with the file but ETag and Content-Encoding. Entries are derived
 * from serve_decide itself, so the web server sends what skiff-serve would.
 *
 * A blob's path is its local copy (store_blob_local_path): the file store's own file, or the
 * s3 store's cache entry, which may be missing (a cold or evicted cache). The web server
 * sends a blob only when the file is there with the entry's size (the stat it makes anyway),
 * else it leaves the request to skiff-serve, which fills the cache. The bytes of a file of
 * the right size are the blob's because the cache only ever renames a whole, verified file
 * into place and eviction only unlinks (lib/store_cache.h).
 *
 * Beside it, {path}@a is the same answer for Apache's mod_rewrite (apache/skiff-sites.conf),
 * tab-separated on one line:
 *   q content-type hash path size gzip-hash gzip-path gzip-size br-hash br-path br-size
 *   cache-control last-modified {name value}...
 * where the pairs are only headers the configuration sets by name (Vary and the _headers
 * names of fastpath.c's list); an answer with any other header (or an ETag other than the
 * blob's hash) gets no {path}@a, and Apache leaves that path to skiff-serve. */
#ifndef SKIFF_FASTPATH_H
#define SKIFF_FASTPATH_H

#include <stdbool.h>
#include "error.h"
#include "manifest.h"
#include "store.h"

#define FASTPATH_ENTRY_MAX 8192    /* bytes of one entry; a longer one is left out */
#define FASTPATH_FORMAT "2"        /* an entry's first field (see above) */

/* 1 when dir/sites/slug names deployment id, 0 when not (or no link). */
int fastpath_linked(const char *dir, const char *slug, const char *id);
/* Writes dir/deployments/{m->deployment} unless it is there: built aside and renamed into
 * place, so it appears whole. Blob paths come from store (its local copies). */
int fastpath_build(const char *dir, const struct manifest *m, struct store *store,
		   struct error *err);
/* Points dir/sites/slug at deployment id with one rename(2); the tree it named before is
 * removed. SKIFF_EGONE when the tree of id is not there (removed since it was built). */
int fastpath_link(const char *dir, const char *slug, const char *id, struct error *err);
/* fastpath_build, then fastpath_link, the tree built again (under the lock) when another
 * process's switch removed it in between: what a server calls to link the site to m. */
int fastpath_publish(const char *dir, const char *slug, const struct manifest *m,
		     struct store *store, struct error *err);
/* Writes dir/suffix: what follows a site's slug in its Host ("." domain, and ":" site_port
 * unless it is 0 or 80), one line. lighttpd's fast path (apache/skiff-fastpath-lighttpd.lua)
 * reads it to tell the sites' hosts, so its configuration names only the directory.
 * Replaced with one rename(2) when it differs; 0 when written or already right. */
int fastpath_suffix(const char *dir, const char *domain, long site_port, struct error *err);
/* Takes slug's site out of the fast path (its requests go to skiff-serve until it links the
 * current deployment again) and removes the tree it named. Called by whatever changes the
 * project's current deployment or deletes the project; dir "" does nothing. */
void fastpath_drop(const char *dir, const char *slug);

#endif
