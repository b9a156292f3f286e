//! The `local-emulator` command: `up` runs the whole switch offline; `handler` is the custom
//! handler itself, which `up` starts as its child process (the same code as the deployed
//! `handler` binary).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use local_emulator::demo;
use local_emulator::emulator::{ADMIN_PORT_DEFAULT, FSPIOP_PORT_DEFAULT, PARTITIONS_DEFAULT, SETTLEMENT_PORT_DEFAULT};
use local_emulator::faults::Fault;
use local_emulator::mtls::MtlsFiles;
use local_emulator::provision::AdminClient;
use local_emulator::simulator::Simulators;
use local_emulator::{Emulator, EmulatorConfig, StoreChoice};

/// mimalloc: the switch allocates per request and per event, and glibc's malloc cost a sixth
/// of its CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
local-emulator: the Mojaloop switch offline on one machine

USAGE:
    local-emulator up [OPTIONS]     run the switch (Functions host, Event Hubs and APIM stand-ins)
    local-emulator handler          run the custom handler alone (what `up` starts; reads
                                    FUNCTIONS_CUSTOMHANDLER_PORT and the handler's settings)
    local-emulator --help

OPTIONS (up):
    --data-dir DIR          where the ledger (SQLite), hub logs and checkpoints live
                            [default: <app root>/.local/emulator]
    --mysql URL             keep the ledger in MySQL/MariaDB instead, e.g. mysql://root@127.0.0.1:3306/switch
    --demo                  provision a Hub and two DFSPs served by built-in simulators, run one
                            transfer end to end, print what happened, then keep serving
    --app-root DIR          where host.json and functions/bindings/ are [default: this repository]
    --partitions N          partitions per event hub [default: 1]
    --fspiop-port PORT      FSPIOP API [default: 3000]
    --admin-port PORT       central-ledger admin API [default: 3001]
    --settlement-port PORT  central-settlement API, under /v2 [default: 3007]
    --hubs-port PORT        Event Hubs ingestion and /control/status [default: any free port]
    --simulators-port PORT  DFSP simulators, with --demo [default: 3999]
    --handler PATH          start this handler executable (e.g. target/release/handler) instead
                            of the built-in one
    --operator-key KEY      require KEY in Ocp-Apim-Subscription-Key on the admin and settlement
                            APIs [default: a random key, written to <data dir>/operator-key]
    --open                  run the admin and settlement APIs without a key (--demo does, unless
                            --operator-key is given)
    --mtls CA               serve the FSPIOP API over mutual TLS: clients present a certificate
                            issued by CA (PEM) whose subject CN is their FSPIOP-Source, as the
                            APIM policy requires; needs --tls-cert and --tls-key
    --tls-cert PATH         the FSPIOP listener's certificate chain (PEM), with --mtls
    --tls-key PATH          its private key (PEM), with --mtls
    --callback-version V    Content-Type version of the callbacks the Hub makes: 1.0, 1.1 or 2.0
                            (CALLBACK_CONTENT_VERSION) [default: 1.0, what the Testing Toolkit's
                            default environment expects; 2.0 for its v2 profile]
    --jws-sign              sign the Hub's callbacks (FSPIOP-Signature, JWS_SIGN) with the RSA key
                            in <data dir>/jws/hub-private.pem, made on first start; the DFSPs'
                            copy of its public key is <data dir>/jws/Hub.pem
    --fault SPEC            inject a fault (repeatable):
                              redeliver:<function>                  deliver each batch twice
                              delay:<hub>/<partition>:<ms>          delay a partition's batches
                              crash:<function>:<before-commit|after-commit>:<nth>
                                                                    abort the handler once there
    --handler-log LEVEL     the handler's log level [default: warn]
    --log LEVEL             the emulator's log level [default: info]
";

#[derive(Debug)]
struct UpOptions {
    config: EmulatorConfig,
    demo: bool,
    simulators_port: u16,
    log: String,
}

fn main() -> ExitCode {
    // The listeners' connection caps, not the default soft limit of 1,024, bound what the
    // emulator and its embedded handler hold.
    if let Err(err) = plumbing::listen::raise_open_files_limit() {
        eprintln!("local-emulator: cannot raise the open-files limit: {err}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("handler") => run_handler(),
        Some("up") => match parse_up(&args[1..]) {
            Ok(options) => run_up(options),
            Err(message) => {
                eprintln!("{message}\n\n{HELP}");
                ExitCode::from(2)
            }
        },
        Some("--help" | "-h" | "help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{HELP}");
            ExitCode::from(2)
        }
    }
}

fn run_handler() -> ExitCode {
    exit_when_orphaned();
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    match runtime.block_on(handler::process::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// The embedded handler ends when the emulator that started it is gone, however the emulator
/// ended (a worker dies with its Functions host), so no handler is left holding the ledger.
fn exit_when_orphaned() {
    const PARENT_POLL: Duration = Duration::from_millis(500);
    // SAFETY: getppid(2) has no preconditions.
    let parent = unsafe { libc::getppid() };
    std::thread::spawn(move || loop {
        std::thread::sleep(PARENT_POLL);
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            eprintln!("local-emulator handler: the emulator is gone; exiting");
            std::process::exit(1);
        }
    });
}

fn parse_up(args: &[String]) -> Result<UpOptions, String> {
    let app_root = default_app_root();
    let mut data_dir: Option<PathBuf> = None;
    let mut app_root_given: Option<PathBuf> = None;
    let mut store = StoreChoice::Embedded;
    let mut demo = false;
    let mut open = false;
    let mut operator_key = None;
    let mut partitions = PARTITIONS_DEFAULT;
    let (mut fspiop_port, mut admin_port, mut settlement_port, mut hubs_port, mut simulators_port) =
        (FSPIOP_PORT_DEFAULT, ADMIN_PORT_DEFAULT, SETTLEMENT_PORT_DEFAULT, 0, 3999);
    let mut handler_program = None;
    let mut faults = Vec::new();
    let (mut client_ca, mut server_certificate, mut server_key) = (None, None, None);
    let mut handler_log = "warn".to_string();
    let mut callback_version = handler::process::CALLBACK_CONTENT_VERSION_DEFAULT;
    let mut jws_sign = false;
    let mut log = "info".to_string();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--mysql" => store = StoreChoice::Mysql(value()?),
            "--demo" => demo = true,
            "--open" => open = true,
            "--app-root" => app_root_given = Some(PathBuf::from(value()?)),
            "--partitions" => partitions = number(flag, &value()?)?,
            "--fspiop-port" => fspiop_port = number(flag, &value()?)?,
            "--admin-port" => admin_port = number(flag, &value()?)?,
            "--settlement-port" => settlement_port = number(flag, &value()?)?,
            "--hubs-port" => hubs_port = number(flag, &value()?)?,
            "--simulators-port" => simulators_port = number(flag, &value()?)?,
            "--handler" => handler_program = Some(PathBuf::from(value()?)),
            "--operator-key" => operator_key = Some(value()?),
            "--mtls" => client_ca = Some(PathBuf::from(value()?)),
            "--tls-cert" => server_certificate = Some(PathBuf::from(value()?)),
            "--tls-key" => server_key = Some(PathBuf::from(value()?)),
            "--fault" => faults.push(Fault::parse(&value()?)?),
            "--callback-version" => {
                let text = value()?;
                callback_version = fspiop::ApiVersion::parse(&text)
                    .ok_or_else(|| format!("--callback-version: `{text}` is not 1.0, 1.1 or 2.0"))?;
            }
            "--jws-sign" => jws_sign = true,
            "--handler-log" => handler_log = value()?,
            "--log" => log = value()?,
            "--help" | "-h" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let mtls = match (client_ca, server_certificate, server_key) {
        (None, None, None) => None,
        (Some(client_ca), Some(server_certificate), Some(server_key)) => {
            Some(MtlsFiles { client_ca, server_certificate, server_key })
        }
        _ => return Err("--mtls, --tls-cert and --tls-key go together".to_string()),
    };
    let app_root = app_root_given.unwrap_or(app_root);
    let data_dir = data_dir.unwrap_or_else(|| app_root.join(".local").join("emulator"));
    let operator_key = match (operator_key, open || demo) {
        (Some(key), _) => Some(key),
        (None, true) => None,
        (None, false) => Some(stored_operator_key(&data_dir)?),
    };
    let (handler_program, handler_arguments) = match handler_program {
        Some(program) => (program, Vec::new()),
        None => (
            std::env::current_exe().map_err(|err| format!("cannot find my own executable: {err}"))?,
            vec!["handler".to_string()],
        ),
    };
    let handler_environment = vec![("RUST_LOG".to_string(), handler_log)];
    let config = EmulatorConfig {
        app_root,
        data_dir,
        store,
        partitions,
        fspiop_port,
        admin_port,
        settlement_port,
        hubs_port,
        handler_program,
        handler_arguments,
        handler_environment,
        callback_version,
        jws_sign,
        operator_key,
        faults,
        mtls,
    };
    Ok(UpOptions { config, demo, simulators_port, log })
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{flag}: `{text}` is not a valid number"))
}

/// This repository's root when run from a checkout (where host.json is), else the working
/// directory.
fn default_app_root() -> PathBuf {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if repository.join("host.json").is_file() {
        return repository.canonicalize().unwrap_or(repository);
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// The operator key kept in the data directory, made on first use.
fn stored_operator_key(data_dir: &Path) -> Result<String, String> {
    let path = data_dir.join("operator-key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return Ok(key.trim().to_string());
    }
    let key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&path, &key))
        .map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(key)
}

fn run_up(options: UpOptions) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_new(&options.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).compact().init();
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    match runtime.block_on(up(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("local-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn up(options: UpOptions) -> Result<(), String> {
    // Listen for Ctrl-C before saying it stops the switch: a signal that came between the line and
    // the listener would kill the process instead of stopping it.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|err| format!("listening for Ctrl-C: {err}"))?;
    let key = options.config.operator_key.clone();
    let store = match &options.config.store {
        StoreChoice::Embedded => format!("SQLite at {}", options.config.data_dir.join("ledger.db").display()),
        StoreChoice::Mysql(url) => format!("MySQL at {url}"),
    };
    let emulator = Emulator::start(options.config).await.map_err(|err| err.to_string())?;
    println!("Mojaloop switch (local emulator) is up; ledger in {store}");
    println!("  FSPIOP API      {}", emulator.fspiop_url());
    println!("  admin API       {}", emulator.admin_url());
    println!("  settlement API  {}", emulator.settlement_url());
    println!("  hubs / status   http://{}/control/status", emulator.hubs_endpoint);
    match &key {
        Some(key) => println!("  operator key    {key}  (header Ocp-Apim-Subscription-Key)"),
        None => println!("  operator APIs are OPEN (no key): for local use only"),
    }
    if options.demo {
        run_demo(&emulator, key.as_deref(), options.simulators_port).await?;
    }
    println!("Ctrl-C stops the switch.");
    interrupt.recv().await;
    emulator.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

async fn run_demo(emulator: &Emulator, key: Option<&str>, simulators_port: u16) -> Result<(), String> {
    let simulators = Simulators::start(&emulator.fspiop_url(), simulators_port)
        .await
        .map_err(|err| format!("DFSP simulators on port {simulators_port}: {err}"))?;
    let admin = AdminClient::new(&emulator.admin_url(), key);
    let report = demo::run(&admin, &simulators).await.map_err(|err| format!("demo: {err}"))?;
    println!("\n{report}");
    println!("Send your own transfer (the simulated payee fulfils it):");
    println!(
        "  curl -s 'http://{}/demo/prepare-body?payer=payerfsp&payee=payeefsp&amount=25' | curl -i -X POST {}/transfers \\\n    -H 'Content-Type: application/vnd.interoperability.transfers+json;version=1.1' \\\n    -H 'Accept: application/vnd.interoperability.transfers+json;version=1.1' \\\n    -H \"Date: $(date -u '+%a, %d %b %Y %H:%M:%S GMT')\" -H 'FSPIOP-Source: payerfsp' -H 'FSPIOP-Destination: payeefsp' --data-binary @-\n",
        simulators.address,
        emulator.fspiop_url()
    );
    Ok(())
}
