/* mailbox.c — a locked queue of messages into one thread's event base, woken by an eventfd:
 * the only way the bridge's threads talk to each other. */
#include "mailbox.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct msg *msg_new(enum msg_type type)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->type = (unsigned char)type;
	m->fd = -1;
	return m;
}

void mailbox_drain(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->mu);
	struct msg *m = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	while (m) {
		struct msg *next = m->next;
		m->next = NULL;
		mb->deliver(mb->arg, m);
		m = next;
	}
}

static void mailbox_on_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	mailbox_drain(arg);
}

void mailbox_init(struct mailbox *mb, struct event_base *base,
		  void (*deliver)(void *arg, struct msg *m), void *arg)
{
	if (pthread_mutex_init(&mb->mu, NULL) != 0)
		abort();
	mb->head = mb->tail = NULL;
	mb->deliver = deliver;
	mb->arg = arg;
	mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->efd < 0)
		abort();
	mb->ev = event_new(base, mb->efd, EV_READ | EV_PERSIST, mailbox_on_wake, mb);
	if (!mb->ev || event_add(mb->ev, NULL) < 0)
		abort();
}

void mailbox_post(struct mailbox *mb, struct msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&mb->mu);
	int was_empty = mb->head == NULL;
	if (mb->tail)
		mb->tail->next = m;
	else
		mb->head = m;
	mb->tail = m;
	pthread_mutex_unlock(&mb->mu);
	/* one wake-up per run of messages: the reader takes the whole queue at once */
	if (was_empty) {
		uint64_t one = 1;
		while (write(mb->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
}

void mailbox_dispose(struct mailbox *mb)
{
	assert(mb->head == NULL);
	if (mb->ev)
		event_free(mb->ev);
	mb->ev = NULL;
	if (mb->efd >= 0)
		close(mb->efd);
	mb->efd = -1;
	pthread_mutex_destroy(&mb->mu);
}
