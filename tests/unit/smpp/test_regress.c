/*
 * Replay of fuzzer reproducers: every file under tests/regress/ (and one
 * level of subdirectories) is fed to the SMPP codec the way fuzz_pdu and
 * fuzz_frame feed it: as one PDU (as is, and with command_length patched to
 * the file size), and as a stream cut into frames. Nothing may crash, and
 * whatever decodes must re-encode to the same bytes. Passes trivially when
 * the directory is empty.
 *
 * The directory is $STOPGATE_TOP/tests/regress, else found from __FILE__
 * (relative to the top of the tree when built by the Makefile).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

#define REGRESS_MAX_FILE	(1024 * 1024)

struct replay {
	struct smpp_pdu	a;
	struct smpp_pdu	b;
	uint8_t		e1[REGRESS_MAX_FILE + 64];
	uint8_t		e2[REGRESS_MAX_FILE + 64];
	size_t		nfiles;
};

static void
regress_dir(char *out, size_t size)
{
	const char	*top, *file = __FILE__, *cut;

	if ((top = getenv("STOPGATE_TOP")) != NULL && *top != '\0') {
		snprintf(out, size, "%s/tests/regress", top);
		return;
	}
	/* __FILE__ is ".../tests/unit/smpp/test_regress.c". */
	cut = strstr(file, "tests/unit/smpp/test_regress.c");
	if (cut == NULL)
		cut = file;
	snprintf(out, size, "%.*stests/regress", (int)(cut - file), file);
}

/* One PDU: fuzz_pdu's invariants. */
static void
replay_pdu(struct replay *r, const char *name, const uint8_t *p, size_t n)
{
	ssize_t	n1, n2;

	if (smpp_pdu_decode(&r->a, p, n) != SMPP_OK)
		return;
	n1 = smpp_pdu_encode(&r->a, r->e1, sizeof(r->e1));
	if (n1 < SMPP_HEADER_LEN)
		fail_msg("%s: decoded but does not encode", name);
	if ((size_t)n1 == n)
		assert_memory_equal(r->e1, p, n);
	else
		assert_int_equal(n, SMPP_HEADER_LEN);
	assert_int_equal(smpp_pdu_decode(&r->b, r->e1, (size_t)n1), SMPP_OK);
	n2 = smpp_pdu_encode(&r->b, r->e2, sizeof(r->e2));
	assert_int_equal(n2, n1);
	assert_memory_equal(r->e1, r->e2, (size_t)n1);
}

/* A stream: every whole frame is decoded (fuzz_frame skips 2 control
 * octets; both readings are tried). */
static void
replay_stream(struct replay *r, const uint8_t *p, size_t n, uint32_t max)
{
	size_t	off = 0;
	ssize_t	len;

	while ((len = smpp_frame_check(p + off, n - off, max)) > 0) {
		assert_true((size_t)len >= SMPP_HEADER_LEN);
		assert_true((size_t)len <= n - off);
		(void)smpp_pdu_decode(&r->a, p + off, (size_t)len);
		assert_int_equal(r->a.command_length, (uint32_t)len);
		off += (size_t)len;
	}
}

static void
replay_file(struct replay *r, const char *path)
{
	FILE	*fp;
	uint8_t	*buf;
	size_t	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open", path);
	buf = malloc(REGRESS_MAX_FILE);
	assert_non_null(buf);
	n = fread(buf, 1, REGRESS_MAX_FILE, fp);
	fclose(fp);
	print_message("replay %s (%zu bytes)\n", path, n);

	replay_pdu(r, path, buf, n);
	if (n >= 4) {
		buf[0] = (uint8_t)(n >> 24);
		buf[1] = (uint8_t)(n >> 16);
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		replay_pdu(r, path, buf, n);
	}
	/* Read again: the patch above changed the first 4 bytes. */
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open", path);
	n = fread(buf, 1, REGRESS_MAX_FILE, fp);
	fclose(fp);
	replay_stream(r, buf, n, SMPP_MAX_PDU_LEN);
	if (n >= 2) {
		replay_stream(r, buf + 2, n - 2, SMPP_MAX_PDU_LEN);
		replay_stream(r, buf + 2, n - 2, SMPP_MAX_PDU_LEN_OPEN);
	}
	free(buf);
	r->nfiles++;
}

static void
replay_dir(struct replay *r, const char *dir, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[4096];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode) && depth > 0)
			replay_dir(r, path, depth - 1);
		else if (S_ISREG(st.st_mode))
			replay_file(r, path);
	}
	closedir(d);
}

static void
test_regress_replay(void **state)
{
	struct replay	*r;
	char		 dir[4096];

	(void)state;
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	regress_dir(dir, sizeof(dir));
	replay_dir(r, dir, 1);
	print_message("%zu reproducers replayed from %s\n", r->nfiles, dir);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regress_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
