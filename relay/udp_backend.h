/* The relay backend of the session layer: a gateway over UDP. */
#ifndef IKETCP_UDP_BACKEND_H
#define IKETCP_UDP_BACKEND_H

struct session_backend;

extern const struct session_backend udp_backend;

#endif /* IKETCP_UDP_BACKEND_H */
