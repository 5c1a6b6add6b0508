#!/bin/sh
# Installs the Debian/Ubuntu packages gk needs, only those missing: as root,
# or as a user through sudo.
#   contrib/install-deps.sh          build dependencies + busybox-static
#   contrib/install-deps.sh --test   ... and what `make check` uses (criu: libcriu, loaded
#                                    at run time by checkpoint/restore; no headers needed)
set -eu
optional=""
pkgs="build-essential pkg-config libyajl-dev libseccomp-dev libcap-dev libmnl-dev
libcurl4-openssl-dev libarchive-dev libssl-dev libnftnl-dev libsystemd-dev busybox-static
libgpgme-dev libsodium-dev
jq go-md2man"
if [ "${1:-}" = --test ]; then
        pkgs="$pkgs python3 python3-pytest libcmocka-dev jq skopeo umoci docker-registry
openssl qemu-system-x86 xz-utils runc crun iproute2 procps nftables iputils-ping
podman netavark iptables containerd conmon bash-completion mmdebstrap clang
python3-grpcio python3-grpc-tools containernetworking-plugins cppcheck shellcheck clang-format tmux
criu golang-github-opencontainers-specs-dev uidmap gnupg slirp4netns python3-nacl"
        # golang-github-opencontainers-specs-dev: the runtime-spec JSON schema
        # that tests/integration/test_spec_fields.py walks field by field
        # python3-nacl: test_signatures.py writes cosign-format encrypted keys
        # libFuzzer (tests/fuzz): its package is only recommended by clang's
        optional="libclang-rt-dev"
fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# OPTIONAL packages are installed where the distribution has them.
available_optional() {
        for p in $optional; do
                installed "$p" || ! apt-cache show "$p" >/dev/null 2>&1 || printf ' %s' "$p"
        done
}
missing=""
for p in $pkgs; do
        installed "$p" || missing="$missing $p"
done
[ -z "$missing$(available_optional)" ] && exit 0
# apt-get as root: ours, or through sudo for a user who has it.
as_root=""
if [ "$(id -u)" -ne 0 ]; then
        [ -z "$missing" ] && exit 0 # only optional ones: not worth failing for
        if ! command -v sudo >/dev/null; then
                echo "install-deps: missing packages:$missing (run as root: there is no sudo here)" >&2
                exit 1
        fi
        as_root=sudo
fi
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
missing="$missing$(available_optional)"
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
