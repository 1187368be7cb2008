#!/usr/bin/env python3
"""ikeclient: a minimal IKEv2 test client for the integration tests.

Standard library only.  It builds a real IKE_SA_INIT request (RFC 7296
section 1.2), carries it over UDP or over a TCP stream framed as in
RFC 9329 section 3 (stream prefix, then a 16-bit big-endian length that
counts itself, then the message; IKE after a 4-octet Non-ESP marker), and
checks the response far enough to know a real IKEv2 responder answered.

Every sub-command prints one JSON object on stdout and exits 0 when the
expectation it was given holds, 1 when not, 2 on usage errors.

  init   --connect HOST:PORT [--prefix iketcp|ikev2|none] [--spi HEX]
         [--count N] [--interval S] [--keepalives N] [--keep-open S]
         [--save-req FILE] [--load-req FILE] [--timeout S] [LAYERS]
  udp    --to HOST:PORT [--spi HEX] [--timeout S]
  raw    --connect HOST:PORT [--prefix ...] [--hex HEX]... [--file F]
         [--frame-len N]
         [--spi HEX]
         [--wait S] [--expect-close | --expect-open] [LAYERS]
  pcap   FILE [--spi HEX] [--to-port P] [--src ADDR] [--payload]
  frames FILE [--spi HEX]          (stream bytes, e.g. from s_client)
  get    KEY [KEY...]                          (read JSON on stdin)

LAYERS, outermost first, in front of the stream prefix:
  --proxy-v1 SRC:PORT | --proxy-v2 SRC:PORT   a PROXY header naming SRC
  --http-connect HOST:PORT [--http-auth USER:PASS]   CONNECT in the clear
  --tls [--sni NAME] [--tls-ciphers S] [--tls-max 1.2|1.3]
  --inner-connect HOST:PORT                   CONNECT inside TLS
A refused CONNECT ends the command with "http_status" in its JSON.
"""

import argparse
import base64
import ipaddress
import json
import os
import select
import socket
import ssl
import struct
import sys
import time

# RFC 7296 section 3.2 payload types.
PL_NONE = 0
PL_SA = 33
PL_KE = 34
PL_NONCE = 40
PL_NOTIFY = 41
PL_VENDOR = 43
PL_SK = 46
PL_SKF = 53		# RFC 7383 Encrypted Fragment
PL_NAMES = {
	33: "SA", 34: "KE", 35: "IDi", 36: "IDr", 37: "CERT", 38: "CERTREQ",
	39: "AUTH", 40: "Nonce", 41: "N", 42: "D", 43: "V", 44: "TSi",
	45: "TSr", 46: "SK", 47: "CP", 48: "EAP", 53: "SKF",
}

# RFC 7296 section 3.1: exchange types and flags.
EXCH_IKE_SA_INIT = 34
FLAG_INITIATOR = 0x08
FLAG_RESPONSE = 0x20

# RFC 7296 section 3.3.2: transform types and the IDs we offer.
TRANS_ENCR = 1
TRANS_PRF = 2
TRANS_DH = 4
ENCR_AES_GCM_16 = 20
PRF_HMAC_SHA2_384 = 6
DH_CURVE25519 = 31		# RFC 8031
ATTR_KEY_LENGTH = 14		# TV format, AF bit set on the wire

# RFC 7296 section 3.10.1 notify types used here.
N_NAT_DETECTION_SOURCE_IP = 16388
N_NAT_DETECTION_DESTINATION_IP = 16389

NON_ESP_MARKER = b"\0\0\0\0"	# RFC 3948 section 2.2, RFC 9329 section 3
PREFIXES = {"iketcp": b"IKETCP", "ikev2": b"IKEv2", "none": b""}


def die(msg):
	print(json.dumps({"ok": False, "error": msg}))
	sys.exit(1)


def hostport(s):
	if s.startswith("["):
		host, _, port = s[1:].partition("]:")
	else:
		host, _, port = s.rpartition(":")
	return host, int(port)


def payload(next_type, body):
	"""Generic payload header, RFC 7296 section 3.2."""
	return struct.pack("!BBH", next_type, 0, 4 + len(body)) + body


def transform(last, ttype, tid, attrs=b""):
	"""Transform substructure, RFC 7296 section 3.3.2."""
	return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs),
	    ttype, 0, tid) + attrs


def sa_body():
	"""One IKE proposal: AES-GCM-16/256, PRF-HMAC-SHA2-384, Curve25519."""
	keylen = struct.pack("!HH", 0x8000 | ATTR_KEY_LENGTH, 256)
	trans = (transform(False, TRANS_ENCR, ENCR_AES_GCM_16, keylen) +
	    transform(False, TRANS_PRF, PRF_HMAC_SHA2_384) +
	    transform(True, TRANS_DH, DH_CURVE25519))
	# last=0, reserved, length, proposal 1, protocol IKE (1), SPI size 0,
	# three transforms.
	return struct.pack("!BBHBBBB", 0, 0, 8 + len(trans), 1, 1, 0, 3) + trans


def build_init(spi_i, natd=True, size=None):
	"""A complete IKE_SA_INIT request without any Non-ESP marker; with
	size, a Vendor ID payload pads it to exactly that many bytes."""
	chain = [
	    (PL_SA, sa_body()),
	    # Diffie-Hellman group, reserved, 32 key bytes for X25519.
	    (PL_KE, struct.pack("!HH", DH_CURVE25519, 0) + os.urandom(32)),
	    (PL_NONCE, os.urandom(32)),
	]
	if natd:
		# Protocol 0, SPI size 0, type, 20 octets (a SHA-1 size).  The
		# values do not match any address: the responder then assumes
		# a NAT, which it must tolerate behind a relay anyway.
		for nt in (N_NAT_DETECTION_SOURCE_IP,
		    N_NAT_DETECTION_DESTINATION_IP):
			chain.append((PL_NOTIFY, struct.pack("!BBH", 0, 0, nt) +
			    os.urandom(20)))
	if size is not None:
		have = 28 + sum(4 + len(b) for _, b in chain)
		if size - have < 4:
			raise ValueError("cannot pad IKE_SA_INIT to %d" % size)
		chain.append((PL_VENDOR, b"iketcp-test-pad".ljust(
		    size - have - 4, b".")[:size - have - 4]))
	body = b""
	for i, (_, b) in enumerate(chain):
		nxt = chain[i + 1][0] if i + 1 < len(chain) else PL_NONE
		body += payload(nxt, b)
	hdr = spi_i + bytes(8) + struct.pack("!BBBBII", chain[0][0], 0x20,
	    EXCH_IKE_SA_INIT, FLAG_INITIATOR, 0, 28 + len(body))
	return hdr + body


def parse_ike(msg):
	"""Parse an IKE header and its payload chain (not SK contents)."""
	r = {"len": len(msg)}
	if len(msg) < 28:
		r["error"] = "short IKE message"
		return r
	spi_i, spi_r, nxt, ver, exch, flags, mid, length = struct.unpack(
	    "!8s8sBBBBII", msg[:28])
	r.update(spi_i=spi_i.hex(), spi_r=spi_r.hex(), version=ver,
	    exchange=exch, flags=flags, msgid=mid, hdr_len=length, next=nxt)
	if length != len(msg):
		r["error"] = "IKE length %d != datagram %d" % (length, len(msg))
		return r
	off, types, notifies = 28, [], []
	while nxt != PL_NONE:
		if len(msg) - off < 4:
			r["error"] = "truncated payload header"
			break
		n2, _, plen = struct.unpack("!BBH", msg[off:off + 4])
		if plen < 4 or plen > len(msg) - off:
			r["error"] = "bad payload length %d" % plen
			break
		types.append(PL_NAMES.get(nxt, str(nxt)))
		if nxt == PL_NOTIFY and plen >= 8:
			notifies.append(struct.unpack("!H",
			    msg[off + 6:off + 8])[0])
		if nxt == PL_SKF and plen >= 8:
			r["frag_num"], r["frag_total"] = struct.unpack(
			    "!HH", msg[off + 4:off + 8])
		if nxt in (PL_SK, PL_SKF):
			break		# encrypted: stop here
		off += plen
		nxt = n2
	r["payloads"] = types
	r["notifies"] = notifies
	return r


def check_init_response(resp, spi_i):
	"""The checks a real IKE_SA_INIT response must pass; a list of faults."""
	bad = []
	if "error" in resp:
		bad.append(resp["error"])
	if resp.get("exchange") != EXCH_IKE_SA_INIT:
		bad.append("exchange %s != 34" % resp.get("exchange"))
	if not resp.get("flags", 0) & FLAG_RESPONSE:
		bad.append("Response flag not set")
	if resp.get("flags", 0) & FLAG_INITIATOR:
		bad.append("Initiator flag set")
	if resp.get("spi_i") != spi_i.hex():
		bad.append("SPIi not echoed")
	if resp.get("spi_r", "0" * 16) == "0" * 16:
		bad.append("SPIr is zero")
	if resp.get("version") != 0x20:
		bad.append("version %s" % resp.get("version"))
	for t in ("SA", "KE", "Nonce"):
		if t not in resp.get("payloads", []):
			bad.append("no %s payload" % t)
	return bad


class HttpRefused(Exception):
	def __init__(self, status):
		Exception.__init__(self, "HTTP status %d" % status)
		self.status = status


def proxy_header(version, src, sock):
	"""A PROXY protocol header (haproxy proxy-protocol.txt) naming src
	as the client and the socket's peer as the destination."""
	shost, sport = hostport(src)
	dhost, dport = sock.getpeername()[:2]
	v6 = ":" in shost
	if version == 1:
		return ("PROXY %s %s %s %d %d\r\n" % ("TCP6" if v6 else "TCP4",
		    shost, dhost, sport, dport)).encode()
	sa = ipaddress.ip_address(shost).packed
	da = ipaddress.ip_address(dhost).packed
	fam = 0x21 if v6 else 0x11		# AF_INET6/AF_INET, STREAM
	body = sa + da + struct.pack("!HH", sport, dport)
	return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, fam]) +
	    struct.pack("!H", len(body)) + body)


class Stream:
	"""A TCP stream carrying RFC 9329 frames, behind optional layers."""

	def __init__(self, addr, timeout, layers=None):
		host, port = hostport(addr)
		fam = socket.AF_INET6 if ":" in host else socket.AF_INET
		self.s = socket.socket(fam, socket.SOCK_STREAM)
		self.s.settimeout(timeout)
		self.s.connect((host, port))
		self.local_port = self.s.getsockname()[1]
		self.buf = b""
		self.eof = None		# None, "eof" or "reset"
		self.info = {}
		if layers is not None:
			self.layers(layers)

	def layers(self, a):
		if a.proxy_v1:
			self.send(proxy_header(1, a.proxy_v1, self.s))
		elif a.proxy_v2:
			self.send(proxy_header(2, a.proxy_v2, self.s))
		if a.http_connect:
			self.connect(a.http_connect, a.http_auth)
		if a.tls:
			ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
			ctx.check_hostname = False
			ctx.verify_mode = ssl.CERT_NONE
			if a.tls_ciphers:
				ctx.set_ciphers(a.tls_ciphers)
			if a.tls_max == "1.2":
				ctx.maximum_version = ssl.TLSVersion.TLSv1_2
			self.s = ctx.wrap_socket(self.s,
			    server_hostname=a.sni or None)
			self.info["tls_version"] = self.s.version()
			self.info["tls_cipher"] = self.s.cipher()[0]
		if a.inner_connect:
			self.connect(a.inner_connect, a.http_auth)

	def connect(self, authority, auth):
		req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (authority,
		    authority)
		if auth:
			req += "Proxy-Authorization: Basic %s\r\n" % \
			    base64.b64encode(auth.encode()).decode()
		self.send((req + "\r\n").encode())
		deadline = time.monotonic() + self.s.gettimeout()
		while b"\r\n\r\n" not in self.buf:
			if not self.fill(deadline):
				raise HttpRefused(0)
		head, self.buf = self.buf.split(b"\r\n\r\n", 1)
		status = int(head.split(b" ", 2)[1])
		self.info.setdefault("http_status", []).append(status)
		if status != 200:
			raise HttpRefused(status)

	def send(self, data):
		self.s.sendall(data)

	def send_frame(self, msg):
		self.send(struct.pack("!H", len(msg) + 2) + msg)

	def fill(self, deadline):
		"""Read more bytes; False at the deadline or at end of stream."""
		left = deadline - time.monotonic()
		if left <= 0 or self.eof:
			return False
		if self.s.fileno() < 0:		# a failed TLS handshake
			self.eof = "closed"
			return False
		pending = isinstance(self.s, ssl.SSLSocket) and self.s.pending()
		if not pending:
			rd, _, _ = select.select([self.s], [], [], left)
			if not rd:
				return False
		try:
			b = self.s.recv(65536)
		except ssl.SSLWantReadError:
			return True
		except ssl.SSLError as e:
			self.eof = "tls: %s" % e
			return False
		except OSError as e:
			self.eof = "reset" if isinstance(e,
			    ConnectionResetError) else str(e)
			return False
		if not b:
			self.eof = "eof"
			return False
		self.buf += b
		return True

	def read_frame(self, deadline):
		"""The next frame's payload, or None at the deadline or close."""
		while True:
			if len(self.buf) >= 2:
				n = struct.unpack("!H", self.buf[:2])[0]
				if n < 2:
					raise ValueError("peer sent length %d" % n)
				if len(self.buf) >= n:
					m, self.buf = self.buf[2:n], self.buf[n:]
					return m
			if not self.fill(deadline):
				return None

	def wait_close(self, deadline):
		"""Read until the peer closes; True when it did."""
		while self.fill(deadline):
			pass
		return self.eof is not None

	def close(self):
		self.s.close()


def get_spi(args):
	if args.spi:
		spi = bytes.fromhex(args.spi)
		if len(spi) != 8:
			raise SystemExit("--spi wants 16 hex digits")
		return spi
	while True:
		spi = os.urandom(8)
		if spi != bytes(8):
			return spi


def cmd_init(args):
	out = {"ok": False, "responses": []}
	t0 = time.monotonic()
	try:
		st = Stream(args.connect, args.timeout)
	except OSError as e:
		die("connect: %s" % e)
	out["local_port"] = st.local_port
	try:
		st.layers(args)
	except HttpRefused as e:
		out["http_status"] = e.status
		out["faults"] = ["CONNECT refused: %d" % e.status]
		print(json.dumps(out))
		return 1
	except (OSError, ssl.SSLError) as e:
		out["faults"] = ["layers: %s" % e]
		print(json.dumps(out))
		return 1
	out.update(st.info)
	try:
		st.send(PREFIXES[args.prefix])
		faults = []
		for i in range(args.count):
			if i > 0:
				time.sleep(args.interval)
			if args.load_req:
				with open(args.load_req, "rb") as f:
					req = f.read()
				spi = req[:8]
			else:
				spi = get_spi(args)
				req = build_init(spi, natd=not args.no_natd)
			if args.save_req and i == 0:
				with open(args.save_req, "wb") as f:
					f.write(req)
			for _ in range(args.keepalives):
				st.send(b"\x00\x03\xff")	# RFC 9329 sec. 3
			t1 = time.monotonic()
			st.send_frame(NON_ESP_MARKER + req)
			# Skip anything that is not the answer (e.g. ESP).
			resp = None
			deadline = t1 + args.timeout
			while True:
				m = st.read_frame(deadline)
				if m is None:
					break
				if m[:4] == NON_ESP_MARKER and \
				    m[4:12] == spi:
					resp = m
					break
			if resp is None:
				faults.append("request %d: no response (%s)" %
				    (i, st.eof or "timeout"))
				break
			if args.save_resp and i == 0:
				with open(args.save_resp, "wb") as f:
					f.write(resp)
			p = parse_ike(resp[4:])
			p["rtt_ms"] = round((time.monotonic() - t1) * 1000, 1)
			out["responses"].append(p)
			faults += ["request %d: %s" % (i, f) for f in
			    check_init_response(p, spi)]
		out["spi_i"] = out["responses"][0]["spi_i"] \
		    if out["responses"] else None
		out["spi_r"] = out["responses"][0]["spi_r"] \
		    if out["responses"] else None
		if args.keep_open > 0 and not faults:
			# Stay connected; note whether the relay closes us.
			t2 = time.monotonic()
			closed = st.wait_close(t2 + args.keep_open)
			out["closed_while_open"] = closed
			if closed:
				out["closed_after"] = round(
				    time.monotonic() - t2, 2)
				out["closed_how"] = st.eof
		out["faults"] = faults
		out["ok"] = not faults
	except (OSError, ValueError) as e:
		out["faults"] = ["%s" % e]
	finally:
		st.close()
	out["elapsed"] = round(time.monotonic() - t0, 2)
	print(json.dumps(out))
	return 0 if out["ok"] else 1


def cmd_udp(args):
	host, port = hostport(args.to)
	fam = socket.AF_INET6 if ":" in host else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	s.settimeout(args.timeout)
	spi = get_spi(args)
	req = build_init(spi, natd=not args.no_natd)
	# Port 4500 carries the Non-ESP marker (RFC 7296 section 2.23).
	marker = NON_ESP_MARKER if port != 500 else b""
	out = {"ok": False, "spi_i": spi.hex()}
	t0 = time.monotonic()
	s.sendto(marker + req, (host, port))
	out["local_port"] = s.getsockname()[1]
	try:
		data, src = s.recvfrom(65536)
	except socket.timeout:
		out["faults"] = ["no response"]
		print(json.dumps(out))
		return 1
	out["rtt_ms"] = round((time.monotonic() - t0) * 1000, 1)
	if marker and data[:4] != marker:
		out["faults"] = ["response lacks the Non-ESP marker"]
		print(json.dumps(out))
		return 1
	p = parse_ike(data[len(marker):])
	out["response"] = p
	out["spi_r"] = p.get("spi_r")
	out["faults"] = check_init_response(p, spi)
	out["ok"] = not out["faults"]
	print(json.dumps(out))
	return 0 if out["ok"] else 1


def cmd_raw(args):
	out = {"ok": False}
	try:
		st = Stream(args.connect, args.timeout)
	except OSError as e:
		die("connect: %s" % e)
	out["local_port"] = st.local_port
	sent = 0
	try:
		st.layers(args)
		out.update(st.info)
		st.send(PREFIXES[args.prefix])
		sent += len(PREFIXES[args.prefix])
		for h in args.hex:
			b = bytes.fromhex(h)
			st.send(b)
			sent += len(b)
		if args.file:
			with open(args.file, "rb") as f:
				b = f.read()
			st.send(b)
			sent += len(b)
		if args.frame_len is not None:
			# A frame with a payload of that length: a valid
			# IKE_SA_INIT padded by a Vendor ID payload.
			n = args.frame_len
			body = NON_ESP_MARKER + build_init(get_spi(args),
			    size=n - 4)
			st.send(struct.pack("!H", n + 2) + body)
			sent += n + 2
	except HttpRefused as e:
		out["http_status"] = e.status
		out["send_error"] = str(e)
	except (OSError, ssl.SSLError) as e:
		out["send_error"] = str(e)
	out["sent"] = sent
	t0 = time.monotonic()
	closed = st.wait_close(t0 + args.wait) or "send_error" in out
	out["closed"] = closed
	out["closed_after"] = round(time.monotonic() - t0, 2) if closed \
	    else None
	out["closed_how"] = st.eof
	out["received"] = len(st.buf)
	out["received_line"] = st.buf.split(b"\r\n", 1)[0].decode("latin-1")
	st.close()
	if args.expect_close:
		out["ok"] = closed
	elif args.expect_open:
		out["ok"] = not closed
	else:
		out["ok"] = True
	print(json.dumps(out))
	return 0 if out["ok"] else 1


def pcap_records(path):
	"""(timestamp, linktype, frame) from a classic pcap file."""
	with open(path, "rb") as f:
		data = f.read()
	if len(data) < 24:
		return
	magic = data[:4]
	if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
		e = "<"
	elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
		e = ">"
	else:
		raise SystemExit("%s: not a pcap file" % path)
	nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
	linktype = struct.unpack(e + "I", data[20:24])[0]
	off = 24
	while len(data) - off >= 16:
		sec, frac, incl, _ = struct.unpack(e + "IIII",
		    data[off:off + 16])
		if len(data) - off - 16 < incl:
			break		# still being written
		ts = sec + frac / (1e9 if nano else 1e6)
		yield ts, linktype, data[off + 16:off + 16 + incl]
		off += 16 + incl


def udp_of(linktype, fr, frag=None):
	"""(src, sport, dst, dport, payload) of a UDP packet, else None.  An
	IPv4 fragment after the first is None (it holds no UDP header); for
	the first, @frag (a dict) gets ipfrag and the UDP length declared."""
	if linktype == 1:		# Ethernet
		if len(fr) < 14:
			return None
		et, off = struct.unpack("!H", fr[12:14])[0], 14
		while et == 0x8100 and len(fr) >= off + 4:
			et, off = struct.unpack("!H", fr[off + 2:off + 4])[0], \
			    off + 4
	elif linktype == 276:		# Linux cooked v2
		et, off = struct.unpack("!H", fr[0:2])[0], 20
	elif linktype == 113:		# Linux cooked v1
		et, off = struct.unpack("!H", fr[14:16])[0], 16
	elif linktype in (101, 12):	# raw IP
		et = 0x86dd if fr and fr[0] >> 4 == 6 else 0x0800
		off = 0
	else:
		return None
	ip = fr[off:]
	if et == 0x0800 and len(ip) >= 20 and ip[9] == 17:
		ihl = (ip[0] & 15) * 4
		src = socket.inet_ntop(socket.AF_INET, ip[12:16])
		dst = socket.inet_ntop(socket.AF_INET, ip[16:20])
		tot = struct.unpack("!H", ip[2:4])[0]
		fo = struct.unpack("!H", ip[6:8])[0]
		if fo & 0x1fff:
			return None
		udp = ip[ihl:tot]
		if frag is not None and fo & 0x2000 and len(udp) >= 8:
			frag["ipfrag"] = True
			frag["udp_len"] = struct.unpack("!H", udp[4:6])[0] - 8
	elif et == 0x86dd and len(ip) >= 40 and ip[6] == 17:
		src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
		dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
		udp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
	else:
		return None
	if len(udp) < 8:
		return None
	sport, dport, ulen = struct.unpack("!HHH", udp[:6])
	return src, sport, dst, dport, udp[8:ulen]


def cmd_pcap(args):
	"""Lists UDP datagrams, classified as on port 4500 (RFC 3948)."""
	pkts = []
	for ts, lt, fr in pcap_records(args.file):
		fg = {}
		u = udp_of(lt, fr, fg)
		if u is None:
			continue
		src, sport, dst, dport, pl = u
		if args.to_port and dport != args.to_port:
			continue
		p = {"ts": round(ts, 6), "src": src, "sport": sport,
		    "dst": dst, "dport": dport, "len": len(pl)}
		p.update(fg)
		if args.payload:
			p["hex"] = pl.hex()
		ike = None
		if pl == b"\xff":
			p["kind"] = "keepalive"
		elif dport == 500 or sport == 500:
			p["kind"], ike = "ike", pl
		elif pl[:4] == NON_ESP_MARKER:
			p["kind"], ike = "ike", pl[4:]
		else:
			p["kind"] = "esp"
			p["esp_spi"] = pl[:4].hex()
		if ike is not None:
			i = parse_ike(ike)
			for k in ("spi_i", "spi_r", "exchange", "flags",
			    "msgid", "next", "frag_num", "frag_total"):
				if k in i or k in ("spi_i", "spi_r",
				    "exchange", "flags", "msgid"):
					p[k] = i.get(k)
			p["payloads"] = i.get("payloads", [])
		if args.spi and p.get("spi_i") != args.spi.lower():
			continue
		if args.src and src != args.src:
			continue
		pkts.append(p)
	out = {"packets": pkts,
	    "sports": sorted({p["sport"] for p in pkts}),
	    "count": len(pkts)}
	print(json.dumps(out))
	return 0


def cmd_frames(args):
	"""Frames in a file of stream bytes (what s_client printed)."""
	data = open(args.file, "rb").read()
	out = {"ok": False, "frames": [], "faults": []}
	while len(data) >= 2:
		n = struct.unpack("!H", data[:2])[0]
		if n < 2 or len(data) < n:
			out["faults"].append("truncated frame of %d" % n)
			break
		m, data = data[2:n], data[n:]
		f = {"len": len(m)}
		if m[:4] == NON_ESP_MARKER:
			f.update(parse_ike(m[4:]))
		out["frames"].append(f)
	want = [f for f in out["frames"] if f.get("spi_i") == args.spi]
	if args.spi and not want:
		out["faults"].append("no message with SPIi %s" % args.spi)
	for f in want:
		out["faults"] += check_init_response(f, bytes.fromhex(args.spi))
	out["ok"] = not out["faults"]
	print(json.dumps(out))
	return 0 if out["ok"] else 1


def cmd_get(args):
	"""Prints fields of the JSON object on stdin (dotted paths)."""
	obj = json.load(sys.stdin)
	for key in args.keys:
		v = obj
		for part in key.split("."):
			if isinstance(v, list):
				v = v[int(part)]
			elif isinstance(v, dict):
				v = v.get(part)
			else:
				v = None
		if isinstance(v, bool):
			v = "true" if v else "false"
		elif isinstance(v, list):
			v = " ".join(str(x) for x in v)
		elif v is None:
			v = ""
		print(v)
	return 0


def main():
	ap = argparse.ArgumentParser(description=__doc__,
	    formatter_class=argparse.RawDescriptionHelpFormatter)
	sub = ap.add_subparsers(dest="cmd", required=True)

	p = sub.add_parser("init", help="IKE_SA_INIT over a TCP stream")
	p.add_argument("--connect", required=True)
	p.add_argument("--prefix", choices=PREFIXES, default="iketcp")
	p.add_argument("--spi", help="initiator SPI, 16 hex digits")
	p.add_argument("--count", type=int, default=1,
	    help="requests, each with a new SPI unless --spi")
	p.add_argument("--interval", type=float, default=1.0)
	p.add_argument("--keepalives", type=int, default=0,
	    help="00 03 ff frames sent before each request")
	p.add_argument("--keep-open", type=float, default=0.0)
	p.add_argument("--save-req", help="write the first request here")
	p.add_argument("--load-req", help="send this request instead")
	p.add_argument("--save-resp",
	    help="write the first response frame's payload here")
	p.add_argument("--no-natd", action="store_true")
	p.add_argument("--timeout", type=float, default=5.0)
	add_layers(p)
	p.set_defaults(fn=cmd_init)

	p = sub.add_parser("udp", help="IKE_SA_INIT over UDP")
	p.add_argument("--to", required=True)
	p.add_argument("--spi")
	p.add_argument("--no-natd", action="store_true")
	p.add_argument("--timeout", type=float, default=5.0)
	p.set_defaults(fn=cmd_udp)

	p = sub.add_parser("raw", help="arbitrary bytes over a stream")
	p.add_argument("--connect", required=True)
	p.add_argument("--prefix", choices=PREFIXES, default="none")
	p.add_argument("--hex", action="append", default=[])
	p.add_argument("--file", help="send this file's bytes after --hex")
	p.add_argument("--frame-len", type=int,
	    help="send a frame whose payload (a padded IKE_SA_INIT) is N bytes")
	p.add_argument("--spi")
	p.add_argument("--wait", type=float, default=3.0)
	p.add_argument("--timeout", type=float, default=5.0)
	g = p.add_mutually_exclusive_group()
	g.add_argument("--expect-close", action="store_true")
	g.add_argument("--expect-open", action="store_true")
	add_layers(p)
	p.set_defaults(fn=cmd_raw)

	p = sub.add_parser("pcap", help="UDP datagrams in a capture")
	p.add_argument("file")
	p.add_argument("--spi")
	p.add_argument("--to-port", type=int)
	p.add_argument("--src", help="only datagrams from this address")
	p.add_argument("--payload", action="store_true",
	    help="include each UDP payload as hex")
	p.set_defaults(fn=cmd_pcap)

	p = sub.add_parser("frames", help="frames in a file of stream bytes")
	p.add_argument("file")
	p.add_argument("--spi", help="expect an IKE_SA_INIT response")
	p.set_defaults(fn=cmd_frames)

	p = sub.add_parser("get", help="fields of JSON on stdin")
	p.add_argument("keys", nargs="+")
	p.set_defaults(fn=cmd_get)

	args = ap.parse_args()
	sys.exit(args.fn(args))


def add_layers(p):
	g = p.add_mutually_exclusive_group()
	g.add_argument("--proxy-v1", metavar="SRC:PORT")
	g.add_argument("--proxy-v2", metavar="SRC:PORT")
	p.add_argument("--http-connect", metavar="HOST:PORT")
	p.add_argument("--http-auth", metavar="USER:PASS")
	p.add_argument("--tls", action="store_true")
	p.add_argument("--sni")
	p.add_argument("--tls-ciphers")
	p.add_argument("--tls-max", choices=["1.2", "1.3"])
	p.add_argument("--inner-connect", metavar="HOST:PORT")


if __name__ == "__main__":
	main()
