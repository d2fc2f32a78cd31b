# tritonpack: the two commands a fresh machine needs are `make demo` and `make test`.
SWIFT ?= swift
TRITONPACK := .build/debug/tritonpack
SAMPLE := samples/oneflow/fast_neural_style/model

.PHONY: setup build demo test bench clean regenerate-proto templates

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build

# The main job on the bundled sample: OneFlow's deployment-guide model packed into a repository.
demo: build
	rm -rf demo-repository
	$(TRITONPACK) pack $(SAMPLE) --repo demo-repository --name fast_neural_style
	$(TRITONPACK) lint demo-repository --disable-auto-complete-config
	@echo "--- demo-repository/fast_neural_style/config.pbtxt"
	@cat demo-repository/fast_neural_style/config.pbtxt
	@find demo-repository -maxdepth 3 | sort | head -n 12
	$(TRITONPACK) bundle demo-repository --out demo.zip --force
	@echo "--- executing the packed model with its golden data (OneFlow's runtime where Triton has no oneflow backend)"
	$(TRITONPACK) smoke demo-repository --model fast_neural_style --cpu --requests 3 \
		--inputs $(dir $(SAMPLE))golden --expected $(dir $(SAMPLE))golden

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
