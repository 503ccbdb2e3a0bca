\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- lifecycle.sql, 0.1 -> 0.2: an index on the stays by stage and entry time,
-- for the BI views that count entries into given stages by month.
--@ src/lifecycle.sql: CREATE INDEX stage_history_stage_idx
