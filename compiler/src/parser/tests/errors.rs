//! Syntax and lexical errors: messages, positions, recovery, and the nesting limits.

use super::*;

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn several_syntax_errors_in_one_run() {
    let text = "\
fn a() {
    let x = ;
    f(1 2);
}
fn b() -> int {
    let y = 1
    let z = 2;
    return y z;
}
struct S { x: int y: int }
fn c() { ok(); }
fn d() { let = 3; }
";
    assert_eq!(
        errors(text),
        [
            "2:13: expected an expression, found `;`",
            "3:9: expected one of `,`, `)` or an operator, found number `2`",
            "7:5: expected `;` or an operator, found `let`",
            "8:14: expected `;` or an operator, found identifier `z`",
            "10:19: expected one of `.`, `,` or `}`, found identifier `y`",
            "12:14: expected identifier, found `=`",
        ]
    );
}

#[test]
fn recovery_keeps_later_functions() {
    let (f, d) = parse("fn a() { let = ; } fn b() { ok(); } fn c( { } fn d() {}");
    assert_eq!(d.items.len(), 2, "{:?}", d.items);
    let names: Vec<_> = f
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Fn(f) => Some(f.name.name.as_str()),
            _ => None,
        })
        .collect();
    assert!(names.contains(&"a") && names.contains(&"b") && names.contains(&"d"));
}

#[test]
fn end_of_file_errors() {
    assert_eq!(
        errors("fn main() {\n    f(1"),
        ["2:8: expected one of `,`, `)` or an operator, found end of file"]
    );
    assert_eq!(
        errors("fn main() { }\nfn"),
        ["2:3: expected identifier, found end of file"]
    );
}

#[test]
fn lexical_errors() {
    assert_eq!(
        errors("fn main() { let s = \"abc\\q\"; let t = 0x; let u = 0b102; let v = 12ab; }"),
        [
            "1:25: unknown escape sequence `\\q`",
            "1:38: missing digits after `0x`",
            "1:50: invalid digit `2` in binary literal",
            "1:65: invalid number literal `12ab`",
        ]
    );
    assert_eq!(
        errors("fn main() { let s = \"abc;\n}"),
        [
            "1:21: unterminated string literal",
            "2:1: expected `;` or an operator, found `}`"
        ]
    );
    assert_eq!(
        errors("fn main() { let s = \"\\u{D800} \\u{110000} \\u{} \\u41\"; }"),
        [
            "1:22: invalid unicode escape (expected `\\u{XXXX}` with 1 to 6 hex digits naming a Unicode scalar value)",
            "1:31: invalid unicode escape (expected `\\u{XXXX}` with 1 to 6 hex digits naming a Unicode scalar value)",
            "1:42: invalid unicode escape (expected `\\u{XXXX}` with 1 to 6 hex digits naming a Unicode scalar value)",
            "1:47: invalid unicode escape (expected `\\u{XXXX}` with 1 to 6 hex digits naming a Unicode scalar value)",
        ]
    );
    assert_eq!(
        errors("fn main() { x = 1 # 2; y = é; € }"),
        [
            "1:19: unexpected character `#`",
            "1:28: identifiers must be ASCII: `é`",
            "1:31: unexpected character `€`",
        ]
    );
}

#[test]
fn out_of_range_literals() {
    assert_eq!(
        errors(
            "const A = 18446744073709551616; const B = 0x1_0000_0000_0000_0000; const C = 1e999;"
        ),
        [
            "1:11: integer literal out of range",
            "1:43: integer literal out of range",
            "1:78: float literal out of range",
        ]
    );
    // The value is still a literal, so that parsing goes on.
    assert_eq!(
        items("const D = 18446744073709551615;"),
        ["(Const D 18446744073709551615)"]
    );
}

#[test]
fn interpolation_errors() {
    assert_eq!(
        errors("fn main() { println(\"a ${1 +} b\"); }"),
        ["1:29: expected an expression, found `}`"]
    );
    assert_eq!(
        errors("fn main() { println(\"a ${} b\"); }"),
        ["1:24: empty string interpolation"]
    );
    assert_eq!(
        errors("fn main() { println(\"a ${x b\"); }\nfn f() {}"),
        [
            "1:24: unterminated string interpolation",
            "2:1: expected one of `,`, `)` or an operator, found `fn`"
        ]
    );
    assert_eq!(
        errors("fn main() { println(\"${a b}\"); }"),
        ["1:26: expected an operator, found identifier `b`"]
    );
}

#[test]
fn import_path_must_be_plain() {
    assert_eq!(
        errors("import \"a${x}.src\";"),
        ["1:12: an import path cannot contain interpolations"]
    );
}

#[test]
fn range_loop_has_one_variable() {
    assert_eq!(
        errors("fn main() { for i, j in 0..3 {} }"),
        ["1:20: a range loop has exactly one loop variable"]
    );
}

// ---------------------------------------------------------------------------------------
// Nesting limits

#[test]
fn deep_parentheses_are_refused() {
    let text = format!(
        "fn main() {{ x = {}1{}; }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(e[0].ends_with("expression nested too deeply"), "{e:?}");
}

#[test]
fn deep_blocks_are_refused() {
    let text = format!("fn main() {{ {} }}", "{".repeat(50_000));
    let e = errors(&text);
    assert_eq!(e, ["1:268: block nested too deeply"]);
}

#[test]
fn long_operator_chains_are_refused() {
    for text in [
        format!("fn main() {{ x = 1{}; }}", " + 1".repeat(100_000)),
        format!("fn main() {{ x = {}1; }}", "-".repeat(100_000)),
        format!("fn main() {{ x = {}1; }}", "!-".repeat(50_000)),
        format!("fn main() {{ x = a{}; }}", ".b".repeat(100_000)),
        format!("fn main() {{ x = f{}; }}", "()".repeat(100_000)),
        format!("fn main() {{ x = \"{}\"; }}", "${1 + 1}".repeat(1000)),
    ] {
        let e = errors(&text);
        if text.contains('"') {
            assert!(e.is_empty(), "{e:?}");
        } else {
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(e[0].ends_with("expression nested too deeply"), "{e:?}");
        }
    }
    // Just under the limit is fine.
    let text = format!("fn main() {{ x = 1{}; }}", " + 1".repeat(255));
    assert!(errors(&text).is_empty());
}

#[test]
fn long_else_if_chains_are_refused() {
    let text = format!(
        "fn main() {{ if a {{}}{} }}",
        " else if a {}".repeat(100_000)
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(e[0].ends_with("statements nested too deeply"), "{e:?}");
    let text = format!("fn main() {{ if a {{}}{} }}", " else if a {}".repeat(300));
    assert!(errors(&text).is_empty());
}

#[test]
fn deep_interpolations_are_refused() {
    let mut s = "1".to_string();
    for _ in 0..40 {
        s = format!("\"${{{s}}}\"");
    }
    let e = errors(&format!("fn main() {{ x = {s}; }}"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].ends_with("string interpolation nested too deeply"),
        "{e:?}"
    );
    let mut s = "1".to_string();
    for _ in 0..10 {
        s = format!("\"${{{s}}}\"");
    }
    assert!(errors(&format!("fn main() {{ x = {s}; }}")).is_empty());
}

#[test]
fn long_tokens_do_not_overflow() {
    for (name, text) in [
        ("ascii ident", "a".repeat(200_000)),
        ("digits", "1".repeat(200_000)),
        ("spaces", " ".repeat(200_000)),
        ("line comment", format!("//{}", "x".repeat(200_000))),
        ("string", format!("\"{}\"", "x".repeat(200_000))),
        ("non-ascii ident", "é".repeat(1_000)),
        ("non-ascii ident 10k", "é".repeat(100_000)),
        ("mixed ident", "aé_1".repeat(100_000)),
    ] {
        let e = errors(&text);
        assert!(e.len() <= 2, "{name}: {e:?}");
    }
}

#[test]
fn error_count_is_capped() {
    let e = errors(&"# ".repeat(1000));
    assert_eq!(e.len(), MAX_ERRORS_PER_FILE + 1);
    assert_eq!(
        e[MAX_ERRORS_PER_FILE],
        "1:201: too many syntax errors in this file; 900 more not shown"
    );
    // A chain is reported once, however long.
    assert_eq!(
        errors("fn f() { a < b < c < d < e; }"),
        ["1:16: comparison operators cannot be chained"]
    );
}
