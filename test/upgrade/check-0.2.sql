-- check-0.2.sql: run by test/suites/upgrade.sh on a database filled at an
-- earlier release (test/upgrade/fill-A.sql) and updated to 0.2; its output
-- must equal check-0.2.out.  What was there keeps working on the old rows,
-- and what 0.2 added works.  Keep the output independent of today's date.
\set ON_ERROR_STOP 1
SET timezone = 'UTC';

-- lifecycle: the trigger still records moves of built-in and user tables
SET cdp.stage_reason = 'after the update';
UPDATE public.tender SET phase = 'announced' WHERE id = 'T1';
RESET cdp.stage_reason;
SELECT stage, previous_stage, reason FROM cdp.stage_history
 WHERE entity = 'public.tender'::regclass ORDER BY history_id;
SELECT count(*) AS entities_with_two_open_stays
  FROM (SELECT entity, entity_key FROM cdp.stage_history WHERE exited_at IS NULL
         GROUP BY 1, 2 HAVING count(*) > 1) x;

-- matching: a new lead is matched to an account loaded before the update
INSERT INTO cdp.lead (company_name, contact_name, email)
SELECT name, 'Upgrade Check', 'check@example.org' FROM cdp.account ORDER BY account_id LIMIT 1;
SELECT l.account_id = (SELECT min(account_id) FROM cdp.account) AS matched_to_the_old_account
  FROM cdp.lead l WHERE contact_name = 'Upgrade Check';

-- scoring over the old leads and touchpoints
SELECT scored > 0 AS scored_leads FROM cdp.score_leads();
SELECT cdp.bant_score('(budget=approved, authority=decision_maker, need=critical, timeline=within_quarter, competition=exclusive)');

-- funnels over the old touchpoints (their times are relative to each other)
SELECT level, count(*) AS contacts
  FROM (SELECT contact_id, cdp.window_funnel('90 days', occurred_at, kind = 'email_sent', kind = 'call', kind = 'meeting') AS level
          FROM cdp.touchpoint WHERE contact_id IS NOT NULL GROUP BY contact_id) f
 GROUP BY level ORDER BY level;

-- governance: consent recorded before the update, the erasure, validators
SELECT cdp.can_contact(1, 'email') AS contact_1_email, cdp.can_contact(3, 'email') AS contact_3_email,
       cdp.can_contact(7, 'email') AS erased_contact;
SELECT count(*) AS erasures FROM cdp.erasure_log;
SELECT * FROM cdp.validate_phone('+86 139 1234 5679');

-- company (0.2): a merge leaves the survivor's open stay its latest one, so
-- the survivor's next move closes it
SELECT cdp.merge_accounts(s, d) > 0 AS merged
  FROM (SELECT min(account_id) AS s, max(account_id) AS d FROM cdp.account WHERE account_id < 100) x;
UPDATE cdp.account SET stage = 'churned' WHERE account_id = (SELECT min(account_id) FROM cdp.account);
SELECT count(*) AS entities_with_two_open_stays
  FROM (SELECT entity, entity_key FROM cdp.stage_history WHERE exited_at IS NULL
         GROUP BY 1, 2 HAVING count(*) > 1) x;

-- funnel (0.2): the aggregates created by 0.1 run on the new library, whose
-- transition state is an expanded object while aggregating; partial states
-- built over two halves of the old touchpoints, passed as text and merged
-- by an aggregate over the combine function, give the direct levels
CREATE AGGREGATE pg_temp.funnel_partial(interval, timestamptz, boolean, boolean, boolean) (
    SFUNC = cdp.window_funnel_transfn, STYPE = cdp.funnel_state);
CREATE AGGREGATE pg_temp.funnel_merge(cdp.funnel_state) (
    SFUNC = cdp.funnel_state_combine, STYPE = cdp.funnel_state, FINALFUNC = cdp.window_funnel_final);
SELECT count(*) AS contacts,
       count(*) FILTER (WHERE merged IS DISTINCT FROM direct) AS merged_differs
  FROM (SELECT contact_id, pg_temp.funnel_merge(state::cdp.funnel_state ORDER BY half) AS merged
          FROM (SELECT contact_id, touchpoint_id % 2 AS half,
                       pg_temp.funnel_partial('90 days', occurred_at, kind = 'email_sent', kind = 'call', kind = 'meeting')::text AS state
                  FROM cdp.touchpoint WHERE contact_id IS NOT NULL GROUP BY 1, 2) p
         GROUP BY contact_id) m
  JOIN (SELECT contact_id, cdp.window_funnel('90 days', occurred_at, kind = 'email_sent', kind = 'call', kind = 'meeting') AS direct
          FROM cdp.touchpoint WHERE contact_id IS NOT NULL GROUP BY contact_id) d USING (contact_id);

-- views (0.2): account_email_domain_idx is built over the old accounts and
-- metrics_recognize reads it; a domain written as a web address is the same
-- company domain; pool_summary still counts every open stay
SELECT count(*) AS indexed_domains
  FROM cdp.account WHERE cdp.email_domain(domain) IS NOT NULL;
INSERT INTO cdp.account (name, domain, created_at)
SELECT 'web address duplicate', 'https://www.' || upper(a.domain) || '/about', '2031-01-15'
  FROM cdp.account a WHERE cdp.email_domain(a.domain) IS NOT NULL ORDER BY a.account_id LIMIT 1;
SELECT month, new_accounts, duplicate_accounts FROM cdp.metrics_recognize WHERE month = '2031-01-01';
SELECT sum(members) = (SELECT count(*) FROM cdp.stage_history
                        WHERE exited_at IS NULL
                          AND entity = ANY (ARRAY['cdp.account'::regclass, 'cdp.lead'::regclass, 'cdp.opportunity'::regclass]))
       AS pool_counts_every_open_stay
  FROM cdp.pool_summary;

-- company (0.2): find_duplicate_accounts pairs company domains (never free
-- mail) and compares names across scripts; match_accounts probes the domain
-- through account_email_domain_idx
INSERT INTO cdp.account (name, domain, name_en) VALUES
    ('升级测试甲 贸易', 'qq.com', NULL), ('升级测试乙 机械', 'QQ.com', NULL),
    ('广州华星科技有限公司', NULL, 'Guangzhou Huaxing Technology Co., Ltd.'), ('huaxing keji', NULL, NULL),
    ('深圳市腾飞电子有限公司', 'tengfei.cn', NULL), ('Tengfei Electronics', 'https://www.tengfei.cn/', NULL);
CREATE TEMP TABLE dups_02 AS SELECT * FROM cdp.find_duplicate_accounts();
SELECT d.account_name, round(d.score::numeric, 2) AS score
  FROM dups_02 d
 WHERE d.cluster_id IN (SELECT cluster_id FROM dups_02 WHERE account_name IN ('升级测试甲 贸易', 'huaxing keji', 'Tengfei Electronics'))
 ORDER BY d.cluster_id, d.account_id;
SELECT account_name, matched_by FROM cdp.match_accounts(NULL, 'li@tengfei.cn');
-- rollup (0.2): the update computed the touch rollups from the
-- interactions recorded before it; the views read them and equal the
-- figures computed from the tables, before and after more writes (in the
-- zone of the session that ran the update, which cut the months)
SELECT set_config('TimeZone', cdp.bi_rollup_time_zone(), false) IS NOT NULL AS zone_set;
SELECT cdp.bi_rollups_usable() AS reads_rollups, (SELECT count(*) > 0 FROM cdp.bi_touch_figures) AS has_figures;
CREATE FUNCTION pg_temp.rollup_check() RETURNS TABLE (figures text, differing bigint) LANGUAGE sql AS $$
    SELECT 'metrics_reach', count(*)
      FROM ((SELECT * FROM cdp.metrics_reach EXCEPT ALL SELECT * FROM cdp.bi_metrics_reach_live())
            UNION ALL (SELECT * FROM cdp.bi_metrics_reach_live() EXCEPT ALL SELECT * FROM cdp.metrics_reach)) d
    UNION ALL
    SELECT 'last_touch', count(*)
      FROM (SELECT account_id, max(occurred_at) AS last_touch_at FROM cdp.touchpoint
             WHERE account_id IS NOT NULL GROUP BY account_id) t
      FULL JOIN cdp.bi_last_touch b USING (account_id)
     WHERE t.last_touch_at IS DISTINCT FROM b.last_touch_at;
$$;
SELECT * FROM pg_temp.rollup_check();
INSERT INTO cdp.touchpoint (account_id, contact_id, channel, direction, kind, cost, occurred_at)
SELECT min(a.account_id), min(c.contact_id), 'phone', 'outbound', 'call', 12.5, '2026-02-01 10:00+00'
  FROM cdp.account a, cdp.contact c;
DELETE FROM cdp.touchpoint WHERE touchpoint_id = (SELECT min(touchpoint_id) FROM cdp.touchpoint);
SELECT * FROM pg_temp.rollup_check();
SELECT cdp.bi_compact_rollups() >= 0 AS compacted;
SELECT * FROM pg_temp.rollup_check();
SET timezone = 'UTC';
-- sheet summary (0.2): the update computed one row per account from the
-- rows recorded before it (duplicate flags too); it equals the columns
-- computed from the tables, before and after more writes
CREATE FUNCTION pg_temp.sheet_check() RETURNS TABLE (accounts bigint, rows bigint, differing bigint, duplicates bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM cdp.account), (SELECT count(*) FROM cdp.bi_account_sheet),
           (SELECT count(*)
              FROM cdp.bi_account_sheet s
              FULL JOIN (SELECT l.*, d.account_id IS NOT NULL AS dup FROM cdp.bi_account_sheet_live() l
                           LEFT JOIN cdp.bi_account_duplicates_live() d USING (account_id)) l USING (account_id)
             WHERE (s.segment, s.tier, s.account_mask, s.profile_mask, s.contacts, s.decision_makers, s.chain_roles, s.is_duplicate)
                   IS DISTINCT FROM (l.segment, l.tier, l.account_mask, l.profile_mask, l.contacts, l.decision_makers, l.chain_roles, l.dup)),
           (SELECT count(*) FROM cdp.bi_account_sheet WHERE is_duplicate);
$$;
SELECT * FROM pg_temp.sheet_check();
INSERT INTO cdp.account (name, domain) SELECT name, domain FROM cdp.account ORDER BY account_id LIMIT 2;
INSERT INTO cdp.contact (account_id, name, decision_role) SELECT min(account_id), '升级 检查', 'decision_maker' FROM cdp.account;
SELECT * FROM pg_temp.sheet_check();
-- contact counts (0.2): computed by the update, kept since (read in the
-- rollups' zone)
SELECT set_config('TimeZone', cdp.bi_rollup_time_zone(), false) IS NOT NULL AS zone_set;
SELECT (SELECT count(*) FROM cdp.bi_contact_figures) > 0 AS has_counts, count(*) AS contact_count_rows_differing
  FROM (SELECT month, segment, contacts, tagged_contacts, verified_contacts FROM cdp.bi_contact_figures WHERE contacts <> 0) k
  FULL JOIN (SELECT date_trunc('month', c.created_at)::date AS month,
                    coalesce(cdp.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
                    count(*) AS contacts, count(c.decision_role) AS tagged_contacts, count(*) FILTER (WHERE c.verified) AS verified_contacts
               FROM cdp.contact c LEFT JOIN cdp.account a USING (account_id) GROUP BY 1, 2) l USING (month, segment)
 WHERE (k.contacts, k.tagged_contacts, k.verified_contacts) IS DISTINCT FROM (l.contacts, l.tagged_contacts, l.verified_contacts);

-- views (0.2): metrics_return joins its stage entries, leads, closed deals
-- and orders to the accounts in one join; on the updated data its totals
-- are still the tables' counts
SELECT coalesce(sum(new_leads), 0) = (SELECT count(*) FROM cdp.lead) AS every_lead,
       coalesce(sum(new_mqls), 0) = (SELECT count(*) FROM cdp.stage_history h
                                       JOIN cdp.account a ON a.account_id = h.entity_key::bigint
                                      WHERE h.entity = 'cdp.account'::regclass AND h.model = 'b2b' AND h.stage = 'mql')
       AS every_mql_entry,
       coalesce(sum(deals_won), 0) = (SELECT count(*) FROM cdp.opportunity WHERE stage = 'won' AND closed_at IS NOT NULL)
       AS every_deal_won,
       coalesce(sum(buyers), 0) = (SELECT count(DISTINCT (account_id, date_trunc('month', ordered_at))) FROM cdp."order")
       AS every_buyer_month,
       (SELECT count(*) FROM cdp.lead) > 0 AND (SELECT count(*) FROM cdp."order") > 0 AS has_leads_and_orders
  FROM cdp.metrics_return;
