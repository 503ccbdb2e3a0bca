#!/bin/sh
# scoring: what pg_regress cannot show for the qualification module.
#  - fuzzing: thousands of mutated cdp.bant and cdp.nb_model literals and
#    random binary values end in a value or a clean 22P02/22P03, never in a
#    crash or another error;
#  - a model trained over a client connection in binary mode (psql cannot, so
#    COPY BINARY out and in again) and in text mode gives the same bytes;
#  - pg_dump / pg_restore keep lead BANT values, custom scoring models and
#    win models, and do not duplicate the built-in scoring model.
set -eu
db=cdp_scoring_suite
dst=cdp_scoring_suite_dst
dump=$(mktemp)
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/dropdb" --if-exists "$dst" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
-- the SQLSTATE of casting a literal, or ok when the value's text form reads
-- back to itself (else "no round trip")
CREATE FUNCTION fz(s text, typ text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    same boolean;
BEGIN
    EXECUTE format('SELECT %L::%s::text::%2$s::text = %1$L::%2$s::text', s, typ) INTO same;
    RETURN CASE WHEN same THEN 'ok' ELSE 'no round trip' END;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- the SQLSTATE of receiving bytes as a value of a type, or ok: the bytes go
-- into a one-row binary COPY file (server side, in the data directory) that
-- is loaded into a table of that type
CREATE TABLE sink_bant (v cdp.bant);
CREATE TABLE sink_nb (v cdp.nb_model);
CREATE FUNCTION fzb(b bytea, typ text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    o oid;
BEGIN
    o := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                          || '\x0001'::bytea || int4send(length(b)) || b || '\xffff'::bytea);
    PERFORM lo_export(o, 'cdp_scoring_fuzz.bin');
    PERFORM lo_unlink(o);
    TRUNCATE sink_bant, sink_nb;
    EXECUTE format('COPY %1$I FROM %2$L (FORMAT binary)',
                   CASE typ WHEN 'cdp.bant' THEN 'sink_bant' ELSE 'sink_nb' END, 'cdp_scoring_fuzz.bin');
    RETURN fz((SELECT v::text FROM sink_bant UNION ALL SELECT v::text FROM sink_nb), typ);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SQL

# 1. fuzzing ---------------------------------------------------------------------
codes=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SELECT setseed(0.77);
WITH base AS (
    SELECT unnest(ARRAY['(budget=allocated:50000, authority=decision_maker, need=identified, timeline=within_year:2027-03-31, competition=contested)',
                        '()', '(need=critical)', '(budget=approved:1.5e6, timeline=long_term:1999-12-31)']) AS b
), m AS (
    SELECT b, (random() * length(b))::int AS pos,
           (ARRAY['(', ')', ',', '=', ':', ' ', '-', '.', 'e', '9', '0', 'x', 'é', '北', '\', '''', 'a', '_', E'\t', 'none'])[1 + floor(random() * 20)::int] AS ch,
           floor(random() * 3)::int AS op
      FROM base, generate_series(1, 2500)
)
SELECT DISTINCT fz(CASE op WHEN 0 THEN overlay(b PLACING ch FROM pos + 1 FOR 1)
                           WHEN 1 THEN overlay(b PLACING ch FROM pos + 1 FOR 0)
                           ELSE overlay(b PLACING '' FROM pos + 1 FOR 1 + (random() * 5)::int) END, 'cdp.bant')
  FROM m ORDER BY 1;
SQL
)
[ "$(echo $codes)" = "22P02 ok" ] && ok "10,000 mutated cdp.bant literals: values that round-trip, or 22P02" || notok "cdp.bant literal fuzz gave: $(echo $codes)"

codes=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SELECT setseed(0.78);
WITH sent AS (
    SELECT cdp.bant_send(b) AS s
      FROM unnest(ARRAY['(budget=allocated:50000, timeline=within_year:2027-03-31)', '()', '(budget=approved:7)']::cdp.bant[]) b
), m AS (
    SELECT s, floor(random() * length(s))::int AS pos, floor(random() * 256)::int AS v, floor(random() * 3)::int AS op
      FROM sent, generate_series(1, 1000)
)
SELECT DISTINCT fzb(CASE op WHEN 0 THEN set_byte(s, pos, v)
                            WHEN 1 THEN substr(s, 1, pos)
                            ELSE s || decode(lpad(to_hex(v), 2, '0'), 'hex') END, 'cdp.bant')
  FROM m ORDER BY 1;
SQL
)
case "$(echo $codes)" in "22P03 ok"|"22P03") ok "3,000 mutated binary cdp.bant values: values that round-trip, or 22P03" ;; *) notok "cdp.bant binary fuzz gave: $(echo $codes)" ;; esac

codes=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SELECT setseed(0.79);
CREATE TABLE models AS
SELECT cdp.nb_train(ARRAY['a=' || (i % 5), 'n=' || (i * 37 % 1000), 'c=' || (ARRAY['北京', 'x', ''])[1 + i % 3], (i % 2)::text], i % 3 = 0) AS nb
  FROM generate_series(1, 600) i GROUP BY i % 6;
WITH m AS (
    SELECT nb::text AS t, cdp.nb_model_send(nb) AS b FROM models
), t AS (
    SELECT overlay(t PLACING substr('0123456789abcdef', 1 + floor(random() * 16)::int, 1)
                   FROM 1 + floor(random() * length(t))::int FOR 1) AS s FROM m, generate_series(1, 2000)
), b AS (
    SELECT CASE floor(random() * 3)::int WHEN 0 THEN set_byte(b, floor(random() * length(b))::int, floor(random() * 256)::int)
                                         WHEN 1 THEN substr(b, 1, floor(random() * length(b))::int)
                                         ELSE b || '\x00'::bytea END AS s
      FROM m, generate_series(1, 500)
)
SELECT DISTINCT c FROM (SELECT fz(s, 'cdp.nb_model') c FROM t UNION ALL SELECT fzb(s, 'cdp.nb_model') FROM b) x ORDER BY 1;
SQL
)
[ "$(echo $codes)" = "22P02 22P03 ok" ] && ok "12,000 mutated text and 3,000 mutated binary cdp.nb_model values: values that round-trip, 22P02 or 22P03" || notok "cdp.nb_model fuzz gave: $(echo $codes)"
[ "$(q "$db" "SELECT 1")" = 1 ] && ok "server alive after fuzzing" || notok "server gone"

# 2. binary and text transfer of a model --------------------------------------------
q "$db" "CREATE TABLE trained AS SELECT cdp.nb_train(ARRAY['src=' || (i % 7), 'v=' || (i % 113)], i % 4 = 0) AS nb FROM generate_series(1, 5000) i"
q "$db" "CREATE TABLE back_bin (nb cdp.nb_model); CREATE TABLE back_txt (nb cdp.nb_model)"
psql -X -q -d "$db" -c "\\copy trained TO '$dump.bin' (FORMAT binary)" -c "\\copy back_bin FROM '$dump.bin' (FORMAT binary)" \
	-c "\\copy trained TO '$dump.txt'" -c "\\copy back_txt FROM '$dump.txt'"
n=$(q "$db" "SELECT (SELECT nb::text FROM trained) = (SELECT nb::text FROM back_bin) AND (SELECT nb::text FROM trained) = (SELECT nb::text FROM back_txt)")
[ "$n" = t ] && ok "a model survives COPY in binary and in text format" || notok "model changed in COPY"

# 3. dump and restore --------------------------------------------------------------------
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
\o /dev/null
DROP TABLE sink_bant, sink_nb, models;
INSERT INTO cdp.lead (company_name, bant, owner) VALUES
    ('A', '(budget=allocated:50000, need=identified, timeline=within_year:2027-03-31)', 'alice'),
    ('B', '()', NULL), ('C', NULL, NULL);
INSERT INTO cdp.scoring_model (model, need_weight, mql_threshold) VALUES ('needy', 80, 30);
SELECT * FROM cdp.score_leads('needy');
INSERT INTO cdp.win_model (model, nb, won, lost) SELECT 'custom', nb, 1250, 3750 FROM trained;
SQL
"$CDP_BINDIR/pg_dump" -Fc -d "$db" -f "$dump" 2>"$dump.err" || { notok "pg_dump failed"; cat "$dump.err"; }
"$CDP_BINDIR/createdb" "$dst"
if PGOPTIONS="-c session_replication_role=replica" "$CDP_BINDIR/pg_restore" -d "$dst" "$dump" 2>"$dump.err"; then
	ok "pg_restore succeeded"
else
	notok "pg_restore failed"
	cat "$dump.err"
fi
same() {	# same "description" "query"
	a=$(q "$db" "$2" | md5sum)
	b=$(q "$dst" "$2" | md5sum)
	if [ "$a" = "$b" ]; then ok "$1"; else notok "$1"; fi
}
same "lead BANT values and scores restored" "SELECT lead_id, bant::text, fit_score, engagement_score, score, stage FROM cdp.lead ORDER BY 1"
same "scoring models restored, built-in one not duplicated" "SELECT s::text FROM cdp.scoring_model s ORDER BY model"
same "win models restored byte for byte" "SELECT model, nb::text, won, lost FROM cdp.win_model ORDER BY model"

rm -f "$dump" "$dump.err" "$dump.bin" "$dump.txt"
"$CDP_BINDIR/dropdb" "$db"
"$CDP_BINDIR/dropdb" "$dst"
