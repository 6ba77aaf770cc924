#!/usr/bin/env bash
# Memory of account actors: starts a transaction-service of its own (own port, own Kafka topic and
# group), touches N accounts through GET /users/{id}/balance (each spawns an actor that loads its
# balance), and reports the RSS growth per live actor; then waits for idle eviction and reports the
# RSS left. The service and its accounts live in a scratch database of their own
# (wallet_bench_memory_*, dropped afterwards): nothing is written to the stack's databases. Needs
# the stack of ./scripts/up (its Postgres and Kafka) and wrk (Debian package).
#
#   scripts/bench.d/actor-memory.sh [accounts=100000] [idle_ms=15000]
set -euo pipefail
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
source "$LIB/stack.sh"
export_stack_env

N=${1:-100000}
IDLE_MS=${2:-15000}
PORT=${BENCH_PORT:-18091}
WORK=$WALLET_STATE/bench/memory
mkdir -p "$WORK"
command -v wrk > /dev/null || die "wrk is missing (apt-get install wrk)"
suffix=$RANDOM
DB=wallet_bench_memory_$suffix
psql_in() { PGPASSWORD=wallet psql -h 127.0.0.1 -p "$PG_PORT" -U wallet -X -qAt -v ON_ERROR_STOP=1 -d "$@"; }
cleanup() {
  [[ -n ${svc_pid:-} ]] && kill "$svc_pid" 2> /dev/null && wait "$svc_pid" 2> /dev/null || true
  psql_in postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null 2>&1 || true
}
trap cleanup EXIT
psql_in postgres -c "CREATE DATABASE $DB" > /dev/null

cat > "$WORK/touch.lua" << LUA
local ids = {}
for line in io.lines("$WORK/ids.txt") do ids[#ids + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  if counter > #ids then counter = 1 end
  return wrk.format("GET", "/users/" .. ids[counter] .. "/balance", {["Connection"] = "keep-alive"})
end
LUA

# The service applies its migrations to the scratch database when it starts; the accounts go in
# once it is ready (an actor loads its balance when first touched). Its own NATS subject too: on the
# stack's it would answer balance queries for the stack's users from the scratch database.
HTTP_PORT=$PORT DATABASE_URL=postgresql://wallet:wallet@127.0.0.1:$PG_PORT/$DB \
  KAFKA_TOPIC=bench-memory-$suffix KAFKA_GROUP_ID=bench-memory-$suffix ACTOR_IDLE_MS=$IDLE_MS \
  NATS_BALANCE_SUBJECT=bench-memory-$suffix.balance.get ADMIN_TOKEN=bench LOG_LEVEL=warn "$WALLET_BIN_DIR/transaction-service" > "$WORK/service.log" 2>&1 &
svc_pid=$!
for _ in $(seq 100); do curl -fs "127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.2; done
say "creating $N accounts in $DB"
psql_in "$DB" -c "INSERT INTO users (user_id) SELECT gen_random_uuid() FROM generate_series(1, $N)
  RETURNING user_id" > "$WORK/ids.txt"
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$svc_pid/status"; }
metric() { curl -s "127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
live() { metric ledger_live_actors; }

base=$(rss_kb)
# One wrk thread (one Lua state, shared by its connections) walks the ids in order, so each request
# touches a new account until all N are live; it is stopped then.
start=$(date +%s)
wrk -t1 -c16 -d"$((N / 500 + 30))s" -s "$WORK/touch.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" &
wrk_pid=$!
peak=$base peak_live=0
while kill -0 "$wrk_pid" 2> /dev/null; do
  sleep 1
  r=$(rss_kb) l=$(live) spawned=$(metric ledger_actors_spawned)
  ((r > peak)) && peak=$r
  ((l > peak_live)) && peak_live=$l
  # Every account touched once (idle ones may already have been retired): stop.
  ((spawned >= N)) && { kill "$wrk_pid"; break; }
done
wait "$wrk_pid" 2> /dev/null || true
sleep 2
touched=$(live)
after=$(rss_kb)
((after > peak)) && peak=$after
echo "accounts touched: $(metric ledger_actors_spawned) in $(($(date +%s) - start)) s; live now $touched, at most $peak_live"
echo "rss before: $((base / 1024)) MiB, with $touched live actors: $((after / 1024)) MiB"
echo "memory per live actor: $(((after - base) * 1024 / (touched > 0 ? touched : 1))) bytes"
sleep $((IDLE_MS / 1000 + 3))
echo "after idle eviction: $(live) live actors, rss $(($(rss_kb) / 1024)) MiB (peak $((peak / 1024)) MiB)"
