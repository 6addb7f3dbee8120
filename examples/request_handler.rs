//! A multi-threaded request handler: one compiled module shared by every thread, and a
//! fresh sandbox per request (so no state leaks between requests), with per-request limits.
//!
//! Run it with `cargo run --example request_handler [THREADS] [REQUESTS_PER_THREAD]`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rvm::{Engine, Error, HostFunctions, Module, Sandbox, SandboxLimits};

/// The "user script": routes a request to a response. Declares the host function it uses.
const HANDLER: &str = r#"
extern fn db.price(item: str) -> int;

var served = 0;

fn handle(path: str, query: [str: str]) -> [str: str] {
    served += 1;
    var out: [str: str] = [:];
    if path == "/price" {
        let item = query.get("item", "");
        let qty = query.get("qty", "1").parse_int();
        out["status"] = "200";
        out["body"] = "${item} x${qty} = ${db.price(item) * qty}";
    } else if path == "/spin" {
        var i = 0;
        while true { i += 1; }
    } else {
        out["status"] = "404";
        out["body"] = "no route ${path}";
    }
    out["served"] = str(served);
    return out;
}
"#;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let threads: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let per_thread: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let summary = run(threads, per_thread)?;
    let n = threads * per_thread;
    println!(
        "{n} requests on {threads} threads in {:.1} ms: {} ok, {} not found, {} stopped by a limit",
        summary.elapsed.as_secs_f64() * 1e3,
        summary.ok,
        summary.not_found,
        summary.limited
    );
    println!(
        "mean sandbox creation: {:.2} µs",
        summary.create.as_secs_f64() * 1e6 / n.max(1) as f64
    );
    Ok(())
}

/// What a run handled.
#[derive(Debug)]
pub struct Summary {
    /// Requests answered with status 200.
    pub ok: u64,
    /// Requests answered with status 404.
    pub not_found: u64,
    /// Requests stopped by a limit.
    pub limited: u64,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
    /// Time spent creating sandboxes, summed over all requests.
    pub create: Duration,
}

/// Serves `per_thread` requests on each of `threads` threads.
pub fn run(threads: u64, per_thread: u64) -> Result<Summary, Error> {
    let engine = Engine::default();
    let module = Module::new(&engine, "handler.src", HANDLER)?;
    let prices: Arc<HashMap<&str, i64>> = Arc::new([("apple", 3), ("pear", 5)].into());
    let mut host = HostFunctions::new();
    host.func("db", "price", move |item: String| {
        prices.get(item.as_str()).copied().unwrap_or(0)
    });
    let limits = SandboxLimits {
        fuel: Some(100_000),
        timeout: Some(Duration::from_millis(100)),
        max_heap: 1 << 20,
        max_stack: 200,
    };

    let create_ns = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (module, host, limits) = (module.clone(), host.clone(), limits.clone());
            let create_ns = Arc::clone(&create_ns);
            std::thread::spawn(move || -> Result<[u64; 3], Error> {
                let mut counts = [0u64; 3]; // ok, not found, stopped by a limit
                for i in 0..per_thread {
                    let (path, query) = request(t, i);
                    let t0 = Instant::now();
                    // A fresh sandbox per request: nothing survives from the previous one.
                    let mut sandbox = Sandbox::builder(&module)
                        .host(&host)
                        .limits(limits.clone())
                        .build()?;
                    create_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    match sandbox.call::<_, HashMap<String, String>>("handle", (path, query)) {
                        Ok(resp) => {
                            assert_eq!(resp["served"], "1", "sandboxes share no state");
                            if resp["status"] == "200" {
                                counts[0] += 1;
                            } else {
                                counts[1] += 1;
                            }
                            if t == 0 && i < 2 {
                                println!(
                                    "thread 0, request {i}: {} {}",
                                    resp["status"], resp["body"]
                                );
                            }
                        }
                        Err(e) if e.is_limit() => counts[2] += 1,
                        Err(e) => return Err(e),
                    }
                }
                Ok(counts)
            })
        })
        .collect();
    let mut totals = [0u64; 3];
    for w in workers {
        let counts = w.join().expect("worker thread")?;
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
    }
    Ok(Summary {
        ok: totals[0],
        not_found: totals[1],
        limited: totals[2],
        elapsed: started.elapsed(),
        create: Duration::from_nanos(create_ns.load(Ordering::Relaxed)),
    })
}

/// A made-up request: mostly prices, some unknown routes, and now and then a runaway one.
fn request(thread: u64, i: u64) -> (String, HashMap<String, String>) {
    let mut query = HashMap::new();
    let path = match (thread + i) % 10 {
        9 => "/spin",
        7 => "/missing",
        _ => "/price",
    };
    query.insert(
        "item".into(),
        if i.is_multiple_of(2) { "apple" } else { "pear" }.into(),
    );
    query.insert("qty".into(), (i % 5 + 1).to_string());
    (path.into(), query)
}
