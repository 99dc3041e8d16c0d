#!/usr/bin/env bash
# One set-up step for the README's commands and CI: checks the toolchain, installs the
# system headers only when the native binding must be built from source, and installs
# node_modules. Idempotent: a second run with nothing changed takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- toolchain -------------------------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "Node.js is not installed: install Node.js 20 (Lambda runtime nodejs20.x)."
[[ "$node_major" == 20 ]] || say "warning: Node.js $(node -v) found; Lambda runs nodejs20.x, which is what this project is tested on."
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

# kcat is the independent client the tests read messages back with; unzip opens the deployment package.
for tool in kcat unzip; do
  if ! command -v "$tool" >/dev/null; then
    if can_apt; then apt_install "$tool"; else say "warning: $tool not found; the tests that use it will fail (apt-get install $tool)."; fi
  fi
done

# --- node_modules with the native binding ----------------------------------------------
stamp=node_modules/.lambda-kafka-setup
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-abi-$(node -p process.versions.modules)"
binding_ok() { node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; }
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && binding_ok; then
  exit 0
fi

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
