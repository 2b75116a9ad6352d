#!/usr/bin/env bash
# Make sure RabbitMQ answers on the AMQP port: start it if installed, install it with apt when
# root and missing, otherwise say what to do. With --management, also enable the management
# plugin (nameko's test fixtures create a virtual host per test through it).
set -euo pipefail
host=127.0.0.1
port=${NX_RABBITMQ_PORT:-5672}

reachable() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 90); do reachable && return 0; sleep 1; done
  echo "RabbitMQ did not open $host:$port within 90 s; see /var/log/rabbitmq/" >&2
  return 1
}

if ! reachable; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "RabbitMQ is not installed: installing it with apt-get…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    else
      echo "RabbitMQ is neither reachable on $host:$port nor installed." >&2
      echo "Install it (Debian: sudo apt-get install rabbitmq-server) or set AMQP_URI to a running broker." >&2
      exit 1
    fi
  fi
  echo "Starting RabbitMQ…"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_for_port
fi

if [ "${1:-}" = "--management" ]; then
  if ! (exec 3<>"/dev/tcp/$host/15672") 2>/dev/null; then
    rabbitmq-plugins enable rabbitmq_management >/dev/null
    for _ in $(seq 1 60); do (exec 3<>"/dev/tcp/$host/15672") 2>/dev/null && break; sleep 1; done
  fi
fi
# the broker refuses any message over NX_BROKER_MAX_MESSAGE_BYTES (default 8 MiB; RabbitMQ's own
# default is 128 MiB): no publisher can push a huge body at a bureau's consumers. Set on the running
# node (new channels obey it); docker-compose.yml sets the same for the container's broker.
max_bytes=${NX_BROKER_MAX_MESSAGE_BYTES:-8388608}
if command -v rabbitmqctl >/dev/null 2>&1; then
  rabbitmqctl -q eval "application:set_env(rabbit, max_message_size, $max_bytes)." >/dev/null 2>&1 ||
    echo "note: could not set RabbitMQ's max_message_size here (rabbitmqctl eval); set it in rabbitmq.conf" >&2
fi
echo "RabbitMQ is up on $host:$port"
