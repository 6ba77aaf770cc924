# shellcheck shell=bash
# The nodes of the nemesis stack, each started inside its own namespace (scripts/lib/netns.sh) on
# its own address with the standard ports: etcd members, Postgres under Patroni, Kafka KRaft
# brokers, nats-server, the services. The same shapes as scripts/lib/cluster.sh (Patroni's
# synchronous_mode, tight failure detection), but addresses instead of ports and a fresh state
# folder per run ($NEM_DIR). nem_start NODE also restarts a node the nemesis killed. Sourced after
# stack.sh, postgres.sh, nats.sh, kafka.sh and netns.sh.

NEM_DIR=${WALLET_NEMESIS_DIR:-/var/tmp/wallet-nemesis}
NEM_LOG=$NEM_DIR/logs
# The topology (see docs/nemesis.md for why these defaults on 2 cores).
NEM_ETCD_N=${NEM_ETCD_N:-3}
NEM_PG_N=2
NEM_KAFKA_N=${NEM_KAFKA_N:-1}
NEM_NATS_N=${NEM_NATS_N:-1}
NEM_TX_N=${NEM_TX_N:-2}
NEM_USER_N=${NEM_USER_N:-1}
NEM_KAFKA_RF=$((NEM_KAFKA_N < 3 ? NEM_KAFKA_N : 3))
NEM_KAFKA_MIN_ISR=$((NEM_KAFKA_RF >= 3 ? 2 : 1))
NEM_PG_SUPERUSER_PASSWORD=wallet-nemesis-postgres
NEM_SERVICE_BIN_DIR=${WALLET_NEMESIS_SERVICE_BIN_DIR:-$WALLET_BIN_DIR}

nem_nodes() { # every node of the topology, in start order
  local i
  for i in $(seq 1 "$NEM_ETCD_N"); do echo "etcd$i"; done
  for i in $(seq 1 "$NEM_PG_N"); do echo "pg$i"; done
  for i in $(seq 1 "$NEM_KAFKA_N"); do echo "kafka$i"; done
  for i in $(seq 1 "$NEM_NATS_N"); do echo "nats$i"; done
  for i in $(seq 1 "$NEM_USER_N"); do echo "user$i"; done
  for i in $(seq 1 "$NEM_TX_N"); do echo "tx$i"; done
}
nem_join() { local IFS=$1; shift; echo "$*"; }
nem_list() { # prefix count port -> "ip:port,ip:port"
  local i out=()
  for i in $(seq 1 "$2"); do out+=("$(nem_ip "$1$i"):$3"); done
  local IFS=,
  echo "${out[*]}"
}
nem_etcd_hosts() { nem_list etcd "$NEM_ETCD_N" 2379; }
nem_kafka_brokers() { nem_list kafka "$NEM_KAFKA_N" 9092; }
nem_nats_urls() { nem_list nats "$NEM_NATS_N" 4222 | sed 's|^|nats://|; s|,|,nats://|g'; }
nem_db_url() { echo "postgresql://wallet:wallet@$(nem_list pg "$NEM_PG_N" 5432)/$1?target_session_attrs=read-write&connect_timeout=2"; }
nem_tx_urls() { nem_list tx "$NEM_TX_N" 8081 | sed 's|^|http://|; s|,|,http://|g'; }
nem_user_urls() { nem_list user "$NEM_USER_N" 8080 | sed 's|^|http://|; s|,|,http://|g'; }
nem_pg_leader() { # node name of the Patroni primary, or nothing
  local i
  for i in $(seq 1 "$NEM_PG_N"); do
    curl -fsS -m 2 -o /dev/null "http://$(nem_ip "pg$i"):8008/primary" 2>/dev/null && { echo "pg$i"; return 0; }
  done
  return 1
}

nem_launch() { # node cmd... (pid file per node: the node's main process)
  local node=$1
  shift
  launch "$NEM_LOG/$node.log" ip netns exec "$(nem_ns "$node")" "$@" >"$NEM_DIR/$node.pid"
  # Not a job of this shell: its kill by the nemesis is no "Killed" message in the output.
  disown "$(cat "$NEM_DIR/$node.pid")" 2>/dev/null || true
}

nem_start_etcd() { # node
  local n=$1 ip peers=() i state=new
  ip=$(nem_ip "$n")
  for i in $(seq 1 "$NEM_ETCD_N"); do peers+=("etcd$i=http://$(nem_ip "etcd$i"):2380"); done
  [[ -d $NEM_DIR/$n/member ]] && state=existing
  nem_launch "$n" etcd --name "$n" --data-dir "$NEM_DIR/$n" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$(nem_join , "${peers[@]}")" --initial-cluster-state "$state" \
    --initial-cluster-token wallet-nemesis --heartbeat-interval 100 --election-timeout 1000 \
    --log-level warn
}

nem_start_pg() { # node
  local n=$1 ip d=$NEM_DIR/$1
  ip=$(nem_ip "$n")
  mkdir -p "$d" && chown postgres:postgres "$d" && chmod 700 "$d"
  # Stale postmaster of a killed node: Patroni starts its own.
  rm -f "$d/data/postmaster.pid"
  cat >"$d/patroni.yml" <<EOF
scope: wallet-nemesis
namespace: /wallet-nemesis/
name: $n
log: {level: WARNING}
restapi: {listen: "$ip:8008", connect_address: "$ip:8008"}
etcd3: {hosts: "$(nem_etcd_hosts)"}
$(patroni_bootstrap_yaml)
postgresql:
  listen: "$ip:5432"
  connect_address: "$ip:5432"
  data_dir: $d/data
  bin_dir: $PG_BIN
  pgpass: $d/pgpass
  # A node whose pg_rewind failed (its leader was cut off at that moment) or whose timeline
  # diverged is cloned again rather than left down: the 60-minute run lost its standby that way.
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres, password: $NEM_PG_SUPERUSER_PASSWORD}
    replication: {username: replicator, password: wallet-nemesis-replicator}
  parameters: {unix_socket_directories: "$d", max_connections: 200, shared_buffers: 32MB, fsync: "on", synchronous_commit: "on"}
  pg_hba:
    - local all all trust
    - host replication replicator $NEM_NET.0/24 scram-sha-256
    - host all all $NEM_NET.0/24 scram-sha-256
EOF
  chown postgres:postgres "$d/patroni.yml"
  (cd / && drop_libpq_env && nem_launch "$n" setpriv --reuid=postgres --regid=postgres --init-groups -- \
    patroni "$d/patroni.yml")
}

nem_pg_bootstrap() { # role and databases on the primary (replicated to the standby)
  local leader
  leader=$(nem_pg_leader) || return 1
  pg_bootstrap_sql | PGPASSWORD=$NEM_PG_SUPERUSER_PASSWORD "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$(nem_ip "$leader")" -U postgres -d postgres >/dev/null
}
nem_pg_sync_ready() {
  local leader
  leader=$(nem_pg_leader) || return 1
  curl -fsS -m 2 "http://$(nem_ip "$leader"):8008/patroni" | grep -q '"sync_state": "sync"'
}

nem_start_kafka() { # node
  local n=$1 i=${1#kafka} ip d=$NEM_DIR/$1 voters=() k
  ip=$(nem_ip "$n")
  for k in $(seq 1 "$NEM_KAFKA_N"); do voters+=("$k@$(nem_ip "kafka$k"):9093"); done
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(nem_join , "${voters[@]}")
listeners=PLAINTEXT://$ip:9092,CONTROLLER://$ip:9093
advertised.listeners=PLAINTEXT://$ip:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
$(kafka_replicated_settings "$NEM_KAFKA_RF" "$NEM_KAFKA_MIN_ISR")
EOF
  kafka_ensure_cluster_id "$NEM_DIR/kafka.cluster.id"
  if [[ ! -f $d/data/meta.properties ]]; then
    "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format \
      -t "$(cat "$NEM_DIR/kafka.cluster.id")" -c "$d/server.properties" >>"$NEM_LOG/$n.log" 2>&1 || return 1
  fi
  cat >"$NEM_DIR/kafka-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  nem_launch "$n" "$JAVA" -Xms96m -Xmx384m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1 -XX:CICompilerCount=2 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$NEM_DIR/kafka-log4j.properties" -Dkafka.logs.dir="$NEM_LOG" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$d/server.properties"
}
nem_kafka_ready() { kcat -b "$(nem_kafka_brokers)" -L -m 2 2>/dev/null | grep -q "^ *$NEM_KAFKA_N brokers:"; }
nem_kafka_topics() {
  local t
  for t in "user-created:3" "user-created.dlq:1" "ledger-events:3" "ledger-partitions:$LEDGER_PARTITIONS"; do
    "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIB/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$(nem_kafka_brokers)" --create --if-not-exists --topic "${t%%:*}" \
      --partitions "${t##*:}" --replication-factor "$NEM_KAFKA_RF" \
      --config "min.insync.replicas=$NEM_KAFKA_MIN_ISR" >>"$NEM_LOG/kafka-topics.log" 2>&1 || return 1
  done
}

nem_start_nats() { # node
  local n=$1 ip routes=() k
  ip=$(nem_ip "$n")
  for k in $(seq 1 "$NEM_NATS_N"); do routes+=("\"nats-route://$(nem_ip "nats$k"):6222\""); done
  cat >"$NEM_DIR/$n.conf" <<EOF
server_name: wallet-nemesis-$n
listen: "$ip:4222"
http: "$ip:8222"
cluster { name: wallet-nemesis, listen: "$ip:6222", routes: [ $(nem_join , "${routes[@]}") ] }
EOF
  nem_launch "$n" "$NATS_SERVER_BIN" -c "$NEM_DIR/$n.conf"
}

nem_start_service() { # node (tx<i> or user<i>)
  local n=$1 env
  env=("KAFKA_BROKERS=$(nem_kafka_brokers)" "NATS_URL=$(nem_nats_urls)" "HTTP_HOST=0.0.0.0")
  if [[ $n == user* ]]; then
    env+=(HTTP_PORT=8080 "DATABASE_URL=$(nem_db_url user_service)")
    nem_launch "$n" env -u ADMIN_TOKEN "${env[@]}" "$NEM_SERVICE_BIN_DIR/user-service"
  else
    env+=(HTTP_PORT=8081 "DATABASE_URL=$(nem_db_url transaction_service)" "ADMIN_TOKEN=$ADMIN_TOKEN"
      "INSTANCE_ID=$n" "INSTANCES=$NEM_TX_N")
    ((NEM_TX_N > 1)) && env+=(PARTITION_OWNERSHIP=kafka "OWNERSHIP_REPLICATION=$NEM_KAFKA_RF")
    nem_launch "$n" env "${env[@]}" "$NEM_SERVICE_BIN_DIR/transaction-service"
  fi
}
nem_service_ready() { # node
  local port=8081
  [[ $1 == user* ]] && port=8080
  curl -fsS -m 2 -o /dev/null "http://$(nem_ip "$1"):$port/readyz"
}

# Start (or restart after a kill) one node; nothing to wait for here.
nem_start() { # node
  case $1 in
    etcd*) nem_start_etcd "$1" ;;
    pg*) nem_start_pg "$1" ;;
    kafka*) nem_start_kafka "$1" ;;
    nats*) nem_start_nats "$1" ;;
    tx* | user*) nem_start_service "$1" ;;
  esac
}
# Whether a node has any live process (a killed node has none).
nem_alive() { [[ -n $(nem_pids "$1") ]]; }

# The whole stack, fresh, in dependency order; returns once every service answers /readyz.
nem_stack_up() {
  local n
  rm -rf "${NEM_DIR:?}"
  mkdir -p "$NEM_LOG" && chmod 755 "$NEM_DIR" "$NEM_LOG"
  kafka_ensure_jars || return 1
  for n in $(nem_nodes); do [[ $n == kafka* ]] && { nem_start "$n" || return 1; }; done
  for n in $(nem_nodes); do [[ $n == etcd* ]] && nem_start "$n"; done
  for n in $(nem_nodes); do [[ $n == nats* ]] && nem_start "$n"; done
  wait_for 30 "" etcdctl --endpoints="$(nem_etcd_hosts)" --command-timeout=2s endpoint health ||
    { report_failure etcd "$NEM_LOG/etcd1.log" "etcd not healthy within 30 s"; return 1; }
  for n in $(nem_nodes); do [[ $n == pg* ]] && nem_start "$n"; done
  wait_for 90 "" nem_pg_leader || { report_failure postgres "$NEM_LOG/pg1.log" "no primary within 90 s"; return 1; }
  nem_pg_bootstrap || { report_failure postgres "$NEM_LOG/pg1.log" "role/databases failed"; return 1; }
  wait_for 90 "" nem_pg_sync_ready || { report_failure postgres "$NEM_LOG/pg2.log" "no sync standby in 90 s"; return 1; }
  say "nemesis: postgres primary $(nem_pg_leader), synchronous standby streaming"
  wait_for 150 "" nem_kafka_ready || { report_failure kafka "$NEM_LOG/kafka1.log" "brokers not up in 150 s"; return 1; }
  nem_kafka_topics || { report_failure kafka "$NEM_LOG/kafka-topics.log" "creating topics failed"; return 1; }
  say "nemesis: kafka $(nem_kafka_brokers) with topics"
  for n in $(nem_nodes); do [[ $n == user* || $n == tx* ]] && nem_start "$n"; done
  for n in $(nem_nodes); do
    [[ $n == user* || $n == tx* ]] || continue
    wait_for "$READY_TIMEOUT" "" nem_service_ready "$n" ||
      { report_failure "$n" "$NEM_LOG/$n.log" "/readyz did not answer 200"; return 1; }
  done
  say "nemesis: services ready: $(nem_user_urls) $(nem_tx_urls)"
}
