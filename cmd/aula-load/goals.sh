#!/bin/sh
# Runs the load generator's goal scenarios of docs/performance.md, each
# against a fresh server process on loopback (so RSS starts from idle),
# and prints one Markdown row per scenario; JSON goes to $OUT/*.json.
#
#   cmd/aula-load/goals.sh            # all scenarios
#   cmd/aula-load/goals.sh audio500   # one of: audio500 video300 cpu
#
# AULA_BIN may name a prebuilt server (e.g. one built with a profiling
# overlay); DURATION sets the measurement window (default 30s).
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/aula-load}
DURATION=${DURATION:-30s}
PORT=${PORT:-18080}
SECRET=loadtest-secret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$OUT/data"
if [ -z "${AULA_BIN:-}" ]; then
	go build -o "$OUT/aula" ./cmd/aula
	AULA_BIN=$OUT/aula
fi
go build -o "$OUT/aula-load" ./cmd/aula-load

run() { # name, then aula-load flags
	name=$1
	shift
	AULA_SECRET=$SECRET "$AULA_BIN" -demo=false -http-addr 127.0.0.1:$PORT \
		-rtc-udp-port $((PORT + 2)) -rtc-tcp-port -1 -data-dir "$OUT/data" \
		-log-level warn >"$OUT/$name.server.log" 2>&1 &
	pid=$!
	i=0
	until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill $pid; echo "server did not start" >&2; exit 1; }
		sleep 0.1
	done
	echo "== $name: aula-load $*" >&2
	"$OUT/aula-load" -url "http://127.0.0.1:$PORT" -secret "$SECRET" \
		-duration "$DURATION" -json "$OUT/$name.json" "$@" | sed -n 3p || true
	kill -TERM $pid
	wait $pid || true
}

want=${1:-all}
[ "$want" != all ] && [ "$want" != audio500 ] || run audio500 -audio-publishers 5 -subscribers 500
[ "$want" != all ] && [ "$want" != video300 ] || run video300 -video-publishers 2 -subscribers 300 -video-layer h
[ "$want" != all ] && [ "$want" != audio300 ] || run audio300 -audio-publishers 5 -subscribers 300
