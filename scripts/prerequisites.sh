#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, test and run the demo: PgBouncer, pg_config, and Chromium with its
# driver for the demo page's browser test (Debian packages).
# PostgreSQL's server binaries (initdb, postgres) must be present too; they are looked up on PATH,
# via `pg_config --bindir`, and under /usr/lib/postgresql/*/bin.
set -euo pipefail

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq pgbouncer >/dev/null
  # The package enables a system-wide PgBouncer service; the project starts its own.
  $sudo systemctl disable --now pgbouncer >/dev/null 2>&1 || true
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The tests that restart PostgreSQL or start a standby find its binaries with pg_config (Debian: libpq-dev).
if ! command -v pg_config >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libpq-dev >/dev/null
fi

bindir=$(pg_config --bindir 2>/dev/null || true)
if ! command -v initdb >/dev/null 2>&1 && [ ! -x "${bindir}/initdb" ] \
    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "PostgreSQL server binaries (initdb, postgres) not found: install them (Debian: apt-get install -y postgresql)" >&2
  exit 1
fi
echo "prerequisites: pgbouncer $(pgbouncer --version 2>/dev/null | head -1 | awk '{print $2}'), PostgreSQL $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | xargs -n1 basename | tr '\n' ' '), $(chromium --version 2>/dev/null | head -1)"
