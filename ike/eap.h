/*
 * The EAP authenticator of the integrated responder (RFC 3748, used by
 * IKEv2 as RFC 7296 §2.16 describes).  The IKE SA carries EAP packets;
 * a backend decides what they mean:
 *
 *   conv = backend->start(arg, owner);      one conversation per IKE SA
 *   backend->input(conv, NULL, 0, &out);    the first request
 *   backend->input(conv, pkt, len, &out);   each of the peer's responses
 *   backend->free(conv);                    wipes and frees
 *
 * input() returns what to send next: IKE_EAP_CONTINUE (out.pkt is the
 * next EAP-Request), IKE_EAP_ACCEPT (out.pkt is EAP-Success and out.msk
 * the Master Session Key, 0 octets when the method makes none), or
 * IKE_EAP_REJECT (out.pkt is EAP-Failure, out.reason says why for the
 * log).  IKE_EAP_PENDING is for a backend that asks elsewhere (a RADIUS
 * server, RFC 3579): out is unused, and the answer comes later, outside
 * input(): the backend fills its own struct ike_eap_out and its owner
 * (the @owner given to start(), which the IKE SA's caller set with
 * ike_sa_set_eap_owner()) hands it to ike_sa_eap_resume().  free() of a
 * pending conversation cancels it: no answer comes after.  The first
 * input() (the first request) must not be PENDING.
 *
 * The local backend (ike_eap_local) runs EAP-Identity, then
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02, as Windows and
 * strongSwan speak it) against passwords found through a callback.  An
 * unknown user gets a challenge like any other and fails only after its
 * response, so that the answers do not tell which users exist.  One try:
 * a wrong password ends the conversation with EAP-Failure.
 *
 * Pure: no sockets, no logging, no time.
 */
#ifndef IKETCP_IKE_EAP_H
#define IKETCP_IKE_EAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev2.h"

enum {
	IKE_EAP_PKT_MAX		= 1024,	/* an EAP packet we send, octets */
	IKE_EAP_MSK_MAX		= 64,	/* RFC 3748 §7.10: at least 64 */
	IKE_EAP_REASON_MAX	= 112,
	IKE_EAP_ID_MAX		= 255,	/* an EAP identity, octets */
	IKE_EAP_TYPE_IDENTITY	= 1,	/* RFC 3748 §5 */
	IKE_EAP_TYPE_NAK	= 3,
	IKE_EAP_TYPE_MSCHAPV2	= 26
};

enum ike_eap_result {
	IKE_EAP_CONTINUE,	/* send out.pkt (a Request), wait for more */
	IKE_EAP_ACCEPT,		/* send out.pkt (EAP-Success); out.msk */
	IKE_EAP_REJECT,		/* send out.pkt (EAP-Failure); out.reason */
	IKE_EAP_PENDING		/* the answer comes later */
};

struct ike_eap_out {
	uint8_t		 pkt[IKE_EAP_PKT_MAX];
	size_t		 len;
	uint8_t		 msk[IKE_EAP_MSK_MAX];	/* wiped by the caller */
	size_t		 msk_len;
	char		 reason[IKE_EAP_REASON_MAX];
	/*
	 * ACCEPT: the peer's virtual IPv4 address chosen by the backend
	 * (a RADIUS Framed-IP-Address), host order; 0: the pool's choice.
	 */
	uint32_t	 framed_ip;
};

struct ike_eap_backend {
	const char	*name;		/* for logs: "eap-mschapv2" */
	/* A new conversation; NULL when out of memory. */
	void		*(*start)(void *arg, void *owner);
	/* @in NULL: the first request; else one EAP response of @len. */
	enum ike_eap_result (*input)(void *conv, const uint8_t *in,
			    size_t len, struct ike_eap_out *out);
	/*
	 * The identity the peer gave (EAP-Response/Identity), printable
	 * ASCII and NUL-terminated; "" before it did.
	 */
	const char	*(*identity)(const void *conv);
	void		 (*free)(void *conv);
};

/*
 * The password of EAP identity @user (@len octets, printable): at most
 * @cap octets (UTF-8) into @pw, *pw_len set; 0, or -1 when unknown.
 */
typedef int ike_eap_pw_fn(void *arg, const char *user, size_t len,
    uint8_t *pw, size_t cap, size_t *pw_len);

/* The argument of ike_eap_local; must outlive its conversations. */
struct ike_eap_local_conf {
	ike_eap_pw_fn	*pw;
	void		*pw_arg;
	const char	*name;		/* our Name in the MSCHAPv2 challenge */
};

extern const struct ike_eap_backend ike_eap_local;

/*
 * Splits an EAP packet (RFC 3748 §4) of @len octets: code, identifier,
 * type (Request/Response; 0 otherwise) and the data after them.  False
 * when the Length field is not @len or a Request/Response has no Type.
 */
bool	ike_eap_split(const uint8_t *pkt, size_t len, uint8_t *code,
	    uint8_t *id, uint8_t *type, const uint8_t **data,
	    size_t *data_len);

#endif /* IKETCP_IKE_EAP_H */
