/*
 * stopgate: entry point. Placeholder until the daemon lands.
 */
#include <stdio.h>

int
main(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "usage: stopgate run|check -c FILE\n");
	return 64;
}
