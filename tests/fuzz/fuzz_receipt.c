/*
 * libFuzzer target for smpp/receipt: parse arbitrary receipt text; when an
 * id is found, format the receipt and parse it again: the id must survive.
 * Also exercise message-id normalisation and variants on the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[SMPP_RECEIPT_ID_LEN * 2];
	char v[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];
	char norm[SMPP_RECEIPT_ID_LEN];
	struct smpp_receipt r, back;
	char buf[512];
	ssize_t n;
	size_t idlen;
	int i, nv;

	if (smpp_receipt_parse((const char *)data, size, &r) == 0) {
		n = smpp_receipt_format(&r, buf, sizeof(buf));
		if (n <= 0)
			abort();
		if (smpp_receipt_parse(buf, (size_t)n, &back) != 0 ||
		    strcmp(r.id, back.id) != 0)
			abort();
		/* No stat is written as UNKNOWN, which reads back as 7. */
		if (r.state != SMPP_RECEIPT_STATE_NONE &&
		    r.state != back.state)
			abort();
	}

	idlen = size < sizeof(id) - 1 ? size : sizeof(id) - 1;
	memcpy(id, data, idlen);
	id[idlen] = '\0';
	smpp_msgid_normalize(id, norm, sizeof(norm));
	nv = smpp_msgid_variants(id, v, SMPP_MSGID_VARIANTS_MAX);
	if (nv < 0 || nv > SMPP_MSGID_VARIANTS_MAX)
		abort();
	if (nv > 0 && strcmp(v[0], norm) != 0)
		abort();
	for (i = 0; i < nv; i++)
		if (strlen(v[i]) >= SMPP_RECEIPT_ID_LEN)
			abort();
	return 0;
}
