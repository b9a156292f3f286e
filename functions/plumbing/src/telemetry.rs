//! Telemetry: one readable line per log event on stdout (what the Functions host collects and the
//! local emulator prints), and, when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, the
//! invocation spans and the metrics exported to Application Insights (azure.md §2.5, §6.2).
//!
//! - [`init`] installs the `tracing` subscriber (filter from `RUST_LOG`, default `info`) and, with
//!   a usable connection string, the OpenTelemetry tracer and meter providers. A connection string
//!   that does not parse is logged and export stays off; it never stops the handler. The returned
//!   [`TelemetryGuard`] flushes and shuts the exporters down when dropped.
//! - [`invocation_span`] opens the span of one invocation (`function.prepare`, …,
//!   `fspiop.request`); [`finish_invocation`] fills its fields, and calls [`record_invocation`],
//!   the one place that writes the per-invocation log line and the metrics.
//!
//! Spans are CONSUMER (Event Hubs and timer invocations) or SERVER (FSPIOP requests), so the
//! exporter writes them to the `requests` table; `service.name` becomes `cloud_RoleName`.
//! Metrics go to `customMetrics` (histograms as sum/count/min/max: use span durations for
//! percentiles).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Counter, Gauge, Histogram, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_application_insights::Exporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::field::Empty;
use tracing::Span;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// `service.name`, which Application Insights shows as `cloud_RoleName`.
pub const SERVICE_NAME: &str = "mojaloop-switch-handler";
/// The app setting that turns export on (the name the Functions host and Azure use).
pub const CONNECTION_STRING_VAR: &str = "APPLICATIONINSIGHTS_CONNECTION_STRING";
const INSTRUMENTATION_SCOPE: &str = "handler";
const FILTER_DEFAULT: &str = "info";
/// How often metrics are pushed; Application Insights aggregates per minute anyway.
const METRICS_EXPORT_INTERVAL: Duration = Duration::from_secs(60);

/// How an invocation ended, as the `outcome` span field and metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 200: committed, published, dead letters kept.
    Ok,
    /// Answered 500 so the host delivers the batch again.
    Retry,
    /// The invocation itself could not be read; answered 200 so the host moves past it.
    Undecodable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Retry => "retry",
            Outcome::Undecodable => "undecodable",
        }
    }
}

/// Why a connection string cannot be used (the checks `opentelemetry-application-insights` makes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionStringError {
    #[error("not a list of key=value pairs separated by ';'")]
    InvalidFormat,
    #[error("no InstrumentationKey")]
    MissingInstrumentationKey,
    #[error("Authorization={0} is not supported; only ikey (local auth must stay enabled on the component)")]
    UnsupportedAuthorization(String),
}

/// A connection string that the exporter will accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInsightsTarget {
    /// The string as handed to the exporter: trimmed, without empty `;`-separated fields.
    pub connection_string: String,
    pub instrumentation_key: String,
}

/// Checks a connection string the way the exporter parses it (it rejects an empty field, a field
/// without exactly one `=`, a missing `InstrumentationKey`, and any `Authorization` but `ikey`),
/// after dropping empty fields such as a trailing `;`, which the exporter alone would refuse.
pub fn parse_connection_string(value: &str) -> Result<AppInsightsTarget, ConnectionStringError> {
    let fields: Vec<&str> = value.split(';').map(str::trim).filter(|it| !it.is_empty()).collect();
    let mut instrumentation_key = None;
    for field in &fields {
        let mut parts = field.split('=');
        let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ConnectionStringError::InvalidFormat);
        };
        if key.eq_ignore_ascii_case("instrumentationkey") {
            instrumentation_key = Some(value.to_string());
        } else if key.eq_ignore_ascii_case("authorization") && !value.eq_ignore_ascii_case("ikey") {
            return Err(ConnectionStringError::UnsupportedAuthorization(value.to_string()));
        }
    }
    match instrumentation_key {
        Some(key) if !key.is_empty() => {
            Ok(AppInsightsTarget { connection_string: fields.join(";"), instrumentation_key: key })
        }
        _ => Err(ConnectionStringError::MissingInstrumentationKey),
    }
}

/// Whether to export, from the connection string setting (absent or blank: no export).
pub fn export_target(setting: Option<&str>) -> Result<Option<AppInsightsTarget>, ConnectionStringError> {
    match setting.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse_connection_string(value).map(Some),
    }
}

/// The metric instruments, set once export is on; before that, recording only logs.
struct Instruments {
    transfers_by_outcome: Counter<u64>,
    batch_size: Histogram<u64>,
    function_duration_ms: Histogram<f64>,
    stranded_transfers: Counter<u64>,
    ndc_used_percent: Gauge<u64>,
}

static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
/// Stranded transfers this process found, whether or not export is on.
static STRANDED_TRANSFERS: AtomicU64 = AtomicU64::new(0);

/// The exporting half of the telemetry, present only with a usable connection string.
struct Exporters {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
}

/// Keeps the exporters alive; dropping it flushes what is buffered and shuts them down.
#[must_use = "dropping the guard shuts telemetry export down"]
pub struct TelemetryGuard {
    exporters: Option<Exporters>,
}

impl TelemetryGuard {
    /// Whether spans and metrics go to Application Insights.
    pub fn exporting(&self) -> bool {
        self.exporters.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(Exporters { tracer_provider, meter_provider }) = self.exporters.take() else { return };
        // Off the async runtime (the exporters own a blocking HTTP client, which may neither block
        // nor be dropped on a runtime thread), and side by side, so a stop waits at most one
        // SDK shutdown timeout (5 s) even when Application Insights cannot be reached.
        let spans = std::thread::spawn(move || tracer_provider.shutdown().map_err(|err| err.to_string()));
        let metrics = std::thread::spawn(move || meter_provider.shutdown().map_err(|err| err.to_string()));
        for (what, shutdown) in [("spans", spans), ("metrics", metrics)] {
            match shutdown.join() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => eprintln!("telemetry: flushing {what} failed: {err}"),
                Err(_) => eprintln!("telemetry: flushing {what} panicked"),
            }
        }
    }
}

/// Installs logging from the environment, and export when `APPLICATIONINSIGHTS_CONNECTION_STRING`
/// is set and usable. Call once, first thing in `main`, and keep the guard until exit.
pub fn init() -> TelemetryGuard {
    init_with(std::env::var(CONNECTION_STRING_VAR).ok().as_deref())
}

/// [`init`] with the connection string given. A second call (tests) keeps the first subscriber.
pub fn init_with(connection_string: Option<&str>) -> TelemetryGuard {
    let (exporters, problem) = match export_target(connection_string) {
        Ok(None) => (None, None),
        Ok(Some(target)) => match exporters(&target) {
            Ok(exporters) => (Some(exporters), None),
            Err(err) => (None, Some(err)),
        },
        Err(err) => (None, Some(err.to_string())),
    };
    let otel_layer = exporters
        .as_ref()
        .map(|it| tracing_opentelemetry::layer().with_tracer(it.tracer_provider.tracer(INSTRUMENTATION_SCOPE)));
    let fmt_layer = tracing_subscriber::fmt::layer().with_target(false).with_ansi(std::io::stdout().is_terminal());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(FILTER_DEFAULT));
    let installed = tracing_subscriber::registry().with(filter).with(fmt_layer).with(otel_layer).try_init().is_ok();
    if let Some(exporters) = &exporters {
        let meter = exporters.meter_provider.meter(INSTRUMENTATION_SCOPE);
        let _ = INSTRUMENTS.set(Instruments {
            transfers_by_outcome: meter
                .u64_counter("transfers_by_outcome")
                .with_description("Events handled, by function and outcome")
                .build(),
            batch_size: meter.u64_histogram("batch_size").with_description("Events per invocation").build(),
            function_duration_ms: meter
                .f64_histogram("function_duration_ms")
                .with_unit("ms")
                .with_description("Invocation duration")
                .build(),
            stranded_transfers: meter
                .u64_counter("stranded_transfers")
                .with_description("Transfers found not final well after their expiry and re-driven, by state")
                .build(),
            ndc_used_percent: meter
                .u64_gauge("ndc_used_percent")
                .with_unit("%")
                .with_description("A participant's position and reservations over its net debit cap, by currency")
                .build(),
        });
    }
    match (&problem, exporters.is_some()) {
        (Some(problem), _) => {
            tracing::error!("{CONNECTION_STRING_VAR} is unusable ({problem}); telemetry export disabled")
        }
        (None, true) => tracing::info!("exporting spans and metrics to Application Insights as {SERVICE_NAME}"),
        (None, false) => tracing::info!("{CONNECTION_STRING_VAR} not set; logging only"),
    }
    if !installed {
        tracing::debug!("a tracing subscriber was already installed; kept it");
    }
    TelemetryGuard { exporters }
}

/// Builds the tracer and meter providers around one Application Insights exporter.
fn exporters(target: &AppInsightsTarget) -> Result<Exporters, String> {
    let connection_string = target.connection_string.clone();
    // The SDK's batch span processor and periodic reader export from their own threads, so the
    // exporter needs a blocking client, which must be created (and, on failure, dropped) off the
    // async runtime (azure.md §2.5).
    let exporter = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder().build().map_err(|err| format!("HTTP client: {err}"))?;
        Exporter::new_from_connection_string(connection_string, client).map_err(|err| err.to_string())
    })
    .join()
    .map_err(|_| "creating the exporter panicked".to_string())??;
    let resource = Resource::builder_empty().with_service_name(SERVICE_NAME).build();
    let tracer_provider =
        SdkTracerProvider::builder().with_resource(resource.clone()).with_batch_exporter(exporter.clone()).build();
    let reader = PeriodicReader::builder(exporter).with_interval(METRICS_EXPORT_INTERVAL).build();
    let meter_provider = SdkMeterProvider::builder().with_resource(resource).with_reader(reader).build();
    Ok(Exporters { tracer_provider, meter_provider })
}

/// Opens the span of one invocation: `operation` is its name in Application Insights
/// (`function.prepare`, `fspiop.request`), `function` the route. `consumer` spans are trigger
/// invocations, the others FSPIOP requests (server); both become `requests` rows.
pub fn invocation_span(operation: &'static str, function: &'static str, consumer: bool) -> Span {
    tracing::info_span!(
        "invocation",
        otel.name = operation,
        otel.kind = if consumer { "consumer" } else { "server" },
        otel.status_code = Empty,
        function,
        batch_size = Empty,
        n_emitted = Empty,
        n_dead_letters = Empty,
        outcome = Empty,
        duration_ms = Empty,
    )
}

/// What an invocation did, for its span, its log line and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub batch_size: usize,
    pub n_emitted: usize,
    pub n_dead_letters: usize,
    pub outcome: Outcome,
}

impl Tally {
    pub fn ok(batch_size: usize, n_emitted: usize, n_dead_letters: usize) -> Tally {
        Tally { batch_size, n_emitted, n_dead_letters, outcome: Outcome::Ok }
    }

    pub fn retry(batch_size: usize) -> Tally {
        Tally { batch_size, n_emitted: 0, n_dead_letters: 0, outcome: Outcome::Retry }
    }

    pub fn undecodable() -> Tally {
        Tally { batch_size: 0, n_emitted: 0, n_dead_letters: 0, outcome: Outcome::Undecodable }
    }
}

/// Fills the invocation's span fields and records it ([`record_invocation`]).
pub fn finish_invocation(span: &Span, function: &'static str, started: Instant, tally: Tally) {
    let duration = started.elapsed();
    span.record("batch_size", tally.batch_size);
    span.record("n_emitted", tally.n_emitted);
    span.record("n_dead_letters", tally.n_dead_letters);
    span.record("outcome", tally.outcome.as_str());
    span.record("duration_ms", duration.as_secs_f64() * 1000.0);
    // Marks the request failed in Application Insights (`success == false`).
    if tally.outcome != Outcome::Ok {
        span.record("otel.status_code", "error");
    }
    record_invocation(function, tally.batch_size, duration, tally.outcome);
}

/// The one per-invocation record: a readable log line, and the metrics when export is on.
/// Works before and without [`init`] (the line goes nowhere without a subscriber).
///
/// `transfers_by_outcome` counts events; an undecodable invocation, whose size is unknown,
/// counts as one.
pub fn record_invocation(function: &'static str, batch_size: usize, duration: Duration, outcome: Outcome) {
    let duration_ms = duration.as_secs_f64() * 1000.0;
    tracing::info!("{function}: {batch_size} events, {}, {duration_ms:.1} ms", outcome.as_str());
    if let Some(instruments) = INSTRUMENTS.get() {
        let by_function = [KeyValue::new("function", function)];
        let by_outcome = [KeyValue::new("function", function), KeyValue::new("outcome", outcome.as_str())];
        let counted = if outcome == Outcome::Undecodable { batch_size.max(1) } else { batch_size };
        instruments.transfers_by_outcome.add(counted as u64, &by_outcome);
        instruments.batch_size.record(batch_size as u64, &by_function);
        instruments.function_duration_ms.record(duration_ms, &by_function);
    }
}

/// Counts a transfer the timeout function found stranded (not final well after its expiry), with
/// one log line naming it and the event it was re-driven with (none: nothing in the switch can
/// finish it, an operator must).
pub fn record_stranded(transfer_id: &str, state: &'static str, redriven_with: Option<&'static str>) {
    STRANDED_TRANSFERS.fetch_add(1, Ordering::Relaxed);
    match redriven_with {
        Some(event) => tracing::warn!(transfer_id, state, event, "stranded transfer re-driven"),
        None => tracing::error!(transfer_id, state, "stranded transfer: no step of the switch finishes it"),
    }
    if let Some(instruments) = INSTRUMENTS.get() {
        instruments.stranded_transfers.add(1, &[KeyValue::new("state", state)]);
    }
}

/// From this share of its net debit cap on, a participant's position is logged as a warning
/// (the operators' alert fires on the metric at the same share: `bicep/modules/alerts.bicep`).
pub const NDC_USED_WARNING_PERCENT: u64 = 90;

/// Records how much of its net debit cap a participant uses in a currency after a position
/// change, and logs it as a warning from [`NDC_USED_WARNING_PERCENT`] on.
pub fn record_ndc_used(participant: &str, currency: &str, percent: u64) {
    if NDC_USED_WARNING_PERCENT <= percent {
        tracing::warn!(participant, currency, percent, "position near or over the net debit cap");
    }
    if let Some(instruments) = INSTRUMENTS.get() {
        let labels =
            [KeyValue::new("participant", participant.to_string()), KeyValue::new("currency", currency.to_string())];
        instruments.ndc_used_percent.record(percent, &labels);
    }
}

/// How many stranded transfers this process has counted.
pub fn stranded_transfers() -> u64 {
    STRANDED_TRANSFERS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_works_without_init_or_exporter() {
        record_invocation("prepare", 3, Duration::from_millis(4), Outcome::Ok);
        record_invocation("prepare", 0, Duration::ZERO, Outcome::Undecodable);
        let span = invocation_span("function.position", "position", true);
        finish_invocation(&span, "position", Instant::now(), Tally::retry(2));
    }

    #[test]
    fn a_portal_connection_string_parses() {
        let value = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=11111111-1111-1111-1111-111111111111;";
        let target = parse_connection_string(value).unwrap();
        assert_eq!(target.instrumentation_key, "00000000-0000-0000-0000-000000000000");
        assert!(!target.connection_string.ends_with(';'));
        assert!(parse_connection_string("Authorization=ikey;InstrumentationKey=k").is_ok());
    }

    #[test]
    fn malformed_connection_strings_are_refused() {
        use ConnectionStringError::*;
        assert_eq!(parse_connection_string("not a connection string"), Err(InvalidFormat));
        assert_eq!(parse_connection_string("InstrumentationKey=a=b"), Err(InvalidFormat));
        assert_eq!(parse_connection_string("IngestionEndpoint=https://x"), Err(MissingInstrumentationKey));
        assert_eq!(parse_connection_string("InstrumentationKey="), Err(MissingInstrumentationKey));
        assert_eq!(
            parse_connection_string("Authorization=AAD;InstrumentationKey=k"),
            Err(UnsupportedAuthorization("AAD".into()))
        );
    }

    #[test]
    fn no_setting_means_no_export() {
        assert_eq!(export_target(None), Ok(None));
        assert_eq!(export_target(Some("  ")), Ok(None));
        assert!(export_target(Some("garbage")).is_err());
    }

    /// What the parser accepts, the exporter accepts too (no network: construction only).
    #[test]
    fn the_exporter_accepts_what_the_parser_accepts() {
        let target = parse_connection_string("InstrumentationKey=k;IngestionEndpoint=https://127.0.0.1:9/;").unwrap();
        assert!(exporters_accept(&target.connection_string));
        assert!(!exporters_accept("garbage"));
    }

    fn exporters_accept(connection_string: &str) -> bool {
        let client = reqwest::blocking::Client::builder().build().unwrap();
        Exporter::new_from_connection_string(connection_string, client).is_ok()
    }
}
