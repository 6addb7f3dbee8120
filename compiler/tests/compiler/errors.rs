//! Programs that must not compile, with the expected diagnostics.

use super::*;

#[test]
fn mismatched_let() {
    assert_errors(
        "fn main() {\n    let x: int = \"a\";\n}",
        &[(2, "mismatched types [expected `int`, found `str`]")],
    );
}
