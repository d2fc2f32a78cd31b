#!/usr/bin/env bash
# Packs the dist tarball, building only if needed, unpacks it in a fresh folder outside the source tree and runs it as a machine without Swift would: PATH without
# the toolchain, LD_LIBRARY_PATH unset, a clean environment. It runs `tritonpack --version` and lints
# a repository packed by the debug build, and checks that every Swift library the binary loads comes
# from the tarball. Exit 0 when all of that holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The release build and man page in .build when they are newer than every source; otherwise a build
# in .build-dist, since `swift test` (which runs this through DistTests) holds .build's lock.
bin=.build/release/tritonpack
manpage=.build/plugins/GenerateManual/outputs/tritonpack/tritonpack.1
if [ ! -x "$bin" ] || [ ! -f "$manpage" ] || [ -n "$(find Sources Plugins templates runtime Package.swift -newer "$bin" -print -quit)" ]; then
    echo "test-dist: building a release in .build-dist (minutes the first time)" >&2
    swift build -c release --product tritonpack --scratch-path .build-dist >&2
    swift package --scratch-path .build-dist plugin generate-manual >&2
    bin=.build-dist/release/tritonpack
    manpage=.build-dist/plugins/GenerateManual/outputs/tritonpack/tritonpack.1
fi
BIN="$root/$bin" scripts/make-dist.sh "$manpage" >&2
version=$("$bin" --version)
tarball="$root/dist/tritonpack-$version-linux-$(uname -m).tar.gz"
[ -f "$tarball" ] || { echo "test-dist: $tarball missing after make dist" >&2; exit 1; }
work=$(mktemp -d /tmp/tritonpack-dist-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
case "$work" in "$root"/*) echo "test-dist: $work is inside the source tree" >&2; exit 1 ;; esac
tar -C "$work" -xzf "$tarball"
unpacked="$work/tritonpack-$version-linux-$(uname -m)"
"$root/.build/debug/tritonpack" pack "$root/samples/oneflow/tiny_mlp/model" --repo "$work/repository" --quiet >&2

clean() { env -i HOME="$work" PATH=/usr/bin:/bin "$@"; }
got=$(clean "$unpacked/bin/tritonpack" --version)
[ "$got" = "$version" ] || { echo "test-dist: --version printed '$got', expected '$version'" >&2; exit 1; }
clean "$unpacked/bin/tritonpack" lint "$work/repository"
clean sh -c 'command -v swift' >/dev/null && { echo "test-dist: swift is on the clean PATH" >&2; exit 1; }

# Every Swift library resolves inside the unpacked folder, none in the toolchain.
libs=$(clean env LD_LIBRARY_PATH="$unpacked/lib" ldd "$unpacked/libexec/tritonpack")
if echo "$libs" | grep -q "not found"; then echo "test-dist: missing libraries:" >&2; echo "$libs" | grep "not found" >&2; exit 1; fi
if echo "$libs" | grep -E "libswift|libFoundation|libdispatch" | grep -vqF "$unpacked/lib/"; then
    echo "test-dist: Swift libraries loaded from outside the tarball:" >&2
    echo "$libs" | grep -E "libswift|libFoundation|libdispatch" | grep -vF "$unpacked/lib/" >&2
    exit 1
fi
for file in share/man/man1/tritonpack.1 share/bash-completion/completions/tritonpack share/zsh/site-functions/_tritonpack \
    share/fish/vendor_completions.d/tritonpack.fish README.md; do
    [ -s "$unpacked/$file" ] || { echo "test-dist: $file missing or empty" >&2; exit 1; }
done
grep -q "apt-get install .*libprotobuf32" "$unpacked/README.md" || { echo "test-dist: README names no libprotobuf32" >&2; exit 1; }
echo "test-dist: $tarball runs from $unpacked without the toolchain"
