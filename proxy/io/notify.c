/*
 * sd_notify's datagram protocol (see notify.h for why it is hand-written).
 */
#include "proxy/io/notify.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
notify_send(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	size_t			 n;
	ssize_t			 sent;
	int			 fd, saved;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	/* A path, or "@name" for a Linux abstract socket (leading NUL). */
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	return sent == -1 ? -1 : 1;
}

int
notify_ready(void)
{
	char	buf[64];

	/* MAINPID: the manager need not guess which process is the main
	 * one (the notification may come from a forked helper otherwise). */
	snprintf(buf, sizeof(buf), "READY=1\nMAINPID=%ld\nSTATUS=serving",
	    (long)getpid());
	return notify_send(buf);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=stopping");
}

int
notify_reloading(void)
{
	return notify_send("RELOADING=1\nSTATUS=reloading");
}
