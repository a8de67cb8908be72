/* aws_auth.h — the AWS credential chain: the source chosen in botocore's order, its
 * credentials fetched and refreshed before they expire, the signing clock's skew. */
#ifndef SKIFF_AWS_AUTH_H
#define SKIFF_AWS_AUTH_H

#include "aws.h"
#include "error.h"

/* Where the ECS agent serves container credentials; tests point it at a local stand-in. */
#define AWS_CONTAINER_HOST "http://169.254.170.2"
#define AWS_CONTAINER_HOST_ENV "SKIFF_AWS_CONTAINER_CREDENTIALS_HOST"

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
/* How many times credentials were fetched from the container endpoint (for tests, logs). */
unsigned aws_auth_fetches(const struct aws_auth *a);

/* Corrects the signing clock by the server's Date header (RFC 7231). 1 when the offset was
 * set, 0 when date is unreadable. */
int aws_auth_skew(struct aws_auth *a, const char *date);
/* 1 when the server's Date is more than 4 minutes from the signing clock: how a 403 without
 * a body (an answer to HEAD) shows a skewed clock. */
int aws_auth_clock_off(const struct aws_auth *a, const char *date);

#endif
