/* path.c — decodes and normalises request paths once, refusing anything ambiguous. */
#include "path.h"
#include "error.h"
#include "percent.h"

#include <stdbool.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t path_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;     /* overlong */
		else if (c == 0xed)
			hi = 0x9f;     /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;     /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;     /* above U+10FFFF */
	} else {
		return 0;              /* continuation byte, 0xc0, 0xc1, 0xf5.. */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Decodes raw into dec; returns its length or a negative error. */
static int path_decode(const char *raw, size_t len, char *dec, size_t *declen)
{
	size_t o = 0;
	if (percent_decode(raw, len, PERCENT_NO_SLASH, dec, len, &o) < 0)
		return SKIFF_EINVALID;     /* malformed escape or encoded slash: ambiguous */
	dec[o] = '\0';
	*declen = o;
	for (size_t i = 0; i < o;) {
		unsigned char c = (unsigned char)dec[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return SKIFF_EINVALID;     /* NUL, CR, LF, ..., backslash */
		size_t n = path_utf8_len((const unsigned char *)dec + i, o - i);
		if (!n)
			return SKIFF_EINVALID;
		i += n;
	}
	return 0;
}

int path_normalize(const char *raw, size_t len, char *out, size_t outsize)
{
	char dec[PATH_URL_MAX + 1];
	size_t declen = 0;
	if (len > PATH_URL_MAX)
		return SKIFF_EURITOOLONG;
	if (outsize < len + 2 || len == 0 || raw[0] != '/')
		return SKIFF_EINVALID;
	int rc = path_decode(raw, len, dec, &declen);
	if (rc)
		return rc;
	/* RFC 3986 remove_dot_segments over '/'-separated segments; out always starts "/". */
	size_t o = 0;
	bool trailing = false;
	out[o++] = '/';
	size_t i = 0;
	while (i < declen) {
		while (i < declen && dec[i] == '/')
			i++;
		if (i >= declen) {          /* the path ends with a slash */
			trailing = true;
			break;
		}
		size_t start = i;
		while (i < declen && dec[i] != '/')
			i++;
		size_t n = i - start;
		if (n == 1 && dec[start] == '.') {
			trailing = true;        /* "/a/." names the directory "/a/" */
			continue;
		}
		if (n == 2 && dec[start] == '.' && dec[start + 1] == '.') {
			/* drop the last segment of out, never the root */
			if (o > 1) {
				o--;                /* the separator after the last segment */
				while (o > 1 && out[o - 1] != '/')
					o--;
			}
			trailing = true;
			continue;
		}
		memcpy(out + o, dec + start, n);
		o += n;
		out[o++] = '/';
		trailing = false;
	}
	/* out ends with '/' after every kept segment; drop it unless the path named a directory */
	if (o > 1 && !trailing)
		o--;
	out[o] = '\0';
	return 0;
}

int path_encode(struct buf *b, const char *path, size_t len)
{
	return percent_encode(b, path, len, "!$&'()*+,;=:@/");
}

int path_has_extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *seg = slash ? slash + 1 : path;
	return strchr(seg, '.') != NULL;
}

int path_join(char *out, size_t size, const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);
	if (d + 1 + n >= size) {
		if (size)
			out[0] = '\0';
		return -1;
	}
	memcpy(out, dir, d);
	out[d] = '/';
	memcpy(out + d + 1, name, n + 1);
	return (int)(d + 1 + n);
}
