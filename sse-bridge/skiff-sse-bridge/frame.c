/* frame.c — Server-Sent Events framing of log stream entries, and stream ids. */
#include "frame.h"
#include "buf.h"
#include "hex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_TEXT_MAX 65536   /* longer entry texts are cut */

int stream_id_parse(const char *s, size_t n, struct stream_id *out)
{
	uint64_t part[2] = { 0, 0 };
	size_t i = 0;
	for (int k = 0; k < 2; k++) {
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			unsigned d = (unsigned)(s[i] - '0');
			if (part[k] > (UINT64_MAX - d) / 10)
				return -1;
			part[k] = part[k] * 10 + d;
			i++;
		}
		if (i == start)
			return -1;
		if (k == 0) {
			if (i >= n || s[i] != '-')
				return -1;
			i++;
		}
	}
	if (i != n)
		return -1;
	out->ms = part[0];
	out->seq = part[1];
	return 0;
}

int stream_id_cmp(struct stream_id a, struct stream_id b)
{
	if (a.ms != b.ms)
		return a.ms < b.ms ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

void stream_id_format(struct stream_id id, char *out)
{
	snprintf(out, STREAM_ID_MAX + 1, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when it is not valid. */
static size_t frame_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void frame_json_string(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	buf_putc(out, '"');
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		/* copy runs of plain characters at once */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			buf_append(out, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			buf_append(out, e, 2);
			i++;
		} else if (c < 0x20) {
			char e[7] = { '\\', 'u', '0', '0' };
			hex_encode(&c, 1, e + 4);
			if (c == '\n' || c == '\t' || c == '\r') {
				e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
				buf_append(out, e, 2);
			} else {
				buf_append(out, e, 6);
			}
			i++;
		} else {
			size_t len = frame_utf8_len(p + i, n - i);
			if (len) {
				buf_append(out, s + i, len);
				i += len;
			} else {
				buf_append(out, "\xef\xbf\xbd", 3);   /* U+FFFD */
				i++;
			}
		}
	}
	buf_putc(out, '"');
}

void frame_event(struct buf *out, const char *id, const char *event, const char *data,
		 size_t len)
{
	buf_puts(out, "id: ");
	buf_puts(out, id);
	buf_puts(out, "\nevent: ");
	buf_puts(out, event);
	buf_putc(out, '\n');
	/* every line of the payload is one data: line; \r\n, \r and \n all end a line, and
	 * the client joins the lines with \n again */
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		buf_puts(out, "data: ");
		buf_append(out, data + i, j - i);
		buf_putc(out, '\n');
		if (j == len)
			break;
		if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	buf_putc(out, '\n');
}

size_t frame_entry_bound(size_t n)
{
	if (n > FRAME_TEXT_MAX)
		n = FRAME_TEXT_MAX;
	/* every text byte escapes to at most 6 bytes; ids, names, fields and framing fit in 512 */
	return 6 * n + 512;
}

void frame_entry(struct buf *out, const char *id, struct stream_id sid, const char *kind,
		 const char *src, size_t srclen, const char *text, size_t textlen)
{
	struct buf payload = BUF_INIT(frame_entry_bound(textlen));
	if (textlen > FRAME_TEXT_MAX)
		textlen = FRAME_TEXT_MAX;
	if (srclen > 16)
		srclen = 16;
	buf_puts(&payload, "{\"s\":");
	frame_json_string(&payload, src, srclen);
	buf_puts(&payload, ",\"m\":");
	frame_json_string(&payload, text, textlen);
	buf_printf(&payload, ",\"t\":%" PRIu64, sid.ms);
	if (!strcmp(kind, "state") || !strcmp(kind, "end")) {
		/* "state phase": the dashboard gets both without parsing m */
		size_t sp = 0;
		while (sp < textlen && text[sp] != ' ')
			sp++;
		buf_puts(&payload, ",\"state\":");
		frame_json_string(&payload, text, sp);
		if (!strcmp(kind, "state")) {
			buf_puts(&payload, ",\"phase\":");
			frame_json_string(&payload, sp < textlen ? text + sp + 1 : "",
					  sp < textlen ? textlen - sp - 1 : 0);
		}
	}
	buf_putc(&payload, '}');
	frame_event(out, id, kind, buf_cstr(&payload), payload.len);
	if (!strcmp(kind, "end"))
		buf_puts(out, "retry: " BRIDGE_RETRY_MS "\n\n");
	buf_dispose(&payload);
}
