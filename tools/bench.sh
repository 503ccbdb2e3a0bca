#!/bin/sh
# bench.sh: the benchmarks ("make bench").
#
# Same set-up as tools/test.sh (packages, private server tree, throwaway
# cluster) but with the server's normal durability settings, then runs every
# test/bench/NAME.sh.  A benchmark prints ratios against a baseline it
# measured in the same run; it never fails on a timing.  Set CDP_BENCH="a b"
# to run only those benchmarks.
set -eu
CDP_TOP=$(cd "$(dirname "$0")/.." && pwd)
export CDP_TOP
. "$CDP_TOP/tools/lib.sh"

cdp_throwaway bench -c max_connections=60 -c shared_buffers=1GB \
	-c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=4GB \
	-c max_worker_processes=16 -c max_parallel_workers=8

status=0
for bench in "$CDP_TOP"/test/bench/*.sh; do
	[ -e "$bench" ] || continue
	name=$(basename "$bench" .sh)
	if [ -n "${CDP_BENCH:-}" ]; then
		case " $CDP_BENCH " in *" $name "*) ;; *) continue ;; esac
	fi
	echo "== bench $name"
	sh "$bench" || { echo "bench $name exited with status $?"; status=1; }
done
exit $status
