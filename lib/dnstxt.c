/* dnstxt.c — TXT records through glibc's resolver: res_nquery on a private resolver state
 * (its server replaced when one is named), the answer walked with libresolv's ns_parserr,
 * which checks every record against the message's end; each TXT record's strings are joined
 * within DNSTXT_VALUE_MAX. */
#include "dnstxt.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dnstxt_server_parse(const char *text, struct sockaddr_in *out, struct error *err)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
	unsigned long port = 53;
	memset(out, 0, sizeof(*out));
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (colon) {
		char *end = NULL;
		if (colon[1] < '0' || colon[1] > '9')
			goto bad;
		port = strtoul(colon + 1, &end, 10);
		if (*end || port == 0 || port > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		goto bad;
	out->sin_family = AF_INET;
	out->sin_port = htons((unsigned short)port);
	return 0;
bad:
	return error_set(err, SKIFF_EINVALID, "invalid_nameserver",
			 "'%.64s' is not an IPv4 address with an optional :port", text);
}

/* One TXT record's character strings, joined into out; 0, or -1 when malformed or too long. */
static int dnstxt_value(const unsigned char *rd, size_t rdlen, char out[DNSTXT_VALUE_MAX + 1])
{
	size_t used = 0, pos = 0;
	while (pos < rdlen) {
		size_t n = rd[pos++];
		if (n > rdlen - pos || n > DNSTXT_VALUE_MAX - used)
			return -1;
		if (memchr(rd + pos, '\0', n))
			return -1;
		memcpy(out + used, rd + pos, n);
		used += n;
		pos += n;
	}
	out[used] = '\0';
	return 0;
}

int dnstxt_parse(const unsigned char *msg, size_t len, struct dnstxt *out, struct error *err)
{
	ns_msg handle;
	out->n = 0;
	if (len > DNSTXT_ANSWER_MAX || ns_initparse(msg, (int)len, &handle) < 0)
		return error_set(err, SKIFF_EUPSTREAM, NULL, "a malformed DNS answer");
	int count = ns_msg_count(handle, ns_s_an);
	for (int i = 0; i < count; i++) {
		ns_rr rr;
		if (ns_parserr(&handle, ns_s_an, i, &rr) < 0)
			return error_set(err, SKIFF_EUPSTREAM, NULL, "a malformed DNS answer");
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;   /* the CNAMEs that led there, or anything else */
		if (out->n == DNSTXT_RECORDS_MAX)
			break;
		if (dnstxt_value(ns_rr_rdata(rr), ns_rr_rdlen(rr), out->value[out->n]) == 0)
			out->n++;
	}
	return 0;
}

int dnstxt_query(const char *name, const char *server, long timeout_s, struct dnstxt *out,
		 struct error *err)
{
	struct __res_state st;
	unsigned char answer[DNSTXT_ANSWER_MAX];
	struct sockaddr_in addr;
	int rc = 0;
	out->n = 0;
	if (strlen(name) > DNSTXT_NAME_MAX)
		return error_set(err, SKIFF_EINVALID, NULL, "a name longer than %d bytes",
				 DNSTXT_NAME_MAX);
	if (server[0] && dnstxt_server_parse(server, &addr, err) < 0)
		return err->code;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return error_set(err, SKIFF_ESYS, NULL, "the resolver could not start");
	if (server[0]) {
		st.nsaddr_list[0] = addr;
		st.nscount = 1;
	}
	st.retrans = (int)(timeout_s > 0 ? timeout_s : 1);
	st.retry = 1;
	st.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	int n = res_nquery(&st, name, ns_c_in, ns_t_txt, answer, sizeof(answer));
	if (n < 0) {
		if (st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA)
			rc = error_set(err, SKIFF_ENOTFOUND, NULL, "no TXT record at %s", name);
		else
			rc = error_set(err, SKIFF_EUPSTREAM, NULL, "no answer from DNS for %s", name);
	} else if ((size_t)n > sizeof(answer)) {
		rc = error_set(err, SKIFF_EUPSTREAM, NULL, "a DNS answer over %d bytes for %s",
			       DNSTXT_ANSWER_MAX, name);
	} else {
		rc = dnstxt_parse(answer, (size_t)n, out, err);
	}
	res_nclose(&st);
	return rc;
}
