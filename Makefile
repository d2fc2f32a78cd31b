# tritonpack: the two commands a fresh machine needs are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: setup build demo test bench clean regenerate-proto templates

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build

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

regenerate-proto:
	scripts/regenerate-proto.sh

# Compiles templates/default (the built-in bundle template) into the binary.
templates:
	python3 scripts/embed-templates.py

clean:
	rm -rf .build demo-repository demo.zip bench-work
