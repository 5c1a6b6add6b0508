# gk: gkrun (OCI runtime) and gkimg (image tool).
#
#   make                 build both programs into build/
#   make DEVELOPER=1     ... with -Werror
#   make SAN=1           ... with ASan+UBSan, into build-san/
#   make fault           gkrun/gkimg with fault points (include/gk/fault.h), into O/fault
#   make demo            install deps, build, run a busybox container (root, or sudo)
#   make check           unit tests (no root) + integration tests (root, or sudo)
#   make check-cgv1      cgroup, lifecycle, crash tests on cgroup v1 alone (cgroup2 hidden)
#   make check-cgv2      the cgroup tests again inside a pure cgroup-v2 VM
#   make check-numa      the tests that need two NUMA nodes, inside a two-node VM
#   make check-criu      the checkpoint/restore tests inside that VM (CRIU runs there)
#   make fuzz            run every fuzzer for FUZZ_SECONDS each
#   make bench           benchmarks against runc/crun and skopeo+umoci
#                        (GK_BENCH_BASELINE=DIR: DIR/gkrun too, as "gkrun-before")
#   make lint            banned calls, cppcheck, shellcheck, clang-format (tests/lint.sh;
#                        LINT_FORMAT=0 skips the format check; run by .ci/run)
#   make install         install to $(DESTDIR)$(PREFIX)

PREFIX ?= /usr/local
VERSION := 0.1.0
SAN ?=
DEVELOPER ?=
FAULT ?=
O ?= $(if $(SAN),build-san,build)

CC ?= cc
PKG_CONFIG ?= pkg-config

SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wvla -Wpointer-arith -Wundef -Wno-unused-parameter \
       -Wno-missing-field-initializers
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
override CFLAGS += -DGK_VERSION=\"$(VERSION)\" -std=gnu11 $(WARN) $(HARDEN) -D_GNU_SOURCE -Iinclude -Iruntime \
                   $(if $(DEVELOPER),-Werror) $(if $(FAULT),-DGK_FAULT_INJECTION) \
                   $(if $(SAN),$(SANFLAGS) -U_FORTIFY_SOURCE)
override LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed \
                    $(if $(SAN),$(SANFLAGS))

# libsystemd is not linked: runtime/cgroup/sdbus_dl.c dlopen()s it (-ldl).
RUN_PKGS = yajl libseccomp libcap
NET_PKGS = yajl libmnl libnftnl
# libcurl, libarchive, gpgme and libsodium stay on gkimg's link line with
# --as-needed, but imgtool/dl_*.c dlopen()s them at their first call.
IMG_PKGS = yajl libcurl libarchive libcrypto gpgme libsodium
RUN_LIBS := $(shell $(PKG_CONFIG) --libs $(RUN_PKGS) 2>/dev/null) -ldl
NET_LIBS := $(shell $(PKG_CONFIG) --libs $(NET_PKGS) 2>/dev/null)
IMG_LIBS := $(shell $(PKG_CONFIG) --libs $(IMG_PKGS) 2>/dev/null)
ALL_LIBS := $(shell $(PKG_CONFIG) --libs $(sort $(RUN_PKGS) $(NET_PKGS) $(IMG_PKGS)) 2>/dev/null) -ldl

LIB_SRC := $(wildcard lib/*.c)
# runtime/: one folder per concern (README.md, "Layout"); runtime/net/ is
# gkrun-net, a program of its own.
RUN_DIRS := $(filter-out runtime/net,$(patsubst %/,%,$(wildcard runtime/*/)))
RUN_SRC := $(filter-out runtime/cmd/main.c,$(wildcard $(addsuffix /*.c,$(RUN_DIRS))))
NET_SRC := $(filter-out runtime/net/main.c,$(wildcard runtime/net/*.c))
IMG_SRC := $(filter-out imgtool/main.c,$(wildcard imgtool/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
HEADERS := $(wildcard include/gk/*.h $(addsuffix /*.h,$(RUN_DIRS)) runtime/net/*.h imgtool/*.h)

obj = $(patsubst %.c,$(O)/%.o,$(1))

LIBGK := $(O)/libgk.a
LIBRUN := $(O)/libgkrun.a
LIBNET := $(O)/libgknet.a
LIBIMG := $(O)/libgkimg.a
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

all: $(O)/gkrun $(O)/gkrun-net $(O)/gkimg $(O)/gk-probe

$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBGK): $(call obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIBRUN): $(call obj,$(RUN_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIBNET): $(call obj,$(NET_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIBIMG): $(call obj,$(IMG_SRC))
	@rm -f $@; ar rcs $@ $^

# gkrun is one binary, linked static-pie where the static archives of libc,
# libseccomp, libcap and yajl are installed: a container start maps no
# shared library and touches only the parts of libc it uses (README,
# "Performance").  Otherwise (or with SAN) it is linked dynamically, taking
# what static archives there are.  --systemd-cgroup needs no other build:
# runtime/cgroup/sdbus_dl.c dlopen()s libsystemd.so.0 at the first sd-bus call.
# A static-pie gkrun can dlopen only a libsystemd (and its libc) of the
# same glibc version it was linked with: build it on the host it runs on,
# or where the two glibcs match (the linker's dlopen warning says this).
LIBEXECDIR ?= $(PREFIX)/libexec/gk
STATIC_ARCHIVES := $(foreach l,c seccomp cap yajl_s,\
                     $(wildcard $(shell $(CC) -print-file-name=lib$(l).a)))
STATIC ?= $(if $(SAN),,$(if $(word 4,$(STATIC_ARCHIVES)),1))
RUN_STATIC := $(foreach l,seccomp cap yajl_s,\
                $(wildcard $(shell $(CC) -print-file-name=lib$(l).a)))

# Where gkrun looks for gkrun-net when it is not beside gkrun itself; the
# stamp rebuilds netcall.o when another PREFIX or LIBEXECDIR is given.
$(O)/runtime/container/netcall.o: override CFLAGS += -DGK_LIBEXECDIR=\"$(LIBEXECDIR)\"
$(O)/runtime/container/netcall.o: $(O)/libexecdir.stamp
$(O)/libexecdir.stamp: FORCE
	@mkdir -p $(dir $@); echo '$(LIBEXECDIR)' | cmp -s - $@ || echo '$(LIBEXECDIR)' > $@
FORCE:

ifeq ($(STATIC),1)
$(O)/gkrun: $(O)/runtime/cmd/main.o $(LIBRUN) $(LIBGK)
	$(CC) $(LDFLAGS) -static-pie -o $@ $^ $(STATIC_ARCHIVES)
else
$(O)/gkrun: $(O)/runtime/cmd/main.o $(LIBRUN) $(LIBGK)
	$(CC) $(LDFLAGS) -o $@ $^ $(RUN_STATIC) $(RUN_LIBS)
endif

# The networking program (runtime/net/): dynamically linked, since libmnl
# has no static archive; run by gkrun only for org.gk.net.* containers.
$(O)/gkrun-net: $(O)/runtime/net/main.o $(LIBNET) $(LIBGK)
	$(CC) $(LDFLAGS) -o $@ $^ $(NET_LIBS)

$(O)/gkimg: $(O)/imgtool/main.o $(LIBIMG) $(LIBGK)
	$(CC) $(LDFLAGS) -o $@ $^ $(IMG_LIBS)

# A static helper put inside test rootfses to report what the container sees.
$(O)/gk-probe: tests/helper/probe.c tests/helper/observe.c tests/helper/facts.c tests/helper/tree.c \
		tests/helper/procattr.c tests/helper/snapshot.c \
		tests/helper/probe.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -Wall -Wextra -o $@ $(filter %.c,$^)

$(O)/tests/%: tests/unit/%.c $(LIBRUN) $(LIBNET) $(LIBIMG) $(LIBGK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBRUN) $(LIBNET) $(LIBIMG) $(LIBGK) -lcmocka $(ALL_LIBS)

units: $(UNIT_BINS)

check:
	contrib/install-deps.sh --test
	$(MAKE) all units fault
	tests/run-tests.sh $(O)

# The crash tests' binaries: the same sources with every GK_FAULT point
# compiled in, kept apart from the normal build (which has none).
fault:
	$(MAKE) O=$(O)/fault FAULT=1 $(O)/fault/gkrun $(O)/fault/gkrun-net $(O)/fault/gkimg

check-unit: units
	tests/run-tests.sh --unit-only $(O)

# Also part of check on a hybrid host; a pure v1 host is this one with its
# cgroup2 mount hidden in a private mount namespace.
check-cgv1: all
	tests/run-tests.sh --cgroup-v1 $(O)

CGV2VM ?= ../shared/tools/cgv2-vm
check-cgv2: all
	$(CGV2VM) --timeout 1800 -- tests/run-tests.sh --cgroup-only $(O)

# Two NUMA nodes of 1 GiB and one CPU each: the VM's 2048 MiB, split.
NUMA_QEMU_ARGS := -object memory-backend-ram,id=gkn0,size=1024M \
	-object memory-backend-ram,id=gkn1,size=1024M \
	-numa node,nodeid=0,cpus=0,memdev=gkn0 -numa node,nodeid=1,cpus=1,memdev=gkn1
check-numa: all
	CGV2VM_QEMU_ARGS="$(NUMA_QEMU_ARGS)" $(CGV2VM) --timeout 1800 --mem 2048 --cpus 2 -- \
		tests/run-tests.sh --numa-only $(O)
# checkpoint/restore: CRIU 3.17 runs in the VM's kernel (6.1), not on 6.18
check-criu: all
	$(CGV2VM) --timeout 1200 -- tests/run-tests.sh --criu-only $(O)
	$(CGV2VM) --timeout 1500 -- tests/run-tests.sh --criu-orch-only $(O)

FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

bench:
	$(MAKE) O=build-bench OPT=-O2 all build-bench/bench-floor
	tests/bench/run.sh build-bench

# tests/bench/runtime.py's floor: the least a container start can cost here
$(O)/bench-floor: tests/bench/floor.c
	$(CC) -O2 -static -Wall -Wextra -o $@ $<

demo:
	contrib/demo.sh

lint:
	tests/lint.sh

MANS := $(O)/man/gkrun.8 $(O)/man/gkimg.1
$(O)/man/%: contrib/man/%.md
	@mkdir -p $(dir $@)
	go-md2man -in $< -out $@
man: $(MANS)

install: all man
	install -D -m 0755 $(O)/gkrun $(DESTDIR)$(PREFIX)/bin/gkrun
	install -D -m 0755 $(O)/gkrun-net $(DESTDIR)$(LIBEXECDIR)/gkrun-net
	install -D -m 0755 contrib/gkrun-protect.sh $(DESTDIR)$(LIBEXECDIR)/gkrun-protect
	sed -e 's,/usr/local/libexec/gk,$(LIBEXECDIR),g' -e 's,/usr/local/bin,$(PREFIX)/bin,g' \
		contrib/systemd/gkrun-protect.service | \
		install -D -m 0644 /dev/stdin $(DESTDIR)$(PREFIX)/lib/systemd/system/gkrun-protect.service
	install -D -m 0755 $(O)/gkimg $(DESTDIR)$(PREFIX)/bin/gkimg
	install -D -m 0644 $(O)/man/gkrun.8 $(DESTDIR)$(PREFIX)/share/man/man8/gkrun.8
	install -D -m 0644 $(O)/man/gkimg.1 $(DESTDIR)$(PREFIX)/share/man/man1/gkimg.1
	install -D -m 0644 contrib/completion/gkrun.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gkrun
	install -D -m 0644 contrib/completion/gkimg.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gkimg

clean:
	rm -rf build build-san build-bench build-fuzz

.PHONY: FORCE man demo all units fault check check-unit check-cgv2 check-numa check-criu fuzz bench lint install clean
.DELETE_ON_ERROR:
