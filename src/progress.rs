//! Progress of long stages: indicatif bars on a terminal (overall bytes with
//! throughput and ETA, one line per active table), plain periodic log lines
//! off a terminal, and one JSON event per line on stdout with `--json`.
//!
//! Touches: stderr (bars, lines) or stdout (JSON events).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bars,
    Lines,
    Json,
    Quiet,
}

impl Mode {
    /// Bars only when stderr is a terminal; `--json` wins over both.
    pub fn detect(json: bool, quiet: bool) -> Mode {
        if json {
            Mode::Json
        } else if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

const LINE_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    mode: Mode,
    stage: String,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    total: u64,
    moved: u64,
    chunks_done: u64,
    chunks_total: u64,
    last_line: Instant,
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    tables: HashMap<String, (ProgressBar, usize)>,
}

impl Progress {
    /// `total` is the estimated bytes still to move; `chunks` those pending.
    pub fn new(mode: Mode, stage: &str, total: u64, chunks: u64) -> Progress {
        let (multi, overall) = if mode == Mode::Bars {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(stage.to_string());
            (Some(multi), Some(bar))
        } else {
            (None, None)
        };
        let p = Progress {
            mode,
            stage: stage.to_string(),
            started: Instant::now(),
            state: Mutex::new(State {
                total,
                moved: 0,
                chunks_done: 0,
                chunks_total: chunks,
                last_line: Instant::now(),
                multi,
                overall,
                tables: HashMap::new(),
            }),
        };
        p.event(serde_json::json!({"event": "start", "stage": stage, "bytes_estimated": total, "chunks": chunks}));
        p
    }

    fn event(&self, v: serde_json::Value) {
        if self.mode == Mode::Json {
            use std::io::Write;
            // A reader that went away (`| head`) must not stop the copy.
            let _ = writeln!(std::io::stdout().lock(), "{v}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn chunk_started(&self, table: &str, ordinal: i32) {
        let mut s = self.lock();
        if let Some(multi) = s.multi.clone() {
            let entry = s.tables.entry(table.to_string()).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix} {bytes} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(table.to_string());
                bar.enable_steady_tick(Duration::from_millis(200));
                (bar, 0)
            });
            entry.1 += 1;
            entry.0.set_message(format!("{} chunk(s) running", entry.1));
        }
        drop(s);
        self.event(serde_json::json!({"event": "chunk_started", "table": table, "chunk": ordinal}));
    }

    pub fn bytes(&self, table: &str, n: u64) {
        let mut s = self.lock();
        s.moved += n;
        if let Some(bar) = &s.overall {
            if s.moved > s.total {
                bar.set_length(s.moved);
            }
            bar.inc(n);
        }
        if let Some((bar, _)) = s.tables.get(table) {
            bar.inc(n);
        }
        if self.mode == Mode::Lines && s.last_line.elapsed() >= LINE_EVERY {
            s.last_line = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            tracing::info!(
                stage = %self.stage,
                mib = s.moved / (1024 * 1024),
                estimated_mib = s.total / (1024 * 1024),
                mib_per_s = format!("{:.1}", s.moved as f64 / secs / 1048576.0),
                chunks_done = s.chunks_done,
                chunks = s.chunks_total,
                "progress"
            );
        }
    }

    pub fn chunk_done(&self, table: &str, ordinal: i32, rows: u64, bytes: u64) {
        let mut s = self.lock();
        s.chunks_done += 1;
        let done = s.chunks_done;
        let total = s.chunks_total;
        if let Some(bar) = &s.overall {
            bar.set_message(format!("{done}/{total} chunks"));
        }
        drop(s);
        self.release(table);
        if self.mode != Mode::Bars {
            tracing::debug!(table, chunk = ordinal, rows, bytes, "chunk done");
        }
        self.event(serde_json::json!({"event": "chunk_done", "table": table, "chunk": ordinal, "rows": rows, "bytes": bytes, "chunks_done": done, "chunks": total}));
    }

    /// Work found along the way (verify narrowing a table that differs).
    pub fn add_work(&self, bytes: u64, chunks: u64) {
        let mut s = self.lock();
        s.total += bytes;
        s.chunks_total += chunks;
        if let Some(bar) = &s.overall {
            bar.set_length(s.total.max(s.moved));
        }
        drop(s);
        self.event(
            serde_json::json!({"event": "work_added", "bytes_estimated": bytes, "chunks": chunks}),
        );
    }

    /// A chunk attempt ended without success: its bytes no longer count.
    pub fn chunk_failed(&self, table: &str, bytes: u64) {
        self.retract(bytes);
        self.release(table);
    }

    /// Bytes of a failed attempt that will be read again.
    pub fn retract(&self, bytes: u64) {
        let mut s = self.lock();
        s.moved = s.moved.saturating_sub(bytes);
        if let Some(bar) = &s.overall {
            bar.set_position(s.moved);
        }
    }

    fn release(&self, table: &str) {
        let mut s = self.lock();
        let multi = s.multi.clone();
        if let Some(entry) = s.tables.get_mut(table) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                entry.0.finish_and_clear();
                if let Some(multi) = &multi {
                    multi.remove(&entry.0);
                }
                s.tables.remove(table);
            } else {
                entry.0.set_message(format!("{} chunk(s) running", entry.1));
            }
        }
    }

    pub fn chunk_retry(&self, table: &str, ordinal: i32, attempt: u32, error: &str) {
        tracing::warn!(
            table,
            chunk = ordinal,
            attempt,
            error,
            "chunk failed, retrying"
        );
        self.event(serde_json::json!({"event": "chunk_retry", "table": table, "chunk": ordinal, "attempt": attempt, "error": error}));
    }

    /// A step of a stage without bytes (finalize).
    pub fn step_done(&self, kind: &str, object: &str) {
        let mut s = self.lock();
        s.chunks_done += 1;
        if let Some(bar) = &s.overall {
            bar.inc(1);
            bar.set_message(format!("{kind} {object}"));
        }
        drop(s);
        self.event(serde_json::json!({"event": "step_done", "kind": kind, "object": object}));
    }

    pub fn finish(&self) {
        let s = self.lock();
        if let Some(bar) = &s.overall {
            bar.finish_and_clear();
        }
        for (bar, _) in s.tables.values() {
            bar.finish_and_clear();
        }
    }
}
