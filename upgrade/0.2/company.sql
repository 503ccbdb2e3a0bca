\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit
-- company: changes since 0.1

-- merge_accounts no longer carries over the duplicate's stays that began at
-- or after the start of the survivor's open stay: in 0.1 they became
-- zero-length stays after it, and the survivor's next stage change then
-- left two stays open (found by test/suites/soak_mixed.sh).
--@ src/company.sql: CREATE FUNCTION @extschema@.merge_accounts(

-- Repair what 0.1 merges left in the survivors' stage history (only they
-- can leave a stay after an open one; the rows removed are kept in
-- cdp.account_merge_log.history):
-- 1. zero-length stays that sort after an open stay of the same account
--    (the duplicate's stays that began inside the survivor's open stay);
DELETE FROM @extschema@.stage_history h
 USING (SELECT x.history_id,
               bool_or(x.exited_at IS NULL) OVER (PARTITION BY x.entity_key ORDER BY x.entered_at, x.history_id
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS after_open
          FROM @extschema@.stage_history x
         WHERE x.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass) o
 WHERE h.history_id OPERATOR(pg_catalog.=) o.history_id AND o.after_open
   AND h.exited_at OPERATOR(pg_catalog.=) h.entered_at;
-- 2. an open stay that is not its account's latest (the survivor moved on
--    after such a merge, and its earlier stay was never closed) ends where
--    the next stay begins.
UPDATE @extschema@.stage_history h
   SET exited_at = o.next_entered
  FROM (SELECT x.history_id,
               lead(x.entered_at) OVER (PARTITION BY x.entity_key ORDER BY x.entered_at, x.history_id) AS next_entered
          FROM @extschema@.stage_history x
         WHERE x.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass) o
 WHERE h.history_id OPERATOR(pg_catalog.=) o.history_id AND h.exited_at IS NULL
   AND o.next_entered IS NOT NULL;

-- match_accounts also looks at the English name (cdp.account.name_en): a
-- lead that writes the company in English is matched to the account whose
-- registered name is in Chinese.  New index account_name_en_search_idx.
CREATE FUNCTION @extschema@.install_with_trgm(body text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.replace(body, 'TRGM_SCHEMA',
        (SELECT pg_catalog.quote_ident(e.extnamespace::pg_catalog.regnamespace::pg_catalog.text)
           FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_trgm'));
END
$$;

-- The name itself, or NULL when company_key cannot take it: what the English
-- name index and match_accounts key, so that an over-long English name is
-- left out of matching instead of refusing the row.  A one-expression SQL
-- function, inlined by the planner, so the index and the queries that probe
-- it see the same expression.
--@ src/company.sql: CREATE FUNCTION @extschema@.keyable_name(
--@ src/company.sql: COMMENT ON FUNCTION @extschema@.keyable_name(text)
-- as governance grants every cdp function in a fresh install
REVOKE ALL ON FUNCTION @extschema@.keyable_name(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.keyable_name(text) TO cdp_admin, cdp_sales, cdp_analyst;

-- Accounts by company domain (cdp.email_domain), then account_id: probed by
-- match_accounts (0.1 compared lower(domain), so an account stored with
-- https://www.example.com/ never met a lead from example.com), paired on by
-- find_duplicate_accounts (0.1 paired two qq.com accounts) and read
-- index-only by metrics_recognize.
--@ src/company.sql: CREATE INDEX account_email_domain_idx ON

--@ src/company.sql: CREATE INDEX account_name_en_search_idx ON

--@ src/company.sql: CREATE FUNCTION @extschema@.match_accounts(
--@ src/company.sql: COMMENT ON FUNCTION @extschema@.match_accounts(text, text, integer)

-- find_duplicate_accounts (0.1 paired any two accounts with the same
-- lower(domain), free mail included, and never compared a name with Han to
-- one without or to an English name): company domains, English-name and
-- pinyin blocking, scored by dup_score.
--@ src/company.sql: CREATE FUNCTION @extschema@.dup_score(
--@ src/company.sql: COMMENT ON FUNCTION @extschema@.dup_score(text, text, boolean)
REVOKE ALL ON FUNCTION @extschema@.dup_score(text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dup_score(text, text, boolean) TO cdp_admin, cdp_sales, cdp_analyst;

--@ src/company.sql: CREATE FUNCTION @extschema@.find_duplicate_accounts(
--@ src/company.sql: COMMENT ON FUNCTION @extschema@.find_duplicate_accounts(real)

DROP FUNCTION @extschema@.install_with_trgm(text);

-- The lead-matching trigger lets the e-mail domain settle a tie: a lead
-- found by its domain is matched to that account even when another
-- account's name scores as well (0.1 sent it to review).  And it locks its
-- candidates (FOR KEY SHARE) before recording them, searching again when
-- one was merged away meanwhile: in 0.1 a lead written while its candidate
-- was being merged failed with 23503 (found by test/suites/soak_mixed.sh).
--@ src/company.sql: CREATE FUNCTION @extschema@.lead_match_trigger(
-- CREATE OR REPLACE resets it: governance runs the trigger with the
-- extension owner's rights (see src/governance.sql)
ALTER FUNCTION @extschema@.lead_match_trigger() SECURITY DEFINER;
