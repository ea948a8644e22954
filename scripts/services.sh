#!/usr/bin/env bash
# Project-local Postgres and Redis for the demo, the tests, the bench and CI.
# Bound to loopback on non-default ports; data under .data/ (git-ignored).
#   scripts/services.sh start|stop|status|env
# Installs Debian's postgresql / redis-server when missing (needs root or sudo).
# If DATABASE_URL / REDIS_URL are already set, those services are used instead and
# this script does nothing for them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${DI_DATA_DIR:-$ROOT/.data}"
PG_PORT="${DI_PG_PORT:-54329}"
REDIS_PORT="${DI_REDIS_PORT:-63799}"
PG_USER=deal_insights
PG_DB=deal_insights
PG_DIR="$DATA/postgres"
REDIS_DIR="$DATA/redis"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }; done
  return 1
}

ensure_installed() {
  local need=()
  pg_bin >/dev/null || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
  # Debian starts the system-wide services on install; we run our own instances.
  as_root service postgresql stop >/dev/null 2>&1 || true
  as_root service redis-server stop >/dev/null 2>&1 || true
}

# Postgres refuses to run as root: use the postgres system user then.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_running() { [ -f "$PG_DIR/postmaster.pid" ] && pg_run "$(pg_bin)/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; }
redis_running() { [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null; }

start_pg() {
  local bin; bin="$(pg_bin)"
  if pg_running; then log "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi
  port_in_use "$PG_PORT" && die "port $PG_PORT is taken by another process; set DI_PG_PORT to a free port or DATABASE_URL to an existing server"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  if [ ! -f "$PG_DIR/PG_VERSION" ]; then
    log "initialising postgres in $PG_DIR"
    local pw; pw="$(mktemp)"; echo "$PG_USER" > "$pw"; chmod 644 "$pw"
    pg_run "$bin/initdb" -D "$PG_DIR" -U "$PG_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pw"
  fi
  # Tuned for tests and bulk imports on a small machine; durability stays on (fsync).
  # max_wal_size: a checkpoint starts after about max_wal_size / 1.9 of WAL. A first rescore
  # of a million deals writes about 3 GB; at 4GB a checkpoint began midway, and every deal
  # page updated after it was logged again in full (a full-page image).
  pg_run "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=200 -c shared_buffers=512MB -c synchronous_commit=on -c max_wal_size=8GB -c checkpoint_timeout=15min" >/dev/null \
    || { tail -20 "$PG_DIR/server.log" >&2; die "postgres did not start (log above)"; }
  if ! pg_run "$bin/psql" -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1; then
    pg_run "$bin/createdb" -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
  log "postgres running on 127.0.0.1:$PG_PORT"
}

start_redis() {
  if redis_running; then log "redis already running on 127.0.0.1:$REDIS_PORT"; return 0; fi
  port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process; set DI_REDIS_PORT to a free port or REDIS_URL to an existing server"
  mkdir -p "$REDIS_DIR"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --save "" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { tail -20 "$REDIS_DIR/redis.log" >&2; die "redis did not start (log above)"; }
  log "redis running on 127.0.0.1:$REDIS_PORT"
}

stop_all() {
  if pg_running; then pg_run "$(pg_bin)/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null; log "postgres stopped"; else log "postgres not running"; fi
  if redis_running; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$REDIS_DIR/redis.pid")"; log "redis stopped"; else log "redis not running"; fi
}

print_env() {
  echo "export DATABASE_URL=${DATABASE_URL:-postgres://$PG_USER:$PG_USER@127.0.0.1:$PG_PORT/$PG_DB}"
  echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
}

case "${1:-}" in
  start)
    if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then ensure_installed; fi
    [ -n "${DATABASE_URL:-}" ] && log "DATABASE_URL is set; using it" || start_pg
    [ -n "${REDIS_URL:-}" ] && log "REDIS_URL is set; using it" || start_redis
    print_env ;;
  stop) stop_all ;;
  status)
    pg_bin >/dev/null && pg_running && echo "postgres: running on 127.0.0.1:$PG_PORT" || echo "postgres: stopped"
    redis_running && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped" ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
