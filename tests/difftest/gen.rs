//! A generator of random, well-typed, terminating rvm programs, in source form.
//!
//! Why source and not bytecode: the differential test compares the tiers on what the
//! compiler really emits (its idioms, its fused patterns, its line tables), and a program
//! that fails to compile is a generator bug we want to see — the generator is a second,
//! independent reading of `spec/language.md`.
//!
//! Every choice comes from an [`Entropy`]: a seeded PRNG (the `cargo test` driver) or the
//! bytes of a fuzz input (the cargo-fuzz target; the bytes make the first choices, which
//! are the structural ones — structs, signatures, globals — and a PRNG seeded with their
//! hash makes the rest). The same seed or bytes always give the same program.
//!
//! **Termination by construction.** Loops have bounded trip counts (ranges with a literal
//! or `min(e, K)` bound; `while` and `for`-each loops carry a hidden counter that the body
//! cannot assign). Calls form a DAG: a function may call only functions generated before
//! it (they have higher indices and are emitted first), except for *recursive* functions,
//! whose first parameter is a depth that every self-call decrements and a guard checks.
//! Function *values* (references, `call.ref`) name only *leaf* functions, which call no
//! user function at all, so indirect calls cannot close a cycle either. Each function's
//! cost (statements executed, times enclosing loop trips, plus its callees' costs) is
//! estimated while it is generated, and a call is placed only if the caller stays within
//! its budget, so nested calls in loops cannot multiply without bound. Strings that are
//! stored back into variables, fields or elements go through the generated `clip` helper,
//! so repeated concatenation cannot double a string's length without bound. The test
//! still runs every program with fuel and a heap limit as a backstop.

use std::fmt::Write as _;

#[path = "gen/edge.rs"]
mod edge;
#[path = "gen/expr.rs"]
mod expr;
#[path = "gen/kernel.rs"]
mod kernel;
#[path = "gen/lit.rs"]
mod lit;
#[path = "gen/stmt.rs"]
mod stmt;

/// Where choices come from.
#[derive(Debug)]
pub enum Entropy<'a> {
    /// A SplitMix64 stream: the seeded `cargo test` driver.
    Rng(u64),
    /// A fuzz input, consumed front to back (two bytes per choice); once it is used up, a
    /// SplitMix64 stream seeded with a hash of the whole input takes over, so that even
    /// the short inputs libFuzzer starts with give full-size programs while its mutations
    /// of the bytes steer the first (structural) choices.
    Bytes(&'a [u8], u64),
}

impl Entropy<'_> {
    fn next_u64(&mut self) -> u64 {
        match self {
            Entropy::Rng(state) => splitmix(state),
            Entropy::Bytes(bytes, state) => match bytes.split_first_chunk::<2>() {
                Some((pair, rest)) => {
                    *bytes = rest;
                    u64::from(u16::from_be_bytes(*pair))
                }
                None => splitmix(state),
            },
        }
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) >= den - num
    }

    /// An index into `weights` chosen in proportion to the weights.
    fn weighted(&mut self, weights: &[usize]) -> usize {
        let total: usize = weights.iter().sum();
        let mut x = self.below(total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        0
    }
}

/// One step of SplitMix64.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A type of the generated program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Array(Box<Ty>),
    /// Key (int, str or bool) and value.
    Map(Box<Ty>, Box<Ty>),
    /// Index into [`Program::structs`].
    Struct(usize),
    /// Parameters and result.
    Fn(Vec<Ty>, Option<Box<Ty>>),
}

impl Ty {
    fn arr(t: Ty) -> Ty {
        Ty::Array(Box::new(t))
    }

    /// The type as written in source.
    pub fn src(&self) -> String {
        match self {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "str".into(),
            Ty::Array(t) => format!("[{}]", t.src()),
            Ty::Map(k, v) => format!("[{}: {}]", k.src(), v.src()),
            Ty::Struct(i) => format!("S{i}"),
            Ty::Fn(ps, r) => {
                let ps: Vec<String> = ps.iter().map(Ty::src).collect();
                match r {
                    Some(r) => format!("fn({}) -> {}", ps.join(", "), r.src()),
                    None => format!("fn({})", ps.join(", ")),
                }
            }
        }
    }

    /// Printable: not a function reference, and (for containers) not containing one.
    /// Generated structs never have fields of function type, so they are all printable.
    fn printable(&self) -> bool {
        match self {
            Ty::Fn(..) => false,
            Ty::Array(t) => t.printable(),
            Ty::Map(k, v) => k.printable() && v.printable(),
            _ => true,
        }
    }

    /// Reference types compare by identity with `==`.
    fn is_ref(&self) -> bool {
        matches!(self, Ty::Array(_) | Ty::Map(..) | Ty::Struct(_))
    }
}

/// A struct declaration: fields refer only to structs with a higher index, so values are
/// finite trees built bottom-up (cycles are still made at run time on purpose, through
/// arrays of the struct's own type, see [`Program::self_ref`]).
#[derive(Clone, Debug)]
pub struct StructDef {
    fields: Vec<(String, Ty)>,
}

/// What kind of function, which decides what its body may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FnKind {
    /// Calls no user function (except `clip`); the only functions that may be used as
    /// values, so indirect calls never recurse.
    Leaf,
    /// May call leaves, indirect calls and normal functions with a higher index.
    Normal,
    /// Like normal, plus self-calls with a decremented depth (parameter 0).
    Recursive,
}

/// A user function (or method) signature and what the generator learnt from its body.
#[derive(Clone, Debug)]
struct FnDef {
    /// `h3`, `f2`, or the method name `m1`.
    name: String,
    /// The struct it belongs to (`S1.m2`).
    method_of: Option<usize>,
    /// A method (`self` is parameter 0, of the struct's type) rather than an associated
    /// function (`S1.make(...)`, called through the struct's name).
    has_self: bool,
    params: Vec<Ty>,
    ret: Option<Ty>,
    kind: FnKind,
    /// Estimated statements executed by one call (filled when the body is generated).
    cost: u64,
}

impl FnDef {
    /// The function as a value (`h3`, `S1.m2`).
    fn value_src(&self) -> String {
        match self.method_of {
            Some(s) => format!("S{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    fn ty(&self) -> Ty {
        Ty::Fn(self.params.clone(), self.ret.clone().map(Box::new))
    }
}

/// A visible binding.
#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
    mutable: bool,
}

/// Limits that keep programs small and fast (a debug-build interpreter runs each program
/// four times in the `cargo test` driver).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Estimated statements one call of a leaf function may execute.
    pub leaf_budget: u64,
    /// ... of a normal function.
    pub fn_budget: u64,
    /// ... of `main`.
    pub main_budget: u64,
    /// Most statements in one block.
    pub block_len: usize,
    /// Deepest statement nesting.
    pub nest: u32,
    /// Deepest expression nesting.
    pub expr_depth: u32,
}

impl Limits {
    /// Smaller programs, for the fuzz target: its sanitizer- and coverage-instrumented
    /// build runs Cranelift far slower, and compile time grows faster than linearly with a
    /// function's length.
    pub fn small() -> Limits {
        Limits {
            main_budget: 1500,
            block_len: 4,
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            leaf_budget: 60,
            fn_budget: 600,
            main_budget: 4000,
            block_len: 6,
            nest: 3,
            expr_depth: 3,
        }
    }
}

/// The state of the function whose body is being generated.
#[derive(Clone, Debug)]
struct FnCtx {
    /// Index into `Program::fns` (`None` for `main`).
    index: Option<usize>,
    kind: FnKind,
    ret: Option<Ty>,
    /// Product of the trip bounds of the enclosing loops.
    mult: u64,
    cost: u64,
    budget: u64,
    /// Enclosing loops.
    loops: u32,
    /// Statement nesting.
    nest: u32,
    /// Self-call sites placed (recursive functions).
    self_calls: u32,
}

/// A program being generated.
#[derive(Debug)]
pub struct Program<'a> {
    e: Entropy<'a>,
    lim: Limits,
    structs: Vec<StructDef>,
    fns: Vec<FnDef>,
    /// Scopes, outermost (globals) first.
    scopes: Vec<Vec<Var>>,
    /// Constants: name, type and (constant) initialiser.
    consts: Vec<(String, Ty)>,
    ctx: FnCtx,
    fresh: u32,
    out: String,
    indent: usize,
    /// `main` calls the `deep` recursion (emitted after `main`).
    deep: bool,
    /// The `kernel` function `main` calls (emitted after `main`), if any.
    kernel: Option<String>,
}

/// Generates the program for `seed`.
pub fn generate(seed: u64) -> String {
    Program::new(Entropy::Rng(seed), Limits::default()).build()
}

/// Generates a program driven by a fuzz input, within `limits` (the fuzz target uses
/// [`Limits::small`]).
pub fn generate_from_bytes(bytes: &[u8], limits: Limits) -> String {
    // FNV-1a: the seed of the stream that continues once the bytes are used up.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Program::new(Entropy::Bytes(bytes, hash), limits).build()
}

/// The helper every program has: keeps stored strings short (by characters, so it never
/// cuts one) so that repeated concatenation in loops cannot grow without bound.
const PRELUDE: &str = "\
fn clip(s: str) -> str {
    if s.len() <= 48 {
        return s;
    }
    return s.chars().slice(0, 12).join(\"\") + \"~\";
}
";

impl<'a> Program<'a> {
    fn new(e: Entropy<'a>, lim: Limits) -> Program<'a> {
        Program {
            e,
            lim,
            structs: Vec::new(),
            fns: Vec::new(),
            scopes: vec![Vec::new()],
            consts: Vec::new(),
            ctx: FnCtx {
                index: None,
                kind: FnKind::Normal,
                ret: None,
                mult: 1,
                cost: 0,
                budget: 0,
                loops: 0,
                nest: 0,
                self_calls: 0,
            },
            fresh: 0,
            out: String::new(),
            indent: 0,
            deep: false,
            kernel: None,
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Builds the whole program: structs, leaf functions, constants and globals, normal
    /// functions (callees first), `main`.
    fn build(mut self) -> String {
        self.out.push_str(PRELUDE);
        self.gen_structs();
        self.gen_leaf_sigs();
        self.gen_consts();
        self.gen_globals();
        self.gen_normal_sigs();
        // Leaves first (they call nothing), then normal functions from the highest index
        // down, so every callee's cost is known when its caller is generated.
        let n = self.fns.len();
        for i in (0..n).rev() {
            if self.fns[i].kind == FnKind::Leaf {
                self.gen_fn_body(i);
            }
        }
        for i in (0..n).rev() {
            if self.fns[i].kind != FnKind::Leaf {
                self.gen_fn_body(i);
            }
        }
        self.gen_main();
        self.out
    }

    fn gen_structs(&mut self) {
        let n = 1 + self.e.below(3);
        // Decide the types bottom-up: struct i may hold structs j > i.
        let mut defs = vec![StructDef { fields: Vec::new() }; n];
        for i in (0..n).rev() {
            let nf = 1 + self.e.below(4);
            let mut fields = Vec::new();
            for f in 0..nf {
                let ty = match self.e.weighted(&[6, 3, 2, 3, 2, 1, 2]) {
                    0 => Ty::Int,
                    1 => Ty::Float,
                    2 => Ty::Bool,
                    3 => Ty::Str,
                    4 => Ty::arr(Ty::Int),
                    5 => Ty::Map(Box::new(Ty::Str), Box::new(Ty::Int)),
                    _ if i + 1 < n => Ty::Struct(i + 1 + self.e.below(n - i - 1)),
                    _ => Ty::arr(Ty::Str),
                };
                fields.push((format!("x{f}"), ty));
            }
            defs[i].fields = fields;
        }
        // Sometimes the first struct can hold itself (through an array), for printing
        // cycles (`S0(kids: [S0(...)])`).
        if self.e.chance(1, 3) {
            defs[0].fields.push(("kids".into(), Ty::arr(Ty::Struct(0))));
        }
        self.structs = defs;
        for (i, d) in self.structs.iter().enumerate() {
            let fields: Vec<String> = d
                .fields
                .iter()
                .map(|(n, t)| format!("{n}: {}", t.src()))
                .collect();
            let _ = writeln!(self.out, "\nstruct S{i} {{ {} }}", fields.join(", "));
        }
    }

    /// Leaf functions: the pool that function values draw from. There is always an
    /// `fn(int, int) -> int` (a `sort_by` comparator) and an `fn(int) -> int`.
    fn gen_leaf_sigs(&mut self) {
        let fixed = [
            (vec![Ty::Int, Ty::Int], Some(Ty::Int)),
            (vec![Ty::Int], Some(Ty::Int)),
        ];
        for (params, ret) in fixed {
            let name = self.fresh("h");
            self.fns.push(FnDef {
                name,
                method_of: None,
                has_self: false,
                params,
                ret,
                kind: FnKind::Leaf,
                cost: 0,
            });
        }
        let extra = self.e.below(4);
        for _ in 0..extra {
            let method_of = if self.e.chance(1, 3) {
                Some(self.e.below(self.structs.len()))
            } else {
                None
            };
            let has_self = method_of.is_some() && self.e.chance(3, 4);
            let mut params = Vec::new();
            if let (Some(s), true) = (method_of, has_self) {
                params.push(Ty::Struct(s));
            }
            // Sometimes more parameters than a native calling convention passes in
            // registers.
            let n = if self.e.chance(1, 8) {
                5 + self.e.below(5)
            } else {
                self.e.below(3)
            };
            for _ in 0..n {
                params.push(self.scalar_ty());
            }
            let ret = if self.e.chance(4, 5) {
                Some(self.param_ty())
            } else {
                None
            };
            let name = if method_of.is_some() {
                self.fresh("m")
            } else {
                self.fresh("h")
            };
            self.fns.push(FnDef {
                name,
                method_of,
                has_self,
                params,
                ret,
                kind: FnKind::Leaf,
                cost: 0,
            });
        }
    }

    fn gen_normal_sigs(&mut self) {
        let n = 2 + self.e.below(5);
        for _ in 0..n {
            let kind = if self.e.chance(1, 4) {
                FnKind::Recursive
            } else {
                FnKind::Normal
            };
            let method_of = if kind == FnKind::Normal && self.e.chance(1, 3) {
                Some(self.e.below(self.structs.len()))
            } else {
                None
            };
            let has_self = method_of.is_some() && self.e.chance(3, 4);
            let mut params = Vec::new();
            if let (Some(s), true) = (method_of, has_self) {
                params.push(Ty::Struct(s));
            }
            if kind == FnKind::Recursive {
                params.push(Ty::Int);
            }
            let n = if self.e.chance(1, 6) {
                5 + self.e.below(6)
            } else {
                self.e.below(4)
            };
            for _ in 0..n {
                params.push(self.param_ty());
            }
            let ret = if self.e.chance(3, 4) {
                Some(self.param_ty())
            } else {
                None
            };
            let name = if method_of.is_some() {
                self.fresh("m")
            } else {
                self.fresh("f")
            };
            self.fns.push(FnDef {
                name,
                method_of,
                has_self,
                params,
                ret,
                kind,
                cost: 0,
            });
        }
    }

    fn scalar_ty(&mut self) -> Ty {
        match self.e.weighted(&[5, 3, 2, 3]) {
            0 => Ty::Int,
            1 => Ty::Float,
            2 => Ty::Bool,
            _ => Ty::Str,
        }
    }

    /// A type for a parameter, result, variable or container element.
    fn param_ty(&mut self) -> Ty {
        self.any_ty(2)
    }

    fn any_ty(&mut self, depth: u32) -> Ty {
        let w = if depth == 0 {
            [6, 3, 2, 3, 0, 0, 2, 1]
        } else {
            [10, 5, 4, 5, 4, 2, 3, 1]
        };
        match self.e.weighted(&w) {
            0 => Ty::Int,
            1 => Ty::Float,
            2 => Ty::Bool,
            3 => Ty::Str,
            4 => Ty::arr(self.any_ty(depth - 1)),
            5 => {
                let k = match self.e.below(3) {
                    0 => Ty::Str,
                    1 => Ty::Int,
                    _ => Ty::Bool,
                };
                Ty::Map(Box::new(k), Box::new(self.any_ty(depth - 1)))
            }
            6 => Ty::Struct(self.e.below(self.structs.len())),
            _ => self.leaf_fn_ty(),
        }
    }

    /// The type of some leaf function (so that a value of it can always be written).
    fn leaf_fn_ty(&mut self) -> Ty {
        let leaves: Vec<usize> = (0..self.fns.len())
            .filter(|&i| self.fns[i].kind == FnKind::Leaf)
            .collect();
        let i = leaves[self.e.below(leaves.len())];
        self.fns[i].ty()
    }

    fn gen_consts(&mut self) {
        self.out.push('\n');
        for _ in 0..self.e.below(3) {
            let (ty, init) = match self.e.below(4) {
                0 => (Ty::Int, self.const_int()),
                1 => (Ty::Float, self.lit_float()),
                2 => (Ty::Bool, self.lit(&Ty::Bool)),
                _ => (Ty::Str, self.lit(&Ty::Str)),
            };
            let name = self.fresh("C");
            self.line(&format!("const {name} = {init};"));
            self.consts.push((name.clone(), ty.clone()));
            self.scopes[0].push(Var {
                name,
                ty,
                mutable: false,
            });
        }
    }

    /// A constant `int` expression over literals, `int.MIN/MAX` and earlier constants,
    /// folded by the compiler with run-time (wrapping) semantics.
    fn const_int(&mut self) -> String {
        let mut terms = vec![self.lit_int()];
        for (name, ty) in &self.consts {
            if *ty == Ty::Int {
                terms.push(name.clone());
            }
        }
        let a = terms[self.e.below(terms.len())].clone();
        let b = terms[self.e.below(terms.len())].clone();
        let op = ["+", "-", "*", "<<", "^", "&"][self.e.below(6)];
        format!("({a} {op} {b})")
    }

    fn gen_globals(&mut self) {
        // Rarely, a first global initialised by a leaf call: the leaf's body may read
        // globals declared later, which `$init` has not set yet (0/0.0/false for value
        // types; a `global NAME read before initialization` trap for references).
        if self.e.chance(1, 8) {
            let leaves: Vec<usize> = (0..self.fns.len())
                .filter(|&i| self.fns[i].kind == FnKind::Leaf && self.fns[i].ret.is_some())
                .collect();
            let i = self.pick(&leaves).expect("two fixed leaves");
            let f = self.fns[i].clone();
            let args: Vec<String> = f.params.iter().map(|t| self.lit(t)).collect();
            let callee = match (f.method_of, f.has_self) {
                (Some(_), true) => {
                    let recv = args[0].clone();
                    format!("({recv}).{}({})", f.name, args[1..].join(", "))
                }
                _ => format!("{}({})", f.value_src(), args.join(", ")),
            };
            let ty = f.ret.expect("filtered");
            let name = self.fresh("g");
            self.line(&format!("var {name}: {} = {callee};", ty.src()));
            self.scopes[0].push(Var {
                name,
                ty,
                mutable: true,
            });
        }
        for _ in 0..self.e.below(5) {
            let ty = self.param_ty();
            let mutable = self.e.chance(2, 3);
            // Initialisers see the earlier globals and constants, and call nothing but
            // `clip`/natives.
            self.ctx.budget = 0;
            let init = self.expr(&ty, 2);
            let name = self.fresh("g");
            let kw = if mutable { "var" } else { "let" };
            self.line(&format!("{kw} {name}: {} = {init};", ty.src()));
            self.scopes[0].push(Var { name, ty, mutable });
        }
    }

    /// Globals and in-scope locals, innermost binding of each name only.
    fn visible(&self) -> Vec<Var> {
        let mut seen = std::collections::HashSet::new();
        let mut vars = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if seen.insert(v.name.clone()) {
                    vars.push(v.clone());
                }
            }
        }
        vars
    }

    fn vars_of(&self, ty: &Ty) -> Vec<Var> {
        self.visible().into_iter().filter(|v| v.ty == *ty).collect()
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.e.below(items.len())].clone())
        }
    }

    fn declare(&mut self, name: &str, ty: Ty, mutable: bool) {
        self.scopes.last_mut().expect("a scope").push(Var {
            name: name.into(),
            ty,
            mutable,
        });
    }
}
