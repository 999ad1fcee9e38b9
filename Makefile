# clconv - see README.md.  `make demo` and `make test` install what is
# missing (tools/install-deps.sh), build, and run.
BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c11 -Wall -Wextra -fPIC -fvisibility=hidden -pthread
CPPFLAGS += -D_GNU_SOURCE -Ihost -I$(BUILD)
LDLIBS  += -lOpenCL -lm -pthread
DEVICE  ?=

VERSION  := $(shell sed -n 's/^\#define CLCONV_VERSION_STRING "\(.*\)"/\1/p' host/clconv.h)
SOMAJOR  := $(firstword $(subst ., ,$(VERSION)))
LIB_A    := $(BUILD)/libclconv.a
LIB_SO   := $(BUILD)/libclconv.so.$(VERSION)
SONAME   := libclconv.so.$(SOMAJOR)

LIB_SRC  := $(wildcard host/*.c)
LIB_OBJ  := $(LIB_SRC:host/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/kernels_embedded.o
KERNELS  := $(sort $(wildcard kernels/*.cl))
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.o)
BENCH    := $(BUILD)/clconv-bench
BENCH_SRC := $(wildcard tools/bench/*.c)
BENCH_OBJ := $(BENCH_SRC:tools/bench/%.c=$(BUILD)/bench/%.o)
# The bench tool's CLBlast peer is optional: built in when Debian's
# libclblast-dev is present (`make demo` installs it).
ifneq ($(wildcard /usr/include/clblast_c.h),)
BENCH_CPPFLAGS += -DCLCONV_HAVE_CLBLAST
BENCH_LIBS     += -lclblast
endif

# PoCL caches compiled kernels; keep that cache out of $HOME in CI.
POCL_CACHE_DIR ?= $(abspath $(BUILD))/pocl-cache
CLCONV_CACHE_DIR ?= $(abspath $(BUILD))/clconv-cache
TEST_ENV ?= POCL_CACHE_DIR=$(POCL_CACHE_DIR) CLCONV_CACHE_DIR=$(CLCONV_CACHE_DIR)
TEST_ARGS ?= --jobs 2
# Tests write layers as aggregate initializers of the 14 classic fields,
# which leave clconv_desc.struct_size 0 on purpose (the first layout).
TEST_CFLAGS ?= -Wno-missing-field-initializers

.PHONY: all lib deps demo test bench install clean
all: lib $(BENCH)
lib: $(LIB_A) $(LIB_SO)

deps:
	@sh tools/install-deps.sh

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O1 -o $@ $<

$(BUILD)/kernels_embedded.c: $(KERNELS) $(BUILD)/embed
	$(BUILD)/embed $@ $(KERNELS)

$(BUILD)/obj/kernels_embedded.o: $(BUILD)/kernels_embedded.c host/kernel_sources.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: host/%.c $(wildcard host/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libclconv.so

# the bench tests include tools/bench/*.c
$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h) host/clconv.h $(wildcard tools/bench/*.[ch])
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

# Tests and tools link the static library so they run from anywhere.
$(BUILD)/test_clconv: $(TEST_OBJ) $(LIB_A)
	$(CC) -o $@ $(TEST_OBJ) $(LIB_A) -lcriterion $(LDLIBS)

$(BUILD)/bench/%.o: tools/bench/%.c $(wildcard tools/bench/*.h) host/clconv.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BENCH_CPPFLAGS) -Itools/bench $(CFLAGS) -c -o $@ $<

$(BENCH): $(BENCH_OBJ) $(LIB_A)
	$(CC) -o $@ $(BENCH_OBJ) $(LIB_A) $(BENCH_LIBS) $(LDLIBS)

bench: $(BENCH)

test: deps
	$(MAKE) $(BUILD)/test_clconv
	$(TEST_ENV) $(BUILD)/test_clconv $(TEST_ARGS)
	$(MAKE) test-python

# The demo: correctness on the edge-case set, the six anchor layers timed
# with CLBlast and (when a Python here imports torch) PyTorch, a summary,
# and the chart in $(BUILD)/demo.svg.
demo:
	@sh tools/install-deps.sh libclblast-dev
	$(MAKE) $(BENCH)
	$(TEST_ENV) $(BENCH) --demo --svg=$(BUILD)/demo.svg $(if $(DEVICE),--device "$(DEVICE)")

$(BUILD)/clconv.pc: Makefile
	@mkdir -p $(@D)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: clconv\nDescription: 2-D convolution layers on OpenCL devices\nVersion: %s\nLibs: -L$${libdir} -lclconv\nLibs.private: -lOpenCL -lm -pthread\nCflags: -I$${includedir}\n' '$(PREFIX)' '$(VERSION)' > $@

install: lib $(BUILD)/clconv.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 644 host/clconv.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libclconv.so
	install -m 644 $(BUILD)/clconv.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	-[ -x $(BENCH) ] && install -m 755 $(BENCH) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)

# ---- Python package and tests (issue 10) ----
# python       a venv in VENV (--system-site-packages: it sees Debian's
#              python3-torch, numpy, ...) with the package in python/
#              pip-installed from a copy in BUILD (no build files in the
#              tree) and this build's libclconv.so.0 next to it.
# test-python  pytest over python/tests in that venv, on the kernel caches
#              of TEST_ENV, with CLCONV_LIBRARY unset so that the library
#              next to the package, the one of $(BUILD), is the one tested.
#              pytest fails on no tests collected (exit 5) and the suite's
#              conftest fails a run in which any test was skipped.
PYTHON      ?= /usr/bin/python3
PY_DEBS     := python3-numpy python3-torch python3-sklearn python3-matplotlib \
               python3-pyopencl python3-pytest python3-tqdm python3-venv python3-pip
VENV        ?= $(BUILD)/venv
PY_META     := python/pyproject.toml python/README.md
PY_SRC      := $(PY_META) $(wildcard python/clconv/*.py)
PYTEST_ARGS ?= -rsP

.PHONY: python test-python
python:
	@sh tools/install-deps.sh $(PY_DEBS)
	$(MAKE) $(VENV)/installed

$(VENV)/installed: $(LIB_SO) $(PY_SRC)
	rm -rf $(VENV) $(BUILD)/python-src
	$(PYTHON) -m venv --system-site-packages --without-pip $(VENV)
	mkdir -p $(BUILD)/python-src
	cp -r $(PY_META) python/clconv $(BUILD)/python-src/
	PYTHONDONTWRITEBYTECODE=1 $(VENV)/bin/python -m pip install --quiet --no-deps \
	    --no-build-isolation --no-index $(BUILD)/python-src
	install -m 755 $(LIB_SO) "$$($(VENV)/bin/python -c \
	    'import sysconfig; print(sysconfig.get_path("purelib"))')/clconv/$(SONAME)"
	touch $@

test-python: python
	env -u CLCONV_LIBRARY PYTHONDONTWRITEBYTECODE=1 $(TEST_ENV) \
	    $(VENV)/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) python/tests

# ---- stress targets (issue 4) ----
# test-large: opt-in, not part of `make test` (slow, up to ~20 GB): layers
# whose input, output or filter exceeds 2^31 elements, every algorithm and
# pass, sampled against a per-element float64 reference (tests/large/).
# On a device that cannot hold them it checks the refusal and runs the
# largest that fits; CLCONV_LARGE_GB caps the device memory used (default 16).
LARGE_SRC := $(wildcard tests/large/*.c)
LARGE_OBJ := $(LARGE_SRC:tests/large/%.c=$(BUILD)/large/%.o)
LARGE_ARGS ?= --jobs 1 --verbose

.PHONY: test-large
$(BUILD)/large/%.o: tests/large/%.c $(wildcard tests/*.h) host/clconv.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/test_large: $(LARGE_OBJ) $(BUILD)/tests/util.o $(LIB_A)
	$(CC) -o $@ $(LARGE_OBJ) $(BUILD)/tests/util.o $(LIB_A) -lcriterion $(LDLIBS)

test-large: deps
	$(MAKE) $(BUILD)/test_large
	$(TEST_ENV) $(BUILD)/test_large $(LARGE_ARGS)

# ---- sanitizer and fuzz targets (issue 4) ----
# test-asan   the library and the Criterion suite built with ASan + UBSan
#             (-O1, its own build dir) and run.  Criterion forks a process
#             per test: an ASan or UBSan report fails its test, and
#             abort_on_error makes a leak that LeakSanitizer finds when a
#             test process exits fail the run.  use_sigaltstack=0: LLVM,
#             inside PoCL, puts its own signal stack on the threads that
#             build kernels, which ASan would otherwise try to unmap.
#             tests/lsan.supp names only the OpenCL runtime's libraries.
# test-leaks  tests/leaks/leak_check under valgrind: LEAK_CONTEXTS contexts
#             created, run through every pass and freed.  Fails when a lost
#             block has a libclconv frame (tests/valgrind.supp covers the
#             runtime's own) or when the library leaves references on the
#             caller's cl_context or queue.
# fuzz        libFuzzer targets (clang) in FUZZ_BUILD; fuzz-short runs each
#             for FUZZ_SECONDS from its committed corpus
#             (tools/fuzz/corpus/<target>); new inputs go to a scratch dir.
ASAN_BUILD ?= build-asan
SAN_FLAGS  ?= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_ENV   ?= ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:use_sigaltstack=0:allocator_may_return_null=1 \
              LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

LEAK_CONTEXTS ?= 1000
LEAK_BIN      := $(BUILD)/leak_check
VALGRIND_LEAK ?= valgrind --leak-check=full --show-leak-kinds=definite,indirect \
                 --num-callers=64 --fullpath-after= --suppressions=tests/valgrind.supp

FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := fuzz_desc fuzz_desc_parse
FUZZ_SECONDS ?= 30
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

.PHONY: test-asan test-leaks fuzz fuzz-short

test-asan: deps
	$(MAKE) BUILD=$(ASAN_BUILD) OPT='-O1 -g $(SAN_FLAGS)' LDLIBS='$(SAN_FLAGS) $(LDLIBS)' \
	    $(ASAN_BUILD)/test_clconv
	$(TEST_ENV) $(ASAN_ENV) $(ASAN_BUILD)/test_clconv $(TEST_ARGS)

# Linked to the shared library so that valgrind's frames name libclconv.
$(LEAK_BIN): tests/leaks/leak_check.c host/clconv.h $(LIB_SO)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -lclconv \
	    $(LDLIBS)

# CLCONV_CACHE=1: the programs' binaries are saved on PoCL too (by default
# PoCL's own cache keeps them), by one context run natively first, so that
# the contexts under valgrind load them (a build from source there costs
# about 15x a load, and exporting a binary a compile of every kernel).
test-leaks:
	@sh tools/install-deps.sh valgrind
	$(MAKE) $(LEAK_BIN)
	$(TEST_ENV) CLCONV_CACHE=1 $(LEAK_BIN) 1
	$(TEST_ENV) CLCONV_CACHE=1 $(VALGRIND_LEAK) --log-file=$(BUILD)/leak_check.valgrind.log \
	    $(LEAK_BIN) $(LEAK_CONTEXTS)
	sh tests/leaks/check_log.sh $(BUILD)/leak_check.valgrind.log

# The fuzz targets link the library built by clang with fuzzer coverage
# (`make fuzz` builds it first, in FUZZ_BUILD).
$(FUZZ_BUILD)/fuzz_desc_parse: FUZZ_EXTRA = tools/bench/desc_parse.c
$(FUZZ_BUILD)/fuzz_%: tools/fuzz/fuzz_%.c $(FUZZ_BUILD)/libclconv.a $(wildcard tools/bench/desc_parse.*)
	$(FUZZ_CC) -O1 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -Ihost -Itools/bench \
	    -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_EXTRA) $(FUZZ_BUILD)/libclconv.a $(LDLIBS)

# libclang-rt-dev holds libFuzzer; `clang` only recommends it.
fuzz:
	@sh tools/install-deps.sh clang libclang-rt-dev
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT='-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)' \
	    $(FUZZ_BUILD)/libclconv.a
	$(MAKE) $(FUZZ_BINS)

# Each target from its corpus for FUZZ_SECONDS (new inputs go to a scratch
# dir); a finding fails the target and leaves its input and log in FUZZ_BUILD.
fuzz-short: fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	    rm -rf $(FUZZ_BUILD)/new-$$t && mkdir -p $(FUZZ_BUILD)/new-$$t; \
	    echo "fuzz-short: $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/$$t- $(FUZZ_BUILD)/new-$$t tools/fuzz/corpus/$$t \
	        > $(FUZZ_BUILD)/$$t.log 2>&1 || { tail -n 60 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	    grep -E '^Done|^stat::(number_of_executed_units|new_units_added)' $(FUZZ_BUILD)/$$t.log; \
	done

# ---- the GPU check that runs without a GPU (issue 8) ----
# ptx-check  the kernel builds the GPU tuning rows make (as the library
#            builds them for the anchor layers, every pass, GEMM and
#            TILED), compiled to PTX by clang with Debian's libclc,
#            assembled by ptxas for sm_80 and sm_90 and disassembled by
#            cuobjdump (PyPI wheels in BUILD/ptx-venv where the CUDA
#            toolkit is absent): a table of registers, stack frame, spills,
#            shared memory, work-groups per SM and FFMA per load; fails when
#            a tiled kernel spills, keeps a stack frame, leaves fewer than 2
#            work-groups per SM or feeds its main loop fewer than 8 FFMA per
#            load.  Skips, with a message, when its tools cannot be had.
.PHONY: ptx-check
ptx-check: deps
	@sh tools/install-deps.sh clang libclc-14 python3-venv || \
	    echo "ptx-check: clang, libclc-14 or python3-venv could not be installed"
	@command -v python3 >/dev/null || { echo "ptx-check: SKIPPED: no python3"; exit 0; }; \
	$(MAKE) $(BENCH) && $(TEST_ENV) python3 tools/ptx_check.py --bench $(BENCH) --build $(BUILD)
