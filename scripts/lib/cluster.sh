# shellcheck shell=bash
# The replicated stack of scripts/cluster (DESIGN.md section 8) on loopback, beside the single-node
# stack of scripts/up (its ports never collide): 3 etcd members, Postgres 15 primary + synchronous
# standby under Patroni, 3 combined broker/controller Kafka nodes (RF 3, min.insync.replicas=2),
# 3 clustered nats-server nodes, and the services with multi-host URLs. Everything lives under
# $WALLET_STATE/cluster (data, logs, pid files); sourced after stack.sh, postgres.sh and kafka.sh.

CL_DIR=$WALLET_STATE/cluster
CL_LOG=$CL_DIR/logs
CL_RUN=$CL_DIR/run

# How many instances of each service. With TX_INSTANCES > 1 the transaction-service instances own
# the ledger partitions the Kafka group assigns them (PARTITION_OWNERSHIP=kafka,
# docs/scaling.md "Several instances"); with 1 it owns every account.
CLUSTER_TX_INSTANCES=${CLUSTER_TX_INSTANCES:-1}
CLUSTER_USER_INSTANCES=${CLUSTER_USER_INSTANCES:-2}

# Ports. Member i (1-based) uses base + i - 1 (services: see cl_svc_port).
CL_ETCD_CLIENT_BASE=${CL_ETCD_CLIENT_BASE:-12371}
CL_ETCD_PEER_BASE=${CL_ETCD_PEER_BASE:-12381}
CL_PG_BASE=${CL_PG_BASE:-15432}            # Postgres of Patroni node i
CL_PATRONI_BASE=${CL_PATRONI_BASE:-18008}  # Patroni REST API of node i
CL_KAFKA_BASE=${CL_KAFKA_BASE:-19092}
CL_KAFKA_CONTROLLER_BASE=${CL_KAFKA_CONTROLLER_BASE:-19192}
CL_NATS_BASE=${CL_NATS_BASE:-14222}
CL_NATS_ROUTE_BASE=${CL_NATS_ROUTE_BASE:-16222}
CL_NATS_MONITOR_BASE=${CL_NATS_MONITOR_BASE:-18222}
CL_USER_BASE=${CL_USER_BASE:-28080}  # user-service i on 28080, 28090, ...
CL_TX_BASE=${CL_TX_BASE:-28081}      # transaction-service i on 28081, 28082, ...

CL_ETCD_N=3 CL_PG_N=2 CL_KAFKA_N=3 CL_NATS_N=3
CL_KAFKA_HEAP_OPTS=${CL_KAFKA_HEAP_OPTS:--Xms96m -Xmx384m}
CL_KAFKA_TOPICS=("user-created:3" "user-created.dlq:1" "ledger-events:3" "ledger-partitions:$LEDGER_PARTITIONS")
CL_SCOPE=wallet
CL_PG_SUPERUSER_PASSWORD=wallet-cluster-postgres
CL_PG_REPLICATION_PASSWORD=wallet-cluster-replicator

seq_n() { seq 1 "$1"; }
join_by() { local IFS=$1; shift; echo "$*"; }

cl_etcd_endpoints() {
  local i e=()
  for i in $(seq_n $CL_ETCD_N); do e+=("127.0.0.1:$((CL_ETCD_CLIENT_BASE + i - 1))"); done
  join_by , "${e[@]}"
}
cl_kafka_brokers() {
  local i e=()
  for i in $(seq_n $CL_KAFKA_N); do e+=("127.0.0.1:$((CL_KAFKA_BASE + i - 1))"); done
  join_by , "${e[@]}"
}
cl_nats_urls() {
  local i e=()
  for i in $(seq_n $CL_NATS_N); do e+=("nats://127.0.0.1:$((CL_NATS_BASE + i - 1))"); done
  join_by , "${e[@]}"
}
# libpq multi-host URI: every node in turn, only a read-write (primary) session is accepted.
cl_db_url() { # database
  local i e=()
  for i in $(seq_n $CL_PG_N); do e+=("127.0.0.1:$((CL_PG_BASE + i - 1))"); done
  echo "postgresql://wallet:wallet@$(join_by , "${e[@]}")/$1?target_session_attrs=read-write&connect_timeout=2"
}
cl_svc_port() { # name index
  if [[ $1 == user-service ]]; then echo $((CL_USER_BASE + 10 * ($2 - 1))); else echo $((CL_TX_BASE + $2 - 1)); fi
}
cl_svc_count() { [[ $1 == user-service ]] && echo "$CLUSTER_USER_INSTANCES" || echo "$CLUSTER_TX_INSTANCES"; }

# What the tests and a person need to reach the replicated stack.
cluster_export_env() {
  local i u=() t=()
  for i in $(seq_n "$CLUSTER_USER_INSTANCES"); do u+=("http://127.0.0.1:$(cl_svc_port user-service "$i")"); done
  for i in $(seq_n "$CLUSTER_TX_INSTANCES"); do t+=("http://127.0.0.1:$(cl_svc_port transaction-service "$i")"); done
  export CLUSTER_STATE=$CL_DIR
  export CLUSTER_USER_SERVICE_URLS CLUSTER_TRANSACTION_SERVICE_URLS CLUSTER_USER_DB_URL \
    CLUSTER_TRANSACTION_DB_URL CLUSTER_KAFKA_BROKERS CLUSTER_NATS_URL CLUSTER_PATRONI_CONFIG CLUSTER_ETCD_ENDPOINTS
  CLUSTER_USER_SERVICE_URLS=$(join_by , "${u[@]}")
  CLUSTER_TRANSACTION_SERVICE_URLS=$(join_by , "${t[@]}")
  CLUSTER_USER_DB_URL=$(cl_db_url user_service)
  CLUSTER_TRANSACTION_DB_URL=$(cl_db_url transaction_service)
  CLUSTER_KAFKA_BROKERS=$(cl_kafka_brokers)
  CLUSTER_NATS_URL=$(cl_nats_urls)
  CLUSTER_PATRONI_CONFIG=$CL_DIR/pg1/patroni.yml
  CLUSTER_ETCD_ENDPOINTS=$(cl_etcd_endpoints)
  local p=() m=()
  for i in $(seq_n $CL_PG_N); do p+=("http://127.0.0.1:$((CL_PATRONI_BASE + i - 1))"); done
  for i in $(seq_n $CL_NATS_N); do m+=("http://127.0.0.1:$((CL_NATS_MONITOR_BASE + i - 1))"); done
  export CLUSTER_PATRONI_URLS CLUSTER_NATS_MONITOR_URLS
  CLUSTER_PATRONI_URLS=$(join_by , "${p[@]}")
  CLUSTER_NATS_MONITOR_URLS=$(join_by , "${m[@]}")
}

cluster_dirs() {
  mkdir -p "$CL_DIR" "$CL_LOG" "$CL_RUN"
  chmod 755 "$CL_DIR" "$CL_LOG" "$CL_RUN"
}

# ---- etcd ------------------------------------------------------------------------------------
cl_etcd_pid() { live_pid "$CL_RUN/etcd$1.pid" "--name e$1 "; }
cl_etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints="$(cl_etcd_endpoints)" --command-timeout=2s endpoint health; }

cl_etcd_up() {
  local i pid peers=() launched=0
  for i in $(seq_n $CL_ETCD_N); do peers+=("e$i=http://127.0.0.1:$((CL_ETCD_PEER_BASE + i - 1))"); done
  for i in $(seq_n $CL_ETCD_N); do
    cl_etcd_pid "$i" >/dev/null && continue
    local c=$((CL_ETCD_CLIENT_BASE + i - 1)) p=$((CL_ETCD_PEER_BASE + i - 1)) state=new
    require_free_port "etcd$i" "$c" || return 1
    require_free_port "etcd$i" "$p" || return 1
    [[ -d $CL_DIR/etcd$i/member ]] && state=existing
    # Fast heartbeats: a lost member is noticed in about a second on loopback.
    pid=$(launch "$CL_LOG/etcd$i.log" etcd --name "e$i" --data-dir "$CL_DIR/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
      --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
      --initial-cluster "$(join_by , "${peers[@]}")" --initial-cluster-state "$state" \
      --initial-cluster-token wallet-cluster --heartbeat-interval 100 --election-timeout 1000 \
      --quota-backend-bytes 268435456 --snapshot-count 10000 --log-level warn)
    echo "$pid" >"$CL_RUN/etcd$i.pid"
    launched=1
  done
  if ! wait_for 30 "" cl_etcd_healthy; then
    report_failure etcd "$CL_LOG/etcd1.log" "the 3 members did not report healthy within 30 s"
    return 1
  fi
  ((launched)) && say "etcd: started, 3 members on $(cl_etcd_endpoints)" || say "etcd: already running"
}

# ---- Patroni + Postgres ----------------------------------------------------------------------
# Patroni runs Postgres, so it runs as the postgres OS user when we are root (setpriv execs: the pid
# we record is Patroni's own, so SIGKILL on it really kills the node's manager).
as_pg_exec() {
  if [[ $EUID -eq 0 ]]; then
    echo setpriv --reuid=postgres --regid=postgres --init-groups --
  fi
}
# Where node i's Postgres lives: $CL_DIR/pg<i>, unless the postgres OS user cannot reach it (a
# checkout under /root) or its socket path would pass the 107-byte limit; then in
# /var/tmp/wallet-cluster-<hash>/pg<i> with a symlink from $CL_DIR/pg<i> (as scripts/lib/postgres.sh).
cl_pg_home() {
  local ext=/var/tmp/wallet-cluster-$(printf %s "$CL_DIR" | md5sum | cut -c1-12)
  if [[ -d $ext ]] || ((${#CL_DIR} + 24 > 107)) ||
    { [[ $EUID -eq 0 ]] && ! (cd / && runuser -u postgres -- test -x "$WALLET_STATE") 2>/dev/null; }; then
    echo "$ext"
  else
    echo "$CL_DIR"
  fi
}
cl_patroni_pid() { live_pid "$CL_RUN/patroni$1.pid" "pg$1/patroni.yml"; }
cl_postmaster_pid() { live_pid "$CL_DIR/pg$1/data/postmaster.pid" postgres; }
cl_patroni_api() { curl -fsS -m 2 "http://127.0.0.1:$((CL_PATRONI_BASE + $1 - 1))/$2"; }
# The node index of the current primary, or nothing.
cl_pg_leader() {
  local i
  for i in $(seq_n $CL_PG_N); do cl_patroni_api "$i" primary >/dev/null 2>&1 && { echo "$i"; return 0; }; done
  return 1
}
cl_patronictl() { patronictl -c "$CL_DIR/pg1/patroni.yml" "$@"; }
# True when some member is the synchronous standby and streaming.
cl_pg_sync_ready() {
  local leader
  leader=$(cl_pg_leader) || return 1
  cl_patroni_api "$leader" patroni 2>/dev/null | grep -q '"state": "streaming", "sync_state": "sync"'
}

cl_patroni_config() { # index
  local i=$1 d=$CL_PG_HOME/pg$1
  local pg=$((CL_PG_BASE + i - 1)) api=$((CL_PATRONI_BASE + i - 1))
  cat >"$d/patroni.yml" <<EOF
# Written by scripts/lib/cluster.sh on every start; edit there.
scope: $CL_SCOPE
namespace: /wallet-cluster/
name: pg$i
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api
etcd3:
  hosts: $(cl_etcd_endpoints)
$(patroni_bootstrap_yaml)
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $d/data
  bin_dir: $PG_BIN
  pgpass: $d/pgpass
  # A node whose pg_rewind failed (its leader was cut off at that moment) or whose timeline
  # diverged is cloned again rather than left down (the nemesis' 60-minute run lost its standby
  # for 40 minutes that way: docs/nemesis.md).
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser:
      username: postgres
      password: $CL_PG_SUPERUSER_PASSWORD
    replication:
      username: replicator
      password: $CL_PG_REPLICATION_PASSWORD
  parameters:
    unix_socket_directories: '$d'
    max_connections: 200
    shared_buffers: 32MB
    fsync: "on"
    synchronous_commit: "on"
    log_line_prefix: '%m [%p] %q%u@%d '
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
EOF
}

cl_pg_up() {
  local i pid launched=0
  CL_PG_HOME=$(cl_pg_home)
  if [[ $CL_PG_HOME != "$CL_DIR" ]]; then
    mkdir -p "$CL_PG_HOME"
    chmod 755 "$CL_PG_HOME"
  fi
  for i in $(seq_n $CL_PG_N); do
    local d=$CL_PG_HOME/pg$i
    mkdir -p "$d"
    [[ $CL_PG_HOME != "$CL_DIR" ]] && ln -sfn "$d" "$CL_DIR/pg$i"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d"
    chmod 700 "$d"
    cl_patroni_config "$i"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d/patroni.yml"
    cl_patroni_pid "$i" >/dev/null && continue
    # A Postgres left behind by a killed Patroni is stopped first: Patroni adopts a running one only
    # when it looks healthy, and a half-dead one would block the port.
    if pid=$(cl_postmaster_pid "$i"); then
      warn "pg$i: postgres (pid $pid) runs without its Patroni; stopping it first"
      (cd / && $(as_pg_exec) "$PG_BIN/pg_ctl" -D "$d/data" stop -m fast -w -t 15 >/dev/null 2>&1) ||
        kill -KILL "$pid" 2>/dev/null || true
    fi
    require_free_port "pg$i" $((CL_PG_BASE + i - 1)) || return 1
    require_free_port "patroni$i" $((CL_PATRONI_BASE + i - 1)) || return 1
    touch "$CL_LOG/patroni$i.log"
    # Without the caller's libpq variables (drop_libpq_env): Postgres would take PGPASSWORD over
    # the passfile Patroni writes, and the standby's replication login would fail.
    # shellcheck disable=SC2046 # as_pg_exec prints a command prefix or nothing
    pid=$(cd / && drop_libpq_env && launch "$CL_LOG/patroni$i.log" $(as_pg_exec) patroni \
      "$d/patroni.yml")
    echo "$pid" >"$CL_RUN/patroni$i.pid"
    launched=1
  done
  if ! wait_for 90 "" cl_pg_leader; then
    report_failure postgres "$CL_LOG/patroni1.log" "Patroni elected no primary within 90 s"
    return 1
  fi
  cl_pg_bootstrap || return 1
  if ! wait_for 90 "" cl_pg_sync_ready; then
    cl_patronictl list >&2 || true
    report_failure postgres "$CL_LOG/patroni2.log" "no synchronous standby streaming within 90 s"
    return 1
  fi
  local leader
  leader=$(cl_pg_leader)
  ((launched)) && say "postgres: started under Patroni, primary pg$leader, synchronous standby streaming" ||
    say "postgres: already running (primary pg$leader)"
}

# Role and databases on the primary (replicated to the standby), only if missing.
cl_pg_bootstrap() {
  local leader
  leader=$(cl_pg_leader) || return 1
  pg_bootstrap_sql | PGPASSWORD=$CL_PG_SUPERUSER_PASSWORD "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p $((CL_PG_BASE + leader - 1)) -U postgres -d postgres >/dev/null ||
    { report_failure postgres "$CL_LOG/patroni$leader.log" "creating role/databases on pg$leader failed"; return 1; }
}

# ---- Kafka -----------------------------------------------------------------------------------
cl_kafka_pid() { live_pid "$CL_RUN/kafka$1.pid" "kafka$1/server.properties"; }
cl_kafka_ready() { kcat -b "$(cl_kafka_brokers)" -L -m 2 2>/dev/null | grep -q "^ *3 brokers:"; }
cl_kafka_tool() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$CL_DIR/kafka-tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

cl_kafka_prepare() { # index
  local i=$1 d=$CL_DIR/kafka$1 v=() n
  for n in $(seq_n $CL_KAFKA_N); do v+=("$n@127.0.0.1:$((CL_KAFKA_CONTROLLER_BASE + n - 1))"); done
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<EOF
# Written by scripts/lib/cluster.sh on every start; edit there.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(join_by , "${v[@]}")
listeners=PLAINTEXT://127.0.0.1:$((CL_KAFKA_BASE + i - 1)),CONTROLLER://127.0.0.1:$((CL_KAFKA_CONTROLLER_BASE + i - 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$((CL_KAFKA_BASE + i - 1))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
$(kafka_replicated_settings 3 2)
EOF
  if [[ ! -f $d/data/meta.properties ]]; then
    cl_kafka_tool kafka.tools.StorageTool format -t "$(cat "$CL_DIR/kafka.cluster.id")" \
      -c "$d/server.properties" >>"$CL_LOG/kafka$i.log" 2>&1 ||
      { report_failure "kafka$i" "$CL_LOG/kafka$i.log" "kafka-storage format failed"; return 1; }
  fi
}

cl_kafka_launch() {
  local i pid
  kafka_ensure_jars || return 1
  cat >"$CL_DIR/kafka-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.org.apache.kafka.controller=INFO
EOF
  kafka_write_tools_log4j "$CL_DIR/kafka-tools-log4j.properties"
  kafka_ensure_cluster_id "$CL_DIR/kafka.cluster.id"
  for i in $(seq_n $CL_KAFKA_N); do
    cl_kafka_pid "$i" >/dev/null && continue
    require_free_port "kafka$i" $((CL_KAFKA_BASE + i - 1)) || return 1
    require_free_port "kafka$i" $((CL_KAFKA_CONTROLLER_BASE + i - 1)) || return 1
    cl_kafka_prepare "$i" || return 1
    # shellcheck disable=SC2086 # CL_KAFKA_HEAP_OPTS holds several options on purpose
    pid=$(launch "$CL_LOG/kafka$i.log" "$JAVA" $CL_KAFKA_HEAP_OPTS -server -XX:+UseG1GC \
      -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1 \
      -XX:CICompilerCount=2 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$CL_DIR/kafka-log4j.properties" -Dkafka.logs.dir="$CL_LOG" \
      -cp "$KAFKA_LIB/*" kafka.Kafka "$CL_DIR/kafka$i/server.properties")
    echo "$pid" >"$CL_RUN/kafka$i.pid"
    CL_KAFKA_LAUNCHED=1
  done
}

cl_kafka_wait() {
  if ! wait_for 150 "" cl_kafka_ready; then
    report_failure kafka "$CL_LOG/kafka1.log" "the 3 brokers did not all answer metadata within 150 s"
    return 1
  fi
  kafka_create_topics cl_kafka_tool "$(cl_kafka_brokers)" "$CL_LOG/kafka1.log" "${CL_KAFKA_TOPICS[*]}" \
    ", replication factor 3, min.insync.replicas 2" --replication-factor 3 \
    --config min.insync.replicas=2 || return 1
  [[ -n ${CL_KAFKA_LAUNCHED:-} ]] && say "kafka: started, 3 brokers on $(cl_kafka_brokers)" ||
    say "kafka: already running"
}

# ---- NATS ------------------------------------------------------------------------------------
cl_nats_pid() { live_pid "$CL_RUN/nats$1.pid" "nats$1.conf"; }
cl_nats_ready() { curl -fsS -m 2 "http://127.0.0.1:$((CL_NATS_MONITOR_BASE + $1 - 1))/healthz"; }
cl_nats_routes() { curl -fsS -m 2 "http://127.0.0.1:$((CL_NATS_MONITOR_BASE + $1 - 1))/routez" | sed -n 's/.*"num_routes": *\([0-9]*\).*/\1/p'; }
cl_nats_meshed() { local i; for i in $(seq_n $CL_NATS_N); do [[ $(cl_nats_routes "$i") -ge $((CL_NATS_N - 1)) ]] || return 1; done; }

cl_nats_up() {
  local i n pid routes=() launched=0
  for n in $(seq_n $CL_NATS_N); do routes+=("\"nats-route://127.0.0.1:$((CL_NATS_ROUTE_BASE + n - 1))\""); done
  mkdir -p "$CL_DIR/nats"
  for i in $(seq_n $CL_NATS_N); do
    cl_nats_pid "$i" >/dev/null && continue
    require_free_port "nats$i" $((CL_NATS_BASE + i - 1)) || return 1
    require_free_port "nats$i" $((CL_NATS_ROUTE_BASE + i - 1)) || return 1
    require_free_port "nats$i" $((CL_NATS_MONITOR_BASE + i - 1)) || return 1
    cat >"$CL_DIR/nats/nats$i.conf" <<CONF
# Written by scripts/lib/cluster.sh on every start; edit there.
server_name: wallet-cluster-$i
listen: "127.0.0.1:$((CL_NATS_BASE + i - 1))"
http: "127.0.0.1:$((CL_NATS_MONITOR_BASE + i - 1))"
cluster {
  name: wallet-cluster
  listen: "127.0.0.1:$((CL_NATS_ROUTE_BASE + i - 1))"
  routes: [ $(join_by , "${routes[@]}") ]
}
CONF
    pid=$(launch "$CL_LOG/nats$i.log" "$NATS_SERVER_BIN" -c "$CL_DIR/nats/nats$i.conf")
    echo "$pid" >"$CL_RUN/nats$i.pid"
    launched=1
  done
  for i in $(seq_n $CL_NATS_N); do
    wait_for 15 "" cl_nats_ready "$i" || { report_failure "nats$i" "$CL_LOG/nats$i.log" "not healthy within 15 s"; return 1; }
  done
  wait_for 20 "" cl_nats_meshed || { report_failure nats "$CL_LOG/nats1.log" "the 3 servers did not form a full mesh of routes within 20 s"; return 1; }
  ((launched)) && say "nats: started, 3 routed servers on $(cl_nats_urls)" || say "nats: already running"
}

# ---- services --------------------------------------------------------------------------------
cl_svc_pid() { live_pid "$CL_RUN/$1-$2.pid" "$WALLET_BIN_DIR/$1"; }

cl_svc_build() {
  if [[ ${WALLET_SKIP_BUILD:-0} == 1 ]]; then return 0; fi
  if [[ ! -f $WALLET_BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S "$WALLET_ROOT" -B "$WALLET_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ||
      { fail_msg build "cmake configure failed (see above)"; return 1; }
  fi
  cmake --build "$WALLET_BUILD_DIR" -j2 --target user-service transaction-service ||
    { fail_msg build "the C++ build failed (see above)"; return 1; }
}

cl_svc_launch() { # name index
  local name=$1 i=$2 pid port bin env=()
  port=$(cl_svc_port "$name" "$i") bin=$WALLET_BIN_DIR/$name
  local log=$CL_LOG/$name-$i.log stampf=$CL_RUN/$name-$i.stamp
  if pid=$(cl_svc_pid "$name" "$i"); then
    [[ $(svc_stamp "$name") == "$(cat "$stampf" 2>/dev/null)" ]] && return 0
    say "$name-$i: binary was rebuilt since pid $pid started; restarting"
    stop_pidfile "$name-$i" "$CL_RUN/$name-$i.pid" "$bin"
  fi
  [[ -x $bin ]] || { report_failure "$name-$i" "$log" "no binary at $bin"; return 1; }
  require_free_port "$name-$i" "$port" || return 1
  env=("KAFKA_BROKERS=$(cl_kafka_brokers)" "NATS_URL=$(cl_nats_urls)" "HTTP_PORT=$port")
  if [[ $name == user-service ]]; then
    env=(-u ADMIN_TOKEN "${env[@]}" "DATABASE_URL=$(cl_db_url user_service)")
  else
    env+=("DATABASE_URL=$(cl_db_url transaction_service)" "ADMIN_TOKEN=$ADMIN_TOKEN" "INSTANCE_ID=tx-$i"
      "INSTANCES=$CLUSTER_TX_INSTANCES")
    if ((CLUSTER_TX_INSTANCES > 1)); then
      env+=("PARTITION_OWNERSHIP=kafka" "OWNERSHIP_REPLICATION=3")
    fi
  fi
  svc_stamp "$name" >"$stampf"
  pid=$(launch "$log" env "${env[@]}" "$bin")
  echo "$pid" >"$CL_RUN/$name-$i.pid"
  say "$name-$i: started (pid $pid) on 127.0.0.1:$port"
}

cl_services_up() {
  local name i failed=0
  for name in user-service transaction-service; do
    for i in $(seq_n "$(cl_svc_count "$name")"); do cl_svc_launch "$name" "$i" || failed=1; done
  done
  for name in user-service transaction-service; do
    for i in $(seq_n "$(cl_svc_count "$name")"); do
      local port pid rc=0
      port=$(cl_svc_port "$name" "$i")
      pid=$(cl_svc_pid "$name" "$i") || { report_failure "$name-$i" "$CL_LOG/$name-$i.log" "the process exited"; failed=1; continue; }
      wait_for "$READY_TIMEOUT" "$pid" svc_ready "$port" || rc=$?
      ((rc == 0)) || { report_failure "$name-$i" "$CL_LOG/$name-$i.log" "http://127.0.0.1:$port/readyz did not answer 200"; failed=1; }
    done
  done
  return "$failed"
}

# ---- down ------------------------------------------------------------------------------------
cluster_down() {
  local name i
  for name in transaction-service user-service; do
    for i in $(seq 1 9); do
      [[ -f $CL_RUN/$name-$i.pid ]] && stop_pidfile "$name-$i" "$CL_RUN/$name-$i.pid" "$WALLET_BIN_DIR/$name"
      rm -f "$CL_RUN/$name-$i.stamp"
    done
  done
  for i in $(seq_n $CL_KAFKA_N); do stop_pidfile "kafka$i" "$CL_RUN/kafka$i.pid" "kafka$i/server.properties"; done
  for i in $(seq_n $CL_NATS_N); do stop_pidfile "nats$i" "$CL_RUN/nats$i.pid" "nats$i.conf"; done
  # Replica first, so the primary does not fail over to it while it stops.
  local leader order=()
  leader=$(cl_pg_leader 2>/dev/null || true)
  for i in $(seq_n $CL_PG_N); do [[ $i != "$leader" ]] && order+=("$i"); done
  [[ -n $leader ]] && order+=("$leader")
  for i in "${order[@]}"; do
    stop_pidfile "patroni$i" "$CL_RUN/patroni$i.pid" "pg$i/patroni.yml"
    local pid
    if pid=$(cl_postmaster_pid "$i"); then
      (cd / && $(as_pg_exec) "$PG_BIN/pg_ctl" -D "$CL_DIR/pg$i/data" stop -m fast -w -t 15 >/dev/null 2>&1) ||
        kill -KILL "$pid" 2>/dev/null || true
      say "pg$i: postgres stopped (pid $pid)"
    fi
  done
  for i in $(seq_n $CL_ETCD_N); do stop_pidfile "etcd$i" "$CL_RUN/etcd$i.pid" "--name e$i "; done
}

# ---- status ----------------------------------------------------------------------------------

cluster_status() {
  local i bad=0 pid
  echo "etcd ($(cl_etcd_endpoints))"
  for i in $(seq_n $CL_ETCD_N); do
    pid=$(cl_etcd_pid "$i" || true)
    local c=$((CL_ETCD_CLIENT_BASE + i - 1)) st
    if ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$c" --command-timeout=2s endpoint health >/dev/null 2>&1; then st='ok  '; else st=DOWN bad=1; fi
    printf '  %s e%s  127.0.0.1:%s  pid %s\n' "$st" "$i" "$c" "${pid:--}"
  done
  ETCDCTL_API=3 etcdctl --endpoints="$(cl_etcd_endpoints)" --command-timeout=2s endpoint status -w table 2>/dev/null | sed 's/^/  /' || true
  echo "postgres (Patroni, synchronous_mode)"
  for i in $(seq_n $CL_PG_N); do
    local st
    if cl_patroni_api "$i" health >/dev/null 2>&1; then st='ok  '; else st=DOWN bad=1; fi
    printf '  %s pg%s  127.0.0.1:%s  patroni pid %s  postgres pid %s\n' "$st" "$i" $((CL_PG_BASE + i - 1)) \
      "$(cl_patroni_pid "$i" || echo -)" "$(cl_postmaster_pid "$i" || echo -)"
  done
  cl_patronictl list 2>/dev/null | sed 's/^/  /' || { echo "  patronictl list failed"; bad=1; }
  local leader repl
  if leader=$(cl_pg_leader); then
    # The primary's own view of its standbys (pg_stat_replication through Patroni's REST API).
    repl=$(cl_patroni_api "$leader" patroni 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("replication", []):
    print("  replication: pg{0} -> {1}: {2}, {3}".format(sys.argv[1], r["application_name"], r["state"], r["sync_state"]))
' "$leader" 2>/dev/null || true)
    [[ -n $repl ]] && echo "$repl" || echo "  replication: pg$leader has no standby connected"
  else
    echo "  DOWN no Postgres primary"; bad=1
  fi
  cl_pg_sync_ready || { echo "  DOWN no synchronous standby is streaming"; bad=1; }
  echo "kafka ($(cl_kafka_brokers))"
  for i in $(seq_n $CL_KAFKA_N); do
    local st
    if kcat -b "127.0.0.1:$((CL_KAFKA_BASE + i - 1))" -L -m 2 -t user-created >/dev/null 2>&1; then st='ok  '; else st=DOWN bad=1; fi
    printf '  %s broker %s  127.0.0.1:%s  pid %s\n' "$st" "$i" $((CL_KAFKA_BASE + i - 1)) "$(cl_kafka_pid "$i" || echo -)"
  done
  local meta
  if meta=$(kcat -b "$(cl_kafka_brokers)" -L -m 3 2>/dev/null); then
    local topic
    for topic in "${CL_KAFKA_TOPICS[@]}"; do
      awk -v t="${topic%%:*}" '
        /^  topic "/ { on = ($2 == "\"" t "\""); if (on) print "  " $0; next }
        on && /partition/ { n = split($0, a, "isrs: "); isr = a[2]; c = split(isr, x, ","); 
          print "    " $0 (c < 3 ? "   <-- ISR " c "/3" : "") }' <<<"$meta"
      grep -q "topic \"${topic%%:*}\" with" <<<"$meta" || { echo "  DOWN topic ${topic%%:*} missing"; bad=1; }
    done
    if grep -E 'isrs: ' <<<"$meta" | grep -vE 'isrs: [0-9]+,[0-9]+,[0-9]+' | grep -q .; then
      echo "  WARN some partitions have fewer than 3 in-sync replicas"
    fi
  else
    echo "  DOWN no broker answers metadata"; bad=1
  fi
  echo "nats ($(cl_nats_urls))"
  for i in $(seq_n $CL_NATS_N); do
    local st routes
    if cl_nats_ready "$i" >/dev/null 2>&1; then st='ok  '; else st=DOWN bad=1; fi
    routes=$(cl_nats_routes "$i" 2>/dev/null || true)
    [[ ${routes:-0} -ge $((CL_NATS_N - 1)) ]] || { [[ $st == DOWN ]] || st=WARN; }
    printf '  %s nats%s  127.0.0.1:%s  routes %s/%s  pid %s\n' "$st" "$i" $((CL_NATS_BASE + i - 1)) \
      "${routes:-?}" $((CL_NATS_N - 1)) "$(cl_nats_pid "$i" || echo -)"
  done
  echo "services"
  local name
  for name in user-service transaction-service; do
    for i in $(seq_n "$(cl_svc_count "$name")"); do
      local port st
      port=$(cl_svc_port "$name" "$i")
      if svc_ready "$port" >/dev/null 2>&1; then st='ok  '; else st=DOWN bad=1; fi
      printf '  %s %s-%s  http://127.0.0.1:%s  pid %s\n' "$st" "$name" "$i" "$port" "$(cl_svc_pid "$name" "$i" || echo -)"
    done
  done
  return "$bad"
}
