#!/usr/bin/env bash
# swift-format over the project's own Swift files (not the generated ones: protoc's output and the
# templates compiled in by scripts/embed-templates.py).
#   scripts/format.sh        rewrites the files in place
#   scripts/format.sh check  fails, naming each place, where a file is not formatted (.ci/run runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.swift' | grep -v -e '/Generated/' -e 'Bundle/DefaultTemplates.swift' -e 'Smoke/OneFlowRuntimeFiles.swift' -e 'Runtimes/EnvironmentPackerFiles.swift' -e 'Runtimes/ONNXConverterFiles.swift' -e 'Runtimes/ONNXRuntimeServingFiles.swift' -e 'Pipelines/ImagePipelineFiles.swift' -e '^Package.swift$')
if [ "${1:-}" = check ]; then
  swift format lint --configuration .swift-format --strict --parallel $files
else
  swift format format --configuration .swift-format --in-place --parallel $files
fi
