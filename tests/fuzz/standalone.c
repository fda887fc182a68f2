/*
 * A main() for a libFuzzer target built without libFuzzer: each argument is
 * a file, or a folder whose regular files (one level, in name order) are
 * read, and each file's bytes are passed once to LLVMFuzzerTestOneInput().
 * `make unit` links every tests/fuzz/fuzz_*.c with this driver, the
 * project's normal flags and archives (and the sanitizers under
 * `make check`) to replay tests/regress/<target>/ and the seed corpus
 * tests/fuzz/corpus/<target>/: a target that aborts, traps or trips a
 * sanitizer fails the run with the input's name printed first.
 *
 * Exits 0 when every input ran, 1 when one could not be read, 2 on usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Inputs above this are not fuzzer inputs (run.sh caps them at 70000). */
#define STANDALONE_MAX_INPUT	(4 * 1024 * 1024)

/* Read path whole into an allocation of exactly its size, so ASan sees a
 * read past the input; *buf is owned by the caller (NULL when empty). */
static int
standalone_read(const char *path, uint8_t **buf, size_t *len)
{
	FILE	*f;
	uint8_t	*p = NULL;
	long	 n;

	*buf = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > STANDALONE_MAX_INPUT || fseek(f, 0, SEEK_SET) != 0)
		goto err_close;
	if (n > 0 && ((p = malloc((size_t)n)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n))
		goto err_free;
	fclose(f);
	*buf = p;
	*len = (size_t)n;
	return 0;

err_free:
	free(p);
err_close:
	fclose(f);
	return -1;
}

static int
standalone_run(const char *path)
{
	uint8_t	*buf;
	size_t	 len;

	errno = 0;
	if (standalone_read(path, &buf, &len) == -1) {
		fprintf(stderr, "standalone: %s: cannot read: %s\n", path,
		    errno != 0 ? strerror(errno) : "too large");
		return -1;
	}
	/* Named before the run, so a crash's output follows its input. */
	fprintf(stderr, "standalone: %s (%zu bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
standalone_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order; *n counts them. */
static int
standalone_dir(const char *dir, size_t *n)
{
	struct dirent	 *de;
	struct stat	  st;
	char		**names = NULL, **grown, path[4096];
	size_t		  count = 0, cap = 0, i;
	DIR		 *d;
	int		  rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (count == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				rc = -1;
				break;
			}
			names = grown;
		}
		if ((names[count] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		count++;
	}
	closedir(d);
	if (count > 0)
		qsort(names, count, sizeof(*names), standalone_cmp);
	for (i = 0; i < count && rc == 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path) || stat(path, &st) == -1) {
			rc = -1;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (standalone_run(path) == -1)
			rc = -1;
		else
			(*n)++;
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat	st;
	size_t		n = 0;
	int		i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "standalone: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (standalone_dir(argv[i], &n) == -1) {
				fprintf(stderr, "standalone: %s: cannot read "
				    "the folder\n", argv[i]);
				rc = 1;
			}
		} else if (standalone_run(argv[i]) == -1)
			rc = 1;
		else
			n++;
	}
	printf("standalone: %zu input(s) replayed\n", n);
	return rc;
}
