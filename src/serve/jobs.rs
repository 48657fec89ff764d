//! The queue: every run and analysis the app starts is a job that waits for one of a
//! fixed number of places (the server's `concurrent` runs), then runs on a blocking
//! thread through the run API, its progress and cancellation in its own
//! [`Monitor`]. Places go out in the order jobs were queued, and a job cancelled
//! while it waits never runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use serde::Serialize;
use tokio::sync::{Semaphore, oneshot};

use crate::engine::Monitor;
use crate::run::{Error, Notice, Setting};

/// How many finished jobs are remembered (their pages, for an analysis) before the
/// oldest are forgotten. Runs themselves are kept in the history.
pub const KEPT: usize = 64;

/// The most bytes the finished jobs' results (pages, files, workbooks) may hold
/// together. A kept run's trial table of 200,000 trials is about 35 MB, so the last 64
/// could hold gigabytes outside every run's memory guard; past this, the oldest results
/// are let go (the newest is always kept), and asking for one says so.
pub const KEPT_BYTES: usize = 256 << 20;

/// Where a job is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Queued,
    Running,
    /// A run, kept in the history as `run`.
    Done {
        run: i64,
    },
    /// An analysis, whose page is the job's.
    Shown,
    Failed {
        message: String,
        user_input: bool,
    },
    Cancelled,
}

impl State {
    pub fn finished(&self) -> bool {
        !matches!(self, State::Queued | State::Running)
    }
}

/// A job: its monitor, its state and, for an analysis, its result.
pub struct Job {
    pub id: u64,
    pub monitor: Monitor,
    state: Mutex<State>,
    page: Mutex<Option<Arc<Page>>>,
    /// What its result held, once it was let go to keep [`KEPT_BYTES`] (unset while
    /// it is kept, or if it never had one).
    released: OnceLock<Released>,
    /// What the run API told on the way (a repaired correlation matrix, a value
    /// probably meant as a fraction), set when the job ends, failed or not.
    told: OnceLock<Vec<Told>>,
    /// The pages following its events now: the job is cancelled when the last goes
    /// away, not when one of several does (a second tab on the same job).
    pub followers: AtomicUsize,
}

/// A notice of the run API, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Told {
    /// `warning` (the run differs from what was asked, or a value is probably not what
    /// was meant) or `note` (a default chosen).
    pub kind: &'static str,
    pub text: String,
}

impl Told {
    /// The notices, with settings named as the web app's forms name them.
    pub fn all(notices: &[Notice]) -> Vec<Told> {
        notices
            .iter()
            .map(|n| {
                let (kind, message) = n.parts();
                Told {
                    kind,
                    text: message.render(setting),
                }
            })
            .collect()
    }
}

/// What a result let go of held, so that asking for a part it never had is still told
/// apart (404) from asking for one it had (410).
#[derive(Debug, Clone, Copy)]
pub struct Released {
    pub page: bool,
    pub workbook: bool,
}

/// An analysis's result: its page and a file (its JSON; a kept run's trial table or
/// results workbook, made again), and an analysis's results workbook.
pub struct Page {
    pub html: String,
    pub data: Bytes,
    /// The file's name, whose extension says its kind: `analysis.json`, `trials.csv`,
    /// `run-7.xlsx`.
    pub data_name: String,
    /// An analysis's results workbook (.xlsx): its name (`sweep.xlsx`) and bytes,
    /// rendered with its page since the result is kept nowhere else to render later.
    pub workbook: Option<(String, Bytes)>,
}

impl Page {
    /// The bytes it holds.
    fn size(&self) -> usize {
        self.html.len() + self.data.len() + self.workbook.as_ref().map_or(0, |(_, b)| b.len())
    }
}

/// What a finished job produced.
pub enum Output {
    Run(i64),
    Page(Page),
}

impl Job {
    pub fn state(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, state: State) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }

    /// Its result (shared, not copied: a download of tens of megabytes is sent from
    /// the one copy).
    pub fn page(&self) -> Option<Arc<Page>> {
        self.page.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What its result held, if it was let go to keep the server's memory within
    /// [`KEPT_BYTES`].
    pub fn released(&self) -> Option<Released> {
        self.released.get().copied()
    }

    /// What the run API told while the job ran (nothing until it ends).
    pub fn told(&self) -> &[Told] {
        self.told.get().map_or(&[], Vec::as_slice)
    }

    /// Stops the job: a queued one never starts, a running one stops at the workers'
    /// next check of the monitor.
    pub fn cancel(&self) {
        self.monitor.cancel.store(true, Ordering::SeqCst);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*state, State::Queued) {
            *state = State::Cancelled;
        }
    }
}

/// The jobs and the places they wait for.
pub struct Queue {
    places: Arc<Semaphore>,
    next: AtomicU64,
    jobs: Arc<Mutex<BTreeMap<u64, Arc<Job>>>>,
    /// The turn of the job queued last: it completes once that job has its place (or
    /// has given up waiting). Each job waits for it before asking for a place, so
    /// places go out first come, first served: the semaphore alone serves its waiters
    /// in the order their tasks first ask, which the runtime may poll in any order.
    last_turn: Mutex<Option<oneshot::Receiver<()>>>,
}

impl Queue {
    pub fn new(concurrent: usize) -> Queue {
        Queue {
            places: Arc::new(Semaphore::new(concurrent)),
            next: AtomicU64::new(1),
            jobs: Arc::new(Mutex::new(BTreeMap::new())),
            last_turn: Mutex::new(None),
        }
    }

    /// Whether job `id` was ever started here (it may since have been let go, as only
    /// the latest [`KEPT`] finished jobs are kept).
    pub fn started(&self, id: u64) -> bool {
        id >= 1 && id < self.next.load(Ordering::Relaxed)
    }

    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Queues `work`, which runs on a blocking thread once a place is free (unless the
    /// job is cancelled first) and adds what the user should be told to its notices,
    /// and returns the job.
    pub fn start(
        &self,
        work: impl FnOnce(&Monitor, &mut Vec<Notice>) -> Result<Output, Error> + Send + 'static,
    ) -> Arc<Job> {
        // The number and the turn are taken under one lock, so that jobs numbered in
        // one order are not served in another when two requests come at once.
        let mut last_turn = self.last_turn.lock().unwrap_or_else(|e| e.into_inner());
        let job = Arc::new(Job {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            monitor: Monitor::new(),
            state: Mutex::new(State::Queued),
            page: Mutex::new(None),
            released: OnceLock::new(),
            told: OnceLock::new(),
            followers: AtomicUsize::new(0),
        });
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            jobs.insert(job.id, job.clone());
            while jobs.len() > KEPT {
                let Some((&oldest, _)) = jobs.iter().find(|(_, j)| j.state().finished()) else {
                    break;
                };
                jobs.remove(&oldest);
            }
        }
        let places = self.places.clone();
        let jobs = self.jobs.clone();
        let running = job.clone();
        // Taken here, in the caller's order, not in the task's.
        let (my_turn_done, next_turn) = oneshot::channel::<()>();
        let my_turn = last_turn.replace(next_turn);
        drop(last_turn);
        tokio::spawn(async move {
            if let Some(turn) = my_turn {
                // An error is a turn given up (its sender dropped): the same to us.
                let _ = turn.await;
            }
            // A job cancelled while it waited asks for no place ([`Job::cancel`] has
            // marked it); either way, dropping `my_turn_done` lets the next job ask.
            let place = if running.monitor.is_cancelled() {
                None
            } else {
                places.acquire_owned().await.ok()
            };
            drop(my_turn_done);
            let Some(_place) = place else {
                return;
            };
            if running.monitor.is_cancelled() {
                running.set(State::Cancelled);
                return;
            }
            running.set(State::Running);
            let worker = running.clone();
            let done = tokio::task::spawn_blocking(move || {
                let mut notices = Vec::new();
                let done = work(&worker.monitor, &mut notices);
                // Set before the state says the job ended, so that its end shows them.
                let _ = worker.told.set(Told::all(&notices));
                done
            })
            .await;
            running.set(match done {
                Ok(Ok(Output::Run(id))) => State::Done { run: id },
                Ok(Ok(Output::Page(page))) => {
                    *running.page.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(page));
                    let jobs = jobs.lock().unwrap_or_else(|e| e.into_inner());
                    release_oldest(&jobs, running.id, KEPT_BYTES);
                    State::Shown
                }
                Ok(Err(e)) if e.is_interrupted() => State::Cancelled,
                Ok(Err(e)) => State::Failed {
                    message: e.render(setting),
                    user_input: e.is_user_input(),
                },
                Err(e) => State::Failed {
                    message: format!("the run failed: {e}"),
                    user_input: false,
                },
            });
        });
        job
    }
}

/// Lets go of the oldest results, all but job `newest`'s, until those kept hold at most
/// `budget` bytes.
fn release_oldest(jobs: &BTreeMap<u64, Arc<Job>>, newest: u64, budget: usize) {
    let size = |j: &Job| j.page().map_or(0, |p| p.size());
    let mut held: usize = jobs.values().map(|j| size(j)).sum();
    for job in jobs.values().filter(|j| j.id != newest) {
        if held <= budget {
            break;
        }
        let page = job.page.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(page) = page {
            held -= page.size();
            let _ = job.released.set(Released {
                page: !page.html.is_empty(),
                workbook: page.workbook.is_some(),
            });
        }
    }
}

/// How the app's messages name a request's settings: as its forms and the server's
/// options call them.
pub fn setting(s: Setting) -> String {
    match s {
        Setting::Trials => "the trials".into(),
        Setting::Seed => "the seed".into(),
        Setting::MaxMemory => "the server's --max-memory".into(),
        Setting::MaxTrials => "the server's --max-trials".into(),
        // The analysis forms' boxes, by their labels (the request's key after it, for
        // a program that sends requests itself). The lists' entries are named one at a
        // time by the library's messages.
        Setting::Param => "Inputs to vary (`params`)".into(),
        Setting::Switch => "Switching values of (`switch`)".into(),
        Setting::Term | Setting::Terms => "Terms (`terms`)".into(),
        Setting::TargetProbLoss => "Target P(loss) (`target_prob_loss`)".into(),
        Setting::MaxWorseOff => "Most P(worse off) for any partner (`max_worse_off`)".into(),
        Setting::MaxCollapse => "Most P(collapse) (`max_collapse`)".into(),
        other => format!("`{}`", other.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, bytes: usize) -> Arc<Job> {
        let page = Page {
            html: String::new(),
            data: Bytes::from(vec![0u8; bytes]),
            data_name: "trials.csv".into(),
            workbook: None,
        };
        Arc::new(Job {
            id,
            monitor: Monitor::new(),
            state: Mutex::new(State::Shown),
            page: Mutex::new(Some(Arc::new(page))),
            released: OnceLock::new(),
            told: OnceLock::new(),
            followers: AtomicUsize::new(0),
        })
    }

    /// Only the latest [`KEPT`] finished jobs are kept; one let go is still known to
    /// have been started, so that asking for it is told apart from a wrong number.
    #[tokio::test]
    async fn jobs_past_the_kept_ones_are_let_go_but_known() {
        let queue = Queue::new(2);
        let started: Vec<_> = (0..KEPT + 3)
            .map(|_| queue.start(|_, _| Ok(Output::Run(0))))
            .collect();
        while !started.iter().all(|j| j.state().finished()) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // One more, now that the others have finished, lets the oldest go.
        let last = queue.start(|_, _| Ok(Output::Run(0))).id;
        assert!(queue.get(1).is_none() && queue.started(1));
        assert!(queue.get(last).is_some() && queue.started(last));
        assert!(!queue.started(0) && !queue.started(last + 1));
    }

    /// Places go out in the order the jobs were queued, however the runtime polls
    /// their tasks, and a job cancelled while it waits is passed over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn places_go_out_first_come_first_served() {
        for _ in 0..20 {
            let queue = Queue::new(1);
            let order = Arc::new(Mutex::new(Vec::new()));
            // The first holds its place until job 5 is cancelled.
            let (go, wait) = std::sync::mpsc::channel::<()>();
            let wait = Mutex::new(Some(wait));
            let jobs: Vec<_> = (0..8)
                .map(|i| {
                    let order = order.clone();
                    let wait = wait.lock().unwrap().take();
                    queue.start(move |_, _| {
                        if let Some(wait) = wait {
                            wait.recv().unwrap();
                        }
                        order.lock().unwrap().push(i);
                        Ok(Output::Run(i))
                    })
                })
                .collect();
            jobs[5].cancel();
            go.send(()).unwrap();
            while !jobs.iter().all(|j| j.state().finished()) {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 6, 7]);
            assert!(matches!(jobs[5].state(), State::Cancelled));
        }
    }

    /// The oldest results go first, only as many as the budget needs, and never the
    /// newest, however large it is.
    #[test]
    fn the_oldest_results_are_let_go_to_keep_the_budget() {
        let jobs: BTreeMap<u64, Arc<Job>> = [(1, 40), (2, 30), (3, 20), (4, 10)]
            .map(|(id, n)| (id, job(id, n)))
            .into();
        release_oldest(&jobs, 4, 50);
        let kept: Vec<bool> = jobs.values().map(|j| j.page().is_some()).collect();
        assert_eq!(kept, [false, false, true, true]);
        assert!(
            jobs[&1].released().is_some()
                && jobs[&2].released().is_some()
                && jobs[&3].released().is_none()
        );
        release_oldest(&jobs, 4, 5);
        assert!(
            jobs[&3].released().is_some()
                && jobs[&4].page().is_some()
                && jobs[&4].released().is_none()
        );
        // A trials table had no page and no workbook, and is remembered so.
        let r = jobs[&1].released().unwrap();
        assert!(!r.page && !r.workbook);
    }
}
