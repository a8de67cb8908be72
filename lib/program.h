/* program.h — what every skiff program does before its own work: the common options
 * (-c FILE, -n, --help, --version, and -s SOCKET for the FastCGI programs), the logger and
 * the configuration, and the signals that stop it. */
#ifndef SKIFF_PROGRAM_H
#define SKIFF_PROGRAM_H

#include <stdbool.h>
#include "config.h"
#include "error.h"

#define PROGRAM_FLAGS_MAX 4

/* A long option without an argument ("--once") that sets *set. */
struct program_flag {
	const char *name;
	bool *set;
};

struct program {
	const char *name;             /* "skiff-dispatch" */
	const char *usage;            /* the whole --help text */
	bool takes_socket;            /* -s SOCKET */
	struct program_flag flags[PROGRAM_FLAGS_MAX]; /* the program's own; name NULL ends */
	/* A check beyond config_load's (with -n too); may be NULL. */
	int (*check)(const struct config *cfg, struct error *err);
};

struct program_options {
	const char *config_path;      /* -c, NULL: $SKIFF_CONFIG or the default */
	const char *socket_path;      /* -s, NULL when not given */
	bool check_only;              /* -n */
};

/* Parses argv. Returns -1 to go on, else the exit code: 0 after --help or --version, 2 on a
 * usage error (the usage is printed to stderr). */
int program_parse(const struct program *p, int argc, char **argv, struct program_options *o);
/* Starts the logger and loads cfg. Returns -1 to go on, else the exit code: 1 for an invalid
 * configuration (said on stderr), 0 when -n found it valid. */
int program_configure(const struct program *p, const struct program_options *o,
		      struct config *cfg);
/* SIGTERM and SIGINT set the flag program_stopping() reads, then call hook (NULL for none;
 * it must be async-signal-safe); SIGPIPE is ignored: a closed peer is an error from write. */
void program_signals(void (*hook)(void));
/* Only SIGPIPE ignored, for programs whose event loop takes the stop signals itself. */
void program_signals_pipe(void);
bool program_stopping(void);

#endif
