/* addr.c — refusing git remotes that resolve to this machine or a private network. */
#include "addr.h"
#include "log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool addr_internal_v4(uint32_t ip)
{
	unsigned b0 = ip >> 24, b1 = (ip >> 16) & 255, b2 = (ip >> 8) & 255;
	return b0 == 0 ||                                   /* "this network", unspecified */
	       b0 == 10 ||                                  /* RFC 1918 */
	       b0 == 127 ||                                 /* loopback */
	       (b0 == 100 && b1 >= 64 && b1 <= 127) ||      /* shared address space (CGNAT) */
	       (b0 == 169 && b1 == 254) ||                  /* link-local, cloud metadata */
	       (b0 == 172 && b1 >= 16 && b1 <= 31) ||       /* RFC 1918 */
	       (b0 == 192 && b1 == 168) ||                  /* RFC 1918 */
	       (b0 == 192 && b1 == 0 && b2 == 0) ||         /* IETF protocol assignments */
	       (b0 == 198 && (b1 == 18 || b1 == 19)) ||     /* benchmarking */
	       b0 >= 224;                                   /* multicast, reserved, broadcast */
}

bool addr_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return addr_internal_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family != AF_INET6)
		return true;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
	const unsigned char *a = in6->sin6_addr.s6_addr;
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
	uint32_t v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
	/* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d: none is a public remote */
	if (!memcmp(a, zero, 12))
		return true;
	/* ::ffff:a.b.c.d and the NAT64 64:ff9b::a.b.c.d reach an IPv4 address */
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
		return addr_internal_v4(v4);
	return a[0] == 0xff ||                              /* multicast */
	       (a[0] & 0xfe) == 0xfc ||                     /* unique-local fc00::/7 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||   /* link-local fe80::/10 */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) ||   /* site-local fec0::/10 (deprecated) */
	       (a[0] == 0x20 && a[1] == 0x02) ||            /* 6to4 2002::/16 embeds any IPv4 */
	       (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) || /* Teredo */
	       (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) || /* documentation */
	       (a[0] == 0x01 && !memcmp(a + 1, zero, 7));   /* discard-only 100::/64 */
}

int addr_host_check(const char *host, const struct addr_resolver *resolver, const char *name,
		    struct error *err)
{
	char h[ADDR_HOST_MAX + 1];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n > ADDR_HOST_MAX)
		return error_set(err, SKIFF_EINVALID, name, "the host name is empty or too long");
	memcpy(h, host, n);
	h[n] = '\0';
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	addr_resolve_fn resolve = resolver ? resolver->resolve : getaddrinfo;
	addr_free_fn release = resolver ? resolver->free : freeaddrinfo;
	int gai = resolve(h, NULL, &hints, &res);
	if (gai != 0)
		return error_set(err, SKIFF_EINVALID, name, "the host %s does not resolve: %s", h,
				 gai == EAI_SYSTEM ? "system error" : gai_strerror(gai));
	int rc = 0;
	size_t seen = 0;
	for (struct addrinfo *ai = res; ai && rc == 0; ai = ai->ai_next) {
		if (++seen > ADDR_RESULTS_MAX)
			break;
		if (!ai->ai_addr || addr_internal(ai->ai_addr)) {
			char text[INET6_ADDRSTRLEN] = "?";
			if (ai->ai_addr && ai->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr,
					  text, sizeof(text));
			else if (ai->ai_addr && ai->ai_family == AF_INET6)
				inet_ntop(AF_INET6,
					  &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, text,
					  sizeof(text));
			/* the address only in the log: the message reaches whoever gave the name,
			 * who must not learn how this machine's resolver sees internal names */
			log_info("internal address refused host=%s address=%s", h, text);
			rc = error_set(err, SKIFF_EINVALID, name,
				       "the host %s resolves to an address of this machine or a "
				       "private network (allow_local_git permits it)", h);
		}
	}
	if (res)
		release(res);
	return rc;
}
