/* s3_xml.h — the little XML S3 answers with: a ListObjectsV2 page, the text of an element. */
#ifndef SKIFF_S3_XML_H
#define SKIFF_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define S3_KEY_MAX 1024        /* an object key, prefix included (S3's own limit) */
#define S3_TOKEN_MAX 1024      /* a continuation token */

struct s3_object {
	char key[S3_KEY_MAX];          /* relative to s3_prefix */
	unsigned long long size;
	long long mtime;               /* seconds since the epoch; 0 when unknown */
	char content_type[128];        /* HEAD only */
};

struct s3_list_page {
	bool truncated;
	char next_token[S3_TOKEN_MAX];
};
/* Parses one ListObjectsV2 answer: fn for each Contents (Key entity-decoded, Size,
 * LastModified), then IsTruncated and NextContinuationToken into page. Keys are passed as
 * they are (strip_prefix bytes removed from the front). 1 when fn stopped, 0 done,
 * SKIFF_EUPSTREAM when the document is malformed or incomplete. */
int s3_list_parse(const char *xml, size_t len, size_t strip_prefix,
		  int (*fn)(const struct s3_object *o, void *ctx), void *ctx,
		  struct s3_list_page *page, struct error *err);
/* The decoded text of the first element <name> of an XML document into out; 0 or -1. */
int s3_xml_text(const char *xml, size_t len, const char *name, char *out, size_t cap);

#endif
