# tritonpack: the two commands a fresh machine needs are `make demo` and `make test`.
SWIFT ?= swift
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin

.PHONY: setup build release install uninstall demo test bench clean regenerate-proto templates

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build

# An optimized tritonpack. It links the Swift runtime of this toolchain and the shared libraries
# setup installs (libprotobuf, libonnx, libzip).
release:
	$(SWIFT) build -c release --product tritonpack

# `make install PREFIX=~/.local` puts tritonpack in ~/.local/bin (default PREFIX /usr/local); DESTDIR stages a package.
install: release
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/tritonpack" "$(DESTDIR)$(BINDIR)/tritonpack"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/tritonpack"

# The main job on the bundled sample: OneFlow's deployment-guide model packed into a repository.
demo: build
	scripts/make-demo.sh

test: setup
	$(SWIFT) test --disable-swift-testing

bench: setup
	$(SWIFT) build -c release
	scripts/bench-pack.sh
	scripts/bench-lint.sh
	scripts/bench-onnx.sh
	scripts/bench-smoke.sh
	scripts/bench-bundle.sh
	scripts/bench-oneflow.sh
	scripts/bench-s3.sh

regenerate-proto:
	scripts/regenerate-proto.sh

# Compiles templates/default (the built-in bundle template) into the binary.
templates:
	python3 scripts/embed-templates.py

clean:
	rm -rf .build demo-repository demo.zip bench-work
