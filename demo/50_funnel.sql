-- demo/50_funnel.sql: funnels on the demo data set.
--
-- Stage conversion per model from the stage history, the lead funnel by
-- channel with cdp.window_funnel and cdp.funnel_counts, time to convert from
-- cdp.funnel_path, and touchpoint retention with cdp.retention.
\set ON_ERROR_STOP 1

\echo
\echo '== Stage conversion (阶段转化率) per model, from cdp.stage_conversion'
SELECT c.model, c.stage, c.next_stage, c.entered, c.converted, c.conversion_rate,
       justify_hours(date_trunc('hour', c.median_time_to_convert)) AS median_time_to_convert
  FROM cdp.stage_conversion c
  JOIN cdp.lifecycle_stage s USING (model, stage)
 WHERE c.model IN ('b2b', 'opportunity')
 ORDER BY c.model, s.position;

\echo
\echo '== Lead funnel (线索漏斗) by channel: lead -> mql -> sql -> opportunity within 90 days'
\echo '   each column counts the leads that reached at least that step'
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
\echo '== Time to convert (转化时长), median per step of the best chain, leads, strict_order'
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
\echo '== Touchpoint retention (触点留存): contacts touched in their first month, and again'
\echo '   in the second and third months after it'
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
