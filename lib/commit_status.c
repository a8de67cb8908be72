/* commit_status.c — the GitHub and GitLab commit status requests of deploy events. */
#include "commit_status.h"
#include "buf.h"
#include "percent.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int commit_status_provider_valid(const char *provider)
{
	return provider && (!strcmp(provider, "github") || !strcmp(provider, "gitlab"));
}

const char *commit_status_api_default(const char *provider)
{
	return !strcmp(provider, "gitlab") ? "https://gitlab.com/api/v4" : "https://api.github.com";
}

int commit_status_repository_valid(const char *repo)
{
	size_t n = repo ? strlen(repo) : 0, segments = 0;
	if (n == 0 || n > COMMIT_STATUS_REPOSITORY_MAX)
		return 0;
	for (const char *p = repo;; p++) {
		size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789._-");
		if (len == 0 || (len == 1 && *p == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return 0;
		segments++;
		p += len;
		if (*p == '\0')
			return segments >= 2;
		if (*p != '/')
			return 0;
	}
}

int commit_status_repository(const char *git_url, char *out, size_t outlen)
{
	char *path = NULL;
	int rc = -1;
	CURLU *u = curl_url();
	if (!u)
		abort();
	if ((!strncmp(git_url, "https://", 8) || !strncmp(git_url, "http://", 7)) &&
	    curl_url_set(u, CURLUPART_URL, git_url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		const char *p = path + strspn(path, "/");
		size_t n = strlen(p);
		while (n && p[n - 1] == '/')
			n--;
		if (n > 4 && !strncmp(p + n - 4, ".git", 4))
			n -= 4;
		if (n < outlen) {
			memcpy(out, p, n);
			out[n] = '\0';
			rc = commit_status_repository_valid(out) ? 0 : -1;
		}
	}
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

void commit_status_aad(const char *slug, char out[COMMIT_STATUS_AAD_MAX])
{
	snprintf(out, COMMIT_STATUS_AAD_MAX, "%.63s/commit-status/token", slug);
}

int commit_status_request(const char *provider, const char *api_url, const char *repo,
			  const char *sha, const char *event, const char *target, char *url,
			  size_t urllen, char **body)
{
	bool gitlab = !strcmp(provider, "gitlab");
	size_t base = strlen(api_url);
	while (base && api_url[base - 1] == '/')
		base--;
	/* GitHub: pending, success, failure, error; GitLab: running, success, failed, canceled */
	const char *state, *what;
	if (!strcmp(event, "deploy.started")) {
		state = gitlab ? "running" : "pending";
		what = "Building";
	} else if (!strcmp(event, "deploy.ready")) {
		state = "success";
		what = "Deployed";
	} else if (!strcmp(event, "deploy.failed")) {
		state = gitlab ? "failed" : "failure";
		what = "The build failed";
	} else {
		state = gitlab ? "canceled" : "error";
		what = "The build was canceled";
	}
	int n;
	if (gitlab) {
		struct buf id = BUF_INIT(3 * COMMIT_STATUS_REPOSITORY_MAX + 1);
		percent_encode(&id, repo, strlen(repo), "-._~");
		n = snprintf(url, urllen, "%.*s/projects/%s/statuses/%s", (int)base, api_url,
			     buf_cstr(&id), sha);
		buf_dispose(&id);
	} else {
		n = snprintf(url, urllen, "%.*s/repos/%s/statuses/%s", (int)base, api_url, repo, sha);
	}
	if (n < 0 || (size_t)n >= urllen)
		return -1;
	json_t *j = json_pack("{ssssssss}", "state", state, "target_url", target, "description",
			      what, gitlab ? "name" : "context", "skiff");
	*body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!*body)
		abort();
	return 0;
}
