#!/usr/bin/env bash
# Benchmark for `tritonpack tune` (not a test), in one run:
#   - quick against brute-force search on the same space, on the batch_cost Python model (dynamic
#     batching wins) and on OneFlow's multi_io graph through OneFlow's runtime: trials measured by
#     each, and the quick search's best throughput as a share of the brute-force best;
#   - tune's wall time for a 12-config space (batch_cost, 4 instance counts x 3 batching settings
#     at concurrency 8);
#   - NVIDIA Model Analyzer (scripts/setup-model-analyzer.sh installs it and perf_analyzer; NO_MA=1
#     skips it) in local launch mode with the project's tritonserver on the same 12-config space:
#     its best config and wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
work=bench-work/tune
rm -rf "$work"
mkdir -p "$work"
window=${WINDOW_MS:-500}

# tune REPOSITORY MODEL NAME ARGS...: runs tune with --format json into $work/NAME.json, prints its wall time.
tune() {
  local repository=$1 model=$2 name=$3
  shift 3
  local start end
  start=$(date +%s.%N)
  "$bin" tune "$repository" --model "$model" --window-ms "$window" --format json "$@" >"$work/$name.json" || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
summary() {
  python3 - "$work/$1.json" "$work/$2.json" <<'PY'
import json, sys
quick, brute = (json.load(open(path)) for path in sys.argv[1:3])
def best(report):
    ranked = [t for t in report["trials"] if t["linted"] and t["loaded"] and t["correct"] and t["stable"] and t["within_budget"] and t["windows"] > 0]
    return max((t["throughput"] for t in ranked), default=0.0)
def label(report):
    b = report.get("best") or {}
    return f'{b.get("instance_count")} x {b.get("kind")}, max_batch_size {b.get("max_batch_size")}, dynamic batching {b.get("dynamic_batching")}, delay {b.get("max_queue_delay_microseconds")} us, concurrency {b.get("concurrency")}'
q, b = best(quick), best(brute)
print(f'  quick: {len(quick["trials"])} trials, best {q:.1f} req/s ({label(quick)})')
print(f'  brute: {len(brute["trials"])} trials of {brute["space_size"]} points, best {b:.1f} req/s ({label(brute)})')
print(f'  quick/brute: {q / b if b else 0:.2f} of the best with {len(quick["trials"]) / len(brute["trials"]):.0%} of the trials')
PY
}

python=${TRITONPACK_ONEFLOW_PYTHON:-$HOME/.cache/tritonpack/oneflow-0.9.0-py3.10/bin/python}
repository=$work/repository
mkdir -p "$repository"
cp -r Tests/Fixtures/python/batch_cost "$repository/"

echo "batch_cost (20 ms per call + 1 ms per row), instances 1,2,4:"
quick_s=$(tune "$repository" batch_cost batch-quick --instance-count 1,2,4 --search quick)
brute_s=$(tune "$repository" batch_cost batch-brute --instance-count 1,2,4 --search brute)
summary batch-quick batch-brute
printf '  wall time: quick %.0f s, brute %.0f s\n' "$quick_s" "$brute_s"

if [ -x "$python" ]; then
  "$bin" pack samples/oneflow/multi_io/model --repo "$repository" --name multi_io --no-sync >/dev/null
  echo "multi_io through OneFlow's runtime (golden inputs checked), the default space:"
  golden=samples/oneflow/multi_io/golden
  quick_s=$(tune "$repository" multi_io multi-quick --inputs $golden --expected $golden --search quick)
  brute_s=$(tune "$repository" multi_io multi-brute --inputs $golden --expected $golden --search brute)
  summary multi-quick multi-brute
  printf '  wall time: quick %.0f s, brute %.0f s\n' "$quick_s" "$brute_s"
else
  echo "multi_io: skipped (no OneFlow Python at $python; make setup installs it)"
fi

echo "12-config space (batch_cost: instances 1-4 x {no batching, max_batch_size 4, 8}, concurrency 8):"
twelve_s=$(tune "$repository" batch_cost twelve --instance-count 1,2,3,4 --max-batch-size 4,8 --queue-delay-us 0 --concurrency 8 --search brute)
python3 - "$work/twelve.json" "$twelve_s" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
configs = {(t["instance_count"], t["max_batch_size"], t["dynamic_batching"]) for t in report["trials"]}
b = report.get("best") or {}
print(f'  tritonpack tune: {float(sys.argv[2]):.0f} s for {len(configs)} configs; best {b.get("instance_count")} instances, max_batch_size {b.get("max_batch_size")}, dynamic batching {b.get("dynamic_batching")}: {b.get("throughput", 0):.1f} req/s, p99 {b.get("p99_milliseconds", 0):.1f} ms')
PY

if [ -z "${NO_MA:-}" ]; then
  ma_bin=$(scripts/setup-model-analyzer.sh)
  ma_work=$work/model-analyzer
  mkdir -p "$ma_work"
  cat >"$ma_work/config.yaml" <<YAML
model_repository: $PWD/$repository
override_output_model_repository: true
output_model_repository_path: $PWD/$ma_work/output
export_path: $PWD/$ma_work/export
triton_launch_mode: local
triton_server_path: $PWD/scripts/tritonserver
run_config_search_disable: true
perf_analyzer_flags:
  measurement-interval: $window
profile_models:
  batch_cost:
    parameters:
      concurrency: [8]
    model_config_parameters:
      instance_group:
        - kind: KIND_CPU
          count: [1, 2, 3, 4]
      max_batch_size: [4, 8]
      dynamic_batching: {}
YAML
  start=$(date +%s.%N)
  if PATH="$ma_bin:$PATH" "$ma_bin/model-analyzer" profile -f "$ma_work/config.yaml" >"$ma_work/log.txt" 2>&1; then
    end=$(date +%s.%N)
    printf '  Model Analyzer: %.0f s for %s configs; best %s\n' "$(echo "$end - $start" | bc -l)" \
      "$(tail -n +2 "$ma_work/export/results/metrics-model-inference.csv" | grep -c .)" \
      "$(sed -n 2p "$ma_work/export/results/metrics-model-inference.csv" | awk -F, '{printf "%s instances, max_batch_size %s, dynamic batching: %s req/s, p99 %s ms", $5, $6, $8, $9}')"
  else
    echo "  Model Analyzer did not complete here; the last lines of its log:"
    tail -5 "$ma_work/log.txt" | sed 's/^/    /'
  fi
fi
