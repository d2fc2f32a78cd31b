#!/usr/bin/env bash
# Writes tritonpack's shell completions and man page under SHARE (share/bash-completion/...,
# share/zsh/..., share/fish/..., share/man/man1/tritonpack.1), all generated from the argument parser.
set -euo pipefail
bin=$1
share=$2
mkdir -p "$share/bash-completion/completions" "$share/zsh/site-functions" "$share/fish/vendor_completions.d" "$share/man/man1"
"$bin" --generate-completion-script bash > "$share/bash-completion/completions/tritonpack"
"$bin" --generate-completion-script zsh > "$share/zsh/site-functions/_tritonpack"
"$bin" --generate-completion-script fish > "$share/fish/vendor_completions.d/tritonpack.fish"
"$bin" help-manual > "$share/man/man1/tritonpack.1"
