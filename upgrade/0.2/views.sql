\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.

-- Touch rollups (module rollup) ----------------------------------------------
--
-- The figures that come from cdp.touchpoint are read from the touch
-- rollups the module rollup keeps (upgrade/0.2/rollup.sql, which runs
-- before this piece): metrics_reach, the interaction branch of
-- metrics_relationship, the acquisition-cost branch of metrics_return and
-- the tp part of sheet_development_strategy; refresh_bi_snapshots folds the
-- rollups' delta rows.  Same columns, so the views are replaced in place
-- (comments, grants and the snapshots depending on them stay).

CREATE OR REPLACE VIEW @extschema@.sheet_development_strategy WITH (security_invoker = true) AS
WITH opp AS (
    SELECT o.account_id,
           pg_catalog.count(*) AS open_opportunities,
           pg_catalog.sum(o.amount) AS open_pipeline,
           pg_catalog.min(o.expected_close) AS next_expected_close
      FROM @extschema@.opportunity o
     WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])
     GROUP BY o.account_id
), tp AS (
    -- the latest interaction: kept per account by the rollup triggers
    -- (cdp.bi_last_touch) when the reader sees every interaction, else
    -- computed from the interactions the reader sees
    -- (cdp.bi_last_touch_live); the last 90 days: an index-only range scan
    -- of touchpoint_occurred_account_idx.  One aggregate over the three, so
    -- that the planner knows the result has one row per account.
    SELECT x.account_id,
           pg_catalog.max(x.last_touch_at) AS last_touch_at,
           pg_catalog.sum(x.recent) AS touches_90d
      FROM (SELECT b.account_id, b.last_touch_at, 0 AS recent FROM @extschema@.bi_last_touch b
            UNION ALL
            SELECT l.account_id, l.last_touch_at, 0 FROM @extschema@.bi_last_touch_live() l
            UNION ALL
            SELECT t.account_id, NULL, 1
              FROM @extschema@.touchpoint t
             WHERE t.occurred_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)
               AND t.account_id IS NOT NULL) x
     GROUP BY x.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.stage,
       a.owner::text AS owner,
       p.pain_points,
       p.service_fit,
       p.key_people,
       p.key_person_actions,
       p.action_plan,
       p.current_supplier,
       coalesce(o.open_opportunities, 0) AS open_opportunities,
       coalesce(o.open_pipeline, 0) AS open_pipeline_cny,
       o.next_expected_close,
       t.last_touch_at,
       coalesce(t.touches_90d, 0) AS touches_90d
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN opp o ON o.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN tp t ON t.account_id OPERATOR(pg_catalog.=) a.account_id;

CREATE OR REPLACE VIEW @extschema@.metrics_reach WITH (security_invoker = true) AS
SELECT r.month, r.segment, r.channel, r.touches, r.inbound_touches, r.outbound_touches, r.direct_touches,
       r.touches OPERATOR(pg_catalog.-) r.direct_touches AS indirect_touches,
       r.connected_touches, r.reached_accounts, r.reached_contacts, r.reached_leads,
       r.reached_contacts_with_consent, r.outbound_without_consent, r.cost AS cost_cny
  FROM @extschema@.bi_touch_figures r
 WHERE r.touches OPERATOR(pg_catalog.>) 0
UNION ALL
SELECT l.month, l.segment, l.channel, l.touches, l.inbound_touches, l.outbound_touches, l.direct_touches,
       l.indirect_touches, l.connected_touches, l.reached_accounts, l.reached_contacts, l.reached_leads,
       l.reached_contacts_with_consent, l.outbound_without_consent, l.cost_cny
  FROM @extschema@.bi_metrics_reach_live() l
 WHERE NOT @extschema@.bi_rollups_usable();

CREATE OR REPLACE VIEW @extschema@.metrics_relationship WITH (security_invoker = true) AS
WITH roles AS (
    -- decision-chain coverage of an account: share of the roles of a complete
    -- buying centre (cdp.decision_roles_required(), as in
    -- cdp.opportunity_decision_chain) it has a contact for
    SELECT c.account_id,
           pg_catalog.count(DISTINCT c.decision_role) FILTER (
               WHERE c.decision_role OPERATOR(pg_catalog.=) ANY (@extschema@.decision_roles_required()))::numeric
               OPERATOR(pg_catalog./) pg_catalog.cardinality(@extschema@.decision_roles_required()) AS coverage,
           pg_catalog.bool_or(c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS has_decision_maker
      FROM @extschema@.contact c
     WHERE c.account_id IS NOT NULL
     GROUP BY c.account_id
), stacked AS (
    -- interactions: the touch rollups (module rollup) when this session may
    -- use them, else the tables (cdp.bi_relationship_touches)
    SELECT x.month, x.segment, x.touches, x.active_accounts, x.active_relationships,
           0::bigint AS new_ties, 0::bigint AS opportunities, 0::numeric AS coverage_sum,
           0::bigint AS with_decision_maker, 0::bigint AS new_advocates, 0::bigint AS referrals
      FROM @extschema@.bi_relationship_touches() x
    UNION ALL
    SELECT pg_catalog.date_trunc('month', r.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, pg_catalog.count(*), 0, 0, 0, 0, 0
      FROM @extschema@.relationship r
      JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) r.from_contact
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', o.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           coalesce(pg_catalog.sum(r.coverage), 0),
           pg_catalog.count(*) FILTER (WHERE r.has_decision_maker),
           0,
           pg_catalog.count(*) FILTER (WHERE o.referred_by IS NOT NULL)
      FROM @extschema@.opportunity o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
      LEFT JOIN roles r ON r.account_id OPERATOR(pg_catalog.=) o.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', h.entered_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, 0, 0, 0,
           pg_catalog.count(DISTINCT h.entity_key),
           0
      FROM @extschema@.stage_history h
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
       AND h.stage OPERATOR(pg_catalog.=) 'advocate'
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(touches)::bigint AS touches,
           pg_catalog.sum(active_accounts)::bigint AS active_accounts,
           pg_catalog.sum(active_relationships)::bigint AS active_relationships,
           pg_catalog.sum(new_ties)::bigint AS new_ties,
           pg_catalog.sum(opportunities)::bigint AS opportunities,
           pg_catalog.sum(coverage_sum) AS coverage_sum,
           pg_catalog.sum(with_decision_maker)::bigint AS with_decision_maker,
           pg_catalog.sum(new_advocates)::bigint AS new_advocates,
           pg_catalog.sum(referrals)::bigint AS referrals
      FROM stacked
     GROUP BY month, segment
)
SELECT month, segment, active_accounts, touches,
       CASE WHEN active_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(touches::numeric OPERATOR(pg_catalog./) active_accounts, 2) END AS engagement_frequency,
       active_relationships,
       new_ties AS new_relationships,
       opportunities AS new_opportunities,
       with_decision_maker AS opportunities_with_decision_maker,
       CASE WHEN opportunities OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coverage_sum OPERATOR(pg_catalog./) opportunities, 3) END AS decision_chain_coverage,
       new_advocates,
       referrals AS referral_opportunities
  FROM summed;

CREATE OR REPLACE VIEW @extschema@.metrics_return WITH (security_invoker = true) AS
WITH first_order AS (
    SELECT o.account_id, pg_catalog.min(o.ordered_at) AS first_at
      FROM @extschema@."order" o
     GROUP BY o.account_id
), stacked AS (
    -- entries into the b2b stages of accounts
    SELECT pg_catalog.date_trunc('month', h.entered_at)::date AS month,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'mql') AS mqls,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'sql') AS sqls,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'opportunity') AS opps,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'customer') AS customers,
           0::bigint AS leads, 0::bigint AS won, 0::bigint AS lost, 0::numeric AS won_revenue,
           0::numeric AS revenue, 0::numeric AS gross_profit, 0::bigint AS buyers, 0::bigint AS repeat_buyers,
           0::bigint AS first_buyers, 0::numeric AS cost
      FROM @extschema@.stage_history h
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
       AND h.model OPERATOR(pg_catalog.=) 'b2b'
       AND h.stage OPERATOR(pg_catalog.=) ANY (ARRAY['mql', 'sql', 'opportunity', 'customer']::text[])
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', l.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, pg_catalog.count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0
      FROM @extschema@.lead l
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) l.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', o.closed_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, 0,
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost'),
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0),
           0, 0, 0, 0, 0, 0
      FROM @extschema@.opportunity o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
     WHERE o.closed_at IS NOT NULL AND o.stage OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']::text[])
     GROUP BY 1, 2
    UNION ALL
    SELECT b.month, b.segment, 0, 0, 0, 0, 0, 0, 0, 0,
           pg_catalog.sum(b.revenue), pg_catalog.sum(b.gross_profit),
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE b.first_at OPERATOR(pg_catalog.<) b.month),
           pg_catalog.count(*) FILTER (WHERE b.first_at OPERATOR(pg_catalog.>=) b.month),
           0
      FROM (SELECT pg_catalog.date_trunc('month', o.ordered_at)::date AS month,
                   coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
                   o.account_id,
                   pg_catalog.sum(o.amount) AS revenue,
                   coalesce(pg_catalog.sum(o.amount OPERATOR(pg_catalog.-) o.cost), 0) AS gross_profit,
                   pg_catalog.min(f.first_at) AS first_at
              FROM @extschema@."order" o
              JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
              JOIN first_order f ON f.account_id OPERATOR(pg_catalog.=) o.account_id
             GROUP BY 1, 2, 3) b
     GROUP BY b.month, b.segment
    UNION ALL
    -- acquisition cost: the touch rollups (module rollup) when this session
    -- may use them, else the tables (cdp.bi_return_touch_costs)
    SELECT x.month, x.segment, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           x.cost
      FROM @extschema@.bi_return_touch_costs() x
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(leads)::bigint AS leads, pg_catalog.sum(mqls)::bigint AS mqls,
           pg_catalog.sum(sqls)::bigint AS sqls, pg_catalog.sum(opps)::bigint AS opps,
           pg_catalog.sum(customers)::bigint AS customers,
           pg_catalog.sum(won)::bigint AS won, pg_catalog.sum(lost)::bigint AS lost,
           pg_catalog.sum(won_revenue) AS won_revenue, pg_catalog.sum(revenue) AS revenue,
           pg_catalog.sum(gross_profit) AS gross_profit,
           pg_catalog.sum(buyers)::bigint AS buyers, pg_catalog.sum(repeat_buyers)::bigint AS repeat_buyers,
           pg_catalog.sum(first_buyers)::bigint AS first_buyers, pg_catalog.sum(cost) AS cost
      FROM stacked
     GROUP BY month, segment
), cumulative AS (
    SELECT s.*,
           pg_catalog.sum(s.revenue) OVER w AS revenue_to_date,
           pg_catalog.sum(s.first_buyers) OVER w AS buyers_to_date
      FROM summed s
    WINDOW w AS (PARTITION BY s.segment ORDER BY s.month)
)
SELECT month, segment,
       leads AS new_leads,
       mqls AS new_mqls,
       sqls AS new_sqls,
       opps AS new_opportunities,
       customers AS new_customers,
       CASE WHEN mqls OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(sqls::numeric OPERATOR(pg_catalog./) mqls, 3) END AS mql_to_sql_rate,
       CASE WHEN sqls OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(opps::numeric OPERATOR(pg_catalog./) sqls, 3) END AS sql_to_opportunity_rate,
       CASE WHEN opps OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(customers::numeric OPERATOR(pg_catalog./) opps, 3) END AS opportunity_to_customer_rate,
       won AS deals_won,
       lost AS deals_lost,
       CASE WHEN (won OPERATOR(pg_catalog.+) lost) OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(won::numeric OPERATOR(pg_catalog./) (won OPERATOR(pg_catalog.+) lost), 3) END AS win_rate,
       won_revenue AS won_revenue_cny,
       revenue AS order_revenue_cny,
       gross_profit AS gross_profit_cny,
       cost AS acquisition_cost_cny,
       CASE WHEN customers OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(cost OPERATOR(pg_catalog./) customers, 2) END AS cost_per_new_customer_cny,
       CASE WHEN cost OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((won_revenue OPERATOR(pg_catalog.-) cost) OPERATOR(pg_catalog./) cost, 3) END AS roi,
       buyers,
       repeat_buyers,
       CASE WHEN buyers OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(repeat_buyers::numeric OPERATOR(pg_catalog./) buyers, 3) END AS repeat_purchase_rate,
       CASE WHEN buyers_to_date OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(revenue_to_date OPERATOR(pg_catalog./) buyers_to_date, 2) END AS customer_lifetime_value_cny
  FROM cumulative;

CREATE OR REPLACE FUNCTION @extschema@.refresh_bi_snapshots() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- fold the touch rollups' delta rows first (module rollup)
    PERFORM @extschema@.bi_compact_rollups();
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_recognize_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_reach_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_relationship_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_return_snapshot;
    RETURN pg_catalog.now();
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_bi_snapshots() IS 'Folds the delta rows of the touch rollups (cdp.bi_compact_rollups), then refreshes the 4R snapshots (metrics_*_snapshot) concurrently, so dashboards read fast figures without blocking; returns the refresh time. Schedule it, e.g. with pg_cron every 15 minutes';
