#!/usr/bin/env bash
# Benchmark for `tritonpack pack` (not a test): packs a synthetic saved graph of >= 1 GiB and times
# it in the same run against (a) `cp -r` of the same folder and (b) what pack does, done by hand:
# `cp -r`, then SHA-256 of every file on both cores (`openssl dgst -sha256` through `xargs -P2`).
# Reports the median of RUNS runs each, with a warm page cache; the commands take turns within each
# run, and the ratios are the medians of the per-run ratios. `pack` fsyncs every file before
# publishing (durability); `pack --no-sync` is the like-for-like comparison with cp, which does not.
# BENCH_BIN=<a tritonpack> times that binary; BASELINE_BIN=<an older one> adds its `pack --no-sync`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench-work}
bytes=${BENCH_BYTES:-$((1 << 30))}
runs=${RUNS:-3}
bin=${BENCH_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
mkdir -p "$work"
graph="$work/graph"
if [ ! -f "$graph/model.mlir" ]; then
  echo "bench: writing a synthetic saved graph of $bytes bytes to $graph"
  python3 scripts/make_synthetic_graph.py "$graph" "$bytes" 96
fi
size=$(du -sb "$graph" | cut -f1)
cat "$graph"/*/out > /dev/null  # warm the page cache

source scripts/bench-common.sh
once() {  # command...: seconds of one run, from a clean output folder and no dirty pages
  rm -rf "$work/out"
  sync
  seconds "$@"
}
cp_only() { cp -r "$graph" "$work/out"; }
cp_then_sync() { cp -r "$graph" "$work/out" && sync; }
cp_then_hash() { cp -r "$graph" "$work/out" && find "$work/out" -type f -print0 | xargs -0 -P2 -n 16 openssl dgst -sha256 >/dev/null; }
pack_copy() { "$bin" pack "$graph" --repo "$work/out" --name bench; }
pack_nosync() { "$bin" pack "$graph" --repo "$work/out" --name bench --no-sync; }
pack_link() { "$bin" pack "$graph" --repo "$work/out" --name bench --link; }
baseline_nosync() { "$BASELINE_BIN" pack "$graph" --repo "$work/out" --name bench --no-sync; }

names=(a b c p n l)
commands=(cp_only cp_then_hash cp_then_sync pack_copy pack_nosync pack_link)
if [ -n "${BASELINE_BIN:-}" ]; then names+=(o); commands+=(baseline_nosync); fi
declare -A samples
ratio_na=() ratio_pc=() ratio_oa=()
for _ in $(seq "$runs"); do
  declare -A this
  for i in "${!names[@]}"; do
    this[${names[$i]}]=$(once "${commands[$i]}")
    samples[${names[$i]}]+="${this[${names[$i]}]} "
  done
  ratio_na+=("$(echo "${this[n]} / ${this[a]}" | bc -l)")
  ratio_pc+=("$(echo "${this[p]} / ${this[c]}" | bc -l)")
  [ -n "${BASELINE_BIN:-}" ] && ratio_oa+=("$(echo "${this[o]} / ${this[a]}" | bc -l)")
done
rm -rf "$work/out"
# "${samples[x]}" is a space-separated list of numbers: split on purpose.
# shellcheck disable=SC2086
med() { printf '%s\n' $1 | median; }
a=$(med "${samples[a]}"); b=$(med "${samples[b]}"); c=$(med "${samples[c]}")
p=$(med "${samples[p]}"); n=$(med "${samples[n]}"); l=$(med "${samples[l]}")
gib=$(echo "$size / 1073741824" | bc -l)
printf 'graph: %.2f GiB in %s files, %s runs each, median seconds (per GiB)\n' "$gib" "$(find "$graph" -type f | wc -l)" "$runs"
printf '  (a) cp -r                  %6.3f s  (%.3f s/GiB)\n' "$a" "$(echo "$a / $gib" | bc -l)"
printf '  (b) cp -r + openssl -P2    %6.3f s  (%.3f s/GiB)\n' "$b" "$(echo "$b / $gib" | bc -l)"
printf '  (c) cp -r + sync           %6.3f s  (%.3f s/GiB)\n' "$c" "$(echo "$c / $gib" | bc -l)"
printf '  tritonpack pack            %6.3f s  (%.3f s/GiB)  pack/(a) = %.2f  pack/(b) = %.2f  pack/(c) = %.2f\n' "$p" "$(echo "$p / $gib" | bc -l)" "$(echo "$p / $a" | bc -l)" "$(echo "$p / $b" | bc -l)" "$(echo "$p / $c" | bc -l)"
printf '  tritonpack pack --no-sync  %6.3f s  (%.3f s/GiB)  no-sync/(a) = %.2f  no-sync/(b) = %.2f\n' "$n" "$(echo "$n / $gib" | bc -l)" "$(echo "$n / $a" | bc -l)" "$(echo "$n / $b" | bc -l)"
printf '  tritonpack pack --link     %6.3f s  (%.3f s/GiB)\n' "$l" "$(echo "$l / $gib" | bc -l)"
printf '  median of the per-run ratios: no-sync/(a) = %.2f  pack/(c) = %.2f  (runs: %s)\n' \
  "$(printf '%s\n' "${ratio_na[@]}" | median)" "$(printf '%s\n' "${ratio_pc[@]}" | median)" "$(printf '%.2f ' "${ratio_na[@]}")"
if [ -n "${BASELINE_BIN:-}" ]; then
  printf '  BASELINE_BIN pack --no-sync %6.3f s  baseline/(a) = %.2f (median of per-run ratios; runs: %s)\n' \
    "$(med "${samples[o]}")" "$(printf '%s\n' "${ratio_oa[@]}" | median)" "$(printf '%.2f ' "${ratio_oa[@]}")"
fi
