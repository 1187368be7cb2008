#!/usr/bin/env bash
# Issue 11, finding 1: the re-attach proof must not be stealable.
#
# Client A (strongSwan initiator -> connector -> relay -> strongSwan
# gateway) has its IKE SA up and idle; its stream is aborted (ss -K)
# right after a DPD exchange.  An attacker on ANOTHER address (namespace
# X), reading A's IKE SPIs and A's next message ID off the relay ->
# gateway leg (the gateway's namespace capture), opens a stream that
# claims them with a forged INFORMATIONAL body, which the gateway drops.
# A's connector is back at once and its next DPD request (that message
# ID) is genuine.  Today the gateway's answer goes to the first stream
# that claimed the message ID: the attacker's, which becomes the
# session's owner and gets A's downlink.  Fixed (design.md), each probe
# has its own gateway-side socket, so the answer reaches A's.
#
# Asserted: the attacker's stream receives no byte after its prefix (no
# frame of A's session, for the whole 10 s it stays); A is back with
# the SAME IKE SPIs, the gateway authenticated it only once, and pings
# go through the tunnel.
#
# Why the IKE path is exercised: our connector opens a new stream with a
# copy of the last ESP message it sent, which re-attaches by ESP SPI
# from the same address without any IKE proof (and drops the attacker).
# So A has sent no ESP at all before the break (the tunnel is set up and
# left idle, no pings until the end): its new stream opens with the DPD
# request, an IKE message, and the relay must decide by the IKE proof.
# (Coming back from a new address would not do: the ESP copy would then
# be refused re-attachment and start a new session.)
. "$(dirname "$0")/lib.sh"
. "$IKT_DIR/attack.sh"

attack_setup
kill_a_stream
mid=$(a_next_msgid)
say "attacker claims SPIs $A_SPI_I/$A_SPI_R, message ID $mid"
claim_bg steal "$mid" 1 "$ATK_ADDR1" 10

# A's next DPD request (message ID $mid) on its new stream, answered.
wait_count dpd_answers "$A_KILLED_ANSWERS" 10 ||
    ATTACK_ERRS+=("A's DPD request after the break was not answered")
claim_check steal
a_resumed
attack_verdict
