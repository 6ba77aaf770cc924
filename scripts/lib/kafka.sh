# shellcheck shell=bash
# Apache Kafka without Docker: the broker's jars come from Maven Central (scripts/kafka/pom.xml pins
# the version) into a cache outside the repo, and run as one KRaft node (broker + controller) on
# loopback: `java -cp '<lib>/*' kafka.Kafka server.properties`. Data in $WALLET_STATE/kafka/data.

KAFKA_POM=$WALLET_SCRIPTS/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1)
KAFKA_HOME=$WALLET_CACHE/kafka-$KAFKA_VERSION
KAFKA_LIB=$KAFKA_HOME/lib
KAFKA_DIR=$WALLET_STATE/kafka
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_PIDFILE=$RUN_DIR/kafka.pid
KAFKA_LOG=$LOG_DIR/kafka.log
# Small heap: a single test broker needs little, and the machine also builds C++ meanwhile.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
JAVA=${JAVA:-java}
# The topics the services rely on: name and partition count. ledger-partitions carries no messages:
# the transaction-service instances join one consumer group on it, and the partitions the group
# assigns an instance are the ledger partitions it owns (one per LEDGER_PARTITIONS).
KAFKA_TOPICS=("user-created:3" "user-created.dlq:1" "ledger-events:3" "ledger-partitions:$LEDGER_PARTITIONS")

# Warns when an existing topic has another partition count than wanted (ledger-partitions must
# match LEDGER_PARTITIONS; Kafka cannot shrink a topic, so this is left to a person).
kafka_check_partitions() { # listing name partitions
  local have
  have=$(sed -n "s/^ *topic \"$2\" with \([0-9]*\) partitions.*/\1/p" <<<"$1" | head -n1)
  [[ -z $have || $have == "$3" ]] || warn "kafka: topic $2 has $have partitions, expected $3"
}

# Creates the topics (name:partitions, space-separated) that `brokers` do not list yet, with `tool`
# (kafka_tool, cl_kafka_tool) and these TopicCommand options (replication, configs; `note` adds them
# to the progress line); a topic that exists only has its partition count checked. For this stack
# and the cluster's (cluster.sh).
kafka_create_topics() { # tool brokers log "topics" note option...
  local tool=$1 brokers=$2 log=$3 note=$5 topic name parts listing
  local -a topics
  read -ra topics <<<"$4"
  shift 5
  listing=$(kcat -b "$brokers" -L -m 5 2>/dev/null || true)
  for topic in "${topics[@]}"; do
    name=${topic%%:*} parts=${topic##*:}
    if grep -qF "topic \"$name\" with" <<<"$listing"; then
      kafka_check_partitions "$listing" "$name" "$parts"
      continue
    fi
    say "kafka: creating topic $name ($parts partitions$note)"
    "$tool" org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" --create \
      --if-not-exists --topic "$name" --partitions "$parts" "$@" >>"$log" 2>&1 ||
      { report_failure kafka "$log" "creating topic $name failed"; return 1; }
  done
}

kafka_pid() { live_pid "$KAFKA_PIDFILE" kafka.Kafka; }
kafka_ready() { kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 2; }

# Fetch the jars once per pom content: the marker holds the pom's hash, so adding a dependency to the
# pom refetches, and an interrupted download (no marker) is retried rather than half-used.
kafka_ensure_jars() {
  local want tmp
  want=$(sha256sum <"$KAFKA_POM" | cut -d' ' -f1)
  if [[ -f $KAFKA_HOME/.complete && $(cat "$KAFKA_HOME/.complete") == "$want" ]]; then return 0; fi
  say "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIB (once)"
  mkdir -p "$WALLET_CACHE"
  tmp=$(mktemp -d "$WALLET_CACHE/.kafka-fetch.XXXXXX")
  local args=(-q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime
    -DoutputDirectory="$tmp/lib")
  if ! mvn "${args[@]}" >"$tmp/mvn.log" 2>&1; then
    warn "mvn failed once; retrying (network hiccup?)"
    if ! mvn "${args[@]}" >"$tmp/mvn.log" 2>&1; then
      cp "$tmp/mvn.log" "$LOG_DIR/kafka-mvn.log"
      rm -rf "$tmp"
      report_failure kafka "$LOG_DIR/kafka-mvn.log" "could not fetch Kafka $KAFKA_VERSION with Maven"
      return 1
    fi
  fi
  mkdir -p "$KAFKA_HOME"
  rm -rf "$KAFKA_LIB"
  mv "$tmp/lib" "$KAFKA_LIB"
  rm -rf "$tmp"
  echo "$want" >"$KAFKA_HOME/.complete"
}

# The admin tools' log4j config (format, topics: they only need to say what went wrong), for this
# stack and the cluster's (cluster.sh).
kafka_write_tools_log4j() { # file
  cat >"$1" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# Draws a KRaft cluster id into `file` unless it holds one already (it is kept for the life of the
# data directories), for this stack, the cluster (cluster.sh) and the nemesis (nemesis_nodes.sh).
# A Kafka Uuid is 16 random bytes in URL-safe base64 without padding; one starting with '-' would
# read as a command-line option, so draw again.
kafka_ensure_cluster_id() { # file
  if [[ -s $1 ]]; then return 0; fi
  local id
  until id=$(openssl rand 16 | base64 | tr '+/' '-_' | tr -d '=\n') && [[ $id != -* ]]; do :; done
  echo "$id" >"$1"
}

# A replicated KRaft broker's settings past its identity and listeners, the same for the cluster
# (cluster.sh) and the nemesis (nemesis_nodes.sh): topics replicated `rf` times, acknowledged
# writes on `min_isr` replicas.
kafka_replicated_settings() { # rf min_isr
  cat <<EOF
num.partitions=3
default.replication.factor=$1
min.insync.replicas=$2
offsets.topic.replication.factor=$1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$1
transaction.state.log.min.isr=$2
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# A broker that stops heartbeating is fenced (and leaves every ISR) within 4 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
replica.lag.time.max.ms=10000
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
EOF
}

# Config is rewritten on every start (so port changes apply); the cluster id is kept for the life of
# the data directory, and the directory is formatted only once.
kafka_prepare() {
  mkdir -p "$KAFKA_DATA"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/lib/kafka.sh on every start; edit there.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
# Fewer than the default 50: the first consumer group is coordinated sooner on a small machine.
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
  kafka_write_tools_log4j "$KAFKA_DIR/tools-log4j.properties"
  kafka_ensure_cluster_id "$KAFKA_DIR/cluster.id"
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    say "kafka: formatting $KAFKA_DATA (cluster $(cat "$KAFKA_DIR/cluster.id"))"
    kafka_tool kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster.id")" \
      -c "$KAFKA_DIR/server.properties" >>"$KAFKA_LOG" 2>&1 ||
      { report_failure kafka "$KAFKA_LOG" "kafka-storage format failed"; return 1; }
  fi
}

kafka_tool() { # main-class args...
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

# Start the JVM and return at once (start-up takes seconds; up builds meanwhile); kafka_wait finishes.
kafka_launch() {
  local pid
  if pid=$(kafka_pid); then return 0; fi
  require_free_port kafka "$KAFKA_PORT" || return 1
  require_free_port kafka "$KAFKA_CONTROLLER_PORT" || return 1
  kafka_ensure_jars || return 1
  kafka_prepare || return 1
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options on purpose
  pid=$(launch "$KAFKA_LOG" "$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_DIR/server.properties")
  echo "$pid" >"$KAFKA_PIDFILE"
  KAFKA_LAUNCHED=$pid
}

# Wait until the broker answers metadata, then create the service topics if they are missing.
kafka_wait() {
  local pid
  pid=$(kafka_pid) || { report_failure kafka "$KAFKA_LOG" "the broker process exited"; return 1; }
  if ! wait_for 120 "$pid" kafka_ready; then
    report_failure kafka "$KAFKA_LOG" "broker did not answer metadata on 127.0.0.1:$KAFKA_PORT within 120 s"
    return 1
  fi
  kafka_create_topics kafka_tool "127.0.0.1:$KAFKA_PORT" "$KAFKA_LOG" "${KAFKA_TOPICS[*]}" "" \
    --replication-factor 1 || return 1
  if [[ ${KAFKA_LAUNCHED:-} == "$pid" ]]; then
    say "kafka: started (pid $pid) on 127.0.0.1:$KAFKA_PORT, Kafka $KAFKA_VERSION"
  else
    say "kafka: already running (pid $pid)"
  fi
}

kafka_down() { stop_pidfile kafka "$KAFKA_PIDFILE" kafka.Kafka; }
kafka_wipe() { rm -rf "${KAFKA_DIR:?}"; }
