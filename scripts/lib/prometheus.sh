# shellcheck shell=bash
# Prometheus (Debian's 2.42), an optional part: `scripts/up prometheus` runs one on
# 127.0.0.1:$PROMETHEUS_PORT (9090) for the single-node stack, `scripts/cluster up` one on
# 127.0.0.1:$CL_PROMETHEUS_PORT (19090) for the replicated stack. Each runs
# deploy/prometheus/prometheus.yml, copied into its folder beside targets/ (one JSON file per job,
# rewritten whenever the instances change: file_sd picks a change up within seconds, no restart)
# and a link to the repository's rules/. Samples are kept 7 days in <folder>/data.
# Sourced after stack.sh (and cluster.sh for the cl_ functions).

PROMETHEUS_BIN=${PROMETHEUS_BIN:-$(command -v prometheus || echo /usr/bin/prometheus)}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
PROM_DIR=$WALLET_STATE/prometheus
PROM_PIDFILE=$RUN_DIR/prometheus.pid
PROM_LOG=$LOG_DIR/prometheus.log
CL_PROMETHEUS_PORT=${CL_PROMETHEUS_PORT:-19090}

prom_ready() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/-/ready"; }

# <dir>/targets/<job>.json listing host:port..., replaced in one rename (Prometheus may read it at
# any moment). No target: an empty list.
prom_write_targets() { # dir job host:port...
  local dir=$1 job=$2 list='' t
  shift 2
  for t in "$@"; do list+="${list:+, }\"$t\""; done
  mkdir -p "$dir/targets"
  if (($#)); then echo "[{\"targets\": [$list]}]"; else echo '[]'; fi >"$dir/targets/.$job.json.tmp"
  mv -f "$dir/targets/.$job.json.tmp" "$dir/targets/$job.json"
}

# Starts Prometheus for `dir` unless its pid file names a live one (matched by the config path on
# its command line). The configuration is copied anew every time; a running server reloads it
# (and the rules) through its lifecycle endpoint, which listens on loopback only.
prom_start() { # name dir port pidfile log
  local name=$1 dir=$2 port=$3 pidfile=$4 log=$5 pid
  mkdir -p "$dir/data" "$dir/targets"
  chmod 755 "$dir"
  cp "$WALLET_ROOT/deploy/prometheus/prometheus.yml" "$dir/prometheus.yml"
  ln -sfn "$WALLET_ROOT/deploy/prometheus/rules" "$dir/rules"
  if pid=$(live_pid "$pidfile" "$dir/prometheus.yml"); then
    curl -fsS -m 5 -X POST -o /dev/null "http://127.0.0.1:$port/-/reload" ||
      warn "$name: running (pid $pid) but did not reload its configuration"
    say "$name: already running (pid $pid) on http://127.0.0.1:$port"
    return 0
  fi
  [[ -x $PROMETHEUS_BIN ]] || { fail_msg "$name" "no prometheus binary at $PROMETHEUS_BIN"; return 1; }
  require_free_port "$name" "$port" || return 1
  pid=$(launch "$log" "$PROMETHEUS_BIN" --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle)
  echo "$pid" >"$pidfile"
  if ! wait_for 30 "$pid" prom_ready "$port"; then
    report_failure "$name" "$log" "did not answer /-/ready within 30 s"
    return 1
  fi
  say "$name: started (pid $pid) on http://127.0.0.1:$port"
}

# ---- the single-node stack -------------------------------------------------------------------
# Every configured instance (up --instances N); rewritten by every `up`, whatever parts it names,
# once Prometheus has a folder.
prometheus_targets() {
  local url tx=()
  for url in $(tx_instance_urls | tr , ' '); do tx+=("${url#http://}"); done
  prom_write_targets "$PROM_DIR" user-service "127.0.0.1:$USER_SERVICE_PORT"
  prom_write_targets "$PROM_DIR" transaction-service "${tx[@]}"
  prom_write_targets "$PROM_DIR" patroni
}
prometheus_up() {
  prometheus_targets
  prom_start prometheus "$PROM_DIR" "$PROMETHEUS_PORT" "$PROM_PIDFILE" "$PROM_LOG"
}
prometheus_down() { stop_pidfile prometheus "$PROM_PIDFILE" "$PROM_DIR/prometheus.yml"; }
prometheus_wipe() { rm -rf "${PROM_DIR:?}"; }

# ---- the replicated stack (scripts/cluster) ----------------------------------------------------
cl_prometheus_up() {
  local dir=$CL_DIR/prometheus i name t=()
  for name in user-service transaction-service; do
    t=()
    for i in $(seq_n "$(cl_svc_count "$name")"); do t+=("127.0.0.1:$(cl_svc_port "$name" "$i")"); done
    prom_write_targets "$dir" "$name" "${t[@]}"
  done
  t=()
  for i in $(seq_n "$CL_PG_N"); do t+=("127.0.0.1:$((CL_PATRONI_BASE + i - 1))"); done
  prom_write_targets "$dir" patroni "${t[@]}"
  prom_start cluster-prometheus "$dir" "$CL_PROMETHEUS_PORT" "$CL_RUN/prometheus.pid" "$CL_LOG/prometheus.log"
}
cl_prometheus_down() { stop_pidfile cluster-prometheus "$CL_RUN/prometheus.pid" "$CL_DIR/prometheus/prometheus.yml"; }
