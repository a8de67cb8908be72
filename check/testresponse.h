/* testresponse.h — an HTTP response for Check tests to have written into: empty, no file, the
 * header and body buffers as large as a handler's. Header-only, included by the test files
 * that need it. */
#ifndef SKIFF_TESTRESPONSE_H
#define SKIFF_TESTRESPONSE_H

#include <string.h>

#include "buf.h"
#include "response.h"

static __attribute__((unused)) void testresponse_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->fd = -1;
	buf_init(&resp->headers, 32768);
	buf_init(&resp->body, 1 << 20);
}

static __attribute__((unused)) void testresponse_dispose(struct http_response *resp)
{
	buf_dispose(&resp->headers);
	buf_dispose(&resp->body);
}

#endif
