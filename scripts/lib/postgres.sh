# shellcheck shell=bash
# PostgreSQL 15: the stack's own cluster (never the system one) in $WALLET_STATE/pg, listening on
# 127.0.0.1:$PG_PORT with its unix socket inside the state folder. fsync and synchronous_commit stay
# on: durability is part of the product. Creates role wallet/wallet and the two service databases;
# the services run their own migrations.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Postgres refuses to run as root: as root, run its tools as the `postgres` OS user (from /, since
# initdb and pg_ctl fail when they cannot read the current directory, e.g. /root).
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && drop_libpq_env && exec runuser -u postgres -- "$@")
  else
    (drop_libpq_env && exec "$@")
  fi
}

# Decide where the cluster lives. Normally $WALLET_STATE/pg, socket in $WALLET_STATE/run/pg. When the
# postgres user cannot traverse to the state folder (a checkout under /root) or the socket path would
# exceed the 107-byte limit of unix sockets, it lives in /var/tmp/wallet-pg-<hash of the state path>
# instead, with symlinks from the state folder so it is still found in the usual place.
pg_init_paths() {
  [[ -n ${PG_DATA_DIR:-} ]] && return 0
  PG_EXT_HOME=/var/tmp/wallet-pg-$(printf %s "$WALLET_STATE" | md5sum | cut -c1-12)
  local reachable=1
  if [[ $EUID -eq 0 ]] && ! (cd / && runuser -u postgres -- test -x "$WALLET_STATE") 2>/dev/null; then
    reachable=0
  fi
  if ((${#RUN_DIR} + 20 > 107)); then reachable=0; fi
  if [[ $reachable == 1 && ! -d $PG_EXT_HOME ]]; then
    PG_DATA_DIR=$WALLET_STATE/pg PG_SOCK_DIR=$RUN_DIR/pg PG_LOG=$LOG_DIR/postgres.log
  else
    PG_DATA_DIR=$PG_EXT_HOME/pg PG_SOCK_DIR=$PG_EXT_HOME/sock PG_LOG=$PG_EXT_HOME/postgres.log
  fi
}

pg_pid() { live_pid "$PG_DATA_DIR/postmaster.pid" postgres; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

# Directories, ownership, initdb (once) and our settings (rewritten on every start, so a changed
# PG_PORT or state path takes effect).
pg_prepare() {
  local d
  for d in "$PG_DATA_DIR" "$PG_SOCK_DIR"; do mkdir -p "$d"; done
  touch "$PG_LOG"
  chmod 700 "$PG_DATA_DIR"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$PG_DATA_DIR" "$PG_SOCK_DIR" "$PG_LOG"
    [[ $PG_DATA_DIR == "$PG_EXT_HOME"/* ]] && chown postgres:postgres "$PG_EXT_HOME" && chmod 700 "$PG_EXT_HOME"
  fi
  if [[ $PG_DATA_DIR != "$WALLET_STATE/pg" ]]; then
    ln -sfn "$PG_DATA_DIR" "$WALLET_STATE/pg"
    ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
  fi
  if [[ ! -s $PG_DATA_DIR/PG_VERSION ]]; then
    say "postgres: initdb $PG_DATA_DIR"
    # peer on the socket (admin work below), scram passwords over TCP (the services).
    as_pg "$PG_BIN/initdb" -D "$PG_DATA_DIR" --no-locale -E UTF8 \
      --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
      { report_failure postgres "$PG_LOG" "initdb failed"; return 1; }
    echo "include_if_exists = 'wallet.conf'" | as_pg tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null
  fi
  as_pg tee "$PG_DATA_DIR/wallet.conf" >/dev/null <<EOF
# Written by scripts/lib/postgres.sh on every start; edit there.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK_DIR'
max_connections = 200
fsync = on
synchronous_commit = on
full_page_writes = on
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# Role and databases, only if missing (runs on every `up postgres`; costs ~50 ms).
pg_bootstrap() {
  pg_bootstrap_sql |
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$PG_PORT" -d postgres >/dev/null
}

# The role and databases as SQL for psql, creating only what is missing: for this stack, the
# cluster's primary (cluster.sh) and the nemesis' (nemesis_nodes.sh).
pg_bootstrap_sql() {
  cat <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wallet') THEN
    CREATE ROLE wallet LOGIN CREATEDB PASSWORD 'wallet';
  END IF;
END $$;
SELECT format('CREATE DATABASE %I OWNER wallet', d)
  FROM unnest(ARRAY['user_service', 'transaction_service']) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)\gexec
SQL
}

pg_up() {
  pg_init_paths
  local pid out
  if pid=$(pg_pid); then
    wait_for 30 "$pid" pg_ready ||
      { report_failure postgres "$PG_LOG" "running (pid $pid) but not accepting connections on $PG_PORT"; return 1; }
    say "postgres: already running (pid $pid)"
  else
    require_free_port postgres "$PG_PORT" || return 1
    pg_prepare || return 1
    # pg_ctl -w returns once the server accepts connections; setsid -w detaches the postmaster from
    # our session but still waits for pg_ctl itself.
    local as=()
    [[ $EUID -eq 0 ]] && as=(runuser -u postgres --)
    # The server runs as the postgres user too: without the caller's libpq variables (stack.sh).
    if ! out=$(cd / && drop_libpq_env && setsid -w "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" \
      -l "$PG_LOG" -w -t 60 start </dev/null 2>&1 9>&-); then
      report_failure postgres "$PG_LOG" "pg_ctl start failed: $out"
      return 1
    fi
    pid=$(pg_pid) || { report_failure postgres "$PG_LOG" "started but no live postmaster.pid"; return 1; }
    say "postgres: started (pid $pid) on 127.0.0.1:$PG_PORT"
  fi
  echo "$pid" >"$RUN_DIR/postgres.pid"
  pg_bootstrap || { report_failure postgres "$PG_LOG" "creating role/databases failed"; return 1; }
}

pg_down() {
  pg_init_paths
  local pid
  if ! pid=$(pg_pid); then
    rm -f "$RUN_DIR/postgres.pid"
    say "postgres: not running"
    return 0
  fi
  # fast = roll back open transactions and shut down cleanly; immediate only if that hangs.
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1 ||
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" stop -m immediate -w -t 10 >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 25; i++)); do pid_running "$pid" || break; sleep 0.2; done
  if pid_running "$pid"; then
    warn "postgres (pid $pid) did not stop; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/postgres.pid"
  say "postgres: stopped (pid $pid)"
}

pg_wipe() {
  pg_init_paths
  rm -rf "${PG_DATA_DIR:?}" "$WALLET_STATE/pg"
  [[ -d $PG_EXT_HOME ]] && rm -rf "${PG_EXT_HOME:?}"
  return 0
}

# The `bootstrap:` section of a Patroni node's config, the same for the replicated stack's nodes
# (cluster.sh) and the nemesis' (nemesis_nodes.sh): what the first node writes into the DCS and
# how it runs initdb.
patroni_bootstrap_yaml() {
  cat <<'EOF'
bootstrap:
  dcs:
    # Tight failure detection: the leader key lapses 10 s after the leader stops renewing it
    # (loop_wait + 2 * retry_timeout <= ttl).
    ttl: 10
    loop_wait: 2
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    # A commit is acknowledged only once the synchronous standby has it: failover loses nothing.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - no-locale
    - auth-local: trust
    - auth-host: scram-sha-256
EOF
}
