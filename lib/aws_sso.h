/* aws_sso.h — IAM Identity Center (AWS SSO) in the credential chain: the access token that
 * `aws sso login` leaves in ~/.aws/sso/cache, exchanged at the portal's GetRoleCredentials
 * for a role's credentials. skiff never refreshes the token itself (doc/aws.md says why). */
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
/* The role's credentials of s into *c: the cached token (its expiresAt checked), then the
 * portal's GetRoleCredentials (AWS_ENDPOINT_URL_SSO, else
 * https://portal.sso.{region}.{suffix}; unsigned, the token in x-amz-sso_bearer_token).
 * 0, or SKIFF_EAUTH telling the operator to run `aws sso login` when the token is missing,
 * expired or refused (401); never quotes the token. */
int aws_sso_fetch(const struct aws_sso *s, struct aws_creds *c, struct error *err);

#endif
