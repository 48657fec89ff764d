//! The progress bar: shown on stderr for runs longer than about a second, and only when
//! stderr is a terminal, so pipes and CI logs see nothing but warnings and errors.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consortium_sim::engine::Monitor;
use indicatif::{ProgressBar, ProgressStyle};

/// How long a run goes before a bar appears.
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// Runs `work`, showing a bar of `monitor.done` out of `total` trials if `enabled` and
/// stderr is a terminal.
pub fn while_running<T>(
    monitor: &Monitor,
    total: u64,
    enabled: bool,
    work: impl FnOnce() -> T,
) -> T {
    if !enabled || !std::io::stderr().is_terminal() {
        return work();
    }
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch(monitor, total, &finished));
        let result = work();
        finished.store(true, Ordering::Release);
        watcher.thread().unpark();
        result
    })
}

fn watch(monitor: &Monitor, total: u64, finished: &AtomicBool) {
    let start = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    while !finished.load(Ordering::Acquire) {
        std::thread::park_timeout(TICK);
        if bar.is_none() && start.elapsed() >= DELAY {
            let style =
                ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {per_sec}  ETA {eta}")
                    .expect("a valid template");
            bar = Some(ProgressBar::new(total).with_style(style));
        }
        if let Some(bar) = &bar {
            bar.set_position(monitor.done.load(Ordering::Relaxed));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
