// {{name}}: {{summary}}.
//
// A parser: each raw line of `key=value` pairs separated by spaces
// (`temperature=21.5 status=ok`) becomes a point of the series `series`, at
// the time the line was received; numbers become float fields and other
// values text fields. A line that is empty, or has a word without `=` or
// without a key, is rejected with the reason: the agent writes it to the
// processor's error log and counts it, and the line is not lost.
//
//   processors:
//     {{snake}}:
//       inputs: [device]
//       plugin: ./dist/{{name}}.wasm
//       config: { series: bench }

import { Output, nothing, records, series } from './foghorn-plugin.js';

let target;

export function init(json) {
  const name = JSON.parse(json).series ?? 'device';
  if (typeof name !== 'string' || name === '') throw 'series must be a non-empty text';
  target = series(name);
}

export function process(batch) {
  const out = new Output();
  for (const record of records(batch)) {
    const words = record.text().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) {
      out.rejectRecord(record.index, 'empty line');
      continue;
    }
    const fields = {};
    let bad = null;
    for (const word of words) {
      const at = word.indexOf('=');
      if (at <= 0) {
        bad = word;
        break;
      }
      const value = word.slice(at + 1);
      const number = Number(value);
      fields[word.slice(0, at)] = value.trim() !== '' && !Number.isNaN(number) ? number : value;
    }
    if (bad !== null) out.rejectRecord(record.index, `\`${bad}\` is not key=value`);
    else out.point(record.timestamp, target, fields);
  }
  return out.finish();
}

export function tick(now) {
  return nothing();
}

export function snapshot() {
  return new Uint8Array(0);
}

export function restore(state) {}
