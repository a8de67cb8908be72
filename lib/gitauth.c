/* gitauth.c — credentials and host key pinning for libgit2's https and ssh transports. */
#include "gitauth.h"
#include "clock.h"
#include "model.h"
#include "secret.h"
#include "validate.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GITAUTH_SSH_USER "git"   /* when an ssh URL names none */

void gitauth_init(struct gitauth *a)
{
	memset(a, 0, sizeof(*a));
}

static void gitauth_wipe(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void gitauth_dispose(struct gitauth *a)
{
	if (!a)
		return;
	gitauth_wipe(&a->token);
	gitauth_wipe(&a->private_key);
}

/* Opens a sealed field ("{slug}/repo/token") into a NUL-terminated malloc'd copy. */
static int gitauth_open(const struct secret_key *k, const char *slug, const char *field,
			const char *sealed, char **out, struct error *err)
{
	char aad[SLUG_MAX + 32], *plain = NULL;
	size_t n = 0;
	snprintf(aad, sizeof(aad), "%s/repo/%s", slug, field);
	int rc = secret_open(k, aad, sealed, &plain, &n, err);
	if (rc < 0)
		return rc;
	*out = strndup(plain, n);
	secret_plain_free(plain, n);
	if (!*out)
		abort();
	return 0;
}

/* The host a deploy key is offered to: the one it was made for; a key made before skiff
 * recorded that, the host of the project's own URL. */
static int gitauth_key_host(struct redis *r, const char *slug, const struct repo_access *rec,
			    char out[REPO_HOST_MAX + 1], struct error *err)
{
	snprintf(out, REPO_HOST_MAX + 1, "%s", rec->key_host);
	if (*out)
		return 0;
	struct project *p = malloc(sizeof(*p));
	if (!p)
		abort();
	int rc = model_project_get(r, slug, p, err);
	if (rc == 0 && validate_git_url_host(p->git_url, out, REPO_HOST_MAX + 1) < 0)
		*out = '\0';
	free(p);
	return rc;
}

int gitauth_load(struct redis *r, const struct config *cfg, const char *slug, const char *url,
		 bool fork, struct gitauth *a, struct repo_access *repo, struct error *err)
{
	struct repo_access *rec = malloc(sizeof(*rec));
	struct secret_key key;
	char host[REPO_HOST_MAX + 1], bound[REPO_HOST_MAX + 1];
	int rc;
	memset(&key, 0, sizeof(key));
	if (!rec)
		abort();
	gitauth_init(a);
	a->ssh = validate_git_url_ssh(url);
	if ((rc = model_repo_get(r, slug, rec, err)) < 0)
		goto out;
	if (validate_git_url_host(url, host, sizeof(host)) < 0)
		host[0] = '\0';
	const char *sealed = a->ssh ? rec->key : rec->token;
	if (*sealed && fork) {
		/* a fork's pull request: its URL came with a webhook, and its code is not the
		 * project's; it gets none of the project's credentials, wherever it is hosted */
		a->fork = true;
		sealed = "";
	} else if (*sealed && !a->ssh && (!*host || strcmp(host, rec->token_host) != 0)) {
		/* a token goes only to the host it was set for: a URL changed since does not get it */
		snprintf(a->token_host, sizeof(a->token_host), "%s", rec->token_host);
		sealed = "";
	} else if (*sealed && a->ssh) {
		/* nor a deploy key to another host than the one it was made for */
		if ((rc = gitauth_key_host(r, slug, rec, bound, err)) < 0)
			goto out;
		if (!*host || strcmp(host, bound) != 0) {
			snprintf(a->key_host, sizeof(a->key_host), "%s", *bound ? bound : "?");
			sealed = "";
		}
	}
	if (*sealed) {
		if ((rc = secret_key_load(cfg->secret_key_file, &key, err)) < 0 ||
		    (rc = gitauth_open(&key, slug, a->ssh ? "key" : "token", sealed,
				       a->ssh ? &a->private_key : &a->token, err)) < 0) {
			struct error cause = *err;
			rc = error_set(err, cause.code, cause.name,
				       "cannot open the repository credentials: %s", cause.message);
			goto out;
		}
	}
	snprintf(a->username, sizeof(a->username), "%s", rec->token_user);
	snprintf(a->public_key, sizeof(a->public_key), "%s", rec->key_public);
	snprintf(a->key_fingerprint, sizeof(a->key_fingerprint), "%s", rec->key_fingerprint);
	if (a->ssh && *host && !strcmp(host, rec->host)) {
		snprintf(a->pin_type, sizeof(a->pin_type), "%s", rec->host_key_type);
		snprintf(a->pin, sizeof(a->pin), "%s", rec->host_key);
	}
	if (repo)
		*repo = *rec;
out:
	secret_key_dispose(&key);
	OPENSSL_cleanse(rec, sizeof(*rec));
	free(rec);
	return rc;
}

void gitauth_withheld(const struct gitauth *a, char *out, size_t outlen)
{
	if (a->fork)
		snprintf(out, outlen, "Without the project's %s: a pull request from a fork gets no "
			 "credential of the project", a->ssh ? "deploy key" : "access token");
	else if (a->key_host[0])
		snprintf(out, outlen, "Without the project's deploy key: it was made for %s, not for "
			 "this URL's host", a->key_host);
	else if (a->token_host[0])
		snprintf(out, outlen, "Without the project's access token: it was set for %s, not for "
			 "this URL's host", a->token_host);
	else
		snprintf(out, outlen, "%s", "");
}

int gitauth_on_credentials(git_credential **out, const char *url, const char *user,
			   unsigned int allowed, struct gitauth *a)
{
	(void)url;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user && *user ? user : GITAUTH_SSH_USER);
	if (a->offered > 0) {
		a->refused = true;  /* asked again: what was offered did not do */
		return GIT_EAUTH;
	}
	if (a->ssh && a->private_key && (allowed & GIT_CREDENTIAL_SSH_MEMORY)) {
		a->offered++;
		return git_credential_ssh_key_memory_new(out, user && *user ? user : GITAUTH_SSH_USER,
							 a->public_key, a->private_key, NULL);
	}
	if (!a->ssh && a->token && (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
		a->offered++;
		/* GitHub takes any user with a token; GitLab wants "oauth2" or a name */
		return git_credential_userpass_plaintext_new(out, *a->username ? a->username
										: "x-access-token",
							     a->token);
	}
	a->missing = true;
	return GIT_EAUTH;
}

static const char *gitauth_key_type(git_cert_ssh_raw_type_t t)
{
	switch (t) {
	case GIT_CERT_SSH_RAW_TYPE_RSA: return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS: return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: return "ssh-ed25519";
	default: return "unknown";
	}
}

int gitauth_on_certificate(git_cert *cert, int valid, const char *host, struct gitauth *a)
{
	(void)valid;
	(void)host;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH; /* https: libgit2 checks the certificate chain itself */
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	if (hk->type & GIT_CERT_SSH_RAW)
		sshkey_fingerprint((const unsigned char *)hk->hostkey, hk->hostkey_len, 1, a->seen);
	else if (hk->type & GIT_CERT_SSH_SHA256)
		sshkey_fingerprint(hk->hash_sha256, sizeof(hk->hash_sha256), 0, a->seen);
	else
		return GIT_ECERTIFICATE;
	snprintf(a->seen_type, sizeof(a->seen_type), "%s",
		 hk->type & GIT_CERT_SSH_RAW ? gitauth_key_type(hk->raw_type) : "unknown");
	if (a->pin[0] && strcmp(a->pin, a->seen) != 0) {
		a->mismatch = true;
		return GIT_ECERTIFICATE;
	}
	return 0; /* pinned and equal, or the first use (the caller pins what was seen) */
}

static int gitauth_credentials_cb(git_credential **out, const char *url, const char *user,
				  unsigned int allowed, void *payload)
{
	return gitauth_on_credentials(out, url, user, allowed, payload);
}

static int gitauth_certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	return gitauth_on_certificate(cert, valid, host, payload);
}

void gitauth_callbacks(git_remote_callbacks *cb, struct gitauth *a)
{
	cb->credentials = gitauth_credentials_cb;
	cb->certificate_check = gitauth_certificate_cb;
	cb->payload = a;
}

int gitauth_error(const struct gitauth *a, const char *what, struct error *err)
{
	if (a->mismatch)
		return error_set(err, SKIFF_EGIT, "host_key_changed",
				 "%s: the server's host key changed: pinned %s %s, offered %s %s. If "
				 "the server's key really changed, reset the pinned host key of the "
				 "project and deploy again", what, a->pin_type, a->pin, a->seen_type,
				 a->seen);
	if (a->refused && a->ssh)
		return error_set(err, SKIFF_EGIT, "repository_auth_failed",
				 "%s: the server refused the deploy key %s: add its public key to the "
				 "repository's deploy keys (read access)", what, a->key_fingerprint);
	if (a->refused)
		return error_set(err, SKIFF_EGIT, "repository_auth_failed",
				 "%s: the repository refused the access token (user %s): it is wrong, "
				 "expired, or cannot read this repository", what,
				 *a->username ? a->username : "x-access-token");
	if (a->missing && a->fork)
		return error_set(err, SKIFF_EGIT, "repository_auth_required",
				 "%s: the fork's repository is private, and a pull request from a fork "
				 "gets none of the project's credentials", what);
	if (a->missing && a->ssh && a->key_host[0])
		return error_set(err, SKIFF_EGIT, "repository_auth_required",
				 "%s: the server wants a key and the project's deploy key was made for "
				 "%s, not for this URL's host: generate a new one for this host", what,
				 a->key_host);
	if (a->missing && a->ssh)
		return error_set(err, SKIFF_EGIT, "repository_auth_required",
				 "%s: the server wants a key and the project has no deploy key: "
				 "generate one and add its public key to the repository", what);
	if (a->missing && a->token_host[0])
		return error_set(err, SKIFF_EGIT, "repository_auth_required",
				 "%s: the repository is private and the project's access token was set "
				 "for %s, not for this URL's host: set it again", what, a->token_host);
	if (a->missing)
		return error_set(err, SKIFF_EGIT, "repository_auth_required",
				 "%s: the repository is private and the project has no access token: "
				 "set one (or use an ssh URL with a deploy key)", what);
	const git_error *ge = git_error_last();
	return error_set(err, SKIFF_EGIT, "git_error", "%s: %s", what,
			 ge && ge->message ? ge->message : "unknown error");
}

int gitauth_pin(struct redis *r, const char *slug, const char *url, const char *type,
		const char *fingerprint, struct error *err)
{
	struct repo_access *a = calloc(1, sizeof(*a));
	if (!a)
		abort();
	int rc = validate_git_url_host(url, a->host, sizeof(a->host));
	if (rc < 0) {
		rc = error_set(err, SKIFF_EINVALID, "invalid_git_url", "the URL has no host to pin");
		goto out;
	}
	snprintf(a->host_key_type, sizeof(a->host_key_type), "%s", type);
	snprintf(a->host_key, sizeof(a->host_key), "%s", fingerprint);
	a->host_key_pinned = clock_wall_ms();
	rc = model_repo_pin(r, slug, a, err);
	if (rc == 0 && strcmp(a->host_key, fingerprint) != 0)
		rc = error_set(err, SKIFF_ECONFLICT, "host_key_changed",
			       "the server's host key changed: pinned %s %s, offered %s %s", a->host_key_type,
			       a->host_key, type, fingerprint);
out:
	free(a);
	return rc;
}

/* ---- to the sandboxed clone: one JSON object in a memfd --------------------------------- */

static void gitauth_wire_str(json_t *o, const char *name, const char *v)
{
	if (v && *v)
		json_object_set_new(o, name, json_string(v));
}

json_t *gitauth_wire_json(const struct gitauth *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "ssh", json_boolean(a->ssh));
	gitauth_wire_str(o, "username", a->username);
	gitauth_wire_str(o, "token", a->token);
	gitauth_wire_str(o, "privateKey", a->private_key);
	gitauth_wire_str(o, "publicKey", a->public_key);
	gitauth_wire_str(o, "keyFingerprint", a->key_fingerprint);
	gitauth_wire_str(o, "pinType", a->pin_type);
	gitauth_wire_str(o, "pin", a->pin);
	gitauth_wire_str(o, "tokenHost", a->token_host);   /* for the clone's error message */
	gitauth_wire_str(o, "keyHost", a->key_host);
	if (a->fork)
		json_object_set_new(o, "fork", json_true());
	return o;
}

int gitauth_wire_write(const struct gitauth *a, int *fd, struct error *err)
{
	json_t *o = gitauth_wire_json(a);
	char *text = json_dumps(o, JSON_COMPACT);
	secret_json_free(o);
	if (!text)
		abort();
	size_t n = strlen(text);
	int rc = 0;
	*fd = memfd_create("skiff-clone-credentials", MFD_CLOEXEC);
	if (*fd < 0 || n > GITAUTH_WIRE_MAX || write(*fd, text, n) != (ssize_t)n ||
	    lseek(*fd, 0, SEEK_SET) != 0) {
		rc = error_set(err, SKIFF_ESYS, NULL, "cannot hand the credentials to the clone: %s",
			       n > GITAUTH_WIRE_MAX ? "too long" : strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	OPENSSL_cleanse(text, n);
	free(text);
	return rc;
}

static void gitauth_wire_get(json_t *o, const char *name, char *out, size_t outlen)
{
	const char *v = json_string_value(json_object_get(o, name));
	snprintf(out, outlen, "%s", v ? v : "");
}

static char *gitauth_wire_dup(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	char *s = v ? strdup(v) : NULL;
	if (v && !s)
		abort();
	return s;
}

int gitauth_wire_read(int fd, struct gitauth *a, struct error *err)
{
	char buf[GITAUTH_WIRE_MAX + 1];
	size_t n = 0;
	ssize_t got;
	gitauth_init(a);
	while (n < GITAUTH_WIRE_MAX && (got = read(fd, buf + n, GITAUTH_WIRE_MAX - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return error_set(err, SKIFF_ESYS, NULL, "cannot read the credentials: %s",
					 strerror(errno));
		n += (size_t)got;
	}
	buf[n] = '\0';
	json_t *o = json_loadb(buf, n, 0, NULL);
	OPENSSL_cleanse(buf, n);
	int rc = gitauth_wire_from_json(o, a, err);
	json_decref(o);
	return rc;
}

int gitauth_wire_from_json(json_t *o, struct gitauth *a, struct error *err)
{
	gitauth_init(a);
	if (!json_is_object(o))
		return error_set(err, SKIFF_EINVALID, NULL, "the credentials are not readable");
	a->ssh = json_is_true(json_object_get(o, "ssh"));
	gitauth_wire_get(o, "username", a->username, sizeof(a->username));
	a->token = gitauth_wire_dup(o, "token");
	a->private_key = gitauth_wire_dup(o, "privateKey");
	gitauth_wire_get(o, "publicKey", a->public_key, sizeof(a->public_key));
	gitauth_wire_get(o, "keyFingerprint", a->key_fingerprint, sizeof(a->key_fingerprint));
	gitauth_wire_get(o, "pinType", a->pin_type, sizeof(a->pin_type));
	gitauth_wire_get(o, "pin", a->pin, sizeof(a->pin));
	gitauth_wire_get(o, "tokenHost", a->token_host, sizeof(a->token_host));
	gitauth_wire_get(o, "keyHost", a->key_host, sizeof(a->key_host));
	a->fork = json_is_true(json_object_get(o, "fork"));
	return 0;
}
