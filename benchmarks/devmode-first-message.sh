#!/usr/bin/env bash
# Time from launching `quarkus:dev` on the demo application (Dev Services start PostgreSQL + PgBouncer) to the
# first message delivered to its @BusListener: what a developer waits for after typing the README's run command
# (minus the one-off `install`). Runs N times (default 3) and prints a Markdown table with the median.
#
#   benchmarks/devmode-first-message.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
port=18080
./mvnw -B -q install -DskipTests

now() { date +%s.%N; }
seconds() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }

up_times=()
delivered_times=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  start=$(now)
  setsid ./mvnw -B -f integration-tests/pom.xml quarkus:dev -Ddebug=false -Dquarkus.http.port=$port \
    -Dquarkus.console.enabled=false > "$log" 2>&1 &
  devmode=$!
  deadline=$((SECONDS + 300))
  until curl -s -o /dev/null -f -X POST -H 'Content-Type: text/plain' -d "first-$run" \
      "localhost:$port/bus/send/greetings"; do
    [ $SECONDS -lt $deadline ] || { echo "dev mode did not come up; see $log" >&2; exit 1; }
    sleep 0.1
  done
  up=$(now)
  until curl -s "localhost:$port/bus/received/greetings" | grep -q "first-$run"; do
    [ $SECONDS -lt $deadline ] || { echo "message not delivered; see $log" >&2; exit 1; }
    sleep 0.02
  done
  delivered=$(now)
  # This run's own servers: Dev Services name their directory in the log.
  rundir=$(grep -o '/tmp/quarkus-imdispatcher-run-[A-Za-z0-9_-]*' "$log" | head -1 || true)
  kill -- -"$devmode" 2>/dev/null || true
  wait "$devmode" 2>/dev/null || true
  # The next run starts from nothing: wait until this run's servers are gone (not anyone else's PgBouncer).
  while [ -n "$rundir" ] && pgrep -f "$rundir" >/dev/null; do sleep 0.2; done
  up_times+=("$(seconds "$start" "$up")")
  delivered_times+=("$(seconds "$start" "$delivered")")
  rm -f "$log"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "| run | HTTP up (s) | first message delivered (s) |"
echo "|---|---|---|"
for i in "${!up_times[@]}"; do echo "| $((i + 1)) | ${up_times[$i]} | ${delivered_times[$i]} |"; done
echo "| median | $(median "${up_times[@]}") | $(median "${delivered_times[@]}") |"
echo
echo "$(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(ls /usr/lib/postgresql 2>/dev/null | tail -1), $(pgbouncer --version 2>/dev/null | head -1)"
