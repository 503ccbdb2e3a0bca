-- demo/30_company.sql: company matching, lead-to-account matching, duplicates,
-- merges and cities on the demo data set.
--
-- The demo gives companies of one brand and industry in several cities the
-- same web domain, so leads known only by domain or short name are left for
-- review rather than guessed, and those accounts pair up as duplicates by
-- domain.
\set ON_ERROR_STOP 1

\echo
\echo '== Matching the demo leads from scratch: does match_accounts find the account the lead came from?'
-- the data set knows each lead's account; match by name only, then by
-- e-mail domain and name
SELECT count(*) AS leads,
       count(*) FILTER (WHERE m.account_id = l.account_id) AS top1_by_name,
       count(*) FILTER (WHERE md.account_id = l.account_id) AS top1_by_domain_and_name
  FROM cdp.lead l
  LEFT JOIN LATERAL cdp.match_accounts(l.company_name, k => 1) m ON true
  LEFT JOIN LATERAL cdp.match_accounts(l.company_name, l.email, 1) md ON true
 WHERE l.account_id IS NOT NULL AND l.company_name IS NOT NULL;

\echo
\echo '== New leads as they arrive: Traditional, full-width, pinyin, English, e-mail only'
WITH a AS (SELECT * FROM cdp.account ORDER BY account_id LIMIT 3)
INSERT INTO cdp.lead (company_name, email, source)
SELECT v.company_name, v.email, 'demo_30'
  FROM (SELECT cdp.normalize_text(name) AS simplified, name, short_name, name_en, domain
          FROM a) x,
       LATERAL (VALUES
         (translate(x.short_name, '华东国际电气机械医药贸易发展银行', '華東國際電氣機械醫藥貿易發展銀行'), NULL),
         (upper(x.name_en), NULL),
         (NULL, 'buyer@' || x.domain)) v(company_name, email);
SELECT l.company_name, l.email, a.name AS matched_account, m.status, round(m.score::numeric, 2) AS score, m.matched_by
  FROM cdp.lead l JOIN cdp.lead_match m USING (lead_id) LEFT JOIN cdp.account a ON a.account_id = m.account_id
 WHERE l.source = 'demo_30' ORDER BY l.lead_id;

\echo
\echo '== City spellings the sales reps typed, and their canonical city'
SELECT cdp.city_key(city) AS city, count(*) AS accounts, string_agg(DISTINCT city, ' / ') AS typed_as
  FROM cdp.account GROUP BY 1 ORDER BY 2 DESC LIMIT 8;

\echo
\echo '== Duplicates: an import brings the same companies again, in Traditional and with other legal forms'
INSERT INTO cdp.account (name, source)
SELECT translate(replace(name, '有限公司', '股份有限公司'), '华东国际电气机械医药贸易发展银行', '華東國際電氣機械醫藥貿易發展銀行'), 'import_dup'
  FROM cdp.account ORDER BY account_id LIMIT 5;
SELECT cluster_id, account_id, account_name, round(score::numeric, 2) AS score
  FROM cdp.find_duplicate_accounts() ORDER BY cluster_id, account_id LIMIT 12;

\echo
\echo '== Merging one duplicate (rolled back, so the later reports see the original data)'
BEGIN;
INSERT INTO cdp.contact (account_id, name, title)
SELECT min(account_id), '王磊', '采购经理 Purchasing manager' FROM cdp.account WHERE source = 'import_dup';
SELECT cdp.merge_accounts(
         (SELECT min(account_id) FROM cdp.account),
         (SELECT min(account_id) FROM cdp.account WHERE source = 'import_dup')) AS rows_repointed;
SELECT survivor_id, duplicate_id, duplicate_row->>'name' AS merged_name, repointed
  FROM cdp.account_merge_log ORDER BY merge_id DESC LIMIT 1;
ROLLBACK;
DELETE FROM cdp.account WHERE source = 'import_dup';
DELETE FROM cdp.lead WHERE source = 'demo_30';
