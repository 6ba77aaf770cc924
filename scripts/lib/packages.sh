# shellcheck shell=bash
# The Debian 12 packages the project needs (build, servers, tests, tooling): the ONE list to edit.
# ensure_packages installs only what is missing and skips apt-get entirely when all are present.

WALLET_APT_PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # C++ libraries
  libcaf-dev libpistache-dev librdkafka-dev libnats-dev libpqxx-dev nlohmann-json3-dev libspdlog-dev
  libcli11-dev libcurl4-openssl-dev libssl-dev uuid-dev libgtest-dev googletest
  # servers of the local stack
  postgresql-15 postgresql-client-15 postgresql-contrib nats-server kcat
  openjdk-17-jre-headless maven
  # the replicated stack (scripts/cluster): Patroni over a 3-member etcd
  patroni etcd-server etcd-client
  # tooling and test drivers
  curl chromium chromium-driver fonts-liberation nodejs npm docker-compose
)

# A package whose command is already there from another source counts as present: images with
# NodeSource's nodejs (which bundles npm and conflicts with Debian's npm) must not get Debian's npm.
declare -A WALLET_APT_PROVIDED_BY_COMMAND=([npm]=npm [nodejs]=node)

missing_packages() {
  local pkg status cmd
  for pkg in "${WALLET_APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] && continue
    cmd=${WALLET_APT_PROVIDED_BY_COMMAND[$pkg]:-}
    [[ -n $cmd ]] && command -v "$cmd" >/dev/null && continue
    printf '%s\n' "$pkg"
  done
}

ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
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
  if [[ " ${missing[*]} " == *" patroni "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now patroni.service >/dev/null 2>&1 || true
  fi
}
