/*
 * An opt-out / opt-in event, or a rejected-send audit record, as the
 * JSON body of a fleet row (SPEC §8):
 * what PostgreSQL keeps of each event (stopgate_events.body, jsonb), so
 * the schema stays readable with SQL and a field added to events later
 * needs no migration. Pure: no I/O, no event loop.
 */
#ifndef PROXY_CLUSTER_EVJSON_H
#define PROXY_CLUSTER_EVJSON_H

#include <stddef.h>
#include <stdint.h>

#include "store/freq.h"
#include "store/store.h"

/*
 * The JSON text of ev (its id is not part of it: the row carries the
 * node and the local id). Returns a string owned by the caller (free()),
 * or NULL when out of memory.
 */
char *evjson_encode(const struct store_event *ev);

/*
 * Parse text (len bytes) into *ev (zeroed first; id 0). A field too long
 * for its array, an unknown action or source, or a category list that is
 * empty without "all" is refused. Returns 0, or -1 with the reason in
 * err.
 */
int evjson_decode(const char *text, size_t len, struct store_event *ev,
    char *err, size_t errlen);

/* The same for a rejected-send audit record (its id is not part of it). */
char *evjson_audit_encode(const struct store_audit *a);
int evjson_audit_decode(const char *text, size_t len, struct store_audit *a,
    char *err, size_t errlen);

/*
 * A review item with the node and id it was first queued under (the
 * item's fleet-wide name); decode fills origin_node (STORE_NODE_MAX
 * bytes) and *origin_id.
 */
char *evjson_review_encode(const struct store_review *r,
    const char *origin_node, uint64_t origin_id);
int evjson_review_decode(const char *text, size_t len,
    struct store_review *r, char *origin_node, uint64_t *origin_id,
    char *err, size_t errlen);

/* A receipt map entry: {"upstream", "message_id", "account"}. */
char *evjson_msgmap_encode(const struct store_msgmap *m);

/*
 * A send counted by a frequency cap: its category and time (the row
 * carries the number). Decode leaves e->number alone.
 */
char *evjson_sent_encode(const struct store_freq_entry *e);
int evjson_sent_decode(const char *text, size_t len,
    struct store_freq_entry *e, char *err, size_t errlen);

#endif /* PROXY_CLUSTER_EVJSON_H */
