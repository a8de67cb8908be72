/* open.c — `skiff open [ID|--project SLUG]`: prints a site's (or one deployment's) URL and
 * opens it in the user's browser ($BROWSER, else xdg-open on a display), without a shell. */
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "client.h"

extern char **environ;

#define OPEN_BROWSER_MAX 1024   /* bytes of $BROWSER's first entry */
#define OPEN_WAIT_MS 3000       /* how long a failing opener is waited for */

static const char open_usage[] =
	"usage: skiff open [ID | --project SLUG] [--json]\n"
	"\n"
	"Prints the URL of a deployment (ID), of a project's live site (--project SLUG), or, with\n"
	"neither, of the live site of the deploy token's own project, and opens it in a browser:\n"
	"$BROWSER when set, else xdg-open when there is a display (DISPLAY or WAYLAND_DISPLAY).\n"
	"With --json, or with neither a $BROWSER nor a display, it only prints.";

/* The program that opens a URL: $BROWSER's first ':'-separated entry (a program name or path,
 * run as it is, never through a shell), or xdg-open when a display is there; NULL for none. */
static const char *open_browser(char *out, size_t size)
{
	const char *b = getenv("BROWSER");
	if (b && *b) {
		size_t n = strcspn(b, ":");
		if (n == 0 || n >= size)
			return NULL;
		memcpy(out, b, n);
		out[n] = '\0';
		return out;
	}
	const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	if ((x && *x) || (w && *w))
		return "xdg-open";
	return NULL;
}

/* Runs prog URL with stdin from /dev/null and its stdout on our stderr (our stdout is the
 * URL alone). An opener that exits non-zero within OPEN_WAIT_MS is an error; one still running
 * then (a browser that stays in the foreground) is left to run. */
static int open_run(const char *prog, const char *url, struct error *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *argv[] = { (char *)prog, (char *)url, NULL };
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return error_set(err, SKIFF_ESYS, "no_browser", "cannot run %s: %s", prog, strerror(rc));
	struct timespec step = { 0, 20 * 1000000L };
	for (int waited = 0; waited < OPEN_WAIT_MS; waited += 20) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return 0;
			return error_set(err, SKIFF_ESYS, "browser_failed", "%s %s failed (%s %d)", prog,
					 url, WIFEXITED(status) ? "exit status" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		if (w < 0 && errno != EINTR)
			return 0;
		nanosleep(&step, NULL);
	}
	return 0;
}

int cli_open(int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	json_t *answer = NULL;
	struct buf path = BUF_INIT(512);
	const char *id = NULL, *project = NULL;
	char slug[64], prog[OPEN_BROWSER_MAX];
	int rc;
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+p:h", opts, NULL)) != -1) {
		if (o == 'p')
			project = optarg;
		else if (o == 'j')
			c.json = true;
		else if (o == 'h') {
			puts(open_usage);
			return 0;
		} else {
			fprintf(stderr, "%s\n", open_usage);
			return 2;
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind < argc || (id && project)) {
		fprintf(stderr, "%s\n", open_usage);
		return 2;
	}
	if ((id && !cli_name_ok(id)) || (project && !cli_name_ok(project))) {
		error_set(&err, SKIFF_EINVALID, "invalid_name", "'%.80s' is not a slug or deployment id",
			  id ? id : project);
		goto fail;
	}
	if (cli_config_load(&c, &err) < 0)
		goto fail;
	if (!id && !project) {
		if (cli_token_project(&c, slug, sizeof(slug), &err) < 0)
			goto fail;
		project = slug;
	}
	long status = 0;
	if (id) {
		buf_printf(&path, "/api/deployments/%s", id);
		status = cli_call(&c, "GET", buf_cstr(&path), NULL, &answer, &err);
		/* not a deployment: a project's slug, as `skiff open SLUG` always took */
		if (status == 404)
			project = id;
	}
	if (project) {
		json_decref(answer);
		answer = NULL;
		buf_reset(&path);
		buf_printf(&path, "/api/projects/%s", project);
		status = cli_call(&c, "GET", buf_cstr(&path), NULL, &answer, &err);
	}
	if (cli_answer_check(status, answer, &err) < 0)
		goto fail;
	const char *url = json_string_value(json_object_get(json_object_get(answer, "data"), "url"));
	if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))) {
		error_set(&err, SKIFF_EUPSTREAM, "bad_answer", "the server's answer has no http(s) URL");
		goto fail;
	}
	const char *browser = c.json ? NULL : open_browser(prog, sizeof(prog));
	if (c.json) {
		json_t *out = json_pack("{s:s,s:b}", "url", url, "opened", 0);
		cli_print_json(out);
		json_decref(out);
	} else {
		printf("%s\n", url);
		fflush(stdout);
	}
	if (browser && open_run(browser, url, &err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = cli_fail(&c, &err);
out:
	json_decref(answer);
	buf_dispose(&path);
	return rc;
}
