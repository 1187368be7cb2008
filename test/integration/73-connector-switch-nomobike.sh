#!/usr/bin/env bash
# 70-connector-switch with an initiator that has MOBIKE off: the gateway
# then follows the session to the relay and back on the first
# authenticated new request from the new address (RFC 7296 §2.23: the
# DPD the connector replays on the stream, later the initiator's next
# DPD over UDP), not on an UPDATE_SA_ADDRESSES.
INIT_MOBIKE=no
# shellcheck source=70-connector-switch.sh
. "$(dirname "$0")/70-connector-switch.sh"
