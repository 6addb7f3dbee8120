//! Programs that must compile and verify.

use super::*;

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
