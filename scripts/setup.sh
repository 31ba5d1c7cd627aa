#!/usr/bin/env bash
# Idempotent set-up for `make run` and `make test`: Debian packages (when root), the
# Python virtualenv with Atoll and its test extras, and kubectl 1.20 from Debian's
# kubernetes-client package (extracted under .tools/, because another package may already
# own /usr/bin/kubectl on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_dir=.cache/setup
mkdir -p "$stamp_dir"

# docker-registry: Distribution 2.8, the real registry the image-puller tests start on
# 127.0.0.1 (tests/embedded/kubelet/registry_support.py); its own service is not used.
# runc: the kubelet's OCI runtime (as root). busybox-static: a static binary the kubelet
# tests build FROM-scratch images around. iproute2: pod network namespaces, veths and the
# bridge (as root). procps: uptime, ps and friends for commands run in host-process pods (the
# official client's exec tests run ``uptime``). slapd: OpenLDAP, the real directory the LDAP
# log-in tests start on 127.0.0.1 with their own configuration (tests/server/ldap_support.py);
# its own service is not used. ldap-utils: ldapsearch and ldapmodify, with which those tests
# read and change the directory. chromium: the browser the console's journeys drive through
# Playwright (tests/console/): Debian's own build, never a download. fonts-noto-cjk: its Chinese
# glyphs, for the 简体中文 pages. socat: carries Chromium's connections out of the network
# namespace it runs in there (tests/console/isolation.py).
need_apt=()
for pkg in curl ca-certificates git docker-registry runc busybox-static iproute2 procps \
  slapd ldap-utils chromium fonts-noto-cjk socat; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
    # slapd's package may start the system directory (port 389): the tests never use it, so
    # a slapd installed here is stopped and kept from starting at boot.
    if printf '%s\n' "${need_apt[@]}" | grep -qx slapd; then
      service slapd stop >/dev/null 2>&1 || true
      if command -v systemctl >/dev/null 2>&1; then
        systemctl disable slapd >/dev/null 2>&1 || true
      else
        update-rc.d slapd disable >/dev/null 2>&1 || true
      fi
    fi
  else
    echo "setup: missing Debian packages ${need_apt[*]} (run as root to install them)" >&2
  fi
fi

# kubectl 1.20 (Debian's kubernetes-client), used by the tests and handy for users.
if [ ! -x .tools/kubernetes-client/usr/bin/kubectl ]; then
  mkdir -p .cache/debs .tools/kubernetes-client
  (cd .cache/debs && { ls kubernetes-client_*.deb >/dev/null 2>&1 || {
      apt-get download kubernetes-client 2>/dev/null || { apt-get update -qq && apt-get download kubernetes-client; }; }; })
  dpkg-deb -x .cache/debs/kubernetes-client_*.deb .tools/kubernetes-client
fi

# Python virtualenv; reinstall only when pyproject.toml changed.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -U pip
fi
sum=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp_dir/pip" 2>/dev/null)" != "$sum" ]; then
  .venv/bin/pip install -q -e '.[test]'
  echo "$sum" > "$stamp_dir/pip"
fi

# The console: npm packages from its lock file, then a build into console/dist (which the server
# serves at /), each redone only when its inputs changed.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  else
    echo "setup: npm is missing (install Node.js 20 and npm)" >&2
    exit 1
  fi
fi
lock=$(sha256sum console/package-lock.json | cut -d' ' -f1)
if [ ! -d console/node_modules ] || [ "$(cat "$stamp_dir/npm" 2>/dev/null)" != "$lock" ]; then
  (cd console && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock" > "$stamp_dir/npm"
fi
sources=$(cd console && find src index.html vite.config.ts tsconfig.json package-lock.json -type f \
  -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f console/dist/index.html ] || [ "$(cat "$stamp_dir/console" 2>/dev/null)" != "$sources" ]; then
  echo "setup: building the console"
  (cd console && npx vite build --logLevel warn)
  echo "$sources" > "$stamp_dir/console"
fi
