# shellcheck shell=bash
# The Debian 12 packages the project needs: the ONE list to edit, in two groups.
#   run   what `scripts/up` needs to build and run the stack (compiler, C++ libraries, servers)
#   test  what only `scripts/test` needs on top (test drivers, fuzzing compiler, compose checker)
#   cluster  the replicated stack of `scripts/cluster` (scripts/test runs its failover tests)
#   prometheus  Debian's Prometheus and promtool (`up prometheus`, the cluster, the rule tests)
# ensure_packages GROUP... installs only what is missing and skips apt-get entirely when all are
# present.

WALLET_APT_RUN_PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  # C++ libraries
  libcaf-dev libpistache-dev librdkafka-dev libnats-dev libpqxx-dev nlohmann-json3-dev libspdlog-dev
  libcli11-dev libcurl4-openssl-dev libssl-dev uuid-dev prometheus-cpp-dev libjwt-dev
  libjemalloc-dev
  # servers of the local stack (kcat probes Kafka; Maven fetches its jars)
  postgresql-15 postgresql-client-15 postgresql-contrib nats-server kcat
  openjdk-17-jre-headless maven curl
)
WALLET_APT_TEST_PACKAGES=(
  # unit, integration and e2e tests; clang builds the libFuzzer targets (scripts/fuzz)
  libgtest-dev googletest clang libclang-rt-14-dev clang-format
  # e2e drivers and checkers: headless browser for the admin page, compose/check.sh
  chromium chromium-driver fonts-liberation nodejs npm docker-compose
  # deploy/ checks: promtool (the prometheus package), the Kubernetes schema check's Python
  python3-jsonschema python3-yaml
)
# The replicated stack (scripts/cluster, whose failover tests scripts/test runs).
WALLET_APT_CLUSTER_PACKAGES=(patroni etcd-server etcd-client)
# Prometheus (Debian's 2.42, with promtool): `scripts/up prometheus`, `scripts/cluster up`, and
# scripts/test's rule tests.
WALLET_APT_PROMETHEUS_PACKAGES=(prometheus)

# A package whose command is already there from another source counts as present: images with
# NodeSource's nodejs (which bundles npm and conflicts with Debian's npm) must not get Debian's npm.
declare -A WALLET_APT_PROVIDED_BY_COMMAND=([npm]=npm [nodejs]=node)

# The packages of the named groups (run, test, cluster, prometheus).
group_packages() {
  local group
  for group in "$@"; do
    case $group in
      run) printf '%s\n' "${WALLET_APT_RUN_PACKAGES[@]}" ;;
      test) printf '%s\n' "${WALLET_APT_TEST_PACKAGES[@]}" ;;
      cluster) printf '%s\n' "${WALLET_APT_CLUSTER_PACKAGES[@]}" ;;
      prometheus) printf '%s\n' "${WALLET_APT_PROMETHEUS_PACKAGES[@]}" ;;
      *) die "unknown package group: $group" ;;
    esac
  done
}

missing_packages() { # group...
  local pkg status cmd
  for pkg in $(group_packages "$@"); do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] && continue
    cmd=${WALLET_APT_PROVIDED_BY_COMMAND[$pkg]:-}
    [[ -n $cmd ]] && command -v "$cmd" >/dev/null && continue
    printf '%s\n' "$pkg"
  done
}

ensure_packages() { # group... (default: run)
  local missing
  mapfile -t missing < <(missing_packages "${@:-run}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing missing packages: ${missing[*]}"
  if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null; then
    die "not root and no sudo: install these packages first: ${missing[*]}"
  fi
  # Wait for the dpkg lock rather than fail when another apt run is in progress.
  local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update
  # No recommends: docker-compose would pull in the Docker daemon, postgres a pile of extras.
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
  # On a machine with systemd the package starts its own nats-server on :4222 (all interfaces),
  # which would take the port our stack uses; we run our own, so switch the system one off.
  if [[ " ${missing[*]} " == *" nats-server "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now nats-server.service >/dev/null 2>&1 || true
  fi
  # Likewise etcd-server starts a system etcd on :2379 and patroni enables a unit; scripts/cluster
  # runs its own members and Patroni nodes.
  if [[ " ${missing[*]} " == *" etcd-server "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now etcd.service >/dev/null 2>&1 || true
  fi
  # And prometheus its own server on :9090, the port `scripts/up prometheus` uses.
  if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" patroni "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now patroni.service >/dev/null 2>&1 || true
  fi
}
