/*
 * proxy/daemon/fleet: accounts bound here, for the cluster shipper's
 * shared outbox, and the outbox kicks for what it brings (fleet.h).
 */
#include "proxy/daemon/fleet.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/cluster/cluster.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/outbox.h"
#include "proxy/daemon/session.h"
#include "proxy/daemon/session_int.h"
#include "proxy/io/log.h"

/* One tick's snapshot, kept between ticks. */
struct fleet {
	struct event	*ev;		/* owned */
	const char	**names;	/* views into the config */
	bool		*bound;
	size_t		 cap;
};

static struct fleet fleet_state;

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct fleet	*f = &fleet_state;
	const struct config *cfg = d->cfg;
	struct session	*s;
	size_t		 i, n = cfg->naccounts;

	(void)fd;
	(void)what;
	if (n > f->cap) {
		free(f->names);
		free(f->bound);
		f->names = calloc(n, sizeof(*f->names));
		f->bound = calloc(n, sizeof(*f->bound));
		f->cap = f->names != NULL && f->bound != NULL ? n : 0;
		if (f->cap == 0)
			return;
	}
	for (i = 0; i < n; i++) {
		f->names[i] = cfg->accounts[i].system_id;
		f->bound[i] = false;
	}
	for (s = TAILQ_FIRST(&d->sessions); s != NULL; s = session_next(s)) {
		if (s->state != SESSION_BOUND ||
		    (s->bind != SMPP_STATE_BOUND_RX &&
		    s->bind != SMPP_STATE_BOUND_TRX))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(s->system_id, f->names[i]) == 0)
				f->bound[i] = true;
	}
	cluster_accounts_set(d->cluster, f->names, f->bound, n);
	for (i = 0; i < n; i++)
		if (f->bound[i])
			outbox_kick(d->outbox, f->names[i]);
}

int
fleet_start(struct daemon *d)
{
	struct timeval tv = { 0, FLEET_TICK_MS * 1000 };

	if (d->cluster == NULL)
		return 0;
	if ((fleet_state.ev = event_new(d->base, -1, EV_PERSIST, tick_cb,
	    d)) == NULL || event_add(fleet_state.ev, &tv) == -1) {
		log_warnx("event=start_failed reason=fleet_tick");
		return -1;
	}
	return 0;
}

void
fleet_stop(struct daemon *d)
{
	(void)d;
	if (fleet_state.ev != NULL)
		event_free(fleet_state.ev);
	free(fleet_state.names);
	free(fleet_state.bound);
	memset(&fleet_state, 0, sizeof(fleet_state));
}
