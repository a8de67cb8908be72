/* hex.h — bytes to lowercase hexadecimal and back. */
#ifndef SKIFF_HEX_H
#define SKIFF_HEX_H

#include <stddef.h>

/* Writes the 2*n lowercase hex digits of bin[0..n) and a NUL into out[2 * n + 1]. */
void hex_encode(const void *bin, size_t n, char *out);
/* The number of lowercase hex digits at the start of s (as strspn). */
size_t hex_span(const char *s);
/* The value of one hex digit (either case), or -1. */
int hex_value(char c);
/* Decodes exactly 2*n hex digits of s (either case) into out[n]; 0, or -1 when a character is
 * not a hex digit (out is then partly written). */
int hex_decode(const char *s, size_t n, unsigned char *out);

#endif
