/*
 * relay/srctab.c: sources as DESIGN.md "Bounds" defines them (IPv4 /32,
 * IPv6 /64, v4-mapped as IPv4, per section), entries freed when their last
 * reference goes, and a bucket array that follows the number of entries.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <criterion/criterion.h>

#include "relay/srctab.h"

TestSuite(srctab);

static struct sockaddr_storage
addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1, "%s",
		    ip);
	} else {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1, "%s",
		    ip);
	}
	return ss;
}

static struct srctab t;

static void
setup(void)
{
	cr_assert_eq(srctab_init(&t), 0);
}

static void
teardown(void)
{
	srctab_cleanup(&t);
}

Test(srctab, counts_one_ipv6_64_as_one_source, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct sockaddr_storage a = addr("2001:db8:1:2::1", 1000);
	struct sockaddr_storage b = addr("2001:db8:1:2:ffff:1:2:3", 2000);
	struct sockaddr_storage c = addr("2001:db8:1:3::1", 1000);
	struct src *sa, *sb, *sc;
	char text[SRCTAB_TEXT_MAX];

	sa = srctab_get(&t, &a, "r");
	sb = srctab_get(&t, &b, "r");
	sc = srctab_get(&t, &c, "r");
	cr_assert_not_null(sa);
	cr_assert_eq(sa, sb, "two hosts of one /64 are two sources");
	cr_assert_neq(sa, sc, "the next /64 is the same source");
	cr_assert_eq(sa->refs, 2);
	cr_assert_eq(srctab_size(&t), 2);
	cr_assert_str_eq(srctab_text(sa, text, sizeof(text)),
	    "2001:db8:1:2::/64");
	srctab_put(&t, sa);
	srctab_put(&t, sb);
	srctab_put(&t, sc);
	cr_assert_eq(srctab_size(&t), 0);
}

Test(srctab, counts_a_v4_mapped_address_as_its_ipv4_address, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct sockaddr_storage v4 = addr("192.0.2.7", 1);
	struct sockaddr_storage mapped = addr("::ffff:192.0.2.7", 2);
	struct sockaddr_storage other = addr("::ffff:192.0.2.8", 2);
	struct src *s4, *sm, *so;
	char text[SRCTAB_TEXT_MAX];

	s4 = srctab_get(&t, &v4, "r");
	sm = srctab_get(&t, &mapped, "r");
	so = srctab_get(&t, &other, "r");
	cr_assert_eq(s4, sm);
	cr_assert_neq(s4, so, "IPv4 is /32, not /64 of the mapped form");
	cr_assert_str_eq(srctab_text(sm, text, sizeof(text)), "192.0.2.7");
	srctab_put(&t, s4);
	srctab_put(&t, sm);
	srctab_put(&t, so);
}

Test(srctab, keeps_sections_apart, .init = setup, .fini = teardown,
    .timeout = 10)
{
	struct sockaddr_storage a = addr("198.51.100.1", 1);
	struct src *r1, *r2;

	r1 = srctab_get(&t, &a, "edge");
	r2 = srctab_get(&t, &a, "vpn");
	cr_assert_neq(r1, r2);
	r1->streams = 3;
	cr_assert_eq(r2->streams, 0);
	cr_assert_eq(srctab_find(&t, &a, "edge"), r1);
	cr_assert_null(srctab_find(&t, &a, "edg"));
	srctab_put(&t, r1);
	srctab_put(&t, r2);
}

Test(srctab, counts_a_section_total_without_an_address, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct sockaddr_storage a = addr("198.51.100.1", 1);
	struct src *any, *one;
	char text[SRCTAB_TEXT_MAX];

	any = srctab_get(&t, NULL, "edge");
	one = srctab_get(&t, &a, "edge");
	cr_assert_neq(any, one);
	cr_assert_str_eq(srctab_text(any, text, sizeof(text)), "any");
	srctab_put(&t, any);
	srctab_put(&t, one);
}

Test(srctab, frees_an_entry_when_its_last_reference_goes, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct sockaddr_storage a = addr("203.0.113.9", 1);
	struct src *s1, *s2;

	s1 = srctab_get(&t, &a, "r");
	s2 = srctab_get(&t, &a, "r");
	s1->sessions = 1;
	cr_assert_eq(srctab_size(&t), 1);
	srctab_put(&t, s1);
	cr_assert_eq(srctab_size(&t), 1, "one reference is left");
	cr_assert_eq(srctab_find(&t, &a, "r")->sessions, 1);
	srctab_put(&t, s2);
	cr_assert_eq(srctab_size(&t), 0);
	cr_assert_null(srctab_find(&t, &a, "r"));
	srctab_put(&t, NULL);
	/* A new entry starts from zero. */
	s1 = srctab_get(&t, &a, "r");
	cr_assert_eq(s1->sessions, 0);
	cr_assert_eq(s1->refs, 1);
	srctab_put(&t, s1);
}

Test(srctab, grows_its_buckets_with_its_entries, .init = setup,
    .fini = teardown, .timeout = 10)
{
	static struct src *held[5000];

	for (uint32_t i = 0; i < 5000; i++) {
		struct sockaddr_storage ss = addr("10.0.0.0", 1);

		((struct sockaddr_in *)(void *)&ss)->sin_addr.s_addr =
		    htonl(0x0a000000u + i);
		held[i] = srctab_get(&t, &ss, "r");
		cr_assert_not_null(held[i]);
		cr_assert_leq(srctab_size(&t), t.nbuckets,
		    "%zu entries in %zu buckets", srctab_size(&t), t.nbuckets);
	}
	cr_assert_eq(srctab_size(&t), 5000);
	cr_assert_geq(t.nbuckets, 4096);
	for (uint32_t i = 0; i < 5000; i++)
		srctab_put(&t, held[i]);
	cr_assert_eq(t.nbuckets, SRCTAB_MIN_BUCKETS,
	    "the array shrinks back: %zu buckets", t.nbuckets);
}

/* Issue 11 finding 5: 400 000 sources left 100 MB behind. */
Test(srctab, leaves_nothing_after_100000_sources_come_and_go, .init = setup,
    .fini = teardown, .timeout = 60)
{
	static struct src *held[100000];

	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_storage ss = addr("2001:db8::", 1);
		struct sockaddr_in6 *sin6 = (void *)&ss;
		uint32_t be = htonl(i);

		/* A new /64 each time, as one PROXY peer could name. */
		memcpy(&sin6->sin6_addr.s6_addr[4], &be, 4);
		held[i] = srctab_get(&t, &ss, "r");
		cr_assert_not_null(held[i]);
		held[i]->streams++;
	}
	cr_assert_eq(srctab_size(&t), 100000);
	for (uint32_t i = 0; i < 100000; i++) {
		held[i]->streams--;
		srctab_put(&t, held[i]);
	}
	cr_assert_eq(srctab_size(&t), 0);
	cr_assert_eq(t.nbuckets, SRCTAB_MIN_BUCKETS);
	for (size_t i = 0; i < t.nbuckets; i++)
		cr_assert_null(t.buckets[i]);
}
