#!/usr/bin/env python3
"""tcpwire.py PCAP --port PORT [--prefix IKETCP]: what crossed a link.

Checks that every IP packet in PCAP is TCP to or from PORT (no UDP at
all), reassembles each connection's two byte streams, and parses them as
RFC 9329 streams: the originator's starts with the prefix, then both
directions are 16-bit-length frames, each IKE (Non-ESP marker + an IKEv2
header) or ESP (non-zero SPI, at least 8 octets); each direction's first
message is reported ("first": "ike" or "esp", "first_spi": the initiator's
IKE SPI or the ESP SPI, in hex).  A NAT keepalive frame
(00 03 ff) or anything else is a fault.  A connection cut by a reset may
end inside a frame; a refused one (SYN, RST) is only counted.  Prints JSON; exit status 1 when there are faults.
"""
import argparse
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ikeclient import pcap_records  # noqa: E402


def ip_of(linktype, fr):
	"""(proto, src, dst, l4 bytes) of an IPv4/IPv6 packet, else None."""
	if linktype == 1:
		if len(fr) < 14:
			return None
		et, off = struct.unpack("!H", fr[12:14])[0], 14
	elif linktype == 113:
		et, off = struct.unpack("!H", fr[14:16])[0], 16
	elif linktype == 276:
		et, off = struct.unpack("!H", fr[0:2])[0], 20
	else:
		return None
	ip = fr[off:]
	if et == 0x0800 and len(ip) >= 20:
		ihl = (ip[0] & 15) * 4
		tot = struct.unpack("!H", ip[2:4])[0]
		return (ip[9], socket.inet_ntop(socket.AF_INET, ip[12:16]),
		    socket.inet_ntop(socket.AF_INET, ip[16:20]), ip[ihl:tot])
	if et == 0x86dd and len(ip) >= 40:
		plen = struct.unpack("!H", ip[4:6])[0]
		return (ip[6], socket.inet_ntop(socket.AF_INET6, ip[8:24]),
		    socket.inet_ntop(socket.AF_INET6, ip[24:40]),
		    ip[40:40 + plen])
	return None


def reassemble(segs):
	"""The byte stream from (seq, flags, data) segments; (bytes, gap)."""
	isn = None
	for seq, flags, _ in segs:
		if flags & 0x02:		# SYN
			isn = (seq + 1) & 0xffffffff
	if isn is None:
		return b"", True
	out = bytearray()
	gap = False
	rel = sorted((((seq - isn) & 0xffffffff), d) for seq, _, d in segs
	    if d)
	for off, d in rel:
		if off > len(out):
			gap = True
			break
		if off + len(d) > len(out):
			out += d[len(out) - off:]
	return bytes(out), gap


def frames(data, prefix, faults, tag, reset):
	counts = {"ike": 0, "esp": 0, "keepalive": 0, "bad": 0, "bytes": 0,
	    "first": None, "first_spi": None}
	if prefix:
		if data[:len(prefix)] != prefix:
			faults.append("%s: stream starts %r, want %r" %
			    (tag, data[:8], prefix))
			return counts
		data = data[len(prefix):]
	off = 0
	while len(data) - off >= 2:
		n = struct.unpack("!H", data[off:off + 2])[0]
		if n < 2:
			faults.append("%s: frame length %d at %d" % (tag, n, off))
			counts["bad"] += 1
			return counts
		if len(data) - off < n:
			break
		m = data[off + 2:off + n]
		off += n
		counts["bytes"] += len(m)
		if m == b"\xff":
			counts["keepalive"] += 1
			faults.append("%s: NAT keepalive frame on the stream" % tag)
		elif len(m) >= 4 + 28 and m[:4] == b"\0\0\0\0" and \
		    m[4 + 17] >> 4 == 2 and \
		    struct.unpack("!I", m[4 + 24:4 + 28])[0] == len(m) - 4:
			counts["ike"] += 1
			if counts["first"] is None:
				counts["first"] = "ike"
				counts["first_spi"] = m[4:12].hex()
		elif len(m) >= 8 and m[:4] != b"\0\0\0\0":
			counts["esp"] += 1
			if counts["first"] is None:
				counts["first"] = "esp"
				counts["first_spi"] = m[:4].hex()
		else:
			counts["bad"] += 1
			faults.append("%s: frame of %d bytes is neither IKE nor "
			    "ESP: %s" % (tag, len(m), m[:16].hex()))
	if off != len(data) and not reset:
		faults.append("%s: %d bytes of a partial frame at the end" %
		    (tag, len(data) - off))
	return counts


def tls_records(data, faults, tag, reset, first):
	"""TLS records (RFC 8446 §5.1): type 20-23, version 3.x, bounded
	length; the cleartext prefix must not show."""
	counts = {"records": 0, "appdata": 0, "bytes": 0}
	if first and data[:2] != b"\x16\x03":
		faults.append("%s: starts %r, not a TLS handshake" %
		    (tag, data[:8]))
		return counts
	if b"IKETCP" in data or b"IKEv2" in data:
		faults.append("%s: the stream prefix is visible" % tag)
	off = 0
	while len(data) - off >= 5:
		ctype, major, n = data[off], data[off + 1], \
		    struct.unpack("!H", data[off + 3:off + 5])[0]
		if ctype not in (20, 21, 22, 23) or major != 3 or \
		    n > 16384 + 2048:
			faults.append("%s: not a TLS record at %d: %s" %
			    (tag, off, data[off:off + 5].hex()))
			return counts
		if len(data) - off - 5 < n:
			break
		counts["records"] += 1
		counts["appdata"] += ctype == 23
		counts["bytes"] += n
		off += 5 + n
	if off != len(data) and not reset:
		faults.append("%s: %d bytes of a partial record at the end" %
		    (tag, len(data) - off))
	return counts


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("pcap")
	ap.add_argument("--port", type=int, required=True)
	ap.add_argument("--prefix", default="IKETCP")
	ap.add_argument("--tls", action="store_true",
	    help="the streams are TLS: check records, not frames")
	args = ap.parse_args()
	faults = []
	udp = other = 0
	conns = {}
	for _, lt, fr in pcap_records(args.pcap):
		p = ip_of(lt, fr)
		if p is None:
			continue
		proto, src, dst, l4 = p
		if proto == 17:
			udp += 1
			continue
		if proto != 6 or len(l4) < 20:
			other += 1
			continue
		sport, dport, seq = struct.unpack("!HHI", l4[:8])
		flags = l4[13]
		doff = (l4[12] >> 4) * 4
		if args.port not in (sport, dport):
			other += 1
			continue
		up = dport == args.port
		key = (dst, dport, src, sport) if not up else \
		    (src, sport, dst, dport)
		c = conns.setdefault(key, {"up": [], "down": [], "rst": False})
		c["up" if up else "down"].append((seq, flags, l4[doff:]))
		if flags & 0x04:
			c["rst"] = True
	if udp:
		faults.append("%d UDP packets on the link" % udp)
	if other:
		faults.append("%d IP packets that are not TCP port %d" %
		    (other, args.port))
	out = {"udp": udp, "other": other, "connections": [], "refused": 0}
	for (src, sport, dst, dport), c in sorted(conns.items()):
		tag = "%s:%d->%s:%d" % (src, sport, dst, dport)
		# A refused connect: SYN, then RST, no byte either way.
		if c["rst"] and not any(d for _, _, d in c["up"] + c["down"]) \
		    and not any(f & 0x12 == 0x12 for _, f, _ in c["down"]):
			out["refused"] += 1
			continue
		up, gap_up = reassemble(c["up"])
		down, gap_down = reassemble(c["down"])
		if gap_up or gap_down:
			faults.append("%s: capture has a gap (or no SYN)" % tag)
		if args.tls:
			u = tls_records(up, faults, tag + " up", c["rst"], True)
			d = tls_records(down, faults, tag + " down", c["rst"],
			    False)
		else:
			u = frames(up, args.prefix.encode(), faults, tag + " up",
			    c["rst"])
			d = frames(down, b"", faults, tag + " down", c["rst"])
		out["connections"].append({
		    "client": "%s:%d" % (src, sport), "reset": c["rst"],
		    "up": u, "down": d,
		})
	out["count"] = len(out["connections"])
	out["faults"] = faults
	out["ok"] = not faults and bool(out["connections"])
	if not out["connections"]:
		faults.append("no TCP connection to port %d" % args.port)
	print(json.dumps(out))
	return 0 if out["ok"] else 1


if __name__ == "__main__":
	sys.exit(main())
