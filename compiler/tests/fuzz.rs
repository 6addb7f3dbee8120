//! Property tests: the lexer, parser and renderer never panic, whatever the input, and
//! every diagnostic points inside the file on character boundaries.

use proptest::prelude::*;
use rvm_compiler::diagnostics::{Diagnostics, SourceMap};
use rvm_compiler::parser::parse_file;

const PROGRAM: &str = r#"import "util.src" as u;
const LIMIT: int = 0xff_ff + 0b1010 - 1_000;
let greeting = "hello, ${"wor${"l"}d"} \u{1F600} \$ \n";
var counter = 0;

struct Point { x: float, y: float, }

impl Point {
    fn norm(self) -> float { return math.sqrt(self.x * self.x + self.y * self.y); }
    fn scale(self, k: float) { self.x *= k; self.y *= k; }
}

/* block /* nested */ comment */
fn add(a: int, b: int,) -> int { return a + b; }

fn apply(f: fn(int, int) -> int, xs: [int], m: [str: [float]]) -> int {
    var total = 0;
    for i, x in xs { total += f(i, x) % 7; }
    for k, v in m { println("${k} = ${v}"); }
    for i in 0..=10 { if i == 3 { continue; } else if i > 8 { break; } else { total -= 1; } }
    while total < LIMIT && !(total == 5 || total >= 100) { total = total << 1 | 1; }
    return -total;
}

fn main() -> int {
    let p = Point(x: 3.0, y: 4.5e-1);
    let xs: [int] = [1, 2, 3,];
    let m = ["a": [1.0], "b": []];
    let e: [str: int] = [:];
    p.scale(2.0);
    xs[0] = xs[1] ^ xs[2] & 3 >> 1;
    m["c"] = [2.5];
    println(p.norm());
    { let shadow = u.helper(add)(1, 2); }
    return apply(add, xs, m) + int.MAX / -9223372036854775808;
}
"#;

fn check(text: &str) {
    let mut sources = SourceMap::new();
    let id = sources.add("fuzz.src", text);
    let mut diags = Diagnostics::default();
    let _ = parse_file(id, text, &mut diags);
    for d in &diags.items {
        let (s, e) = (d.span.start as usize, d.span.end as usize);
        assert!(
            s <= e && e <= text.len(),
            "{d:?} outside {} bytes",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "{d:?} not on a char boundary"
        );
        assert!(!d.message.is_empty());
    }
    let _ = diags.render(&sources, false);
    let _ = diags.render_short(&sources);
}

#[test]
fn the_sample_program_parses_cleanly() {
    let mut diags = Diagnostics::default();
    let f = parse_file(Default::default(), PROGRAM, &mut diags);
    assert!(diags.items.is_empty(), "{:#?}", diags.items);
    assert_eq!(f.items.len(), 9);
}

/// Pieces that make up plausible (and implausible) programs.
const PIECES: &[&str] = &[
    "fn",
    "let",
    "var",
    "const",
    "struct",
    "impl",
    "self",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "return",
    "true",
    "false",
    "import",
    "as",
    "x",
    "Point",
    "0",
    "42",
    "0x",
    "0xff",
    "0b2",
    "1.5",
    "1e",
    "1e9",
    "99999999999999999999",
    "\"",
    "\"s\"",
    "\"${",
    "\"${x}\"",
    "${",
    "}",
    "\\",
    "\\u{",
    "/*",
    "*/",
    "//",
    "\n",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "!",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    "=",
    "+=",
    "..",
    "..=",
    ".",
    ",",
    ":",
    ";",
    "->",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    " ",
    "é",
    "€",
    "\t",
    "#",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..120).prop_map(|v| v.join(" "))
}

fn token_soup_tight() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..120).prop_map(|v| v.concat())
}

/// One random edit of the sample program.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let n = PROGRAM.len();
    let edit = prop_oneof![
        (0..n, 1..40usize).prop_map(|(a, l)| Edit::Delete(a, l)),
        (0..n, prop::sample::select(PIECES)).prop_map(|(a, p)| Edit::Insert(a, p)),
        (0..n, 1..80usize).prop_map(|(a, l)| Edit::Duplicate(a, l)),
    ];
    prop::collection::vec(edit, 1..6)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(edits: &[Edit]) -> String {
    let mut s = PROGRAM.to_string();
    for e in edits {
        match *e {
            Edit::Delete(a, l) => {
                let a = floor_boundary(&s, a);
                let b = floor_boundary(&s, a + l);
                s.replace_range(a..b, "");
            }
            Edit::Insert(a, p) => {
                let a = floor_boundary(&s, a);
                s.insert_str(a, p);
            }
            Edit::Duplicate(a, l) => {
                let a = floor_boundary(&s, a);
                let b = floor_boundary(&s, a + l);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check(&text);
    }

    #[test]
    fn tight_token_soup_never_panics(text in token_soup_tight()) {
        check(&text);
    }

    #[test]
    fn mutated_programs_never_panic(e in edits()) {
        check(&apply(&e));
    }
}

/// Large hostile inputs finish quickly (every pass is linear, or bounded by the nesting
/// limits) and never overflow the stack.
#[test]
fn hostile_inputs_are_fast() {
    let line = |piece: &str, n: usize| piece.repeat(n);
    let cases = [
        line("# x ", 10_000),
        format!("fn f() {{ s = \"{}\"; }}", line("${a}", 10_000)),
        line("x x ", 10_000),
        line("let ", 10_000),
        line("(", 40_000),
        line("[", 40_000),
        line("fn f() { ", 4_000),
        line("\"${", 6_000),
        format!(
            "fn f() {{ s = {}1{}; }}",
            line("\"${", 1_000),
            line("}\"", 1_000)
        ),
        line("/*", 20_000),
        line("*/", 20_000),
        line("\"\\q", 10_000),
        line("0x", 10_000),
        line("é", 20_000),
        line("a.", 20_000),
        format!("fn f() {{ x = {}; }}", line("a[", 20_000)),
        format!("fn f() {{ {} }}", line("if a {} else ", 10_000)),
        format!("fn f() {{ x = [{}]; }}", line("1, ", 20_000)),
        format!("fn f() {{ x = {}; }}", line("1 < ", 10_000) + "1"),
    ];
    for text in &cases {
        let started = std::time::Instant::now();
        check(text);
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(10),
            "{took:?} for {}...",
            &text[..40.min(text.len())]
        );
    }
}
