/*
 * systemd readiness without libsystemd: the sd_notify(3) datagram
 * protocol, which is one line of text to the AF_UNIX socket that
 * $NOTIFY_SOCKET names (a path, or "@name" in the abstract namespace).
 * iketcpd.service is Type=notify: it counts as started once the
 * listeners, connector sockets and TUN devices are open and privileges
 * are dropped, not when the process merely exists.
 */
#ifndef IKETCP_NOTIFY_H
#define IKETCP_NOTIFY_H

/* Sends READY=1 when $NOTIFY_SOCKET is set; 0 (also when it is not set),
 * or -1 (logged).  Call it from the main process, after the last step
 * that can fail at start: systemd accepts it from the main PID only. */
int	notify_ready(void);

#endif /* IKETCP_NOTIFY_H */
