#!/usr/bin/env python3
"""attacker.py: a hostile RFC 9329 client (and, for one test, a stand-in
gateway) for the attack tests 60-64 (issue 11).  Standard library only.
Every sub-command prints one JSON object on stdout.

  claim  --connect HOST:PORT --spi-i HEX --spi-r HEX --msgid N
         [--streams N] [--src ADDR[,ADDR...]] [--hold S] [--ready FILE]
      Opens N streams (source addresses taken in turn from --src), each
      sending the "IKETCP" prefix and one framed IKE INFORMATIONAL request
      with the victim's SPIs and message ID and a forged SK payload (no
      keys: the gateway drops it).  Then reads every stream for S seconds
      and reports every byte received after the prefix (the relay sends
      no prefix back, so any byte is a frame of someone's session).
      FILE is written once every stream has sent its claim.
      With --esp-spi HEX the claim is one ESP frame with the victim's
      SPI instead (--spi-i, --spi-r and --msgid are then not needed).
      With --own each stream first sends an IKE_SA_INIT request of its
      own (a fresh SPIi, header only), so that it starts a session whose
      owner then sends the victim's SPIs.  "victim_frames" counts the
      frames received that are ESP or IKE of the victim's SPIi.

  churn  --connect HOST:PORT --count N [--src ADDR] [--seconds S]
      N times: connect, prefix, one ESP frame with a fresh random SPI,
      close.  Stops early after S seconds; counts what failed.

  hold   --connect HOST:PORT --streams N [--src ADDR] [--hold S]
      N streams that send the prefix only and stay open S seconds (a
      stream the relay cannot accept waits in its listen queue).

  proxychurn --connect HOST:PORT --count N [--first I] [--parallel P]
      N streams, P at a time, each opening with a PROXY v2 header that
      names a distinct client (IPv4 10.0.0.0/8 and IPv6 2001:db8:X:Y::1,
      one /64 each, alternately), then the prefix, then closed.

  sink   --connect HOST:PORT --streams N [--rcvbuf B] [--hold S]
         [--ready FILE]
      N streams that send the prefix and one ESP frame (fresh SPI) and
      never read, held open for S seconds.

  tlscount --connect HOST:PORT [--hold S] [--ready FILE]
      One TLS stream (no certificate check): the prefix and one ESP frame
      (so that it has a session), then counts the frames it receives for
      S seconds.

  flood  --bind ADDR:PORT --learn N [--size B] [--bytes B] [--seconds S]
         [--go FILE]
      The gateway's side: waits for datagrams from N distinct sources
      (the relay's sessions; then writes FILE.learnt and waits for FILE
      to exist), then sends each B bytes of ESP-shaped
      datagrams (non-zero SPI) of SIZE bytes, round robin.
"""

import argparse
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import threading
import time

PREFIX = b"IKETCP"
NON_ESP_MARKER = b"\0\0\0\0"
EXCH_INFORMATIONAL = 37
FLAG_INITIATOR = 0x08
PL_SK = 46


def hostport(s):
	h, _, p = s.rpartition(":")
	return h.strip("[]"), int(p)


def frame(msg):
	return struct.pack("!H", len(msg) + 2) + msg


def forged_ike(spi_i, spi_r, msgid):
	"""An INFORMATIONAL request from the original initiator with an SK
	payload of random bytes: right header, no valid ICV."""
	body = os.urandom(8 + 16 + 16)		# IV, "ciphertext", ICV
	sk = struct.pack("!BBH", 0, 0, 4 + len(body)) + body
	hdr = spi_i + spi_r + struct.pack("!BBBBII", PL_SK, 0x20,
	    EXCH_INFORMATIONAL, FLAG_INITIATOR, msgid, 28 + len(sk))
	return NON_ESP_MARKER + hdr + sk


def esp_frame(size=64):
	spi = 0
	while spi == 0:
		spi = struct.unpack("!I", os.urandom(4))[0]
	return frame(struct.pack("!II", spi, 1) + os.urandom(size - 8))


def parse_frames(data):
	out = []
	while len(data) >= 2:
		n = struct.unpack("!H", data[:2])[0]
		if n < 2 or len(data) < n:
			out.append({"partial": len(data)})
			break
		m, data = data[2:n], data[n:]
		f = {"len": len(m)}
		if m[:4] == NON_ESP_MARKER and len(m) >= 32:
			f.update(kind="ike", spi_i=m[4:12].hex(),
			    spi_r=m[12:20].hex(), exchange=m[22],
			    flags=m[23], msgid=struct.unpack("!I", m[24:28])[0])
		else:
			f.update(kind="esp", spi=m[:4].hex())
		out.append(f)
	return out


def connect(addr, src=None, timeout=3.0, rcvbuf=None):
	host, port = hostport(addr)
	fam = socket.AF_INET6 if ":" in host else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_STREAM)
	if rcvbuf:
		s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
	if src:
		s.bind((src, 0))
	s.settimeout(timeout)
	s.connect((host, port))
	return s


def own_init():
	"""A header-only IKE_SA_INIT request with a fresh SPIi: it names no
	session, so the stream starts one of its own."""
	return NON_ESP_MARKER + os.urandom(8) + bytes(8) + struct.pack(
	    "!BBBBII", 0, 0x20, 34, FLAG_INITIATOR, 0, 28)


def claim_bytes(a):
	if a.esp_spi:
		msg = bytes.fromhex(a.esp_spi) + struct.pack("!I", 1) + \
		    os.urandom(56)
	else:
		msg = forged_ike(bytes.fromhex(a.spi_i), bytes.fromhex(a.spi_r),
		    a.msgid)
	return (frame(own_init()) if a.own else b"") + frame(msg)


def cmd_claim(a):
	if not a.esp_spi and (a.spi_i is None or a.spi_r is None or
	    a.msgid is None):
		print("claim: --spi-i, --spi-r and --msgid, or --esp-spi",
		    file=sys.stderr)
		return 2
	srcs = a.src.split(",") if a.src else [None]
	streams = []
	for i in range(a.streams):
		src = srcs[i % len(srcs)]
		st = {"src": src, "rx_bytes": 0, "closed_after": None}
		try:
			s = connect(a.connect, src)
			st["lport"] = s.getsockname()[1]
			s.sendall(PREFIX + claim_bytes(a))
			s.setblocking(False)
			st["sock"], st["buf"], st["t0"] = s, b"", time.time()
		except OSError as e:
			st["error"] = str(e)
		streams.append(st)
	if a.ready:
		with open(a.ready, "w") as f:
			f.write("ready\n")
	end = time.time() + a.hold
	live = [st for st in streams if "sock" in st]
	while live and time.time() < end:
		r, _, _ = select.select([st["sock"] for st in live], [], [],
		    max(0.0, end - time.time()))
		for st in [x for x in live if x["sock"] in r]:
			try:
				d = st["sock"].recv(65536)
			except ConnectionError:
				d = b""
			if d:
				st["buf"] += d
				continue
			st["closed_after"] = round(time.time() - st["t0"], 2)
			live.remove(st)
	out = {"streams": [], "total_rx_bytes": 0, "total_frames": 0,
	    "victim_frames": 0}
	for st in streams:
		if "sock" in st:
			st["sock"].close()
			st["rx_bytes"] = len(st["buf"])
			st["frames"] = parse_frames(st["buf"])
			out["total_rx_bytes"] += st["rx_bytes"]
			out["total_frames"] += len(st["frames"])
			out["victim_frames"] += sum(1 for f in st["frames"]
			    if f.get("kind") == "esp" or (a.spi_i and
			    f.get("spi_i") == a.spi_i.lower()))
		for k in ("sock", "buf", "t0"):
			st.pop(k, None)
		out["streams"].append(st)
	print(json.dumps(out))
	return 0


def cmd_churn(a):
	ok = failed = 0
	errors = {}
	t0 = time.time()
	for _ in range(a.count):
		if time.time() - t0 > a.seconds:
			break
		try:
			s = connect(a.connect, a.src, timeout=a.timeout)
			s.sendall(PREFIX + esp_frame())
			s.close()
			ok += 1
		except OSError as e:
			failed += 1
			k = type(e).__name__
			errors[k] = errors.get(k, 0) + 1
	print(json.dumps({"ok": ok, "failed": failed, "errors": errors,
	    "seconds": round(time.time() - t0, 2)}))
	return 0


def cmd_hold(a):
	socks = []
	for _ in range(a.streams):
		try:
			s = connect(a.connect, a.src)
			s.sendall(PREFIX)
			socks.append(s)
		except OSError:
			break
	time.sleep(a.hold)
	for s in socks:
		s.close()
	print(json.dumps({"streams": len(socks)}))
	return 0


def proxy_v2(i):
	"""PROXY v2 header naming client number i."""
	if i % 2 == 0:
		sa = ipaddress.IPv4Address(0x0a000000 + (i // 2) % (1 << 24))
		da = ipaddress.IPv4Address("127.0.0.1")
		fam = 0x11
	else:
		j = i // 2
		sa = ipaddress.IPv6Address("2001:db8::1") + \
		    ((j & 0xffffffff) << 64)
		da = ipaddress.IPv6Address("::1")
		fam = 0x21
	body = sa.packed + da.packed + struct.pack("!HH", 1024 + i % 60000,
	    4500)
	return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, fam]) +
	    struct.pack("!H", len(body)) + body)


def cmd_proxychurn(a):
	host, port = hostport(a.connect)
	lock = threading.Lock()
	res = {"ok": 0, "failed": 0}
	nxt = [a.first]
	last = a.first + a.count

	def worker():
		while True:
			with lock:
				i = nxt[0]
				if i >= last:
					return
				nxt[0] += 1
			try:
				s = socket.create_connection((host, port), 5)
				s.sendall(proxy_v2(i) + PREFIX)
				# Wait for the relay to read it (it closes
				# the stream after handshake-timeout or keeps
				# it): a short read, then close.
				s.setsockopt(socket.SOL_SOCKET,
				    socket.SO_LINGER, struct.pack("ii", 1, 0))
				s.close()
				ok = True
			except OSError:
				ok = False
			with lock:
				res["ok" if ok else "failed"] += 1

	t0 = time.time()
	ths = [threading.Thread(target=worker) for _ in range(a.parallel)]
	for t in ths:
		t.start()
	for t in ths:
		t.join()
	res["seconds"] = round(time.time() - t0, 2)
	print(json.dumps(res))
	return 0


def cmd_sink(a):
	socks, ports = [], []
	for _ in range(a.streams):
		s = connect(a.connect, rcvbuf=a.rcvbuf)
		s.sendall(PREFIX + esp_frame())
		socks.append(s)
		ports.append(s.getsockname()[1])
	if a.ready:
		with open(a.ready, "w") as f:
			f.write("ready\n")
	end = time.time() + a.hold
	closed = 0
	while time.time() < end:
		time.sleep(0.2)
	for s in socks:
		try:
			# Closed by the relay: the peek sees EOF.
			s.setblocking(False)
			if s.recv(1, socket.MSG_PEEK) == b"":
				closed += 1
		except BlockingIOError:
			pass
		except OSError:
			closed += 1
		s.close()
	print(json.dumps({"streams": len(socks), "closed": closed,
	    "ports": ports}))
	return 0


def cmd_tlscount(a):
	import ssl
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	s = ctx.wrap_socket(connect(a.connect, timeout=5))
	s.sendall(PREFIX + esp_frame())
	if a.ready:
		with open(a.ready, "w") as f:
			f.write("ready\n")
	buf = b""
	end = time.time() + a.hold
	while time.time() < end:
		s.settimeout(max(0.01, end - time.time()))
		try:
			d = s.recv(1 << 20)
		except (socket.timeout, ssl.SSLWantReadError):
			continue
		if not d:
			break
		buf += d
	s.close()
	fr = parse_frames(buf)
	print(json.dumps({"frames": len([f for f in fr if "len" in f]),
	    "bytes": len(buf), "lens": sorted({f.get("len", 0) for f in fr})}))
	return 0


def cmd_flood(a):
	host, port = hostport(a.bind)
	u = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
	    socket.SOCK_DGRAM)
	u.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
	u.bind((host, port))
	u.settimeout(0.5)
	peers = []
	end = time.time() + a.seconds
	while len(peers) < a.learn and time.time() < end:
		try:
			_, p = u.recvfrom(65535)
		except socket.timeout:
			continue
		if p not in peers:
			peers.append(p)
	if a.go:
		with open(a.go + ".learnt", "w") as f:
			f.write("%d\n" % len(peers))
		while not os.path.exists(a.go) and time.time() < end:
			time.sleep(0.05)
	sent = {}
	per = max(1, a.bytes // a.size)
	for k in range(per):
		for p in peers:
			d = struct.pack("!II", 0x1000 + peers.index(p), k + 1) + \
			    b"\xab" * (a.size - 8)
			try:
				u.sendto(d, p)
				sent[p[1]] = sent.get(p[1], 0) + 1
			except OSError:
				time.sleep(0.001)
		if time.time() > end:
			break
		if k % 8 == 7:
			time.sleep(0.002)	# let the relay read its sockets
	print(json.dumps({"peers": len(peers), "datagrams":
	    sum(sent.values()), "bytes": sum(sent.values()) * a.size}))
	return 0


def main():
	p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	sub = p.add_subparsers(dest="cmd", required=True)
	c = sub.add_parser("claim")
	c.add_argument("--connect", required=True)
	c.add_argument("--spi-i")
	c.add_argument("--spi-r")
	c.add_argument("--msgid", type=int)
	c.add_argument("--esp-spi")
	c.add_argument("--own", action="store_true")
	c.add_argument("--streams", type=int, default=1)
	c.add_argument("--src")
	c.add_argument("--hold", type=float, default=5.0)
	c.add_argument("--ready")
	c = sub.add_parser("churn")
	c.add_argument("--connect", required=True)
	c.add_argument("--count", type=int, required=True)
	c.add_argument("--src")
	c.add_argument("--seconds", type=float, default=30.0)
	c.add_argument("--timeout", type=float, default=0.5)
	c = sub.add_parser("hold")
	c.add_argument("--connect", required=True)
	c.add_argument("--streams", type=int, required=True)
	c.add_argument("--src")
	c.add_argument("--hold", type=float, default=5.0)
	c = sub.add_parser("proxychurn")
	c.add_argument("--connect", required=True)
	c.add_argument("--count", type=int, required=True)
	c.add_argument("--first", type=int, default=0)
	c.add_argument("--parallel", type=int, default=8)
	c = sub.add_parser("sink")
	c.add_argument("--connect", required=True)
	c.add_argument("--streams", type=int, required=True)
	c.add_argument("--rcvbuf", type=int, default=4096)
	c.add_argument("--hold", type=float, default=10.0)
	c.add_argument("--ready")
	c = sub.add_parser("tlscount")
	c.add_argument("--connect", required=True)
	c.add_argument("--hold", type=float, default=5.0)
	c.add_argument("--ready")
	c = sub.add_parser("flood")
	c.add_argument("--bind", required=True)
	c.add_argument("--learn", type=int, required=True)
	c.add_argument("--size", type=int, default=1400)
	c.add_argument("--bytes", type=int, default=1 << 20)
	c.add_argument("--seconds", type=float, default=20.0)
	c.add_argument("--go", help="after learning, write GO.learnt and "
	    "wait for GO to exist before sending")
	a = p.parse_args()
	return {"claim": cmd_claim, "churn": cmd_churn, "hold": cmd_hold,
	    "proxychurn": cmd_proxychurn, "sink": cmd_sink, "tlscount": cmd_tlscount,
	    "flood": cmd_flood}[a.cmd](a)


if __name__ == "__main__":
	sys.exit(main())
