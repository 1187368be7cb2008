/*
 * The radius-* keys of an [integrated NAME] section: the RADIUS servers
 * EAP is passed through to (RFC 3579), tried in the order written.
 *
 *	radius-server = 192.0.2.10:1812
 *	radius-server = 192.0.2.11
 *	radius-secret-file = /etc/iketcpd/radius.secret
 *	radius-timeout = 2s
 *	radius-retries = 2
 *	radius-nas-identifier = vpn1
 *
 * The shared secret is not written in this file, which is commonly
 * world-readable: radius-secret-file names a file of mode 0600 whose
 * first line is the secret, read at start (relay/radclient.c).
 */
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

bool
conf_key_radius_server(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	if (ci->nradius_server == CONF_RADIUS_SERVERS_MAX) {
		conf_err(p, "radius-server \"%s\": more than %d radius-server "
		    "lines", v, CONF_RADIUS_SERVERS_MAX);
		return false;
	}
	if (!conf_parse_addr(v, CONF_DEF_RADIUS_PORT, false,
	    &ci->radius_server[ci->nradius_server])) {
		conf_err(p, "bad radius-server \"%s\": want ADDR[:PORT] or "
		    "[V6ADDR][:PORT] (port %d when left out)", v,
		    CONF_DEF_RADIUS_PORT);
		return false;
	}
	for (size_t i = 0; i < ci->nradius_server; i++)
		if (ci->radius_server[i].len ==
		    ci->radius_server[ci->nradius_server].len &&
		    memcmp(&ci->radius_server[i].ss,
		    &ci->radius_server[ci->nradius_server].ss,
		    ci->radius_server[i].len) == 0) {
			conf_err(p, "radius-server \"%s\": listed twice", v);
			return false;
		}
	ci->nradius_server++;
	return true;
}

bool
conf_key_radius_secret_file(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f) {
			conf_err(p, "bad radius-secret-file \"%s\": control "
			    "character", v);
			return false;
		}
	if (len == 0 || len >= CONF_PATH_MAX) {
		conf_err(p, "bad radius-secret-file \"%s\": want a file name "
		    "of 1 to %d characters", v, CONF_PATH_MAX - 1);
		return false;
	}
	memcpy(ci->radius_secret_file, v, len + 1);
	return true;
}

bool
conf_key_radius_timeout(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "radius-timeout", v, 1, &ci->radius_timeout_ms);
}

bool
conf_key_radius_retries(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n > CONF_RADIUS_RETRIES_MAX) {
		conf_err(p, "bad radius-retries \"%s\": want 0 to %d "
		    "retransmissions", v, CONF_RADIUS_RETRIES_MAX);
		return false;
	}
	ci->radius_retries = n;
	return true;
}

/* RFC 2865 §5.32: text, 1 to 253 octets; printable ASCII here. */
bool
conf_key_radius_nas_id(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	size_t len = strlen(v);
	bool ok = len > 0 && len < CONF_RADIUS_NAS_ID_MAX;

	for (size_t i = 0; ok && i < len; i++)
		ok = v[i] > ' ' && v[i] < 0x7f;
	if (!ok) {
		conf_err(p, "bad radius-nas-identifier \"%s\": want 1 to %d "
		    "printable characters without blanks", v,
		    CONF_RADIUS_NAS_ID_MAX - 1);
		return false;
	}
	memcpy(ci->radius_nas_id, v, len + 1);
	return true;
}

void
conf_radius_defaults(struct conf_integrated *ci)
{
	ci->radius_timeout_ms = CONF_DEF_RADIUS_TIMEOUT_MS;
	ci->radius_retries = CONF_DEF_RADIUS_RETRIES;
	memcpy(ci->radius_nas_id, CONF_DEF_RADIUS_NAS_ID,
	    sizeof(CONF_DEF_RADIUS_NAS_ID));
}

void
conf_radius_check(struct conf_parser *p, const struct conf_relay *r)
{
	const struct conf_integrated *ci = r->integ;

	if (ci->nradius_server > 0 && ci->radius_secret_file[0] == '\0')
		conf_err_at(p, r->line, "[integrated %s]: radius-server needs "
		    "radius-secret-file (the shared secret)", r->name);
	else if (ci->nradius_server == 0 && ci->radius_secret_file[0] != '\0')
		conf_err_at(p, r->line, "[integrated %s]: radius-secret-file "
		    "without a radius-server", r->name);
}

const char *
conf_radius_diff(const struct conf_integrated *a,
    const struct conf_integrated *b)
{
	if (a->nradius_server != b->nradius_server)
		return "radius-server";
	for (size_t i = 0; i < a->nradius_server; i++)
		if (strcmp(a->radius_server[i].text,
		    b->radius_server[i].text) != 0)
			return "radius-server";
	if (strcmp(a->radius_secret_file, b->radius_secret_file) != 0)
		return "radius-secret-file";
	if (a->radius_timeout_ms != b->radius_timeout_ms)
		return "radius-timeout";
	if (a->radius_retries != b->radius_retries)
		return "radius-retries";
	if (strcmp(a->radius_nas_id, b->radius_nas_id) != 0)
		return "radius-nas-identifier";
	return NULL;
}
