//! Programs that must compile and verify.

use super::*;
use rvm_vm::format::Instr;

#[test]
fn hello() {
    let c = compile("fn main() { println(\"hello\"); }");
    println!("{}", dump(&c.module));
}

#[test]
fn loops_and_calls() {
    let c = compile(
        r#"
fn fib(n: int) -> int {
    if n < 2 { return n; }
    return fib(n - 1) + fib(n - 2);
}

fn main() {
    var total = 0;
    for i in 0..10 {
        total += fib(i);
    }
    var x = 1.5;
    while x < 100.0 {
        x = x * 2.0;
    }
    println(total);
    println(x);
    print("done ${total} ${x > 3.0}\n");
}
"#,
    );
    println!("{}", dump(&c.module));
    let main = function(&c.module, "main");
    assert!(
        mnemonics(main)
            .contains("local.get i.const i.add local.set local.get i.const i.ge jmp.ifnot")
    );
}

#[test]
fn imports_with_and_without_alias() {
    let util = r#"
struct Vec2 { x: float, y: float }
impl Vec2 {
    fn len(self) -> float { return math.sqrt(self.x * self.x + self.y * self.y); }
    fn zero() -> Vec2 { return Vec2(x: 0.0, y: 0.0); }
}
const SCALE = 2;
let NAME = "util";
var calls = 0;
fn helper(n: int) -> int { calls += 1; return n * SCALE; }
"#;
    let other = "fn helper(n: int) -> int { return n + 1; }\nfn twice(f: fn(int) -> int, x: int) -> int { return f(f(x)); }";
    let src = r#"
import "util.src";
import "other.src" as o;
fn main() {
    let v = Vec2(x: 3.0, y: 4.0);
    println(v.len());
    println(Vec2.zero());
    println(helper(SCALE));
    println(o.helper(1));
    println(o.twice(helper, 3));
    println(o.twice(o.helper, 3));
    let w: Vec2 = Vec2.zero();
    println("${NAME} ${calls} ${w.x}");
    calls = 10;
}
"#;
    let c = compile_with(src, &[("util.src", util), ("other.src", other)]);
    let names: Vec<&str> = c.module.exports.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"main"));
    assert!(names.contains(&"helper"));
    assert!(names.contains(&"Vec2.len"));
    assert!(names.contains(&"other.src:helper"), "{names:?}");
    assert_eq!(c.module.files.len(), 3);
}

#[test]
fn qualified_types_and_ambiguity() {
    let a = "struct P { v: int }\nfn f() -> int { return 1; }";
    let b = "fn f() -> int { return 2; }";
    compile_with(
        "import \"a.src\" as a;\nfn g(p: a.P) -> int { return p.v; }\nfn main() { println(g(a.P(v: 1))); }",
        &[("a.src", a)],
    );
    let got = errors_with(
        "import \"a.src\";\nimport \"b.src\";\nfn main() { println(f()); }",
        &[("a.src", a), ("b.src", b)],
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("`f` is ambiguous"), "{got:?}");
    // Own declarations win over imported ones.
    compile_with(
        "import \"b.src\";\nfn f() -> int { return 3; }\nfn main() { println(f()); }",
        &[("b.src", b)],
    );
    let got = errors_with(
        "import \"a.src\" as a;\nfn main() { a.nope(); }",
        &[("a.src", a)],
    );
    assert!(got[0].contains("cannot find `nope` in `a.src`"), "{got:?}");
}

#[test]
fn imported_globals_are_initialised_first() {
    let util = "let BASE = [1, 2, 3];\nfn total() -> int { var s = 0; for x in BASE { s += x; } return s; }";
    let c = compile_with(
        "import \"util.src\";\nlet T = total() + BASE.len();\nfn main() { println(T); }",
        &[("util.src", util)],
    );
    let init = function(&c.module, "$init");
    // BASE (global 0, from util.src) is set before T.
    let sets: Vec<String> = init
        .code
        .iter()
        .filter(|i| i.mnemonic() == "global.set")
        .map(|i| i.operand_text())
        .collect();
    let base = c
        .module
        .globals
        .iter()
        .position(|g| g.name == "BASE")
        .unwrap();
    let t = c.module.globals.iter().position(|g| g.name == "T").unwrap();
    assert_eq!(sets, vec![base.to_string(), t.to_string()]);
}

/// A program using every construct of the language (also the mutation tests' seed).
pub const WHOLE: &str = r#"
struct Point { x: float, y: float }
struct Node { value: int, children: [Node] }
struct Holder { f: fn(int) -> int, name: str }

impl Point {
    fn norm(self) -> float { return math.sqrt(self.x * self.x + self.y * self.y); }
    fn scale(self, k: float) { self.x *= k; self.y *= k; }
    fn origin() -> Point { return Point(x: 0.0, y: 0.0); }
}

impl Node {
    fn sum(self) -> int {
        var s = self.value;
        for c in self.children { s += c.sum(); }
        return s;
    }
}

const N = 1 << 4;
const PI2 = math.PI * 2.0;
const NAME = "x" + "y";
const BIG = int.MAX;
let table = ["one": 1, "two": 2];
var log: [str] = [];

fn inc(x: int) -> int { return x + 1; }
fn by_len(a: str, b: str) -> int { return a.len() - b.len(); }
fn side(tag: str) -> int { log.push(tag); return tag.len(); }

fn main() -> int {
    let p = Point(y: 4.0 + float(side("y")), x: 3.0 * float(side("xx")));
    p.scale(0.5);
    let q = Point.origin();
    println(p.norm() + q.norm());
    let tree = Node(value: 1, children: [Node(value: 2, children: []), Node(value: 3, children: [])]);
    println(tree.sum());
    let h = Holder(f: inc, name: "inc");
    println(h.f(41));
    let g = h.f;
    println(g(1) == 2 && g != inc || false);
    var xs = [5, 3, 9];
    xs[0] += 1;
    xs[side("i") - 1] *= 2;
    xs.insert(0, 7);
    println(xs.remove(1));
    println(xs.pop());
    xs.reverse();
    xs.sort();
    println(xs.index_of(3));
    var words = "b,aaa,cc".split(",");
    words.sort_by(by_len);
    println(words.join("-"));
    var m: [str: int] = [:];
    m["a"] = 1;
    m["a"] += 5;
    m[NAME] = N;
    println(m.has("a") && m.get("z", 0) == 0);
    println(m.remove("a"));
    for k, v in m { println("${k} -> ${v}"); }
    for k in table { print(k); }
    println();
    for i, w in words { println("${i}: ${w}"); }
    var i = 0;
    while i < 10 {
        i += 1;
        if i % 2 == 0 { continue; }
        if i > 7 { break; }
    }
    for j in 0..=3 { i -= j; }
    let s = "Hello, World";
    println(s.upper() + s.lower() + s.trim() + s.replace("l", "L") + s.repeat(2));
    println(s.slice(0, 5) + str(s.find("W")) + str(s.byte(0)) + str(s.contains("lo")));
    println(s.starts_with("He") || s.ends_with("d"));
    println("42".parse_int() + int("1.5".parse_float()) + ord("A") + chr(66).len());
    println("3".is_int() && "3.5".is_float());
    println(1.0 / 3.0);
    println((2.0).to_fixed(2));
    println(math.floor(2.5) + math.ceil(2.5) + math.round(2.5) + math.pow(2.0, 10.0) + math.atan2(1.0, 1.0));
    println(abs(-1.5) + min(1.0, 2.0) + max(-1.0, 0.0));
    println(BIG + 1 == int.MIN);
    println(7 / 2 + 7 % 3 + (5 & 3) + (5 | 3) + (5 ^ 3) + (1 << 3) + (-16 >> 2));
    println(-7.5 % 2.0);
    println("a" < "b" && 1.5 >= 1.5 && !(1 > 2));
    println(log);
    println(PI2 > 6.0);
    assert(i < 100, "i is small");
    assert(i < 100);
    let nested = [[1, 2], [3]];
    println(nested[1][0]);
    let grid = array(2, array(2, 0));
    grid[0][1] = 5;
    println(grid);
    println(os.args().len());
    if i > 1000 { os.exit(3); }
    return 0;
}
"#;

#[test]
fn whole_language() {
    compile(WHOLE);
}

/// The line entry covering the first instruction with mnemonic `m` in function `f`.
fn position_of(c: &rvm_compiler::Compiled, f: &str, m: &str, nth: usize) -> (u32, u32) {
    let f = function(&c.module, f);
    let offsets = f.instr_offsets();
    let idx = f
        .code
        .iter()
        .enumerate()
        .filter(|(_, i)| i.mnemonic() == m)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no {m} in\n{}", listing(f)));
    let e = f.position_at(offsets[idx]).expect("a line entry");
    assert_eq!(c.module.files[e.file as usize], "main.src");
    (e.line, e.column)
}

#[test]
fn line_tables_point_at_trapping_operations() {
    let c = compile(
        r#"fn helper(a: int, b: int) -> int {
    return a / b;
}
fn main() {
    let xs = [1, 2];
    let i = 5;
    println(xs[i]);
    let m = ["a": 1];
    println(m["b"] + helper(1, 0));
    var e: [int] = [];
    e.pop();
    xs[i] += 1;
}
"#,
    );
    assert_eq!(position_of(&c, "helper", "i.div", 0), (2, 12));
    assert_eq!(position_of(&c, "main", "arr.get", 0), (7, 13));
    assert_eq!(position_of(&c, "main", "map.get", 0), (9, 13));
    assert_eq!(position_of(&c, "main", "call", 0), (9, 22));
    assert_eq!(position_of(&c, "main", "call.native", 0), (7, 5));
    assert_eq!(position_of(&c, "main", "arr.pop", 0), (11, 7));
    assert_eq!(position_of(&c, "main", "arr.get", 1), (12, 5));
    assert_eq!(position_of(&c, "main", "arr.set", 0), (12, 5));
    // Every function has an entry at offset 0 and the entries are sorted.
    for f in &c.module.functions {
        if f.name == "$init" {
            continue;
        }
        assert_eq!(f.lines.first().map(|e| e.offset), Some(0), "{}", f.name);
        assert!(f.lines.windows(2).all(|w| w[0].offset < w[1].offset));
    }
}

#[test]
fn compound_assignment_evaluates_operands_once() {
    let c = compile(
        r#"
struct P { v: int }
var calls = 0;
fn idx() -> int { calls += 1; return 0; }
fn get(p: P) -> P { calls += 1; return p; }
fn main() {
    var xs = [1, 2];
    xs[idx()] += 5;
    let m = ["k": 1.5];
    m["k"] *= 2.0;
    let p = P(v: 1);
    get(p).v -= 3;
    var s = "a";
    s += "b";
    println("${xs} ${m} ${p.v} ${s} ${calls}");
}
"#,
    );
    let main = function(&c.module, "main");
    assert_eq!(
        main.code
            .iter()
            .filter(|i| matches!(i, Instr::Call { .. }))
            .count(),
        2,
        "{}",
        listing(main)
    );
}

#[test]
fn conditions_compile_to_jumps() {
    let c = compile(
        "fn f(a: int, b: int) -> int {\n    if a < b && !(a == 0) || b > 10 { return 1; }\n    return 0;\n}\nfn main() { println(f(1, 2)); }",
    );
    let f = function(&c.module, "f");
    let m = mnemonics(f);
    assert!(!m.contains("b.not"), "{m}");
    assert!(!m.contains("dup"), "{m}");
}

#[test]
fn user_declarations_shadow_builtins() {
    let out = run(r#"
struct str { s: int }
fn abs(x: int) -> int { return 100 + x; }
fn main() {
    let math = 3;
    let v: str = str(s: math);
    println(v.s + abs(-1));
}
"#);
    assert_eq!(out, "102\n");
}
