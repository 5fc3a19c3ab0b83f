#!/usr/bin/env bash
# Generates the next numbered migration from src/db/schema (never edit a landed one).
# drizzle-kit qualifies references with "public"; we strip it so that the same SQL runs in
# whatever schema DATABASE_SCHEMA names (tests run each file in a schema of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
npx drizzle-kit generate "$@"
sed -i 's/"public"\.//g' src/db/migrations/*.sql
