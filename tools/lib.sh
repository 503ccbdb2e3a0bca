# lib.sh: shell functions shared by tools/test.sh, tools/demo.sh and
# tools/bench.sh.  Source it; do not run it.
#
# A throwaway PostgreSQL cluster needs three things here:
#   - a server installation that holds the freshly built cdp.  cdp_build_tree
#     copies the system's PostgreSQL 15 server into a private tree and runs
#     "make install DESTDIR=" into it, the way PostgreSQL's own "make check"
#     uses tmp_install: the system installation is never touched, and two
#     checkouts can test at the same time.  PostgreSQL finds its share and lib
#     directories relative to the binary, so the copy is self-contained.
#   - a data directory owned by the postgres user (initdb refuses root), so
#     when run as root the server commands go through runuser.
#   - a private Unix socket directory and no TCP listener.

CDP_TOP=${CDP_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
PG_CONFIG=${PG_CONFIG:-pg_config}

# Run a command as the user that owns the cluster.
cdp_as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Make a fresh directory the cluster owner can write to; print its path.
cdp_mktemp()
{
	d=$(mktemp -d "${TMPDIR:-/tmp}/cdp-$1.XXXXXX")
	chmod 755 "$d"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$d"
	fi
	echo "$d"
}

# cdp_build_tree DIR: build cdp and install it with the server into DIR.
# Sets CDP_BINDIR to the server binaries inside DIR.
cdp_build_tree()
{
	tree=$1
	bindir=$($PG_CONFIG --bindir)
	sharedir=$($PG_CONFIG --sharedir)
	pkglibdir=$($PG_CONFIG --pkglibdir)
	make -C "$CDP_TOP" -s -j2 >/dev/null
	mkdir -p "$tree$bindir" "$tree$sharedir" "$tree$pkglibdir"
	cp -a "$bindir/." "$tree$bindir/"
	cp -a "$sharedir/." "$tree$sharedir/"
	cp -a "$pkglibdir/." "$tree$pkglibdir/"
	# an older cdp installed system-wide must not leak into the copy
	rm -f "$tree$sharedir"/extension/cdp--*.sql "$tree$sharedir"/extension/cdp.control \
		"$tree$pkglibdir"/cdp.so
	make -C "$CDP_TOP" -s install DESTDIR="$tree" >/dev/null
	CDP_BINDIR=$tree$bindir
	export CDP_BINDIR
}

# Pick a port with no socket file in use, starting at a point that depends on
# the process id so that two checkouts testing at once rarely collide.
cdp_free_port()
{
	p=$((54300 + $$ % 600))
	while [ -e "/tmp/.s.PGSQL.$p" ] || [ -e "/var/run/postgresql/.s.PGSQL.$p" ]; do
		p=$((p + 1))
	done
	echo $p
}

# cdp_cluster_start DIR [extra postgres options...]
# initdb in DIR/data, start with the socket in DIR, export PGHOST/PGPORT/PGUSER.
# The socket lives in DIR, so only the shared-memory key and the lock file can
# collide with another cluster; a start that fails is retried on another port.
cdp_cluster_start()
{
	dir=$1
	shift
	cdp_as_owner "$CDP_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	port=${CDP_PORT:-$(cdp_free_port)}
	tries=0
	until cdp_as_owner "$CDP_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -c listen_addresses= -c unix_socket_directories=$dir $*" start >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ -n "${CDP_PORT:-}" ] || [ $tries -ge 5 ]; then
			cat "$dir/server.log" >&2
			return 1
		fi
		port=$((port + 7 + tries))
	done
	PGHOST=$dir
	PGPORT=$port
	PGUSER=postgres
	export PGHOST PGPORT PGUSER
}

# cdp_cluster_stop DIR: stop the cluster in DIR if it runs.
cdp_cluster_stop()
{
	if [ -f "$1/data/postmaster.pid" ]; then
		cdp_as_owner "$CDP_BINDIR/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# cdp_throwaway NAME [postgres options...]
# The common set-up of the make targets: install missing packages, build cdp
# into a private tree under a new temporary directory $work, start a cluster
# there, and stop and remove it all on exit (CDP_KEEP=1 keeps the directory).
cdp_throwaway()
{
	name=$1
	shift
	"$CDP_TOP/tools/deps.sh"
	work=$(cdp_mktemp "$name")
	trap cdp_throwaway_cleanup EXIT INT TERM
	echo "== building cdp into $work/install"
	cdp_build_tree "$work/install"
	cdp_cluster_start "$work" "$@"
	echo "== cluster on socket $PGHOST port $PGPORT"
}

cdp_throwaway_cleanup()
{
	cdp_cluster_stop "$work"
	if [ "${CDP_KEEP:-0}" = 1 ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
