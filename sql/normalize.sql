-- normalize: the ICU pipeline (NFKC, width, Traditional->Simplified, case
-- fold) and pinyin, as SQL functions
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- width, case, Traditional to Simplified, compatibility forms
SELECT cdp.normalize_text('貴州茅台ＫＷＥＩＣＨＯＷ　Ｍｏｕｔａｉ') AS full_width_traditional,
       cdp.normalize_text('㈱ＡＢＣ①') AS compatibility,
       cdp.normalize_text('Straße ǅ') AS case_folded,
       cdp.normalize_text('廣州市 臺灣 發展銀行') AS simplified;

-- pinyin: toneless, one syllable per Han character; Latin words kept
SELECT cdp.pinyin('贵州茅台') AS han, cdp.pinyin('TCL科技') AS mixed,
       cdp.pinyin('廣州') AS traditional, cdp.pinyin('abc 123') AS latin_only;
SELECT cdp.pinyin_initials('广州') AS gz, cdp.pinyin_initials('廣州市') AS gzs,
       cdp.pinyin_initials('中国 Bank') AS mixed;

-- empty input, and input with nothing to keep
SELECT cdp.normalize_text('') = '' AS empty_ok, cdp.pinyin('') = '' AS empty_pinyin,
       cdp.pinyin('😀!!') = '' AS emoji_only;
-- emoji and other scripts pass through normalisation unchanged
SELECT cdp.normalize_text('Café 😀 Москва ＡＢ') AS mixed_scripts;

-- NULL in, NULL out (STRICT)
SELECT cdp.normalize_text(NULL) IS NULL AS n1, cdp.pinyin(NULL) IS NULL AS n2,
       cdp.pinyin_initials(NULL) IS NULL AS n3;

-- invalid: more than 65536 bytes is refused before any work (54000)
SELECT cdp.normalize_text(repeat('茅', 30000));
SELECT cdp.pinyin(repeat('a', 70000));
-- the limit itself is accepted
SELECT length(cdp.normalize_text(repeat('Ａ', 21845))) AS at_limit;

-- invalid: bytes that are not UTF-8 never reach the functions, the server
-- rejects them (22021)
SELECT cdp.normalize_text(convert_from('\xe8b4'::bytea, 'UTF8'));

-- the same results in a parallel plan as in a serial one
CREATE TABLE norm_t AS
SELECT i, (ARRAY['貴州茅台','ＡＢＣ','廣州','Straße'])[1 + i % 4] || i AS t
  FROM generate_series(1, 2000) i;
ANALYZE norm_t;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(DISTINCT cdp.normalize_text(t)) FROM norm_t WHERE cdp.pinyin(t) <> '';
CREATE TABLE norm_par AS SELECT i, cdp.normalize_text(t) AS n, cdp.pinyin(t) AS p FROM norm_t;
RESET parallel_setup_cost; RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size; RESET max_parallel_workers_per_gather;
SELECT count(*) AS differ FROM norm_par p JOIN norm_t t USING (i)
 WHERE p.n <> cdp.normalize_text(t.t) OR p.p <> cdp.pinyin(t.t);
DROP TABLE norm_t, norm_par;

-- progress messages show in pg_stat_activity and NULL restores the query
-- (another session reading it is in test/suites/company.sh)
DO $$
DECLARE q text;
BEGIN
    PERFORM cdp.report_progress('cdp test: step 1 of 2');
    PERFORM pg_stat_clear_snapshot();
    SELECT query INTO q FROM pg_stat_activity WHERE pid = pg_backend_pid();
    RAISE NOTICE 'while running: %', q;
    PERFORM cdp.report_progress(NULL);
    PERFORM pg_stat_clear_snapshot();
    SELECT query INTO q FROM pg_stat_activity WHERE pid = pg_backend_pid();
    RAISE NOTICE 'restored: %', left(q, 30);
END $$;

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
