#!/usr/bin/env python3
"""Produce the events of an NDJSON file to a Kafka topic, keyed by
customer_id, as the streaming clients' collector does (confluent-kafka,
acks=all).

Usage: produce.py BROKER TOPIC events.ndjson [FIRST [COUNT]]
"""

import json
import sys

from confluent_kafka import Producer


def main() -> None:
    broker, topic, path = sys.argv[1], sys.argv[2], sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    count = int(sys.argv[5]) if len(sys.argv) > 5 else None
    lines = open(path, encoding="utf-8").read().splitlines()[first:]
    if count is not None:
        lines = lines[:count]
    producer = Producer({"bootstrap.servers": broker, "acks": "all", "linger.ms": 5})
    failed = []

    def delivered(error, _message):
        if error is not None:
            failed.append(error)

    for line in lines:
        key = json.loads(line)["customer_id"].encode()
        while True:
            try:
                producer.produce(topic, line.encode(), key=key, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or failed:
        print(f"{remaining} unsent, {len(failed)} failed: {failed[:3]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
