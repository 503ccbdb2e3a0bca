-- company_quality: precision and recall on the development data in
-- ../shared/data, against pg_trgm similarity on the same pairs
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- 500 Chinese registered names, 456 with their brand (字号)
CREATE TEMP TABLE raw (line text);
\copy raw FROM '../shared/data/company_brand_dev.txt'
CREATE TEMP TABLE brand AS
SELECT row_number() OVER () AS id, split_part(line, ' ', 1) AS full_name,
       nullif(split_part(line, ' ', 2), '') AS brand
  FROM raw;
SELECT count(*) AS names, count(brand) AS with_brand FROM brand;

-- recall@1: the brand alone, ranked against all 500 full names; the
-- correct full name must come first
CREATE TEMP TABLE ranked AS
SELECT b.id,
       (SELECT f.id FROM brand f
         ORDER BY cdp.company_similarity(b.brand, f.full_name) DESC, f.id LIMIT 1) AS cdp_top,
       (SELECT f.id FROM brand f
         ORDER BY similarity(b.brand, f.full_name) DESC, f.id LIMIT 1) AS trgm_top
  FROM brand b WHERE b.brand IS NOT NULL;
SELECT round(avg((cdp_top = id)::int), 3) AS cdp_recall_at_1,
       round(avg((trgm_top = id)::int), 3) AS trgm_recall_at_1,
       avg((cdp_top = id)::int) >= 0.95 AS cdp_at_least_095,
       avg((cdp_top = id)::int) - avg((trgm_top = id)::int) >= 0.15 AS fifteen_points_above
  FROM ranked;

-- pairs: every brand with its full name (positive), and hard negatives:
-- two full names sharing the region (first two characters) and the legal
-- form (last four), and a brand against the full names that share its full
-- name's region
CREATE TEMP TABLE pair AS
SELECT b.brand AS a, b.full_name AS b, true AS same FROM brand b WHERE b.brand IS NOT NULL
UNION ALL
SELECT x.full_name, y.full_name, false FROM brand x JOIN brand y
    ON x.id < y.id AND left(x.full_name, 2) = left(y.full_name, 2)
   AND right(x.full_name, 4) = right(y.full_name, 4)
UNION ALL
SELECT x.brand, y.full_name, false FROM brand x JOIN brand y
    ON x.id <> y.id AND left(x.full_name, 2) = left(y.full_name, 2)
 WHERE x.brand IS NOT NULL;
SELECT same, count(*) FROM pair GROUP BY same ORDER BY same;

-- precision and recall of cdp.company_match at its default threshold, and of
-- pg_trgm similarity at its best threshold in hindsight, over a table of
-- scored pairs (same, cdp, trgm)
CREATE FUNCTION pg_temp.prf(scored regclass)
RETURNS TABLE (method text, p numeric, r numeric) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT 'cdp', sum((cdp AND same)::int)::numeric / nullif(sum(cdp::int), 0),
               sum((cdp AND same)::int)::numeric / sum(same::int)
          FROM %1$s
        UNION ALL
        (SELECT 'pg_trgm best', y.p, y.r FROM (
             SELECT sum((trgm >= t AND same)::int)::numeric / nullif(sum((trgm >= t)::int), 0) AS p,
                    sum((trgm >= t AND same)::int)::numeric / sum(same::int) AS r
               FROM %1$s, generate_series(0.05, 0.95, 0.05) t GROUP BY t) y
          ORDER BY coalesce(2 * y.p * y.r / nullif(y.p + y.r, 0), 0) DESC LIMIT 1)$q$, scored);
END
$$;
CREATE TEMP TABLE scored AS
SELECT same, cdp.company_match(a, b) AS cdp, similarity(a, b) AS trgm FROM pair;
CREATE TEMP TABLE prf AS SELECT * FROM pg_temp.prf('scored');
SELECT method, round(p, 3) AS precision, round(r, 3) AS recall,
       round(2 * p * r / nullif(p + r, 0), 3) AS f1
  FROM prf ORDER BY method;
SELECT (SELECT 2 * p * r / (p + r) FROM prf WHERE method = 'cdp') >= 0.95 AS cdp_f1_at_least_095,
       (SELECT 2 * p * r / (p + r) FROM prf WHERE method = 'cdp')
       - (SELECT coalesce(2 * p * r / nullif(p + r, 0), 0) FROM prf WHERE method = 'pg_trgm best') >= 0.15
       AS fifteen_points_above;

-- 6228 labelled pairs of Latin names (same company group or not)
CREATE TEMP TABLE en (a text, b text, dup int);
\copy en FROM '../shared/data/company_pairs_en_dev.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE en_scored AS
SELECT dup = 1 AS same, cdp.company_match(a, b) AS cdp, similarity(a, b) AS trgm FROM en;
CREATE TEMP TABLE en_prf AS SELECT * FROM pg_temp.prf('en_scored');
SELECT method, round(p, 3) AS precision, round(r, 3) AS recall,
       round(2 * p * r / nullif(p + r, 0), 3) AS f1
  FROM en_prf ORDER BY method;
SELECT (SELECT 2 * p * r / (p + r) FROM en_prf WHERE method = 'cdp') >= 0.90 AS cdp_f1_at_least_090,
       (SELECT 2 * p * r / (p + r) FROM en_prf WHERE method = 'cdp')
       > (SELECT 2 * p * r / (p + r) FROM en_prf WHERE method = 'pg_trgm best') AS above_pg_trgm;

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
