/*
 * libFuzzer target for the RFC 4180 reader behind `stopgate import`
 * (proxy/compliance/csv.c): any bytes, read record by record to the end or
 * the first error. Must never crash, read out of bounds or loop forever, and
 * every field it yields must be a NUL-terminated string inside the input's
 * size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/compliance/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader	*c;
	char			 err[256], **f;
	size_t			 n, i, total = 0;
	unsigned		 line, last = 0;
	int			 r;

	if ((c = csv_reader_open_mem((const char *)data, size, err,
	    sizeof(err))) == NULL)
		return 0;
	while ((r = csv_reader_next(c, &f, &n, &line, err,
	    sizeof(err))) == 1) {
		if (n == 0 || line < last)
			abort();	/* a record has a field; lines grow */
		last = line;
		for (i = 0; i < n; i++)
			total += strlen(f[i]);
		if (total > size)
			abort();	/* fields come from the input */
	}
	csv_reader_free(c);
	return 0;
}
