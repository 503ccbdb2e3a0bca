#!/bin/sh
# security: objects an unprivileged role plants in schema public (functions,
# aggregates and operators with the names and argument types of the
# built-ins cdp uses) cannot change what cdp does, even for a superuser whose
# search_path puts public before pg_catalog.  The same fuzz cases (see
# test/fuzz/fuzz.sql; every cdp entry point, the triggers through DML) run in
# a clean database and in a copy with the planted objects; their results and
# errors must be identical, and no planted object may ever run.  Also: the
# unprivileged role cannot create objects in schema cdp or reach cdp at all,
# and long operations honour statement_timeout and cancel requests.
set -eu
clean=cdp_sec_clean
planted=cdp_sec_planted
cases=${CDP_SECURITY_CASES:-8000}
dir=$(mktemp -d)
chmod 755 "$dir"
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

"$CDP_BINDIR/dropdb" --if-exists "$clean"
"$CDP_BINDIR/dropdb" --if-exists "$planted"
psql -X -q -d postgres -c "DROP ROLE IF EXISTS regress_mallory" 2>/dev/null || true
. "$CDP_TOP/test/fuzz/setup.sh"
fuzz_setup "$clean"
q "$clean" "SELECT fuzz.cases($cases, 0.4242)" >"$dir/cases.sql"
"$CDP_BINDIR/createdb" -T "$clean" "$planted"

# regress_mallory: no privileges but CREATE on public (the PostgreSQL 14
# default, still common)
psql -X -q -v ON_ERROR_STOP=1 -d "$planted" <<'SQL' >/dev/null
CREATE ROLE regress_mallory LOGIN;
GRANT CREATE ON SCHEMA public TO regress_mallory;
SQL

# The planted objects: every pg_catalog function, aggregate and operator of
# the listed names whose argument types are plain, re-created in public with
# the same signature, counting its calls in a sequence and returning NULL.
psql -X -q -v ON_ERROR_STOP=1 -d "$planted" -U regress_mallory <<'SQL' >"$dir/plant.log" 2>&1
CREATE SEQUENCE public.pwned;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.pwned TO PUBLIC;
DO $$
DECLARE
    p record;
    n int := 0;
BEGIN
    FOR p IN
        SELECT pr.oid, pr.proname, pg_get_function_identity_arguments(pr.oid) AS args,
               pg_get_function_result(pr.oid) AS result, pr.proretset
          FROM pg_proc pr
         WHERE pr.pronamespace = 'pg_catalog'::regnamespace AND pr.prokind = 'f'
           AND pr.proname IN ('lower', 'upper', 'btrim', 'ltrim', 'rtrim', 'strpos', 'replace', 'length',
                              'char_length', 'format', 'concat', 'concat_ws', 'substr', 'left', 'right',
                              'split_part', 'regexp_replace', 'regexp_match', 'quote_ident', 'quote_literal',
                              'now', 'clock_timestamp', 'set_config', 'current_setting', 'jsonb_build_object',
                              'to_jsonb', 'unnest', 'cardinality', 'array_remove', 'array_to_string',
                              'array_length', 'string_to_array', 'md5', 'nextval', 'coalesce', 'greatest',
                              'abs', 'round', 'exp', 'ln', 'power', 'date_trunc', 'age', 'generate_series',
                              'to_regclass', 'format_type', 'pg_get_serial_sequence', 'col_description',
                              'obj_description', 'pg_has_role', 'has_table_privilege', 'normalize', 'translate',
                              'row_number', 'textlen', 'texteq', 'int8eq')
           AND NOT EXISTS (SELECT 1 FROM unnest(pr.proargtypes::oid[]) a
                            WHERE a IN ('internal'::regtype, '"any"'::regtype, 'cstring'::regtype))
    LOOP
        BEGIN
            EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                           p.proname, p.args, p.result,
                           'BEGIN PERFORM pg_catalog.nextval(''public.pwned''); RETURN' || CASE WHEN p.proretset THEN '' ELSE ' NULL' END || '; END');
            n := n + 1;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'skipped %(%): %', p.proname, p.args, SQLERRM;
        END;
    END LOOP;
    RAISE NOTICE 'planted % functions', n;

    -- aggregates
    CREATE FUNCTION public.pwn_sfunc(s text, v text, d text) RETURNS text LANGUAGE plpgsql
        AS 'BEGIN PERFORM pg_catalog.nextval(''public.pwned''); RETURN ''PWNED''; END';
    CREATE AGGREGATE public.string_agg(text, text) (sfunc = public.pwn_sfunc, stype = text);
    CREATE FUNCTION public.pwn_count(s bigint) RETURNS bigint LANGUAGE plpgsql
        AS 'BEGIN PERFORM pg_catalog.nextval(''public.pwned''); RETURN -1; END';
    CREATE AGGREGATE public.count(*) (sfunc = public.pwn_count, stype = bigint);
    CREATE FUNCTION public.pwn_array(s anycompatiblearray, v anycompatible) RETURNS anycompatiblearray LANGUAGE plpgsql
        AS 'BEGIN PERFORM pg_catalog.nextval(''public.pwned''); RETURN s; END';
    CREATE AGGREGATE public.array_agg(anycompatible) (sfunc = public.pwn_array, stype = anycompatiblearray, initcond = '{}');

    -- operators
    n := 0;
    FOR p IN
        SELECT o.oprname, o.oprleft::regtype AS l, o.oprright::regtype AS r, o.oprresult::regtype AS res
          FROM pg_operator o
         WHERE o.oprnamespace = 'pg_catalog'::regnamespace
           AND o.oprname IN ('=', '<>', '<', '>', '<=', '>=', '||', '~~', '~~*', '~', '!~', '+', '-', '@>', '<@', '&&')
           AND o.oprleft IN ('text'::regtype, 'bigint'::regtype, 'integer'::regtype, 'name'::regtype,
                             'timestamptz'::regtype, 'boolean'::regtype, 'oid'::regtype, 'interval'::regtype,
                             'text[]'::regtype, 'anyarray'::regtype, 'anycompatiblearray'::regtype, 'jsonb'::regtype,
                             'numeric'::regtype, '"char"'::regtype, 'regclass'::regtype, 'anycompatible'::regtype,
                             'anynonarray'::regtype)
           AND o.oprright <> 0
    LOOP
        BEGIN
            n := n + 1;
            EXECUTE format('CREATE FUNCTION public.pwn_op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
                           n, p.l, p.r, p.res, 'BEGIN PERFORM pg_catalog.nextval(''public.pwned''); RETURN NULL; END');
            EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.pwn_op_%s)',
                           p.oprname, p.l, p.r, n);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'skipped operator % (%, %): %', p.oprname, p.l, p.r, SQLERRM;
        END;
    END LOOP;
    RAISE NOTICE 'planted % operators', n;
END
$$;
SQL
planted_funcs=$(q "$planted" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proowner = 'regress_mallory'::regrole")
planted_ops=$(q "$planted" "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace")
if [ "$planted_funcs" -gt 100 ] && [ "$planted_ops" -gt 50 ]; then
	ok "regress_mallory planted $planted_funcs functions and $planted_ops operators in public"
else
	notok "only $planted_funcs functions and $planted_ops operators planted: $(tail -5 "$dir/plant.log")"
fi
# the planted objects do work for a query that is not qualified
n=$(PGOPTIONS="-c search_path=public,pg_catalog" q "$planted" "SELECT coalesce(lower('ABC'), 'hijacked')")
[ "$n" = hijacked ] && ok "planted lower() captures an unqualified call" || notok "planted objects inactive ($n)"
q "$planted" "SELECT setval('public.pwned', 1, false)" >/dev/null

# the same cases in both databases, the planted one with public first
PGOPTIONS="-c statement_timeout=10s -c client_min_messages=error" \
	psql -X -q -At -v VERBOSITY=sqlstate -d "$clean" -f "$dir/cases.sql" >"$dir/clean.out" 2>"$dir/clean.err" || true
PGOPTIONS="-c statement_timeout=10s -c client_min_messages=error -c search_path=public,pg_catalog" \
	psql -X -q -At -v VERBOSITY=sqlstate -d "$planted" -f "$dir/cases.sql" >"$dir/planted.out" 2>"$dir/planted.err" || true
calls=$(q "$planted" "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.pwned")
[ "$calls" = 0 ] && ok "no planted object ran during $cases cases" || notok "planted objects ran $calls times"
if cmp -s "$dir/clean.out" "$dir/planted.out"; then
	ok "results identical with and without the planted objects ($(wc -l <"$dir/clean.out") result lines)"
else
	notok "results differ: $(diff "$dir/clean.out" "$dir/planted.out" | head -8 | cut -c1-300)"
fi
sed 's/^psql:[^:]*:\([0-9]*\):/\1:/' "$dir/clean.err" >"$dir/clean.e"
sed 's/^psql:[^:]*:\([0-9]*\):/\1:/' "$dir/planted.err" >"$dir/planted.e"
if cmp -s "$dir/clean.e" "$dir/planted.e"; then
	ok "errors identical with and without the planted objects ($(wc -l <"$dir/clean.e") errors)"
else
	notok "errors differ: $(diff "$dir/clean.e" "$dir/planted.e" | head -5)"
fi

# regress_mallory cannot reach into cdp
n=$(psql -X -q -At -d "$planted" -U regress_mallory -c "CREATE FUNCTION cdp.lower(text) RETURNS text LANGUAGE sql AS 'SELECT 1'" 2>&1 || true)
case "$n" in *"permission denied for schema cdp"*) ok "no CREATE in schema cdp for an unprivileged role" ;; *) notok "CREATE in cdp: $n" ;; esac
n=$(psql -X -q -At -d "$planted" -U regress_mallory -c "SELECT cdp.validate_email('a@b.cn')" 2>&1 || true)
case "$n" in *"permission denied for schema cdp"*) ok "an unprivileged role cannot call cdp functions" ;; *) notok "call: $n" ;; esac
n=$(psql -X -q -At -d "$planted" -U regress_mallory -c "SELECT count(*) FROM cdp.contact" 2>&1 || true)
case "$n" in *"permission denied for schema cdp"*) ok "an unprivileged role cannot read cdp tables" ;; *) notok "read: $n" ;; esac
n=$(q "$planted" "SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'cdp'::regnamespace AND p.prosecdef
                   AND NOT coalesce(p.proconfig, '{}') && ARRAY['search_path=pg_catalog, pg_temp']")
[ "$n" = 0 ] && ok "every SECURITY DEFINER function pins its search_path" || notok "$n SECURITY DEFINER functions without a pinned search_path"

# Long operations honour statement_timeout and cancel: erasure over a large
# table and the outreach queue over many contacts
q "$clean" "INSERT INTO cdp.touchpoint (account_id, channel, direction, kind, occurred_at)
            SELECT 1 + i % 300, 'web', 'inbound', 'site_visit', '2026-01-01'::timestamptz + i * interval '1 s'
              FROM generate_series(1, 400000) i" >/dev/null
q "$clean" "INSERT INTO cdp.contact (account_id, name, phone) SELECT 1 + i % 300, 'c' || i, '139' || lpad(i::text, 8, '0') FROM generate_series(1, 20000) i" >/dev/null
for stmt in "SELECT cdp.forget_contact(1)" "SELECT count(*) FROM cdp.outreach_queue"; do
	t0=$(date +%s%N)
	n=$(PGOPTIONS="-c statement_timeout=100ms" psql -X -q -At -v VERBOSITY=sqlstate -d "$clean" -c "$stmt" 2>&1 || true)
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	case "$n" in
	*57014*) [ "$ms" -lt 3000 ] && ok "statement_timeout stops \"$stmt\" (${ms} ms)" || notok "\"$stmt\" stopped only after ${ms} ms" ;;
	*) echo "# \"$stmt\" finished within 100 ms ($n), no timeout to test" ;;
	esac
done
psql -X -q -d "$clean" -c "SELECT count(*) FROM cdp.outreach_queue" >"$dir/cancel.out" 2>&1 &
pid=$!
tries=0
while [ $tries -lt 100 ]; do
	n=$(q "$clean" "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM cdp.outreach_queue%' AND state = 'active' AND pid <> pg_backend_pid()")
	[ "$n" = 0 ] || break
	tries=$((tries + 1))
done
t0=$(date +%s)
wait $pid || true
t1=$(date +%s)
if grep -q "canceling statement due to user request" "$dir/cancel.out"; then
	ok "a cancel request stops the outreach queue within $((t1 - t0)) s"
else
	echo "# the outreach queue finished before the cancel request: $(head -c 200 "$dir/cancel.out")"
fi

if [ "${CDP_KEEP:-0}" = 1 ]; then
	echo "# kept $dir and databases $clean, $planted"
	exit 0
fi
rm -rf "$dir"
"$CDP_BINDIR/dropdb" "$clean"
"$CDP_BINDIR/dropdb" "$planted"
psql -X -q -d postgres -c "DROP ROLE regress_mallory"
