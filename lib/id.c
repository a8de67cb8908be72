/* id.c — random identifiers from the kernel's getrandom(). */
#include "id.h"
#include "hex.h"

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

int id_valid(const char *s)
{
	if (!s)
		return 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		if (i >= ID_LEN)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
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
