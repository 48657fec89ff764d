//! The `consortium-sim` binary: parse the command line, call the library's run API, map
//! errors to exit codes (0 ok, 1 internal error, 2 bad input, 3 a precision target not
//! met or no agreement terms within the limits, 130 interrupted).

mod analyse;
mod cli;
mod commands;
mod progress;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::Parser;

use cli::{Cli, Command};
use consortium_sim::Error;
use consortium_sim::engine::Monitor;
use consortium_sim::export::format::printable;
use consortium_sim::output::{self, Written};

/// Shared with the signal handler: Ctrl-C or SIGTERM cancels the run in progress.
static MONITOR: Monitor = Monitor::new();

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => refuse_arguments(e),
    };
    // Once the command's work watches the monitor, a first signal stops it there and the
    // command returns. Before that (reading a scenario from a FIFO, starting threads),
    // and at a second signal, the process ends at once, its temporary files removed.
    let handler = ctrlc::set_handler(|| {
        if progress::watched() && !MONITOR.cancel.swap(true, Ordering::SeqCst) {
            return;
        }
        #[cfg(feature = "serve")]
        if commands::SERVING.load(Ordering::SeqCst) {
            eprintln!("stopped: the history is kept (a run in progress is not)");
            std::process::exit(130);
        }
        eprintln!(
            "interrupted: {}",
            printable(&what_was_written(&output::abandon()))
        );
        std::process::exit(130);
    });
    if let Err(e) = handler {
        eprintln!(
            "warning: cannot catch Ctrl-C ({e}); an interrupted run may leave temporary files"
        );
    }
    match dispatch(cli, &MONITOR) {
        Ok(code) => code,
        Err(err) if err.is_interrupted() => {
            eprintln!(
                "interrupted: {}",
                printable(&what_was_written(&output::written()))
            );
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {}", printable(&err.render(cli::flag)));
            // Each library error says whether it is bad input: no list of types here.
            ExitCode::from(if err.is_user_input() { 2 } else { 1 })
        }
    }
}

/// Ends the process for command-line arguments clap could not take, or for `--help` and
/// `--version`. A usage error quotes the argument as typed, so it is printed with the
/// characters that would act on the terminal escaped, as every other message is: the
/// arguments are parsed again without styles (clap's plain text would drop an escape
/// sequence in the argument silently, and its styled text mixes its own sequences with
/// the user's).
fn refuse_arguments(e: clap::Error) -> ! {
    use clap::CommandFactory;
    use clap::builder::Styles;
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let plain = Cli::command()
        .styles(Styles::plain())
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
        .err()
        .unwrap_or(e);
    eprint!("{}", printable(&plain.render().ansi().to_string()));
    std::process::exit(plain.exit_code());
}

/// What an interrupted command says it wrote: "nothing was written", or the outputs in
/// place and any cut short.
fn what_was_written(written: &[Written]) -> String {
    let shown = |w: &Written| commands::shown(&w.path);
    let whole: Vec<String> = written.iter().filter(|w| w.complete).map(shown).collect();
    let cut: Vec<String> = written.iter().filter(|w| !w.complete).map(shown).collect();
    let mut parts = Vec::new();
    if !whole.is_empty() {
        parts.push(format!("wrote {}", whole.join(", ")));
    }
    if !cut.is_empty() {
        parts.push(format!("{} cut short", cut.join(", ")));
    }
    if parts.is_empty() {
        "nothing was written".into()
    } else {
        format!("{}; nothing else was written", parts.join("; "))
    }
}

/// Exit code of a `run` whose precision target was not met (or could not be judged), and
/// of an `agreement` in which no set of terms meets the limits: the outputs are written,
/// and a script can tell it from success.
const TARGET_NOT_MET: u8 = 3;

fn dispatch(cli: Cli, monitor: &Monitor) -> Result<ExitCode, Error> {
    let done = match cli.command {
        Command::Run(args) => {
            let met = commands::run(args, monitor)?;
            return Ok(if met {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(TARGET_NOT_MET)
            });
        }
        Command::Validate { file, set } => commands::validate(file, &set.all()),
        Command::Init { xlsx } => commands::init(xlsx),
        Command::Convert { input, output } => commands::convert(&input, &output),
        Command::Trace(args) => commands::trace(args, monitor),
        Command::Merge(args) => commands::merge(args, monitor),
        Command::Sweep(args) => analyse::sweep(args, monitor),
        Command::Agreement(args) => {
            let met = analyse::agreement(args, monitor)?;
            return Ok(if met {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(TARGET_NOT_MET)
            });
        }
        Command::Sensitivity(args) => analyse::sensitivity(args, monitor),
        Command::Compare(args) => analyse::compare(args, monitor),
        Command::Schema => commands::schema(),
        Command::Completions { shell } => commands::completions(shell),
        #[cfg(feature = "serve")]
        Command::Serve(args) => commands::serve(args),
    };
    done.map(|()| ExitCode::SUCCESS)
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
