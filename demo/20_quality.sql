-- demo/20_quality.sql: the data-quality story on the demo data set.
--
-- The CRM holds some companies two or three times, spelt differently, and
-- leads name their company in every possible way.  This script shows how the
-- names were written, what cdp.city_key makes of the cities, which duplicate
-- clusters cdp.find_duplicate_accounts finds, merges the safe ones with
-- cdp.merge_accounts, and grades it all, and the lead-to-account matching
-- done by the lead_match trigger, against what the generator knows
-- (schema demo, see demo/10_data.sql).
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '################################################################################'
\echo '#  1. DATA QUALITY (数据质量): one company, many spellings'
\echo '################################################################################'
\echo
\echo '== How the duplicate account rows were written (other sources brought the same company again)'
SELECT t.variant AS written_as, count(*) AS rows,
       (array_agg(a.name || '  [' || coalesce(a.city, '') || ']' ORDER BY a.account_id))[1] AS example,
       (array_agg(o.name ORDER BY a.account_id))[1] AS the_account_it_duplicates
  FROM demo.account_truth t
  JOIN cdp.account a USING (account_id)
  JOIN demo.account_truth ot ON ot.seq = t.seq AND ot.variant = 'original'
  JOIN cdp.account o ON o.account_id = ot.account_id
 WHERE t.variant <> 'original'
 GROUP BY t.variant ORDER BY rows DESC;

\echo
\echo '== Cities as the reps typed them, and the canonical city (cdp.city_key)'
\echo '   initials and spellings several cities share (SZ: 深圳, 苏州, 宿州 ...; FS: 佛山, 抚顺;'
\echo '   QD: 青岛, 昌都; Suzhou: 苏州, 宿州) stay NULL on purpose: city_key does not guess'
SELECT coalesce(cdp.city_key(city), '(ambiguous)') AS city_key, count(*) AS accounts,
       string_agg(DISTINCT city, ' / ') AS typed_as
  FROM cdp.account GROUP BY 1 ORDER BY min(cdp.city_key(city)) IS NULL DESC, 2 DESC LIMIT 7;

-- the clusters, kept for the rest of this script
CREATE TEMP TABLE dup AS SELECT * FROM cdp.find_duplicate_accounts();
CREATE TEMP TABLE dup_truth AS
SELECT d.*, t.seq, t.variant FROM dup d JOIN demo.account_truth t USING (account_id);

\echo
\echo '== Duplicate clusters found by cdp.find_duplicate_accounts() (threshold 0.6)'
\echo '   planted: duplicate rows the generator made; found: those in a cluster with their own'
\echo '   company; mixed: clusters that also hold a different company (so a cluster is not merged blindly)'
SELECT (SELECT count(*) FROM cdp.account) AS account_rows,
       (SELECT count(*) FROM demo.account_truth WHERE variant <> 'original') AS planted,
       (SELECT count(DISTINCT cluster_id) FROM dup) AS clusters,
       (SELECT count(*) FROM dup) AS accounts_in_clusters,
       (SELECT count(*) FROM dup_truth d WHERE d.variant <> 'original'
           AND EXISTS (SELECT 1 FROM dup_truth e WHERE e.cluster_id = d.cluster_id AND e.seq = d.seq
                                                 AND e.account_id <> d.account_id)) AS found,
       (SELECT count(*) FROM (SELECT cluster_id FROM dup_truth GROUP BY 1 HAVING count(DISTINCT seq) > 1) m) AS mixed;

\echo
\echo '== Three example clusters (每个簇 = 同一家公司的几种写法)'
SELECT d.cluster_id AS cluster, d.account_id, a.name, a.city, a.source, round(d.score::numeric, 2) AS score
  FROM dup d JOIN cdp.account a USING (account_id)
 WHERE d.cluster_id IN (SELECT cluster_id FROM dup_truth GROUP BY cluster_id
                         HAVING count(DISTINCT seq) = 1 AND count(*) = 3
                         ORDER BY count(DISTINCT variant) DESC, cluster_id LIMIT 3)
 ORDER BY d.cluster_id, d.account_id;

-- Merge plan: each account of a cluster goes into an older account of the
-- same cluster that it matches directly: the same web domain, or a name
-- similarity of at least 0.9 with no disagreement on the city.  Chains
-- (c -> b -> a) are merged from the newest account down.
CREATE TEMP TABLE merge_plan AS
SELECT DISTINCT ON (b.account_id)
       a.account_id AS survivor, b.account_id AS duplicate,
       CASE WHEN lower(a.domain) = lower(b.domain) THEN 'same domain' ELSE 'name' END AS why,
       cdp.company_similarity(a.name, b.name) AS similarity
  FROM dup da
  JOIN dup db ON db.cluster_id = da.cluster_id AND db.account_id > da.account_id
  JOIN cdp.account a ON a.account_id = da.account_id
  JOIN cdp.account b ON b.account_id = db.account_id
 WHERE lower(a.domain) = lower(b.domain)
    OR (cdp.company_similarity(a.name, b.name) >= 0.9
        AND (cdp.city_key(a.city) IS NULL OR cdp.city_key(b.city) IS NULL
             OR cdp.city_key(a.city) = cdp.city_key(b.city)))
 ORDER BY b.account_id, lower(a.domain) = lower(b.domain) DESC NULLS LAST,
          cdp.company_similarity(a.name, b.name) DESC, a.account_id;

\echo
\echo '== The merge plan, graded: a duplicate goes into an older account of its cluster that it'
\echo '   matches directly (same web domain, or name similarity >= 0.9 and no other city)'
SELECT why, count(*) AS merges,
       count(*) FILTER (WHERE ts.seq = td.seq) AS same_company,
       count(*) FILTER (WHERE ts.seq <> td.seq) AS different_companies
  FROM merge_plan p
  JOIN demo.account_truth ts ON ts.account_id = p.survivor
  JOIN demo.account_truth td ON td.account_id = p.duplicate
 GROUP BY ROLLUP (why) ORDER BY why NULLS LAST;

CREATE TEMP TABLE merge_before AS
SELECT (SELECT count(*) FROM cdp.account) AS accounts,
       (SELECT count(*) FROM cdp.contact) AS contacts,
       (SELECT count(*) FROM (SELECT t.seq FROM demo.account_truth t GROUP BY t.seq HAVING count(*) > 1) x) AS companies_with_duplicates;

CREATE TEMP TABLE merge_done (duplicate bigint, repointed bigint);
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT * FROM merge_plan ORDER BY duplicate DESC LOOP
        INSERT INTO merge_done VALUES (p.duplicate, cdp.merge_accounts(p.survivor, p.duplicate));
    END LOOP;
END
$$;

\echo
\echo '== Before and after cdp.merge_accounts (contacts, leads, touchpoints and stage history'
\echo '   of each duplicate were re-pointed to the surviving account, the duplicate row logged'
\echo '   in cdp.account_merge_log and deleted)'
SELECT 'before' AS "when", accounts, companies_with_duplicates, NULL::bigint AS rows_repointed FROM merge_before
UNION ALL
SELECT 'after', (SELECT count(*) FROM cdp.account),
       (SELECT count(*) FROM (SELECT t.seq FROM demo.account_truth t JOIN cdp.account a USING (account_id)
                               GROUP BY t.seq HAVING count(*) > 1) x),
       (SELECT sum(repointed) FROM merge_done);

\echo
\echo '== What is left, by how the duplicate was written'
\echo '   find_duplicate_accounts also compares pinyin and English rows with Han names, but counts'
\echo '   such a pair only from 0.9 (homophone brands and English industry words mislead there), and'
\echo '   the plan merges only pairs it is sure of: a Latin-only row without the web domain'
\echo '   (full-width English, some pinyin) and a typo in the legal form (有线公司) are left for a person'
SELECT t.variant AS written_as, count(*) AS planted,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM cdp.account a WHERE a.account_id = t.account_id)) AS merged,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cdp.account a WHERE a.account_id = t.account_id)) AS left,
       (array_agg(a.name ORDER BY t.account_id) FILTER (WHERE a.account_id IS NOT NULL))[1] AS example_left
  FROM demo.account_truth t LEFT JOIN cdp.account a USING (account_id)
 WHERE t.variant <> 'original'
 GROUP BY t.variant ORDER BY merged DESC, t.variant;

\echo
\echo '################################################################################'
\echo '#  2. LEADS TO ACCOUNTS (线索归属): matched by the lead_match trigger on arrival'
\echo '################################################################################'
\echo '   matched: account_id set; review: uncertain, waits for a person; unmatched: nothing close.'
\echo '   right/wrong: against the company the lead really came from; new business: the company'
\echo '   is not in the CRM at all, so "unmatched" is the right answer'
SELECT m.status, count(*) AS leads,
       count(*) FILTER (WHERE at.seq = t.seq) AS right_account,
       count(*) FILTER (WHERE at.seq <> t.seq) AS wrong_account,
       count(*) FILTER (WHERE NOT c.in_crm) AS new_business,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
  FROM demo.lead_truth t
  JOIN cdp.lead_match m USING (lead_id)
  JOIN demo.company c ON c.seq = t.seq
  LEFT JOIN demo.account_truth at ON at.account_id = m.account_id
 GROUP BY m.status
 ORDER BY array_position(ARRAY['matched', 'review', 'unmatched'], m.status);

\echo
\echo '== By how the lead wrote its company (%: share of leads from CRM companies matched right)'
SELECT t.written_as, count(*) AS leads,
       count(*) FILTER (WHERE m.status = 'matched') AS matched,
       count(*) FILTER (WHERE m.status = 'review') AS review,
       count(*) FILTER (WHERE m.status = 'unmatched') AS unmatched,
       round(100.0 * count(*) FILTER (WHERE m.status = 'matched' AND at.seq = t.seq)
             / nullif(count(*) FILTER (WHERE c.in_crm), 0), 1) AS "right_%"
  FROM demo.lead_truth t
  JOIN cdp.lead_match m USING (lead_id)
  JOIN demo.company c ON c.seq = t.seq
  LEFT JOIN demo.account_truth at ON at.account_id = m.account_id
 GROUP BY t.written_as ORDER BY leads DESC;

\echo
\echo '== Examples: a lead as written, and the account it was attached to'
SELECT x.status, x.written_as, x.company_name, x.email, x.account, x.score, x.by
  FROM (SELECT m.status, t.written_as, l.company_name, l.email, a.name AS account,
               round(m.score::numeric, 2) AS score, m.matched_by AS by,
               row_number() OVER (PARTITION BY m.status, t.written_as ORDER BY m.matched_by <> 'name', l.lead_id) AS k
          FROM demo.lead_truth t
          JOIN cdp.lead l USING (lead_id)
          JOIN cdp.lead_match m USING (lead_id)
          LEFT JOIN cdp.account a ON a.account_id = m.account_id) x
 WHERE x.k = 1
   AND (x.status, x.written_as) IN (('matched', 'traditional'), ('matched', 'English'), ('matched', 'e-mail only'),
                                    ('matched', 'city in brackets'), ('review', 'brand only'), ('unmatched', 'registered name'))
 ORDER BY array_position(ARRAY['matched', 'review', 'unmatched'], x.status), x.written_as;

\echo
\echo '== Wrong matches: how they happen (the first three)'
SELECT l.company_name AS lead_wrote, l.email, a.name AS matched_to, round(m.score::numeric, 2) AS score,
       m.matched_by, c.name AS really_from, c.in_crm
  FROM demo.lead_truth t
  JOIN cdp.lead l USING (lead_id)
  JOIN cdp.lead_match m USING (lead_id)
  JOIN cdp.account a ON a.account_id = m.account_id
  JOIN demo.account_truth at ON at.account_id = m.account_id
  JOIN demo.company c ON c.seq = t.seq
 WHERE m.status = 'matched' AND at.seq <> t.seq
 ORDER BY l.lead_id LIMIT 3;

\echo
\echo '== The review queue (cdp.lead_match_review) after the merges: a lead whose two candidates'
\echo '   were the same company written twice was matched to the surviving account by merge_accounts'
SELECT (SELECT coalesce(sum((repointed ->> 'cdp.lead_match (settled)')::bigint), 0)
          FROM cdp.account_merge_log) AS settled_by_merges,
       (SELECT count(*) FROM cdp.lead_match_review) AS review_left,
       (SELECT count(*) FROM cdp.lead_match_review WHERE reason = 'ambiguous') AS ambiguous,
       (SELECT count(*) FROM cdp.lead_match_review WHERE reason = 'below threshold') AS below_threshold;
SELECT company_name, account_name AS best_candidate, round(score::numeric, 2) AS score,
       runner_up_name, round(runner_up_score::numeric, 2) AS runner_up_score, reason
  FROM cdp.lead_match_review ORDER BY lead_id LIMIT 4;
