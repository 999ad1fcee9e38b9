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
TEST_ENV ?= POCL_CACHE_DIR=$(POCL_CACHE_DIR)
TEST_ARGS ?= --jobs 2

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

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h) host/clconv.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c -o $@ $<

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

demo:
	@sh tools/install-deps.sh libclblast-dev
	$(MAKE) $(BENCH)
	$(TEST_ENV) $(BENCH) --demo $(if $(DEVICE),--device "$(DEVICE)")

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
