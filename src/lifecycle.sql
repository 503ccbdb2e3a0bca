\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- lifecycle.sql: stage models, stage history and the functions that put a
-- table under lifecycle control.
--
-- A model is data: rows in lifecycle_model, lifecycle_stage and (optionally)
-- lifecycle_transition.  The C trigger cdp.lifecycle_trigger() validates
-- every stage change of a tracked table against its model and records one
-- cdp.stage_history row per stay.  The trigger caches models per backend;
-- statement triggers on the model tables invalidate that cache everywhere.

CREATE TABLE @extschema@.lifecycle_model (
    model text PRIMARY KEY CHECK (model ~ '^[a-z][a-z0-9_]{0,62}$'),
    description text,
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.lifecycle_model IS 'Lifecycle models (生命周期模型): one row per model; stages and transitions are in lifecycle_stage and lifecycle_transition';
COMMENT ON COLUMN @extschema@.lifecycle_model.model IS 'Model name (lower case identifier), e.g. b2b';
COMMENT ON COLUMN @extschema@.lifecycle_model.description IS 'What the model is for';
COMMENT ON COLUMN @extschema@.lifecycle_model.builtin IS 'true for the models shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.lifecycle_stage (
    model text NOT NULL REFERENCES @extschema@.lifecycle_model ON UPDATE CASCADE ON DELETE CASCADE,
    stage text NOT NULL CHECK (stage <> ''),
    position integer NOT NULL,
    pool text CHECK (pool IN ('marketing', 'sales', 'success')),
    is_exit boolean NOT NULL DEFAULT false,
    label_en text NOT NULL,
    label_zh text,
    required_columns name[] NOT NULL DEFAULT '{}',
    guard regprocedure,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (model, stage),
    UNIQUE (model, position)
);
COMMENT ON TABLE @extschema@.lifecycle_stage IS 'Stages of each lifecycle model (阶段), ordered by position; exit stages (is_exit) are side exits such as disqualified or churned';
COMMENT ON COLUMN @extschema@.lifecycle_stage.model IS 'Model the stage belongs to';
COMMENT ON COLUMN @extschema@.lifecycle_stage.stage IS 'Stage name as stored in tracked tables, e.g. mql';
COMMENT ON COLUMN @extschema@.lifecycle_stage.position IS 'Order of the stage in the model; a move to a lower position is a backward move';
COMMENT ON COLUMN @extschema@.lifecycle_stage.pool IS 'Pool the stage belongs to: marketing, sales or success (市场池/销售池/客户成功池); NULL for exits';
COMMENT ON COLUMN @extschema@.lifecycle_stage.is_exit IS 'true for side exits (disqualified, churned): reachable from any open stage, leaving one needs a reason';
COMMENT ON COLUMN @extschema@.lifecycle_stage.label_en IS 'English label';
COMMENT ON COLUMN @extschema@.lifecycle_stage.label_zh IS 'Chinese label';
COMMENT ON COLUMN @extschema@.lifecycle_stage.required_columns IS 'Columns of the tracked row that must be non-NULL and non-empty to enter the stage (refused with SQLSTATE 23502 otherwise)';
COMMENT ON COLUMN @extschema@.lifecycle_stage.guard IS 'Optional function f(entity regclass, entity_key text, to_stage text) RETURNS boolean; false or NULL refuses entry with SQLSTATE 23514';
COMMENT ON COLUMN @extschema@.lifecycle_stage.builtin IS 'true for the stages shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.lifecycle_transition (
    model text NOT NULL,
    from_stage text NOT NULL,
    to_stage text NOT NULL,
    requires_reason boolean NOT NULL DEFAULT false,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (model, from_stage, to_stage),
    FOREIGN KEY (model, from_stage) REFERENCES @extschema@.lifecycle_stage (model, stage)
        ON UPDATE CASCADE ON DELETE CASCADE,
    FOREIGN KEY (model, to_stage) REFERENCES @extschema@.lifecycle_stage (model, stage)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CHECK (from_stage <> to_stage)
);
COMMENT ON TABLE @extschema@.lifecycle_transition IS 'Explicit transitions (阶段流转): a model with at least one row here allows only the listed moves; a model with none uses the default policy';
COMMENT ON COLUMN @extschema@.lifecycle_transition.model IS 'Model the transition belongs to';
COMMENT ON COLUMN @extschema@.lifecycle_transition.from_stage IS 'Stage the move starts from';
COMMENT ON COLUMN @extschema@.lifecycle_transition.to_stage IS 'Stage the move goes to';
COMMENT ON COLUMN @extschema@.lifecycle_transition.requires_reason IS 'true when the move is allowed only with a reason (cdp.set_stage reason or cdp.stage_reason)';
COMMENT ON COLUMN @extschema@.lifecycle_transition.builtin IS 'true for the transitions shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.tracked_table (
    tbl regclass PRIMARY KEY,
    stage_column name NOT NULL,
    key_column name NOT NULL,
    model text NOT NULL REFERENCES @extschema@.lifecycle_model ON UPDATE CASCADE,
    tracked_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.tracked_table IS 'Tables under lifecycle control (see cdp.track_lifecycle), with their stage column, key column and model';
COMMENT ON COLUMN @extschema@.tracked_table.tbl IS 'Tracked table';
COMMENT ON COLUMN @extschema@.tracked_table.stage_column IS 'Column holding the stage';
COMMENT ON COLUMN @extschema@.tracked_table.key_column IS 'Single-column primary key identifying the entity';
COMMENT ON COLUMN @extschema@.tracked_table.model IS 'Lifecycle model the stage follows';
COMMENT ON COLUMN @extschema@.tracked_table.tracked_at IS 'When tracking started';
COMMENT ON COLUMN @extschema@.tracked_table.builtin IS 'true for the cdp tables tracked out of the box';

CREATE TABLE @extschema@.stage_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity regclass NOT NULL,
    entity_key text NOT NULL,
    model text NOT NULL,
    stage text NOT NULL,
    previous_stage text,
    entered_at timestamptz NOT NULL,
    exited_at timestamptz,
    reason text,
    changed_by name NOT NULL DEFAULT CURRENT_USER,
    CHECK (exited_at >= entered_at)
);
COMMENT ON TABLE @extschema@.stage_history IS 'Stage history (阶段历史): one row per stay of an entity in a stage; the open stay has exited_at NULL. Written by the lifecycle trigger only';
COMMENT ON COLUMN @extschema@.stage_history.history_id IS 'History row identifier';
COMMENT ON COLUMN @extschema@.stage_history.entity IS 'Tracked table the entity lives in';
COMMENT ON COLUMN @extschema@.stage_history.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.stage_history.model IS 'Lifecycle model in force when the stay began';
COMMENT ON COLUMN @extschema@.stage_history.stage IS 'Stage of this stay';
COMMENT ON COLUMN @extschema@.stage_history.previous_stage IS 'Stage the entity came from (NULL for its first stay)';
COMMENT ON COLUMN @extschema@.stage_history.entered_at IS 'When the stay began';
COMMENT ON COLUMN @extschema@.stage_history.exited_at IS 'When the stay ended (NULL while the entity is still in the stage)';
COMMENT ON COLUMN @extschema@.stage_history.reason IS 'Reason given for the move (cdp.set_stage reason or cdp.stage_reason)';
COMMENT ON COLUMN @extschema@.stage_history.changed_by IS 'Role that made the move';

-- One index serves the trigger and history queries: the open stay of an
-- entity is its latest stay (greatest entered_at, then history_id), one step
-- down the index.  Closing a stay changes only exited_at, which no index
-- covers, so with the free space left by the fill factor the update is a HOT
-- update that writes no index entries.  At most one stay per entity is open
-- because the row lock of the tracked row's UPDATE serialises the trigger
-- runs for one entity (test/suites/lifecycle_concurrency.sh checks it).
ALTER TABLE @extschema@.stage_history SET (fillfactor = 85);
CREATE INDEX stage_history_entity_idx
    ON @extschema@.stage_history (entity, entity_key, entered_at, history_id);
-- The BI views count entries into given stages (metrics_return: mql, sql,
-- opportunity, customer; metrics_relationship: advocate) by month: an
-- index-only scan of the stays of those stages instead of a scan of the
-- whole history (at 1M accounts, 3.4M rows for 111,000 advocate entries;
-- metrics_return's 1.44M entries of a b2b model in 0.38 s per process
-- instead of 0.63 s).
-- Closing a stay still changes no indexed column.
CREATE INDEX stage_history_stage_idx
    ON @extschema@.stage_history (entity, stage, entered_at) INCLUDE (entity_key, model);

-- The trigger ----------------------------------------------------------------

CREATE FUNCTION @extschema@.lifecycle_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'cdp_lifecycle_trigger'
    LANGUAGE C;
COMMENT ON FUNCTION @extschema@.lifecycle_trigger() IS 'Row trigger installed by cdp.track_lifecycle: validates stage changes against the model and records them in cdp.stage_history';

-- VOLATILE: it sends a cache invalidation
CREATE FUNCTION @extschema@.lifecycle_model_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'cdp_lifecycle_model_changed'
    LANGUAGE C;
COMMENT ON FUNCTION @extschema@.lifecycle_model_changed() IS 'Statement trigger on the model tables: tells every backend to reload its cached lifecycle models';

CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_model
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_stage
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_transition
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.tracked_table
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();

-- Built-in models --------------------------------------------------------------

INSERT INTO @extschema@.lifecycle_model (model, description, builtin) VALUES
    ('b2b', 'B2B customer lifecycle: prospect to advocate, with disqualified and churned as side exits', true),
    ('zhuge', 'Zhuge-style user lifecycle (诸葛io): visitor to loyal customer, for small-C and product-led businesses', true),
    ('hubspot', 'HubSpot lifecycle stages: subscriber to evangelist, other as side exit', true),
    ('opportunity', 'Opportunity (商机) pipeline: discovery to won, with lost as side exit', true);

INSERT INTO @extschema@.lifecycle_stage
    (model, stage, position, pool, is_exit, label_en, label_zh, required_columns, builtin) VALUES
    ('b2b', 'prospect',     10, 'marketing', false, 'Prospect', '潜在客户', '{}', true),
    ('b2b', 'lead',         20, 'marketing', false, 'Lead', '线索', '{}', true),
    ('b2b', 'mql',          30, 'marketing', false, 'Marketing qualified lead', '市场认可线索', '{}', true),
    ('b2b', 'sql',          40, 'sales',     false, 'Sales qualified lead', '销售认可线索', '{owner}', true),
    ('b2b', 'opportunity',  50, 'sales',     false, 'Opportunity', '商机', '{owner}', true),
    ('b2b', 'customer',     60, 'success',   false, 'Customer', '客户', '{owner}', true),
    ('b2b', 'advocate',     70, 'success',   false, 'Advocate / referrer', '推荐者', '{}', true),
    ('b2b', 'disqualified', 90, NULL,        true,  'Disqualified', '不合格', '{}', true),
    ('b2b', 'churned',      91, NULL,        true,  'Churned', '流失', '{}', true),

    ('zhuge', 'visitor',    10, 'marketing', false, 'Visitor', '访客', '{}', true),
    ('zhuge', 'potential',  20, 'marketing', false, 'Potential user', '潜在用户', '{}', true),
    ('zhuge', 'activated',  30, 'sales',     false, 'Activated user', '激活用户', '{}', true),
    ('zhuge', 'customer',   40, 'success',   false, 'Paying customer', '付费客户', '{}', true),
    ('zhuge', 'active',     50, 'success',   false, 'Active customer', '活跃客户', '{}', true),
    ('zhuge', 'loyal',      60, 'success',   false, 'Loyal customer', '忠诚客户', '{}', true),

    ('hubspot', 'subscriber',  10, 'marketing', false, 'Subscriber', '订阅者', '{}', true),
    ('hubspot', 'lead',        20, 'marketing', false, 'Lead', '线索', '{}', true),
    ('hubspot', 'mql',         30, 'marketing', false, 'Marketing qualified lead', '市场认可线索', '{}', true),
    ('hubspot', 'sql',         40, 'sales',     false, 'Sales qualified lead', '销售认可线索', '{owner}', true),
    ('hubspot', 'opportunity', 50, 'sales',     false, 'Opportunity', '商机', '{owner}', true),
    ('hubspot', 'customer',    60, 'success',   false, 'Customer', '客户', '{owner}', true),
    ('hubspot', 'evangelist',  70, 'success',   false, 'Evangelist', '布道者', '{}', true),
    ('hubspot', 'other',       90, NULL,        true,  'Other', '其他', '{}', true),

    ('opportunity', 'discovery',     10, 'sales', false, 'Discovery', '需求发现', '{}', true),
    ('opportunity', 'qualification', 20, 'sales', false, 'Qualification', '商机确认', '{owner}', true),
    ('opportunity', 'proposal',      30, 'sales', false, 'Proposal', '方案报价', '{owner,amount}', true),
    ('opportunity', 'negotiation',   40, 'sales', false, 'Negotiation', '商务谈判', '{owner,amount,expected_close}', true),
    ('opportunity', 'won',           50, 'success', false, 'Won', '赢单', '{owner,amount}', true),
    ('opportunity', 'lost',          90, NULL,    true,  'Lost', '输单', '{lost_reason}', true);

-- Functions --------------------------------------------------------------------

-- VOLATILE: creates triggers and writes history.
CREATE FUNCTION @extschema@.track_lifecycle(tbl regclass, stage_column name DEFAULT 'stage', model text DEFAULT 'b2b')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.lifecycle_model;
    t @extschema@.tracked_table;
    keycol name;
    keycount integer;
    stage_type oid;
    missing text;
    unknown text;
    now_ts timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF tbl IS NULL OR stage_column IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'track_lifecycle arguments must not be NULL'
            USING ERRCODE = '22004';
    END IF;

    SELECT * INTO m FROM @extschema@.lifecycle_model lm WHERE lm.model OPERATOR(pg_catalog.=) track_lifecycle.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown lifecycle model "%"', model
            USING ERRCODE = '22023',
                  HINT = 'Known models: ' || (SELECT pg_catalog.string_agg(lm.model, ', ' ORDER BY lm.model)
                                               FROM @extschema@.lifecycle_model lm) || '.';
    END IF;

    IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', tbl
            USING ERRCODE = '42809';
    END IF;

    SELECT pg_catalog.count(*), pg_catalog.min(a.attname) INTO keycount, keycol
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey)
     WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary;
    IF keycount OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'table "%" must have a single-column primary key to be tracked', tbl
            USING ERRCODE = '42P16',
                  DETAIL = CASE WHEN keycount OPERATOR(pg_catalog.=) 0 THEN 'The table has no primary key.'
                                ELSE pg_catalog.format('The primary key has %s columns.', keycount) END,
                  HINT = 'Add a single-column primary key; stage history identifies an entity by it.';
    END IF;

    SELECT a.atttypid INTO stage_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) stage_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table "%" does not exist', stage_column, tbl
            USING ERRCODE = '42703';
    END IF;
    IF stage_column OPERATOR(pg_catalog.=) keycol THEN
        RAISE EXCEPTION 'the stage column of "%" cannot be its primary key', tbl
            USING ERRCODE = '22023';
    END IF;

    -- A model is shared by tables with different columns: a requirement on a
    -- column the table does not have does not apply to it.  Say so.
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I (stage %s)', r.col, s.stage), ', ')
      INTO missing
      FROM @extschema@.lifecycle_stage s
     CROSS JOIN LATERAL pg_catalog.unnest(s.required_columns) AS r(col)
     WHERE s.model OPERATOR(pg_catalog.=) m.model
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) r.col
                          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE WARNING 'table "%" lacks columns that stages of model "%" require; those requirements do not apply to it', tbl, m.model
            USING DETAIL = 'Missing: ' || missing || '.',
                  HINT = 'Add the columns to have the requirements checked.';
    END IF;

    -- no stage changes while we look at the rows
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', tbl);

    SELECT * INTO t FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) track_lifecycle.tbl;
    IF FOUND THEN
        IF t.model OPERATOR(pg_catalog.=) m.model AND t.stage_column OPERATOR(pg_catalog.=) stage_column THEN
            RETURN;     -- already tracked the same way
        END IF;
        RAISE EXCEPTION 'table "%" is already tracked with model "%" on column "%"', tbl, t.model, t.stage_column
            USING ERRCODE = '42710',
                  HINT = 'Call cdp.untrack_lifecycle first to change its model or stage column.';
    END IF;

    -- existing rows must be in stages the model knows
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.string_agg(DISTINCT s, '', '') FROM (SELECT %I::pg_catalog.text AS s FROM %s) x
          WHERE s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.lifecycle_stage ls
                 WHERE ls.model OPERATOR(pg_catalog.=) $1 AND ls.stage OPERATOR(pg_catalog.=) x.s)',
        stage_column, tbl) INTO unknown USING m.model;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'table "%" has rows in stages that model "%" does not know', tbl, m.model
            USING ERRCODE = '22023',
                  DETAIL = 'Unknown stages: ' || unknown || '.';
    END IF;

    -- bring the history in line with the rows: close stays that no longer
    -- match (the table may have been tracked before), open the missing ones
    EXECUTE pg_catalog.format(
        'UPDATE @extschema@.stage_history h
            SET exited_at = GREATEST($2, h.entered_at)
          WHERE h.entity OPERATOR(pg_catalog.=) $1 AND h.exited_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM %s r
                             WHERE r.%I::pg_catalog.text OPERATOR(pg_catalog.=) h.entity_key
                               AND r.%I::pg_catalog.text OPERATOR(pg_catalog.=) h.stage)',
        tbl, keycol, stage_column) USING tbl, now_ts;
    EXECUTE pg_catalog.format(
        'INSERT INTO @extschema@.stage_history
                (entity, entity_key, model, stage, previous_stage, entered_at, reason, changed_by)
         SELECT $1, r.%1$I::pg_catalog.text, $2, r.%2$I::pg_catalog.text, last.stage,
                GREATEST($3, last.exited_at), ''track_lifecycle'', CURRENT_USER
           FROM %3$s r
           LEFT JOIN LATERAL (SELECT h.stage, h.exited_at FROM @extschema@.stage_history h
                               WHERE h.entity OPERATOR(pg_catalog.=) $1
                                 AND h.entity_key OPERATOR(pg_catalog.=) r.%1$I::pg_catalog.text
                               ORDER BY h.exited_at DESC, h.history_id DESC LIMIT 1) last ON true
          WHERE r.%2$I IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM @extschema@.stage_history h
                             WHERE h.entity OPERATOR(pg_catalog.=) $1
                               AND h.entity_key OPERATOR(pg_catalog.=) r.%1$I::pg_catalog.text
                               AND h.exited_at IS NULL)',
        keycol, stage_column, tbl) USING tbl, m.model, now_ts;

    INSERT INTO @extschema@.tracked_table (tbl, stage_column, key_column, model)
    VALUES (tbl, stage_column, keycol, m.model);

    EXECUTE pg_catalog.format(
        'CREATE TRIGGER cdp_lifecycle AFTER INSERT OR UPDATE OR DELETE ON %s
           FOR EACH ROW EXECUTE FUNCTION @extschema@.lifecycle_trigger()', tbl);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER cdp_lifecycle_truncate AFTER TRUNCATE ON %s
           FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_trigger()', tbl);
END
$$;
COMMENT ON FUNCTION @extschema@.track_lifecycle(regclass, name, text) IS 'Puts a table with a single-column primary key under lifecycle control: stage changes are validated against the model and recorded in cdp.stage_history; existing rows get an open stay';

-- VOLATILE: drops triggers.
CREATE FUNCTION @extschema@.untrack_lifecycle(tbl regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'untrack_lifecycle argument must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) untrack_lifecycle.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not tracked', tbl
            USING ERRCODE = '55000',
                  HINT = 'Tracked tables are listed in cdp.tracked_table.';
    END IF;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS cdp_lifecycle ON %s', tbl);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS cdp_lifecycle_truncate ON %s', tbl);
END
$$;
COMMENT ON FUNCTION @extschema@.untrack_lifecycle(regclass) IS 'Stops lifecycle control of a table; its stage history is kept (tracking it again brings the history in line with the rows)';

-- VOLATILE: changes a row.
CREATE FUNCTION @extschema@.set_stage(tbl regclass, key text, stage text, reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t @extschema@.tracked_table;
    keytype text;
    stagetype text;
    prev text;
    n bigint;
    outer_reason text;
BEGIN
    IF tbl IS NULL OR key IS NULL THEN
        RAISE EXCEPTION 'set_stage needs a table and a key' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO t FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) set_stage.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not tracked', tbl
            USING ERRCODE = '55000',
                  HINT = 'Call cdp.track_lifecycle first.';
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO keytype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) t.key_column;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO stagetype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) t.stage_column;

    -- The reason travels to the trigger as cdp.stage_reason, for this UPDATE
    -- only: the caller's setting is put back afterwards (an error undoes it
    -- anyway).  Without a reason, the caller's cdp.stage_reason applies.
    outer_reason := pg_catalog.current_setting('cdp.stage_reason', true);
    IF reason IS NOT NULL THEN
        PERFORM pg_catalog.set_config('cdp.stage_reason', reason, true);
    END IF;

    EXECUTE pg_catalog.format('SELECT %I::pg_catalog.text FROM %s WHERE %I OPERATOR(pg_catalog.=) $1::%s FOR NO KEY UPDATE',
                              t.stage_column, tbl, t.key_column, keytype)
       INTO prev USING key;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'no row with key "%" in "%"', key, tbl
            USING ERRCODE = 'P0002';
    END IF;
    EXECUTE pg_catalog.format('UPDATE %s SET %I = $1::%s WHERE %I OPERATOR(pg_catalog.=) $2::%s',
                              tbl, t.stage_column, stagetype, t.key_column, keytype)
       USING stage, key;
    IF reason IS NOT NULL THEN
        PERFORM pg_catalog.set_config('cdp.stage_reason', coalesce(outer_reason, ''), true);
    END IF;
    RETURN prev;
END
$$;
COMMENT ON FUNCTION @extschema@.set_stage(regclass, text, text, text) IS 'Moves one entity of a tracked table to a stage, with an optional reason (needed for backward moves); returns the previous stage';

CREATE VIEW @extschema@.time_in_stage AS
SELECT h.entity,
       h.entity_key,
       h.stage,
       pg_catalog.count(*) AS visits,
       pg_catalog.max(h.entered_at) AS latest_entered_at,
       (pg_catalog.array_agg(coalesce(h.exited_at, pg_catalog.now()) OPERATOR(pg_catalog.-) h.entered_at
                             ORDER BY h.entered_at DESC, h.history_id DESC))[1] AS latest_duration,
       pg_catalog.sum(coalesce(h.exited_at, pg_catalog.now()) OPERATOR(pg_catalog.-) h.entered_at) AS cumulative_duration
  FROM @extschema@.stage_history h
 GROUP BY h.entity, h.entity_key, h.stage;
COMMENT ON VIEW @extschema@.time_in_stage IS 'Time in stage (阶段停留时间) per entity and stage: number of visits, the latest stay and the total; open stays count up to now()';
COMMENT ON COLUMN @extschema@.time_in_stage.entity IS 'Tracked table';
COMMENT ON COLUMN @extschema@.time_in_stage.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.time_in_stage.stage IS 'Stage';
COMMENT ON COLUMN @extschema@.time_in_stage.visits IS 'How many times the entity entered the stage';
COMMENT ON COLUMN @extschema@.time_in_stage.latest_entered_at IS 'When the entity last entered the stage';
COMMENT ON COLUMN @extschema@.time_in_stage.latest_duration IS 'Length of the latest stay (up to now() if still open)';
COMMENT ON COLUMN @extschema@.time_in_stage.cumulative_duration IS 'Total time spent in the stage over all stays';

CREATE VIEW @extschema@.stage_moves AS
SELECT m.entity,
       m.entity_key,
       m.model,
       m.previous_stage AS from_stage,
       m.stage AS to_stage,
       m.entered_at AS moved_at,
       CASE
           WHEN m.previous_stage IS NULL THEN 'entry'
           WHEN f.stage IS NULL OR t.stage IS NULL THEN 'unknown'
           WHEN t.is_exit THEN 'exit'
           WHEN f.is_exit THEN 'reactivation'
           WHEN t.position OPERATOR(pg_catalog.<) f.position THEN 'backward'
           WHEN skipped.n OPERATOR(pg_catalog.>) 0 THEN 'skip'
           ELSE 'forward'
       END AS kind,
       CASE WHEN NOT f.is_exit AND NOT t.is_exit AND t.position OPERATOR(pg_catalog.>) f.position
            THEN skipped.n END AS stages_skipped,
       CASE WHEN m.previous_stage IS NOT NULL
            THEN m.entered_at OPERATOR(pg_catalog.-) m.previous_entered_at END AS time_in_previous_stage,
       m.reason,
       m.changed_by
  FROM (SELECT h.*,
               pg_catalog.lag(h.entered_at) OVER (PARTITION BY h.entity, h.entity_key
                                                  ORDER BY h.entered_at, h.history_id) AS previous_entered_at
          FROM @extschema@.stage_history h) m
  LEFT JOIN @extschema@.lifecycle_stage f
         ON f.model OPERATOR(pg_catalog.=) m.model AND f.stage OPERATOR(pg_catalog.=) m.previous_stage
  LEFT JOIN @extschema@.lifecycle_stage t
         ON t.model OPERATOR(pg_catalog.=) m.model AND t.stage OPERATOR(pg_catalog.=) m.stage
  LEFT JOIN LATERAL (
        SELECT pg_catalog.count(*)::integer AS n
          FROM @extschema@.lifecycle_stage b
         WHERE b.model OPERATOR(pg_catalog.=) m.model AND NOT b.is_exit
           AND NOT f.is_exit AND NOT t.is_exit
           AND b.position OPERATOR(pg_catalog.>) f.position
           AND b.position OPERATOR(pg_catalog.<) t.position) skipped ON true;
COMMENT ON VIEW @extschema@.stage_moves IS 'Every stage change (阶段变更) classified as entry, forward, skip, backward (回退), exit, reactivation, with the time spent in the stage it left: the raw material for velocity and regression metrics';
COMMENT ON COLUMN @extschema@.stage_moves.entity IS 'Tracked table';
COMMENT ON COLUMN @extschema@.stage_moves.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.stage_moves.model IS 'Lifecycle model';
COMMENT ON COLUMN @extschema@.stage_moves.from_stage IS 'Stage left (NULL for an entry)';
COMMENT ON COLUMN @extschema@.stage_moves.to_stage IS 'Stage entered';
COMMENT ON COLUMN @extschema@.stage_moves.moved_at IS 'When the move happened';
COMMENT ON COLUMN @extschema@.stage_moves.kind IS 'entry, forward, skip (forward over open stages), backward, exit, reactivation (out of an exit), or unknown (a stage no longer in the model)';
COMMENT ON COLUMN @extschema@.stage_moves.stages_skipped IS 'Open stages jumped over by a forward move (0 for a plain forward move, NULL when not applicable)';
COMMENT ON COLUMN @extschema@.stage_moves.time_in_previous_stage IS 'How long the entity stayed in the stage it left (NULL for an entry, or after the entity was deleted and inserted again)';
COMMENT ON COLUMN @extschema@.stage_moves.reason IS 'Reason given for the move';
COMMENT ON COLUMN @extschema@.stage_moves.changed_by IS 'Role that made the move';

-- Dropping a tracked table forgets its history: the regclass values would
-- otherwise dangle and make a dump impossible to restore.
-- SECURITY DEFINER: whoever may drop a table may forget its history, even
-- without privileges on cdp.stage_history.
CREATE FUNCTION @extschema@.lifecycle_on_drop() RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj record;
BEGIN
    -- DROP EXTENSION cdp: the history is gone already
    IF pg_catalog.to_regclass('@extschema@.stage_history') IS NULL THEN
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects()
                WHERE object_type IN ('table', 'partitioned table') LOOP
        DELETE FROM @extschema@.stage_history h WHERE h.entity::pg_catalog.oid OPERATOR(pg_catalog.=) obj.objid;
        DELETE FROM @extschema@.tracked_table t WHERE t.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) obj.objid;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.lifecycle_on_drop() IS 'Event trigger: forgets the tracking and stage history of dropped tables';

CREATE EVENT TRIGGER cdp_lifecycle_on_drop ON sql_drop
    EXECUTE FUNCTION @extschema@.lifecycle_on_drop();

-- Out of the box: the reference tables are tracked.
SELECT @extschema@.track_lifecycle('@extschema@.account', 'stage', 'b2b');
SELECT @extschema@.track_lifecycle('@extschema@.lead', 'stage', 'b2b');
SELECT @extschema@.track_lifecycle('@extschema@.opportunity', 'stage', 'opportunity');
UPDATE @extschema@.tracked_table SET builtin = true;

-- The models are configuration, not personal data: anyone may read them, so
-- that the trigger can validate the change of any role allowed to change a
-- tracked table.  The history itself is written by the trigger with the
-- extension's authority (see lifecycle.c) and needs no grant.
GRANT SELECT ON @extschema@.lifecycle_model, @extschema@.lifecycle_stage,
                @extschema@.lifecycle_transition, @extschema@.tracked_table TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_model', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_stage', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_transition', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_table', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history_history_id_seq', '');
