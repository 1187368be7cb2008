/*
 * relay/stream.c's state machine (STYLE.md §6): stream_set_state() takes
 * the transitions of its table and aborts on any other.  The stream is a
 * bare struct: stream_set_state() reads only its state and what
 * log_stream() prints.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "relay/log.h"
#include "relay/relay.h"
#include "relay/stream.h"

TestSuite(stream);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct step {
	enum stream_state from, to;
};

static struct relay r;
static struct stream st;

static void
setup(void)
{
	log_init("stream_test", true, LOG_LEVEL_WARN);
	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	st.r = &r;
	st.id = 1;
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)&st.peer;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(4500);
		sin->sin_addr.s_addr = htonl(0xc0000209);	/* 192.0.2.9 */
	}
}

/* Every transition of the table in relay/stream.c. */
static const struct step legal[] = {
	{ STREAM_SNIFF, STREAM_SNIFF },
	{ STREAM_SNIFF, STREAM_PROXY },
	{ STREAM_SNIFF, STREAM_CONNECT },
	{ STREAM_SNIFF, STREAM_PREFIX },
	{ STREAM_SNIFF, STREAM_DRAIN },
	{ STREAM_PROXY, STREAM_SNIFF },
	{ STREAM_PROXY, STREAM_DRAIN },
	{ STREAM_CONNECT, STREAM_SNIFF },
	{ STREAM_CONNECT, STREAM_DRAIN },
	{ STREAM_PREFIX, STREAM_FIRST },
	{ STREAM_FIRST, STREAM_FRAMES },
	{ STREAM_FRAMES, STREAM_SPLICE },
};

static bool
is_legal(enum stream_state from, enum stream_state to)
{
	for (size_t i = 0; i < NELEM(legal); i++)
		if (legal[i].from == from && legal[i].to == to)
			return true;
	return false;
}

Test(stream, set_state_takes_every_legal_transition, .init = setup,
    .timeout = 10)
{
	for (size_t i = 0; i < NELEM(legal); i++) {
		st.state = legal[i].from;
		stream_set_state(&st, legal[i].to);
		cr_assert_eq(st.state, legal[i].to, "%s -> %s",
		    stream_state_name(legal[i].from),
		    stream_state_name(legal[i].to));
	}
}

Test(stream, set_state_walks_a_plain_stream_to_frames, .init = setup,
    .timeout = 10)
{
	cr_assert_eq(st.state, STREAM_SNIFF);
	stream_set_state(&st, STREAM_PREFIX);
	stream_set_state(&st, STREAM_FIRST);
	stream_set_state(&st, STREAM_FRAMES);
	cr_assert_eq(st.state, STREAM_FRAMES);
}

Test(stream, state_names_come_from_the_table, .timeout = 10)
{
	cr_assert_str_eq(stream_state_name(STREAM_SNIFF), "SNIFF");
	cr_assert_str_eq(stream_state_name(STREAM_DRAIN), "DRAIN");
	cr_assert_str_eq(stream_state_name(STREAM_FRAMES), "FRAMES");
	cr_assert_str_eq(stream_state_name((enum stream_state)99), "?");
}

/* Every pair not in legal[], each expected to abort. */
ParameterizedTestParameters(stream, set_state_aborts_on_an_illegal_transition)
{
	static struct step bad[(STREAM_SPLICE + 1) * (STREAM_SPLICE + 1)];
	size_t n = 0;

	for (int from = STREAM_SNIFF; from <= STREAM_SPLICE; from++)
		for (int to = STREAM_SNIFF; to <= STREAM_SPLICE; to++)
			if (!is_legal(from, to))
				bad[n++] = (struct step){ from, to };
	return cr_make_param_array(struct step, bad, n);
}

ParameterizedTest(struct step *t, stream,
    set_state_aborts_on_an_illegal_transition, .init = setup,
    .signal = SIGABRT, .timeout = 10)
{
	st.state = t->from;
	stream_set_state(&st, t->to);
	cr_log_error("%s -> %s was taken", stream_state_name(t->from),
	    stream_state_name(t->to));
}
