/*
 * The daemon's side of the fleet's shared outbox (SPEC §8): every
 * FLEET_TICK_MS, on the loop, it tells the cluster shipper which accounts
 * have a receiver bound on this node (the thread moves outbox entries of
 * the others to PostgreSQL and takes the fleet's entries of these), and
 * looks for entries the thread brought into the store for them.
 */
#ifndef PROXY_DAEMON_FLEET_H
#define PROXY_DAEMON_FLEET_H

struct daemon;

#define FLEET_TICK_MS	250

/* Start the tick when d has a cluster. Returns 0 or -1 (logged). */
int fleet_start(struct daemon *d);

/* Stop it; accepts a daemon without one. */
void fleet_stop(struct daemon *d);

#endif /* PROXY_DAEMON_FLEET_H */
