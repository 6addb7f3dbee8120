//! The seeded mutation campaign over bytecode: every valid module the test suite compiles
//! to is damaged in ways a hostile or broken `.bc` file could be (bit flips, truncations,
//! byte insertions and deletions, interesting values over counts and lengths, sections
//! spliced from another module, runs of random opcodes behind valid headers), and each
//! case must end in a specific decode or verification error, or verify and then run to a
//! clean exit or a trap; never a panic, an abort or a hang.
//!
//! Replay a failure with `RVM_MUTATION_SEED=<seed> cargo test --test hostile_mutation`; run
//! more cases with `RVM_MUTATION_CASES=<n>`.

#[path = "hostile/campaign.rs"]
mod campaign;
#[path = "hostile/support.rs"]
mod support;

use std::time::{Duration, Instant};

use campaign::Rng;
use rvm::vm::format::{Instr, Module, OPCODES, decode, encode};
use rvm::vm::verifier::verify;

/// Where each section's bytes are in a well-formed file: (id, start of header, end).
fn sections(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos + 5 <= bytes.len() {
        let id = bytes[pos];
        let len = u32::from_le_bytes(bytes[pos + 1..pos + 5].try_into().unwrap()) as usize;
        let end = pos + 5 + len;
        if end > bytes.len() {
            break;
        }
        out.push((id, pos, end));
        pos = end;
    }
    out
}

const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    7,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// A random instruction with small operands (so that it often verifies).
fn random_instr(rng: &mut Rng, max_operand: u32) -> Instr {
    let info = rng.pick(OPCODES);
    let mut bytes = vec![0u8; 17];
    bytes[0] = info.byte;
    if rng.chance(8) {
        for b in &mut bytes[1..] {
            *b = rng.byte();
        }
    } else {
        let v = rng.below(max_operand as usize + 1) as u32;
        bytes[1..5].copy_from_slice(&v.to_le_bytes());
        if rng.chance(2) {
            bytes[5] = rng.below(4) as u8;
        }
    }
    let mut pos = 0;
    Instr::decode(&bytes, &mut pos).expect("table opcodes decode")
}

/// Replaces a run of a function's code with random instructions; headers stay valid.
fn opcode_run(rng: &mut Rng, m: &mut Module) {
    if m.functions.is_empty() {
        return;
    }
    let f = rng.below(m.functions.len());
    let code = &mut m.functions[f].code;
    let start = rng.below(code.len() + 1);
    let end = (start + rng.below(8)).min(code.len());
    let n = 1 + rng.below(12);
    let operand = (code.len() * 4).max(16) as u32;
    let run: Vec<Instr> = (0..n).map(|_| random_instr(rng, operand)).collect();
    code.splice(start..end, run);
    if rng.chance(3) {
        // Sometimes a whole new body ending in `ret`.
        let n = 1 + rng.below(24);
        *code = (0..n).map(|_| random_instr(rng, operand)).collect();
        code.push(Instr::Ret {});
    }
}

/// One damaged file derived from `modules[k]`.
fn mutate(rng: &mut Rng, modules: &[Vec<u8>], kind: usize) -> Vec<u8> {
    let original = rng.pick(modules);
    let mut b = original.clone();
    match kind {
        // Bit flips.
        0 => {
            for _ in 0..1 + rng.below(4) {
                let p = rng.below(b.len());
                b[p] ^= 1 << rng.below(8);
            }
        }
        // Truncation.
        1 => b.truncate(rng.below(b.len())),
        // Byte insertions.
        2 => {
            let p = rng.below(b.len() + 1);
            let n = 1 + rng.below(8);
            let ins: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            b.splice(p..p, ins);
        }
        // Byte deletions.
        3 => {
            let p = rng.below(b.len());
            let n = (1 + rng.below(8)).min(b.len() - p);
            b.drain(p..p + n);
        }
        // An interesting 32-bit value over a count, length, index or operand.
        4 => {
            let p = rng.below(b.len().saturating_sub(4).max(1));
            let v = *rng.pick(INTERESTING);
            let v = if rng.chance(4) {
                v.wrapping_add(rng.below(3) as u32).wrapping_sub(1)
            } else {
                v
            };
            let end = (p + 4).min(b.len());
            b[p..end].copy_from_slice(&v.to_le_bytes()[..end - p]);
        }
        // Section splice: a section of this module replaced by another module's section of
        // the same id (well-formed but inconsistent with the rest), or dropped, or doubled.
        5 => {
            let mine = sections(&b);
            let other = rng.pick(modules);
            let theirs = sections(other);
            if mine.is_empty() || theirs.is_empty() {
                return b;
            }
            let &(id, s, e) = rng.pick(&mine);
            match rng.below(4) {
                0 => {
                    b.drain(s..e);
                }
                1 => {
                    let dup = b[s..e].to_vec();
                    b.splice(e..e, dup);
                }
                _ => {
                    let pick = theirs
                        .iter()
                        .find(|t| t.0 == id)
                        .copied()
                        .unwrap_or(*rng.pick(&theirs));
                    b.splice(s..e, other[pick.1..pick.2].iter().copied());
                }
            }
        }
        // Random opcode runs behind valid headers.
        _ => {
            let mut m = decode(&b).expect("seed modules decode");
            opcode_run(rng, &mut m);
            b = encode(&m);
        }
    }
    b
}

#[derive(Debug, Default)]
struct Tally {
    decode_errors: usize,
    verify_errors: usize,
    clean_runs: usize,
    traps: usize,
}

/// Loads and (if it verifies) runs `bytes` under limits, checking that every
/// failure is specific.
fn check(bytes: &[u8], tally: &mut Tally) {
    let module = match decode(bytes) {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            tally.decode_errors += 1;
            return;
        }
    };
    let names: Vec<String> = module.functions.iter().map(|f| f.name.clone()).collect();
    let verified = match verify(module) {
        Ok(v) => v,
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains(&format!("[{}]", e.rule.name())), "{text}");
            if let Some(f) = e.function {
                assert!((f as usize) < names.len(), "{text}");
                assert_eq!(e.function_name.as_deref(), Some(names[f as usize].as_str()));
            }
            tally.verify_errors += 1;
            return;
        }
    };
    match support::run(&verified) {
        Ok(_) => tally.clean_runs += 1,
        Err(trap) => {
            assert!(!trap.to_string().is_empty());
            tally.traps += 1;
        }
    }
}

#[test]
fn mutated_valid_modules_fail_cleanly_or_run() {
    let modules = campaign::valid_modules();
    assert!(modules.len() > 100, "only {} seed modules", modules.len());
    let seed = campaign::seed();
    let cases = campaign::cases(20_000);
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let started = Instant::now();
    for case in 0..cases {
        let kind = case % 7;
        let bytes = mutate(&mut rng, modules, kind);
        let t = Instant::now();
        let result = std::panic::catch_unwind(|| {
            let mut local = Tally::default();
            check(&bytes, &mut local);
            local
        });
        match result {
            Ok(local) => {
                tally.decode_errors += local.decode_errors;
                tally.verify_errors += local.verify_errors;
                tally.clean_runs += local.clean_runs;
                tally.traps += local.traps;
            }
            Err(_) => {
                let path = std::env::temp_dir().join(format!("rvm-mutation-{seed}-{case}.bc"));
                let _ = std::fs::write(&path, &bytes);
                panic!(
                    "case {case} (seed {seed}, mutation kind {kind}) panicked; input saved to {}",
                    path.display()
                );
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "case {case} (seed {seed}) took {:?}",
            t.elapsed()
        );
    }
    eprintln!(
        "{cases} cases in {:?} (seed {seed}): {tally:?}",
        started.elapsed()
    );
    assert!(tally.decode_errors > cases / 10, "{tally:?}");
    assert!(tally.verify_errors > cases / 20, "{tally:?}");
    assert!(tally.clean_runs + tally.traps > cases / 100, "{tally:?}");
}
