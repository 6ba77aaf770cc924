# shellcheck shell=bash
# The nemesis's schedule: from the seed, a fault every few seconds (a partition of one of several
# shapes, a one-way cut, a lossy or slow link, a pause, a kill), held for a while, then healed and
# the node restarted, until the deadline. Every start and heal is one JSON line of the nemesis log
# (the checker counts faults by kind from it). Sourced after netns.sh and nemesis_nodes.sh.

nem_now_ns() { date +%s%N; }
nem_event() { # log event kind detail
  printf '{"t_ns":%s,"event":"%s","kind":"%s","detail":"%s"}\n' "$(nem_now_ns)" "$2" "$3" "$4" >>"$1"
  say "nemesis: $2 $3 ${4:+($4)}"
}
nem_pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
nem_of() { nem_nodes | grep "^$1" | tr '\n' ' '; } # nodes whose name starts with a prefix
nem_all_but() { nem_nodes | grep -vx "$1" | tr '\n' ' '; }

NEM_KINDS=(partition-primary-standby partition-primary-clients partition-primary-isolated
  partition-instance-kafka partition-halves partition-etcd-minority partition-oneway
  partition-client-instance lossy-link slow-link pause kill)

# Applies one fault, prints "kind<TAB>detail<TAB>nodes to restart at heal<TAB>nodes to continue".
nem_apply() { # kind
  local kind=$1 leader standby n a b
  leader=$(nem_pg_leader || echo pg1)
  standby=$(nem_of pg | tr ' ' '\n' | grep -vx "$leader" | head -n1)
  case $kind in
    partition-primary-standby) nem_cut "$leader" "$standby"; printf '%s\t%s|%s\t\t\n' "$kind" "$leader" "$standby" ;;
    partition-primary-clients) nem_cut "$leader" "$(nem_of tx) $(nem_of user)"
      printf '%s\t%s|services\t\t\n' "$kind" "$leader" ;;
    partition-primary-isolated) nem_cut "$leader" "$(nem_all_but "$leader") host"
      printf '%s\t%s|all\t\t\n' "$kind" "$leader" ;;
    partition-instance-kafka) n=$(nem_pick $(nem_of tx)); nem_cut "$n" "$(nem_of kafka)"
      printf '%s\t%s|kafka\t\t\n' "$kind" "$n" ;;
    partition-halves)
      a='' b=''
      for n in $(nem_nodes); do if ((RANDOM % 2)); then a+="$n "; else b+="$n "; fi; done
      [[ -n $a && -n $b ]] && nem_cut "$a" "$b"
      printf '%s\t%s|%s\t\t\n' "$kind" "${a% }" "${b% }" ;;
    partition-etcd-minority) n=$(nem_pick $(nem_of etcd)); nem_cut "$n" "$(nem_all_but "$n") host"
      printf '%s\t%s|all\t\t\n' "$kind" "$n" ;;
    partition-oneway)
      a=$(nem_pick $(nem_of pg) $(nem_of tx) $(nem_of kafka) $(nem_of etcd))
      b=$(nem_pick $(nem_all_but "$a"))
      nem_cut_oneway "$a" "$b"; printf '%s\t%s->%s\t\t\n' "$kind" "$a" "$b" ;;
    partition-client-instance) n=$(nem_pick $(nem_of tx) $(nem_of user)); nem_cut host "$n"
      printf '%s\thost|%s\t\t\n' "$kind" "$n" ;;
    lossy-link) n=$(nem_pick "$leader" $(nem_of tx) $(nem_of kafka)); nem_lossy "$n" 30
      printf '%s\t%s 30%%\t\t\n' "$kind" "$n" ;;
    slow-link) n=$(nem_pick "$leader" $(nem_of tx) $(nem_of kafka)); nem_slow "$n" 512kbit 300
      printf '%s\t%s 512kbit\t\t\n' "$kind" "$n" ;;
    pause) n=$(nem_pick "$leader" $(nem_of tx) $(nem_of kafka) $(nem_of etcd) $(nem_of nats))
      nem_signal STOP "$n"; printf '%s\t%s\t\t%s\n' "$kind" "$n" "$n" ;;
    kill) n=$(nem_pick "$leader" "$standby" $(nem_of tx) $(nem_of kafka) $(nem_of user) $(nem_of nats))
      nem_signal KILL "$n"; printf '%s\t%s\t%s\t\n' "$kind" "$n" "$n" ;;
  esac
}

# Until deadline_s from now: quiet, fault, hold, heal. RANDOM seeded: the same seed, the same
# schedule of kinds, targets (given the same leader) and durations.
nemesis_schedule() { # seed seconds every_s log
  local log=$4 deadline=$((SECONDS + $2)) every=$3 line kind detail restart resume
  RANDOM=$1
  : >>"$log"
  sleep 10 # the workload's set-up
  while ((SECONDS + every / 2 + 5 < deadline)); do
    sleep $((every / 3 + RANDOM % (every / 3 + 1)))
    ((SECONDS + 8 < deadline)) || break
    IFS=$'\t' read -r kind detail restart resume < <(nem_apply "$(nem_pick "${NEM_KINDS[@]}")") || continue
    nem_event "$log" start "$kind" "$detail"
    # Holds of 5 s up to about the fault period: long enough, often, for Patroni's 10 s leader TTL to
    # lapse (a failover) and for clients' 20 s retry deadline to pass (outcomes left unknown).
    local hold=$((5 + RANDOM % (every + 1)))
    ((SECONDS + hold < deadline)) || hold=$((deadline - SECONDS > 1 ? deadline - SECONDS : 1))
    sleep "$hold"
    [[ -n $resume ]] && nem_signal CONT "$resume"
    nem_heal $(nem_nodes)
    [[ -n $restart ]] && nem_restart "$restart"
    nem_event "$log" heal "$kind" "$detail"
  done
}

# A killed node: its leftovers (a Postgres whose Patroni died) go too, then it starts again.
nem_restart() { # node
  nem_signal KILL "$1"
  for _ in $(seq 1 20); do nem_alive "$1" || break; sleep 0.2; done
  nem_start "$1" || warn "nemesis: restarting $1 failed"
}

# Every fault off, every node running and continued, then the stack ready again.
nemesis_heal_all() { # log
  local n ok=0
  for n in $(nem_nodes); do nem_signal CONT "$n"; done
  nem_heal $(nem_nodes)
  for n in $(nem_nodes); do nem_alive "$n" || nem_restart "$n"; done
  nem_event "$1" heal-all all ""
  wait_for 120 "" nem_pg_sync_ready || { warn "nemesis: no synchronous standby 120 s after the heal"; ok=1; }
  wait_for 150 "" nem_kafka_ready || { warn "nemesis: kafka not back 150 s after the heal"; ok=1; }
  for n in $(nem_nodes); do
    [[ $n == tx* || $n == user* ]] || continue
    wait_for 120 "" nem_service_ready "$n" || { warn "nemesis: $n not ready 120 s after the heal"; ok=1; }
  done
  return "$ok"
}
