/* build_log.c — the deployment's build log: system lines, the commands' output made safe to
 * show, and the lines held while Redis is unreachable. */
#include "build_log.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "model_log.h"
#include "remote.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const build_log_sources[] = { LOG_SRC_STDOUT, LOG_SRC_STDERR, LOG_SRC_SYSTEM };

int build_log_flush(struct build *b, bool force, struct error *err)
{
	struct buf *q = &b->log_pending;
	if (!q->len && !b->log_lost)
		return 0;
	long long now = clock_mono_ms();
	if (!force && now < b->log_retry_ms)
		return error_set(err, SKIFF_EREDIS, "redis_unavailable",
				 "Redis was unreachable moments ago");
	size_t off = 0;
	int rc = 0;
	while (off < q->len && rc == 0) {
		uint32_t n;
		memcpy(&n, q->data + off + 1, sizeof(n));
		rc = model_log_append(b->redis, b->id, build_log_sources[(unsigned char)q->data[off]],
				      q->data + off + 1 + sizeof(n), n, err);
		if (rc == 0)
			off += 1 + sizeof(n) + n;
	}
	memmove(q->data, q->data + off, q->len - off);
	q->len -= off;
	if (rc == 0 && b->log_lost) {
		char line[128];
		int len = snprintf(line, sizeof(line), "%llu lines of output were lost while Redis "
				   "was unreachable", b->log_lost);
		rc = model_log_append(b->redis, b->id, LOG_SRC_SYSTEM, line, (size_t)len, err);
		if (rc == 0)
			b->log_lost = 0;
	}
	if (rc < 0 && err->code != SKIFF_EREDIS) {
		/* not Redis being away (the deployment was deleted): nothing to hold them for */
		buf_reset(q);
		b->log_lost = 0;
	} else if (rc < 0) {
		b->log_retry_ms = now + BUILD_LOG_RETRY_MS;
	} else if (b->log_broken) {
		log_info("build log appends again deployment=%s", b->id);
	}
	b->log_broken = rc < 0 && err->code == SKIFF_EREDIS;
	return rc;
}

/* Appends one line, or holds it (in order behind those held already) while Redis does not
 * take it. */
static void build_log_append(struct build *b, const char *source, const char *text, size_t len)
{
	struct error e;
	if (b->remote) { /* numbered, batched, held while the API is away (remote.c) */
		remote_log(b->remote, source, text, len);
		return;
	}
	if (build_log_flush(b, false, &e) == 0 &&
	    model_log_append(b->redis, b->id, source, text, len, &e) == 0)
		return;
	if (e.code != SKIFF_EREDIS)
		return;   /* the deployment is gone; the lease thread stops the build */
	if (!b->log_broken) {
		log_warn("cannot append to the build log, holding lines deployment=%s error=\"%s\"",
			 b->id, e.message);
		b->log_retry_ms = clock_mono_ms() + BUILD_LOG_RETRY_MS;
	}
	b->log_broken = true;
	struct buf *q = &b->log_pending;
	uint32_t n = (uint32_t)len;
	char k = 0;
	while (k < 2 && strcmp(build_log_sources[(int)k], source))
		k++;
	if (q->len + 1 + sizeof(n) + len > BUILD_LOG_PENDING_MAX || buf_putc(q, k) < 0 ||
	    buf_append(q, &n, sizeof(n)) < 0 || buf_append(q, text, len) < 0)
		b->log_lost++;
}

/* Copies text into out as safe UTF-8: escape sequences dropped, control characters other
 * than tab dropped, invalid bytes as '?'. Returns the length. */
static size_t build_log_clean(const char *text, size_t len, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t o = 0;
	while (p < end && o + 4 < cap) {
		unsigned c = *p;
		if (c == 0x1b) { /* ESC: CSI "ESC [ ... final", OSC "ESC ] ... BEL|ST", or two bytes */
			p++;
			if (p < end && *p == '[') {
				for (p++; p < end && !(*p >= 0x40 && *p <= 0x7e); p++)
					;
				p += p < end;
			} else if (p < end && *p == ']') {
				for (p++; p < end && *p != 0x07 && *p != 0x1b; p++)
					;
				p += p < end;
				p += p < end && p[-1] == 0x1b;
			} else {
				p += p < end;
			}
			continue;
		}
		if (c < 0x80) {
			if (c >= 0x20 && c != 0x7f)
				out[o++] = (char)c;
			else if (c == '\t')
				out[o++] = ' ';
			p++;
			continue;
		}
		int n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? (c < 0xf0 ? 2 : -1) : c >= 0xc2 ? 1 : -1;
		bool ok = n > 0 && p + n < end + 1;
		for (int i = 1; ok && i <= n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && n == 2 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
			ok = false;
		if (ok && n == 3 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
			ok = false;
		if (!ok) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, (size_t)n + 1);
		o += (size_t)n + 1;
		p += n + 1;
	}
	return o;
}

/* Hides the build's secret values in text: before cleaning (the bytes as printed, and a
 * value's head where a long line was cut) and after (a value that cleaning joined, such as
 * one split by an escape sequence). Cleaning then cuts to cap, after the masking: what it
 * drops is not shown at all. */
static size_t build_log_mask(struct build *b, const char *text, size_t len, bool cut, char *out,
			     size_t cap)
{
	char raw[LOG_LINE_MAX + MASK_GROWTH], clean[LOG_LINE_MAX + MASK_GROWTH];
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	size_t n = mask_apply(&b->mask, text, len, cut, raw);
	n = build_log_clean(raw, n, clean, cap);
	return mask_apply(&b->mask, clean, n, false, out);
}

/* skiff's own lines carry repository-controlled text (file names, skiff.json header names,
 * _redirects lines, commit messages, error messages quoting them): they are cleaned exactly
 * like the commands' output, so no newline, escape sequence or control character of a
 * repository can fake a line such as "==> ready" or drive the viewer's terminal. */
void build_log(struct build *b, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
	len = build_log_mask(b, raw, len, false, line, sizeof(line) - 1);
	line[len] = '\0';
	log_debug("build log deployment=%s line=\"%s\"", b->id, line);
	build_log_append(b, LOG_SRC_SYSTEM, line, len);
}

void build_log_output(struct build *b, const char *source, const char *text, size_t len,
		      bool cut)
{
	static const char mark[] = " [line cut]";
	char line[LOG_LINE_MAX + sizeof(mark)];
	size_t n = build_log_mask(b, text, len, cut, line, LOG_LINE_MAX - sizeof(mark));
	if (cut) {
		memcpy(line + n, mark, sizeof(mark) - 1);
		n += sizeof(mark) - 1;
	}
	build_log_append(b, source, line, n);
}
