//! `report --from axiom|datadog` against fake log stores on loopback that hold a large dataset
//! (200 000 events: the real-format samples among generated traffic) and evaluate the filter
//! each request carries: the pull must filter on the store's side, page, retry rate limits,
//! report partial answers, never print a secret, and conclude exactly as `report` does on an
//! export of the same events.

use ba_index_advisor::time::{format_unix_millis, parse_rfc3339_millis};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const FILLER: usize = 200_000;
const AXIOM_TOKEN: &str = "xaat-TEST-axiom-token-do-not-leak-42";
const DD_API: &str = "ddapi-TEST-key-do-not-leak-0042";
const DD_APP: &str = "ddapp-TEST-key-do-not-leak-0043";
const START: &str = "2026-01-15T00:00:00Z";
const END: &str = "2026-01-16T00:00:00Z";

/// Which shape the dataset's events have.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// `{_time, data: {…}, attributes, convex}` as the Axiom sink writes.
    Axiom,
    /// Flattened, as the Datadog sink sends.
    Datadog,
}

/// The real-format samples, and generated traffic (no warnings) built from the samples' first
/// console line and first execution record, ordered by time. Generated events are built on
/// demand so the fake holds 200 000 events without holding their JSON.
struct Dataset {
    shape: Shape,
    samples: Vec<Value>,
    templates: [Value; 2],
    /// Events of the runs (`Dataset::with_runs`), built once.
    runs: Vec<Value>,
    /// (time, sample index, FILLER + generated index or RUNS + run event index), sorted.
    order: Vec<(i64, usize)>,
}

/// Where the run events' indexes start in `Dataset::order`.
const RUNS: usize = 2 * FILLER;

impl Dataset {
    fn new(shape: Shape) -> Self {
        Self::with_runs(shape, FILLER, &[])
    }

    /// `filler` generated events, and for each (time, count) of `runs`, `count` console
    /// warnings at that one instant (a sample's warning, each of its own execution), and their
    /// `function_execution` records, all at one later instant.
    fn with_runs(shape: Shape, filler: usize, runs: &[(i64, usize)]) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
        let samples: Vec<Value> = match shape {
            Shape::Axiom => {
                serde_json::from_str(&std::fs::read_to_string(root.join("axiom.json")).unwrap())
                    .unwrap()
            }
            Shape::Datadog => std::fs::read_to_string(root.join("datadog.jsonl"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        };
        let templates = [samples[0].clone(), samples[1].clone()];
        let time = |e: &Value| match shape {
            Shape::Axiom => e["_time"].as_i64().unwrap(),
            Shape::Datadog => e["timestamp"].as_i64().unwrap(),
        };
        let first = samples.iter().map(time).min().unwrap();
        let mut order: Vec<(i64, usize)> = samples
            .iter()
            .enumerate()
            .map(|(i, e)| (time(e), i))
            .collect();
        for i in 0..filler.min(FILLER) {
            order.push((first - 1_800_000 + (i as i64) * 36, FILLER + i));
        }
        let mut run_events = Vec::new();
        for (r, &(at, count)) in runs.iter().enumerate() {
            for k in 0..count {
                let id = format!("8{r:03}{k:012}");
                for (template, time) in [(&samples[2], at), (&samples[3], at + 500)] {
                    let mut event = template.clone();
                    stamp(shape, &mut event, time, &id);
                    order.push((time, RUNS + run_events.len()));
                    run_events.push(event);
                }
            }
        }
        order.sort();
        Self {
            shape,
            samples,
            templates,
            runs: run_events,
            order,
        }
    }

    fn event(&self, (time, index): (i64, usize)) -> Value {
        if index < FILLER {
            return self.samples[index].clone();
        }
        if index >= RUNS {
            return self.runs[index - RUNS].clone();
        }
        let i = index - FILLER;
        let mut event = self.templates[i % 2].clone();
        stamp(self.shape, &mut event, time, &format!("9{:015}", i / 2));
        event
    }

    fn events(&self) -> impl Iterator<Item = Value> + '_ {
        self.order.iter().map(|&at| self.event(at))
    }

    /// The export: every event as one JSON line, as the sink delivered them.
    fn export(&self, dir: &Path) -> (std::path::PathBuf, u64) {
        let file = dir.join("export.jsonl");
        let mut text = String::new();
        for event in self.events() {
            text.push_str(&event.to_string());
            text.push('\n');
        }
        std::fs::write(&file, &text).unwrap();
        (file, text.len() as u64)
    }
}

/// Sets an event's time and request id where the store's shape keeps them.
fn stamp(shape: Shape, event: &mut Value, time: i64, id: &str) {
    let data = match shape {
        Shape::Axiom => {
            event["_time"] = json!(time);
            &mut event["data"]
        }
        Shape::Datadog => event,
    };
    data["timestamp"] = json!(time);
    data["function"]["request_id"] = json!(id);
}

/// What a fake store saw and sent.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    bytes: AtomicU64,
    queries: Mutex<Vec<String>>,
    /// Each request's start of the window.
    starts: Mutex<Vec<String>>,
    /// Each request's window, as Unix milliseconds.
    windows: Mutex<Vec<(i64, i64)>>,
    /// Answer the first request with 429 and the store's rate-limit headers.
    throttle_first: bool,
    /// Mark every answer partial.
    partial: bool,
    /// Mark an answer partial when its window is longer than this many milliseconds, as a
    /// store does when a query over a long range times out.
    partial_longer_than: Option<i64>,
    /// Answer each request after this long.
    delay: std::time::Duration,
}

impl Tally {
    fn record(&self, query: &str, start: i64, end: i64) -> bool {
        self.queries.lock().unwrap().push(query.to_owned());
        self.windows.lock().unwrap().push((start, end));
        self.partial || self.partial_longer_than.is_some_and(|l| end - start > l)
    }
}

struct FakeStore {
    data: Dataset,
    tally: std::sync::Arc<Tally>,
    /// Each filter's matching positions in the time order, evaluated once over the dataset.
    matching: Mutex<std::collections::HashMap<String, std::sync::Arc<Vec<usize>>>>,
}

impl Respond for FakeStore {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.tally.requests.fetch_add(1, Ordering::SeqCst);
        if self.tally.throttle_first && n == 0 {
            // Axiom says when the window resets (a Unix second); Datadog, how many seconds until
            // it does. Neither sends Retry-After here.
            let reset = match self.data.shape {
                Shape::Axiom => (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 1)
                .to_string(),
                Shape::Datadog => "1".to_owned(),
            };
            return ResponseTemplate::new(429)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.as_str())
                .set_body_string("{\"message\":\"rate limited\"}");
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let answer = match self.data.shape {
            Shape::Axiom => self.axiom(request, &body),
            Shape::Datadog => self.datadog(request, &body),
        };
        let answer = match answer {
            Ok(answer) => answer.to_string(),
            Err(status) => return *status,
        };
        self.tally
            .bytes
            .fetch_add(answer.len() as u64, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .set_body_raw(answer, "application/json")
            .set_delay(self.tally.delay)
    }
}

impl FakeStore {
    /// The positions in the time order, from `first` on and before `end`, whose event passes
    /// the filter `key`.
    fn passing(
        &self,
        key: &str,
        passes: impl Fn(&Value) -> bool,
        first: usize,
        end: i64,
    ) -> Vec<usize> {
        let all = self
            .matching
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_insert_with(|| {
                std::sync::Arc::new(
                    (0..self.data.order.len())
                        .filter(|&p| passes(&self.data.event(self.data.order[p])))
                        .collect(),
                )
            })
            .clone();
        let from = all.partition_point(|&p| p < first);
        all[from..]
            .iter()
            .copied()
            .take_while(|&p| self.data.order[p].0 < end)
            .collect()
    }

    fn axiom(&self, request: &Request, body: &Value) -> Result<Value, Box<ResponseTemplate>> {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {AXIOM_TOKEN}")) {
            // Quotes what it was sent, as a careless server might.
            return Err(Box::new(ResponseTemplate::new(401).set_body_string(
                format!("{{\"message\":\"bad token: {auth:?}\"}}"),
            )));
        }
        let apl = body["apl"].as_str().unwrap();
        self.tally
            .starts
            .lock()
            .unwrap()
            .push(body["startTime"].as_str().unwrap().to_owned());
        let start = parse_rfc3339_millis(body["startTime"].as_str().unwrap()).unwrap();
        let end = parse_rfc3339_millis(body["endTime"].as_str().unwrap()).unwrap();
        let partial = self.tally.record(apl, start, end);
        // The source, the filter, any `_time` bounds, then `sort by _time asc | limit N`.
        let stages: Vec<&str> = apl.split(" | ").collect();
        assert_eq!(stages[0], "['convex-logs']", "{apl}");
        let filter = apl::parse(stages[1].strip_prefix("where ").expect("a where stage"));
        let (limit, bounds) = match &stages[2..] {
            [bounds @ .., sort, limit] => {
                assert_eq!(*sort, "sort by _time asc", "{apl}");
                let limit: usize = limit.strip_prefix("limit ").unwrap().parse().unwrap();
                (
                    limit,
                    bounds
                        .iter()
                        .map(|b| apl::time_bound(b))
                        .collect::<Vec<_>>(),
                )
            }
            _ => panic!("no sort and limit: {apl}"),
        };
        let first = self.data.order.partition_point(|&(t, _)| t < start);
        let matched: Vec<usize> = self
            .passing(stages[1], |e| apl::eval(&filter, e), first, end)
            .into_iter()
            .filter(|&p| bounds.iter().all(|b| b.holds(self.data.order[p].0)))
            .collect();
        let rows: Vec<Value> = matched
            .iter()
            .take(limit)
            .map(|&p| self.data.event(self.data.order[p]))
            .collect();
        // Column-major, dotted field names, `_time` as RFC 3339.
        let mut names: Vec<String> = Vec::new();
        let flat: Vec<Map<String, Value>> = rows
            .iter()
            .map(|row| {
                let mut out = Map::new();
                flatten("", row, &mut out);
                out["_time"] = json!(format_unix_millis(row["_time"].as_i64().unwrap()));
                for k in out.keys() {
                    if !names.contains(k) {
                        names.push(k.clone());
                    }
                }
                out
            })
            .collect();
        let columns: Vec<Value> = names
            .iter()
            .map(|n| {
                Value::Array(
                    flat.iter()
                        .map(|r| r.get(n).cloned().unwrap_or(Value::Null))
                        .collect(),
                )
            })
            .collect();
        Ok(json!({
            "format": "tabular",
            // What matched the query, before its limit.
            "status": {"elapsedTime": 1, "isPartial": partial, "rowsMatched": matched.len()},
            "tables": [{"name": "0", "fields": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(), "columns": columns}]
        }))
    }

    fn datadog(&self, request: &Request, body: &Value) -> Result<Value, Box<ResponseTemplate>> {
        let header = |n: &str| request.headers.get(n).and_then(|v| v.to_str().ok());
        if header("dd-api-key") != Some(DD_API) || header("dd-application-key") != Some(DD_APP) {
            return Err(Box::new(ResponseTemplate::new(403).set_body_string(
                format!(
                    "{{\"errors\":[\"Forbidden: {:?} {:?}\"]}}",
                    header("dd-api-key"),
                    header("dd-application-key")
                ),
            )));
        }
        let query = body["filter"]["query"].as_str().unwrap();
        let filter = dd::parse(query);
        let from = parse_rfc3339_millis(body["filter"]["from"].as_str().unwrap()).unwrap();
        let to = parse_rfc3339_millis(body["filter"]["to"].as_str().unwrap()).unwrap();
        let partial = self.tally.record(query, from, to);
        assert_eq!(body["sort"], "timestamp");
        let limit = body["page"]["limit"].as_u64().unwrap() as usize;
        assert!(limit <= 1000);
        // The cursor is the position in the time order to go on from.
        let first = match body["page"]["cursor"].as_str() {
            Some(c) => c.parse().unwrap(),
            None => self.data.order.partition_point(|&(t, _)| t < from),
        };
        let mut data = Vec::new();
        let mut next = None;
        for pos in self.passing(query, |e| dd::eval(&filter, e), first, to) {
            let (t, index) = self.data.order[pos];
            let event = self.data.event((t, index));
            if data.len() == limit {
                next = Some(pos.to_string());
                break;
            }
            let mut attrs = event.as_object().unwrap().clone();
            let message = attrs.remove("message").unwrap_or(json!(""));
            let host = attrs.remove("hostname").unwrap();
            let service = attrs.remove("service").unwrap();
            attrs.remove("timestamp");
            attrs.remove("ddtags");
            data.push(
                json!({"id": format!("AQ{pos:08}"), "type": "log", "attributes": {
                "timestamp": format_unix_millis(t), "host": host, "service": service,
                "message": message, "status": "info", "tags": ["source:convex"],
                "attributes": attrs}}),
            );
        }
        let mut meta = json!({"elapsed": 1, "status": if partial { "timeout" } else { "done" }});
        if let Some(next) = next {
            meta["page"] = json!({"after": next});
        }
        Ok(json!({"data": data, "meta": meta}))
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(obj) => {
            for (k, v) in obj {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// Dotted path lookup, as both stores address nested fields.
fn field<'v>(event: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(event, |v, k| v.get(k))
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The subset of APL the client writes: `or`, `and`, parentheses, `==`, `contains`,
/// `contains_cs` and `in (…)` on `['dotted.field']`; and `where _time == datetime("…")` or
/// `where _time > datetime("…")` stages.
mod apl {
    use super::{Value, as_text, field};
    use ba_index_advisor::time::parse_rfc3339_millis;

    /// A `where _time <op> datetime("…")` stage.
    pub enum TimeBound {
        At(i64),
        After(i64),
    }

    impl TimeBound {
        pub fn holds(&self, time: i64) -> bool {
            match *self {
                TimeBound::At(t) => time == t,
                TimeBound::After(t) => time > t,
            }
        }
    }

    pub fn time_bound(stage: &str) -> TimeBound {
        let rest = stage.strip_prefix("where _time ").expect("a _time stage");
        let (op, literal) = rest.split_once(' ').expect("an operator");
        let text = literal
            .strip_prefix("datetime(\"")
            .and_then(|l| l.strip_suffix("\")"))
            .unwrap_or_else(|| panic!("not a datetime literal: {stage}"));
        let t = parse_rfc3339_millis(text).unwrap_or_else(|| panic!("not a time: {stage}"));
        match op {
            "==" => TimeBound::At(t),
            ">" => TimeBound::After(t),
            other => panic!("`_time {other}` is not in the fake's APL"),
        }
    }

    #[derive(Debug)]
    pub enum Expr {
        Or(Vec<Expr>),
        And(Vec<Expr>),
        Eq(String, String),
        Contains(String, String, bool),
        In(String, Vec<String>),
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Field(String),
        Str(String),
        Word(String),
        Open,
        Close,
        Comma,
    }

    fn lex(text: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '[' {
                let mut j = i + 2;
                while !(chars[j] == '\'' && chars[j + 1] == ']') {
                    j += 1;
                }
                out.push(Tok::Field(chars[i + 2..j].iter().collect()));
                i = j + 2;
            } else if c == '"' {
                let mut s = String::new();
                i += 1;
                while chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Str(s));
            } else if c == '(' {
                out.push(Tok::Open);
                i += 1;
            } else if c == ')' {
                out.push(Tok::Close);
                i += 1;
            } else if c == ',' {
                out.push(Tok::Comma);
                i += 1;
            } else {
                let mut w = String::new();
                while i < chars.len() && !chars[i].is_whitespace() && !"()\",".contains(chars[i]) {
                    w.push(chars[i]);
                    i += 1;
                }
                out.push(Tok::Word(w));
            }
        }
        out
    }

    pub fn parse(text: &str) -> Expr {
        let toks = lex(text);
        let mut pos = 0;
        let expr = or(&toks, &mut pos);
        assert_eq!(pos, toks.len(), "unparsed APL: {text}");
        expr
    }

    fn or(t: &[Tok], p: &mut usize) -> Expr {
        let mut parts = vec![and(t, p)];
        while t.get(*p) == Some(&Tok::Word("or".into())) {
            *p += 1;
            parts.push(and(t, p));
        }
        Expr::Or(parts)
    }

    fn and(t: &[Tok], p: &mut usize) -> Expr {
        let mut parts = vec![unary(t, p)];
        while t.get(*p) == Some(&Tok::Word("and".into())) {
            *p += 1;
            parts.push(unary(t, p));
        }
        Expr::And(parts)
    }

    fn unary(t: &[Tok], p: &mut usize) -> Expr {
        if t[*p] == Tok::Open {
            *p += 1;
            let e = or(t, p);
            assert_eq!(t[*p], Tok::Close);
            *p += 1;
            return e;
        }
        let Tok::Field(f) = t[*p].clone() else {
            panic!("a field expected at {:?}", t[*p])
        };
        let Tok::Word(op) = t[*p + 1].clone() else {
            panic!("an operator expected")
        };
        *p += 2;
        let string = |p: &mut usize| {
            let Tok::Str(s) = t[*p].clone() else {
                panic!("a string expected")
            };
            *p += 1;
            s
        };
        match op.as_str() {
            "==" => Expr::Eq(f, string(p)),
            "contains_cs" => Expr::Contains(f, string(p), true),
            "contains" => Expr::Contains(f, string(p), false),
            "in" => {
                assert_eq!(t[*p], Tok::Open);
                *p += 1;
                let mut list = vec![string(p)];
                while t[*p] == Tok::Comma {
                    *p += 1;
                    list.push(string(p));
                }
                assert_eq!(t[*p], Tok::Close);
                *p += 1;
                Expr::In(f, list)
            }
            other => panic!("operator {other} is not in the fake's APL"),
        }
    }

    pub fn eval(e: &Expr, event: &Value) -> bool {
        let get = |f: &str| field(event, f).filter(|v| !v.is_null()).map(as_text);
        match e {
            Expr::Or(parts) => parts.iter().any(|p| eval(p, event)),
            Expr::And(parts) => parts.iter().all(|p| eval(p, event)),
            Expr::Eq(f, v) => get(f).as_deref() == Some(v.as_str()),
            Expr::Contains(f, v, true) => get(f).is_some_and(|s| s.contains(v.as_str())),
            Expr::Contains(f, v, false) => {
                get(f).is_some_and(|s| s.to_lowercase().contains(&v.to_lowercase()))
            }
            Expr::In(f, list) => get(f).is_some_and(|s| list.contains(&s)),
        }
    }
}

/// The subset of Datadog's log search syntax the client writes: `OR`, implicit `AND`,
/// parentheses, `"phrases"` (in the message), `source:`, `host:` and `@attribute:` terms with
/// `\`-escapes and `*` wildcards.
mod dd {
    use super::{Value, as_text, field};

    #[derive(Debug)]
    pub enum Expr {
        Or(Vec<Expr>),
        And(Vec<Expr>),
        Phrase(String),
        Term(String, String),
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Open,
        Close,
        Phrase(String),
        /// Key, and the value with escapes resolved (`*` as `\u{0}`: a wildcard).
        Term(String, String),
        Or,
        And,
    }

    fn lex(text: &str) -> Vec<Tok> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                c if c.is_whitespace() => i += 1,
                '(' => {
                    out.push(Tok::Open);
                    i += 1;
                }
                ')' => {
                    out.push(Tok::Close);
                    i += 1;
                }
                '"' => {
                    let mut s = String::new();
                    i += 1;
                    while chars[i] != '"' {
                        if chars[i] == '\\' {
                            i += 1;
                        }
                        s.push(chars[i]);
                        i += 1;
                    }
                    i += 1;
                    out.push(Tok::Phrase(s));
                }
                _ => {
                    let mut key = String::new();
                    let mut value = String::new();
                    let mut in_value = false;
                    while i < chars.len() && !chars[i].is_whitespace() && !"()".contains(chars[i]) {
                        let (c, escaped) = if chars[i] == '\\' {
                            i += 1;
                            (chars[i], true)
                        } else {
                            (chars[i], false)
                        };
                        i += 1;
                        if !in_value && c == ':' && !escaped {
                            in_value = true;
                        } else if in_value {
                            value.push(if c == '*' && !escaped { '\u{0}' } else { c });
                        } else {
                            key.push(c);
                        }
                    }
                    out.push(match (in_value, key.as_str()) {
                        (false, "OR") => Tok::Or,
                        (false, "AND") => Tok::And,
                        (true, _) => Tok::Term(key, value),
                        _ => panic!("a bare word `{key}` is not in the fake's syntax"),
                    });
                }
            }
        }
        out
    }

    pub fn parse(text: &str) -> Expr {
        let toks = lex(text);
        let mut pos = 0;
        let e = or(&toks, &mut pos);
        assert_eq!(pos, toks.len(), "unparsed query: {text}");
        e
    }

    fn or(t: &[Tok], p: &mut usize) -> Expr {
        let mut parts = vec![and(t, p)];
        while t.get(*p) == Some(&Tok::Or) {
            *p += 1;
            parts.push(and(t, p));
        }
        Expr::Or(parts)
    }

    fn and(t: &[Tok], p: &mut usize) -> Expr {
        let mut parts = Vec::new();
        loop {
            match t.get(*p) {
                None | Some(Tok::Or) | Some(Tok::Close) => break,
                Some(Tok::And) => *p += 1,
                Some(Tok::Open) => {
                    *p += 1;
                    parts.push(or(t, p));
                    assert_eq!(t[*p], Tok::Close);
                    *p += 1;
                }
                Some(Tok::Phrase(s)) => {
                    parts.push(Expr::Phrase(s.clone()));
                    *p += 1;
                }
                Some(Tok::Term(k, v)) => {
                    parts.push(Expr::Term(k.clone(), v.clone()));
                    *p += 1;
                }
            }
        }
        Expr::And(parts)
    }

    fn glob(pattern: &str, text: &str) -> bool {
        let parts: Vec<&str> = pattern.split('\u{0}').collect();
        if parts.len() == 1 {
            return pattern == text;
        }
        let mut rest = text;
        for (i, part) in parts.iter().enumerate() {
            if i == 0 {
                let Some(r) = rest.strip_prefix(part) else {
                    return false;
                };
                rest = r;
            } else if i == parts.len() - 1 {
                return rest.ends_with(part);
            } else {
                let Some(at) = rest.find(part) else {
                    return false;
                };
                rest = &rest[at + part.len()..];
            }
        }
        true
    }

    pub fn eval(e: &Expr, event: &Value) -> bool {
        match e {
            Expr::Or(parts) => parts.iter().any(|p| eval(p, event)),
            Expr::And(parts) => parts.iter().all(|p| eval(p, event)),
            Expr::Phrase(s) => event["message"]
                .as_str()
                .is_some_and(|m| m.contains(s.as_str())),
            Expr::Term(key, value) => {
                let path = match key.as_str() {
                    "source" => "ddsource",
                    "host" => "hostname",
                    k => k.strip_prefix('@').expect("an attribute"),
                };
                field(event, path)
                    .filter(|v| !v.is_null())
                    .is_some_and(|v| glob(value, &as_text(v)))
            }
        }
    }
}

struct Fake {
    server: MockServer,
    tally: std::sync::Arc<Tally>,
}

async fn fake(shape: Shape, throttle_first: bool, partial: bool) -> Fake {
    fake_with(
        shape,
        Tally {
            throttle_first,
            partial,
            ..Tally::default()
        },
    )
    .await
}

async fn fake_with(shape: Shape, tally: Tally) -> Fake {
    fake_on(Dataset::new(shape), tally).await
}

async fn fake_on(data: Dataset, tally: Tally) -> Fake {
    let shape = data.shape;
    let server = MockServer::start().await;
    let tally = std::sync::Arc::new(tally);
    let route = match shape {
        Shape::Axiom => "/v1/datasets/_apl",
        Shape::Datadog => "/api/v2/logs/events/search",
    };
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(FakeStore {
            data,
            tally: tally.clone(),
            matching: Mutex::default(),
        })
        .mount(&server)
        .await;
    Fake { server, tally }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(fake: &Fake, shape: Shape, extra: &[&str]) -> Run {
    let mut cmd = crate::common::bin();
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .arg("report")
        .args(["--format", "json"]);
    match shape {
        Shape::Axiom => {
            cmd.args(["--from", "axiom", "--dataset", "convex-logs", "--axiom-url"])
                .arg(fake.server.uri())
                .env("AXIOM_TOKEN", AXIOM_TOKEN);
        }
        Shape::Datadog => {
            cmd.args(["--from", "datadog", "--datadog-url"])
                .arg(fake.server.uri())
                .env("DD_API_KEY", DD_API)
                .env("DD_APP_KEY", DD_APP);
        }
    }
    cmd.args(["--start", START, "--end", END]).args(extra);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The parts of a report that must not depend on where the events came from: everything but
/// the input counters, the coverage (a file vs the store's windows) and the locations (a file's
/// line vs the store's position).
fn comparable(report: &str) -> Value {
    let mut doc: Value = serde_json::from_str(report).unwrap();
    doc.as_object_mut().unwrap().remove("stats");
    // A file's coverage is its input, a pull's the store's windows.
    doc.as_object_mut().unwrap().remove("coverage");
    for ignored in doc["ignored"].as_array_mut().into_iter().flatten() {
        ignored.as_object_mut().unwrap().remove("samples");
    }
    for finding in doc["suggestions"].as_array_mut().unwrap() {
        let f = finding.as_object_mut().unwrap();
        f.remove("samples");
        f["first_seen"].as_object_mut().unwrap().remove("location");
        f["last_seen"].as_object_mut().unwrap().remove("location");
    }
    doc
}

fn no_secret(run: &Run) {
    for secret in [AXIOM_TOKEN, DD_API, DD_APP] {
        assert!(!run.stdout.contains(secret), "secret in stdout");
        assert!(!run.stderr.contains(secret), "secret in stderr");
    }
}

/// The pull: filtered on the server (far fewer bytes than the dataset), paged, and concluded as
/// `report` concludes the export. Prints the measured figures.
async fn pull_equals_export(shape: Shape, page: &str) {
    let fake = fake(shape, false, false).await;
    let pulled = pull_matches_export(&fake, shape, &["--page-size", page]).await;
    let requests = fake.tally.requests.load(Ordering::SeqCst);
    let bytes = fake.tally.bytes.load(Ordering::SeqCst);
    let export_bytes = Dataset::new(shape).export(TempDir::new().unwrap().path()).1;
    eprintln!(
        "{}: push-down {requests} request(s), {bytes} bytes; the full export is {export_bytes} bytes \
         ({} events)",
        if shape == Shape::Axiom {
            "axiom"
        } else {
            "datadog"
        },
        FILLER + 53
    );
    assert!(
        bytes * 100 < export_bytes,
        "{bytes} bytes served for a {export_bytes}-byte dataset"
    );
    // Several pages of matches, then the executions by request id.
    assert!(requests >= 4, "{requests} request(s)");
    let queries = fake.tally.queries.lock().unwrap().clone();
    assert!(
        queries
            .iter()
            .all(|q| q.contains("without an index") || q.contains("function_execution")),
        "{queries:#?}"
    );
    assert!(
        pulled.stderr.contains(&format!("in {requests} request(s)")),
        "{}",
        pulled.stderr
    );
}

/// Pulls with `extra` and checks the report equals `report` on the export of the same events.
async fn pull_matches_export(fake: &Fake, shape: Shape, extra: &[&str]) -> Run {
    let pulled = run(fake, shape, extra).await;
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    no_secret(&pulled);
    let dir = TempDir::new().unwrap();
    let (export, _) = Dataset::new(shape).export(dir.path());
    let out = crate::common::bin()
        .env("NO_COLOR", "1")
        .args(["report", "--format", "json"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_file = String::from_utf8(out.stdout).unwrap();
    let want = comparable(&from_file);
    assert!(!want["suggestions"].as_array().unwrap().is_empty());
    assert!(
        want["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.get("impact").is_some()),
        "the export joins usage: {want:#}"
    );
    assert_eq!(comparable(&pulled.stdout), want);
    pulled
}

#[tokio::test(flavor = "multi_thread")]
async fn axiom_pull_filters_on_the_server_and_equals_the_export_report() {
    pull_equals_export(Shape::Axiom, "5").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn datadog_pull_filters_on_the_server_and_equals_the_export_report() {
    pull_equals_export(Shape::Datadog, "5").await;
}

/// A day read in 10-minute slices: no query covers more than a slice (its executions' pass a
/// slice and the grace after it), slice edges cut through the sample hour, and the report is
/// still exactly the export's.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_window_is_read_slice_by_slice() {
    for shape in [Shape::Axiom, Shape::Datadog] {
        let fake = fake(shape, false, false).await;
        let pulled = pull_matches_export(&fake, shape, &["--slice", "10m"]).await;
        assert!(
            !pulled.stderr.contains("%"),
            "no progress bar on a pipe: {}",
            pulled.stderr
        );
        let windows = fake.tally.windows.lock().unwrap().clone();
        let queries = fake.tally.queries.lock().unwrap().clone();
        let mut match_windows: Vec<(i64, i64)> = windows
            .iter()
            .zip(&queries)
            .filter(|(_, q)| q.contains("without an index"))
            .map(|(w, _)| *w)
            .collect();
        match_windows.dedup();
        assert_eq!(match_windows.len(), 144, "{match_windows:?}");
        let day = (
            parse_rfc3339_millis(START).unwrap(),
            parse_rfc3339_millis(END).unwrap(),
        );
        assert_eq!(match_windows[0].0, day.0);
        assert_eq!(match_windows.last().unwrap().1, day.1);
        assert!(match_windows.windows(2).all(|w| w[0].1 == w[1].0));
        for ((start, end), query) in windows.iter().zip(&queries) {
            let longest = if query.contains("without an index") {
                10
            } else {
                25
            };
            assert!(end - start <= longest * 60_000, "{start}..{end}: {query}");
        }
    }
}

/// A store that times out on long ranges: the slice is read again in halves until the answers
/// are whole, so no partial note, and nothing is missed or counted twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_partial_slice_is_read_again_in_halves() {
    for shape in [Shape::Axiom, Shape::Datadog] {
        let fake = fake_with(
            shape,
            Tally {
                partial_longer_than: Some(2 * 3_600_000),
                ..Tally::default()
            },
        )
        .await;
        let pulled = pull_matches_export(&fake, shape, &[]).await;
        let doc: Value = serde_json::from_str(&pulled.stdout).unwrap();
        assert!(
            !doc["notes"].to_string().contains("partial"),
            "{}",
            doc["notes"]
        );
        // One entry per final sub-window (3 hours answer partial, 90 minutes do not), edge to
        // edge, all complete, counting every match once.
        let windows = doc["coverage"]["windows"].as_array().unwrap();
        assert_eq!(windows.len(), 16, "{windows:#?}");
        assert!(
            windows.iter().all(|w| w["state"] == "complete"),
            "{windows:#?}"
        );
        assert!(windows.windows(2).all(|w| w[0]["end"] == w[1]["start"]));
        assert_eq!(windows[0]["start"], START);
        assert_eq!(windows[15]["end"], END);
        let events: u64 = windows.iter().map(|w| w["events"].as_u64().unwrap()).sum();
        assert_eq!(events, 23, "{windows:#?}");
        assert_eq!(doc["coverage"]["complete"], true);
        let windows = fake.tally.windows.lock().unwrap().clone();
        assert_eq!(windows[0].1 - windows[0].0, 86_400_000, "{windows:?}");
        assert!(
            windows.iter().any(|(s, e)| e - s == 86_400_000 / 16),
            "{windows:?}"
        );
    }
}

/// On a terminal, the pull shows how much of the window it has read, then clears the bar before
/// the report.
#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_shows_the_pull_progress() {
    let fake = fake_with(
        Shape::Axiom,
        Tally {
            delay: std::time::Duration::from_millis(15),
            ..Tally::default()
        },
    )
    .await;
    let uri = fake.server.uri();
    let output = tokio::task::spawn_blocking(move || {
        let args = [
            "report",
            "--from",
            "axiom",
            "--dataset",
            "convex-logs",
            "--start",
            START,
            "--end",
            END,
            "--slice",
            "10m",
            "--axiom-url",
            &uri,
        ];
        let (status, output) = crate::common::run_in_pty(&args, |cmd| {
            cmd.env("AXIOM_TOKEN", AXIOM_TOKEN);
        });
        assert!(status.success(), "{status:?}");
        output
    })
    .await
    .unwrap();
    assert!(output.contains("Axiom"), "{output}");
    assert!(output.contains("% of the window"), "{output}");
    assert!(output.contains("match(es)"), "{output}");
    let report = output.rsplit("% of the window").next().unwrap();
    assert!(report.contains("member"), "{output}");
    assert!(!output.contains(AXIOM_TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn axiom_rate_limit_is_retried_and_a_partial_answer_is_a_coverage_gap() {
    let fake = fake(Shape::Axiom, true, true).await;
    let run = run(&fake, Shape::Axiom, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Axiom answered 429"), "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["coverage"]["complete"], false);
    assert!(
        doc["coverage"]["windows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["state"] == "partial_after_split"),
        "{}",
        doc["coverage"]
    );
    // The matches' windows are the coverage's to say; a note is left only for the executions.
    assert!(
        !doc["notes"]
            .to_string()
            .contains("some matches may be missing"),
        "{}",
        doc["notes"]
    );
    assert!(
        run.stderr.contains("partial even after splitting"),
        "{}",
        run.stderr
    );
    assert!(!doc["suggestions"].as_array().unwrap().is_empty());
    no_secret(&run);
}

#[tokio::test(flavor = "multi_thread")]
async fn datadog_rate_limit_is_retried_and_a_timeout_is_a_coverage_gap() {
    let fake = fake(Shape::Datadog, true, true).await;
    let run = run(&fake, Shape::Datadog, &["--query", "host:happy-otter-123"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Datadog answered 429"),
        "{}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let windows = doc["coverage"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 16, "{windows:#?}");
    assert!(
        windows
            .iter()
            .all(|w| w["state"] == "partial_after_split" && w["source"] == "datadog:us1"),
        "{windows:#?}"
    );
    assert!(!doc["suggestions"].as_array().unwrap().is_empty());
    let queries = fake.tally.queries.lock().unwrap().clone();
    assert!(
        queries
            .iter()
            .all(|q| q.ends_with("(host:happy-otter-123)")),
        "{queries:?}"
    );
    no_secret(&run);
}

/// The window where `--max-events` stopped and every window after it are cut by it, and a
/// gated run cannot pass on what was not read.
#[tokio::test(flavor = "multi_thread")]
async fn max_events_cuts_the_window_and_fails_the_gate() {
    let fake = fake(Shape::Axiom, false, false).await;
    let args = ["--max-events", "3", "--page-size", "2", "--slice", "2h"];
    let run_ = run(&fake, Shape::Axiom, &args).await;
    assert_eq!(run_.code, 0, "{}", run_.stderr);
    let doc: Value = serde_json::from_str(&run_.stdout).unwrap();
    assert!(
        !doc["notes"].to_string().contains("--max-events"),
        "{}",
        doc["notes"]
    );
    let signals = doc["stats"]["signals"].as_u64().unwrap();
    assert!(signals <= 3, "{signals}");
    let windows = doc["coverage"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 12, "{windows:#?}");
    // The samples start at 14:03: the slice from 14:00 is where the cap stopped.
    let states: Vec<&str> = windows
        .iter()
        .map(|w| w["state"].as_str().unwrap())
        .collect();
    assert_eq!(&states[..7], ["complete"; 7], "{windows:#?}");
    assert_eq!(&states[7..], ["cut_by_max_events"; 5], "{windows:#?}");
    assert_eq!(windows[7]["start"], "2026-01-15T14:00:00.000Z");
    assert_eq!(windows[7]["events"], 3);
    assert!(windows[8..].iter().all(|w| w["events"] == 0));
    assert!(
        run_.stderr.contains("cut by --max-events"),
        "{}",
        run_.stderr
    );

    let gated = run(
        &fake,
        Shape::Axiom,
        &[&args[..], &["--fail-on-suggestions"]].concat(),
    )
    .await;
    assert_eq!(gated.code, 2, "{}", gated.stderr);
    assert!(
        gated.stderr.contains("error: --fail-on-suggestions"),
        "{}",
        gated.stderr
    );
    assert_eq!(
        gated.stderr.matches("cut by --max-events").count(),
        5,
        "{}",
        gated.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_secret_is_never_printed() {
    for shape in [Shape::Axiom, Shape::Datadog] {
        let fake = fake(shape, false, false).await;
        let mut cmd = crate::common::bin();
        cmd.env_clear()
            .args(["report", "--start", START, "--end", END]);
        match shape {
            Shape::Axiom => cmd
                .args(["--from", "axiom", "--dataset", "convex-logs", "--axiom-url"])
                .arg(fake.server.uri())
                .env("AXIOM_TOKEN", format!("{AXIOM_TOKEN}-wrong")),
            Shape::Datadog => cmd
                .args(["--from", "datadog", "--datadog-url"])
                .arg(fake.server.uri())
                .env("DD_API_KEY", DD_API)
                .env("DD_APP_KEY", format!("{DD_APP}-wrong")),
        };
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("rejected the credentials"),
            "{}",
            run.stderr
        );
        no_secret(&run);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_from_axiom_pulls_again_from_where_it_stopped() {
    let fake = fake(Shape::Axiom, false, false).await;
    let project = TempDir::new().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"))
        .args([
            "watch",
            "--format",
            "json",
            "--from",
            "axiom",
            "--dataset",
            "convex-logs",
        ])
        .args(["--since", "800d", "--every", "1s", "--axiom-url"])
        .arg(fake.server.uri())
        .arg("--project")
        .arg(project.path())
        .env("AXIOM_TOKEN", AXIOM_TOKEN)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = crate::common::lines(&mut child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("\"member\"")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("no member suggestion ({e}): {seen:#?}"),
        }
    }
    // The first pull (its events are sent once it has read them all) went back to --since, a
    // slice at a time; the next one starts where it ended, less the overlap.
    let first_pull = fake.tally.starts.lock().unwrap().len();
    loop {
        let starts = fake.tally.starts.lock().unwrap().clone();
        if starts.len() > first_pull {
            assert!(starts[0].as_str() < "2025-01-01", "{}", starts[0]);
            let last_slice = starts[..first_pull].iter().max().unwrap();
            let second = &starts[first_pull];
            assert!(second > last_slice, "{second} after {last_slice}");
            let ended = parse_rfc3339_millis(second).unwrap() + 1_000;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            assert!(now - ended < 120_000, "{second}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no second pull: {starts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    seen.extend(lines.iter());
    assert!(status.0.success(), "{}", status.1);
    assert!(!status.1.contains(AXIOM_TOKEN));
    assert!(status.1.contains("Axiom: "), "{}", status.1);
    let member_final = seen
        .iter()
        .find(|l| l.contains("\"final\"") && l.contains("\"member\""))
        .unwrap_or_else(|| panic!("{seen:#?}"));
    // Overlapping windows do not count an event twice.
    assert!(member_final.contains("\"count\":7"), "{member_final}");
}

/// The baseline the push-down is measured against: the same dataset read whole through the same
/// APIs (a filter every event passes, pages of the largest size), as a full export would.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_export_through_the_api_moves_the_whole_dataset() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    for shape in [Shape::Axiom, Shape::Datadog] {
        let fake = fake(shape, false, false).await;
        let mut rows = 0usize;
        match shape {
            Shape::Axiom => {
                let url = format!("{}/v1/datasets/_apl?format=tabular", fake.server.uri());
                let mut start = START.to_owned();
                let mut edge: Vec<Value> = Vec::new();
                loop {
                    let apl = "['convex-logs'] | where ['data.topic'] == \"console\" or \
                               ['data.topic'] == \"function_execution\" | sort by _time asc \
                               | limit 10000";
                    let answer: Value = client
                        .post(&url)
                        .bearer_auth(AXIOM_TOKEN)
                        .json(&json!({"apl": apl, "startTime": start, "endTime": END}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let page = ba_index_advisor::logstore::axiom::rows(&answer).unwrap();
                    let fresh: Vec<Value> =
                        page.iter().filter(|r| !edge.contains(r)).cloned().collect();
                    rows += fresh.len();
                    if page.len() < 10_000 {
                        break;
                    }
                    start = page.last().unwrap()["_time"].as_str().unwrap().to_owned();
                    edge = page
                        .into_iter()
                        .filter(|r| r["_time"] == json!(start))
                        .collect();
                }
            }
            Shape::Datadog => {
                let url = format!("{}/api/v2/logs/events/search", fake.server.uri());
                let mut cursor: Option<String> = None;
                loop {
                    let mut page = json!({"limit": 1000});
                    if let Some(c) = &cursor {
                        page["cursor"] = json!(c);
                    }
                    let answer: Value = client
                        .post(&url)
                        .header("DD-API-KEY", DD_API)
                        .header("DD-APPLICATION-KEY", DD_APP)
                        .json(
                            &json!({"filter": {"query": "source:convex", "from": START, "to": END},
                                      "sort": "timestamp", "page": page}),
                        )
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    rows += answer["data"].as_array().unwrap().len();
                    match answer.pointer("/meta/page/after").and_then(Value::as_str) {
                        Some(after) => cursor = Some(after.to_owned()),
                        None => break,
                    }
                }
            }
        }
        assert_eq!(rows, FILLER + 53);
        let requests = fake.tally.requests.load(Ordering::SeqCst);
        let bytes = fake.tally.bytes.load(Ordering::SeqCst);
        eprintln!(
            "{}: full export through the API: {requests} request(s), {bytes} bytes",
            if shape == Shape::Axiom {
                "axiom"
            } else {
                "datadog"
            },
        );
        assert!(bytes > 50_000_000, "{bytes}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_without_matches_is_all_clear_not_an_empty_input() {
    let fake = fake(Shape::Datadog, false, false).await;
    let mut cmd = crate::common::bin();
    cmd.env_clear()
        .args([
            "report",
            "--fail-on-suggestions",
            "--from",
            "datadog",
            "--datadog-url",
        ])
        .arg(fake.server.uri())
        .args([
            "--start",
            "2020-01-01T00:00:00Z",
            "--end",
            "2020-01-02T00:00:00Z",
        ])
        .env("DD_API_KEY", DD_API)
        .env("DD_APP_KEY", DD_APP);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no index warning or error"), "{stderr}");
    assert!(!stderr.contains("the input was empty"), "{stderr}");
    // One request: no matches, so no second pass.
    assert_eq!(fake.tally.requests.load(Ordering::SeqCst), 1);
}

/// Runs of matches at one instant longer than a page (3 000 at one `_time`; 40 sharing a
/// sample's; exactly a page of 7; 20; 1), their executions at one later instant each: every page
/// size reads what one query reads, and the report is the export's.
#[tokio::test(flavor = "multi_thread")]
async fn axiom_paging_is_exact_at_any_page_size() {
    let first = 1_768_485_787_123;
    let runs = [
        (first + 60_000, 3_000),
        (1_768_485_797_125, 40),
        (first + 120_000, 7),
        (first + 180_000, 20),
        (first + 240_000, 1),
    ];
    let data = || Dataset::with_runs(Shape::Axiom, 20_000, &runs);
    let fake = fake_on(data(), Tally::default()).await;
    let mut pulls = Vec::new();
    for page in ["10000", "1", "7", "20"] {
        let before = fake.tally.requests.load(Ordering::SeqCst);
        let pulled = run(&fake, Shape::Axiom, &["--page-size", page]).await;
        assert_eq!(pulled.code, 0, "--page-size {page}: {}", pulled.stderr);
        let requests = fake.tally.requests.load(Ordering::SeqCst) - before;
        eprintln!("axiom --page-size {page}: {requests} request(s)");
        pulls.push((page, pulled.stdout));
    }
    let one_query = &pulls[0].1;
    for (page, report) in &pulls[1..] {
        assert!(
            report == one_query,
            "--page-size {page} differs from one query"
        );
    }
    let doc: Value = serde_json::from_str(one_query).unwrap();
    let windows = doc["coverage"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "{windows:#?}");
    assert_eq!(windows[0]["state"], "complete");
    assert_eq!(windows[0]["events"], 23 + 3_068, "{windows:#?}");
    // The runs were read by queries of their own, up to a limit above the longest run.
    let queries = fake.tally.queries.lock().unwrap().clone();
    assert!(
        queries.iter().any(|q| q
            .contains("| where _time == datetime(\"2026-01-15T14:04:07.123Z\")")
            && q.ends_with("| limit 4096")),
        "no run query"
    );
    assert!(
        queries
            .iter()
            .any(|q| q.contains("| where _time > datetime("))
    );

    let dir = TempDir::new().unwrap();
    let (export, _) = data().export(dir.path());
    let out = crate::common::bin()
        .env("NO_COLOR", "1")
        .args(["report", "--format", "json"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        comparable(one_query),
        comparable(&String::from_utf8(out.stdout).unwrap())
    );
}

/// A store that answers partial at every size: every window, split as far as allowed, is in
/// the coverage and on stderr; a gated run fails on them unless `--allow-partial` accepts them.
#[tokio::test(flavor = "multi_thread")]
async fn every_partial_window_is_a_gap_and_fails_the_gate() {
    let partial = fake(Shape::Axiom, false, true).await;
    let plain = run(&partial, Shape::Axiom, &[]).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let doc: Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(doc["coverage"]["complete"], false);
    let windows = doc["coverage"]["windows"].as_array().unwrap();
    // A day, halved four times over.
    assert_eq!(windows.len(), 16, "{windows:#?}");
    for w in windows {
        assert_eq!(w["state"], "partial_after_split", "{w}");
        assert_eq!(w["source"], "axiom:convex-logs", "{w}");
        let named = format!(
            "axiom:convex-logs {} to {}: partial",
            w["start"].as_str().unwrap(),
            w["end"].as_str().unwrap()
        );
        assert!(plain.stderr.contains(&named), "{named}: {}", plain.stderr);
    }
    assert!(
        plain
            .stderr
            .contains("warning: not everything asked for was read"),
        "{}",
        plain.stderr
    );

    let gated = run(&partial, Shape::Axiom, &["--fail-on-suggestions"]).await;
    assert_eq!(gated.code, 2, "{}", gated.stderr);
    assert!(gated.stderr.contains("(16 gap(s);"), "{}", gated.stderr);
    assert_eq!(
        gated
            .stderr
            .matches("  not read: axiom:convex-logs")
            .count(),
        16,
        "{}",
        gated.stderr
    );

    let complete = fake(Shape::Axiom, false, false).await;
    let plan = run(&complete, Shape::Axiom, &["--fail-on-suggestions"]).await;
    assert!(matches!(plan.code, 0 | 1), "{}", plan.stderr);
    let accepted = run(
        &partial,
        Shape::Axiom,
        &["--fail-on-suggestions", "--allow-partial"],
    )
    .await;
    assert_eq!(accepted.code, plan.code, "{}", accepted.stderr);
    assert!(
        accepted
            .stderr
            .contains("--allow-partial: judged on part of the input")
            && accepted.stderr.contains("0 of 16 window(s) complete"),
        "{}",
        accepted.stderr
    );
    assert_eq!(
        accepted
            .stderr
            .matches("  not read: axiom:convex-logs")
            .count(),
        16
    );
}
