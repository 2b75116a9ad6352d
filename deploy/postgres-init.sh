#!/bin/sh
# One PostgreSQL database per service: nx_<name> for every service folder (a folder of
# NX_SERVICES_DIR with a config.yaml). docker-compose mounts ./services at /nx-services and this
# script into /docker-entrypoint-initdb.d/, so a new service's database needs no edit here.
set -eu
services_dir=${NX_SERVICES_DIR:-/nx-services}
psql=${PSQL:-psql}
for config in "$services_dir"/*/config.yaml; do
  [ -f "$config" ] || continue
  name=$(basename "$(dirname "$config")")
  echo "creating database nx_$name"
  $psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -c "CREATE DATABASE \"nx_$name\""
done
