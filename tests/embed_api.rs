//! The embedding API (`Engine`, `Module`, `Sandbox`, `HostFunctions`): each error kind,
//! limits per sandbox, host functions with each boundary type, and sandboxes used from
//! several threads at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rvm::vm::interpreter::SharedBuffer;
use rvm::{
    CallError, Engine, EngineConfig, Error, HostFunctions, JitMode, LinkError, Module, Sandbox,
    SandboxLimits, Value,
};

fn module(src: &str) -> Module {
    Module::new(&Engine::default(), "test.src", src).expect("compiles")
}

fn limited(m: &Module, limits: SandboxLimits) -> Sandbox {
    Sandbox::builder(m).limits(limits).build().expect("sandbox")
}

const LOOPS: &str = r#"
fn spin() -> int {
    var i = 0;
    while true { i += 1; }
    return i;
}
fn deep(n: int) -> int { return deep(n + 1) + 1; }
fn hog() -> int {
    var xs: [str] = [];
    while true { xs.push("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" + str(xs.len())); }
    return xs.len();
}
fn ok(x: int) -> int { return x + 1; }
"#;

// ---- error kinds

#[test]
fn compile_errors_have_positions() {
    let err = Module::new(
        &Engine::default(),
        "bad.src",
        "fn f() -> int {\n    return \"s\";\n}\nfn g() { h(); }\n",
    )
    .expect_err("does not compile");
    let Error::Compile(c) = &err else {
        panic!("{err:?}")
    };
    let msgs = c.messages();
    assert_eq!(msgs.len(), 2, "{err}");
    assert_eq!(
        (msgs[0].file.as_str(), msgs[0].line, msgs[0].column),
        ("bad.src", 2, 12)
    );
    assert!(msgs[0].message.contains("mismatched types"), "{err}");
    assert_eq!(msgs[1].line, 4);
    assert!(
        err.to_string()
            .starts_with("bad.src:2:12: error: mismatched types"),
        "{err}"
    );
    assert!(c.render().contains("^"), "rendered with a caret");
}

#[test]
fn unreadable_files_are_io_errors() {
    let err =
        Module::from_file(&Engine::default(), "/nonexistent/plugin.src").expect_err("no file");
    assert!(
        matches!(&err, Error::Io { path, .. } if path.ends_with("plugin.src")),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/plugin.src: "),
        "{err}"
    );
}

#[test]
fn source_text_cannot_import_files() {
    let err = Module::new(&Engine::default(), "a.src", "import \"/etc/passwd\";\n")
        .expect_err("imports are refused");
    assert!(matches!(err, Error::Compile(_)), "{err:?}");
}

#[test]
fn decode_and_verification_errors() {
    let engine = Engine::default();
    let err = Module::from_bytes(&engine, b"not bytecode").expect_err("garbage");
    assert!(matches!(err, Error::Decode(_)), "{err:?}");

    let compiled = rvm::compile_source("v.src", "fn main() { println(1 + 2); }").expect("ok");
    let mut bc = compiled.module;
    for f in &mut bc.functions {
        f.max_stack = 0;
    }
    let err = Module::from_bytes(&engine, &rvm::vm::format::encode(&bc)).expect_err("refused");
    assert!(matches!(err, Error::Verify(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("verification failed: "),
        "{err}"
    );
}

#[test]
fn traps_carry_the_guest_stack_trace() {
    let m = module(
        "fn inner(xs: [int]) -> int { return xs[5]; }\nfn outer() -> int { return inner([1]); }\n",
    );
    let mut sb = Sandbox::new(&m).expect("sandbox");
    let err = sb.call::<_, i64>("outer", ()).expect_err("traps");
    let Error::Trap(t) = &err else {
        panic!("{err:?}")
    };
    let text = t.to_string();
    assert!(
        text.starts_with("runtime error: index 5 out of bounds for length 1\n"),
        "{text}"
    );
    assert!(text.contains("at inner (test.src:1:"), "{text}");
    assert!(text.contains("at outer (test.src:2:"), "{text}");
    assert_eq!(t.trace.len(), 2);
    // Still usable.
    assert!(sb.call::<_, i64>("outer", ()).is_err());
}

#[test]
fn each_limit_has_its_own_variant_and_the_sandbox_survives() {
    for jit in [JitMode::Off, JitMode::Auto, JitMode::Always] {
        let engine = Engine::new(EngineConfig {
            jit,
            ..EngineConfig::default()
        });
        let m = Module::new(&engine, "test.src", LOOPS).expect("compiles");
        limits_hold(&m);
    }
}

fn limits_hold(m: &Module) {
    let m = m.clone();
    let mut fuel = limited(
        &m,
        SandboxLimits {
            fuel: Some(50_000),
            ..SandboxLimits::default()
        },
    );
    let err = fuel.call::<_, i64>("spin", ()).expect_err("runs out");
    assert!(matches!(err, Error::OutOfFuel(_)), "{err:?}");
    assert!(err.is_limit());
    assert_eq!(
        err.to_string().lines().next(),
        Some("runtime error: out of fuel")
    );
    // Each call gets the budget afresh.
    assert_eq!(fuel.call::<_, i64>("ok", (1,)).expect("refuelled"), 2);
    assert!(matches!(
        fuel.call::<_, i64>("spin", ()),
        Err(Error::OutOfFuel(_))
    ));

    let mut time = limited(
        &m,
        SandboxLimits {
            timeout: Some(Duration::from_millis(50)),
            ..SandboxLimits::default()
        },
    );
    let err = time.call::<_, i64>("spin", ()).expect_err("times out");
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(time.call::<_, i64>("ok", (2,)).expect("usable"), 3);

    let mut stack = limited(
        &m,
        SandboxLimits {
            max_stack: 100,
            ..SandboxLimits::default()
        },
    );
    let err = stack.call::<_, i64>("deep", (0,)).expect_err("overflows");
    assert!(matches!(err, Error::StackOverflow(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("stack overflow (call depth limit 100)"),
        "{err}"
    );
    assert_eq!(stack.call::<_, i64>("ok", (3,)).expect("usable"), 4);

    let mut heap = limited(
        &m,
        SandboxLimits {
            max_heap: 4 << 20,
            ..SandboxLimits::default()
        },
    );
    let err = heap.call::<_, i64>("hog", ()).expect_err("out of memory");
    assert!(matches!(err, Error::OutOfMemory(_)), "{err:?}");
    heap.collect_garbage();
    assert_eq!(heap.call::<_, i64>("ok", (4,)).expect("usable"), 5);
    assert!(heap.heap_bytes() < 4 << 20);

    // A sandbox without limits, of the same module, is unaffected by all of the above.
    let mut free = Sandbox::new(&m).expect("sandbox");
    assert_eq!(free.call::<_, i64>("ok", (5,)).expect("fine"), 6);
}

#[test]
fn interrupt_handle_stops_a_call_from_another_thread() {
    let m = module(LOOPS);
    let mut sb = Sandbox::new(&m).expect("sandbox");
    let flag = sb.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        flag.store(true, Ordering::Relaxed);
    });
    let err = sb.call::<_, i64>("spin", ()).expect_err("interrupted");
    t.join().expect("joins");
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(sb.call::<_, i64>("ok", (0,)).expect("usable"), 1);
}

/// A sandbox without limits runs compiled code without fuel checks; a handle taken after
/// its code was compiled must still stop the next call (`tier::Runtime::polls`).
#[test]
fn a_handle_taken_after_compiling_stops_the_next_call() {
    for jit in [JitMode::Auto, JitMode::Always] {
        let engine = Engine::new(EngineConfig {
            jit,
            ..EngineConfig::default()
        });
        let src = "fn count(n: int) -> int {\n    var s = 0;\n    for i in 0..n {\n        s = (s * 7 + i) % 1009;\n    }\n    return s;\n}\n";
        let m = Module::new(&engine, "test.src", src).expect("compiles");
        let mut sb = Sandbox::new(&m).expect("sandbox");
        let expected = sb.call::<_, i64>("count", (100_000,)).expect("runs");
        assert_eq!(
            sb.jit_stats().fuel_checks,
            0,
            "{jit:?}: {:?}",
            sb.jit_stats()
        );
        let flag = sb.interrupt_handle();
        flag.store(true, Ordering::Relaxed);
        // Code without checks would run all 10^8 iterations and return.
        let err = sb
            .call::<_, i64>("count", (100_000_000,))
            .expect_err("interrupted");
        assert!(matches!(err, Error::Timeout(_)), "{jit:?}: {err:?}");
        assert_eq!(
            sb.call::<_, i64>("count", (100_000,)).expect("usable"),
            expected
        );
        assert!(
            sb.jit_stats().fuel_checks > 0,
            "{jit:?}: {:?}",
            sb.jit_stats()
        );
    }
}

#[test]
fn exit_is_its_own_variant() {
    let m = module("fn quit() { os.exit(3); }\n");
    let mut sb = Sandbox::new(&m).expect("sandbox");
    assert!(matches!(sb.call::<_, ()>("quit", ()), Err(Error::Exit(3))));
}

#[test]
fn call_errors_name_the_signatures() {
    let m = module(
        "fn add(a: int, b: int) -> int { return a + b; }\nstruct P { x: int }\nfn mk() -> P { return P(x: 1); }\n",
    );
    let mut sb = Sandbox::new(&m).expect("sandbox");
    let err = sb.call::<_, i64>("nope", ()).expect_err("no export");
    assert!(
        matches!(&err, Error::Call(CallError::NoExport(n)) if n == "nope"),
        "{err:?}"
    );
    let err = sb
        .call::<_, String>("add", (1_i64, 2_i64))
        .expect_err("wrong result");
    assert_eq!(
        err.to_string(),
        "`add` has type `fn(int, int) -> int`, but it was called as `fn(int, int) -> str`"
    );
    let err = sb
        .call::<_, i64>("add", (1.5_f64, 2_i64))
        .expect_err("wrong argument");
    assert!(
        matches!(err, Error::Call(CallError::Signature { .. })),
        "{err:?}"
    );
    let err = sb
        .call::<_, Value>("mk", ())
        .expect_err("a struct cannot leave");
    assert!(
        matches!(err, Error::Call(CallError::Signature { .. })),
        "{err:?}"
    );
    // A dynamic value of the wrong shape is caught as it converts.
    let err = sb
        .call::<_, i64>("add", (Value::Str("x".into()), 1_i64))
        .expect_err("wrong value");
    assert!(
        matches!(err, Error::Call(CallError::Value { .. })),
        "{err:?}"
    );
    assert_eq!(
        sb.call::<_, i64>("add", (Value::Int(40), 2_i64))
            .expect("ok"),
        42
    );
    // A handle of one module cannot be used with a sandbox of another.
    let other = module("fn add(a: int, b: int) -> int { return a - b; }\n");
    let f = sb.func::<(i64, i64), i64>("add").expect("resolves");
    let mut osb = Sandbox::new(&other).expect("sandbox");
    assert!(matches!(
        f.call(&mut osb, (1, 2)),
        Err(Error::Call(CallError::WrongModule))
    ));
}

// ---- host functions and linking

#[test]
fn link_errors_name_both_signatures() {
    let m = module(
        "extern fn app.log(msg: str);\nextern fn app.add(a: int, b: int) -> int;\nfn go() -> int { app.log(\"x\"); return app.add(1, 2); }\n",
    );
    let imports: Vec<(String, String)> = m.imports().map(|(n, s)| (n, s.to_owned())).collect();
    assert_eq!(
        imports,
        [
            ("app.log".into(), "fn(str)".into()),
            ("app.add".into(), "fn(int, int) -> int".into())
        ]
    );
    let mut host = HostFunctions::new();
    host.func("app", "log", |_msg: String| {});
    let err = Sandbox::builder(&m)
        .host(&host)
        .build()
        .expect_err("missing");
    let Error::Link(link) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        link,
        LinkError::Missing {
            name: "app.add".into(),
            guest: "fn(int, int) -> int".into()
        }
    );
    host.func("app", "add", |a: i64, b: f64| a as f64 + b);
    let err = Sandbox::builder(&m)
        .host(&host)
        .build()
        .expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "link error: `app.add` is declared by the guest as `fn(int, int) -> int`, but the host \
         function registered under that name is `fn(int, float) -> float`"
    );
    host.func("app", "add", |a: i64, b: i64| a + b);
    let mut sb = Sandbox::builder(&m).host(&host).build().expect("links");
    assert_eq!(sb.call::<_, i64>("go", ()).expect("runs"), 3);
}

#[test]
fn host_functions_with_every_boundary_type() {
    let m = module(
        r#"
extern fn t.int(x: int) -> int;
extern fn t.float(x: float) -> float;
extern fn t.bool(x: bool) -> bool;
extern fn t.str(x: str) -> str;
extern fn t.ints(x: [int]) -> [int];
extern fn t.strs(x: [str]) -> [str];
extern fn t.map(x: [str: int]) -> [str: int];
extern fn t.nested(x: [[float]]) -> [int: [str]];
extern fn t.flags() -> [bool: bool];
extern fn t.unit();
fn run() -> str {
    t.unit();
    let n = t.nested([[1.0, 2.0], [], [0.5]]);
    return "${t.int(41)} ${t.float(1.5)} ${t.bool(false)} ${t.str("abc")} ${t.ints([1, 2])} "
        + "${t.strs(["x", "y"])} ${t.map(["a": 1, "b": 2])} ${n} ${t.flags()}";
}
"#,
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let mut host = HostFunctions::new();
    host.func("t", "int", |x: i64| x + 1)
        .func("t", "float", |x: f64| x * 2.0)
        .func("t", "bool", |x: bool| !x)
        .func("t", "str", |x: String| x.to_uppercase())
        .func("t", "ints", |x: Vec<i64>| {
            x.into_iter().rev().collect::<Vec<_>>()
        })
        .func("t", "strs", |x: Vec<String>| {
            x.into_iter().map(|s| s + "!").collect::<Vec<_>>()
        })
        .func("t", "map", |x: HashMap<String, i64>| {
            x.into_iter()
                .map(|(k, v)| (k, v * 10))
                .collect::<BTreeMap<_, _>>()
        })
        .func("t", "nested", |x: Vec<Vec<f64>>| {
            x.iter()
                .enumerate()
                .map(|(i, row)| (i as i64, row.iter().map(|f| f.to_string()).collect()))
                .collect::<BTreeMap<i64, Vec<String>>>()
        })
        .func("t", "flags", || BTreeMap::from([(true, false)]))
        .func("t", "unit", move || {
            c.fetch_add(1, Ordering::Relaxed);
        });
    let mut sb = Sandbox::builder(&m).host(&host).build().expect("links");
    let out: String = sb.call("run", ()).expect("runs");
    assert_eq!(
        out,
        "42 3.0 true ABC [2, 1] [\"x!\", \"y!\"] [\"a\": 10, \"b\": 20] \
         [0: [\"1\", \"2\"], 1: [], 2: [\"0.5\"]] [true: false]"
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[test]
fn guest_calls_with_every_boundary_type() {
    let m = module(
        r#"
fn f(i: int, x: float, b: bool, s: str, xs: [int], m: [str: [float]]) -> [str: int] {
    var out: [str: int] = [:];
    out["i"] = i;
    out["x"] = int(x);
    out["b"] = if_(b);
    out["s"] = s.len();
    out["xs"] = xs.len();
    out["m"] = m.len();
    return out;
}
fn if_(b: bool) -> int { if b { return 1; } return 0; }
fn echo(xs: [[str]]) -> [[str]] { return xs; }
fn none() {}
"#,
    );
    let mut sb = Sandbox::new(&m).expect("sandbox");
    let map = HashMap::from([("k".to_string(), vec![1.0, 2.0])]);
    let r: BTreeMap<String, i64> = sb
        .call("f", (7_i64, 2.9_f64, true, "héllo", vec![1_i64, 2, 3], map))
        .expect("runs");
    assert_eq!(
        r,
        BTreeMap::from([
            ("b".into(), 1),
            ("i".into(), 7),
            ("m".into(), 1),
            ("s".into(), 6),
            ("x".into(), 2),
            ("xs".into(), 3)
        ])
    );
    let dynamic: Value = sb
        .call(
            "f",
            (
                1_i64,
                1.0_f64,
                false,
                "",
                Vec::<i64>::new(),
                HashMap::<String, Vec<f64>>::new(),
            ),
        )
        .expect("runs");
    let Value::Map(kvs) = &dynamic else {
        panic!("{dynamic:?}")
    };
    assert_eq!(
        kvs[0],
        (Value::Str("i".into()), Value::Int(1)),
        "insertion order kept"
    );
    let nested = vec![vec!["a".to_string()], vec![], vec!["b".into(), "c".into()]];
    let back: Vec<Vec<String>> = sb.call("echo", (nested.clone(),)).expect("runs");
    assert_eq!(back, nested);
    sb.call::<_, ()>("none", ()).expect("runs");
}

#[test]
fn host_errors_and_panics_trap_the_guest_only() {
    let m = module(
        "extern fn app.check(x: int) -> int;\nfn go(x: int) -> int { return app.check(x) + 1; }\n",
    );
    let mut host = HostFunctions::new();
    host.func("app", "check", |x: i64| -> Result<i64, String> {
        match x {
            0 => Err("zero is not allowed".into()),
            1 => panic!("host bug"),
            _ => Ok(x),
        }
    });
    let mut sb = Sandbox::builder(&m).host(&host).build().expect("links");
    let err = sb.call::<_, i64>("go", (0,)).expect_err("fails");
    let Error::Trap(t) = &err else {
        panic!("{err:?}")
    };
    assert!(
        t.to_string().starts_with(
            "runtime error: app.check(...) failed: zero is not allowed\n    at go (test.src:2:"
        ),
        "{t}"
    );
    let err = sb.call::<_, i64>("go", (1,)).expect_err("panics");
    assert!(
        err.to_string()
            .contains("app.check(...) failed: panicked: host bug"),
        "{err}"
    );
    assert_eq!(sb.call::<_, i64>("go", (5,)).expect("still usable"), 6);
}

#[test]
fn grants_are_per_sandbox() {
    let m = module("fn now() -> int { return time.now_ms(); }\n");
    let mut denied = Sandbox::new(&m).expect("sandbox");
    let err = denied.call::<_, i64>("now", ()).expect_err("denied");
    assert!(
        err.to_string().contains("permission denied: time.now_ms()"),
        "{err}"
    );
    let grants = rvm::vm::sandbox::Grants {
        time: true,
        ..Default::default()
    };
    let mut allowed = Sandbox::builder(&m)
        .grants(grants)
        .build()
        .expect("sandbox");
    assert!(allowed.call::<_, i64>("now", ()).expect("allowed") > 0);
}

#[test]
fn output_can_be_captured_and_globals_are_initialised() {
    let m = module(
        "let greeting = \"hi\";\nvar n = 0;\nfn hello(who: str) { n += 1; println(\"${greeting} ${who} ${n}\"); }\n",
    );
    let out = SharedBuffer::new();
    let mut sb = Sandbox::builder(&m)
        .stdout(out.clone())
        .build()
        .expect("sandbox");
    sb.call::<_, ()>("hello", ("a",)).expect("runs");
    sb.call::<_, ()>("hello", ("b",)).expect("runs");
    assert_eq!(out.contents(), "hi a 1\nhi b 2\n");
}

#[test]
fn eval_snippets() {
    let engine = Engine::default();
    assert_eq!(engine.eval::<i64>("1 + 2 * 3").expect("evals"), 7);
    assert_eq!(engine.eval::<f64>("math.sqrt(16.0)").expect("evals"), 4.0);
    assert_eq!(
        engine
            .eval::<Vec<String>>("\"a,b\".split(\",\")")
            .expect("evals"),
        ["a", "b"]
    );
    assert_eq!(
        engine.eval::<Value>("[1, 2]").expect("evals"),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    let err = engine.eval::<i64>("\"s\"").expect_err("wrong type");
    assert!(
        matches!(err, Error::Call(CallError::Signature { .. })),
        "{err:?}"
    );
    let err = engine.eval::<i64>("1 +\n  nope").expect_err("bad");
    let Error::Compile(c) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(c.messages()[0].line, 2, "{err}");
    let err = engine
        .eval::<()>("let xs = [1];\nprintln(xs[3]);")
        .expect_err("traps");
    assert!(matches!(err, Error::Trap(_)), "{err:?}");
}

#[test]
fn modules_round_trip_through_bytecode() {
    let engine = Engine::default();
    let m = Module::new(
        &engine,
        "rt.src",
        "extern fn app.k() -> int;\nfn f() -> int { return app.k() * 2; }\n",
    )
    .expect("ok");
    let again = Module::from_bytes(&engine, &m.to_bytes()).expect("loads");
    let mut host = HostFunctions::new();
    host.func("app", "k", || 21_i64);
    let mut sb = Sandbox::builder(&again).host(&host).build().expect("links");
    assert_eq!(sb.call::<_, i64>("f", ()).expect("runs"), 42);
}

// ---- concurrency

#[test]
fn sandboxes_from_one_module_on_many_threads() {
    let m = module(
        r#"
extern fn app.record(thread: int, value: int);
var total = 0;
fn work(thread: int, n: int) -> int {
    for i in 0..n { total += i; }
    app.record(thread, total);
    return total;
}
fn spin() { while true {} }
"#,
    );
    let seen = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&seen);
    let mut host = HostFunctions::new();
    host.func("app", "record", move |_thread: i64, value: i64| {
        s.fetch_add(value as usize, Ordering::Relaxed);
    });
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (m, host) = (m.clone(), host.clone());
            std::thread::spawn(move || {
                let limits = SandboxLimits {
                    fuel: Some(200_000),
                    ..SandboxLimits::default()
                };
                let mut sb = Sandbox::builder(&m)
                    .host(&host)
                    .limits(limits)
                    .build()
                    .expect("sandbox");
                let work = sb.func::<(i64, i64), i64>("work").expect("resolves");
                let mut last = 0;
                for round in 0..20 {
                    // Every other thread also burns through its fuel: the others must not notice.
                    if t % 2 == 1 && round % 5 == 0 {
                        assert!(matches!(
                            sb.call::<_, ()>("spin", ()),
                            Err(Error::OutOfFuel(_))
                        ));
                    }
                    last = work.call(&mut sb, (t, 100)).expect("works");
                }
                last
            })
        })
        .collect();
    for t in threads {
        assert_eq!(
            t.join().expect("thread"),
            20 * 4950,
            "each sandbox has its own globals"
        );
    }
    let per_thread: usize = (1..=20).map(|r| r * 4950).sum();
    assert_eq!(seen.load(Ordering::Relaxed), 8 * per_thread);
}

#[test]
fn engine_module_and_sandbox_are_thread_safe_types() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<HostFunctions>();
    send::<Sandbox>();
    send_sync::<rvm::TypedFunc<(i64,), i64>>();
}

// ---- the guest side: declarations, bytecode, the command line

#[test]
fn verifier_checks_embedder_import_signatures() {
    use rvm::vm::format::{FieldDef, FuncType, Import, StructDef, TypeDef};
    let compiled = rvm::compile_source("v.src", "fn main() {}").expect("ok");
    let mut bc = compiled.module;
    let int = bc.intern_type(TypeDef::Int);
    let point = bc.intern_type(TypeDef::Struct(StructDef {
        name: "P".into(),
        fields: vec![FieldDef {
            name: "x".into(),
            ty: int,
        }],
    }));
    let good = bc.intern_type(TypeDef::Func(FuncType {
        params: vec![int],
        result: Some(int),
    }));
    let bad = bc.intern_type(TypeDef::Func(FuncType {
        params: vec![point],
        result: None,
    }));
    let engine = Engine::default();

    let mut ok = bc.clone();
    ok.imports.push(Import {
        module: "app".into(),
        name: "f".into(),
        ty: good,
    });
    let m = Module::from_bytes(&engine, &rvm::vm::format::encode(&ok)).expect("verifies");
    assert_eq!(
        m.imports().next().map(|(n, s)| (n, s.to_owned())),
        Some(("app.f".into(), "fn(int) -> int".into()))
    );

    let mut struct_arg = bc.clone();
    struct_arg.imports.push(Import {
        module: "app".into(),
        name: "f".into(),
        ty: bad,
    });
    let err =
        Module::from_bytes(&engine, &rvm::vm::format::encode(&struct_arg)).expect_err("refused");
    assert!(matches!(err, Error::Verify(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("embedder function takes and returns only"),
        "{err}"
    );

    // A built-in module is still checked against the built-in table.
    let mut unknown = bc;
    unknown.imports.push(Import {
        module: "fs".into(),
        name: "nope".into(),
        ty: good,
    });
    let err = Module::from_bytes(&engine, &rvm::vm::format::encode(&unknown)).expect_err("refused");
    assert!(
        err.to_string()
            .contains("this VM has no host function fs.nope"),
        "{err}"
    );
}

#[test]
fn the_rvm_command_refuses_modules_with_embedder_imports() {
    let dir = std::env::temp_dir().join(format!("rvm-embed-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let src = dir.join("needs_host.src");
    std::fs::write(
        &src,
        "extern fn app.log(msg: str);\nfn main() { app.log(\"x\"); }\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rvm"))
        .arg(&src)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(67));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot link"), "{err}");
    assert!(
        err.contains(
            "only an embedding application provides, not the rvm command: app.log: fn(str)"
        ),
        "{err}"
    );
}

#[test]
fn the_readme_example() {
    use rvm::{Engine, HostFunctions, Module, Sandbox, SandboxLimits};
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        "rules.src",
        r#"
    extern fn app.log(msg: str);
    fn score(words: [str]) -> int {
        app.log("scoring ${words.len()} words");
        var total = 0;
        for w in words { total += w.len(); }
        return total;
    }
"#,
    )
    .expect("compiles");
    let mut host = HostFunctions::new();
    host.func("app", "log", |msg: String| println!("guest says: {msg}"));
    let mut sandbox = Sandbox::builder(&module)
        .host(&host)
        .limits(SandboxLimits {
            fuel: Some(1_000_000),
            ..SandboxLimits::default()
        })
        .build()
        .expect("links");
    let score = sandbox
        .func::<(Vec<String>,), i64>("score")
        .expect("resolves");
    assert_eq!(
        score
            .call(&mut sandbox, (vec!["a".into(), "bc".into()],))
            .expect("runs"),
        3
    );
    assert_eq!(engine.eval::<i64>("6 * 7").expect("evals"), 42);
}

#[test]
fn arguments_copied_in_do_not_accumulate() {
    // The guest never allocates, so only the host-side collection keeps the heap bounded.
    let m = module("fn len(s: str) -> int { return s.len(); }\n");
    let mut sb = limited(
        &m,
        SandboxLimits {
            max_heap: 8 << 20,
            ..SandboxLimits::default()
        },
    );
    let len = sb.func::<(&str,), i64>("len").expect("resolves");
    let big = "x".repeat(64 << 10);
    for _ in 0..1000 {
        assert_eq!(len.call(&mut sb, (big.as_str(),)).expect("fits"), 64 << 10);
    }
    assert!(sb.heap_bytes() < 8 << 20, "{}", sb.heap_bytes());
}

// ---- tiers

#[test]
fn sandboxes_run_compiled_code_when_the_engine_asks_for_it() {
    let src = r#"
extern fn app.scale(x: int) -> int;
fn sum(n: int) -> int {
    var total = 0;
    for i in 0..n { total += app.scale(i) % 7; }
    return total;
}
fn pick(xs: [int], i: int) -> int { return xs[i]; }
"#;
    let mut host = HostFunctions::new();
    host.func("app", "scale", |x: i64| x * 3);
    let mut results = Vec::new();
    for jit in [JitMode::Off, JitMode::Auto, JitMode::Always] {
        let engine = Engine::new(EngineConfig {
            jit,
            ..EngineConfig::default()
        });
        let m = Module::new(&engine, "tiers.src", src).expect("compiles");
        let mut sb = Sandbox::builder(&m).host(&host).build().expect("sandbox");
        let sum = sb.call::<_, i64>("sum", (100_000,)).expect("runs");
        let trap = sb
            .call::<_, i64>("pick", (vec![1, 2, 3], 5))
            .expect_err("out of bounds")
            .to_string();
        let stats = sb.jit_stats();
        match jit {
            JitMode::Off => assert_eq!(stats.compiled, 0, "{stats:?}"),
            // `sum`'s loop is hot: compiled (entered by on-stack replacement).
            JitMode::Auto => assert!(stats.compiled >= 1, "{stats:?}"),
            // `$init`, `sum` and `pick`.
            JitMode::Always => assert_eq!(stats.compiled, 3, "{stats:?}"),
        }
        results.push((sum, trap));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    assert!(
        results[0].1.contains("index 5 out of bounds for length 3"),
        "{results:?}"
    );
    assert!(results[0].1.contains("at pick (tiers.src:"), "{results:?}");
}

#[test]
fn there_is_one_nan_and_the_host_sees_its_bits() {
    const CANONICAL: u64 = 0xfff8_0000_0000_0000;
    let src = "fn neg(x: float) -> float { return -x; }\n\
               fn twice(x: float) -> float { return x * 2.0 + x; }\n\
               fn made(x: float) -> float { return x - x; }\n\
               fn sorted(x: float) -> [float] { var a = [x, 1.0, -x]; a.sort(); return a; }\n";
    for jit in [JitMode::Off, JitMode::Always] {
        let engine = Engine::new(EngineConfig {
            jit,
            ..EngineConfig::default()
        });
        let m = Module::new(&engine, "nan.src", src).expect("compiles");
        let mut sb = Sandbox::new(&m).expect("sandbox");
        // A NaN from the host becomes the canonical one on the way in, whatever its sign
        // or payload, and every NaN the guest makes or negates is that one.
        for x in [f64::NAN, -f64::NAN, f64::from_bits(0x7ff0_0000_0000_0001)] {
            for f in ["neg", "twice"] {
                let r: f64 = sb.call(f, (x,)).expect("runs");
                assert_eq!(r.to_bits(), CANONICAL, "{jit:?} {f}({:#x})", x.to_bits());
            }
            let sorted: Vec<f64> = sb.call("sorted", (x,)).expect("runs");
            assert_eq!(sorted[0], 1.0, "{jit:?}: NaN sorts last");
            assert!(
                sorted[1..].iter().all(|y| y.to_bits() == CANONICAL),
                "{jit:?}"
            );
        }
        let r: f64 = sb.call("made", (f64::INFINITY,)).expect("runs");
        assert_eq!(r.to_bits(), CANONICAL, "{jit:?}: inf - inf");
    }
}
