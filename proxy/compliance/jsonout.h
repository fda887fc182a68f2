/*
 * Writing JSON text to a stdio stream, a member at a time: enough for the
 * flat records the CLI and the admin API print, without building a tree.
 */
#ifndef PROXY_COMPLIANCE_JSONOUT_H
#define PROXY_COMPLIANCE_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Write s as a JSON string (quotes included), escaping as RFC 8259 asks. */
void jsonout_str(FILE *fp, const char *s);

/* Write "key":"val" (val escaped), after a comma when comma is true. key
 * is written as is: a literal of the caller's. */
void jsonout_kv_str(FILE *fp, const char *key, const char *val, bool comma);

/* Write "key":"<t as RFC 3339>", after a comma when comma is true. */
void jsonout_kv_time(FILE *fp, const char *key, int64_t t, bool comma);

/* Write "key":n, after a comma when comma is true. */
void jsonout_kv_u64(FILE *fp, const char *key, uint64_t n, bool comma);

#endif /* PROXY_COMPLIANCE_JSONOUT_H */
