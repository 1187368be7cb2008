/*
 * relay/report.c: iketcpctl list and stats (report.h).  Everything is read
 * from the live objects in one loop turn, so the answer is a consistent
 * snapshot; nothing here changes them.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <ev.h>

#include "ike/sa.h"
#include "relay/connector.h"
#include "relay/integrated.h"
#include "relay/obuf.h"
#include "relay/relay.h"
#include "relay/report.h"
#include "relay/session.h"
#include "relay/stream.h"

/* Layers outermost first: PROXY, TLS, CONNECT over TCP. */
static const char *
layers_text(const struct stream *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "TCP%s%s%s",
	    st->layers & LAYER_PROXY ? "+PROXY" : "",
	    st->ssl != NULL || st->layers & LAYER_TLS ? "+TLS" : "",
	    st->layers & LAYER_CONNECT ? "+CONNECT" : "");
	return buf;
}

static void
layers_json(struct obuf *o, const struct stream *st)
{
	obuf_printf(o, "[\"TCP\"%s%s%s]",
	    st->layers & LAYER_PROXY ? ",\"PROXY\"" : "",
	    st->ssl != NULL || st->layers & LAYER_TLS ? ",\"TLS\"" : "",
	    st->layers & LAYER_CONNECT ? ",\"CONNECT\"" : "");
}

static const char *
role(const struct stream *st)
{
	const struct session *s = st->up;

	if (s == NULL)
		return "none";
	return s->owner == st ? "owner" : "probing";
}

static const char *
lower(const char *s, char *buf, size_t cap)
{
	size_t k;

	for (k = 0; s[k] != '\0' && k + 1 < cap; k++)
		buf[k] = s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] | 0x20) :
		    s[k];
	buf[k] = '\0';
	return buf;
}

/*
 * Opens a JSON object of a list: a worker of several names itself in
 * each, so that its ids can be told apart in the master's answer.
 */
static void
elem(struct obuf *o, const struct relay *r, bool first)
{
	obuf_printf(o, "%s{", first ? "" : ",");
	if (r->nworkers > 1)
		obuf_printf(o, "\"worker\":%u,", r->worker_id);
}

/* A list's end: "]", or in parts (report_list_parts) a newline. */
static void
list_end(struct obuf *o, bool json, bool parts)
{
	obuf_printf(o, parts ? "\n" : json ? "]" : "");
}

static void
streams(struct obuf *o, const struct relay *r, bool json, bool parts,
    ev_tstamp now)
{
	const struct stream *st;
	char lay[32], state[16], cl[STREAM_PEER_TEXT];
	bool first = true;

	if (json) {
		if (!parts)
			obuf_printf(o, "\"streams\":[");
	} else
		obuf_printf(o, "Streams\n%-6s %-22s %-12s %-16s %-8s %-8s "
		    "%-7s %-6s %8s %22s %22s\n", "ID", "CLIENT", "SECTION",
		    "LAYERS", "STATE", "ROLE", "SESSION", "GWPORT", "AGE",
		    "IN MSGS/BYTES", "OUT MSGS/BYTES");
	for (st = r->streams; st != NULL; st = st->anext) {
		const struct session *s = st->up;

		lower(stream_state_name(st->state), state, sizeof(state));
		if (!json) {
			char in[32], out[32], peer[STREAM_PEER_TEXT];

			snprintf(in, sizeof(in), "%llu/%llu", st->in_msgs,
			    st->in_bytes);
			snprintf(out, sizeof(out), "%llu/%llu", st->out_msgs,
			    st->out_bytes);
			obuf_printf(o, "%-6llu %-22s %-12s %-16s %-8s %-8s "
			    "%-7llu %-6u %8.1f %22s %22s\n", st->id,
			    sockaddr_text(&st->peer, peer, sizeof(peer)),
			    st->cr->name,
			    layers_text(st, lay, sizeof(lay)), state,
			    role(st), s != NULL ? s->id : 0ULL,
			    (unsigned)st->lport, now - st->started, in, out);
			continue;
		}
		elem(o, r, first);
		obuf_printf(o, "\"id\":%llu,\"client\":", st->id);
		obuf_json_str(o, sockaddr_text(&st->peer, cl, sizeof(cl)));
		obuf_printf(o, ",\"section\":");
		obuf_json_str(o, st->cr->name);
		obuf_printf(o, ",\"transport\":");
		layers_json(o, st);
		obuf_printf(o, ",\"state\":\"%s\",\"role\":\"%s\","
		    "\"session\":%llu,\"gateway_port\":%u,\"age\":%.1f,"
		    "\"in_msgs\":%llu,\"in_bytes\":%llu,\"out_msgs\":%llu,"
		    "\"out_bytes\":%llu}", state, role(st),
		    s != NULL ? s->id : 0ULL, (unsigned)st->lport,
		    now - st->started, st->in_msgs, st->in_bytes,
		    st->out_msgs, st->out_bytes);
		first = false;
	}
	if (json)
		list_end(o, json, parts);
	else
		obuf_printf(o, "\n");
}

static unsigned
nprobes(const struct session *s)
{
	unsigned n = 0;

	for (const struct probe *p = s->probes; p != NULL; p = p->next)
		n++;
	return n;
}

static void
ike_sa_json(struct obuf *o, const struct integ_info *in)
{
	obuf_printf(o, ",\"ike_sa\":{\"state\":\"%s\",\"identity\":",
	    in->state);
	obuf_json_str(o, in->id);
	obuf_printf(o, ",\"virtual_ips\":[");
	if (in->vip4[0] != '\0')
		obuf_json_str(o, in->vip4);
	if (in->vip6[0] != '\0') {
		obuf_printf(o, "%s", in->vip4[0] != '\0' ? "," : "");
		obuf_json_str(o, in->vip6);
	}
	obuf_printf(o, "],\"ike_algorithms\":");
	obuf_json_str(o, in->ike_alg);
	obuf_printf(o, ",\"esp_algorithms\":");
	obuf_json_str(o, in->esp_alg);
	obuf_printf(o, ",\"spi_i\":\"%016llx\",\"spi_r\":\"%016llx\","
	    "\"child_sas\":%u,\"child_spi_in\":\"%08x\","
	    "\"child_spi_out\":\"%08x\",\"next_request_s\":%lld,"
	    "\"esp_in_packets\":%llu,\"esp_in_bytes\":%llu,"
	    "\"esp_out_packets\":%llu,\"esp_out_bytes\":%llu,"
	    "\"mobike\":%s,\"mobike_check\":",
	    (unsigned long long)in->spi_i, (unsigned long long)in->spi_r,
	    in->children, in->spi_in, in->spi_out, in->next_s,
	    in->in_packets, in->in_octets, in->out_packets, in->out_octets,
	    in->mobike ? "true" : "false");
	obuf_json_str(o, in->mobike_check);
	obuf_printf(o, "}");
}

static void
sessions(struct obuf *o, const struct relay *r, bool json, bool parts,
    ev_tstamp now)
{
	const struct session *s;
	char cl[64], lay[32];
	bool first = true;

	if (json) {
		if (!parts)
			obuf_printf(o, ",\"sessions\":[");
	} else
		obuf_printf(o, "Sessions\n%-6s %-12s %-10s %-9s %-22s %-16s "
		    "%-6s %-6s %-6s %8s %22s %22s\n", "ID", "SECTION",
		    "BACKEND", "STATE", "CLIENT", "TRANSPORT", "STREAM",
		    "GWPORT", "PROBES", "AGE", "UP MSGS/BYTES",
		    "DOWN MSGS/BYTES");
	for (s = r->sessions; s != NULL; s = s->anext) {
		struct integ_info in;
		struct sockaddr_storage ss;
		bool integ = integ_describe(s, &in) == 0;

		session_client(s, &ss);
		sockaddr_text(&ss, cl, sizeof(cl));
		if (!json) {
			char up[32], down[32];

			snprintf(up, sizeof(up), "%llu/%llu", s->up_msgs,
			    s->up_bytes);
			snprintf(down, sizeof(down), "%llu/%llu", s->down_msgs,
			    s->down_bytes);
			obuf_printf(o, "%-6llu %-12s %-10s %-9s %-22s %-16s "
			    "%-6llu %-6u %-6u %8.1f %22s %22s\n", s->id,
			    s->section, s->ops->name,
			    session_state_name(s->state), cl,
			    s->owner != NULL ? layers_text(s->owner, lay,
			    sizeof(lay)) : s->on_udp ? "UDP" : "-",
			    s->owner != NULL ? s->owner->id : 0ULL,
			    (unsigned)s->lport, nprobes(s), now - s->started,
			    up, down);
			continue;
		}
		elem(o, r, first);
		obuf_printf(o, "\"id\":%llu,\"section\":", s->id);
		obuf_json_str(o, s->section);
		obuf_printf(o, ",\"backend\":\"%s\",\"state\":\"%s\","
		    "\"client\":", s->ops->name,
		    session_state_name(s->state));
		obuf_json_str(o, cl);
		obuf_printf(o, ",\"transport\":");
		if (s->owner != NULL)
			layers_json(o, s->owner);
		else
			obuf_printf(o, s->on_udp ? "[\"UDP\"]" : "[]");
		obuf_printf(o, ",\"stream\":%llu,\"gateway_port\":%u,"
		    "\"probes\":%u,\"age\":%.1f,\"up_msgs\":%llu,"
		    "\"up_bytes\":%llu,\"down_msgs\":%llu,"
		    "\"down_bytes\":%llu",
		    s->owner != NULL ? s->owner->id : 0ULL,
		    (unsigned)s->lport, nprobes(s), now - s->started,
		    s->up_msgs, s->up_bytes, s->down_msgs, s->down_bytes);
		if (integ)
			ike_sa_json(o, &in);
		obuf_printf(o, "}");
		first = false;
	}
	if (json)
		list_end(o, json, parts);
	else
		obuf_printf(o, "\n");
}

/* Text only: the integrated sessions' IKE SAs (JSON has them inline). */
static void
ike_sas(struct obuf *o, const struct relay *r)
{
	const struct session *s;
	struct integ_info in;
	bool head = false;

	for (s = r->sessions; s != NULL; s = s->anext) {
		char vip[64];

		if (integ_describe(s, &in) == -1)
			continue;
		if (!head)
			obuf_printf(o, "IKE SAs\n%-7s %-11s %-24s %-16s "
			    "%-30s %-22s %-5s %-6s %18s %18s\n", "SESSION",
			    "STATE", "IDENTITY", "VIRTUAL IP", "IKE",
			    "ESP", "CHILD", "NEXT", "ESP IN PKTS/BYTES",
			    "ESP OUT PKTS/BYTES");
		head = true;
		snprintf(vip, sizeof(vip), "%s%s%s", in.vip4,
		    in.vip4[0] != '\0' && in.vip6[0] != '\0' ? "," : "",
		    in.vip6);
		{
			char ib[40], ob[40], nx[24];

			snprintf(ib, sizeof(ib), "%llu/%llu", in.in_packets,
			    in.in_octets);
			snprintf(ob, sizeof(ob), "%llu/%llu", in.out_packets,
			    in.out_octets);
			if (in.next_s < 0)
				snprintf(nx, sizeof(nx), "-");
			else
				snprintf(nx, sizeof(nx), "%llds", in.next_s);
			obuf_printf(o, "%-7llu %-11s %-24s %-16s %-30s %-22s "
			    "%-5u %-6s %18s %18s\n", s->id, in.state,
			    in.id[0] != '\0' ? in.id : "-",
			    vip[0] != '\0' ? vip : "-",
			    in.ike_alg[0] != '\0' ? in.ike_alg : "-",
			    in.esp_alg[0] != '\0' ? in.esp_alg : "-",
			    in.children, nx, ib, ob);
		}
	}
	if (head)
		obuf_printf(o, "\n");
}

static const char *
cn_transport(enum cn_transport t)
{
	switch (t) {
	case CN_TRANSPORT_TRYING:
		return "trying-udp";
	case CN_TRANSPORT_UDP:
		return "udp";
	case CN_TRANSPORT_TCP:
		return "tcp";
	}
	return "?";
}

static const char *
cs_state(enum cstream_state s)
{
	static const char *const names[] = {
		[CSTREAM_DOWN] = "down", [CSTREAM_CONNECTING] = "connecting",
		[CSTREAM_PROXY] = "proxy", [CSTREAM_TLS] = "tls",
		[CSTREAM_UP] = "up",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void
cn_sessions(struct obuf *o, const struct relay *r, bool json, bool parts,
    ev_tstamp now)
{
	const struct connector *cn;
	const struct cn_session *cs;
	bool first = true;
	char ini[64];

	if (json) {
		if (!parts)
			obuf_printf(o, ",\"connector_sessions\":[");
	} else if (r->connectors != NULL)
		obuf_printf(o, "Connector sessions\n%-12s %-6s %-22s %-10s "
		    "%-10s %8s %22s %22s\n", "CONNECTOR", "ID", "INITIATOR",
		    "TRANSPORT", "STREAM", "AGE", "UP MSGS/BYTES",
		    "DOWN MSGS/BYTES");
	for (cn = r->connectors; cn != NULL; cn = cn->next)
		for (cs = cn->sessions; cs != NULL; cs = cs->next) {
			const struct cn_flow *f = &cs->flow[CN_FLOW_NATT];
			bool tcp = cs->transport == CN_TRANSPORT_TCP;

			if (f->l == NULL)
				f = &cs->flow[CN_FLOW_IKE];
			if (f->l != NULL)
				sockaddr_text(&f->peer, ini, sizeof(ini));
			else
				snprintf(ini, sizeof(ini), "-");
			if (!json) {
				char up[32], down[32];

				snprintf(up, sizeof(up), "%llu/%llu",
				    cs->n.up_msgs, cs->n.up_bytes);
				snprintf(down, sizeof(down), "%llu/%llu",
				    cs->n.down_msgs, cs->n.down_bytes);
				obuf_printf(o, "%-12s %-6llu %-22s %-10s "
				    "%-10s %8.1f %22s %22s\n", cn->cc->name,
				    cs->id, ini, cn_transport(cs->transport),
				    tcp ? cs_state(cs->cs.state) : "-",
				    now - cs->started, up, down);
				continue;
			}
			elem(o, r, first);
			obuf_printf(o, "\"connector\":");
			obuf_json_str(o, cn->cc->name);
			obuf_printf(o, ",\"id\":%llu,\"initiator\":", cs->id);
			obuf_json_str(o, ini);
			obuf_printf(o, ",\"transport\":\"%s\",\"stream\":"
			    "\"%s\",\"age\":%.1f,\"up_msgs\":%llu,"
			    "\"up_bytes\":%llu,\"down_msgs\":%llu,"
			    "\"down_bytes\":%llu}",
			    cn_transport(cs->transport),
			    tcp ? cs_state(cs->cs.state) : "-",
			    now - cs->started, cs->n.up_msgs, cs->n.up_bytes,
			    cs->n.down_msgs, cs->n.down_bytes);
			first = false;
		}
	list_end(o, json, parts);
}

void
report_list(struct obuf *o, const struct relay *r, bool json)
{
	ev_tstamp now = ev_now(r->loop);

	if (json)
		obuf_printf(o, "{");
	streams(o, r, json, false, now);
	sessions(o, r, json, false, now);
	if (!json)
		ike_sas(o, r);
	cn_sessions(o, r, json, false, now);
	if (json)
		obuf_printf(o, "}\n");
}

void
report_list_parts(struct obuf *o, const struct relay *r)
{
	ev_tstamp now = ev_now(r->loop);

	streams(o, r, true, true, now);
	sessions(o, r, true, true, now);
	cn_sessions(o, r, true, true, now);
}

#define STAT(name) { #name, offsetof(struct relay_stats, name) }

static const struct {
	const char	*name;
	size_t		 off;
} stats[] = {
	STAT(streams), STAT(refused), STAT(refused_conn),
	STAT(refused_source), STAT(layer_refused), STAT(sessions),
	STAT(sess_refused), STAT(reclaimed), STAT(reattach_esp),
	STAT(probe_ike), STAT(probe_esp), STAT(proven), STAT(probe_expired),
	STAT(probe_refused), STAT(probe_drop), STAT(keepalives),
	STAT(esp_full), STAT(ike_full), STAT(wbuf_total_full),
	STAT(gw_nostream), STAT(gw_bad), STAT(udp_send_errors),
	STAT(tls_failed), STAT(ike_up), STAT(child_up), STAT(ike_drop),
	STAT(esp_in_drop),
	STAT(esp_in_nosa), STAT(esp_in_tun), STAT(esp_in_retired),
	STAT(esp_out_drop),
	STAT(esp_out_nosa), STAT(esp_out_encap), STAT(ctl_refused),
	STAT(ctl_bad), STAT(mob_checks), STAT(mob_checks_ok),
	STAT(mob_checks_failed), STAT(mob_withheld), STAT(handoff_out),
	STAT(handoff_spliced), STAT(handoff_in), STAT(handoff_failed),
	STAT(handoff_foreign), STAT(handoff_unrecorded),
};

void
report_stats(struct obuf *o, const struct relay *r, bool json)
{
	struct integ_radius_info ri;
	const char *sep = json ? "{" : "", *why;
	unsigned long long cnt;
	struct {
		const char		*name;
		unsigned long long	 v;
	} more[] = {
		{ "tls_ok_tls12", r->stats.tls_ok[0] },
		{ "tls_ok_tls13", r->stats.tls_ok[1] },
		{ "tls_ok_other", r->stats.tls_ok[2] },
		{ "auth_ok_psk", r->stats.auth_ok[IKE_SA_AUTH_PSK] },
		{ "auth_ok_certificate", r->stats.auth_ok[IKE_SA_AUTH_CERT] },
		{ "auth_ok_eap", r->stats.auth_ok[IKE_SA_AUTH_EAP] },
		{ "auth_failed_psk", r->stats.auth_failed[IKE_SA_AUTH_PSK] },
		{ "auth_failed_certificate",
		    r->stats.auth_failed[IKE_SA_AUTH_CERT] },
		{ "auth_failed_eap", r->stats.auth_failed[IKE_SA_AUTH_EAP] },
		{ "auth_failed_other",
		    r->stats.auth_failed[IKE_SA_AUTH_OTHER] },
		{ "sessions_now", r->nsessions },
		{ "sessions_max", r->conf->max_sessions },
		{ "fds_used", r->fds_used },
		{ "fds_max", r->fds_max },
		{ "write_buffer_bytes", r->wbuf_total },
		{ "write_buffer_total", r->conf->write_buffer_total },
	};

	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		const unsigned long long *v = (const void *)
		    ((const char *)&r->stats + stats[i].off);

		if (json)
			obuf_printf(o, "%s\"%s\":%llu", sep, stats[i].name,
			    *v);
		else
			obuf_printf(o, "%-24s %llu\n", stats[i].name, *v);
		sep = ",";
	}
	for (size_t i = 0; integ_esp_in_reason(&r->stats, i, &why, &cnt) == 0;
	    i++) {
		char name[48];

		/* esp_in_nosa and esp_in_tun are above. */
		if (strcmp(why, "no-sa") == 0 || strcmp(why, "tun-write") == 0)
			continue;
		snprintf(name, sizeof(name), "esp_in_%s", why);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		if (json)
			obuf_printf(o, "%s\"%s\":%llu", sep, name, cnt);
		else
			obuf_printf(o, "%-24s %llu\n", name, cnt);
		sep = ",";
	}
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		if (json)
			obuf_printf(o, "%s\"%s\":%llu", sep, more[i].name,
			    more[i].v);
		else
			obuf_printf(o, "%-24s %llu\n", more[i].name,
			    more[i].v);
		sep = ",";
	}
	for (size_t i = 0; integ_radius_info(r, i, &ri) == 0; i++) {
		const struct {
			const char		*kind;
			unsigned long long	 v;
		} rad[] = {
			{ "accepts", ri.accepts },
			{ "rejects", ri.rejects },
			{ "challenges", ri.challenges },
			{ "timeouts", ri.timeouts },
			{ "in_flight", ri.in_flight },
		};

		for (size_t k = 0; k < sizeof(rad) / sizeof(rad[0]); k++) {
			char name[96];

			snprintf(name, sizeof(name), "radius_%s_%s",
			    rad[k].kind, ri.section);
			if (json)
				obuf_printf(o, "%s\"%s\":%llu", sep, name,
				    rad[k].v);
			else
				obuf_printf(o, "%-24s %llu\n", name,
				    rad[k].v);
			sep = ",";
		}
	}
	if (json)
		obuf_printf(o, "}\n");
}
