//! The one error type of the run API, and the messages that name a request's settings.
//!
//! Every front end must tell a mistake in what was asked for (the command line exits with
//! code 2) from a fault of the program (exit 1) and from a cancelled run, so each variant
//! of [`Error`] says which it is, through [`Error::is_user_input`] and
//! [`Error::is_interrupted`], instead of each front end keeping its own list of error
//! types. A message about a request names its settings by a tag ([`Setting`]) that each
//! front end renders its own way: the command line as its flag (`--trials`), a Python
//! binding as its keyword (`trials`).

use std::fmt::{self, Write as _};

use crate::analysis::{AnalysisError, Input};
use crate::engine::Interrupted;
use crate::export::ExportError;
use crate::output::OutputError;
use crate::scenario::ScenarioError;
use crate::shard::ShardError;

/// What the run API's functions return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a run (or an analysis, a merge, a replay) could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario cannot be read, is not JSON, an override is wrong, or it fails
    /// validation. User input.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// An output file cannot be written (its directory is missing, or it is a
    /// directory). User input: the path was asked for.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A shard specification is wrong, or partial results cannot be read or do not
    /// belong together. User input.
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// An analysis's request is wrong (a parameter, variant or switch). User input,
    /// except an interruption, which [`From<AnalysisError>`] turns into
    /// [`Error::Interrupted`].
    #[error(transparent)]
    Analysis(AnalysisError),
    /// The request's settings are wrong, do not go together, or ask for more memory than
    /// allowed. User input.
    #[error("{0}")]
    Request(Message),
    /// The run was cancelled through its [`Monitor`](crate::engine::Monitor). Neither user
    /// input nor a fault: nothing was produced.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// A fault of the program or of the machine (threads that cannot start, a report
    /// with a non-finite figure, a stream that cannot be written). Not user input.
    #[error("{message}")]
    Fault {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl From<AnalysisError> for Error {
    fn from(e: AnalysisError) -> Error {
        match e {
            AnalysisError::Scenario(e) => Error::Scenario(e),
            AnalysisError::Interrupted(e) => Error::Interrupted(e),
            spec => Error::Analysis(spec),
        }
    }
}

impl From<ExportError> for Error {
    /// An unwritable output path is user input, an interruption an interruption, and a
    /// format asked for a kind of result it cannot render user input (a front end lets
    /// the user name formats).
    fn from(e: ExportError) -> Error {
        match e {
            ExportError::Output(e) => Error::Output(e),
            ExportError::Interrupted(e) => Error::Interrupted(e),
            e @ (ExportError::Unsupported(..) | ExportError::Misnamed { .. }) => {
                Error::request(e.to_string())
            }
        }
    }
}

impl Error {
    /// A mistake in the request, worded with `message`.
    pub fn request(message: impl Into<Message>) -> Error {
        Error::Request(message.into())
    }

    /// A fault, with the error that caused it.
    pub fn fault(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Fault {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Whether this is a mistake in what was asked for (bad input: the command line's
    /// exit code 2) rather than a fault or an interruption. See each variant.
    pub fn is_user_input(&self) -> bool {
        match self {
            Error::Scenario(_) | Error::Output(_) | Error::Shard(_) | Error::Request(_) => true,
            Error::Analysis(e) => !matches!(e, AnalysisError::Interrupted(_)),
            Error::Interrupted(_) | Error::Fault { .. } => false,
        }
    }

    /// Whether the run was cancelled before it finished.
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            Error::Interrupted(_) | Error::Analysis(AnalysisError::Interrupted(_))
        )
    }

    /// The message followed by each of its causes (`message: cause: cause`), settings
    /// named by `name`: what a front end shows the user.
    pub fn render(&self, name: impl Fn(Setting) -> String) -> String {
        let mut text = match self {
            Error::Request(message) => message.render(&name),
            Error::Analysis(AnalysisError::Spec {
                option,
                spec,
                message,
            }) => format!("{} {spec}: {message}", name(Setting::from(*option))),
            other => other.to_string(),
        };
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let _ = write!(text, ": {c}");
            cause = c.source();
        }
        text
    }
}

/// A setting of a request, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    Trials,
    Seed,
    Threads,
    MaxMemory,
    Shard,
    MaxTrials,
    TargetSe,
    TargetProbCi,
    /// The trial to replay.
    Trial,
    Param,
    Variant,
    Switch,
    TargetProbLoss,
    Term,
    Terms,
    MaxWorseOff,
    MaxCollapse,
}

impl Setting {
    /// The neutral name: the field of [`RunOptions`](super::RunOptions) (or of an
    /// analysis's request) that holds it.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Trials => "trials",
            Setting::Seed => "seed",
            Setting::Threads => "threads",
            Setting::MaxMemory => "max_memory",
            Setting::Shard => "shard",
            Setting::MaxTrials => "max_trials",
            Setting::TargetSe => "target_se",
            Setting::TargetProbCi => "target_prob_ci",
            Setting::Trial => "trial",
            Setting::Param => Input::Param.name(),
            Setting::Variant => Input::Variant.name(),
            Setting::Switch => Input::Switch.name(),
            Setting::TargetProbLoss => Input::TargetProbLoss.name(),
            Setting::Term => Input::Term.name(),
            Setting::Terms => Input::Terms.name(),
            Setting::MaxWorseOff => Input::MaxWorseOff.name(),
            Setting::MaxCollapse => Input::MaxCollapse.name(),
        }
    }

    /// How the library's own messages show it: its name in backquotes.
    fn neutral(self) -> String {
        format!("`{}`", self.name())
    }
}

impl From<Input> for Setting {
    fn from(input: Input) -> Setting {
        match input {
            Input::Param => Setting::Param,
            Input::Variant => Setting::Variant,
            Input::Switch => Setting::Switch,
            Input::TargetProbLoss => Setting::TargetProbLoss,
            Input::Term => Setting::Term,
            Input::Terms => Setting::Terms,
            Input::MaxWorseOff => Setting::MaxWorseOff,
            Input::MaxCollapse => Setting::MaxCollapse,
        }
    }
}

/// A message about a request: text and the settings it names, rendered by each front
/// end with its own names for them ([`Message::render`]); `Display` uses the neutral
/// names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message(Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Setting(Setting),
}

impl Message {
    /// Appends text, a setting, or another message.
    pub fn push(&mut self, part: impl Into<Message>) {
        self.0.extend(part.into().0);
    }

    /// The message with each setting named by `name`.
    pub fn render(&self, name: impl Fn(Setting) -> String) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Setting(s) => name(*s),
            })
            .collect()
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Setting::neutral))
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message(vec![Part::Text(text.to_string())])
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message(vec![Part::Text(text)])
    }
}

impl From<Setting> for Message {
    fn from(setting: Setting) -> Message {
        Message(vec![Part::Setting(setting)])
    }
}

/// A [`Message`] from pieces of text, [`Setting`]s and other messages, in order.
macro_rules! message {
    ($($part:expr),+ $(,)?) => {{
        let mut message = $crate::run::Message::default();
        $(message.push($part);)+
        message
    }};
}
pub(crate) use message;

/// Something the caller should tell the user about a run that goes ahead anyway: the
/// command line prints a warning as `warning: ...` and a note as `note: ...` on stderr.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The run differs from what was asked (a correlation matrix was repaired).
    Warning(Message),
    /// Information about a default chosen for the run.
    Note(Message),
}

impl Notice {
    /// Its kind as every front end labels it (`warning` or `note`), and its message,
    /// which each renders with its own names for settings.
    pub fn parts(&self) -> (&'static str, &Message) {
        match self {
            Notice::Warning(m) => ("warning", m),
            Notice::Note(m) => ("note", m),
        }
    }

    /// The notice as said of one of several scenarios (those a comparison loads): its
    /// message led by the scenario's name, `b.xlsx: Partners!J3 ...`.
    pub fn about(self, name: &str) -> Notice {
        let lead = |m: Message| {
            let mut led = Message::from(format!("{name}: "));
            led.push(m);
            led
        };
        match self {
            Notice::Warning(m) => Notice::Warning(lead(m)),
            Notice::Note(m) => Notice::Note(lead(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_by_the_front_end() {
        let m = message![Setting::Trials, " must be at least ", 1.to_string()];
        assert_eq!(m.to_string(), "`trials` must be at least 1");
        assert_eq!(
            m.render(|s| format!("--{}", s.name().replace('_', "-"))),
            "--trials must be at least 1"
        );
    }

    #[test]
    fn each_kind_says_whether_it_is_bad_input() {
        assert!(Error::request("x").is_user_input());
        assert!(!Error::from(Interrupted).is_user_input());
        assert!(Error::from(AnalysisError::from(Interrupted)).is_interrupted());
        assert!(!Error::fault("x", std::io::Error::other("y")).is_user_input());
        assert_eq!(
            Error::fault("cannot write", std::io::Error::other("full")).render(|s| s.neutral()),
            "cannot write: full"
        );
    }
}
