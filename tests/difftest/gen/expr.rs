//! Expressions: every production yields a well-typed expression of the requested type.
//! Sub-expressions are always parenthesised, so precedence never depends on context.
//! Forms that can trap (raw division, raw indexing, `pop`, `parse_int` of arbitrary
//! text...) are drawn rarely, next to a safe form of the same operation
//! (`a / (b | 1)`, `xs[abs(i) % xs.len()]`), so most programs run to the end while traps
//! (with their stack traces) are still compared regularly.

use super::{FnKind, Program, Ty};

const MATH1: &[&str] = &[
    "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "exp", "log", "log10", "floor", "ceil",
    "round",
];

impl Program<'_> {
    /// An expression of type `ty`, at most `d` levels deep.
    pub(super) fn expr(&mut self, ty: &Ty, d: u32) -> String {
        if d == 0 {
            return self.leaf_expr(ty);
        }
        for _ in 0..4 {
            let got = match self.e.weighted(&[3, 6, 2, 1, 1, 1, 1]) {
                0 => Some(self.leaf_expr(ty)),
                1 => self.typed_expr(ty, d),
                2 => self.call_expr(ty, d),
                3 => self.field_expr(ty, d),
                4 => self.elem_expr(ty, d),
                5 => self.map_get_expr(ty, d),
                _ => self.indirect_call_expr(ty, d),
            };
            if let Some(s) = got {
                return s;
            }
        }
        self.leaf_expr(ty)
    }

    /// A variable of the type (usually) or a literal.
    pub(super) fn leaf_expr(&mut self, ty: &Ty) -> String {
        let vars = self.vars_of(ty);
        if !vars.is_empty() && self.e.below(3) < 2 {
            return self.pick(&vars).expect("non-empty").name;
        }
        self.lit(ty)
    }

    /// A variable or literal of the type, for places that mention an operand twice
    /// (`xs[abs(i) % xs.len()]`): duplicating a bigger expression would grow the text
    /// exponentially and repeat its side effects.
    pub(super) fn simple(&mut self, ty: &Ty) -> String {
        self.leaf_expr(ty)
    }

    fn typed_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        match ty {
            Ty::Int => Some(self.int_expr(d)),
            Ty::Float => Some(self.float_expr(d)),
            Ty::Bool => Some(self.bool_expr(d)),
            Ty::Str => Some(self.str_expr(d)),
            Ty::Array(t) => Some(self.array_expr(t, d)),
            Ty::Map(k, v) => {
                let n = self.e.below(3) + 1;
                let keys = self.distinct_keys(k, n);
                let items: Vec<String> = keys
                    .into_iter()
                    .map(|key| format!("{key}: {}", self.expr(v, d - 1)))
                    .collect();
                Some(format!("[{}]", items.join(", ")))
            }
            Ty::Struct(s) => Some(self.struct_lit(*s, d)),
            Ty::Fn(..) => None,
        }
    }

    fn int_expr(&mut self, d: u32) -> String {
        let d1 = d - 1;
        match self.e.weighted(&[8, 3, 1, 2, 1, 3, 2, 2, 2, 2, 1, 1]) {
            0 => {
                let op = ["+", "-", "*", "&", "|", "^"][self.e.below(6)];
                format!(
                    "({} {op} {})",
                    self.expr(&Ty::Int, d1),
                    self.expr(&Ty::Int, d1)
                )
            }
            1 => {
                let op = ["/", "%"][self.e.below(2)];
                let a = self.expr(&Ty::Int, d1);
                let b = self.expr(&Ty::Int, d1);
                match self.e.weighted(&[12, 4, 1]) {
                    0 => format!("({a} {op} ({b} | 1))"),
                    1 => format!("({a} {op} max(abs({b}), 1))"),
                    // May divide by zero.
                    _ => format!("({a} {op} {b})"),
                }
            }
            2 => {
                let op = ["<<", ">>"][self.e.below(2)];
                format!(
                    "({} {op} {})",
                    self.expr(&Ty::Int, d1),
                    self.expr(&Ty::Int, d1)
                )
            }
            3 => format!("(-{})", self.expr(&Ty::Int, d1)),
            4 => format!("int({})", self.expr(&Ty::Float, d1)),
            5 => match self.e.below(3) {
                0 => format!("abs({})", self.expr(&Ty::Int, d1)),
                1 => format!(
                    "min({}, {})",
                    self.expr(&Ty::Int, d1),
                    self.expr(&Ty::Int, d1)
                ),
                _ => format!(
                    "max({}, {})",
                    self.expr(&Ty::Int, d1),
                    self.expr(&Ty::Int, d1)
                ),
            },
            6 => match self.e.below(3) {
                0 => format!("{}.len()", self.paren(&Ty::Str, d1)),
                1 => {
                    let t = self.param_ty();
                    format!("{}.len()", self.paren(&Ty::arr(t), d1))
                }
                _ => {
                    let t = Ty::Map(Box::new(Ty::Str), Box::new(Ty::Int));
                    let m = self.vars_of(&t);
                    match self.pick(&m) {
                        Some(v) => format!("{}.len()", v.name),
                        None => format!("{}.len()", self.paren(&Ty::Str, d1)),
                    }
                }
            },
            7 => match self.e.below(3) {
                0 => format!(
                    "{}.find({})",
                    self.paren(&Ty::Str, d1),
                    self.expr(&Ty::Str, d1)
                ),
                1 => {
                    let s = self.simple(&Ty::Str);
                    let i = self.expr(&Ty::Int, d1);
                    format!("(\"!\" + {s}).byte(abs({i} % (\"!\" + {s}).len()))")
                }
                _ => format!("ord({} + \"a\")", self.paren(&Ty::Str, d1)),
            },
            8 => match self.e.weighted(&[4, 2, 1, 1]) {
                0 => format!("str({}).parse_int()", self.paren(&Ty::Int, d1)),
                1 => format!("{}.parse_int()", self.numeric_text(true)),
                2 => format!("int({}.parse_float())", self.numeric_text(false)),
                // Arbitrary text: usually `invalid int`.
                _ if self.e.chance(1, 8) => format!("{}.parse_int()", self.paren(&Ty::Str, d1)),
                _ => format!("{}.len()", self.paren(&Ty::Str, d1)),
            },
            9 => {
                let t = self.scalar_ty();
                let xs = self.paren(&Ty::arr(t.clone()), d1);
                format!("{xs}.index_of({})", self.expr(&t, d1))
            }
            10 => {
                // `pop` traps on an empty array.
                let xs = self.vars_of(&Ty::arr(Ty::Int));
                match self.pick(&xs) {
                    Some(v) => format!("{}.pop()", v.name),
                    None => self.lit_int(),
                }
            }
            _ => {
                // `remove` traps outside 0..len.
                let xs = self.vars_of(&Ty::arr(Ty::Int));
                match self.pick(&xs) {
                    Some(v) => {
                        let i = self.expr(&Ty::Int, d1);
                        format!("{0}.remove(abs({i} % max({0}.len(), 1)))", v.name)
                    }
                    None => self.lit_int(),
                }
            }
        }
    }

    /// An expression that can take a postfix (`.len()`, `.m()`): a name, a literal, or a
    /// parenthesised expression.
    pub(super) fn paren(&mut self, ty: &Ty, d: u32) -> String {
        let e = self.expr(ty, d);
        if e.chars().all(|c| c.is_alphanumeric() || c == '_') && !e.starts_with(char::is_numeric) {
            e
        } else {
            format!("({e})")
        }
    }

    fn float_expr(&mut self, d: u32) -> String {
        let d1 = d - 1;
        match self.e.weighted(&[8, 1, 2, 3, 1, 2, 1]) {
            0 => {
                let op = ["+", "-", "*", "/", "%"][self.e.below(5)];
                format!(
                    "({} {op} {})",
                    self.expr(&Ty::Float, d1),
                    self.expr(&Ty::Float, d1)
                )
            }
            1 => format!("(-{})", self.expr(&Ty::Float, d1)),
            2 => format!("float({})", self.expr(&Ty::Int, d1)),
            3 => {
                let f = MATH1[self.e.below(MATH1.len())];
                format!("math.{f}({})", self.expr(&Ty::Float, d1))
            }
            4 => {
                let f = ["atan2", "pow"][self.e.below(2)];
                format!(
                    "math.{f}({}, {})",
                    self.expr(&Ty::Float, d1),
                    self.expr(&Ty::Float, d1)
                )
            }
            5 => match self.e.below(3) {
                0 => format!("abs({})", self.expr(&Ty::Float, d1)),
                1 => format!(
                    "min({}, {})",
                    self.expr(&Ty::Float, d1),
                    self.expr(&Ty::Float, d1)
                ),
                _ => format!(
                    "max({}, {})",
                    self.expr(&Ty::Float, d1),
                    self.expr(&Ty::Float, d1)
                ),
            },
            _ => match self.e.weighted(&[3, 2, 1]) {
                0 => format!("str({}).parse_float()", self.paren(&Ty::Float, d1)),
                1 => format!("{}.parse_float()", self.numeric_text(false)),
                // Arbitrary text: sometimes `invalid float`.
                _ if self.e.chance(1, 8) => {
                    format!("{}.parse_float()", self.paren(&Ty::Str, d1))
                }
                _ => format!("float({}.len())", self.paren(&Ty::Str, d1)),
            },
        }
    }

    fn bool_expr(&mut self, d: u32) -> String {
        let d1 = d - 1;
        match self.e.weighted(&[6, 2, 2, 2, 3, 2, 1, 1]) {
            0 => {
                let t = [Ty::Int, Ty::Float, Ty::Str][self.e.weighted(&[3, 2, 1])].clone();
                let op = ["==", "!=", "<", "<=", ">", ">="][self.e.below(6)];
                format!("({} {op} {})", self.expr(&t, d1), self.expr(&t, d1))
            }
            1 => {
                let op = ["==", "!="][self.e.below(2)];
                format!(
                    "({} {op} {})",
                    self.expr(&Ty::Bool, d1),
                    self.expr(&Ty::Bool, d1)
                )
            }
            2 => {
                // Identity of references, or equality of function references.
                let vars: Vec<_> = self
                    .visible()
                    .into_iter()
                    .filter(|v| v.ty.is_ref() || matches!(v.ty, Ty::Fn(..)))
                    .collect();
                match self.pick(&vars) {
                    Some(v) => {
                        let op = ["==", "!="][self.e.below(2)];
                        format!("({} {op} {})", v.name, self.expr(&v.ty, d1))
                    }
                    None => "true".into(),
                }
            }
            3 => format!("(!{})", self.expr(&Ty::Bool, d1)),
            4 => {
                let op = ["&&", "||"][self.e.below(2)];
                format!(
                    "({} {op} {})",
                    self.expr(&Ty::Bool, d1),
                    self.expr(&Ty::Bool, d1)
                )
            }
            5 => {
                let m = ["contains", "starts_with", "ends_with"][self.e.below(3)];
                format!(
                    "{}.{m}({})",
                    self.paren(&Ty::Str, d1),
                    self.expr(&Ty::Str, d1)
                )
            }
            6 => {
                let t = self.scalar_ty();
                let xs = self.paren(&Ty::arr(t.clone()), d1);
                format!("{xs}.contains({})", self.expr(&t, d1))
            }
            _ => {
                let maps: Vec<_> = self
                    .visible()
                    .into_iter()
                    .filter(|v| matches!(v.ty, Ty::Map(..)))
                    .collect();
                match self.pick(&maps) {
                    Some(v) => {
                        let Ty::Map(k, _) = &v.ty else { unreachable!() };
                        let k = (**k).clone();
                        format!("{}.has({})", v.name, self.key_expr(&k, d1))
                    }
                    None => {
                        let m = ["is_int", "is_float"][self.e.below(2)];
                        format!("{}.{m}()", self.paren(&Ty::Str, d1))
                    }
                }
            }
        }
    }

    fn str_expr(&mut self, d: u32) -> String {
        let d1 = d - 1;
        match self.e.weighted(&[5, 4, 3, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1]) {
            0 => format!(
                "({} + {})",
                self.expr(&Ty::Str, d1),
                self.expr(&Ty::Str, d1)
            ),
            1 => {
                let t = self.printable_ty();
                let inner = self.expr(&t, d1);
                let pre = ["", "v=", "[", "a$b ", "\\${x} "][self.e.below(5)];
                format!("\"{pre}${{{inner}}}|\"")
            }
            2 => {
                let t = self.printable_ty();
                format!("str({})", self.expr(&t, d1))
            }
            3 => {
                let m = ["upper", "lower", "trim"][self.e.below(3)];
                format!("{}.{m}()", self.paren(&Ty::Str, d1))
            }
            4 => format!(
                "clip({}.replace({}, {}))",
                self.paren(&Ty::Str, d1),
                self.expr(&Ty::Str, d1),
                self.expr(&Ty::Str, d1)
            ),
            5 => {
                let n = self.expr(&Ty::Int, d1);
                let n = if self.e.chance(1, 8) {
                    format!("({n}) % 4") // may be negative: `negative repeat count`
                } else {
                    format!("abs({n} % 4)")
                };
                format!("clip({}.repeat({n}))", self.paren(&Ty::Str, d1))
            }
            6 => {
                let s = self.simple(&Ty::Str);
                let i = self.expr(&Ty::Int, d1);
                if self.e.chance(1, 3) {
                    // Byte slicing: may cut a multi-byte character.
                    format!("{s}.slice(0, min(abs({i} % 6), {s}.len()))")
                } else {
                    format!(
                        "{s}.chars().slice(0, min(abs({i} % 5), {s}.chars().len())).join({})",
                        self.expr(&Ty::Str, d1)
                    )
                }
            }
            7 => {
                let i = self.expr(&Ty::Int, d1);
                if self.e.chance(1, 12) {
                    format!("chr({i})")
                } else {
                    format!("chr(abs({i} % 2000) + 32)")
                }
            }
            8 => format!(
                "{}.join({})",
                self.paren(&Ty::arr(Ty::Str), d1),
                self.expr(&Ty::Str, d1)
            ),
            9 => format!(
                "{}.split({}).join({})",
                self.paren(&Ty::Str, d1),
                self.expr(&Ty::Str, d1),
                self.expr(&Ty::Str, d1)
            ),
            10 => {
                let i = self.expr(&Ty::Int, d1);
                let digits = if self.e.chance(1, 20) {
                    i // may be out of 0..=100
                } else {
                    format!("abs({i} % 25)")
                };
                format!("{}.to_fixed({digits})", self.paren(&Ty::Float, d1))
            }
            11 => format!("clip({})", self.expr(&Ty::Str, d1)),
            _ => {
                let t = Ty::Map(Box::new(Ty::Str), Box::new(Ty::Int));
                let maps = self.vars_of(&t);
                match self.pick(&maps) {
                    Some(v) => format!("{}.keys().join(\",\")", v.name),
                    None => self.lit_str(),
                }
            }
        }
    }

    fn array_expr(&mut self, t: &Ty, d: u32) -> String {
        let d1 = d - 1;
        match self.e.weighted(&[4, 2, 2, 2, 1]) {
            0 => {
                let n = 1 + self.e.below(4);
                let items: Vec<String> = (0..n).map(|_| self.expr(t, d1)).collect();
                format!("[{}]", items.join(", "))
            }
            1 => {
                let n = self.expr(&Ty::Int, d1);
                let n = if self.e.chance(1, 40) {
                    format!("({n}) % 5") // may be negative
                } else {
                    format!("1 + abs({n} % 4)")
                };
                format!("array({n}, {})", self.expr(t, d1))
            }
            2 => {
                let xs = self.simple(&Ty::arr(t.clone()));
                let i = self.expr(&Ty::Int, d1);
                if self.e.chance(1, 25) {
                    let j = self.expr(&Ty::Int, d1);
                    format!("{xs}.slice({i}, {j})")
                } else {
                    format!("{xs}.slice(0, min(1 + abs({i} % 4), {xs}.len()))")
                }
            }
            3 if *t == Ty::Str => {
                if self.e.chance(1, 2) {
                    format!("{}.chars()", self.paren(&Ty::Str, d1))
                } else {
                    format!(
                        "{}.split({})",
                        self.paren(&Ty::Str, d1),
                        self.expr(&Ty::Str, d1)
                    )
                }
            }
            _ => {
                // Keys or values of a visible map.
                let maps: Vec<_> = self
                    .visible()
                    .into_iter()
                    .filter(|v| match &v.ty {
                        Ty::Map(k, val) => **k == *t || **val == *t,
                        _ => false,
                    })
                    .collect();
                match self.pick(&maps) {
                    Some(v) => {
                        let Ty::Map(k, _) = &v.ty else { unreachable!() };
                        if **k == *t {
                            format!("{}.keys()", v.name)
                        } else {
                            format!("{}.values()", v.name)
                        }
                    }
                    None => self.lit(&Ty::arr(t.clone())),
                }
            }
        }
    }

    /// A printable type, for `println`, `str` and interpolation.
    pub(super) fn printable_ty(&mut self) -> Ty {
        for _ in 0..8 {
            let t = self.param_ty();
            if t.printable() {
                return t;
            }
        }
        Ty::Int
    }

    /// Calls a user function returning `ty` that the current function may call within
    /// its budget.
    fn call_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        if *ty == Ty::Str && self.e.chance(1, 4) {
            return Some(format!("clip({})", self.expr(&Ty::Str, d - 1)));
        }
        let cands = self.callable(|f| f.ret.as_ref() == Some(ty));
        let i = self.pick(&cands)?;
        Some(self.call(i, d))
    }

    /// Functions the current one may call (a DAG by index; see the module doc) whose
    /// cost, times the enclosing loop trips, still fits the budget.
    pub(super) fn callable(&self, want: impl Fn(&super::FnDef) -> bool) -> Vec<usize> {
        if self.ctx.budget == 0 || self.ctx.kind == FnKind::Leaf {
            return Vec::new();
        }
        let room = self.ctx.budget.saturating_sub(self.ctx.cost);
        (0..self.fns.len())
            .filter(|&j| {
                let f = &self.fns[j];
                let order_ok = match self.ctx.index {
                    None => true,
                    Some(i) => f.kind == FnKind::Leaf || j > i || self.can_self_call(j),
                };
                let cost = if Some(j) == self.ctx.index {
                    1
                } else {
                    f.cost.max(1)
                };
                order_ok && want(f) && cost.saturating_mul(self.ctx.mult) <= room
            })
            .collect()
    }

    pub(super) fn can_self_call(&self, j: usize) -> bool {
        self.ctx.index == Some(j)
            && self.ctx.kind == FnKind::Recursive
            && self.ctx.mult == 1
            && self.ctx.self_calls < 2
    }

    /// A call of function `j`, with arguments; charges its cost.
    pub(super) fn call(&mut self, j: usize, d: u32) -> String {
        let f = self.fns[j].clone();
        let d1 = d.saturating_sub(1);
        let self_call = Some(j) == self.ctx.index;
        if self_call {
            self.ctx.self_calls += 1;
        } else {
            self.ctx.cost += f.cost.max(1) * self.ctx.mult;
        }
        let mut args = Vec::new();
        for (k, p) in f.params.iter().enumerate() {
            let is_depth = f.kind == FnKind::Recursive && k == 0;
            args.push(if is_depth && self_call {
                format!("p0 - {}", 1 + self.e.below(2))
            } else if is_depth {
                match self.e.below(3) {
                    0 => self.e.below(4).to_string(),
                    1 => format!("min({}, 3)", self.expr(&Ty::Int, d1)),
                    _ => "3".into(),
                }
            } else {
                self.expr(p, d1)
            });
        }
        match f.method_of {
            Some(_) if f.has_self && self.e.chance(3, 4) => {
                let recv = args.remove(0);
                let recv = if recv.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    recv
                } else {
                    format!("({recv})")
                };
                format!("{recv}.{}({})", f.name, args.join(", "))
            }
            Some(s) => format!("S{s}.{}({})", f.name, args.join(", ")),
            None => format!("{}({})", f.name, args.join(", ")),
        }
    }

    /// A call through a function reference held by a variable or array element.
    fn indirect_call_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        if self.ctx.budget == 0 || self.ctx.kind == FnKind::Leaf {
            return None;
        }
        let leaf_cost = self
            .fns
            .iter()
            .filter(|f| f.kind == FnKind::Leaf)
            .map(|f| f.cost)
            .max()
            .unwrap_or(1);
        if self.ctx.cost + leaf_cost * self.ctx.mult > self.ctx.budget {
            return None;
        }
        let fvars: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| match &v.ty {
                Ty::Fn(_, r) => r.as_deref() == Some(ty),
                Ty::Array(t) => matches!(&**t, Ty::Fn(_, r) if r.as_deref() == Some(ty)),
                _ => false,
            })
            .collect();
        let v = self.pick(&fvars)?;
        self.ctx.cost += leaf_cost * self.ctx.mult;
        let (callee, params) = match &v.ty {
            Ty::Fn(ps, _) => (v.name.clone(), ps.clone()),
            Ty::Array(t) => {
                let Ty::Fn(ps, _) = &**t else { unreachable!() };
                let i = self.expr(&Ty::Int, d - 1);
                (format!("{0}[abs({i} % {0}.len())]", v.name), ps.clone())
            }
            _ => unreachable!(),
        };
        let args: Vec<String> = params.iter().map(|p| self.expr(p, d - 1)).collect();
        Some(format!("{callee}({})", args.join(", ")))
    }

    /// A field of type `ty` of some struct value.
    fn field_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        let mut cands = Vec::new();
        for (s, def) in self.structs.iter().enumerate() {
            for (name, t) in &def.fields {
                if t == ty {
                    cands.push((s, name.clone()));
                }
            }
        }
        let (s, name) = self.pick(&cands)?;
        let obj = self.paren(&Ty::Struct(s), d - 1);
        Some(format!("{obj}.{name}"))
    }

    /// An element of an array variable: usually a wrapped index (traps only when the
    /// array is empty), sometimes a raw one.
    fn elem_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        let xs = self.vars_of(&Ty::arr(ty.clone()));
        let v = self.pick(&xs)?;
        let i = self.expr(&Ty::Int, d - 1);
        Some(if self.e.chance(1, 20) {
            format!("{}[{i}]", v.name)
        } else {
            format!("{0}[abs({i} % {0}.len())]", v.name)
        })
    }

    /// A map lookup: `get` with a default, sometimes `m[k]` (traps when absent).
    fn map_get_expr(&mut self, ty: &Ty, d: u32) -> Option<String> {
        let maps: Vec<_> = self
            .visible()
            .into_iter()
            .filter(|v| matches!(&v.ty, Ty::Map(_, val) if **val == *ty))
            .collect();
        let v = self.pick(&maps)?;
        let Ty::Map(k, _) = &v.ty else { unreachable!() };
        let k = (**k).clone();
        let key = self.key_expr(&k, d);
        Some(if self.e.chance(1, 12) {
            format!("{}[{key}]", v.name)
        } else {
            format!("{}.get({key}, {})", v.name, self.expr(ty, d - 1))
        })
    }
}
