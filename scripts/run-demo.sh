#!/usr/bin/env bash
# Runs the demo application (integration-tests/) in Quarkus dev mode, with its datasource pointed at a local
# PgBouncer in transaction pooling mode and its listener pointed at the local PostgreSQL behind it.
# Both servers run from the binaries on this machine, in a temporary directory, and stop when this script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

./mvnw -B -q install -DskipTests

ready=$(mktemp -u /tmp/bus-alt-connection-demo-XXXXXX)
./mvnw -B -q -f integration-tests/pom.xml test-compile exec:java \
  -Dexec.mainClass=io.quarkiverse.busaltconnection.it.DemoStack -Dexec.classpathScope=test \
  -Dexec.args="$ready" &
stack=$!
trap 'rm -f "$ready"; kill "$stack" 2>/dev/null; wait "$stack" 2>/dev/null' EXIT

until [ -s "$ready" ]; do
  kill -0 "$stack" 2>/dev/null || { echo "the local PostgreSQL + PgBouncer did not start" >&2; exit 1; }
  sleep 1
done

# shellcheck disable=SC2046
./mvnw -B -f integration-tests/pom.xml quarkus:dev $(cat "$ready") "$@"
