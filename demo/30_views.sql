-- demo/30_views.sql: the BI layer on the demo data: CDP sheets, 4R metrics
-- and pools as a BI user sees them, plus two pictures written next to the
-- demo cluster: funnel.svg (the b2b funnel) and 4r_overview.svg.
\set ON_ERROR_STOP 1
\pset footer off

-- dashboards read the 4R snapshots; a scheduler refreshes them (here, once)
SELECT cdp.refresh_bi_snapshots() \g /dev/null

\echo
\echo '== Segments (客户分层, cdp.segment_of) and sheet completeness (资料完整度) by tier'
SELECT tier, segment, count(*) AS accounts,
       round(avg(completeness), 2) AS avg_completeness,
       count(*) FILTER (WHERE is_complete) AS complete,
       round(100.0 * count(*) FILTER (WHERE is_complete) / count(*), 1) AS complete_pct
  FROM cdp.sheet_completeness
 GROUP BY tier, segment
 ORDER BY array_position(ARRAY['key', 'standard', 'long_tail'], tier), segment;

\echo
\echo '== Key accounts (重点客户) whose sheet is least complete: what sales must find out next'
SELECT account_name, stage, owner, filled_fields || '/' || required_fields AS filled, missing_fields
  FROM cdp.sheet_completeness
 WHERE tier = 'key' AND NOT is_complete
 ORDER BY completeness, account_id
 LIMIT 8;

\echo
\echo '== City market sheet (城市市场信息表): where we stand in each city'
SELECT city, market_maturity, similar_customers, our_accounts, our_customers,
       customer_penetration, our_revenue_12m_cny, share_of_transactions
  FROM cdp.sheet_city_market
 ORDER BY our_revenue_12m_cny DESC, city
 LIMIT 10;

\echo
\echo '== Order history sheet (历史订单表): accounts where competitors win most'
SELECT account_name, own_amount_12m_cny, competitor_amount_12m_cny, main_competitor, our_share_12m
  FROM cdp.sheet_order_history
 WHERE competitor_amount_12m_cny > 0
 ORDER BY our_share_12m NULLS FIRST, competitor_amount_12m_cny DESC
 LIMIT 8;

\echo
\echo '== 4R Recognize (识别), last 6 months, all segments'
SELECT month, sum(new_accounts) AS new_accounts, sum(duplicate_accounts) AS duplicates,
       round(sum(avg_profile_completeness * new_accounts) / nullif(sum(new_accounts), 0), 3) AS avg_completeness,
       sum(new_contacts) AS new_contacts, sum(tagged_contacts) AS tagged, sum(verified_contacts) AS verified
  FROM cdp.metrics_recognize
 WHERE month > (date_trunc('month', now()) - interval '6 months')::date
 GROUP BY month ORDER BY month;

\echo
\echo '== 4R Reach (触达), last 6 months, by channel'
SELECT channel, sum(touches) AS touches, sum(inbound_touches) AS inbound, sum(outbound_touches) AS outbound,
       sum(direct_touches) AS direct, sum(indirect_touches) AS indirect, sum(connected_touches) AS connected,
       sum(outbound_without_consent) AS outbound_without_consent, sum(cost_cny) AS cost_cny
  FROM cdp.metrics_reach
 WHERE month > (date_trunc('month', now()) - interval '6 months')::date
 GROUP BY channel ORDER BY touches DESC;

\echo
\echo '== 4R Relationship (关系) by segment, whole year'
SELECT segment, sum(active_accounts) AS active_account_months,
       round(sum(touches)::numeric / nullif(sum(active_accounts), 0), 2) AS engagement_frequency,
       sum(new_opportunities) AS new_opportunities,
       round(sum(decision_chain_coverage * new_opportunities) / nullif(sum(new_opportunities), 0), 3) AS decision_chain_coverage,
       sum(new_advocates) AS new_advocates, sum(referral_opportunities) AS referrals
  FROM cdp.metrics_relationship
 GROUP BY segment ORDER BY segment;

\echo
\echo '== 4R Return (回报) by month, all segments'
SELECT month, sum(new_leads) AS leads, sum(new_mqls) AS mqls, sum(new_sqls) AS sqls,
       sum(new_opportunities) AS opps, sum(new_customers) AS customers, sum(deals_won) AS won,
       sum(won_revenue_cny) AS won_revenue_cny, sum(order_revenue_cny) AS order_revenue_cny,
       sum(acquisition_cost_cny) AS acquisition_cost_cny, sum(repeat_buyers) AS repeat_buyers
  FROM cdp.metrics_return
 GROUP BY month ORDER BY month;

\echo
\echo '== ROI per campaign and channel (活动投资回报)'
SELECT campaign_name, channel, cost_cny, leads, opportunities, deals_won, won_revenue_cny, cost_per_lead_cny, roi
  FROM cdp.metrics_return_campaign ORDER BY roi DESC NULLS LAST;

\echo
\echo '== Customer lifetime value (客户终身价值) and repeat purchase (复购) by segment, latest month'
SELECT DISTINCT ON (segment) segment, month, customer_lifetime_value_cny, buyers, repeat_purchase_rate
  FROM cdp.metrics_return WHERE customer_lifetime_value_cny IS NOT NULL
 ORDER BY segment, month DESC;

\echo
\echo '== Pools (客户池): marketing, sales and success'
SELECT pool, entity, sum(members) AS members, sum(pipeline_cny) AS pipeline_cny,
       sum(revenue_12m_cny) AS revenue_12m_cny,
       round(sum(avg_days_in_stage * members) / sum(members), 1) AS avg_days_in_stage,
       sum(over_90_days) AS over_90_days, count(DISTINCT owner) AS owners
  FROM cdp.pool_summary
 GROUP BY pool, entity
 ORDER BY array_position(ARRAY['marketing', 'sales', 'success', 'exited'], pool), entity;

\echo
\echo '== Sales pool per owner (销售池)'
SELECT owner, owner_team, sum(members) FILTER (WHERE entity = 'account') AS accounts,
       sum(members) FILTER (WHERE entity = 'opportunity') AS opportunities,
       sum(pipeline_cny) FILTER (WHERE entity = 'opportunity') AS open_pipeline_cny,
       max(max_days_in_stage) AS oldest_days
  FROM cdp.pool_summary WHERE pool = 'sales'
 GROUP BY owner, owner_team ORDER BY open_pipeline_cny DESC NULLS LAST;

-- Pictures ---------------------------------------------------------------------
-- A bar panel in SVG: one bar per label, the value printed above it.
CREATE FUNCTION pg_temp.svg_bars(title text, labels text[], vals numeric[], x int, y int,
                                 w int, h int, color text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(array_length(labels, 1), 0);
    top numeric := greatest(coalesce((SELECT max(v) FROM unnest(vals) v), 0), 1);
    bw numeric;
    out text;
    bh numeric;
BEGIN
    out := format('<g transform="translate(%s,%s)"><rect width="%s" height="%s" fill="#fafafa" stroke="#ddd"/>'
                  '<text x="12" y="24" font-size="15" font-weight="bold">%s</text>', x, y, w, h, title);
    IF n = 0 THEN
        RETURN out || '<text x="12" y="60">(no data)</text></g>';
    END IF;
    bw := (w - 40)::numeric / n;
    FOR i IN 1 .. n LOOP
        bh := (h - 90) * coalesce(vals[i], 0) / top;
        out := out || format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>',
                             round(20 + (i - 1) * bw + bw * 0.1, 1), round(h - 40 - bh, 1), round(bw * 0.8, 1), round(bh, 1), color)
                   || format('<text x="%s" y="%s" font-size="10" text-anchor="middle">%s</text>',
                             round(20 + (i - 0.5) * bw, 1), round(h - 44 - bh, 1), coalesce(rtrim(to_char(vals[i], 'FM999,999,999,990.99'), '.'), ''))
                   || format('<text x="%s" y="%s" font-size="10" text-anchor="end" transform="rotate(-25 %s %s)">%s</text>',
                             round(20 + (i - 0.5) * bw + 4, 1), h - 26, round(20 + (i - 0.5) * bw + 4, 1), h - 26, labels[i]);
    END LOOP;
    RETURN out || '</g>';
END
$$;

\getenv demo_dir PGHOST
\pset format unaligned
\pset tuples_only on

-- The b2b funnel: accounts that ever reached each open stage.
\o :demo_dir/funnel.svg
WITH reached AS (
    SELECT s.stage, s.label_zh, s.label_en, s.position, count(DISTINCT h.entity_key) AS n
      FROM cdp.lifecycle_stage s
      LEFT JOIN cdp.stage_history h
             ON h.entity = 'cdp.account'::regclass AND h.model = s.model AND h.stage = s.stage
     WHERE s.model = 'b2b' AND NOT s.is_exit
     GROUP BY s.stage, s.label_zh, s.label_en, s.position
), r AS (
    SELECT *, row_number() OVER (ORDER BY position) AS i, max(n) OVER () AS top,
           lag(n) OVER (ORDER BY position) AS prev
      FROM reached
)
SELECT '<svg xmlns="http://www.w3.org/2000/svg" width="860" height="' || (90 + 56 * count(*)) || '" font-family="sans-serif">'
       || '<rect width="100%" height="100%" fill="white"/>'
       || '<text x="430" y="34" font-size="20" font-weight="bold" text-anchor="middle">B2B funnel 客户生命周期漏斗 (accounts, last year)</text>'
       || string_agg(format('<text x="12" y="%s" font-size="14" font-weight="bold">%s %s</text>'
                            '<rect x="%s" y="%s" width="%s" height="44" rx="4" fill="%s"/>'
                            '<text x="%s" y="%s" font-size="14" text-anchor="middle" fill="#222" font-weight="bold">%s</text>'
                            '<text x="848" y="%s" font-size="12" text-anchor="end" fill="#555">%s</text>',
                            83 + 56 * (i - 1), label_zh, label_en,
                            round(500 - 180.0 * greatest(n, 1) / top, 1), 56 + 56 * (i - 1), round(360.0 * greatest(n, 1) / top, 1),
                            (ARRAY['#9ecae1', '#8cc0de', '#6baed6', '#fdae6b', '#fd8d3c', '#a1d99b', '#74c476'])[i],
                            500, 83 + 56 * (i - 1), n,
                            83 + 56 * (i - 1), CASE WHEN prev > 0 THEN round(100.0 * n / prev, 1) || '% of previous' ELSE '' END),
                     '' ORDER BY i)
       || '</svg>'
  FROM r;
\o

-- The 4R overview: one panel per R.
\o :demo_dir/4r_overview.svg
WITH rec AS (
    SELECT array_agg(segment ORDER BY segment) AS l,
           array_agg(round(100.0 * sum_complete / nullif(sum_new, 0), 1) ORDER BY segment) AS v
      FROM (SELECT segment, sum(complete_profiles) AS sum_complete, sum(new_accounts) AS sum_new
              FROM cdp.metrics_recognize GROUP BY segment) s
), rea AS (
    SELECT array_agg(channel ORDER BY touches DESC) AS l, array_agg(touches ORDER BY touches DESC) AS v
      FROM (SELECT channel, sum(touches) AS touches FROM cdp.metrics_reach GROUP BY channel) s
), rel AS (
    SELECT array_agg(to_char(month, 'YY-MM') ORDER BY month) AS l, array_agg(f ORDER BY month) AS v
      FROM (SELECT month, round(sum(touches)::numeric / nullif(sum(active_accounts), 0), 2) AS f
              FROM cdp.metrics_relationship WHERE month > (now() - interval '12 months')::date GROUP BY month) s
), ret AS (
    SELECT array_agg(to_char(month, 'YY-MM') ORDER BY month) AS l, array_agg(round(won / 10000, 1) ORDER BY month) AS v
      FROM (SELECT month, sum(won_revenue_cny) AS won
              FROM cdp.metrics_return WHERE month > (now() - interval '12 months')::date GROUP BY month) s
)
SELECT '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="660" font-family="sans-serif">'
       || '<rect width="100%" height="100%" fill="white"/>'
       || '<text x="500" y="32" font-size="20" font-weight="bold" text-anchor="middle">4R overview 4R 指标总览</text>'
       || pg_temp.svg_bars('Recognize 识别: complete profiles % by segment', rec.l, rec.v, 10, 50, 485, 295, '#1f77b4')
       || pg_temp.svg_bars('Reach 触达: touches by channel', rea.l, rea.v, 505, 50, 485, 295, '#ff7f0e')
       || pg_temp.svg_bars('Relationship 关系: touches per active account, by month', rel.l, rel.v, 10, 355, 485, 295, '#2ca02c')
       || pg_temp.svg_bars('Return 回报: won revenue by month, 万元 (10k CNY)', ret.l, ret.v, 505, 355, 485, 295, '#9467bd')
       || '</svg>'
  FROM rec, rea, rel, ret;
\o
\pset format aligned
\pset tuples_only off

\echo
\echo '== Pictures: open them in a browser'
\echo '   ':demo_dir'/funnel.svg'
\echo '   ':demo_dir'/4r_overview.svg'
