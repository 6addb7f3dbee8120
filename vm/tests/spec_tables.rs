//! `spec/bytecode.md` documents every opcode and every native: a row per entry of the
//! tables in code, with the same byte (or id) and name.

use rvm_vm::format::OPCODES;
use rvm_vm::host::HOST_FUNCTIONS;
use rvm_vm::natives::NATIVES;

fn spec() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/bytecode.md");
    std::fs::read_to_string(&path).expect("spec/bytecode.md")
}

#[test]
fn every_opcode_has_a_row() {
    let spec = spec();
    for op in OPCODES {
        let row = format!("| 0x{:02x} | `{}` |", op.byte, op.mnemonic);
        assert!(
            spec.contains(&row),
            "spec/bytecode.md lacks the row {row:?}"
        );
        for operand in op.operands {
            // `value: F64Bits` is documented as `value: f64`.
            let documented = operand.replace("F64Bits", "f64");
            let line = spec.lines().find(|l| l.starts_with(&row)).unwrap_or("");
            assert!(
                line.contains(&format!("`{documented}`")),
                "the row of {} lacks operand `{documented}`",
                op.mnemonic
            );
        }
    }
}

#[test]
fn every_native_has_a_row() {
    let spec = spec();
    for n in NATIVES {
        let row = format!("| {} | `{}` |", n.id(), n.name());
        assert!(
            spec.contains(&row),
            "spec/bytecode.md lacks the row {row:?}"
        );
    }
}

#[test]
fn every_host_function_has_a_row() {
    let spec = spec();
    for h in HOST_FUNCTIONS {
        let row = format!("| `{}` | `{}` |", h.module(), h.name());
        assert!(
            spec.contains(&row),
            "spec/bytecode.md lacks the row {row:?}"
        );
    }
}
