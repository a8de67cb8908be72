/* channel.c — the confidentiality of a URL's channel, decided from its scheme and host as
 * libcurl parses them: the host checked is the one the request will be sent to. */
#include "channel.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* host as curl_url() gives it: a name, an IPv4 address, or [IPv6] */
static bool channel_loopback(const char *host)
{
	char v6[64];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);
	if (!strcmp(host, "localhost"))
		return true;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(v6)) {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool channel_confidential(const char *url)
{
	char *scheme = NULL, *host = NULL;
	bool ok = false;
	CURLU *u = curl_url();
	if (!u)
		abort();
	/* the host after any user:password@, as the request will have it: a prefix of the URL
	 * ("http://127.0.0.1:80@evil.example") says nothing */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	ok = !strcmp(scheme, "https") || (!strcmp(scheme, "http") && channel_loopback(host));
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}
