#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Create an ext4 disk image for the QEMU rig, without root.
#
#   mkdisk.sh --size SIZE [--label LABEL] [--populate DIR] [--no-journal] IMAGE
#
#   --size SIZE      image size, as for truncate(1): 512M, 2G, ...
#   --label LABEL    file system label (default puma)
#   --populate DIR   copy DIR's contents into the new file system
#                    (mkfs.ext4 -d): test data prepared on the host at
#                    native speed instead of under TCG
#   --no-journal     ext4 without a journal (default: with)
#
# The image is a sparse regular file made with mkfs.ext4 -F; files in it are
# owned by root (-E root_owner=0:0).  Inode tables and the journal are
# initialised now (lazy_itable_init=0, lazy_journal_init=0) so the guest's
# ext4lazyinit thread does not write in the background during measurements.
# Creation takes well under a second, so images are made fresh for each run
# (a run mutates its disk); IMAGE is overwritten.

# shellcheck source-path=SCRIPTDIR source=rig.sh
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

size=
label=puma
populate=
no_journal=
rig_parse "size= label= populate= no-journal *" "$@"
[ ${#rig_args[@]} -eq 1 ] || die "usage: mkdisk.sh --size SIZE [options] IMAGE"
img=${rig_args[0]}
[ -n "$size" ] || die "--size is required"
[ -z "$populate" ] || [ -d "$populate" ] || die "--populate $populate: not a directory"
PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (apt-get install e2fsprogs)"

rm -f "$img"
truncate -s "$size" "$img"
eopts=root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0
opts=(-q -F -t ext4 -L "$label" -b 4096 -E "$eopts")
[ -z "$no_journal" ] || opts+=(-O ^has_journal)
[ -z "$populate" ] || opts+=(-d "$populate")
mkfs.ext4 "${opts[@]}" "$img" >&2
echo "$img"
