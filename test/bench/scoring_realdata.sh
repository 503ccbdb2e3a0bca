#!/bin/sh
# scoring_realdata: ROC AUC of nb_train / nb_predict on real, public,
# labelled data sets, trained on 70% and scored on the other 30% (a fixed,
# hash-based split).
#
# No lead-conversion data set is reachable from this machine (its only
# network is the Debian and npm registries), so this uses the labelled
# business data sets Debian ships in r-cran-modeldata: mlc_churn (MLC++
# telecom churn, 5,000 customers), wa_churn (IBM Watson telco churn, 7,043),
# credit_data (credit scoring, 4,454 applicants) and attrition (IBM HR
# attrition, 1,470), all with categorical and numeric features.  The
# package is fetched with "apt-get download" (not installed: it would pull
# in R) and read by test/bench/rdata.py.  Every column but the label becomes
# a feature "column=value"; empty cells are missing values.  Prints
# "skipped" when the package cannot be fetched.
set -eu
db=cdp_bench_scoring_realdata
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$tmp" && apt-get download r-cran-modeldata >/dev/null 2>&1); then
	echo "  skipped: r-cran-modeldata could not be downloaded"
	exit 0
fi
dpkg -x "$tmp"/r-cran-modeldata_*.deb "$tmp/pkg"
python3 "$CDP_TOP/test/bench/rdata.py" "$tmp/pkg/usr/lib/R/site-library/modeldata/data" "$tmp" \
	mlc_churn wa_churn credit_data attrition
chmod 644 "$tmp"/*.csv

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
-- ROC AUC (Mann-Whitney, ties counted half) of a model trained on 70% of a
-- CSV file (no quoted commas in these files) and scored on the rest
CREATE FUNCTION real_auc(path text, label text, pos text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    cols text[];
    feat text;
    v_auc numeric;
    v_cnt bigint;
    v_rate numeric;
BEGIN
    DROP TABLE IF EXISTS d;
    DROP TABLE IF EXISTS lines;
    CREATE TEMP TABLE lines (n bigserial, line text);
    EXECUTE format('COPY lines (line) FROM %L', path);
    SELECT string_to_array(l.line, ',') INTO cols FROM lines l WHERE l.n = 1;
    SELECT string_agg(format('CASE WHEN f[%s] <> %L THEN %L || f[%s] END', i, '', c || '=', i), ', ')
      INTO feat FROM unnest(cols) WITH ORDINALITY u(c, i) WHERE c <> label;
    EXECUTE format('CREATE TEMP TABLE d AS SELECT n, ARRAY[%s] AS x, f[%s] = %L AS y, (hashint8(n * 7919) & 1023) < 717 AS train
                      FROM (SELECT n, string_to_array(line, %L) f FROM lines WHERE n > 1) s',
                   feat, array_position(cols, label), pos, ',');
    WITH m AS (SELECT cdp.nb_train(d.x, d.y) nb FROM d WHERE d.train),
         s AS (SELECT d.y, cdp.nb_predict(m.nb, d.x) pr FROM d, m WHERE NOT d.train),
         r AS (SELECT s.y, rank() OVER (ORDER BY s.pr) rk, count(*) OVER (PARTITION BY s.pr) ties FROM s)
    SELECT round(((sum(r.rk + (r.ties - 1) / 2.0) FILTER (WHERE r.y)
                   - count(*) FILTER (WHERE r.y) * (count(*) FILTER (WHERE r.y) + 1) / 2.0)
                  / (count(*) FILTER (WHERE r.y) * count(*) FILTER (WHERE NOT r.y)))::numeric, 3),
           count(*), round(avg(r.y::int), 3)
      INTO v_auc, v_cnt, v_rate FROM r;
    RETURN format('ROC AUC %s on %s held-out rows (%s%% positive)', v_auc, v_cnt, round(100 * v_rate));
END $$;
SQL
for spec in "mlc_churn churn yes" "wa_churn churn Yes" "credit_data Status good" "attrition Attrition Yes"; do
	set -- $spec
	r=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" -c "SELECT real_auc('$tmp/$1.csv', '$2', '$3')")
	echo "  $1 ($2 = $3): $r"
done
"$CDP_BINDIR/dropdb" "$db"
