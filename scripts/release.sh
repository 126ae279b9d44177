#!/usr/bin/env bash
# Release packaging: archives per platform and the krew manifest.
#
#   scripts/release.sh build VERSION      build what this machine can (linux/amd64 always;
#                                          linux/arm64 and windows/amd64 when their cross
#                                          toolchains are installed) into dist/
#   scripts/release.sh render VERSION DIR [BASE_URL]
#                                          print the krew manifest for the archives in DIR
#                                          (kubectl-redis_VERSION_OS_ARCH.tar.gz, .zip for
#                                          windows); every platform must be there
#
# Archives from other machines (darwin needs Apple's SDK, which is not here)
# go into the same directory before `render`. BASE_URL defaults to the GitHub
# release of v$VERSION.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLATFORMS=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)

die() { echo "release: $*" >&2; exit 1; }

triple() {
  case $1 in
    linux/amd64) echo x86_64-unknown-linux-gnu ;;
    linux/arm64) echo aarch64-unknown-linux-gnu ;;
    darwin/amd64) echo x86_64-apple-darwin ;;
    darwin/arm64) echo aarch64-apple-darwin ;;
    windows/amd64) echo x86_64-pc-windows-gnu ;;
  esac
}

archive_name() { # VERSION OS/ARCH
  local os=${2%/*} arch=${2#*/}
  if [ "$os" = windows ]; then echo "kubectl-redis_${1}_${os}_${arch}.zip"; else echo "kubectl-redis_${1}_${os}_${arch}.tar.gz"; fi
}

cmd_build() {
  local version=${1:?VERSION}
  local dist=$REPO/dist; mkdir -p "$dist"
  local p t exe stage built=()
  for p in "${PLATFORMS[@]}"; do
    t=$(triple "$p")
    case $p in
      linux/amd64) ;;
      linux/arm64) command -v aarch64-linux-gnu-gcc >/dev/null || { echo "release: skip $p (apt-get install gcc-aarch64-linux-gnu)"; continue; } ;;
      windows/amd64) command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "release: skip $p (apt-get install gcc-mingw-w64-x86-64)"; continue; } ;;
      *) echo "release: skip $p (needs a macOS machine); put its archive in $dist"; continue ;;
    esac
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
    case $p in
      linux/arm64) export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc ;;
    esac
    (cd "$REPO" && cargo build --release --locked -p kubectl-redis --target "$t")
    exe=""; [ "${p%/*}" = windows ] && exe=.exe
    stage=$(mktemp -d)
    cp "${CARGO_TARGET_DIR:-$REPO/target}/$t/release/kubectl-redis$exe" \
       "${CARGO_TARGET_DIR:-$REPO/target}/$t/release/kubectl_complete-redis$exe" \
       "$REPO/README.md" "$stage/"
    cp "$REPO/LICENSE" "$stage/LICENSE"
    cp -r "$REPO/docs" "$stage/docs"   # the README's links
    if [ -n "$exe" ]; then
      (cd "$stage" && python3 -m zipfile -c "$dist/$(archive_name "$version" "$p")" ./*)
    else
      tar -C "$stage" -czf "$dist/$(archive_name "$version" "$p")" .
    fi
    rm -rf "$stage"
    built+=("$p")
  done
  echo "release: built ${built[*]} in $dist"
}

cmd_render() {
  local version=${1:?VERSION} dir=${2:?DIR} base=${3:-https://github.com/kubectl-redis/kubectl-redis/releases/download/v$1}
  local p f sha os arch exe plat=""
  for p in "${PLATFORMS[@]}"; do
    f=$(archive_name "$version" "$p")
    [ -f "$dir/$f" ] || die "missing $dir/$f: build it (scripts/release.sh build) or copy it from the machine that did"
    sha=$(sha256sum "$dir/$f" | cut -d' ' -f1)
    os=${p%/*}; arch=${p#*/}; exe=""; [ "$os" = windows ] && exe=.exe
    plat+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: \"$base/$f\"
    sha256: \"$sha\"
    bin: kubectl-redis$exe
    files:
    - from: kubectl-redis$exe
      to: .
    - from: kubectl_complete-redis$exe
      to: .
    - from: LICENSE
      to: .
"
  done
  local tmpl; tmpl=$(cat "$REPO/krew-manifest/redis.yaml")
  tmpl=${tmpl//\{\{VERSION\}\}/$version}
  printf '%s\n' "${tmpl//\{\{PLATFORMS\}\}/${plat%$'\n'}}" |
    awk -v v="$version" 'NR == 1 { print "# kubectl-redis " v ": rendered by scripts/release.sh" } /^#/ && !body { next } { body = 1; print }'
}

case ${1:-} in
  build) shift; cmd_build "$@" ;;
  render) shift; cmd_render "$@" ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
