#!/usr/bin/env bash
# Benchmark for `tritonpack bundle` (not a test): bundles a repository of >= 1 GiB (the synthetic
# saved graph of bench-pack.sh, packed with --link) and times it in the same run against Info-ZIP's
# `zip -r -0` of the same folder, `cp -r` of it, and reading it with zlib.crc32 in Python. Median of RUNS runs
# with a warm page cache, `sync` before each. `bundle --no-sync` is the like-for-like comparison
# (zip does not fsync); plain `bundle` adds the fsync before the rename. Peak memory (max RSS) is
# reported for the 1 GiB bundle and for the 20 KB sample bundle: it must not grow with the size.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench-work}
bytes=${BENCH_BYTES:-$((1 << 30))}
runs=${RUNS:-5}
bin=.build/release/tritonpack
[ -x "$bin" ] || swift build -c release
graph="$work/graph"
if [ ! -f "$graph/model.mlir" ]; then
  echo "bench: writing a synthetic saved graph of $bytes bytes to $graph"
  python3 scripts/make_synthetic_graph.py "$graph" "$bytes" 96
fi
repo="$work/bundle-repo"
if [ ! -d "$repo/big/1" ]; then
  rm -rf "$repo"
  "$bin" pack "$graph" --repo "$repo" --name big --link --no-sync >/dev/null
fi
size=$(du -sbL "$repo" | cut -f1)
find "$repo" -type f -exec cat {} + > /dev/null  # warm the page cache

source scripts/bench-common.sh
time_runs() {  # command...
  local samples=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/out.zip" "$work/zip.zip" "$work/copy"
    sync
    samples+=("$(seconds "$@")")
  done
  rm -rf "$work/out.zip" "$work/zip.zip" "$work/copy"
  printf '%s\n' "${samples[@]}" | median
}
bundle_nosync() { "$bin" bundle "$repo" --out "$work/out.zip" --skip-lint --no-sync; }
bundle_sync() { "$bin" bundle "$repo" --out "$work/out.zip" --skip-lint; }
infozip() { (cd "$repo" && zip -q -r -0 "../zip.zip" .); }
copy() { cp -r "$repo" "$work/copy"; }
crc() { python3 -c 'import os, sys, zlib
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        crc = 0
        with open(os.path.join(folder, name), "rb") as handle:
            while chunk := handle.read(1 << 22): crc = zlib.crc32(chunk, crc)' "$repo"; }

b=$(time_runs bundle_nosync)
s=$(time_runs bundle_sync)
z=$(time_runs infozip)
c=$(time_runs copy)
k=$(time_runs crc)
gib=$(echo "$size / 1073741824" | bc -l)
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
rm -f "$work/out.zip" "$work/small.zip"
big_rss=$(rss "$bin" bundle "$repo" --out "$work/out.zip" --skip-lint --no-sync)
small_rss=$(rss "$bin" bundle samples/python --out "$work/small.zip" --no-sync)
rm -f "$work/small.zip"
first=$(sha256sum "$work/out.zip" | cut -d' ' -f1)
rm -f "$work/out.zip"; bundle_nosync >/dev/null
second=$(sha256sum "$work/out.zip" | cut -d' ' -f1)
rm -f "$work/out.zip"
printf 'repository: %.2f GiB in %s files, %s runs each, median seconds (per GiB)\n' "$gib" "$(find "$repo" -type f | wc -l)" "$runs"
printf '  zip -r -0 (Info-ZIP)           %6.3f s  (%.3f s/GiB)\n' "$z" "$(echo "$z / $gib" | bc -l)"
printf '  cp -r                          %6.3f s  (%.3f s/GiB)\n' "$c" "$(echo "$c / $gib" | bc -l)"
printf '  python zlib.crc32 of each file %6.3f s  (%.3f s/GiB)\n' "$k" "$(echo "$k / $gib" | bc -l)"
printf '  tritonpack bundle --no-sync    %6.3f s  (%.3f s/GiB)  %.1fx faster than zip -r -0\n' "$b" "$(echo "$b / $gib" | bc -l)" "$(echo "$z / $b" | bc -l)"
printf '  tritonpack bundle (fsync)      %6.3f s  (%.3f s/GiB)  %.1fx faster than zip -r -0\n' "$s" "$(echo "$s / $gib" | bc -l)" "$(echo "$z / $s" | bc -l)"
printf '  peak memory: %s KB bundling %.2f GiB, %s KB bundling samples/python\n' "$big_rss" "$gib" "$small_rss"
printf '  reproducible: %s\n' "$( [ "$first" = "$second" ] && echo "two bundles, same sha256 $first" || echo "DIFFERENT: $first $second")"
