/*
 * A minimal test-only IKEv2 initiator, built from ike/'s codec and crypto,
 * and the responder fixture it talks to (initiator_test.c).  Used by
 * responder_test.c and responder_reject_test.c.
 */
#ifndef IKETCP_TEST_IKE_INITIATOR_H
#define IKETCP_TEST_IKE_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/codec.h"
#include "ike/dh.h"
#include "ike/keys.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "ike/sk.h"

#define PSK		"loopback-test-psk"
#define INI_ID		"initiator.test"
#define RESP_ID		"responder.test"

/* The responder's configuration (pool 10.10.0.0/24, DNS 10.10.0.53). */
struct ini_fixture {
	struct ike_prop	 ike[2], esp[2];
	struct ike_sa_conf conf;
	uint32_t	 spi_next;
	struct ike_endpoint local, remote;
};
extern struct ini_fixture fx;

struct ini {
	struct ike_suite prop;		/* what we offer for the IKE SA */
	uint16_t	 dh[2];		/* groups offered */
	size_t		 ndh;
	uint16_t	 ke_group;	/* the KE we send */
	struct ike_suite suite;		/* what the responder chose */
	uint64_t	 spi_i, spi_r;
	struct ike_kex	*kex;
	uint8_t		 ni[32];
	uint8_t		 nr[IKE_NONCE_MAX];
	size_t		 nr_len;
	uint8_t		 req1[IKE_SA_MSG_MAX], resp1[IKE_SA_MSG_MAX];
	size_t		 req1_len, resp1_len;
	struct ike_keys	 keys;
	struct ike_sk	 sk_out, sk_in;
	const char	*psk;
	uint8_t		 id_type;	/* IDi */
	const uint8_t	*id;
	size_t		 id_len;
	bool		 no_cp;		/* no CFG_REQUEST */
	bool		 mobike;	/* MOBIKE_SUPPORTED in IKE_AUTH */
	bool		 not_orig;	/* the responder rekeyed the IKE SA */
	uint8_t		 esp_spi[4];	/* our inbound ESP SPI */
	struct ike_ts	 tsr;		/* TSr we ask for */
	uint8_t		 cookie[64];
	size_t		 cookie_len;
	uint8_t		 esp_encr;	/* ESP offer */
	uint16_t	 esp_bits;
	uint8_t		 esp_integ;
	bool		 want6;		/* ask for IPv6 too (CP, ::/0 TS) */
	bool		 no_ip4;	/* ask for no IPv4 (CP, TS) */
	bool		 no_frag;	/* no IKEV2_FRAGMENTATION_SUPPORTED */
};

/*
 * A CREATE_CHILD_SA for a Child SA (RFC 7296 §1.3.1, §1.3.3): what we
 * offer and send, then what both sides agree on.
 */
struct ini_child {
	uint8_t		 spi[4];	/* our inbound SPI for it */
	uint8_t		 encr;		/* ESP offer */
	uint16_t	 bits;
	uint8_t		 integ;
	uint16_t	 dh;		/* PFS group offered, 0: none */
	uint16_t	 ke_group;	/* KE sent, 0: none */
	uint32_t	 rekey_spi;	/* REKEY_SA naming it, 0: none */
	struct ike_ts	 tsi, tsr;	/* what we ask for */
	bool		 no_ts;		/* send no TSi/TSr */
	/* Set by ini_child_req / ini_child_resp. */
	struct ike_kex	*kex;
	uint8_t		 ni[32];
	uint8_t		 nr[IKE_NONCE_MAX];
	size_t		 nr_len;
	uint32_t	 spi_r;		/* the responder's inbound SPI */
	struct ike_child_keys keys;	/* KEYMAT as we derive it */
};

/* An IKE SA rekey (§1.3.2): the new SA's SPIi and group. */
struct ini_rekey {
	uint64_t	 spi_i;
	uint16_t	 dh;		/* group offered */
	uint16_t	 ke_group;	/* KE sent */
	struct ike_kex	*kex;
	uint8_t		 ni[32];
};

/* An IKE_AUTH request's plaintext, for tests that fragment it. */
struct ini_plain {
	uint8_t		 inner[2048];
	size_t		 len;
	uint8_t		 first;
};

void	ini_responder_setup(const char *ike, const char *esp);
void	ini_responder_teardown(void);
void	ini_ts_set(struct ike_ts *ts, uint32_t start, uint32_t end);
/* ::/0, all protocols and ports. */
void	ini_ts6_all(struct ike_ts *ts);
/* AES-GCM-256/PRF-SHA384/X25519, ESP AES-GCM-256, initiator.test. */
void	ini_gcm(struct ini *I);
/* Leaves @I safe to free again (a test's own free, then a .fini's). */
void	ini_free(struct ini *I);
/* IKE_SA_INIT request into I->req1; takes the response. */
void	ini_init_req(struct ini *I);
void	ini_init_resp(struct ini *I, const uint8_t *msg, size_t len);
const struct ike_notify *ini_find_n(const struct ike_msg *m, uint16_t type);
/* Adds a notify of @type with @data to @b's chain. */
void	ini_notify(struct ike_builder *b, uint16_t type, const void *data,
	    size_t len);
/* Protected requests and responses. */
size_t	ini_protect(struct ini *I, uint8_t exch, uint32_t msgid,
	    uint8_t first, const uint8_t *inner, size_t inner_len,
	    uint8_t *out, size_t cap);
size_t	ini_protect_flags(struct ini *I, uint8_t exch, uint8_t flags,
	    uint32_t msgid, uint8_t first, const uint8_t *inner,
	    size_t inner_len, uint8_t *out, size_t cap);
/* Answering the responder's own requests (exch_req.c). */
size_t	ini_respond(struct ini *I, uint8_t exch, uint32_t msgid,
	    uint8_t first, const uint8_t *inner, size_t inner_len,
	    uint8_t *out, size_t cap);
void	ini_open_req(struct ini *I, const uint8_t *msg, size_t len,
	    uint32_t msgid, struct ike_msg *m, uint8_t *plain);
void	ini_open_flags(struct ini *I, const uint8_t *msg, size_t len,
	    uint8_t flags, uint32_t msgid, struct ike_msg *m, uint8_t *plain);
size_t	ini_protect_frag(struct ini *I, uint32_t msgid, uint8_t first,
	    uint16_t num, uint16_t total, const uint8_t *part, size_t part_len,
	    uint8_t *out, size_t cap);
void	ini_open(struct ini *I, const uint8_t *msg, size_t len,
	    uint32_t msgid, struct ike_msg *m, uint8_t *plain);
/* IKE_AUTH (message ID 1); with @frag, only its plaintext. */
size_t	ini_auth_req_ex(struct ini *I, uint8_t *out, size_t cap,
	    struct ini_plain *frag);
size_t	ini_auth_req(struct ini *I, uint8_t *out, size_t cap);
/* Verifies the responder's AUTH in an IKE_AUTH response. */
void	ini_check_auth(struct ini *I, const struct ike_msg *m);
/* IKE_SA_INIT through to INIT_DONE. */
void	ini_run_init(struct ike_sa *sa, struct ini *I);
struct ike_sa *ini_new_sa(unsigned flags);
/* An INFORMATIONAL request with @inner; the responder's verdict. */
enum ike_sa_result ini_info(struct ike_sa *sa, struct ini *I,
	    uint32_t msgid, uint8_t first, const uint8_t *inner,
	    size_t inner_len, struct ike_out *out);

/* An established SA (IKE_SA_INIT + IKE_AUTH, first Child SA up). */
struct ike_sa *ini_establish(struct ini *I);
/* A Child SA offer like the first one's (ESP as in @I, TS all/ours). */
void	ini_child_gcm(const struct ini *I, struct ini_child *C,
	    const char *spi);
size_t	ini_child_req(struct ini *I, struct ini_child *C, uint32_t msgid,
	    uint8_t *out, size_t cap);
/*
 * Opens a CREATE_CHILD_SA response into @m (@plain for its inner chain);
 * when it carries an SA, checks SA/Nr/[KEr]/TS and derives C->keys.
 */
void	ini_child_resp(struct ini *I, struct ini_child *C, const uint8_t *msg,
	    size_t len, uint32_t msgid, struct ike_msg *m, uint8_t *plain);
void	ini_child_free(struct ini_child *C);
size_t	ini_rekey_req(struct ini *I, struct ini_rekey *R, uint32_t msgid,
	    uint8_t *out, size_t cap);
/*
 * Takes an IKE SA rekey response: @I moves to the new SA (new SPIs,
 * SK_* from SK_d of the old one); the old SA's state goes to @old.
 */
void	ini_rekey_resp(struct ini *I, struct ini_rekey *R, const uint8_t *msg,
	    size_t len, uint32_t msgid, struct ini *old);
/* A Delete of one protocol (IKE: no SPI; ESP: @spi) as an inner chain. */
size_t	ini_delete_inner(uint8_t proto, const uint8_t *spi, uint8_t *out,
	    size_t cap, uint8_t *first);

#endif /* IKETCP_TEST_IKE_INITIATOR_H */
