#!/usr/bin/env bash
# deploy/demo/demo.sh up|stop|down|status: the `make demo` of the README.
#
#   up      bring up the lab DC with the IIS farm (./lab/up), import the
#           farm from its IIS files (spnaudit iis import lab/iis/...), then a
#           local Prometheus (deploy/prometheus/alerts.yml), Alertmanager and
#           `spnaudit serve` against the lab, all on 127.0.0.1; wait until each
#           answers and print what to open and try. Safe to re-run: it stops
#           what an earlier run started and starts it again.
#   stop    stop what `up` started and remove the demo directory; the lab stays.
#   down    stop, then remove the lab too (./lab/down): `make demo-down`.
#   status  say which demo processes run.
#
# Environment (defaults in brackets):
#   SPNAUDIT_DEMO_DIR               state, configs, pid files, logs [/tmp/spnaudit-demo]
#   SPNAUDIT_DEMO_SPNAUDIT_PORT     spnaudit serve [9688]
#   SPNAUDIT_DEMO_PROMETHEUS_PORT   Prometheus [9090]
#   SPNAUDIT_DEMO_ALERTMANAGER_PORT Alertmanager [9093]
#   SPNAUDIT_DEMO_BIN               the spnaudit binary [bin/spnaudit, from make build]
#   SPNAUDIT_LAB_DIR                the lab DC's directory [/tmp/spnaudit-lab]
# Other SPNAUDIT_* variables reach `spnaudit serve` and override the demo's
# configuration file, as they do everywhere (e.g. SPNAUDIT_LOG_LEVEL=debug).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
export PATH="$PATH:/usr/local/go/bin"

demo_dir=${SPNAUDIT_DEMO_DIR:-/tmp/spnaudit-demo}
spnaudit_port=${SPNAUDIT_DEMO_SPNAUDIT_PORT:-9688}
prometheus_port=${SPNAUDIT_DEMO_PROMETHEUS_PORT:-9090}
alertmanager_port=${SPNAUDIT_DEMO_ALERTMANAGER_PORT:-9093}
spnaudit_bin=${SPNAUDIT_DEMO_BIN:-$repo/bin/spnaudit}

# The lab farm's IIS configuration files (lab/iis), as `spnaudit iis import`
# takes them: an applicationHost.config per node, named by its directory, and
# the WinRM IIS extension's web.config, placed by its directory name.
iis_files=(
  lab/iis/svexpgg310/applicationHost.config
  lab/iis/svexpgg311/applicationHost.config
  lab/iis/svexpgg312/applicationHost.config
  lab/iis/svexpgg312/wsman/web.config
)

# The three processes, in start order: name, executable, port variable.
services=(alertmanager prometheus spnaudit)

say() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 2; }

executable_of() {
  case $1 in
    alertmanager) echo /usr/bin/prometheus-alertmanager ;;
    prometheus) echo /usr/bin/prometheus ;;
    spnaudit) echo "$spnaudit_bin" ;;
  esac
}

port_of() {
  case $1 in
    alertmanager) echo "$alertmanager_port" ;;
    prometheus) echo "$prometheus_port" ;;
    spnaudit) echo "$spnaudit_port" ;;
  esac
}

port_variable_of() {
  case $1 in
    alertmanager) echo SPNAUDIT_DEMO_ALERTMANAGER_PORT ;;
    prometheus) echo SPNAUDIT_DEMO_PROMETHEUS_PORT ;;
    spnaudit) echo SPNAUDIT_DEMO_SPNAUDIT_PORT ;;
  esac
}

# running_pid prints the pid of a demo process started by us, if it still
# runs that executable (a recycled pid is never signalled).
running_pid() {
  local pidfile=$demo_dir/$1.pid pid exe
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # make build replaces bin/spnaudit under a running daemon.
  [ "${exe% (deleted)}" = "$(readlink -f "$(executable_of "$1")")" ] || return 1
  echo "$pid"
}

stop_service() {
  local pid
  if pid=$(running_pid "$1"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$demo_dir/$1.pid"
}

stop_all() {
  local i
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do
    stop_service "${services[i]}"
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_service NAME ARGS...: runs the executable in its own session (it
# outlives this script), output to NAME.log, pid to NAME.pid.
start_service() {
  local name=$1 port
  shift
  port=$(port_of "$name")
  if port_in_use "$port"; then
    die "port $port (for $name) is taken by another program; choose another with $(port_variable_of "$name")=PORT"
  fi
  setsid "$(executable_of "$name")" "$@" >"$demo_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$demo_dir/$name.pid"
}

# wait_for NAME URL SECONDS: until URL answers 200, or fail showing the log.
wait_for() {
  local name=$1 url=$2 seconds=$3 i
  for ((i = 0; i < seconds * 2; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    if ! running_pid "$name" >/dev/null; then
      tail -n 20 "$demo_dir/$name.log" >&2 || true
      die "$name exited; its log is $demo_dir/$name.log"
    fi
    sleep 0.5
  done
  tail -n 20 "$demo_dir/$name.log" >&2 || true
  die "$name did not answer $url within ${seconds}s; its log is $demo_dir/$name.log"
}

write_configs() {
  # spnaudit's configuration, by the lab's one writer of them (lab.WriteConfig):
  # the DC over plain LDAP on 389, where sasl_security auto picks a sealed
  # (encrypted) layer, with the audit account's keytab and the lab's krb5.conf.
  # On top of that:
  # - base_dn, the farm's OU only: the lab may also hold OU=Bulk (20,000
  #   generated accounts for the benchmarks), whose findings would bury the
  #   farm's. Without base_dn spnaudit reads the whole forest.
  # - incremental polls every 5s, so that lab/break shows within seconds.
  # - iis.config_files, the farm's IIS configuration (lab/iis), for the IIS
  #   rules.
  local abs=() f
  for f in "${iis_files[@]}"; do abs+=("\"$repo/$f\""); done
  go run ./lab/cmd/labctl config "$demo_dir/spnaudit.yaml" \
    ldap.base_dn=OU=Farm,DC=corp,DC=example,DC=test \
    scan.poll_interval=5s \
    web.listen_address="127.0.0.1:$spnaudit_port" \
    "iis.config_files=[$(IFS=,; echo "${abs[*]}")]"
  # The farm itself is not typed in: `spnaudit iis import` reads it from the
  # same IIS files, as an admin would, and merges its farms: entry into the
  # configuration (the lab's hand-written farm, lab.FarmConfig, is equal).
  "$spnaudit_bin" iis import -q "${iis_files[@]}" --write "$demo_dir/spnaudit.yaml"

  cat >"$demo_dir/prometheus.yml" <<YAML
# Prometheus for the spnaudit demo (written by deploy/demo/demo.sh).
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $repo/deploy/prometheus/alerts.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$alertmanager_port"]
scrape_configs:
  # SPNAuditDown matches this job name.
  - job_name: spnaudit
    static_configs:
      - targets: ["127.0.0.1:$spnaudit_port"]
YAML

  cat >"$demo_dir/alertmanager.yml" <<YAML
# Alertmanager for the spnaudit demo (written by deploy/demo/demo.sh): alerts
# show in its UI and API; the receiver sends nothing anywhere.
route:
  receiver: demo
  # One notification per SPN, listing every account (see alerts.yml).
  group_by: [alertname, spn]
  group_wait: 5s
  group_interval: 30s
  repeat_interval: 4h
receivers:
  - name: demo
YAML
}

up() {
  local started=$SECONDS
  [ -x "$spnaudit_bin" ] || die "$spnaudit_bin is missing: run make build (or make demo)"
  for name in alertmanager prometheus; do
    [ -x "$(executable_of "$name")" ] || die "$(executable_of "$name") is missing: run bash lab/install.sh as root"
  done
  command -v curl >/dev/null || die "curl is missing: apt-get install curl"

  say "lab DC with the IIS farm scenario (./lab/up; the first time provisions the domain)"
  ./lab/up

  stop_all
  rm -rf "$demo_dir"
  mkdir -p "$demo_dir"
  # A failed start stops what it started; the logs stay for reading.
  trap 'stop_all' EXIT
  write_configs
  "$spnaudit_bin" config check --config "$demo_dir/spnaudit.yaml" >/dev/null

  say "starting Alertmanager, Prometheus and spnaudit serve"
  start_service alertmanager \
    --config.file="$demo_dir/alertmanager.yml" \
    --storage.path="$demo_dir/alertmanager-data" \
    --web.listen-address="127.0.0.1:$alertmanager_port" \
    --cluster.listen-address=
  start_service prometheus \
    --config.file="$demo_dir/prometheus.yml" \
    --storage.tsdb.path="$demo_dir/prometheus-data" \
    --web.listen-address="127.0.0.1:$prometheus_port"
  start_service spnaudit serve --config "$demo_dir/spnaudit.yaml"

  wait_for alertmanager "http://127.0.0.1:$alertmanager_port/-/ready" 60
  wait_for prometheus "http://127.0.0.1:$prometheus_port/-/ready" 60
  say "waiting for spnaudit's first scan"
  wait_for spnaudit "http://127.0.0.1:$spnaudit_port/-/ready" 300
  trap - EXIT

  cat <<TEXT

spnaudit demo is up ($((SECONDS - started))s). Open:

  Summary, the farm's picture, findings  http://127.0.0.1:$spnaudit_port/
  The duplicate SPNs only                http://127.0.0.1:$spnaudit_port/?rule=duplicate-spn
  Prometheus alerts                      http://127.0.0.1:$prometheus_port/alerts
  Alertmanager                           http://127.0.0.1:$alertmanager_port/#/alerts

The farm already has one duplicate SPN (HTTP/svexpgg311.corp.example.test on
svc_iispool and on the machine SVEXPGG311\$): its DuplicateSPN alerts fire
within a minute. Then try, and reload the pages:

  lab/break duplicate       # HTTP/svexpgg310.corp.example.test on SVEXPGG310\$ too: DuplicateSPN
  lab/break alias-conflict  # HTTP/app01 on svc_iispool hides app01\$'s HOST/: SPNHostAliasConflict
  lab/fix all               # back to the farm scenario: those alerts resolve
  bin/spnaudit plan --config $demo_dir/spnaudit.yaml   # setspn script converging the farm

Logs and configs: $demo_dir. Stop it all (the lab too): make demo-down
TEXT
}

status() {
  local name pid
  for name in "${services[@]}"; do
    if pid=$(running_pid "$name"); then
      echo "$name running (pid $pid, port $(port_of "$name"))"
    else
      echo "$name not running"
    fi
  done
}

case ${1:-} in
  up) up ;;
  stop)
    stop_all
    rm -rf "$demo_dir"
    ;;
  down)
    stop_all
    rm -rf "$demo_dir"
    ./lab/down
    say "demo and lab removed"
    ;;
  status) status ;;
  *) die "usage: $0 up|stop|down|status" ;;
esac
