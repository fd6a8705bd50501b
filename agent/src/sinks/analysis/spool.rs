//! The rows an analysis holds, on disk: what makes a row durable before its
//! batch is acknowledged, and what a restart loads back.
//!
//! `<data_dir>/analysis/<name>.ndjson`: a header line naming the columns,
//! then one JSON array per row, `[time in ns, cell, …]` (a float written
//! with a fraction, an integer without, text, a boolean, or `null` for a
//! missing value). Rows are appended as they arrive and synced before their
//! batches are acknowledged. A torn last line (a crash mid-write) is left
//! out on load. When the file holds half again as many rows as the table
//! (old rows evicted), it is rewritten from the table, atomically. A file
//! written for other columns is moved aside (`.old-<unix seconds>`) and the
//! analysis starts empty.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::table::{Cell, Table};

/// The spool file of one analysis sink.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    file: File,
    /// Rows written but not yet in the file.
    pending: Vec<u8>,
    /// Rows in the file (or pending), evicted ones included.
    rows: usize,
    /// A write failed part-way: the file is rewritten whole at the next
    /// sync.
    dirty: bool,
}

/// Past this many pending bytes the rows are written (not yet synced).
const PENDING_LIMIT: usize = 4 << 20;

impl Spool {
    /// Open the spool at `path` for `table`'s columns and load its rows into
    /// `table`; returns the spool and a warning if an old file was moved
    /// aside.
    ///
    /// # Errors
    /// When the file or its directory cannot be created, read or moved.
    pub fn open(path: &Path, table: &mut Table) -> std::io::Result<(Self, Option<String>)> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let header = serde_json::json!({ "foghorn_analysis": 1, "columns": table.names() });
        let mut warning = None;
        let mut rows = 0;
        match File::open(path) {
            Ok(file) => {
                let mut lines = BufReader::new(file).lines();
                let first = lines.next().transpose()?;
                let matches = first
                    .as_deref()
                    .and_then(|line| serde_json::from_str::<Value>(line).ok())
                    .is_some_and(|found| found == header);
                if matches {
                    for line in lines {
                        let Some((time, cells)) = parse_row(&line?, table.names().len()) else {
                            // A torn last line: what follows it, if anything,
                            // was never acknowledged either.
                            break;
                        };
                        table.push(time, cells);
                        rows += 1;
                    }
                } else {
                    let aside = path.with_extension(format!("old-{}", unix_seconds()));
                    std::fs::rename(path, &aside)?;
                    warning = Some(format!(
                        "{} was written for other columns: moved to {}",
                        path.display(),
                        aside.display()
                    ));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let mut spool = Self {
            path: path.to_path_buf(),
            file: File::open(path).or_else(|_| File::create(path))?,
            pending: Vec::new(),
            rows,
            dirty: false,
        };
        if rows == 0 || rows > table.len() + table.len() / 2 {
            spool.rewrite(table)?;
        } else {
            spool.file = OpenOptions::new().append(true).open(path)?;
        }
        Ok((spool, warning))
    }

    /// Queue row `row` of `table`; written by [`Spool::sync`], or now when
    /// much is queued.
    ///
    /// # Errors
    /// When writing the queued rows fails.
    pub fn append(&mut self, table: &Table, row: usize) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(table.names().len() + 1);
        line.push(Value::from(table.times[row]));
        line.extend(table.row(row).map(Cell::json));
        serde_json::to_writer(&mut self.pending, &line)?;
        self.pending.push(b'\n');
        self.rows += 1;
        if self.pending.len() > PENDING_LIMIT && !self.dirty {
            let written = self.file.write_all(&self.pending);
            self.pending.clear();
            if written.is_err() {
                self.dirty = true;
            }
            return written;
        }
        Ok(())
    }

    /// Write the queued rows and sync the file; rewrite it from `table` when
    /// it holds half again as many rows as the table.
    ///
    /// # Errors
    /// When writing or syncing fails.
    pub fn sync(&mut self, table: &Table) -> std::io::Result<()> {
        if self.dirty || self.rows > table.len() + table.len() / 2 + 1024 {
            return self.rewrite(table);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.pending);
        self.pending.clear();
        if written.is_err() {
            self.dirty = true;
        }
        written?;
        self.file.sync_data()
    }

    /// Replace the file with `table`'s rows, atomically.
    fn rewrite(&mut self, table: &Table) -> std::io::Result<()> {
        self.pending.clear();
        self.rows = 0;
        self.dirty = true;
        let header = serde_json::json!({ "foghorn_analysis": 1, "columns": table.names() });
        let mut text = serde_json::to_vec(&header)?;
        text.push(b'\n');
        std::mem::swap(&mut self.pending, &mut text);
        for row in 0..table.len() {
            self.append(table, row)?;
        }
        std::mem::swap(&mut self.pending, &mut text);
        let rows = self.rows;
        crate::sinks::report::write_atomically(&self.path, &text)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.rows = rows;
        self.dirty = false;
        Ok(())
    }
}

/// One spooled row: its time and `columns` cells.
fn parse_row(line: &str, columns: usize) -> Option<(i64, Vec<Cell>)> {
    let Value::Array(items) = serde_json::from_str(line).ok()? else {
        return None;
    };
    let (time, cells) = items.split_first()?;
    if cells.len() != columns {
        return None;
    }
    let cells = cells
        .iter()
        .map(|value| match value {
            Value::Null => Some(Cell::Missing),
            Value::Bool(v) => Some(Cell::Bool(*v)),
            Value::Number(n) => Some(match n.as_i64() {
                Some(v) => Cell::Int(v),
                None => Cell::Float(n.as_f64()?),
            }),
            Value::String(v) => Some(Cell::Text(Arc::from(v.as_str()))),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((time.as_i64()?, cells))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        ["timestamp", "device", "cpu", "errors"]
            .map(str::to_owned)
            .to_vec()
    }

    fn row(table: &mut Table, time: i64, cpu: f64) {
        table.push(
            time,
            vec![
                Cell::Missing,
                Cell::Text(Arc::from("a")),
                Cell::Float(cpu),
                Cell::Int(3),
            ],
        );
    }

    #[test]
    fn synced_rows_come_back_and_a_torn_line_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("analysis/a.ndjson");
        let mut table = Table::new(&columns(), 100);
        let (mut spool, warning) = Spool::open(&path, &mut table).unwrap();
        assert!(warning.is_none());
        for (time, cpu) in [(1, 1.0), (2, 2.5), (3, 3.0)] {
            row(&mut table, time, cpu);
            spool.append(&table, table.len() - 1).unwrap();
        }
        spool.sync(&table).unwrap();
        // A crash in the middle of the next line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"[4,null,\"a\",4.")
            .unwrap();
        let mut again = Table::new(&columns(), 100);
        Spool::open(&path, &mut again).unwrap();
        assert_eq!(again.times, [1, 2, 3]);
        assert_eq!(
            again.cells[2],
            [Cell::Float(1.0), Cell::Float(2.5), Cell::Float(3.0)]
        );
        assert_eq!(again.cells[3][0], Cell::Int(3), "an integer stays one");
    }

    #[test]
    fn another_shape_is_moved_aside_and_evicted_rows_are_compacted_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ndjson");
        let mut table = Table::new(&columns(), 10);
        let (mut spool, _) = Spool::open(&path, &mut table).unwrap();
        for time in 0..3000 {
            row(&mut table, time, 1.0);
            spool.append(&table, table.len() - 1).unwrap();
        }
        spool.sync(&table).unwrap();
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines, 11, "the header and the ten rows held");

        let mut other = Table::new(&columns()[..3], 10);
        let (_, warning) = Spool::open(&path, &mut other).unwrap();
        assert!(warning.unwrap().contains("other columns"));
        assert_eq!(other.len(), 0);
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".old-")
            })
            .count();
        assert_eq!(aside, 1);
    }
}
