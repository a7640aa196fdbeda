# The two commands: `make demo` and `make test`. Both install missing Debian
# packages, configure and build first. PYTHON=/path/to/python3.x picks the
# CPython to embed (default: the newest >= 3.12 with a static libpython); each
# PYTHON gets build folders of its own, so switching does not rebuild the rest.
# `make python` builds one from Debian's source package (scripts/build-cpython.sh).

PYTHON      ?=
# build/cpython/3.13t/bin/python3.13t -> "-3.13t-python3.13t"
PY_TAG      := $(if $(PYTHON),-$(notdir $(patsubst %/bin,%,$(patsubst %/,%,$(dir $(abspath $(PYTHON))))))-$(notdir $(PYTHON)))
BUILD       ?= build$(PY_TAG)
ASAN_BUILD  ?= build-asan$(PY_TAG)
TSAN_BUILD  ?= build-tsan
PY_VERSION  ?= 3.13
FREETHREADED ?=
OPTIMIZE    ?=
JOBS        ?= $(shell nproc)
CTEST_ARGS  ?=

CMAKE_CONFIG = -DISO_PYTHON=$(if $(PYTHON),$(abspath $(PYTHON)))

# The aarch64 cross build (docs/PORTING.md): Debian's cross toolchain, Debian's
# arm64 CPython unpacked into build/aarch64/sysroot, tests under qemu-aarch64.
AARCH64_BUILD ?= build-aarch64
AARCH64_ROOT  ?= build/aarch64

.PHONY: cross-aarch64 test-aarch64 test-musl fuzz all deps python test-freethreaded build demo test test-asan test-tsan test-unit bench bench-run bench-exec bench-serve bench-api bench-mpi bench-alloc bench-gpu gpu-bundle install tidy format format-check clean

all: build

deps:
	@scripts/install-deps.sh

# A CPython from Debian's source package into build/cpython/<flavour>/:
#   make python PY_VERSION=3.13 FREETHREADED=1   -> build/cpython/3.13t/bin/python3.13t
#   make python OPTIMIZE=1                        -> build/cpython/3.13-opt/bin/python3.13
python:
	@scripts/install-deps.sh cpython
	@scripts/build-cpython.sh --version $(PY_VERSION) --jobs $(JOBS) \
	  $(if $(FREETHREADED),--freethreaded) $(if $(OPTIMIZE),--optimize)

# Every test against the free-threaded CPython (built first if missing), with
# a slice of CPython's own regression suite: threads, the collector, the C API.
FT_PYTHON = build/cpython/$(PY_VERSION)t/bin/python$(PY_VERSION)t
FT_BUILD  = build-$(PY_VERSION)t-python$(PY_VERSION)t
FT_CPYTHON_SLICE = ^cpython\.test_(threading|thread|gc|weakref|capi|dict|list|queue|sys)$$
test-freethreaded:
	@$(MAKE) --no-print-directory python FREETHREADED=1
	@$(MAKE) --no-print-directory test PYTHON=$(FT_PYTHON) CTEST_ARGS="-LE cpython"
	cd $(FT_BUILD) && ctest --output-on-failure -j $(JOBS) -R '$(FT_CPYTHON_SLICE)'

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_CONFIG) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# ASan+UBSan over our code, the unit tests, the CLI and behaviour tests and the
# bit-exactness suite (CPython's own regression tests run in `make test`).
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_CONFIG) -DISO_SANITIZE=address,undefined -DISO_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE cpython $(CTEST_ARGS)

# ThreadSanitizer over the concurrent code's unit tests (the executor's; the
# conc/ tests will join): iso_tsan_tests builds only them, without libpython.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) $(CMAKE_CONFIG) -DISO_SANITIZE=thread -DISO_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target iso_tsan_tests
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

cross-aarch64:
	@scripts/install-deps.sh aarch64
	@scripts/aarch64-sysroot.sh --into $(AARCH64_ROOT) >/dev/null
	@cmake -S . -B $(AARCH64_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DISO_SYSROOT=$(abspath $(AARCH64_ROOT))/sysroot -DISO_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(AARCH64_BUILD) -j $(JOBS)

# The cross build's tests under qemu: which ones, and which not, in the script.
test-aarch64: cross-aarch64
	@scripts/test-aarch64.sh $(AARCH64_BUILD)

# The front on musl's headers, and the bit-exact suite through it.
test-musl: build
	@scripts/install-deps.sh musl
	@scripts/test-musl.sh $(BUILD)

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target bench_python_startup exec_busy_work bench_pool_log

# Interleaved isolate-vs-python3 runs; prints the table for docs/BENCHMARKS.md.
bench-run: bench
	@scripts/bench-run.sh $(BUILD)
	@$(MAKE) --no-print-directory bench-exec
	@$(MAKE) --no-print-directory bench-serve
	@$(MAKE) --no-print-directory bench-api
	@$(MAKE) --no-print-directory bench-mpi
	@$(MAKE) --no-print-directory bench-alloc
	@$(MAKE) --no-print-directory bench-gpu
	@$(BUILD)/bin/bench_pool_log

# python3 vs isolate run vs isolate call per request, and 200 concurrent calls (issue 6).
# isolate.map against a plain loop, multiprocessing and concurrent.futures (issue 15)
bench-api: build
	@$(BUILD)/bin/isolate run bench/map/api_bench.py

# isolate map over MPI ranks against one machine, and rank 0's ceiling (issue 16).
bench-mpi: build
	@python3 bench/map/mpi_bench.py --isolate $(BUILD)/bin/isolate

bench-serve: build
	@py=$$($(BUILD)/bin/isolate run -I -c 'import sys; print(sys.executable)'); \
	  $$py bench/serve/serve_bench.py --isolate $(BUILD)/bin/isolate --python $$py
	@$(BUILD)/bin/bench_process_start

# isoalloc against glibc, mimalloc, jemalloc and tcmalloc: the reference
# Mixed loop, then the benchmark family's shapes (issue 18).
bench-alloc: build
	@python3 bench/alloc/run_alloc_bench.py --build $(BUILD) --markdown
	@python3 bench/alloc/run_family.py --build $(BUILD) --runs 5 --markdown

# iso::hybrid_map's modes against a plain CUDA launch and TBB (issue 19); on a
# machine without a device only the CPU columns run. gpu-bundle makes the
# folder the device tool carries (scripts/gpu-bundle.sh says how).
bench-gpu: build
	@if [ -x $(BUILD)/bin/gpu_hybrid_bench ]; then \
	  $(BUILD)/bin/gpu_hybrid_bench --sizes 1000,10000,100000,1000000,10000000 --markdown; \
	else echo "bench-gpu: not built (no CUDA toolkit found; see cmake/Cuda.cmake)"; fi

gpu-bundle: build
	@scripts/gpu-bundle.sh $(BUILD)

# iso::parallel_for against TBB and OpenMP alone (docs/BENCHMARKS.md, issue 4),
# then the measuring executor against the lite build (issue 19).
bench-exec: build
	@scripts/bench-exec.sh $(BUILD)
	@python3 bench/exec/lite_cost.py --build $(BUILD) --markdown

# isoalloc's libFuzzer target for longer than the test suite's 45 s.
fuzz: build
	ISO_FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600) tests/alloc/fuzz/run_fuzz.sh $(BUILD)/fuzz

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

# clang-tidy's default checks over our C++ (compile_commands.json from the build),
# a few files per process, $(JOBS) processes at a time.
# clang 14 reports __GNUC__ 4, so 3.13's pyatomic.h must be told it has GCC builtins.
tidy: build
	@out=$$(git ls-files '*.cc' | xargs -P $(JOBS) -n 8 clang-tidy -p $(BUILD) --quiet --warnings-as-errors='*' \
	  --extra-arg=-D_Py_USE_GCC_BUILTIN_ATOMICS=1 2>&1); rc=$$?; \
	  echo "$$out" | grep -v 'warnings generated'; exit $$rc

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(AARCH64_BUILD)
