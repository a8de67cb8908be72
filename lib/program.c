/* program.c — options, configuration, logger and stop signals, the same in every program. */
#include "program.h"
#include "log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t program_stop;
static void (*program_stop_hook)(void);

int program_parse(const struct program *p, int argc, char **argv, struct program_options *o)
{
	struct option longopts[PROGRAM_FLAGS_MAX + 3];
	int n = 0;
	memset(o, 0, sizeof(*o));
	memset(longopts, 0, sizeof(longopts));
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	for (int i = 0; i < PROGRAM_FLAGS_MAX && p->flags[i].name; i++)
		longopts[n++] = (struct option){ p->flags[i].name, no_argument, NULL, 1000 + i };
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, p->takes_socket ? "c:s:nh" : "c:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 's': o->socket_path = optarg; break;
		case 'n': o->check_only = true; break;
		case 'h': fputs(p->usage, stdout); return 0;
		case 'V': printf("%s %s\n", p->name, SKIFF_VERSION); return 0;
		default:
			if (c >= 1000 && c < 1000 + PROGRAM_FLAGS_MAX) {
				*p->flags[c - 1000].set = true;
				break;
			}
			fputs(p->usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(p->usage, stderr);
		return 2;
	}
	return -1;
}

int program_configure(const struct program *p, const struct program_options *o,
		      struct config *cfg)
{
	struct error err;
	error_clear(&err);
	log_init(p->name, LOG_INFO);
	if (config_load(cfg, o->config_path, &err) < 0 || (p->check && p->check(cfg, &err) < 0)) {
		fprintf(stderr, "%s: configuration error: %s\n", p->name, err.message);
		return 1;
	}
	if (o->check_only) {
		printf("%s: configuration ok\n", p->name);
		return 0;
	}
	return -1;
}

static void program_on_stop(int sig)
{
	(void)sig;
	program_stop = 1;
	if (program_stop_hook)
		program_stop_hook();
}

void program_signals_pipe(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

void program_signals(void (*hook)(void))
{
	struct sigaction sa;
	program_stop_hook = hook;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = program_on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	program_signals_pipe();
}

bool program_stopping(void)
{
	return program_stop != 0;
}
