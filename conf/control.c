/*
 * [global] keys of the control interface: the control socket iketcpctl(8)
 * talks to, and the optional HTTP address that serves Prometheus metrics.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

void
conf_control_defaults(struct conf *c)
{
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    CONF_DEF_CONTROL_SOCKET);
	c->control_socket_set = false;
	c->metrics_listen.len = 0;
}

/* An absolute path that fits sun_path, or "none". */
bool
conf_key_control_socket(struct conf_parser *p, const char *v)
{
	size_t len = strlen(v);

	p->conf->control_socket_set = true;
	if (strcmp(v, "none") == 0) {
		p->conf->control_socket[0] = '\0';
		return true;
	}
	if (v[0] != '/' || len >= CONF_SOCK_PATH_MAX) {
		conf_err(p, "bad control-socket \"%s\": want an absolute path "
		    "of at most %d characters, or none", v,
		    CONF_SOCK_PATH_MAX - 1);
		return false;
	}
	memcpy(p->conf->control_socket, v, len + 1);
	return true;
}

/* A numeric ADDR:PORT to listen on; never a name (no resolver). */
bool
conf_key_metrics_listen(struct conf_parser *p, const char *v)
{
	if (!conf_parse_addr(v, 0, true, &p->conf->metrics_listen) ||
	    p->conf->metrics_listen.len == 0) {
		conf_err(p, "bad metrics-listen \"%s\": want ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT with a numeric address", v);
		p->conf->metrics_listen.len = 0;
		return false;
	}
	return true;
}
