/* noop-fcgi — the benchmark's baseline: a FastCGI responder that does no work of its own.
 * It answers every request with 200 and X-Sendfile: $NOOP_ROOT + the request path (no
 * lookup, no validation: loopback benchmarks only), or with an empty 200 when NOOP_ROOT is
 * unset. Runs under the same lighttpd configuration as skiff-serve (check/bench/serve.sh). */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	const char *root = getenv("NOOP_ROOT");
	FCGX_Request req;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 3;
	while (FCGX_Accept_r(&req) >= 0) {
		const char *uri = FCGX_GetParam("REQUEST_URI", req.envp);
		if (root && uri) {
			size_t n = strcspn(uri, "?");
			FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
				     "X-Sendfile: %s%.*s\r\n\r\n", root, (int)n, uri);
		} else {
			FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
				  req.out);
		}
		FCGX_Finish_r(&req);
	}
	return 0;
}
