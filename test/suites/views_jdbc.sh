#!/bin/sh
# views_jdbc: a BI tool's view of cdp.  Metabase reaches PostgreSQL through
# the PostgreSQL JDBC driver over TCP, so this suite starts its own throwaway
# cluster listening on 127.0.0.1 only, loads the demo data set and runs
# test/jdbc/MetabaseSync.java (Java's single-file source launcher) against it:
# the tables and views with their remarks, the columns with types and
# remarks, the keys, and a SELECT ... LIMIT on every view.
set -eu
. "$CDP_TOP/tools/lib.sh"

jar=/usr/share/java/postgresql.jar
if [ ! -f "$jar" ] || ! command -v java >/dev/null 2>&1; then
	echo "not ok - the PostgreSQL JDBC driver ($jar) and java are needed (tools/packages/views.txt)"
	exit 1
fi

# our own cluster: the main test cluster listens on a Unix socket only
dir=$(cdp_mktemp jdbc)
trap 'cdp_cluster_stop "$dir"; rm -rf "$dir"' EXIT INT TERM
CDP_PORT= cdp_cluster_start "$dir" -c fsync=off -c listen_addresses=127.0.0.1
"$CDP_BINDIR/createdb" cdp_jdbc
psql -X -q -v ON_ERROR_STOP=1 -d cdp_jdbc -f "$CDP_TOP/demo/10_data.sql" >/dev/null
# what a scheduler does after loading: the 4R snapshots get their figures
psql -X -q -At -v ON_ERROR_STOP=1 -d cdp_jdbc -c "SELECT cdp.refresh_bi_snapshots()" >/dev/null

java -cp "$jar" "$CDP_TOP/test/jdbc/MetabaseSync.java" "jdbc:postgresql://127.0.0.1:$PGPORT/cdp_jdbc"
