/* percent.h — percent-encoding (RFC 3986) and -decoding of URL paths, queries and forms. */
#ifndef SKIFF_PERCENT_H
#define SKIFF_PERCENT_H

#include <stddef.h>
#include "buf.h"

#define PERCENT_PLUS    1u   /* '+' is a space (queries, application/x-www-form-urlencoded) */
#define PERCENT_LENIENT 2u   /* a '%' not followed by two hex digits is kept as it is */
#define PERCENT_NO_NUL  4u   /* %00 is malformed */
#define PERCENT_NO_SLASH 8u  /* %2F is malformed (an encoded slash in a path is ambiguous) */

/* Decodes [s, s+n) into out[outmax] (no NUL is added); *outlen is the decoded length. 0, or
 * -1 when an escape is malformed (unless PERCENT_LENIENT), refused by flags, or the result
 * does not fit. The output is never longer than the input. */
int percent_decode(const char *s, size_t n, unsigned flags, char *out, size_t outmax,
		   size_t *outlen);
/* Appends [s, s+n) to b with every byte except letters, digits, "-._~" and the characters of
 * keep escaped as %XX (upper case). Returns b->err. */
int percent_encode(struct buf *b, const char *s, size_t n, const char *keep);

#endif
