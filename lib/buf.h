/* buf.h — the one bounded, growable, always NUL-terminated byte buffer. */
#ifndef SKIFF_BUF_H
#define SKIFF_BUF_H

#include <stddef.h>

/* Appends never write past max; the first failure sets err (SKIFF_ELIMIT) and later
 * appends do nothing, so a caller checks err once after a run of appends. */
struct buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;   /* largest len allowed */
	int err;      /* 0 or SKIFF_ELIMIT */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen), 0 }

void buf_init(struct buf *b, size_t max);
void buf_dispose(struct buf *b);      /* frees the data; the struct may be reused after buf_init */
void buf_reset(struct buf *b);        /* len = 0, err = 0; keeps memory */
int buf_append(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes (at most up to max) in one allocation, so that a run of appends
 * of about that size does not grow the buffer step by step. */
void buf_reserve(struct buf *b, size_t n);
/* A curl write callback (CURLOPT_WRITEFUNCTION, with the struct buf as CURLOPT_WRITEDATA):
 * appends, and answers 0 past the buffer's max, which ends the transfer with a write error. */
size_t buf_sink(char *p, size_t size, size_t n, void *b);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s escaped for HTML text and attribute values. */
int buf_put_html(struct buf *b, const char *s);
/* Takes the data out of b (caller frees); b is left empty. Never NULL. */
char *buf_detach(struct buf *b);
/* Returns data, or "" when empty. */
const char *buf_cstr(const struct buf *b);

#endif
