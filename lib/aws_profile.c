/* aws_profile.c — a profile of the AWS shared config and credentials files, with its source
 * profiles followed into a chain of roles, as botocore's AssumeRoleProvider does. */
#include "aws_profile.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AWS_PROFILE_FILE_LINES 10000   /* a shared file is read this far, no further */

/* The keys skiff reads from one section, both files merged. */
struct aws_section {
	bool found;                 /* the section exists in either file */
	bool keys_in_credentials;   /* a key came from the credentials file */
	char access[AWS_KEY_MAX], secret[AWS_KEY_MAX], token[AWS_TOKEN_MAX];
	char process[AWS_PROFILE_LINE_MAX];
	char role_arn[AWS_ROLE_MAX], source_profile[AWS_PROFILE_NAME_MAX], credential_source[64];
	char session_name[128], external_id[AWS_ROLE_MAX], duration[16], mfa_serial[AWS_ROLE_MAX];
	char web_token_file[AWS_PROFILE_LINE_MAX];
	char sso_session[AWS_PROFILE_NAME_MAX], sso_start_url[AWS_PROFILE_LINE_MAX];
	char sso_region[64], sso_account_id[64], sso_role_name[AWS_PROFILE_NAME_MAX];
};

static void aws_profile_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

const char *aws_profile_name(void)
{
	const char *name = getenv("AWS_PROFILE");
	return name && *name ? name : "default";
}

/* One section of one shared file into *s: the lines of "[header]" (or of alt, when given),
 * each key found replacing what an earlier file said. */
static void aws_section_file(const char *path, const char *header, const char *alt,
			     bool credentials_file, struct aws_section *s)
{
	FILE *f = path && *path ? fopen(path, "re") : NULL;
	if (!f)
		return;
	static const struct { const char *key; size_t off, cap; } keys[] = {
#define K(k, f) { k, offsetof(struct aws_section, f), sizeof(((struct aws_section *)0)->f) }
		K("aws_access_key_id", access), K("aws_secret_access_key", secret),
		K("aws_session_token", token), K("credential_process", process),
		K("role_arn", role_arn), K("source_profile", source_profile),
		K("credential_source", credential_source), K("role_session_name", session_name),
		K("external_id", external_id), K("duration_seconds", duration),
		K("mfa_serial", mfa_serial), K("web_identity_token_file", web_token_file),
		K("sso_session", sso_session), K("sso_start_url", sso_start_url),
		K("sso_region", sso_region), K("sso_account_id", sso_account_id),
		K("sso_role_name", sso_role_name),
#undef K
	};
	char line[AWS_PROFILE_LINE_MAX];
	bool in = false;
	int lines = 0;
	while (fgets(line, sizeof(line), f) && lines++ < AWS_PROFILE_FILE_LINES) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, "\r\n");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		p[n] = '\0';
		if (*p == '[') {
			in = !strcmp(p, header) || (alt && !strcmp(p, alt));
			s->found |= in;
			continue;
		}
		char *eq = strchr(p, '=');
		if (!in || !eq || *p == '#' || *p == ';')
			continue;
		char *k = p, *v = eq + 1, *ke = eq;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		*ke = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcasecmp(k, keys[i].key)) {
				aws_profile_copy((char *)s + keys[i].off, keys[i].cap, v);
				if (i < 2 && credentials_file)
					s->keys_in_credentials = true;
			}
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
}

/* Path of a shared file: the variable, else ~/.aws/NAME. */
static const char *aws_shared_path(const char *var, const char *name, char *buf, size_t cap)
{
	const char *v = getenv(var), *home = getenv("HOME");
	if (v && *v)
		return v;
	if (!home || !*home)
		return NULL;
	snprintf(buf, cap, "%s/.aws/%s", home, name);
	return buf;
}

/* Profile `name` (sso_session false) or sso-session `name` into *s, as both files say. */
static void aws_section_read(const char *name, bool sso_session, struct aws_section *s)
{
	char header[AWS_PROFILE_NAME_MAX + 32], path[4096];
	memset(s, 0, sizeof(*s));
	if (strlen(name) >= AWS_PROFILE_NAME_MAX)
		return;
	snprintf(header, sizeof(header), "[%s %s]", sso_session ? "sso-session" : "profile", name);
	bool dflt = !sso_session && !strcmp(name, "default");
	aws_section_file(aws_shared_path("AWS_CONFIG_FILE", "config", path, sizeof(path)),
			 header, dflt ? "[default]" : NULL, false, s);
	if (sso_session)
		return;
	snprintf(header, sizeof(header), "[%s]", name);
	aws_section_file(aws_shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", path,
					 sizeof(path)),
			 header, NULL, true, s);
}

static bool aws_section_static(const struct aws_section *s)
{
	return s->access[0] || s->secret[0];
}

static bool aws_section_role(const struct aws_section *s)
{
	return s->role_arn[0] && !s->web_token_file[0];
}

/* The SSO settings of profile `name` (sso_account_id or sso_role_name present), with those
 * of its [sso-session] section, which must agree with the profile's own. */
static int aws_profile_sso(const char *name, const struct aws_section *s, struct aws_sso *out,
			   struct error *err)
{
	memset(out, 0, sizeof(*out));
	aws_profile_copy(out->start_url, sizeof(out->start_url), s->sso_start_url);
	aws_profile_copy(out->region, sizeof(out->region), s->sso_region);
	aws_profile_copy(out->account_id, sizeof(out->account_id), s->sso_account_id);
	aws_profile_copy(out->role_name, sizeof(out->role_name), s->sso_role_name);
	if (s->sso_session[0]) {
		struct aws_section *ss = calloc(1, sizeof(*ss));
		if (!ss)
			abort();
		aws_section_read(s->sso_session, true, ss);
		int rc = 0;
		if (!ss->found)
			rc = error_set(err, SKIFF_EAUTH, "invalid_config",
				       "profile %s: sso_session %s has no [sso-session] "
				       "section", name, s->sso_session);
		else if ((out->start_url[0] && ss->sso_start_url[0] &&
			  strcmp(out->start_url, ss->sso_start_url)) ||
			 (out->region[0] && ss->sso_region[0] && strcmp(out->region, ss->sso_region)))
			rc = error_set(err, SKIFF_EAUTH, "invalid_config",
				       "profile %s: sso_start_url or sso_region differs "
				       "from its sso-session %s", name, s->sso_session);
		if (ss->sso_start_url[0])
			aws_profile_copy(out->start_url, sizeof(out->start_url), ss->sso_start_url);
		if (ss->sso_region[0])
			aws_profile_copy(out->region, sizeof(out->region), ss->sso_region);
		aws_profile_copy(out->session, sizeof(out->session), s->sso_session);
		free(ss);
		if (rc < 0)
			return rc;
	}
	if (!out->start_url[0] || !out->region[0] || !out->account_id[0] || !out->role_name[0])
		return error_set(err, SKIFF_EAUTH, "invalid_config",
				 "profile %s uses SSO but lacks one of sso_start_url, "
				 "sso_region, sso_account_id, sso_role_name%s", name,
				 s->sso_session[0] ? " (with its sso-session)" : "");
	return 0;
}

static void aws_role_from(struct aws_role *r, const char *profile, const struct aws_section *s)
{
	aws_profile_copy(r->arn, sizeof(r->arn), s->role_arn);
	aws_profile_copy(r->session_name, sizeof(r->session_name), s->session_name);
	aws_profile_copy(r->external_id, sizeof(r->external_id), s->external_id);
	aws_profile_copy(r->duration, sizeof(r->duration), s->duration);
	aws_profile_copy(r->profile, sizeof(r->profile), profile);
}

/* The base of profile `name` as botocore's profile providers find it: web identity, SSO,
 * keys of the credentials file, credential_process, keys of the config file. */
static int aws_profile_base(const char *name, const struct aws_section *s,
			    struct aws_profile *out, struct error *err)
{
	aws_profile_copy(out->base_profile, sizeof(out->base_profile), name);
	bool keys = s->access[0] && s->secret[0];
	if (s->web_token_file[0] && s->role_arn[0]) {
		out->base = AWS_BASE_WEB_IDENTITY;
		aws_profile_copy(out->web_token_file, sizeof(out->web_token_file), s->web_token_file);
		aws_role_from(&out->web, name, s);
	} else if (s->sso_account_id[0] || s->sso_role_name[0]) {
		int rc = aws_profile_sso(name, s, &out->sso, err);
		if (rc < 0)
			return rc;
		out->base = AWS_BASE_SSO;
	} else if (keys && s->keys_in_credentials) {
		out->base = AWS_BASE_KEYS;
	} else if (s->process[0]) {
		out->base = AWS_BASE_PROCESS;
		aws_profile_copy(out->process, sizeof(out->process), s->process);
	} else if (keys) {
		out->base = AWS_BASE_KEYS;
	}
	if (out->base == AWS_BASE_KEYS) {
		aws_profile_copy(out->access, sizeof(out->access), s->access);
		aws_profile_copy(out->secret, sizeof(out->secret), s->secret);
		aws_profile_copy(out->token, sizeof(out->token), s->token);
	}
	return 0;
}

/* credential_source of a role profile into out->base. */
static int aws_profile_source(const char *name, const char *source, struct aws_profile *out,
			      struct error *err)
{
	static const struct { const char *name; enum aws_profile_base base; } sources[] = {
		{ "Environment", AWS_BASE_ENVIRONMENT },
		{ "EcsContainer", AWS_BASE_CONTAINER },
		{ "Ec2InstanceMetadata", AWS_BASE_IMDS },
	};
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(source, sources[i].name)) {
			out->base = sources[i].base;
			aws_profile_copy(out->base_profile, sizeof(out->base_profile), name);
			return 0;
		}
	return error_set(err, SKIFF_EAUTH, "invalid_config",
			 "profile %s: credential_source %s is not Environment, "
			 "EcsContainer or Ec2InstanceMetadata", name, source);
}

/* The roles from profile `name` (a role profile, read into *s) down to the base, outermost
 * first into out->roles; then reversed so that the base's role comes first. */
static int aws_profile_chain(const char *name, struct aws_section *s, struct aws_profile *out,
			     struct error *err)
{
	char visited[AWS_PROFILE_ROLES_MAX + 1][AWS_PROFILE_NAME_MAX], cur[AWS_PROFILE_NAME_MAX];
	int nvisited = 0, rc = 0;
	aws_profile_copy(visited[nvisited++], sizeof(visited[0]), name);
	aws_profile_copy(cur, sizeof(cur), name);
	for (;;) {
		if (s->mfa_serial[0])
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "profile %s: mfa_serial is not supported (skiff "
					 "runs unattended: nobody can type a code)", cur);
		if (s->source_profile[0] && s->credential_source[0])
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "profile %s has both source_profile and "
					 "credential_source", cur);
		if (!s->source_profile[0] && !s->credential_source[0])
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "profile %s has role_arn without source_profile "
					 "or credential_source", cur);
		if (out->roles_n >= AWS_PROFILE_ROLES_MAX)
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "profile %s: more than %d chained roles", name,
					 AWS_PROFILE_ROLES_MAX);
		aws_role_from(&out->roles[out->roles_n++], cur, s);
		if (s->credential_source[0]) {
			rc = aws_profile_source(cur, s->credential_source, out, err);
			break;
		}
		char src[AWS_PROFILE_NAME_MAX];
		aws_profile_copy(src, sizeof(src), s->source_profile);
		bool seen = false;
		for (int i = 0; i < nvisited; i++)
			seen |= !strcmp(visited[i], src);
		aws_section_read(src, false, s);
		if (!s->found)
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "source_profile %s of profile %s does not exist",
					 src, cur);
		/* a profile may name itself to use its own static keys; any other repeat is a
		 * loop */
		if (seen && (strcmp(src, cur) || !aws_section_static(s)))
			return error_set(err, SKIFF_EAUTH, "invalid_config",
					 "profile %s: source_profile %s makes a loop",
					 cur, src);
		if (nvisited <= AWS_PROFILE_ROLES_MAX)
			aws_profile_copy(visited[nvisited++], sizeof(visited[0]), src);
		aws_profile_copy(cur, sizeof(cur), src);
		if (aws_section_static(s) || !aws_section_role(s)) {
			rc = aws_profile_base(cur, s, out, err);
			if (rc == 0 && out->base == AWS_BASE_NONE)
				rc = error_set(err, SKIFF_EAUTH, "invalid_config",
					       "source_profile %s has no credentials",
					       cur);
			break;
		}
	}
	for (int i = 0, j = out->roles_n - 1; i < j; i++, j--) {
		struct aws_role t = out->roles[i];
		out->roles[i] = out->roles[j];
		out->roles[j] = t;
	}
	return rc;
}

int aws_profile_resolve(const char *name, struct aws_profile *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	struct aws_section *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	int rc = 0;
	aws_section_read(name, false, s);
	if (s->found)
		rc = aws_section_role(s) ? aws_profile_chain(name, s, out, err)
					 : aws_profile_base(name, s, out, err);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	if (rc < 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}
