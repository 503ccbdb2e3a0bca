\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- views.sql: the BI layer.  CDP sheets, 4R metrics, pools and segments as
-- plain views that Metabase (or any BI tool over JDBC) reads.
--
-- Rules every view here follows:
--   - only scalar columns (no arrays, composites or json), snake_case names,
--     money in CNY as numeric, counts as bigint, shares as numeric in [0, 1];
--   - COMMENT ON the view and every column, English with the Chinese term;
--   - set-based: each table is aggregated once and joined on its key, never a
--     correlated subquery per row, so that the planner can hash, merge or
--     parallelise (the regression test checks that no plan has a SubPlan);
--   - a single account (WHERE account_id = ...) is reached through the keys,
--     which is how the sheet_complete guard reads sheet_completeness;
--   - a month column is the first day of the month (date) in the session's
--     time zone; a segment column comes from cdp.segment_of, 'unclassified'
--     when the account's size is unknown and no segment was declared.

-- JIT: metrics_recognize, metrics_relationship, metrics_return and
-- pool_summary read whole tables to return a few hundred rows, so their
-- plans cost far more than jit_above_cost and PostgreSQL JIT-compiles them
-- at each question; at 1M accounts that took longer than the query itself
-- (metrics_recognize: 2.1 s with JIT, the leader and its two workers
-- spending 3.8 s compiling between them, against 0.6 s without).  A view
-- cannot carry a setting, so each of them is a view cdp.bi_NAME holding the
-- query, a SQL function cdp.bi_NAME_rows() that returns its rows with SET
-- jit = off (PARALLEL RESTRICTED: it runs in the leader, where its own query
-- may use parallel workers), and the public view selecting from the
-- function.  EXPLAIN cdp.bi_NAME to see the plan.  metrics_reach reads the
-- touch rollups (a plan too cheap to compile); the per-account sheets stay
-- plain views: a page of rows or one account by key is planned cheaply and
-- never compiled.

-- Segments: cdp.segment_of is defined with the tables (schema module), so
-- that the per-account sheet summary (module rollup) can use it too.

-- Which fields the CDP sheets must have, per account tier ------------------------

CREATE TABLE @extschema@.sheet_field (
    field name PRIMARY KEY,
    bit integer NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 30),
    sheet text NOT NULL,
    label_en text NOT NULL,
    label_zh text NOT NULL
);
COMMENT ON TABLE @extschema@.sheet_field IS 'Fields that sheet completeness (资料完整度) can check: the CDP sheet columns of cdp.account_profile plus a few account facts; fixed by cdp, referenced by cdp.sheet_requirement';
COMMENT ON COLUMN @extschema@.sheet_field.field IS 'Field name (a cdp.account_profile or cdp.account column, or contacts / decision_maker)';
COMMENT ON COLUMN @extschema@.sheet_field.bit IS 'Bit of the field in the completeness masks (internal)';
COMMENT ON COLUMN @extschema@.sheet_field.sheet IS 'Sheet the field belongs to (account_profile, development_strategy, operating_kpis, account)';
COMMENT ON COLUMN @extschema@.sheet_field.label_en IS 'English label';
COMMENT ON COLUMN @extschema@.sheet_field.label_zh IS 'Chinese label';

INSERT INTO @extschema@.sheet_field (field, bit, sheet, label_en, label_zh) VALUES
    ('legal_representative',   0, 'account_profile', 'Person in charge', '法人/负责人'),
    ('org_structure',          1, 'account_profile', 'Organisation structure', '组织结构'),
    ('decision_process',       2, 'account_profile', 'Decision process', '决策流程'),
    ('scale',                  3, 'account_profile', 'Scale', '规模'),
    ('development_plan',       4, 'account_profile', 'Development plan', '发展规划'),
    ('pain_points',            5, 'account_profile', 'Pain points', '痛点'),
    ('service_fit',            6, 'development_strategy', 'Service fit', '服务匹配'),
    ('key_people',             7, 'development_strategy', 'Key people', '关键人'),
    ('key_person_actions',     8, 'development_strategy', 'Key-person actions', '关键人行动'),
    ('action_plan',            9, 'development_strategy', 'Action plan', '行动计划'),
    ('profit_level',          10, 'operating_kpis', 'Profit level', '利润水平'),
    ('acquisition_cost',      11, 'operating_kpis', 'Acquisition cost', '获客成本'),
    ('equipment_budget',      12, 'operating_kpis', 'Equipment budget', '设备预算'),
    ('annual_purchase_volume',13, 'operating_kpis', 'Annual purchase volume', '年采购量'),
    ('current_supplier',      14, 'operating_kpis', 'Current supplier', '现有供应商'),
    ('industry',              15, 'account', 'Industry', '行业'),
    ('employees',             16, 'account', 'Employees', '员工人数'),
    ('annual_revenue',        17, 'account', 'Annual revenue', '年营业额'),
    ('city',                  18, 'account', 'City', '城市'),
    ('owner',                 19, 'account', 'Sales owner', '负责销售'),
    ('contacts',              20, 'account', 'At least one contact', '联系人'),
    ('decision_maker',        21, 'account', 'A decision-maker contact', '决策人');

CREATE TABLE @extschema@.sheet_requirement (
    tier text NOT NULL CHECK (tier IN ('key', 'standard', 'long_tail')),
    field name NOT NULL REFERENCES @extschema@.sheet_field,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tier, field)
);
COMMENT ON TABLE @extschema@.sheet_requirement IS 'Required CDP sheet fields per account tier (各级客户必填资料): data, not code; key accounts (重点客户) need more. Edit the rows to change what sheet_completeness and the sheet_complete stage guard check';
COMMENT ON COLUMN @extschema@.sheet_requirement.tier IS 'Account tier: key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_requirement.field IS 'Field that must be filled (see cdp.sheet_field)';
COMMENT ON COLUMN @extschema@.sheet_requirement.builtin IS 'true for the requirements shipped with cdp; pg_dump keeps only the others';

INSERT INTO @extschema@.sheet_requirement (tier, field, builtin)
SELECT r.tier, f.field, true
  FROM (VALUES
    ('long_tail', ARRAY['industry', 'city', 'contacts']),
    ('standard',  ARRAY['industry', 'city', 'contacts', 'owner', 'employees', 'scale', 'pain_points',
                        'decision_maker', 'service_fit']),
    ('key',       ARRAY['industry', 'city', 'contacts', 'owner', 'employees', 'annual_revenue',
                        'legal_representative', 'org_structure', 'decision_process', 'scale',
                        'development_plan', 'pain_points', 'service_fit', 'key_people',
                        'key_person_actions', 'action_plan', 'profit_level', 'equipment_budget',
                        'annual_purchase_volume', 'current_supplier', 'decision_maker'])
  ) AS r(tier, fields)
 CROSS JOIN LATERAL pg_catalog.unnest(r.fields) AS f(field);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.sheet_requirement', 'WHERE NOT builtin');
-- sheet_field is fixed by cdp (the views test its fields by bit): registered
-- so that the rule "every table is kept by pg_dump" holds, with no rows to keep
SELECT pg_catalog.pg_extension_config_dump('@extschema@.sheet_field', 'WHERE false');
GRANT SELECT ON @extschema@.sheet_field, @extschema@.sheet_requirement TO PUBLIC;

-- CDP sheets ---------------------------------------------------------------------

-- Per account: the fields its tier requires and those filled, from the
-- per-account sheet summary (module rollup: kept by triggers, or computed
-- from the rows a reader row-level security restricts sees), with the
-- requirements of its tier.  Read by sheet_completeness and
-- metrics_recognize.
CREATE VIEW @extschema@.bi_account_completeness WITH (security_invoker = true) AS
WITH req AS (
    SELECT r.tier,
           pg_catalog.sum(1 OPERATOR(pg_catalog.<<) f.bit)::integer AS mask,
           pg_catalog.count(*)::integer AS required
      FROM @extschema@.sheet_requirement r
      JOIN @extschema@.sheet_field f USING (field)
     GROUP BY r.tier
), filled AS (
    SELECT s.account_id, s.created_at, s.segment, s.tier, s.is_duplicate,
           s.account_mask OPERATOR(pg_catalog.|) s.profile_mask
           OPERATOR(pg_catalog.|) (CASE WHEN s.contacts OPERATOR(pg_catalog.>) 0 THEN 1048576 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN s.decision_makers OPERATOR(pg_catalog.>) 0 THEN 2097152 ELSE 0 END) AS mask
      FROM @extschema@.bi_account_sheet_current s
)
SELECT x.account_id, x.created_at, x.segment, x.tier, x.is_duplicate,
       coalesce(r.required, 0) AS required,
       pg_catalog.bit_count((x.mask OPERATOR(pg_catalog.&) coalesce(r.mask, 0))::bit(22))::integer AS filled,
       coalesce(r.mask, 0) OPERATOR(pg_catalog.&) (OPERATOR(pg_catalog.~) x.mask) AS missing_mask
  FROM filled x
  LEFT JOIN req r ON r.tier OPERATOR(pg_catalog.=) x.tier;
COMMENT ON VIEW @extschema@.bi_account_completeness IS 'Per account (internal): how many sheet fields its tier requires (cdp.sheet_requirement), how many of them are filled and which are missing (bits of cdp.sheet_field), from the per-account sheet summary';
COMMENT ON COLUMN @extschema@.bi_account_completeness.account_id IS 'Account';
COMMENT ON COLUMN @extschema@.bi_account_completeness.created_at IS 'When the account was created';
COMMENT ON COLUMN @extschema@.bi_account_completeness.segment IS 'cdp.segment_of the account; NULL when unclassified';
COMMENT ON COLUMN @extschema@.bi_account_completeness.tier IS 'Account tier';
COMMENT ON COLUMN @extschema@.bi_account_completeness.is_duplicate IS 'An older account has the same company key or company domain';
COMMENT ON COLUMN @extschema@.bi_account_completeness.required IS 'Fields the tier requires';
COMMENT ON COLUMN @extschema@.bi_account_completeness.filled IS 'Of those, filled';
COMMENT ON COLUMN @extschema@.bi_account_completeness.missing_mask IS 'Bits (cdp.sheet_field.bit) of the required fields still empty';

-- The account's name, owner and stage and the profile's date are joined to
-- the summary: a question that reads none of them (completeness by
-- segment and tier) reads the summary alone.
CREATE VIEW @extschema@.sheet_completeness WITH (security_invoker = true) AS
WITH scored AS (
    SELECT c.account_id, c.created_at, c.segment, c.tier, c.required, c.filled, c.missing_mask,
           a.name, a.owner, a.stage, p.updated_at AS profile_updated_at
      FROM @extschema@.bi_account_completeness c
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
      LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) c.account_id
)
SELECT s.account_id,
       s.name AS account_name,
       s.tier,
       coalesce(s.segment, 'unclassified') AS segment,
       s.owner::text AS owner,
       s.stage,
       s.required AS required_fields,
       s.filled AS filled_fields,
       CASE WHEN s.required OPERATOR(pg_catalog.=) 0 THEN 1.0
            ELSE pg_catalog.round(s.filled::numeric OPERATOR(pg_catalog./) s.required, 3) END AS completeness,
       s.filled OPERATOR(pg_catalog.=) s.required AS is_complete,
       NULLIF(pg_catalog.concat_ws(', ',
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0 THEN 'legal_representative' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0 THEN 'org_structure' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 4) OPERATOR(pg_catalog.<>) 0 THEN 'decision_process' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN 'scale' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 16) OPERATOR(pg_catalog.<>) 0 THEN 'development_plan' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 32) OPERATOR(pg_catalog.<>) 0 THEN 'pain_points' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 64) OPERATOR(pg_catalog.<>) 0 THEN 'service_fit' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 128) OPERATOR(pg_catalog.<>) 0 THEN 'key_people' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 256) OPERATOR(pg_catalog.<>) 0 THEN 'key_person_actions' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 512) OPERATOR(pg_catalog.<>) 0 THEN 'action_plan' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1024) OPERATOR(pg_catalog.<>) 0 THEN 'profit_level' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2048) OPERATOR(pg_catalog.<>) 0 THEN 'acquisition_cost' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 4096) OPERATOR(pg_catalog.<>) 0 THEN 'equipment_budget' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 8192) OPERATOR(pg_catalog.<>) 0 THEN 'annual_purchase_volume' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 16384) OPERATOR(pg_catalog.<>) 0 THEN 'current_supplier' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 32768) OPERATOR(pg_catalog.<>) 0 THEN 'industry' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 65536) OPERATOR(pg_catalog.<>) 0 THEN 'employees' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 131072) OPERATOR(pg_catalog.<>) 0 THEN 'annual_revenue' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 262144) OPERATOR(pg_catalog.<>) 0 THEN 'city' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 524288) OPERATOR(pg_catalog.<>) 0 THEN 'owner' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1048576) OPERATOR(pg_catalog.<>) 0 THEN 'contacts' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2097152) OPERATOR(pg_catalog.<>) 0 THEN 'decision_maker' END), '') AS missing_fields,
       s.profile_updated_at,
       s.created_at AS account_created_at
  FROM scored s;
COMMENT ON VIEW @extschema@.sheet_completeness IS 'Sheet completeness (资料完整度) per account: how many of the fields its tier requires (cdp.sheet_requirement) are filled, and which are missing; key accounts (重点客户) require more';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_completeness.tier IS 'Account tier (客户等级): key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_completeness.segment IS 'Segment (客户分层) from cdp.segment_of: big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_completeness.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_completeness.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_completeness.required_fields IS 'Number of fields the tier requires (必填项数)';
COMMENT ON COLUMN @extschema@.sheet_completeness.filled_fields IS 'Number of required fields that are filled (已填项数)';
COMMENT ON COLUMN @extschema@.sheet_completeness.completeness IS 'Share of required fields filled, 0 to 1 (完整度); 1 when the tier requires nothing';
COMMENT ON COLUMN @extschema@.sheet_completeness.is_complete IS 'true when every required field is filled (资料齐全)';
COMMENT ON COLUMN @extschema@.sheet_completeness.missing_fields IS 'Required fields still empty, comma separated (缺失字段); NULL when complete';
COMMENT ON COLUMN @extschema@.sheet_completeness.profile_updated_at IS 'When the account''s CDP sheet was last updated (NULL when it has none)';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_created_at IS 'When the account was created (建档时间)';

-- STABLE: reads tables.  A lifecycle stage guard: attach it to a stage with
--   UPDATE cdp.lifecycle_stage SET guard = 'cdp.sheet_complete(regclass,text,text)'::regprocedure ...
CREATE FUNCTION @extschema@.sheet_complete(entity regclass, entity_key text, to_stage text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    acc bigint;
    ok boolean;
BEGIN
    IF entity IS NULL OR entity_key IS NULL THEN
        RETURN NULL;
    END IF;
    IF entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass THEN
        acc := entity_key::bigint;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.lead'::regclass THEN
        SELECT l.account_id INTO acc FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) entity_key::bigint;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass THEN
        SELECT o.account_id INTO acc FROM @extschema@.opportunity o WHERE o.opportunity_id OPERATOR(pg_catalog.=) entity_key::bigint;
    ELSE
        RAISE EXCEPTION 'cdp.sheet_complete does not know how to find the account of "%"', entity
            USING ERRCODE = '22023',
                  HINT = 'Use it as a guard on stages of cdp.account, cdp.lead or cdp.opportunity, or write a guard that maps your table to an account.';
    END IF;
    IF acc IS NULL THEN
        RETURN false;       -- no account yet: nothing is known about it
    END IF;
    SELECT s.is_complete INTO ok FROM @extschema@.sheet_completeness s WHERE s.account_id OPERATOR(pg_catalog.=) acc;
    RETURN coalesce(ok, false);
END
$$;
COMMENT ON FUNCTION @extschema@.sheet_complete(regclass, text, text) IS 'Lifecycle stage guard (资料完整度门槛): true when the account of the entity (an account, or the account of a lead or opportunity) has every CDP sheet field its tier requires; false refuses the stage with 23514';

-- Segment, tier and contact counts from the per-account sheet summary
-- (module rollup), the rest joined to it: a question by segment and tier
-- reads the summary alone.
CREATE VIEW @extschema@.sheet_account_profile WITH (security_invoker = true) AS
SELECT c.account_id,
       a.name AS account_name,
       a.short_name,
       a.name_en,
       coalesce(c.segment, 'unclassified') AS segment,
       c.tier,
       a.stage,
       a.industry,
       a.city,
       a.province,
       p.legal_representative AS person_in_charge,
       a.owner::text AS owner,
       p.org_structure AS organisation,
       p.decision_process,
       c.contacts::bigint AS contacts,
       c.verified_contacts::bigint AS verified_contacts,
       c.decision_makers::bigint AS decision_makers,
       a.employees,
       a.annual_revenue AS annual_revenue_cny,
       p.scale,
       p.development_plan,
       p.pain_points,
       p.updated_at AS profile_updated_at
  FROM @extschema@.bi_account_sheet_current c
  LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) c.account_id;
COMMENT ON VIEW @extschema@.sheet_account_profile IS 'Customer information sheet (客户信息表), one row per account: who they are, who is in charge, organisation, contacts, scale, development plan and pain points';
COMMENT ON COLUMN @extschema@.sheet_account_profile.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_account_profile.account_name IS 'Registered company name (客户名称/主体)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.short_name IS 'Short name or brand (简称)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.name_en IS 'English or pinyin name (英文名)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_account_profile.tier IS 'Account tier (客户等级): key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_account_profile.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.industry IS 'Industry (行业)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.city IS 'City as entered (城市)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.province IS 'Province or region (省份)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.person_in_charge IS 'Legal representative or main principal (法人/负责人)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.organisation IS 'Organisation structure (组织结构)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.decision_process IS 'How purchases are decided (决策流程)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.contacts IS 'Number of contacts at the account (联系人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.verified_contacts IS 'Contacts whose details were confirmed (已核实联系人)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.decision_makers IS 'Contacts marked as decision makers (决策人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.employees IS 'Number of employees (员工人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.annual_revenue_cny IS 'Annual revenue in CNY (年营业额)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.scale IS 'Business scale in words: sites, fleet, capacity (规模)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.development_plan IS 'The customer''s development plans (发展规划)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.pain_points IS 'Pain points and needs (痛点)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.profile_updated_at IS 'When the sheet was last updated (NULL when there is none)';

CREATE VIEW @extschema@.sheet_development_strategy WITH (security_invoker = true) AS
WITH opp AS (
    SELECT o.account_id,
           pg_catalog.count(*) AS open_opportunities,
           pg_catalog.sum(o.amount) AS open_pipeline,
           pg_catalog.min(o.expected_close) AS next_expected_close
      FROM @extschema@.opportunity o
     WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])
     GROUP BY o.account_id
), last_touch AS (
    -- the latest interaction: kept per account by the rollup triggers
    -- (cdp.bi_last_touch) when the reader sees every interaction, else
    -- computed from the interactions the reader sees
    -- (cdp.bi_last_touch_live).  Grouped by account, so that the planner
    -- knows it joins at most once and leaves it out of a question that does
    -- not ask for last_touch_at.
    SELECT x.account_id, pg_catalog.max(x.last_touch_at) AS last_touch_at
      FROM (SELECT b.account_id, b.last_touch_at FROM @extschema@.bi_last_touch b
            UNION ALL
            SELECT l.account_id, l.last_touch_at FROM @extschema@.bi_last_touch_live() l) x
     GROUP BY x.account_id
), recent AS (
    -- the last 90 days: an index-only range scan of
    -- touchpoint_occurred_account_idx
    SELECT t.account_id, pg_catalog.count(*) AS touches_90d
      FROM @extschema@.touchpoint t
     WHERE t.occurred_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)
       AND t.account_id IS NOT NULL
     GROUP BY t.account_id
)
-- driven from the accounts, whose key the planner knows unique, so that it
-- estimates each join to a per-account aggregate as one row per account
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
       lt.last_touch_at,
       coalesce(r.touches_90d, 0) AS touches_90d
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN opp o ON o.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN last_touch lt ON lt.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN recent r ON r.account_id OPERATOR(pg_catalog.=) a.account_id;
COMMENT ON VIEW @extschema@.sheet_development_strategy IS 'Development strategy sheet (客户开发策略表), one row per account: how our offer fits, key people and actions, the action plan, and the pipeline and recent contact that show whether it is being followed';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.pain_points IS 'Pain points and needs (痛点)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.service_fit IS 'How our offer fits the needs (服务匹配)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.key_people IS 'Key people and their attitudes (关键人)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.key_person_actions IS 'Planned actions per key person (关键人行动)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.action_plan IS 'Development action plan (行动计划)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.current_supplier IS 'Current main supplier (现有供应商)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.open_opportunities IS 'Opportunities neither won nor lost (在跟商机数)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.open_pipeline_cny IS 'Amount of the open opportunities in CNY (在跟商机金额)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.next_expected_close IS 'Earliest expected close date of an open opportunity (最近预计成交日期)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.last_touch_at IS 'Latest interaction with the account (最近触达时间)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.touches_90d IS 'Interactions in the last 90 days (近90天触达次数)';

CREATE VIEW @extschema@.sheet_operating_kpis WITH (security_invoker = true) AS
WITH ord AS (
    SELECT o.account_id,
           pg_catalog.sum(o.amount) AS revenue,
           pg_catalog.sum(o.amount OPERATOR(pg_catalog.-) o.cost) FILTER (WHERE o.cost IS NOT NULL) AS gross_profit,
           pg_catalog.count(*) AS orders
      FROM @extschema@."order" o
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
     GROUP BY o.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.stage,
       a.owner::text AS owner,
       p.profit_level,
       p.acquisition_cost AS acquisition_cost_cny,
       p.equipment_budget AS equipment_budget_cny,
       p.annual_purchase_volume AS annual_purchase_volume_cny,
       coalesce(o.orders, 0) AS orders_12m,
       coalesce(o.revenue, 0) AS revenue_12m_cny,
       o.gross_profit AS gross_profit_12m_cny,
       CASE WHEN o.revenue OPERATOR(pg_catalog.>) 0 AND o.gross_profit IS NOT NULL
            THEN pg_catalog.round(o.gross_profit OPERATOR(pg_catalog./) o.revenue, 3) END AS gross_margin_12m,
       CASE WHEN p.annual_purchase_volume OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(o.revenue, 0) OPERATOR(pg_catalog./) p.annual_purchase_volume, 3) END AS share_of_wallet
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN ord o ON o.account_id OPERATOR(pg_catalog.=) a.account_id;
COMMENT ON VIEW @extschema@.sheet_operating_kpis IS 'Operating KPI sheet (客户经营指标表), one row per account: profit level, acquisition cost, equipment budget, and our revenue, margin and share of wallet over the last 12 months';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.profit_level IS 'Customer profit level (利润水平): loss, low, medium, high';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.acquisition_cost_cny IS 'Customer acquisition cost so far in CNY (获客成本)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.equipment_budget_cny IS 'Equipment budget for the year in CNY (设备预算)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.annual_purchase_volume_cny IS 'Yearly purchases in our category from all suppliers in CNY (年采购量)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.orders_12m IS 'Our orders in the last 12 months (近12月订单数)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.revenue_12m_cny IS 'Our order revenue in the last 12 months in CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.gross_profit_12m_cny IS 'Revenue minus cost of goods of those orders that have a cost, CNY (近12月毛利)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.gross_margin_12m IS 'Gross profit over revenue, 0 to 1 (毛利率); NULL without revenue';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.share_of_wallet IS 'Our 12-month revenue over the annual purchase volume (钱包份额); NULL when the volume is unknown';

CREATE VIEW @extschema@.sheet_order_history WITH (security_invoker = true) AS
WITH own AS (
    SELECT o.account_id,
           pg_catalog.count(*) AS orders,
           pg_catalog.sum(o.amount) AS amount,
           pg_catalog.sum(o.amount) FILTER (WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)) AS amount_12m,
           pg_catalog.sum(o.amount) FILTER (WHERE o.ordered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
                                              AND o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '2 years'::interval)) AS amount_prev_12m,
           pg_catalog.min(o.ordered_at) AS first_order_at,
           pg_catalog.max(o.ordered_at) AS last_order_at
      FROM @extschema@."order" o
     GROUP BY o.account_id
), comp AS (
    SELECT c.account_id,
           pg_catalog.count(*) AS orders,
           pg_catalog.sum(c.amount) AS amount,
           pg_catalog.sum(c.amount) FILTER (WHERE c.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)::date) AS amount_12m,
           pg_catalog.sum(c.amount) FILTER (WHERE c.ordered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)::date
                                              AND c.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '2 years'::interval)::date) AS amount_prev_12m,
           pg_catalog.max(c.ordered_at) AS last_order_on,
           pg_catalog.mode() WITHIN GROUP (ORDER BY c.competitor) AS main_competitor
      FROM @extschema@.competitor_order c
     GROUP BY c.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.owner::text AS owner,
       coalesce(w.orders, 0) AS own_orders,
       coalesce(w.amount, 0) AS own_amount_cny,
       coalesce(w.amount_12m, 0) AS own_amount_12m_cny,
       coalesce(w.amount_prev_12m, 0) AS own_amount_prev_12m_cny,
       CASE WHEN w.amount_prev_12m OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(w.amount_12m, 0) OPERATOR(pg_catalog./) w.amount_prev_12m) OPERATOR(pg_catalog.-) 1, 3) END AS own_trend,
       w.first_order_at,
       w.last_order_at,
       coalesce(c.orders, 0) AS competitor_orders,
       coalesce(c.amount, 0) AS competitor_amount_cny,
       coalesce(c.amount_12m, 0) AS competitor_amount_12m_cny,
       coalesce(c.amount_prev_12m, 0) AS competitor_amount_prev_12m_cny,
       CASE WHEN c.amount_prev_12m OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(c.amount_12m, 0) OPERATOR(pg_catalog./) c.amount_prev_12m) OPERATOR(pg_catalog.-) 1, 3) END AS competitor_trend,
       c.main_competitor,
       c.last_order_on AS competitor_last_order_on,
       CASE WHEN (coalesce(w.amount_12m, 0) OPERATOR(pg_catalog.+) coalesce(c.amount_12m, 0)) OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(w.amount_12m, 0) OPERATOR(pg_catalog./) (coalesce(w.amount_12m, 0) OPERATOR(pg_catalog.+) coalesce(c.amount_12m, 0)), 3)
       END AS our_share_12m
  FROM @extschema@.account a
  LEFT JOIN own w ON w.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN comp c ON c.account_id OPERATOR(pg_catalog.=) a.account_id
 WHERE w.account_id IS NOT NULL OR c.account_id IS NOT NULL;
COMMENT ON VIEW @extschema@.sheet_order_history IS 'Order history sheet (历史订单表), one row per account with any order: our orders and the competitors'' orders we know of, the last 12 months against the 12 before, and our share';
COMMENT ON COLUMN @extschema@.sheet_order_history.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_order_history.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_order_history.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_order_history.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_order_history.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_orders IS 'All our orders from the account (我方订单数)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_cny IS 'Value of all our orders in CNY (我方订单总额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_12m_cny IS 'Our order value in the last 12 months, CNY (近12月我方订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_prev_12m_cny IS 'Our order value in the 12 months before that, CNY (上一个12月我方订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_trend IS 'Change of our order value, last 12 months over the 12 before minus 1 (我方趋势), e.g. 0.25 = +25%; NULL without earlier orders';
COMMENT ON COLUMN @extschema@.sheet_order_history.first_order_at IS 'Our first order (首单时间)';
COMMENT ON COLUMN @extschema@.sheet_order_history.last_order_at IS 'Our latest order (最近订单时间)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_orders IS 'Competitor orders we know of (竞品订单数)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_cny IS 'Estimated value of all known competitor orders, CNY (竞品订单总额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_12m_cny IS 'Competitor order value in the last 12 months, CNY (近12月竞品订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_prev_12m_cny IS 'Competitor order value in the 12 months before that, CNY (上一个12月竞品订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_trend IS 'Change of competitor order value, last 12 months over the 12 before minus 1 (竞品趋势); NULL without earlier orders';
COMMENT ON COLUMN @extschema@.sheet_order_history.main_competitor IS 'Competitor with the most known orders at the account (主要竞争对手)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_last_order_on IS 'Date of the latest known competitor order (最近竞品订单日期)';
COMMENT ON COLUMN @extschema@.sheet_order_history.our_share_12m IS 'Our share of the account''s known orders in the last 12 months, 0 to 1 (我方份额)';

-- Accounts meet city_market rows on cdp.city_key (广州, 广州市, Guangzhou, GZ
-- are all 广州市), or, for a spelling city_key does not know or finds
-- ambiguous, on its matching form (cdp.city_alias_form).  city_key is STABLE
-- (it reads cdp.city_alias), so it cannot be indexed; it runs once per
-- distinct spelling: accounts and revenue are first counted per city as
-- entered, then those few rows are keyed and summed.
CREATE VIEW @extschema@.sheet_city_market WITH (security_invoker = true) AS
WITH acc_raw AS (
    SELECT a.city,
           pg_catalog.count(*) AS accounts,
           pg_catalog.count(*) FILTER (WHERE a.stage OPERATOR(pg_catalog.=) ANY (ARRAY['customer', 'advocate']::text[])) AS customers
      FROM @extschema@.account a
     WHERE a.city IS NOT NULL
     GROUP BY a.city
), rev_raw AS (
    SELECT a.city,
           pg_catalog.sum(o.amount) AS revenue
      FROM @extschema@."order" o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
       AND a.city IS NOT NULL
     GROUP BY a.city
), acc AS (
    SELECT coalesce(@extschema@.city_key(r.city), @extschema@.city_alias_form(r.city)) AS city,
           pg_catalog.sum(r.accounts)::bigint AS accounts,
           pg_catalog.sum(r.customers)::bigint AS customers
      FROM acc_raw r
     GROUP BY 1
), rev AS (
    SELECT coalesce(@extschema@.city_key(r.city), @extschema@.city_alias_form(r.city)) AS city,
           pg_catalog.sum(r.revenue) AS revenue
      FROM rev_raw r
     GROUP BY 1
)
SELECT m.city_market_id,
       m.city,
       m.market,
       m.business_scale AS business_scale_cny,
       m.similar_customers,
       m.total_volume AS total_volume_cny,
       m.transaction_volume AS transaction_volume_cny,
       m.maturity AS market_maturity,
       coalesce(x.accounts, 0) AS our_accounts,
       coalesce(x.customers, 0) AS our_customers,
       coalesce(r.revenue, 0) AS our_revenue_12m_cny,
       CASE WHEN m.similar_customers OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(x.customers, 0)::numeric OPERATOR(pg_catalog./) m.similar_customers, 3) END AS customer_penetration,
       CASE WHEN m.transaction_volume OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(r.revenue, 0) OPERATOR(pg_catalog./) m.transaction_volume, 3) END AS share_of_transactions,
       m.updated_at
  FROM @extschema@.city_market m
  LEFT JOIN acc x ON x.city OPERATOR(pg_catalog.=) coalesce(@extschema@.city_key(m.city), @extschema@.city_alias_form(m.city))
  LEFT JOIN rev r ON r.city OPERATOR(pg_catalog.=) coalesce(@extschema@.city_key(m.city), @extschema@.city_alias_form(m.city));
COMMENT ON VIEW @extschema@.sheet_city_market IS 'City market sheet (城市市场信息表), one row per city and market: business scale, similar customers, total and transacted volume, maturity, and how many accounts, customers and how much revenue we have there (accounts are matched on cdp.city_key, so 广州, 广州市, Guangzhou and GZ are one city)';
COMMENT ON COLUMN @extschema@.sheet_city_market.city_market_id IS 'Sheet row identifier';
COMMENT ON COLUMN @extschema@.sheet_city_market.city IS 'City (城市)';
COMMENT ON COLUMN @extschema@.sheet_city_market.market IS 'Market or product line; all for the whole city (细分市场)';
COMMENT ON COLUMN @extschema@.sheet_city_market.business_scale_cny IS 'City business scale in CNY per year (城市业务规模)';
COMMENT ON COLUMN @extschema@.sheet_city_market.similar_customers IS 'Number of similar customers in the city (同类客户数量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.total_volume_cny IS 'Total business volume in CNY per year (业务总量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.transaction_volume_cny IS 'Volume actually transacted in CNY per year (成交量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.market_maturity IS 'Market maturity (市场成熟度): emerging, growing, mature, saturated';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_accounts IS 'Our accounts in the city (我方客户数)';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_customers IS 'Our accounts in the customer or advocate stage in the city (成交客户数)';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_revenue_12m_cny IS 'Our order revenue from the city in the last 12 months, CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.sheet_city_market.customer_penetration IS 'Our customers over the similar customers in the city, 0 to 1 (客户渗透率)';
COMMENT ON COLUMN @extschema@.sheet_city_market.share_of_transactions IS 'Our 12-month revenue over the transacted volume (成交份额)';
COMMENT ON COLUMN @extschema@.sheet_city_market.updated_at IS 'When the city figures were last updated';

-- 4R metrics ------------------------------------------------------------------------
--
-- Each 4R view is one row per month and segment (metrics_reach also per
-- channel).  Every measure is computed by one aggregate over one table,
-- stacked with UNION ALL and summed per month and segment: no full outer
-- joins, no per-row subqueries.

-- Probable duplicates follow the company matching module: an account is a
-- duplicate when an older account has the same canonical name
-- (cdp.company_key) or the same domain, free mail aside (cdp.email_domain).
-- The per-account sheet summary (module rollup) keeps the flag: its account
-- trigger finds the accounts of a key through account_company_key_idx,
-- which holds the key with account_id and (INCLUDE) name; a reader
-- row-level security restricts gets the flag from a window over an
-- index-only scan of it, the keys already in key and account_id order (no
-- function call, no sort).  Names longer than company_key accepts (1024 bytes, 54000) have no
-- key and are left out of the index, so that this index is never the reason
-- an account cannot be stored (today account_name_search_idx refuses them).
CREATE INDEX account_company_key_idx ON @extschema@.account (@extschema@.company_key(name), account_id)
    INCLUDE (name) WHERE NOT @extschema@.company_key_too_long(name);
-- The company domains are read the same way from account_email_domain_idx
-- (company module).

-- the query of cdp.metrics_recognize, which runs it without JIT (see "JIT" above)
CREATE VIEW @extschema@.bi_metrics_recognize WITH (security_invoker = true) AS
WITH acc AS (
    -- segment, completeness and duplicate flag from the per-account sheet
    -- summary (module rollup; duplicates: not the oldest account of its
    -- company key, cdp.company_key, or of its company domain,
    -- cdp.email_domain: lower case, no scheme, www. or path, NULL for free
    -- mail; the flag is NULL for a reader row-level security restricts,
    -- whose duplicates are counted below)
    SELECT c.account_id,
           pg_catalog.date_trunc('month', c.created_at)::date AS month,
           coalesce(c.segment, 'unclassified') AS segment,
           CASE WHEN c.required OPERATOR(pg_catalog.=) 0 THEN 1.0
                ELSE pg_catalog.round(c.filled::numeric OPERATOR(pg_catalog./) c.required, 3) END AS completeness,
           c.filled OPERATOR(pg_catalog.=) c.required AS is_complete,
           c.is_duplicate
      FROM @extschema@.bi_account_completeness c
), stacked AS (
    SELECT x.month, x.segment,
           pg_catalog.count(*) AS new_accounts,
           pg_catalog.count(*) FILTER (WHERE x.is_duplicate) AS duplicate_accounts,
           pg_catalog.sum(x.completeness) AS completeness_sum,
           pg_catalog.count(*) FILTER (WHERE x.is_complete) AS complete_profiles,
           0::bigint AS new_contacts, 0::bigint AS tagged_contacts, 0::bigint AS verified_contacts
      FROM acc x
     GROUP BY x.month, x.segment
    UNION ALL
    -- the duplicates a reader row-level security restricts sees among the
    -- accounts they see (the kept flags are about all accounts)
    SELECT pg_catalog.date_trunc('month', a.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, pg_catalog.count(*), 0, 0, 0, 0, 0
      FROM @extschema@.bi_account_duplicates_live() d
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) d.account_id
     WHERE NOT @extschema@.bi_rollups_visible()
     GROUP BY 1, 2
    UNION ALL
    -- contacts: the contact counts the database keeps (module rollup) when
    -- this session may use them, else the tables
    SELECT x.month, x.segment, 0, 0, 0, 0, x.contacts, x.tagged_contacts, x.verified_contacts
      FROM @extschema@.bi_contact_figures x
     WHERE x.contacts OPERATOR(pg_catalog.<>) 0
    UNION ALL
    SELECT pg_catalog.date_trunc('month', c.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE c.decision_role IS NOT NULL),
           pg_catalog.count(*) FILTER (WHERE c.verified)
      FROM @extschema@.contact c
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     WHERE NOT @extschema@.bi_rollups_usable()
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(new_accounts)::bigint AS new_accounts,
           pg_catalog.sum(duplicate_accounts)::bigint AS duplicate_accounts,
           pg_catalog.sum(completeness_sum) AS completeness_sum,
           pg_catalog.sum(complete_profiles)::bigint AS complete_profiles,
           pg_catalog.sum(new_contacts)::bigint AS new_contacts,
           pg_catalog.sum(tagged_contacts)::bigint AS tagged_contacts,
           pg_catalog.sum(verified_contacts)::bigint AS verified_contacts
      FROM stacked
     GROUP BY month, segment
)
SELECT month, segment, new_accounts, duplicate_accounts,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(duplicate_accounts::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS duplicate_rate,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(completeness_sum OPERATOR(pg_catalog./) new_accounts, 3) END AS avg_profile_completeness,
       complete_profiles,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(complete_profiles::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS complete_profile_rate,
       new_contacts, tagged_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(tagged_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS tagged_contact_rate,
       verified_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(verified_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS verified_contact_rate
  FROM summed;
COMMENT ON VIEW @extschema@.bi_metrics_recognize IS 'The query behind cdp.metrics_recognize (internal): read cdp.metrics_recognize, which runs it with JIT off';
CREATE FUNCTION @extschema@.bi_metrics_recognize_rows() RETURNS SETOF @extschema@.bi_metrics_recognize
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 200
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$SELECT * FROM @extschema@.bi_metrics_recognize$$;
COMMENT ON FUNCTION @extschema@.bi_metrics_recognize_rows() IS 'The rows of cdp.bi_metrics_recognize computed with jit = off (internal, the body of cdp.metrics_recognize)';
CREATE VIEW @extschema@.metrics_recognize WITH (security_invoker = true) AS
SELECT * FROM @extschema@.bi_metrics_recognize_rows();
COMMENT ON VIEW @extschema@.metrics_recognize IS '4R Recognize (识别): per month in which accounts and contacts were created, and segment: new accounts, probable duplicates, profile completeness as of now, tagged and verified contacts';
COMMENT ON COLUMN @extschema@.metrics_recognize.month IS 'Month the accounts and contacts were created (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_recognize.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.metrics_recognize.new_accounts IS 'Accounts created in the month (新增客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.duplicate_accounts IS 'Of those, probable duplicates of an older account: same canonical name (cdp.company_key), or same domain unless free mail (cdp.email_domain) (疑似重复客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.duplicate_rate IS 'Duplicate accounts over new accounts, 0 to 1 (重复率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.avg_profile_completeness IS 'Average sheet completeness of the new accounts as of now, 0 to 1 (平均资料完整度)';
COMMENT ON COLUMN @extschema@.metrics_recognize.complete_profiles IS 'New accounts whose sheet has every field their tier requires (资料齐全客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.complete_profile_rate IS 'Complete profiles over new accounts, 0 to 1 (资料齐全率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.new_contacts IS 'Contacts created in the month (新增联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.tagged_contacts IS 'Of those, contacts with a decision-chain role (已标记角色联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.tagged_contact_rate IS 'Tagged contacts over new contacts, 0 to 1 (标记率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.verified_contacts IS 'Of those, contacts whose details were confirmed (已核实联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.verified_contact_rate IS 'Verified contacts over new contacts, 0 to 1 (核实率)';

-- From the touch rollups (module rollup) when this session may use them
-- (cdp.bi_rollups_usable(), a one-time filter), else computed from the
-- tables by cdp.bi_metrics_reach_live().
CREATE VIEW @extschema@.metrics_reach WITH (security_invoker = true) AS
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
COMMENT ON VIEW @extschema@.metrics_reach IS '4R Reach (触达): per month, segment and channel: touches inbound and outbound, direct (one-to-one: phone, email, wechat, sms, visit, meeting) and indirect, who was reached, and whether contacts reached have consent for the channel (latest decision as of now)';
COMMENT ON COLUMN @extschema@.metrics_reach.month IS 'Month of the interactions (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_reach.segment IS 'Segment of the account reached (客户分层); unclassified when the touch has no account';
COMMENT ON COLUMN @extschema@.metrics_reach.channel IS 'Channel (渠道): phone, email, wechat, sms, visit, event, web, ...';
COMMENT ON COLUMN @extschema@.metrics_reach.touches IS 'Interactions (触达次数)';
COMMENT ON COLUMN @extschema@.metrics_reach.inbound_touches IS 'Interactions they started (呼入/主动来访)';
COMMENT ON COLUMN @extschema@.metrics_reach.outbound_touches IS 'Interactions we started (呼出/主动触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.direct_touches IS 'One-to-one interactions: phone, email, wechat, sms, visit, meeting (直接触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.indirect_touches IS 'Other interactions: web, events, ads, content (间接触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.connected_touches IS 'Interactions whose outcome was connected, replied or opened (有效触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_accounts IS 'Distinct accounts reached (触达客户数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_contacts IS 'Distinct contacts reached (触达联系人数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_leads IS 'Distinct leads reached (触达线索数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_contacts_with_consent IS 'Contacts reached whose latest consent decision for the channel is a grant (可合规触达联系人)';
COMMENT ON COLUMN @extschema@.metrics_reach.outbound_without_consent IS 'Outbound interactions with contacts who have no granted consent for the channel (未授权外呼/外发)';
COMMENT ON COLUMN @extschema@.metrics_reach.cost_cny IS 'What the interactions cost, CNY (触达成本)';

-- the query of cdp.metrics_relationship, which runs it without JIT (see "JIT" above)
CREATE VIEW @extschema@.bi_metrics_relationship WITH (security_invoker = true) AS
WITH stacked AS (
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
    -- new opportunities with the decision-chain coverage of their account
    -- as of now: share of the roles of a complete buying centre
    -- (cdp.decision_roles_required(), as in cdp.opportunity_decision_chain)
    -- it has a contact for, from the per-account sheet summary (module
    -- rollup), which also gives the segment
    SELECT pg_catalog.date_trunc('month', o.created_at)::date,
           coalesce(s.segment, 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           coalesce(pg_catalog.sum(s.chain_roles::numeric
                                   OPERATOR(pg_catalog./) pg_catalog.cardinality(@extschema@.decision_roles_required())), 0),
           pg_catalog.count(*) FILTER (WHERE s.decision_makers OPERATOR(pg_catalog.>) 0),
           0,
           pg_catalog.count(*) FILTER (WHERE o.referred_by IS NOT NULL)
      FROM @extschema@.opportunity o
      JOIN @extschema@.bi_account_sheet_current s ON s.account_id OPERATOR(pg_catalog.=) o.account_id
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
COMMENT ON VIEW @extschema@.bi_metrics_relationship IS 'The query behind cdp.metrics_relationship (internal): read cdp.metrics_relationship, which runs it with JIT off';
CREATE FUNCTION @extschema@.bi_metrics_relationship_rows() RETURNS SETOF @extschema@.bi_metrics_relationship
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 200
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$SELECT * FROM @extschema@.bi_metrics_relationship$$;
COMMENT ON FUNCTION @extschema@.bi_metrics_relationship_rows() IS 'The rows of cdp.bi_metrics_relationship computed with jit = off (internal, the body of cdp.metrics_relationship)';
CREATE VIEW @extschema@.metrics_relationship WITH (security_invoker = true) AS
SELECT * FROM @extschema@.bi_metrics_relationship_rows();
COMMENT ON VIEW @extschema@.metrics_relationship IS '4R Relationship (关系): per month and segment: how often active accounts are engaged, contacts engaging back, new ties between people, decision-chain coverage of new opportunities (as of now), new advocates and referral business';
COMMENT ON COLUMN @extschema@.metrics_relationship.month IS 'Month (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_relationship.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.metrics_relationship.active_accounts IS 'Accounts with at least one interaction in the month (活跃客户)';
COMMENT ON COLUMN @extschema@.metrics_relationship.touches IS 'Interactions in the month with an account, directly or through its contact or lead (互动次数)';
COMMENT ON COLUMN @extschema@.metrics_relationship.engagement_frequency IS 'Interactions per active account in the month (互动频次)';
COMMENT ON COLUMN @extschema@.metrics_relationship.active_relationships IS 'Contacts who reached out to us (an inbound interaction) in the month (活跃关系)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_relationships IS 'Ties between people recorded in the month, by the segment of the first person''s account (新增人脉关系)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_opportunities IS 'Opportunities created in the month (新增商机)';
COMMENT ON COLUMN @extschema@.metrics_relationship.opportunities_with_decision_maker IS 'Of those, opportunities whose account has a decision-maker contact now (已接触决策人商机)';
COMMENT ON COLUMN @extschema@.metrics_relationship.decision_chain_coverage IS 'Average decision-chain coverage of those opportunities as of now: share of the roles of cdp.decision_roles_required() known at their accounts, 0 to 1, as in cdp.opportunity_decision_chain (决策链覆盖率)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_advocates IS 'Accounts that entered the advocate stage in the month (新增推荐者)';
COMMENT ON COLUMN @extschema@.metrics_relationship.referral_opportunities IS 'Opportunities created in the month that were referred by a contact (转介绍商机)';

-- the query of cdp.metrics_return, which runs it without JIT (see "JIT" above)
CREATE VIEW @extschema@.bi_metrics_return WITH (security_invoker = true) AS
WITH facts AS (
    -- every fact counted by the segment of its account, one row each, so
    -- that the accounts are read and hashed once for all of them: entries of
    -- accounts into the b2b stages (kind = the stage), leads ('lead'), deals
    -- closed won or lost (kind = the stage), orders ('order') and the
    -- accounts that ordered in a month ('buyer', with whether they had
    -- ordered in an earlier month)
    SELECT h.entity_key::bigint AS account_id,
           pg_catalog.date_trunc('month', h.entered_at)::date AS month,
           h.stage AS kind, NULL::numeric AS amount, NULL::numeric AS gross_profit, NULL::boolean AS repeat
      FROM @extschema@.stage_history h
     WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
       AND h.model OPERATOR(pg_catalog.=) 'b2b'
       AND h.stage OPERATOR(pg_catalog.=) ANY (ARRAY['mql', 'sql', 'opportunity', 'customer']::text[])
    UNION ALL
    SELECT l.account_id, pg_catalog.date_trunc('month', l.created_at)::date, 'lead', NULL, NULL, NULL
      FROM @extschema@.lead l
    UNION ALL
    SELECT o.account_id, pg_catalog.date_trunc('month', o.closed_at)::date, o.stage, o.amount, NULL, NULL
      FROM @extschema@.opportunity o
     WHERE o.closed_at IS NOT NULL AND o.stage OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']::text[])
    UNION ALL
    SELECT o.account_id, pg_catalog.date_trunc('month', o.ordered_at)::date, 'order', o.amount,
           o.amount OPERATOR(pg_catalog.-) o.cost, NULL
      FROM @extschema@."order" o
    UNION ALL
    SELECT b.account_id, b.month, 'buyer', NULL, NULL, b.first_at OPERATOR(pg_catalog.<) b.month
      FROM (SELECT o.account_id, pg_catalog.date_trunc('month', o.ordered_at)::date AS month,
                   pg_catalog.min(f.first_at) AS first_at
              FROM @extschema@."order" o
              JOIN (SELECT o.account_id, pg_catalog.min(o.ordered_at) AS first_at
                      FROM @extschema@."order" o
                     GROUP BY o.account_id) f ON f.account_id OPERATOR(pg_catalog.=) o.account_id
             GROUP BY 1, 2) b
), counted AS (
    -- one group per month, segment and kind of fact (a few hundred), turned
    -- into columns below: a fact is hashed once, not tested against every
    -- column's filter.  A fact whose account is missing (or hidden from the
    -- reader by row-level security) is left out, except a lead
    -- (unclassified); the acquisition cost comes from the touch rollups
    -- (module rollup) when this session may use them, else from the tables
    -- (cdp.bi_return_touch_costs)
    SELECT y.month, y.segment, y.kind,
           pg_catalog.count(*) AS n,
           pg_catalog.count(*) FILTER (WHERE y.repeat) AS repeat,
           pg_catalog.sum(y.amount) AS amount,
           pg_catalog.sum(y.gross_profit) AS gross_profit
      FROM (SELECT x.month,
                   coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
                   x.kind, x.amount, x.gross_profit, x.repeat
              FROM facts x
              LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) x.account_id
             WHERE a.account_id IS NOT NULL OR x.kind OPERATOR(pg_catalog.=) 'lead'
            UNION ALL
            SELECT c.month, c.segment, 'cost', c.cost, NULL, NULL
              FROM @extschema@.bi_return_touch_costs() c) y
     GROUP BY y.month, y.segment, y.kind
), summed AS (
    SELECT c.month, c.segment,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'lead'), 0)::bigint AS leads,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'mql'), 0)::bigint AS mqls,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'sql'), 0)::bigint AS sqls,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'opportunity'), 0)::bigint AS opps,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'customer'), 0)::bigint AS customers,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'won'), 0)::bigint AS won,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'lost'), 0)::bigint AS lost,
           coalesce(pg_catalog.sum(c.amount) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'won'), 0) AS won_revenue,
           coalesce(pg_catalog.sum(c.amount) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'order'), 0) AS revenue,
           coalesce(pg_catalog.sum(c.gross_profit), 0) AS gross_profit,
           coalesce(pg_catalog.sum(c.n) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'buyer'), 0)::bigint AS buyers,
           coalesce(pg_catalog.sum(c.repeat), 0)::bigint AS repeat_buyers,
           coalesce(pg_catalog.sum(c.n OPERATOR(pg_catalog.-) c.repeat) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'buyer'), 0)::bigint AS first_buyers,
           coalesce(pg_catalog.sum(c.amount) FILTER (WHERE c.kind OPERATOR(pg_catalog.=) 'cost'), 0) AS cost
      FROM counted c
     GROUP BY c.month, c.segment
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
COMMENT ON VIEW @extschema@.bi_metrics_return IS 'The query behind cdp.metrics_return (internal): read cdp.metrics_return, which runs it with JIT off';
CREATE FUNCTION @extschema@.bi_metrics_return_rows() RETURNS SETOF @extschema@.bi_metrics_return
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 200
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$SELECT * FROM @extschema@.bi_metrics_return$$;
COMMENT ON FUNCTION @extschema@.bi_metrics_return_rows() IS 'The rows of cdp.bi_metrics_return computed with jit = off (internal, the body of cdp.metrics_return)';
CREATE VIEW @extschema@.metrics_return WITH (security_invoker = true) AS
SELECT * FROM @extschema@.bi_metrics_return_rows();
COMMENT ON VIEW @extschema@.metrics_return IS '4R Return (回报): per month and segment: entries into the b2b stages and the ratios between them (same-month flow; cohort conversion is in cdp.stage_conversion), deals won and lost, revenue, acquisition cost, ROI, repeat purchase and customer lifetime value';
COMMENT ON COLUMN @extschema@.metrics_return.month IS 'Month (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_return.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified (leads not matched to an account, touches without one)';
COMMENT ON COLUMN @extschema@.metrics_return.new_leads IS 'Leads created in the month (新增线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_mqls IS 'Accounts entering mql in the month (新增市场认可线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_sqls IS 'Accounts entering sql in the month (新增销售认可线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_opportunities IS 'Accounts entering opportunity in the month (新增商机客户)';
COMMENT ON COLUMN @extschema@.metrics_return.new_customers IS 'Accounts entering customer in the month (新增成交客户)';
COMMENT ON COLUMN @extschema@.metrics_return.mql_to_sql_rate IS 'sql entries over mql entries in the month (MQL→SQL 转化率, 同月流量比)';
COMMENT ON COLUMN @extschema@.metrics_return.sql_to_opportunity_rate IS 'opportunity entries over sql entries in the month (SQL→商机 转化率)';
COMMENT ON COLUMN @extschema@.metrics_return.opportunity_to_customer_rate IS 'customer entries over opportunity entries in the month (商机→成交 转化率)';
COMMENT ON COLUMN @extschema@.metrics_return.deals_won IS 'Opportunities won in the month (赢单数)';
COMMENT ON COLUMN @extschema@.metrics_return.deals_lost IS 'Opportunities lost in the month (输单数)';
COMMENT ON COLUMN @extschema@.metrics_return.win_rate IS 'Won over won plus lost, 0 to 1 (赢单率)';
COMMENT ON COLUMN @extschema@.metrics_return.won_revenue_cny IS 'Amount of the opportunities won in the month, CNY (赢单金额)';
COMMENT ON COLUMN @extschema@.metrics_return.order_revenue_cny IS 'Value of the orders placed in the month, CNY (订单收入)';
COMMENT ON COLUMN @extschema@.metrics_return.gross_profit_cny IS 'Order value minus cost of goods of the month''s orders that have a cost, CNY (毛利)';
COMMENT ON COLUMN @extschema@.metrics_return.acquisition_cost_cny IS 'Cost of the month''s interactions, by the segment of the account they reached directly or through a contact or lead, CNY (获客成本)';
COMMENT ON COLUMN @extschema@.metrics_return.cost_per_new_customer_cny IS 'Acquisition cost over new customers, CNY (单客获客成本)';
COMMENT ON COLUMN @extschema@.metrics_return.roi IS '(won revenue - acquisition cost) / acquisition cost (投资回报率)';
COMMENT ON COLUMN @extschema@.metrics_return.buyers IS 'Accounts that ordered in the month (下单客户数)';
COMMENT ON COLUMN @extschema@.metrics_return.repeat_buyers IS 'Of those, accounts that had ordered in an earlier month (复购客户数)';
COMMENT ON COLUMN @extschema@.metrics_return.repeat_purchase_rate IS 'Repeat buyers over buyers, 0 to 1 (复购率)';
COMMENT ON COLUMN @extschema@.metrics_return.customer_lifetime_value_cny IS 'Order revenue to date over accounts that have ordered to date, in the segment, CNY (客户终身价值)';

CREATE VIEW @extschema@.metrics_return_campaign WITH (security_invoker = true) AS
WITH ld AS (
    SELECT l.campaign_id, pg_catalog.count(*) AS leads
      FROM @extschema@.lead l WHERE l.campaign_id IS NOT NULL GROUP BY l.campaign_id
), first_lead AS (
    -- first-touch attribution: the campaign of an account's earliest lead
    SELECT DISTINCT ON (l.account_id) l.account_id, l.campaign_id
      FROM @extschema@.lead l
     WHERE l.account_id IS NOT NULL AND l.campaign_id IS NOT NULL
     ORDER BY l.account_id, l.created_at, l.lead_id
), op AS (
    SELECT coalesce(o.campaign_id, ol.campaign_id, fl.campaign_id) AS campaign_id,
           pg_catalog.count(*) AS opportunities,
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won') AS won,
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0) AS won_revenue
      FROM @extschema@.opportunity o
      LEFT JOIN @extschema@.lead ol ON ol.lead_id OPERATOR(pg_catalog.=) o.lead_id
      LEFT JOIN first_lead fl ON fl.account_id OPERATOR(pg_catalog.=) o.account_id
     GROUP BY 1
), tp AS (
    SELECT t.campaign_id, pg_catalog.count(*) AS touches, coalesce(pg_catalog.sum(t.cost), 0) AS touch_cost
      FROM @extschema@.touchpoint t WHERE t.campaign_id IS NOT NULL GROUP BY t.campaign_id
)
SELECT c.campaign_id,
       c.name AS campaign_name,
       coalesce(c.channel, 'unknown') AS channel,
       pg_catalog.date_trunc('month', c.started_on)::date AS start_month,
       c.started_on,
       c.ended_on,
       c.budget AS budget_cny,
       c.cost AS cost_cny,
       coalesce(ld.leads, 0) AS leads,
       coalesce(tp.touches, 0) AS touches,
       coalesce(op.opportunities, 0) AS opportunities,
       coalesce(op.won, 0) AS deals_won,
       coalesce(op.won_revenue, 0) AS won_revenue_cny,
       CASE WHEN ld.leads OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(c.cost OPERATOR(pg_catalog./) ld.leads, 2) END AS cost_per_lead_cny,
       CASE WHEN c.cost OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(op.won_revenue, 0) OPERATOR(pg_catalog.-) c.cost) OPERATOR(pg_catalog./) c.cost, 3) END AS roi
  FROM @extschema@.campaign c
  LEFT JOIN ld ON ld.campaign_id OPERATOR(pg_catalog.=) c.campaign_id
  LEFT JOIN op ON op.campaign_id OPERATOR(pg_catalog.=) c.campaign_id
  LEFT JOIN tp ON tp.campaign_id OPERATOR(pg_catalog.=) c.campaign_id;
COMMENT ON VIEW @extschema@.metrics_return_campaign IS '4R Return per campaign and channel (活动/渠道投资回报): spend, leads, opportunities, deals won and ROI of each campaign over its whole life; group by channel for ROI per channel';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.campaign_id IS 'Campaign identifier';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.campaign_name IS 'Campaign name (活动名称)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.channel IS 'Main channel of the campaign (渠道); unknown when not set';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.start_month IS 'Month the campaign started (开始月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.started_on IS 'First day of the campaign';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.ended_on IS 'Last day of the campaign (NULL while running)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.budget_cny IS 'Planned spend, CNY (预算)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.cost_cny IS 'Actual spend, CNY (实际花费)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.leads IS 'Leads the campaign produced (线索数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.touches IS 'Interactions attributed to the campaign (触达次数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.opportunities IS 'Opportunities attributed to the campaign (商机数): their own campaign, else the campaign of the lead they came from, else the campaign of their account''s earliest lead (first touch)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.deals_won IS 'Of those, won (赢单数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.won_revenue_cny IS 'Amount of the won opportunities, CNY (赢单金额)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.cost_per_lead_cny IS 'Actual spend over leads, CNY (单条线索成本)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.roi IS '(won revenue - spend) / spend (投资回报率)';

-- Pools --------------------------------------------------------------------------------

-- the query of cdp.pool_summary, which runs it without JIT (see "JIT" above)
CREATE VIEW @extschema@.bi_pool_summary WITH (security_invoker = true) AS
WITH money AS (
    -- per account with either: the amount of its open opportunities and its
    -- order revenue of the last 12 months (one hash for both)
    SELECT m.account_id, pg_catalog.sum(m.open_amount) AS open_amount, pg_catalog.sum(m.revenue) AS revenue
      FROM (SELECT o.account_id, o.amount AS open_amount, NULL::numeric AS revenue
              FROM @extschema@.opportunity o
             WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])
            UNION ALL
            SELECT o.account_id, NULL, o.amount
              FROM @extschema@."order" o
             WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)) m
     GROUP BY m.account_id
), stays AS (
    -- the open stays of accounts, leads and opportunities, each entity
    -- joined to its own table only (entity_key cast once per stay) and
    -- aggregated per owner, model and stage right away: a few hundred rows
    -- leave each branch, so the pools, the totals and the owners' teams are
    -- worked out on those, not per stay.  Sums that can be NULL are summed
    -- as they are and coalesced per group (the same value as summing the
    -- coalesced amounts), and the oldest entry gives the longest stay.
    SELECT 'account'::text AS entity, a.owner, h.model, h.stage,
           pg_catalog.count(*) AS members,
           coalesce(pg_catalog.sum(m.open_amount), 0) AS pipeline,
           coalesce(pg_catalog.sum(m.revenue), 0) AS revenue,
           pg_catalog.sum(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) h.entered_at)) AS age_s,
           pg_catalog.min(h.entered_at) AS first_entered_at,
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::interval)) AS over_30,
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)) AS over_90
      FROM @extschema@.stage_history h
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
      LEFT JOIN money m ON m.account_id OPERATOR(pg_catalog.=) a.account_id
     WHERE h.exited_at IS NULL AND h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
     GROUP BY a.owner, h.model, h.stage
    UNION ALL
    SELECT 'lead'::text, l.owner, h.model, h.stage,
           pg_catalog.count(*), 0, 0,
           pg_catalog.sum(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) h.entered_at)),
           pg_catalog.min(h.entered_at),
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::interval)),
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval))
      FROM @extschema@.stage_history h
      JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.exited_at IS NULL AND h.entity OPERATOR(pg_catalog.=) '@extschema@.lead'::regclass
     GROUP BY l.owner, h.model, h.stage
    UNION ALL
    SELECT 'opportunity'::text, o.owner, h.model, h.stage,
           pg_catalog.count(*),
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])), 0),
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'
                                                       AND o.closed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)), 0),
           pg_catalog.sum(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) h.entered_at)),
           pg_catalog.min(h.entered_at),
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::interval)),
           pg_catalog.count(*) FILTER (WHERE h.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval))
      FROM @extschema@.stage_history h
      JOIN @extschema@.opportunity o ON o.opportunity_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.exited_at IS NULL AND h.entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass
     GROUP BY o.owner, h.model, h.stage
), grouped AS (
    SELECT coalesce(ls.pool, 'exited') AS pool, s.entity, s.owner,
           pg_catalog.sum(s.members)::bigint AS members,
           pg_catalog.sum(s.pipeline) AS pipeline,
           pg_catalog.sum(s.revenue) AS revenue,
           pg_catalog.sum(s.age_s) OPERATOR(pg_catalog./) pg_catalog.sum(s.members)::double precision AS avg_age_s,
           pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.min(s.first_entered_at) AS max_age,
           pg_catalog.sum(s.over_30)::bigint AS over_30,
           pg_catalog.sum(s.over_90)::bigint AS over_90
      FROM stays s
      LEFT JOIN @extschema@.lifecycle_stage ls
             ON ls.model OPERATOR(pg_catalog.=) s.model AND ls.stage OPERATOR(pg_catalog.=) s.stage
     GROUP BY 1, 2, 3
)
SELECT g.pool,
       g.entity,
       coalesce(g.owner::text, 'unassigned') AS owner,
       coalesce(team.team, CASE WHEN g.owner IS NULL THEN 'unassigned' ELSE 'no_team' END) AS owner_team,
       g.members,
       g.pipeline AS pipeline_cny,
       g.revenue AS revenue_12m_cny,
       pg_catalog.round((g.avg_age_s OPERATOR(pg_catalog./) 86400)::numeric, 1) AS avg_days_in_stage,
       pg_catalog.round((pg_catalog.date_part('epoch', g.max_age) OPERATOR(pg_catalog./) 86400)::numeric, 1) AS max_days_in_stage,
       g.over_30 AS over_30_days,
       g.over_90 AS over_90_days
  FROM grouped g
  LEFT JOIN LATERAL (
        -- the owner's team: the first role (by name) the owner belongs to
        -- directly, other than the cdp_* roles
        SELECT pg_catalog.min(t.rolname::text) AS team
          FROM pg_catalog.pg_roles r
          JOIN pg_catalog.pg_auth_members am ON am.member OPERATOR(pg_catalog.=) r.oid
          JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) am.roleid
         WHERE r.rolname OPERATOR(pg_catalog.=) g.owner
           AND t.rolname::text OPERATOR(pg_catalog.!~) '^cdp_') team ON true;
COMMENT ON VIEW @extschema@.bi_pool_summary IS 'The query behind cdp.pool_summary (internal): read cdp.pool_summary, which runs it with JIT off';
CREATE FUNCTION @extschema@.bi_pool_summary_rows() RETURNS SETOF @extschema@.bi_pool_summary
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 200
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$SELECT * FROM @extschema@.bi_pool_summary$$;
COMMENT ON FUNCTION @extschema@.bi_pool_summary_rows() IS 'The rows of cdp.bi_pool_summary computed with jit = off (internal, the body of cdp.pool_summary)';
CREATE VIEW @extschema@.pool_summary WITH (security_invoker = true) AS
SELECT * FROM @extschema@.bi_pool_summary_rows();
COMMENT ON VIEW @extschema@.pool_summary IS 'Pools (客户池): accounts, leads and opportunities now in the marketing, sales and success pools (市场池/销售池/客户成功池) of their lifecycle model, or exited, per owner: how many, the value in play, the owner''s team and how long they have been waiting in their stage';
COMMENT ON COLUMN @extschema@.pool_summary.pool IS 'Pool of the current stage (池): marketing, sales, success, or exited (disqualified, churned, lost)';
COMMENT ON COLUMN @extschema@.pool_summary.entity IS 'What is counted (对象): account, lead or opportunity';
COMMENT ON COLUMN @extschema@.pool_summary.owner IS 'Owner role (负责人), or unassigned';
COMMENT ON COLUMN @extschema@.pool_summary.owner_team IS 'Team of the owner (所属团队): the first role, by name, the owner is a direct member of other than the cdp_* roles; no_team when none, unassigned without owner';
COMMENT ON COLUMN @extschema@.pool_summary.members IS 'Number of entities (数量)';
COMMENT ON COLUMN @extschema@.pool_summary.pipeline_cny IS 'Open opportunity amount: of the accounts'' open opportunities, or of the open opportunities themselves, CNY (在跟商机金额)';
COMMENT ON COLUMN @extschema@.pool_summary.revenue_12m_cny IS 'Order revenue of the accounts in the last 12 months, or amount of opportunities won in the last 12 months, CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.pool_summary.avg_days_in_stage IS 'Average days since entering the current stage (平均停留天数)';
COMMENT ON COLUMN @extschema@.pool_summary.max_days_in_stage IS 'Longest time in the current stage, days (最长停留天数)';
COMMENT ON COLUMN @extschema@.pool_summary.over_30_days IS 'Entities in their stage for more than 30 days (停留超30天)';
COMMENT ON COLUMN @extschema@.pool_summary.over_90_days IS 'Entities in their stage for more than 90 days (停留超90天)';

-- the internal query views carry their public view's column comments
DO $internal$
DECLARE
    v text;
    c record;
BEGIN
    FOREACH v IN ARRAY ARRAY['metrics_recognize', 'metrics_relationship', 'metrics_return', 'pool_summary'] LOOP
        FOR c IN SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS d
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('@extschema@.%I', v)::pg_catalog.regclass
                    AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped LOOP
            EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', 'bi_' OPERATOR(pg_catalog.||) v, c.attname, c.d);
        END LOOP;
    END LOOP;
END
$internal$;

-- Snapshots ------------------------------------------------------------------------
--
-- The 4R views are exact and always current, but they aggregate the whole
-- touchpoint table: on 10M touchpoints that takes several seconds, too slow
-- for a dashboard.  Each has a materialized snapshot with the same columns
-- plus refreshed_at, keyed by its month/segment(/channel) so that
-- cdp.refresh_bi_snapshots() refreshes it CONCURRENTLY (readers are never
-- blocked).  Dashboards read the snapshots; refresh them on a schedule
-- (pg_cron, or cron running psql).  They are created populated, so a BI tool
-- can read them before the first refresh.

CREATE MATERIALIZED VIEW @extschema@.metrics_recognize_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_recognize v;
CREATE UNIQUE INDEX metrics_recognize_snapshot_key ON @extschema@.metrics_recognize_snapshot (month, segment);
CREATE MATERIALIZED VIEW @extschema@.metrics_reach_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_reach v;
CREATE UNIQUE INDEX metrics_reach_snapshot_key ON @extschema@.metrics_reach_snapshot (month, segment, channel);
CREATE MATERIALIZED VIEW @extschema@.metrics_relationship_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_relationship v;
CREATE UNIQUE INDEX metrics_relationship_snapshot_key ON @extschema@.metrics_relationship_snapshot (month, segment);
CREATE MATERIALIZED VIEW @extschema@.metrics_return_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_return v;
CREATE UNIQUE INDEX metrics_return_snapshot_key ON @extschema@.metrics_return_snapshot (month, segment);

-- the snapshots describe themselves with their views' comments
DO $$
DECLARE
    v text;
    c record;
BEGIN
    FOREACH v IN ARRAY ARRAY['metrics_recognize', 'metrics_reach', 'metrics_relationship', 'metrics_return'] LOOP
        EXECUTE pg_catalog.format('COMMENT ON MATERIALIZED VIEW @extschema@.%I IS %L', v || '_snapshot',
            'Snapshot (快照) of cdp.' || v || ' as of refreshed_at, for dashboards; refreshed by cdp.refresh_bi_snapshots(). '
            || pg_catalog.obj_description(pg_catalog.format('@extschema@.%I', v)::pg_catalog.regclass, 'pg_class'));
        FOR c IN SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS d
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('@extschema@.%I', v)::pg_catalog.regclass
                    AND a.attnum OPERATOR(pg_catalog.>) 0 LOOP
            EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', v || '_snapshot', c.attname, c.d);
        END LOOP;
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.refreshed_at IS %L', v || '_snapshot',
                                  'When the snapshot was last refreshed (快照时间)');
    END LOOP;
END
$$;

-- VOLATILE: refreshes materialized views.  SECURITY DEFINER: refreshing
-- needs the snapshots' owner; EXECUTE is revoked from PUBLIC, grant it to
-- the role that schedules refreshes.  The snapshots hold aggregates only.
-- jit off: each refresh plans the four views afresh and their cost estimates
-- make PostgreSQL JIT-compile them, which took longer than running them
-- (200,000 accounts / 2M touchpoints: 7.3 s with JIT, 2.5 s without).
CREATE FUNCTION @extschema@.refresh_bi_snapshots() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
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
REVOKE ALL ON FUNCTION @extschema@.refresh_bi_snapshots() FROM PUBLIC;
