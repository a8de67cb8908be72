/* fuzz_path.c — libFuzzer target for the request path normaliser: never crashes, and every
 * accepted path is canonical and survives encode → normalise unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PATH_URL_MAX + 2];
	int rc = path_normalize((const char *)data, size, out, sizeof(out));
	if (rc != 0)
		return 0;
	if (out[0] != '/' || strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../"))
		abort();
	size_t n = strlen(out);
	if ((n >= 2 && !strcmp(out + n - 2, "/.")) || (n >= 3 && !strcmp(out + n - 3, "/..")))
		abort();
	struct buf b = BUF_INIT(PATH_URL_MAX * 3 + 3);
	path_encode(&b, out, n);
	if (!b.err && b.len <= PATH_URL_MAX) {
		char again[PATH_URL_MAX + 2];
		if (path_normalize(b.data, b.len, again, sizeof(again)) != 0 || strcmp(again, out) != 0)
			abort();
	}
	buf_dispose(&b);
	return 0;
}
