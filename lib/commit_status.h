/* commit_status.h — commit statuses on GitHub and GitLab: the provider, repository and API
 * URL a project names, and the request that sets a commit's status for a deploy event. They are
 * sent as deliveries of the hook "commit-status" (notify.h). */
#ifndef SKIFF_COMMIT_STATUS_H
#define SKIFF_COMMIT_STATUS_H

#include <stddef.h>

#define COMMIT_STATUS_AAD_MAX 96           /* "{slug}/commit-status/token" */
#define COMMIT_STATUS_REPOSITORY_MAX 255   /* "owner/name", "group/sub/name" */
#define COMMIT_STATUS_TOKEN_MAX 512        /* bytes of a provider's API token */
#define COMMIT_STATUS_HOOK "commit-status" /* the "hook" of a commit status delivery */

/* 1 for "github" or "gitlab". */
int commit_status_provider_valid(const char *provider);
/* The public API of provider: https://api.github.com, https://gitlab.com/api/v4. */
const char *commit_status_api_default(const char *provider);
/* 1 for a repository path: 1-255 bytes, segments of [A-Za-z0-9._-] separated by single
 * slashes, at least two, none "." or "..". */
int commit_status_repository_valid(const char *repo);
/* The repository path of an http(s) git URL ("https://github.com/o/r.git" → "o/r"); -1 for
 * other schemes and when the path is not one commit_status_repository_valid accepts. */
int commit_status_repository(const char *git_url, char *out, size_t outlen);
/* The name a project's status token is sealed under. */
void commit_status_aad(const char *slug, char out[COMMIT_STATUS_AAD_MAX]);
/* The API request that sets commit sha's status for event: the URL (GitHub
 * {api}/repos/{repo}/statuses/{sha}; GitLab {api}/projects/{url-encoded repo}/statuses/{sha})
 * into url, the JSON into *body (free()). target is the deployment's URL. -1 when url is too
 * small. */
int commit_status_request(const char *provider, const char *api_url, const char *repo,
			  const char *sha, const char *event, const char *target, char *url,
			  size_t urllen, char **body);

#endif
