#!/usr/bin/env python3
"""espinject.py: send ESP-in-UDP datagrams that an initiator's Child SA
(AES-GCM-16, RFC 4106) would have sent, carrying ICMP echo requests from
any inner source address, IPv4 or IPv6 (ICMPv6 echo requests, Next
Header 41, when INNER_SRC has a ':').  For tests of a responder's
inbound traffic selector check: the packets are authentic, only their
inner source is not the peer's.

  espinject.py KEYHEX SPIHEX SEQ INNER_SRC INNER_DST FROM_IP FROM_PORT
               TO_IP TO_PORT [COUNT]

KEYHEX is the initiator's encryption key with its 4-byte salt (charon
logs it at chd 4), SEQ the first sequence number.  The UDP datagrams
leave through a raw socket, so FROM_PORT may be a port another process
holds (the initiator's NAT-T port)."""
import os
import socket
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def csum(b):
	if len(b) % 2:
		b += b"\0"
	s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
	h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0,
	    64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
	return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(src, dst, nh, payload):
	return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
	    socket.inet_pton(socket.AF_INET6, src),
	    socket.inet_pton(socket.AF_INET6, dst)) + payload


def icmp6_echo(src, dst, seq):
	"""ICMPv6 echo request (RFC 4443 §4.1) with its checksum over the
	RFC 8200 §8.1 pseudo-header."""
	body = struct.pack("!BBHHH", 128, 0, 0, 0x4954, seq) + b"spoof" * 8
	pseudo = (socket.inet_pton(socket.AF_INET6, src) +
	    socket.inet_pton(socket.AF_INET6, dst) +
	    struct.pack("!I3xB", len(body), 58))
	return body[:2] + struct.pack("!H", csum(pseudo + body)) + body[4:]


def main():
	a = sys.argv[1:]
	if len(a) < 9:
		sys.exit(__doc__)
	key = bytes.fromhex(a[0])
	spi = int(a[1], 16)
	seq = int(a[2])
	count = int(a[9]) if len(a) > 9 else 1
	aead = AESGCM(key[:-4])
	s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
	for i in range(count):
		if ":" in a[3]:
			inner = ipv6(a[3], a[4], 58,
			    icmp6_echo(a[3], a[4], i + 1))
			nh = 41
		else:
			icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4954, i + 1) + \
			    b"spoof" * 8
			icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + \
			    icmp[4:]
			inner = ipv4(a[3], a[4], 1, icmp, 0x1000 + i)
			nh = 4
		pad = (-(len(inner) + 2)) % 4
		pt = inner + bytes(range(1, pad + 1)) + bytes([pad, nh])
		hdr = struct.pack("!II", spi, seq + i)
		iv = os.urandom(8)
		esp = hdr + iv + aead.encrypt(key[-4:] + iv, pt, hdr)
		udp = struct.pack("!HHHH", int(a[6]), int(a[8]), 8 + len(esp),
		    0) + esp
		s.sendto(ipv4(a[5], a[7], 17, udp, 0x2000 + i), (a[7], 0))


if __name__ == "__main__":
	main()
