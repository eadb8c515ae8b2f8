# SPDX-License-Identifier: GPL-2.0
#
# Kernel splats: a console or kernel log line matching any of these fails
# the run, even when every test passed.  One extended regular expression
# (grep -E) per line; lines starting with '#' and empty lines are ignored.
# The only list: scripts/vm/check-console.sh reads it, and scripts/kunit.sh
# and every rig test judge their logs with check-console.sh.
#
# Lockdep, RCU and KASAN reports also start with BUG: or WARNING:, but are
# listed by name so a change of prefix cannot hide them.
BUG:
WARNING:
Oops
Kernel panic
kernel BUG at
general protection fault
Attempted to kill init
# lockdep
possible circular locking
possible recursive locking
inconsistent lock state
bad unlock balance
INFO: trying to register non-static key
DEBUG_LOCKS_WARN_ON
turning off the locking correctness validator
# RCU, scheduler, watchdogs
suspicious RCU usage
sleeping function called from invalid context
INFO: task .* blocked
INFO: rcu_.* detected stall
watchdog: BUG
# memory debugging
KASAN:
UBSAN:
list_add corruption
list_del corruption
unreferenced object 0x
kmemleak: .*new suspected
# any stack dump not covered above
Call Trace:
