/* frame.h — stream ids and the SSE framing of log entries. */
#ifndef SSE_FRAME_H
#define SSE_FRAME_H

#include "bridge.h"
#include "buf.h"

/* Parses exactly \d+-\d+ (each part fits in 64 bits); 0 or -1. */
int stream_id_parse(const char *s, size_t n, struct stream_id *out);
int stream_id_cmp(struct stream_id a, struct stream_id b);
/* Text form into out[STREAM_ID_MAX + 1]. */
void stream_id_format(struct stream_id id, char *out);

/* Appends one SSE event: id, event name, and data split into data: lines at newlines. */
void frame_event(struct buf *out, const char *id, const char *event, const char *data,
		 size_t len);
/* Appends s as a JSON string, escaped, invalid UTF-8 replaced by U+FFFD. */
void frame_json_string(struct buf *out, const char *s, size_t n);
/* Largest number of bytes frame_entry can add for a text of n bytes. */
size_t frame_entry_bound(size_t n);
/* Appends the event of one log entry (kind, source, text of the stream entry). */
void frame_entry(struct buf *out, const char *id, struct stream_id sid, const char *kind,
		 const char *src, size_t srclen, const char *text, size_t textlen);

#endif
