//! The command line: clap types for the raw arguments, and `run`, which
//! resolves settings and hands each command to its stage module. This is the
//! edge where `anyhow` is allowed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::ledger;
use crate::pg::{self, Side};
use crate::settings::{self, FlagOverrides, Settings};

/// Move a Supabase project onto Aurora PostgreSQL and S3, and prove nothing was lost.
#[derive(Debug, Parser)]
#[command(name = "supamigrate", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: supamigrate.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Overrides source.url.
    #[arg(long, global = true, value_name = "URL")]
    pub source_url: Option<String>,

    /// Overrides target.url.
    #[arg(long, global = true, value_name = "URL")]
    pub target_url: Option<String>,

    /// Overrides copy.jobs.
    #[arg(long, global = true, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inventory and compatibility assessment; writes nothing.
    Plan,
    /// Show the ledger: stages, chunks, objects, last verify.
    Status,
    /// Rewrite a pg_dump / `supabase db dump` schema file for the target, offline.
    Rewrite(RewriteArgs),
    /// Dump the source schema, rewrite it, apply the pre-data part on the target.
    Schema(SchemaArgs),
    /// Copy every row from one consistent source snapshot, in parallel chunks; resumable.
    Data,
    /// Post-data: indexes (in parallel), constraints, triggers, policies, sequence values, materialized views, ANALYZE.
    Finalize,
    /// Checksum both sides independently; exit 3 if anything differs.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// pg_dump to use [default: pg_dump on PATH]; must not be older than the source server.
    #[arg(long, value_name = "PATH")]
    pub pg_dump: Option<PathBuf>,
    /// Apply even though the target already holds user objects.
    #[arg(long, conflicts_with = "adopt")]
    pub allow_existing: bool,
    /// Apply nothing: record the schema your own migrations created on the
    /// target as this run's schema stage, so `data` and `finalize` may run.
    #[arg(long)]
    pub adopt: bool,
}

#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// The dump to read (plain SQL).
    #[arg(long, value_name = "DUMP.sql")]
    pub input: PathBuf,
    /// Where to write the rewritten SQL.
    #[arg(long, value_name = "OUT.sql")]
    pub output: PathBuf,
    /// Also write every change (rule, reason, original and new text) as JSON.
    #[arg(long, value_name = "CHANGES.json")]
    pub changes: Option<PathBuf>,
    /// Extra mapping files, merged after the configured ones.
    #[arg(long = "mapping", value_name = "FILE")]
    pub mappings: Vec<PathBuf>,
    /// Role that owns what the output creates [default: whoever runs it].
    #[arg(long, value_name = "ROLE")]
    pub target_role: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Where report.json and report.html go [default: reports/<run>/]
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Re-read every storage object and rehash its bytes.
    #[arg(long)]
    pub deep: bool,

    /// Mismatching keys to list per table.
    #[arg(long, value_name = "N", default_value_t = crate::verify::DEFAULT_SAMPLE)]
    pub sample: usize,

    /// Change list (JSON, as `rewrite --changes` writes) whose rules explain
    /// schema differences; may be given more than once.
    #[arg(long, value_name = "FILE")]
    pub changes: Vec<PathBuf>,
}

/// A command line clap cannot parse, as the one line every error is:
/// clap's own first line, and its tip (a similar command or flag) as the
/// fix, else where to look.
pub fn usage_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let what = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    let invalid_value = matches!(
        e.kind(),
        clap::error::ErrorKind::InvalidValue | clap::error::ErrorKind::ValueValidation
    );
    let fix = match (
        lines.find_map(|l| l.strip_prefix("tip: ")),
        e.get(clap::error::ContextKind::InvalidArg),
    ) {
        (Some(tip), _) => tip.to_string(),
        (None, Some(arg)) if invalid_value => {
            format!("give {arg} a value of the kind `supamigrate --help` shows for it")
        }
        _ => "see `supamigrate --help` for the commands and their flags".to_string(),
    };
    format!("{what}; fix: {fix}")
}

pub fn init_logging(cli: &Cli) {
    let default = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("SUPAMIGRATE_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("supamigrate={default},warn"))
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let flags = FlagOverrides {
        source_url: cli.global.source_url.clone(),
        target_url: cli.global.target_url.clone(),
        jobs: cli.global.jobs,
    };
    Ok(settings::load(cli.global.config.as_deref(), &env, &flags)?)
}

/// Runs one command; returns the exit code for outcomes that are not errors.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let settings = load_settings(&cli)?;
    match &cli.command {
        Command::Plan => {
            let report = crate::plan::run(&settings, |source, rules| {
                let settings = &settings;
                async move { crate::schema::assessment(settings, &source, &rules).await }
            })
            .await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            for line in report.problem_lines() {
                eprintln!("error: {line}");
            }
            Ok(if report.ok() { 0 } else { 2 })
        }
        Command::Rewrite(args) => rewrite(&settings, args, cli.json),
        Command::Data => {
            let mode = crate::progress::Mode::detect(cli.json, cli.global.quiet);
            let summary = crate::data::run(&settings, mode).await?;
            if cli.json {
                println!("{}", serde_json::to_string(&summary)?);
            } else if !cli.global.quiet {
                print!("{summary}");
            }
            Ok(0)
        }
        Command::Finalize => {
            let mode = crate::progress::Mode::detect(cli.json, cli.global.quiet);
            let summary = crate::finalize::run(&settings, mode).await?;
            if cli.json {
                println!("{}", serde_json::to_string(&summary)?);
            } else if !cli.global.quiet {
                print!("{summary}");
            }
            Ok(0)
        }
        Command::Schema(args) => {
            let args = crate::schema::stage::SchemaArgs {
                pg_dump: args.pg_dump.clone(),
                allow_existing: args.allow_existing,
                adopt: args.adopt,
                snapshot: None,
            };
            let report = crate::schema::stage::run(&settings, &args).await?;
            for w in &report.warnings {
                tracing::warn!(warning = %w, "schema");
            }
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if report.already_done {
                println!("schema: already applied in run {}", report.run);
            } else if let Some(tables) = report.adopted_tables {
                println!(
                    "schema: adopted the target's own schema ({tables} tables in scope) in run {}; nothing applied",
                    report.run
                );
            } else {
                println!(
                    "schema: applied {} statements in run {}; {} post-data steps stored for finalize; {} changes",
                    report.applied_statements,
                    report.run,
                    report.post_data.values().sum::<usize>(),
                    report.changes
                );
            }
            Ok(0)
        }
        Command::Status => {
            let target = crate::aws::secrets::target_endpoint(&settings).await?;
            let client = pg::connect(Side::Target, &target).await?;
            let status = ledger::read_status(&client).await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{status}");
            }
            Ok(0)
        }
        Command::Verify(args) => {
            let opts = crate::verify::Options {
                report_dir: args.report_dir.clone(),
                deep: args.deep,
                sample: args.sample,
                changes: args.changes.clone(),
            };
            // With --json stdout carries the report alone, so no progress events.
            let mode = crate::progress::Mode::detect(false, cli.json || cli.global.quiet);
            let outcome = crate::verify::run(&settings, &opts, mode).await?;
            let report = &outcome.report;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(report)?);
            } else {
                println!(
                    "verify {}: {} tables, {} rows on the source, {} on the target; report in {}",
                    if report.ok { "passed" } else { "FAILED" },
                    report.summary.tables,
                    report.summary.rows_source,
                    report.summary.rows_target,
                    outcome.dir.display()
                );
                for l in &report.left_out {
                    println!(
                        "  not carried, not compared: schema {} ({} tables), rule {}",
                        l.schema, l.tables, l.rule
                    );
                }
            }
            for line in report.problem_lines() {
                eprintln!("difference: {line}");
            }
            Ok(if report.ok {
                0
            } else {
                crate::error::Kind::Differences.exit_code()
            })
        }
    }
}

fn rewrite(settings: &Settings, args: &RewriteArgs, json: bool) -> anyhow::Result<u8> {
    use crate::sqlrewrite::offline;
    let mut files = settings.mapping_files.clone();
    files.extend(args.mappings.iter().cloned());
    let mappings = crate::mapping::load(&files)?;
    let req = offline::RewriteRequest {
        input: args.input.clone(),
        output: args.output.clone(),
        changes: args.changes.clone(),
        target_role: args.target_role.clone(),
    };
    let result = offline::run(&req, &mappings)?;
    for b in result.open_blockers() {
        eprintln!("blocker: line {}: {}; fix: {}", b.line, b.message, b.fix);
    }
    offline::write(&req, &mappings, &result)?;
    let dropped = result
        .changes
        .iter()
        .filter(|c| c.action == "dropped")
        .count();
    let changed = result
        .changes
        .iter()
        .filter(|c| c.action == "changed")
        .count();
    let added = result
        .changes
        .iter()
        .filter(|c| c.action == "added")
        .count();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "ok": true, "output": args.output, "dropped": dropped, "changed": changed,
                "added": added, "rules_fired": result.rules_fired,
                "roles_created": result.roles_created,
            })
        );
    } else {
        println!(
            "wrote {}: {} statements kept, {dropped} dropped, {changed} changed, {added} added",
            args.output.display(),
            result.counts.values().sum::<usize>()
        );
    }
    Ok(0)
}
