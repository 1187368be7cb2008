/*
 * Sessions outlive streams: one connected UDP socket toward the gateway,
 * the SPIs it carried, and the stream (if any) it serves.  RFC 9329 §6.
 */
#ifndef IKETCP_SESSION_H
#define IKETCP_SESSION_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "relay/relay.h"

struct stream;
struct integ_sess;

struct session {
	unsigned long long id;
	struct relay	*r;
	char		 section[CONF_NAME_MAX];
	int		 fd;		/* connected UDP toward the gateway */
	struct integ_sess *integ;	/* integrated backend, else NULL */
	ev_io		 uio;
	ev_timer	 linger;
	unsigned	 linger_ms;
	size_t		 max_message;	/* larger datagrams are dropped */
	uint16_t	 lport;		/* our UDP source port */
	struct stream	*owner;		/* live stream or NULL */
	struct stream	*tent[SESSION_TENTATIVE];
	struct sockaddr_storage last_client; /* previous owner's address */
	struct spi_entry ike[SESSION_IKE_SPIS];
	struct spi_entry esp[SESSION_ESP_SPIS];
	unsigned	 ike_next, esp_next; /* ring replacement */
};

/* A session without a backend (integrated.c adds its own). */
struct session *session_alloc(struct relay *r, const struct conf_relay *cr);
struct session *session_new(struct relay *r, const struct conf_relay *cr);
void	session_free(struct session *s);
struct spi_entry *session_lookup(struct relay *r, uint64_t spi, bool esp);
void	session_note(struct session *s, const struct msg_info *m, bool from_client);
void	session_send_batch(struct session *s, struct iovec *iov, size_t n);
void	session_attach(struct session *s, struct stream *st);
void	session_attach_tentative(struct session *s, struct stream *st);
void	session_detach(struct session *s, struct stream *st);

#endif /* IKETCP_SESSION_H */
