# shellcheck shell=bash
# CPU accounting for scripts/bench, read from /proc: utime+stime of chosen processes, in clock ticks.
# Postgres is the postmaster's own time plus its reaped children's (cutime+cstime: backends that
# exited, e.g. pgbench's at the end of its run) plus every live child's, so the sum only grows and
# a delta between two readings is what the whole server spent in between, whoever connected.

CLK_TCK=$(getconf CLK_TCK)

# Ticks of the given pids (missing ones count 0). Fields after "pid (comm) ": 12 utime, 13 stime.
cpu_ticks() {
  (($#)) || { echo 0; return; }
  local p files=()
  for p in "$@"; do files+=("/proc/$p/stat"); done
  { cat "${files[@]}" 2>/dev/null || true; } | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# Ticks of the whole Postgres server whose postmaster is $1 (see the header).
pg_cpu_ticks() {
  local pm=$1 p files=("/proc/$1/stat")
  for p in $(pgrep -P "$pm"); do files+=("/proc/$p/stat"); done
  { cat "${files[@]}" 2>/dev/null || true; } | awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, "")
      t += $12 + $13; if (pid == pm) t += $14 + $15 } END { print t + 0 }'
}

# Writes "epoch_seconds service_ticks postgres_ticks driver_ticks kafka_ticks" every 0.2 s to $1
# until killed. $2..$5: pids of the service, the postmaster, the driver and Kafka ("" if none).
cpu_sampler() {
  local out=$1 svc=$2 pm=$3 drv=$4 kafka=$5
  while :; do
    printf '%s %s %s %s %s\n' "$EPOCHREALTIME" "$(cpu_ticks $svc)" "$(pg_cpu_ticks "$pm")" \
      "$(cpu_ticks $drv)" "$(cpu_ticks $kafka)" >>"$out"
    sleep 0.2
  done
}

# Linear interpolation of the samples in $1 at epoch time $2: prints the four tick columns.
cpu_at() {
  awk -v t="$2" '
    { ts[NR] = $1; for (c = 2; c <= 5; c++) v[NR, c] = $c }
    END {
      if (NR == 0) { print "0 0 0 0"; exit }
      i = 1; while (i < NR && ts[i + 1] < t) i++
      j = (i < NR) ? i + 1 : i
      f = (ts[j] > ts[i]) ? (t - ts[i]) / (ts[j] - ts[i]) : 0
      if (f < 0) f = 0; if (f > 1) f = 1
      printf "%.3f %.3f %.3f %.3f\n", v[i,2] + f * (v[j,2] - v[i,2]), v[i,3] + f * (v[j,3] - v[i,3]),
        v[i,4] + f * (v[j,4] - v[i,4]), v[i,5] + f * (v[j,5] - v[i,5])
    }' "$1"
}

# Microseconds per transfer from a tick delta and a transfer count.
us_per() { awk -v d="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", (n > 0 ? d * 1e6 / hz / n : 0) }'; }
