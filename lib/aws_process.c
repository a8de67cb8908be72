/* aws_process.c — a profile's credential_process: the command split into words as the AWS
 * CLI splits it, run without a shell (proc.c) for a bounded time, its JSON read. */
#include "aws_process.h"
#include "aws_profile.h"
#include "buf.h"
#include "clock.h"
#include "proc.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AWS_PROCESS_TIMEOUT_S 30L          /* a credential_process that hangs is killed */
#define AWS_PROCESS_TIMEOUT_ENV "SKIFF_AWS_CREDENTIAL_PROCESS_TIMEOUT" /* shorter, for tests */
#define AWS_PROCESS_OUTPUT_MAX 65536       /* ... and one that says more is refused */
#define AWS_PROCESS_ARGS_MAX 64

extern char **environ;

int aws_process_split(const char *cmd, char *store, size_t cap, char **argv, int max)
{
	size_t o = 0;
	int argc = 0;
	const char *s = cmd;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		if (argc >= max - 1)
			return -1;
		argv[argc++] = store + o;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
			char c = *s++;
			if (c == '\'' || c == '"') { /* '...' is literal; in "...", \" and \\ are
						       * escapes and other \ stay */
				while (*s && *s != c) {
					if (c == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					if (o + 1 >= cap)
						return -1;
					store[o++] = *s++;
				}
				if (!*s++)
					return -1;
				continue;
			}
			if (c == '\\') {          /* the next character as it is */
				if (!*s)
					return -1;
				c = *s++;
			}
			if (o + 1 >= cap)
				return -1;
			store[o++] = c;
		}
		if (o >= cap)
			return -1;
		store[o++] = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* argv[0] as execve needs it: a path with a slash as it is, else the first executable of
 * that name in PATH (as the AWS CLI's subprocess does). */
static bool aws_which(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/'))
		return snprintf(out, cap, "%s", name) < (int)cap && access(out, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(out, cap, "%.*s/%s", (int)n, path, name);
		if (n && w > 0 && w < (int)cap && access(out, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

struct aws_process_out {
	struct buf out;
	bool too_long;
};

static void aws_process_line(void *ctx, int stream, const char *line, size_t len, bool cut)
{
	struct aws_process_out *o = ctx;
	if (stream != PROC_STDOUT) /* its messages may hold secrets: never logged */
		return;
	if (cut || buf_append(&o->out, line, len) < 0 || buf_append(&o->out, "\n", 1) < 0)
		o->too_long = true;
}

/* How long a credential_process may run: AWS_PROCESS_TIMEOUT_S, or less when
 * AWS_PROCESS_TIMEOUT_ENV says so (tests). */
static long aws_process_timeout(void)
{
	const char *v = getenv(AWS_PROCESS_TIMEOUT_ENV);
	char *end;
	unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
	if (!n || *end || n > AWS_PROCESS_TIMEOUT_S)
		return AWS_PROCESS_TIMEOUT_S;
	return (long)n;
}

int aws_process_creds(const char *cmd, struct aws_creds *c, struct error *err)
{
	char store[AWS_PROFILE_LINE_MAX + 1], exe[AWS_URL_MAX];
	char *argv[AWS_PROCESS_ARGS_MAX];
	int argc = aws_process_split(cmd, store, sizeof(store), argv, AWS_PROCESS_ARGS_MAX);
	if (argc <= 0)
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "credential_process: cannot split the command (unbalanced quotes, "
				 "or more than %d words)", AWS_PROCESS_ARGS_MAX - 1);
	if (!aws_which(argv[0], exe, sizeof(exe)))
		return error_set(err, SKIFF_EAUTH, "no_credentials",
				 "credential_process: %s is not an executable program", argv[0]);
	argv[0] = exe;
	struct aws_process_out o = { BUF_INIT(AWS_PROCESS_OUTPUT_MAX), false };
	struct proc_spec spec = { .argv = (const char *const *)argv,
				  .envp = (const char *const *)environ,
				  .timeout_s = aws_process_timeout() };
	struct proc_result res;
	json_t *doc = NULL;
	int rc = proc_run(&spec, aws_process_line, NULL, &o, &res, err);
	if (rc < 0)
		goto out;
	if (res.timed_out)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s timed out after %ld s", argv[0],
			       (long)spec.timeout_s);
	else if (!res.exited || res.exit_code != 0)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s failed (%s %d)", argv[0],
			       res.exited ? "exit code" : "signal",
			       res.exited ? res.exit_code : res.signal);
	else if (o.too_long)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s wrote more than %d bytes (or a line over %d)",
			       argv[0], AWS_PROCESS_OUTPUT_MAX, PROC_LINE_MAX);
	if (rc < 0)
		goto out;
	doc = json_loadb(o.out.data ? o.out.data : "", o.out.len, 0, NULL);
	json_t *ver = json_object_get(doc, "Version");
	const char *ak = json_string_value(json_object_get(doc, "AccessKeyId"));
	const char *sk = json_string_value(json_object_get(doc, "SecretAccessKey"));
	const char *tok = json_string_value(json_object_get(doc, "SessionToken"));
	const char *exp = json_string_value(json_object_get(doc, "Expiration"));
	long long expires = exp ? aws_time_parse(exp) : 0;
	if (!json_is_integer(ver) || json_integer_value(ver) != 1)
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: the output is not JSON with \"Version\": 1",
			       argv[0]);
	else if (!ak || !sk || !*ak || !*sk || strlen(ak) >= AWS_KEY_MAX ||
		 strlen(sk) >= AWS_KEY_MAX || (tok && strlen(tok) >= AWS_TOKEN_MAX))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: no usable AccessKeyId and SecretAccessKey",
			       argv[0]);
	else if (expires < 0 || (exp && expires <= clock_wall_ms()))
		rc = error_set(err, SKIFF_EAUTH, "no_credentials",
			       "credential_process %s: Expiration is unreadable or past", argv[0]);
	if (rc < 0)
		goto out;
	memset(c, 0, sizeof(*c));
	snprintf(c->access_key, sizeof(c->access_key), "%s", ak);
	snprintf(c->secret_key, sizeof(c->secret_key), "%s", sk);
	snprintf(c->token, sizeof(c->token), "%s", tok ? tok : "");
	c->expires_ms = expires;
out:
	if (o.out.data)
		OPENSSL_cleanse(o.out.data, o.out.cap);
	buf_dispose(&o.out);
	json_decref(doc); /* the output buffer was wiped; jansson's copy goes with it */
	return rc;
}
