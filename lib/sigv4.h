/* sigv4.h — AWS Signature Version 4 computed by skiff itself, so that what is signed and
 * what is sent do not depend on the HTTP library's version: the canonical query string, the
 * canonical request, the string to sign and the Authorization header. Pure: no I/O. */
#ifndef SKIFF_SIGV4_H
#define SKIFF_SIGV4_H

#include <stddef.h>
#include "buf.h"

#define SIGV4_HEADERS_MAX 32      /* headers one request signs */
#define SIGV4_PARAMS_MAX 32       /* query parameters of one request */
#define SIGV4_CREQ_MAX 32768      /* a canonical request (a presigned one holds the token, encoded) */
#define SIGV4_AUTH_MAX 1024       /* an Authorization header value */
#define SIGV4_DATE_LEN 16         /* "20150830T123600Z" */
#define SIGV4_PRESIGN_EXPIRES_MAX 604800L /* seconds: a presigned URL lives a week at most */

struct sigv4_pair {
	const char *name;
	const char *value;
};

/* One request to sign. uri is the path exactly as it goes on the wire, each byte outside
 * RFC 3986's unreserved set encoded once (percent_encode), which is its canonical form: S3
 * signs it so, and skiff's other calls (ECS) use the path "/".
 * query is the query string as it goes on the wire, pairs already encoded (made by
 * sigv4_query); the signer sorts them. headers are every header to sign, host included;
 * names in any case, repeated names joined in order. */
struct sigv4_request {
	const char *method;
	const char *uri;
	const char *query;
	const struct sigv4_pair *headers;
	size_t nheaders;
	const char *payload_hash;     /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
	const char *amz_date;         /* x-amz-date, "YYYYMMDDTHHMMSSZ" */
	const char *region;
	const char *service;
};

/* Appends to out the query string of params[0..n) (raw names and values): each encoded
 * (RFC 3986 unreserved kept, everything else %XX, so "+/=" become %2B %2F %3D), sorted by
 * name then value, joined with '&'. 0, or -1 when out is too small or n too large. */
int sigv4_query(char *out, size_t cap, const struct sigv4_pair *params, size_t n);

/* The canonical request into creq and the signed header list ("host;x-amz-date") into
 * signed_headers. 0, or -1 when a limit is exceeded. */
int sigv4_canonical_request(const struct sigv4_request *r, struct buf *creq,
			    char *signed_headers, size_t cap);
/* The string to sign for a canonical request. 0 or -1. */
int sigv4_string_to_sign(const struct sigv4_request *r, const char *creq, size_t creq_len,
			 struct buf *sts);
/* The Authorization header value for r signed with the key pair. 0 or -1. */
int sigv4_authorization(const struct sigv4_request *r, const char *access_key,
			const char *secret_key, char out[SIGV4_AUTH_MAX]);

/* A presigned URL's query string ("query parameters" authentication) into out: r's own query
 * (encoded, may be empty), then X-Amz-Algorithm, -Credential, -Date, -Expires (1 to
 * SIGV4_PRESIGN_EXPIRES_MAX seconds), -SignedHeaders and, when token is not empty,
 * -Security-Token, signed over r's headers (host included) with the payload UNSIGNED-PAYLOAD
 * (r->payload_hash is not used), and X-Amz-Signature last. Whoever uses the URL must send
 * every signed header other than host with the same value. 0, or -1 when out is too small. */
int sigv4_presign(const struct sigv4_request *r, const char *access_key, const char *secret_key,
		  const char *token, long expires, char *out, size_t cap);

/* x-amz-date of a time in ms since the epoch. */
void sigv4_date(long long ms, char out[SIGV4_DATE_LEN + 1]);

#endif
