#!/bin/sh
# Runs the load generator's goal scenarios of docs/performance.md, each
# against a fresh server process on loopback (so RSS starts from idle),
# and prints one Markdown row per scenario; JSON goes to $OUT/*.json.
#
#   cmd/aula-load/goals.sh            # all scenarios
#   cmd/aula-load/goals.sh audio500   # one of: audio500 video300 audio300 fanout300
#                                     # (or videomix, videof: not in all)
#
# AULA_BIN may name a prebuilt server (e.g. one built with a profiling
# overlay); DURATION sets the measurement window (default 30s); LOADFLAGS
# adds aula-load flags (e.g. -cpuprofile FILE). Each run first waits (up
# to QUIET_WAIT=300 s) until the machine is below QUIET_BUSY=10 % busy, as
# other work on the two cores changes the figures a lot; the report's
# "other CPU %" column shows what still ran beside. NICE=-10 (as root)
# runs server and generator ahead of such background work.
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

busy() { # machine CPU busy %, all cores together, over 3 s
	set -- $(head -1 /proc/stat)
	b1=$(($2 + $3 + $4 + $7 + $8 + $9)) t1=$(($2 + $3 + $4 + $5 + $6 + $7 + $8 + $9))
	sleep 3
	set -- $(head -1 /proc/stat)
	b2=$(($2 + $3 + $4 + $7 + $8 + $9)) t2=$(($2 + $3 + $4 + $5 + $6 + $7 + $8 + $9))
	echo $(((b2 - b1) * 100 / (t2 - t1 + 1)))
}

quiet() { # wait (up to QUIET_WAIT seconds) until others leave the CPU idle
	waited=0
	while [ "$(busy)" -gt "${QUIET_BUSY:-10}" ] && [ $waited -lt "${QUIET_WAIT:-300}" ]; do
		waited=$((waited + 3))
	done
}

run() { # name, then aula-load flags
	quiet
	name=$1
	shift
	AULA_SECRET=$SECRET nice -n "${NICE:-0}" "$AULA_BIN" -demo=false -http-addr 127.0.0.1:$PORT \
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
	nice -n "${NICE:-0}" "$OUT/aula-load" -url "http://127.0.0.1:$PORT" -secret "$SECRET" \
		-duration "$DURATION" -json "$OUT/$name.json" ${LOADFLAGS:-} "$@" | sed -n 3p || true
	kill -TERM $pid
	wait $pid || true
}

want=${1:-all}
# Not part of "all": the video scenario at other simulcast layers.
[ "$want" != videomix ] || run videomix -video-publishers 2 -subscribers 300 -video-layer mix
[ "$want" != videof ] || run videof -video-publishers 2 -subscribers 300 -video-layer f
[ "$want" != all ] && [ "$want" != audio500 ] || run audio500 -audio-publishers 5 -subscribers 500
[ "$want" != all ] && [ "$want" != video300 ] || run video300 -video-publishers 2 -subscribers 300 -video-layer h
[ "$want" != all ] && [ "$want" != audio300 ] || run audio300 -audio-publishers 5 -subscribers 300
# Fan-out latency and CPU per packet at 300 subscribers with CPU to spare.
[ "$want" != all ] && [ "$want" != fanout300 ] || run fanout300 -audio-publishers 1 -subscribers 300
