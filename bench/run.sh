#!/usr/bin/env bash
# Throughput benchmark: evq against jq, jaq, Miller and angle-grinder on the
# same generated NDJSON file, in one run. Not part of CI.
#
# Usage: bench/run.sh
#
# Environment:
#   BENCH_MB=1000        size of the generated input (10^6 bytes)
#   BENCH_ACCESS_MB=500  size of the generated access log for the text cases
#   BENCH_RUNS=3         runs per command; the best (fastest) one is reported
#   BENCH_CASES=a,b      run only these cases (default: all, see CASES below)
#   BENCH_DATA=bench/data  cache dir for the input file and results.md
#   BENCH_TIMEOUT=3600   seconds before a single command is killed
#   BENCH_CHECK=1        also run each command once more and count its output lines
#   BENCH_NO_INSTALL=1   do not install missing peers
#   EVQ=/path/to/evq     use this binary instead of building target/release/evq
#   EVQ_ARGS="-j 2"      extra options for every evq command
#   BENCH_FILES_DIR=DIR  where the routing cases write their files (default:
#                        /dev/shm when it is writable, else $TMPDIR or /tmp)
#
# Output: one Markdown table per case on stdout, also written to
# $BENCH_DATA/results.md. Speeds use MB = 10^6 bytes; RSS is in MiB.
#
# Adding a case: write a function `case_NAME` that declares one row per tool
# with `evq ARGS...` (first) and `peer TOOL CMD...`, reading the input "$IN"
# (a case may point IN at another file first; "$OUT" is an empty scratch dir
# before every run; commands that write files write under "$FILES", also
# empty before every run), then add NAME to CASES.

set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BENCH_MB=${BENCH_MB:-1000}
BENCH_ACCESS_MB=${BENCH_ACCESS_MB:-500}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_CASES=${BENCH_CASES:-}
BENCH_DATA=${BENCH_DATA:-$BENCH_DIR/data}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}
BENCH_CHECK=${BENCH_CHECK:-0}
BENCH_NO_INSTALL=${BENCH_NO_INSTALL:-0}
EVQ_ARGS=${EVQ_ARGS:-}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export PATH="$CARGO_HOME/bin:$PATH"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/evq-bench.XXXXXX")
trap 'rm -rf "$TMPD" "${FILES_ROOT:-}"' EXIT
OUT=$TMPD/out
# Routing cases write to tmpfs by default: on this machine's ext4, creating
# 10,000 files right after 10,000 were deleted cost from 0.1 s to 5 s from run
# to run (inode allocation skips recently deleted inodes), which measures the
# filesystem's state, not the tools.
if [[ -z ${BENCH_FILES_DIR:-} && -d /dev/shm && -w /dev/shm ]]; then BENCH_FILES_DIR=/dev/shm; fi
FILES_ROOT=$(mktemp -d "${BENCH_FILES_DIR:-$TMPD}/evq-bench-files.XXXXXX")
FILES=$FILES_ROOT/files
RESULTS=$BENCH_DATA/results.md

log() { echo "bench: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------
# Cases. Each row's stdout goes to /dev/null; stdin is /dev/null.

CASES=(filter projection passthrough count stats count_every route route_many access grep)

case_filter() {
  evq 'where level == "error" and latency_ms > 500' "$IN"
  peer jq jq -c 'select(.level == "error" and .latency_ms > 500)' "$IN"
  peer jaq jaq -c 'select(.level == "error" and .latency_ms > 500)' "$IN"
  peer mlr mlr --ijsonl --ojsonl filter '$level == "error" && $latency_ms > 500' "$IN"
  peer agrind agrind -o json -f "$IN" '* | json | where level == "error" && latency_ms > 500'
}

# evq's keep omits a missing field, while jq/jaq emit "user":{"id":null} when
# user is absent (~10% of events); Miller flattens to "user.id", cuts, and
# nests again (same output as evq); angle-grinder's fields keeps only top-level
# keys, so it outputs the whole user object. None of this matters for speed.
case_projection() {
  evq 'keep ts, type, user.id' "$IN"
  peer jq jq -c '{ts, type, user: {id: .user.id}}' "$IN"
  peer jaq jaq -c '{ts, type, user: {id: .user.id}}' "$IN"
  peer mlr mlr --ijsonl --ojsonl flatten then cut -o -f ts,type,user.id then unflatten "$IN"
  peer agrind agrind -o json -f "$IN" '* | json | fields ts, type, user.id'
}

# jq 1.6 rounds integers beyond 2^53 and angle-grinder writes 11.0 as 11; jaq
# and Miller keep the values (evq writes the original bytes).
case_passthrough() {
  evq 'where true' "$IN"
  peer jq jq -c . "$IN"
  peer jaq jaq -c . "$IN"
  peer mlr mlr --ijsonl --ojsonl cat "$IN"
  peer agrind agrind -o json -f "$IN" '* | json'
}

case_count() {
  evq 'count by type' "$IN"
  peer jq jq -n 'reduce inputs as $e ({}; .[$e.type] += 1)' "$IN"
  peer jaq jaq -n 'reduce inputs as $e ({}; .[$e.type] += 1)' "$IN"
  peer mlr mlr --ijsonl --ojsonl count -g type "$IN"
  peer agrind agrind -f "$IN" '* | json | count by type'
}

# jq and jaq have no percentile in a streaming reduce: they compute count, sum
# and max only, which flatters them.
case_stats() {
  local q='reduce inputs as $e ({}; .[$e.service] as $s | .[$e.service] = {count: (($s.count // 0) + 1), sum: (($s.sum // 0) + ($e.latency_ms // 0)), max: (if $s.max == null or $e.latency_ms > $s.max then $e.latency_ms else $s.max end)})'
  evq 'stats count(), sum(latency_ms), avg(latency_ms), max(latency_ms), p99(latency_ms) by service' "$IN"
  peer jq jq -n "$q" "$IN"
  peer jaq jaq -n "$q" "$IN"
  peer mlr mlr --ijsonl --ojsonl stats1 -a count,sum,mean,max,p99 -f latency_ms -g service "$IN"
  peer agrind agrind -f "$IN" '* | json | count, sum(latency_ms), average(latency_ms), max(latency_ms), p99(latency_ms) by service'
}

# Windows cost little: compare with case_count (target: at least half its speed).
case_count_every() {
  evq 'count by type every 1m' "$IN"
  peer evq-count "$EVQ" $EVQ_ARGS 'count by type' "$IN"
}

case_route() {
  evq 'route by service' -O "$FILES/route" "$IN"
  peer mlr mlr --ijsonl --ojsonl --from "$IN" split -g service --prefix "$FILES/mlr/split"
  peer jq-awk sh -c 'jq -r "[.service, tostring] | @tsv" "$1" | awk -F "\t" -v d="$2" "{ print \$2 > (d \"/\" \$1 \".ndjson\") }"' sh "$IN" "$FILES/awk"
}

# Over 10,000 topics with the default --max-open-files: compare with case_route.
case_route_many() {
  evq 'route by user.id' -O "$FILES/route_many" "$IN"
  peer evq-30-topics "$EVQ" $EVQ_ARGS 'route by service' -O "$FILES/route30" "$IN"
}

# The text cases read a generated combined-format access log (BENCH_ACCESS_MB).
case_access() {
  local IN=$ACCESS
  evq 'parse combined | count by status' "$IN"
  peer agrind agrind -f "$IN" '* | parse regex "^(?P<client>\\S+) \\S+ (?P<user>\\S+) \\[(?P<time>[^\\]]+)\\] \"(?P<request>[^\"]*)\" (?P<status>\\d{3}) (?P<bytes>\\S+)" | count by status'
  # Miller has no access-log reader. First the same regex as angle-grinder (every line checked, the
  # fields extracted), then its fastest possible form: a split on spaces, whose 9th field is the status
  # only while requests have exactly three words — it parses nothing.
  peer mlr mlr --inidx --ifs tab --ojson put -q 'if ($1 =~ "^(\S+) \S+ (\S+) \[([^]]+)\] \"([^\"]*)\" ([0-9]{3}) (\S+)") { @count["\5"] += 1 } end { emit @count, "status" }' "$IN"
  peer mlr mlr --inidx --ifs space --ojson count-distinct -f 9 "$IN"
}

case_grep() {
  local IN=$ACCESS
  evq -i lines 'where line =~ /" 5\d\d /' "$IN"
  # GNU grep stops at the first match when its output is /dev/null: write to a file.
  peer grep sh -c 'LC_ALL=C grep -E "\" 5[0-9][0-9] " "$1" > "$2"' sh "$IN" "$TMPD/grep.out"
}

# Sorting past memory: read the peak RSS column. evq spills past --memory-limit 64M; GNU sort gets the same
# buffer (-S 64M) and sorts whole lines, which is the order of `ts`, every event's first key. evq-default
# shows the default --memory-limit (1G). jq (-s) and Miller hold the whole input in memory.
case_sort() {
  evq --memory-limit 64M 'sort ts' "$IN"
  peer evq-default "$EVQ" $EVQ_ARGS 'sort ts' "$IN"
  peer sort sort -S 64M "$IN"
  peer jq jq -c -s 'sort_by(.ts)[]' "$IN"
  peer mlr mlr --ijsonl --ojsonl sort -f ts "$IN"
}
CASES+=(sort)

# The event-pattern stages against `count by type` on the same file (target: each at least
# half its speed; `dedupe … within 1m` at most 128 MiB). The generated events carry a
# top-level trace_id, which repeats within a trace.
case_patterns() {
  evq 'dedupe by trace_id within 1m' "$IN"
  peer evq-sample "$EVQ" $EVQ_ARGS 'sample 1% by user.id' "$IN"
  peer evq-fold "$EVQ" $EVQ_ARGS 'fold by user.id' "$IN"
  peer evq-count "$EVQ" $EVQ_ARGS 'count by type' "$IN"
}
CASES+=(patterns)

# One line holding a 1M-element array, split into 1M events: the peak RSS column shows
# that the copies are made as they are taken (the line is 7.9 MB).
case_explode_long() {
  local IN=$BENCH_DATA/array-1m.ndjson
  if [[ ! -f $IN ]]; then
    log "generating $IN"
    python3 -c 'import json, sys
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"id": 1, "items": list(range(1000000))}) + "\n")' "$IN.tmp"
    mv "$IN.tmp" "$IN"
  fi
  evq 'explode items' "$IN"
  peer jq jq -c '.items[] as $i | .items = $i' "$IN"
}
CASES+=(explode_long)

# ---------------------------------------------------------------------------
# Group memory: `count by k` over 1M and 10M distinct keys ({"k":"user-<i>"},
# generated once into $BENCH_DATA). The peak RSS column is the point: divided
# by the number of keys it is the memory per group (target: at most 200 bytes).

CASES+=(groups_1m groups_10m)

# distinct_keys N: prints the path of a file of N lines {"k":"user-<i>"}.
distinct_keys() {
  local f=$BENCH_DATA/keys-$1.ndjson
  if [[ ! -f $f ]]; then
    log "generating $f"
    python3 -c 'import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("{\"k\":\"user-%d\"}\n" % i)' "$f.tmp" "$1"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

case_groups_1m() {
  local IN
  IN=$(distinct_keys 1000000)
  evq 'count by k' "$IN"
  peer mlr mlr --ijsonl --ojsonl count -g k "$IN"
}

case_groups_10m() {
  local IN
  IN=$(distinct_keys 10000000)
  evq 'count by k' "$IN"
  peer mlr mlr --ijsonl --ojsonl count -g k "$IN"
}

# ---------------------------------------------------------------------------
# Cardinality: `count by k` over the same 2M lines with 1k, 100k and 1M distinct
# keys ({"k":"user-<i mod N>","v":<i>}). The target: 1M keys within 2x the time
# of 1k keys; the peak RSS column gives the memory per group.

CASES+=(keys_1k keys_100k keys_1m)

# cycled_keys N: prints the path of a file of 2M lines whose k cycles through N values.
cycled_keys() {
  local f=$BENCH_DATA/keys-2m-of-$1.ndjson
  if [[ ! -f $f ]]; then
    log "generating $f"
    python3 -c 'import sys
n = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    for i in range(2000000):
        f.write("{\"k\":\"user-%d\",\"v\":%d}\n" % (i % n, i))' "$f.tmp" "$1"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

keys_case() {
  local IN
  IN=$(cycled_keys "$1")
  evq 'count by k' "$IN"
  peer mlr mlr --ijsonl --ojsonl count -g k "$IN"
}

case_keys_1k() { keys_case 1000; }
case_keys_100k() { keys_case 100000; }
case_keys_1m() { keys_case 1000000; }

# ---------------------------------------------------------------------------
# Peers and evq.

# Install missing peers: Debian packages with apt-get, crates with cargo.
# A peer that cannot be installed is reported and left out of the tables.
install_peers() {
  local pkgs=() p sudo=()
  have jq || pkgs+=(jq)
  have mlr || pkgs+=(miller)
  [[ -x /usr/bin/time ]] || pkgs+=(time)
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  if ((${#pkgs[@]})); then
    if have apt-get && "${sudo[@]}" apt-get update -qq >"$TMPD/apt.log" 2>&1; then
      for p in "${pkgs[@]}"; do
        log "installing Debian package $p"
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" >>"$TMPD/apt.log" 2>&1 ||
          log "could not install Debian package $p: skipping it"
      done
    else
      log "apt-get not usable: cannot install ${pkgs[*]}"
    fi
  fi
  cargo_install jaq jaq
  cargo_install ag agrind
}

# cargo_install CRATE BINARY: build a crate at low priority with one job.
cargo_install() {
  have "$2" && return 0
  if ! have cargo; then
    log "cargo not found: cannot install $2, skipping it"
    return 0
  fi
  log "installing crate $1 (binary $2) with cargo install --locked"
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} nice -n 19 cargo install --locked "$1" >&2 ||
    log "could not install crate $1: skipping $2"
}

# Build evq unless EVQ names a binary; a failed build makes every evq row "failed".
prepare_evq() {
  EVQ_OK=1
  if [[ -z ${EVQ:-} ]]; then
    EVQ=$ROOT/target/release/evq
    log "building evq (cargo build --release)"
    (cd "$ROOT" && cargo build --release >&2) || { log "cargo build failed: evq rows will be 'failed'"; EVQ_OK=0; }
  fi
  if [[ ! -x $EVQ ]]; then
    log "evq binary $EVQ not found: evq rows will be 'failed'"
    EVQ_OK=0
  fi
}

version_of() { # one line naming TOOL's version, or "not installed"
  local v
  case $1 in
    evq) [[ $EVQ_OK == 1 ]] && v=$("$EVQ" --version 2>/dev/null | head -n1) || v="not available" ;;
    mlr) v=$(mlr --version 2>/dev/null | head -n1) || v="not installed" ;;
    *) v=$("$1" --version 2>/dev/null | head -n1) || v="not installed" ;;
  esac
  echo "${v:-unknown}"
}

# ---------------------------------------------------------------------------
# Input data: generated once per size, regenerated when gen.py changes.

prepare_data() {
  mkdir -p "$BENCH_DATA"
  DATA=$BENCH_DATA/events-${BENCH_MB}mb.ndjson
  local stamp sum
  sum=$(sha256sum "$BENCH_DIR/gen.py" | cut -d' ' -f1)
  stamp=$DATA.gen-sha256
  if [[ -f $DATA && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    log "reusing $DATA"
  else
    log "generating $DATA ($BENCH_MB MB)"
    rm -f "$DATA" "$stamp"
    python3 "$BENCH_DIR/gen.py" "$DATA.tmp" "$BENCH_MB"
    mv "$DATA.tmp" "$DATA"
    echo "$sum" >"$stamp"
  fi
  DATA_LINES=$(wc -l <"$DATA")
  ACCESS=$BENCH_DATA/access-${BENCH_ACCESS_MB}mb.log
  sum=$(sha256sum "$BENCH_DIR/gen_access.py" | cut -d' ' -f1)
  if [[ -f $ACCESS && -f $ACCESS.gen-sha256 && $(cat "$ACCESS.gen-sha256") == "$sum" ]]; then
    log "reusing $ACCESS"
  else
    log "generating $ACCESS ($BENCH_ACCESS_MB MB)"
    python3 "$BENCH_DIR/gen_access.py" "$ACCESS.tmp" "$BENCH_ACCESS_MB"
    mv "$ACCESS.tmp" "$ACCESS"
    echo "$sum" >"$ACCESS.gen-sha256"
  fi
}

# ---------------------------------------------------------------------------
# Measurement and tables.

# measure CMD...: run once; sets M_SECS (wall, from EPOCHREALTIME), M_RSS
# (peak RSS KiB, from /usr/bin/time %M) and M_RC (exit status).
#
# Commands that write files write under $FILES, emptied before each run. A
# filesystem can charge a run for what an earlier one left: ext4 writes back a
# truncated file when it is closed, skips the inodes deleted in the last five
# seconds when it creates files, and earlier outputs fill the page cache, so the
# run's writes wait for memory to be reclaimed. So earlier outputs are deleted,
# not truncated, and the clock starts after `sync` and six seconds.
measure() {
  local t0 t1
  rm -rf "$OUT" && mkdir -p "$OUT"
  if [[ -n $(ls -A "$FILES" 2>/dev/null) ]]; then
    rm -rf "$FILES"
    sync
    sleep 6
  fi
  mkdir -p "$FILES/mlr" "$FILES/awk"
  t0=$EPOCHREALTIME
  if /usr/bin/time -f '%e %M' -o "$TMPD/time" timeout "$BENCH_TIMEOUT" "$@" \
    </dev/null >/dev/null 2>"$TMPD/stderr"; then
    M_RC=0
  else
    M_RC=$?
  fi
  t1=$EPOCHREALTIME
  M_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  M_RSS=$(tail -n1 "$TMPD/time" | awk '{ print $2 }')
}

# Render a command for the table: input path shortened, args quoted as needed,
# and `|` escaped for Markdown.
show_cmd() {
  local a s=""
  for a in "$@"; do
    [[ $a == "$IN" ]] && a=$(basename "$IN")
    [[ $a == "$EVQ" ]] && a=evq
    if [[ $a =~ ^[A-Za-z0-9_./=,:+-]+$ ]]; then s+="$a "; else s+="'${a//\'/\'\\\'\'}' "; fi
  done
  s=${s% }
  echo "${s//|/\\|}"
}

emit() { echo "$*" | tee -a "$RESULTS"; }

table_header() {
  local check_h="" check_s=""
  [[ $BENCH_CHECK == 1 ]] && check_h=" lines out |" check_s="---:|"
  emit ""
  emit "### $1"
  emit ""
  emit "| tool | command | seconds | MB/s | peak RSS MiB | evq speed / peer speed |$check_h"
  emit "|---|---|---:|---:|---:|---:|$check_s"
}

# row TOOL CMD...: best of BENCH_RUNS runs, printed as one table row.
row() {
  local tool=$1; shift
  local cmd best="" rss=0 i err="" msg ratio="—" bytes mbps check=""
  cmd=$(show_cmd "$@")
  bytes=$(stat -c %s "$IN")
  for ((i = 0; i < BENCH_RUNS; i++)); do
    measure "$@"
    log "$tool: run $((i + 1)) of $BENCH_RUNS: ${M_SECS} s"
    if ((M_RC != 0)); then
      err="exit $M_RC"
      ((M_RC == 124)) && err="timeout"
      msg=$(tail -n1 "$TMPD/stderr" | cut -c1-80)
      [[ -z $msg ]] || err+=": $msg"
      err=${err//|/\\|}
      break
    fi
    ((M_RSS > rss)) && rss=$M_RSS
    if [[ -z $best ]] || awk -v a="$M_SECS" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$M_SECS; fi
  done
  if [[ $BENCH_CHECK == 1 ]]; then
    if [[ -z $err ]]; then check=" $({ timeout "$BENCH_TIMEOUT" "$@" </dev/null 2>/dev/null || true; } | wc -l) |"; else check=" — |"; fi
  fi
  if [[ -n $err ]]; then
    emit "| $tool | \`$cmd\` | failed ($err) | — | — | — |$check"
    [[ $tool == evq ]] && EVQ_SECS=""
    return 0
  fi
  mbps=$(awk -v b="$bytes" -v s="$best" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }')
  if [[ $tool == evq ]]; then
    EVQ_SECS=$best
    ratio="1.0×"
  elif [[ -n ${EVQ_SECS:-} ]]; then
    ratio=$(awk -v p="$best" -v e="$EVQ_SECS" 'BEGIN { printf "%.1f×", (e > 0 ? p / e : 0) }')
  fi
  emit "| $tool | \`$cmd\` | $best | $mbps | $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') | $ratio |$check"
}

# Row declarations used by the case functions.
evq() {
  if [[ $EVQ_OK != 1 ]]; then
    emit "| evq | \`$(show_cmd evq $EVQ_ARGS "$@")\` | failed (no binary) | — | — | — |$([[ $BENCH_CHECK == 1 ]] && echo " — |")"
    EVQ_SECS=""
    return 0
  fi
  # shellcheck disable=SC2086 # EVQ_ARGS is split on purpose
  row evq "$EVQ" $EVQ_ARGS "$@"
}
peer() {
  local tool=$1; shift
  have "$1" || return 0 # not installed: reported at startup
  row "$tool" "$@"
}

# ---------------------------------------------------------------------------
# Main.

main() {
  local c selected=() name
  [[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || { log "BENCH_RUNS must be a positive integer"; exit 2; }
  if [[ -n $BENCH_CASES ]]; then
    IFS=, read -r -a selected <<<"$BENCH_CASES"
    for c in "${selected[@]}"; do
      declare -F "case_$c" >/dev/null || { log "unknown case '$c' (cases: ${CASES[*]})"; exit 2; }
    done
  else
    selected=("${CASES[@]}")
  fi

  [[ $BENCH_NO_INSTALL == 1 ]] || install_peers
  [[ -x /usr/bin/time ]] || { log "/usr/bin/time (GNU time) is required"; exit 2; }
  for name in jq jaq mlr agrind; do have "$name" || log "peer $name is not installed: skipping it"; done
  prepare_evq
  prepare_data

  log "warming the page cache"
  cat "$DATA" >/dev/null

  : >"$RESULTS"
  emit "# evq benchmark"
  emit ""
  emit "Input: \`$(basename "$DATA")\`, $(stat -c %s "$DATA") bytes, $DATA_LINES lines." \
    "Best of $BENCH_RUNS runs. $(nproc) CPUs, $(uname -sr)." \
    "Routing cases write to $(dirname "$FILES_ROOT") ($(stat -f -c %T "$FILES_ROOT"))."
  emit ""
  emit "| tool | version |"
  emit "|---|---|"
  for name in evq jq jaq mlr agrind; do
    [[ $name == evq ]] || have "$name" || continue
    emit "| $name | $(version_of "$name") |"
  done

  for c in "${selected[@]}"; do
    IN=$DATA
    EVQ_SECS=""
    table_header "$c"
    "case_$c"
  done
  log "results written to $RESULTS"
}

main "$@"
