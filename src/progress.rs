//! The progress bar: shown on stderr for runs longer than about a second, and only when
//! stderr is a terminal, so pipes and CI logs see nothing but warnings and errors. It
//! also records when a command's work under the monitor begins ([`watched`]): until
//! then nothing checks the monitor, so a signal must end the process instead.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consortium_sim::engine::Monitor;
use indicatif::{ProgressBar, ProgressStyle};

/// How long a run goes before a bar appears.
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// Set once a command starts work that stops when the monitor is cancelled; never unset,
/// as everything after it (reports, writing files) checks the monitor too.
static WATCHED: AtomicBool = AtomicBool::new(false);

/// Whether the command has reached work that stops when the monitor is cancelled.
pub fn watched() -> bool {
    WATCHED.load(Ordering::SeqCst)
}

/// Runs `work`, showing a bar of `monitor.done` out of `monitor.total` trials if
/// `enabled` and stderr is a terminal. Each change of `monitor.total` (a new block of a
/// run to a precision target) starts a new bar, after a new delay.
pub fn while_running<T>(monitor: &Monitor, enabled: bool, work: impl FnOnce() -> T) -> T {
    WATCHED.store(true, Ordering::SeqCst);
    if !enabled || !std::io::stderr().is_terminal() {
        return work();
    }
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch(monitor, &finished));
        let result = work();
        finished.store(true, Ordering::Release);
        watcher.thread().unpark();
        result
    })
}

fn watch(monitor: &Monitor, finished: &AtomicBool) {
    let mut start = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    let mut total = None;
    while !finished.load(Ordering::Acquire) {
        std::thread::park_timeout(TICK);
        let now = monitor.total.load(Ordering::Relaxed);
        match total {
            // Fewer trials than first counted (a sensitivity search that ended early):
            // the same bar, shorter, so that it ends with the work.
            Some(t) if now < t && monitor.done.load(Ordering::Relaxed) <= now => {
                if let Some(bar) = &bar {
                    bar.set_length(now);
                }
            }
            Some(t) if t != now => {
                start = Instant::now();
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
        total = Some(now);
        if bar.is_none() && start.elapsed() >= DELAY {
            // No rate: indicatif's is shown to four decimals, and the command prints
            // its trials a second when it ends.
            let style = ProgressStyle::with_template("{bar:40} {pos}/{len} trials  ETA {eta}")
                .expect("a valid template");
            let new = ProgressBar::new(now).with_style(style);
            // The trials done before the bar appeared are not a rate: the estimate
            // starts from here (it read 51,417,511,863 trials/s, ETA 0s, before).
            new.set_position(monitor.done.load(Ordering::Relaxed));
            new.tick(); // records the position with the estimator
            new.reset_eta(); // which then forgets the time, keeping the position
            bar = Some(new);
        }
        if let Some(bar) = &bar {
            bar.set_position(monitor.done.load(Ordering::Relaxed));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
