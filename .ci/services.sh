#!/usr/bin/env bash
# Starts PostgreSQL and Redis on loopback for the store tests and prints the
# environment variables that point the tests at them. Source it, or eval its
# output:  eval "$(bash .ci/services.sh)"
# Needs Debian's postgresql and redis-server packages; safe to run twice.
# PostgreSQL allows 200 connections: the store tests give each of several
# handler instances a pool of its own. Redis keeps an append-only file
# flushed before every answer (appendfsync always) and never evicts, as
# redisstore.New demands of a Redis that must not lose an acknowledged
# write; a server started by an older version of this script is switched
# to appendfsync always. (The
# fault-injection tests start servers of their own, which they stop and
# restart; these shared ones are never stopped by a test.)
set -euo pipefail

PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
PG_DATA=${PG_DATA:-/tmp/beecloud-pgdata}
# A directory per port: two servers must never share an append-only file.
REDIS_DIR=${REDIS_DIR:-/tmp/beecloud-redis-$REDIS_PORT}

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    rm -rf "$PG_DATA"
    install -d -o postgres -g postgres "$PG_DATA"
    su postgres -s /bin/sh -c "$pgbin/initdb -D $PG_DATA -U postgres --auth=trust -E UTF8" >/dev/null
  fi
  su postgres -s /bin/sh -c "$pgbin/pg_ctl -D $PG_DATA -l $PG_DATA/log -w -o '-h 127.0.0.1 -p $PG_PORT -k /tmp -c max_connections=200' start" >/dev/null
fi
"$pgbin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='beecloud_test'" | grep -q 1 ||
  "$pgbin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE beecloud_test" >/dev/null

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  mkdir -p "$REDIS_DIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always --dir "$REDIS_DIR" --maxmemory-policy noeviction --daemonize yes >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -p "$REDIS_PORT" config set appendfsync always >/dev/null

echo "export BEECLOUD_POSTGRES=postgres://postgres@127.0.0.1:$PG_PORT/beecloud_test?sslmode=disable"
echo "export BEECLOUD_REDIS=redis://127.0.0.1:$REDIS_PORT/0"
