/* log.c — line-oriented logging to stderr for journald and the terminal. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_program = "skiff";
static enum log_level log_current = LOG_INFO;
static const char *const log_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_current = level;
}

void log_level_set(enum log_level level)
{
	log_current = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int log_enabled(enum log_level level)
{
	return level <= log_current;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s[%ld]: level=%s ", log_program, (long)getpid(),
			 log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = m < 0 ? (size_t)n : (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* one event is one line, and a value quoted from a request or a repository can neither
	 * start another nor drive a terminal: newlines, escapes and other controls become ' ' */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
