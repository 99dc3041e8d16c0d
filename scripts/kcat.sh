#!/usr/bin/env bash
# kcat, the independent command-line Kafka client the tests read messages back with.
#
# Debian 12's kcat links librdkafka 2.0.2, whose SCRAM client re-sends the client nonce
# (fixed in librdkafka 2.6.1, #4895); Kafka 4 checks the nonce strictly and refuses it as
# "invalid credentials". For SASL we therefore run the same kcat on the newer librdkafka
# that was built for the binding. PLAINTEXT and SSL keep the system library.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v kcat >/dev/null || { echo "kcat is not installed: apt-get install kcat (or brew install kcat)" >&2; exit 127; }
if [[ " $* " == *"security.protocol=SASL_"* || " $* " == *"security.protocol=sasl_"* ]]; then
  for dir in "$root/node_modules/@confluentinc/kafka-javascript/build/deps" \
             "$root/node_modules/@confluentinc/kafka-javascript/build/Release"; do
    if [[ -e "$dir/librdkafka.so.1" ]]; then
      export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      break
    fi
  done
fi
exec kcat "$@"
