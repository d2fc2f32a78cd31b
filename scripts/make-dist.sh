#!/usr/bin/env bash
# Packs the release build into dist/tritonpack-<version>-linux-x86_64.tar.gz: the binary, the Swift
# runtime libraries it links (read off ldd), a launcher that points the loader at them, completions,
# the man page (make man), and a README naming the Debian packages of the other libraries it links.
# Usage: scripts/make-dist.sh [MANPAGE]; make dist builds what it needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
manpage=${1:-.build/plugins/GenerateManual/outputs/tritonpack/tritonpack.1}
[ -f "$manpage" ] || { echo "make-dist: no man page at $manpage; run make man" >&2; exit 1; }
swift=${SWIFT:-swift}
bin=$("$swift" build -c release --show-bin-path)/tritonpack
[ -x "$bin" ] || { echo "make-dist: no release build at $bin; run make release" >&2; exit 1; }
version=$("$bin" --version)
name="tritonpack-$version-linux-$(uname -m)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/libexec" "$stage/lib" "$stage/bin"
install -m 0755 "$bin" "$stage/libexec/tritonpack"

# The Swift runtime: every library ldd resolves inside the toolchain.
swift_libs=$(dirname "$(dirname "$(readlink -f "$(command -v "$swift")")")")/lib/swift/linux
ldd "$bin" | awk '$3 ~ /^\// {print $3}' | sort -u > "$work/libs"
grep -F "$swift_libs/" "$work/libs" | while read -r lib; do install -m 0644 "$lib" "$stage/lib/"; done

# The launcher: the loader searches LD_LIBRARY_PATH before the toolchain path built into the binary.
cat > "$stage/bin/tritonpack" <<'LAUNCHER'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")/..
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/libexec/tritonpack" "$@"
LAUNCHER
chmod 0755 "$stage/bin/tritonpack"

"$root/scripts/make-completions.sh" "$bin" "$stage/share" "$manpage"

# The Debian packages that hold the other libraries (usrmerge: /lib is /usr/lib).
packages=$(grep -vF "$swift_libs/" "$work/libs" | while read -r lib; do
    dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | tr '\n' ' ')
direct=$(objdump -p "$bin" | awk '/NEEDED/ {print $2}' | while read -r soname; do
    lib=$(grep -m1 "/$soname\$" "$work/libs" || true)
    case "$lib" in ""|"$swift_libs"/*) continue ;; esac
    dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | tr '\n' ' ')

cat > "$stage/README.md" <<README
# tritonpack $version (Linux $(uname -m))

\`bin/tritonpack\` runs without a Swift toolchain: it starts \`libexec/tritonpack\` with \`lib/\` (the
Swift runtime it was built with) on the loader's path. Unpack anywhere and put \`bin\` on PATH, or
link it: \`ln -s "\$PWD/bin/tritonpack" ~/.local/bin/\`.

Debian 12 packages it needs (the libraries it links directly):

    apt-get install $direct

These bring the rest of what it loads: $packages

Shell completions are in \`share/bash-completion\`, \`share/zsh\` and \`share/fish\`, the man page in
\`share/man/man1\` (\`man -l share/man/man1/tritonpack.1\`).
README

mkdir -p "$root/dist"
tar -C "$work" -czf "$root/dist/$name.tar.gz" "$name"
echo "$root/dist/$name.tar.gz"
