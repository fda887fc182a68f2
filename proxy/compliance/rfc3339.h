/*
 * RFC 3339 times for people and machines: every time the CLI and the
 * admin API print or accept is UTC with seconds ("2026-11-26T13:41:00Z").
 */
#ifndef PROXY_COMPLIANCE_RFC3339_H
#define PROXY_COMPLIANCE_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* Longest text rfc3339_format() writes, with its NUL, and room to spare. */
#define RFC3339_MAX	32

/* Format unix seconds as RFC 3339 UTC into buf (at least 21 bytes; the
 * decimal seconds when the year does not fit). Returns buf. */
const char *rfc3339_format(int64_t t, char *buf, size_t cap);

/*
 * Parse an RFC 3339 time ("2026-11-26T13:41:00Z", "...+01:00", fractions
 * dropped) or a date ("2026-11-26", midnight UTC). Returns 0 with *out
 * set, or -1 (*out untouched).
 */
int rfc3339_parse(const char *s, int64_t *out);

#endif /* PROXY_COMPLIANCE_RFC3339_H */
