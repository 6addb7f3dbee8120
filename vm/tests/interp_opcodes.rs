//! One printed result per remaining opcode form, checked against the expected output.

#[path = "support/builder.rs"]
mod builder;

use builder::*;
use rvm_vm::format::{F64Bits, Instr as I};
use rvm_vm::natives::Native;

fn ic(v: i64) -> I {
    I::IConst { value: v }
}

fn fc(v: f64) -> I {
    I::FConst {
        value: F64Bits::new(v),
    }
}

fn bc(v: bool) -> I {
    I::BConst { value: v as u8 }
}

#[test]
fn every_scalar_opcode_prints_what_it_computes() {
    let mut b = Builder::new();
    let sa = b.array(STR);
    let ia = b.array(INT);
    let m = b.map(INT, STR);
    let [abc, abd, empty, sep, word] = ["abc", "abd", "", "-", "héllo"].map(|s| b.str(s));
    let s = |i: u32| I::SConst { index: i };
    // (expression code, type to print, expected text)
    let cases: Vec<(Vec<I>, u32, &str)> = vec![
        (vec![ic(6), ic(3), I::IAnd {}], INT, "2"),
        (vec![ic(6), ic(3), I::IOr {}], INT, "7"),
        (vec![ic(6), ic(3), I::ILe {}], BOOL, "false"),
        (vec![ic(6), ic(3), I::IGt {}], BOOL, "true"),
        (vec![ic(3), ic(3), I::IGe {}], BOOL, "true"),
        (vec![ic(3), ic(3), I::INe {}], BOOL, "false"),
        (vec![ic(-1), ic(63), I::IShr {}], INT, "-1"),
        (vec![ic(i64::MAX), ic(2), I::IMul {}], INT, "-2"),
        (vec![fc(1.5), fc(0.25), I::FSub {}], FLOAT, "1.25"),
        (vec![fc(1.5), fc(4.0), I::FMul {}], FLOAT, "6.0"),
        (vec![fc(f64::NAN), fc(1.0), I::FNe {}], BOOL, "true"),
        (vec![fc(1.0), fc(2.0), I::FLt {}], BOOL, "true"),
        (vec![fc(2.0), fc(2.0), I::FLe {}], BOOL, "true"),
        (vec![fc(f64::NAN), fc(2.0), I::FGt {}], BOOL, "false"),
        (vec![fc(-0.0), fc(0.0), I::FGe {}], BOOL, "true"),
        (vec![fc(0.0), I::FNeg {}], FLOAT, "-0.0"),
        (vec![bc(true), I::BNot {}], BOOL, "false"),
        (vec![bc(true), bc(true), I::BEq {}], BOOL, "true"),
        (vec![bc(true), bc(false), I::BNe {}], BOOL, "true"),
        (vec![s(abc), s(abd), I::SEq {}], BOOL, "false"),
        (vec![s(abc), s(abd), I::SNe {}], BOOL, "true"),
        (vec![s(abc), s(abd), I::SLt {}], BOOL, "true"),
        (vec![s(abc), s(abc), I::SLe {}], BOOL, "true"),
        (vec![s(abc), s(empty), I::SGt {}], BOOL, "true"),
        (vec![s(empty), s(abc), I::SGe {}], BOOL, "false"),
        (
            vec![s(word), I::SChars { type_: sa }],
            sa,
            "[\"h\", \"é\", \"l\", \"l\", \"o\"]",
        ),
        (
            vec![s(word), I::SChars { type_: sa }, s(sep), I::ArrJoin {}],
            STR,
            "h-é-l-l-o",
        ),
        (
            vec![s(abc), s(empty), I::SSplit { type_: sa }],
            sa,
            "[\"a\", \"b\", \"c\"]",
        ),
        (
            vec![s(sep), s(sep), I::SSplit { type_: sa }],
            sa,
            "[\"\", \"\"]",
        ),
        (
            vec![
                I::ArrNew {
                    type_: ia,
                    count: 0,
                },
                I::Dup {},
                I::REq {},
            ],
            BOOL,
            "true",
        ),
        (
            vec![
                I::ArrNew {
                    type_: ia,
                    count: 0,
                },
                I::ArrNew {
                    type_: ia,
                    count: 0,
                },
                I::RNe {},
            ],
            BOOL,
            "true",
        ),
        (
            vec![
                ic(1),
                s(abc),
                ic(2),
                s(abd),
                I::MapNew { type_: m, count: 2 },
                I::MapValues { type_: sa },
            ],
            sa,
            "[\"abc\", \"abd\"]",
        ),
        (
            vec![
                ic(1),
                s(abc),
                ic(2),
                s(abd),
                I::MapNew { type_: m, count: 2 },
                ic(1),
                I::MapValueAt {},
            ],
            STR,
            "abd",
        ),
        (
            vec![
                ic(1),
                s(abc),
                ic(2),
                s(abd),
                I::MapNew { type_: m, count: 2 },
                ic(2),
                I::MapKeyAt {},
            ],
            INT,
            "<trap>",
        ),
        (
            vec![
                s(word),
                ic(1),
                I::CallNative {
                    native: Native::StrByte.id(),
                },
            ],
            INT,
            "195",
        ),
        (
            vec![
                s(word),
                I::CallNative {
                    native: Native::Ord.id(),
                },
            ],
            INT,
            "104",
        ),
        (
            vec![
                ic(0x1F600),
                I::CallNative {
                    native: Native::Chr.id(),
                },
            ],
            STR,
            "😀",
        ),
        (
            vec![
                s(abc),
                ic(3),
                I::CallNative {
                    native: Native::StrRepeat.id(),
                },
            ],
            STR,
            "abcabcabc",
        ),
        (
            vec![
                s(abc),
                s(empty),
                s(sep),
                I::CallNative {
                    native: Native::StrReplace.id(),
                },
            ],
            STR,
            "-a-b-c-",
        ),
        (
            vec![
                fc(2.5),
                I::CallNative {
                    native: Native::Round.id(),
                },
            ],
            FLOAT,
            "3.0",
        ),
        (
            vec![
                fc(-2.5),
                I::CallNative {
                    native: Native::Round.id(),
                },
            ],
            FLOAT,
            "-3.0",
        ),
        (
            vec![
                ic(i64::MIN),
                I::CallNative {
                    native: Native::IntAbs.id(),
                },
            ],
            INT,
            "-9223372036854775808",
        ),
        (
            vec![
                fc(-0.0),
                fc(0.0),
                I::CallNative {
                    native: Native::FloatMin.id(),
                },
            ],
            FLOAT,
            "-0.0",
        ),
        (
            vec![
                fc(f64::NAN),
                fc(0.0),
                I::CallNative {
                    native: Native::FloatMax.id(),
                },
            ],
            FLOAT,
            "nan",
        ),
        (
            vec![
                s(sep),
                I::CallNative {
                    native: Native::StrIsInt.id(),
                },
            ],
            BOOL,
            "false",
        ),
        (
            vec![
                s(sep),
                I::CallNative {
                    native: Native::StrIsFloat.id(),
                },
            ],
            BOOL,
            "false",
        ),
    ];
    for (code, ty, want) in cases {
        let mut bb = Builder::new();
        std::mem::swap(&mut bb, &mut b);
        let mut body = code.clone();
        body.extend([
            I::ToStr { type_: ty },
            I::CallNative {
                native: Native::Println.id(),
            },
            I::Ret {},
        ]);
        let main = bb.func("main", &[], None, &[], body);
        // Keep the type and string tables for the next case: rebuild from the same builder
        // state by cloning its module before finishing.
        let saved = bb.m.clone();
        let r = run_both(bb.finish(Some(main), None));
        b.m = saved;
        b.m.functions.clear();
        b.reset_code();
        let got = match r.result {
            Ok(_) => r.stdout.trim_end_matches('\n').to_owned(),
            Err(_) => "<trap>".to_owned(),
        };
        assert_eq!(got, want, "{code:?}");
    }
}

/// A NaN constant, whatever its sign and payload, is the canonical NaN once verified: the
/// verified code holds its bits, and it sorts last like every other NaN.
#[test]
fn nan_constants_become_the_canonical_nan() {
    use rvm_vm::float::CANONICAL_NAN_BITS;
    let mut b = Builder::new();
    let fa = b.array(FLOAT);
    let nans = [
        0x7ff8_0000_0000_0000u64,
        0x7ff0_0000_0000_0001,
        0xffff_ffff_ffff_ffff,
    ];
    let mut code: Vec<I> = nans
        .iter()
        .map(|&bits| I::FConst {
            value: F64Bits(bits),
        })
        .collect();
    code.push(fc(1.0));
    code.extend([
        I::ArrNew {
            type_: fa,
            count: 4,
        },
        I::LocalSet { index: 0 },
        I::LocalGet { index: 0 },
        I::ArrSort {},
        I::LocalGet { index: 0 },
        I::ToStr { type_: fa },
        I::CallNative {
            native: Native::Println.id(),
        },
        I::Ret {},
    ]);
    let main = b.func("main", &[], None, &[fa], code);
    let module = b.finish(Some(main), None);
    let consts: Vec<u64> = module.functions()[main as usize]
        .code()
        .iter()
        .filter_map(|i| match i {
            I::FConst { value } => Some(value.0),
            _ => None,
        })
        .collect();
    assert_eq!(consts[..3], [CANONICAL_NAN_BITS; 3]);
    assert_eq!(consts[3], 1.0f64.to_bits());
    let r = run_both(module);
    assert_eq!(r.stdout, "[1.0, nan, nan, nan]\n");
}
