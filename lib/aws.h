/* aws.h — what the S3 client, the ECS launcher and the credential sources share about AWS:
 * credentials, SigV4 signing (sigv4.h), answers' headers, retry decisions and backoff, one
 * HTTP call for credentials. The credential chain is aws_auth.h's. */
#ifndef SKIFF_AWS_H
#define SKIFF_AWS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define AWS_KEY_MAX 256
#define AWS_TOKEN_MAX 4096
#define AWS_CREDS_BODY_MAX 16384   /* a container credentials answer */
#define AWS_URL_MAX 2048
#define AWS_CREDS_TIMEOUT_MS 5000L  /* one call for credentials (STS, the container, SSO) */


struct aws_creds {
	char access_key[AWS_KEY_MAX];
	char secret_key[AWS_KEY_MAX];
	char token[AWS_TOKEN_MAX];    /* session token; "" for long-term keys */
	long long expires_ms;         /* wall clock; 0 = does not expire */
	const char *source;           /* "config", "environment", "web-identity",
				       * "profile", "process", "sso", "assume-role",
				       * "container", "imds" */
	long long skew_ms;            /* the service's clock minus ours (aws_auth_skew) */
};

/* Signs method url with SigV4 (sigv4.h) for region/service: every header already in
 * *headers is signed, and Host, X-Amz-Date (the clock corrected by creds->skew_ms),
 * x-amz-content-sha256 (payload_hash: hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"),
 * x-amz-security-token (temporary credentials) and Authorization are appended. url must be
 * the URL given to h, its path and query already encoded as S3 signs them (aws_uri_encode,
 * sigv4_query); h is told to send it as it is (CURLOPT_PATH_AS_IS), so what is signed does
 * not depend on the libcurl version. */
int aws_sign(CURL *h, struct curl_slist **headers, const struct aws_creds *creds,
	     const char *region, const char *service, const char *method, const char *url,
	     const char *payload_hash, struct error *err);

/* What skiff reads from the headers of an AWS answer (CURLOPT_HEADERFUNCTION aws_answer_header,
 * CURLOPT_HEADERDATA a struct aws_answer, cleared before each attempt). */
struct aws_answer {
	char error_type[128];   /* X-Amzn-ErrorType, as sent */
	char date[64];          /* Date */
};
size_t aws_answer_header(char *p, size_t size, size_t n, void *ctx);
/* The bare error name of an X-Amzn-ErrorType or __type value: the part after the last '#',
 * before the first ':' ("aws.protocoltests#FooError:http://..." gives "FooError"). */
void aws_error_name(const char *type, char *out, size_t cap);
/* 1 when an error says the request's clock is off (RequestTimeTooSkewed, RequestExpired,
 * "Signature expired" or "Signature not yet current"): then aws_auth_skew and retry once. */
int aws_clock_skewed(const char *name, const char *message);
struct buf;
/* One HTTP call for credentials on h: method url with the headers hdrs (or NULL) and a body
 * data (or NULL), retried `retries` times on 5xx and transport errors, the answer into
 * *body. 0, or SKIFF_EAUTH naming `what` and the status or transport error (never the
 * body). */
int aws_http_perform(CURL *h, const char *method, const char *url, struct curl_slist *hdrs,
		     const char *data, int retries, long timeout_ms, struct buf *body,
		     const char *what, struct error *err);
/* The same on a handle of its own, with one extra header line (or ""). */
int aws_http_call(const char *method, const char *url, const char *header, const char *data,
		  int retries, long timeout_ms, struct buf *body, const char *what,
		  struct error *err);

/* Retry policy: 1 for HTTP 5xx, 429 and transport errors (connect, timeout, reset). */
int aws_retryable(CURLcode cc, long status);
/* Full jitter: a random delay in [base, min(cap, base * 2^attempt)] milliseconds. */
long long aws_backoff_ms(int attempt, long long base_ms, long long cap_ms);
/* Sleeps ms milliseconds (restarting after signals). */
void aws_sleep_ms(long long ms);
/* The DNS suffix of a region's partition: "amazonaws.com", "amazonaws.com.cn" for cn-*, and
 * the ISO partitions' own. An explicit endpoint setting wins over what this builds. */
const char *aws_dns_suffix(const char *region);
/* ISO 8601 UTC ("2024-05-01T12:00:00Z", fractions allowed) to ms since the epoch; -1 if bad. */
long long aws_time_parse(const char *s);

/* Appends the URI encoding of s[0..n) to out (RFC 3986 unreserved kept; '/' kept when
 * keep_slash). Returns 0, or -1 when out is too small. */
int aws_uri_encode(char *out, size_t cap, size_t *used, const char *s, size_t n, bool keep_slash);

#endif
