//! Definite-return analysis.

use super::*;

#[test]
fn if_else_both_return() {
    compile(
        "fn f(x: int) -> int { if x > 0 { return 1; } else { return 2; } }\nfn main() { f(1); }",
    );
}
