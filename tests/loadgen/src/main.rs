//! The `loadgen` command: parses the flags (`loadgen --help` lists them), runs one scenario and
//! prints where its result and plot went; `loadgen handler` runs the custom handler instead.

use std::process::ExitCode;

use loadgen::options::{self, Command, HELP};

/// mimalloc: the switch allocates per request and per event, and glibc's malloc cost a sixth
/// of its CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match options::parse(&args) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Handler) => return run_handler(),
        Ok(Command::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("loadgen: {message}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&options.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).compact().init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    match runtime.block_on(loadgen::run::run(&options)) {
        Ok(outcome) => {
            print!("{}", outcome.summary.text());
            if 0 < outcome.unfinished {
                println!("unfinished (no final callback within --drain): {}", outcome.unfinished);
            }
            if let Some(lines) = &outcome.expiry {
                print!("{lines}");
            }
            if let Some(line) = &outcome.machine_cpu {
                print!("{line}");
            }
            println!("load average (1, 5, 15 min) after the run: {}", loadgen::run::load_average());
            println!("result: {}", outcome.out_dir.join("result.json").display());
            println!("plot:   {}", outcome.out_dir.join("result.svg").display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The custom handler, as `local-emulator handler` runs it (the emulator starts it as a child).
fn run_handler() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    match runtime.block_on(handler::process::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
