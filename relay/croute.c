/*
 * The connector's bypass rules over rtnetlink (relay/croute.h).  Why a
 * rule per destination and not a socket mark: a mark (SO_MARK) needs
 * CAP_NET_ADMIN on every socket the connector makes, and it makes them
 * after dropping privileges (each session's stream, each reconnect); a
 * destination rule needs the capability only to be installed and
 * removed, which root does at start and the keeper at exit.  It also
 * takes no value from the mark space that other software shares
 * (wg-quick, strongSwan's own fwmark option, firewalls).  Its price:
 * anything else on the host that talks to the server's, the proxy's or
 * the udp-gateway's address bypasses the tunnel too, as traffic to a
 * gateway's own address does under strongSwan (its exclude route).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay/croute.h"
#include "relay/log.h"

enum {
	CROUTE_RULES_MAX = 64,	/* rules kept for the keeper */
	CROUTE_STALE_MAX = 16,	/* copies of one stale rule deleted */
	CROUTE_MSG_MAX = 256,	/* one request, one answer */
};

struct rule {
	int		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 addr[16];
	unsigned	 prio;
	char		 text[INET6_ADDRSTRLEN];	/* the address */
	char		 name[CONF_NAME_MAX];	/* the connector */
};

static struct rule rules[CROUTE_RULES_MAX];
static size_t nrules;
static uint32_t seq;

static void
put_attr(uint8_t *buf, size_t *len, uint16_t type, const void *data,
    size_t dlen)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + dlen),
	    .nla_type = type };

	memcpy(buf + *len, &a, sizeof(a));
	memcpy(buf + *len + NLA_HDRLEN, data, dlen);
	*len += NLA_ALIGN(NLA_HDRLEN + dlen);
}

/* One RTM_NEWRULE or RTM_DELRULE for @r, and the kernel's answer: 0 or
 * an errno. */
static int
rule_request(int nl, const struct rule *r, uint16_t type, uint16_t flags)
{
	uint8_t buf[CROUTE_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr nh = { 0 };
	struct fib_rule_hdr frh = { 0 };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsgerr err;
	uint32_t u32;
	uint8_t proto = CROUTE_PROTO;
	size_t len = NLMSG_HDRLEN;

	memset(buf, 0, sizeof(buf));
	frh.family = (uint8_t)r->family;
	frh.dst_len = r->family == AF_INET ? 32 : 128;
	frh.table = RT_TABLE_MAIN;
	frh.action = FR_ACT_TO_TBL;
	memcpy(buf + len, &frh, sizeof(frh));
	len += NLMSG_ALIGN(sizeof(frh));
	put_attr(buf, &len, FRA_DST, r->addr, r->family == AF_INET ? 4 : 16);
	u32 = r->prio;
	put_attr(buf, &len, FRA_PRIORITY, &u32, sizeof(u32));
	u32 = RT_TABLE_MAIN;
	put_attr(buf, &len, FRA_TABLE, &u32, sizeof(u32));
	put_attr(buf, &len, FRA_PROTOCOL, &proto, sizeof(proto));
	nh.nlmsg_len = (uint32_t)len;
	nh.nlmsg_type = type;
	nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nh.nlmsg_seq = ++seq;
	memcpy(buf, &nh, sizeof(nh));
	if (sendto(nl, buf, len, 0, (const struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		return errno;
	/* The answer to this request: an NLMSG_ERROR (0 is the ACK). */
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno;
		if ((size_t)n < NLMSG_HDRLEN + sizeof(err))
			return EPROTO;
		memcpy(&nh, buf, sizeof(nh));
		if (nh.nlmsg_seq != seq)
			continue;
		if (nh.nlmsg_type != NLMSG_ERROR)
			return EPROTO;
		memcpy(&err, buf + NLMSG_HDRLEN, sizeof(err));
		return -err.error;
	}
}

static void
rule_text(const struct rule *r, char *out, size_t cap)
{
	snprintf(out, cap, "to %s/%d lookup main priority %u", r->text,
	    r->family == AF_INET ? 32 : 128, r->prio);
}

/* Deletes what a crashed run may have left (the same rule), then adds. */
static int
rule_install(int nl, const struct rule *r)
{
	char what[INET6_ADDRSTRLEN + 64];
	int e = 0;

	rule_text(r, what, sizeof(what));
	for (int i = 0; i < CROUTE_STALE_MAX; i++)
		if (rule_request(nl, r, RTM_DELRULE, 0) != 0)
			break;
		else if (i == 0)
			log_info("connector %s: removed a stale rule %s",
			    r->name, what);
	if ((e = rule_request(nl, r, RTM_NEWRULE,
	    NLM_F_CREATE | NLM_F_EXCL)) != 0) {
		log_warnx("connector %s: cannot add the routing rule %s: %s; "
		    "a full tunnel on this host would carry the connector's "
		    "own traffic (start as root or with CAP_NET_ADMIN, or "
		    "set bypass-rule = no)", r->name, what,
		    strerror(e));
		return -1;
	}
	log_info("connector %s: routing rule %s", r->name, what);
	return 0;
}

static void
add(const struct conf_connector *cc, const struct conf_addr *a)
{
	struct rule r = { .family = a->ss.ss_family, .prio =
	    cc->bypass_priority };

	if (a->len == 0)
		return;
	if (r.family == AF_INET)
		memcpy(r.addr, &((const struct sockaddr_in *)(const void *)
		    &a->ss)->sin_addr, 4);
	else if (r.family == AF_INET6)
		memcpy(r.addr, &((const struct sockaddr_in6 *)(const void *)
		    &a->ss)->sin6_addr, 16);
	else
		return;
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].family == r.family && rules[i].prio == r.prio &&
		    memcmp(rules[i].addr, r.addr, sizeof(r.addr)) == 0)
			return;
	if (nrules == CROUTE_RULES_MAX) {
		log_warnx("connector %s: more than %d bypass rules; no rule "
		    "to %s", cc->name, CROUTE_RULES_MAX, a->text);
		return;
	}
	/* The address as resolved, as ip rule shows it. */
	if (inet_ntop(r.family, r.addr, r.text, sizeof(r.text)) == NULL)
		return;
	snprintf(r.name, sizeof(r.name), "%s", cc->name);
	rules[nrules++] = r;
}

/* What the keeper may still do: CAP_NET_ADMIN, nothing else. */
static void
keeper_limit(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
	(void)syscall(SYS_capset, &h, d);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Closes every descriptor but @a and @b (and 0-2, for the log). */
static void
close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		(void)close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	(void)close_range((unsigned)hi + 1, ~0u, 0);
}

/* Deletes the rules marked in @ok. */
static void
remove_all(int nl, const unsigned char *ok)
{
	char what[INET6_ADDRSTRLEN + 64];

	for (size_t i = 0; i < nrules; i++) {
		if (!ok[i])
			continue;
		rule_text(&rules[i], what, sizeof(what));
		if (rule_request(nl, &rules[i], RTM_DELRULE, 0) == 0)
			log_info("connector %s: removed the routing rule %s",
			    rules[i].name, what);
	}
}

/*
 * The keeper: waits for the end of @rfd (the daemon has exited, however)
 * and deletes the installed rules.  Signals meant for the daemon (a
 * terminal's ^C, systemd's SIGTERM to the whole unit) do not stop it
 * before its work is done.
 */
static void __attribute__((noreturn))
keeper(int rfd, int nl, const unsigned char *ok, bool foreground,
    enum log_level level)
{
	ssize_t n;
	char b;
	int null;

	close_others(rfd, nl);
	/* As the daemon will (daemon(3)): syslog, and no terminal held. */
	if (!foreground && (null = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		(void)dup2(null, 2);
		if (null > 2)
			close(null);
		log_init("iketcpd", false, level);
	}
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	(void)prctl(PR_SET_NAME, "iketcpd-rules", 0, 0, 0);
	keeper_limit();
	while ((n = read(rfd, &b, 1)) != 0)
		if (n == -1 && errno != EINTR)
			break;
	remove_all(nl, ok);
	_exit(0);
}

int
croute_open(const struct conf *c, bool foreground)
{
	unsigned char ok[CROUTE_RULES_MAX] = { 0 };
	int nl, p[2], installed = 0;
	pid_t pid;

	for (size_t i = 0; i < c->nconnectors; i++) {
		const struct conf_connector *cc = &c->connectors[i];

		if (!cc->bypass_rule)
			continue;
		add(cc, &cc->server);
		add(cc, &cc->http_proxy);
		add(cc, &cc->udp_gateway);
	}
	if (nrules == 0)
		return 0;
	if ((nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1) {
		log_warn("connector %s: no routing rules (rtnetlink); a full "
		    "tunnel on this host would carry the connector's own "
		    "traffic", rules[0].name);
		return 0;
	}
	for (size_t i = 0; i < nrules; i++)
		if (rule_install(nl, &rules[i]) == 0) {
			ok[i] = 1;
			installed++;
		}
	if (installed == 0)
		goto out;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("bypass rules: pipe");
		goto fail;
	}
	if ((pid = fork()) == -1) {
		log_warn("bypass rules: fork");
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	if (pid == 0) {
		close(p[1]);
		keeper(p[0], nl, ok, foreground, c->log_level);
	}
	/* The write end stays open, unused, until this process ends. */
	close(p[0]);
	goto out;
fail:
	/* Without a keeper, nothing would remove them. */
	remove_all(nl, ok);
	installed = 0;
out:
	close(nl);
	return installed;
}
