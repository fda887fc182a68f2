/*
 * proxy/io/listener: accepted connections go to the owner's callback as
 * bufferevents, admit() can turn them away, a disabled listener takes
 * nothing, and a bad address is refused at creation.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config/config.h"
#include "proxy/io/listener.h"

struct fx {
	struct event_base	*base;
	struct listener		*l;
	struct config_listener	 lc;
	bool			 is_admitting;
	unsigned		 nadmit;
	unsigned		 naccept;
	bool			 was_tls;
	int			 family;
	char			 name[80];
	struct bufferevent	*bev;		/* the last accepted */
};

static bool
cb_admit(void *arg, const char *name)
{
	struct fx	*fx = arg;

	fx->nadmit++;
	snprintf(fx->name, sizeof(fx->name), "%s", name);
	return fx->is_admitting;
}

static void
cb_accept(void *arg, struct bufferevent *bev, const struct sockaddr *peer,
    socklen_t peerlen, bool is_tls)
{
	struct fx	*fx = arg;

	assert_true(peerlen > 0);
	fx->naccept++;
	fx->was_tls = is_tls;
	fx->family = peer->sa_family;
	if (fx->bev != NULL)
		bufferevent_free(fx->bev);
	fx->bev = bev;
}

static const struct listener_cbs test_cbs = {
	.admit = cb_admit,
	.on_accept = cb_accept,
};

/* A port nothing listens on now (bound, read, closed). */
static uint16_t
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;
	uint16_t		port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
connect_to(uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

/* Run the loop for a few short turns. */
static void
spin(struct fx *fx)
{
	struct timeval	tv = { 0, 20000 };
	int		i;

	for (i = 0; i < 5; i++) {
		event_base_loopexit(fx->base, &tv);
		event_base_dispatch(fx->base);
	}
}

static int
setup(void **state)
{
	struct fx	*fx;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	assert_non_null(fx->base = event_base_new());
	snprintf(fx->lc.host, sizeof(fx->lc.host), "127.0.0.1");
	fx->lc.port = free_port();
	fx->is_admitting = true;
	fx->l = listener_new(fx->base, &fx->lc, &test_cbs, fx);
	assert_non_null(fx->l);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	if (fx->bev != NULL)
		bufferevent_free(fx->bev);
	listener_free(fx->l);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void
test_accept_hands_over_bev(void **state)
{
	struct fx	*fx = *state;
	char		 want[80];
	int		 fd;

	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)fx->lc.port);
	assert_string_equal(listener_name(fx->l), want);
	fd = connect_to(fx->lc.port);
	spin(fx);
	assert_int_equal(fx->nadmit, 1);
	assert_string_equal(fx->name, want);
	assert_int_equal(fx->naccept, 1);
	assert_false(fx->was_tls);
	assert_int_equal(fx->family, AF_INET);
	assert_non_null(fx->bev);
	assert_true(bufferevent_getfd(fx->bev) >= 0);
	close(fd);
}

static void
test_refused_by_admit(void **state)
{
	struct fx	*fx = *state;
	char		 c;
	int		 fd;

	fx->is_admitting = false;
	fd = connect_to(fx->lc.port);
	spin(fx);
	assert_int_equal(fx->nadmit, 1);
	assert_int_equal(fx->naccept, 0);
	/* Closed at once: the client reads end of file. */
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
}

static void
test_disabled_takes_nothing(void **state)
{
	struct fx	*fx = *state;
	int		 fd;

	listener_disable(fx->l);
	/* The socket stays open: the kernel may still queue the
	 * connection, but nobody takes it. */
	fd = connect_to(fx->lc.port);
	spin(fx);
	assert_int_equal(fx->nadmit, 0);
	assert_int_equal(fx->naccept, 0);
	close(fd);
}

static void
test_reconfigure_plain_is_noop(void **state)
{
	struct fx	*fx = *state;
	int		 fd;

	assert_int_equal(listener_reconfigure(fx->l, &fx->lc), 0);
	fd = connect_to(fx->lc.port);
	spin(fx);
	assert_int_equal(fx->naccept, 1);
	close(fd);
}

static void
test_bad_address(void **state)
{
	struct fx		*fx = *state;
	struct config_listener	 lc;

	memset(&lc, 0, sizeof(lc));
	snprintf(lc.host, sizeof(lc.host), "localhost");
	lc.port = fx->lc.port;
	assert_null(listener_new(fx->base, &lc, &test_cbs, fx));
	/* The port is taken by the fixture's listener. */
	snprintf(lc.host, sizeof(lc.host), "127.0.0.1");
	assert_null(listener_new(fx->base, &lc, &test_cbs, fx));
	listener_free(NULL);
	listener_disable(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept_hands_over_bev,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_admit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_takes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reconfigure_plain_is_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_address, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
