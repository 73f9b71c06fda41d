#!/usr/bin/env bash
# Creates the runtime host's topics (the host never creates them), once: an existing topic
# is left as it is, so running this again changes nothing.
#
# Environment: KAFKA_BOOTSTRAP (host:port), ONEX_TOPICS (space-separated names),
# ONEX_TOPIC_PARTITIONS (default 3). Runs in the apache/kafka image.
set -euo pipefail

: "${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP}"
: "${ONEX_TOPICS:?set ONEX_TOPICS}"
kafka_topics=${KAFKA_TOPICS_BIN:-/opt/kafka/bin/kafka-topics.sh}

read -r -a topics <<<"$ONEX_TOPICS"
for topic in "${topics[@]}"; do
  "$kafka_topics" --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "${ONEX_TOPIC_PARTITIONS:-3}" --replication-factor 1
done
"$kafka_topics" --bootstrap-server "$KAFKA_BOOTSTRAP" --describe --topic "$(IFS='|'; echo "${topics[*]}")"
