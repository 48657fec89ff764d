//! The web app's HTTP API (`consortium-sim serve`), driven over a real socket on
//! 127.0.0.1 (port 0): runs with their server-sent progress, cancel, the queue, the
//! history (whose report is the command line's, byte for byte but the clock), the
//! scenarios folder (no name leaves it, no shipped scenario is overwritten), the
//! validator's problems by field, the limits, and the guard (Host, Origin, token, CSP).
//! A small HTTP/1.1 client here, written on a TcpStream, lets a test send what a
//! browser would not (a foreign Host, a huge body) and drop a connection at will.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use consortium_sim::serve::{self, Config};
use serde_json::{Value, json};

use crate::golden::normalise;
use crate::util::{self, Dir};

/// How long a test waits on a socket before failing (a bound, not a measurement).
const PATIENCE: Duration = Duration::from_secs(300);

/// A server on a free loopback port, serving from a thread, with its folder and history
/// in a scratch directory.
struct Server {
    address: SocketAddr,
    dir: Dir,
}

fn start(edit: impl FnOnce(&mut Config)) -> Server {
    let dir = Dir::new();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap());
    config.scenarios = dir.path("scenarios");
    config.db = dir.path("history.sqlite3");
    edit(&mut config);
    let server = serve::bind(config).expect("the server binds");
    let address = server.address();
    std::thread::spawn(move || server.run());
    Server { address, dir }
}

/// A response: status, headers (names lower-case), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    fn host(&self) -> String {
        self.address.to_string()
    }

    /// Sends one request (with this server's Host unless `headers` gives one).
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = self.connect(method, path, headers, body);
        let mut reader = BufReader::new(&mut stream);
        let (status, headers) = head(&mut reader);
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            let mut body = Vec::new();
            while let Some(chunk) = next_chunk(&mut reader) {
                body.extend(chunk);
            }
            body
        } else {
            let mut body = Vec::new();
            reader.read_to_end(&mut body).unwrap();
            body
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn connect(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> TcpStream {
        let mut stream = TcpStream::connect(self.address).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            request.push_str(&format!("Host: {}\r\n", self.host()));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        // A refused body may be cut off by the server: its answer still comes.
        let _ = stream.write_all(body);
        stream
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, &[], body.to_string().as_bytes())
    }

    /// Starts a job; its id.
    fn job(&self, request: Value) -> u64 {
        let reply = self.post("/api/jobs", &request);
        assert_eq!(reply.status, 202, "{}", reply.text());
        reply.json()["job"].as_u64().unwrap()
    }

    /// Follows a job's events to its end: the progress events seen, and the end.
    fn follow(&self, job: u64) -> (Vec<Value>, Value) {
        let mut events = Events::open(self, job);
        let mut progress = Vec::new();
        loop {
            let (name, data) = events.next().expect("the stream ends with an end event");
            match name.as_str() {
                "progress" => progress.push(data),
                "end" => return (progress, data),
                other => panic!("unexpected event {other}"),
            }
        }
    }

    /// Runs `request` to its end; the end event.
    fn finish(&self, request: Value) -> Value {
        let job = self.job(request);
        self.follow(job).1
    }
}

/// The status line and headers of a response.
fn head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            return (status, headers);
        }
        let (n, v) = l.split_once(':').unwrap();
        headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
    }
}

/// The next chunk of a chunked body, or None at its end.
fn next_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let size = usize::from_str_radix(line.trim(), 16).ok()?;
    if size == 0 {
        return None;
    }
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    Some(chunk)
}

/// A job's server-sent events, read as they come.
struct Events {
    reader: BufReader<TcpStream>,
    buffer: String,
}

impl Events {
    fn open(server: &Server, job: u64) -> Events {
        let stream = server.connect("GET", &format!("/api/jobs/{job}/events"), &[], b"");
        let mut reader = BufReader::new(stream);
        let (status, headers) = head(&mut reader);
        assert_eq!(status, 200);
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-type" && v == "text/event-stream")
        );
        Events {
            reader,
            buffer: String::new(),
        }
    }

    /// The next event with data: (name, data as JSON).
    fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = None;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = n.to_string();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(d).unwrap());
                    }
                }
                if let Some(data) = data {
                    return Some((name, data));
                }
                continue;
            }
            let chunk = next_chunk(&mut self.reader)?;
            self.buffer.push_str(&String::from_utf8(chunk).unwrap());
        }
    }
}

fn run_of(scenario: Value, trials: u64, seed: u64) -> Value {
    json!({ "kind": "run", "scenario": scenario, "trials": trials, "seed": seed })
}

/// Waits (a bounded number of polls) until job `id`'s state is `state`.
fn await_state(server: &Server, id: u64, state: &str) -> Value {
    for _ in 0..3000 {
        let now = server.get(&format!("/api/jobs/{id}")).json();
        if now["state"] == state {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("job {id} never reached {state}");
}

/// A run through the API is kept in the history, and its report is the command line's
/// `run --out` for the same file, seed and trials, byte for byte once the clock and
/// the machine are masked (as the golden files mask them).
#[test]
fn a_kept_report_is_the_command_lines() {
    let s = start(|_| {});
    let text = util::shipped("four_districts_back_office.json");
    let text = std::fs::read_to_string(text)
        .unwrap()
        .replace("Linford", "Lynford");
    let saved = s.send("PUT", "/api/scenarios/lynford.json", &[], text.as_bytes());
    assert_eq!(saved.status, 200, "{}", saved.text());
    let end = s.finish(run_of(json!({ "file": "lynford.json" }), 3000, 11));
    assert_eq!(end["state"], "done", "{end}");
    let id = end["run"].as_i64().unwrap();
    let kept = s.get(&format!("/api/runs/{id}/report.json"));
    assert_eq!(kept.status, 200);

    let file = s.dir.path("scenarios/lynford.json");
    let out = s.dir.path("cli.json");
    util::sim(&[
        "run",
        file.to_str().unwrap(),
        "--trials",
        "3000",
        "--seed",
        "11",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let cli = std::fs::read_to_string(&out).unwrap();
    assert_eq!(normalise(&kept.text()), normalise(&cli));
    assert!(kept.text().contains("Lynford District Council"));

    // The summary kept is what `run` prints; the listing has the run's facts.
    let listed = s.get(&format!("/api/runs/{id}")).json();
    assert_eq!(listed["seed"], 11);
    assert_eq!(listed["trials"], 3000);
    assert_eq!(listed["engine_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(listed["file"], file.display().to_string());
    let printed = util::sim(&[
        "run",
        file.to_str().unwrap(),
        "--trials",
        "3000",
        "--seed",
        "11",
    ]);
    let summary = s.get(&format!("/api/runs/{id}/summary.txt")).text();
    assert_eq!(normalise(&summary), normalise(&printed.stdout));
    // The scenario as run is the file's bytes.
    let as_run = s.get(&format!("/api/runs/{id}/scenario.json")).text();
    assert_eq!(as_run, text);
    // The worst trial's page is `trace --worst --html`'s, byte for byte (it once said
    // "3000 trials" where the command line says "3,000").
    let page = s.dir.path("trace.html");
    util::sim(&[
        "trace",
        file.to_str().unwrap(),
        "--trials",
        "3000",
        "--seed",
        "11",
        "--worst",
        "--html",
        page.to_str().unwrap(),
    ])
    .ok();
    let kept = s.get(&format!("/api/runs/{id}/trace.html")).text();
    assert!(kept.contains("of 3,000 trials, seed 11)"));
    assert_eq!(kept, std::fs::read_to_string(page).unwrap());
}

/// A shipped scenario runs under the name the command line gives it from the project's
/// folder, so its kept report is the golden file of `run ... --trials 3000 --seed 11`.
#[test]
fn a_shipped_scenarios_report_is_its_golden_file() {
    let s = start(|_| {});
    let end = s.finish(run_of(
        json!({ "file": "four_districts_back_office.json" }),
        3000,
        11,
    ));
    let id = end["run"].as_i64().unwrap();
    let kept = s.get(&format!("/api/runs/{id}/report.json")).text();
    let golden = util::root().join("tests/golden/run-four_districts_back_office/report.json");
    assert_eq!(normalise(&kept), std::fs::read_to_string(golden).unwrap());
}

/// Progress arrives as server-sent events, counting trials up to the total; the end
/// event names the kept run.
#[test]
fn progress_comes_as_server_sent_events() {
    let s = start(|_| {});
    let job = s.job(run_of(
        json!({ "file": "four_districts_back_office.json" }),
        400_000,
        1,
    ));
    let (progress, end) = s.follow(job);
    assert_eq!(end["state"], "done");
    assert_eq!(end["done"], 400_000);
    assert_eq!(end["total"], 400_000);
    assert!(!progress.is_empty());
    let done: Vec<u64> = progress
        .iter()
        .map(|p| p["done"].as_u64().unwrap())
        .collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
    assert!(done.iter().all(|&d| d <= 400_000));
    let runs = s.get("/api/runs").json();
    assert_eq!(runs["runs"][0]["id"], end["run"]);
}

/// Cancel stops the workers: the job ends cancelled, short of its trials, and nothing
/// is kept. A job waiting in the queue (one run at a time) that is cancelled never
/// runs, and one whose follower disconnects is cancelled too.
#[test]
fn cancel_stops_a_run_and_a_queued_run_never_starts() {
    let s = start(|c| c.concurrent = 1);
    let long = run_of(
        json!({ "file": "four_districts_back_office.json" }),
        10_000_000,
        1,
    );
    let first = s.job(long.clone());
    let second = s.job(long.clone());
    let third = s.job(long);
    let mut events = Events::open(&s, first);
    // Wait until the first is running and has done some trials.
    loop {
        let (name, data) = events.next().unwrap();
        assert_eq!(name, "progress", "{data}");
        if data["state"] == "running" && data["done"].as_u64().unwrap() > 0 {
            break;
        }
    }
    assert_eq!(
        s.get(&format!("/api/jobs/{second}")).json()["state"],
        "queued"
    );

    // One of two tabs following the second goes away: the other still follows it,
    // so it is not cancelled.
    let mut staying = Events::open(&s, second);
    drop(Events::open(&s, second));
    let (_, seen) = staying.next().unwrap();
    // (The server sees a page gone when it next writes to it, every 200 ms.)
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let (_, seen_later) = staying.next().unwrap();
    assert_eq!(seen["state"], "queued", "{seen}");
    assert_eq!(seen_later["state"], "queued", "{seen_later}");
    assert_eq!(
        s.get(&format!("/api/jobs/{second}")).json()["state"],
        "queued"
    );

    // The third's follower goes away while it waits: it is cancelled.
    drop(Events::open(&s, third));
    await_state(&s, third, "cancelled");

    let cancelled = s.post(&format!("/api/jobs/{second}/cancel"), &json!({}));
    assert_eq!(cancelled.json()["state"], "cancelled");
    assert_eq!(
        s.post(&format!("/api/jobs/{first}/cancel"), &json!({}))
            .status,
        200
    );
    let end = loop {
        let (name, data) = events.next().unwrap();
        if name == "end" {
            break data;
        }
    };
    assert_eq!(end["state"], "cancelled", "{end}");
    assert!(end["done"].as_u64().unwrap() < 10_000_000);
    // The queued ones never ran: the place went to nobody.
    for id in [second, third] {
        let state = s.get(&format!("/api/jobs/{id}")).json();
        assert_eq!(state["state"], "cancelled");
        assert_eq!(state["done"], 0);
    }
    assert_eq!(s.get("/api/runs").json()["runs"], json!([]));
}

/// No request names a file outside the scenarios folder; a shipped scenario is never
/// overwritten, nor a copy of one in the folder.
#[test]
fn names_stay_in_the_folder_and_shipped_scenarios_stay_as_shipped() {
    let s = start(|_| {});
    let template = consortium_sim::TEMPLATE.as_bytes();
    for bad in [
        "..%2Foutside.json",
        "..%2F..%2Foutside.json",
        "%2Ftmp%2Foutside.json",
        "sub%2Fx.json",
        ".hidden.json",
        "no-extension",
    ] {
        let put = s.send("PUT", &format!("/api/scenarios/{bad}"), &[], template);
        assert_eq!(put.status, 400, "{bad}: {}", put.text());
        assert!(
            put.json()["error"]
                .as_str()
                .unwrap()
                .contains("is not a scenario name")
        );
        let get = s.get(&format!("/api/scenarios/{bad}"));
        assert_eq!(get.status, 400, "{bad}");
    }
    let get = s.get("/api/scenarios/..%2F..%2F..%2F..%2Fetc%2Fpasswd");
    assert_eq!(get.status, 400);
    assert!(!s.dir.path("outside.json").exists());
    assert!(
        !s.dir
            .0
            .path()
            .parent()
            .unwrap()
            .join("outside.json")
            .exists()
    );

    let put = s.send(
        "PUT",
        "/api/scenarios/four_districts_back_office.json",
        &[],
        template,
    );
    assert_eq!(put.status, 400);
    assert_eq!(
        put.json()["error"],
        "four_districts_back_office.json is a shipped scenario, which cannot be overwritten: save it under another name"
    );
    let shipped = s.get("/api/scenarios/four_districts_back_office.json");
    let file = std::fs::read(util::shipped("four_districts_back_office.json")).unwrap();
    assert_eq!(shipped.body, file);

    // A copy of a shipped scenario dropped in the folder is not overwritten either.
    std::fs::write(s.dir.path("scenarios/copy.json"), &file).unwrap();
    let put = s.send("PUT", "/api/scenarios/copy.json", &[], template);
    assert_eq!(put.status, 400);
    assert!(put.text().contains("is a copy of a shipped scenario"));
    assert_eq!(
        std::fs::read(s.dir.path("scenarios/copy.json")).unwrap(),
        file
    );

    // A good name saves, and the list shows it after the shipped ones.
    let put = s.send("PUT", "/api/scenarios/mine.json", &[], template);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        std::fs::read(s.dir.path("scenarios/mine.json")).unwrap(),
        template
    );
    let list = s.get("/api/scenarios").json();
    let files: Vec<&str> = list["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), consortium_sim::run::SHIPPED.len() + 2);
    assert_eq!(files[files.len() - 2..], ["copy.json", "mine.json"]);
}

/// What the run API tells on the way (here a rate typed as a whole percentage) comes
/// with a check and with a job's end, failed or not, as the command line prints it on
/// stderr; a scenario with nothing to tell has an empty list.
#[test]
fn notices_come_with_a_check_and_a_jobs_end() {
    let s = start(|_| {});
    let mut v: Value = serde_json::from_str(consortium_sim::TEMPLATE).unwrap();
    v["service"]["efficiency"] = json!(15);
    let file = s.dir.path("percent.json");
    std::fs::write(&file, v.to_string()).unwrap();
    let printed = util::sim(&["validate", file.to_str().unwrap()]);
    let checked = s.send("POST", "/api/validate", &[], v.to_string().as_bytes());
    let checked = checked.json();
    assert_eq!(checked["ok"], true, "{checked}");
    // The warning by field, as a report has it, and among the notices as text.
    assert_eq!(checked["warnings"][0]["pointer"], "/service/efficiency");
    let notices = checked["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{checked}");
    assert_eq!(notices[0]["kind"], "warning");
    let text = notices[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("/service/efficiency is 15, that is 1500 %: did you mean 0.15?"),
        "{text}"
    );
    assert_eq!(
        text,
        format!(
            "/service/efficiency {}",
            checked["warnings"][0]["message"].as_str().unwrap()
        )
    );
    assert!(
        printed.stderr.contains(&format!("warning: {text}\n")),
        "{}",
        printed.stderr
    );

    let run = |s: &Server| s.finish(run_of(json!({ "json": v, "name": "percent" }), 100, 1));
    let end = run(&s);
    assert_eq!(end["state"], "done", "{end}");
    assert_eq!(end["notices"], checked["notices"]);
    let sweep = s.finish(json!({
        "kind": "sweep", "scenario": { "json": v, "name": "percent" }, "trials": 100,
        "params": ["/service/transition_cost=100000,200000"],
    }));
    assert_eq!(sweep["state"], "shown", "{sweep}");
    assert_eq!(sweep["notices"][0], checked["notices"][0]);
    let plain = s.finish(run_of(
        json!({ "file": "four_districts_back_office.json" }),
        100,
        1,
    ));
    assert_eq!(plain["notices"], json!([]));

    // A job that fails after loading still tells what it found.
    let tight = start(|c| c.max_memory = Some(1 << 20));
    let failed = run(&tight);
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["notices"], checked["notices"]);
}

/// The validator's problems come back by field (JSON pointer), as the user types and
/// when a bad scenario is saved (422, nothing written).
#[test]
fn a_bad_scenarios_problems_are_located() {
    let s = start(|_| {});
    let mut v: Value = serde_json::from_str(consortium_sim::TEMPLATE).unwrap();
    v["partners"][1]["exit_fee"] = json!(-5);
    v["service"]["efficiency"] = json!({ "pert": [0.3, 0.2, 0.1] });
    let text = v.to_string();
    let checked = s.send("POST", "/api/validate", &[], text.as_bytes()).json();
    assert_eq!(checked["ok"], false);
    let paths: Vec<&str> = checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/partners/1/exit_fee"), "{checked}");
    assert!(paths.contains(&"/service/efficiency/pert"), "{checked}");
    let fee = &checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "/partners/1/exit_fee")
        .unwrap()["message"];
    assert!(fee.as_str().unwrap().contains("-5"), "{fee}");

    let saved = s.send("PUT", "/api/scenarios/bad.json", &[], text.as_bytes());
    assert_eq!(saved.status, 422);
    assert!(saved.json()["problems"].as_array().unwrap().len() >= 2);
    assert!(!s.dir.path("scenarios/bad.json").exists());

    let syntax = s.send("POST", "/api/validate", &[], b"{\"name\": ").json();
    assert_eq!(syntax["ok"], false);
    assert!(
        syntax["problems"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("the scenario is not valid JSON")
    );
    let good = s
        .send(
            "POST",
            "/api/validate",
            &[],
            consortium_sim::TEMPLATE.as_bytes(),
        )
        .json();
    assert_eq!(good["ok"], true, "{good}");

    // A file put in the folder by hand that is not JSON is named, with the place, when
    // the editor asks for it (not left to the browser's parser).
    std::fs::write(s.dir.path("scenarios/by hand.json"), "{\"name\": \"x\",\n}").unwrap();
    let by_hand = s.get("/api/scenarios/by%20hand.json");
    assert_eq!(by_hand.status, 400);
    assert_eq!(
        by_hand.json()["error"],
        "by hand.json is not valid JSON: trailing comma at line 2 column 1"
    );

    // A run of a bad edited scenario fails as the user's input, saying where.
    let end = s.finish(run_of(json!({ "json": v, "name": "draft" }), 100, 1));
    assert_eq!(end["state"], "failed");
    assert_eq!(end["user_input"], true);
    assert!(
        end["message"]
            .as_str()
            .unwrap()
            .contains("/partners/1/exit_fee")
    );
}

/// A path or query that does not parse, or a method a route does not take, is refused
/// before any handler runs: said in JSON with its status, as every error is, not in
/// axum's plain text (or an empty body) that a page reading `error` would fail on.
#[test]
fn malformed_requests_are_refused_in_json() {
    let s = start(|_| {});
    // axum's own words (its exact phrasing may change with its version), each naming
    // what did not parse.
    for (method, path, status, says) in [
        ("GET", "/api/runs/abc/report.json", 400, "`abc` to a `i64`"),
        ("GET", "/api/jobs/-1", 400, "`-1` to a `u64`"),
        (
            "POST",
            "/api/upload/x.json?replace=yes",
            400,
            "replace: invalid digit",
        ),
        ("DELETE", "/api/info", 405, "method not allowed"),
    ] {
        let reply = s.send(method, path, &[], b"{}");
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let error = reply.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains(says), "{method} {path}: {error}");
    }
    // Pages and answers that are not errors pass untouched.
    let reply = s.get("/api/info");
    assert_eq!(reply.status, 200);
    assert!(
        reply.json()["engine_version"].is_string(),
        "{}",
        reply.text()
    );
}

/// Requests over the limits are refused: a body over 1 MiB (413), more trials than
/// `max_trials` (400, saying so), a job of no known kind.
#[test]
fn limits_are_kept() {
    let s = start(|c| c.max_trials = 50_000);
    let big = vec![b' '; serve::MAX_BODY_BYTES + 1];
    let reply = s.send("POST", "/api/validate", &[], &big);
    assert_eq!(reply.status, 413);
    // Said in JSON with the limit, as every error is, not in axum's plain text.
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with("the file is larger than this server takes (1 MiB)"),
        "{error}"
    );
    let reply = s.send("POST", "/api/upload/big.xlsx", &[], &big);
    assert_eq!(reply.status, 413);
    assert!(reply.json()["error"].as_str().unwrap().contains("(1 MiB)"));
    let reply = s.post(
        "/api/jobs",
        &run_of(
            json!({ "file": "four_districts_back_office.json" }),
            50_001,
            1,
        ),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["error"],
        "`trials` 50001 is more than this server runs at once (50000, its --max-trials): ask for fewer"
    );
    // No trials is refused when the job is asked for, not by the job it would start.
    let reply = s.post(
        "/api/jobs",
        &run_of(json!({ "file": "four_districts_back_office.json" }), 0, 1),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "`trials` must be at least 1");
    // The scenario's own trials (100,000) are over the limit too.
    let end = s.finish(
        json!({ "kind": "run", "scenario": { "file": "four_districts_back_office.json" } }),
    );
    assert_eq!(end["state"], "failed");
    assert!(
        end["message"]
            .as_str()
            .unwrap()
            .contains("`trials` 100000 is more")
    );
    let reply = s.post("/api/jobs", &json!({ "kind": "dance" }));
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("\"dance\" is not a job")
    );
    // A value of the wrong type is named by its field, not only by its position.
    let reply = s.post("/api/jobs", &json!({ "kind": "run", "trials": "many" }));
    assert_eq!(reply.status, 400);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with("the request's `trials`: invalid type: string \"many\""),
        "{error}"
    );
    let reply = s.post("/api/jobs", &json!({ "kind": "agreement", "terms": [3] }));
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the request's `terms[0]`: invalid type: integer `3`"),
        "{}",
        reply.text()
    );
    let reply = s.send("POST", "/api/jobs", &[], b"{\"kind\": \"run\"} extra");
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the request: trailing characters"),
        "{}",
        reply.text()
    );
    assert_eq!(s.get("/api/nothing").status, 404);
}

/// The guard: a foreign Host (DNS rebinding) or Origin (another site's page) is
/// refused; every answer carries the Content-Security-Policy, and the page has no
/// inline script.
#[test]
fn foreign_hosts_and_origins_are_refused() {
    let s = start(|_| {});
    let evil = s.send(
        "GET",
        "/api/scenarios",
        &[("Host", "evil.example:8300")],
        b"",
    );
    assert_eq!(evil.status, 403);
    // Said in JSON under /api/, as every error of the API is; as text on a page.
    assert_eq!(
        evil.json()["error"],
        "refused: this server answers only requests addressed to it by its own address (Host)"
    );
    let page = s.send("GET", "/", &[("Host", "evil.example:8300")], b"");
    assert_eq!(page.status, 403);
    assert_eq!(
        page.text(),
        "refused: this server answers only requests addressed to it by its own address (Host)\n"
    );
    let port = s.address.port().to_string();
    let localhost = format!("localhost:{port}");
    let ok = s.send("GET", "/api/scenarios", &[("Host", &localhost)], b"");
    assert_eq!(ok.status, 200);
    let cross = s.send(
        "POST",
        "/api/jobs",
        &[("Origin", "http://evil.example")],
        b"{}",
    );
    assert_eq!(cross.status, 403);
    assert!(
        cross.json()["error"]
            .as_str()
            .is_some_and(|e| e.ends_with("(Origin)"))
    );
    let own = format!("http://{}", s.host());
    let same = s.send("POST", "/api/validate", &[("Origin", &own)], b"{}");
    assert_eq!(same.status, 200);

    let page = s.get("/");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-eval"));
    assert!(csp.starts_with("default-src 'none'"));
    assert_eq!(evil.header("content-security-policy"), Some(csp));
    let html = page.text();
    assert!(html.contains("<script src=\"/app.js\" defer></script>"));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("http://") && !html.contains("https://"));
    let script = s.get("/app.js").text();
    assert!(
        !script.contains("innerHTML"),
        "user text goes in as text only"
    );
}

/// With a token every request needs it: refused without, a first visit with ?token=
/// sets the cookie, and the cookie lets requests in.
#[test]
fn a_token_is_needed_when_the_server_has_one() {
    let s = start(|c| c.token = Some("s3cret".into()));
    assert_eq!(s.get("/").status, 403);
    let refused = s.get("/api/scenarios");
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json()["error"],
        "refused: this server needs its token: open the address it printed at start, with ?token="
    );
    assert_eq!(s.get("/?token=wrong").status, 403);
    let first = s.get("/?token=s3cret");
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/"));
    let cookie = first.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let pair = cookie.split(';').next().unwrap();
    let again = s.send("GET", "/api/scenarios", &[("Cookie", pair)], b"");
    assert_eq!(again.status, 200);
    let bad = s.send(
        "GET",
        "/api/scenarios",
        &[("Cookie", "consortium_sim_token=s3cre")],
        b"",
    );
    assert_eq!(bad.status, 403);
}

/// A server bound off loopback without a token gets one, which its URL carries.
#[test]
fn an_address_off_loopback_gets_a_token() {
    let dir = Dir::new();
    let mut config = Config::new("0.0.0.0:0".parse().unwrap());
    config.scenarios = dir.path("scenarios");
    config.db = dir.path("h.sqlite3");
    let server = serve::bind(config).unwrap();
    let url = server.url();
    let token = url.split("?token=").nth(1).expect("a token in the URL");
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
}

/// The history: label, list, open, compare two re-runnable runs under common random
/// numbers (the `compare` command's page), delete. Sweep and sensitivity jobs give their
/// pages.
#[test]
fn history_compare_and_analyses() {
    let s = start(|_| {});
    let base = json!({ "file": "four_districts_back_office.json" });
    let mut edited: Value = serde_json::from_slice(
        &std::fs::read(util::shipped("four_districts_back_office.json")).unwrap(),
    )
    .unwrap();
    edited["partners"][0]["exit_fee"] = json!(900000);
    let a = s.finish(run_of(base.clone(), 2000, 5))["run"]
        .as_i64()
        .unwrap();
    let b = s.finish(run_of(
        json!({ "json": edited, "name": "higher fee" }),
        2000,
        5,
    ))["run"]
        .as_i64()
        .unwrap();
    let labelled = s.send(
        "PATCH",
        &format!("/api/runs/{b}"),
        &[],
        br#"{"label": "exit fee 900k"}"#,
    );
    assert_eq!(labelled.status, 200);
    let runs = s.get("/api/runs").json();
    assert_eq!(runs["runs"][0]["id"], b);
    assert_eq!(runs["runs"][0]["label"], "exit fee 900k");
    assert_eq!(runs["runs"][1]["id"], a);
    // A label is one line of the history's table: a line break, a control character
    // or a document's length is refused, on a kept run and on a new one, and the label
    // kept stays.
    let long = "x".repeat(201);
    for (label, says) in [
        (
            "fee\n900k",
            "`label` holds a line break (U+000A) at character 4: a label is one line",
        ),
        (
            "fee\u{1b}[2J",
            "`label` holds the control character (U+001B) at character 4: a label is one line",
        ),
        (
            long.as_str(),
            "`label` has 201 characters; a label may have at most 200",
        ),
    ] {
        let body = json!({ "label": label }).to_string();
        let reply = s.send("PATCH", &format!("/api/runs/{b}"), &[], body.as_bytes());
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.json()["error"], says);
        let mut request = run_of(base.clone(), 100, 5);
        request["label"] = json!(label);
        let reply = s.post("/api/jobs", &request);
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.json()["error"], says);
    }
    assert_eq!(
        s.get("/api/runs").json()["runs"][0]["label"],
        "exit fee 900k"
    );

    let end = s.finish(json!({ "kind": "compare", "runs": [a, b] }));
    assert_eq!(end["state"], "shown", "{end}");
    assert_eq!(end["released"], false, "{end}");
    let page = s.get(&format!("/api/jobs/{}/page.html", end["job"])).text();
    assert!(page.contains("four_districts_back_office") && page.contains("higher fee"));
    let data = s.get(&format!("/api/jobs/{}/data", end["job"])).json();
    assert_eq!(data["trials"], 2000);
    // Runs of another seed or sampling are not run again as if they were the first's.
    let lhs = s.finish(json!({
        "kind": "run", "scenario": base, "trials": 2048, "seed": 7, "sampling": "lhs"
    }))["run"]
        .as_i64()
        .unwrap();
    let refused = s.post("/api/jobs", &json!({ "kind": "compare", "runs": [a, lhs] }));
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["error"],
        format!(
            "runs {a} and {lhs} cannot be compared trial by trial: they differ in seed (5 and \
             7), trials (2,000 and 2,048), sampling (plain and lhs); a comparison runs both \
             with one seed, trial count and sampling on this engine (common random numbers) \
             and takes one's figures from the other's, in one currency"
        )
    );
    // Nor runs in another currency, whose figures cannot be taken from the first's.
    let mut euro = util::shipped_json("four_districts_back_office.json");
    euro["currency"] = json!("€");
    let euro = s.finish(run_of(json!({ "json": euro, "name": "euro" }), 2000, 5))["run"]
        .as_i64()
        .unwrap();
    let refused = s.post(
        "/api/jobs",
        &json!({ "kind": "compare", "runs": [a, euro] }),
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!(
                "runs {a} and {euro} cannot be compared trial by trial: they differ in \
                 currency (\"£\" and \"€\");"
            )),
        "{}",
        refused.text()
    );
    assert_eq!(
        s.send("DELETE", &format!("/api/runs/{euro}"), &[], b"")
            .status,
        200
    );

    let sweep = s.finish(json!({
        "kind": "sweep", "scenario": base, "trials": 500, "seed": 1,
        "params": ["/service/efficiency=0.1,0.2"]
    }));
    assert_eq!(sweep["state"], "shown", "{sweep}");
    // A sweep of nothing is refused by name (it once ran, then failed on its page).
    let empty = s.finish(json!({ "kind": "sweep", "scenario": base, "trials": 500 }));
    assert_eq!(empty["state"], "failed", "{empty}");
    assert_eq!(empty["user_input"], true, "{empty}");
    assert!(
        empty["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("a sweep needs a parameter: Inputs to vary (`params`) POINTER="),
        "{empty}"
    );
    let page = s
        .get(&format!("/api/jobs/{}/page.html", sweep["job"]))
        .text();
    assert!(page.contains("data-chart"));
    let sens = s.finish(json!({
        "kind": "sensitivity", "scenario": base, "trials": 500, "seed": 1,
        "switch": ["/service/efficiency"]
    }));
    assert_eq!(sens["state"], "shown", "{sens}");

    let csv = s.finish(json!({ "kind": "trials_csv", "runs": [a] }));
    assert_eq!(csv["state"], "shown");
    let table = s.get(&format!("/api/jobs/{}/data", csv["job"]));
    assert_eq!(
        table.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let dir = Dir::new();
    let out = dir.path("t.csv");
    util::sim(&[
        "run",
        "scenarios/four_districts_back_office.json",
        "--trials",
        "2000",
        "--seed",
        "5",
        "--trials-csv",
        out.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(table.body, std::fs::read(out).unwrap());
    // A trials table has no page and no workbook, and a job never started is not
    // there: each is 404, said as such.
    for (path, message) in [
        (
            format!("/api/jobs/{}/page.html", csv["job"]),
            "this job has no page\"",
        ),
        (
            format!("/api/jobs/{}/results.xlsx", csv["job"]),
            "this job has no workbook\"",
        ),
        ("/api/jobs/999999".to_string(), "there is no job 999999"),
    ] {
        let reply = s.send("GET", &path, &[], b"");
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.text().contains(message), "{path}: {}", reply.text());
    }

    assert_eq!(
        s.send("DELETE", &format!("/api/runs/{a}"), &[], b"").status,
        200
    );
    // A deleted run is not there: 404, as an unknown job is.
    assert_eq!(s.get(&format!("/api/runs/{a}")).status, 404);
    assert_eq!(
        s.send("DELETE", &format!("/api/runs/{a}"), &[], b"").status,
        404
    );
    let relabel = s.send(
        "PATCH",
        &format!("/api/runs/{a}"),
        &[],
        br#"{"label": "x"}"#,
    );
    assert_eq!(relabel.status, 404);
    assert_eq!(
        relabel.json()["error"],
        format!("there is no run {a} in the history")
    );
    // b and the LHS run are left.
    assert_eq!(
        s.get("/api/runs").json()["runs"].as_array().unwrap().len(),
        2
    );
}

/// An agreement analysis from the web app gives the `agreement` command's figures (its
/// JSON, less the run's timings and provenance), a page with the frontier chart and a
/// workbook; a set of terms the engine cannot read fails the job, naming the term.
#[test]
fn an_agreement_job_gives_the_commands_figures() {
    let s = start(|_| {});
    let base = json!({ "file": "four_districts_back_office.json" });
    let terms = [
        "/partners/*/lock_in_years=0,5",
        "/partners/*/exit_fee=0,250000",
    ];
    let end = s.finish(json!({
        "kind": "agreement", "scenario": base, "trials": 1500, "seed": 3,
        "terms": terms, "max_worse_off": 0.25
    }));
    assert_eq!(end["state"], "shown", "{end}");
    let job = &end["job"];
    let mut page_data = s.get(&format!("/api/jobs/{job}/data")).json();

    let dir = Dir::new();
    let out = dir.path("a.json");
    let cli = util::sim(&[
        "agreement",
        "scenarios/four_districts_back_office.json",
        "--term",
        terms[0],
        "--term",
        terms[1],
        "--max-worse-off",
        "0.25",
        "--trials",
        "1500",
        "--seed",
        "3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    cli.ok();
    let mut file: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    for v in [&mut page_data, &mut file] {
        let o = v.as_object_mut().unwrap();
        o.remove("run").expect("timings");
        o.remove("provenance").expect("provenance");
    }
    assert_eq!(page_data, file);
    assert_eq!(page_data["sets"].as_array().unwrap().len(), 4);
    assert_eq!(page_data["limits"]["max_worse_off"], 0.25);

    let page = s.get(&format!("/api/jobs/{job}/page.html")).text();
    assert!(page.contains("data-chart"), "no chart");
    assert!(page.contains("frontier"), "no frontier");
    let book = s.get(&format!("/api/jobs/{job}/results.xlsx"));
    assert_eq!(book.header("content-type"), Some(XLSX));
    assert_eq!(
        book.header("content-disposition"),
        Some("attachment; filename=\"agreement.xlsx\"")
    );

    let bad = s.finish(json!({
        "kind": "agreement", "scenario": base, "trials": 500,
        "terms": ["/partners/*/exit_fee"]
    }));
    assert_eq!(bad["state"], "failed", "{bad}");
    let message = bad["message"].as_str().unwrap_or_default();
    assert!(message.contains("/partners/*/exit_fee"), "{bad}");
    // No terms: the message names the request's list, not the command line's options.
    let none = s.finish(json!({
        "kind": "agreement", "scenario": base, "trials": 500, "terms": []
    }));
    assert_eq!(
        none["message"],
        "an agreement needs at least one term in Terms (`terms`), each POINTER=V1,V2,... (e.g. /partners/*/exit_fee=0,250000)",
        "{none}"
    );
    let limit = s.post(
        "/api/jobs",
        &json!({
            "kind": "agreement", "scenario": base, "trials": 500,
            "terms": terms, "max_collapse": 2
        }),
    );
    let refused = if limit.status == 202 {
        let id = limit.json()["job"].as_u64().unwrap();
        await_state(&s, id, "failed")["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        limit.text()
    };
    assert!(
        refused
            .contains("Most P(collapse) (`max_collapse`) 2: must be a probability between 0 and 1"),
        "{refused}"
    );
}

/// The history survives the server: killed with SIGKILL in the middle of a run, the
/// server started again on the same file lists every earlier run, reports intact.
#[cfg(unix)]
#[test]
fn a_killed_server_keeps_its_earlier_runs() {
    let dir = Dir::new();
    let db = dir.path("h.sqlite3");
    let launch = || {
        let mut child = util::cmd(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
            "--scenarios",
            dir.path("scenarios").to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        let address: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        (
            child,
            Server {
                address,
                dir: Dir::new(),
            },
        )
    };
    let (mut child, s) = launch();
    let base = json!({ "file": "four_districts_back_office.json" });
    let first = s.finish(run_of(base.clone(), 2000, 1))["run"]
        .as_i64()
        .unwrap();
    let report = s.get(&format!("/api/runs/{first}/report.json")).body;
    let job = s.job(run_of(base, 10_000_000, 1));
    await_state(&s, job, "running");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (mut child, s) = launch();
    let runs = s.get("/api/runs").json();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs["runs"][0]["id"], first);
    assert_eq!(
        s.get(&format!("/api/runs/{first}/report.json")).body,
        report
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(Path::new(&db).exists());
}

/// Names from a scenario are text everywhere: in the kept pages they are escaped, and
/// the API gives them back as JSON strings.
#[test]
fn user_text_is_escaped() {
    let s = start(|_| {});
    let mut v: Value = serde_json::from_str(consortium_sim::TEMPLATE).unwrap();
    v["name"] = json!("<script>alert(1)</script> & Co");
    v["partners"][0]["name"] = json!("<img src=x onerror=alert(2)>");
    let end = s.finish(run_of(json!({ "json": v, "name": "<b>draft</b>" }), 500, 1));
    assert_eq!(end["state"], "done", "{end}");
    let id = end["run"].as_i64().unwrap();
    for piece in ["report.html", "trace.html"] {
        let page = s.get(&format!("/api/runs/{id}/{piece}")).text();
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x"),
            "{piece}"
        );
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
            "{piece}"
        );
    }
    let listed = s.get(&format!("/api/runs/{id}")).json();
    assert_eq!(listed["title"], "<script>alert(1)</script> & Co");
}

/// The small routes: the schema is the `schema` command's, the template `init`'s, the
/// info names this engine and the limits; an unknown job or run is 404 or a message.
#[test]
fn schema_template_and_info() {
    let s = start(|c| c.max_trials = 1234);
    let schema = s.get("/api/schema");
    assert_eq!(schema.header("content-type"), Some("application/json"));
    assert_eq!(schema.text(), util::sim(&["schema"]).stdout);
    assert_eq!(s.get("/api/template").text(), util::sim(&["init"]).stdout);
    let info = s.get("/api/info").json();
    assert_eq!(info["engine_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["max_trials"], 1234);
    assert_eq!(info["max_body_bytes"], 1 << 20);
    assert_eq!(s.get("/api/jobs/99").status, 404);
    assert_eq!(s.get("/api/jobs/99/events").status, 404);
    assert_eq!(s.get("/api/jobs/99/page.html").status, 404);
    assert_eq!(s.post("/api/jobs/99/cancel", &json!({})).status, 404);
    let missing = s.get("/api/runs/7/report.json");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "there is no run 7 in the history");
    assert_eq!(s.get("/api/runs/7/secrets.txt").status, 404);
    let script = s.get("/app.js");
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(s.get("/app.css").status, 200);
}

/// Each run is under the command line's memory guard: one that needs more than the
/// server's `max_memory` fails before it starts, as the user's input, saying why.
#[test]
fn the_memory_guard_refuses_a_run_too_large() {
    let s = start(|c| c.max_memory = Some(1 << 20));
    let end = s.finish(run_of(
        json!({ "file": "four_districts_back_office.json" }),
        100_000,
        1,
    ));
    assert_eq!(end["state"], "failed", "{end}");
    assert_eq!(end["user_input"], true);
    let message = end["message"].as_str().unwrap();
    assert!(
        message.starts_with("100000 trials of this scenario need about"),
        "{message}"
    );
    assert!(
        message.ends_with(
            "more than the 1.0 MiB allowed (set by the server's --max-memory); ask for fewer \
             with the trials or the scenario's \"trials\", split the run with `shard`, or \
             raise the server's --max-memory"
        ),
        "{message}"
    );
    assert_eq!(end["done"], 0);
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The shipped four districts scenario's JSON.
fn four_districts() -> Value {
    util::shipped_json("four_districts_back_office.json")
}

/// A workbook's sheet, read with calamine from the bytes of a download.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .expect("the download opens as a workbook");
    let range = book.worksheet_range(name).expect("the sheet is there");
    range.rows().map(|r| r.to_vec()).collect()
}

/// The value of the Summary figure whose report key is `key`.
fn summary_figure(bytes: &[u8], key: &str) -> f64 {
    let rows = sheet(bytes, "Summary");
    let row = rows
        .iter()
        .find(|r| r.get(2) == Some(&calamine::Data::String(key.into())))
        .unwrap_or_else(|| panic!("no {key} on the Summary sheet"));
    match row[1] {
        calamine::Data::Float(x) => x,
        ref other => panic!("{key} is {other:?}"),
    }
}

/// A scenario workbook uploaded is kept as JSON under its base name, which runs as the
/// JSON it came from does; the scenario downloaded as a workbook reads back to the
/// same scenario. A name that is neither .json nor .xlsx is refused.
#[test]
fn an_uploaded_workbook_is_kept_as_json_and_runs_as_its_json_does() {
    use consortium_sim::scenario::{self, workbook};
    let s = start(|_| {});
    let value = four_districts();
    let book = workbook::write(&value, "test").unwrap();
    let up = s.send("POST", "/api/upload/Districts%20plan.xlsx", &[], &book);
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(up.json()["saved"], "Districts plan.json");
    assert_eq!(up.json()["uploaded"], "Districts plan.xlsx");
    assert_eq!(up.json()["notices"], json!([]));
    let kept = std::fs::read(s.dir.path("scenarios/Districts plan.json")).unwrap();
    let kept: Value = serde_json::from_slice(&kept).expect("kept as JSON");
    assert_eq!(
        crate::workbook::numbers_as_doubles(&kept),
        crate::workbook::numbers_as_doubles(&value)
    );
    let listed = s.get("/api/scenarios").json();
    assert!(
        listed["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "Districts plan.json"),
        "{listed}"
    );

    // Its run is the JSON's: the same figures for the same seed and trials.
    let report = |scenario: Value| {
        let end = s.finish(run_of(scenario, 2000, 4));
        assert_eq!(end["state"], "done", "{end}");
        s.get(&format!("/api/runs/{}/report.json", end["run"]))
            .json()
    };
    // A formula read as its saved 0 (as LibreOffice saves a workbook a program wrote) is
    // told at upload: the JSON kept holds the 0, and nothing of the formula.
    let cell = regex::Regex::new(r#"(<c r="J3"[^>]*>)<v>[^<]*</v>"#).unwrap();
    let zeroed = crate::workbook::rewrite(&book, "xl/worksheets/sheet3.xml", |x| {
        cell.replace(x, "${1}<f>J2*0</f><v>0</v>").into_owned()
    });
    let zeroed = crate::workbook::rewrite(&zeroed, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    let up = s.send("POST", "/api/upload/zeroed.xlsx", &[], &zeroed);
    assert_eq!(up.status, 200, "{}", up.text());
    let told = up.json()["notices"].clone();
    assert_eq!(told[0]["kind"], "warning", "{told}");
    assert!(
        told[0]["text"].as_str().unwrap().starts_with(
            "Partners!J3 (/partners/1/exit_fee) is 0, the saved value of its formula =J2*0: "
        ),
        "{told}"
    );

    // Refused because of that 0 (trials must be at least 1): the warning comes with
    // the problems, since it says why the cell holds 0.
    let trials = crate::workbook::rewrite(&book, "xl/worksheets/sheet1.xml", |x| {
        x.replace(
            r#"<c r="C8" s="3"><v>100000</v>"#,
            r#"<c r="C8" s="3"><f>1*0</f><v>0</v>"#,
        )
    });
    let trials = crate::workbook::rewrite(&trials, "xl/workbook.xml", |x| {
        x.replace(" fullCalcOnLoad=\"1\"", "")
    });
    let up = s.send("POST", "/api/upload/refused.xlsx", &[], &trials);
    assert_eq!(up.status, 422, "{}", up.text());
    let up = up.json();
    assert_eq!(up["problems"][0]["path"], "/trials", "{up}");
    assert!(
        up["notices"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Scenario!C8 (/trials) is 0, the saved value of its formula =1*0: "),
        "{up}"
    );
    assert!(!s.dir.path("scenarios/refused.json").exists());

    let from_upload = report(json!({ "file": "Districts plan.json" }));
    let from_json = report(json!({ "file": "four_districts_back_office.json" }));
    for part in ["/consortium", "/partners"] {
        assert_eq!(from_upload.pointer(part), from_json.pointer(part), "{part}");
    }

    // Downloaded as a workbook, it reads back to the same scenario.
    let down = s.get("/api/scenarios/Districts%20plan.json/xlsx");
    assert_eq!(down.status, 200, "{}", down.text());
    assert_eq!(down.header("content-type"), Some(XLSX));
    assert_eq!(
        down.header("content-disposition"),
        Some("attachment; filename=\"Districts plan.xlsx\"")
    );
    let back = workbook::read(&down.body, "down.xlsx").unwrap().value;
    assert_eq!(
        crate::workbook::numbers_as_doubles(&back),
        crate::workbook::numbers_as_doubles(&value)
    );
    let summary = |v: &Value| scenario::from_value(v, "x").unwrap().summary();
    assert_eq!(summary(&back), summary(&value));
    // A shipped one too, and the editor's draft (JSON in the body).
    let shipped = s.get("/api/scenarios/four_districts_back_office.json/xlsx");
    assert_eq!(shipped.status, 200);
    assert_eq!(workbook::read(&shipped.body, "s.xlsx").unwrap().value, back);
    let draft = s.send("POST", "/api/workbook", &[], value.to_string().as_bytes());
    assert_eq!(draft.status, 200, "{}", draft.text());
    assert_eq!(draft.header("content-type"), Some(XLSX));
    assert_eq!(workbook::read(&draft.body, "d.xlsx").unwrap().value, back);

    // A JSON upload is kept as sent; another extension is refused.
    let text = consortium_sim::TEMPLATE.as_bytes();
    let up = s.send("POST", "/api/upload/plain.json", &[], text);
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(
        std::fs::read(s.dir.path("scenarios/plain.json")).unwrap(),
        text
    );
    // A second upload of that name does not replace the first unless asked to.
    let again = s.send("POST", "/api/upload/plain.xlsx", &[], &book);
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(
        again
            .text()
            .contains("the scenarios folder has a plain.json already"),
        "{}",
        again.text()
    );
    assert_eq!(
        std::fs::read(s.dir.path("scenarios/plain.json")).unwrap(),
        text
    );
    let replaced = s.send("POST", "/api/upload/plain.xlsx?replace=1", &[], &book);
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_ne!(
        std::fs::read(s.dir.path("scenarios/plain.json")).unwrap(),
        text
    );
    let odd = s.send("POST", "/api/upload/plan.xls", &[], &book);
    assert_eq!(odd.status, 400);
    assert!(
        odd.text().contains("must end in .json or .xlsx"),
        "{}",
        odd.text()
    );
    // A name as browsers and people make them: a copy's "(1)", letters outside ASCII.
    let named = s.send("POST", "/api/upload/%C3%A9tude%20(1).xlsx", &[], &book);
    assert_eq!(named.status, 200, "{}", named.text());
    assert_eq!(named.json()["saved"], "étude (1).json");
    assert!(s.dir.path("scenarios/étude (1).json").exists());
    let end = s.finish(run_of(json!({ "file": "étude (1).json" }), 500, 4));
    assert_eq!(end["state"], "done", "{end}");
    // Its download's header is ASCII: the name percent-encoded, with a plain fallback.
    let down = s.get("/api/scenarios/%C3%A9tude%20(1).json/xlsx");
    assert_eq!(down.status, 200, "{}", down.text());
    assert_eq!(
        down.header("content-disposition"),
        Some("attachment; filename=\"_tude (1).xlsx\"; filename*=UTF-8''%C3%A9tude%20%281%29.xlsx")
    );
    let outside = s.send("POST", "/api/upload/..%2Fout.xlsx", &[], &book);
    assert_eq!(outside.status, 400);
    assert!(outside.text().contains("is not a scenario name"));
    assert!(!s.dir.path("out.json").exists());
}

/// A workbook the validator refuses is not kept, and each problem names its sheet and
/// cell (as the command line does) beside its field; a damaged one is refused as such.
#[test]
fn a_workbooks_mistakes_are_refused_by_sheet_and_cell() {
    use consortium_sim::scenario::workbook;
    let s = start(|_| {});
    let mut value = four_districts();
    value["partners"][1]["exit_fee"] = json!(-5);
    let book = workbook::write(&value, "test").unwrap();
    let up = s.send("POST", "/api/upload/bad.xlsx", &[], &book);
    assert_eq!(up.status, 422, "{}", up.text());
    let body = up.json();
    let fee = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "/partners/1/exit_fee")
        .unwrap_or_else(|| panic!("{body}"));
    let cell = fee["cell"].as_str().unwrap();
    assert!(
        cell.starts_with("Partners!") && cell.ends_with('3'),
        "{cell}"
    );
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("bad.xlsx has 1 problem"), "{error}");
    assert!(
        error.contains(&format!(
            "{cell} (/partners/1/exit_fee): -5 is out of range"
        )),
        "{error}"
    );
    assert!(!s.dir.path("scenarios/bad.json").exists());

    let damaged = s.send(
        "POST",
        "/api/upload/broken.xlsx",
        &[],
        b"PK\x03\x04 not a zip",
    );
    assert_eq!(damaged.status, 400);
    assert!(
        damaged
            .text()
            .contains("broken.xlsx is not a readable Excel workbook"),
        "{}",
        damaged.text()
    );
    // The draft's workbook is refused alike, by field.
    let draft = s.send("POST", "/api/workbook", &[], value.to_string().as_bytes());
    assert_eq!(draft.status, 422);
    assert_eq!(draft.json()["problems"][0]["path"], "/partners/1/exit_fee");
}

/// A kept run's results workbook, made again from its scenario, seed and trials, is
/// `run --xlsx`'s: its Summary's mean NPV is the kept report's. Sweeps, sensitivity
/// analyses and comparisons give theirs with their pages. The guard applies to these
/// routes as to every other; a run kept by another engine version is not made again.
#[test]
fn results_workbooks_are_downloaded() {
    let s = start(|_| {});
    let base = json!({ "file": "four_districts_back_office.json" });
    let end = s.finish(run_of(base.clone(), 2000, 5));
    let id = end["run"].as_i64().unwrap();
    let report = s.get(&format!("/api/runs/{id}/report.json")).json();
    let made = s.finish(json!({ "kind": "xlsx", "runs": [id] }));
    assert_eq!(made["state"], "shown", "{made}");
    let book = s.get(&format!("/api/jobs/{}/data", made["job"]));
    assert_eq!(book.status, 200);
    assert_eq!(book.header("content-type"), Some(XLSX));
    assert_eq!(
        book.header("content-disposition"),
        Some(format!("attachment; filename=\"run-{id}.xlsx\"").as_str())
    );
    for key in ["npv.mean", "prob_npv_negative.estimate", "npv.p05"] {
        let kept = report["consortium"]
            .pointer(&format!("/{}", key.replace('.', "/")))
            .unwrap()
            .as_f64()
            .unwrap();
        assert_eq!(
            summary_figure(&book.body, &format!("consortium.{key}")),
            kept
        );
    }
    let trials = sheet(&book.body, "Trials");
    assert_eq!(
        trials
            .iter()
            .filter(|r| matches!(r[0], calamine::Data::Float(_)))
            .count(),
        2000
    );
    let foreign = s.send(
        "GET",
        &format!("/api/jobs/{}/data", made["job"]),
        &[("Host", "evil.example")],
        b"",
    );
    assert_eq!(foreign.status, 403);

    let sweep = s.finish(json!({
        "kind": "sweep", "scenario": base, "trials": 300, "seed": 1,
        "params": ["/service/efficiency=0.1,0.2"]
    }));
    let book = s.get(&format!("/api/jobs/{}/results.xlsx", sweep["job"]));
    assert_eq!(book.header("content-type"), Some(XLSX));
    assert_eq!(
        book.header("content-disposition"),
        Some("attachment; filename=\"sweep.xlsx\"")
    );
    assert!(sheet(&book.body, "Sweep").len() > 2);
    let other = s.finish(run_of(base.clone(), 2000, 5))["run"]
        .as_i64()
        .unwrap();
    let compared = s.finish(json!({ "kind": "compare", "runs": [id, other] }));
    let book = s.get(&format!("/api/jobs/{}/results.xlsx", compared["job"]));
    assert_eq!(book.status, 200);
    assert!(!sheet(&book.body, "Comparison").is_empty());
    // A run has no analysis workbook (its own is made by an `xlsx` job).
    assert_eq!(
        s.get(&format!("/api/jobs/{}/results.xlsx", end["job"]))
            .status,
        404
    );

    let db = rusqlite::Connection::open(s.dir.path("history.sqlite3")).unwrap();
    db.execute(
        "UPDATE runs SET engine_version = '0.0.1' WHERE id = ?1",
        [other],
    )
    .unwrap();
    let refused = s.post("/api/jobs", &json!({ "kind": "xlsx", "runs": [other] }));
    assert_eq!(refused.status, 400);
    assert!(
        refused.text().contains("was made by engine 0.0.1"),
        "{}",
        refused.text()
    );
}

/// A run may ask for Latin hypercube sampling: its kept report is the command line's
/// `run --sampling lhs`, the listing says how it sampled, its trial table is made again
/// the same way, and two kept runs sampled differently are not paired. A sampling
/// method the engine does not know is refused by name.
#[test]
fn a_latin_hypercube_run_is_kept_with_its_sampling() {
    let s = start(|_| {});
    let four = json!({ "file": "four_districts_back_office.json" });
    let mut request = run_of(four.clone(), 3000, 11);
    request["sampling"] = json!("lhs");
    let end = s.finish(request);
    assert_eq!(end["state"], "done", "{end}");
    let id = end["run"].as_i64().unwrap();
    let listed = s.get(&format!("/api/runs/{id}")).json();
    assert_eq!(listed["sampling"], "lhs");
    let kept = s.get(&format!("/api/runs/{id}/report.json")).text();
    assert!(kept.contains("\"method\": \"lhs\""), "{kept}");

    let dir = Dir::new();
    let (out, csv) = (dir.path("cli.json"), dir.path("cli.csv"));
    util::sim(&[
        "run",
        "scenarios/four_districts_back_office.json",
        "--trials",
        "3000",
        "--seed",
        "11",
        "--sampling",
        "lhs",
        "--out",
        out.to_str().unwrap(),
        "--trials-csv",
        csv.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        normalise(&kept),
        normalise(&std::fs::read_to_string(&out).unwrap())
    );
    let table = s.finish(json!({ "kind": "trials_csv", "runs": [id] }));
    assert_eq!(table["state"], "shown", "{table}");
    let remade = s.get(&format!("/api/jobs/{}/data", table["job"]));
    assert_eq!(remade.body, std::fs::read(&csv).unwrap());

    // A plain run of the same file, seed and trials lists as plain.
    let plain = s.finish(run_of(four.clone(), 3000, 11))["run"]
        .as_i64()
        .unwrap();
    assert_eq!(
        s.get(&format!("/api/runs/{plain}")).json()["sampling"],
        "plain"
    );

    let mut bad = run_of(four, 3000, 11);
    bad["sampling"] = json!("sobol");
    let reply = s.post("/api/jobs", &bad);
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply.text().contains(
            "`sampling`: unknown sampling method \\\"sobol\\\"; expected plain or lhs (Latin hypercube)"
        ),
        "{}",
        reply.text()
    );
}

/// A history kept before runs recorded their sampling opens, and its runs list as
/// plain (the only sampling there was).
#[test]
fn a_history_from_before_sampling_opens_with_its_runs_plain() {
    let dir = Dir::new();
    let path = dir.path("old.sqlite3");
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, created TEXT NOT NULL, label TEXT NOT \
             NULL DEFAULT '', title TEXT NOT NULL, file TEXT NOT NULL, scenario BLOB NOT NULL, \
             seed INTEGER NOT NULL, trials INTEGER NOT NULL, engine_version TEXT NOT NULL, \
             mean_npv REAL NOT NULL, prob_loss REAL NOT NULL, currency TEXT NOT NULL, summary \
             TEXT NOT NULL, report_json TEXT NOT NULL, report_html TEXT NOT NULL, trace_html \
             TEXT NOT NULL);
             INSERT INTO runs VALUES (1, '2026-12-01T10:00:00Z', '', 'Old', 'old.json', x'7b7d', \
             7, 2000, '0.4.0', 1.5, 0.25, '£', '', '{}', '', '');",
        )
        .unwrap();
    }
    let s = start(|c| c.db = path.clone());
    let runs = s.get("/api/runs").json();
    assert_eq!(runs["runs"][0]["sampling"], "plain", "{runs}");
    assert_eq!(runs["runs"][0]["seed"], 7);
    // The column is there now: a new run is kept beside the old one.
    let end = s.finish(run_of(
        json!({ "file": "four_districts_back_office.json" }),
        1000,
        2,
    ));
    assert_eq!(end["state"], "done", "{end}");
    assert_eq!(
        s.get("/api/runs").json()["runs"].as_array().unwrap().len(),
        2
    );
}
