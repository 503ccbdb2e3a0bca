#!/bin/sh
# demo.sh: load the demo data set and print reports ("make demo").
#
# Installs missing Debian packages, builds and installs cdp into the system's
# PostgreSQL 15 (as root; otherwise into a private tree), starts a throwaway
# cluster owned by the postgres user with its socket in /tmp/cdp-demo, loads
# demo/*.sql in name order into database cdp_demo and prints what they print.
# The cluster keeps running afterwards so you can explore; a second run
# replaces it.  "make demo-stop" (tools/demo.sh --stop) stops and removes it.
set -eu
CDP_TOP=$(cd "$(dirname "$0")/.." && pwd)
export CDP_TOP
. "$CDP_TOP/tools/lib.sh"

demo=${CDP_DEMO_DIR:-/tmp/cdp-demo}

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
for f in "$CDP_TOP"/demo/*.sql; do
	psql -X -q -v ON_ERROR_STOP=1 -d cdp_demo -f "$f"
done

cat <<EOT

The demo cluster is still running. Explore it with:
    psql -h $demo -p $PGPORT -U postgres cdp_demo
Stop it with: make demo-stop
EOT
