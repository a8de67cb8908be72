/* validate.h — edge validation of every untrusted name skiff accepts: slugs, git URLs, branches. */
#ifndef SKIFF_VALIDATE_H
#define SKIFF_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define SLUG_MAX 63
#define GIT_URL_MAX 2048
#define BRANCH_MAX 255
#define COMMAND_MAX 4096
#define OUTPUT_DIR_MAX 255
#define VALIDATE_SSH_USER_MAX 64     /* the user of an ssh URL (git, org-123, ...) */

/* DNS label: [a-z0-9-], 1..63, no leading/trailing '-', no "--" (reserved). */
int validate_slug(const char *s, struct error *err);
/* https://, ssh://[user@]host[:port]/path or scp-like user@host:path; with allow_local also
 * file:///abs and http:// to loopback hosts. No credentials (a password, or any user in an
 * https URL), no whitespace or control characters, no option-like leading '-', no host of
 * this machine or a private network unless allow_local and a loopback name. */
int validate_git_url(const char *s, bool allow_local, struct error *err);
/* Whether s is a valid (with allow_local) ssh:// or scp-like URL: one a deploy key is for. */
bool validate_git_url_ssh(const char *s);
/* The host of a valid git URL (with allow_local), lower case, with its port when the URL
 * names one ("git.example.com:2222"): what a pinned host key is for. SKIFF_EINVALID for a
 * file:// URL, an invalid one, or one longer than outlen - 1. */
int validate_git_url_host(const char *s, char *out, size_t outlen);
struct addr_resolver;
/* validate_git_url, then, unless allow_local, the host resolved (resolver: NULL for the
 * system's) and refused when it does not resolve or any address is loopback, private,
 * link-local, unique-local, multicast or unspecified (lib/addr.h): invalid_git_url with the
 * reason. The check at creation and again right before the clone; the build's network
 * namespace holds against DNS rebinding between the two and the connect. */
int validate_git_url_resolved(const char *s, bool allow_local,
			      const struct addr_resolver *resolver, struct error *err);
/* git check-ref-format rules for a branch name, at most BRANCH_MAX bytes. */
int validate_branch(const char *s, struct error *err);
/* A shell command line for the build (run by /bin/sh inside the sandbox, never with skiff's
 * privileges): printable, at most COMMAND_MAX bytes, no NUL/newline. */
int validate_command(const char *s, const char *field, struct error *err);
/* A relative directory inside the repository: no "..", no leading '/', printable. */
int validate_output_dir(const char *s, struct error *err);
/* Derives a slug from a git URL's last path segment (lowercased, invalid runs become '-').
 * Writes at most SLUG_MAX + 1 bytes; returns 0 or SKIFF_EINVALID when nothing usable remains. */
int validate_slug_from_url(const char *url, char *out, size_t outlen);

#endif
