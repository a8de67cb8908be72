/* login.c — `skiff login URL`: reads a token, checks it with one call, stores both in
 * ~/.config/skiff/config.json (directory 0700, file 0600, replaced atomically). */
#include "login.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "client.h"

/* One line from stdin without echo when it is a terminal. */
static int login_read_token(char *out, size_t size, struct error *err)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs("token: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = fgets(out, (int)size, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!line)
		return error_set(err, SKIFF_EINVALID, "no_token", "no token on standard input");
	size_t n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n == size - 1)
		return error_set(err, SKIFF_ELIMIT, "invalid_token", "the token is longer than %zu bytes", size - 2);
	out[n] = '\0';
	if (n == 0)
		return error_set(err, SKIFF_EINVALID, "no_token", "the token is empty");
	return 0;
}

/* "logged in to URL as …", from the whoami answer */
static void login_print_who(const char *url, json_t *who)
{
	const char *kind = json_string_value(json_object_get(who, "kind"));
	const char *project = json_string_value(json_object_get(who, "project"));
	const char *scope = json_string_value(json_object_get(who, "scope"));
	const char *name = json_string_value(json_object_get(who, "name"));
	const char *user = json_string_value(json_object_get(who, "user"));
	printf("logged in to %s as ", url);
	if (kind && !strcmp(kind, "deploy_token"))
		printf("deploy token '%s' of project %s (scope %s)\n", name ? name : "",
		       project ? project : "?", scope ? scope : "?");
	else if (kind && !strcmp(kind, "user"))
		printf("user %s\n", user ? user : "?");
	else
		printf("%s\n", kind && !strcmp(kind, "operator") ? "the operator (api_token)" : "nobody (auth is off)");
}

static int login_store(const struct cli *c, struct error *err)
{
	char dir[4096], file[4096], tmp[4200];
	json_t *o = NULL;
	int rc = 0, fd = -1;
	if ((rc = cli_config_path(dir, sizeof(dir), file, sizeof(file), err)) < 0)
		return rc;
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			return error_set(err, SKIFF_EIO, "config", "%s: %s", parent, strerror(errno));
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, SKIFF_EIO, "config", "%s: %s", dir, strerror(errno));
	if (chmod(dir, 0700) < 0)
		return error_set(err, SKIFF_EIO, "config", "%s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_set(err, SKIFF_EIO, "config", "%s: %s", tmp, strerror(errno));
	o = json_pack("{s:s,s:s}", "url", c->url, "token", c->token);
	if (fchmod(fd, 0600) < 0 || json_dumpfd(o, fd, JSON_INDENT(2)) < 0 || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		rc = error_set(err, SKIFF_EIO, "config", "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, file) < 0) {
		rc = error_set(err, SKIFF_EIO, "config", "%s: %s", file, strerror(errno));
		unlink(tmp);
	}
out:
	close(fd);
	json_decref(o);
	return rc;
}

int cli_login(int argc, char **argv)
{
	struct cli c = { 0 };
	struct error err = { 0 };
	json_t *answer = NULL;
	const char *url = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			puts("usage: skiff login URL [--json]\n\n"
			     "Reads a deploy token (from the terminal without echo, or one line of stdin),\n"
			     "checks it against URL and stores both in ~/.config/skiff/config.json (0600).");
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else if (!url && argv[i][0] != '-') {
			url = argv[i];
		} else {
			fprintf(stderr, "usage: skiff login URL [--json]\n");
			return 2;
		}
	}
	if (!url) {
		fprintf(stderr, "usage: skiff login URL [--json]\n");
		return 2;
	}
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		error_set(&err, SKIFF_EINVALID, "invalid_url", "the URL must start with https:// or http://");
		goto fail;
	}
	if (strlen(url) >= sizeof(c.url)) {
		error_set(&err, SKIFF_ELIMIT, "invalid_url", "the URL is longer than %zu bytes", sizeof(c.url) - 1);
		goto fail;
	}
	memcpy(c.url, url, strlen(url) + 1);
	for (size_t n = strlen(c.url); n > 0 && c.url[n - 1] == '/'; n--)
		c.url[n - 1] = '\0';
	if (login_read_token(c.token, sizeof(c.token), &err) < 0)
		goto fail;
	/* GET /api/whoami checks the token and changes nothing (but a deploy token's lastUsed) */
	long status = cli_call(&c, "GET", "/api/whoami", NULL, &answer, &err);
	if (cli_answer_check(status, answer, &err) < 0)
		goto fail;
	json_t *who = json_object_get(answer, "data");
	if (!json_is_object(who)) {
		error_set(&err, SKIFF_EUPSTREAM, "bad_answer", "%s/api/whoami did not say who the token is", c.url);
		goto fail;
	}
	if (login_store(&c, &err) < 0)
		goto fail;
	if (c.json) {
		json_t *o = json_pack("{s:s,s:b,s:O}", "url", c.url, "stored", 1, "who", who);
		cli_print_json(o);
		json_decref(o);
	} else {
		login_print_who(c.url, who);
	}
	json_decref(answer);
	return 0;
fail:
	json_decref(answer);
	return cli_fail(&c, &err);
}
