/* listener.c — the listening socket: a loopback TCP port or a unix socket (sse_listen). */
#include "listener.h"
#include "loop.h"
#include "error.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096
#define LISTEN_PAUSE_MS 100      /* out of descriptors: stop accepting this long */

static int listener_unix_path(const char *spec, const char **path)
{
	if (strncmp(spec, "unix:", 5) != 0)
		return 0;
	*path = spec + 5;
	return 1;
}

int listener_check(const char *spec, struct error *err)
{
	const char *path;
	if (listener_unix_path(spec, &path)) {
		struct sockaddr_un sun;
		if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path))
			return error_set(err, SKIFF_EINVALID, "invalid_config",
					 "sse_listen: unix: needs an absolute path shorter than %zu bytes",
					 sizeof(sun.sun_path));
		return 0;
	}
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len) < 0 ||
	    strchr(spec, ':') == NULL)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "sse_listen: '%s' is not host:port or unix:/path", spec);
	/* the bridge has no authentication: the web server in front of it has */
	int loopback = 0;
	if (ss.ss_family == AF_INET)
		loopback = (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	else if (ss.ss_family == AF_INET6)
		loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (!loopback)
		return error_set(err, SKIFF_EINVALID, "invalid_config",
				 "sse_listen: '%s' is not a loopback address; the bridge has no "
				 "authentication of its own, so it listens on 127.0.0.0/8, [::1] or "
				 "a unix socket behind the web server", spec);
	return 0;
}

/* Each connection goes to the next loop in turn, which owns it from then on. */
static void listener_on_accept(struct evconnlistener *l, evutil_socket_t fd,
			       struct sockaddr *addr, int len, void *arg)
{
	struct bridge *b = arg;
	if (b->stopping) {
		close(fd);
		return;
	}
	loop_accept(b->loops[b->next_loop], fd);
	b->next_loop = (b->next_loop + 1) % b->nloops;
}

static void listener_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	if (b->listener && !b->stopping)
		evconnlistener_enable(b->listener);
}

static void listener_on_error(struct evconnlistener *l, void *arg)
{
	struct bridge *b = arg;
	int e = EVUTIL_SOCKET_ERROR();
	/* EMFILE, ENFILE, ENOBUFS: pause instead of spinning on the pending connection */
	log_warn("accept failed error=\"%s\" connections=%zu", strerror(e),
		 atomic_load(&b->nconns));
	evconnlistener_disable(l);
	struct timeval tv = { 0, LISTEN_PAUSE_MS * 1000 };
	evtimer_add(b->accept_resume, &tv);
}

static int listener_unix_socket(const char *path, struct error *err)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_set(err, SKIFF_ESYS, NULL, "socket: %s", strerror(errno));
	/* a socket left by an earlier run is replaced; anything else at the path is kept */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	mode_t old = umask(0117);   /* 0660: the web server reaches it through the group */
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		return error_set(err, SKIFF_ESYS, NULL, "listen on %s: %s", path, strerror(e));
	}
	return fd;
}

int listener_open(struct bridge *b, struct error *err)
{
	const char *spec = b->cfg->sse_listen, *path;
	int rc = listener_check(spec, err);
	if (rc < 0)
		return rc;
	b->accept_resume = evtimer_new(b->base, listener_on_resume, b);
	if (!b->accept_resume)
		abort();
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
	if (listener_unix_path(spec, &path)) {
		int fd = listener_unix_socket(path, err);
		if (fd < 0)
			return fd;
		b->listener = evconnlistener_new(b->base, listener_on_accept, b, flags, -1, fd);
		if (!b->listener) {
			close(fd);
			return error_set(err, SKIFF_ESYS, NULL, "listener on %s failed", path);
		}
		snprintf(b->unix_path, sizeof(b->unix_path), "%s", path);
	} else {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &len);
		b->listener = evconnlistener_new_bind(b->base, listener_on_accept, b,
						      flags | LEV_OPT_REUSEABLE, LISTEN_BACKLOG,
						      (struct sockaddr *)&ss, len);
		if (!b->listener)
			return error_set(err, SKIFF_ESYS, NULL, "listen on %s: %s", spec,
					 strerror(errno));
	}
	evconnlistener_set_error_cb(b->listener, listener_on_error);
	log_info("listening on=%s", spec);
	return 0;
}

void listener_close(struct bridge *b)
{
	if (b->listener) {
		evconnlistener_free(b->listener);
		b->listener = NULL;
	}
	if (b->accept_resume) {
		event_free(b->accept_resume);
		b->accept_resume = NULL;
	}
	if (b->unix_path[0]) {
		unlink(b->unix_path);
		b->unix_path[0] = '\0';
	}
}
