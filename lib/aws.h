/* aws.h — what the S3 client and the ECS launcher share about AWS: credentials in the usual
 * order with refresh, SigV4 signing (sigv4.h), retry decisions and backoff. */
#ifndef SKIFF_AWS_H
#define SKIFF_AWS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define AWS_KEY_MAX 256
#define AWS_TOKEN_MAX 4096
#define AWS_CREDS_BODY_MAX 16384   /* a container credentials answer */

/* Where the ECS agent serves container credentials; tests point it at a local stand-in. */
#define AWS_CONTAINER_HOST "http://169.254.170.2"
#define AWS_CONTAINER_HOST_ENV "SKIFF_AWS_CONTAINER_CREDENTIALS_HOST"

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

struct aws_auth;

/* Credentials in the order of botocore's default chain: the given keys (skiff's
 * configuration; empty = none), then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN (unless AWS_PROFILE is set), then AWS_PROFILE's role (chained roles
 * included, aws_profile.h), then web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 * through STS), then the rest of the profile (web identity, SSO, static keys,
 * credential_process), then the ECS container endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or _FULL_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]), then EC2 IMDSv2
 * (AWS_EC2_METADATA_SERVICE_ENDPOINT for tests). Nothing is read until aws_auth_get; the
 * first source and each change of source are logged once.
 * Not thread-safe: one per thread. */
struct aws_auth *aws_auth_new(const char *access_key, const char *secret_key);
void aws_auth_free(struct aws_auth *a);
/* Current credentials into out; temporary ones are refreshed before they expire (when less
 * than a fifth of their lifetime, at most 5 minutes, remains). A failed fetch is not
 * repeated for 5 s: meanwhile calls answer at once, with the current credentials while they
 * are valid, else with the same error. Messages never carry secrets. */
int aws_auth_get(struct aws_auth *a, struct aws_creds *out, struct error *err);
/* A service said the credentials expired: the next aws_auth_get fetches new ones. 1 when
 * refreshing can help (fetched temporary credentials), 0 otherwise. */
int aws_auth_expired(struct aws_auth *a);
/* Splits a profile's credential_process into words as the AWS CLI does (POSIX shlex: blanks
 * separate words; '...' is literal; in "..." only \" and \\ are escapes; \ outside quotes
 * takes the next character as it is), into store (cap bytes) and argv (max entries, the
 * last one NULL). The number of words, or -1 (unbalanced quotes, too long, too many). */
int aws_split_command(const char *cmd, char *store, size_t cap, char **argv, int max);
/* How many times credentials were fetched from the container endpoint (for tests, logs). */
unsigned aws_auth_fetches(const struct aws_auth *a);

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
/* Corrects the signing clock by the server's Date header (RFC 7231). 1 when the offset was
 * set, 0 when date is unreadable. */
int aws_auth_skew(struct aws_auth *a, const char *date);
/* 1 when the server's Date is more than 4 minutes from the signing clock: how a 403 without
 * a body (an answer to HEAD) shows a skewed clock. */
int aws_auth_clock_off(const struct aws_auth *a, const char *date);

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
