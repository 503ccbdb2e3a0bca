#!/bin/sh
# upgrade: ALTER EXTENSION cdp UPDATE keeps every row and ends in the same
# state as a fresh install.
#
# For every installable version with an update path to the default version
# (cdp--A.sql and cdp--A--B.sql ... scripts in the extension directory):
# create the extension at that version, fill it (test/upgrade/fill-A.sql when
# present, else the demo data), run ALTER EXTENSION cdp UPDATE, and check
#   - every row of every table that existed before is still there, unchanged
#     in the columns it had (as far as pg_dump keeps the table);
#   - functions, tables, columns, indexes, constraints, triggers, policies,
#     privileges, comments and dump registrations are those of a fresh
#     install of the default version;
#   - the new functions work (the regression test of governance's
#     validators as a smoke test).
#
# Until a version is released there is no such path.  The machinery is then
# checked on a synthetic release made from the current install script: the
# version "selftest" without the last module (governance), and an update
# script adding it.  Set CDP_UPGRADE_SELFTEST=0 to skip that.
set -eu
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

extdir=$("$CDP_BINDIR/pg_config" --sharedir)/extension
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$extdir/cdp.control")
work=$(mktemp -d)
chmod 755 "$work"
made_selftest=0

cleanup() {
	if [ "$made_selftest" = 1 ]; then
		rm -f "$extdir/cdp--selftest.sql" "$extdir/cdp--selftest--$current.sql"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A synthetic earlier release: the install script up to the governance piece,
# and an update script with the rest.
if [ "${CDP_UPGRADE_SELFTEST:-1}" = 1 ] && [ -w "$extdir" ] && grep -q '^-- ==== src/governance.sql ====$' "$extdir/cdp--$current.sql"; then
	sed '/^-- ==== src\/governance.sql ====$/,$d' "$extdir/cdp--$current.sql" >"$extdir/cdp--selftest.sql"
	{
		printf '\\echo Use "ALTER EXTENSION cdp UPDATE" to load this file. \\quit\n'
		sed -n '/^-- ==== src\/governance.sql ====$/,$p' "$extdir/cdp--$current.sql"
	} >"$extdir/cdp--selftest--$current.sql"
	made_selftest=1
	echo "# synthetic release \"selftest\" = cdp $current without governance, to check the machinery"
fi

# The state a fresh install must match, as text: one line per object.
shape="
SELECT 'function ' || p.oid::regprocedure || ' ' || p.provolatile::text || p.proparallel::text || p.prosecdef::text || p.proisstrict::text
       || ' ' || coalesce(p.proconfig::text, '') || ' ' || md5(coalesce(p.prosrc, '') || coalesce(pg_get_function_sqlbody(p.oid), ''))
       || ' ' || coalesce(p.proacl::text, '') || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
  FROM pg_proc p WHERE p.pronamespace = 'cdp'::regnamespace
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || c.relrowsecurity::text || ' ' || coalesce(c.relacl::text, '')
       || ' ' || coalesce(c.reloptions::text, '') || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '')
  FROM pg_class c WHERE c.relnamespace = 'cdp'::regnamespace
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
       || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || coalesce(a.attacl::text, '') || ' ' || coalesce(col_description(a.attrelid, a.attnum), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'cdp'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'cdp'::regnamespace
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'cdp'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'cdp'::regnamespace)
UNION ALL
SELECT 'policy ' || polrelid::regclass || ' ' || polname || ' ' || polcmd::text || ' ' || polroles::regrole[]::text || ' ' || coalesce(pg_get_expr(polqual, polrelid), '') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '')
  FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'cdp'::regnamespace)
UNION ALL
SELECT 'type ' || t.oid::regtype || ' ' || coalesce(obj_description(t.oid, 'pg_type'), '') FROM pg_type t WHERE t.typnamespace = 'cdp'::regnamespace
UNION ALL
SELECT 'dump ' || u.c::regclass || ' ' || u.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) u(c, cond) WHERE e.extname = 'cdp'
UNION ALL
SELECT 'schema acl ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'cdp'
UNION ALL
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regproc FROM pg_event_trigger
ORDER BY 1"

"$CDP_BINDIR/dropdb" --if-exists cdp_upgrade_fresh
"$CDP_BINDIR/createdb" cdp_upgrade_fresh
q cdp_upgrade_fresh "CREATE EXTENSION cdp CASCADE" 2>/dev/null
q cdp_upgrade_fresh "$shape" >"$work/fresh.shape"

olds=$(q cdp_upgrade_fresh "SELECT string_agg(source, ' ' ORDER BY source) FROM pg_extension_update_paths('cdp')
                             WHERE target = '$current' AND source <> '$current' AND path IS NOT NULL
                               AND source IN (SELECT version FROM pg_available_extension_versions WHERE name = 'cdp')")
if [ -z "$olds" ]; then
	ok "no earlier version of cdp has an update path to $current: nothing to upgrade (no release yet)"
fi

for old in $olds; do
	db=cdp_upgrade_from
	"$CDP_BINDIR/dropdb" --if-exists "$db"
	"$CDP_BINDIR/createdb" "$db"
	if ! q "$db" "CREATE EXTENSION cdp VERSION '$old' CASCADE" >/dev/null 2>"$work/err"; then
		notok "CREATE EXTENSION cdp VERSION '$old' fails with the current library: $(head -2 "$work/err")"
		continue
	fi
	fill="$CDP_TOP/test/upgrade/fill-$old.sql"
	[ -f "$fill" ] || fill="$CDP_TOP/demo/10_data.sql"
	if psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$fill" >/dev/null 2>"$work/err"; then
		ok "$old: filled with $(basename "$fill")"
	else
		notok "$old: filling with $(basename "$fill") failed: $(head -2 "$work/err")"
		continue
	fi
	# every row of every dumped table, in the columns it has now
	q "$db" "SELECT u.c::regclass::text || '|' || u.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) u(c, cond)
	         WHERE e.extname = 'cdp' AND (SELECT relkind FROM pg_class WHERE oid = u.c) IN ('r', 'p') ORDER BY 1" >"$work/tables"
	while IFS='|' read -r t cond; do
		cols=$(q "$db" "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped")
		echo "$t|$cond|$cols"
		q "$db" "SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')), count(*) FROM (SELECT $cols FROM $t t $cond) r" >"$work/before.$t"
	done <"$work/tables" >"$work/tables.cols"

	if q "$db" "ALTER EXTENSION cdp UPDATE" >/dev/null 2>"$work/err"; then
		ok "$old: ALTER EXTENSION cdp UPDATE succeeded"
	else
		notok "$old: ALTER EXTENSION cdp UPDATE failed: $(head -3 "$work/err")"
		continue
	fi
	v=$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'cdp'")
	[ "$v" = "$current" ] && ok "$old: now at version $current" || notok "$old: version is $v after the update"

	lost=0
	while IFS='|' read -r t cond cols; do
		after=$(q "$db" "SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')), count(*) FROM (SELECT $cols FROM $t t $cond) r" 2>&1)
		if [ "$after" != "$(cat "$work/before.$t")" ]; then
			notok "$old: table $t changed by the update ($(cat "$work/before.$t") -> $after)"
			lost=$((lost + 1))
		fi
	done <"$work/tables.cols"
	[ "$lost" -eq 0 ] && ok "$old: every row of every table unchanged ($(wc -l <"$work/tables.cols") tables)"

	q "$db" "$shape" >"$work/upgraded.shape"
	if cmp -s "$work/fresh.shape" "$work/upgraded.shape"; then
		ok "$old: functions, tables, columns, indexes, constraints, triggers, policies and privileges match a fresh install"
	else
		notok "$old: differs from a fresh install: $(diff "$work/fresh.shape" "$work/upgraded.shape" | grep '^[<>]' | head -5 | cut -c1-200)"
	fi
	# the comparison can fail: a changed comment is noticed
	q "$db" "COMMENT ON FUNCTION cdp.build_info() IS 'changed'" >/dev/null
	q "$db" "$shape" >"$work/changed.shape"
	cmp -s "$work/fresh.shape" "$work/changed.shape" && notok "$old: shape comparison blind to a changed comment" || ok "$old: shape comparison notices a changed comment"
	# the functions the update brought work
	n=$(q "$db" "SELECT (cdp.validate_phone('+86 139 1234 5679')).normalized, cdp.can_contact(1, 'email')" 2>&1)
	[ "$n" = "+8613912345679|f" ] && ok "$old: new functions work after the update" || notok "$old: new functions: $n"
	"$CDP_BINDIR/dropdb" "$db"
done
"$CDP_BINDIR/dropdb" cdp_upgrade_fresh
