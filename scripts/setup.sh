#!/usr/bin/env bash
# One set-up step for the README's commands and CI: checks the toolchain, installs the
# system headers only when the native binding must be built from source, and installs
# node_modules. With --tests, also what the test suite needs beyond that: cfn-lint, the Lambda
# package's binding built for each runtime and architecture (so that no test competes with a
# compiler; arm64 cross-built), QEMU for the arm64 package, and AWS's runtime emulator and runtime
# interface client.
# Idempotent: a second run with nothing changed takes a few seconds.
set -euo pipefail
for_tests=false
[[ "${1:-}" == --tests ]] && for_tests=true
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- toolchain -------------------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "Node.js is not installed: install Node.js 20.16 or newer."
# process.getBuiltinModule() (the bundles take Node's built-ins with it) came in 20.16 and 22.3.
node -e 'process.exit(typeof process.getBuiltinModule === "function" ? 0 : 1)' \
  || die "Node.js $(node -v) is too old: the tools need Node.js 20.16 or newer (the functions themselves run on the Lambda runtime's own Node, nodejs22.x by default)."
command -v java >/dev/null || die "java is not installed: the local Kafka broker needs Java 17+ (apt-get install openjdk-17-jre-headless)."
command -v mvn >/dev/null || die "mvn is not installed: the Kafka jars are resolved from Maven Central (apt-get install maven)."
command -v openssl >/dev/null || die "openssl is not installed: it generates the local broker's test certificates."

can_apt() { command -v apt-get >/dev/null && { [[ $(id -u) == 0 ]] || sudo -n true 2>/dev/null; }; }
apt_install() {
  local sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo -n"
  say "apt-get install $*"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# kcat is the independent client the tests read messages back with; zip writes the deployment
# package and unzip opens it; readelf (binutils) checks its native files.
for tool in kcat unzip zip readelf; do
  if ! command -v "$tool" >/dev/null; then
    pkg="$tool"; [[ "$tool" == readelf ]] && pkg=binutils
    if can_apt; then apt_install "$pkg"; else say "warning: $tool not found; the tests that use it will fail (apt-get install $tool)."; fi
  fi
done

# --- node_modules with the native binding ----------------------------------------------
stamp=node_modules/.lambda-kafka-setup
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-abi-$(node -p process.versions.modules)"
binding_ok() { node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; }
install_node_modules() {

# The binding's install tries a prebuilt binary from GitHub first and falls back to a source
# build. The default source build downloads zlib/OpenSSL/zstd/curl; CKJS_LINKING=dynamic links
# the bundled librdkafka against the system's libraries instead. It only affects the fallback.
export CKJS_LINKING=dynamic
headers=(/usr/include/openssl/ssl.h /usr/include/zlib.h /usr/include/zstd.h /usr/include/lz4.h
         /usr/include/sasl/sasl.h /usr/include/x86_64-linux-gnu/curl/curl.h)
headers_missing() {
  for h in "${headers[@]}"; do
    [[ -e "$h" || -e "${h/x86_64-linux-gnu/aarch64-linux-gnu}" || -e "${h/x86_64-linux-gnu\//}" ]] || return 0
  done
  return 1
}
if headers_missing && ! curl -sfI --max-time 5 https://github.com >/dev/null 2>&1; then
  say "No prebuilt binding can be downloaded (github.com unreachable): building librdkafka from source against system libraries."
  if can_apt; then
    apt_install libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev
  else
    die "install the headers of OpenSSL, zlib, zstd, lz4, Cyrus SASL and libcurl (Debian: libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev), or allow access to github.com for the prebuilt binary."
  fi
fi

say "npm ci (the native binding builds from source in about 90 s when no prebuilt binary is reachable)"
npm ci --no-audit --no-fund --loglevel=error
binding_ok || die "@confluentinc/kafka-javascript installed but does not load: see the npm output above."
echo "$want" > "$stamp"
node -e "const k=require('@confluentinc/kafka-javascript'); console.log('[setup] binding ready: librdkafka ' + k.librdkafkaVersion + ' (' + k.features.join(',') + ')')"
}
if ! [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || ! binding_ok; then
  install_node_modules
fi
$for_tests || exit 0

# --- what the tests need beyond that -----------------------------------------------------
# cfn-lint (PyPI) lints the packaged CloudFormation template, from a virtualenv of the project's own.
venv=.build/python
if ! "$venv/bin/cfn-lint" --version >/dev/null 2>&1 || ! [ -x "$venv/bin/moto_server" ]; then
  say "python venv $venv with cfn-lint and moto (a local Secrets Manager and SSM for the tests)"
  python3 -m venv "$venv" || { can_apt && apt_install python3-venv && python3 -m venv "$venv"; } \
    || die "python3 -m venv failed: install Python 3 with venv (apt-get install python3-venv)."
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/python-requirements.txt
fi
# The Lambda package's binding for each runtime, with its static dependencies (the archives
# come with the -dev packages above); cached in .build/binding/.
if ! gcc -print-file-name=libzstd.a | grep -q /; then
  can_apt && apt_install libssl-dev zlib1g-dev libzstd-dev
fi
# arm64 (Graviton) packages are cross-built here: Debian's cross compilers, the arm64 static archives
# and runtime libraries through multiarch, and QEMU's user-mode emulator to run the arm64 node.
if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64-static >/dev/null \
  || ! aarch64-linux-gnu-gcc -print-file-name=libzstd.a | grep -q / || ! [ -e /lib/aarch64-linux-gnu/libstdc++.so.6 ]; then
  can_apt || die "building and running the arm64 package needs gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user-static and, after dpkg --add-architecture arm64, libssl-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64 libc6:arm64 libstdc++6:arm64."
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "dpkg --add-architecture arm64"
    if [[ $(id -u) == 0 ]]; then dpkg --add-architecture arm64; else sudo -n dpkg --add-architecture arm64; fi
  fi
  apt_install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user-static \
    libssl-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64 libc6:arm64 libstdc++6:arm64
fi
npx --no-install tsx scripts/package/prepare.ts

# AWS's Lambda runtime pieces, which the RIE tests run the package with: the Runtime Interface
# Emulator (go install through the Go module proxy) and the Node.js Runtime Interface Client (its
# native client built with cmake and node-gyp, from sources inside its npm package); in .build/tools/.
if ! command -v cmake >/dev/null || ! command -v xz >/dev/null; then
  can_apt && apt_install cmake xz-utils
fi
if [[ ! -x .build/tools/bin/aws-lambda-rie ]]; then
  go_minor="$( (go env GOVERSION 2>/dev/null || true) | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  (( ${go_minor:-0} >= 21 )) || die "Go 1.21 or newer is needed to build AWS's Lambda Runtime Interface Emulator (it fetches the Go toolchain the emulator asks for through the Go module proxy); Debian's golang-go is older: install Go from https://go.dev/dl/."
fi
npx --no-install tsx scripts/lambda/prepare.ts
