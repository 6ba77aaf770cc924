# shellcheck shell=bash
# nats-server for request/reply (wallet.balance.get): client port 127.0.0.1:$NATS_PORT, monitoring on
# 127.0.0.1:$NATS_MONITOR_PORT (its /healthz is the readiness probe). No JetStream: nothing is stored.

NATS_SERVER_BIN=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
NATS_DIR=$WALLET_STATE/nats
NATS_PIDFILE=$RUN_DIR/nats.pid
NATS_LOG=$LOG_DIR/nats.log

nats_pid() { live_pid "$NATS_PIDFILE" nats-server; }
nats_ready() { curl -fsS -m 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz"; }

nats_up() {
  local pid
  if pid=$(nats_pid); then
    wait_for 15 "$pid" nats_ready ||
      { report_failure nats "$NATS_LOG" "running (pid $pid) but monitoring port $NATS_MONITOR_PORT does not answer"; return 1; }
    say "nats: already running (pid $pid)"
    return 0
  fi
  require_free_port nats "$NATS_PORT" || return 1
  require_free_port nats "$NATS_MONITOR_PORT" || return 1
  mkdir -p "$NATS_DIR"
  cat >"$NATS_DIR/nats.conf" <<CONF
# Written by scripts/lib/nats.sh on every start; edit there.
server_name: wallet-local
listen: "127.0.0.1:$NATS_PORT"
http: "127.0.0.1:$NATS_MONITOR_PORT"
CONF
  pid=$(launch "$NATS_LOG" "$NATS_SERVER_BIN" -c "$NATS_DIR/nats.conf")
  echo "$pid" >"$NATS_PIDFILE"
  if ! wait_for 15 "$pid" nats_ready; then
    report_failure nats "$NATS_LOG" "did not become healthy within 15 s"
    return 1
  fi
  say "nats: started (pid $pid) on 127.0.0.1:$NATS_PORT"
}

nats_down() { stop_pidfile nats "$NATS_PIDFILE" nats-server; }
nats_wipe() { rm -rf "${NATS_DIR:?}"; }
