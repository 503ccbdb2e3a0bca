#!/bin/sh
# test.sh: the whole test suite ("make test").
#
# Installs missing Debian packages, builds cdp into a private server tree,
# starts a throwaway cluster owned by the postgres user on a private socket,
# runs the pg_regress tests (sql/, expected/) and then every suite in
# test/suites/, and ends with the line "N passed, N failed".  Exits non-zero
# when anything failed.  Nothing outside the temporary directory is changed
# except build products in the checkout.
#
# A suite is an executable test/suites/NAME.sh.  It gets PGHOST, PGPORT,
# PGUSER, CDP_BINDIR and CDP_TOP in its environment, creates its own database,
# and prints one line per check: "ok - what" or "not ok - what".  A suite that
# exits non-zero counts as one more failure.  Set CDP_SUITES="a b" to run only
# those suites, CDP_SKIP_REGRESS=1 to skip pg_regress.
set -eu
CDP_TOP=$(cd "$(dirname "$0")/.." && pwd)
export CDP_TOP
. "$CDP_TOP/tools/lib.sh"

cdp_throwaway test -c fsync=off -c max_connections=60 \
	-c shared_buffers=256MB -c max_worker_processes=16 -c max_parallel_workers=8

passed=0
failed=0

if [ "${CDP_SKIP_REGRESS:-0}" != 1 ]; then
	echo "== pg_regress"
	rm -rf "$CDP_TOP/results" "$CDP_TOP/regression.diffs" "$CDP_TOP/regression.out"
	if [ ! -f "$CDP_TOP/../shared/data/company_pairs_en_dev.csv" ]; then
		echo "# skip company_quality: ../shared/data (the development data) is not beside this checkout"
	fi
	make -C "$CDP_TOP" -s installcheck >"$work/regress.log" 2>&1 || true
	cat "$work/regress.log"
	p=$(grep -cE '^(test )? *[a-z0-9_]+ +\.\.\. ok' "$work/regress.log" || true)
	f=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$work/regress.log" || true)
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "pg_regress ran no test"
		f=1
	fi
	# a test without its expected output proves nothing: count it as failed
	for t in "$CDP_TOP"/sql/*.sql; do
		name=$(basename "$t" .sql)
		if [ "$name" = company_quality ] && [ ! -f "$CDP_TOP/../shared/data/company_pairs_en_dev.csv" ]; then
			continue
		fi
		if [ ! -f "$CDP_TOP/expected/$name.out" ]; then
			echo "pg_regress test $name has no expected/$name.out"
			f=$((f + 1))
			if grep -qE "^(test )? *$name +\.\.\. ok" "$work/regress.log"; then
				p=$((p - 1))
			fi
		fi
	done
	if [ -f "$CDP_TOP/regression.diffs" ]; then
		head -c 20000 "$CDP_TOP/regression.diffs"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
fi

for suite in "$CDP_TOP"/test/suites/*.sh; do
	[ -e "$suite" ] || continue
	name=$(basename "$suite" .sh)
	if [ -n "${CDP_SUITES:-}" ]; then
		case " $CDP_SUITES " in *" $name "*) ;; *) continue ;; esac
	fi
	echo "== suite $name"
	rc=0
	sh "$suite" >"$work/suite-$name.log" 2>&1 || rc=$?
	sed 's/^/  /' "$work/suite-$name.log"
	p=$(grep -c '^ok ' "$work/suite-$name.log" || true)
	f=$(grep -c '^not ok ' "$work/suite-$name.log" || true)
	if [ "$rc" -ne 0 ]; then
		echo "  suite $name exited with status $rc"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
