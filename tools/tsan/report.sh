#!/usr/bin/env bash
# Reads ThreadSanitizer logs (TSAN_OPTIONS=log_path=...) and prints their reports grouped by kind
# and top frame (the first frame of the first stack, i.e. the access TSan stopped at), most frequent
# first, with where that frame is (wallet: our sources; caf, pistache, rdkafka, nats, pqxx, std:
# a library or the standard library; other) and how many reports of the group have a Wallet frame
# anywhere in them. Also prints the suppressions TSan matched (a suppressed report is not logged).
# Exit status: 0 no report, 1 at least one report, 2 bad usage.
#   tools/tsan/report.sh [--examples DIR] TSAN_LOG...
# With --examples DIR, the first report of each group is written to DIR/<n>.txt (n = its rank).
set -euo pipefail
examples=
if [[ ${1:-} == --examples ]]; then examples=${2:?--examples needs a folder}; shift 2; fi
(($#)) || { echo "usage: $0 [--examples DIR] TSAN_LOG..." >&2; exit 2; }
[[ -z $examples ]] || mkdir -p "$examples"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# One record per report: kind<TAB>origin<TAB>wallet_frame(0/1)<TAB>top frame, and its text in $tmp.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$@" | awk -v root="$root" -v dir="$tmp" '
  # Where a frame is: by its source file when it has one, else by its module, else by its name.
  function origin(frame, module,   loc, n, parts) {
    n = split(frame, parts, " "); loc = parts[n]
    if (loc !~ /\//) loc = ""
    if (loc ~ ours) return "wallet"
    if (loc ~ /\/caf\/|libcaf_/ || module ~ /libcaf_/) return "caf"
    if (loc ~ /[Pp]istache/ || module ~ /libpistache/) return "pistache"
    if (loc ~ /rdkafka/ || module ~ /librdkafka/) return "rdkafka"
    if (loc ~ /\/nats\// || module ~ /libnats/) return "nats"
    if (loc ~ /pqxx/ || module ~ /libpqxx|libpq\./) return "pqxx"
    if (loc ~ /\/c\+\+\// || module ~ /libstdc\+\+/) return "std"
    if (loc != "" || module ~ /libc\.so|libtsan/) return "other"
    if (frame ~ /^caf::/) return "caf"
    if (frame ~ /^Pistache::/) return "pistache"
    if (frame ~ /^rd_kafka|^RdKafka::/) return "rdkafka"
    if (frame ~ /^nats/) return "nats"
    if (frame ~ /^std::/) return "std"
    return "other"
  }
  function flush() {
    if (!inrep) return
    printf "%s\t%s\t%d\t%s\n", kind, origin(top, module), wallet, top > (dir "/records")
    close(file)
    inrep = 0
  }
  BEGIN { ours = "(\\.\\./|" root "/)(actors|domain|http|messaging|persistence|runtime|services|users|tools)/" }
  /^WARNING: ThreadSanitizer: / {
    flush()
    n++; inrep = 1; wallet = 0; top = ""
    file = dir "/r." n
    kind = $0; sub(/^WARNING: ThreadSanitizer: /, "", kind); sub(/ \(pid=.*$/, "", kind)
  }
  inrep { print > file }
  inrep && top == "" && /^ +#0 / {
    top = $0; sub(/^ +#0 /, "", top); module = ""
    if (match(top, / \([^()]*\+0x[0-9a-f]+\)$/)) {
      module = substr(top, RSTART + 2, RLENGTH - 3); top = substr(top, 1, RSTART - 1)
    }
    gsub(/\t/, " ", top)
  }
  inrep && /^ +#[0-9]+ / && $0 ~ ours { wallet = 1 }
  inrep && /^SUMMARY: ThreadSanitizer/ { flush() }
  END { flush(); print n + 0 > (dir "/count") }
'
total=$(cat "$tmp/count")
with_wallet=0
if ((total > 0)); then
  with_wallet=$(awk -F'\t' '$3 == 1' "$tmp/records" | wc -l)
  echo "ThreadSanitizer reports: $total ($with_wallet with a Wallet frame); by kind and top frame:"
  printf '  %6s  %-9s %-8s %s\n' count wallet where "kind: top frame"
  # Groups: kind + top frame; first report number of each group kept for --examples.
  awk -F'\t' '{k = $1 "\t" $2 "\t" $4; c[k]++; w[k] += $3; if (!(k in first)) first[k] = NR}
    END {for (k in c) printf "%d\t%d\t%d\t%s\n", c[k], w[k], first[k], k}' "$tmp/records" |
    sort -t$'\t' -k1,1nr -k6 | {
      rank=0
      while IFS=$'\t' read -r count wallet first kind where top; do
        rank=$((rank + 1))
        printf '  %6d  %-9s %-8s %s: %s\n' "$count" "$wallet" "$where" "$kind" "$top"
        [[ -z $examples ]] || cp "$tmp/r.$first" "$examples/$rank.txt"
      done
    }
else
  echo "ThreadSanitizer reports: 0"
fi
# "ThreadSanitizer: Matched N suppressions (pid=...)" and the lines after it (print_suppressions).
suppressed=$(cat "$@" | awk '/^ThreadSanitizer: Matched/ {on = 1; next} on && /^ *[0-9]+ / {print; next} {on = 0}' |
  awk '{n[$2] += $1} END {for (k in n) printf "  %6d  %s\n", n[k], k}' | sort -k1,1nr)
[[ -z $suppressed ]] || { echo "suppressed (tools/tsan/tsan.supp, kind:pattern):"; echo "$suppressed"; }
((total == 0))
