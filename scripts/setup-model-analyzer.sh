#!/usr/bin/env bash
# A virtual environment with NVIDIA's Model Analyzer and perf_analyzer, for the tune benchmark's
# comparison only (nothing in tritonpack or its tests uses them). perf_analyzer is the C++ binary
# of tritonclient 2.51.0's wheel (the server's release); it links libcudart.so.12 even without a
# GPU, which the CUDA runtime wheel provides. Prints the folder to put on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench-work/model-analyzer-venv
if [ ! -x "$venv/bin/model-analyzer" ] || [ ! -x "$venv/bin/perf_analyzer" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "triton-model-analyzer==1.58.0" >&2
  "$venv/bin/pip" install -q "tritonclient[all]==2.51.0" "nvidia-cuda-runtime-cu12==12.9.79" >&2
fi
cudart=$("$venv/bin/python" -c 'import nvidia.cuda_runtime, os; print(os.path.join(nvidia.cuda_runtime.__path__[0], "lib"))')
# perf_analyzer is started by Model Analyzer from PATH: a wrapper gives it the CUDA runtime.
cat >"$venv/bin/perf_analyzer-wrapped" <<WRAP
#!/usr/bin/env bash
LD_LIBRARY_PATH="$cudart\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$PWD/$venv/bin/perf_analyzer.real" "\$@"
WRAP
if [ ! -e "$venv/bin/perf_analyzer.real" ]; then mv "$venv/bin/perf_analyzer" "$venv/bin/perf_analyzer.real"; fi
mv "$venv/bin/perf_analyzer-wrapped" "$venv/bin/perf_analyzer"
chmod +x "$venv/bin/perf_analyzer"
echo "$PWD/$venv/bin"
