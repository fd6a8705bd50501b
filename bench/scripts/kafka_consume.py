#!/usr/bin/env python3
"""The reference consumer for `foghorn-bench kafka`: PyPI's confluent-kafka
(librdkafka) reading a topic in a fresh group from the earliest offsets,
in batches, touching every value. Prints {"records", "seconds",
"cpu_seconds", "records_per_cpu_second"} as JSON.

Usage: kafka_consume.py BROKER TOPIC COUNT
"""

import json
import resource
import sys
import time
import uuid

from confluent_kafka import Consumer

broker, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
consumer = Consumer({
    "bootstrap.servers": broker,
    "group.id": f"bench-python-{uuid.uuid4()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": True,
})
consumer.subscribe([topic])


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


started, cpu_started = time.time(), cpu()
seen = size = 0
while seen < count:
    for message in consumer.consume(num_messages=1000, timeout=1.0):
        if message.error():
            continue
        seen += 1
        size += len(message.value() or b"")
elapsed, used = time.time() - started, cpu() - cpu_started
consumer.close()
print(json.dumps({
    "records": seen,
    "bytes": size,
    "seconds": elapsed,
    "cpu_seconds": used,
    "records_per_cpu_second": seen / used if used > 0 else None,
}))
