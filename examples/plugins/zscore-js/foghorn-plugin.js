// Helpers for foghorn plugins written in JavaScript.
//
// A plugin is a module that exports the functions of the
// `foghorn:plugin/processor` WIT world (init, process, tick, snapshot,
// restore); componentize-js builds it into a component against
// `wit/processor.wit`. The world hands a plugin a batch in columnar form: this
// module turns it into rows, and rows and alerts back into an output.
//
//   import { Output, points } from './foghorn-plugin.js';
//   export function process(batch) {
//     const out = new Output();
//     for (const point of points(batch)) { ... out.alert({ ... }); }
//     return out.finish();
//   }
//
// Timestamps are nanoseconds since the epoch as BigInt (a Number would lose
// the last digits). The agent checks whatever a plugin returns, so a mistake
// is a clear error in the agent's log, never a crash of the agent.

import { log as hostLog } from 'foghorn:plugin/host@0.1.0';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Write a line through the agent's logger: trace, debug, info, warn or error. */
export function log(level, message) {
  hostLog(level, message);
}

/** A series: a measurement name and its tags (sorted by key). */
export function series(name, tags = {}) {
  return { name, tags: Object.entries(tags).map(([k, v]) => [k, String(v)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** A key that tells series apart, for Maps. */
export function seriesKey(s) {
  return s.tags.length === 0 ? s.name : `${s.name}\u0000${s.tags.map(([k, v]) => `${k}=${v}`).join('\u0000')}`;
}

function texts(column) {
  const values = [];
  let start = 0;
  for (const end of column.ends) {
    values.push(decoder.decode(column.data.subarray(start, end)));
    start = end;
  }
  return values;
}

/**
 * The batch's points as rows: { index, series, timestamp (BigInt), fields }.
 * Numbers are Numbers (int fields too), text is a string, booleans booleans.
 */
export function points(batch) {
  const p = batch.points;
  const n = p.timestamps.length;
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = { index: i, series: p.series[p.seriesIndex[i]], timestamp: p.timestamps[i], fields: {} };
  }
  for (const column of p.columns) {
    const { tag, val } = column.data;
    const values = tag === 'text' ? texts(val) : val;
    const int = tag === 'int';
    const present = column.present;
    for (let i = 0; i < n; i++) {
      if (present.length === 0 || (present[i >> 3] >> (i & 7)) & 1) {
        rows[i].fields[column.name] = int ? Number(values[i]) : values[i];
      }
    }
  }
  return rows;
}

/** The batch's raw records: { index, timestamp (BigInt), data (bytes), text() }. */
export function records(batch) {
  const r = batch.records;
  const out = [];
  let start = 0;
  for (let i = 0; i < r.ends.length; i++) {
    const data = r.data.subarray(start, r.ends[i]);
    out.push({ index: i, timestamp: r.timestamps[i], data, text: () => decoder.decode(data) });
    start = r.ends[i];
  }
  return out;
}

function column(name, values, n) {
  let kind = null;
  for (const v of values) {
    if (v === undefined) continue;
    const k = typeof v === 'number' ? 'float' : typeof v === 'boolean' ? 'boolean' : typeof v === 'string' ? 'text' : typeof v === 'bigint' ? 'int' : 'other';
    if (k === 'other' || (kind !== null && kind !== k)) {
      throw new TypeError(`field ${name} mixes ${kind} and ${typeof v} values`);
    }
    kind = k;
  }
  let data;
  if (kind === 'text') {
    const chunks = [];
    const ends = new Uint32Array(n);
    let length = 0;
    values.forEach((v, i) => {
      if (v !== undefined) {
        const bytes = encoder.encode(v);
        chunks.push(bytes);
        length += bytes.length;
      }
      ends[i] = length;
    });
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    data = { tag: 'text', val: { data: bytes, ends } };
  } else if (kind === 'boolean') {
    data = { tag: 'boolean', val: values.map((v) => v === true) };
  } else if (kind === 'int') {
    data = { tag: 'int', val: BigInt64Array.from(values, (v) => (v === undefined ? 0n : v)) };
  } else {
    data = { tag: 'float', val: Float64Array.from(values, (v) => (v === undefined ? 0 : v)) };
  }
  let present = new Uint8Array(0);
  if (values.some((v) => v === undefined)) {
    present = new Uint8Array((n + 7) >> 3);
    values.forEach((v, i) => {
      if (v !== undefined) present[i >> 3] |= 1 << (i & 7);
    });
  }
  return { name, data, present };
}

/** What one call returns: points, alerts and rejected items. */
export class Output {
  constructor() {
    this.table = [];
    this.slots = new Map();
    this.index = [];
    this.stamps = [];
    this.rows = [];
    this.alerts = [];
    this.errors = [];
  }

  /** Emit a point: a series, a BigInt timestamp (ns) and an object of fields
   * (Numbers are floats, BigInts ints, booleans and strings as they are). */
  point(timestamp, s, fields) {
    const key = seriesKey(s);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.table.length;
      this.slots.set(key, slot);
      this.table.push(s);
    }
    this.index.push(slot);
    this.stamps.push(timestamp);
    this.rows.push(fields);
  }

  /** Raise or resolve an alert: { kind, severity: 'info' | 'warning' |
   * 'critical', state: 'firing' (default) | 'resolved', series, timestamp
   * (BigInt), description, labels: {…} (stable, no measurements), value,
   * score }. */
  alert({ kind, severity = 'warning', state = 'firing', series: s, timestamp, description = '', labels = {}, value, score }) {
    this.alerts.push({
      timestamp,
      kind,
      severity,
      state,
      series: s,
      labels: Object.entries(labels).map(([k, v]) => [k, String(v)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      value,
      score,
      description,
    });
  }

  /** Reject record `index` of the batch, with the reason. */
  rejectRecord(index, reason) {
    this.errors.push({ item: { tag: 'record', val: index }, reason });
  }

  /** Reject point `index` of the batch, with the reason. */
  rejectPoint(index, reason) {
    this.errors.push({ item: { tag: 'point', val: index }, reason });
  }

  /** The output, in the world's columnar form. */
  finish() {
    const n = this.rows.length;
    const names = new Set();
    for (const row of this.rows) for (const name in row) names.add(name);
    const columns = [...names].map((name) => column(name, this.rows.map((row) => row[name]), n));
    return {
      points: {
        series: this.table,
        seriesIndex: Uint32Array.from(this.index),
        timestamps: BigInt64Array.from(this.stamps),
        columns,
      },
      alerts: this.alerts,
      errors: this.errors,
    };
  }
}

/** An empty output, for `tick`. */
export function nothing() {
  return new Output().finish();
}
