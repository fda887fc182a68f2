/*
 * Service manager readiness notification (systemd Type=notify): one
 * datagram per state change to the AF_UNIX socket named by the
 * NOTIFY_SOCKET environment variable. Without that variable every call
 * does nothing, so the daemon runs the same in a terminal, a test or a
 * container.
 *
 * The protocol is written here by hand rather than linking libsystemd:
 * it is a documented, stable interface (sd_notify(3), "NOTIFY_SOCKET")
 * of a dozen lines, and libsystemd would add its dependencies (liblz4,
 * libzstd, liblzma, libgcrypt, libcap) to the daemon and the container
 * image for this alone.
 */
#ifndef PROXY_IO_NOTIFY_H
#define PROXY_IO_NOTIFY_H

/*
 * Send state (e.g. "READY=1\nSTATUS=serving") to the service manager.
 * Returns 1 if sent, 0 if there is no NOTIFY_SOCKET, -1 with errno set if
 * the variable is malformed or the send failed. state is borrowed.
 */
int notify_send(const char *state);

/* READY=1 with MAINPID: the listeners are open and the store is up. */
int notify_ready(void);
/* STOPPING=1: a graceful stop has begun. */
int notify_stopping(void);
/* RELOADING=1: a SIGHUP reload is under way; notify_ready() ends it. */
int notify_reloading(void);

#endif /* PROXY_IO_NOTIFY_H */
