/*
 * Subscriber preferences on the send path (SPEC §9): frequency caps and
 * quiet hours, decided on the event loop without touching the store.
 *
 * What it holds: the in-memory counts and LESS flags
 * (proxy/policy/freq.h), loaded from the store at start (send times of
 * every capped category within its window, every LESS entry); the time
 * zone offset tables (proxy/policy/quiet.h), built at start, on every
 * reload and once a day. It follows the event feed (store_events_since)
 * every second and right after each MO, so a LESS, START or ALL from a
 * subscriber, or an opt-in by staff through the CLI or the admin API,
 * takes effect on the next send.
 *
 * Counting: a send is counted when it is forwarded and uncounted if the
 * SMSC refuses it or never answers (prefs_sent); an accepted one is
 * queued on the store writer's batches (writer_freq), so a crash loses
 * at most the writer's last batch of counts. The parts of a concatenated
 * message count once, the first part forwarded. The destinations of a
 * submit_multi are counted when forwarded. The log is pruned at start,
 * then by the housekeeping thread, off the loop (prefs_window()).
 *
 * One per daemon (d->prefs), on the loop thread.
 */
#ifndef PROXY_DAEMON_PREFS_H
#define PROXY_DAEMON_PREFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct daemon;
struct prefs;

enum prefs_verdict {
	PREFS_OK = 0,		/* send it */
	PREFS_CAPPED,		/* the cap for the window is reached */
	PREFS_QUIET,		/* inside the recipient's quiet hours */
	PREFS_ERROR,		/* out of memory: a temporary error */
};

/* Counters for /metrics. */
struct prefs_counters {
	uint64_t	 capped;	/* sends refused: frequency cap */
	uint64_t	 quiet;		/* sends refused: quiet hours */
	uint64_t	 counted;	/* sends counted against a cap */
	uint64_t	 uncounted;	/* counted, then refused upstream */
	uint64_t	 less_events;	/* LESS events seen in the feed */
	size_t		 entries;	/* numbers x categories held */
	size_t		 zones;		/* time zones with a table */
};

/*
 * Build d's preferences (d->cfg, d->store, d->base and d->writer set):
 * zone tables, then counts and LESS from the store. Returns it (free
 * with prefs_free()) or NULL (logged).
 */
struct prefs *prefs_new(struct daemon *d);

/* Free; accepts NULL. */
void prefs_free(struct prefs *p);

/*
 * A new config (SIGHUP), before the old one is freed: zone tables
 * rebuilt (on failure the old ones stay and -1 is returned); caps are
 * read from d->cfg at each send, so a changed cap counts from the next.
 */
int prefs_reconfigure(struct prefs *p, const struct config *cfg);

/*
 * How far back the store's send log must reach for cfg's caps, seconds:
 * the longest cap window (0: no caps). The housekeeping thread deletes
 * what is older (housekeep_freq_window).
 */
int64_t prefs_window(const struct config *cfg);

/*
 * May a message of category index cat go to number now? For PREFS_OK,
 * *token is what to give prefs_sent() (0: not counted). has_ref and key
 * identify a part of a concatenated message (submit's affinity hash):
 * only its first part allowed is counted.
 */
enum prefs_verdict prefs_check(struct prefs *p, size_t cat,
    const char *number, bool has_ref, uint64_t key, int64_t *token);

/*
 * The SMSC answered a send counted with token: accepted, it is kept in
 * the store; refused (or no answer), it is uncounted.
 */
void prefs_sent(struct prefs *p, const char *category, const char *number,
    int64_t token, bool is_accepted);

/*
 * The part of a concatenated message (key, as given to prefs_check())
 * that counted it did not go: forget that the message is counted, so the
 * next part forwarded (or the same one decided again) counts it.
 */
void prefs_concat_forget(struct prefs *p, uint64_t key);

/*
 * A hint (session read-ahead): start loading number's counting slots of
 * the capped categories, so their cache miss overlaps other work.
 */
void prefs_prefetch(const struct prefs *p, const char *number);

/* Read new events now (after an MO's events are committed). */
void prefs_poll(struct prefs *p);

void prefs_counters(const struct prefs *p, struct prefs_counters *out);

#endif /* PROXY_DAEMON_PREFS_H */
