#!/usr/bin/env bash
# A local three-node RabbitMQ cluster for `make cluster-faults` (README "A RabbitMQ cluster"):
#
#   deploy/rabbitmq_cluster.sh start    start nx1@localhost, nx2@localhost, nx3@localhost and cluster them
#   deploy/rabbitmq_cluster.sh stop     shut the three down and remove their data
#   deploy/rabbitmq_cluster.sh ctl N …  rabbitmqctl for node N (stop_app, start_app, cluster_status, …)
#
# Each node has its own name, ports (AMQP 5681-5683, management 15681-15683, distribution
# 25681-25683), data, logs and Erlang cookie under NX_CLUSTER_DIR (default /tmp/nx-cluster): nothing
# of the default node (rabbit@localhost on 5672, /var/lib/rabbitmq) is read or touched; they share
# only the host's epmd, as any two nodes on one machine do.
set -euo pipefail
base=${NX_CLUSTER_DIR:-/tmp/nx-cluster}
bin=/usr/lib/rabbitmq/bin
nodes=(1 2 3)

amqp_port() { echo $((5680 + $1)); }
node_name() { echo "nx$1@localhost"; }

node_env() { # run "$@" in node $1's environment
  local n=$1
  shift
  env HOME="$base" \
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_PORT="$(amqp_port "$n")" \
    RABBITMQ_DIST_PORT=$((25680 + n)) \
    RABBITMQ_CONFIG_FILE="$base/nx$n/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$base/nx$n/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/nx$n/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$base/nx$n/mnesia" \
    RABBITMQ_LOG_BASE="$base/nx$n/log" \
    RABBITMQ_PID_FILE="$base/nx$n/pid" \
    "$@"
}

ctl() {
  local n=$1
  shift
  node_env "$n" "$bin/rabbitmqctl" -q -n "$(node_name "$n")" "$@"
}

start() {
  command -v "$bin/rabbitmq-server" >/dev/null || {
    echo "RabbitMQ is not installed (Debian: apt-get install rabbitmq-server)" >&2
    exit 1
  }
  mkdir -p "$base"
  printf 'ERL_EPMD_ADDRESS=127.0.0.1\n' >"$base/rabbitmq-env.conf"
  [ -f "$base/.erlang.cookie" ] || { head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9 >"$base/.erlang.cookie"; }
  chmod 400 "$base/.erlang.cookie"
  for n in "${nodes[@]}"; do
    mkdir -p "$base/nx$n/log" "$base/nx$n/mnesia"
    printf 'listeners.tcp.default = 127.0.0.1:%s\nmanagement.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\nloopback_users = none\n' \
      "$(amqp_port "$n")" $((15680 + n)) >"$base/nx$n/rabbitmq.conf"
    echo '[].' >"$base/nx$n/advanced.config"
    echo '[rabbitmq_management].' >"$base/nx$n/enabled_plugins"
    if ctl "$n" status >/dev/null 2>&1; then
      echo "$(node_name "$n") is already running"
      continue
    fi
    ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}" node_env "$n" "$bin/rabbitmq-server" \
      >"$base/nx$n/log/console.log" 2>&1 &
  done
  for n in "${nodes[@]}"; do
    ctl "$n" wait --timeout 120 "$base/nx$n/pid" >/dev/null
  done
  for n in "${nodes[@]:1}"; do
    if ! ctl "$n" cluster_status --formatter json | grep -q "nx1@localhost"; then
      ctl "$n" stop_app
      ctl "$n" join_cluster "$(node_name 1)"
      ctl "$n" start_app
    fi
  done
  ctl 1 await_online_nodes 3 --timeout 60 >/dev/null 2>&1 || true
  echo "RabbitMQ cluster up: $(for n in "${nodes[@]}"; do printf '%s (amqp %s) ' "$(node_name "$n")" "$(amqp_port "$n")"; done)"
}

stop() {
  for n in "${nodes[@]}"; do
    ctl "$n" shutdown >/dev/null 2>&1 || true
  done
  rm -rf "$base"
  echo "RabbitMQ cluster stopped, $base removed"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
ctl)
  shift
  ctl "$@"
  ;;
*)
  echo "usage: $0 start | stop | ctl N <rabbitmqctl arguments>" >&2
  exit 2
  ;;
esac
