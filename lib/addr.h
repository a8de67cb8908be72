/* addr.h — the network addresses a user's git remote may not name (SSRF): this machine,
 * private and shared networks, link-local, unique-local, multicast, unspecified, also in
 * IPv4-mapped and IPv4-compatible IPv6 forms; checked after name resolution. */
#ifndef SKIFF_ADDR_H
#define SKIFF_ADDR_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "error.h"

#define ADDR_HOST_MAX 253          /* a DNS name */
#define ADDR_RESULTS_MAX 64        /* addresses of one name looked at */

/* A name resolver with getaddrinfo's contract (the default); tests pass their own. */
typedef int (*addr_resolve_fn)(const char *host, const char *service,
			       const struct addrinfo *hints, struct addrinfo **out);
/* ...and its matching free (freeaddrinfo for the default). */
typedef void (*addr_free_fn)(struct addrinfo *ai);

struct addr_resolver {
	addr_resolve_fn resolve;
	addr_free_fn free;
};

/* true for an address no user-supplied URL may reach (see above). */
bool addr_internal(const struct sockaddr *sa);
/* Resolves host (a name or a literal, brackets allowed for IPv6) with resolver (NULL: the
 * system's getaddrinfo) and refuses it (SKIFF_EINVALID, error name `name`) when it does not
 * resolve or when any of its addresses is internal: a name with one private address among
 * public ones could be connected to through it. */
int addr_host_check(const char *host, const struct addr_resolver *resolver, const char *name,
		    struct error *err);

#endif
