/*
 * libFuzzer target for subscriber-reply matching (proxy/policy/keywords.c): the
 * text of an MO is whatever a subscriber or a broken SMSC sends. Any bytes
 * (invalid UTF-8 included) must match to some action without crashing, and
 * normalisation must be idempotent: normalising the normal form again gives
 * the same string (for normal forms within the 1 KiB matching window).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "proxy/policy/keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char yaml[] =
    "business_name: Fuzz\n"
    "default_country_code: \"1\"\n"
    "store: { path: /nonexistent }\n"
    "listeners: [ { bind: \"127.0.0.1:2775\" } ]\n"
    "categories: [ promo, { name: appointments, keywords: [APPT] }, "
    "billing ]\n"
    "accounts:\n"
    "  - { system_id: m, password: p, default_category: promo, "
    "categories: [promo] }\n"
    "upstreams:\n"
    "  - { name: c, host: 127.0.0.1, port: 2776, system_id: a, "
    "password: s }\n";

static struct keywords *kw;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyword_match	 m;
	char			 n1[4096], n2[4096];
	int			 l1, l2;

	if (kw == NULL) {
		struct config *cfg = config_load_string(yaml,
		    sizeof(yaml) - 1, "fuzz.yaml", "/", NULL);

		if (cfg == NULL || (kw = keywords_new(cfg)) == NULL)
			abort();
		config_free(cfg);	/* the matcher keeps copies */
	}
	keywords_match(kw, (const char *)data, size, &m);
	if (m.action > KEYWORD_LESS || m.rule == NULL)	/* the last */
		abort();
	l1 = keywords_normalize((const char *)data, size, n1, sizeof(n1));
	/* Only texts whose normal form fits the 1 KiB matching window can
	 * be normalised again whole (NFKD may lengthen: Hangul syllables
	 * become three jamo). */
	if (l1 >= 0 && l1 <= 1024) {
		l2 = keywords_normalize(n1, (size_t)l1, n2, sizeof(n2));
		if (l2 != l1 || memcmp(n1, n2, (size_t)l1) != 0)
			abort();
	}
	return 0;
}
