-- catalog: properties every cdp object must have, checked over the whole
-- extension so that each module's additions are covered automatically.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- the extension lives in schema cdp and pulled in pg_trgm
SELECT extname, extnamespace::regnamespace AS schema, extrelocatable
  FROM pg_extension WHERE extname IN ('cdp', 'pg_trgm') ORDER BY extname;

-- what the library was built with and runs on
SELECT cdp.build_info() ~ '^cdp 0\.2 built for PostgreSQL 15\.[0-9]+.* \(ICU [0-9.]+\), running on PostgreSQL 15\.[0-9]+.* with ICU [0-9.]+ \(Unicode [0-9.]+\)$' AS build_info_ok;

-- every table, view and materialized view of the extension has a comment
SELECT c.oid::regclass AS missing_comment
  FROM pg_class c
 WHERE c.relnamespace = 'cdp'::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm')
   AND obj_description(c.oid, 'pg_class') IS NULL
 ORDER BY 1;

-- every column of those has a comment
SELECT c.oid::regclass AS relation, a.attname AS missing_comment
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'cdp'::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm')
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1, 2;

-- every function, aggregate and type of the extension has a comment
SELECT p.oid::regprocedure AS missing_comment
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND obj_description(p.oid, 'pg_proc') IS NULL
 ORDER BY 1;
SELECT t.oid::regtype AS missing_comment
  FROM pg_type t
 WHERE t.typnamespace = 'cdp'::regnamespace
   AND t.typtype IN ('b', 'e', 'd') AND t.typcategory <> 'A'
   AND obj_description(t.oid, 'pg_type') IS NULL
 ORDER BY 1;

-- every ordinary table of the extension is kept by pg_dump, and so is the
-- position of every identity sequence
SELECT c.oid::regclass AS not_dumped
  FROM pg_class c
  JOIN pg_extension e ON e.extname = 'cdp'
 WHERE c.relnamespace = 'cdp'::regnamespace
   AND c.relkind IN ('r', 'p', 'S')
   AND NOT c.oid = ANY (e.extconfig)
 ORDER BY 1;

-- functions declare their parallel safety on purpose: list the ones that are
-- not PARALLEL SAFE, so a change to the list shows up in review
SELECT p.oid::regprocedure AS not_parallel_safe, p.provolatile AS volatility
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND p.proparallel <> 's'
 ORDER BY p.oid::regprocedure::text;

-- functions that run SQL pin their search_path; SQL functions written with
-- BEGIN ATOMIC are exempt, their body is bound to objects when created
SELECT p.oid::regprocedure AS unpinned_search_path
  FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND l.lanname IN ('plpgsql', 'sql')
   AND p.prokind = 'f'
   AND p.prosqlbody IS NULL
   AND NOT coalesce(p.proconfig::text[], '{}') && ARRAY['search_path=pg_catalog, pg_temp', 'search_path=pg_catalog,pg_temp']
 ORDER BY p.oid::regprocedure::text;

DROP EXTENSION cdp;
DROP EXTENSION pg_trgm;
