#!/usr/bin/env python3
"""radspoof.py: a hostile RADIUS "server" for test 58-radius.

    radspoof.py ADDR PORT SECRET FLOOD

For each Access-Request it receives it sends, before any real answer,
what an on-path attacker could: the answer signed with a wrong secret
(Response Authenticator wrong), one with a right Response Authenticator
but a wrong Message-Authenticator (only possible with the secret: it
checks that the client verifies both), one for another identifier, a
runt, and the right answer from another source port; then FLOOD random
datagrams from that port; then the real Access-Challenge (an EAP-MD5
request with a State), signed with SECRET (RFC 2865 §3, RFC 3579 §3.2).
It answers the second request with Access-Reject.  The client must take
only the real answers, count the rest, and end with result=reject.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys


def attrs_of(pkt):
    out, i = [], 20
    while i + 2 <= len(pkt):
        t, n = pkt[i], pkt[i + 1]
        out.append((t, pkt[i + 2:i + n]))
        i += n
    return out


def response(code, ident, req_auth, attrs, secret, bad_ma=False):
    body = b"".join(bytes([t, len(v) + 2]) + v for t, v in attrs)
    body += bytes([80, 18]) + bytes(16)
    length = 20 + len(body)
    hdr = struct.pack("!BBH", code, ident, length)
    ma = hmac.new(secret, hdr + req_auth + body, hashlib.md5).digest()
    if bad_ma:
        ma = bytes(b ^ 0x55 for b in ma)
    body = body[:-16] + ma
    auth = hashlib.md5(hdr + req_auth + body + secret).digest()
    return hdr + auth + body


def main():
    addr, port, secret, flood = (sys.argv[1], int(sys.argv[2]),
                                 sys.argv[3].encode(), int(sys.argv[4]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((addr, 0))
    n = 0
    print("ready", flush=True)
    while True:
        pkt, peer = s.recvfrom(5000)
        if len(pkt) < 20 or pkt[0] != 1:
            continue
        n += 1
        ident, req_auth = pkt[1], pkt[4:20]
        eap_id = 0
        for t, v in attrs_of(pkt):
            if t == 79 and len(v) >= 2:
                eap_id = v[1]
        if n == 1:
            eap = bytes([1, eap_id + 1, 0, 22, 4, 16]) + os.urandom(16)
            real = response(11, ident, req_auth,
                             [(79, eap), (24, b"spoof-state")], secret)
        else:
            real = response(3, ident, req_auth,
                            [(79, bytes([4, eap_id, 0, 4]))], secret)
        s.sendto(response(11, ident, req_auth, [(79, eap)],
                          b"not-the-secret"), peer)
        s.sendto(response(11, ident, req_auth, [(79, eap)], secret,
                          bad_ma=True), peer)
        s.sendto(response(11, (ident + 1) & 0xff, req_auth, [(79, eap)],
                          secret), peer)
        s.sendto(b"\x0b" + bytes([ident]) + b"\x00\x14", peer)
        other.sendto(real, peer)
        for _ in range(flood):
            other.sendto(os.urandom(40), peer)
        s.sendto(real, peer)
        print("answered %d" % n, flush=True)


main()
