/* aws_sso.h — IAM Identity Center (AWS SSO) in the credential chain: the access token that
 * `aws sso login` leaves in ~/.aws/sso/cache, and the portal's GetRoleCredentials, whose
 * HTTP call aws.c makes. skiff never refreshes the token itself (doc/aws.md says why). */
#ifndef SKIFF_AWS_SSO_H
#define SKIFF_AWS_SSO_H

#include <stddef.h>
#include "aws.h"
#include "aws_profile.h"
#include "error.h"

#define AWS_SSO_TOKEN_MAX 8192        /* the portal's access token */
#define AWS_SSO_CACHE_MAX 65536       /* a cached token file */

/* The file `aws sso login` writes for s: ~/.aws/sso/cache/{hex SHA-1 of the sso-session's
 * name, or of sso_start_url for the legacy settings}.json (botocore's SSOTokenLoader). */
int aws_sso_cache_path(const struct aws_sso *s, char *path, size_t cap);
/* Its "accessToken" into token (cap bytes) and "expiresAt" as written (ISO 8601) into
 * expires_at (ecap bytes). 0, or SKIFF_EAUTH telling the operator to run `aws sso login`
 * (no file, unreadable, either missing or too long). */
int aws_sso_token(const struct aws_sso *s, char *token, size_t cap, char *expires_at,
		  size_t ecap, struct error *err);
/* The "roleCredentials" of a GetRoleCredentials answer into *c (expiration in ms). 0, or
 * SKIFF_EAUTH that never quotes the body. */
int aws_sso_answer(const char *body, size_t len, struct aws_creds *c, struct error *err);

#endif
