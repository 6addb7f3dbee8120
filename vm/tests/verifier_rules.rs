//! The verifier's rules, one by one: for every [`Rule`], a module that breaks exactly that
//! rule (checked for the rule, the function and the byte offset), and valid modules that
//! must pass, including one that uses every opcode.

#[path = "verifier_rules/builder.rs"]
mod builder;
#[path = "verifier_rules/cases.rs"]
mod cases;
#[path = "verifier_rules/code_cases.rs"]
mod code_cases;
#[path = "verifier_rules/valid.rs"]
mod valid;

use builder::{A, Builder, i};
use rvm_vm::format::Instr::*;
use rvm_vm::format::Module;
use rvm_vm::format::{F64Bits, Instr, OPCODES, TypeDef};
use rvm_vm::verified::VerifiedModule;
use rvm_vm::verifier::{Rule, VerifyError, verify};

use cases::{At, cases};

fn ok(m: Module) -> VerifiedModule {
    match verify(m) {
        Ok(v) => v,
        Err(e) => panic!("expected a valid module, got: {e}"),
    }
}

fn err(m: Module) -> VerifyError {
    match verify(m) {
        Ok(_) => panic!("expected a verification error"),
        Err(e) => e,
    }
}

#[test]
fn every_rule_has_a_failing_case_with_its_position() {
    for &rule in Rule::ALL {
        let cases = cases(rule);
        assert!(!cases.is_empty(), "no case for {rule}");
        for c in cases {
            let offsets: Vec<Vec<u32>> = c
                .module
                .functions
                .iter()
                .map(|f| f.instr_offsets())
                .collect();
            let names: Vec<String> = c.module.functions.iter().map(|f| f.name.clone()).collect();
            let e = match verify(c.module) {
                Ok(_) => panic!("{rule} / {}: verified, expected an error", c.what),
                Err(e) => e,
            };
            assert_eq!(e.rule, rule, "{rule} / {}: got {e}", c.what);
            let (function, offset) = match c.at {
                At::Module => (None, None),
                At::Function(f) => (Some(f), None),
                At::Instr(f, pc) => (Some(f), Some(offsets[f as usize][pc])),
                At::SomeInstr(f) => (Some(f), e.offset),
            };
            assert_eq!(e.function, function, "{rule} / {}: {e}", c.what);
            assert_eq!(e.offset, offset, "{rule} / {}: {e}", c.what);
            if let Some(f) = function {
                assert_eq!(e.function_name.as_deref(), Some(names[f as usize].as_str()));
            }
            if matches!(c.at, At::SomeInstr(_)) {
                assert!(e.offset.is_some(), "{rule} / {}: {e}", c.what);
            }
            assert!(e.to_string().contains(&format!("[{}]", rule.name())));
        }
    }
}

#[test]
fn error_display_names_function_offset_and_rule() {
    let c = &mut cases(Rule::StackUnderflow)[0];
    let e = err(std::mem::take(&mut c.module));
    assert_eq!(
        e.to_string(),
        "function `f` at byte 9: [stack-underflow] i.add needs 2 operands, found 1"
    );
    let e = err(cases(Rule::TypeDuplicate).remove(0).module);
    assert_eq!(
        e.to_string(),
        "[type-duplicate] type #2 ([int]) duplicates type #1"
    );
}

#[test]
fn rule_names_are_unique_and_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(root.join("../spec/verifier.md")).expect("spec/verifier.md");
    let doc = std::fs::read_to_string(root.join("src/verifier.rs")).expect("src/verifier.rs");
    let mut seen = std::collections::HashSet::new();
    for &rule in Rule::ALL {
        assert!(seen.insert(rule.name()), "duplicate name {}", rule.name());
        assert_eq!(Rule::by_name(rule.name()), Some(rule));
        let quoted = format!("`{}`", rule.name());
        assert!(
            spec.contains(&quoted),
            "{quoted} missing from spec/verifier.md"
        );
        assert!(
            doc.contains(&quoted),
            "{quoted} missing from the verifier's module doc"
        );
    }
}

#[test]
fn nested_wide_function_types_give_short_messages() {
    // T0 = int, T(k+1) = fn(Tk × 100): spelled out, T20 would have 100^20 leaves.
    let mut m = Module::default();
    m.types.push(TypeDef::Int);
    for k in 0..20u32 {
        m.types.push(TypeDef::Func(rvm_vm::format::FuncType {
            params: vec![k; 100],
            result: Some(k),
        }));
    }
    m.types.push(TypeDef::Func(rvm_vm::format::FuncType {
        params: vec![19; 100],
        result: Some(19),
    }));
    let e = err(m.clone());
    assert_eq!(e.rule, Rule::TypeDuplicate);
    assert!(e.message.len() < 2000, "{}", e.message.len());
    assert!(m.type_name(20).len() < 2000);
    assert!(rvm_vm::format::disasm::disassemble(&m).len() < 100_000);
}
