//! Programs run end to end (compiled, verified, interpreted): the evaluation-order and
//! loop rules that code generation is responsible for.

use super::*;

#[test]
fn struct_literal_fields_evaluate_in_source_order() {
    let out = run(r#"
struct P { a: int, b: int, c: int }
var log = "";
fn t(s: str, v: int) -> int { log += s; return v; }
fn main() {
    let p = P(c: t("c", 3), a: t("a", 1), b: t("b", 2));
    println(p);
    println(log);
}
"#);
    assert_eq!(out, "P(a: 1, b: 2, c: 3)\ncab\n");
}

#[test]
fn compound_assignment_evaluates_container_and_index_once() {
    let out = run(r#"
struct P { v: int }
var log = "";
fn arr(xs: [int]) -> [int] { log += "A"; return xs; }
fn idx(i: int) -> int { log += "I"; return i; }
fn key(k: str) -> str { log += "K"; return k; }
fn obj(p: P) -> P { log += "O"; return p; }
fn main() {
    let xs = [10, 20];
    arr(xs)[idx(1)] += 5;
    let m = ["k": 2];
    m[key("k")] *= 10;
    let p = P(v: 7);
    obj(p).v -= 2;
    println("${xs} ${m} ${p.v} ${log}");
}
"#);
    assert_eq!(out, "[10, 25] [\"k\": 20] 5 AIKO\n");
}

#[test]
fn range_loops_at_the_edges_of_int() {
    let out = run(r#"
fn main() {
    var n = 0;
    for i in int.MAX - 2..=int.MAX { n += 1; }
    for i in int.MIN..int.MIN + 3 { n += 10; }
    for i in 5..5 { n += 100; }
    for i in 5..=4 { n += 1000; }
    var calls = 0;
    for i in 0..bump(calls) { calls += 1; }
    println("${n} ${calls}");
}
fn bump(c: int) -> int { return c + 3; }
"#);
    assert_eq!(out, "33 3\n");
}

#[test]
fn loops_reread_the_length_and_support_break_and_continue() {
    let out = run(r#"
fn main() {
    var xs = [1, 2, 3];
    var seen: [int] = [];
    for x in xs {
        if x == 2 { xs.push(4); continue; }
        if x == 4 { break; }
        seen.push(x);
    }
    println(seen);
    let m = ["a": 1, "b": 2];
    var keys = "";
    for k, v in m {
        if k == "a" { m["c"] = 3; }
        keys += k + str(v);
    }
    for k in m { keys += k; }
    println(keys);
    for i, x in ["p", "q"] { print("${i}${x} "); }
    println();
    var i = 0;
    var odd = 0;
    while i < 10 {
        i += 1;
        if i % 2 == 0 { continue; }
        odd += 1;
    }
    println(odd);
}
"#);
    assert_eq!(out, "[1, 3]\na1b2c3abc\n0p 1q \n5\n");
}

#[test]
fn short_circuit_and_conditions() {
    let out = run(r#"
var log = "";
fn t(s: str, b: bool) -> bool { log += s; return b; }
fn main() {
    let a = t("1", false) && t("2", true);
    let b = t("3", true) || t("4", true);
    if t("5", true) && !t("6", false) || t("7", true) { log += "!"; }
    if !(t("8", false) || t("9", false)) { log += "?"; }
    var n = 0;
    while n < 3 && t("w", true) { n += 1; }
    println("${a} ${b} ${log}");
}
"#);
    assert_eq!(out, "false true 1356!89?www\n");
}

#[test]
fn traps_report_positions() {
    let out = run("fn main() {\n    let xs = [1];\n    println(xs[3]);\n}\n");
    assert_eq!(out, "runtime error: index 3 out of bounds for length 1");
}

#[test]
fn globals_constants_and_main_result() {
    let c = compile(
        "const A = 2;\nlet B = A * 21;\nvar c = 0;\nfn main() -> int { c += B; return c - 42; }",
    );
    let _ = c;
    let out = run(
        "const A = 2;\nlet B = A * 21;\nvar c = 0;\nfn main() { c += B; println(c); println(int.MIN / -1 == int.MIN); }",
    );
    assert_eq!(out, "42\ntrue\n");
}
