#!/bin/sh
# demo.sh: load the demo data set and print reports ("make demo").
#
# Installs missing Debian packages, builds and installs cdp into the system's
# PostgreSQL 15 (as root; otherwise into a private tree), starts a throwaway
# cluster owned by the postgres user with its socket in /tmp/cdp-demo, loads
# demo/*.sql in name order into database cdp_demo and prints what they print:
# a year of B2B activity of CDP_DEMO_SCALE companies (default 3000; the test
# suites load the same data with 300), cleaned up, then the funnel, the 4R
# metrics, the pools, the CDP sheets and more.  demo/40_bi.sql writes
# funnel.svg and 4r_overview.svg into the cluster's directory.
# The cluster keeps running afterwards so you can explore; a second run
# replaces it.  "make demo-stop" (tools/demo.sh --stop) stops and removes it.
set -eu
CDP_TOP=$(cd "$(dirname "$0")/.." && pwd)
export CDP_TOP
. "$CDP_TOP/tools/lib.sh"

demo=${CDP_DEMO_DIR:-/tmp/cdp-demo}
scale=${CDP_DEMO_SCALE:-3000}

stop_old()
{
	if [ -f "$demo/bindir" ]; then
		CDP_BINDIR=$(cat "$demo/bindir")
		cdp_cluster_stop "$demo"
	fi
	rm -rf "$demo"
}

if [ "${1:-}" = "--stop" ]; then
	stop_old
	echo "demo cluster stopped"
	exit 0
fi

"$CDP_TOP/tools/deps.sh"
stop_old

if [ "$(id -u)" -eq 0 ] || [ -w "$($PG_CONFIG --pkglibdir)" ]; then
	make -C "$CDP_TOP" -s -j2 >/dev/null
	make -C "$CDP_TOP" -s install >/dev/null
	CDP_BINDIR=$($PG_CONFIG --bindir)
	where="the system's PostgreSQL ($($PG_CONFIG --pkglibdir))"
else
	mkdir -p "$demo"
	cdp_build_tree "$demo/install"
	where="a private tree in $demo/install"
fi

mkdir -p "$demo"
chmod 755 "$demo"
[ "$(id -u)" -eq 0 ] && chown postgres: "$demo"
echo "$CDP_BINDIR" >"$demo/bindir"
CDP_PORT=${CDP_DEMO_PORT:-54399} cdp_cluster_start "$demo"
"$CDP_BINDIR/createdb" cdp_demo

echo "cdp installed into $where; demo cluster on socket $demo, port $PGPORT"
cat <<EOT

================================================================================
 cdp demo: a year in the life of a B2B seller of industrial equipment in China
================================================================================
 $scale companies in the CRM (with the duplicates and messy spellings real
 sources bring), their contacts, leads, opportunities, orders and touchpoints,
 and a year of lifecycle history, all replayed through cdp in time order.
 Sections: 1-2 data quality and lead matching, 3 the lifecycle funnel,
 4 the 4R metrics, 5 the pools, 6 the CDP sheets, then scoring,
 relationships and governance.  Tables are summaries; the data stays in the
 database for you to explore afterwards.
EOT
started=$(date +%s)
for f in "$CDP_TOP"/demo/*.sql; do
	psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d cdp_demo -f "$f"
done
took=$(($(date +%s) - started))

cat <<EOT

================================================================================
 Pictures (open them in a browser):
    $demo/funnel.svg        the b2b funnel: accounts per stage, conversion
    $demo/4r_overview.svg   one panel per R: Recognize, Reach, Relationship, Return

 Data loaded and reports printed in $took s.  The demo cluster is still running.
 Explore it with:
    psql -h $demo -p $PGPORT -U postgres cdp_demo
 for example:  SELECT * FROM cdp.lead_match_review LIMIT 5;
               SELECT * FROM cdp.sheet_completeness WHERE tier = 'key' LIMIT 5;
 Stop it with: make demo-stop
================================================================================
EOT
