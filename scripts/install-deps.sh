#!/usr/bin/env bash
# Installs the Debian 12 packages privwatch needs to build, test and run — only the missing ones.
set -euo pipefail

PKGS=(
  libvterm-dev
  build-essential cmake ninja-build pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libfmt-dev libspdlog-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  iproute2 sudo procps util-linux python3 auditd
  libsqlite3-dev sqlite3 libsodium-dev libssl-dev libzstd-dev libcpp-httplib-dev
  libmaxminddb-dev libmaxmind-db-writer-perl libre2-dev
  openssh-server tmux socat netcat-openbsd prometheus openssl
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
  else
    SUDO=
  fi
  echo "privwatch: installing missing packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
