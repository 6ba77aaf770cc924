# shellcheck shell=bash
# Shared by scripts/up, scripts/down and scripts/test: where things live, which ports they use, and
# the small process helpers (pid files, readiness waits, stop by pid) every part of the stack uses.
# Sourcing this file has no side effects beyond setting variables and defining functions.

WALLET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WALLET_SCRIPTS=$WALLET_ROOT/scripts
WALLET_STATE=${WALLET_STATE:-$WALLET_ROOT/.wallet}
WALLET_CACHE=${WALLET_CACHE:-${HOME:-/tmp}/.cache/wallet}
WALLET_BUILD_DIR=${WALLET_BUILD_DIR:-$WALLET_ROOT/build}
WALLET_BIN_DIR=${WALLET_BIN_DIR:-$WALLET_BUILD_DIR/bin}
# Absolute paths: they end up in config files and in commands run from / (postgres tools).
abs_path() { [[ $1 == /* ]] && echo "$1" || echo "$PWD/$1"; }
WALLET_STATE=$(abs_path "$WALLET_STATE") WALLET_CACHE=$(abs_path "$WALLET_CACHE")
WALLET_BUILD_DIR=$(abs_path "$WALLET_BUILD_DIR") WALLET_BIN_DIR=$(abs_path "$WALLET_BIN_DIR")

LOG_DIR=$WALLET_STATE/logs
RUN_DIR=$WALLET_STATE/run
# Written by `up`; `down --wipe` refuses to delete a folder without it (guards a mistyped WALLET_STATE).
STATE_MARKER=$WALLET_STATE/.wallet-state

# Ports: loopback only. Overridable so a second checkout can run beside this one.
PG_PORT=${PG_PORT:-55432}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
NATS_PORT=${NATS_PORT:-4222}
NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-8222}
USER_SERVICE_PORT=${USER_SERVICE_PORT:-8080}
TRANSACTION_SERVICE_PORT=${TRANSACTION_SERVICE_PORT:-8081}

# What the services (and the tests) connect to. Each default applies only when not already set.
# HTTP_PORT and DATABASE_URL differ per service, so they are given per service instead.
KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}
NATS_URL=${NATS_URL:-nats://127.0.0.1:$NATS_PORT}
USER_DB_URL=${USER_DB_URL:-postgresql://wallet:wallet@127.0.0.1:$PG_PORT/user_service}
TRANSACTION_DB_URL=${TRANSACTION_DB_URL:-postgresql://wallet:wallet@127.0.0.1:$PG_PORT/transaction_service}
USER_SERVICE_URL=${USER_SERVICE_URL:-http://127.0.0.1:$USER_SERVICE_PORT}
TRANSACTION_SERVICE_URL=${TRANSACTION_SERVICE_URL:-http://127.0.0.1:$TRANSACTION_SERVICE_PORT}

# Partitions the accounts hash to (the services' LEDGER_PARTITIONS) and of the Kafka topic
# ledger-partitions, whose partitions the consumer group assigns to the live instances.
LEDGER_PARTITIONS=${LEDGER_PARTITIONS:-12}

# transaction-service instances (`scripts/up --instances N`): instance 1 on TRANSACTION_SERVICE_PORT
# under today's names (transaction-service.pid, .log), instance i on TRANSACTION_SERVICE_PORT + i - 1
# named transaction-service-<port>. The count is kept in $INSTANCES_FILE for later runs.
INSTANCES_FILE=$WALLET_STATE/instances
MAX_INSTANCES=16

STOP_TIMEOUT=${WALLET_STOP_TIMEOUT:-15}    # seconds between SIGTERM and SIGKILL
READY_TIMEOUT=${WALLET_READY_TIMEOUT:-60}  # seconds a service gets to answer /readyz

# Parts in start order; `down` walks them backwards.
INFRA_PARTS=(postgres nats kafka)
SERVICE_PARTS=(user-service transaction-service)
ALL_PARTS=("${INFRA_PARTS[@]}" "${SERVICE_PARTS[@]}")
# Started only when named (`up prometheus`); `down` without names stops them too.
OPTIONAL_PARTS=(prometheus)

# Root runs apt-get directly; anyone else goes through sudo.
if [[ $EUID -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi

# ---- output ----------------------------------------------------------------------------------
# Colours only on a terminal: CI logs stay plain text.
if [[ -t 2 ]]; then C_B=$'\033[1m' C_R=$'\033[31m' C_Y=$'\033[33m' C_0=$'\033[0m'; else C_B='' C_R='' C_Y='' C_0=''; fi
say() { printf '%s==>%s %s\n' "$C_B" "$C_0" "$*"; }
warn() { printf '%swarning:%s %s\n' "$C_Y" "$C_0" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$C_R" "$C_0" "$*" >&2; exit 1; }
fail_msg() { printf '%sFAILED: %s%s: %s\n' "$C_R" "$1" "$C_0" "$2" >&2; }

# Name a part that failed and show why: the last 30 lines of its log.
report_failure() { # part logfile message
  fail_msg "$1" "$3"
  if [[ -f $2 ]]; then
    printf -- '---- last 30 lines of %s ----\n' "$2" >&2
    tail -n 30 "$2" >&2 || true
    printf -- '---- end of %s ----\n' "$2" >&2
  else
    printf '(no log at %s)\n' "$2" >&2
  fi
}

# The comment block at the top of a script is its help text.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

# ---- arguments -------------------------------------------------------------------------------
# Expands part names and the aliases `infra` / `services` into PARTS (in start order).
parse_parts() {
  local want=() p
  for p in "$@"; do
    case $p in
      infra) want+=("${INFRA_PARTS[@]}") ;;
      services) want+=("${SERVICE_PARTS[@]}") ;;
      postgres | nats | kafka | user-service | transaction-service | prometheus) want+=("$p") ;;
      *) die "unknown part '$p' (parts: ${ALL_PARTS[*]} ${OPTIONAL_PARTS[*]}, or infra / services)" ;;
    esac
  done
  [[ ${#want[@]} -eq 0 ]] && want=("${ALL_PARTS[@]}")
  PARTS=()
  for p in "${ALL_PARTS[@]}" "${OPTIONAL_PARTS[@]}"; do
    [[ " ${want[*]} " == *" $p "* ]] && PARTS+=("$p")
  done
  return 0
}
has_part() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

# ---- processes -------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A process that exited but was not reaped yet (a zombie, briefly, until init reaps it) counts as gone.
pid_running() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# The pid in a pid file, if that process is alive and still looks like ours (the command line holds
# $2). A pid reused by an unrelated process after a reboot is treated as dead, never signalled.
live_pid() { # pidfile pattern
  local pid
  [[ -s $1 ]] || return 1
  pid=$(head -n1 "$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pid_running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# libpq takes PGUSER, PGPASSWORD, PGDATABASE, ... from the environment before its own files and
# defaults. What runs as the postgres user (psql over the socket with peer authentication, Patroni
# and the standbys it starts) must not inherit a caller's: PGUSER=wallet made `up` fail with "Peer
# authentication failed", PGPASSWORD a standby's replication login. Call it in a subshell.
drop_libpq_env() {
  local v
  for v in $(compgen -e | grep -E '^PG[A-Z]' || true); do unset "$v"; done
}

# Start a long-running process detached from this shell: own session (no SIGHUP/SIGINT from the
# terminal or CI's process group), stdin closed, output appended to its log, and the lock fd 9 not
# inherited (else the daemon would hold the stack lock forever). Prints the pid.
launch() { # logfile cmd...
  local log=$1
  shift
  # The command line goes into the log with secrets masked (logs are world-readable).
  printf '\n==== %s starting: %s\n' "$(date -Is)" "$*" | sed -E 's/((TOKEN|PASSWORD)=)[^ ]*/\1***/g' >>"$log"
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $!
}

# Poll `cmd...` until it succeeds, at most $1 seconds; fails early if pid $2 (when not empty) dies.
wait_for() { # seconds pid cmd...
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [[ -n $pid ]] && ! pid_running "$pid"; then return 2; fi
    ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}

# SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL. Only ever signals the pid from the pid file.
stop_pidfile() { # part pidfile pattern
  local part=$1 pidfile=$2 pid i
  if ! pid=$(live_pid "$pidfile" "$3"); then
    rm -f "$pidfile"
    say "$part: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    pid_running "$pid" || break
    sleep 0.2
  done
  if pid_running "$pid"; then
    warn "$part (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do pid_running "$pid" || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
  say "$part: stopped (pid $pid)"
}

# Fails with a clear message when a port we are about to bind is taken by something we did not start
# (another checkout's stack, a system service): starting anyway would only produce a confusing log.
require_free_port() { # part port
  port_open "$2" || return 0
  local who
  who=$(ss -Hltnp "sport = :$2" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)
  if [[ -n $who ]]; then
    who="pid $who: $(tr '\0' ' ' <"/proc/$who/cmdline" 2>/dev/null | cut -c1-300)"
  else
    who="owner unknown"
  fi
  fail_msg "$1" "port $2 is in use by a process not started from $WALLET_STATE ($who)."
  printf 'Stop it (e.g. ./scripts/down in the checkout that started it) or choose other ports (see scripts/lib/stack.sh).\n' >&2
  return 1
}

ensure_state_dirs() {
  mkdir -p "$WALLET_STATE" "$LOG_DIR" "$RUN_DIR"
  # Explicit modes: the postgres OS user must traverse to its data, socket and log even under umask 077.
  chmod 755 "$WALLET_STATE" "$LOG_DIR" "$RUN_DIR"
  [[ -f $STATE_MARKER ]] || echo "state folder of $WALLET_ROOT (created by scripts/up)" >"$STATE_MARKER"
}

# Serialise concurrent up/down runs (e.g. parallel fault tests restarting Kafka) on fd 9.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/stack.lock"
  flock -w 600 9 || die "could not get $RUN_DIR/stack.lock within 600 s"
}

# ---- admin token -----------------------------------------------------------------------------
# $ADMIN_TOKEN if set, else the saved one, else a new random one saved (mode 600) for later runs.
resolve_admin_token() {
  local f=$WALLET_STATE/admin_token
  if [[ -n ${ADMIN_TOKEN:-} ]]; then
    :
  elif [[ -s $f ]]; then
    ADMIN_TOKEN=$(head -n1 "$f")
  else
    ADMIN_TOKEN=$(openssl rand -hex 16 2>/dev/null || od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '%s\n' "$ADMIN_TOKEN" >"$f")
  fi
  export ADMIN_TOKEN
}

# ---- transaction-service instances -----------------------------------------------------------
tx_instance_count() {
  local n
  n=$(head -n1 "$INSTANCES_FILE" 2>/dev/null || true)
  [[ $n =~ ^[1-9][0-9]*$ ]] && ((n <= MAX_INSTANCES)) || n=1
  echo "$n"
}
tx_instance_name() { # index (1-based)
  if (($1 == 1)); then echo transaction-service; else echo "transaction-service-$((TRANSACTION_SERVICE_PORT + $1 - 1))"; fi
}
# Names of the configured instances, in port order.
tx_instance_names() {
  local i
  for ((i = 1; i <= $(tx_instance_count); i++)); do tx_instance_name "$i"; done
}
# Every instance with a pid file, configured or not (an earlier, larger --instances).
tx_instance_names_running() {
  local f
  echo transaction-service
  for f in "$RUN_DIR"/transaction-service-*.pid; do
    [[ -e $f ]] || continue
    f=$(basename "$f" .pid)
    [[ $f =~ ^transaction-service-[0-9]+$ ]] && echo "$f"
  done
}
tx_instance_urls() {
  local i urls=()
  for ((i = 1; i <= $(tx_instance_count); i++)); do urls+=("http://127.0.0.1:$((TRANSACTION_SERVICE_PORT + i - 1))"); done
  (IFS=,; echo "${urls[*]}")
}

# Everything a test (or a person) needs to reach the stack. TRANSACTION_SERVICE_URLS lists every
# transaction-service instance (comma-separated; wallet-stress --transaction-service takes it).
export_stack_env() {
  TRANSACTION_SERVICE_URLS=${TRANSACTION_SERVICE_URLS:-$(tx_instance_urls)}
  export WALLET_ROOT WALLET_SCRIPTS WALLET_STATE WALLET_BIN_DIR
  export USER_SERVICE_URL TRANSACTION_SERVICE_URL TRANSACTION_SERVICE_URLS USER_DB_URL TRANSACTION_DB_URL
  export KAFKA_BROKERS NATS_URL PG_PORT
}
