#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60) on its saved corpus and
# seeds. Exits non-zero when any target crashes, times out or runs out of memory; the
# input is left in fuzz/artifacts/TARGET/ and its panic message is printed.
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
set -uo pipefail

secs=${1:-60}
cd "$(dirname "$0")/.." || exit 2
fuzz=(cargo +nightly fuzz)

"${fuzz[@]}" build -a || exit 2
status=0
for target in $("${fuzz[@]}" list); do
    mkdir -p "fuzz/corpus/$target"
    dirs=("fuzz/corpus/$target")
    [ -d "fuzz/seeds/$target" ] && dirs+=("fuzz/seeds/$target")
    echo "fuzz: $target for ${secs}s"
    # stdout and stderr of the target are closed: the engine reports dead letters on every run.
    if ! "${fuzz[@]}" run -a "$target" "${dirs[@]}" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -close_fd_mask=3 -print_final_stats=1; then
        status=1
        for input in "fuzz/artifacts/$target"/*; do
            [ -f "$input" ] || continue
            echo "fuzz: $target failed on $input:"
            "${fuzz[@]}" run -a "$target" "$input" 2>&1 | grep -E -A3 "panicked at|ERROR: libFuzzer|SUMMARY" | head -20
        done
    fi
done
exit "$status"
