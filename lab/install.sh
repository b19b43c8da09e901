#!/usr/bin/env bash
# Installs what the lab, the tests and the demo need from Debian's packages.
# Idempotent: does nothing when everything is present; runs apt-get update once otherwise.
set -euo pipefail

packages=(
  samba samba-ad-dc samba-ad-provision winbind   # the AD domain controller
  krb5-user ldap-utils libsasl2-modules-gssapi-mit  # kinit, ldapsearch -Y GSSAPI
  ldb-tools                                          # ldbmodify beneath the SPN uniqueness check
  prometheus prometheus-alertmanager                 # alert tests and the demo
  tshark                                             # wire test: nothing readable with seal
  chromium                                           # landing page browser test
  tmux                                               # progress line test on a terminal
  systemd                                            # deploy test: systemd-analyze verify (kubectl comes with the machine image)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "lab/install.sh: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 2
fi
echo "lab/install.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debconf would ask for a default realm and for wireshark capture permissions.
echo "krb5-config krb5-config/default_realm string CORP.EXAMPLE.TEST" | debconf-set-selections
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages' own services are not what the lab runs: keep them from holding the ports.
for svc in samba-ad-dc smbd nmbd winbind prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
pkill -x prometheus 2>/dev/null || true
pkill -x prometheus-alertmanager 2>/dev/null || true
