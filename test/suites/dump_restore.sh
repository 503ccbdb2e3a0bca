#!/bin/sh
# dump_restore: pg_dump keeps cdp's user data, sequence positions and stage
# history, and a restore with session_replication_role = replica (so the
# lifecycle trigger does not record the restored rows as new moves) gives
# back the same database: every cdp table (found in the catalog, so tables
# of later modules are compared too), the policies and privileges, the
# governance data; a plain-format dump restored with psql too.
# (pg_restore --disable-triggers is no substitute: it does not disable the
# triggers of extension tables.)
set -eu
src=cdp_dump_src
dst=cdp_dump_dst
dst2=cdp_dump_dst2
dump=$(mktemp)
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

"$CDP_BINDIR/dropdb" --if-exists "$src"
"$CDP_BINDIR/dropdb" --if-exists "$dst"
"$CDP_BINDIR/createdb" "$src"
psql -X -q -v ON_ERROR_STOP=1 -d "$src" -f "$CDP_TOP/demo/10_data.sql" >/dev/null
# a tracked table of our own and a custom model, which must survive too
psql -X -q -v ON_ERROR_STOP=1 -d "$src" <<'SQL' >/dev/null
INSERT INTO cdp.lifecycle_model (model) VALUES ('tender');
INSERT INTO cdp.lifecycle_stage (model, stage, position, label_en) VALUES
    ('tender', 'announced', 1, 'Announced'), ('tender', 'bid', 2, 'Bid');
CREATE TABLE public.tender (id text PRIMARY KEY, phase text NOT NULL);
SELECT cdp.track_lifecycle('public.tender', 'phase', 'tender');
INSERT INTO public.tender VALUES ('T1', 'announced');
UPDATE public.tender SET phase = 'bid';
-- governance data: consent decisions, relationships, a custom cadence,
-- bad contact points (the demo's bounced e-mails) and an erasure
INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
SELECT contact_id, ch, contact_id % 3 <> 0, 'consent', 'web_form', '2026-01-01'
  FROM cdp.contact, unnest('{phone,email,wechat}'::text[]) ch;
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength)
SELECT c.contact_id, c.contact_id + 1, 'knows', 0.5 FROM cdp.contact c
 WHERE c.contact_id % 7 = 0 AND EXISTS (SELECT 1 FROM cdp.contact d WHERE d.contact_id = c.contact_id + 1);
INSERT INTO cdp.outreach_model (model, max_unanswered) VALUES ('patient', 6);
SELECT cdp.forget_contact(7);
SQL

# pg_dump warns about the self-referencing keys of account and contact; the
# restore below shows they are harmless
"$CDP_BINDIR/pg_dump" -Fc -d "$src" -f "$dump" 2>"$dump.err" || { notok "pg_dump failed"; cat "$dump.err"; }
"$CDP_BINDIR/createdb" "$dst"
if PGOPTIONS="-c session_replication_role=replica" "$CDP_BINDIR/pg_restore" -d "$dst" "$dump" 2>"$dump.err"; then
	ok "pg_restore with session_replication_role = replica succeeded"
else
	notok "pg_restore failed"
	cat "$dump.err"
fi

same() {	# same "description" "query"
	a=$(q "$src" "$2" | md5sum)
	b=$(q "$dst" "$2" | md5sum)
	if [ "$a" = "$b" ]; then ok "$1"; else notok "$1"; fi
}
# every table of cdp, whichever module made it, as far as pg_dump keeps it
# (the condition given to pg_extension_config_dump: built-in rows are made
# by CREATE EXTENSION), and the user's table
q "$src" "SELECT u.c::regclass::text || '|' || u.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) u(c, cond)
           WHERE e.extname = 'cdp' AND (SELECT relkind FROM pg_class WHERE oid = u.c) IN ('r', 'p')
          UNION ALL SELECT 'public.tender|' ORDER BY 1" >"$dump.tables"
everything="SELECT string_agg(md5(coalesce(x, '')), '') FROM (SELECT ''::text AS x"
while IFS='|' read -r t cond; do
	same "table $t restored identically ($(q "$src" "SELECT count(*) FROM $t t $cond") rows)" "SELECT t::text FROM $t t $cond ORDER BY 1"
	everything="$everything UNION ALL SELECT (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM $t t $cond)"
done <"$dump.tables"
everything="$everything) s"
same "stage history restored identically" \
	"SELECT entity::text, entity_key, model, stage, previous_stage, entered_at, exited_at, reason, changed_by
	   FROM cdp.stage_history ORDER BY history_id"
same "custom model and tracked table restored" \
	"SELECT m.model, s.stage, t.tbl::text FROM cdp.lifecycle_model m JOIN cdp.lifecycle_stage s USING (model)
	   LEFT JOIN cdp.tracked_table t USING (model) WHERE NOT m.builtin ORDER BY 1, 2"
same "built-in models are not duplicated" "SELECT count(*) FROM cdp.lifecycle_stage"

same "row-level security policies as after CREATE EXTENSION" \
	"SELECT polrelid::regclass::text, polname, polcmd, polroles::regrole[]::text, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)
	   FROM pg_policy ORDER BY 1, 2"
same "privileges on cdp objects as after CREATE EXTENSION" \
	"SELECT c.oid::regclass::text, c.relacl::text, c.relrowsecurity FROM pg_class c WHERE c.relnamespace = 'cdp'::regnamespace ORDER BY 1"
n=$(q "$dst" "SELECT cdp.can_contact(7, 'phone') OR cdp.can_contact(7, 'email'), (SELECT count(*) FROM cdp.erasure_log)")
[ "$n" = "f|1" ] && ok "the erased person stays erased after the restore" || notok "erasure after restore: $n"

# identity sequences continue after the restored rows
n=$(q "$dst" "INSERT INTO cdp.account (name) VALUES ('新公司') RETURNING account_id > (SELECT max(account_id) FROM cdp.account WHERE name <> '新公司')")
[ "$n" = t ] && ok "identity sequences continue after the restored rows" || notok "identity sequence restarted"
# and the lifecycle keeps working on the restored tables, built-in and ours
n=$(q "$dst" "UPDATE public.tender SET phase = 'announced' WHERE id = 'T1'" 2>&1 || true)
case "$n" in *"needs a reason"*) ok "lifecycle trigger active on a restored user table" ;; *) notok "restored user table not tracked: $n" ;; esac
n=$(q "$dst" "SELECT count(*) FROM (SELECT entity, entity_key FROM cdp.stage_history WHERE exited_at IS NULL GROUP BY 1, 2 HAVING count(*) > 1) x")
[ "$n" = 0 ] && ok "no entity has two open stays after the restore" || notok "$n entities with two open stays"

# a plain-format dump restored with psql, under the same setting
"$CDP_BINDIR/dropdb" --if-exists "$dst2"
"$CDP_BINDIR/createdb" "$dst2"
"$CDP_BINDIR/pg_dump" -Fp -d "$src" -f "$dump.sql" 2>/dev/null
if PGOPTIONS="-c session_replication_role=replica" psql -X -q -v ON_ERROR_STOP=1 -d "$dst2" -f "$dump.sql" >/dev/null 2>"$dump.err"; then
	ok "plain dump restored with psql"
else
	notok "plain dump restore failed: $(head -3 "$dump.err")"
fi
a=$(q "$src" "$everything")
b=$(q "$dst2" "$everything")
[ "$a" = "$b" ] && ok "every table identical after the plain-format round trip" || notok "tables differ after the plain-format round trip"

rm -f "$dump" "$dump.err" "$dump.sql" "$dump.tables"
"$CDP_BINDIR/dropdb" "$src"
"$CDP_BINDIR/dropdb" "$dst"
"$CDP_BINDIR/dropdb" "$dst2"
