#!/usr/bin/env python3
"""The analytics team's queries, in DuckDB, over the events: the gzip NDJSON
lake foghorn writes, or the events as produced (one NDJSON file).

Usage: queries.py LAKE_DIR_OR_NDJSON_FILE > results.json

Events are counted once by event_id (the lake is written at least once: an
event can be stored twice when the agent dies between finalizing its file
and committing its offset). Prints JSON: one list of rows per query.
"""

import json
import os
import sys

import duckdb

QUERIES = {
    # Per hour: unique viewers, events, average watch minutes.
    "hourly": """
        SELECT strftime(date_trunc('hour', ts), '%Y-%m-%dT%H:00:00Z') AS hour,
               count(DISTINCT customer_id) AS unique_viewers,
               count(*) AS events,
               avg(watch_duration_seconds) / 60 AS avg_watch_minutes
        FROM events GROUP BY hour ORDER BY hour""",
    # Bandwidth percentiles (exact, linear interpolation) and average per
    # quality and device, with whether the median meets the quality's need.
    "bandwidth": """
        SELECT quality, device_type,
               quantile_cont(bandwidth_mbps, 0.25) AS p25,
               quantile_cont(bandwidth_mbps, 0.50) AS p50,
               quantile_cont(bandwidth_mbps, 0.75) AS p75,
               quantile_cont(bandwidth_mbps, 0.95) AS p95,
               avg(bandwidth_mbps) AS avg_bandwidth,
               quantile_cont(bandwidth_mbps, 0.50) >=
                   CASE quality WHEN 'SD' THEN 3 WHEN 'HD' THEN 5 ELSE 15 END AS adequate
        FROM events GROUP BY quality, device_type ORDER BY quality, device_type""",
    # Error categories by device.
    "errors": """
        SELECT device_type,
               CASE WHEN error_count = 0 THEN 'none' WHEN error_count = 1 THEN 'single'
                    WHEN error_count <= 3 THEN 'multiple' ELSE 'severe' END AS category,
               count(*) AS events
        FROM events GROUP BY device_type, category ORDER BY device_type, category""",
    # Buffering categories.
    "buffering": """
        SELECT CASE WHEN buffering_events = 0 THEN 'none' WHEN buffering_events <= 2 THEN 'minor'
                    WHEN buffering_events <= 5 THEN 'moderate' ELSE 'severe' END AS category,
               count(*) AS events,
               avg(buffering_duration_seconds) AS avg_buffering_seconds
        FROM events GROUP BY category ORDER BY category""",
    # Per device type: events, unique users, average bandwidth and completion.
    "devices": """
        SELECT device_type, count(*) AS events, count(DISTINCT customer_id) AS unique_users,
               avg(bandwidth_mbps) AS avg_bandwidth, avg(completion_percentage) AS avg_completion
        FROM events GROUP BY device_type ORDER BY device_type""",
}


def main() -> None:
    source = sys.argv[1]
    pattern = os.path.join(source, "**", "*.ndjson.gz") if os.path.isdir(source) else source
    db = duckdb.connect()
    db.execute(f"""
        CREATE VIEW raw AS SELECT * FROM read_ndjson('{pattern}', format = 'newline_delimited',
            hive_partitioning = false, filename = true, columns = {{
                'event_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'event_timestamp': 'VARCHAR',
                'watch_duration_seconds': 'DOUBLE', 'completion_percentage': 'DOUBLE',
                'device_type': 'VARCHAR', 'quality': 'VARCHAR', 'bandwidth_mbps': 'DOUBLE',
                'buffering_events': 'BIGINT', 'buffering_duration_seconds': 'DOUBLE',
                'error_count': 'BIGINT'}})""")
    db.execute("""
        CREATE VIEW events AS SELECT *, CAST(event_timestamp AS TIMESTAMPTZ) AS ts FROM raw
        QUALIFY row_number() OVER (PARTITION BY event_id) = 1""")
    db.execute("SET TimeZone = 'UTC'")
    out = {"stored": db.execute("SELECT count(*) FROM raw").fetchone()[0],
           "distinct": db.execute("SELECT count(*) FROM events").fetchone()[0]}
    if os.path.isdir(source):
        # Events stored outside the partition of their own hour.
        out["misplaced"] = db.execute("""
            SELECT count(*) FROM events WHERE filename NOT LIKE
                '%' || strftime(ts, 'year=%Y/month=%m/day=%d/hour=%H') || '/%'""").fetchone()[0]
    for name, sql in QUERIES.items():
        cursor = db.execute(sql)
        columns = [d[0] for d in cursor.description]
        out[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    json.dump(out, sys.stdout, indent=1, default=str)
    print()


if __name__ == "__main__":
    main()
