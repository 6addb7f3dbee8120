//! Programs that must not compile, with the expected diagnostics (line and message).

use super::*;

#[test]
fn mismatched_let() {
    assert_errors(
        "fn main() {\n    let x: int = \"a\";\n}",
        &[(2, "mismatched types [expected `int`, found `str`]")],
    );
}

#[test]
fn caret_is_at_the_offending_expression() {
    let got = errors("fn main() {\n    let x: int = 1 + 2.5;\n}");
    assert_eq!(
        got,
        vec!["2:18: mismatched types for `+` [`int` + `float`]"]
    );
    let got = errors("fn f(a: int) {}\nfn main() {\n    f(true);\n}");
    assert_eq!(
        got,
        vec!["3:7: mismatched types [expected `int`, found `bool`]"]
    );
}

#[test]
fn reports_several_errors_in_one_run() {
    let src = r#"
struct Point { x: float, y: float }
fn g() {
    let x = 1;
    x = 2;
    var y: int = "s";
    y = 1.5 + 2;
    let p = Point(x: 1.0);
    p.z = 1.0;
    let q = Point(x: 1.0, y: 2.0, z: 3.0);
    let r = Point(x: 1.0, x: 2.0, y: 1.0);
    let e = [];
    println(undefined_thing);
    break;
    g(1);
    let s = "a" * 2;
    let t = p.norm();
    let u = g();
}
fn main() {}
"#;
    assert_errors(
        src,
        &[
            (5, "cannot assign to `x`, which is immutable"),
            (6, "expected `int`, found `str`"),
            (7, "mismatched types for `+`"),
            (8, "missing field `y` in `Point` literal"),
            (9, "no field `z` on type `Point`"),
            (10, "struct `Point` has no field named `z`"),
            (11, "field `x` specified more than once"),
            (12, "cannot infer the type of this empty array"),
            (13, "cannot find value `undefined_thing`"),
            (14, "`break` outside of a loop"),
            (15, "`g` takes 0 arguments but 1 was supplied"),
            (16, "mismatched types for `*`"),
            (17, "no method `norm` on `Point`"),
            (18, "expected a value [this call returns nothing]"),
        ],
    );
}

#[test]
fn immutability() {
    assert_errors(
        "fn f(v: int) { v = 3; }\nfn main() { f(1); }",
        &[(1, "cannot assign to parameter `v`")],
    );
    assert_errors(
        "let g = 1;\nfn main() { g = 2; }",
        &[(2, "cannot assign to `g`, which is immutable")],
    );
    assert_errors(
        "const C = 1;\nfn main() { C += 2; }",
        &[(2, "cannot assign to constant `C`")],
    );
    assert_errors(
        "fn main() { for i in 0..3 { i = 2; } }",
        &[(1, "cannot assign to loop variable `i`")],
    );
    assert_errors(
        "fn main() { let s = \"abc\"; s[0] = \"x\"; }",
        &[(1, "cannot assign to a character of a string")],
    );
    // The secondary label points at the declaration.
    let loader = Mem::default();
    let f =
        compile_source("main.src", "fn main() {\n let x = 1;\n x = 2;\n}", &loader).unwrap_err();
    let d = f
        .diagnostics
        .items
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap();
    assert_eq!(d.secondary.len(), 1);
    assert_eq!(d.secondary[0].message, "`x` declared here as `let`");
    assert_eq!(
        f.sources
            .line_col(d.secondary[0].span.file, d.secondary[0].span.start),
        (2, 6)
    );
}

#[test]
fn duplicates_report_both_positions() {
    let loader = Mem::default();
    let f = compile_source(
        "main.src",
        "fn a() {}\nfn a(x: int) {}\nfn main() {}",
        &loader,
    )
    .unwrap_err();
    assert_eq!(f.diagnostics.items.len(), 1);
    let d = &f.diagnostics.items[0];
    assert!(d.message.contains("defined more than once"));
    assert_eq!(f.sources.line_col(d.span.file, d.span.start), (2, 4));
    assert_eq!(
        f.sources
            .line_col(d.secondary[0].span.file, d.secondary[0].span.start),
        (1, 4)
    );
    assert!(d.notes[0].contains("overloaded"));
    assert_errors(
        "fn main() { let x = 1; let x = 2; }",
        &[(1, "`x` is already declared in this scope")],
    );
    assert_errors(
        "struct P { a: int, a: int }\nfn main() {}",
        &[(1, "field `a` is declared more than once")],
    );
    assert_errors(
        "struct P { a: int }\nimpl P { fn m(self) {} fn m(self) {} }\nfn main() {}",
        &[(2, "method `m` is defined more than once")],
    );
    // Shadowing in an inner block is fine.
    compile("fn main() { let x = 1; { let x = \"s\"; println(x); } println(x); }");
}

#[test]
fn main_rules() {
    assert_errors("fn f() {}", &[(1, "no `main` function")]);
    assert_errors("fn main(x: int) {}", &[(1, "`main` has the wrong type")]);
    assert_errors(
        "fn main() -> str { return \"\"; }",
        &[(1, "`main` has the wrong type")],
    );
    assert_errors("let main = 1;", &[(1, "`main` must be a function")]);
    compile("fn main() -> int { return 3; }");
}

#[test]
fn int_literal_range() {
    compile("fn main() { let x = -9223372036854775808; println(x); }");
    compile("fn main() { let x = 9223372036854775807; println(x); }");
}

#[test]
fn empty_literals_need_context() {
    assert_errors(
        "fn main() { let m = [:]; }",
        &[(1, "cannot infer the type of this empty map")],
    );
    assert_errors(
        "fn main() { println([]); }",
        &[(1, "cannot infer the type of this empty array")],
    );
    compile(
        r#"
fn takes(xs: [int]) -> int { return xs.len(); }
fn make() -> [str: int] { return [:]; }
fn main() {
    var xs: [[int]] = [[], [1]];
    xs.push([]);
    xs = [];
    let m: [str: [int]] = ["a": []];
    println(takes([]));
    println(make());
    var grid = array(3, [0.0]);
    grid[0] = [];
    let e: [int] = array(0, 0);
    println("${xs} ${m} ${grid} ${e}");
}
"#,
    );
}

#[test]
fn conversions() {
    compile(
        "fn main() { let a = int(2.5); let b = float(3); let c = int(4); let d = float(1.5); let s = str(1) + str(2.0) + str(true) + str([1]); println(\"${a}${b}${c}${d}${s}\"); }",
    );
    assert_errors(
        "fn main() { let x = int(\"3\"); }",
        &[(1, "cannot convert `str` to `int`")],
    );
    assert_errors(
        "fn main() { let x = float(true); }",
        &[(1, "cannot convert `bool` to `float`")],
    );
}

#[test]
fn operators_need_matching_types() {
    assert_errors(
        "fn main() { let x = 1 < 2.0; }",
        &[(1, "mismatched types for `<`")],
    );
    assert_errors(
        "fn main() { let x = true + false; }",
        &[(1, "cannot apply `+` to `bool`")],
    );
    assert_errors(
        "fn main() { let x = [1] < [2]; }",
        &[(1, "cannot apply `<` to `[int]`")],
    );
    assert_errors(
        "fn main() { let x = 1.0 & 2.0; }",
        &[(1, "cannot apply `&` to `float`")],
    );
    assert_errors(
        "fn main() { let x = -true; }",
        &[(1, "cannot negate this value")],
    );
    assert_errors(
        "fn main() { let x = !1; }",
        &[(1, "expected `bool`, found `int`")],
    );
    assert_errors(
        "fn main() { if 1 { } }",
        &[(1, "expected `bool`, found `int`")],
    );
    assert_errors(
        "fn main() { while \"x\" { } }",
        &[(1, "expected `bool`, found `str`")],
    );
    assert_errors(
        "fn main() { let x = 1 && true; }",
        &[(1, "expected `bool`, found `int`")],
    );
}

#[test]
fn calls_and_methods() {
    assert_errors(
        "fn main() { let x = 1; x(); }",
        &[(1, "this is not a function")],
    );
    assert_errors(
        "fn main() { nope(1); }",
        &[(1, "cannot find function `nope`")],
    );
    assert_errors(
        "fn main() { let xs = [1]; xs.shove(2); }",
        &[(1, "no method `shove` on type `[int]`")],
    );
    assert_errors(
        "fn main() { let xs = [1]; xs.push(\"a\"); }",
        &[(1, "expected `int`, found `str`")],
    );
    assert_errors(
        "fn main() { let xs = [[1]]; xs.sort(); }",
        &[(1, "cannot sort `[[int]]`")],
    );
    assert_errors(
        "fn main() { let xs = [1]; println(xs.join(\",\")); }",
        &[(1, "cannot join `[int]`")],
    );
    assert_errors(
        "fn main() { let s = \"a\"; s.len; }",
        &[(1, "`len` is a method, not a field")],
    );
    assert_errors(
        "fn main() { print(1, 2); }",
        &[(1, "`print` takes 1 argument but 2 were supplied")],
    );
    assert_errors(
        "fn f(a: int) {}\nfn main() { f(a: 1); }",
        &[(2, "named arguments are only allowed in struct literals")],
    );
    assert_errors(
        "struct P { a: int }\nfn main() { let p = P(1); }",
        &[(2, "struct literal fields must be named")],
    );
    assert_errors(
        "fn main() { let x = math.nope(1.0); }",
        &[(1, "no function `nope` in `math`")],
    );
    assert_errors(
        "fn main() { let x = math.sqrt(1); }",
        &[(1, "expected `float`, found `int`")],
    );
    assert_errors(
        "fn main() { let x = abs(\"a\"); }",
        &[(1, "`abs` works on numbers")],
    );
    assert_errors(
        "fn main() { let x = min(1, 2.0); }",
        &[(1, "expected `int`, found `float`")],
    );
    assert_errors(
        "fn main() { let f = print; }",
        &[(1, "built-in function `print` cannot be used as a value")],
    );
    assert_errors(
        "fn main() { let x = fs.read_txt(\"a\"); }",
        &[(1, "no function `read_txt` in `fs`")],
    );
    assert_errors(
        "fn main() { let f = fs.read_text; }",
        &[(1, "host function `fs.read_text` cannot be used as a value")],
    );
    assert_errors(
        "fn main() { let x: int = fs.read_text(\"a\"); }",
        &[(1, "expected `int`, found `str`")],
    );
    assert_errors(
        "fn f(x: int) -> int { return x; }\nfn main() { println(f); }",
        &[(2, "cannot be printed")],
    );
    assert_errors(
        "fn main() { let m = [1.5: 2]; }",
        &[(1, "map keys must be `int`, `str` or `bool`")],
    );
    assert_errors(
        "fn main() { let m: [[int]: int] = [:]; }",
        &[(1, "map keys must be `int`, `str` or `bool`")],
    );
    assert_errors(
        "fn main() { let x: Nope = 1; }",
        &[(1, "cannot find type `Nope`")],
    );
    assert_errors(
        "struct P { a: int }\nimpl P { fn m(self) { self = P(a: 1); } }\nfn main() {}",
        &[(2, "cannot assign to `self`")],
    );
    assert_errors(
        "fn main() { println(self); }",
        &[(1, "`self` is only available in methods")],
    );
    assert_errors("fn main() { 1 = 2; }", &[(1, "invalid assignment target")]);
    assert_errors(
        "fn main() { for c in \"abc\" { } }",
        &[(1, "cannot iterate over this value")],
    );
    assert_errors(
        "fn main() { let x = 1[0]; }",
        &[(1, "cannot index into this value")],
    );
    assert_errors(
        "fn main() { let m = [\"a\": 1]; println(m[1]); }",
        &[(1, "expected `str`, found `int`")],
    );
}

#[test]
fn returns_and_loops() {
    assert_errors(
        "fn f() -> int { return; }\nfn main() {}",
        &[(1, "expected a value of type `int`")],
    );
    assert_errors(
        "fn f() { return 1; }\nfn main() {}",
        &[(1, "this function returns nothing")],
    );
    assert_errors(
        "fn f() -> int { return \"a\"; }\nfn main() {}",
        &[(1, "expected `int`, found `str`")],
    );
    assert_errors(
        "fn main() { continue; }",
        &[(1, "`continue` outside of a loop")],
    );
}

#[test]
fn module_level_rules() {
    assert_errors(
        "let a = b;\nlet b = 1;\nfn main() {}",
        &[(1, "`b` is used before its declaration")],
    );
    assert_errors(
        "fn f() -> int { return 1; }\nconst C = f();\nfn main() {}",
        &[(2, "a constant's value must be a constant expression")],
    );
    assert_errors(
        "const C: float = 1;\nfn main() {}",
        &[(1, "expected `float`, found `int`")],
    );
    // Functions may use globals and constants declared after them.
    compile(
        "fn main() { println(A + B); counter += 1; }\nconst A = 1 + 2 * 3;\nlet B = A * 2;\nvar counter = 0;",
    );
}

#[test]
fn unused_variable_warnings() {
    let c = compile(
        "fn main() {\n    let a = 1;\n    var b = 2;\n    b += 1;\n    let _c = 3;\n    let d = 4;\n    println(d);\n    for i in 0..2 { }\n}",
    );
    let w: Vec<String> = c
        .warnings
        .items
        .iter()
        .map(|d| {
            let (l, _) = c.sources.line_col(d.span.file, d.span.start);
            format!("{l}: {}", d.message)
        })
        .collect();
    assert_eq!(w, vec!["2: unused variable `a`"]);
}

#[test]
fn suggestions_for_misspelt_names() {
    let notes = |src: &str| -> Vec<String> {
        let loader = Mem::default();
        let f = compile_source("main.src", src, &loader).unwrap_err();
        f.diagnostics
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .flat_map(|d| d.notes.clone())
            .collect()
    };
    assert_eq!(
        notes("fn main() { let length = 1; println(lenght); }"),
        vec!["did you mean `length`?"]
    );
    assert_eq!(
        notes("fn main() { prinln(1); }"),
        vec!["did you mean `println`?"]
    );
    assert_eq!(
        notes("struct P { value: int }\nfn main() { let p = P(value: 1); println(p.valeu); }"),
        vec!["did you mean `value`?"]
    );
    assert_eq!(
        notes("fn main() { let xs = [1]; xs.psuh(2); }"),
        vec!["did you mean `push`?"]
    );
    assert_eq!(
        notes("struct Point { x: int }\nfn f(p: Pont) {}\nfn main() {}"),
        vec!["did you mean `Point`?"]
    );
    assert_eq!(
        notes("struct P { x: int }\nfn main() { let p = P(x: 1); p.x(); }"),
        vec!["`x` is a field of type `int`, not a method"]
    );
}

#[test]
fn only_calls_are_statements() {
    assert_errors(
        "fn main() { var x = 1; x == 2; x + 1; print(x); }",
        &[
            (1, "this expression has no effect"),
            (1, "this expression has no effect"),
        ],
    );
    let loader = Mem::default();
    let f = compile_source("main.src", "fn main() { var x = 1; x == 2; }", &loader).unwrap_err();
    assert!(f.diagnostics.items[0].notes[0].contains("`=`"));
}

#[test]
fn printability_spreads_through_structs() {
    assert_errors(
        "struct A { b: [B] }\nstruct B { c: [str: C] }\nstruct C { f: fn(int) }\nstruct D { a: A, d: [D] }\nfn main() {\n    let d: [D] = [];\n    println(d);\n}",
        &[(7, "values of type `[D]` cannot be printed")],
    );
    compile("struct T { kids: [T], name: str }\nfn main() { println(T(kids: [], name: \"x\")); }");
}
