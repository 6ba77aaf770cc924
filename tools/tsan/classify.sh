#!/usr/bin/env bash
# Sorts the reports of ThreadSanitizer logs (TSAN_OPTIONS=log_path=...) by where they are:
#   caf      frames in CAF: a message or actor hand-off through libcaf_core.so, which is not built
#            with TSan, so its mailbox synchronization is invisible (reports say "As if synchronized
#            via sleep"); a verdict on those needs a TSan-built CAF
#   http     no CAF frame, a frame in http/ or Pistache: the HTTP layer (must be none)
#   other    everything else (Wallet code outside CAF hand-offs, librdkafka/cnats callbacks): bugs
# Prints the SUMMARY line of each http/other report and the counts.
#   tools/tsan/classify.sh /tmp/tsan.*
set -euo pipefail
(($#)) || { echo "usage: $0 TSAN_LOG..." >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat "$@" | awk -v d="$dir" '/^WARNING: ThreadSanitizer/ {n++} n > 0 {print > (d "/r." n)}'
http=0 caf=0 other=0
for f in "$dir"/r.*; do
  [[ -e $f ]] || break
  if grep -q 'caf::' "$f"; then
    caf=$((caf + 1))
  elif grep -qE '\.\./http/|Pistache::' "$f"; then
    http=$((http + 1)); echo "http:  $(grep -m1 SUMMARY "$f")"
  else
    other=$((other + 1)); echo "other: $(grep -m1 SUMMARY "$f")"
  fi
done
echo "reports: $((http + caf + other)) (http $http, caf hand-off $caf, other $other)"
