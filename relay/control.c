/*
 * relay/control.c: the control socket and the HTTP metrics listener
 * (control.h).  A client sends one request line (relay/ctlreq.h), or one
 * HTTP GET /metrics; the whole answer is built at once into a bounded
 * buffer (relay/obuf.h) and written as the socket takes it; then the
 * connection closes.  Bounds: CTL_CLIENTS_MAX clients, CTL_REQ_MAX octets
 * of request (CTL_HTTP_HEAD_MAX for HTTP), CTL_ANSWER_MAX octets of
 * answer, CTL_IDLE_S seconds without progress either way.
 *
 * Answer on the control socket: a status line, "OK" or "ERR <why>",
 * then the body.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/conf.h"
#include "relay/control.h"
#include "relay/ctlreq.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/obuf.h"
#include "relay/relay.h"
#include "relay/report.h"
#include "relay/session.h"

struct ctl_client {
	struct ctl_client *next, **prev;
	struct control	*ctl;
	int		 fd;
	bool		 http;		/* came on metrics-listen */
	bool		 http_head;	/* HEAD: no body */
	ev_io		 rio, wio;
	ev_timer	 idle;		/* CTL_IDLE_S without progress */
	uint8_t		 in[CTL_HTTP_HEAD_MAX];
	size_t		 in_len;
	unsigned long long ticket;	/* waiting for control_answer() */
	struct obuf	 out;
	size_t		 out_off;	/* octets written */
};

struct ctl_listener {
	struct control	*ctl;
	int		 fd;
	bool		 http;
	ev_io		 io;
	ev_timer	 pause;		/* after an accept error */
};

struct control {
	struct relay	*r;
	struct ev_loop	*loop;
	control_reload_fn *reload;
	control_async_fn *async;		/* NULL: answered here */
	unsigned long long next_ticket;
	struct ctl_listener unix_l, http_l;
	char		 path[CONF_SOCK_PATH_MAX];	/* "" none */
	struct ctl_client *clients;
	unsigned	 nclients;
};

static void
client_close(struct ctl_client *cl)
{
	struct control *ctl = cl->ctl;
	struct ev_loop *loop = ctl->loop;

	ev_io_stop(loop, &cl->rio);
	ev_io_stop(loop, &cl->wio);
	ev_timer_stop(loop, &cl->idle);
	close(cl->fd);
	if ((*cl->prev = cl->next) != NULL)
		cl->next->prev = cl->prev;
	ctl->nclients--;
	obuf_cleanup(&cl->out);
	free(cl);
}

/* The answer is built: write it as the socket takes it. */
static void
client_answer(struct ctl_client *cl)
{
	struct ev_loop *loop = cl->ctl->loop;

	ev_io_stop(loop, &cl->rio);
	ev_io_start(loop, &cl->wio);
}

static void
ctl_terminate(struct relay *r, const struct ctl_req *req, struct obuf *o)
{
	struct session *s = session_find(r, req->id);
	const char *how;

	if (s == NULL) {
		obuf_printf(o, "ERR no session %llu\n", req->id);
		return;
	}
	if (integ_terminate(s) == 0)
		how = "delete";
	else {
		session_end(s, 0.);
		how = "closed";
	}
	log_info("control: session %llu terminated (%s)", req->id, how);
	if (req->json)
		obuf_printf(o, "OK\n{\"session\":%llu,\"terminated\":\"%s\"}\n",
		    req->id, how);
	else if (strcmp(how, "delete") == 0)
		obuf_printf(o, "OK\nsession %llu: Delete of its IKE SA sent "
		    "to the client\n", req->id);
	else
		obuf_printf(o, "OK\nsession %llu: ended, its streams and "
		    "gateway socket closed\n", req->id);
}

static void
ctl_run(struct control *ctl, const struct ctl_req *req, struct obuf *o)
{
	struct relay *r = ctl->r;
	int rc;

	switch (req->cmd) {
	case CTL_RELOAD:
		rc = ctl->reload != NULL ? ctl->reload(r) : -1;
		if (rc == -1)
			obuf_printf(o, "ERR reload failed; the running "
			    "configuration stays (see the log)\n");
		else if (req->json)
			obuf_printf(o, "OK\n{\"reloaded\":true}\n");
		else
			obuf_printf(o, "OK\nreloaded\n");
		break;
	default:
		control_run_local(r, req, o);
		break;
	}
	if (o->over) {
		obuf_reset(o);
		obuf_printf(o, "ERR answer larger than %d octets\n",
		    CTL_ANSWER_MAX);
	}
}

void
control_run_local(struct relay *r, const struct ctl_req *req, struct obuf *o)
{
	switch (req->cmd) {
	case CTL_LIST:
		obuf_printf(o, "OK\n");
		report_list(o, r, req->json);
		break;
	case CTL_STATS:
		obuf_printf(o, "OK\n");
		report_stats(o, r, req->json);
		break;
	case CTL_METRICS:
		obuf_printf(o, "OK\n");
		metrics_write(o, r);
		break;
	case CTL_TERMINATE:
		ctl_terminate(r, req, o);
		break;
	case CTL_RELOAD:
		obuf_printf(o, "ERR reload is the master's\n");
		break;
	}
}

/* The request waits for control_answer(): nothing read or timed
 * meanwhile (the master bounds the wait). */
static void
ctl_defer(struct ctl_client *cl, const struct ctl_req *req)
{
	struct control *ctl = cl->ctl;

	cl->ticket = ++ctl->next_ticket;
	ev_io_stop(ctl->loop, &cl->rio);
	ev_timer_stop(ctl->loop, &cl->idle);
	ctl->async(ctl->r, req, cl->http, cl->ticket);
}

static void http_reply(struct ctl_client *cl, const char *status,
    const char *body);

/* A control request in cl->in; false: wait for more, or for the
 * answer (ctl_defer). */
static bool
ctl_request(struct ctl_client *cl)
{
	struct ctl_req req;
	const char *err = NULL;

	switch (ctlreq_parse(cl->in, cl->in_len, &req, &err)) {
	case CTL_NEED_MORE:
		return false;
	case CTL_ERROR:
		cl->ctl->r->stats.ctl_bad++;
		obuf_printf(&cl->out, "ERR %s\n", err);
		return true;
	case CTL_OK:
		break;
	}
	if (cl->ctl->async != NULL) {
		ctl_defer(cl, &req);
		return false;
	}
	ctl_run(cl->ctl, &req, &cl->out);
	return true;
}

/* The metrics text @body (NULL: none) as an HTTP answer. */
static void
http_metrics(struct ctl_client *cl, const char *body, size_t len)
{
	if (body == NULL)
		http_reply(cl, "500 Internal Server Error", "answer too "
		    "large\n");
	else {
		obuf_printf(&cl->out, "HTTP/1.0 200 OK\r\nContent-Type: "
		    "text/plain; version=0.0.4; charset=utf-8\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    len);
		if (!cl->http_head)
			obuf_append(&cl->out, body, len);
	}
}

static void
http_reply(struct ctl_client *cl, const char *status, const char *body)
{
	obuf_printf(&cl->out, "HTTP/1.0 %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", status, strlen(body), body);
}

/*
 * An HTTP request head in cl->in; false: wait for more.  Only GET (or
 * HEAD) of /metrics is served; nothing is forwarded anywhere.
 */
static bool
http_request(struct ctl_client *cl)
{
	const char *line = (const char *)cl->in, *end;
	struct obuf body;
	bool head;

	if (memmem(cl->in, cl->in_len, "\r\n\r\n", 4) == NULL &&
	    memmem(cl->in, cl->in_len, "\n\n", 2) == NULL) {
		if (cl->in_len < sizeof(cl->in))
			return false;
		cl->ctl->r->stats.ctl_bad++;
		http_reply(cl, "431 Request Header Fields Too Large",
		    "request head too large\n");
		return true;
	}
	end = memchr(line, '\n', cl->in_len);
	head = strncmp(line, "HEAD ", 5) == 0;
	if (!head && strncmp(line, "GET ", 4) != 0) {
		cl->ctl->r->stats.ctl_bad++;
		http_reply(cl, "405 Method Not Allowed", "only GET\n");
		return true;
	}
	line += head ? 5 : 4;
	if (end - line < 9 || (strncmp(line, "/metrics ", 9) != 0 &&
	    strncmp(line, "/metrics?", 9) != 0)) {
		http_reply(cl, "404 Not Found", "only /metrics\n");
		return true;
	}
	cl->http_head = head;
	if (cl->ctl->async != NULL) {
		struct ctl_req req = { .cmd = CTL_METRICS };

		ctl_defer(cl, &req);
		return false;
	}
	obuf_init(&body, CTL_ANSWER_MAX - 256);
	metrics_write(&body, cl->ctl->r);
	http_metrics(cl, body.over ? NULL : body.p != NULL ? body.p : "",
	    body.len);
	obuf_cleanup(&body);
	return true;
}

/* Request bytes from a client; the answer once the request is whole. */
static void
ctl_client_read_cb(EV_P_ ev_io *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, rio);
	size_t cap = cl->http ? sizeof(cl->in) : CTL_REQ_MAX;
	ssize_t n;
	bool done;

	n = read(cl->fd, cl->in + cl->in_len, cap - cl->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->in_len += (size_t)n;
	ev_timer_again(EV_A_ &cl->idle);
	done = cl->http ? http_request(cl) : ctl_request(cl);
	if (done)
		client_answer(cl);
}

/* The answer, as far as the socket takes it; closes when all is out. */
static void
ctl_client_write_cb(EV_P_ ev_io *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, wio);
	ssize_t n;

	if (cl->out_off < cl->out.len) {
		n = send(cl->fd, cl->out.p + cl->out_off,
		    cl->out.len - cl->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n < 0) {
			client_close(cl);
			return;
		}
		cl->out_off += (size_t)n;
		ev_timer_again(EV_A_ &cl->idle);
	}
	if (cl->out_off == cl->out.len)
		client_close(cl);
}

static void
ctl_client_idle_cb(EV_P_ ev_timer *w, int revents)
{
	struct ctl_client *cl = container_of(w, struct ctl_client, idle);

	log_debug("%s: control client made no progress for %d s", __func__,
	    CTL_IDLE_S);
	client_close(cl);
}

static void
ctl_pause_cb(EV_P_ ev_timer *w, int revents)
{
	struct ctl_listener *l = container_of(w, struct ctl_listener, pause);

	ev_io_start(EV_A_ &l->io);
}

/* A new control or metrics client. */
static void
ctl_accept_cb(EV_P_ ev_io *w, int revents)
{
	struct ctl_listener *l = container_of(w, struct ctl_listener, io);
	struct control *ctl = l->ctl;
	struct ctl_client *cl;
	int fd;

	if ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR || errno == ECONNABORTED)
			return;
		/* Out of descriptors: try again in a second. */
		log_warn("control: accept");
		ev_io_stop(EV_A_ &l->io);
		ev_timer_set(&l->pause, 1., 0.);
		ev_timer_start(EV_A_ &l->pause);
		return;
	}
	if (ctl->nclients >= CTL_CLIENTS_MAX ||
	    (cl = calloc(1, sizeof(*cl))) == NULL) {
		static const char busy[] = "ERR too many control clients\n";

		ctl->r->stats.ctl_refused++;
		if (!l->http)
			(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
		close(fd);
		return;
	}
	cl->ctl = ctl;
	cl->fd = fd;
	cl->http = l->http;
	obuf_init(&cl->out, CTL_ANSWER_MAX);
	ev_io_init(&cl->rio, ctl_client_read_cb, fd, EV_READ);
	ev_io_init(&cl->wio, ctl_client_write_cb, fd, EV_WRITE);
	ev_init(&cl->idle, ctl_client_idle_cb);
	cl->idle.repeat = CTL_IDLE_S;
	if ((cl->next = ctl->clients) != NULL)
		cl->next->prev = &cl->next;
	cl->prev = &ctl->clients;
	ctl->clients = cl;
	ctl->nclients++;
	ev_io_start(EV_A_ &cl->rio);
	ev_timer_again(EV_A_ &cl->idle);
}

static void
listener_start(struct control *ctl, struct ctl_listener *l, int fd,
    bool http)
{
	l->ctl = ctl;
	l->fd = fd;
	l->http = http;
	ev_io_init(&l->io, ctl_accept_cb, fd, EV_READ);
	ev_timer_init(&l->pause, ctl_pause_cb, 1., 0.);
	ev_io_start(ctl->loop, &l->io);
}

/*
 * An existing @path: a socket nobody answers on is a leftover and goes;
 * a live one or anything else is refused.
 */
static int
stale_remove(const char *path, const struct sockaddr_un *sun)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("control-socket %s", path);
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		log_warnx("control-socket %s exists and is not a socket; "
		    "refusing to replace it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control-socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		log_warnx("control-socket %s: another daemon answers on it",
		    path);
		return -1;
	}
	if (unlink(path) == -1) {
		log_warn("control-socket %s: removing the old one", path);
		return -1;
	}
	return 0;
}

/* The service user's ids, or -1 to keep ours. */
static void
owner_of(const struct conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (c->user[0] != '\0' && (pw = getpwnam(c->user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (c->group[0] != '\0' && (gr = getgrnam(c->group)) != NULL)
		*gid = gr->gr_gid;
}

static int
unix_open(struct control *ctl, const struct conf *c)
{
	struct sockaddr_un sun;
	const char *path = c->control_socket;
	uid_t uid;
	gid_t gid;
	mode_t mask;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Only a socket the file names is a reason not to start. */
	if (stale_remove(path, &sun) == -1)
		return c->control_socket_set ? -1 : 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control-socket");
		return -1;
	}
	/* Born with the final mode: no moment of wider access. */
	mask = umask(0777 & ~CTL_MODE);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(mask);
		if (!c->control_socket_set && errno == ENOENT)
			log_info("no control socket: %s: %s", path,
			    strerror(errno));
		else
			log_warn("control-socket %s", path);
		close(fd);
		return c->control_socket_set ? -1 : 0;
	}
	umask(mask);
	owner_of(c, &uid, &gid);
	if (chmod(path, CTL_MODE) == -1 || ((uid != (uid_t)-1 ||
	    gid != (gid_t)-1) && chown(path, uid, gid) == -1) ||
	    listen(fd, CTL_CLIENTS_MAX) == -1) {
		log_warn("control-socket %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	listener_start(ctl, &ctl->unix_l, fd, false);
	log_info("control socket %s", path);
	return 0;
}

static int
http_open(struct control *ctl, const struct conf *c)
{
	const struct conf_addr *a = &c->metrics_listen;
	int fd, one = 1;

	if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, CTL_CLIENTS_MAX) == -1) {
		log_warn("metrics-listen %s", a->text);
		if (fd != -1)
			close(fd);
		return -1;
	}
	listener_start(ctl, &ctl->http_l, fd, true);
	log_info("metrics on http://%s/metrics", a->text);
	return 0;
}

void
control_answer(struct relay *r, unsigned long long ticket, const char *body,
    size_t len)
{
	struct control *ctl = r->control;
	struct ctl_client *cl;

	if (ctl == NULL || ticket == 0)
		return;
	for (cl = ctl->clients; cl != NULL && cl->ticket != ticket;
	    cl = cl->next)
		;
	if (cl == NULL)
		return;
	cl->ticket = 0;
	if (cl->http)
		http_metrics(cl, body, len);
	else if (body != NULL)
		obuf_append(&cl->out, body, len);
	if (cl->out.over) {
		obuf_reset(&cl->out);
		obuf_printf(&cl->out, "ERR answer larger than %d octets\n",
		    CTL_ANSWER_MAX);
	}
	ev_timer_again(ctl->loop, &cl->idle);
	client_answer(cl);
}

int
control_open(struct relay *r, struct ev_loop *loop, const struct conf *c,
    control_reload_fn *reload, control_async_fn *async)
{
	struct control *ctl;

	if (c->control_socket[0] == '\0' && c->metrics_listen.len == 0)
		return 0;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		log_warn("control");
		return -1;
	}
	ctl->r = r;
	ctl->loop = loop;
	ctl->reload = reload;
	ctl->async = async;
	ctl->unix_l.fd = ctl->http_l.fd = -1;
	r->control = ctl;
	if ((c->control_socket[0] != '\0' && unix_open(ctl, c) == -1) ||
	    (c->metrics_listen.len != 0 && http_open(ctl, c) == -1)) {
		control_close(r);
		return -1;
	}
	return 0;
}

static void
listener_close(struct control *ctl, struct ctl_listener *l)
{
	if (l->fd == -1)
		return;
	ev_io_stop(ctl->loop, &l->io);
	ev_timer_stop(ctl->loop, &l->pause);
	close(l->fd);
	l->fd = -1;
}

void
control_close(struct relay *r)
{
	struct control *ctl = r->control;

	if (ctl == NULL)
		return;
	while (ctl->clients != NULL)
		client_close(ctl->clients);
	listener_close(ctl, &ctl->unix_l);
	listener_close(ctl, &ctl->http_l);
	/* Unprivileged by now: removing needs write access to the
	 * directory, which systemd's RuntimeDirectory gives the user. */
	if (ctl->path[0] != '\0' && unlink(ctl->path) == -1 &&
	    errno != ENOENT)
		log_debug("%s: unlink %s: %s", __func__, ctl->path,
		    strerror(errno));
	free(ctl);
	r->control = NULL;
}

void
control_forget(struct relay *r)
{
	struct control *ctl = r->control;
	struct ctl_client *cl;

	if (ctl == NULL)
		return;
	while ((cl = ctl->clients) != NULL) {
		ctl->clients = cl->next;
		close(cl->fd);
		obuf_cleanup(&cl->out);
		free(cl);
	}
	if (ctl->unix_l.fd != -1)
		close(ctl->unix_l.fd);
	if (ctl->http_l.fd != -1)
		close(ctl->http_l.fd);
	free(ctl);
	r->control = NULL;
}
