/* hook_pr.c — pull and merge request events of GitHub, Gitea/Forgejo and GitLab in one shape. */
#include "hook_pr.h"
#include "preview.h"

#include <stdio.h>
#include <string.h>

static const char *hook_pr_str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* The fields every host has once found: number, head branch, commit, clone URL, title. */
static void hook_pr_fill(struct hook_pr *out, json_t *number, const char *branch,
			 const char *commit, const char *url, const char *title)
{
	out->action = HOOK_PR_INVALID;
	if (!json_is_integer(number) || json_integer_value(number) < 1 ||
	    json_integer_value(number) > PREVIEW_PR_MAX) {
		out->reason = "the payload has no pull request number";
		return;
	}
	out->number = json_integer_value(number);
	if (!branch || validate_branch(branch, NULL) < 0) {
		out->reason = "the payload has no valid head branch";
		return;
	}
	snprintf(out->branch, sizeof(out->branch), "%s", branch);
	if (hook_commit_valid(commit))
		snprintf(out->commit, sizeof(out->commit), "%s", commit);
	if (url && strlen(url) <= HOOK_URL_MAX)
		snprintf(out->git_url, sizeof(out->git_url), "%s", url);
	hook_first_line(title, out->title, sizeof(out->title));
	out->action = HOOK_PR_IGNORE;
}

/* GitHub and Gitea: {action, number, pull_request: {title, head: {ref, sha, repo}, base}}. */
static void hook_pr_github(enum hook_host host, json_t *payload, struct hook_pr *out)
{
	const char *action = hook_pr_str(payload, "action");
	json_t *pr = json_object_get(payload, "pull_request");
	json_t *head = json_object_get(pr, "head"), *base = json_object_get(pr, "base");
	json_t *hrepo = json_object_get(head, "repo"), *brepo = json_object_get(base, "repo");
	json_t *number = json_object_get(payload, "number");
	if (!number)
		number = json_object_get(pr, "number");
	if (!action || !json_is_object(pr)) {
		out->action = HOOK_PR_INVALID;
		out->reason = "not a pull request payload";
		return;
	}
	hook_pr_fill(out, number, hook_pr_str(head, "ref"), hook_pr_str(head, "sha"),
		     hook_pr_str(hrepo, "clone_url"), hook_pr_str(pr, "title"));
	if (out->action == HOOK_PR_INVALID)
		return;
	/* a head repository that is gone (a deleted fork) is a fork without a URL */
	json_t *hid = json_object_get(hrepo, "id"), *bid = json_object_get(brepo, "id");
	if (host == HOOK_GITEA && json_object_get(head, "repo_id"))
		hid = json_object_get(head, "repo_id"), bid = json_object_get(base, "repo_id");
	out->fork = !json_is_object(hrepo) || !json_is_integer(hid) || !json_equal(hid, bid);
	if (!strcmp(action, "opened") || !strcmp(action, "reopened") ||
	    !strcmp(action, host == HOOK_GITEA ? "synchronized" : "synchronize"))
		out->action = HOOK_PR_BUILD;
	else if (!strcmp(action, "closed"))
		out->action = HOOK_PR_CLOSE;
	else
		out->reason = "only opened, synchronized, reopened and closed pull requests change previews";
}

/* GitLab: {object_kind: merge_request, object_attributes: {iid, action, source_branch, title,
 * last_commit: {id}, source: {git_http_url}, source_project_id, target_project_id, oldrev}}. */
static void hook_pr_gitlab(json_t *payload, struct hook_pr *out)
{
	json_t *a = json_object_get(payload, "object_attributes");
	const char *kind = hook_pr_str(payload, "object_kind");
	const char *action = hook_pr_str(a, "action");
	if (!kind || strcmp(kind, "merge_request") || !json_is_object(a)) {
		out->action = HOOK_PR_INVALID;
		out->reason = "not a merge request payload";
		return;
	}
	hook_pr_fill(out, json_object_get(a, "iid"), hook_pr_str(a, "source_branch"),
		     hook_pr_str(json_object_get(a, "last_commit"), "id"),
		     hook_pr_str(json_object_get(a, "source"), "git_http_url"),
		     hook_pr_str(a, "title"));
	if (out->action == HOOK_PR_INVALID)
		return;
	json_t *sid = json_object_get(a, "source_project_id"), *tid = json_object_get(a, "target_project_id");
	out->fork = !json_is_integer(sid) || !json_equal(sid, tid);
	if (!action) {
		out->reason = "the merge request event has no action";
	} else if (!strcmp(action, "open") || !strcmp(action, "reopen") ||
		   /* an update brings new commits only when it names the old head (oldrev) */
		   (!strcmp(action, "update") && hook_pr_str(a, "oldrev"))) {
		out->action = HOOK_PR_BUILD;
	} else if (!strcmp(action, "close") || !strcmp(action, "merge")) {
		out->action = HOOK_PR_CLOSE;
	} else {
		out->reason = "only opened, updated (new commits), reopened, closed and merged merge "
			      "requests change previews";
	}
}

void hook_pr_classify(enum hook_host host, json_t *payload, struct hook_pr *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(payload)) {
		out->action = HOOK_PR_INVALID;
		out->reason = "the payload is not an object";
		return;
	}
	if (host == HOOK_GITLAB)
		hook_pr_gitlab(payload, out);
	else
		hook_pr_github(host, payload, out);
	if (out->action == HOOK_PR_BUILD || out->action == HOOK_PR_CLOSE)
		out->reason = NULL;
}
