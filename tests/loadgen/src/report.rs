//! The results: a summary from the recorder, written as `result.json`, printed as text, and
//! drawn as `result.svg` (latency over time, throughput per second and the latency histogram).
//! The SVG is written by hand: three panels of lines and bars need no plotting crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::tracker::Recorder;

/// Histogram bars per decade of latency in the plot and the JSON.
const BARS_PER_DECADE: u32 = 10;
/// The plot's size in pixels, and its panels' margins.
const WIDTH: f64 = 960.0;
const PANEL_HEIGHT: f64 = 240.0;
const MARGIN_LEFT: f64 = 70.0;
const MARGIN_RIGHT: f64 = 20.0;
const TITLE_HEIGHT: f64 = 56.0;
const PANEL_GAP: f64 = 56.0;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(histogram: &Histogram<u64>) -> Percentiles {
        if histogram.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(histogram.value_at_quantile(0.5)),
            p90: ms(histogram.value_at_quantile(0.9)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p99_9: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1000.0,
        }
    }

    fn to_json(self) -> Value {
        json!({ "p50": round(self.p50), "p90": round(self.p90), "p99": round(self.p99), "p99_9": round(self.p99_9), "max": round(self.max), "mean": round(self.mean) })
    }
}

/// One second of the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondPoint {
    pub second: u64,
    pub committed: u64,
    pub failed: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// What the run's description adds to the figures.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// Everything about the run that is not a measurement (scenario, target, machine, counts).
    pub header: Value,
    /// How long measured transfers were being completed, in seconds (the throughput's window).
    pub window_s: f64,
}

/// The summary of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub facts: Value,
    pub committed: u64,
    pub failed: u64,
    pub throughput_tps: f64,
    pub latency: Percentiles,
    pub errors_by_code: BTreeMap<String, u64>,
    pub payee_answer_errors: BTreeMap<String, u64>,
    pub timeline: Vec<SecondPoint>,
    /// `(upper bound ms, count)` of the committed transfers' latencies.
    pub histogram: Vec<(f64, u64)>,
}

impl Summary {
    pub fn new(recorder: &Recorder, facts: RunFacts) -> Summary {
        let timeline = recorder
            .timeline
            .iter()
            .enumerate()
            .map(|(second, it)| {
                let latency = Percentiles::of(&it.latency);
                SecondPoint {
                    second: second as u64,
                    committed: it.committed,
                    failed: it.failed,
                    p50: latency.p50,
                    p99: latency.p99,
                    max: latency.max,
                }
            })
            .collect();
        let throughput_tps =
            if 0.0 < facts.window_s { recorder.committed_measured as f64 / facts.window_s } else { 0.0 };
        Summary {
            facts: facts.header,
            committed: recorder.committed_measured,
            failed: recorder.failed_measured,
            throughput_tps,
            latency: Percentiles::of(&recorder.latency),
            errors_by_code: recorder.errors_by_code.clone(),
            payee_answer_errors: recorder.payee_answer_errors.clone(),
            timeline,
            histogram: log_buckets(&recorder.latency),
        }
    }

    pub fn to_json(&self) -> Value {
        let timeline: Vec<Value> = self
            .timeline
            .iter()
            .map(|it| json!({ "second": it.second, "committed": it.committed, "failed": it.failed, "p50_ms": round(it.p50), "p99_ms": round(it.p99), "max_ms": round(it.max) }))
            .collect();
        let histogram: Vec<Value> =
            self.histogram.iter().map(|(bound, count)| json!({ "le_ms": round(*bound), "count": count })).collect();
        let mut result = self.facts.clone();
        let fields = [
            ("throughput_tps", json!(round(self.throughput_tps))),
            ("committed", json!(self.committed)),
            ("failed", json!(self.failed)),
            ("latency_ms", self.latency.to_json()),
            ("errors_by_code", json!(self.errors_by_code)),
            ("payee_answer_errors", json!(self.payee_answer_errors)),
            ("timeline", json!(timeline)),
            ("latency_histogram", json!(histogram)),
        ];
        if let Value::Object(map) = &mut result {
            for (name, value) in fields {
                map.insert(name.to_string(), value);
            }
        }
        result
    }

    /// The few lines printed at the end of a run.
    pub fn text(&self) -> String {
        let latency = self.latency;
        let mut text = format!(
            "throughput {:.0} transfers/s ({} committed, {} failed)\nlatency ms  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  mean {:.2}\n",
            self.throughput_tps, self.committed, self.failed, latency.p50, latency.p90, latency.p99, latency.p99_9, latency.max, latency.mean
        );
        if !self.errors_by_code.is_empty() {
            let errors: Vec<String> = self.errors_by_code.iter().map(|(code, n)| format!("{code}: {n}")).collect();
            let _ = writeln!(text, "errors by code  {}", errors.join(", "));
        }
        if !self.payee_answer_errors.is_empty() {
            let errors: Vec<String> = self.payee_answer_errors.iter().map(|(code, n)| format!("{code}: {n}")).collect();
            let _ = writeln!(text, "payee answers refused  {}", errors.join(", "));
        }
        text
    }

    /// The plot: latency over time (p50, p99, max per second, log scale), committed transfers per
    /// second, and the histogram of latencies (log scale).
    pub fn svg(&self, title: &str) -> String {
        let height = TITLE_HEIGHT + 3.0 * PANEL_HEIGHT + 3.0 * PANEL_GAP + PANEL_GAP / 2.0;
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{MARGIN_LEFT}" y="22" font-size="16" font-weight="bold">{}</text>
<text x="{MARGIN_LEFT}" y="42">{}</text>
"#,
            escape(title),
            escape(&format!(
                "{:.0} transfers/s; latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; {} committed, {} failed",
                self.throughput_tps, self.latency.p50, self.latency.p99, self.latency.p99_9, self.latency.max, self.committed, self.failed
            ))
        );
        let top = TITLE_HEIGHT + PANEL_GAP / 2.0;
        self.svg_latency_over_time(&mut svg, top);
        self.svg_throughput(&mut svg, top + PANEL_HEIGHT + PANEL_GAP);
        self.svg_histogram(&mut svg, top + 2.0 * (PANEL_HEIGHT + PANEL_GAP));
        svg.push_str("</svg>\n");
        svg
    }

    fn svg_latency_over_time(&self, svg: &mut String, top: f64) {
        let points: Vec<&SecondPoint> = self.timeline.iter().filter(|it| 0 < it.committed).collect();
        let seconds = self.timeline.len().max(1) as f64;
        let (low, high) = decades(points.iter().map(|it| it.p50).chain(points.iter().map(|it| it.max)));
        let panel = Panel { top, x_min: 0.0, x_max: seconds, y_min: low.log10(), y_max: high.log10() };
        panel.frame(svg, "latency per second (ms, log scale): p50, p99, max", "seconds since start");
        panel.y_ticks_log(svg, low, high);
        panel.x_ticks(svg);
        for (name, color, pick) in [("max", "#999999", 2), ("p99", "#d95f02", 1), ("p50", "#1b9e77", 0)] {
            let path: Vec<String> = points
                .iter()
                .map(|it| {
                    let value = [it.p50, it.p99, it.max][pick].max(low);
                    format!("{:.1},{:.1}", panel.x(it.second as f64 + 0.5), panel.y(value.log10()))
                })
                .collect();
            if !path.is_empty() {
                let _ = writeln!(
                    svg,
                    r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"><title>{name}</title></polyline>"#,
                    path.join(" ")
                );
            }
        }
        panel.legend(svg, &[("p50", "#1b9e77"), ("p99", "#d95f02"), ("max", "#999999")]);
    }

    fn svg_throughput(&self, svg: &mut String, top: f64) {
        let seconds = self.timeline.len().max(1) as f64;
        let peak = self.timeline.iter().map(|it| it.committed + it.failed).max().unwrap_or(0).max(1) as f64;
        let panel = Panel { top, x_min: 0.0, x_max: seconds, y_min: 0.0, y_max: peak * 1.1 };
        panel.frame(svg, "transfers ended per second: committed, failed", "seconds since start");
        panel.y_ticks_linear(svg);
        panel.x_ticks(svg);
        let width = (panel.x(1.0) - panel.x(0.0)).max(1.0);
        for it in &self.timeline {
            let x = panel.x(it.second as f64);
            let committed_top = panel.y(it.committed as f64);
            let failed_top = panel.y((it.committed + it.failed) as f64);
            let _ = writeln!(
                svg,
                r##"<rect x="{x:.1}" y="{committed_top:.1}" width="{width:.1}" height="{:.1}" fill="#7570b3"/>"##,
                panel.y(0.0) - committed_top
            );
            if 0 < it.failed {
                let _ = writeln!(
                    svg,
                    r##"<rect x="{x:.1}" y="{failed_top:.1}" width="{width:.1}" height="{:.1}" fill="#e7298a"/>"##,
                    committed_top - failed_top
                );
            }
        }
        panel.legend(svg, &[("committed", "#7570b3"), ("failed", "#e7298a")]);
    }

    fn svg_histogram(&self, svg: &mut String, top: f64) {
        let bars: Vec<&(f64, u64)> = self.histogram.iter().filter(|(_, count)| 0 < *count).collect();
        let (low, high) = decades(bars.iter().map(|(bound, _)| *bound));
        let peak = bars.iter().map(|(_, count)| *count).max().unwrap_or(1) as f64;
        let panel = Panel { top, x_min: low.log10(), x_max: high.log10(), y_min: 0.0, y_max: peak * 1.1 };
        panel.frame(svg, "latency histogram: committed transfers per latency bucket", "latency (ms, log scale)");
        panel.y_ticks_linear(svg);
        panel.x_ticks_log(svg, low, high);
        let step = 1.0 / f64::from(BARS_PER_DECADE);
        for (bound, count) in bars {
            let right = panel.x(bound.log10());
            let left = panel.x(bound.log10() - step);
            let y = panel.y(*count as f64);
            let _ = writeln!(
                svg,
                r##"<rect x="{left:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="#66a61e"><title>&lt;= {bound:.3} ms: {count}</title></rect>"##,
                (right - left - 1.0).max(0.5),
                panel.y(0.0) - y
            );
        }
    }
}

/// One panel's coordinate system.
struct Panel {
    top: f64,
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Panel {
    fn x(&self, value: f64) -> f64 {
        let span = (self.x_max - self.x_min).max(f64::EPSILON);
        MARGIN_LEFT + (value - self.x_min) / span * (WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        let span = (self.y_max - self.y_min).max(f64::EPSILON);
        self.top + PANEL_HEIGHT - (value - self.y_min) / span * PANEL_HEIGHT
    }

    fn frame(&self, svg: &mut String, title: &str, x_label: &str) {
        let right = WIDTH - MARGIN_RIGHT;
        let _ = writeln!(
            svg,
            r#"<text x="{MARGIN_LEFT}" y="{:.1}" font-weight="bold">{}</text>"#,
            self.top - 8.0,
            escape(title)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{MARGIN_LEFT}" y="{:.1}" width="{:.1}" height="{PANEL_HEIGHT}" fill="none" stroke="#333333"/>"##,
            self.top,
            right - MARGIN_LEFT
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (MARGIN_LEFT + right) / 2.0,
            self.top + PANEL_HEIGHT + 32.0,
            escape(x_label)
        );
    }

    fn y_ticks_linear(&self, svg: &mut String) {
        for step in 0..=4 {
            let value = self.y_min + (self.y_max - self.y_min) * f64::from(step) / 4.0;
            self.y_tick(svg, self.y(value), &format!("{value:.0}"));
        }
    }

    fn y_ticks_log(&self, svg: &mut String, low: f64, high: f64) {
        for value in powers_of_ten(low, high) {
            self.y_tick(svg, self.y(value.log10()), &number(value));
        }
    }

    fn y_tick(&self, svg: &mut String, y: f64, label: &str) {
        let _ = writeln!(
            svg,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dddddd"/>"##,
            MARGIN_LEFT,
            WIDTH - MARGIN_RIGHT
        );
        let _ =
            writeln!(svg, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#, MARGIN_LEFT - 6.0, y + 4.0);
    }

    fn x_ticks(&self, svg: &mut String) {
        let span = self.x_max - self.x_min;
        let step = nice_step(span / 8.0);
        let mut value = self.x_min;
        while value <= self.x_max + f64::EPSILON {
            self.x_tick(svg, self.x(value), &number(value));
            value += step;
        }
    }

    fn x_ticks_log(&self, svg: &mut String, low: f64, high: f64) {
        for value in powers_of_ten(low, high) {
            self.x_tick(svg, self.x(value.log10()), &number(value));
        }
    }

    fn x_tick(&self, svg: &mut String, x: f64, label: &str) {
        let bottom = self.top + PANEL_HEIGHT;
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333333"/>"##,
            bottom + 5.0
        );
        let _ = writeln!(svg, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#, bottom + 18.0);
    }

    fn legend(&self, svg: &mut String, entries: &[(&str, &str)]) {
        let mut x = WIDTH - MARGIN_RIGHT - 90.0 * entries.len() as f64;
        for (name, color) in entries {
            let _ =
                writeln!(svg, r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{color}"/>"#, self.top - 20.0);
            let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{name}</text>"#, x + 16.0, self.top - 10.0);
            x += 90.0;
        }
    }
}

/// `(upper bound ms, count)` for buckets [`BARS_PER_DECADE`] to a decade, over the histogram's
/// range.
fn log_buckets(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let low_us = histogram.min().max(1) as f64;
    let high_us = histogram.max().max(1) as f64;
    let first = (low_us.log10() * f64::from(BARS_PER_DECADE)).floor() as i64;
    let last = (high_us.log10() * f64::from(BARS_PER_DECADE)).ceil() as i64;
    let mut buckets = Vec::new();
    let mut below = histogram.count_between(0, (10f64.powf(first as f64 / f64::from(BARS_PER_DECADE))) as u64);
    for step in (first + 1)..=last.max(first + 1) {
        let bound_us = 10f64.powf(step as f64 / f64::from(BARS_PER_DECADE));
        let upto = histogram.count_between(0, bound_us as u64);
        buckets.push((bound_us / 1000.0, upto.saturating_sub(below)));
        below = upto;
    }
    buckets
}

/// The decades around `values` (positive milliseconds): `(10^floor, 10^ceil)`, at least one
/// decade apart.
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (f64::MAX, 0.0f64);
    for value in values.filter(|it| 0.0 < *it) {
        low = low.min(value);
        high = high.max(value);
    }
    if high <= 0.0 {
        return (1.0, 10.0);
    }
    let low = 10f64.powf(low.log10().floor());
    let high = 10f64.powf(high.log10().ceil()).max(low * 10.0);
    (low, high)
}

/// `low`, `10 low`, `100 low`, ... up to `high` (both powers of ten, from [`decades`]).
fn powers_of_ten(low: f64, high: f64) -> Vec<f64> {
    let n = (high / low).log10().round().max(0.0) as i32;
    (0..=n).map(|power| low * 10f64.powi(power)).collect()
}

fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    for factor in [1.0, 2.0, 5.0, 10.0] {
        if raw <= factor * magnitude {
            return factor * magnitude;
        }
    }
    10.0 * magnitude
}

fn number(value: f64) -> String {
    if value < 1.0 {
        return format!("{value}");
    }
    format!("{value:.0}")
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_add_up_to_the_histogram() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for us in [150, 900, 1_000, 4_200, 4_300, 120_000] {
            histogram.record(us).unwrap();
        }
        let buckets = log_buckets(&histogram);
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 6);
        assert!(buckets.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn decades_cover_the_values() {
        assert_eq!(decades([0.3, 42.0].into_iter()), (0.1, 100.0));
        assert_eq!(decades(std::iter::empty()), (1.0, 10.0));
        assert_eq!(decades([5.0].into_iter()), (1.0, 10.0));
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(powers_of_ten(0.1, 100.0).len(), 4);
    }
}
