#!/usr/bin/env bash
# 75-haproxy-scale-out with haproxy sticking on the client's address
# (stick on src, as the commented lines of conf/haproxy.cfg): the
# reconnect goes back to the relay that holds the session, which
# re-attaches it at once by ESP from the previous client address, with
# no wait for the initiator's DPD (outage under 1 s, the gateway's peer
# unchanged).
SCALE_STICK=yes
# shellcheck source=75-haproxy-scale-out.sh
. "$(dirname "$0")/75-haproxy-scale-out.sh"
