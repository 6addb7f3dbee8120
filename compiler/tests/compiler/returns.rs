//! Definite-return analysis: every path of a function with a result must return.

use super::*;

fn ok(body: &str) {
    compile(&format!(
        "fn f(x: int) -> int {{\n{body}\n}}\nfn main() {{ println(f(1)); }}"
    ));
}

fn missing(body: &str) {
    let got = errors(&format!(
        "fn f(x: int) -> int {{\n{body}\n}}\nfn main() {{ println(f(1)); }}"
    ));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("missing `return` in `f`"), "{got:?}");
}

#[test]
fn accepted() {
    ok("return 1;");
    ok("if x > 0 { return 1; } else { return 2; }");
    ok("if x > 0 { return 1; } else if x < 0 { return 2; } else { return 3; }");
    ok("while true { if x > 3 { return x; } }");
    ok("while true { }");
    ok("{ return 1; }");
    ok("if x > 0 { return 1; }\nreturn 2;");
    ok("while true { while x > 0 { break; } return 1; }");
    ok("var i = 0;\nwhile true { i += 1; if i > 10 { return i; } continue; }");
    ok("return 1;\nprintln(\"dead\");");
    ok("if true { return 1; } else { }\nreturn 0;");
}

#[test]
fn rejected() {
    missing("");
    missing("if x > 0 { return 1; }");
    missing("if x > 0 { return 1; } else if x < 0 { return 2; }");
    missing("while x > 0 { return 1; }");
    missing("while true { break; }");
    missing("while true { if x > 0 { break; } return 1; }");
    missing("for i in 0..10 { return i; }");
    missing("for v in [1, 2] { return v; }");
    missing("if x > 0 { return 1; } else { println(x); }");
}

#[test]
fn dead_code_is_not_emitted() {
    let c = compile("fn f() -> int { return 1; println(2); }\nfn main() { println(f()); }");
    let f = function(&c.module, "f");
    assert_eq!(mnemonics(f), "i.const ret");
}
