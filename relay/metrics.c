/*
 * relay/metrics.c: the Prometheus text exposition (metrics.h).  Counters
 * come from struct relay_stats, the sections' and the connectors'
 * counters, counted where things happen; gauges are counted here by
 * walking the streams and sessions.  Names follow the Prometheus
 * conventions: iketcp_ prefix, _total on counters, base units.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "esp/esp.h"
#include "ike/sa.h"
#include "relay/connector.h"
#include "relay/integrated.h"
#include "relay/metrics.h"
#include "relay/obuf.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"

/* HELP text: backslash and newline escaped. */
static void
help_text(struct obuf *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			obuf_printf(o, "\\\\");
		else if (*s == '\n')
			obuf_printf(o, "\\n");
		else
			obuf_printf(o, "%c", *s);
	}
}

void
metrics_family(struct obuf *o, const char *name, enum metrics_type type,
    const char *help)
{
	obuf_printf(o, "# HELP %s ", name);
	help_text(o, help);
	obuf_printf(o, "\n# TYPE %s %s\n", name,
	    type == METRICS_COUNTER ? "counter" : "gauge");
}

/* A label value: backslash, double quote and newline escaped. */
static void
label_value(struct obuf *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			obuf_printf(o, "\\%c", *s);
		else if (*s == '\n')
			obuf_printf(o, "\\n");
		else
			obuf_printf(o, "%c", *s);
	}
}

void
metrics_sample(struct obuf *o, const char *name, unsigned long long value,
    ...)
{
	const char *k, *v;
	bool first = true;
	va_list ap;

	obuf_printf(o, "%s", name);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		obuf_printf(o, "%s%s=\"", first ? "{" : ",", k);
		label_value(o, v != NULL ? v : "");
		obuf_printf(o, "\"");
		first = false;
	}
	va_end(ap);
	obuf_printf(o, "%s %llu\n", first ? "" : "}", value);
}

#define C(o, name, help) metrics_family(o, name, METRICS_COUNTER, help)
#define G(o, name, help) metrics_family(o, name, METRICS_GAUGE, help)

static const char *const stream_states[] = {
#define STATE_NAME(name, what) #name,
	STREAM_STATES(STATE_NAME)
#undef STATE_NAME
};

enum {
	NSTATES = sizeof(stream_states) / sizeof(stream_states[0]),
};

/* Streams by state machine state, sessions by state. */
static void
gauges(struct obuf *o, const struct relay *r)
{
	unsigned long long st[NSTATES] = { 0 }, ss[3] = { 0 }, probes = 0;
	const struct stream *s;
	const struct session *se;
	char lower[16];

	for (s = r->streams; s != NULL; s = s->anext)
		if ((size_t)s->state < NSTATES)
			st[s->state]++;
	for (se = r->sessions; se != NULL; se = se->anext) {
		if ((size_t)se->state < 3)
			ss[se->state]++;
		for (const struct probe *p = se->probes; p != NULL;
		    p = p->next)
			probes++;
	}
	G(o, "iketcp_streams", "Open client streams by state (the layer "
	    "their next bytes belong to).");
	for (size_t i = 0; i < NSTATES; i++) {
		size_t k;

		for (k = 0; stream_states[i][k] != '\0' && k + 1 <
		    sizeof(lower); k++)
			lower[k] = (char)(stream_states[i][k] | 0x20);
		lower[k] = '\0';
		metrics_sample(o, "iketcp_streams", st[i], "state", lower,
		    NULL);
	}
	G(o, "iketcp_streams_probing", "Streams that named a session and "
	    "have not proven they hold its keys.");
	metrics_sample(o, "iketcp_streams_probing", probes, NULL);
	G(o, "iketcp_sessions", "Sessions by state.");
	metrics_sample(o, "iketcp_sessions", ss[SESSION_LIVE], "state",
	    "live", NULL);
	metrics_sample(o, "iketcp_sessions", ss[SESSION_LINGER], "state",
	    "lingering", NULL);
	metrics_sample(o, "iketcp_sessions", ss[SESSION_DEAD], "state",
	    "ending", NULL);
}

static void
budgets(struct obuf *o, const struct relay *r)
{
	G(o, "iketcp_descriptors", "Descriptors held by streams and "
	    "sessions.");
	metrics_sample(o, "iketcp_descriptors", r->fds_used, NULL);
	G(o, "iketcp_descriptors_limit", "Descriptor budget: the limit "
	    "less fd-reserve.");
	metrics_sample(o, "iketcp_descriptors_limit", r->fds_max, NULL);
	G(o, "iketcp_sessions_limit", "max-sessions.");
	metrics_sample(o, "iketcp_sessions_limit", r->conf->max_sessions,
	    NULL);
	G(o, "iketcp_write_buffer_bytes", "Bytes held for slow clients, all "
	    "streams.");
	metrics_sample(o, "iketcp_write_buffer_bytes", r->wbuf_total, NULL);
	G(o, "iketcp_write_buffer_limit_bytes", "write-buffer-total.");
	metrics_sample(o, "iketcp_write_buffer_limit_bytes",
	    r->conf->write_buffer_total, NULL);
}

static void
stream_counters(struct obuf *o, const struct relay *r)
{
	const struct relay_stats *s = &r->stats;

	C(o, "iketcp_streams_accepted_total", "Client streams accepted.");
	metrics_sample(o, "iketcp_streams_accepted_total", s->streams, NULL);
	C(o, "iketcp_sessions_started_total", "Sessions started.");
	metrics_sample(o, "iketcp_sessions_started_total", s->sessions,
	    NULL);
	C(o, "iketcp_sessions_reclaimed_total", "Lingering sessions ended "
	    "to make room at a budget.");
	metrics_sample(o, "iketcp_sessions_reclaimed_total", s->reclaimed,
	    NULL);
	C(o, "iketcp_reattaches_total", "Streams that named an existing "
	    "session, by kind and outcome.");
	metrics_sample(o, "iketcp_reattaches_total", s->reattach_esp, "kind",
	    "esp_same_address", "outcome", "attached", NULL);
	metrics_sample(o, "iketcp_reattaches_total", s->probe_ike, "kind",
	    "ike_spi", "outcome", "probing", NULL);
	metrics_sample(o, "iketcp_reattaches_total", s->probe_esp, "kind",
	    "esp_spi", "outcome", "probing", NULL);
	metrics_sample(o, "iketcp_reattaches_total", s->proven, "kind",
	    "probe", "outcome", "proven", NULL);
	metrics_sample(o, "iketcp_reattaches_total", s->probe_expired,
	    "kind", "probe", "outcome", "expired", NULL);
	metrics_sample(o, "iketcp_reattaches_total", s->probe_refused,
	    "kind", "probe", "outcome", "refused", NULL);
	C(o, "iketcp_refused_total", "Streams and sessions refused, by "
	    "reason.");
	metrics_sample(o, "iketcp_refused_total", s->refused_conn, "reason",
	    "max_connections", NULL);
	metrics_sample(o, "iketcp_refused_total", s->refused_source,
	    "reason", "max_per_source", NULL);
	metrics_sample(o, "iketcp_refused_total", s->layer_refused, "reason",
	    "layers", NULL);
	metrics_sample(o, "iketcp_refused_total", s->sess_refused, "reason",
	    "session_budget", NULL);
	C(o, "iketcp_dropped_total", "Messages dropped, by reason.");
	metrics_sample(o, "iketcp_dropped_total", s->keepalives, "reason",
	    "keepalive", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->esp_full, "reason",
	    "esp_write_buffer_full", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->ike_full, "reason",
	    "ike_write_buffer_full", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->wbuf_total_full,
	    "reason", "write_buffer_total", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->gw_nostream, "reason",
	    "gateway_no_stream", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->gw_bad, "reason",
	    "gateway_malformed", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->probe_drop, "reason",
	    "unproven_stream", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->ike_drop, "reason",
	    "integrated_ike", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->udp_keepalives,
	    "reason", "udp_keepalive", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->udp_invalid, "reason",
	    "udp_malformed", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->udp_nosession, "reason",
	    "udp_no_session", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->udp_out_drop, "reason",
	    "udp_esp_to_port_500", NULL);
	C(o, "iketcp_udp_datagrams_total", "Datagrams of the integrated "
	    "UDP front end, by direction.");
	metrics_sample(o, "iketcp_udp_datagrams_total", s->udp_in,
	    "direction", "in", NULL);
	metrics_sample(o, "iketcp_udp_datagrams_total", s->udp_out,
	    "direction", "out", NULL);
	C(o, "iketcp_udp_ike_fragmented_total", "IKE messages sent to UDP "
	    "clients as RFC 7383 fragments.");
	metrics_sample(o, "iketcp_udp_ike_fragmented_total",
	    s->udp_ike_frag_msgs, NULL);
	C(o, "iketcp_udp_ike_fragments_total", "RFC 7383 fragments sent to "
	    "UDP clients.");
	metrics_sample(o, "iketcp_udp_ike_fragments_total", s->udp_ike_frags,
	    NULL);
	C(o, "iketcp_udp_path_moves_total", "UDP sessions whose client "
	    "path moved after a proof.");
	metrics_sample(o, "iketcp_udp_path_moves_total", s->udp_moved, NULL);
	C(o, "iketcp_mobike_checks_total", "MOBIKE return routability "
	    "checks of a new UDP address (COOKIE2), by outcome.");
	metrics_sample(o, "iketcp_mobike_checks_total", s->mob_checks,
	    "outcome", "sent", NULL);
	metrics_sample(o, "iketcp_mobike_checks_total", s->mob_checks_ok,
	    "outcome", "answered", NULL);
	metrics_sample(o, "iketcp_mobike_checks_total", s->mob_checks_failed,
	    "outcome", "failed", NULL);
	metrics_sample(o, "iketcp_dropped_total", s->mob_withheld, "reason",
	    "mobike_unverified_address", NULL);
	C(o, "iketcp_udp_send_errors_total", "Datagrams the kernel refused "
	    "toward a gateway or a UDP client.");
	metrics_sample(o, "iketcp_udp_send_errors_total", s->udp_send_errors +
	    s->udp_out_errors, NULL);
	C(o, "iketcp_handoffs_total", "Streams handed between workers to "
	    "the one that owns their session or section, by outcome.");
	metrics_sample(o, "iketcp_handoffs_total", s->handoff_out -
	    s->handoff_spliced, "outcome", "out_socket", NULL);
	metrics_sample(o, "iketcp_handoffs_total", s->handoff_spliced,
	    "outcome", "out_spliced", NULL);
	metrics_sample(o, "iketcp_handoffs_total", s->handoff_in, "outcome",
	    "in", NULL);
	metrics_sample(o, "iketcp_handoffs_total", s->handoff_failed,
	    "outcome", "failed", NULL);
	C(o, "iketcp_handoff_keys_total", "Session keys not linked here: "
	    "another worker holds them, or the owner table was full.");
	metrics_sample(o, "iketcp_handoff_keys_total", s->handoff_foreign,
	    "reason", "other_worker", NULL);
	metrics_sample(o, "iketcp_handoff_keys_total", s->handoff_unrecorded,
	    "reason", "table_full", NULL);
	C(o, "iketcp_tls_handshakes_total", "TLS handshakes with clients, "
	    "by outcome and version.");
	metrics_sample(o, "iketcp_tls_handshakes_total", s->tls_ok[0],
	    "outcome", "ok", "version", "TLSv1.2", NULL);
	metrics_sample(o, "iketcp_tls_handshakes_total", s->tls_ok[1],
	    "outcome", "ok", "version", "TLSv1.3", NULL);
	metrics_sample(o, "iketcp_tls_handshakes_total", s->tls_ok[2],
	    "outcome", "ok", "version", "other", NULL);
	metrics_sample(o, "iketcp_tls_handshakes_total", s->tls_failed,
	    "outcome", "failed", "version", "none", NULL);
}

static void
section_counters(struct obuf *o, const struct relay *r)
{
	const struct relay_section *sec;

	C(o, "iketcp_messages_total", "IKE and ESP messages on client "
	    "streams, by section and direction.");
	for (sec = r->sections; sec != NULL; sec = sec->next) {
		metrics_sample(o, "iketcp_messages_total", sec->in_msgs,
		    "section", sec->name, "direction", "in", NULL);
		metrics_sample(o, "iketcp_messages_total", sec->out_msgs,
		    "section", sec->name, "direction", "out", NULL);
	}
	C(o, "iketcp_message_bytes_total", "Bytes of those messages (frame "
	    "headers not counted).");
	for (sec = r->sections; sec != NULL; sec = sec->next) {
		metrics_sample(o, "iketcp_message_bytes_total", sec->in_bytes,
		    "section", sec->name, "direction", "in", NULL);
		metrics_sample(o, "iketcp_message_bytes_total",
		    sec->out_bytes, "section", sec->name, "direction", "out",
		    NULL);
	}
}

/* eap = radius: the RADIUS answers by section and kind, and requests
 * waiting for one.  Nothing is written without such a section. */
static void
radius(struct obuf *o, const struct relay *r)
{
	struct integ_radius_info ri;

	if (integ_radius_info(r, 0, &ri) == -1)
		return;
	C(o, "iketcp_radius_answers_total", "Integrated server, eap = "
	    "radius: RADIUS outcomes by section (timeout: no valid answer "
	    "from any server).");
	for (size_t i = 0; integ_radius_info(r, i, &ri) == 0; i++) {
		metrics_sample(o, "iketcp_radius_answers_total", ri.accepts,
		    "section", ri.section, "outcome", "accept", NULL);
		metrics_sample(o, "iketcp_radius_answers_total", ri.rejects,
		    "section", ri.section, "outcome", "reject", NULL);
		metrics_sample(o, "iketcp_radius_answers_total",
		    ri.challenges, "section", ri.section, "outcome",
		    "challenge", NULL);
		metrics_sample(o, "iketcp_radius_answers_total", ri.timeouts,
		    "section", ri.section, "outcome", "timeout", NULL);
	}
	G(o, "iketcp_radius_in_flight", "Integrated server, eap = radius: "
	    "RADIUS requests waiting for an answer, by section.");
	for (size_t i = 0; integ_radius_info(r, i, &ri) == 0; i++)
		metrics_sample(o, "iketcp_radius_in_flight", ri.in_flight,
		    "section", ri.section, NULL);
}

static void
integrated(struct obuf *o, const struct relay *r)
{
	const struct relay_stats *s = &r->stats;
	const struct session *se;
	struct integ_info info;
	unsigned long long up = 0, half = 0, other = 0, children = 0;

	for (se = r->sessions; se != NULL; se = se->anext) {
		if (integ_describe(se, &info) == -1)
			continue;
		if (strcmp(info.state, "ESTABLISHED") == 0)
			up++;
		else if (strcmp(info.state, "INIT_DONE") == 0)
			half++;
		else if (strcmp(info.state, "none") != 0)
			other++;
		children += info.children;
	}
	G(o, "iketcp_ike_sas", "Integrated server: IKE SAs by state.");
	metrics_sample(o, "iketcp_ike_sas", up, "state", "established",
	    NULL);
	metrics_sample(o, "iketcp_ike_sas", half, "state", "half_open",
	    NULL);
	metrics_sample(o, "iketcp_ike_sas", other, "state", "other", NULL);
	G(o, "iketcp_child_sas", "Integrated server: Child SAs installed.");
	metrics_sample(o, "iketcp_child_sas", children, NULL);
	C(o, "iketcp_ike_sas_established_total", "Integrated server: IKE "
	    "SAs authenticated.");
	metrics_sample(o, "iketcp_ike_sas_established_total", s->ike_up,
	    NULL);
	C(o, "iketcp_child_sas_established_total", "Integrated server: "
	    "Child SAs installed, rekeys included.");
	metrics_sample(o, "iketcp_child_sas_established_total", s->child_up,
	    NULL);
	C(o, "iketcp_authentications_total", "Integrated server: IKE_AUTH "
	    "by the method the initiator used and outcome.");
	for (size_t a = IKE_SA_AUTH_PSK; a < IKE_SA_AUTH_N; a++) {
		metrics_sample(o, "iketcp_authentications_total",
		    s->auth_ok[a], "method", ike_sa_auth_name(a), "outcome",
		    "success", NULL);
		metrics_sample(o, "iketcp_authentications_total",
		    s->auth_failed[a], "method", ike_sa_auth_name(a),
		    "outcome", "failure", NULL);
	}
	C(o, "iketcp_esp_dropped_total", "Integrated server: ESP packets "
	    "dropped, by direction and reason.");
	metrics_sample(o, "iketcp_esp_dropped_total", s->esp_in_nosa,
	    "direction", "in", "reason", "no_sa", NULL);
	for (int i = 1; i < ESP_RESULT_COUNT && i < RELAY_ESP_REASONS; i++)
		metrics_sample(o, "iketcp_esp_dropped_total",
		    s->esp_in_res[i], "direction", "in", "reason",
		    esp_result_name((enum esp_result)i), NULL);
	metrics_sample(o, "iketcp_esp_dropped_total", s->esp_in_tun,
	    "direction", "in", "reason", "tun_write", NULL);
	metrics_sample(o, "iketcp_esp_dropped_total", s->esp_out_nosa,
	    "direction", "out", "reason", "no_sa", NULL);
	metrics_sample(o, "iketcp_esp_dropped_total", s->esp_out_encap,
	    "direction", "out", "reason", "encap", NULL);
	C(o, "iketcp_esp_after_delete_total", "Integrated server: ESP "
	    "taken on a rekeyed Child SA's inbound SA after its Delete.");
	metrics_sample(o, "iketcp_esp_after_delete_total", s->esp_in_retired,
	    NULL);
	radius(o, r);
}

static void
connectors(struct obuf *o, const struct relay *r)
{
	const struct connector *cn;

	G(o, "iketcp_connector_sessions", "Connector: sessions by "
	    "connector.");
	for (cn = r->connectors; cn != NULL; cn = cn->next)
		metrics_sample(o, "iketcp_connector_sessions", cn->nsessions,
		    "connector", cn->cc->name, NULL);
	C(o, "iketcp_connector_dropped_total", "Connector: datagrams from "
	    "initiators dropped or refused, by reason.");
	for (cn = r->connectors; cn != NULL; cn = cn->next) {
		metrics_sample(o, "iketcp_connector_dropped_total",
		    cn->stats.invalid, "connector", cn->cc->name, "reason",
		    "invalid", NULL);
		metrics_sample(o, "iketcp_connector_dropped_total",
		    cn->stats.no_session, "connector", cn->cc->name,
		    "reason", "no_session", NULL);
		metrics_sample(o, "iketcp_connector_dropped_total",
		    cn->stats.refused, "connector", cn->cc->name, "reason",
		    "max_sessions", NULL);
		metrics_sample(o, "iketcp_connector_dropped_total",
		    cn->stats.send_errors, "connector", cn->cc->name,
		    "reason", "send_error", NULL);
	}
}

void
metrics_write(struct obuf *o, const struct relay *r)
{
	gauges(o, r);
	budgets(o, r);
	stream_counters(o, r);
	section_counters(o, r);
	integrated(o, r);
	connectors(o, r);
	/* A worker's master holds the control socket and counts these. */
	if (r->nworkers > 1)
		return;
	C(o, "iketcp_control_refused_total", "Control clients refused: too "
	    "many at once.");
	metrics_sample(o, "iketcp_control_refused_total",
	    r->stats.ctl_refused, NULL);
	C(o, "iketcp_control_bad_requests_total", "Control requests that "
	    "did not parse.");
	metrics_sample(o, "iketcp_control_bad_requests_total",
	    r->stats.ctl_bad, NULL);
}
