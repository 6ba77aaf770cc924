#!/usr/bin/env bash
# The layering rule of DESIGN.md that the code can state as text: nothing under http/ or messaging/
# includes a persistence/ header or libpqxx, or names a pqxx or persistence:: symbol (handlers and
# bridges reach storage only through actors::Ledger, actors::LedgerEventOutbox, users::*).
#   layering_check.sh ROOT           exits 1 and lists the offending lines when the rule is broken
#   layering_check.sh --self-test    the negative control: a tree with one violation of each kind
#                                    must fail, the same tree without them must pass
set -euo pipefail

check() { # root
  local root=$1 dirs=() d hits
  for d in http messaging; do [[ -d $root/$d ]] && dirs+=("$root/$d"); done
  if [[ ${#dirs[@]} -eq 0 ]]; then
    echo "layering_check: no http/ or messaging/ under $root" >&2
    return 2
  fi
  hits=$(grep -rnE --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.cc' \
    '#[[:space:]]*include[[:space:]]*[<"](persistence/|pqxx)|pqxx::|persistence::' "${dirs[@]}" || true)
  if [[ -n $hits ]]; then
    echo "layering_check: http/ and messaging/ must not use persistence/ or libpqxx:" >&2
    echo "$hits" >&2
    return 1
  fi
  echo "layering_check: ok (${dirs[*]})"
}

self_test() {
  local tmp rc
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/http" "$tmp/messaging"
  echo '#include "actors/ledger.hpp"' >"$tmp/http/clean.cpp"
  check "$tmp" >/dev/null || { echo "self-test: a clean tree failed" >&2; return 1; }
  local bad
  for bad in '#include "persistence/db_pool.hpp"' '#include <pqxx/pqxx>' '  #  include <pqxx/connection>' \
    'void f(pqxx::connection& c);' 'persistence::DbPool* pool;'; do
    echo "$bad" >"$tmp/messaging/bad.hpp"
    rc=0
    check "$tmp" >/dev/null 2>&1 || rc=$?
    if [[ $rc -ne 1 ]]; then
      echo "self-test: the check did not catch: $bad" >&2
      return 1
    fi
  done
  echo "layering_check self-test: ok (5 violations caught, the clean tree passes)"
}

case ${1:-} in
  --self-test) self_test ;;
  "") echo "usage: $0 ROOT | --self-test" >&2; exit 2 ;;
  *) check "$1" ;;
esac
