/* mask.c — hiding secret values in build output, line by line, across cut lines too. */
#include "mask.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void mask_init(struct mask *m)
{
	m->needles = NULL;
	m->n = 0;
}

void mask_dispose(struct mask *m)
{
	for (size_t i = 0; i < m->n; i++) {
		OPENSSL_cleanse(m->needles[i].text, m->needles[i].len);
		free(m->needles[i].text);
	}
	free(m->needles);
	mask_init(m);
}

static void mask_add_one(struct mask *m, const char *s, size_t len)
{
	if (len < MASK_MIN)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->needles[i].len == len && !memcmp(m->needles[i].text, s, len))
			return;
	struct mask_needle *grown = realloc(m->needles, (m->n + 1) * sizeof(*grown));
	if (!grown)
		abort();
	m->needles = grown;
	size_t at = 0; /* longest first: the longest match wins at a position */
	while (at < m->n && m->needles[at].len >= len)
		at++;
	memmove(&m->needles[at + 1], &m->needles[at], (m->n - at) * sizeof(*grown));
	char *copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, s, len);
	m->needles[at].text = copy;
	m->needles[at].len = len;
	m->n++;
}

void mask_add(struct mask *m, const char *value, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && value[i] != '\n' && value[i] != '\r')
			continue;
		mask_add_one(m, value + start, i - start);
		start = i + 1;
	}
}

/* The length of the longest tail of in[0..len) that is a head of a value (a value cut at the
 * end of in), 0 when none. */
static size_t mask_head_at_end(const struct mask *m, const char *in, size_t len)
{
	size_t best = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct mask_needle *nd = &m->needles[i];
		size_t max = nd->len - 1 < len ? nd->len - 1 : len;
		for (size_t k = max; k > best; k--)
			if (!memcmp(in + len - k, nd->text, k)) {
				best = k;
				break;
			}
	}
	return best;
}

size_t mask_apply(const struct mask *m, const char *in, size_t len, bool cut, char *out)
{
	size_t o = 0, p = 0, end = len;
	if (!m->n) {
		memcpy(out, in, len);
		return len;
	}
	size_t tail = cut ? mask_head_at_end(m, in, len) : 0;
	end = len - tail;
	while (p < end) {
		size_t hit = 0;
		for (size_t i = 0; i < m->n && !hit; i++)
			if (m->needles[i].len <= len - p &&
			    !memcmp(in + p, m->needles[i].text, m->needles[i].len))
				hit = m->needles[i].len;
		if (hit) {
			memcpy(out + o, MASK_TEXT, sizeof(MASK_TEXT) - 1);
			o += sizeof(MASK_TEXT) - 1;
			p += hit;
			continue;
		}
		out[o++] = in[p++];
	}
	if (tail && p <= end) {
		memcpy(out + o, MASK_TEXT, sizeof(MASK_TEXT) - 1);
		o += sizeof(MASK_TEXT) - 1;
	}
	return o;
}
