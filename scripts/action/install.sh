#!/usr/bin/env bash
# Installs a released reko-promote binary, verified: downloads the archive built for this
# machine's target and the release's SHA256SUMS, refuses an archive whose SHA-256 is not the
# one listed (non-zero exit, the mismatch named), then extracts the binary into a directory.
# Used by the GitHub Action (action.yml) and tested against a local release
# (tests/integration/action.rs). It leaves caching and PATH to its caller.
#
# Usage: install.sh [--version VERSION] [--base-url URL] [--dest DIR] [--target TRIPLE]
#        install.sh --resolve-version [--version VERSION]
#
#   --version   a released version (`1.2.3` or `v1.2.3`) or `latest` (the default)
#               [env: REKO_PROMOTE_VERSION]
#   --base-url  where the release's files are: ARCHIVE and SHA256SUMS are fetched from
#               BASE/ARCHIVE and BASE/SHA256SUMS [env: REKO_PROMOTE_BASE_URL; default: the
#               GitHub release of VERSION in REKO_PROMOTE_REPOSITORY (owner/name,
#               default reko-promote/reko-promote)]
#   --dest      the directory the binary is installed into [env: REKO_PROMOTE_INSTALL_DIR;
#               default: $HOME/.local/bin]
#   --target    the Rust target triple of the archive [env: REKO_PROMOTE_TARGET; default:
#               this machine's, musl on Linux without glibc]
#   --resolve-version  print the concrete version `latest` stands for, and exit
#
# On success the last line of stdout is the installed binary's path.
set -euo pipefail

repository="${REKO_PROMOTE_REPOSITORY:-reko-promote/reko-promote}"
version="${REKO_PROMOTE_VERSION:-latest}"
base_url="${REKO_PROMOTE_BASE_URL:-}"
dest="${REKO_PROMOTE_INSTALL_DIR:-${HOME:-.}/.local/bin}"
target="${REKO_PROMOTE_TARGET:-}"
resolve_only=false

fail() {
    echo "reko-promote install: error: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --version) version="${2:?--version needs a value}"; shift 2 ;;
        --base-url) base_url="${2:?--base-url needs a value}"; shift 2 ;;
        --dest) dest="${2:?--dest needs a value}"; shift 2 ;;
        --target) target="${2:?--target needs a value}"; shift 2 ;;
        --resolve-version) resolve_only=true; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown argument '$1' (see --help)" ;;
    esac
done

# Downloads URL to FILE, failing on any HTTP error.
download() {
    if command -v curl >/dev/null 2>&1; then
        curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" \
            || fail "cannot download $1"
    elif command -v wget >/dev/null 2>&1; then
        wget --quiet --tries=3 --output-document="$2" "$1" || fail "cannot download $1"
    else
        fail "neither curl nor wget is installed"
    fi
}

# The SHA-256 of FILE, lower-case hex.
sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | cut -d' ' -f1
    else
        fail "no SHA-256 tool (sha256sum, shasum or openssl) is installed"
    fi
}

version="${version#v}"
if [ "$version" = latest ]; then
    [ -z "$base_url" ] || fail "--base-url needs a concrete --version, not 'latest'"
    # GitHub redirects /releases/latest to /releases/tag/vX.Y.Z.
    command -v curl >/dev/null 2>&1 || fail "resolving 'latest' needs curl; give --version"
    latest_url="$(curl --fail --silent --show-error --location --output /dev/null \
        --write-out '%{url_effective}' "https://github.com/$repository/releases/latest")" \
        || fail "cannot find the latest release of $repository"
    version="${latest_url##*/v}"
    case "$version" in
        */* | "") fail "cannot find the latest release of $repository (ended at $latest_url)" ;;
    esac
fi
case "$version" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) fail "'$version' is not a version (expected e.g. 1.2.3 or latest)" ;;
esac
if $resolve_only; then
    echo "$version"
    exit 0
fi

if [ -z "$target" ]; then
    case "$(uname -m)" in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) fail "no release is built for the $(uname -m) architecture; build from source with cargo install" ;;
    esac
    case "$(uname -s)" in
        Linux)
            # The gnu build on glibc systems; the static musl build elsewhere (Alpine, distroless).
            # (ldd's output captured first: `grep -q` exiting early would fail the pipe.)
            libc="$(ldd --version 2>&1 || true)"
            if [[ "$libc" == *GLIBC* || "$libc" == *"GNU C Library"* ]]; then
                target="$arch-unknown-linux-gnu"
            else
                target="$arch-unknown-linux-musl"
            fi
            ;;
        Darwin) target="$arch-apple-darwin" ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT)
            [ "$arch" = x86_64 ] || fail "Windows releases are built for x86_64 only"
            target="x86_64-pc-windows-msvc"
            ;;
        *) fail "no release is built for $(uname -s); build from source with cargo install" ;;
    esac
fi

case "$target" in
    *-windows-*) archive_ext=zip; binary=reko-promote.exe ;;
    *) archive_ext=tar.gz; binary=reko-promote ;;
esac
package="reko-promote-$target-v$version"
archive="$package.$archive_ext"
base_url="${base_url:-https://github.com/$repository/releases/download/v$version}"
base_url="${base_url%/}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "Downloading $base_url/$archive" >&2
download "$base_url/SHA256SUMS" "$work/SHA256SUMS"
download "$base_url/$archive" "$work/$archive"

# SHA256SUMS lines are `HEX  NAME` (`*NAME` in binary mode), as sha256sum writes them.
expected="$(awk -v name="$archive" '$2 == name || $2 == "*" name { print tolower($1); exit }' \
    "$work/SHA256SUMS")"
[ -n "$expected" ] || fail "$base_url/SHA256SUMS lists no $archive; refusing to install it unchecked"
actual="$(sha256_of "$work/$archive")"
if [ "$actual" != "$expected" ]; then
    fail "SHA-256 checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual; refusing to install it (a corrupted or tampered download)"
fi
echo "Verified SHA-256 $actual of $archive" >&2

mkdir -p "$work/extracted"
case "$archive_ext" in
    tar.gz) tar -xzf "$work/$archive" -C "$work/extracted" ;;
    zip)
        if command -v unzip >/dev/null 2>&1; then
            unzip -q "$work/$archive" -d "$work/extracted"
        else
            powershell.exe -NoProfile -NonInteractive -Command \
                "Expand-Archive -LiteralPath '$work/$archive' -DestinationPath '$work/extracted'"
        fi
        ;;
esac
[ -f "$work/extracted/$package/$binary" ] || fail "$archive holds no $package/$binary"

mkdir -p "$dest"
cp "$work/extracted/$package/$binary" "$dest/$binary"
chmod 755 "$dest/$binary"
echo "Installed $("$dest/$binary" --version) into $dest" >&2
echo "$dest/$binary"
