//! The `consortium-sim` binary: parse the command line, call the library, map errors to
//! exit codes (0 ok, 2 bad input, 1 internal error, 130 interrupted).

mod analyse;
mod cli;
mod commands;
mod prepare;
mod progress;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::Parser;

use cli::{Cli, Command};
use consortium_sim::engine::{Interrupted, Monitor};
use consortium_sim::output::OutputError;
use consortium_sim::scenario::ScenarioError;
use consortium_sim::shard::ShardError;

/// A mistake in what the user asked for (as opposed to a fault of the program).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Shared with the signal handler: Ctrl-C or SIGTERM cancels the run in progress.
static MONITOR: Monitor = Monitor::new();

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    // A first signal stops the workers and writes nothing; a second ends the process.
    let handler = ctrlc::set_handler(|| {
        if MONITOR.cancel.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot catch Ctrl-C ({e}); an interrupted run may leave temporary files"
        );
    }
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<Interrupted>() => {
            eprintln!("interrupted: nothing was written");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            let bad_input = err.chain().any(|e| {
                e.is::<ScenarioError>()
                    || e.is::<OutputError>()
                    || e.is::<ShardError>()
                    || e.is::<BadInput>()
            });
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => commands::run(args),
        Command::Validate { file, set } => {
            let (_, s) = prepare::load(&file, &set.all())?;
            println!("ok\n{}", s.summary());
            Ok(())
        }
        Command::Init => {
            print!("{}", consortium_sim::TEMPLATE);
            Ok(())
        }
        Command::Trace(args) => commands::trace(args),
        Command::Merge(args) => commands::merge(args),
        Command::Sweep(args) => analyse::sweep(args),
        Command::Sensitivity(args) => analyse::sensitivity(args),
        Command::Compare(args) => analyse::compare(args),
        Command::Schema => commands::schema(),
        Command::Completions { shell } => commands::completions(shell),
    }
}

/// Lets a closed pipe end the process quietly, as it ends `cat` or `grep`: Rust ignores
/// SIGPIPE, so `consortium-sim run ... | head` would otherwise panic on the next print.
/// Output files are always written before anything is printed.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
