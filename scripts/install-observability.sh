#!/usr/bin/env bash
# Installs the observability tools the metrics/alert tests run against, from Debian's packages:
#   prometheus (prometheus + promtool), prometheus-alertmanager (alertmanager), chromium (browser tests).
# Idempotent and quiet: does nothing when every binary is already on PATH; runs `apt-get update` at
# most once per invocation, and only when something is missing. Needs root (or sudo).
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi

# De-duplicate (prometheus may be listed twice).
mapfile -t packages < <(printf '%s\n' "${need[@]}" | sort -u)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-observability: need root or sudo to install: ${packages[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Output goes to a log that is shown only on failure, so a successful run prints one line.
# --no-install-recommends keeps chromium/prometheus from pulling in desktop extras. The Debian
# packages start their services via systemd where present; tests start their own instances on
# random ports, so a running system service does not interfere.
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-observability: apt-get failed for: ${packages[*]}" >&2
  exit 1
fi
echo "install-observability: installed ${packages[*]}"
