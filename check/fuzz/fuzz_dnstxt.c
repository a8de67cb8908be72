/* fuzz_dnstxt.c — libFuzzer target for the parser of DNS answers to a TXT query: never reads
 * past the message, and what it keeps stays within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnstxt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnstxt out;
	struct error err;
	if (dnstxt_parse(data, size, &out, &err) != 0)
		return 0;
	if (out.n > DNSTXT_RECORDS_MAX)
		abort();
	for (size_t i = 0; i < out.n; i++)
		if (strlen(out.value[i]) > DNSTXT_VALUE_MAX)
			abort();
	return 0;
}
