/* id.c — random identifiers from the kernel's getrandom(). */
#include "id.h"
#include "hex.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char id_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void id_random(unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		p += r;
		n -= (size_t)r;
	}
}

void id_new(char out[ID_LEN + 1])
{
	unsigned char r[ID_LEN];
	id_random(r, sizeof(r));
	for (int i = 0; i < ID_LEN; i++)
		out[i] = id_alphabet[r[i] & 31];
	out[ID_LEN] = '\0';
}

static int id_base32(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

void id_secret_new(const char *prefix, char *out, size_t len)
{
	unsigned char r[64];
	size_t n = strlen(prefix);
	assert(n < len);
	memcpy(out, prefix, n);
	while (n < len) {
		size_t take = len - n < sizeof(r) ? len - n : sizeof(r);
		id_random(r, take);
		for (size_t i = 0; i < take; i++)
			out[n + i] = id_alphabet[r[i] & 31];
		n += take;
	}
	out[len] = '\0';
}

int id_secret_valid(const char *prefix, size_t len, const char *s)
{
	size_t p = strlen(prefix);
	if (!s || strncmp(s, prefix, p) != 0 || strlen(s) != len)
		return 0;
	for (s += p; *s; s++)
		if (!id_base32(*s))
			return 0;
	return 1;
}

int id_valid(const char *s)
{
	if (!s)
		return 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		if (i >= ID_LEN)
			return 0;
		if (!id_base32(s[i]))
			return 0;
	}
	return i == ID_LEN;
}

void id_hex(char *out, unsigned nbytes)
{
	unsigned char r[64];
	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	id_random(r, nbytes);
	hex_encode(r, nbytes, out);
}
