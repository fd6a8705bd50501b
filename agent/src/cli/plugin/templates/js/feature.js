// {{name}}: {{summary}}.
//
// A feature: every point comes out with its fields and `<field>_delta`, the
// change of `field` since the previous point of the same series (absent on a
// series' first point). The last value of each series is kept in the
// snapshot, so a restart continues the differences where they stopped.
//
//   processors:
//     {{snake}}:
//       inputs: [parse]
//       plugin: ./dist/{{name}}.wasm
//       config: { field: temperature }

import { Output, nothing, points, seriesKey } from './foghorn-plugin.js';

let field;
let delta;
let last = new Map();

export function init(json) {
  const given = JSON.parse(json);
  if (typeof given.field !== 'string' || given.field === '') {
    throw 'config needs `field`: the numeric field to difference';
  }
  field = given.field;
  delta = `${field}_delta`;
}

export function process(batch) {
  const out = new Output();
  for (const point of points(batch)) {
    const fields = { ...point.fields };
    const value = fields[field];
    if (typeof value === 'number' && Number.isFinite(value)) {
      const key = seriesKey(point.series);
      const previous = last.get(key);
      last.set(key, value);
      if (previous !== undefined) fields[delta] = value - previous;
    }
    out.point(point.timestamp, point.series, fields);
  }
  return out.finish();
}

export function tick(now) {
  return nothing();
}

export function snapshot() {
  return new TextEncoder().encode(JSON.stringify([...last]));
}

export function restore(state) {
  try {
    last = new Map(JSON.parse(new TextDecoder().decode(state)));
  } catch (error) {
    throw `unreadable snapshot: ${error}`;
  }
}
