/* log.h — the one logger: one line per event on stderr, key=value context, level checked first. */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_init(const char *program, enum log_level level);
void log_level_set(enum log_level level);
int log_level_parse(const char *s, enum log_level *out);   /* "error" "warn" "info" "debug" */
int log_enabled(enum log_level level);
/* fmt is the event and its key=value context: log_msg(LOG_INFO, "build started deployment=%s", id) */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) do { if (log_enabled(LOG_ERROR)) log_msg(LOG_ERROR, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_enabled(LOG_WARN))  log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_enabled(LOG_INFO))  log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
