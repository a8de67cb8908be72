/* hook_pr.h — pull request (GitHub, Gitea/Forgejo) and merge request (GitLab) events, read
 * into one shape: which pull request, its head branch, commit and repository, whether it comes
 * from a fork, and whether its preview is to be built or removed. */
#ifndef SKIFF_HOOK_PR_H
#define SKIFF_HOOK_PR_H

#include <jansson.h>
#include <stdbool.h>
#include "hook.h"

enum hook_host {
	HOOK_GITHUB,
	HOOK_GITLAB,
	HOOK_GITEA,   /* and Forgejo, which sends the same payloads */
};

#define HOOK_TITLE_MAX 255   /* bytes of a pull request's title kept */

enum hook_pr_action {
	HOOK_PR_BUILD,     /* opened, synchronized (new commits), reopened: build the head */
	HOOK_PR_CLOSE,     /* closed or merged: remove the preview */
	HOOK_PR_IGNORE,    /* anything else (edited, labeled, approved, …): reason says why */
	HOOK_PR_INVALID,   /* not a payload the host would send: reason says why */
};

struct hook_pr {
	enum hook_pr_action action;
	const char *reason;                     /* static text; NULL for build and close */
	long long number;                       /* GitHub's and Gitea's number, GitLab's iid */
	char branch[BRANCH_MAX + 1];            /* the head (source) branch */
	char commit[HOOK_COMMIT_MAX + 1];       /* its head commit, "" when not sent */
	char git_url[HOOK_URL_MAX + 1];         /* the head repository's clone URL, as sent */
	char title[HOOK_TITLE_MAX + 1];         /* first line, control characters as spaces */
	bool fork;                              /* the head repository is not the base one */
};

/* Reads a pull_request (GitHub: opened, synchronize, reopened, closed; Gitea: opened,
 * synchronized, reopened, closed) or merge request (GitLab object_attributes.action: open,
 * update with new commits, reopen, close, merge) payload. */
void hook_pr_classify(enum hook_host host, json_t *payload, struct hook_pr *out);

#endif
