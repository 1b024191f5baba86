# SPDX-License-Identifier: GPL-2.0
#
# tcpstates: the module (against KDIR), the reader, and the test bench.
#
#   make                  module and reader, for the running kernel
#   make KDIR=/usr/src/linux-headers-6.12.117+deb12-amd64
#   make demo             boot a Debian kernel with the module and show it
#   make check            install deps, host tests, selftests in every kernel
#   make lint             checkpatch --strict, sparse, W=1
#   make deps             what the above need, on a fresh Debian 12

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= 6.1 6.12
export KERNELS

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

lint: deps
	scripts/lint.sh

demo: deps
	scripts/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/module clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

distclean: clean
	rm -rf build

.PHONY: all module userspace selftests deps check lint demo clean distclean
