#!/usr/bin/env bash
# Install the companion and its system libraries, then run it or its tests.
#   ./setup.sh run     install, then start listening on the default microphone and speaker
#   ./setup.sh test    install (with the test tools), then run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-run}"

runtime_pkgs=(libportaudio2 libasound2-plugins)
test_pkgs=(pulseaudio pulseaudio-utils sox systemd espeak-ng flite mosquitto)
pkgs=("${runtime_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Please install the system packages first:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$what" = test ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  .venv/bin/ruff check companion tests
  exec .venv/bin/python -m pytest -ra
else
  .venv/bin/python -m pip install -q -e .
  exec .venv/bin/companion run "${@:2}"
fi
