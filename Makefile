# SPDX-License-Identifier: GPL-2.0
#
# tcpstates: the module (against KDIR), the reader, and the test bench.
#
#   make                  module and reader, for the running kernel
#   make KDIR=/usr/src/linux-headers-6.12.117+deb12-amd64
#   make demo             boot a Debian kernel with the module and show it
#   make check            install deps, host tests, selftests in every kernel
#   make check-debug      the same in a lockdep/KASAN/kmemleak 6.12 kernel
#   make check-kcsan      the same in a KCSAN 6.12 kernel (data races)
#   make check-harness    prove make check fails a kernel that did not run
#   make check-faultinject  fail-nth sweeps in the debug kernel (minutes)
#   make fuzz             the fuzzer alone in the debug kernel, DURATION s
#   make lint             checkpatch --strict, sparse, W=1
#   make stress           the stress test alone, DURATION seconds per kernel
#   make bench            tcpstates against ss, netstat, /proc/net/tcp, sock_diag
#   make bench-connrate   connections/s with and without the transitions' hooks
#   make install          module into /lib/modules/$(KVER)/updates, reader
#   make dkms-install     the module under DKMS (dkms-remove undoes it)
#   make check-host       make demo in a fresh clone in a clean Debian 13
#                         (HOST_SUITE) system made with debootstrap
#   make deb              Debian packages into build/deb (debian/), lintian
#   make check-deb        install, autoinstall, upgrade and purge them in
#                         throwaway chroots of each Debian release
#   make deps             what the above need, on a fresh Debian 12 or 13

KDIR ?= /lib/modules/$(shell uname -r)/build
# KERNELS selects the matrix (scripts/kernels.sh): default is 5.10 6.1
# 6.12 trixie sid, plus debug once built; KERNELS=next is experimental's
# -rc alone, KERNELS=trixie-backports each series of trixie-backports,
# KERNELS="default next" both.

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

deps:
	scripts/deps.sh

check: deps
	scripts/check.sh

# Build the lockdep/KASAN/kmemleak kernel (cached) and run every test in it.
check-debug: deps
	KERNELS=debug scripts/check.sh

# The same selftests in a KCSAN kernel (built on first use, about 15
# minutes; not in make check, whose hour it would not fit): a data race
# report that names the module fails it.
check-kcsan: deps
	KERNELS=kcsan scripts/check.sh

# Every allocation of the /proc reads, a sysfs write, a netns and the
# module's load failed in turn (fail-nth), in the debug kernel; make
# check's debug lane runs all but the load's sweep, which takes minutes.
check-faultinject: deps
	KERNELS=debug GUEST_TESTS="faultinject.sh faultinject_load.sh" scripts/check.sh

# The fuzzer alone in the debug kernel: make fuzz DURATION=600, and
# FUZZ_SEED=N to replay the run that printed "# seed N".  Of these the
# guest's command line carries only DURATION (its bounds grow with it):
# the seconds and the seed go in the payload, as fuzz.env.
fuzz: deps
	mkdir -p build/fuzz
	printf 'FUZZ_SECONDS=%s\nFUZZ_SEED=%s\n' "$${DURATION:-600}" \
		"$${FUZZ_SEED:-}" > build/fuzz/fuzz.env
	CHECK_PAYLOAD_EXTRA=$(CURDIR)/build/fuzz KERNELS=debug \
		GUEST_TESTS=fuzz.sh DURATION=$${DURATION:-600} scripts/check.sh

# check.sh against kernels that are broken on purpose: it must fail them.
check-harness: deps
	scripts/check-harness.sh

# Only build it: make check then includes it in the matrix.
debug-kernel: deps
	scripts/build-debug-kernel.sh build/kernels

lint: deps
	scripts/lint.sh

# Only what the demo needs, for its kernel alone.
demo:
	DEPS=demo scripts/deps.sh
	scripts/demo.sh

# The two commands' first one on a Debian release this machine may not
# run: a clean debootstrapped system, a fresh clone, make demo.
check-host: deps
	scripts/check-host.sh $${HOST_SUITE:-trixie}

bench: deps
	scripts/bench.sh

# The connect/accept/close rate with and without the transitions' hooks.
bench-connrate: deps
	scripts/bench.sh connrate

# The stress test alone, longer: make stress DURATION=600
stress: deps
	GUEST_TESTS=stress.sh DURATION=$${DURATION:-600} scripts/check.sh

# tcpstates-dkms_VERSION_all.deb and tcpstates_VERSION_amd64.deb.
deb:
	DEPS=deb scripts/deps.sh
	scripts/deb.sh

check-deb: deb
	scripts/deb-check.sh

install:
	scripts/install.sh install

uninstall:
	scripts/install.sh uninstall

dkms-install:
	scripts/install.sh dkms-install

dkms-remove:
	scripts/install.sh dkms-remove

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/module clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

distclean: clean
	rm -rf build

.PHONY: all module userspace selftests deps check check-debug check-kcsan check-harness check-faultinject fuzz check-host debug-kernel lint demo bench bench-connrate stress install uninstall \
	deb check-deb \
	dkms-install dkms-remove clean distclean
