/* mask.h — secret values hidden in build output: every occurrence becomes "***", as CI
 * systems mask their secrets. */
#ifndef SKIFF_MASK_H
#define SKIFF_MASK_H

#include <stdbool.h>
#include <stddef.h>

#define MASK_MIN 6            /* shorter values (or lines of a value) are not masked */
#define MASK_TEXT "***"
#define MASK_GROWTH 3         /* out needs len + MASK_GROWTH bytes (a cut edge may grow) */

struct mask_needle {
	char *text;
	size_t len;
};

struct mask {
	struct mask_needle *needles;  /* longest first */
	size_t n;
};

void mask_init(struct mask *m);
/* Frees (and wipes) the values; the struct may be used again after mask_init. */
void mask_dispose(struct mask *m);
/* Adds a value to hide. A value of several lines is hidden line by line (output reaches the
 * log a line at a time); lines shorter than MASK_MIN are not hidden. */
void mask_add(struct mask *m, const char *value, size_t len);
/* Copies in[0..len) to out (room for len + MASK_GROWTH) with every value replaced by
 * MASK_TEXT; returns the length written. Output reaches it a whole line at a time (lib/proc.c
 * joins the reads of a line), so a value split across reads is whole here. cut: in is the
 * start of a longer line whose rest was dropped, so a value's head at its end is hidden too. */
size_t mask_apply(const struct mask *m, const char *in, size_t len, bool cut, char *out);

#endif
