#!/usr/bin/env python3
"""Bench-device emulator: writes a forced-failure sequence to a serial port.

Usage: emulator.py PORT [--gap SECONDS] [--silence SECONDS] [--list | --record FILE]

PORT is a serial device or one end of a socat pseudo-terminal pair. The
sequence (one line every --gap seconds, default 0.2) is:

  1-3   normal readings            T:24.8..25.3, V:~5.0, S:OK
  4     temperature spike          T:95.5  -> threshold critical (> 80 C)
                                              rate-of-change warning (+70.2 C)
  5     fall back                  T:26.0  -> threshold resolved
                                              rate-of-change warning (-69.5 C)
  6     voltage fault              V:6.1   -> threshold critical (outside 4.5-5.5 V)
  7     voltage back               V:5.02  -> threshold resolved
  8-12  malformed lines            -> parser_errors.log, one line each
  13    normal reading
  --    silence (--silence, default 6 s) -> heartbeat_lost critical after 4 s
  14-15 normal readings            -> heartbeat resolved

The expected anomaly report is expected_anomaly_report.json beside this file.
With --record FILE the sequence is not sent but written as the serial
source's audit log would record it (`<RFC 3339 time>\t<line>`, the first
line at --start), for `foghorn replay -c pipeline.yaml FILE`; recorded.log
beside this file was made so (`emulator.py --record recorded.log unused`).
Only the standard library is used, so it runs anywhere Python 3 does.
"""

import argparse
import datetime
import os
import time

NORMAL = ["T:24.8,V:5.01,S:OK", "T:25.1,V:4.99,S:OK", "T:25.3,V:5.00,S:OK"]
SPIKE = ["T:95.5,V:5.00,S:WARNING_TEMP", "T:26.0,V:5.00,S:OK"]
VOLTAGE = ["T:26.2,V:6.1,S:WARNING_VOLT", "T:26.1,V:5.02,S:OK"]
MALFORMED = [
    "T:abc,V:5.0,S:OK",  # temperature is not a number
    "HELLO",  # not key:value at all
    "T:25.0;V:5.0",  # wrong separator
    "V:5.0,S:OK",  # temperature missing
    "T:25.0,V:5.0,S:OK,X:1",  # unknown key
    "V:5.0,T:51,S:OK",  # keys out of the device's order
]
BEFORE_SILENCE = ["T:26.3,V:5.01,S:OK"]
AFTER_SILENCE = ["T:26.4,V:5.00,S:OK", "T:26.5,V:5.01,S:OK"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between lines")
    parser.add_argument("--silence", type=float, default=6.0, help="seconds of silence")
    parser.add_argument("--list", action="store_true", help="print the lines instead of sending them")
    parser.add_argument("--record", metavar="FILE", help="write the lines as an audit log instead of sending them")
    parser.add_argument("--start", default="2026-01-01T00:00:00", help="UTC time of the first recorded line")
    args = parser.parse_args()

    if args.record:
        record(args)
        return

    if args.list:
        print("\n".join(NORMAL + SPIKE + VOLTAGE + MALFORMED + BEFORE_SILENCE + AFTER_SILENCE))
        return

    fd = os.open(args.port, os.O_WRONLY | os.O_NOCTTY)
    try:

        def send(lines):
            for line in lines:
                os.write(fd, (line + "\r\n").encode())
                time.sleep(args.gap)

        send(NORMAL + SPIKE + VOLTAGE + MALFORMED + BEFORE_SILENCE)
        time.sleep(args.silence)
        send(AFTER_SILENCE)
    finally:
        os.close(fd)


def record(args) -> None:
    """Write the sequence, timed as it would be sent, as an audit log."""
    at = datetime.datetime.fromisoformat(args.start).replace(tzinfo=datetime.timezone.utc)
    gap = datetime.timedelta(seconds=args.gap)
    with open(args.record, "w", encoding="utf-8") as out:

        def write(lines):
            nonlocal at
            for line in lines:
                out.write(at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "\t" + line + "\n")
                at += gap

        write(NORMAL + SPIKE + VOLTAGE + MALFORMED + BEFORE_SILENCE)
        at += datetime.timedelta(seconds=args.silence)
        write(AFTER_SILENCE)


if __name__ == "__main__":
    main()
