/* dnstxt.h — the TXT records of one name, asked of the system resolver or of one named server
 * through glibc's resolver (res_nquery), and the bounded parser of the answer. */
#ifndef SKIFF_DNSTXT_H
#define SKIFF_DNSTXT_H

#include <netinet/in.h>
#include <stddef.h>
#include "error.h"

#define DNSTXT_ANSWER_MAX 4096         /* bytes of an answer read; a longer one is refused */
#define DNSTXT_RECORDS_MAX 16          /* TXT records kept of one answer; the rest are ignored */
#define DNSTXT_VALUE_MAX 255           /* bytes of one record's strings joined; longer: skipped */
#define DNSTXT_NAME_MAX 253

struct dnstxt {
	size_t n;                      /* records in value */
	char value[DNSTXT_RECORDS_MAX][DNSTXT_VALUE_MAX + 1];
};

/* "IPv4" or "IPv4:port" (port 53 by default) into *out; SKIFF_EINVALID otherwise. */
int dnstxt_server_parse(const char *text, struct sockaddr_in *out, struct error *err);
/* The TXT records in the answer section of the DNS message msg (len bytes) into *out, each
 * record's character strings joined. SKIFF_EUPSTREAM for a malformed or truncated message;
 * records that are not TXT, or whose value is longer than DNSTXT_VALUE_MAX or holds a NUL,
 * are skipped. */
int dnstxt_parse(const unsigned char *msg, size_t len, struct dnstxt *out, struct error *err);
/* Asks for the TXT records of name (server: "" for the system resolver's, else as
 * dnstxt_server_parse reads it), waiting about timeout_s seconds at most. SKIFF_ENOTFOUND when
 * the name has none (or does not exist), SKIFF_EUPSTREAM when no good answer came. */
int dnstxt_query(const char *name, const char *server, long timeout_s, struct dnstxt *out,
		 struct error *err);

#endif
