-- demo/30_funnel.sql: the lifecycle funnel on the demo data set.
--
-- The b2b funnel of the accounts from their stage history (how many reached
-- each stage, conversion to the next, median time it took), the exits, the
-- opportunity pipeline, the lead funnel by channel and the touchpoint funnel
-- by segment with cdp.window_funnel / cdp.funnel_counts, the time to convert
-- from cdp.funnel_path, and touchpoint retention with cdp.retention.
\set ON_ERROR_STOP 1
\pset footer off

\echo
\echo '################################################################################'
\echo '#  3. LIFECYCLE FUNNEL (客户生命周期漏斗), the last twelve months'
\echo '################################################################################'
\echo
\echo '== Accounts through the b2b lifecycle (from cdp.stage_history)'
\echo '   reached: accounts that ever entered the stage; now: accounts in it today;'
\echo '   to_next_%: of those that reached it, how many reached the next stage;'
\echo '   median_days: time from entering the stage to entering the next one'
WITH stays AS (
    SELECT h.entity_key, h.stage, s.position, h.entered_at
      FROM cdp.stage_history h
      JOIN cdp.lifecycle_stage s ON s.model = h.model AND s.stage = h.stage
     WHERE h.entity = 'cdp.account'::regclass AND h.model = 'b2b' AND NOT s.is_exit
), firsts AS (
    SELECT entity_key, stage, position, min(entered_at) AS first_in
      FROM stays GROUP BY entity_key, stage, position
), nexts AS (
    -- when the account first entered any later stage
    SELECT f.*, min(first_in) OVER (PARTITION BY entity_key ORDER BY position DESC
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_in
      FROM firsts f
), per_stage AS (
    SELECT s.stage, s.label_zh, s.position,
           count(n.entity_key) AS reached,
           (SELECT count(*) FROM cdp.account a WHERE a.stage = s.stage) AS now,
           count(n.next_in) AS to_next,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM n.next_in - n.first_in) / 86400) AS median_days
      FROM cdp.lifecycle_stage s
      LEFT JOIN nexts n ON n.stage = s.stage
     WHERE s.model = 'b2b' AND NOT s.is_exit
     GROUP BY s.stage, s.label_zh, s.position
)
SELECT stage, label_zh AS "阶段", reached, now,
       rpad(repeat('#', (40.0 * reached / max(reached) OVER ())::int), 40) AS bar,
       CASE WHEN position < (SELECT max(position) FROM per_stage)
            THEN round(100.0 * to_next / nullif(reached, 0), 1) END AS "to_next_%",
       round(median_days::numeric, 0) AS median_days
  FROM per_stage ORDER BY position;

\echo
\echo '== Exits (退出): disqualified before buying, churned after'
SELECT a.stage, s.label_zh AS "阶段", count(*) AS accounts
  FROM cdp.account a JOIN cdp.lifecycle_stage s ON s.model = 'b2b' AND s.stage = a.stage
 WHERE s.is_exit GROUP BY a.stage, s.label_zh, s.position ORDER BY s.position;

\echo
\echo '== Opportunity pipeline (商机管道) by stage, amounts in CNY'
SELECT o.stage, s.label_zh AS "阶段", count(*) AS opportunities, sum(o.amount) AS amount_cny,
       round(avg(o.amount)) AS avg_amount_cny
  FROM cdp.opportunity o
  JOIN cdp.lifecycle_stage s ON s.model = 'opportunity' AND s.stage = o.stage
 GROUP BY o.stage, s.label_zh, s.position
 ORDER BY s.position;

\echo
\echo '== Lead funnel (线索漏斗) by channel, cdp.window_funnel over the lead stage history:'
\echo '   lead -> mql -> sql -> opportunity within 90 days; each column counts the leads that'
\echo '   reached at least that step'
SELECT f.channel,
       (f.counts)[1] AS lead, (f.counts)[2] AS mql, (f.counts)[3] AS sql, (f.counts)[4] AS opportunity,
       round(100.0 * (f.counts)[4] / nullif((f.counts)[1], 0), 1) AS "lead_to_opp_%"
  FROM (SELECT l.channel, cdp.funnel_counts(h.level, 4) AS counts
          FROM (SELECT entity_key,
                       cdp.window_funnel('90 days', entered_at,
                                         stage = 'lead', stage = 'mql', stage = 'sql', stage = 'opportunity') AS level
                  FROM cdp.stage_history
                 WHERE entity = 'cdp.lead'::regclass
                 GROUP BY entity_key) h
          JOIN cdp.lead l ON l.lead_id::text = h.entity_key
         GROUP BY l.channel) f
 ORDER BY "lead_to_opp_%" DESC NULLS LAST, f.channel;

\echo
\echo '== Touchpoint funnel (触点漏斗) by segment, cdp.window_funnel over cdp.touchpoint:'
\echo '   engaged (site visit, article, booth) -> raised a hand (form, webinar) -> sales call'
\echo '   connected -> meeting, in that order within 120 days'
SELECT f.segment, (f.counts)[1] AS engaged, (f.counts)[2] AS raised_hand,
       (f.counts)[3] AS call_connected, (f.counts)[4] AS meeting,
       round(100.0 * (f.counts)[4] / nullif((f.counts)[1], 0), 1) AS "engaged_to_meeting_%"
  FROM (SELECT a.segment, cdp.funnel_counts(t.level, 4) AS counts
          FROM (SELECT account_id,
                       cdp.window_funnel('120 days', occurred_at,
                                         kind IN ('site_visit', 'article_read', 'booth_scan'),
                                         kind IN ('form_submit', 'webinar'),
                                         kind = 'call' AND outcome = 'connected',
                                         kind = 'meeting') AS level
                  FROM cdp.touchpoint WHERE account_id IS NOT NULL
                 GROUP BY account_id) t
          JOIN cdp.account a USING (account_id)
         WHERE a.segment IS NOT NULL
         GROUP BY 1) f
 ORDER BY f.segment;

\echo
\echo '== Time to convert (转化时长), leads, median per step of the best chain (cdp.funnel_path)'
SELECT count(*) FILTER (WHERE p[2] IS NOT NULL) AS reached_mql,
       justify_hours(date_trunc('hour', percentile_cont(0.5) WITHIN GROUP (ORDER BY p[2] - p[1]))) AS lead_to_mql,
       justify_hours(date_trunc('hour', percentile_cont(0.5) WITHIN GROUP (ORDER BY p[3] - p[2]))) AS mql_to_sql,
       justify_hours(date_trunc('hour', percentile_cont(0.5) WITHIN GROUP (ORDER BY p[4] - p[3]))) AS sql_to_opportunity
  FROM (SELECT cdp.funnel_path('90 days', 'strict_order', entered_at,
                               stage = 'lead', stage = 'mql', stage = 'sql', stage = 'opportunity') AS p
          FROM cdp.stage_history
         WHERE entity = 'cdp.lead'::regclass
         GROUP BY entity_key) s;

\echo
\echo '== Touchpoint retention (触点留存, cdp.retention): contacts touched in their first month,'
\echo '   and again in the second and third months after it'
SELECT count(*) AS contacts,
       count(*) FILTER (WHERE r[1]) AS month_1,
       count(*) FILTER (WHERE r[2]) AS month_2,
       count(*) FILTER (WHERE r[3]) AS month_3
  FROM (SELECT t.contact_id,
               cdp.retention(t.occurred_at < f.first_at + interval '1 month',
                             t.occurred_at >= f.first_at + interval '1 month' AND t.occurred_at < f.first_at + interval '2 months',
                             t.occurred_at >= f.first_at + interval '2 months' AND t.occurred_at < f.first_at + interval '3 months') AS r
          FROM cdp.touchpoint t
          JOIN (SELECT contact_id, min(occurred_at) AS first_at FROM cdp.touchpoint GROUP BY contact_id) f USING (contact_id)
         GROUP BY t.contact_id) x;
