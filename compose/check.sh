#!/usr/bin/env bash
# Checks compose/ without a Docker engine: docker-compose.yml parses and resolves (`config -q`),
# every path compose/Dockerfile COPYs from the repository exists, and, given a build's bin folder,
# every shared library the two service binaries load is installed by the Dockerfile's runtime
# stage (directly or as a dependency), so a new library cannot break only the image.
# Usage: compose/check.sh [BIN_DIR]   (exit 0 when all checks pass)
set -euo pipefail
COMPOSE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$COMPOSE_DIR")
BIN_DIR=${1:-}
failed=0
problem() { echo "compose/check.sh: $*" >&2; failed=1; }

# 1. The compose file, as `docker compose up` would read it.
if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "compose/check.sh: neither docker-compose nor 'docker compose' is installed" >&2
  exit 1
fi
if ! out=$("${compose[@]}" -f "$COMPOSE_DIR/docker-compose.yml" config -q 2>&1); then
  problem "docker-compose.yml is invalid: $out"
fi

# 2. COPY sources of the build context (the repository root); `COPY --from=` copies between stages.
while read -r -a words; do
  [[ ${words[0]:-} == COPY ]] || continue
  [[ ${words[1]} == --from=* ]] && continue
  for src in "${words[@]:1:${#words[@]}-2}"; do
    [[ -e $ROOT/$src ]] || problem "Dockerfile copies $src, which does not exist"
  done
done <"$COMPOSE_DIR/Dockerfile"

# 3. Runtime libraries: the Debian packages owning what ldd resolves for each binary must be among
#    the runtime stage's apt packages or their dependencies (apt's package lists must be present).
if [[ -n $BIN_DIR ]]; then
  runtime=$(sed -n '/^FROM .* AS runtime/,$p' "$COMPOSE_DIR/Dockerfile" |
    sed -n '/apt-get install/,/rm -rf/p' | sed 's/[\]//g' | tr -s ' ' '\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vxE 'apt-get|install|rm|DEBIAN_FRONTEND=noninteractive' || true)
  [[ -n $runtime ]] || problem "no apt packages found in the Dockerfile's runtime stage"
  # shellcheck disable=SC2086
  if ! closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances $runtime 2>/dev/null | grep -E '^[a-z0-9]' |
    sed 's/:.*//' | sort -u) || [[ -z $closure ]]; then
    echo "compose/check.sh: apt package lists unavailable; runtime library check skipped" >&2
  else
    for name in transaction-service user-service; do
      bin=$BIN_DIR/$name
      [[ -x $bin ]] || { problem "no binary $bin to check"; continue; }
      while read -r lib; do
        [[ -n $lib ]] || continue
        owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true)
        pkg=${owner%%:*}
        [[ -n $pkg ]] || { problem "$name loads $lib, which no Debian package owns"; continue; }
        grep -qxF "$pkg" <<<"$closure" ||
          problem "$name loads $lib from package $pkg, which the runtime stage does not install"
      done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
    done
  fi
fi

if ((failed)); then
  echo "compose/check.sh: FAILED" >&2
  exit 1
fi
echo "compose/check.sh: ok (compose file, Dockerfile sources${BIN_DIR:+, runtime libraries})"
