//! The `atpp` binary: parse the command line, run it, map the outcome to an exit code, and print
//! an error once, as its chain of causes.

use atpp::commands::logging::RUN_LOG_ONLY;
use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of stdout goes away
    // (`atpp load --dry-run | head`), instead of panicking on a broken pipe.
    // SAFETY: restoring the default disposition of one signal at start-up, before any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = atpp::commands::cli::Cli::parse();
    atpp::commands::logging::init(cli.verbose);
    let args: Vec<String> = std::env::args().skip(1).collect();
    tracing::info!(target: RUN_LOG_ONLY, "atpp {} started", args.join(" "));
    let code = match atpp::commands::cli::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            tracing::error!(target: RUN_LOG_ONLY, "{e:#}");
            eprintln!("error: {e:#}");
            1
        }
    };
    tracing::info!(target: RUN_LOG_ONLY, exit_code = code, "atpp ended");
    std::process::exit(code);
}
