//! The command line: every flag, its default, and the scenarios' presets. `HELP` is the one place
//! that documents them; `parse` turns arguments into [`Options`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::expiry::ExpiringOptions;

/// Most DFSPs one run simulates (the FSPIOP source names stay short and the progress readable).
pub const DFSPS_MAX: u32 = 10_000;
/// Most transfers one run may send: transfer ids carry the index in their last 48 bits.
pub const TRANSFERS_MAX: u64 = 1 << 48;
/// Most transfers in flight at once, in either loop: an open loop against a stalled switch stops
/// adding more beyond this (and counts them as `not_sent`) instead of growing without bound.
pub const IN_FLIGHT_MAX: usize = 200_000;
/// The DFSPs the `many-dfsps` scenario simulates.
pub const MANY_DFSPS: u32 = 100;
/// The longest run accepted (`--duration`), a bound on every loop of the generator.
pub const DURATION_MAX: Duration = Duration::from_secs(24 * 3600);

pub const HELP: &str = "\
loadgen: load generator and benchmark for the Mojaloop switch

Simulates many DFSPs over the FSPIOP API: provisions them through the central-ledger admin API,
serves their callback endpoints, sends POST /transfers as payers, answers as payees with the
matching fulfilment, and measures each transfer from its POST to the payer's COMMITTED callback.
Writes <out>/result.json and <out>/result.svg.

USAGE:
    loadgen [OPTIONS]
    loadgen handler         run the custom handler itself (what the local emulator starts; the
                            same code as `local-emulator handler`)
    loadgen --help

Build first (release, for measurements):
    cargo build --release -p local-emulator -p loadgen

SCENARIO:
    --scenario NAME         max         closed loop, --concurrency transfers in flight, as fast as
                                        the switch allows, among --dfsps DFSPs [default]
                            rate        open loop at --rate transfers per second
                            hotspot     one payer, --dfsps - 1 payees: the payer's position
                                        account serialises every transfer
                            many-dfsps  like max, among 100 DFSPs
    --rate N                transfers per second (open loop); with any scenario it replaces the
                            closed loop [default for `rate`: 1000]
    --concurrency N         transfers in flight in the closed loop [default: 256]
    --duration D            how long to send, e.g. 60s, 2m, 500ms [default: 30s]
    --transfers N           stop after sending N transfers (whichever of this and --duration
                            comes first)
    --warmup D              transfers sent in this first part are not measured [default: 0s]
    --drain D               after sending stops, how long to wait for outstanding transfers;
                            those still open then count as `unfinished` [default: 30s]
    --dfsps N               simulated DFSPs [default: 10; many-dfsps: 100]
    --amount DEC            amount of each transfer [default: 1]
    --currency CUR          [default: USD]
    --expiration D          how far in the future each transfer expires [default: 60s]
    --funds DEC             each DFSP's opening liquidity (funds-in) [default: 1000000000]
    --ndc DEC               each DFSP's net debit cap [default: 1000000000]
    --dfsp-prefix NAME      DFSP names are NAME000, NAME001, ... [default: lgfsp]

EXPIRY:
    --expiring-share F      send this share of the transfers (0 to 1, e.g. 0.05: every twentieth)
                            to one more DFSP, the silent payee (the last name), which takes every
                            prepare and never answers, so the switch must expire them; the report
                            gives the time from each one's expiration to its payer's 3303 callback
                            and to its payee's (section `expiry`) [default: 0, none]
    --expiring-expiration D how far in the future those transfers expire [default: 3s]

TARGET:
    --target local          start the local emulator in-process (Functions host, Event Hubs and
                            APIM stand-ins) with the handler as its child process [default]
    --target remote         a deployed switch: needs --fspiop-url and --admin-url
    --target URL            the same as --target remote --fspiop-url URL
    --store sqlite|mysql    local: the ledger store [default: sqlite]
    --mysql-url URL         local with --store mysql: the server, e.g. mysql://root@127.0.0.1:3306;
                            a fresh database is created for the run and dropped after it
                            [default: mysql://root@127.0.0.1:3306]
    --mysql-database-prefix P  the fresh database's name prefix [default: loadgen_]
    --keep-database         do not drop the fresh database
    --handler PATH          local: the handler executable [default: local-emulator next to this
                            binary, started with the argument `handler`]
    --handler-arg ARG       an argument for --handler (repeatable; none by default)
    --handler-log LEVEL     the handler's log level [default: warn]
    --partitions N          local: partitions per event hub [default: 1]
    --app-root DIR          local: where host.json and functions/bindings/ are [default: this
                            repository]
    --keep-data             local: keep the emulator's data directory (<out>/emulator)
    --fspiop-url URL        remote: the FSPIOP API's base URL
    --admin-url URL         remote: the central-ledger admin API's base URL
    --operator-key KEY      remote: sent as Ocp-Apim-Subscription-Key to the admin API
    --callback-bind ADDR    where the callback server listens [default: 127.0.0.1:0 locally,
                            0.0.0.0:4999 for a remote target]
    --callback-host HOST[:PORT]  the address the switch reaches the callback server at
                            [default: the bound address]
    --provision admin|direct  admin: through the admin API [default]; direct: a development
                            fallback while the admin API is missing: writes participants,
                            accounts, limits, endpoints and liquidity into the local ledger store

OUTPUT:
    --out DIR               where result.json and result.svg go
                            [default: target/loadgen/<UTC timestamp>]
    --quiet                 no progress line
    --log LEVEL             the generator's and emulator's log level [default: warn]
";

/// What a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    Max,
    Rate,
    Hotspot,
    ManyDfsps,
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Max => "max",
            Scenario::Rate => "rate",
            Scenario::Hotspot => "hotspot",
            Scenario::ManyDfsps => "many-dfsps",
        }
    }
}

/// How transfers are paced.
#[derive(Debug, Clone, PartialEq)]
pub enum Pacing {
    /// This many in flight; a new one as soon as one finishes.
    Closed { concurrency: u32 },
    /// This many per second, whatever the switch does.
    Open { rate: f64 },
}

/// The ledger store of a local switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Mysql { server_url: String, database_prefix: String, keep: bool },
}

/// Where the switch is.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Local(LocalTarget),
    Remote { fspiop_url: String, admin_url: String, operator_key: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalTarget {
    pub store: Store,
    /// `None`: `local-emulator` next to the running executable.
    pub handler: Option<PathBuf>,
    pub handler_arguments: Vec<String>,
    pub handler_log: String,
    pub partitions: u32,
    pub app_root: PathBuf,
    pub keep_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provision {
    Admin,
    Direct,
}

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub scenario: Scenario,
    pub pacing: Pacing,
    pub duration: Duration,
    pub transfers: Option<u64>,
    pub warmup: Duration,
    pub drain: Duration,
    pub dfsps: u32,
    pub amount: String,
    pub currency: String,
    pub expiration: Duration,
    /// `None` unless `--expiring-share` is above 0.
    pub expiring: Option<ExpiringOptions>,
    pub funds: String,
    pub ndc: String,
    pub dfsp_prefix: String,
    pub target: Target,
    pub callback_bind: Option<SocketAddr>,
    pub callback_host: Option<String>,
    pub provision: Provision,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub log: String,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Options>),
    Handler,
    Help,
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        Some("handler") => return Ok(Command::Handler),
        Some("--help" | "-h" | "help") => return Ok(Command::Help),
        _ => (),
    }
    let mut raw = Raw::default();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if matches!(flag.as_str(), "--help" | "-h") {
            return Ok(Command::Help);
        }
        if matches!(flag.as_str(), "--keep-database" | "--keep-data" | "--quiet") {
            raw.switches.push(flag.clone());
            continue;
        }
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        raw.values.push((flag.clone(), value.clone()));
    }
    raw.into_options().map(|it| Command::Run(Box::new(it)))
}

#[derive(Default)]
struct Raw {
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Raw {
    fn value(&self, flag: &str) -> Option<&str> {
        self.values.iter().rev().find(|(name, _)| name == flag).map(|(_, value)| value.as_str())
    }

    fn all(&self, flag: &str) -> Vec<String> {
        self.values.iter().filter(|(name, _)| name == flag).map(|(_, value)| value.clone()).collect()
    }

    fn switch(&self, flag: &str) -> bool {
        self.switches.iter().any(|it| it == flag)
    }

    fn text(&self, flag: &str, default: &str) -> String {
        self.value(flag).unwrap_or(default).to_string()
    }

    fn number<T: std::str::FromStr>(&self, flag: &str) -> Result<Option<T>, String> {
        match self.value(flag) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| format!("{flag}: `{text}` is not a valid number")),
        }
    }

    fn duration(&self, flag: &str, default: Duration) -> Result<Duration, String> {
        match self.value(flag) {
            None => Ok(default),
            Some(text) => {
                parse_duration(text).ok_or_else(|| format!("{flag}: `{text}` is not a duration like 30s, 2m, 500ms"))
            }
        }
    }

    fn into_options(self) -> Result<Options, String> {
        const KNOWN: [&str; 34] = [
            "--scenario",
            "--rate",
            "--concurrency",
            "--duration",
            "--transfers",
            "--warmup",
            "--drain",
            "--dfsps",
            "--amount",
            "--currency",
            "--expiration",
            "--expiring-share",
            "--expiring-expiration",
            "--funds",
            "--ndc",
            "--dfsp-prefix",
            "--target",
            "--store",
            "--mysql-url",
            "--mysql-database-prefix",
            "--handler",
            "--handler-arg",
            "--handler-log",
            "--partitions",
            "--app-root",
            "--fspiop-url",
            "--admin-url",
            "--operator-key",
            "--callback-bind",
            "--callback-host",
            "--provision",
            "--out",
            "--log",
            "--help",
        ];
        if let Some((flag, _)) = self.values.iter().find(|(flag, _)| !KNOWN.contains(&flag.as_str())) {
            return Err(format!("unknown option `{flag}`"));
        }
        let scenario = match self.text("--scenario", "max").as_str() {
            "max" => Scenario::Max,
            "rate" => Scenario::Rate,
            "hotspot" => Scenario::Hotspot,
            "many-dfsps" => Scenario::ManyDfsps,
            other => return Err(format!("--scenario: unknown scenario `{other}` (max, rate, hotspot, many-dfsps)")),
        };
        let pacing = self.pacing(&scenario)?;
        let dfsps = self.number("--dfsps")?.unwrap_or(if scenario == Scenario::ManyDfsps { MANY_DFSPS } else { 10 });
        if !(2..=DFSPS_MAX).contains(&dfsps) {
            return Err(format!("--dfsps: between 2 and {DFSPS_MAX}"));
        }
        let duration = self.duration("--duration", Duration::from_secs(30))?;
        if DURATION_MAX < duration {
            return Err(format!("--duration: at most {} s", DURATION_MAX.as_secs()));
        }
        let transfers: Option<u64> = self.number("--transfers")?;
        if transfers.is_some_and(|n| n == 0 || TRANSFERS_MAX < n) {
            return Err(format!("--transfers: between 1 and {TRANSFERS_MAX}"));
        }
        let provision = match self.text("--provision", "admin").as_str() {
            "admin" => Provision::Admin,
            "direct" => Provision::Direct,
            other => return Err(format!("--provision: `{other}` is neither admin nor direct")),
        };
        let target = self.target()?;
        if provision == Provision::Direct && matches!(target, Target::Remote { .. }) {
            return Err("--provision direct writes into the local ledger store: only with --target local".into());
        }
        let callback_bind = match self.value("--callback-bind") {
            None => None,
            Some(text) => Some(
                text.parse().map_err(|_| format!("--callback-bind: `{text}` is not an address like 0.0.0.0:4999"))?,
            ),
        };
        Ok(Options {
            scenario,
            pacing,
            duration,
            transfers,
            warmup: self.duration("--warmup", Duration::ZERO)?,
            drain: self.duration("--drain", Duration::from_secs(30))?,
            dfsps,
            amount: self.text("--amount", "1"),
            currency: self.text("--currency", "USD"),
            expiration: self.duration("--expiration", Duration::from_secs(60))?,
            expiring: self.expiring()?,
            funds: self.text("--funds", "1000000000"),
            ndc: self.text("--ndc", "1000000000"),
            dfsp_prefix: self.text("--dfsp-prefix", "lgfsp"),
            target,
            callback_bind,
            callback_host: self.value("--callback-host").map(str::to_string),
            provision,
            out: self.value("--out").map(PathBuf::from),
            quiet: self.switch("--quiet"),
            log: self.text("--log", "warn"),
        })
    }

    fn expiring(&self) -> Result<Option<ExpiringOptions>, String> {
        let share: f64 = self.number("--expiring-share")?.unwrap_or(0.0);
        if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
            return Err("--expiring-share: a share from 0 to 1".into());
        }
        let expiration = self.duration("--expiring-expiration", Duration::from_secs(3))?;
        if expiration.is_zero() {
            return Err("--expiring-expiration: a positive duration".into());
        }
        Ok((0.0 < share).then_some(ExpiringOptions { share, expiration }))
    }

    fn pacing(&self, scenario: &Scenario) -> Result<Pacing, String> {
        let rate: Option<f64> = self.number("--rate")?;
        let rate = match (rate, scenario) {
            (None, Scenario::Rate) => Some(1000.0),
            (rate, _) => rate,
        };
        if let Some(rate) = rate {
            if !(rate.is_finite() && 0.0 < rate) {
                return Err("--rate: a positive number of transfers per second".into());
            }
            return Ok(Pacing::Open { rate });
        }
        let concurrency: u32 = self.number("--concurrency")?.unwrap_or(256);
        if concurrency == 0 || IN_FLIGHT_MAX < concurrency as usize {
            return Err(format!("--concurrency: between 1 and {IN_FLIGHT_MAX}"));
        }
        Ok(Pacing::Closed { concurrency })
    }

    fn target(&self) -> Result<Target, String> {
        let target = self.text("--target", "local");
        let fspiop_url = match target.as_str() {
            "local" => return self.local_target().map(Target::Local),
            "remote" => self.value("--fspiop-url").ok_or("--target remote needs --fspiop-url")?.to_string(),
            url if url.starts_with("http://") || url.starts_with("https://") => url.to_string(),
            other => return Err(format!("--target: `{other}` is not local, remote or an http(s) URL")),
        };
        let admin_url =
            self.value("--admin-url").ok_or("a remote target needs --admin-url (provisioning)")?.to_string();
        Ok(Target::Remote { fspiop_url, admin_url, operator_key: self.value("--operator-key").map(str::to_string) })
    }

    fn local_target(&self) -> Result<LocalTarget, String> {
        let store = match self.text("--store", "sqlite").as_str() {
            "sqlite" => Store::Sqlite,
            "mysql" | "mariadb" => Store::Mysql {
                server_url: self.text("--mysql-url", "mysql://root@127.0.0.1:3306"),
                database_prefix: self.text("--mysql-database-prefix", "loadgen_"),
                keep: self.switch("--keep-database"),
            },
            other => return Err(format!("--store: `{other}` is neither sqlite nor mysql")),
        };
        let partitions = self.number("--partitions")?.unwrap_or(local_emulator::emulator::PARTITIONS_DEFAULT);
        Ok(LocalTarget {
            store,
            handler: self.value("--handler").map(PathBuf::from),
            handler_arguments: self.all("--handler-arg"),
            handler_log: self.text("--handler-log", "warn"),
            partitions,
            app_root: self.value("--app-root").map(PathBuf::from).unwrap_or_else(default_app_root),
            keep_data: self.switch("--keep-data"),
        })
    }
}

/// `30s`, `2m`, `500ms`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|it: char| !(it.is_ascii_digit() || it == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && 0.0 <= seconds).then(|| Duration::from_secs_f64(seconds))
}

/// This repository's root when run from a checkout (where host.json is), else the working
/// directory.
fn default_app_root() -> PathBuf {
    let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if repository.join("host.json").is_file() {
        return repository.canonicalize().unwrap_or(repository);
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &str) -> Options {
        let args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
        match parse(&args).unwrap() {
            Command::Run(options) => *options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scenarios_set_their_presets() {
        assert_eq!(run("").pacing, Pacing::Closed { concurrency: 256 });
        assert_eq!(run("--scenario rate").pacing, Pacing::Open { rate: 1000.0 });
        assert_eq!(run("--scenario rate --rate 50").pacing, Pacing::Open { rate: 50.0 });
        assert_eq!(run("--scenario many-dfsps").dfsps, MANY_DFSPS);
        assert_eq!(run("--scenario hotspot --dfsps 5").dfsps, 5);
        assert_eq!(run("").expiring, None);
        let expiring = ExpiringOptions { share: 0.05, expiration: Duration::from_secs(3) };
        assert_eq!(run("--scenario rate --expiring-share 0.05").expiring, Some(expiring));
        let later = ExpiringOptions { share: 1.0, expiration: Duration::from_millis(2500) };
        assert_eq!(run("--expiring-share 1 --expiring-expiration 2500ms").expiring, Some(later));
        for bad in ["--expiring-share 1.5", "--expiring-share -0.1", "--expiring-share 0.1 --expiring-expiration 0s"] {
            let args: Vec<String> = bad.split_whitespace().map(str::to_string).collect();
            assert!(parse(&args).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_and_targets_parse() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("7x"), None);
        let remote = run("--target http://switch:3000 --admin-url http://switch:3001");
        assert!(matches!(remote.target, Target::Remote { ref fspiop_url, .. } if fspiop_url == "http://switch:3000"));
        let args: Vec<String> = ["--bogus", "1"].iter().map(|it| it.to_string()).collect();
        assert!(parse(&args).is_err());
        let args: Vec<String> = ["--target", "remote"].iter().map(|it| it.to_string()).collect();
        assert!(parse(&args).is_err());
    }
}
