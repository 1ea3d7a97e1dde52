# hongbao: the two commands that do everything are `make run` and `make test` (README.md).

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DB         ?= hongbao.db
HONGBAO    := $(BUILD)/release/hongbao

.PHONY: all run test deps deps-test web-vendor release debug asan test-release test-asan bench bench-http bench-packets bench-payments bench-risk bench-ceiling bench-pg \
        fuzz fuzz-build lint valgrind crash soak \
        clean format

all: release

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test
	@cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null

# The npm packages the web pages load (web/package-lock.json), copied into web/vendor and
# from there built into the binary.
web-vendor: deps
	@cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@mkdir -p web/vendor && cp web/node_modules/chart.js/dist/chart.umd.min.js web/vendor/chart.umd.js

release: deps web-vendor
	@cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

debug: deps web-vendor
	@cmake -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD)/debug -j $(JOBS)

asan: deps-test web-vendor
	@cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DHB_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)

# The main job: the HTTP API on 127.0.0.1:8080 with ./hongbao.db. A new store is initialised
# first, printing its admin key and a signed curl example.
LISTEN     ?= 127.0.0.1:8080
run: release
	@test -f $(DB) || $(HONGBAO) init --db $(DB)
	@exec $(HONGBAO) serve --db $(DB) --listen $(LISTEN)

# Every test, in the release build and again under AddressSanitizer + UndefinedBehaviorSanitizer
# (with LeakSanitizer), on SQLite and on a throwaway PostgreSQL (scripts/pg-throwaway.sh) that
# lives for the whole run. The sanitizer pass runs the heavy tests at a reduced scale.
test: deps-test release asan fuzz-build
	@scripts/pg-throwaway.sh around $(MAKE) --no-print-directory test-release test-asan
	@scripts/fuzz.sh $(FUZZ_SHORT)
	@scripts/lint.sh $(BUILD)/release
	@scripts/valgrind-smoke.sh $(HONGBAO)

# The crash campaign, long: the server killed with SIGKILL mid-load CYCLES times on each store.
CYCLES ?= 50
crash: release
	@cd $(BUILD)/release && scripts_dir=$(CURDIR)/scripts && \
	    HB_CAMPAIGN_CYCLES=$(CYCLES) $$scripts_dir/pg-throwaway.sh around \
	    ctest --output-on-failure -R 'crash/test_campaign'

# One hour of paced mixed load; RSS must stay flat after warm-up, with no error at all.
SOAK_SECONDS ?= 3600
soak: release
	@SOAK_SECONDS=$(SOAK_SECONDS) bench/soak.sh $(HONGBAO)

# The CLI smoke test with every hongbao process under valgrind memcheck.
valgrind: release
	@scripts/valgrind-smoke.sh $(HONGBAO)

# cppcheck and clang-tidy on src/ with the committed configuration (.clang-tidy).
lint: release
	@scripts/lint.sh $(BUILD)/release

test-release:
	@cd $(BUILD)/release && ctest --output-on-failure -j 1

test-asan:
	@cd $(BUILD)/asan && HB_TEST_SCALE=10 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 1

# libFuzzer harnesses (clang, ASan+UBSan): `make fuzz FUZZ_SECONDS=600` runs each for that
# long; make test runs each for FUZZ_SHORT seconds.
FUZZ_SECONDS ?= 600
FUZZ_SHORT   ?= 15
fuzz-build: deps-test
	@cmake -S . -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DHB_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS) --target $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

bench: release
	@rm -f bench.db bench.db-wal bench.db-shm
	@$(HONGBAO) bench ledger --db bench.db --accounts 1000000 --transfers 2000000 \
	    --threads 2 --window 32768 --batch 32768

bench-http: release
	@bench/http.sh $(HONGBAO)

# Red-packet grabs over HTTP: one hot 100,000-share packet against claims spread over many.
bench-packets: release
	@bench/packets.sh $(HONGBAO)

# Payments through a merchant's static code against GET /healthz (bench/payments.sh).
bench-payments: release
	@bench/payments.sh $(HONGBAO)

# Transfers and payments with every risk rule on against every rule off (bench/risk.sh).
bench-risk: release
	@bench/risk.sh $(HONGBAO)

# How far the HTTP path alone goes: bench-http's transfers against builds that skip the
# store, the wait or both (bench/ceiling.sh; built from bench/ceiling/ceiling.patch in a
# scratch worktree, never in the product).
bench-ceiling: release
	@bench/ceiling.sh

# pgbench's TPC-B and hongbao's ledger and HTTP benchmarks on one throwaway PostgreSQL.
bench-pg: release
	@bench/pg.sh $(HONGBAO)

format:
	@clang-format -i src/*/*.c src/*/*.h tests/*/*.c tests/*/*.h

clean:
	rm -rf $(BUILD)
