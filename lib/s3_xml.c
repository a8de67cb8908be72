/* s3_xml.c — the little XML that S3 answers with: ListObjectsV2 pages and error documents.
 * A scanner for flat, well-formed documents; entities decoded; anything incomplete refused. */
#include "s3_xml.h"
#include "aws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Decodes XML text (the five named entities and numeric references) into out. 0 or -1. */
static int s3_xml_decode(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned long cp;
		if (p[i] != '&') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = p[i++];
			continue;
		}
		const char *semi = memchr(p + i, ';', n - i);
		if (!semi)
			return -1;
		size_t elen = (size_t)(semi - (p + i)) + 1;
		const char *e = p + i;
		if (elen == 5 && !memcmp(e, "&amp;", 5))
			cp = '&';
		else if (elen == 4 && !memcmp(e, "&lt;", 4))
			cp = '<';
		else if (elen == 4 && !memcmp(e, "&gt;", 4))
			cp = '>';
		else if (elen == 6 && !memcmp(e, "&quot;", 6))
			cp = '"';
		else if (elen == 6 && !memcmp(e, "&apos;", 6))
			cp = '\'';
		else if (elen > 3 && e[1] == '#') {
			int hex = e[2] == 'x' || e[2] == 'X';
			const char *digits = e + 2 + hex;
			char *end;
			errno = 0;
			if (digits == semi)
				return -1;
			cp = strtoul(digits, &end, hex ? 16 : 10);
			if (errno || end != semi || cp == 0 || cp > 0x10FFFF ||
			    (cp >= 0xD800 && cp <= 0xDFFF))
				return -1;
		} else {
			return -1;
		}
		unsigned char u[4];
		size_t un;
		if (cp < 0x80) {
			u[0] = (unsigned char)cp;
			un = 1;
		} else if (cp < 0x800) {
			u[0] = (unsigned char)(0xC0 | (cp >> 6));
			u[1] = (unsigned char)(0x80 | (cp & 0x3F));
			un = 2;
		} else if (cp < 0x10000) {
			u[0] = (unsigned char)(0xE0 | (cp >> 12));
			u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			u[2] = (unsigned char)(0x80 | (cp & 0x3F));
			un = 3;
		} else {
			u[0] = (unsigned char)(0xF0 | (cp >> 18));
			u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
			u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			u[3] = (unsigned char)(0x80 | (cp & 0x3F));
			un = 4;
		}
		if (un >= cap - o)
			return -1;
		memcpy(out + o, u, un);
		o += un;
		i += elen;
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return 0;
}

/* One step of the scanner: the tag at p ('<' already consumed). */
struct s3_xml_tag {
	const char *name;
	size_t nlen;
	bool closing, self_closing, skip;  /* skip: <?...?>, <!...> */
	const char *text;                  /* a leaf's text: <name>text</name> */
	size_t tlen;
	bool leaf;
};

/* Reads the tag starting after '<' at *pp; leaves *pp after the tag (or after a leaf's
 * closing tag). 0, or -1 when the document ends inside a tag. */
static int s3_xml_next(const char **pp, const char *end, struct s3_xml_tag *t)
{
	const char *p = *pp;
	memset(t, 0, sizeof(*t));
	if (p >= end)
		return -1;
	if (*p == '!' && end - p >= 3 && p[1] == '-' && p[2] == '-') {
		const char *q = memmem(p + 3, (size_t)(end - p - 3), "-->", 3);
		if (!q)
			return -1;
		t->skip = true;
		*pp = q + 3;
		return 0;
	}
	if (*p == '?' || *p == '!') {
		const char *q = memchr(p, '>', (size_t)(end - p));
		if (!q)
			return -1;
		t->skip = true;
		*pp = q + 1;
		return 0;
	}
	if (*p == '/') {
		t->closing = true;
		p++;
	}
	t->name = p;
	while (p < end && *p != '>' && *p != '/' && *p != ' ' && *p != '\t' && *p != '\r' &&
	       *p != '\n')
		p++;
	t->nlen = (size_t)(p - t->name);
	const char *q = p < end ? memchr(p, '>', (size_t)(end - p)) : NULL;
	if (!q || t->nlen == 0)
		return -1;
	t->self_closing = q[-1] == '/';
	p = q + 1;
	if (!t->closing && !t->self_closing) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (!lt)
			return -1;
		if ((size_t)(end - lt) >= t->nlen + 3 && lt[1] == '/' &&
		    !memcmp(lt + 2, t->name, t->nlen) && lt[2 + t->nlen] == '>') {
			t->leaf = true;
			t->text = p;
			t->tlen = (size_t)(lt - p);
			p = lt + 3 + t->nlen;
		}
	}
	*pp = p;
	return 0;
}

static bool s3_xml_is(const struct s3_xml_tag *t, const char *name)
{
	return t->nlen == strlen(name) && !memcmp(t->name, name, t->nlen);
}

int s3_xml_text(const char *xml, size_t len, const char *name, char *out, size_t cap)
{
	const char *p = xml, *end = xml + len;
	struct s3_xml_tag t;
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		if (s3_xml_next(&p, end, &t) < 0)
			return -1;
		if (t.leaf && s3_xml_is(&t, name))
			return s3_xml_decode(t.text, t.tlen, out, cap);
	}
	return -1;
}

static int s3_list_bad(struct error *err, const char *what)
{
	return error_set(err, SKIFF_EUPSTREAM, "store_bad_answer",
			 "the store answered a listing that is not valid: %s", what);
}

int s3_list_parse(const char *xml, size_t len, size_t strip_prefix,
		  int (*fn)(const struct s3_object *o, void *ctx), void *ctx,
		  struct s3_list_page *page, struct error *err)
{
	const char *p = xml, *end = xml + len;
	struct s3_xml_tag t;
	struct s3_object obj;
	char key[S3_KEY_MAX];
	bool in_root = false, in_contents = false, have_key = false, ended = false;
	page->truncated = false;
	page->next_token[0] = '\0';
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		if (s3_xml_next(&p, end, &t) < 0)
			return s3_list_bad(err, "it ends inside a tag");
		if (t.skip || t.self_closing)
			continue;
		if (s3_xml_is(&t, "ListBucketResult")) {
			if (t.leaf)
				continue;
			if (t.closing) {
				if (!in_root || in_contents)
					return s3_list_bad(err, "misplaced </ListBucketResult>");
				ended = true;
				break;
			}
			in_root = true;
			continue;
		}
		if (!in_root)
			continue;
		if (s3_xml_is(&t, "Contents") && !t.leaf) {
			if (!t.closing) {
				if (in_contents)
					return s3_list_bad(err, "nested <Contents>");
				in_contents = true;
				have_key = false;
				memset(&obj, 0, sizeof(obj));
				continue;
			}
			if (!in_contents || !have_key)
				return s3_list_bad(err, "a <Contents> without a <Key>");
			in_contents = false;
			if (fn(&obj, ctx))
				return 1;
			continue;
		}
		if (!t.leaf)
			continue;
		if (in_contents && s3_xml_is(&t, "Key")) {
			if (s3_xml_decode(t.text, t.tlen, key, sizeof(key)) < 0)
				return s3_list_bad(err, "a <Key> that does not decode");
			size_t kn = strlen(key);
			if (kn < strip_prefix)
				return s3_list_bad(err, "a key outside the listed prefix");
			memcpy(obj.key, key + strip_prefix, kn - strip_prefix + 1);
			have_key = true;
		} else if (in_contents && s3_xml_is(&t, "Size")) {
			char num[32], *e;
			if (t.tlen == 0 || t.tlen >= sizeof(num))
				return s3_list_bad(err, "a bad <Size>");
			memcpy(num, t.text, t.tlen);
			num[t.tlen] = '\0';
			errno = 0;
			obj.size = strtoull(num, &e, 10);
			if (errno || *e || num[0] == '-')
				return s3_list_bad(err, "a bad <Size>");
		} else if (in_contents && s3_xml_is(&t, "LastModified")) {
			char ts[64];
			if (s3_xml_decode(t.text, t.tlen, ts, sizeof(ts)) < 0)
				return s3_list_bad(err, "a bad <LastModified>");
			long long ms = aws_time_parse(ts);
			if (ms < 0)
				return s3_list_bad(err, "a bad <LastModified>");
			obj.mtime = ms / 1000;
		} else if (!in_contents && s3_xml_is(&t, "IsTruncated")) {
			page->truncated = t.tlen == 4 && !memcmp(t.text, "true", 4);
		} else if (!in_contents && s3_xml_is(&t, "NextContinuationToken")) {
			if (s3_xml_decode(t.text, t.tlen, page->next_token, sizeof(page->next_token)) < 0)
				return s3_list_bad(err, "a bad <NextContinuationToken>");
		}
	}
	if (!ended)
		return s3_list_bad(err, "no complete <ListBucketResult>");
	if (page->truncated && !page->next_token[0])
		return s3_list_bad(err, "truncated without a continuation token");
	return 0;
}
