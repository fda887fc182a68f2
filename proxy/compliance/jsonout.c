/*
 * JSON text output (RFC 8259) member by member.
 */
#include "proxy/compliance/jsonout.h"

#include <inttypes.h>
#include <string.h>

#include "proxy/compliance/rfc3339.h"

void
jsonout_str(FILE *fp, const char *s)
{
	static const char	 from[] = "\"\\\n\r\t", to[] = "\"\\nrt";
	const unsigned char	*p;
	const char		*q;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((q = strchr(from, *p)) != NULL) {
			fputc('\\', fp);
			fputc(to[q - from], fp);
		} else if (*p < 0x20)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

void
jsonout_kv_str(FILE *fp, const char *key, const char *val, bool comma)
{
	fprintf(fp, "%s\"%s\":", comma ? "," : "", key);
	jsonout_str(fp, val);
}

void
jsonout_kv_time(FILE *fp, const char *key, int64_t t, bool comma)
{
	char	 ts[RFC3339_MAX];

	fprintf(fp, "%s\"%s\":\"%s\"", comma ? "," : "", key,
	    rfc3339_format(t, ts, sizeof(ts)));
}

void
jsonout_kv_u64(FILE *fp, const char *key, uint64_t n, bool comma)
{
	fprintf(fp, "%s\"%s\":%" PRIu64, comma ? "," : "", key, n);
}
