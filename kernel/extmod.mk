# SPDX-License-Identifier: GPL-2.0
#
# Included by Kbuild for out-of-tree builds (M=) against a kernel whose
# configuration does not know the PUMA symbols: build every part as a
# module, the KUnit suites only when the kernel has KUnit, and tell the C
# code what Kconfig would have told it.

puma-extmod-syms := CONFIG_PUMA CONFIG_PUMA_TRANSPORT_LOOP \
		    CONFIG_PUMA_TRANSPORT_VIRTIO \
		    CONFIG_PUMA_TRANSPORT_BENCH
ifneq ($(CONFIG_INET),)
puma-extmod-syms += CONFIG_PUMA_TRANSPORT_TCP
endif
ifneq ($(CONFIG_CLEANCACHE),)
puma-extmod-syms += CONFIG_PUMA_BACKEND CONFIG_PUMA_VICTIM
endif
ifneq ($(CONFIG_KUNIT),)
puma-extmod-syms += CONFIG_PUMA_INDEX_KUNIT_TEST CONFIG_PUMA_WIRE_KUNIT_TEST \
		    CONFIG_PUMA_TRANSPORT_KUNIT_TEST CONFIG_PUMA_INDEX_BENCH \
		    CONFIG_PUMA_LOOP_BENCH CONFIG_PUMA_POLICY_KUNIT_TEST \
		    CONFIG_PUMA_DETECTOR_KUNIT_TEST CONFIG_PUMA_OUTBOX_KUNIT_TEST \
		    CONFIG_PUMA_TRANSPORT_CONFORMANCE_KUNIT_TEST \
		    CONFIG_PUMA_SECURE_KUNIT_TEST \
		    CONFIG_PUMA_TRANSPORT_VIRTIO_KUNIT_TEST
ifneq ($(CONFIG_INET),)
puma-extmod-syms += CONFIG_PUMA_TRANSPORT_TCP_KUNIT_TEST
endif
endif

$(foreach s,$(puma-extmod-syms),$(eval $(s) := m))
ccflags-y += $(foreach s,$(puma-extmod-syms),-D$(s)_MODULE=1)
