-- Set-up for test/suites/lifecycle_concurrency.sh and the lifecycle benchmark.
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;

-- a table of our own with a text key: 100 entities E1..E100 start as
-- prospects; keys N1..N20 are inserted and deleted during the run
CREATE TABLE ent (id text PRIMARY KEY, stage text NOT NULL, owner name NOT NULL DEFAULT 'rep');
INSERT INTO ent SELECT 'E' || i, 'prospect' FROM generate_series(1, 100) i;
SELECT cdp.track_lifecycle('ent');

-- every attempt, and every move that committed, as seen by the client
CREATE UNLOGGED TABLE attempts (key text, to_stage text, succeeded boolean);
CREATE TABLE moves (move_id bigint GENERATED ALWAYS AS IDENTITY, key text, from_stage text, to_stage text);

CREATE FUNCTION stage_no(i int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate',
                  'disqualified', 'churned'])[i]
$$;

-- move one entity; a refused move is rolled back (subtransaction) and logged
-- as failed.  The moves row commits or rolls back with the move itself.
CREATE FUNCTION try_move(k text, s text, why text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    prev text;
BEGIN
    BEGIN
        prev := cdp.set_stage('ent', k, s, why);
    EXCEPTION WHEN check_violation OR no_data_found THEN
        INSERT INTO attempts VALUES (k, s, false);
        RETURN false;
    END;
    IF prev IS DISTINCT FROM s THEN
        INSERT INTO moves (key, from_stage, to_stage) VALUES (k, prev, s);
    END IF;
    INSERT INTO attempts VALUES (k, s, true);
    RETURN true;
END $$;

-- insert the entity if it is absent, delete it if present
CREATE FUNCTION cycle(k text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    prev text;
BEGIN
    DELETE FROM ent WHERE id = k RETURNING stage INTO prev;
    IF FOUND THEN
        INSERT INTO moves (key, from_stage, to_stage) VALUES (k, prev, NULL);
    ELSE
        INSERT INTO ent VALUES (k, 'lead') ON CONFLICT DO NOTHING;
        IF FOUND THEN
            INSERT INTO moves (key, from_stage, to_stage) VALUES (k, NULL, 'lead');
        END IF;
    END IF;
END $$;
