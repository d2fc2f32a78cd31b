#!/usr/bin/env bash
# swift-format over the project's own Swift files (not protoc's generated output, nor Package.swift).
#   scripts/format.sh        rewrites the files in place
#   scripts/format.sh check  fails, naming each place, where a file is not formatted (.ci/run runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.swift' | grep -v -e '/Generated/' -e '^Package.swift$')
if [ "${1:-}" = check ]; then
  swift format lint --configuration .swift-format --strict --parallel $files
else
  swift format format --configuration .swift-format --in-place --parallel $files
fi
