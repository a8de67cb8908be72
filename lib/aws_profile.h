/* aws_profile.h — what the shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials) say about a profile's credentials, its chain of source profiles
 * resolved as the AWS CLI (botocore) resolves it. Only files are read here: aws.c fetches. */
#ifndef SKIFF_AWS_PROFILE_H
#define SKIFF_AWS_PROFILE_H

#include "aws.h"
#include "error.h"

#define AWS_PROFILE_ROLES_MAX 8      /* roles assumed one after the other (chained roles) */
#define AWS_PROFILE_NAME_MAX 256
#define AWS_PROFILE_LINE_MAX 1024
#define AWS_ROLE_MAX 2048            /* role_arn, external_id and the like */

/* Where the first credentials of a profile come from. */
enum aws_profile_base {
	AWS_BASE_NONE,          /* the profile says nothing about credentials */
	AWS_BASE_KEYS,          /* aws_access_key_id, aws_secret_access_key[, aws_session_token] */
	AWS_BASE_PROCESS,       /* credential_process */
	AWS_BASE_SSO,           /* IAM Identity Center: sso_session or sso_start_url */
	AWS_BASE_WEB_IDENTITY,  /* web_identity_token_file with role_arn */
	AWS_BASE_ENVIRONMENT,   /* credential_source = Environment */
	AWS_BASE_CONTAINER,     /* credential_source = EcsContainer */
	AWS_BASE_IMDS,          /* credential_source = Ec2InstanceMetadata */
};

/* One role to assume: role_arn, role_session_name, external_id, duration_seconds. */
struct aws_role {
	char arn[AWS_ROLE_MAX];
	char session_name[128];
	char external_id[AWS_ROLE_MAX];
	char duration[16];
	char profile[AWS_PROFILE_NAME_MAX];   /* the profile that names it (messages) */
};

/* An SSO profile: its own sso_start_url/sso_region (legacy) or those of [sso-session NAME]. */
struct aws_sso {
	char session[AWS_PROFILE_NAME_MAX];   /* sso_session; "" for the legacy settings */
	char start_url[AWS_PROFILE_LINE_MAX];
	char region[64];
	char account_id[64];
	char role_name[AWS_PROFILE_NAME_MAX];
};

struct aws_profile {
	enum aws_profile_base base;
	char base_profile[AWS_PROFILE_NAME_MAX];  /* the profile the base is read from */
	char access[AWS_KEY_MAX], secret[AWS_KEY_MAX], token[AWS_TOKEN_MAX];
	char process[AWS_PROFILE_LINE_MAX];
	char web_token_file[AWS_PROFILE_LINE_MAX];
	struct aws_role web;                      /* the role of web_identity_token_file */
	struct aws_sso sso;
	/* assumed in this order, roles[0] with the base's credentials, each next one with the
	 * credentials of the one before */
	struct aws_role roles[AWS_PROFILE_ROLES_MAX];
	int roles_n;
};

/* AWS_PROFILE, else "default". */
const char *aws_profile_name(void);

/* Profile `name` of the shared config file (AWS_CONFIG_FILE, else ~/.aws/config; sections
 * "[profile NAME]", "[default]", "[sso-session NAME]") and credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; "[NAME]"), which wins key by key.
 * In botocore's order: role_arn (then source_profile, followed while it is itself a role
 * without static keys, or credential_source) fills roles[]; else web_identity_token_file
 * with role_arn, SSO, static keys of the credentials file, credential_process, static keys
 * of the config file make the base. 0 (base AWS_BASE_NONE and no role when the profile is
 * missing or says nothing), or SKIFF_EAUTH naming the profile: a loop of source profiles,
 * more than AWS_PROFILE_ROLES_MAX roles, mfa_serial (nobody is there to type a code), both
 * or neither of source_profile and credential_source, a missing source profile or one
 * without credentials, an unknown credential_source, incomplete SSO settings. *out holds
 * secrets: wipe it after use. */
int aws_profile_resolve(const char *name, struct aws_profile *out, struct error *err);

#endif
