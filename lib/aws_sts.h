/* aws_sts.h — STS for the credential chain: AssumeRole and AssumeRoleWithWebIdentity. The
 * endpoint is AWS_ENDPOINT_URL_STS, else the regional one of AWS_REGION /
 * AWS_DEFAULT_REGION, else https://sts.amazonaws.com; requests are signed for AWS_REGION,
 * else us-east-1. */
#ifndef SKIFF_AWS_STS_H
#define SKIFF_AWS_STS_H

#include "aws.h"
#include "aws_profile.h"
#include "error.h"

/* Role r (its role_session_name, else "skiff", external_id, duration_seconds) assumed with
 * the credentials *src; the role's temporary credentials into *out. 0, or SKIFF_EAUTH
 * naming r's profile and STS's status. */
int aws_sts_assume_role(const struct aws_role *r, const struct aws_creds *src,
			struct aws_creds *out, struct error *err);
/* The OIDC token in `file` (read at each call: the kubelet rotates it) exchanged for role's
 * credentials (session name `session`, else "skiff") by AssumeRoleWithWebIdentity
 * (unsigned) into *c. */
int aws_sts_web_identity(const char *file, const char *role, const char *session,
			 struct aws_creds *c, struct error *err);

#endif
