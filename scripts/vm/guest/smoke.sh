#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/vm/smoke.sh: proves the rig end to end on an ext4
# disk (/dev/vda) with blockcheck.  Parameters (kernel command line):
#   smoke_big=N     blocks of the big file, larger than the page cache
#   smoke_small=N   blocks of the file every mutation is tried on
#   smoke_reads=N   random reads of the big file
#
# Big file: create, remount (cold cache), random reads (CSV series), a
# full sequential verify (which also cycles the whole page cache), O_DIRECT
# overwrites, and a final full verify after a remount.  Small file: every
# mutation (lib.sh), each verified warm, then cold after drop_caches.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. /guest/lib.sh

big=${smoke_big:-98304}
small=${smoke_small:-4096}
reads=${smoke_reads:-20000}
F=$mnt/big
S=$mnt/small

puma_result smoke.big_blocks "$big"
puma_result smoke.small_blocks "$small"
puma_result smoke.reads "$reads"

mkdir -p "$mnt"
puma_step mount mount -t ext4 "$dev" "$mnt" || exit 1
puma_mem_report mem.boot

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

mutations partial

puma_step remount2 remount || exit 1
puma_bc small.v_remount verify "$S"
puma_bc big.verify_final verify "$F"
puma_mem_report mem.end
puma_step umount umount "$mnt"
