/*
 * iketcpd: argv -> conf -> open listeners, connector sockets, TUN devices
 * -> drop privileges -> loop.  Follow the data flow from here (relay/README
 * maps it): listener.c accepts; stream.c (with layers.c, route.c) turns
 * bytes into classified messages; session.c binds each stream to a
 * session and its backend -- udp_backend.c (a gateway over UDP) or the
 * integrated backend (integ_*.c: IKE SA, ESP, TUN); connector.c and
 * cstream.c are the client-side role.
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "ike/dh.h"
#include "ike/proposal.h"
#include "relay/connector.h"
#include "relay/croute.h"
#include "relay/control.h"
#include "relay/integrated.h"
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/master.h"
#include "relay/notify.h"
#include "relay/relay.h"
#include "relay/reload.h"
#include "relay/route.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/udp_backend.h"
#include "relay/udpfront.h"
#include "relay/worker.h"

static const char *conf_path = "/etc/iketcpd.conf";

/* -h: on stdout, status 0; a bad option: on stderr, status 1. */
static _Noreturn void
usage(bool help)
{
	FILE *f = help ? stdout : stderr;

	fprintf(f, "usage: iketcpd [-dhtV] [-f file]\n");
	if (help)
		fprintf(f,
		    "  -d       stay in the foreground, log to stderr\n"
		    "  -f file  configuration file (default %s)\n"
		    "  -h       print this help and exit\n"
		    "  -t       check the configuration and exit: errors as "
		    "file:line: message,\n"
		    "           status 1 on an error, 0 otherwise\n"
		    "  -V       print the version and exit\n"
		    "See iketcpd(8) and iketcpd.conf(5).\n", conf_path);
	exit(help ? 0 : 1);
}

/* Says why a configuration without a [relay], [integrated] or
 * [connector] section does nothing; the daemon refuses it, -t warns. */
static void
idle_say(const char *what)
{
	fprintf(stderr, "%s: %s: no [relay], [integrated] or [connector] "
	    "section, nothing to serve\n", conf_path, what);
}

void
relay_stats_log(const struct relay *r)
{
	log_stats("stats: keepalives dropped %llu, esp dropped (full) %llu, "
	    "ike dropped (full) %llu, gateway datagrams without stream %llu, "
	    "bad gateway datagrams %llu, udp send errors %llu, "
	    "connections refused %llu, streams refused before the prefix "
	    "%llu", r->stats.keepalives,
	    r->stats.esp_full, r->stats.ike_full, r->stats.gw_nostream,
	    r->stats.gw_bad, r->stats.udp_send_errors, r->stats.refused,
	    r->stats.layer_refused);
	log_stats("stats: sessions %u (lingering ones reclaimed %llu, refused "
	    "%llu), re-attaches proven %llu, datagrams withheld from "
	    "unproven streams %llu, descriptors %u of %u, write buffers %zu "
	    "bytes (frames dropped at write-buffer-total %llu)",
	    r->nsessions, r->stats.reclaimed, r->stats.sess_refused,
	    r->stats.proven, r->stats.probe_drop, r->fds_used, r->fds_max,
	    r->wbuf_total, r->stats.wbuf_total_full);
	if (r->handoff != NULL)
		log_stats("stats: workers: streams handed over %llu (spliced "
		    "%llu), taken over %llu, handoffs failed %llu, keys held "
		    "by another worker %llu, keys not in the owner table %llu",
		    r->stats.handoff_out, r->stats.handoff_spliced,
		    r->stats.handoff_in, r->stats.handoff_failed,
		    r->stats.handoff_foreign, r->stats.handoff_unrecorded);
	if (r->integs != NULL) {
		char why[256];

		(void)integ_esp_in_reasons(&r->stats, why, sizeof(why));
		log_stats("stats: integrated: esp dropped inbound %llu%s%s%s, "
		    "esp taken on rekeyed Child SAs after their Delete %llu, "
		    "tun packets dropped %llu, ike dropped %llu",
		    r->stats.esp_in_drop, why[0] != '\0' ? " (" : "", why,
		    why[0] != '\0' ? ")" : "", r->stats.esp_in_retired,
		    r->stats.esp_out_drop, r->stats.ike_drop);
	}
	if (r->udp_socks != NULL)
		log_stats("stats: udp: datagrams in %llu, keepalives dropped "
		    "%llu, invalid dropped %llu, naming no session %llu, "
		    "sessions refused %llu, half-open expired %llu, paths "
		    "moved %llu, datagrams out %llu, esp toward port 500 "
		    "dropped %llu, send errors %llu, ike messages "
		    "fragmented %llu (%llu fragments); mobike: checks %llu, "
		    "answered %llu, failed %llu, held back from addresses "
		    "not verified %llu", r->stats.udp_in,
		    r->stats.udp_keepalives, r->stats.udp_invalid,
		    r->stats.udp_nosession, r->stats.udp_refused,
		    r->stats.udp_init_expired, r->stats.udp_moved,
		    r->stats.udp_out, r->stats.udp_out_drop,
		    r->stats.udp_out_errors, r->stats.udp_ike_frag_msgs,
		    r->stats.udp_ike_frags, r->stats.mob_checks,
		    r->stats.mob_checks_ok, r->stats.mob_checks_failed,
		    r->stats.mob_withheld);
	integ_stats_log(r);
}

static struct relay relay;
static bool foreground;

/* @list names only algorithms we have, combined as RFC 7296 allows. */
static int
proposals_check(const struct conf *c, const struct conf_relay *r,
    uint8_t proto, const char *list, unsigned line)
{
	struct ike_prop props[IKE_PROP_LIST_MAX];
	char err[IKE_PROP_LIST_ERR_MAX];

	if (ike_proposal_list_parse(proto, list, r->integ->allow_weak_dh ?
	    IKE_KEX_ALLOW_WEAK : 0, props, IKE_PROP_LIST_MAX, err,
	    sizeof(err)) != 0)
		return 0;
	if (line == 0)
		line = r->line;
	log_warnx("%s:%u: [integrated %s]: bad %s-proposals: %s",
	    conf_loc_file(c, line), CONF_LOC_LINE(line), r->name,
	    proto == IKE_PROTO_IKE ? "ike" : "esp", err);
	return -1;
}

/*
 * -t checks each [integrated] section's proposals and secrets file; -1 if
 * one is bad.
 */
static int
integrated_check(const struct conf *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *r = &c->relays[i];
		struct secrets *s;

		if (r->backend != CONF_BACKEND_INTEGRATED)
			continue;
		if (proposals_check(c, r, IKE_PROTO_IKE, r->integ->ike_proposals,
		    r->integ->ike_proposals_line) == -1 ||
		    proposals_check(c, r, IKE_PROTO_ESP, r->integ->esp_proposals,
		    r->integ->esp_proposals_line) == -1)
			rc = -1;
		if (r->integ->secrets[0] == '\0')
			continue;
		if ((s = secrets_load(r->integ->secrets)) == NULL)
			rc = -1;
		secrets_free(s);
	}
	return rc;
}

enum {
	SHUTDOWN_GRACE_MS = 1000,	/* waiting for Delete responses */
	SHUTDOWN_POLL_MS = 20
};

static ev_timer s_grace;
static ev_timer s_logflush;

/* A second after the rate limit first left a line out, and every second
 * while it does: the count, so that the end of a flood is reported even
 * when nothing else is logged.  Armed only then, so that an idle relay
 * does not wake (busy-poll would spin after every wake). */
static void
logflush_cb(EV_P_ ev_timer *w, int revents)
{
	log_peer_flush();
	if (!log_peer_pending())
		ev_timer_stop(EV_A_ w);
}
static ev_tstamp grace_until;

static void
quit(EV_P)
{
	relay.quit = true;
	ev_break(EV_A_ EVBREAK_ALL);
}

/* Until every Delete was answered, or the grace period is over. */
static void
grace_cb(EV_P_ ev_timer *w, int revents)
{
	if (integ_deleting(&relay) == 0 || ev_now(EV_A) >= grace_until)
		quit(EV_A);
}

/*
 * SIGTERM/SIGINT.  Integrated IKE SAs are deleted first (RFC 7296
 * §1.4.1), so clients learn at once instead of by a failed liveness
 * check; their responses are awaited for at most SHUTDOWN_GRACE_MS.  A
 * second signal exits at once.
 */
static void
sig_term_cb(EV_P_ ev_signal *w, int revents)
{
	int n;

	if (ev_is_active(&s_grace) || (n = integ_shutdown(&relay)) == 0) {
		log_info("signal %d: exiting", w->signum);
		quit(EV_A);
		return;
	}
	log_info("signal %d: exiting after the Delete of %d IKE SA%s",
	    w->signum, n, n == 1 ? "" : "s");
	grace_until = ev_now(EV_A) + SHUTDOWN_GRACE_MS / 1000.;
	ev_timer_init(&s_grace, grace_cb, SHUTDOWN_POLL_MS / 1000.,
	    SHUTDOWN_POLL_MS / 1000.);
	ev_timer_start(EV_A_ &s_grace);
}

/* SIGHUP and iketcpctl reload: a new conf for new streams; live streams
 * keep theirs.  -1 when the running configuration stays. */
static int
reload(struct relay *r)
{
	struct ev_loop *loop = r->loop;
	struct conf *c = reload_prepare(r, conf_path);

	if (c == NULL) {
		log_warnx("reload of %s failed; keeping the running "
		    "configuration", conf_path);
		return -1;
	}
	reload_commit(r, c);
	log_info("reloaded %s", conf_path);
	/* run() picks up a changed busy-poll on its next turn. */
	ev_break(EV_A_ EVBREAK_ALL);
	if (r->connectors != NULL || c->nconnectors > 0)
		log_warnx("[connector] sections are read at start only; "
		    "running connectors keep their configuration");
	return 0;
}

/* A worker takes reloads from its master (worker.c), never by itself. */
static void
sig_hup_cb(EV_P_ ev_signal *w, int revents)
{
	if (relay.nworkers > 1)
		log_warnx("SIGHUP to worker %u: send it to the master, pid "
		    "%d", relay.worker_id, (int)getppid());
	else
		(void)reload(&relay);
}

static void
sig_usr1_cb(EV_P_ ev_signal *w, int revents)
{
	relay_stats_log(&relay);
	connector_stats_log(&relay);
}

/* Counts the callbacks each loop iteration runs (busy-poll). */
static void
invoke_counting(EV_P)
{
	relay.busy_events += ev_pending_count(EV_A);
	ev_invoke_pending(EV_A);
	worker_load_publish(&relay);
	if (log_peer_pending() && !ev_is_active(&s_logflush))
		ev_timer_again(EV_A_ &s_logflush);
}

/*
 * The loop.  With busy-poll, after anything happened the loop keeps
 * polling without sleeping for that long, so the next packet is met by a
 * running relay instead of a wake-up (the latency of a sleeping thread
 * woken by another core); it costs a core's worth of CPU while traffic
 * flows, and nothing when idle.  haproxy's "busy-polling" is the same
 * trade.
 */
static void
run(struct ev_loop *loop)
{
	ev_set_invoke_pending_cb(loop, invoke_counting);
	while (!relay.quit) {
		ev_tstamp spin = relay.conf->busy_poll_ms / 1000., until;

		if (spin <= 0) {
			ev_run(loop, 0);
			continue;
		}
		ev_run(loop, EVRUN_ONCE);
		until = ev_time() + spin;
		while (!relay.quit && ev_time() < until) {
			unsigned long long before = relay.busy_events;

			ev_run(loop, EVRUN_NOWAIT);
			if (relay.busy_events != before)
				until = ev_time() + spin;
		}
	}
}

static void
drop_privileges(const struct conf *c)
{
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;

	if (c->user[0] == '\0') {
		if (geteuid() == 0)
			log_warnx("running as root: set user = in [global] "
			    "to drop privileges");
		return;
	}
	if ((pw = getpwnam(c->user)) == NULL)
		fatalx("unknown user %s", c->user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (c->group[0] != '\0') {
		if ((gr = getgrnam(c->group)) == NULL)
			fatalx("unknown group %s", c->group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("dropping privileges to %s", c->user);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	log_info("running as %s", c->user);
}

/* The buffers streams and datagrams are read into, one set a process. */
static void
buffers_alloc(struct relay *r)
{
	r->rbuf = malloc(RELAY_READ_BUF);
	r->ubuf = malloc((size_t)RELAY_UDP_BATCH * RELAY_UDP_SLOT);
	r->cbuf = malloc(RELAY_READ_BUF);
	r->tbuf = malloc(RELAY_TLS_BUF);
	if (r->rbuf == NULL || r->ubuf == NULL || r->cbuf == NULL ||
	    r->tbuf == NULL)
		fatal("buffers");
}

/* Everything @r holds, closed and freed (every process, at its end). */
static void
teardown(struct relay *r)
{
	control_close(r);
	connector_close_all(r);
	listener_close_all(r);
	udpfront_close_all(r);
	integ_close_all(r);
	session_layer_cleanup(r);
	stream_sections_free(r);
	route_res_free(r);
	worker_map_free(r);
	conf_unref(r->conf);
	r->conf = NULL;
	free(r->cbuf);
	free(r->tbuf);
	free(r->rbuf);
	free(r->ubuf);
	keyhash_cleanup();
}

/*
 * The loop of a single process or of a worker, until SIGTERM, SIGINT (or
 * the master's end); then the statistics, and everything closed.
 */
static void
serve(struct relay *r)
{
	struct ev_loop *loop = r->loop;
	ev_signal s_term, s_int, s_hup, s_usr1;

	ev_signal_init(&s_term, sig_term_cb, SIGTERM);
	ev_signal_init(&s_int, sig_term_cb, SIGINT);
	ev_signal_init(&s_hup, sig_hup_cb, SIGHUP);
	ev_signal_init(&s_usr1, sig_usr1_cb, SIGUSR1);
	ev_signal_start(loop, &s_term);
	ev_signal_start(loop, &s_int);
	ev_signal_start(loop, &s_hup);
	ev_signal_start(loop, &s_usr1);
	ev_init(&s_logflush, logflush_cb);
	s_logflush.repeat = 1.;
	if (r->nworkers > 1)
		worker_ready(r);
	else {
		log_info("iketcpd %s started", IKETCP_VERSION);
		(void)notify_ready();
	}
	run(loop);

	relay_stats_log(r);
	connector_stats_log(r);
	ev_signal_stop(loop, &s_term);
	ev_signal_stop(loop, &s_int);
	ev_signal_stop(loop, &s_hup);
	ev_signal_stop(loop, &s_usr1);
	ev_timer_stop(loop, &s_logflush);
	ev_timer_stop(loop, &s_grace);
	worker_stop(r);
	teardown(r);
}

/*
 * Worker @id, in the child the master forked (master.c): it keeps what
 * it serves, drops privileges, and runs the loop until told to end.
 */
static _Noreturn void
worker_body(struct relay *r, unsigned id, int fd)
{
	if (worker_start(r, id, fd, conf_path) == -1)
		exit(1);
	buffers_alloc(r);
	drop_privileges(r->conf);
	if (worker_dropped(r) == -1)
		exit(1);
	serve(r);
	ev_loop_destroy(r->loop);
	exit(0);
}

/* The master's own answer to "reload" never comes here (master.c). */
static int
no_reload(struct relay *r)
{
	return -1;
}

int
main(int argc, char *argv[])
{
	struct ev_loop *loop;
	bool test = false;
	struct conf *c;
	unsigned nworkers;
	int ch, rc;

	while ((ch = getopt(argc, argv, "df:htV")) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'h':
			usage(true);
		case 't':
			test = true;
			break;
		case 'V':
			printf("iketcpd %s\n", IKETCP_VERSION);
			return 0;
		default:
			usage(false);
		}
	}
	if (optind != argc)
		usage(false);
	log_init("iketcpd", true, LOG_LEVEL_INFO);
	/* -t prints "file:line: message", as compilers do, for editors. */
	if (test)
		log_set_timestamps(false);
	if ((c = conf_load(conf_path)) == NULL) {
		fprintf(stderr, "%s: configuration invalid\n", conf_path);
		return 1;
	}
	/* Certificates, keys and credentials are read now, as root.  A
	 * failed load keeps what ran before: here, nothing. */
	if (route_res_load(&relay, c) == -1) {
		fprintf(stderr, "%s: configuration invalid\n", conf_path);
		conf_unref(c);
		return 1;
	}
	if (integrated_check(c) == -1) {
		fprintf(stderr, "%s: configuration invalid\n", conf_path);
		route_res_free(&relay);
		conf_unref(c);
		return 1;
	}
	if (test && conf_is_idle(c))
		idle_say("warning");
	else if (conf_is_idle(c)) {
		idle_say("refusing to start");
		route_res_free(&relay);
		conf_unref(c);
		return 1;
	}
	if (test) {
		fprintf(stderr, "%s: configuration OK\n", conf_path);
		route_res_free(&relay);
		conf_unref(c);
		return 0;
	}
	log_set_level(c->log_level);
	log_set_rate(c->log_rate);
	log_set_format(c->log_format);
	log_set_facility(c->syslog_facility);
	signal(SIGPIPE, SIG_IGN);

	if (keyhash_init() == -1)
		fatalx("no keyed hash for the session tables");
	/*
	 * With workers, the master's loop is the default one (it waits for
	 * children); what the workers will run is set up on a loop of its
	 * own, which only they run.
	 */
	nworkers = conf_workers(c);
	loop = ev_default_loop(EVFLAG_AUTO);
	relay.nworkers = nworkers;
	relay.master = nworkers > 1;
	relay.loop = nworkers > 1 ? ev_loop_new(EVFLAG_AUTO) : loop;
	if (relay.loop == NULL)
		fatalx("cannot make the workers' event loop");
	relay.conf = c;
	if (nworkers == 1)
		buffers_alloc(&relay);
	if (session_layer_init(&relay) == -1)
		fatalx("cannot set up the session layer");
	relay_budget_update(&relay);
	relay.backends[CONF_BACKEND_RELAY] = &udp_backend;
	relay.backends[CONF_BACKEND_INTEGRATED] = &integ_backend;
	if (worker_map_init(&relay, c) == -1)
		fatalx("cannot number the sections for the workers");
	if (listener_open_all(&relay, c) == -1)
		fatalx("cannot open every listener");
	if (connector_open_all(&relay, c) == -1)
		fatalx("cannot open every connector socket");
	/* As root, before the drop: the keeper that removes them at exit
	 * keeps CAP_NET_ADMIN. */
	(void)croute_open(c, foreground);
	if (integ_open_all(&relay, c) == -1)
		fatalx("cannot set up every [integrated] section");
	if (udpfront_open_all(&relay, c) == -1)
		fatalx("cannot open every udp-listen socket");
	if (nworkers > 1) {
		if (control_open(&relay, loop, c, no_reload, master_ctl) == -1)
			fatalx("cannot open the control socket or "
			    "metrics-listen");
		if (!foreground) {
			if (daemon(0, 0) == -1)
				fatal("daemon");
			log_init("iketcpd", false, c->log_level);
			ev_loop_fork(loop);
		}
		rc = master_run(&relay, conf_path, worker_body);
		teardown(&relay);
		ev_loop_destroy(relay.loop);
		return rc;
	}
	if (control_open(&relay, loop, c, reload, NULL) == -1)
		fatalx("cannot open the control socket or metrics-listen");
	drop_privileges(c);
	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("iketcpd", false, c->log_level);
		ev_loop_fork(loop);
	}
	serve(&relay);
	return 0;
}
