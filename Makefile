# SPDX-License-Identifier: GPL-2.0
#
# tcpstates: the module (against KDIR), the reader, and the test bench.
#
#   make                  module and reader, for the running kernel
#   make KDIR=/usr/src/linux-headers-6.12.117+deb12-amd64
#   make demo             boot a Debian kernel with the module and show it
#   make check            install deps, host tests, selftests in every kernel
#   make check-debug      the same in a lockdep/KASAN/kmemleak 6.12 kernel
#   make lint             checkpatch --strict, sparse, W=1
#   make stress           the stress test alone, DURATION seconds per kernel
#   make bench            tcpstates against ss, netstat, /proc/net/tcp, sock_diag
#   make install          module into /lib/modules/$(KVER)/updates, reader
#   make dkms-install     the module under DKMS (dkms-remove undoes it)
#   make deps             what the above need, on a fresh Debian 12

KDIR ?= /lib/modules/$(shell uname -r)/build
# KERNELS (default: 6.1 6.12, plus debug once built) selects the matrix:
# see scripts/kernels.sh.

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

# Only build it: make check then includes it in the matrix.
debug-kernel: deps
	scripts/build-debug-kernel.sh build/kernels

lint: deps
	scripts/lint.sh

demo: deps
	scripts/demo.sh

bench: deps
	scripts/bench.sh

# The stress test alone, longer: make stress DURATION=600
stress: deps
	GUEST_TESTS=stress.sh DURATION=$${DURATION:-600} scripts/check.sh

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

.PHONY: all module userspace selftests deps check check-debug debug-kernel lint demo bench stress install uninstall \
	dkms-install dkms-remove clean distclean
