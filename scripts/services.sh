#!/usr/bin/env bash
# Starts any of the test servers (PostgreSQL, Redis, RabbitMQ, NATS JetStream) that is down, with the
# machine's own start commands, then waits for each port. Exits non-zero naming any that stays down.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start; }
start_redis() { redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
start_rabbitmq() { rabbitmq-server -detached; }
start_nats() { start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log; }

failed=()
for entry in postgres:5432 redis:6379 rabbitmq:5672 nats:4222; do
  name=${entry%%:*}; port=${entry##*:}
  if ! up "$port"; then
    echo "services: $name is down on port $port; starting it"
    "start_$name" >/dev/null 2>&1 || echo "services: the start command for $name failed"
  fi
done
for entry in postgres:5432 redis:6379 rabbitmq:5672 nats:4222; do
  name=${entry%%:*}; port=${entry##*:}
  for _ in $(seq 1 60); do up "$port" && break; sleep 1; done
  if up "$port"; then echo "services: $name up on 127.0.0.1:$port"; else failed+=("$name:$port"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "services: still unreachable after 60 s: ${failed[*]}" >&2
  exit 1
fi
