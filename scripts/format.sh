#!/usr/bin/env bash
# swift-format over the project's own Swift files (not protoc's generated output, nor Package.swift);
# in check mode also shellcheck over its shell scripts and ruff (ruff.toml) over its Python, both
# installed by scripts/setup.sh.
#   scripts/format.sh        rewrites the Swift files in place
#   scripts/format.sh check  fails, naming each place, where a Swift file is not formatted, or where
#                            a shell script or a Python file has a problem (.ci/run runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.swift' | grep -v -e '/Generated/' -e '^Package.swift$')
if [ "${1:-}" != check ]; then
  swift format format --configuration .swift-format --in-place --parallel "${files[@]}"
  exit 0
fi
swift format lint --configuration .swift-format --strict --parallel "${files[@]}"

ruff=.venv-tools/bin/ruff
for tool in shellcheck "$ruff"; do
  command -v "$tool" >/dev/null || { echo "format.sh: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
mapfile -t scripts < <(git ls-files '*.sh' scripts/tritonserver .ci/run)
shellcheck "${scripts[@]}"
"$ruff" check --quiet runtime templates scripts Tests
