#!/usr/bin/env bash
# Scale-out benchmark: `nats → where → topic files` with 1, 2 and 4 evq consumers
# sharing one durable on a local JetStream server, and the same pipeline from a
# file for comparison. Not part of CI.
#
# Usage: bench/nats.sh
#
# Environment:
#   BENCH_MB=200         size of the generated input (10^6 bytes)
#   BENCH_CONSUMERS="1 2 4"  consumer counts to measure
#   BENCH_PORT=14299     the local server's port (127.0.0.1 only)
#   BENCH_DATA=bench/data  cache dir for the input file and nats.md
#   EVQ=/path/to/evq     use this binary instead of building target/release/evq --features nats
#   EVQ_ARGS="-j 2"      extra options for every evq command
#
# Output: a Markdown table on stdout, also written to $BENCH_DATA/nats.md.
# Speeds use MB = 10^6 bytes of input events.

set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BENCH_MB=${BENCH_MB:-200}
BENCH_CONSUMERS=${BENCH_CONSUMERS:-1 2 4}
BENCH_PORT=${BENCH_PORT:-14299}
BENCH_DATA=${BENCH_DATA:-$BENCH_DIR/data}
EVQ_ARGS=${EVQ_ARGS:-}
PIPELINE='where level == "error" or latency_ms > 500 | to "'

log() { echo "bench: $*" >&2; }

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/evq-bench-nats.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$TMPD"
}
trap cleanup EXIT

if ! command -v nats-server >/dev/null; then
  echo "bench: nats-server is missing (apt-get install nats-server)" >&2
  exit 1
fi
if [[ -z ${EVQ:-} ]]; then
  log "building evq --release --features nats"
  (cd "$ROOT" && cargo build --release --features nats --quiet)
  EVQ=$ROOT/target/release/evq
fi

mkdir -p "$BENCH_DATA"
IN=$BENCH_DATA/events-${BENCH_MB}mb.ndjson
if [[ ! -s $IN ]]; then
  log "generating $IN"
  python3 "$BENCH_DIR/gen.py" "$IN" "$BENCH_MB"
fi
EVENTS=$(wc -l <"$IN")
BYTES=$(stat -c %s "$IN")

nats-server -js -a 127.0.0.1 -p "$BENCH_PORT" -sd "$TMPD/store" >"$TMPD/server.log" 2>&1 &
server_pid=$!
sleep 0.5

# A stream BENCH on BENCH.> filled with the input's lines, one message each,
# over the plain NATS protocol; then one consumer operation per command.
nats_py() {
  python3 - "$BENCH_PORT" "$@" <<'PY'
import json, socket, sys, time
port, op = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
f.readline()
s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
def request(subject, payload=b""):
    s.sendall(b"SUB _INBOX.b 1\r\nUNSUB 1 1\r\nPUB %s _INBOX.b %d\r\n%s\r\n" % (subject.encode(), len(payload), payload))
    while True:
        line = f.readline()
        if line.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
        elif line.startswith(b"MSG"):
            body = f.read(int(line.split()[-1]) + 2)
            return json.loads(body[:-2])
if op == "fill":
    request("$JS.API.STREAM.DELETE.BENCH")
    cfg = {"name": "BENCH", "subjects": ["BENCH.>"], "storage": "file", "max_bytes": -1}
    request("$JS.API.STREAM.CREATE.BENCH", json.dumps(cfg).encode())
    n = 0
    with open(sys.argv[3], "rb") as src:
        buf = []
        for line in src:
            line = line.rstrip(b"\n")
            buf.append(b"PUB BENCH.e %d\r\n%s\r\n" % (len(line), line))
            n += 1
            if len(buf) == 5000:
                s.sendall(b"".join(buf)); buf = []
        s.sendall(b"".join(buf))
    while request("$JS.API.STREAM.INFO.BENCH")["state"]["messages"] < n:
        time.sleep(0.2)
elif op == "reset":
    request("$JS.API.CONSUMER.DELETE.BENCH.bench")
PY
}

log "publishing $EVENTS events to the stream BENCH"
nats_py fill "$IN"

rate() { # SECONDS → "events/s | MB/s"
  python3 -c "import sys; t=float(sys.argv[1]); print(f'{$EVENTS/t:,.0f} | {$BYTES/1e6/t:,.1f}')" "$1"
}

now() { date +%s.%N; }

rows=()
files=$TMPD/files
rm -rf "$files"
start=$(now)
# shellcheck disable=SC2086
"$EVQ" $EVQ_ARGS "$PIPELINE$files/{service}.ndjson\"" "$IN" >/dev/null
secs=$(python3 -c "print($(now) - $start)")
rows+=("| file | 1 | $(printf %.2f "$secs") | $(rate "$secs") |")

for n in $BENCH_CONSUMERS; do
  nats_py reset
  rm -rf "$files"
  pids=()
  start=$(now)
  for k in $(seq "$n"); do
    # shellcheck disable=SC2086
    "$EVQ" $EVQ_ARGS "$PIPELINE$files/$k/{service}.ndjson\"" \
      "nats://127.0.0.1:$BENCH_PORT/BENCH?durable=bench&batch=1000" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  secs=$(python3 -c "print($(now) - $start)")
  rows+=("| nats | $n | $(printf %.2f "$secs") | $(rate "$secs") |")
done

{
  echo "nats → where → topic files, $EVENTS events, $((BYTES / 1000000)) MB, $(nproc) cores"
  echo
  echo "| source | consumers | seconds | events/s | MB/s |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} | tee "$BENCH_DATA/nats.md"
