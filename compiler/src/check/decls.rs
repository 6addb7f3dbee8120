//! Top-level declarations: collecting names, resolving written types and signatures,
//! checking constants and globals in initialisation order, and the `main` rules.

use std::collections::HashMap;

use super::stmt::FnCtx;
use super::{
    Checker, ConstEntry, Decl, FileScope, FuncEntry, GlobalEntry, Progress, StructEntry, hir,
};
use crate::ast::{self, BindingKind, Item, TypeExpr, TypeExprKind};
use crate::diagnostics::{Diagnostic, FileId, Span};
use crate::types::{TyId, TyKind};

/// The most fields a struct may have (a struct literal pushes them all on the operand stack).
const MAX_FIELDS: usize = 10_000;
/// The deepest written type (`[[[int]]]`, `fn() -> fn() -> int`) accepted.
const MAX_TYPE_DEPTH: u32 = 256;
/// The most parameters a function may have (`self` included).
const MAX_PARAMS: usize = 255;

/// The result of looking a name up at the top level of a file.
#[derive(Debug)]
pub(super) enum TopLookup {
    Found(Decl),
    /// Brought in by several imports.
    Ambiguous(Vec<FileId>),
    NotFound,
}

/// Whether `name` is a built-in type name.
pub(super) fn builtin_type(name: &str) -> Option<TyId> {
    match name {
        "int" => Some(TyId::INT),
        "float" => Some(TyId::FLOAT),
        "bool" => Some(TyId::BOOL),
        "str" => Some(TyId::STR),
        _ => None,
    }
}

impl<'a> Checker<'a, '_> {
    fn file_input(&self, file: FileId) -> Option<super::FileInput<'a>> {
        self.input
            .files
            .iter()
            .copied()
            .find(|f| f.ast.file == file)
    }

    /// The files in initialisation order: a depth-first post-order from the root over the
    /// imports (iterative, so a long chain of imports cannot overflow the stack), then any
    /// file not reachable from the root.
    fn compute_init_order(&mut self) {
        let mut by_id: HashMap<FileId, usize> = HashMap::new();
        for (i, f) in self.input.files.iter().enumerate() {
            by_id.insert(f.ast.file, i);
        }
        let mut visited = vec![false; self.input.files.len()];
        let mut order = Vec::new();
        let mut starts: Vec<usize> = Vec::new();
        if let Some(&r) = by_id.get(&self.input.root) {
            starts.push(r);
        }
        starts.extend(0..self.input.files.len());
        for start in starts {
            if visited[start] {
                continue;
            }
            visited[start] = true;
            // (file index, next import position)
            let mut stack = vec![(start, 0usize)];
            while let Some(&mut (fi, ref mut pos)) = stack.last_mut() {
                let imports = self.input.files[fi].imports;
                if *pos < imports.len() {
                    let next = imports[*pos];
                    *pos += 1;
                    if let Some(&ni) = next.and_then(|id| by_id.get(&id))
                        && !visited[ni]
                    {
                        visited[ni] = true;
                        stack.push((ni, 0));
                    }
                } else {
                    order.push(self.input.files[fi].ast.file);
                    stack.pop();
                }
            }
        }
        self.init_order = order;
    }

    /// Pass 1: every file's own top-level names, then the names its imports bring in.
    pub(super) fn collect(&mut self) {
        self.compute_init_order();
        let input = self.input;
        for fin in &input.files {
            let file = fin.ast.file;
            let mut scope = FileScope::default();
            let mut import_no = 0usize;
            for item in &fin.ast.items {
                match item {
                    Item::Import(imp) => {
                        let target = fin.imports.get(import_no).copied().flatten();
                        import_no += 1;
                        match (target, &imp.alias) {
                            (None, _) => scope.incomplete = true,
                            (Some(t), Some(alias)) => {
                                self.declare(&mut scope, &alias.name, Decl::Alias(t), alias.span)
                            }
                            (Some(_), None) => {}
                        }
                    }
                    Item::Global(g) => {
                        let decl = if g.kind == BindingKind::Const {
                            self.consts.push(ConstEntry {
                                decl: g,
                                file,
                                value: None,
                                progress: Progress::Pending,
                            });
                            Decl::Const(self.consts.len() as u32 - 1)
                        } else {
                            self.globals.push(GlobalEntry {
                                name: g.name.name.clone(),
                                decl: g,
                                file,
                                ty: TyId::ERROR,
                                progress: Progress::Pending,
                            });
                            Decl::Global(self.globals.len() as u32 - 1)
                        };
                        self.global_decls.insert(g.span, decl);
                        self.declare(&mut scope, &g.name.name, decl, g.name.span);
                    }
                    Item::Struct(s) => {
                        let ty = self.types.new_struct(&s.name.name);
                        self.structs.push(StructEntry {
                            name: s.name.name.clone(),
                            file,
                            decl: s,
                            ty,
                            fields: Vec::new(),
                            field_index: HashMap::new(),
                            methods: HashMap::new(),
                        });
                        let id = self.structs.len() as u32 - 1;
                        self.declare(&mut scope, &s.name.name, Decl::Struct(id), s.name.span);
                    }
                    Item::Fn(f) => {
                        self.funcs.push(FuncEntry {
                            name: f.name.name.clone(),
                            decl: f,
                            file,
                            owner: None,
                            params: Vec::new(),
                            result: None,
                            ty: TyId::ERROR,
                            body: None,
                            locals: Vec::new(),
                        });
                        let id = self.funcs.len() as u32 - 1;
                        self.declare(&mut scope, &f.name.name, Decl::Fn(id), f.name.span);
                    }
                    Item::Impl(_) | Item::Extern(_) => {}
                }
            }
            self.scopes.insert(file, scope);
        }
        // Names brought in by unaliased imports (not transitively).
        for fin in &input.files {
            let file = fin.ast.file;
            let mut import_no = 0usize;
            let mut seen: Vec<FileId> = Vec::new();
            let mut brought: Vec<(String, Decl, FileId)> = Vec::new();
            for item in &fin.ast.items {
                let Item::Import(imp) = item else { continue };
                let target = fin.imports.get(import_no).copied().flatten();
                import_no += 1;
                let Some(t) = target else { continue };
                if imp.alias.is_some() || t == file || seen.contains(&t) {
                    continue;
                }
                seen.push(t);
                if let Some(ts) = self.scopes.get(&t) {
                    let mut names: Vec<(&String, &(Decl, Span))> = ts.own.iter().collect();
                    names.sort_by_key(|(_, (_, span))| span.start);
                    for (name, (decl, _)) in names {
                        if !matches!(decl, Decl::Alias(_)) {
                            brought.push((name.clone(), *decl, t));
                        }
                    }
                }
            }
            if let Some(scope) = self.scopes.get_mut(&file) {
                for (name, decl, from) in brought {
                    scope.imported.entry(name).or_default().push((decl, from));
                }
            }
        }
    }

    fn declare(&mut self, scope: &mut FileScope, name: &str, decl: Decl, span: Span) {
        if let Some(&(prev, prev_span)) = scope.own.get(name) {
            let mut d =
                Diagnostic::error(format!("the name `{name}` is defined more than once"), span)
                    .with_label(format!("`{name}` redefined here"))
                    .with_secondary(prev_span, format!("`{name}` first defined here"));
            if matches!((prev, decl), (Decl::Fn(_), Decl::Fn(_))) {
                d = d.with_note("functions cannot be overloaded: give each one its own name");
            }
            self.report(d);
            return;
        }
        scope.own.insert(name.to_owned(), (decl, span));
    }

    /// Looks `name` up among the file's own declarations, then its unaliased imports.
    pub(super) fn lookup_top(&self, file: FileId, name: &str) -> TopLookup {
        let Some(scope) = self.scopes.get(&file) else {
            return TopLookup::NotFound;
        };
        if let Some(&(d, _)) = scope.own.get(name) {
            return TopLookup::Found(d);
        }
        match scope.imported.get(name).map(Vec::as_slice) {
            Some([(d, _)]) => TopLookup::Found(*d),
            Some(many) if !many.is_empty() => {
                TopLookup::Ambiguous(many.iter().map(|(_, f)| *f).collect())
            }
            _ => TopLookup::NotFound,
        }
    }

    /// Looks `name` up among the own declarations of `file` (for `alias.name`).
    pub(super) fn lookup_own(&self, file: FileId, name: &str) -> Option<Decl> {
        self.scopes
            .get(&file)
            .and_then(|s| s.own.get(name))
            .map(|&(d, _)| d)
            .filter(|d| !matches!(d, Decl::Alias(_)))
    }

    /// Whether unknown names in `file` should be reported (not if an import failed).
    pub(super) fn file_complete(&self, file: FileId) -> bool {
        self.scopes.get(&file).is_none_or(|s| !s.incomplete)
    }

    pub(super) fn report_ambiguous(&mut self, span: Span, name: &str, files: &[FileId]) {
        let list: Vec<String> = files
            .iter()
            .map(|f| format!("`{}`", self.file_name(*f)))
            .collect();
        let msg = format!("`{name}` is ambiguous");
        let label = format!("imported from {}", list.join(" and "));
        self.report(
            Diagnostic::error(msg, span)
                .with_label(label)
                .with_note("import one of the files with `as` and qualify the name"),
        );
    }

    /// Resolves a written type in `file`. Unknown names are reported and become the error
    /// type.
    pub(super) fn resolve_type(&mut self, file: FileId, t: &TypeExpr) -> TyId {
        self.resolve_type_depth(file, t, 0)
    }

    fn resolve_type_depth(&mut self, file: FileId, t: &TypeExpr, depth: u32) -> TyId {
        if depth > MAX_TYPE_DEPTH {
            let label = format!("more than {MAX_TYPE_DEPTH} levels of nesting");
            self.error(t.span, "type nested too deeply", label);
            return TyId::ERROR;
        }
        let sub = |c: &mut Self, t: &TypeExpr| c.resolve_type_depth(file, t, depth + 1);
        match &t.kind {
            TypeExprKind::Named(id) => {
                // A struct named like a built-in type shadows it where it is visible.
                if let Some(b) = builtin_type(&id.name) {
                    return match self.lookup_top(file, &id.name) {
                        TopLookup::Found(Decl::Struct(s)) => self.structs[s as usize].ty,
                        _ => b,
                    };
                }
                match self.lookup_top(file, &id.name) {
                    TopLookup::Found(Decl::Struct(s)) => self.structs[s as usize].ty,
                    TopLookup::Found(_) => {
                        let msg = format!("`{}` is not a type", id.name);
                        self.error(id.span, msg, "expected a type");
                        TyId::ERROR
                    }
                    TopLookup::Ambiguous(files) => {
                        self.report_ambiguous(id.span, &id.name, &files);
                        TyId::ERROR
                    }
                    TopLookup::NotFound => {
                        if self.file_complete(file) {
                            let msg = format!("cannot find type `{}`", id.name);
                            let d = Diagnostic::error(msg, id.span)
                                .with_label("not found in this scope");
                            let mut names: Vec<String> = self
                                .top_names(file)
                                .into_iter()
                                .filter(|n| {
                                    matches!(
                                        self.lookup_top(file, n),
                                        TopLookup::Found(Decl::Struct(_))
                                    )
                                })
                                .collect();
                            names.extend(["int", "float", "bool", "str"].map(String::from));
                            let d =
                                self.with_suggestion(d, &id.name, names.iter().map(String::as_str));
                            self.report(d);
                        }
                        TyId::ERROR
                    }
                }
            }
            TypeExprKind::Qualified(alias, name) => match self.lookup_top(file, &alias.name) {
                TopLookup::Found(Decl::Alias(target)) => {
                    match self.lookup_own(target, &name.name) {
                        Some(Decl::Struct(s)) => self.structs[s as usize].ty,
                        _ => {
                            let msg =
                                format!("cannot find type `{}` in `{}`", name.name, alias.name);
                            self.error(name.span, msg, "not found in the imported file");
                            TyId::ERROR
                        }
                    }
                }
                TopLookup::NotFound if !self.file_complete(file) => TyId::ERROR,
                _ => {
                    let msg = format!("`{}` is not an import alias", alias.name);
                    self.error(alias.span, msg, "expected an `import ... as` name");
                    TyId::ERROR
                }
            },
            TypeExprKind::Array(e) => {
                let e = sub(self, e);
                self.types.array(e)
            }
            TypeExprKind::Map(k, v) => {
                let kt = sub(self, k);
                if !matches!(kt, TyId::INT | TyId::STR | TyId::BOOL | TyId::ERROR) {
                    let label = format!("found `{}`", self.ty_name(kt));
                    self.error(k.span, "map keys must be `int`, `str` or `bool`", label);
                }
                let vt = sub(self, v);
                self.types.map(kt, vt)
            }
            TypeExprKind::Fn(ps, r) => {
                let ps = ps.iter().map(|p| sub(self, p)).collect();
                let r = r.as_ref().map(|r| sub(self, r));
                self.types.func(ps, r)
            }
        }
    }

    /// Pass 2: struct fields, function signatures, and methods from `impl` blocks.
    pub(super) fn resolve_signatures(&mut self) {
        for si in 0..self.structs.len() {
            let (file, decl) = (self.structs[si].file, self.structs[si].decl);
            let mut fields: Vec<(String, TyId, Span)> = Vec::new();
            let mut index: HashMap<String, u16> = HashMap::new();
            for f in &decl.fields {
                let ty = self.resolve_type(file, &f.ty);
                if let Some(&i) = index.get(&f.name.name) {
                    let prev = fields[i as usize].2;
                    self.report(
                        Diagnostic::error(
                            format!("field `{}` is declared more than once", f.name.name),
                            f.name.span,
                        )
                        .with_label("declared again here")
                        .with_secondary(prev, "first declared here"),
                    );
                    continue;
                }
                index.insert(f.name.name.clone(), fields.len() as u16);
                fields.push((f.name.name.clone(), ty, f.name.span));
            }
            if fields.len() > MAX_FIELDS {
                let label = format!("at most {MAX_FIELDS} are allowed");
                self.error(decl.name.span, "too many fields", label);
            }
            self.structs[si].fields = fields;
            self.structs[si].field_index = index;
        }
        for fi in 0..self.funcs.len() {
            self.resolve_fn_signature(fi, None);
        }
        let input = self.input;
        for fin in &input.files {
            let file = fin.ast.file;
            for item in &fin.ast.items {
                let Item::Impl(imp) = item else { continue };
                let owner = match self.lookup_top(file, &imp.target.name) {
                    TopLookup::Found(Decl::Struct(s)) => Some(s),
                    TopLookup::Found(_) => {
                        let msg = format!("`{}` is not a struct", imp.target.name);
                        self.error(imp.target.span, msg, "methods can only be added to structs");
                        None
                    }
                    TopLookup::Ambiguous(files) => {
                        self.report_ambiguous(imp.target.span, &imp.target.name, &files);
                        None
                    }
                    TopLookup::NotFound => {
                        if self.file_complete(file) {
                            let msg = format!("cannot find struct `{}`", imp.target.name);
                            self.error(imp.target.span, msg, "not found in this scope");
                        }
                        None
                    }
                };
                for m in &imp.methods {
                    let struct_name = owner
                        .map(|s| self.structs[s as usize].name.clone())
                        .unwrap_or_else(|| imp.target.name.clone());
                    self.funcs.push(FuncEntry {
                        name: format!("{struct_name}.{}", m.name.name),
                        decl: m,
                        file,
                        owner,
                        params: Vec::new(),
                        result: None,
                        ty: TyId::ERROR,
                        body: None,
                        locals: Vec::new(),
                    });
                    let fi = self.funcs.len() - 1;
                    self.resolve_fn_signature(fi, owner);
                    let Some(s) = owner else { continue };
                    let entry = &mut self.structs[s as usize];
                    if let Some(&prev) = entry.methods.get(&m.name.name) {
                        let prev_span = self.funcs[prev as usize].decl.name.span;
                        let msg = format!(
                            "method `{}` is defined more than once for `{}`",
                            m.name.name, entry.name
                        );
                        self.report(
                            Diagnostic::error(msg, m.name.span)
                                .with_label("redefined here")
                                .with_secondary(prev_span, "first defined here"),
                        );
                    } else {
                        entry.methods.insert(m.name.name.clone(), fi as u32);
                    }
                }
            }
        }
    }

    fn resolve_fn_signature(&mut self, fi: usize, owner: Option<u32>) {
        let (file, decl) = (self.funcs[fi].file, self.funcs[fi].decl);
        let mut params = Vec::new();
        if let Some(self_span) = decl.self_param {
            match owner {
                Some(s) => params.push(self.structs[s as usize].ty),
                None => {
                    if self.funcs[fi].name == decl.name.name {
                        self.error(
                            self_span,
                            "`self` outside of an `impl` block",
                            "not a method",
                        );
                    }
                    params.push(TyId::ERROR);
                }
            }
        }
        for p in &decl.params {
            let t = self.resolve_type(file, &p.ty);
            params.push(t);
        }
        if params.len() > MAX_PARAMS {
            let label = format!("at most {MAX_PARAMS} are allowed");
            self.error(decl.sig_span, "too many parameters", label);
        }
        let result = decl.ret.as_ref().map(|r| self.resolve_type(file, r));
        let ty = self.types.func(params.clone(), result);
        let f = &mut self.funcs[fi];
        f.params = params;
        f.result = result;
        f.ty = ty;
    }

    /// Pass 3: constants and global initialisers, in initialisation order.
    pub(super) fn check_module_level(&mut self) {
        let order = self.init_order.clone();
        for file in order {
            let Some(fin) = self.file_input(file) else {
                continue;
            };
            for item in &fin.ast.items {
                let Item::Global(g) = item else { continue };
                match self.lookup_own_exact(file, g) {
                    Some(Decl::Const(c)) => self.check_const(c),
                    Some(Decl::Global(gi)) => self.check_global(gi),
                    _ => {}
                }
            }
        }
    }

    /// The declaration entry for `g`.
    fn lookup_own_exact(&self, _file: FileId, g: &ast::GlobalDecl) -> Option<Decl> {
        self.global_decls.get(&g.span).copied()
    }

    fn check_const(&mut self, c: u32) {
        let (file, decl) = (self.consts[c as usize].file, self.consts[c as usize].decl);
        let written = decl.ty.as_ref().map(|t| self.resolve_type(file, t));
        let mut ctx = FnCtx::module_level(file);
        let value = self.check_expr(&mut ctx, &decl.value, written);
        let mut value = self.require_value(value);
        if let Some(w) = written {
            self.expect_type(decl.value.span, value.ty, w);
        }
        let is_literal = matches!(
            value.kind,
            hir::ExprKind::Int(_)
                | hir::ExprKind::Float(_)
                | hir::ExprKind::Bool(_)
                | hir::ExprKind::Str(_)
                | hir::ExprKind::Error
        );
        if !is_literal {
            self.error(
                decl.value.span,
                "a constant's value must be a constant expression",
                "not computable at compile time",
            );
            value = hir::Expr::error(decl.value.span);
        } else if matches!(value.kind, hir::ExprKind::Error) {
            value.ty = written.unwrap_or(TyId::ERROR);
        }
        let entry = &mut self.consts[c as usize];
        entry.value = Some(value);
        entry.progress = Progress::Done;
    }

    fn check_global(&mut self, g: u32) {
        let (file, decl) = (self.globals[g as usize].file, self.globals[g as usize].decl);
        let written = decl.ty.as_ref().map(|t| self.resolve_type(file, t));
        if let Some(w) = written {
            // Functions may refer to it even if the initialiser has errors.
            self.globals[g as usize].ty = w;
        }
        let mut ctx = FnCtx::module_level(file);
        let value = self.check_expr(&mut ctx, &decl.value, written);
        let value = self.require_value(value);
        let ty = match written {
            Some(w) => {
                self.expect_type(decl.value.span, value.ty, w);
                w
            }
            None => value.ty,
        };
        let entry = &mut self.globals[g as usize];
        entry.ty = ty;
        entry.progress = Progress::Done;
        self.init.push((g, value));
    }

    /// Pass 4: every function body.
    pub(super) fn check_functions(&mut self) {
        for fi in 0..self.funcs.len() {
            self.check_function(fi);
        }
    }

    /// `main` must be a function of the root file of type `fn()` or `fn() -> int`.
    /// Whether the root file declares something called `main`.
    pub(super) fn has_main(&self) -> bool {
        self.scopes
            .get(&self.input.root)
            .is_some_and(|s| s.own.contains_key("main"))
    }

    pub(super) fn check_main(&mut self) -> Option<u32> {
        let root = self.input.root;
        match self
            .scopes
            .get(&root)
            .and_then(|s| s.own.get("main"))
            .copied()
        {
            Some((Decl::Fn(f), _)) => {
                let entry = &self.funcs[f as usize];
                let ok_params = entry.params.is_empty();
                let ok_result = matches!(entry.result, None | Some(TyId::INT) | Some(TyId::ERROR));
                if !ok_params || !ok_result {
                    let found = self.ty_name(entry.ty);
                    let span = entry.decl.sig_span;
                    self.report(
                        Diagnostic::error("`main` has the wrong type", span)
                            .with_label(format!(
                                "expected `fn()` or `fn() -> int`, found `{found}`"
                            ))
                            .with_note(
                                "`main` takes no parameters and returns nothing or an exit code",
                            ),
                    );
                }
                Some(f)
            }
            Some((_, span)) => {
                self.error(span, "`main` must be a function", "expected `fn main()`");
                None
            }
            None => {
                let span = Span::new(root, 0, 0);
                let name = self.file_name(root).to_owned();
                self.report(
                    Diagnostic::error(format!("no `main` function in `{name}`"), span)
                        .with_label("the program starts at `fn main()`")
                        .with_note("add `fn main() { ... }`"),
                );
                None
            }
        }
    }

    /// The struct id and type of `ty`, if it is a struct.
    pub(super) fn struct_of(&self, ty: TyId) -> Option<u32> {
        match self.types.kind(ty) {
            TyKind::Struct(s) => Some(*s),
            _ => None,
        }
    }
}
