/* manifest.h — one deployment's file table and routing rules, written by skiff-build as JSON
 * (store_manifest_put) and read by skiff-serve.
 *
 * JSON format (version 1):
 * {
 *   "version": 1, "deployment": "<id>", "created": <ms>,
 *   "files": { "/index.html": { "hash": "<sha256 hex>", "size": 123,
 *                               "type": "text/html; charset=utf-8",
 *                               "gzip": {"hash": "...", "size": 80},    (optional)
 *                               "br":   {"hash": "...", "size": 70} },  (optional)
 *              ... },                 paths start with '/', never end with '/'
 *   "config": { "cleanUrls": false, "trailingSlash": null|true|false, "spa": null|true|false,
 *               "redirects": [ ...rules as lib/rules.h emits... ],
 *               "headers":   [ ...rules as lib/rules.h emits... ] }
 * }
 */
#ifndef SKIFF_MANIFEST_H
#define SKIFF_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include "error.h"
#include "hash.h"

struct manifest_variant {
	char hash[HASH_HEX_LEN + 1];   /* "" when absent */
	unsigned long long size;
};

struct manifest_file {
	const char *path;              /* "/about/index.html" */
	char hash[HASH_HEX_LEN + 1];
	unsigned long long size;
	const char *type;              /* Content-Type */
	struct manifest_variant gzip;
	struct manifest_variant br;
};

struct rules;

struct manifest {
	char deployment[16];
	long long created;             /* ms since the epoch, 0 when absent */
	size_t nfiles;
	struct manifest_file *files;   /* sorted by path (strcmp) for manifest_lookup */
	json_t *config;                /* borrowed from root; never NULL (empty object) */
	int clean_urls;                /* config.cleanUrls: 0 or 1 */
	int trailing_slash;            /* config.trailingSlash: -1 unset, 0 false, 1 true */
	int spa;                       /* config.spa: -1 unset, 0 false, 1 true */
	json_t *root;                  /* the parsed document */
	size_t memory;                 /* approximate bytes held, for cache bounds */
	char project[64];              /* the owner's slug, filled by the serve side from the
					* deployment record when it loads the manifest */
	struct rules *rules;           /* compiled from config by the serve side (rules_compile);
					* NULL until then; freed with the manifest */
};

#define MANIFEST_MAX_BYTES (64u << 20)

/* Parses and checks a manifest: version 1, paths starting with '/', 64-hex hashes, sizes;
 * a missing "type" is derived from the path (mime_type). SKIFF_EINVALID with a message. */
int manifest_parse(const char *data, size_t len, struct manifest **out, struct error *err);
void manifest_free(struct manifest *m);
/* Exact lookup by normalised path ("/a/b.html"); NULL when absent. O(log n). */
const struct manifest_file *manifest_lookup(const struct manifest *m, const char *path);

#endif
