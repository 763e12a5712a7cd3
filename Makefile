# swift-presence: the two commands of the README, and a few helpers.
#   make run    installs what is missing, builds (release) and starts a standalone node on :8080
#   make test   installs what is missing and runs every test (unit and integration)

SWIFT ?= swift
RUN_ARGS ?= --dev

.PHONY: run test deps build release clean contract bench

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product presence

run: release
	.build/release/presence serve $(RUN_ARGS)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build

# Contract test: schemathesis against a live node (needs python3; installs schemathesis).
contract: build
	scripts/contract-test.sh

# Benchmarks: release build, a center and two leaves, baselines in the same run (bench/run).
bench: deps
	bench/run
