-- fuzz.sql: the case generator of test/suites/fuzz.sh.
--
-- Finds cdp's entry points in the catalog (every function, procedure and
-- aggregate in schema cdp, every input function of a cdp type, every cdp
-- table as an INSERT/UPDATE target) and writes one SQL statement per case
-- with malformed, huge, NULL, boundary and random arguments.  Modules that
-- land later are covered without changing this file.  Loaded into the fuzz
-- database (schema fuzz) by the superuser; nothing here is part of cdp.
CREATE SCHEMA fuzz;

-- A random element of an array.
CREATE FUNCTION fuzz.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT a[1 + floor(random() * cardinality(a))::int] $$;

-- A random string: printable ASCII, CJK, full-width, control characters,
-- combining marks, right-to-left, zero-width, quotes and SQL/format syntax.
CREATE FUNCTION fuzz.rand_string(maxlen int) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n int := floor(random() * (maxlen + 1))::int;
    s text := '';
    cp int;
    r float8;
BEGIN
    FOR i IN 1..n LOOP
        r := random();
        cp := CASE
            WHEN r < 0.45 THEN 32 + floor(random() * 95)::int            -- ASCII
            WHEN r < 0.65 THEN 19968 + floor(random() * 20902)::int      -- CJK
            WHEN r < 0.72 THEN 65281 + floor(random() * 94)::int         -- full-width
            WHEN r < 0.76 THEN 1 + floor(random() * 31)::int             -- control
            WHEN r < 0.80 THEN 768 + floor(random() * 112)::int          -- combining
            WHEN r < 0.83 THEN 1424 + floor(random() * 256)::int         -- Hebrew/Arabic
            WHEN r < 0.86 THEN (ARRAY[8203, 8204, 8205, 8206, 8207, 8232, 8233, 65279, 12288])[1 + floor(random() * 9)::int]
            WHEN r < 0.90 THEN 127744 + floor(random() * 1000)::int      -- emoji (4-byte UTF-8)
            WHEN r < 0.95 THEN ascii(fuzz.pick(ARRAY['''', '"', '\', '%', '$', ';', '(', ')', ',', '.', '@', '+', '-', '{', '}', '[', ']', '*', '?', '|', '^']))
            ELSE 48 + floor(random() * 10)::int
        END;
        s := s || chr(cp);
    END LOOP;
    RETURN s;
END
$$;

-- A quoted literal for a string.
CREATE FUNCTION fuzz.lit(s text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN s IS NULL THEN 'NULL' ELSE quote_literal(s) END $$;

-- Strings that look like the data cdp handles, to get past the first checks.
CREATE FUNCTION fuzz.plausible_text() RETURNS text LANGUAGE sql VOLATILE AS $f$
SELECT fuzz.pick(ARRAY[
    'zhang.wei@huaxin.cn', 'test@test.com', 'a@b', '@', 'a@@b.com', 'x@' || repeat('a', 70) || '.com',
    '13800138000', '12345678901', '+86 139 1234 5679', '010-62345678', '+', '00', '+8613', '０１０－６２３４５６７８',
    '广州华信机械有限公司', '贵州茅台酒股份有限公司', '贵州茅台', '廣州', 'Guangzhou', 'GZ', 'Kweichow Moutai Co., Ltd.',
    'CO.,LTD', '有限公司', '（北京）', '中国银行', '百度', 'prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer',
    'advocate', 'disqualified', 'churned', 'won', 'lost', 'b2b', 'zhuge', 'hubspot', 'default', 'phone', 'email',
    'wechat', 'sms', 'CN', 'US', 'strict_order', 'strict_deduplication,strict_increase', 'strict_order,bogus',
    'reports_to', 'knows', 'referred', 'influences', 'budget', 'authority', 'need', 'timeline', 'competition',
    'unknown', 'high', 'low', 'none', 'yes', 'no', '(,,,,)', '()', '(high,high,high,high,high)',
    '{}', '{1,2}', '{{1},{2}}', '[1,2]', 'null', 'NaN', 'Infinity', '-0', '1e309', '%s%s%s%n', '%I', '%L',
    ''' OR 1=1 --', '"; DROP TABLE cdp.account; --', E'\\', E'a\\b', 'a''b', '$$', '$1', '\x00', ' ', E'\t\n',
    '', repeat('x', 64), repeat('长', 300)])
$f$;

-- An SQL expression of type typ: NULL, boundaries, huge values, random values.
CREATE FUNCTION fuzz.value(typ regtype) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r float8 := random();
    elem regtype;
    n int;
    parts text[] := '{}';
    stored text;
BEGIN
    IF r < 0.06 THEN
        RETURN 'NULL::' || typ::text;
    END IF;
    CASE typ
    WHEN 'text'::regtype, 'character varying'::regtype, 'name'::regtype, 'cstring'::regtype, '"char"'::regtype, 'character'::regtype THEN
        IF r < 0.40 THEN RETURN fuzz.lit(fuzz.plausible_text()) || '::' || typ::text;
        ELSIF r < 0.85 THEN RETURN fuzz.lit(fuzz.rand_string(40)) || '::' || typ::text;
        ELSIF r < 0.95 THEN RETURN fuzz.lit(fuzz.rand_string(400)) || '::' || typ::text;
        ELSE RETURN '(' || fuzz.pick(ARRAY['pg_catalog.repeat(''x'', 1000000)', 'pg_catalog.repeat(pg_catalog.chr(20320), 300000)',
                                    'pg_catalog.repeat(''@'', 100000)', 'pg_catalog.repeat(''1'', 100000)',
                                    'pg_catalog.repeat(''a.'', 50000) OPERATOR(pg_catalog.||) ''@x.com''',
                                    'pg_catalog.repeat(''+86'', 30000)']) || ')::' || typ::text;
        END IF;
    WHEN 'integer'::regtype, 'smallint'::regtype, 'bigint'::regtype, 'oid'::regtype THEN
        IF r < 0.55 THEN RETURN quote_literal((floor(random() * 40) - 3)::text) || '::' || typ::text; END IF;
        RETURN quote_literal(fuzz.pick(CASE typ WHEN 'smallint'::regtype THEN ARRAY['32767', '-32768', '0', '1', '-1']
                                  WHEN 'integer'::regtype THEN ARRAY['2147483647', '-2147483648', '0', '1', '-1', '100000000', '33', '32', '1000']
                                  WHEN 'oid'::regtype THEN ARRAY['0', '1', '4294967295', '1259']
                                  ELSE ARRAY['9223372036854775807', '-9223372036854775808', '0', '1', '-1', '1000000', (floor(random() * 1000))::text] END))
               || '::' || typ::text;
    WHEN 'real'::regtype, 'double precision'::regtype, 'numeric'::regtype THEN
        RETURN fuzz.lit(fuzz.pick(ARRAY['0', '-0', '1', '-1', '0.5', '1e-300', '1e300', '1e38', 'NaN', 'Infinity', '-Infinity',
                                        (random() * 2 - 0.5)::text, (random() * 1e6)::text]))
               || '::' || CASE WHEN typ = 'numeric'::regtype AND r < 0.5 THEN 'numeric' ELSE typ::text END;
    WHEN 'boolean'::regtype THEN
        RETURN fuzz.pick(ARRAY['true', 'false']);
    WHEN 'timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype THEN
        RETURN fuzz.lit(fuzz.pick(ARRAY['infinity', '-infinity', 'epoch', '2026-01-01', '1970-01-01 00:00:00+00',
                                        '4713-01-01 BC', '294276-12-31', '2026-11-23 10:00+08',
                                        (timestamptz '2025-01-01' + random() * interval '700 days')::text]))
               || '::' || typ::text;
    WHEN 'interval'::regtype THEN
        RETURN fuzz.lit(fuzz.pick(ARRAY['0', '1 second', '-1 day', '1 day', '7 days', '30 days', '1000000 years',
                                        '-178000000 years', '1 microsecond', (random() * 100)::int || ' hours']))
               || '::interval';
    WHEN 'regclass'::regtype THEN
        RETURN fuzz.pick(ARRAY['''cdp.account''::regclass', '''cdp.lead''::regclass', '''cdp.opportunity''::regclass',
                               '''cdp.contact''::regclass', '''cdp.stage_history''::regclass', '''pg_class''::regclass',
                               '''fuzz_target''::regclass', '''cdp.time_in_stage''::regclass', '0::oid::regclass', '424242::oid::regclass']);
    WHEN 'regprocedure'::regtype, 'regproc'::regtype THEN
        RETURN fuzz.pick(ARRAY['''pg_catalog.now()''::regprocedure', '0::oid::regprocedure', '424242::oid::regprocedure']);
    WHEN 'jsonb'::regtype, 'json'::regtype THEN
        RETURN fuzz.pick(ARRAY['''{}''', '''[]''', '''null''', '''{"a": [1, "x", null]}''', '''"张伟"''',
                               '(pg_catalog.repeat(''['', 5000) OPERATOR(pg_catalog.||) pg_catalog.repeat('']'', 5000))', fuzz.lit(to_jsonb(fuzz.rand_string(30))::text)])
               || '::' || typ::text;
    WHEN 'bytea'::regtype THEN
        RETURN fuzz.lit('\x' || encode(convert_to(fuzz.rand_string(20), 'UTF8'), 'hex')) || '::bytea';
    WHEN 'uuid'::regtype THEN
        RETURN fuzz.lit(md5(random()::text)::uuid::text) || '::uuid';
    ELSE
        NULL;
    END CASE;

    -- arrays: 0..40 elements (more than any documented maximum), NULL
    -- elements, sometimes two dimensions
    SELECT t.typelem INTO elem FROM pg_type t WHERE t.oid = typ AND t.typcategory = 'A';
    IF elem IS NOT NULL AND elem <> 0 THEN
        IF r < 0.10 THEN
            RETURN 'ARRAY[[' || fuzz.value(elem) || '],[' || fuzz.value(elem) || ']]::' || typ::text;
        END IF;
        n := CASE WHEN r < 0.2 THEN 0 WHEN r < 0.9 THEN floor(random() * 8)::int ELSE 30 + floor(random() * 10)::int END;
        FOR i IN 1..n LOOP
            parts := parts || fuzz.value(elem);
        END LOOP;
        RETURN 'ARRAY[' || array_to_string(parts, ',') || ']::' || typ::text;
    END IF;

    -- anything else (cdp's own types, enums, domains): half the time a
    -- value stored in a cdp column of that type, so that the functions get
    -- past their input checks; otherwise through the type's input function,
    -- from text that is random or plausible
    IF r < 0.5 THEN
        SELECT format('(SELECT x.%I FROM %s x WHERE x.%I IS NOT NULL OFFSET %s LIMIT 1)',
                      a.attname, a.attrelid::regclass, a.attname, floor(random() * 20)::int)
          INTO stored
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind = 'r' AND a.atttypid = typ
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY random() LIMIT 1;
        IF stored IS NOT NULL THEN
            RETURN stored;
        END IF;
    END IF;
    RETURN fuzz.lit(CASE WHEN r < 0.5 THEN fuzz.plausible_text() ELSE fuzz.rand_string(60) END) || '::' || typ::text;
END
$$;

-- Argument types of a function as concrete types (polymorphic ones become
-- text, numbers or booleans).
CREATE FUNCTION fuzz.concrete(t regtype) RETURNS regtype LANGUAGE sql VOLATILE AS $$
SELECT CASE
    WHEN t IN ('anyelement'::regtype, 'anycompatible'::regtype, 'anynonarray'::regtype)
        THEN fuzz.pick(ARRAY['text', 'integer', 'bigint', 'boolean', 'timestamptz'])::regtype
    WHEN t IN ('anyarray'::regtype, 'anycompatiblearray'::regtype)
        THEN fuzz.pick(ARRAY['text[]', 'integer[]', 'boolean[]'])::regtype
    WHEN t = '"any"'::regtype THEN 'text'::regtype
    ELSE t END
$$;

-- The entry points.  Trigger functions are reached through the DML cases
-- (PostgreSQL refuses to call them directly before they run).
CREATE VIEW fuzz.entry AS
SELECT p.oid AS fn, p.oid::regprocedure::text AS label, p.prokind, p.proretset, p.provariadic <> 0 AS variadic,
       p.provolatile = 'v' AS volatile,
       ARRAY(SELECT unnest(p.proargtypes::oid[])) AS argtypes, p.pronargs
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND p.prokind IN ('f', 'p', 'a')
   AND NOT ('internal'::regtype = ANY (p.proargtypes::oid[]))
   AND p.prorettype NOT IN ('internal'::regtype, 'trigger'::regtype, 'event_trigger'::regtype);

-- One statement for entry point e.
CREATE FUNCTION fuzz.call(e fuzz.entry) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    args text[] := '{}';
    i int;
    rows int;
    cols text[];
    vals text;
    t regtype;
    fname text := (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = e.fn);
BEGIN
    IF e.prokind = 'a' THEN
        -- an aggregate over 0..6 rows of random arguments
        rows := floor(random() * 7)::int;
        FOR i IN 1..e.pronargs LOOP
            cols := cols || ('c' || i);
        END LOOP;
        IF rows = 0 OR e.pronargs = 0 THEN
            vals := 'SELECT ' || CASE WHEN e.pronargs = 0 THEN '1' ELSE
                    (SELECT string_agg(fuzz.value(fuzz.concrete(a::regtype)) || ' AS c' || o, ', ')
                       FROM unnest(e.argtypes) WITH ORDINALITY u(a, o)) END || ' WHERE false';
        ELSE
            vals := (SELECT string_agg('SELECT ' || (SELECT string_agg(fuzz.value(fuzz.concrete(a::regtype)) || ' AS c' || o, ', ')
                                                      FROM unnest(e.argtypes) WITH ORDINALITY u(a, o)), ' UNION ALL ')
                       FROM generate_series(1, rows));
        END IF;
        RETURN format('SELECT %s(%s)::text FROM (%s) v;', fname,
                      CASE WHEN e.pronargs = 0 THEN '*' ELSE
                           (SELECT string_agg(CASE WHEN e.variadic AND o = e.pronargs THEN 'VARIADIC ' ELSE '' END || 'c' || o, ', ')
                              FROM generate_series(1, e.pronargs) o) END,
                      vals);
    END IF;
    FOR i IN 1..e.pronargs LOOP
        t := fuzz.concrete(e.argtypes[i]::regtype);
        args := args || (CASE WHEN e.variadic AND i = e.pronargs THEN 'VARIADIC ' ELSE '' END || fuzz.value(t));
    END LOOP;
    IF e.prokind = 'p' THEN
        RETURN format('CALL %s(%s);', fname, array_to_string(args, ', '));
    END IF;
    -- in FROM, so set-returning and scalar functions alike; every result
    -- goes through its output function.  Built-ins in the statement are
    -- qualified, so that test/suites/security.sh can run the same cases
    -- with shadowing objects first in the search_path.
    -- A VOLATILE function's result may depend on the clock or a sequence:
    -- it goes through its output function but only the count is shown.
    IF e.volatile THEN
        RETURN format('SELECT pg_catalog.count(x::text) FROM %s(%s) AS x;', fname, array_to_string(args, ', '));
    END IF;
    RETURN format('SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(x::text, ''|'')) FROM %s(%s) AS x;',
                  fname, array_to_string(args, ', '));
END
$$;

-- One INSERT or UPDATE of random values into a cdp table (triggers,
-- constraints and the lifecycle engine are entry points too).
CREATE FUNCTION fuzz.dml(rel regclass) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cols text[];
    vals text[];
    a record;
BEGIN
    FOR a IN SELECT attname, atttypid::regtype AS typ FROM pg_attribute
              WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped AND attidentity = '' AND attgenerated = ''
              ORDER BY random() LIMIT 1 + floor(random() * 6)::int LOOP
        cols := cols || quote_ident(a.attname);
        vals := vals || fuzz.value(a.typ);
    END LOOP;
    IF cols IS NULL THEN
        RETURN format('INSERT INTO %s DEFAULT VALUES;', rel);
    END IF;
    IF random() < 0.5 THEN
        RETURN format('INSERT INTO %s (%s) VALUES (%s);', rel, array_to_string(cols, ', '), array_to_string(vals, ', '));
    END IF;
    RETURN format('UPDATE %s SET (%s) = ROW(%s) WHERE ctid = (SELECT ctid FROM %s OFFSET %s LIMIT 1);',
                  rel, array_to_string(cols, ', '), array_to_string(vals, ', '), rel, floor(random() * 50)::int);
END
$$;

-- n cases: about 85% function calls (every entry point about equally
-- often), 10% casts through the input functions of cdp's types, 5% DML.
-- A case that may change data (a VOLATILE function, DML) runs in its own
-- transaction that is rolled back, so every case sees the same data.
CREATE FUNCTION fuzz.cases(n int, seed float8) RETURNS SETOF text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    entries fuzz.entry[];
    ent fuzz.entry;
    types regtype[];
    tables regclass[];
    r float8;
BEGIN
    PERFORM setseed(seed);
    SELECT array_agg(e ORDER BY e.label) INTO entries FROM fuzz.entry e;
    SELECT array_agg(t.oid::regtype ORDER BY t.oid) INTO types FROM pg_type t
     WHERE t.typnamespace = 'cdp'::regnamespace AND t.typtype IN ('b', 'd', 'e', 'c') AND t.typcategory <> 'A'
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c');
    SELECT array_agg(c.oid::regclass ORDER BY c.oid) INTO tables FROM pg_class c
     WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p');
    FOR i IN 1..n LOOP
        r := random();
        IF r < 0.10 AND types IS NOT NULL THEN
            RETURN NEXT format('SELECT (%s)::text;', fuzz.value(types[1 + floor(random() * cardinality(types))::int]));
        ELSIF r < 0.15 THEN
            RETURN NEXT 'BEGIN;';
            RETURN NEXT fuzz.dml(tables[1 + floor(random() * cardinality(tables))::int]);
            RETURN NEXT 'ROLLBACK;';
        ELSE
            ent := entries[1 + floor(random() * cardinality(entries))::int];
            -- only what may change data needs a transaction to roll back
            IF ent.volatile THEN
                RETURN NEXT 'BEGIN;';
                RETURN NEXT fuzz.call(ent);
                RETURN NEXT 'ROLLBACK;';
            ELSE
                RETURN NEXT fuzz.call(ent);
            END IF;
        END IF;
    END LOOP;
END
$$;
