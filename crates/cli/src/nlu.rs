//! `ferry nlu …`: the intent classifier from the command line.

use clap::{Args, Subcommand};
use ferry_nlu::eval::{EvalOptions, evaluate};
use std::path::PathBuf;

/// NLU commands.
#[derive(Subcommand)]
pub enum NluCommand {
    /// Trains on one file, tests on another, prints accuracy, macro-F1,
    /// out-of-scope figures, the most confused pairs and latency. The last
    /// line is machine-readable.
    Eval(EvalArgs),
}

/// Options of `ferry nlu eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Training examples: CSV with a header row, or JSONL.
    #[arg(long)]
    train: PathBuf,
    /// Test examples, same format.
    #[arg(long)]
    test: PathBuf,
    /// Field or column with the message.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// Field or column with the intent.
    #[arg(long, default_value = "intent")]
    label_field: String,
    /// Label of out-of-scope messages.
    #[arg(long, default_value = "oos")]
    oos_label: String,
    /// Field or column with the language, for per-language figures.
    #[arg(long)]
    lang_field: Option<String>,
}

/// Runs an NLU command.
pub fn run(cmd: NluCommand) -> anyhow::Result<()> {
    match cmd {
        NluCommand::Eval(a) => {
            let mut o = EvalOptions::new(a.train, a.test);
            o.text_field = a.text_field;
            o.label_field = a.label_field;
            o.oos_label = a.oos_label;
            o.lang_field = a.lang_field;
            let report = evaluate(&o)?;
            println!("{report}");
            Ok(())
        }
    }
}
