use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

fn main() -> ExitCode {
    let cli = match supamigrate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if !e.use_stderr()
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            eprintln!("error: {}", supamigrate::cli::usage_line(&e));
            return ExitCode::from(supamigrate::Kind::Config.exit_code());
        }
    };
    supamigrate::cli::init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    match runtime.block_on(supamigrate::cli::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let code = supamigrate::error::exit_code_for(&err);
            let line = supamigrate::error::one_line(&err);
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "ok": false, "error": line, "exit_code": code })
                );
            }
            eprintln!("error: {line}");
            ExitCode::from(code)
        }
    }
}
