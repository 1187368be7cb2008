/*
 * libFuzzer target for tls/connect.c.  The first byte picks the side
 * (server or client), the second the header bound, the third where the
 * input is split between two feeds; the rest is the stream.  The server's
 * Proxy-Authorization, if any, is checked against fixed credentials.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/log.h"
#include "tls/connect.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct connect_creds *creds;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "user:pass\nalice:s3cr:et\n";

	log_set_level(LOG_LEVEL_ERR);
	creds = connect_creds_parse((const unsigned char *)text,
	    sizeof(text) - 1, "fuzz-creds");
	if (creds == NULL)
		abort();
	return 0;
}

static void
check(enum connect_result r, size_t used, size_t n, int status,
    const char *error)
{
	if (used > n)
		__builtin_trap();
	if (r == CONNECT_ERROR && (used != 0 || error == NULL))
		__builtin_trap();
	(void)status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct connect_srv srv;
	struct connect_cli cli;
	size_t max, split, used1 = 0, used2 = 0;
	enum connect_result r;
	bool server;

	if (size < 3)
		return 0;
	server = (data[0] & 1) == 0;
	max = 16 + (size_t)data[1] * 8;
	split = data[2];
	data += 3;
	size -= 3;
	if (split > size)
		split = size;

	if (server) {
		connect_srv_init(&srv, max);
		r = connect_srv_feed(&srv, data, split, &used1);
		check(r, used1, split, srv.status, srv.error);
		if (r == CONNECT_NEED_MORE) {
			r = connect_srv_feed(&srv, data + split, size - split,
			    &used2);
			check(r, used2, size - split, srv.status, srv.error);
		}
		if (srv.seen > max || (r == CONNECT_ERROR && srv.status == 0))
			__builtin_trap();
		if (r == CONNECT_OK) {
			if (srv.authority_len == 0 ||
			    strlen(srv.authority) != srv.authority_len ||
			    srv.port == 0)
				__builtin_trap();
			if (srv.has_proxy_auth)
				(void)connect_auth_check(srv.proxy_auth,
				    creds);
		}
	} else {
		connect_cli_init(&cli, max);
		r = connect_cli_feed(&cli, data, split, &used1);
		check(r, used1, split, cli.status, cli.error);
		if (r == CONNECT_NEED_MORE) {
			r = connect_cli_feed(&cli, data + split, size - split,
			    &used2);
			check(r, used2, size - split, cli.status, cli.error);
		}
		if (cli.seen > max ||
		    (r == CONNECT_OK && (cli.status < 200 || cli.status > 299)))
			__builtin_trap();
	}
	return 0;
}
