\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2'" to load this file. \quit

-- views.sql, 0.1 -> 0.2: the BI layer.
