#!/usr/bin/env bash
# The layering rule of DESIGN.md that the code can state as text: nothing under http/ or messaging/
# includes a persistence/ header or libpqxx, or names a pqxx or persistence:: symbol (handlers and
# bridges reach storage only through actors::Ledger, actors::LedgerEventOutbox, users::*); nothing
# under actors/ uses libpqxx but the ledger-events relay's session (issue 24 item 3), nor JSON:
# actors decide typed outcomes, domain/outcomes.hpp encodes them, http/ answers (item 2).
#   layering_check.sh ROOT           exits 1 and lists the offending lines when the rule is broken
#   layering_check.sh --self-test    the negative control: a tree with one violation of each kind
#                                    must fail, the same tree without them must pass
set -euo pipefail

# Source lines under the given folders matching the pattern (extended regex), grep's format.
uses() { # pattern dir...
  local pattern=$1
  shift
  grep -rnE --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.cc' "$pattern" "$@" ||
    true
}

# Fails (1) with `message` and the lines when there are any.
refuse() { # message hits
  [[ -z $2 ]] && return 0
  echo "layering_check: $1" >&2
  echo "$2" >&2
  return 1
}

check() { # root
  local root=$1 dirs=() d checked
  for d in http messaging; do [[ -d $root/$d ]] && dirs+=("$root/$d"); done
  if [[ ${#dirs[@]} -eq 0 ]]; then
    echo "layering_check: no http/ or messaging/ under $root" >&2
    return 2
  fi
  refuse "http/ and messaging/ must not use persistence/ or libpqxx:" \
    "$(uses '#[[:space:]]*include[[:space:]]*[<"](persistence/|pqxx)|pqxx::|persistence::' \
      "${dirs[@]}")" || return 1
  checked="${dirs[*]}"
  # actors/ reaches storage through persistence's interfaces (LedgerBackend, LedgerRecords): no
  # libpqxx, but for the ledger-events relay's own session (actors/ledger_event_outbox.cpp).
  if [[ -d $root/actors ]]; then
    refuse "actors/ must not use libpqxx (but ledger_event_outbox.cpp):" \
      "$(uses '#[[:space:]]*include[[:space:]]*[<"]pqxx|pqxx::' "$root/actors" |
        grep -v "^$root/actors/ledger_event_outbox.cpp:")" || return 1
    refuse "actors/ must not build JSON (typed outcomes: domain/outcomes.hpp):" \
      "$(uses '#[[:space:]]*include[[:space:]]*[<"]nlohmann|nlohmann::' "$root/actors")" || return 1
    checked+=" $root/actors"
  fi
  echo "layering_check: ok ($checked)"
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
  rm -f "$tmp/messaging/bad.hpp"
  mkdir -p "$tmp/actors"
  echo 'void f(pqxx::connection& c);' >"$tmp/actors/ledger_event_outbox.cpp"
  check "$tmp" >/dev/null || { echo "self-test: the relay's session in actors/ failed" >&2; return 1; }
  for bad in '#include <pqxx/pqxx>' 'void f(pqxx::work& w);' '#include <nlohmann/json.hpp>' \
    'auto body = nlohmann::json{{"hold_id", id}}.dump();'; do
    echo "$bad" >"$tmp/actors/ledger.cpp"
    rc=0
    check "$tmp" >/dev/null 2>&1 || rc=$?
    if [[ $rc -ne 1 ]]; then
      echo "self-test: the check did not catch in actors/: $bad" >&2
      return 1
    fi
  done
  echo "layering_check self-test: ok (9 violations caught, the clean tree passes)"
}

case ${1:-} in
  --self-test) self_test ;;
  "") echo "usage: $0 ROOT | --self-test" >&2; exit 2 ;;
  *) check "$1" ;;
esac
