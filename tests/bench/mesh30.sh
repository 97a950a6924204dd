#!/bin/bash
# mesh30.sh BUILDDIR [ROUNDS] [COUNT] - thirty nodes on this machine, found by
# mDNS (a private avahi-daemon on lo, in the benchmark's own network
# namespace), no --peer: time to one mesh, the leader's CPU and the bytes
# each node sends at idle, and the time to replace a SIGKILLed voter.
# Root (network namespaces). See tests/bench/mesh30.py for what is measured.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: mesh30.sh BUILDDIR [ROUNDS] [COUNT]}
mesh=$(readlink -f "$build/src/mesh")
exec "$top/tests/mdns/run_avahi_test.sh" with-avahi \
    python3 "$top/tests/bench/mesh30.py" "$mesh" "${2:-3}" "${3:-30}"
