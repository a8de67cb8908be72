/* percent.c — the one percent-decoder and -encoder. */
#include "percent.h"
#include "hex.h"

#include <string.h>

int percent_decode(const char *s, size_t n, unsigned flags, char *out, size_t outmax,
		   size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = n - i >= 3 ? hex_value(s[i + 1]) : -1;
			int lo = n - i >= 3 ? hex_value(s[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
				if ((c == '\0' && (flags & PERCENT_NO_NUL)) ||
				    (c == '/' && (flags & PERCENT_NO_SLASH)))
					return -1;
			} else if (!(flags & PERCENT_LENIENT)) {
				return -1;
			}
		} else if (c == '+' && (flags & PERCENT_PLUS)) {
			c = ' ';
		}
		if (o >= outmax)
			return -1;
		out[o++] = c;
	}
	*outlen = o;
	return 0;
}

int percent_encode(struct buf *b, const char *s, size_t n, const char *keep)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && (strchr("-._~", c) || strchr(keep, c)))) {
			buf_putc(b, (char)c);
		} else {
			char e[3] = { '%', digits[c >> 4], digits[c & 15] };
			buf_append(b, e, 3);
		}
	}
	return b->err;
}
