/*
 * stopgate configuration: YAML (libyaml) -> struct config.
 *
 * config_load() never logs and never exits: every problem found is
 * collected into a struct config_errors as "FILE:LINE:COL: message", so
 * `stopgate check` can print them all at once and a SIGHUP reload can
 * refuse a bad file while the old config stays in force.
 */
#ifndef CONFIG_CONFIG_H
#define CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "smpp/number.h"

#define CONFIG_NAME_MAX		32	/* category, account, upstream names */
/* Categories a stop_scope may list: one opt-out event holds this many
 * (STORE_SCOPE_MAX; proxy/policy/mo.c checks the two agree). */
#define CONFIG_SCOPE_MAX	32
#define CONFIG_NUMBER_MAX	24	/* a normalised number, with NUL */
#define CONFIG_ERRORS_MAX	64	/* errors kept; the count goes on */
#define CONFIG_NO_INDEX		((size_t)-1)	/* "no such index" */
/* Default status for a send to an opted-out number (SPEC §3). */
#define CONFIG_REJECTION_STATUS_DEFAULT	0x00000401u

/* One keyword list (opt_out, help, ...); strings owned by the config. */
struct config_words {
	char	**words;
	size_t	  count;
};

struct config_category {
	char		 name[CONFIG_NAME_MAX];
	struct config_words keywords;	/* default: the name in capitals */
	uint32_t	 rejection_status; /* default:
					    * rejection.command_status */
};

/* A service_type -> category mapping of an account. */
struct config_service_type {
	char		 service_type[6];
	size_t		 category;	/* index into config.categories */
};

struct config_account {
	char		 system_id[16];
	char		*password;		/* owned; from password,
						 * password_file or
						 * password_env */
	size_t		 default_category;	/* index into categories */
	size_t		*categories;		/* owned; indices; default:
						 * default_category only */
	size_t		 ncategories;
	struct config_service_type *service_types; /* owned */
	size_t		 nservice_types;
	unsigned	 max_window;		/* in-flight submits;
						 * default 100 */
	double		 max_rate;		/* msg/s; 0 = unlimited */
	unsigned	 max_burst;		/* token bucket depth; default
						 * max(1, max_rate) */
};

/*
 * Listeners and admin: enabled with cert and key (client_ca optional).
 * Upstreams: `tls: true` is enabled with verify and no client cert; a
 * mapping may give ca, a client cert + key, and verify.
 */
struct config_tls {
	bool	 enabled;
	char	*cert;		/* owned, absolute paths */
	char	*key;
	char	*client_ca;	/* optional (NULL) */
	char	*ca;		/* upstreams: CA to verify the SMSC; optional */
	bool	 verify;	/* upstreams: verify the SMSC (default true) */
};

struct config_listener {
	char		 host[64];	/* numeric address, e.g. 127.0.0.1 */
	uint16_t	 port;
	struct config_tls tls;
};

enum config_bind_mode {
	CONFIG_BIND_TRANSCEIVER = 0,
	CONFIG_BIND_TX_RX,		/* "transmitter+receiver" */
};

struct config_upstream {
	char		 name[CONFIG_NAME_MAX];
	char		 host[256];
	uint16_t	 port;
	char		 system_id[16];
	char		*password;	/* owned */
	char		 system_type[13];
	enum config_bind_mode bind;
	unsigned	 sessions;	/* default 1 */
	unsigned	 window;	/* default 10 */
	struct config_tls tls;
	unsigned	 enquire_link_ms;	/* default 30000 */
	unsigned	 response_timeout_ms;	/* default 10000 */
	unsigned	 reconnect_min_ms;	/* default 1000 */
	unsigned	 reconnect_max_ms;	/* default 60000 */
};

struct config_route {
	bool		 has_category;
	size_t		 category;		/* index */
	bool		 has_account;
	size_t		 account;		/* index */
	char		 destination_prefix[CONFIG_NUMBER_MAX]; /* "" = any */
	size_t		 upstream;		/* index */
};

/* stop_scope: every category, or a list. */
struct config_inbound {
	char		 number[CONFIG_NUMBER_MAX];	/* normalised */
	size_t		 account;			/* index */
	bool		 scope_all;
	size_t		*scope;				/* owned; indices */
	size_t		 nscope;
};

/* Keyword lists, SPEC §4. STOP, START and HELP cannot be removed. */
struct config_keywords {
	struct config_words opt_out;		/* whole message */
	struct config_words opt_out_all;	/* STOPALL, STOP ALL */
	struct config_words opt_out_in_text;	/* unambiguous inside text */
	struct config_words opt_in;
	struct config_words help;
	struct config_words less;		/* LESS, FEWER */
	struct config_words opt_in_all;		/* ALL */
};

/* Reply templates with {business} and {categories}. */
struct config_replies {
	char	*opt_out;
	char	*opt_in;
	char	*help;
	char	*less;
};

/*
 * Subscriber preferences (SPEC §9), loaded by config/prefs.c. Windows are
 * in seconds; quiet hours in minutes after the recipient's local midnight
 * (from > to wraps midnight).
 */
#define CONFIG_ZONE_MAX		64	/* an IANA zone name, with NUL */
#define CONFIG_FREQ_SENDS_MAX	1000	/* largest max of a cap */
#define CONFIG_FREQ_STATUS_DEFAULT	0x00000402u
#define CONFIG_QUIET_STATUS_DEFAULT	0x00000403u

struct config_frequency {
	size_t		 category;	/* index */
	unsigned	 max;		/* sends in a window of per_s */
	int64_t		 per_s;
	bool		 has_less;	/* a stricter cap after LESS */
	unsigned	 less_max;
	int64_t		 less_per_s;
};

struct config_quiet {
	size_t		 category;	/* index */
	unsigned	 from_min;	/* 0..1439, local time */
	unsigned	 to_min;
};

struct config_tz_prefix {
	char		 prefix[CONFIG_NUMBER_MAX];	/* E.164 digits */
	char		 zone[CONFIG_ZONE_MAX];
};

struct config_prefs {
	struct config_frequency *frequency;	/* owned; one per category */
	size_t		 nfrequency;
	struct config_quiet *quiet;		/* owned; one per category */
	size_t		 nquiet;
	bool		 has_timezones;
	char		 tz_default[CONFIG_ZONE_MAX];
	struct config_tz_prefix *tz_prefixes;	/* owned */
	size_t		 ntz_prefixes;
	uint32_t	 frequency_status;	/* default 0x00000402 */
	uint32_t	 quiet_hours_status;	/* default 0x00000403 */
	/* The loader's: the nodes of the three keys until loaded. */
	const void	*src_frequency, *src_quiet, *src_timezones;
};

struct config_timeouts {
	unsigned	 bind_ms;		/* unbound client closed after;
						 * default 5000 */
	unsigned	 idle_ms;		/* default 300000 */
	unsigned	 response_ms;		/* sender-side wait;
						 * default 30000 */
	unsigned	 shutdown_ms;		/* drain on SIGTERM;
						 * default 5000 */
	unsigned	 reassembly_ms;		/* multipart MO;
						 * default 60000 */
	unsigned	 admin_request_ms;	/* an admin request not read
						 * in full by then is closed;
						 * default 10000 */
};

struct config_retention {
	unsigned	 events_days;		/* default 1461 (4 years) */
	unsigned	 audit_days;		/* default 1461 */
	unsigned	 receipt_map_hours;	/* default 72 */
	unsigned	 outbox_hours;		/* default 48 */
	unsigned	 outbox_max;		/* per account; default 25000 */
};

/*
 * cluster: (SPEC §8): absent (has_cluster false), one node on LMDB only.
 * fail_open lists the category indices that keep flowing while the node
 * is unsure it has every fleet event.
 */
struct config_cluster {
	char		 node[33];		/* [a-z0-9-]{1,32} */
	char		*postgres;		/* owned; libpq conninfo, from
						 * postgres, postgres_file or
						 * postgres_env */
	unsigned	 max_lag_ms;		/* default 2000 */
	size_t		*fail_open;		/* owned; category indices */
	size_t		 nfail_open;
};

/* A person signed in to the admin API / dashboard (admin.users). */
enum config_role {
	CONFIG_ROLE_VIEWER = 0,	/* reads only */
	CONFIG_ROLE_STAFF,	/* reads and changes */
};
#define CONFIG_USER_NAME_MAX	64	/* with NUL: the event actor's size */
#define CONFIG_USER_TOKEN_MIN	16	/* characters */

struct config_admin_user {
	char		 name[CONFIG_USER_NAME_MAX];
	char		*token;		/* owned */
	enum config_role role;
};

struct config {
	char		*path;			/* owned; absolute */
	char		*business_name;
	char		 default_country_code[8];
	unsigned	 national_number_length;	/* default 10 */
	/* The two above as the codec takes them: every number a person,
	 * a file or a PDU gives is normalised with these (SPEC §3). */
	struct smpp_number_rules number_rules;

	char		*store_path;		/* owned; absolute */
	size_t		 store_map_mb;		/* default 1024 */

	struct config_listener *listeners;	/* owned */
	size_t		 nlisteners;

	bool		 has_admin;
	char		 admin_host[64];
	uint16_t	 admin_port;
	char		*admin_token;		/* owned; NULL: users only */
	struct config_tls admin_tls;
	struct config_admin_user *admin_users;	/* owned */
	size_t		 nadmin_users;

	struct config_category *categories;	/* owned */
	size_t		 ncategories;
	struct config_account *accounts;
	size_t		 naccounts;
	struct config_upstream *upstreams;
	size_t		 nupstreams;
	struct config_route *routes;
	size_t		 nroutes;
	struct config_inbound *inbound;
	size_t		 ninbound;

	uint32_t	 rejection_status;	/* default 0x00000401 */
	struct config_keywords keywords;
	struct config_replies replies;
	struct config_timeouts timeouts;
	struct config_retention retention;
	struct config_prefs prefs;		/* config/prefs.c */
	unsigned	 max_pdu_len;		/* default 65536 */
	unsigned	 max_sessions;		/* default 1024 */
	unsigned	 max_unbound;		/* not bound yet; default 256 */
	unsigned	 max_unbound_per_address; /* the same, one source
						 * address; default 32 */
	unsigned	 upstream_queue_max;	/* queued submits per route
						 * beyond the windows; 1000 */
	unsigned	 max_admin_connections;	/* admin API; default 64 */
	bool		 has_cluster;
	struct config_cluster cluster;

	/* References (config_ref / config_unref): a config is read-only
	 * once loaded, so threads may share one (the admin API's runs
	 * beside the event loop, which frees its old config on SIGHUP). */
	atomic_uint	 refs;
};

struct config_error {
	unsigned	 line;		/* 1-based; 0 if not about a place */
	unsigned	 col;		/* 1-based */
	char		 msg[200];
};

struct config_errors {
	char			file[512];	/* as given to config_load */
	size_t			count;	/* may exceed CONFIG_ERRORS_MAX */
	struct config_error	err[CONFIG_ERRORS_MAX];
};

/*
 * Load and validate the YAML file at path. Returns a new config (owned by
 * the caller, free with config_free()), or NULL with every problem found
 * in *errs (errs->count > 0), the kept ones in file order. A config is
 * returned only if it is valid in full; on success errs->count is 0. errs
 * may be NULL. Relative paths in the file resolve against its directory.
 * Never logs, never exits; reads only the file and what it names
 * (password_file, token_file, TLS files) and the environment
 * (password_env, token_env).
 */
struct config *config_load(const char *path, struct config_errors *errs);

/*
 * Flags for config_load_flags(). CONFIG_LOAD_NO_SECRETS: for tools that
 * need the store path, categories and numbers but not the daemon's
 * secrets (the CLI run by staff): password_file / password_env /
 * token_file / token_env are checked for form but not read (the password
 * or token is left NULL; a literal password: is kept), and TLS files are
 * not opened. Everything else is validated as by config_load().
 */
#define CONFIG_LOAD_NO_SECRETS	0x1u

/* config_load() with flags (CONFIG_LOAD_*); the same conventions. */
struct config *config_load_flags(const char *path, unsigned flags,
    struct config_errors *errs);

/*
 * The same from a YAML string; relative paths resolve against base_dir and
 * errors name `name`. For tests and the fuzzer.
 */
struct config *config_load_string(const char *yaml, size_t len,
    const char *name, const char *base_dir, struct config_errors *errs);

/*
 * Reference counting. A loaded config holds one reference, its loader's.
 * config_ref() adds one and returns cfg; config_unref() drops one and the
 * last frees the config; both accept NULL and may be called from any
 * thread. config_free() is config_unref(): an owner that lets go of its
 * config frees it unless another thread still holds a reference.
 */
struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);
void config_free(struct config *cfg);

/*
 * Format errs->err[i] as "FILE:LINE:COL: message" (or "FILE: message" when
 * the error has no place) into buf (truncated to cap). Returns buf, an
 * empty string if i is not a kept error.
 */
const char *config_error_format(const struct config_errors *errs, size_t i,
    char *buf, size_t cap);

/* Index of the category called name, or -1. */
int config_category_find(const struct config *cfg, const char *name);

/* Whether category index cat is in cluster.fail_open. */
bool config_cluster_is_fail_open(const struct config *cfg, size_t cat);
/* Index of the account with this system_id, or -1. */
int config_account_find(const struct config *cfg, const char *system_id);
/* Index of the upstream called name, or -1. */
int config_upstream_find(const struct config *cfg, const char *name);
/* The inbound entry for a normalised number, or NULL (borrowed). */
const struct config_inbound *config_inbound_find(const struct config *cfg,
    const char *number);
/* True if account index acct may send category index cat. */
bool config_account_may_send(const struct config *cfg, size_t acct,
    size_t cat);
/*
 * The category index of a message from account acct with this
 * service_type (may be NULL or ""): its service_types map (exact match),
 * else default_category. CONFIG_NO_INDEX if acct is out of range. The
 * caller still checks config_account_may_send() for the result.
 */
size_t config_account_category(const struct config *cfg, size_t acct,
    const char *service_type);

/*
 * Subscriber preferences of category index cat: its frequency cap and
 * its quiet hours, or NULL (borrowed).
 */
const struct config_frequency *config_frequency_find(const struct config *cfg,
    size_t cat);
const struct config_quiet *config_quiet_find(const struct config *cfg,
    size_t cat);
/*
 * The time zone of a normalised number: the longest timezones.prefixes
 * entry it starts with, else timezones.default; NULL when no timezones
 * are configured (borrowed).
 */
const char *config_zone_of(const struct config *cfg, const char *number);

#endif /* CONFIG_CONFIG_H */
