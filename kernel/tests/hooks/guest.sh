#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of the cleancache hook tests (run-qemu.sh), run by the rig's
# /init as /guest/test.sh.  /dev/vda is ext4 with inline_data and the
# stamped files "big" (512 MiB) and "hot" (150 MiB) made on the host.
# The cctest backend is loaded and unloaded here, not by /init: the tests
# need it registered with ext4 already mounted, and unregistered while
# mounted and under load.  A failed check calls puma_fail, which fails the
# run; the counters are printed for humans.

# shellcheck source-path=SCRIPTDIR source=../../../scripts/vm/guest/lib.sh
. /guest/lib.sh

S=/sys/kernel/debug/cctest/stats
ko=/lib/modules/puma/cctest.ko

# cc_stat NAME: one of the backend's counters.
cc_stat() { awk -v k="$1" '$1 == k { print $2 }' $S; }

for f in /sys/kernel/debug/cleancache/dio_guard /sys/kernel/debug/failslab; do
	if [ -e $f ]; then echo "debugfs: $f present"; else echo "debugfs: $f missing"; fi
done
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { puma_fail "mount /dev/vda"; exit 1; }
echo "=== insmod with ext4 already mounted (register -> iterate_supers -> init_fs)"
insmod $ko || { puma_fail "insmod cctest.ko"; exit 1; }
grep -E "init_fs" $S
echo "=== coherence tests"
puma_step coherence cctest_user /mnt
cat $S
echo "=== umount + remount"
puma_step rm.make cctest_user make /mnt/rm 9 64
echo 1 > /proc/sys/vm/drop_caches
stored=$(grep '^stored' $S)
umount /mnt
echo "after umount: $(grep -E '^(inv_fs|stored)' $S | tr '\n' ' ') (before: $stored)"
mount -t ext4 /dev/vda /mnt || { puma_fail "remount /dev/vda"; exit 1; }
h0=$(cc_stat get_hit)
puma_step rm.remounted cctest_user check /mnt/rm 9 64
h1=$(cc_stat get_hit)
echo "get hits after remount: $((h1 - h0)) (must be 0)"
# The old pool was invalidated at umount: a hit would be stale data.
[ $((h1 - h0)) -eq 0 ] || puma_fail "$((h1 - h0)) get hits after remount"
echo 1 > /proc/sys/vm/drop_caches
puma_step rm.new_pool cctest_user check /mnt/rm 9 64
h2=$(cc_stat get_hit)
echo "get hits after drop_caches on the new pool: $((h2 - h1))"
echo "=== rmmod + insmod while mounted"
if rmmod cctest; then echo "rmmod ok"; else puma_fail "rmmod cctest while mounted"; fi
insmod $ko || { puma_fail "insmod cctest.ko while mounted"; exit 1; }
grep -E "^(init_fs|stored)" $S
echo "=== memory pressure: read a 512 MiB file twice on a small VM"
echo reset > $S
free -m
puma_step pressure.1 cctest_user check /mnt/big 7 131072
tr '\n' ' ' <$S; echo
puma_step pressure.2 cctest_user check /mnt/big 7 131072
tr '\n' ' ' <$S; echo
grep -E "^(workingset_refault_file|workingset_activate_file|pgdeactivate|pgsteal_kswapd|pgsteal_direct) " /proc/vmstat | tr '\n' ' '; echo
echo "=== LRU activity: a hot file, a streaming read, the hot file again"
echo reset > $S
for i in 1 2 3; do puma_step "lru.hot$i" cctest_user check /mnt/hot 8 38400; done
for i in 1 2; do
	# 100 MiB of big evicts part of hot, which then refaults within the
	# workingset.
	puma_step "lru.stream$i" cctest_user check /mnt/big 7 25600
	puma_step "lru.rehot$i" cctest_user check /mnt/hot 8 38400
done
tr '\n' ' ' <$S; echo
grep -E "^(workingset_refault_file|workingset_activate_file|pgdeactivate) " /proc/vmstat | tr '\n' ' '; echo
echo "=== unregister under load"
cctest_user check /mnt/big 7 131072 >/tmp/ul.out 2>&1 &
reader=$!
sleep 3
if rmmod cctest; then echo "rmmod under load ok"; else puma_fail "rmmod cctest under load"; fi
wait $reader
rc=$?
cat /tmp/ul.out
[ $rc -eq 0 ] || puma_fail "reader during unregister: exit $rc"
umount /mnt || puma_fail "umount /mnt"
