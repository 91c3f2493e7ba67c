#!/usr/bin/env bash
# System packages the project uses: fonts and wallpapers for the synthetic generator,
# Chromium for the web page's browser test. Installs only what is missing; without
# root or apt it says what to install and carries on (the tests that need them skip).
set -euo pipefail
packages=(fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-urw-base35 fonts-roboto
          fonts-open-sans fonts-noto-core gnome-backgrounds mate-backgrounds chromium chromium-driver
          ${EXTRA_SYSTEM_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "warning: missing system packages (install them with apt-get): ${missing[*]}" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
