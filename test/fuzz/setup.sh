# setup.sh: sourced by test/suites/fuzz.sh and test/suites/security.sh.
# fuzz_setup DB: a fresh database with the whole demo (every module's
# demo/NN_*.sql, so values of every cdp type are stored somewhere), consent
# decisions, a tracked table of the user's and the case generator (schema
# fuzz).
fuzz_setup()
{
	"$CDP_BINDIR/dropdb" --if-exists "$1"
	"$CDP_BINDIR/createdb" "$1"
	for f in "$CDP_TOP"/demo/*.sql; do
		psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$f" >/dev/null
	done
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<'SQL' >/dev/null
CREATE TABLE public.fuzz_target (id text PRIMARY KEY, stage text, owner name, amount numeric);
SELECT cdp.track_lifecycle('public.fuzz_target');
INSERT INTO public.fuzz_target SELECT 'k' || i, 'lead', 'rep_wang', i FROM generate_series(1, 50) i;
INSERT INTO cdp.consent (contact_id, channel, granted, recorded_at)
SELECT contact_id, ch, contact_id % 3 <> 0, '2026-01-01' FROM cdp.contact, unnest('{phone,email}'::text[]) ch;
SQL
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$CDP_TOP/test/fuzz/fuzz.sql" >/dev/null
}
