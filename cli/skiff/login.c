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
	/* One call that checks a token and changes nothing: the token routes of the impossible
	 * slug "-" check credentials first, then refuse the slug. A deploy token answers 403
	 * token_scope, admin credentials 400 invalid_slug, a wrong token 401. */
	json_t *probe = json_object();
	long status = cli_call(&c, "POST", "/api/projects/-/tokens", probe, &answer, &err);
	json_decref(probe);
	if (status < 0)
		goto fail;
	if (status == 401 || (status != 403 && status != 400)) {
		cli_answer_error(status, answer, &err);
		goto fail;
	}
	if (login_store(&c, &err) < 0)
		goto fail;
	if (c.json) {
		json_t *o = json_pack("{s:s,s:b}", "url", c.url, "stored", 1);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("logged in to %s\n", c.url);
	}
	json_decref(answer);
	return 0;
fail:
	json_decref(answer);
	return cli_fail(&c, &err);
}
