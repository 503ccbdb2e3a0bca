#!/bin/sh
# views_node: cdp called from a Node.js backend through node-postgres (npm
# "pg") with bind parameters: test/node/backend.test.js.  node-postgres is
# installed from the lockfile into test/node/node_modules (project-local) the
# first time.
set -eu
db=cdp_node
dir=$CDP_TOP/test/node

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "not ok - node and npm are needed (tools/packages/views.txt)"
	exit 1
fi
if [ ! -f "$dir/node_modules/pg/package.json" ]; then
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

"$CDP_BINDIR/dropdb" --if-exists "$db" 2>/dev/null
"$CDP_BINDIR/createdb" "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'SET client_min_messages = warning; CREATE EXTENSION cdp CASCADE;'
PGDATABASE=$db node "$dir/backend.test.js"
"$CDP_BINDIR/dropdb" "$db"
