#!/usr/bin/env bash
# Scale on paper, from measurement (issue 15 item 7): what several transaction-service instances in
# PARTITION_OWNERSHIP=kafka mode cost and how fast a partition moves, on this machine. Loads run in
# mirrored order A1 B1 L1 S1 S2 L2 B2 (J K) A2 and each configuration's two runs are added up, so
# that a drift of the shared machine's load favours none. All loads: wallet-stress, --clients
# workers, --seconds of load, no duplicates, uniform over --accounts accounts. The configurations:
#   A  1 instance, kafka mode (it owns all 12 partitions): every transfer local, nothing forwarded,
#      one writer: the all-local baseline.
#   L  3 instances, keys round-robin over the 3 URLs, accounts all in the partitions of the first:
#      2/3 of requests forwarded over NATS, one writer, no transfer crosses owners.
#   S  3 instances, 3 drivers (clients/3 each, all 3 URLs), each on accounts/3 accounts of one
#      owner: forwarded as in L, three writers, no transfer crosses owners.
#   B  3 instances, uniform accounts: 2/3 forwarded, three writers, about 2/3 of transfers cross
#      owners (debit + in-transit row on the payer's owner, credit by the payee's owner's receiver).
#   So per forwarded request (L - A) / forwarded share; three writers instead of one S - L;
#   per crossing (B - S) / crossing share (instances and Postgres apart).
#   J  a 4th instance joins (graceful move): time from its start to /readyz, to its first partition
#      in partition_owner, to a balanced map (3 partitions each, all on live instances).
#   K  SIGKILL of the 2nd instance: time until none of its partitions has it as owner (bounded below
#      by OWNERSHIP_SESSION_TIMEOUT_MS, default 6000), and until the 3 survivors are balanced.
# CPU is utime+stime from /proc over the steady window of each load (its first and last second
# left out, as scripts/bench does), sampled every 0.5 s and interpolated: each instance; "PG db" =
# the Postgres backends connected to the scratch database (the instances' pools); "PG server" = the
# whole server (scripts/bench.d/cpu.sh pg_cpu_ticks: includes the WAL writer and any other work on
# the shared server, e.g. the main stack's). A transfer crossed owners when its debit and credit rows
# were written by different transactions (xmin differs); the owner-map count (partition_owner
# snapshot taken during the load, ledger_partition_of of payer and payee) is printed beside it.
# Isolation from the main stack: a scratch database wallet_scale (dropped at the end), ports
# --port..--port+3 (default 18081..18084), Kafka topics/groups and NATS subjects suffixed with a
# fresh run tag (deleted/unused afterwards), LEDGER_EVENTS=off; accounts are inserted into the
# scratch database's users table and given to wallet-stress with --reuse-users (no user-service).
# Never starts an instance in the default `all` mode. Everything it starts is stopped by pid; a
# watchdog ends the script after --budget seconds (default 320). Every wallet-stress run checks the
# ledger invariants (API and SQL). Results: a table on stdout, appended as one line to
# $WALLET_BUILD_DIR/bench-instances/results.txt, the table and logs in that folder.
#
#   scripts/bench.d/instances.sh         (or scripts/bench --instances [options])
#   options: --clients N (33)  --seconds S (15)  --accounts N (99)  --port P (18081)
#            --budget S (320; cleanup adds at most 50 s)  --keep-topics
# Exit status: 0 measured and every invariant held; 1 otherwise.
set -euo pipefail
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib
source "$LIB/stack.sh"
source "$LIB/postgres.sh"
source "$LIB/kafka.sh"
source "$WALLET_SCRIPTS/bench.d/cpu.sh"
export_stack_env

clients=33 seconds=15 accounts=99 base_port=18081 budget=320 keep_topics=0
while (($#)); do
  case $1 in
    --clients) clients=${2:?--clients needs a number}; shift ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --accounts) accounts=${2:?--accounts needs a number}; shift ;;
    --port) base_port=${2:?--port needs a number}; shift ;;
    --budget) budget=${2:?--budget needs a number}; shift ;;
    --keep-topics) keep_topics=1 ;;
    -h | --help) usage "$0"; exit 0 ;;
    *) die "instances.sh: unknown option $1 (see --help)" ;;
  esac
  shift
done
for n in "$clients" "$seconds" "$accounts" "$base_port" "$budget"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "instances.sh: counts must be positive integers"
done
((seconds >= 4)) || die "instances.sh: --seconds must be at least 4 (the first and last are cut)"
((accounts >= 2)) || die "instances.sh: --accounts must be at least 2"

SERVICE=$WALLET_BIN_DIR/transaction-service
STRESS=$WALLET_BIN_DIR/wallet-stress
[[ -x $SERVICE && -x $STRESS ]] || die "build $SERVICE and $STRESS first (./scripts/up builds them)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
pg_init_paths
postmaster=$(pg_pid) || die "Postgres is not running: ./scripts/up infra first"
kcat -b "$KAFKA_BROKERS" -L -m 3 >/dev/null 2>&1 || die "Kafka at $KAFKA_BROKERS does not answer"
for p in 0 1 2 3; do
  ! port_open $((base_port + p)) || die "port $((base_port + p)) is in use (--port to move)"
done

OUT=$WALLET_BUILD_DIR/bench-instances
mkdir -p "$OUT"
DB=wallet_scale
DB_URL=postgresql://wallet:wallet@127.0.0.1:$PG_PORT/$DB
TAG=$(date -u +%H%M%S)-$$
export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=wallet PGPASSWORD=wallet PGCONNECT_TIMEOUT=5 \
  PGOPTIONS='-c client_min_messages=warning'
psql_in() { timeout 60 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$@"; }
sql() { psql_in "$DB" -At -c "$1"; }
drop_db() { psql_in postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---- processes of this script (stopped by pid in cleanup) -------------------------------------
declare -A PID   # port -> pid of its instance
sampler_pid='' stress_pids='' watchdog_pid='' topics=()
stop_instance() { # port
  local pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in {1..50}; do pid_running "$pid" || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}
cleanup() {
  local rc=$?
  trap - EXIT TERM INT
  [[ -n $watchdog_pid ]] && kill "$watchdog_pid" 2>/dev/null
  [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n $stress_pids ]] && kill -TERM $stress_pids 2>/dev/null
  local port
  for port in "${!PID[@]}"; do stop_instance "$port"; done
  drop_db
  if ((!keep_topics && ${#topics[@]})) && [[ -d $KAFKA_LIB ]]; then
    # Empty topics are harmless; deleting them keeps the broker's list short (best effort).
    timeout 45 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$KAFKA_BROKERS" --delete --if-exists \
      --topic "scale-.*-[abc]$TAG.*" >>"$OUT/topics-$TAG.log" 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "instances.sh: stopped (budget of $budget s or a signal)" >&2; exit 1' TERM INT
# The watchdog: its sleep ends with it, so nothing of it outlives the script.
(trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "$budget" & sp=$!; wait "$sp" && kill -TERM $$) &
watchdog_pid=$!

start_instance() { # port run
  local port=$1 run=$2
  env HTTP_PORT="$port" INSTANCE_ID="s-$port" PARTITION_OWNERSHIP=kafka DATABASE_URL="$DB_URL" \
    KAFKA_BROKERS="$KAFKA_BROKERS" NATS_URL="$NATS_URL" \
    KAFKA_GROUP_ID="scale-users-$run" KAFKA_TOPIC="scale-user-created-$run" \
    OWNERSHIP_TOPIC="scale-owners-$run" OWNERSHIP_GROUP="scale-owners-$run" \
    NATS_LEDGER_SUBJECT="scale-$run.ledger" NATS_BALANCE_SUBJECT="scale-$run.balance" \
    LEDGER_EVENTS=off LEDGER_EVENTS_TOPIC="scale-ledger-events-$run" ADMIN_TOKEN=scale \
    "$SERVICE" >"$OUT/instance-$run-$port.log" 2>&1 &
  PID[$port]=$!
}
ready() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/readyz"; }
# "owner count" lines of partition_owner.
owner_counts() { sql "SELECT coalesce(owner, '-'), count(*) FROM partition_owner GROUP BY 1 ORDER BY 1" | tr '|' ' '; }
# Balanced: every partition owned by one of the given instances, each holding P/n or P/n+1.
balanced() { # port...
  local ids n=$#
  ids=$(printf "'s-%s'," "$@")
  sql "SELECT count(*) = 0 FROM partition_owner WHERE owner IS NULL OR owner NOT IN (${ids%,})" |
    grep -qx t || return 1
  sql "SELECT count(DISTINCT owner) = $n AND max(c) - min(c) <= 1 FROM (SELECT owner, count(*) c
       FROM partition_owner GROUP BY owner) o" | grep -qx t
}
wait_until() { # seconds cmd... (polls every 0.1 s)
  local deadline
  deadline=$(awk -v t="$(now)" -v s="$1" 'BEGIN { printf "%.3f", t + s }')
  shift
  until "$@" >/dev/null 2>&1; do
    awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t < d) }' || return 1
    sleep 0.1
  done
}
start_group() { # run port... : starts them together, waits for /readyz and a balanced map
  local run=$1 port t0
  shift
  t0=$(now)
  for port in "$@"; do start_instance "$port" "$run"; topics+=("scale-owners-$run" "scale-user-created-$run"); done
  for port in "$@"; do
    wait_until 60 ready "$port" || die "instance $port not ready (log: $OUT/instance-$run-$port.log)"
  done
  wait_until 60 balanced "$@" || die "the group of $* did not balance: $(owner_counts | tr '\n' ';')"
  say "  $# instance(s) ready and balanced in $(since "$t0") s: $(owner_counts | tr '\n' ' ')"
}
new_accounts() { # file [owner-port [count]]: inserts accounts (in that instance's partitions)
  local where='' count=${3:-$accounts} gen=${3:-$accounts}
  if [[ -n ${2:-} ]]; then
    gen=$((count * 12))
    where="WHERE ledger_partition_of(u, (SELECT count(*)::int FROM partition_owner))
             IN (SELECT partition FROM partition_owner WHERE owner = 's-$2')"
  fi
  sql "INSERT INTO users (user_id) SELECT u FROM (SELECT gen_random_uuid() u
         FROM generate_series(1, $gen)) g $where LIMIT $count RETURNING user_id" |
    awk 'BEGIN { printf "{\"users\": [" } NF { printf "%s\"%s\"", (n++ ? ", " : ""), $1 }
         END { print "]}" }' >"$1"
}
metric_sum() { # port name: sum of a metric's samples (0 if absent)
  curl -fsS -m 5 "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%.6f\n", s + 0 }'
}

# ---- CPU sampling ---------------------------------------------------------------------------
# Every 0.5 s: "epoch pg_server pg_db forwarded ticks(pid1) ticks(pid2) ..." into $1, forwarded =
# the instances' wallet_forwarded_requests_total added up.
sampler() { # out "port..." pid...
  local out=$1 ports=$2 dbp p line fwd
  shift 2
  while :; do
    dbp=$(pgrep -P "$postmaster" -f "^postgres: wallet $DB " | tr '\n' ' ' || true)
    fwd=0
    for p in $ports; do
      fwd=$(awk -v a="$fwd" -v b="$(metric_sum "$p" wallet_forwarded_requests_total)" 'BEGIN { print a + b }')
    done
    line="$EPOCHREALTIME $(pg_cpu_ticks "$postmaster") $(cpu_ticks $dbp) $fwd"
    for p in "$@"; do line+=" $(cpu_ticks "$p")"; done
    echo "$line" >>"$out"
    sleep 0.5
  done
}
# Every column of $1 linearly interpolated at epoch time $2 (without the time column).
cols_at() {
  awk -v t="$2" '
    { ts[NR] = $1; nf = NF; for (c = 2; c <= NF; c++) v[NR, c] = $c }
    END {
      i = 1; while (i < NR && ts[i + 1] < t) i++
      j = (i < NR) ? i + 1 : i
      f = (ts[j] > ts[i]) ? (t - ts[i]) / (ts[j] - ts[i]) : 0
      if (f < 0) f = 0; if (f > 1) f = 1
      for (c = 2; c <= nf; c++) printf "%.3f ", v[i, c] + f * (v[j, c] - v[i, c])
      print ""
    }' "$1"
}

# ---- one measured load ----------------------------------------------------------------------
declare -A R   # label.key -> figure
stress_failed=0
run_load() { # label users_file[,users_file...] port... (one wallet-stress per file, clients shared)
  local label=$1 files
  IFS=, read -r -a files <<<"$2"
  shift 2
  local ports=("$@") urls='' p pids=() t0 rc=0 samples=$OUT/cpu-$label-$TAG.txt s0 s1 seq0 i
  local nf=${#files[@]} spids=() json log
  for p in "${ports[@]}"; do urls+="${urls:+,}http://127.0.0.1:$p"; pids+=("${PID[$p]}"); done
  seq0=$(sql "SELECT coalesce(max(seq), 0) FROM transactions")
  : >"$samples"
  sampler "$samples" "${ports[*]}" "${pids[@]}" &
  sampler_pid=$!
  t0=$(now)
  for ((i = 0; i < nf; i++)); do
    timeout $((seconds + 120)) "$STRESS" --transaction-service "$urls" --reuse-users "${files[i]}" \
      --fund 1000000.00 --min-amount 0.01 --max-amount 1.00 --transfers $((seconds * 20000)) \
      --concurrency $((clients / nf)) --duplicate-share 0 --duration-limit "$seconds" \
      --settle-wait 10 --seed $((i + 1)) --database-url "$DB_URL" \
      --json "$OUT/stress-$label.$i-$TAG.json" --quiet >"$OUT/stress-$label.$i-$TAG.log" 2>&1 &
    spids+=($!)
  done
  stress_pids="${spids[*]}"
  # The owner map during the load (for the owner-map count of crossings).
  sleep 2
  sql "DROP TABLE IF EXISTS owners_$label; CREATE TABLE owners_$label AS
       SELECT partition, owner FROM partition_owner" >/dev/null
  local worst=0
  for ((i = 0; i < nf; i++)); do
    rc=0
    wait "${spids[i]}" || rc=$?
    log=$OUT/stress-$label.$i-$TAG.log
    ((rc != 2 && rc != 124)) || { cat "$log" >&2; die "wallet-stress could not run (log: $log)"; }
    ((rc == 0)) || { stress_failed=1 worst=1; tail -n 30 "$log" >&2; }
  done
  rc=$worst
  stress_pids=''
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=''
  # The steady window of each driver: whole seconds 1 .. n-2 of its load. With several drivers the
  # CPU window is the part common to all, and each driver's transfers are counted at its steady
  # rate over that window.
  local from='' to='' counted=0 requests_w=0 setup elapsed n f_i t_i c_i r_i
  local -a wins=()
  for ((i = 0; i < nf; i++)); do
    json=$OUT/stress-$label.$i-$TAG.json
    setup=$(jq -r '.figures.setup_seconds' "$json")
    elapsed=$(jq -r '.figures.elapsed_seconds' "$json")
    n=$(awk -v e="$elapsed" 'BEGIN { printf "%d", e }')
    c_i=$(jq -r --argjson n "$n" '[.timeline[] | select(.second >= 1 and .second <= $n - 2)
      | .transfers] | add // 0' "$json")
    r_i=$(jq -r --argjson n "$n" '[.timeline[] | select(.second >= 1 and .second <= $n - 2)
      | .requests] | add // 0' "$json")
    f_i=$(awk -v a="$t0" -v s="$setup" 'BEGIN { printf "%.3f", a + s + 1 }')
    t_i=$(awk -v a="$t0" -v s="$setup" -v n="$n" 'BEGIN { printf "%.3f", a + s + n - 1 }')
    wins+=("$f_i $t_i $c_i $r_i")
    from=$(awk -v a="${from:-0}" -v b="$f_i" 'BEGIN { printf "%.3f", (b > a ? b : a) }')
    to=$(awk -v a="${to:-1e18}" -v b="$t_i" 'BEGIN { printf "%.3f", (b < a ? b : a) }')
  done
  for ((i = 0; i < nf; i++)); do
    read -r f_i t_i c_i r_i <<<"${wins[i]}"
    counted=$(awk -v s="$counted" -v c="$c_i" -v f="$f_i" -v t="$t_i" -v F="$from" -v T="$to" \
      'BEGIN { printf "%.0f", s + c * (T - F) / (t - f) }')
    requests_w=$(awk -v s="$requests_w" -v c="$r_i" -v f="$f_i" -v t="$t_i" -v F="$from" -v T="$to" \
      'BEGIN { printf "%.0f", s + c * (T - F) / (t - f) }')
  done
  n=$(awk -v f="$from" -v t="$to" 'BEGIN { print t - f + 2 }')
  read -r -a s0 < <(cols_at "$samples" "$from")
  read -r -a s1 < <(cols_at "$samples" "$to")
  # Raw figures (added up over the two runs of a configuration by combine), then derived ones.
  local k
  R[$label.inst]=${#ports[@]} R[$label.n]=$counted R[$label.w]=$(awk -v n="$n" 'BEGIN { print n - 2 }') R[$label.reqw]=$requests_w
  R[$label.t_srv]=$(awk -v a="${s0[0]}" -v b="${s1[0]}" 'BEGIN { print b - a }')
  R[$label.t_db]=$(awk -v a="${s0[1]}" -v b="${s1[1]}" 'BEGIN { print b - a }')
  R[$label.t_fwd]=$(awk -v a="${s0[2]}" -v b="${s1[2]}" 'BEGIN { print b - a }')
  for ((k = 0; k < ${#ports[@]}; k++)); do
    R[$label.t_i$k]=$(awk -v a="${s0[k + 3]}" -v b="${s1[k + 3]}" 'BEGIN { print b - a }')
  done
  # Latency: the worst driver's percentiles (one driver but for S).
  local jsons=("$OUT"/stress-"$label".*-"$TAG".json)
  R[$label.p50]=$(jq -s -r '[.[].figures.latency_ms.p50] | max * 10 | round / 10' "${jsons[@]}")
  R[$label.p99]=$(jq -s -r '[.[].figures.latency_ms.p99] | max * 10 | round / 10' "${jsons[@]}")
  R[$label.5xx]=$(jq -s -r '[.[].instances[].status | (."503" // 0) + (.other // 0)
    + (.transport_error // 0)] | add' "${jsons[@]}")
  R[$label.status]=$(jq -s -r '[.[].instances[]] | group_by(.url) | map((.[0].url | sub(".*:"; ""))
    + " " + (map(.status | to_entries) | add | group_by(.key) | map({key: .[0].key,
    value: (map(.value) | add)}) | map(select(.value > 0) | "\(.key)=\(.value)") | join(",")))
    | join("; ")' "${jsons[@]}")
  R[$label.ok]=$( ((rc == 0)) && echo held || echo VIOLATED)
  # Transfers of the run: crossed owners (two transactions), by the owner map, commits per transfer,
  # and the time a crossing spent in transit (credit's commit time - debit's).
  local q
  q=$(sql "WITH d AS (SELECT transfer_id, user_id, xmin::text x, created_at FROM transactions
                      WHERE kind = 'transfer_debit' AND seq > $seq0),
                c AS (SELECT transfer_id, user_id, xmin::text x, created_at FROM transactions
                      WHERE kind = 'transfer_credit' AND transfer_id IN (SELECT transfer_id FROM d)),
                p AS (SELECT count(*)::int n FROM partition_owner),
                j AS (SELECT d.x <> c.x crossed, od.owner <> oc.owner map_crossed,
                             extract(epoch FROM c.created_at - d.created_at) * 1000 ms
                        FROM d JOIN c USING (transfer_id), p
                        JOIN owners_$label od ON true JOIN owners_$label oc ON true
                       WHERE od.partition = ledger_partition_of(d.user_id, p.n)
                         AND oc.partition = ledger_partition_of(c.user_id, p.n))
           SELECT count(*), count(*) FILTER (WHERE crossed), count(*) FILTER (WHERE map_crossed),
                  coalesce(round((sum(ms) FILTER (WHERE crossed))::numeric, 0), 0),
                  coalesce(round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
                    FILTER (WHERE crossed))::numeric, 0), 0),
                  (SELECT count(DISTINCT xmin::text) FROM transactions WHERE seq > $seq0
                     AND kind <> 'deposit'),
                  (SELECT count(DISTINCT c.x) FROM c JOIN d USING (transfer_id) WHERE c.x <> d.x)
             FROM j")
  IFS='|' read -r R[$label.transfers] R[$label.crossed] R[$label.map_crossed] R[$label.transit_sum] \
    R[$label.transit_p99] R[$label.commits] R[$label.credit_commits] <<<"$q"
  derive "$label"
  printf '  %-5s %6s transfers/s  p50 %s ms p99 %s ms  CPU us/transfer: instances %s, PG db %s (server %s)\n' \
    "$label" "${R[$label.tps]}" "${R[$label.p50]}" "${R[$label.p99]}" "${R[$label.inst_us]}" \
    "${R[$label.pg_db]}" "${R[$label.pg_server]}"
  printf '        forwarded %s, crossed %s of %s (owner map: %s), 5xx %s, invariants %s\n' \
    "${R[$label.fwd]}" "${R[$label.crossed]}" "${R[$label.transfers]}" "${R[$label.map_crossed]}" \
    "${R[$label.5xx]}" "${R[$label.ok]}"
}
# Per-transfer figures from the raw ones of a label.
per() { awk -v d="$1" -v n="$2" 'BEGIN { printf "%.3f", (n > 0 ? d / n : 0) }'; }
derive() { # label
  local l=$1 k inst_us='' inst_sum=0
  R[$l.tps]=$(awk -v c="${R[$l.n]}" -v w="${R[$l.w]}" 'BEGIN { printf "%.0f", (w > 0 ? c / w : 0) }')
  R[$l.pg_server]=$(us_per "${R[$l.t_srv]}" "${R[$l.n]}")
  R[$l.pg_db]=$(us_per "${R[$l.t_db]}" "${R[$l.n]}")
  for ((k = 0; k < ${R[$l.inst]}; k++)); do
    inst_sum=$(awk -v a="$inst_sum" -v b="${R[$l.t_i$k]}" 'BEGIN { print a + b }')
    inst_us+="${inst_us:+/}$(us_per "${R[$l.t_i$k]}" "${R[$l.n]}")"
  done
  R[$l.inst_us]=$inst_us
  R[$l.inst_sum]=$(us_per "$inst_sum" "${R[$l.n]}")
  R[$l.total]=$((${R[$l.inst_sum]} + ${R[$l.pg_db]}))
  # Forwarded share: requests handed to another owner / requests, over the steady window.
  R[$l.fwd]=$(per "${R[$l.t_fwd]}" "${R[$l.reqw]}")
  R[$l.cross]=$(per "${R[$l.crossed]}" "${R[$l.transfers]}")
  R[$l.cpt]=$(per "${R[$l.commits]}" "${R[$l.transfers]}")
  R[$l.transit_avg]=$(awk -v s="${R[$l.transit_sum]}" -v c="${R[$l.crossed]}" \
    'BEGIN { printf "%.0f", (c > 0 ? s / c : 0) }')
}
# Two runs of one configuration as one: raw figures added up (the runs are in mirrored order,
# A B L L B A, so that a drift of the shared machine's load favours no configuration); latency
# percentiles cannot be added: both are kept ("first|second").
combine() { # label a b
  local l=$1 a=$2 b=$3 f k
  R[$l.inst]=${R[$a.inst]}
  for f in n w reqw t_srv t_db t_fwd 5xx transfers crossed map_crossed transit_sum commits credit_commits; do
    R[$l.$f]=$(awk -v x="${R[$a.$f]}" -v y="${R[$b.$f]}" 'BEGIN { print x + y }')
  done
  for ((k = 0; k < ${R[$l.inst]}; k++)); do
    R[$l.t_i$k]=$(awk -v x="${R[$a.t_i$k]}" -v y="${R[$b.t_i$k]}" 'BEGIN { print x + y }')
  done
  R[$l.transit_p99]=$(awk -v x="${R[$a.transit_p99]}" -v y="${R[$b.transit_p99]}" 'BEGIN { print (x > y ? x : y) }')
  R[$l.p50]="${R[$a.p50]}|${R[$b.p50]}" R[$l.p99]="${R[$a.p99]}|${R[$b.p99]}"
  R[$l.status]="${R[$a.status]} / ${R[$b.status]}"
  R[$l.ok]=$([[ ${R[$a.ok]} == held && ${R[$b.ok]} == held ]] && echo held || echo VIOLATED)
  derive "$l"
}

# ---- the runs -------------------------------------------------------------------------------
P1=$base_port P2=$((base_port + 1)) P3=$((base_port + 2)) P4=$((base_port + 3))
say "scale: scratch database $DB, run tag $TAG, $clients clients, $seconds s per load, $accounts accounts"
drop_db
psql_in postgres -c "CREATE DATABASE $DB" >/dev/null

say "A1: 1 instance (kafka mode, owns every partition)"
start_group "a$TAG" "$P1"
new_accounts "$OUT/users-A-$TAG.json"
run_load A1 "$OUT/users-A-$TAG.json" "$P1"
stop_instance "$P1"

say "B: 3 instances, uniform accounts (forwarding and crossings)"
start_group "b$TAG" "$P1" "$P2" "$P3"
# What three idle instances cost (receivers polling transfers_in_transit, group heartbeats...):
# CPU ms per second over 4 s, just after the start and again after the loads.
idle_db() { cpu_ticks $(pgrep -P "$postmaster" -f "^postgres: wallet $DB " | tr '\n' ' ' || true); }
idle_cost() { # prints "instances_ms_per_s pg_db_ms_per_s"
  local pids=("${PID[$P1]}" "${PID[$P2]}" "${PID[$P3]}") i0 d0 i1 d1 t0 el
  i0=$(cpu_ticks "${pids[@]}") d0=$(idle_db) t0=$(now)
  sleep 4
  i1=$(cpu_ticks "${pids[@]}") d1=$(idle_db) el=$(since "$t0")
  awk -v a="$i0" -v b="$i1" -v c="$d0" -v d="$d1" -v s="$el" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f %.0f\n", (b - a) * 1000 / hz / s, (d - c) * 1000 / hz / s }'
}
read -r idle_inst idle_pg < <(idle_cost)
say "  idle after start: instances ${idle_inst} ms CPU/s, PG db ${idle_pg} ms CPU/s"
new_accounts "$OUT/users-B-$TAG.json"
run_load B1 "$OUT/users-B-$TAG.json" "$P1" "$P2" "$P3"

say "L1, L2: 3 instances, accounts all in s-$P1's partitions (forwarding, no crossing)"
new_accounts "$OUT/users-L-$TAG.json" "$P1"
run_load L1 "$OUT/users-L-$TAG.json" "$P1" "$P2" "$P3"

say "S1, S2: 3 instances, 3 drivers each on accounts of one owner (3 writers, forwarding, no crossing)"
for p in "$P1" "$P2" "$P3"; do new_accounts "$OUT/users-S$p-$TAG.json" "$p" $((accounts / 3)); done
s_files="$OUT/users-S$P1-$TAG.json,$OUT/users-S$P2-$TAG.json,$OUT/users-S$P3-$TAG.json"
run_load S1 "$s_files" "$P1" "$P2" "$P3"
run_load S2 "$s_files" "$P1" "$P2" "$P3"

say "L2: as L1"
run_load L2 "$OUT/users-L-$TAG.json" "$P1" "$P2" "$P3"

say "B2: 3 instances, uniform accounts again"
run_load B2 "$OUT/users-B-$TAG.json" "$P1" "$P2" "$P3"
read -r idle_inst2 idle_pg2 < <(idle_cost)
say "  idle after the loads: instances ${idle_inst2} ms CPU/s, PG db ${idle_pg2} ms CPU/s"

say "J: a 4th instance joins the group of B"
t0=$(now)
start_instance "$P4" "b$TAG"
wait_until 60 ready "$P4" || die "instance $P4 not ready (log: $OUT/instance-b$TAG-$P4.log)"
j_ready=$(since "$t0")
has_partition() { sql "SELECT count(*) FROM partition_owner WHERE owner = 's-$P4'" | grep -qv '^0$'; }
wait_until 60 has_partition || die "the 4th instance took no partition in 60 s"
j_first=$(since "$t0")
wait_until 60 balanced "$P1" "$P2" "$P3" "$P4" || die "4 instances did not balance: $(owner_counts | tr '\n' ';')"
j_balanced=$(since "$t0")
say "  ready ${j_ready} s, first partition ${j_first} s, balanced ${j_balanced} s: $(owner_counts | tr '\n' ' ')"

say "K: SIGKILL of s-$P2"
victim=${PID[$P2]}
t0=$(now)
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
unset "PID[$P2]"
gone() { sql "SELECT count(*) FROM partition_owner WHERE owner = 's-$P2'" | grep -qx 0; }
wait_until 60 gone || die "s-$P2's partitions did not move in 60 s"
k_moved=$(since "$t0")
wait_until 60 balanced "$P1" "$P3" "$P4" || die "3 survivors did not balance: $(owner_counts | tr '\n' ';')"
k_balanced=$(since "$t0")
say "  partitions moved ${k_moved} s, balanced ${k_balanced} s: $(owner_counts | tr '\n' ' ')"

say "A2: 1 instance again (the others stopped; a group of its own)"
for port in "${!PID[@]}"; do stop_instance "$port"; done
start_group "c$TAG" "$P1"
run_load A2 "$OUT/users-A-$TAG.json" "$P1"
stop_instance "$P1"
combine A A1 A2
combine B B1 B2
combine L L1 L2
combine S S1 S2

# Errors and criticals in the instances' logs (a SIGKILL leaves none of its own).
log_errors=$(cat "$OUT"/instance-*"$TAG"-*.log | grep -cE ' (error|critical) ' || true)
grep -hE ' (error|critical) ' "$OUT"/instance-*"$TAG"-*.log | sed -E 's/^[^ ]+ //' |
  awk '{ $0 = substr($0, 1, 160) } !seen[$0]++' | head -n 8 >"$OUT/log-errors-$TAG.txt" || true

# ---- results --------------------------------------------------------------------------------
diff_per() { awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { printf "%.0f", (s > 0 ? (a - b) / s : 0) }'; }
# L - A: forwarding (one writer, as A); S - L: the writes spread over three writers (smaller group
# commits); B - S: crossing owners (B and S forward the same share, both have three writers).
fwd_extra=$(diff_per "${R[L.total]}" "${R[A.total]}" "${R[L.fwd]}")
spread_extra=$(diff_per "${R[S.total]}" "${R[L.total]}" 1)
cross_extra=$(diff_per "${R[B.total]}" "${R[S.total]}" "${R[B.cross]}")
cross_pg=$(diff_per "${R[B.pg_db]}" "${R[S.pg_db]}" "${R[B.cross]}")
cross_inst=$(diff_per "${R[B.inst_sum]}" "${R[S.inst_sum]}" "${R[B.cross]}")
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$WALLET_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
table=$OUT/table-$TAG.txt
{
  echo "scale (issue 15 item 7) $when commit $commit: $clients clients, $seconds s per load" \
    "(steady window = load minus first and last second), $accounts accounts, load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-3s %-4s %6s %11s %11s %-14s %7s %6s %6s %6s %6s %6s %8s %10s %4s\n' run inst tps p50_ms \
    p99_ms 'inst_us(each)' inst_us pg_db pg_srv total fwd cross commit/t transit_ms 5xx
  for l in A L S B; do
    printf '%-3s %-4s %6s %11s %11s %-14s %7s %6s %6s %6s %6s %6s %8s %10s %4s\n' "$l" \
      "${R[$l.inst]}" "${R[$l.tps]}" "${R[$l.p50]}" "${R[$l.p99]}" "${R[$l.inst_us]}" \
      "${R[$l.inst_sum]}" "${R[$l.pg_db]}" "${R[$l.pg_server]}" "${R[$l.total]}" "${R[$l.fwd]}" \
      "${R[$l.cross]}" "${R[$l.cpt]}" "${R[$l.transit_avg]}/${R[$l.transit_p99]}" "${R[$l.5xx]}"
  done
  echo "  (each row: two runs of $seconds s added up, A1+A2, L1+L2, S1+S2, B1+B2; p50/p99: first|second"
  echo "   run, S: its worst driver;"
  echo "   us = CPU microseconds per transfer; total = instances + PG db; fwd = forwarded share of"
  echo "   requests; cross = share of transfers in two commits; commit/t = ledger commits per"
  echo "   transfer; transit_ms = credit commit - debit commit of crossings, mean/p99)"
  echo "  B: ${R[B.crossed]} crossings' credits landed in ${R[B.credit_commits]} commits;" \
    "3 idle instances: ${idle_inst} ms CPU/s after start, ${idle_inst2} after the loads" \
    "(their PG backends ${idle_pg}, ${idle_pg2})"
  echo "  crossings by owner map: A ${R[A.map_crossed]}, L ${R[L.map_crossed]}, S ${R[S.map_crossed]}," \
    "B ${R[B.map_crossed]} (by xmin: ${R[A.crossed]}, ${R[L.crossed]}, ${R[S.crossed]}, ${R[B.crossed]}" \
    "of ${R[A.transfers]}, ${R[L.transfers]}, ${R[S.transfers]}, ${R[B.transfers]} transfers)"
  echo "  CPU us, total per transfer: forwarding (L - A)/fwd_L = $fwd_extra per forwarded request;" \
    "three writers S - L = $spread_extra per transfer;"
  echo "    crossing (B - S)/cross_B = $cross_extra per crossing (instances $cross_inst, PG db $cross_pg);" \
    "B/A = $(awk -v b="${R[B.total]}" -v a="${R[A.total]}" 'BEGIN { printf "%.2f", b / a }')"
  echo "  move: 4th joins: ready ${j_ready} s, first partition ${j_first} s, balanced ${j_balanced} s;" \
    "SIGKILL: partitions moved ${k_moved} s, balanced ${k_balanced} s (session timeout 6000 ms)"
  for l in A L S B; do echo "  statuses $l: ${R[$l.status]}"; done
  echo "  instance log error/critical lines: $log_errors; invariants: $( ((stress_failed)) && echo VIOLATED || echo held)"
  sed 's/^/    /' "$OUT/log-errors-$TAG.txt"
} | tee "$table"
{
  printf '%s commit=%s clients=%s seconds=%s accounts=%s' "$when" "$commit" "$clients" "$seconds" "$accounts"
  for l in A L S B; do
    for k in tps p50 p99 inst_us inst_sum pg_db pg_server total fwd cross cpt transit_avg transit_p99 5xx ok; do
      printf ' %s_%s=%s' "$l" "$k" "${R[$l.$k]}"
    done
  done
  printf ' fwd_extra_us=%s spread_extra_us=%s cross_extra_us=%s cross_inst_us=%s cross_pg_us=%s' \
    "$fwd_extra" "$spread_extra" "$cross_extra" "$cross_inst" "$cross_pg"
  printf ' join_ready_s=%s join_first_s=%s join_balanced_s=%s' \
    "$j_ready" "$j_first" "$j_balanced"
  printf ' kill_moved_s=%s kill_balanced_s=%s log_errors=%s B_credit_commits=%s idle_inst_ms_s=%s idle_pg_ms_s=%s\n' \
    "$k_moved" "$k_balanced" "$log_errors" "${R[B.credit_commits]}" "$idle_inst/$idle_inst2" "$idle_pg/$idle_pg2"
} >>"$OUT/results.txt"
say "results: $table, a line in $OUT/results.txt"
((stress_failed == 0))
