\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.

-- metrics_recognize: duplicates by company domain read from
-- account_email_domain_idx (company piece; the view called email_domain once
-- per shared domain); the domain is now compared as email_domain reads it
-- (scheme, www. and path aside).
--@ src/views.sql: CREATE VIEW @extschema@.metrics_recognize WITH

-- pool_summary: one scan of the open stays, joined to the three tables side
-- by side (0.1 read a materialized CTE three times).  Same columns.
--@ src/views.sql: CREATE VIEW @extschema@.pool_summary WITH
