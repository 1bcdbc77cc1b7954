#!/bin/sh
# Steps the whiteboard broadcast of docs/performance.md ("Whiteboard
# broadcast") through rising rates, each against a fresh server process on
# loopback, and prints one Markdown row per rate; JSON goes to
# $OUT/wb-<rate>.json.
#
#   cmd/aula-wb/steps.sh                 # rates 20 40 60 120 240
#   RATES="240 480" cmd/aula-wb/steps.sh
#
# PARTICIPANTS (default 100), DURATION (default 20s) and WBFLAGS (more
# aula-wb flags, e.g. "-stroke 20 -points 5") change the scenario; AULA_BIN
# may name a prebuilt server. Each run first waits (up to QUIET_WAIT=60 s)
# until the machine is below QUIET_BUSY=10 % busy; the report's "other
# CPU %" column shows what still ran beside. NICE=-10 (as root) runs
# server and generator ahead of such background work.
set -eu
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/aula-wb}
DURATION=${DURATION:-20s}
PARTICIPANTS=${PARTICIPANTS:-100}
RATES=${RATES:-20 40 60 120 240}
PORT=${PORT:-18180}
SECRET=wbtest-secret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$OUT"
if [ -z "${AULA_BIN:-}" ]; then
	go build -o "$OUT/aula" ./cmd/aula
	AULA_BIN=$OUT/aula
fi
go build -o "$OUT/aula-wb" ./cmd/aula-wb

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
	while [ "$(busy)" -gt "${QUIET_BUSY:-10}" ] && [ $waited -lt "${QUIET_WAIT:-60}" ]; do
		waited=$((waited + 3))
	done
}

header=true
for rate in $RATES; do
	quiet
	rm -rf "$OUT/data"
	mkdir -p "$OUT/data"
	AULA_SECRET=$SECRET nice -n "${NICE:-0}" "$AULA_BIN" -demo=false -http-addr 127.0.0.1:$PORT \
		-rtc-udp-port $((PORT + 2)) -rtc-tcp-port -1 -data-dir "$OUT/data" \
		-log-level warn >"$OUT/wb-$rate.server.log" 2>&1 &
	pid=$!
	i=0
	until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill $pid; echo "server did not start" >&2; exit 1; }
		sleep 0.1
	done
	echo "== rate $rate: aula-wb -participants $PARTICIPANTS -rate $rate -duration $DURATION ${WBFLAGS:-}" >&2
	nice -n "${NICE:-0}" "$OUT/aula-wb" -url "http://127.0.0.1:$PORT" -secret "$SECRET" \
		-participants "$PARTICIPANTS" -rate "$rate" -duration "$DURATION" -header=$header \
		-json "$OUT/wb-$rate.json" ${WBFLAGS:-} || true
	header=false
	kill -TERM $pid
	wait $pid || true
done
