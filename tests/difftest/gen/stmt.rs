//! Statements, function bodies and `main`. Every statement charges the current
//! function's cost estimate (times the enclosing loops' trip bounds); a block stops
//! early once the budget is spent, and loops are opened only while there is room.

use super::{FnCtx, FnKind, Program, Ty};

/// Most trips a generated loop makes (before its hidden counter or bound stops it).
const MAX_TRIPS: u64 = 6;

impl Program<'_> {
    fn budget_for(&self, kind: FnKind) -> u64 {
        match kind {
            FnKind::Leaf => self.lim.leaf_budget,
            FnKind::Normal => self.lim.fn_budget,
            // One body runs up to 1 + 2 + 4 + 8 + 16 times (two self-calls, depth <= 3).
            FnKind::Recursive => self.lim.fn_budget / 16,
        }
    }

    fn begin_fn(&mut self, index: Option<usize>, kind: FnKind, ret: Option<Ty>, budget: u64) {
        self.ctx = FnCtx {
            index,
            kind,
            ret,
            mult: 1,
            cost: 0,
            budget,
            loops: 0,
            nest: 0,
            self_calls: 0,
        };
    }

    pub(super) fn gen_fn_body(&mut self, i: usize) {
        let f = self.fns[i].clone();
        self.begin_fn(Some(i), f.kind, f.ret.clone(), self.budget_for(f.kind));
        self.scopes.push(Vec::new());
        let mut params = Vec::new();
        for (k, t) in f.params.iter().enumerate() {
            if k == 0 && f.has_self {
                params.push("self".to_string());
                self.declare("self", t.clone(), false);
            } else {
                params.push(format!("p{k}: {}", t.src()));
                self.declare(&format!("p{k}"), t.clone(), false);
            }
        }
        let ret = match &f.ret {
            Some(t) => format!(" -> {}", t.src()),
            None => String::new(),
        };
        self.out.push('\n');
        if let Some(s) = f.method_of {
            self.line(&format!("impl S{s} {{"));
            self.indent += 1;
        }
        self.line(&format!("fn {}({}){ret} {{", f.name, params.join(", ")));
        self.indent += 1;
        if f.kind == FnKind::Recursive {
            self.line("if p0 <= 0 {");
            self.indent += 1;
            // No self-call in the base case (it would never reach a smaller depth).
            self.ctx.self_calls = u32::MAX;
            self.gen_return();
            self.ctx.self_calls = 0;
            self.indent -= 1;
            self.line("}");
        }
        let n = 1 + self.e.below(self.lim.block_len);
        self.gen_stmts(n);
        if f.ret.is_some() {
            self.gen_return();
        }
        self.indent -= 1;
        self.line("}");
        if f.method_of.is_some() {
            self.indent -= 1;
            self.line("}");
        }
        self.scopes.pop();
        let body = self.ctx.cost.max(1);
        self.fns[i].cost = match (f.kind, self.ctx.self_calls) {
            (FnKind::Recursive, 0) => body,
            (FnKind::Recursive, 1) => body * 4,
            (FnKind::Recursive, _) => body * 31,
            _ => body,
        };
    }

    fn gen_return(&mut self) {
        if let Some(i) = self.ctx.index
            && self.ctx.kind == FnKind::Recursive
            && self.can_self_call(i)
            && self.e.chance(1, 3)
        {
            self.gen_accumulator_return(i);
            return;
        }
        match self.ctx.ret.clone() {
            Some(t) => {
                let e = self.expr(&t, self.lim.expr_depth);
                if self.ctx.index.is_none() {
                    // `main`'s result is the exit code: keep it in 0..=255.
                    self.line(&format!("return abs({e} % 256);"));
                } else {
                    self.line(&format!("return {e};"));
                }
            }
            None => self.line("return;"),
        }
    }

    /// A return whose self-call is in accumulator position (the compiled tier makes it a
    /// loop): its result returned as it is, or combined by `+` or `*` with a value
    /// computed before it or a constant after it.
    fn gen_accumulator_return(&mut self, i: usize) {
        let d = self.lim.expr_depth;
        match self.ctx.ret.clone() {
            Some(Ty::Int) => {
                let line = match self.e.below(4) {
                    0 => format!("return {};", self.call(i, d)),
                    1 => {
                        let e = self.expr(&Ty::Int, d);
                        format!("return {e} + {};", self.call(i, d))
                    }
                    2 => {
                        let e = self.expr(&Ty::Int, d);
                        format!("return {e} * {};", self.call(i, d))
                    }
                    _ => {
                        let c = self.e.below(9) as i64 - 4;
                        format!("return {} * {c};", self.call(i, d))
                    }
                };
                self.line(&line);
            }
            Some(_) => {
                let line = format!("return {};", self.call(i, d));
                self.line(&line);
            }
            None => {
                let line = format!("{};", self.call(i, d));
                self.line(&line);
                self.line("return;");
            }
        }
    }

    pub(super) fn gen_main(&mut self) {
        let returns_int = self.e.chance(1, 2);
        self.begin_fn(
            None,
            FnKind::Normal,
            returns_int.then_some(Ty::Int),
            self.lim.main_budget,
        );
        self.out.push('\n');
        self.line(if returns_int {
            "fn main() -> int {"
        } else {
            "fn main() {"
        });
        self.indent += 1;
        self.scopes.push(Vec::new());
        let n = 3 + self.e.below(2 * self.lim.block_len);
        self.gen_stmts(n);
        // A call of every normal function that still fits, so most bodies run.
        for j in 0..self.fns.len() {
            if self.fns[j].kind != FnKind::Leaf && self.callable(|_| true).contains(&j) {
                let call = self.call(j, 2);
                if self.fns[j].ret.as_ref().is_some_and(|t| t.printable()) {
                    self.line(&format!("println({call});"));
                } else {
                    self.line(&format!("{call};"));
                }
            }
        }
        if self.e.chance(1, 30) {
            // Deep recursion: a stack overflow trap (the test runs with max_stack 1000)
            // with a long, elided stack trace; or just below the limit.
            let n = [10, 998, 999, 1000, 5000][self.e.below(5)];
            self.line(&format!("println(deep({n}));"));
            self.deep = true;
        }
        if self.e.chance(1, 4) {
            // A counting loop over an array (see `kernel`).
            let text = self.gen_kernel();
            let (xs, short) = (self.kernel_array(), self.kernel_array());
            let m = self.e.below(8);
            self.line(&format!("println(kernel({xs}, {short}, {m}));"));
            self.kernel = Some(text);
        }
        // Final state: every printable variable in scope, globals included.
        for v in self.visible() {
            if v.ty.printable() && self.e.chance(2, 3) {
                self.line(&format!("println(\"{} = ${{{}}}\");", v.name, v.name));
            }
        }
        if returns_int {
            let e = self.expr(&Ty::Int, 2);
            if self.e.chance(1, 10) {
                self.line(&format!("return {e};")); // may be out of 0..=255
            } else {
                self.line(&format!("return abs({e} % 256);"));
            }
        }
        self.scopes.pop();
        self.indent -= 1;
        self.line("}");
        if let Some(text) = self.kernel.take() {
            self.out.push_str(&text);
        }
        if self.deep {
            self.out.push_str(
                "\nfn deep(n: int) -> int {\n    if n <= 0 {\n        return 0;\n    }\n    \
                 return deep(n - 1) + 1;\n}\n",
            );
        }
    }

    fn over_budget(&self) -> bool {
        self.ctx.cost >= self.ctx.budget
    }

    /// `n` statements in the current scope, then maybe a `break`/`continue` (inside loops;
    /// always last, so no statement is unreachable).
    fn gen_stmts(&mut self, n: usize) {
        for _ in 0..n {
            if self.over_budget() {
                break;
            }
            self.ctx.cost += self.ctx.mult;
            self.gen_stmt();
        }
        if self.ctx.loops > 0 && self.e.chance(1, 4) {
            let kw = if self.e.chance(1, 2) {
                "break"
            } else {
                "continue"
            };
            if self.e.chance(2, 3) {
                let c = self.expr(&Ty::Bool, 2);
                self.line(&format!("if {c} {{"));
                self.line(&format!("    {kw};"));
                self.line("}");
            } else {
                self.line(&format!("{kw};"));
            }
        }
    }

    /// A nested block `{ ... }` body: its own scope, one level deeper.
    fn gen_block(&mut self, n: usize) {
        self.indent += 1;
        self.ctx.nest += 1;
        self.scopes.push(Vec::new());
        self.gen_stmts(n);
        self.scopes.pop();
        self.ctx.nest -= 1;
        self.indent -= 1;
    }

    fn gen_stmt(&mut self) {
        let d = self.lim.expr_depth;
        let nest_ok = self.ctx.nest < self.lim.nest;
        let in_main = self.ctx.index.is_none();
        let leaf = self.ctx.kind == FnKind::Leaf;
        let weights = [
            6,                           // 0 print
            5,                           // 1 declaration
            4,                           // 2 assignment
            2,                           // 3 field assignment
            3,                           // 4 array operation
            2,                           // 5 map operation
            if nest_ok { 3 } else { 0 }, // 6 if
            if nest_ok { 2 } else { 0 }, // 7 while
            if nest_ok { 3 } else { 0 }, // 8 for range
            if nest_ok { 2 } else { 0 }, // 9 for each
            if nest_ok { 1 } else { 0 }, // 10 for map
            3,                           // 11 call statement
            if nest_ok { 1 } else { 0 }, // 12 block
            1,                           // 13 early return
            1,                           // 14 assert / exit / cycle
            if leaf { 1 } else { 2 },    // 15 sort (sort_by only outside leaves)
            2,                           // 16 directed edge cases
        ];
        match self.e.weighted(&weights) {
            0 => self.gen_print(),
            1 => self.gen_decl(d),
            2 => self.gen_assign(d),
            3 => self.gen_field_assign(d),
            4 => self.gen_array_op(d),
            5 => self.gen_map_op(d),
            6 => self.gen_if(),
            7 => self.gen_while(),
            8 => self.gen_for_range(),
            9 => self.gen_for_each(),
            10 => self.gen_for_map(),
            11 => self.gen_call_stmt(d),
            12 => {
                self.line("{");
                let n = 1 + self.e.below(3);
                self.gen_block(n);
                self.line("}");
            }
            13 => {
                let c = self.expr(&Ty::Bool, 2);
                self.line(&format!("if {c} {{"));
                self.indent += 1;
                if in_main && self.ctx.ret.is_none() && self.e.chance(1, 2) {
                    self.line("return;");
                } else {
                    self.gen_return();
                }
                self.indent -= 1;
                self.line("}");
            }
            14 => self.gen_rare(d),
            15 => self.gen_sort(),
            _ => self.gen_edge(),
        }
    }

    fn gen_print(&mut self) {
        let t = self.printable_ty();
        // Now and then a deep expression (a tall operand stack, many temporaries).
        let depth = if self.e.chance(1, 10) {
            self.lim.expr_depth + 2
        } else {
            self.lim.expr_depth
        };
        let e = self.expr(&t, depth);
        match self.e.weighted(&[6, 2, 1, 1]) {
            0 => self.line(&format!("println({e});")),
            1 => self.line(&format!("print({e});")),
            2 => self.line(&format!("eprintln({e});")),
            _ => self.line("println();"),
        }
    }

    fn gen_decl(&mut self, d: u32) {
        let t = self.param_ty();
        // Sometimes shadow a visible name (not one declared in this very scope).
        let shadow = if self.e.chance(1, 8) {
            let here: Vec<String> = self
                .scopes
                .last()
                .expect("scope")
                .iter()
                .map(|v| v.name.clone())
                .collect();
            let outer: Vec<String> = self
                .visible()
                .into_iter()
                .map(|v| v.name)
                .filter(|n| {
                    // Locals and globals only: not parameters (a recursive function's
                    // depth), loop variables or hidden loop counters.
                    !here.contains(n) && (n.starts_with('v') || n.starts_with('g'))
                })
                .collect();
            self.pick(&outer)
        } else {
            None
        };
        let name = shadow.unwrap_or_else(|| self.fresh("v"));
        let mutable = self.e.chance(1, 2);
        let kw = if mutable { "var" } else { "let" };
        // An empty container needs its type written.
        let init = match &t {
            Ty::Array(_) if self.e.chance(1, 10) => Some("[]".to_string()),
            Ty::Map(..) if self.e.chance(1, 4) => Some("[:]".to_string()),
            _ => None,
        };
        match init {
            Some(empty) => self.line(&format!("{kw} {name}: {} = {empty};", t.src())),
            None => {
                let e = self.expr(&t, d);
                if self.e.chance(1, 2) {
                    self.line(&format!("{kw} {name}: {} = {e};", t.src()));
                } else {
                    self.line(&format!("{kw} {name} = {e};"));
                }
            }
        }
        self.declare(&name, t, mutable);
    }

    /// A value to store: strings go through `clip` (see the module doc of `gen.rs`).
    fn stored(&mut self, t: &Ty, d: u32) -> String {
        let e = self.expr(t, d);
        if *t == Ty::Str {
            format!("clip({e})")
        } else {
            e
        }
    }

    fn gen_assign(&mut self, d: u32) {
        let vars: Vec<_> = self.visible().into_iter().filter(|v| v.mutable).collect();
        let Some(v) = self.pick(&vars) else {
            return self.gen_decl(d);
        };
        let line = match v.ty {
            Ty::Int if self.e.chance(1, 2) => {
                let op = ["+=", "-=", "*=", "/=", "%="][self.e.below(5)];
                let e = self.expr(&Ty::Int, d);
                if op == "/=" || op == "%=" {
                    if self.e.chance(1, 15) {
                        format!("{} {op} {e};", v.name)
                    } else {
                        format!("{} {op} ({e} | 1);", v.name)
                    }
                } else {
                    format!("{} {op} {e};", v.name)
                }
            }
            Ty::Float if self.e.chance(1, 2) => {
                let op = ["+=", "-=", "*=", "/=", "%="][self.e.below(5)];
                format!("{} {op} {};", v.name, self.expr(&Ty::Float, d))
            }
            Ty::Str if self.e.chance(1, 2) => {
                // Appending a literal grows linearly in the trip count: no clip needed.
                format!("{} += {};", v.name, self.lit(&Ty::Str))
            }
            _ => format!("{} = {};", v.name, self.stored(&v.ty, d)),
        };
        self.line(&line);
    }

    fn gen_field_assign(&mut self, d: u32) {
        let structs: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| matches!(v.ty, Ty::Struct(_)))
            .collect();
        let Some(v) = self.pick(&structs) else {
            return self.gen_print();
        };
        let Ty::Struct(s) = v.ty else { unreachable!() };
        let fields = self.structs[s].fields.clone();
        let (f, t) = self.pick(&fields).expect("structs have fields");
        let line = match t {
            Ty::Int if self.e.chance(1, 3) => {
                let op = ["+=", "-=", "*=", "^="][self.e.below(3)];
                format!("{}.{f} {op} {};", v.name, self.expr(&Ty::Int, d))
            }
            Ty::Array(ref et) if **et == Ty::Struct(s) => {
                // Make a cycle on purpose: printing must show `S0(...)` where it recurs.
                format!("{}.{f}.push({});", v.name, v.name)
            }
            _ => format!("{}.{f} = {};", v.name, self.stored(&t, d)),
        };
        self.line(&line);
    }

    fn gen_array_op(&mut self, d: u32) {
        let arrays: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| matches!(v.ty, Ty::Array(_)))
            .collect();
        let Some(v) = self.pick(&arrays) else {
            return self.gen_decl(d);
        };
        let Ty::Array(et) = v.ty.clone() else {
            unreachable!()
        };
        let xs = v.name;
        let line = match self.e.weighted(&[5, 2, 2, 2, 1, 3]) {
            0 => format!("{xs}.push({});", self.stored(&et, d)),
            1 => format!("if {xs}.len() > 1 {{ {xs}.pop(); }}"),
            2 => {
                let i = self.expr(&Ty::Int, d);
                format!(
                    "{xs}.insert(abs({i} % ({xs}.len() + 1)), {});",
                    self.stored(&et, d)
                )
            }
            3 => {
                let i = self.expr(&Ty::Int, d);
                format!("if {xs}.len() > 1 {{ {xs}.remove(abs({i} % {xs}.len())); }}")
            }
            4 => format!("{xs}.reverse();"),
            _ => {
                let i = self.expr(&Ty::Int, d);
                let val = self.stored(&et, d);
                if *et == Ty::Int && self.e.chance(1, 3) {
                    format!("{xs}[abs({i} % {xs}.len())] += {val};")
                } else if self.e.chance(1, 8) {
                    format!("{xs}[{i}] = {val};") // may be out of bounds
                } else {
                    format!("{xs}[abs({i} % {xs}.len())] = {val};")
                }
            }
        };
        self.line(&line);
    }

    fn gen_map_op(&mut self, d: u32) {
        let maps: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| matches!(v.ty, Ty::Map(..)))
            .collect();
        let Some(v) = self.pick(&maps) else {
            return self.gen_decl(d);
        };
        let Ty::Map(k, val) = v.ty.clone() else {
            unreachable!()
        };
        let m = v.name;
        let key = self.key_expr(&k, d);
        let line = match self.e.weighted(&[5, 2, 1]) {
            0 => format!("{m}[{key}] = {};", self.stored(&val, d)),
            1 => format!("if {m}.has({key}) {{ {m}.remove({key}); }}"),
            _ if self.e.chance(1, 2) => format!("{m}.remove({key});"), // traps when absent
            _ => format!("println({m}.len());"),
        };
        self.line(&line);
    }

    fn gen_sort(&mut self) {
        let arrays: Vec<_> = self
            .visible()
            .into_iter()
            .filter(
                |v| matches!(&v.ty, Ty::Array(t) if matches!(**t, Ty::Int | Ty::Float | Ty::Str)),
            )
            .collect();
        let Some(v) = self.pick(&arrays) else {
            return self.gen_print();
        };
        // A comparator called from a leaf would make the leaf a caller (and a leaf
        // comparator sorting with itself would recurse without end).
        if v.ty == Ty::arr(Ty::Int) && self.ctx.kind != FnKind::Leaf && self.e.chance(1, 2) {
            let cmp = self.lit(&Ty::Fn(vec![Ty::Int, Ty::Int], Some(Box::new(Ty::Int))));
            self.line(&format!("{}.sort_by({cmp});", v.name));
        } else {
            self.line(&format!("{}.sort();", v.name));
        }
    }

    fn gen_call_stmt(&mut self, d: u32) {
        let cands = self.callable(|_| true);
        match self.pick(&cands) {
            Some(j) => {
                let call = self.call(j, d);
                self.line(&format!("{call};"));
            }
            None => self.gen_print(),
        }
    }

    fn gen_rare(&mut self, d: u32) {
        match self.e.below(8) {
            0 => {
                // Usually fails: `assertion failed: generated check`.
                let c = self.expr(&Ty::Bool, d);
                self.line(&format!("assert({c}, \"generated check\");"));
            }
            1 => {
                let c = self.expr(&Ty::Int, 2);
                self.line(&format!("os.exit(abs({c} % 256));"));
            }
            2..=4 => {
                // Holds; the one-argument form.
                let t = self.scalar_ty();
                let e = self.simple(&t);
                let op = if t == Ty::Float { "!=" } else { "==" };
                let c = if t == Ty::Float {
                    format!("{e} == {e} || {e} {op} {e}")
                } else {
                    format!("{e} {op} {e}")
                };
                self.line(&format!("assert({c});"));
            }
            _ => self.gen_print(),
        }
    }

    fn gen_if(&mut self) {
        let c = self.expr(&Ty::Bool, self.lim.expr_depth);
        self.line(&format!("if {c} {{"));
        let n = 1 + self.e.below(self.lim.block_len);
        self.gen_block(n);
        match self.e.weighted(&[2, 2, 1]) {
            0 => self.line("}"),
            1 => {
                self.line("} else {");
                let n = 1 + self.e.below(3);
                self.gen_block(n);
                self.line("}");
            }
            _ => {
                let c = self.expr(&Ty::Bool, 2);
                self.line(&format!("}} else if {c} {{"));
                let n = 1 + self.e.below(3);
                self.gen_block(n);
                self.line("} else {");
                self.gen_block(1);
                self.line("}");
            }
        }
    }

    /// Enters a loop with at most `trips` iterations; returns the old multiplier.
    fn enter_loop(&mut self, trips: u64) -> Option<u64> {
        let mult = self.ctx.mult * trips.max(1);
        if self.ctx.cost + mult * 2 > self.ctx.budget {
            return None;
        }
        let old = self.ctx.mult;
        self.ctx.mult = mult;
        self.ctx.loops += 1;
        Some(old)
    }

    fn leave_loop(&mut self, old: u64) {
        self.ctx.mult = old;
        self.ctx.loops -= 1;
    }

    fn loop_body(&mut self) {
        let n = 1 + self.e.below(self.lim.block_len);
        self.gen_block(n);
        self.line("}");
    }

    fn gen_while(&mut self) {
        let trips = 1 + self.e.below(MAX_TRIPS as usize) as u64;
        let Some(old) = self.enter_loop(trips) else {
            return self.gen_print();
        };
        let w = self.fresh("w");
        self.line(&format!("var {w} = 0;"));
        let c = self.expr(&Ty::Bool, 2);
        self.line(&format!("while {w} < {trips} && {c} {{"));
        self.line(&format!("    {w} += 1;"));
        // The counter is readable but not assignable by the body.
        self.scopes.push(Vec::new());
        self.declare(&w, Ty::Int, false);
        self.loop_body();
        self.scopes.pop();
        self.leave_loop(old);
    }

    fn gen_for_range(&mut self) {
        let trips = self.e.below(MAX_TRIPS as usize + 1) as u64;
        let Some(old) = self.enter_loop(trips) else {
            return self.gen_print();
        };
        let i = self.fresh("i");
        let a = self.e.below(5) as i64 - 2;
        let range = match self.e.weighted(&[3, 3, 1, 1]) {
            0 => format!("{a}..{}", a + trips as i64),
            1 => {
                let b = self.expr(&Ty::Int, 2);
                if self.e.chance(1, 2) {
                    format!("{a}..min({b}, {})", a + trips as i64)
                } else {
                    format!("{a}..=min({b}, {})", a + trips as i64 - 1)
                }
            }
            2 => format!("(int.MAX - {})..=int.MAX", trips.saturating_sub(1)),
            _ => format!("int.MIN..(int.MIN + {trips})"),
        };
        self.line(&format!("for {i} in {range} {{"));
        self.scopes.push(Vec::new());
        self.declare(&i, Ty::Int, false);
        self.loop_body();
        self.scopes.pop();
        self.leave_loop(old);
    }

    /// `for x in xs` with a hidden counter: the body may push to `xs` (defined: the loop
    /// sees the new elements), so the counter, not the length, bounds the trips.
    fn gen_for_each(&mut self) {
        let trips = 1 + self.e.below(MAX_TRIPS as usize) as u64;
        let et = self.param_ty();
        let xs = self.expr(&Ty::arr(et.clone()), 2);
        let Some(old) = self.enter_loop(trips) else {
            return self.gen_print();
        };
        let c = self.fresh("c");
        let x = self.fresh("x");
        self.line(&format!("var {c} = 0;"));
        let with_index = self.e.chance(1, 3);
        let idx = self.fresh("i");
        if with_index {
            self.line(&format!("for {idx}, {x} in {xs} {{"));
        } else {
            self.line(&format!("for {x} in {xs} {{"));
        }
        self.line(&format!("    {c} += 1;"));
        self.line(&format!("    if {c} > {trips} {{"));
        self.line("        break;");
        self.line("    }");
        self.scopes.push(Vec::new());
        self.declare(&c, Ty::Int, false);
        self.declare(&x, et, false);
        if with_index {
            self.declare(&idx, Ty::Int, false);
        }
        self.loop_body();
        self.scopes.pop();
        self.leave_loop(old);
    }

    fn gen_for_map(&mut self) {
        let maps: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| matches!(v.ty, Ty::Map(..)))
            .collect();
        let Some(v) = self.pick(&maps) else {
            return self.gen_for_each();
        };
        let Ty::Map(kt, vt) = v.ty.clone() else {
            unreachable!()
        };
        let trips = 1 + self.e.below(MAX_TRIPS as usize) as u64;
        let Some(old) = self.enter_loop(trips) else {
            return self.gen_print();
        };
        let c = self.fresh("c");
        let k = self.fresh("k");
        let val = self.fresh("x");
        self.line(&format!("var {c} = 0;"));
        let with_value = self.e.chance(2, 3);
        if with_value {
            self.line(&format!("for {k}, {val} in {} {{", v.name));
        } else {
            self.line(&format!("for {k} in {} {{", v.name));
        }
        self.line(&format!("    {c} += 1;"));
        self.line(&format!("    if {c} > {trips} {{"));
        self.line("        break;");
        self.line("    }");
        self.scopes.push(Vec::new());
        self.declare(&c, Ty::Int, false);
        self.declare(&k, *kt, false);
        if with_value {
            self.declare(&val, *vt, false);
        }
        self.loop_body();
        self.scopes.pop();
        self.leave_loop(old);
    }
}
