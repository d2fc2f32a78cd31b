# tritonpack: the two commands a fresh machine needs are `make demo` and `make test` (`make test-unit`
# alone: the fast lane, without servers).
SWIFT ?= swift
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
# Where swift-argument-parser's generate-manual plugin writes the man page.
MANPAGE = .build/plugins/GenerateManual/outputs/tritonpack/tritonpack.1

# The tritonserver that tritonpack (smoke, tune) and the tests run unless told otherwise: the
# checkout's launcher over the venv's nvidia-pytriton wheel, whose server folder holds the backends.
export TRITONSERVER ?= $(CURDIR)/scripts/tritonserver
export TRITONSERVER_ROOT ?= $(wildcard $(CURDIR)/.venv/lib/python*/site-packages/pytriton/tritonserver)

.PHONY: setup setup-unit build release man install uninstall dist demo test test-unit test-integration bench clean \
	regenerate-proto format

setup:
	scripts/setup.sh

# Only what building the package, the unit lane and `scripts/format.sh check` need.
setup-unit:
	scripts/setup.sh unit

build: setup
	$(SWIFT) build

# An optimized tritonpack. It links the Swift runtime of this toolchain and the shared libraries
# setup installs (libprotobuf, libonnx, libzip).
release:
	$(SWIFT) build -c release --product tritonpack

# The man page, generated from the argument parser (the same definitions as --help).
man:
	$(SWIFT) package plugin generate-manual

# `make install PREFIX=~/.local` puts tritonpack in ~/.local/bin (default PREFIX /usr/local), its
# completions and man page under ~/.local/share; DESTDIR stages a package.
install: release man
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/tritonpack" "$(DESTDIR)$(BINDIR)/tritonpack"
	scripts/make-completions.sh "$(DESTDIR)$(BINDIR)/tritonpack" "$(DESTDIR)$(DATADIR)" "$(MANPAGE)"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/tritonpack" "$(DESTDIR)$(DATADIR)/bash-completion/completions/tritonpack" \
		"$(DESTDIR)$(DATADIR)/zsh/site-functions/_tritonpack" "$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/tritonpack.fish" \
		"$(DESTDIR)$(DATADIR)/man/man1/tritonpack.1"

# dist/tritonpack-<version>-linux-<arch>.tar.gz: the release binary with the Swift runtime it links,
# a launcher, completions, the man page and a README naming the Debian packages it needs.
dist: release man
	scripts/make-dist.sh "$(MANPAGE)"

# The main job on the bundled sample: OneFlow's deployment-guide model packed into a repository.
demo: build
	scripts/make-demo.sh

# Both lanes, the unit lane first so that it fails fast.
test:
	$(MAKE) test-unit
	$(MAKE) test-integration

# The unit lane: no tritonserver, network, radosgw, browser or OneFlow; Swift's TritonPackKitTests
# and the Python runtimes' and template's pure functions (pytest).
test-unit: setup-unit
	@echo "== unit lane: swift build, TritonPackKitTests, pytest"
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing --filter '^TritonPackKitTests\.'
	.venv-tools/bin/python -m pytest -q -p no:cacheprovider Tests/python runtime/pipeline

# The integration lane: the CLI, a real tritonserver, radosgw, OneFlow, Chromium, Triton's QA configs.
test-integration: setup
	@echo "== integration lane: IntegrationTests"
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing --filter '^IntegrationTests\.'

bench: setup
	$(SWIFT) build -c release
	scripts/bench-pack.sh
	scripts/bench-lint.sh
	scripts/bench-onnx.sh
	scripts/bench-smoke.sh
	scripts/bench-grpc.sh
	scripts/bench-bundle.sh
	scripts/bench-oneflow.sh
	scripts/bench-s3.sh
	scripts/bench-rollout.sh
	scripts/bench-tune.sh
	scripts/bench-pipeline.sh

regenerate-proto:
	scripts/regenerate-proto.sh

# swift-format over the project's own sources (`scripts/format.sh check` is the CI lint step).
format:
	scripts/format.sh

clean:
	rm -rf .build demo-repository demo.zip demo-repository-python demo-python.zip demo-repository-onnx bench-work dist
