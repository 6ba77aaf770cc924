# shellcheck shell=bash
# The nemesis network (DESIGN.md section 11): every node of the replicated stack in a network
# namespace of its own (`wnem-<node>`), joined by one bridge (wnem0, 10.77.0.0/24, the host at
# 10.77.0.1), so that traffic between any two nodes can be cut, made one-way or lossy, and a link
# slowed. Faults are rules of one nft table in the host's bridge family (`bridge wnemesis`) that
# only ever match addresses of 10.77.0.0/24, and tbf qdiscs on our own veths; pauses and kills
# signal the pids inside our namespaces only. netns_teardown removes every trace. Sourced after
# stack.sh.

NEM_BRIDGE=wnem0
NEM_NET=10.77.0
NEM_HOST_IP=$NEM_NET.1
NEM_NFT_TABLE=wnemesis

# Node name -> last octet. A node is one process group: an etcd member, a Patroni node with its
# Postgres, a Kafka broker, a NATS server, a service instance.
declare -A NEM_OCTET=([etcd1]=11 [etcd2]=12 [etcd3]=13 [pg1]=21 [pg2]=22 [kafka1]=31 [kafka2]=32
  [kafka3]=33 [nats1]=41 [nats2]=42 [tx1]=51 [tx2]=52 [tx3]=53 [user1]=61 [user2]=62)
nem_ip() { echo "$NEM_NET.${NEM_OCTET[$1]:?unknown node $1}"; }
nem_ns() { echo "wnem-$1"; }

# nftables is the one package this needs beyond scripts/cluster's (as scripts/lib/packages.sh:
# only what is missing, idempotent). tc (iproute2) is part of every Debian.
netns_ensure_packages() {
  local pkg missing=()
  for pkg in nftables iproute2; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing missing packages: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 install -y \
    --no-install-recommends "${missing[@]}"
}

# The bridge, one namespace per node with a veth into the bridge, and the empty fault table.
netns_up() { # node...
  local node ns ip
  [[ $EUID -eq 0 ]] || die "netns: network namespaces need root"
  ip link show "$NEM_BRIDGE" >/dev/null 2>&1 && die "netns: $NEM_BRIDGE exists (a run in progress? else: scripts/nemesis --teardown)"
  ip link add "$NEM_BRIDGE" type bridge
  ip addr add "$NEM_HOST_IP/24" dev "$NEM_BRIDGE"
  ip link set "$NEM_BRIDGE" up
  for node in "$@"; do
    ns=$(nem_ns "$node") ip=$(nem_ip "$node")
    ip netns add "$ns"
    ip link add "wnem-$node" type veth peer name eth0 netns "$ns"
    ip link set "wnem-$node" master "$NEM_BRIDGE" up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
  # prerouting sees every frame that enters the bridge from a node's veth (node to node, node to
  # host); output sees the host's own frames to a node. Both hold the same rules.
  nft -f - <<EOF
table bridge $NEM_NFT_TABLE {
  chain pre { type filter hook prerouting priority -200; policy accept; }
  chain out { type filter hook output priority -200; policy accept; }
}
EOF
}

# Run a command inside a node's namespace.
nem_exec() { # node cmd...
  local node=$1
  shift
  ip netns exec "$(nem_ns "$node")" "$@"
}

# The pids of every process in a node's namespace (all of them started by this run).
nem_pids() { ip netns pids "$(nem_ns "$1")" 2>/dev/null || true; }

# ---- faults ----------------------------------------------------------------------------------
# A rule for both chains; `match` is an nft expression over our addresses only.
nft_rule() { # match verdict...
  local m=$1
  shift
  nft add rule bridge $NEM_NFT_TABLE pre "$m" "$@"
  nft add rule bridge $NEM_NFT_TABLE out "$m" "$@"
}
nem_set() { # node... -> "{ ip, ip }" (host is a pseudo-node)
  local n ips=()
  for n in "$@"; do if [[ $n == host ]]; then ips+=("$NEM_HOST_IP"); else ips+=("$(nem_ip "$n")"); fi; done
  local IFS=,
  echo "{ ${ips[*]} }"
}
# Drop every packet from side A to side B (one-way). Two calls make a full partition.
nem_cut_oneway() { # "A nodes" "B nodes"
  # shellcheck disable=SC2086 # the lists are space-separated node names on purpose
  nft_rule "ip saddr $(nem_set $1) ip daddr $(nem_set $2)" drop
}
nem_cut() { nem_cut_oneway "$1" "$2"; nem_cut_oneway "$2" "$1"; }
# Drop a share of the packets to and from a node (TCP retransmits: a lossy, slow link).
nem_lossy() { # node percent
  local ip
  ip=$(nem_ip "$1")
  nft_rule "ip saddr $ip numgen random mod 100 < $2" drop
  nft_rule "ip daddr $ip numgen random mod 100 < $2" drop
}
# The kernel has no sch_netem here; a token bucket on both ends of the node's veth delays what
# exceeds the rate by up to latency_ms (queueing), then drops: a slow link.
nem_slow() { # node rate latency_ms
  tc qdisc replace dev "wnem-$1" root tbf rate "$2" burst 4kb latency "$3ms"
  tc -n "$(nem_ns "$1")" qdisc replace dev eth0 root tbf rate "$2" burst 4kb latency "$3ms"
}
# Every network fault off: the table emptied, every tbf removed.
nem_heal() { # node...
  local n
  nft flush chain bridge $NEM_NFT_TABLE pre 2>/dev/null || true
  nft flush chain bridge $NEM_NFT_TABLE out 2>/dev/null || true
  for n in "$@"; do
    tc qdisc del dev "wnem-$n" root 2>/dev/null || true
    tc -n "$(nem_ns "$n")" qdisc del dev eth0 root 2>/dev/null || true
  done
}
nem_signal() { # signal node
  local p
  for p in $(nem_pids "$2"); do kill "-$1" "$p" 2>/dev/null || true; done
}

# ---- teardown --------------------------------------------------------------------------------
# Idempotent; safe after a crash of the run. Only our namespaces, veths, bridge and table. A
# subshell without errexit: a process that exits between being listed and signalled must not cut
# the teardown short.
netns_teardown() (
  set +e
  local ns p i
  nft delete table bridge $NEM_NFT_TABLE 2>/dev/null || true
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^wnem-/ {print $1}'); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  done
  for ((i = 0; i < 50; i++)); do
    [[ -z $(for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^wnem-/ {print $1}'); do ip netns pids "$ns"; done) ]] && break
    sleep 0.2
  done
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^wnem-/ {print $1}'); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  sleep 0.3
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^wnem-/ {print $1}'); do ip netns del "$ns" 2>/dev/null || true; done
  for p in $(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^wnem-/ {sub(/@.*/, "", $2); print $2}'); do
    ip link del "$p" 2>/dev/null || true
  done
  ip link del "$NEM_BRIDGE" 2>/dev/null
  return 0
)
