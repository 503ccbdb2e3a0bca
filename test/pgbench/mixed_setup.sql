-- Set-up for test/suites/soak_mixed.sh, run after the demo data set is
-- loaded.  Everything the clients log lives in schema soak, outside cdp.
SET client_min_messages = warning;
CREATE SCHEMA soak;

-- accounts numbered 1..n for the clients to pick from, with their spellings
CREATE TABLE soak.acct AS
SELECT row_number() OVER (ORDER BY account_id)::int AS i, account_id, name, short_name, name_en, domain
  FROM cdp.account;
CREATE UNIQUE INDEX ON soak.acct (i);

-- a messy second record of every tenth account, with rows of its own: the
-- pairs the merge client merges (some of them twice, concurrently)
CREATE TABLE soak.dup (i int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, survivor bigint, duplicate bigint);
WITH src AS (
    SELECT a.* FROM cdp.account a WHERE a.account_id % 10 = 3),
ins AS (
    INSERT INTO cdp.account (name, name_en, city, industry, tier, owner)
    SELECT translate(s.name, '广东国华电机贸门业发', '廣東國華電機貿門業發') || ' ', s.name_en, s.city, s.industry, 'long_tail', s.owner
      FROM src s ORDER BY s.account_id
    RETURNING account_id, name)
INSERT INTO soak.dup (survivor, duplicate)
SELECT s.account_id, i.account_id
  FROM (SELECT account_id, row_number() OVER (ORDER BY account_id) AS r FROM src) s
  JOIN (SELECT account_id, row_number() OVER (ORDER BY account_id) AS r FROM ins) i USING (r);
INSERT INTO cdp.contact (account_id, name, email)
SELECT duplicate, 'Dup contact ' || duplicate, 'dup' || duplicate || '@example.org' FROM soak.dup;
INSERT INTO cdp.touchpoint (account_id, channel, direction, kind, occurred_at)
SELECT duplicate, 'web', 'inbound', 'site_visit', now() - interval '3 days' FROM soak.dup, generate_series(1, 3);
CREATE TABLE soak.dup_count AS SELECT count(*) AS n FROM soak.dup;

-- what the clients did that committed (each row commits with its work)
CREATE TABLE soak.lead_log (lead_id bigint PRIMARY KEY, variant int, acct_i int);
CREATE TABLE soak.touch_log (touchpoint_id bigint PRIMARY KEY);
CREATE TABLE soak.move_log (entity text, entity_key text, from_stage text, to_stage text, outcome text);
CREATE TABLE soak.merge_log (survivor bigint, duplicate bigint, outcome text);
CREATE TABLE soak.funnel_log (leads bigint, reached bigint[]);
CREATE TABLE soak.score_log (scored bigint, moved_to_mql bigint, moved_to_sql bigint);

-- the counts before the run
CREATE TABLE soak.before AS
SELECT (SELECT count(*) FROM cdp.lead) AS leads, (SELECT count(*) FROM cdp.touchpoint) AS touchpoints,
       (SELECT count(*) FROM cdp.contact) AS contacts, (SELECT count(*) FROM cdp.opportunity) AS opportunities,
       (SELECT count(*) FROM cdp."order") AS orders, (SELECT count(*) FROM cdp.account) AS accounts,
       (SELECT count(*) FROM soak.acct) AS n_acct;

-- a lead as it arrives from a web form or a trade show: the company written
-- one of several ways, an e-mail at the company's domain or a free-mail one
CREATE FUNCTION soak.new_lead(i int, variant int, client int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    a soak.acct;
    company text;
    id bigint;
BEGIN
    SELECT * INTO a FROM soak.acct WHERE soak.acct.i = new_lead.i;
    company := CASE variant
        WHEN 1 THEN a.name
        WHEN 2 THEN coalesce(a.short_name, a.name)
        WHEN 3 THEN coalesce(a.name_en, a.name)
        WHEN 4 THEN translate(a.name, '广东国华电机贸门业发', '廣東國華電機貿門業發')
        WHEN 5 THEN '  ' || upper(coalesce(a.name_en, a.name)) || ' '
        ELSE 'Soak Unknown Trading ' || client || '-' || i
    END;
    INSERT INTO cdp.lead (company_name, contact_name, email, source, channel, owner)
    VALUES (company, 'Soak ' || client, 'soak' || client || '.' || i || '@' ||
            CASE WHEN variant % 2 = 0 AND a.domain IS NOT NULL THEN a.domain ELSE 'qq.com' END,
            'soak', 'web', CASE WHEN variant % 3 = 0 THEN 'soak_rep' END)
    RETURNING lead_id INTO id;
    INSERT INTO soak.lead_log VALUES (id, variant, i);
    WITH t AS (
        INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, points, occurred_at)
        VALUES (id, 'web', 'inbound', 'form_submit', 15, now())
        RETURNING touchpoint_id)
    INSERT INTO soak.touch_log SELECT touchpoint_id FROM t;
    RETURN id;
END $$;

-- an engagement on a random lead
CREATE FUNCTION soak.touch(pick int, kind int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    l bigint;
BEGIN
    SELECT lead_id INTO l FROM cdp.lead ORDER BY lead_id OFFSET pick % greatest((SELECT count(*) FROM cdp.lead), 1) LIMIT 1;
    WITH t AS (
        INSERT INTO cdp.touchpoint (lead_id, channel, direction, kind, points, occurred_at)
        VALUES (l, (ARRAY['email', 'web', 'phone', 'event'])[kind],
                (ARRAY['outbound', 'inbound', 'outbound', 'inbound'])[kind],
                (ARRAY['email_open', 'site_visit', 'call', 'booth_scan'])[kind],
                (ARRAY[2, 3, 5, 10])[kind], now())
        RETURNING touchpoint_id)
    INSERT INTO soak.touch_log SELECT touchpoint_id FROM t;
END $$;

-- a stage move of a random lead or account; a move the lifecycle refuses
-- (23514, 23502) or of a row that is gone (P0002) is rolled back and logged
CREATE FUNCTION soak.move(tbl regclass, pick int, s int, why boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k text;
    st text := (ARRAY['prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate',
                      'disqualified', 'churned'])[s];
    prev text;
BEGIN
    IF tbl = 'cdp.lead'::regclass THEN
        SELECT lead_id::text INTO k FROM cdp.lead ORDER BY lead_id DESC OFFSET pick % 200 LIMIT 1;
    ELSE
        SELECT account_id::text INTO k FROM soak.acct WHERE i = 1 + pick % (SELECT n_acct FROM soak.before);
    END IF;
    BEGIN
        prev := cdp.set_stage(tbl, k, st, CASE WHEN why THEN 'soak' END);
    EXCEPTION WHEN check_violation OR not_null_violation OR no_data_found THEN
        INSERT INTO soak.move_log VALUES (tbl::text, k, NULL, st, SQLSTATE);
        RETURN SQLSTATE;
    END;
    INSERT INTO soak.move_log VALUES (tbl::text, k, prev, st, 'ok');
    RETURN 'ok';
END $$;

-- merge a duplicate pair; the second merge of a pair finds the duplicate gone
CREATE FUNCTION soak.merge(pick int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d soak.dup;
BEGIN
    SELECT * INTO d FROM soak.dup WHERE i = 1 + pick % (SELECT n FROM soak.dup_count);
    BEGIN
        PERFORM cdp.merge_accounts(d.survivor, d.duplicate);
    EXCEPTION WHEN no_data_found THEN
        INSERT INTO soak.merge_log VALUES (d.survivor, d.duplicate, 'gone');
        RETURN 'gone';
    END;
    INSERT INTO soak.merge_log VALUES (d.survivor, d.duplicate, 'merged');
    RETURN 'merged';
END $$;

-- a funnel over the last 30 days of lead touchpoints; its own invariants
-- are asserted at once (an error aborts the client, which fails the suite)
CREATE FUNCTION soak.funnel() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c bigint[];
    leads bigint;
    started bigint;
BEGIN
    SELECT cdp.funnel_counts(level, 4), count(*), count(*) FILTER (WHERE level >= 1) INTO c, leads, started
      FROM (SELECT t.lead_id, cdp.window_funnel('30 days', t.occurred_at,
                                                t.kind = 'form_submit', t.kind = 'site_visit',
                                                t.kind = 'email_open', t.kind = 'call') AS level
              FROM cdp.touchpoint t
             WHERE t.lead_id IS NOT NULL AND t.occurred_at > now() - interval '30 days'
             GROUP BY t.lead_id) f;
    IF leads > 0 AND (pg_catalog.cardinality(c) <> 4 OR c[1] <> started
                      OR c[2] > c[1] OR c[3] > c[2] OR c[4] > c[3]) THEN
        RAISE EXCEPTION 'funnel counts % are not a funnel of % leads, % of them at step 1', c, leads, started;
    END IF;
    PERFORM count(*) FROM cdp.stage_conversion;
    INSERT INTO soak.funnel_log VALUES (leads, c);
END $$;
