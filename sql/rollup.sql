-- rollup: the touch rollups behind metrics_reach, the interaction figures of
-- metrics_relationship, the acquisition cost of metrics_return and the
-- latest interaction of sheet_development_strategy, and the per-account
-- sheet summary behind the CDP sheets.  After any mix of writes, the views
-- read from the rollups must equal the straightforward definitions (those
-- of cdp 0.1: one aggregate over the tables, kept here as the reference).
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;
SET timezone = 'UTC';
-- the rollups cut months in UTC, like this session, from here on
SELECT cdp.rebuild_bi_rollups('UTC') AS rollup_rows;
SELECT cdp.bi_rollup_time_zone(), cdp.bi_rollups_usable(), cdp.bi_rollups_visible();

CREATE SCHEMA rollup_ref;
-- metrics_reach as in cdp 0.1
CREATE VIEW rollup_ref.metrics_reach AS
WITH cons AS (
    SELECT DISTINCT ON (k.contact_id, k.channel) k.contact_id, k.channel, k.granted
      FROM cdp.consent k
     ORDER BY k.contact_id, k.channel, k.recorded_at DESC, k.consent_id DESC
), tp AS (
    SELECT date_trunc('month', t.occurred_at)::date AS month,
           coalesce(cdp.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
           t.channel, t.direction,
           t.channel = ANY (ARRAY['phone', 'email', 'wechat', 'sms', 'visit', 'meeting']) AS direct,
           t.outcome = ANY (ARRAY['connected', 'replied', 'opened']) AS connected,
           a.account_id, t.contact_id, t.lead_id, k.granted, t.cost
      FROM cdp.touchpoint t
      LEFT JOIN cdp.contact c ON c.contact_id = t.contact_id
      LEFT JOIN cdp.lead l ON l.lead_id = t.lead_id
      LEFT JOIN cdp.account a ON a.account_id = coalesce(t.account_id, c.account_id, l.account_id)
      LEFT JOIN cons k ON k.contact_id = t.contact_id AND k.channel = t.channel
)
SELECT month, segment, channel,
       count(*) AS touches,
       count(*) FILTER (WHERE direction = 'inbound') AS inbound_touches,
       count(*) FILTER (WHERE direction = 'outbound') AS outbound_touches,
       count(*) FILTER (WHERE direct) AS direct_touches,
       count(*) FILTER (WHERE NOT direct) AS indirect_touches,
       count(*) FILTER (WHERE connected) AS connected_touches,
       count(DISTINCT account_id) AS reached_accounts,
       count(DISTINCT contact_id) AS reached_contacts,
       count(DISTINCT lead_id) AS reached_leads,
       count(DISTINCT contact_id) FILTER (WHERE granted) AS reached_contacts_with_consent,
       count(*) FILTER (WHERE direction = 'outbound' AND contact_id IS NOT NULL AND granted IS NOT TRUE) AS outbound_without_consent,
       coalesce(sum(cost), 0) AS cost_cny
  FROM tp
 GROUP BY month, segment, channel;
-- the interaction branch of metrics_relationship as in cdp 0.1
CREATE VIEW rollup_ref.relationship_touches AS
SELECT date_trunc('month', t.occurred_at)::date AS month,
       coalesce(cdp.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       count(*) AS touches,
       count(DISTINCT a.account_id) AS active_accounts,
       count(DISTINCT t.contact_id) FILTER (WHERE t.direction = 'inbound') AS active_relationships
  FROM cdp.touchpoint t
  LEFT JOIN cdp.contact c ON c.contact_id = t.contact_id
  LEFT JOIN cdp.lead l ON l.lead_id = t.lead_id
  JOIN cdp.account a ON a.account_id = coalesce(t.account_id, c.account_id, l.account_id)
 GROUP BY 1, 2;
-- the interaction branch of metrics_return as in cdp 0.1
CREATE VIEW rollup_ref.return_costs AS
SELECT date_trunc('month', t.occurred_at)::date AS month,
       coalesce(cdp.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       sum(t.cost) AS cost
  FROM cdp.touchpoint t
  LEFT JOIN cdp.contact c ON c.contact_id = t.contact_id
  LEFT JOIN cdp.lead l ON l.lead_id = t.lead_id
  LEFT JOIN cdp.account a ON a.account_id = coalesce(t.account_id, c.account_id, l.account_id)
 WHERE t.cost > 0
 GROUP BY 1, 2;
-- the interaction part of sheet_development_strategy as in cdp 0.1
CREATE VIEW rollup_ref.strategy_touches AS
SELECT a.account_id, t.last_touch_at, coalesce(t.touches_90d, 0) AS touches_90d
  FROM cdp.account a
  LEFT JOIN (SELECT t.account_id, max(t.occurred_at) AS last_touch_at,
                    count(*) FILTER (WHERE t.occurred_at >= now() - interval '90 days') AS touches_90d
               FROM cdp.touchpoint t WHERE t.account_id IS NOT NULL GROUP BY t.account_id) t
         ON t.account_id = a.account_id;
-- the per-account figures of sheet_completeness, sheet_account_profile,
-- metrics_recognize and metrics_relationship as in cdp 0.1 (contacts
-- aggregated per account, fields tested by name through cdp.sheet_field,
-- a duplicate is an account with an older one of the same company key or
-- company domain)
CREATE VIEW rollup_ref.sheet_figures AS
SELECT a.account_id, a.created_at, cdp.segment_of(a.segment, a.employees, a.annual_revenue) AS segment, a.tier,
       coalesce((SELECT sum(1 << f.bit) FROM cdp.sheet_field f
                  WHERE f.sheet = 'account' AND f.field NOT IN ('contacts', 'decision_maker')
                    AND btrim(to_jsonb(a) ->> f.field::text) <> ''), 0)::int AS account_mask,
       coalesce((SELECT sum(1 << f.bit) FROM cdp.sheet_field f, cdp.account_profile p
                  WHERE p.account_id = a.account_id AND f.sheet <> 'account'
                    AND btrim(to_jsonb(p) ->> f.field::text) <> ''), 0)::int AS profile_mask,
       (SELECT count(*) FROM cdp.contact c WHERE c.account_id = a.account_id)::int AS contacts,
       (SELECT count(*) FROM cdp.contact c WHERE c.account_id = a.account_id AND c.verified)::int AS verified_contacts,
       (SELECT count(c.decision_role) FROM cdp.contact c WHERE c.account_id = a.account_id)::int AS tagged_contacts,
       (SELECT count(*) FROM cdp.contact c WHERE c.account_id = a.account_id AND c.decision_role = 'decision_maker')::int AS decision_makers,
       (SELECT count(DISTINCT c.decision_role) FROM cdp.contact c
         WHERE c.account_id = a.account_id AND c.decision_role = ANY (cdp.decision_roles_required()))::int AS chain_roles,
       EXISTS (SELECT FROM cdp.account b WHERE b.account_id < a.account_id
                  AND (cdp.company_key(b.name) = cdp.company_key(a.name)
                       OR cdp.email_domain(b.domain) = cdp.email_domain(a.domain))) AS is_duplicate
  FROM cdp.account a;

-- metrics_recognize as in cdp 0.1: accounts by month of creation and
-- segment (duplicates as in sheet_figures), contacts by month of creation
-- and the segment of their account
CREATE VIEW rollup_ref.recognize AS
SELECT month, segment, sum(new_accounts) AS new_accounts, sum(duplicate_accounts) AS duplicate_accounts,
       sum(new_contacts) AS new_contacts, sum(tagged_contacts) AS tagged_contacts, sum(verified_contacts) AS verified_contacts
  FROM (SELECT date_trunc('month', f.created_at)::date AS month, coalesce(f.segment, 'unclassified') AS segment,
               count(*) AS new_accounts, count(*) FILTER (WHERE f.is_duplicate) AS duplicate_accounts,
               0 AS new_contacts, 0 AS tagged_contacts, 0 AS verified_contacts
          FROM rollup_ref.sheet_figures f GROUP BY 1, 2
        UNION ALL
        SELECT date_trunc('month', c.created_at)::date, coalesce(cdp.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
               0, 0, count(*), count(*) FILTER (WHERE c.decision_role IS NOT NULL), count(*) FILTER (WHERE c.verified)
          FROM cdp.contact c LEFT JOIN cdp.account a ON a.account_id = c.account_id GROUP BY 1, 2) x
 GROUP BY month, segment;

-- rows of each comparison that differ (0 everywhere is the expected result)
-- and whether there was anything to compare
CREATE FUNCTION pg_temp.rollup_diff() RETURNS TABLE (figures text, has_rows boolean, differing bigint)
LANGUAGE plpgsql AS $$
BEGIN
    figures := 'metrics_reach';
    SELECT EXISTS (SELECT FROM rollup_ref.metrics_reach) INTO has_rows;
    SELECT count(*) INTO differing
      FROM ((SELECT * FROM cdp.metrics_reach EXCEPT ALL SELECT * FROM rollup_ref.metrics_reach)
            UNION ALL (SELECT * FROM rollup_ref.metrics_reach EXCEPT ALL SELECT * FROM cdp.metrics_reach)) d;
    RETURN NEXT;
    -- every month and segment with interactions is in the view with the
    -- branch's figures; the others show none
    figures := 'metrics_relationship';
    SELECT EXISTS (SELECT FROM rollup_ref.relationship_touches) INTO has_rows;
    SELECT count(*) INTO differing
      FROM cdp.metrics_relationship v
      FULL JOIN rollup_ref.relationship_touches r USING (month, segment)
     WHERE v.month IS NULL
        OR (v.touches, v.active_accounts, v.active_relationships)
           IS DISTINCT FROM (coalesce(r.touches, 0), coalesce(r.active_accounts, 0), coalesce(r.active_relationships, 0));
    RETURN NEXT;
    figures := 'metrics_return';
    SELECT EXISTS (SELECT FROM rollup_ref.return_costs) INTO has_rows;
    SELECT count(*) INTO differing
      FROM cdp.metrics_return v
      FULL JOIN rollup_ref.return_costs r USING (month, segment)
     WHERE v.month IS NULL OR coalesce(v.acquisition_cost_cny, 0) <> coalesce(r.cost, 0);
    RETURN NEXT;
    figures := 'sheet_development_strategy';
    SELECT EXISTS (SELECT FROM rollup_ref.strategy_touches WHERE last_touch_at IS NOT NULL) INTO has_rows;
    SELECT count(*) INTO differing
      FROM ((SELECT account_id, last_touch_at, touches_90d FROM cdp.sheet_development_strategy
             EXCEPT ALL SELECT * FROM rollup_ref.strategy_touches)
            UNION ALL (SELECT * FROM rollup_ref.strategy_touches
                       EXCEPT ALL SELECT account_id, last_touch_at, touches_90d FROM cdp.sheet_development_strategy)) d;
    RETURN NEXT;
    -- the summary the sheets join: one row per account
    figures := 'sheet_summary';
    SELECT EXISTS (SELECT FROM rollup_ref.sheet_figures WHERE contacts > 0 AND profile_mask <> 0) INTO has_rows;
    SELECT count(*) INTO differing
      FROM ((SELECT * FROM cdp.bi_account_sheet_current EXCEPT ALL SELECT * FROM rollup_ref.sheet_figures)
            UNION ALL (SELECT * FROM rollup_ref.sheet_figures EXCEPT ALL SELECT * FROM cdp.bi_account_sheet_current)) d;
    RETURN NEXT;
    figures := 'metrics_recognize';
    SELECT EXISTS (SELECT FROM rollup_ref.recognize WHERE new_contacts > 0 AND duplicate_accounts > 0) INTO has_rows;
    SELECT count(*) INTO differing
      FROM cdp.metrics_recognize v
      FULL JOIN rollup_ref.recognize r USING (month, segment)
     WHERE (v.new_accounts, v.duplicate_accounts, v.new_contacts, v.tagged_contacts, v.verified_contacts)
           IS DISTINCT FROM (r.new_accounts, r.duplicate_accounts, r.new_contacts, r.tagged_contacts, r.verified_contacts);
    RETURN NEXT;
    figures := 'sheet_account_profile';
    SELECT EXISTS (SELECT FROM rollup_ref.sheet_figures WHERE contacts > 0) INTO has_rows;
    SELECT count(*) INTO differing
      FROM cdp.sheet_account_profile v JOIN rollup_ref.sheet_figures r USING (account_id)
     WHERE (v.contacts, v.verified_contacts, v.decision_makers) IS DISTINCT FROM (r.contacts, r.verified_contacts, r.decision_makers);
    RETURN NEXT;
END
$$;

-- seeded data: 40 accounts, 60 contacts, 12 leads, consent decisions, 400
-- interactions through accounts, contacts and leads (some in the last 90
-- days)
SELECT setseed(0.42) \g /dev/null
INSERT INTO cdp.account (name, segment, employees, annual_revenue, created_at)
SELECT 'rollup ' || i, (ARRAY['big_b', 'small_c', NULL, NULL])[1 + i % 4], (ARRAY[0, 20, 500, NULL])[1 + i % 3 + i % 2],
       CASE WHEN i % 5 = 0 THEN 2e6 END, '2024-01-01'::timestamptz + i * interval '1 day'
  FROM generate_series(1, 40) i;
INSERT INTO cdp.contact (account_id, name, decision_role, verified, created_at)
SELECT CASE WHEN i % 6 <> 0 THEN a.ids[1 + (i * 7) % 40] END, 'rollup contact ' || i,
       (ARRAY['decision_maker', 'user', NULL, 'procurement', 'gatekeeper'])[1 + i % 5], i % 4 = 0, '2024-01-01'
  FROM generate_series(1, 60) i,
       (SELECT array_agg(account_id ORDER BY account_id) AS ids FROM cdp.account) a;
INSERT INTO cdp.lead (company_name, account_id, created_at)
SELECT 'rollup lead ' || i, CASE WHEN i % 3 <> 0 THEN a.ids[1 + (i * 5) % 40] END, '2024-01-01'
  FROM generate_series(1, 12) i,
       (SELECT array_agg(account_id ORDER BY account_id) AS ids FROM cdp.account) a;
CREATE TEMP TABLE rollup_ids AS
SELECT (SELECT array_agg(account_id ORDER BY account_id) FROM cdp.account) AS acc,
       (SELECT array_agg(contact_id ORDER BY contact_id) FROM cdp.contact) AS con,
       (SELECT array_agg(lead_id ORDER BY lead_id) FROM cdp.lead) AS lea;
-- one of the first n identifiers of an array, at random
CREATE FUNCTION pg_temp.pick(ids bigint[], n int) RETURNS bigint LANGUAGE sql VOLATILE
RETURN ids[1 + (random() * (least(n, cardinality(ids)) - 1))::int];
CREATE FUNCTION pg_temp.add_touches(k int) RETURNS void LANGUAGE sql AS $$
INSERT INTO cdp.touchpoint (account_id, contact_id, lead_id, channel, direction, kind, outcome, cost, occurred_at)
SELECT CASE WHEN r < 0.5 THEN pg_temp.pick(i.acc, 32) END,
       CASE WHEN r >= 0.3 THEN pg_temp.pick(i.con, 54) END,
       CASE WHEN r >= 0.8 OR r < 0.05 THEN pg_temp.pick(i.lea, 12) END,
       (ARRAY['phone', 'email', 'wechat', 'web', 'visit', 'event', 'sms'])[1 + (random() * 6)::int],
       CASE WHEN random() < 0.5 THEN 'inbound' ELSE 'outbound' END, 'rollup',
       (ARRAY['connected', 'no_answer', 'replied', NULL])[1 + (random() * 3)::int],
       CASE WHEN random() < 0.4 THEN round((random() * 50)::numeric, 2) END,
       CASE WHEN random() < 0.2 THEN now() - random() * interval '120 days'
            ELSE '2024-01-01'::timestamptz + random() * interval '400 days' END
  FROM (SELECT random() AS r FROM generate_series(1, k)) x, rollup_ids i;
$$;
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT pg_temp.pick(i.con, 60), (ARRAY['email', 'phone', 'wechat'])[1 + (random() * 2)::int], random() < 0.6,
       '2024-01-01'::timestamptz + random() * interval '300 days'
  FROM generate_series(1, 80), rollup_ids i;
SELECT pg_temp.add_touches(400);
SELECT * FROM pg_temp.rollup_diff();

-- a mix of writes, in statements of several rows and of one
CREATE FUNCTION pg_temp.mix() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    i rollup_ids;
BEGIN
    SELECT * INTO i FROM rollup_ids;
    PERFORM pg_temp.add_touches(100);
    INSERT INTO cdp.touchpoint (contact_id, channel, direction, kind, occurred_at)
    VALUES (pg_temp.pick(i.con, 54), 'email', 'outbound', 'rollup', '2024-06-30 23:59:59+00');
    -- interactions change account, contact, channel, time, cost, direction
    UPDATE cdp.touchpoint
       SET account_id = CASE WHEN account_id IS NULL AND contact_id IS NOT NULL THEN pg_temp.pick(i.acc, 32)
                             WHEN contact_id IS NOT NULL THEN NULL ELSE account_id END
     WHERE touchpoint_id IN (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 30);
    UPDATE cdp.touchpoint SET channel = 'phone', occurred_at = occurred_at - interval '20 days', cost = coalesce(cost, 0) + 1
     WHERE touchpoint_id IN (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 30);
    UPDATE cdp.touchpoint SET direction = CASE direction WHEN 'inbound' THEN 'outbound' ELSE 'inbound' END, outcome = 'opened'
     WHERE touchpoint_id IN (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 30);
    -- a change the rollups do not count
    UPDATE cdp.touchpoint SET points = 1
     WHERE touchpoint_id IN (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 30);
    DELETE FROM cdp.touchpoint
     WHERE touchpoint_id IN (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 40);
    DELETE FROM cdp.touchpoint
     WHERE touchpoint_id = (SELECT touchpoint_id FROM cdp.touchpoint WHERE kind = 'rollup' ORDER BY random() LIMIT 1);
    -- accounts change segment, contacts and leads change account
    UPDATE cdp.account SET segment = (ARRAY['big_b', 'small_b', 'big_c', 'small_c', NULL])[1 + (random() * 4)::int]
     WHERE account_id IN (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 5);
    UPDATE cdp.account SET employees = CASE WHEN employees IS NULL THEN 400 END, annual_revenue = NULL, segment = NULL
     WHERE account_id IN (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 5);
    UPDATE cdp.contact SET account_id = CASE WHEN random() < 0.2 THEN NULL ELSE pg_temp.pick(i.acc, 32) END
     WHERE contact_id IN (SELECT c FROM unnest(i.con[1:54]) c ORDER BY random() LIMIT 6);
    UPDATE cdp.lead SET account_id = CASE WHEN random() < 0.3 THEN NULL ELSE pg_temp.pick(i.acc, 32) END
     WHERE lead_id IN (SELECT l FROM unnest(i.lea) l ORDER BY random() LIMIT 3);
    -- accounts are renamed (to another's name, or a spelling of it),
    -- change domain, tier and sheet fields; namesakes arrive and leave
    UPDATE cdp.account SET name = (SELECT b.name FROM cdp.account b ORDER BY random() LIMIT 1) || (ARRAY['', ' ', '（广州）'])[1 + (random() * 2)::int]
     WHERE account_id IN (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 2);
    UPDATE cdp.account SET domain = (ARRAY['rollup-a.com', 'https://www.rollup-a.com/x', 'qq.com', NULL, 'rollup-b.cn'])[1 + (random() * 4)::int],
                           tier = (ARRAY['key', 'standard', 'long_tail'])[1 + (random() * 2)::int],
                           industry = CASE WHEN random() < 0.5 THEN (ARRAY['机械', ' ', NULL])[1 + (random() * 2)::int] END,
                           city = CASE WHEN random() < 0.7 THEN '广州' END,
                           owner = CASE WHEN random() < 0.5 THEN 'someone' END
     WHERE account_id IN (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 4);
    INSERT INTO cdp.account (name, domain, employees)
    SELECT (SELECT b.name FROM cdp.account b ORDER BY random() LIMIT 1), (ARRAY['rollup-a.com', NULL])[1 + (random())::int], 10
      FROM generate_series(1, 2);
    DELETE FROM cdp.account
     WHERE account_id IN (SELECT a.account_id FROM cdp.account a
                           WHERE a.account_id <> ALL (i.acc)
                             AND NOT EXISTS (SELECT FROM cdp.contact c WHERE c.account_id = a.account_id)
                             AND NOT EXISTS (SELECT FROM cdp.lead l WHERE l.account_id = a.account_id)
                             AND NOT EXISTS (SELECT FROM cdp.touchpoint t WHERE t.account_id = a.account_id)
                             AND NOT EXISTS (SELECT FROM cdp.account_profile p WHERE p.account_id = a.account_id)
                           ORDER BY random() LIMIT 1);
    -- contacts arrive (some without an account) and leave
    INSERT INTO cdp.contact (account_id, name, decision_role, verified, created_at)
    SELECT CASE WHEN random() < 0.8 THEN pg_temp.pick(i.acc, 32) END, 'rollup new contact',
           (ARRAY['user', NULL, 'finance'])[1 + (random() * 2)::int], random() < 0.5,
           '2024-01-01'::timestamptz + random() * interval '500 days'
      FROM generate_series(1, 4);
    DELETE FROM cdp.contact
     WHERE contact_id = (SELECT c.contact_id FROM cdp.contact c
                          WHERE c.name = 'rollup new contact'
                            AND NOT EXISTS (SELECT FROM cdp.touchpoint t WHERE t.contact_id = c.contact_id)
                            AND NOT EXISTS (SELECT FROM cdp.consent k WHERE k.contact_id = c.contact_id)
                          ORDER BY random() LIMIT 1);
    UPDATE cdp.contact SET created_at = created_at - interval '40 days'
     WHERE contact_id IN (SELECT c FROM unnest(i.con[1:54]) c ORDER BY random() LIMIT 3);
    -- contacts change role and verification; CDP sheets are written,
    -- blanked and removed (the sheet summary)
    UPDATE cdp.contact SET decision_role = (ARRAY['decision_maker', 'approver', 'finance', 'it', 'champion', NULL])[1 + (random() * 5)::int],
                           verified = random() < 0.5
     WHERE contact_id IN (SELECT c FROM unnest(i.con[1:54]) c ORDER BY random() LIMIT 8);
    UPDATE cdp.contact SET title = 'no summary change'
     WHERE contact_id IN (SELECT c FROM unnest(i.con[1:54]) c ORDER BY random() LIMIT 8);
    INSERT INTO cdp.account_profile (account_id, scale, pain_points, service_fit, profit_level, equipment_budget)
    SELECT a, CASE WHEN random() < 0.6 THEN 'sites' END, CASE WHEN random() < 0.3 THEN '   ' ELSE 'delivery' END,
           CASE WHEN random() < 0.5 THEN 'fit' END, CASE WHEN random() < 0.5 THEN 'high' END,
           CASE WHEN random() < 0.5 THEN 1000 END
      FROM (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 6) x
        ON CONFLICT (account_id) DO UPDATE SET scale = excluded.scale, pain_points = excluded.pain_points,
           service_fit = excluded.service_fit, profit_level = excluded.profit_level, equipment_budget = excluded.equipment_budget;
    DELETE FROM cdp.account_profile
     WHERE account_id IN (SELECT a FROM unnest(i.acc[1:32]) a ORDER BY random() LIMIT 1);
    -- consent decisions, several per contact and channel in one statement
    INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
    SELECT pg_temp.pick(i.con, 54), (ARRAY['email', 'phone', 'wechat'])[1 + (random() * 2)::int], random() < 0.5,
           '2025-01-01'::timestamptz + random() * interval '1 day'
      FROM generate_series(1, 15);
END
$$;
SELECT setseed(0.7) \g /dev/null
SELECT pg_temp.mix();
SELECT * FROM pg_temp.rollup_diff();
-- the delta rows folded into the rollup change nothing
SELECT cdp.bi_compact_rollups() > 0 AS folded;
SELECT count(*) AS delta_rows_left FROM cdp.bi_touch_delta;
SELECT * FROM pg_temp.rollup_diff();
-- merges move interactions, contacts and leads to the survivor; erasure
-- unlinks or deletes a person's interactions and withdraws consent
SELECT cdp.merge_accounts(acc[33], acc[34]) > 0 AS merged, cdp.merge_accounts(acc[35], acc[36]) > 0 AS merged_again
  FROM rollup_ids;
SELECT count(*) AS erased FROM rollup_ids, unnest(con[55:58]) c, cdp.forget_contact(c) e;
SELECT * FROM pg_temp.rollup_diff();
SELECT setseed(0.8) \g /dev/null
SELECT pg_temp.mix();
SELECT pg_temp.mix();
SELECT * FROM pg_temp.rollup_diff();
-- the refresh of the snapshots folds the delta rows
SELECT count(*) > 0 AS delta_rows FROM cdp.bi_touch_delta;
SELECT cdp.refresh_bi_snapshots() IS NOT NULL AS refreshed;
SELECT count(*) AS delta_rows_left FROM cdp.bi_touch_delta;
SELECT * FROM pg_temp.rollup_diff();
-- consent is append-only (governance), but its owner may lift that: a
-- decision changed or deleted is recounted too; TRUNCATE rebuilds
BEGIN;
ALTER TABLE cdp.consent DISABLE TRIGGER consent_append_only;
UPDATE cdp.consent SET granted = NOT granted, recorded_at = '2025-06-01'
 WHERE consent_id IN (SELECT consent_id FROM cdp.consent ORDER BY consent_id LIMIT 5);
SELECT * FROM pg_temp.rollup_diff() WHERE figures = 'metrics_reach';
DELETE FROM cdp.consent WHERE consent_id IN (SELECT consent_id FROM cdp.consent ORDER BY consent_id DESC LIMIT 5);
SELECT * FROM pg_temp.rollup_diff() WHERE figures = 'metrics_reach';
ALTER TABLE cdp.consent DISABLE TRIGGER consent_no_truncate;
TRUNCATE cdp.consent;
SELECT * FROM pg_temp.rollup_diff() WHERE figures = 'metrics_reach';
ROLLBACK;
-- a rebuild finds what the triggers kept
CREATE TEMP TABLE kept AS SELECT * FROM cdp.metrics_reach;
SELECT cdp.rebuild_bi_rollups() > 0 AS rebuilt;
SELECT count(*) AS differing FROM ((TABLE kept EXCEPT ALL TABLE cdp.metrics_reach) UNION ALL (TABLE cdp.metrics_reach EXCEPT ALL TABLE kept)) d;

-- the comparison sees a wrong rollup
BEGIN;
INSERT INTO cdp.bi_touch_delta (month, segment, channel, reached_contacts)
SELECT month, segment, channel, 1 FROM cdp.metrics_reach LIMIT 1;
SELECT * FROM pg_temp.rollup_diff() WHERE figures = 'metrics_reach';
ROLLBACK;
-- TRUNCATE empties them
BEGIN;
TRUNCATE cdp.touchpoint;
SELECT (SELECT count(*) FROM cdp.bi_touch_rollup) AS rollup_rows, (SELECT count(*) FROM cdp.bi_reach_account) AS presence_rows,
       (SELECT count(*) FROM cdp.bi_account_last_touch) AS last_touch_rows;
SELECT * FROM pg_temp.rollup_diff();
ROLLBACK;
-- the sheet summary: a wrong row is seen; TRUNCATE of the profiles or of
-- the contacts (with what refers to them) clears its part
BEGIN;
UPDATE cdp.bi_account_sheet SET chain_roles = chain_roles + 1
 WHERE account_id = (SELECT min(account_id) FROM cdp.bi_account_sheet WHERE contacts > 0);
SELECT * FROM pg_temp.rollup_diff() WHERE figures = 'sheet_summary';
ROLLBACK;
BEGIN;
TRUNCATE cdp.account_profile;
SELECT count(*) FILTER (WHERE profile_mask <> 0) AS masks_left FROM cdp.bi_account_sheet;
SELECT * FROM pg_temp.rollup_diff() WHERE figures LIKE 'sheet%' OR figures = 'metrics_recognize';
ALTER TABLE cdp.consent DISABLE TRIGGER consent_no_truncate;
TRUNCATE cdp.contact CASCADE;
SELECT count(*) FILTER (WHERE contacts <> 0 OR chain_roles <> 0) AS contact_counts_left FROM cdp.bi_account_sheet;
SELECT * FROM pg_temp.rollup_diff() WHERE figures LIKE 'sheet%' OR figures = 'metrics_recognize';
ROLLBACK;
-- another session time zone: the views compute from the tables (exact,
-- months in that zone) until the rollups are rebuilt in it
SET timezone = 'Asia/Shanghai';
SELECT cdp.bi_rollups_usable(), count(*) AS figure_rows FROM cdp.bi_touch_figures;
SELECT * FROM pg_temp.rollup_diff();
SELECT cdp.rebuild_bi_rollups('Asia/Shanghai') > 0 AS rebuilt;
SELECT cdp.bi_rollups_usable();
SELECT pg_temp.add_touches(20);
SELECT * FROM pg_temp.rollup_diff();
SET timezone = 'UTC';
SELECT cdp.rebuild_bi_rollups('UTC') > 0 AS rebuilt;
SELECT cdp.bi_rollups_usable();
-- invalid: a time zone PostgreSQL does not know (22023)
\set VERBOSITY sqlstate
SELECT cdp.rebuild_bi_rollups('Mars/Olympus_Mons');
\set VERBOSITY default

-- readers: analysts and administrators see every row, so they read the
-- rollups; a rep sees their own rows (row-level security), so the views
-- compute from the tables what the rep may see, and the doors to the
-- rollups show the rep nothing
CREATE ROLE rollup_rep NOLOGIN IN ROLE cdp_sales;
GRANT USAGE ON SCHEMA rollup_ref TO cdp_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA rollup_ref TO cdp_analyst;
UPDATE cdp.account SET owner = 'rollup_rep' WHERE account_id IN (SELECT acc[1] FROM rollup_ids);
UPDATE cdp.touchpoint SET owner = 'rollup_rep' WHERE account_id IN (SELECT acc[1] FROM rollup_ids);
UPDATE cdp.contact SET owner = 'rollup_rep'
 WHERE contact_id IN (SELECT contact_id FROM cdp.contact WHERE account_id IN (SELECT acc[1] FROM rollup_ids) LIMIT 1);
SET ROLE cdp_analyst;
SELECT cdp.bi_rollups_usable() AS analyst_reads_rollups, count(*) > 0 AS analyst_sees_figures FROM cdp.bi_touch_figures;
SELECT * FROM pg_temp.rollup_diff();
SET ROLE rollup_rep;
SELECT cdp.bi_rollups_usable() AS rep_reads_rollups,
       (SELECT count(*) FROM cdp.bi_touch_figures) AS rep_figure_rows,
       (SELECT count(*) FROM cdp.bi_last_touch) AS rep_last_touch_rows;
SELECT sum(touches) = (SELECT count(*) FROM cdp.touchpoint) AS rep_counts_own_touches,
       (SELECT count(*) FROM cdp.touchpoint) > 0 AS rep_has_touches
  FROM cdp.metrics_reach;
SELECT count(*) FILTER (WHERE last_touch_at IS NOT NULL) = 1 AS rep_sees_own_last_touch FROM cdp.sheet_development_strategy;
-- the sheets count the contacts the rep sees, at the accounts the rep sees
SELECT (SELECT count(*) FROM cdp.bi_account_sheet_figures) AS rep_sheet_summary_rows,
       sum(contacts) = (SELECT count(*) FROM cdp.contact c JOIN cdp.account a USING (account_id)) AS rep_counts_own_contacts,
       (SELECT count(*) FROM cdp.contact) > 0 AS rep_has_contacts
  FROM cdp.sheet_account_profile;
-- invalid: the rollup tables themselves are not for reps (42501)
\set VERBOSITY sqlstate
SELECT count(*) FROM cdp.bi_reach_account;
SELECT count(*) FROM cdp.bi_touch_delta;
-- invalid: compaction and rebuild are for administrators (42501)
SELECT cdp.bi_compact_rollups();
SELECT cdp.rebuild_bi_rollups();
\set VERBOSITY default
RESET ROLE;
SELECT c.relname, c.relacl FROM pg_class c
 WHERE c.relnamespace = 'cdp'::regnamespace AND c.relname LIKE 'bi\_%' ORDER BY 1;

-- the views read the rollups behind a one-time filter: neither a scan of
-- the interactions nor a subquery per row
EXPLAIN (COSTS OFF) SELECT * FROM cdp.metrics_reach;

SET client_min_messages = warning;
DROP SCHEMA rollup_ref CASCADE;
DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
RESET client_min_messages;
DROP ROLE rollup_rep;
