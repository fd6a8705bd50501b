// {{name}}: {{summary}}.
//
// A detector: it reads points (from a parser upstream) and raises an alert
// when `field` goes above `max` in a series, and resolves it when the value
// comes back to `max` or below. Which series are firing is kept in the
// snapshot, so a restart neither repeats nor forgets an alert.
//
//   processors:
//     {{snake}}:
//       inputs: [parse]
//       plugin: ./dist/{{name}}.wasm
//       config: { field: temperature, max: 80 }

import { Output, nothing, points, seriesKey } from './foghorn-plugin.js';

let config;
let firing = new Set();

export function init(json) {
  const given = JSON.parse(json);
  if (typeof given.field !== 'string' || typeof given.max !== 'number') {
    throw 'config needs `field` (text) and `max` (a number)';
  }
  const severity = given.severity ?? 'critical';
  if (!['info', 'warning', 'critical'].includes(severity)) {
    throw `severity must be info, warning or critical, not ${severity}`;
  }
  config = { field: given.field, max: given.max, severity };
}

export function process(batch) {
  const out = new Output();
  for (const point of points(batch)) {
    const value = point.fields[config.field];
    if (typeof value !== 'number') continue;
    const key = seriesKey(point.series);
    const over = value > config.max;
    if (over === firing.has(key)) continue;
    if (over) firing.add(key);
    else firing.delete(key);
    out.alert({
      kind: '{{snake}}',
      severity: config.severity,
      state: over ? 'firing' : 'resolved',
      series: point.series,
      timestamp: point.timestamp,
      description: over
        ? `${config.field} ${value} is above ${config.max}`
        : `${config.field} ${value} is back to ${config.max} or below`,
      labels: { field: config.field },
      value,
    });
  }
  return out.finish();
}

export function tick(now) {
  return nothing();
}

export function snapshot() {
  return new TextEncoder().encode(JSON.stringify([...firing]));
}

export function restore(state) {
  try {
    firing = new Set(JSON.parse(new TextDecoder().decode(state)));
  } catch (error) {
    throw `unreadable snapshot: ${error}`;
  }
}
