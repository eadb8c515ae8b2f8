#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/smoke.sh: proves the rig end to end on an ext4
# disk (/dev/vda) with blockcheck.  Parameters (kernel command line, reach
# us as environment variables):
#   smoke_big=N     blocks of the big file, larger than the page cache
#   smoke_small=N   blocks of the file every mutation is tried on
#   smoke_reads=N   random reads of the big file
#
# Big file: create, remount (cold cache), random reads (CSV series), a
# full sequential verify (which also cycles the whole page cache), O_DIRECT
# overwrites, and a final full verify after a remount.
# Small file: every mutating command (buffered, O_DIRECT and mmap
# overwrite; truncate down, extend as a hole, truncate to a partial block,
# extend stamped; punch; unlink + re-create with a new id), each verified
# twice: through the page cache as the mutation left it, then cold after
# dropping the caches.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${smoke_big:-98304}
small=${smoke_small:-4096}
reads=${smoke_reads:-20000}
q=$((small / 4))		# block ranges scale with the small file
e=$((small / 64))
dev=/dev/vda
mnt=/mnt/test
F=$mnt/big
S=$mnt/small
export BLOCKCHECK_STATE_DIR=/run/blockcheck	# tmpfs, outside the disk

puma_result smoke.big_blocks "$big"
puma_result smoke.small_blocks "$small"
puma_result smoke.reads "$reads"

mkdir -p "$mnt"
puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1
puma_mem_report mem.boot

remount() {
	umount "$mnt" && mount -t ext4 "$dev" "$mnt"
}

# verify_both NAME [read options]: verify warm, then cold.
verify_both() {
	_n=$1
	shift
	puma_bc "$_n.warm" verify "$S" "$@"
	puma_drop_caches
	puma_bc "$_n.cold" verify "$S" "$@"
}

# --- big file: larger than the page cache -------------------------------
puma_bc big.create create "$F" --blocks "$big" --id 1 --gen 1 || exit 1
puma_mem_report mem.after_create
puma_step big.remount remount || exit 1
puma_bc big.read_random read "$F" --random --seed 1 --count "$reads" \
	--csv /run/big-read-random.csv
puma_export /run/big-read-random.csv
puma_bc big.read_random_direct read "$F" --random --direct --seed 2 \
	--count "$((reads / 4))"
puma_bc big.verify verify "$F"
puma_mem_report mem.after_verify
puma_bc big.overwrite_direct overwrite "$F" --random --count 512 --seed 3 \
	--gen 2 --mode direct

# --- small file: every mutation ------------------------------------------
puma_bc small.create create "$S" --blocks "$small" --id 2 --gen 1
verify_both small.v_create

puma_bc small.ow_buffered overwrite "$S" --random --count 256 --seed 11 \
	--gen 2 --mode buffered
verify_both small.v_buffered

# Read first so the page cache holds the old blocks the direct write must
# invalidate.
puma_bc small.preread read "$S" --blocks "0:$e,$q:$((q + 2 * e))"
puma_bc small.ow_direct overwrite "$S" --blocks "0:$e,$q:$((q + 2 * e))" \
	--gen 3 --mode direct
verify_both small.v_direct

puma_bc small.ow_mmap overwrite "$S" \
	--blocks "$((e / 2)):$((3 * e / 2)),$((2 * q)):$((2 * q + 3 * e))" \
	--gen 4 --mode mmap
verify_both small.v_mmap

puma_bc small.truncate truncate "$S" --blocks "$((small / 2))"
verify_both small.v_truncate
puma_bc small.extend_hole extend "$S" --blocks "$small"
verify_both small.v_extend_hole
puma_bc small.truncate_partial truncate "$S" --bytes "$(((small / 4) * 4096 + 1000))"
puma_bc small.extend_partial truncate "$S" --blocks "$((small / 2))"
verify_both small.v_partial
puma_bc small.extend_stamped extend "$S" --blocks "$small" --gen 5
verify_both small.v_extend_stamped

puma_bc small.preread2 read "$S" --blocks "$e:$((4 * e))"
puma_bc small.punch punch "$S" --range "$e:$((4 * e))"
verify_both small.v_punch

ino_old=$(stat -c %i "$S")
puma_step small.unlink rm -f "$S"
sync
puma_bc small.recreate create "$S" --blocks "$small" --id 3 --gen 6
ino_new=$(stat -c %i "$S")
puma_result small.inode_old "$ino_old"
puma_result small.inode_new "$ino_new"
verify_both small.v_recreate

# --- remount, then everything once more ----------------------------------
puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
puma_mem_report mem.end
puma_step umount umount "$mnt"
