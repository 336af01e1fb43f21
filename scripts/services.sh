#!/usr/bin/env bash
# Installs and starts what the tests talk to, if it is missing or stopped. Idempotent.
#   PostgreSQL (store tests), Debian's chromium (the COP browser tests).
set -euo pipefail

say() { printf 'services: %s\n' "$*"; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL: installed and running on 127.0.0.1:5432 with trust auth for local tests.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "installing PostgreSQL"; apt_install postgresql
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { say "PostgreSQL did not start"; exit 1; }
# The test role and database (trust auth on this kind of machine; created when missing).
user="${PGUSER:-$(id -un)}"
if ! psql -h 127.0.0.1 -U "$user" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  su postgres -c "psql -tAc \"create role \\\"$user\\\" superuser login\"" || true
fi
if ! psql -h 127.0.0.1 -U "$user" -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
  say "creating database test"; psql -h 127.0.0.1 -U "$user" -d postgres -c 'create database test'
fi
# PostGIS for the store's spatial queries (the store works without it, the tests want it).
pg_major="$(psql -h 127.0.0.1 -U "$user" -d test -tAc 'show server_version_num' | cut -c1-2)"
if ! psql -h 127.0.0.1 -U "$user" -d test -tAc "select 1 from pg_available_extensions where name='postgis'" | grep -q 1; then
  say "installing PostGIS"; apt_install "postgresql-${pg_major}-postgis-3"
fi

# Mosquitto for the MQTT adapter tests (and mosquitto_pub for the benchmark).
if ! command -v mosquitto >/dev/null 2>&1 || ! command -v mosquitto_pub >/dev/null 2>&1; then
  say "installing Mosquitto"; apt_install mosquitto mosquitto-clients
fi
if ! pgrep -x mosquitto >/dev/null 2>&1; then
  say "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.5; done
fi

# NATS with JetStream for the distributed bus's tests (and the three-node cluster test).
if [ ! -x /usr/sbin/nats-server ]; then say "installing nats-server"; apt_install nats-server; fi
if ! (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  say "starting NATS JetStream"; mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.2; done
fi
(echo > /dev/tcp/127.0.0.1/4222) 2>/dev/null || { say "NATS did not start"; exit 1; }

# Chromium for the browser tests (Playwright drives Debian's build; nothing is downloaded).
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium"; apt_install chromium
fi
say "ready: Mosquitto $(mosquitto -h 2>/dev/null | head -n1 | awk '{print $3}'), PostgreSQL $(psql -h 127.0.0.1 -U "$user" -d test -tAc 'show server_version'), $(/usr/bin/chromium --version 2>/dev/null)"
