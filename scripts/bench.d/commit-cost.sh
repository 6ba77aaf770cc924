#!/usr/bin/env bash
# What Postgres spends per operation inside one group commit, a payment with a fee against a
# transfer (issue 26), apart from the HTTP path, the idempotency lookups and the relay: in a scratch
# database wallet_commit_cost built from transaction_service's migrations and functions, one
# backend runs M batches of K operations (scripts/bench.d/commit_cost.sql), each batch one
# ledger_commit_rows call and its own commit (synchronous_commit off: CPU, not the disk), and
# reads its own CPU time from /proc/self/stat before and after. The same batches built but not
# committed ("dry") are subtracted, so the figure is the function's and the commit's alone.
# Each round measures dry transfers, transfers, dry payments, payments, in turn.
#
#   ./scripts/bench --commit-cost [--rounds N] [--batches M] [--size K] [--variant 'SQL']...
#     --variant: one more scratch database each, with that SQL run (as superuser) after the schema,
#       e.g. --variant 'ALTER TABLE transactions DISABLE TRIGGER ledger_events' (the outbox's share)
# Needs the stack's Postgres (./scripts/up infra) and root (the backend reads /proc as superuser).
set -euo pipefail
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
source "$LIB/stack.sh"
source "$LIB/postgres.sh"
export_stack_env
pg_init_paths

rounds=3 batches=400 size=25 variants=()
while (($#)); do
  case $1 in
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --batches) batches=${2:?--batches needs a number}; shift ;;
    --size) size=${2:?--size needs a number}; shift ;;
    --variant) variants+=("${2:?--variant needs SQL}"); shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "commit-cost: unknown option $1 (see --help)" ;;
  esac
  shift
done
for n in "$rounds" "$batches" "$size"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "commit-cost: counts must be positive integers"
done
((size <= 300)) || die "commit-cost: --size is at most 300"
[[ $EUID -eq 0 ]] || die "commit-cost: run as root (the backend reads /proc/self/stat as superuser)"
pg_ready || die "Postgres does not answer on 127.0.0.1:$PG_PORT: ./scripts/up infra first"

DB=wallet_commit_cost
su_psql() { as_pg "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$PG_PORT" "$@"; }
drop_db() { su_psql -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap drop_db EXIT
CPU="split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
   + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint"
HZ=$(getconf CLK_TCK)

prepare() { # [variant SQL]
  drop_db
  su_psql -d postgres -c "CREATE DATABASE $DB OWNER wallet" >/dev/null
  local m
  for m in "$WALLET_ROOT"/schema/transaction_service/[0-9]*.sql; do
    PGOPTIONS="-c wallet.default_currency=USD" su_psql -d "$DB" -1 -f "$m" >/dev/null
  done
  cat "$WALLET_ROOT"/schema/transaction_service/functions/*.sql | su_psql -d "$DB" -1 -f - >/dev/null
  su_psql -d "$DB" -f "$WALLET_SCRIPTS/bench.d/commit_cost.sql" >/dev/null
  su_psql -d "$DB" -c "INSERT INTO users (user_id, balance)
    SELECT bench_account(n), 1000000000.00 FROM generate_series(1, $((3 * size + 3))) AS n" \
    >/dev/null
  [[ -z ${1:-} ]] || su_psql -d "$DB" -c "$1" >/dev/null
  su_psql -d "$DB" -c "VACUUM ANALYZE" >/dev/null
}

ticks() { # payments dry: CPU ticks of one backend for $batches batches
  su_psql -d "$DB" -c "SET synchronous_commit = off" -c "CREATE TEMP TABLE t0 AS SELECT $CPU AS t" \
    -c "DO \$\$ BEGIN FOR i IN 1..$batches LOOP PERFORM bench_batch($size, $1, $2); COMMIT;
        END LOOP; END \$\$" -c "SELECT $CPU - t FROM t0"
}

measure() { # label [variant SQL]
  prepare "${2:-}"
  local r t=() p=()
  for ((r = 1; r <= rounds; r++)); do
    local a b c d
    a=$(ticks false true) b=$(ticks false false) c=$(ticks true true) d=$(ticks true false)
    t+=("$(awk -v x="$a" -v y="$b" -v hz="$HZ" -v n=$((batches * size)) \
      'BEGIN { printf "%.1f", (y - x) * 1e6 / hz / n }')")
    p+=("$(awk -v x="$c" -v y="$d" -v hz="$HZ" -v n=$((batches * size)) \
      'BEGIN { printf "%.1f", (y - x) * 1e6 / hz / n }')")
  done
  local mt mp
  mt=$(printf '%s\n' "${t[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  mp=$(printf '%s\n' "${p[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '%-12s transfer %6s us  payment %6s us  ratio %s   (rounds: %s / %s)\n' "$1" "$mt" "$mp" \
    "$(awk -v a="$mt" -v b="$mp" 'BEGIN { printf "%.2f", b / a }')" "${t[*]}" "${p[*]}"
}

say "commit cost: $rounds rounds of $batches batches of $size operations, per operation (median)"
measure "schema"
n=0
for v in "${variants[@]}"; do
  n=$((n + 1))
  echo "variant $n: $v"
  measure "variant $n" "$v"
done
