#!/usr/bin/env bash
# Runs the Go SDK's checks and tests against the real server binary (PROGIMAGE_BIN, else
# $CARGO_TARGET_DIR or <repo>/target, debug build): gofmt (fails on any unformatted file),
# go vet, then go test. Installs Debian's golang-go when go is missing. Standard library
# only, so no module proxy is used (GOPROXY=off); the build cache and GOPATH live under
# ${XDG_CACHE_HOME:-$HOME/.cache}/progimage-go. Arguments are passed to go test.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if ! command -v go >/dev/null 2>&1; then
    echo "installing golang-go" >&2
    sudo_cmd=()
    if [[ "$(id -u)" -ne 0 ]]; then
        sudo_cmd=(sudo)
    fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi

if [[ -z "${PROGIMAGE_BIN:-}" ]]; then
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    case "$target_dir" in
        /*) ;;
        *) target_dir="$repo/$target_dir" ;;
    esac
    export PROGIMAGE_BIN="$target_dir/debug/progimage-api"
fi
if [[ ! -x "$PROGIMAGE_BIN" ]]; then
    echo "no executable progimage-api at $PROGIMAGE_BIN: build it with \`cargo build -p progimage-api\` or set PROGIMAGE_BIN" >&2
    exit 1
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/progimage-go"
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOCACHE="$cache/build" GOPATH="$cache/gopath" GOMODCACHE="$cache/gopath/pkg/mod"
mkdir -p "$GOCACHE" "$GOPATH"

cd "$here"
echo "go: $(go version)"

unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "gofmt would reformat:" >&2
    echo "$unformatted" >&2
    exit 1
fi

go vet ./...
go test -count=1 "$@" ./...
