/* gitauth.h — a private repository's credentials in libgit2: the project's token (https) or
 * deploy key (ssh), opened from their sealed form only for the clone or poll that needs them,
 * the SSH host key checked against its pin, and failures told as what the user must fix. */
#ifndef SKIFF_GITAUTH_H
#define SKIFF_GITAUTH_H

#include <git2.h>
#include <stdbool.h>
#include "config.h"
#include "error.h"
#include "model_repo.h"
#include "redis.h"

#define GITAUTH_WIRE_MAX 8192   /* the credentials as handed to the sandboxed clone */

struct gitauth {
	/* what skiff offers: for https the token, for ssh the key; never both */
	bool ssh;
	char username[REPO_USERNAME_MAX + 1];
	char *token;                                   /* malloc'd, wiped by dispose; or NULL */
	char *private_key;                             /* malloc'd, wiped by dispose; or NULL */
	char public_key[SSHKEY_PUBLIC_MAX + 1];
	char key_fingerprint[SSHKEY_FINGERPRINT_MAX + 1];
	char pin_type[SSHKEY_TYPE_MAX + 1];            /* the host key pinned for the URL's host */
	char pin[SSHKEY_FINGERPRINT_MAX + 1];          /* "": none yet (the first use pins) */
	/* what happened during a clone or poll */
	int offered;                                   /* credentials handed to libgit2 */
	bool refused;                                  /* asked again after one: refused */
	bool missing;                                  /* the server wants what skiff lacks */
	bool mismatch;                                 /* the host key is not the pinned one */
	char token_host[REPO_HOST_MAX + 1];            /* a token kept back: set for this host */
	char key_host[REPO_HOST_MAX + 1];              /* a key kept back: made for this host */
	bool fork;                                     /* kept back: a fork's pull request */
	char seen_type[SSHKEY_TYPE_MAX + 1];           /* the host key the server showed */
	char seen[SSHKEY_FINGERPRINT_MAX + 1];
};

/* Nothing to offer, nothing seen. */
void gitauth_init(struct gitauth *a);
/* Wipes and frees the credentials (a may be NULL). */
void gitauth_dispose(struct gitauth *a);
/* The credentials of project slug for url (https: its token; ssh: its deploy key and the host
 * key pinned for url's host), opened with the key of cfg->secret_key_file only when there is
 * one to open. A token or key goes only to the host it was set or made for (token_host,
 * key_host say so when kept back), and never to a fork's pull request (fork: its URL comes
 * from a webhook); the pin is loaded all the same. The project's record (repo, may be NULL)
 * is filled too. */
int gitauth_load(struct redis *r, const struct config *cfg, const char *slug, const char *url,
		 bool fork, struct gitauth *a, struct repo_access *repo, struct error *err);
/* Why a's token or key is kept back (fork, another host), as one line for the build log, into
 * out; "" when nothing was kept back. */
void gitauth_withheld(const struct gitauth *a, char *out, size_t outlen);
/* Sets the credential and certificate callbacks of cb with a as their payload. */
void gitauth_callbacks(git_remote_callbacks *cb, struct gitauth *a);
/* The two callbacks, for callers whose payload holds more than a gitauth. */
int gitauth_on_credentials(git_credential **out, const char *url, const char *user,
			   unsigned int allowed, struct gitauth *a);
int gitauth_on_certificate(git_cert *cert, int valid, const char *host, struct gitauth *a);
/* The error of a failed libgit2 call (what: "clone failed"): the host key change, the refused
 * or missing credentials when those were the cause, else libgit2's own message. */
int gitauth_error(const struct gitauth *a, const char *what, struct error *err);
/* Records a host key seen on first use as the project's pin for url's host: 1 pinned now, 0
 * when one was pinned meanwhile (then it must match, else SKIFF_ECONFLICT host_key_changed). */
int gitauth_pin(struct redis *r, const char *slug, const char *url, const char *type,
		const char *fingerprint, struct error *err);
/* The credentials to offer as a memfd for the sandboxed clone (its position 0; *fd is the
 * caller's to close), and the child's side of it. */
int gitauth_wire_write(const struct gitauth *a, int *fd, struct error *err);
int gitauth_wire_read(int fd, struct gitauth *a, struct error *err);
/* The same as JSON (new reference; its strings hold the credentials), and back into a: the
 * form a remote builder receives them in from the API. */
json_t *gitauth_wire_json(const struct gitauth *a);
int gitauth_wire_from_json(json_t *o, struct gitauth *a, struct error *err);

#endif
