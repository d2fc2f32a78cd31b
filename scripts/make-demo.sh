#!/usr/bin/env bash
# The main job on the bundled sample, as `make demo` runs it: OneFlow's deployment-guide model
# packed into <dir>/demo-repository, linted, bundled into <dir>/demo.zip, then executed with its
# golden data (OneFlow's own runtime where the tritonserver has no oneflow backend).
# Usage: scripts/make-demo.sh [dir] [--no-smoke]   (dir defaults to the checkout; $TRITONPACK the binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
tritonpack=${TRITONPACK:-$root/.build/debug/tritonpack}
sample=$root/samples/oneflow/fast_neural_style
cd "$out"
rm -rf demo-repository
"$tritonpack" pack "$sample/model" --repo demo-repository --name fast_neural_style
"$tritonpack" lint demo-repository --disable-auto-complete-config
echo "--- demo-repository/fast_neural_style/config.pbtxt"
cat demo-repository/fast_neural_style/config.pbtxt
find demo-repository -maxdepth 3 | sort | head -n 12
"$tritonpack" bundle demo-repository --out demo.zip --force
if [ "${2:-}" != "--no-smoke" ]; then
  echo "--- executing the packed model with its golden data"
  "$tritonpack" smoke demo-repository --model fast_neural_style --cpu --requests 3 --timeout 600 \
    --inputs "$sample/golden" --expected "$sample/golden"
fi
