//! A plugin host: loads every user script in a folder (default `examples/plugins`), links
//! it against the host's functions, and calls each plugin's `on_message` hook for a few
//! messages, with a fuel and time limit per call.
//!
//! Run it with `cargo run --example plugin_host [FOLDER]`. A plugin that does not compile,
//! does not fit the host, traps or runs away is reported and skipped; the others go on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rvm::{Engine, Error, HostFunctions, Module, Sandbox, SandboxLimits, TypedFunc};

/// A loaded plugin: its name, its sandbox (kept, so its globals persist between calls) and
/// its hook resolved once.
struct Plugin {
    name: String,
    sandbox: Sandbox,
    on_message: TypedFunc<(String,), String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plugins"));
    print!("{}", run(&folder)?);
    Ok(())
}

/// Loads the plugins in `folder`, sends them two messages, and returns the transcript.
pub fn run(folder: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = String::new();
    let engine = Engine::default();

    // The host's side: ordinary closures, registered once, shared by every plugin.
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut host = HostFunctions::new();
    let sink = Arc::clone(&log);
    host.func("host", "log", move |msg: String| {
        sink.lock().expect("log").push(msg);
    });
    host.func(
        "host",
        "setting",
        |name: String| -> Result<String, String> {
            match name.as_str() {
                "top" => Ok("2".into()),
                other => Err(format!("no setting {other:?}")),
            }
        },
    );
    let limits = SandboxLimits {
        fuel: Some(1_000_000),
        timeout: Some(Duration::from_secs(1)),
        max_heap: 16 << 20,
        max_stack: 1000,
    };

    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "src"))
        .collect();
    paths.sort();
    let mut plugins = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match load(&engine, &host, &limits, &path) {
            Ok((sandbox, on_message)) => {
                writeln!(out, "loaded  {name}")?;
                plugins.push(Plugin {
                    name,
                    sandbox,
                    on_message,
                });
            }
            Err(Error::Compile(e)) => {
                writeln!(out, "skipped {name}: does not compile:")?;
                for m in e.messages() {
                    writeln!(out, "    {}:{}:{}: {}", name, m.line, m.column, m.message)?;
                }
            }
            Err(e) => writeln!(out, "skipped {name}: {e}")?,
        }
    }

    for message in ["Hello plugins", "hello again, hello world"] {
        writeln!(out, "\n> {message}")?;
        for p in &mut plugins {
            match p.on_message.call(&mut p.sandbox, (message.to_string(),)) {
                Ok(reply) => writeln!(out, "  {:<10} {reply}", p.name)?,
                Err(e) if e.is_limit() => {
                    let first = e.to_string().lines().next().unwrap_or_default().to_owned();
                    writeln!(out, "  {:<10} stopped: {first}", p.name)?;
                }
                Err(e) => writeln!(out, "  {:<10} failed: {e}", p.name)?,
            }
        }
    }
    writeln!(out, "\nhost log:")?;
    for line in log.lock().expect("log").iter() {
        writeln!(out, "  {line}")?;
    }
    Ok(out)
}

/// Compiles a plugin, links it and resolves its hook (checking its signature).
fn load(
    engine: &Engine,
    host: &HostFunctions,
    limits: &SandboxLimits,
    path: &Path,
) -> Result<(Sandbox, TypedFunc<(String,), String>), Error> {
    let module = Module::from_file(engine, path)?;
    let sandbox = Sandbox::builder(&module)
        .host(host)
        .limits(limits.clone())
        .build()?;
    let hook = sandbox.func("on_message")?;
    Ok((sandbox, hook))
}
