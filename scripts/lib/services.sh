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
    # less compile time per TU (README, "Build time"); configure by hand with -g for a debugger.
    cmake -S "$WALLET_ROOT" -B "$WALLET_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" ||
      { fail_msg build "cmake configure failed (see above)"; return 1; }
  fi
  say "build: cmake --build $WALLET_BUILD_DIR -j2 ${targets[*]}"
  cmake --build "$WALLET_BUILD_DIR" -j2 "${targets[@]}" ||
    { fail_msg build "the C++ build failed (see above)"; return 1; }
}

svc_port() { [[ $1 == user-service ]] && echo "$USER_SERVICE_PORT" || echo "$TRANSACTION_SERVICE_PORT"; }
svc_bin() { echo "$WALLET_BIN_DIR/$1"; }
# $RUN_DIR/<name>.pid is the supervisor's (scripts/supervise, which restarts the service when it
# dies); $RUN_DIR/<name>.service.pid the service process's own. WALLET_SUPERVISE=0 runs unsupervised.
svc_pid() { live_pid "$RUN_DIR/$1.pid" "$1"; }
svc_ready() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/readyz"; }
# Identity of the binary on disk (mtime, size, inode): a relink changes it.
svc_stamp() { stat -c '%Y %s %i' "$(svc_bin "$1")" 2>/dev/null; }

# Environment of each service (into SVC_ENV): the caller's value when set, else the stack's defaults.
# Everything else in the caller's environment (log levels, ...) is inherited as well.
svc_env() {
  SVC_ENV=("KAFKA_BROKERS=$KAFKA_BROKERS" "NATS_URL=$NATS_URL" "WALLET_CRASH_DIR=$LOG_DIR")
  if [[ $1 == user-service ]]; then
    # The admin token is transaction-service's alone.
    SVC_ENV=(-u ADMIN_TOKEN "${SVC_ENV[@]}" "HTTP_PORT=$USER_SERVICE_PORT" "DATABASE_URL=$USER_DB_URL")
  else
    SVC_ENV+=("HTTP_PORT=$TRANSACTION_SERVICE_PORT" "DATABASE_URL=$TRANSACTION_DB_URL" "ADMIN_TOKEN=$ADMIN_TOKEN")
  fi
}

# Start (or restart after a rebuild) without waiting; svc_wait waits for /readyz.
svc_launch() {
  local name=$1 pid bin port log
  bin=$(svc_bin "$name") port=$(svc_port "$name") log=$LOG_DIR/$name.log
  if pid=$(svc_pid "$name"); then
    if [[ $(svc_stamp "$name") == "$(cat "$RUN_DIR/$name.stamp" 2>/dev/null)" ]]; then
      return 0
    fi
    say "$name: binary was rebuilt since pid $pid started; restarting"
    stop_pidfile "$name" "$RUN_DIR/$name.pid" "$name"
  fi
  [[ -x $bin ]] || { report_failure "$name" "$log" "no binary at $bin (did the build produce it?)"; return 1; }
  require_free_port "$name" "$port" || return 1
  svc_env "$name"
  svc_stamp "$name" >"$RUN_DIR/$name.stamp"
  rm -f "$RUN_DIR/$name.restarts"
  if [[ ${WALLET_SUPERVISE:-1} == 1 ]]; then
    pid=$(launch "$log" env STOP_TIMEOUT="$STOP_TIMEOUT" "$WALLET_ROOT/scripts/supervise" "$name" "$RUN_DIR" -- env "${SVC_ENV[@]}" "$bin")
  else
    pid=$(launch "$log" env "${SVC_ENV[@]}" "$bin")
  fi
  echo "$pid" >"$RUN_DIR/$name.pid"
  say "$name: started (pid $pid) on 127.0.0.1:$port"
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

svc_down() { stop_pidfile "$1" "$RUN_DIR/$1.pid" "$1"; rm -f "$RUN_DIR/$1.stamp"; }
