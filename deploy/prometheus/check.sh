#!/usr/bin/env bash
# Checks deploy/prometheus/ with Debian's promtool: the configuration (as scripts/up lays it out:
# a copy beside targets/ and rules/), the rules, and their unit tests (every alert fires on a
# synthetic series of its trouble and stays quiet on a healthy one). Negative control: with every
# alert's expression replaced by one that never fires, the same tests must fail, so a test that
# expects nothing cannot pass by accident. Runs as the CTest test prometheus_rules (label unit).
# Usage: deploy/prometheus/check.sh   (exit 0 when all checks pass)
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v promtool >/dev/null ||
  { echo "deploy/prometheus/check.sh: promtool is missing (Debian package prometheus)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The configuration, with the files the scripts write next to it.
mkdir -p "$work/stack/targets"
cp "$DIR/prometheus.yml" "$work/stack/"
ln -s "$DIR/rules" "$work/stack/rules"
echo '[{"targets": ["127.0.0.1:8080"]}]' >"$work/stack/targets/user-service.json"
echo '[{"targets": ["127.0.0.1:8081", "127.0.0.1:8082"]}]' >"$work/stack/targets/transaction-service.json"
echo '[]' >"$work/stack/targets/patroni.json"
promtool check config "$work/stack/prometheus.yml"
# prometheus-kubernetes.yml is not checked here: Debian's build of Prometheus leaves the
# Kubernetes service discovery out, so its promtool refuses kubernetes_sd_configs.

# 2. The rules and their tests.
promtool check rules "$DIR"/rules/*.yml
(cd "$DIR/tests" && promtool test rules ./*.yml)

# 3. Negative control: alerts that never fire must fail the tests.
mkdir -p "$work/control/rules" "$work/control/tests"
for f in "$DIR"/rules/*.yml; do
  awk '/^ *- alert:/ { alert = 1 } alert && /^ *expr:/ { sub(/expr:.*/, "expr: vector(0) > 1"); alert = 0 } { print }' \
    "$f" >"$work/control/rules/$(basename "$f")"
done
cp "$DIR"/tests/*.yml "$work/control/tests/"
if (cd "$work/control/tests" && promtool test rules ./*.yml) >"$work/control.log" 2>&1; then
  echo "deploy/prometheus/check.sh: negative control FAILED: the tests pass with alerts that never fire" >&2
  exit 1
fi
fired=$(grep -c 'alertname:' "$work/control.log" || true)
echo "deploy/prometheus/check.sh: negative control: $fired expected alerts missed when no alert can fire, as it must"
echo "deploy/prometheus/check.sh: OK"
