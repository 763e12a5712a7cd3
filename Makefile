# swift-presence: the two commands of the README, and a few helpers.
#   make run       installs what is missing, builds (release) and starts a standalone node on :8080
#   make test      installs what is missing, runs every test (unit and integration) with
#                  coverage counters, prints line coverage per target and fails under the floor
#   make coverage  the same as make test
#   make dist      the release tarball dist/swift-presence-<version>-linux-<arch>.tar.gz and its
#                  .sha256 (scripts/make-dist.sh, also used by deploy/Dockerfile)
#   make test-dist make dist, then the tarball unpacked and run on its own (part of make test)
#   make tsan      every test again under ThreadSanitizer (its own build in .build/tsan)
#                  (then the Kubernetes example's validation and the headless-chromium test)
#   make test-browser  a page on another origin uses the API from Debian's chromium (CORS, SSE)
#   make check-kubernetes  validates deploy/kubernetes against the Kubernetes schemas, and the
#                  monitoring kit (alert rules and their tests, dashboard, ServiceMonitor)
#   make test-system-nats  every test again against the nats-server on the system's PATH
#                  (Debian's 2.9.10 in CI; tests that need 2.10+ say so and are skipped)

SWIFT ?= swift
# A nats-server 2.10+ comes first: the one on PATH when it is that new, else the pinned release
# scripts/install-nats-server.sh puts into .tools/ (Debian's 2.9.10 is too old to cluster).
SYSTEM_PATH := $(PATH)
export PATH := $(CURDIR)/.tools/nats-server/bin:$(SYSTEM_PATH)
RUN_ARGS ?= --dev
# Debug builds carry coverage counters, so the contract test and the tests share one build.
COVERAGE := --enable-code-coverage
# Line coverage floor (percent) of the gated targets (the seed's target is 90).
COVERAGE_FLOOR ?= 85

.PHONY: run test test-system-nats coverage tsan deps build release clean contract bench test-browser check-kubernetes dist test-dist

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(COVERAGE)

# Built only when a source changed since the last build: SwiftPM alone spends half a minute
# planning even when there is nothing to do. A file added or deleted under Sources changes
# the listing in .build/sources.list, which counts as a change too.
RELEASE_BIN := .build/release/presence
RELEASE_INPUTS := Package.swift $(wildcard Package.resolved) $(shell find Sources -type f 2>/dev/null) .build/sources.list

release: deps $(RELEASE_BIN)

$(RELEASE_BIN): $(RELEASE_INPUTS)
	$(SWIFT) build -c release --product presence
	@touch $@

.build/sources.list: FORCE
	@mkdir -p .build
	@find Sources -type f | sort > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

FORCE:

run: release
	.build/release/presence serve $(RUN_ARGS)

# The suites that load the machine and measure latency under attack (HeavyProcessSuites) run
# on their own, first: beside the parallel run of every other suite, a good request under the
# slowloris once waited 1.4 s (a SYN retransmission) on two busy cores. The rest runs after
# them, in parallel. Each run with coverage starts its counters afresh: the heavy suites' are
# kept aside and added to the report.
HEAVY_SUITES := HeavyProcessSuites
HEAVY_COUNTERS := .build/heavy-suites.profdata

test: deps
	$(SWIFT) build --build-tests $(COVERAGE)
	$(SWIFT) test --skip-build $(COVERAGE) --filter $(HEAVY_SUITES)
	cp .build/debug/codecov/default.profdata $(HEAVY_COUNTERS)
	$(SWIFT) test --skip-build $(COVERAGE) --skip $(HEAVY_SUITES)
	scripts/coverage-report.py --floor $(COVERAGE_FLOOR) --gate PresenceCore,PresenceHTTP,PresenceAuth --also $(HEAVY_COUNTERS)
	scripts/validate-kubernetes.sh
	$(MAKE) --no-print-directory test-browser
	$(MAKE) --no-print-directory test-dist

test-browser:
	scripts/install-browser.sh && .tools/python-venv/bin/python tests/browser/browser_test.py $(or $(BROWSER_TEST_BINARY),.build/debug/presence)

coverage: test

# The release tarball: a release build with the Swift runtime linked in (in .build/dist: it
# compiles every module differently from make release), the pinned nats-server and nats.c.
dist: deps
	scripts/make-dist.sh

test-dist: dist
	tests/dist/tarball_test.sh

check-kubernetes:
	scripts/validate-kubernetes.sh

# The nodes run it because the tests name it (PRESENCE_TEST_NATS_SERVER_BINARY): chosen
# automatically, a nats-server older than 2.10 is refused.
test-system-nats: deps
	$(SWIFT) build --build-tests $(COVERAGE)
	PATH="$(SYSTEM_PATH)" PRESENCE_TEST_NATS_SERVER_BINARY=nats-server $(SWIFT) test --skip-build $(COVERAGE) --filter $(HEAVY_SUITES)
	PATH="$(SYSTEM_PATH)" PRESENCE_TEST_NATS_SERVER_BINARY=nats-server $(SWIFT) test --skip-build $(COVERAGE) --skip $(HEAVY_SUITES)

# halt_on_error: a race fails the run (the child `presence` processes too: their exit code is 66).
# report_thread_leaks=0: a node exits without joining nats.c's own subscription threads (its
# nats.c objects live until the process ends); a thread leak at exit is not a race.
# Every process is several times slower under TSan: the tests' time bounds are stretched
# (PRESENCE_TEST_TIME_SCALE), and its allocator keeps freed memory, so memory bounds are left
# out (PRESENCE_TEST_SANITIZER); make test checks both as written.
# -swift-version 5: with -sanitize=thread, Swift 6.3.1 refuses swift-otel 1.6.0
# (OTelBatchSpanProcessor.swift:151, "sending 'logger' risks causing data races"), which it
# compiles without the sanitizer; this build looks for races at run time, and the strict
# Swift 6 checks of our own code are make build's and make test's.
TSAN_FLAGS = --sanitize=thread --scratch-path .build/tsan -Xswiftc -swift-version -Xswiftc 5
tsan: deps
	$(SWIFT) build --build-tests $(TSAN_FLAGS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_thread_leaks=0 suppressions=$(CURDIR)/.tsan-suppressions" PRESENCE_TEST_TIME_SCALE=4 PRESENCE_TEST_SANITIZER=thread \
		$(SWIFT) test --skip-build $(TSAN_FLAGS) --no-parallel

clean:
	rm -rf .build

# Contract test: schemathesis against a live node (needs python3; installs schemathesis).
contract: build
	scripts/contract-test.sh

# Benchmarks: release build, a center and two leaves, baselines in the same run (bench/run).
bench: deps
	bench/run
