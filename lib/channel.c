/* channel.c — the confidentiality of a URL's channel, decided from its scheme and host. */
#include "channel.h"

#include <arpa/inet.h>
#include <string.h>

bool channel_confidential(const char *url)
{
	char host[64];
	struct in_addr v4;
	if (!strncmp(url, "https://", 8))
		return true;
	if (strncmp(url, "http://", 7))
		return false;
	/* the host: "[v6]" whole, else up to the port or the path */
	size_t n = url[7] == '[' ? strcspn(url + 7, "]") + 1 : strcspn(url + 7, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, url + 7, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]"))
		return true;
	return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}
