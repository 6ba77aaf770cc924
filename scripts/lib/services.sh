# shellcheck shell=bash
# Building the C++ tree and running the two services from build/bin, each with its own environment,
# log ($LOG_DIR/<name>.log) and pid file. A service whose binary changed since it was started (a
# rebuild) is restarted; one that is running on the current binary is left alone.

# What `scripts/up` builds: only what runs (the two services and the stress driver). The tests and
# the rest of the tree are built by `scripts/test` (build_tree all). Configure once (a configured
# tree keeps its cache), then an incremental build (near-instant when nothing changed).
# WALLET_SKIP_BUILD=1 runs whatever is in $WALLET_BIN_DIR as it is.
WALLET_UP_TARGETS=(transaction-service user-service wallet-stress)

build_tree() { # [all]
  if [[ ${WALLET_SKIP_BUILD:-0} == 1 ]]; then say "build: skipped (WALLET_SKIP_BUILD=1)"; return 0; fi
  local targets=()
  [[ ${1:-} == all ]] || targets=(--target "${WALLET_UP_TARGETS[@]}")
  # Configure when new, and again when the test tree is wanted but was left out at the first
  # configure (GoogleTest was not installed yet then).
  if [[ ! -f $WALLET_BUILD_DIR/CMakeCache.txt ]] ||
     { [[ ${1:-} == all ]] && [[ ! -f $WALLET_BUILD_DIR/test/CTestTestfile.cmake ]]; }; then
    say "build: configuring $WALLET_BUILD_DIR"
    # -g1 (line tables: backtraces with file:line, no variable info) instead of -g costs 16 to 34 %
    # less compile time per TU (docs/performance.md, "Build time"); configure by hand with -g for a debugger.
    cmake -S "$WALLET_ROOT" -B "$WALLET_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" ||
      { fail_msg build "cmake configure failed (see above)"; return 1; }
  fi
  say "build: cmake --build $WALLET_BUILD_DIR -j2 ${targets[*]}"
  cmake --build "$WALLET_BUILD_DIR" -j2 "${targets[@]}" ||
    { fail_msg build "the C++ build failed (see above)"; return 1; }
}

# A service is named by its part (user-service, transaction-service) or, for the further
# transaction-service instances of `up --instances N`, transaction-service-<port> (stack.sh).
svc_port() {
  case $1 in
    user-service) echo "$USER_SERVICE_PORT" ;;
    transaction-service) echo "$TRANSACTION_SERVICE_PORT" ;;
    *) echo "${1##*-}" ;;
  esac
}
svc_bin() { [[ $1 == transaction-service-* ]] && echo "$WALLET_BIN_DIR/transaction-service" || echo "$WALLET_BIN_DIR/$1"; }
# $RUN_DIR/<name>.pid is the supervisor's (scripts/supervise, which restarts the service when it
# dies); $RUN_DIR/<name>.service.pid the service process's own. WALLET_SUPERVISE=0 runs unsupervised.
# The pattern is the binary's name: both the supervisor's and the bare service's command line hold it.
svc_pid() { live_pid "$RUN_DIR/$1.pid" "$(basename "$(svc_bin "$1")")"; }
svc_ready() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/readyz"; }
# Identity of the binary on disk (mtime, size, inode): a relink changes it.
svc_stamp() { stat -c '%Y %s %i' "$(svc_bin "$1")" 2>/dev/null; }

# What a transaction-service instance gets beyond the single instance's environment: with more than
# one, each takes its partitions through Kafka's group protocol (PARTITION_OWNERSHIP=kafka;
# WALLET_INSTANCE_OWNERSHIP overrides it, e.g. `shared`, to try the scripts on a service without
# that mode) and names itself txn-<port>. One instance (the default) gets nothing: `all`.
svc_instance_env() { # name
  SVC_INSTANCE_ENV=()
  [[ $1 == transaction-service* ]] && (($(tx_instance_count) > 1)) || return 0
  SVC_INSTANCE_ENV=("PARTITION_OWNERSHIP=${WALLET_INSTANCE_OWNERSHIP:-kafka}" "INSTANCE_ID=txn-$(svc_port "$1")")
}
# The binary's identity plus that environment: a change of either restarts the service (the stamp
# of a single instance is the binary's alone, as before there were several).
svc_config_stamp() {
  svc_instance_env "$1"
  echo "$(svc_stamp "$1")${SVC_INSTANCE_ENV[*]+ ${SVC_INSTANCE_ENV[*]}}"
}

# Environment of each service (into SVC_ENV): the caller's value when set, else the stack's defaults.
# Everything else in the caller's environment (log levels, ...) is inherited as well.
svc_env() {
  SVC_ENV=("KAFKA_BROKERS=$KAFKA_BROKERS" "NATS_URL=$NATS_URL" "WALLET_CRASH_DIR=$LOG_DIR")
  if [[ $1 == user-service ]]; then
    # The admin token is transaction-service's alone.
    SVC_ENV=(-u ADMIN_TOKEN "${SVC_ENV[@]}" "HTTP_PORT=$USER_SERVICE_PORT" "DATABASE_URL=$USER_DB_URL")
  else
    svc_instance_env "$1"
    SVC_ENV+=("HTTP_PORT=$(svc_port "$1")" "DATABASE_URL=$TRANSACTION_DB_URL" "ADMIN_TOKEN=$ADMIN_TOKEN"
      ${SVC_INSTANCE_ENV[@]+"${SVC_INSTANCE_ENV[@]}"})
  fi
}

# Start (or restart after a rebuild or a change of its instance environment) without waiting;
# svc_wait waits for /readyz.
svc_launch() {
  local name=$1 pid bin port log
  bin=$(svc_bin "$name") port=$(svc_port "$name") log=$LOG_DIR/$name.log
  if pid=$(svc_pid "$name"); then
    if [[ $(svc_config_stamp "$name") == "$(cat "$RUN_DIR/$name.stamp" 2>/dev/null)" ]]; then
      return 0
    fi
    say "$name: binary was rebuilt or its environment changed since pid $pid started; restarting"
    stop_pidfile "$name" "$RUN_DIR/$name.pid" "$(basename "$bin")"
  fi
  [[ -x $bin ]] || { report_failure "$name" "$log" "no binary at $bin (did the build produce it?)"; return 1; }
  require_free_port "$name" "$port" || return 1
  svc_env "$name"
  svc_config_stamp "$name" >"$RUN_DIR/$name.stamp"
  rm -f "$RUN_DIR/$name.restarts"
  if [[ ${WALLET_SUPERVISE:-1} == 1 ]]; then
    pid=$(launch "$log" env STOP_TIMEOUT="$STOP_TIMEOUT" "$WALLET_ROOT/scripts/supervise" "$name" "$RUN_DIR" -- env "${SVC_ENV[@]}" "$bin")
  else
    pid=$(launch "$log" env "${SVC_ENV[@]}" "$bin")
  fi
  echo "$pid" >"$RUN_DIR/$name.pid"
  say "$name: started (pid $pid) on 127.0.0.1:$port${SVC_INSTANCE_ENV[*]+ (${SVC_INSTANCE_ENV[*]})}"
}

svc_wait() {
  local name=$1 pid port log rc=0
  port=$(svc_port "$name") log=$LOG_DIR/$name.log
  pid=$(svc_pid "$name") || { report_failure "$name" "$log" "the process exited"; return 1; }
  wait_for "$READY_TIMEOUT" "$pid" svc_ready "$port" || rc=$?
  case $rc in
    0) return 0 ;;
    2) report_failure "$name" "$log" "the process (pid $pid) exited during start-up" ;;
    *) report_failure "$name" "$log" "http://127.0.0.1:$port/readyz did not answer 200 within ${READY_TIMEOUT}s" ;;
  esac
  return 1
}

svc_down() { stop_pidfile "$1" "$RUN_DIR/$1.pid" "$(basename "$(svc_bin "$1")")"; rm -f "$RUN_DIR/$1.stamp"; }

# The instances of a part: user-service is one; transaction-service is every configured instance
# (launch) or every instance with a pid file (stop).
part_services() { # part [configured|running]
  if [[ $1 != transaction-service ]]; then echo "$1"
  elif [[ ${2:-configured} == running ]]; then tx_instance_names_running
  else tx_instance_names
  fi
}

# Stops the instances beyond the configured count (after `up --instances` with a smaller N).
tx_stop_extra() {
  local name keep
  keep=" $(tx_instance_names | tr '\n' ' ') "
  for name in $(tx_instance_names_running); do
    [[ $keep == *" $name "* ]] || svc_down "$name"
  done
}

# Several kafka-owned instances: each instance's /readyz (svc_wait) answers 200 only once its
# assignment has settled and it serves every partition assigned to it (PartitionOwnership::serving),
# so the group has settled when the last one is ready. This confirms it from the outside (and
# covers a binary from before that readiness): waits up to 30 s until every ledger partition is
# served by exactly one instance (the "serving" list of each instance's GET /admin/bridges).
tx_wait_partitions() {
  (($(tx_instance_count) > 1)) || return 0
  [[ ${WALLET_INSTANCE_OWNERSHIP:-kafka} == kafka ]] || return 0
  local want=${LEDGER_PARTITIONS:-12} until=$((SECONDS + 30)) url lists total distinct
  while ((SECONDS < until)); do
    lists=$(for url in $(tx_instance_urls | tr , ' '); do
      curl -fsS -m 2 -H "Authorization: Bearer $ADMIN_TOKEN" "$url/admin/bridges" 2>/dev/null |
        sed -n 's/.*"serving":\[\([0-9,]*\)\].*/\1/p' | tr , '\n'
      echo  # the body ends without a newline
    done | grep -E '^[0-9]+$' || true)
    total=$(printf '%s\n' "$lists" | grep -c . || true)
    distinct=$(printf '%s\n' "$lists" | grep . | sort -u | wc -l)
    if ((total == want && distinct == want)); then
      say "transaction-service: the $(tx_instance_count) instances serve the $want partitions"
      return 0
    fi
    sleep 0.2
  done
  say "transaction-service: the instances' group did not settle in 30 s (served: $total of $want)"
  return 1
}

