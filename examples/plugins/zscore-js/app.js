// zscore-js: the z-score detector in JavaScript, alert for alert what the
// bundled Rust `builtin:zscore` raises in its rolling mode.
//
// Each (series, field) keeps its last `window` values. A value is scored
// against them before it joins them: z = (value - mean) / std, with the
// population standard deviation. Once `min_samples` values are known, a value
// more than `threshold` deviations away, on the side `direction` names, fires
// an alert with the value and the score. A window whose values are all equal
// scores an equal value 0 and any other value ±Infinity, as the Rust plugin
// does.
//
//   processors:
//     outliers:
//       inputs: [parse]
//       plugin: ./dist/zscore-js.wasm
//       config: { fields: [temperature], window: 100, threshold: 3, min_samples: 10 }

import { Output, nothing, points, seriesKey } from './foghorn-plugin.js';

let config;
const windows = new Map();

export function init(json) {
  const given = JSON.parse(json);
  config = {
    fields: given.fields ?? [],
    window: given.window ?? 100,
    threshold: given.threshold ?? 3,
    minSamples: given.min_samples ?? 10,
    direction: given.direction ?? 'both',
    severity: given.severity ?? 'warning',
    kind: given.kind ?? 'zscore',
  };
  if (!(config.window >= 2)) throw 'window must be at least 2';
  if (!(config.minSamples >= 2 && config.minSamples <= config.window)) throw 'min_samples must be from 2 to window';
  if (!['both', 'above', 'below'].includes(config.direction)) throw 'direction must be both, above or below';
}

function outlier(score) {
  if (config.direction === 'above') return score > config.threshold;
  if (config.direction === 'below') return score < -config.threshold;
  return Math.abs(score) > config.threshold;
}

function observe(point, field, value, out) {
  const key = `${seriesKey(point.series)}\u0001${field}`;
  let window = windows.get(key);
  if (window === undefined) {
    window = [];
    windows.set(key, window);
  }
  if (window.length >= config.minSamples) {
    let mean;
    let std;
    if (Math.min(...window) === Math.max(...window)) {
      mean = window[0];
      std = 0;
    } else {
      mean = window.reduce((a, b) => a + b, 0) / window.length;
      std = Math.sqrt(window.reduce((a, x) => a + (x - mean) ** 2, 0) / window.length);
    }
    const deviation = value - mean;
    const score = std > 0 ? deviation / std : deviation === 0 ? 0 : Math.sign(deviation) * Infinity;
    if (outlier(score)) {
      out.alert({
        kind: config.kind,
        severity: config.severity,
        series: point.series,
        timestamp: point.timestamp,
        description: `${field} ${value} is ${score.toFixed(3)} sigma from mean ${mean.toFixed(3)}`,
        labels: { field },
        value,
        score,
      });
    }
  }
  window.push(value);
  if (window.length > config.window) window.shift();
}

export function process(batch) {
  const out = new Output();
  for (const point of points(batch)) {
    const names = config.fields.length > 0 ? config.fields : Object.keys(point.fields);
    for (const field of names) {
      const value = point.fields[field];
      if (typeof value === 'number' && Number.isFinite(value)) observe(point, field, value, out);
    }
  }
  return out.finish();
}

export function tick(now) {
  return nothing();
}

export function snapshot() {
  return new TextEncoder().encode(JSON.stringify([...windows]));
}

export function restore(state) {
  try {
    windows.clear();
    for (const [key, values] of JSON.parse(new TextDecoder().decode(state))) windows.set(key, values);
  } catch (error) {
    throw `unreadable snapshot: ${error}`;
  }
}
