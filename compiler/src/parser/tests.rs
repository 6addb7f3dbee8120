//! Parser unit tests.

use super::*;

fn parse(text: &str) -> (SourceFile, Diagnostics) {
    let mut diags = Diagnostics::default();
    let f = parse_file(FileId(0), text, &mut diags);
    (f, diags)
}

#[test]
fn smoke() {
    let (f, d) = parse(
        r#"
import "util.src" as u;
const N: int = 0x_ff + 1_000;
struct Point { x: float, y: float, }
impl Point {
    fn norm(self) -> float { return math.sqrt(self.x * self.x + self.y * self.y); }
    fn scale(self, k: float,) { self.x *= k; self.y *= k; }
}
fn main() -> int {
    let p = Point(x: 3.0, y: 4.0e-1);
    var xs: [int] = [1, 2, 3,];
    let m: [str: int] = [:];
    let s = "a ${p.norm()} b ${ "x${1}" } \u{1F600} \$";
    for i in 0..=10 { xs.push(i); }
    for k, v in m { println(k); }
    if a < b { } else if !c { } else { }
    while true { break; }
    /* nested /* comment */ */
    return -9223372036854775808;
}
"#,
    );
    println!("{f:#?}");
    println!("{d:#?}");
    assert!(d.items.is_empty());
}

#[test]
fn errors_smoke() {
    let (_f, d) = parse(
        "fn a() { let x = ; foo(1 2); }\nfn b() { let y = 1 let z = 2; }\nfn c() { a < b < c; \"\\q\"; 0xZZ; 99999999999999999999; é }",
    );
    for x in &d.items {
        println!("{} {:?}", x.message, x.span);
    }
}

#[test]
fn render_smoke() {
    let mut sources = crate::diagnostics::SourceMap::new();
    let text = "fn a() { let x = ; }\nfn b() { let y = 1 let z = 2; }\n";
    let id = sources.add("app.src", text);
    let mut d = Diagnostics::default();
    parse_file(id, text, &mut d);
    println!("{}", d.render(&sources, false));
    println!("{}", d.render_short(&sources));
}
