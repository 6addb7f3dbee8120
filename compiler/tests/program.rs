//! Program loading (imports, cycles, unreadable files) and diagnostic rendering.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use rvm_compiler::ast::Item;
use rvm_compiler::diagnostics::{Diagnostic, Diagnostics, FileId, SourceMap, Span};
use rvm_compiler::program::{FsLoader, SourceLoader, load_program, load_source, normalize};

/// Sources from memory; counts reads so that "parsed once" can be checked.
struct MemLoader {
    files: HashMap<PathBuf, String>,
    reads: std::cell::RefCell<Vec<PathBuf>>,
}

impl MemLoader {
    fn new(files: &[(&str, &str)]) -> MemLoader {
        MemLoader {
            files: files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
            reads: Default::default(),
        }
    }
}

impl SourceLoader for MemLoader {
    fn load(&self, path: &Path) -> io::Result<String> {
        self.reads.borrow_mut().push(path.to_path_buf());
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}

fn short(d: &Diagnostics, sources: &SourceMap) -> Vec<String> {
    d.render_short(sources).lines().map(String::from).collect()
}

#[test]
fn imports_resolve_relative_to_the_importing_file() {
    let loader = MemLoader::new(&[
        (
            "app/main.src",
            "import \"lib/a.src\";\nimport \"b.src\" as b;\nfn main() {}",
        ),
        ("app/lib/a.src", "import \"../b.src\";\nfn a() {}"),
        ("app/b.src", "fn b() {}"),
    ]);
    let mut diags = Diagnostics::default();
    let p = load_program(Path::new("app/main.src"), &loader, &mut diags);
    assert!(diags.items.is_empty(), "{:?}", diags.items);
    assert_eq!(p.root, FileId(0));
    assert_eq!(p.files.len(), 3);
    assert_eq!(p.sources.files().len(), 3);
    let names: Vec<_> = p.sources.files().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["app/main.src", "app/lib/a.src", "app/b.src"]);
    assert_eq!(p.files[0].imports, [Some(FileId(1)), Some(FileId(2))]);
    // `app/lib/../b.src` is the same file as `app/b.src`: loaded once.
    assert_eq!(p.files[1].imports, [Some(FileId(2))]);
    assert!(p.files[2].imports.is_empty());
    assert_eq!(loader.reads.borrow().len(), 3);
    for (i, f) in p.files.iter().enumerate() {
        assert_eq!(f.ast.file, FileId(i as u32));
    }
}

#[test]
fn import_cycles_terminate() {
    let loader = MemLoader::new(&[
        ("a.src", "import \"b.src\"; import \"a.src\"; fn a() {}"),
        ("b.src", "import \"./a.src\"; fn b() {}"),
    ]);
    let mut diags = Diagnostics::default();
    let p = load_program(Path::new("a.src"), &loader, &mut diags);
    assert!(diags.items.is_empty());
    assert_eq!(p.files.len(), 2);
    assert_eq!(p.files[0].imports, [Some(FileId(1)), Some(FileId(0))]);
    assert_eq!(p.files[1].imports, [Some(FileId(0))]);
}

#[test]
fn missing_imports_are_reported_at_the_path() {
    let loader = MemLoader::new(&[("dir/util.src", "fn u() { oops }")]);
    let text = "import \"util.src\";\nimport \"nope.src\" as n;\nfn main() {}\n";
    let mut diags = Diagnostics::default();
    let p = load_source("dir/main.src", text, &loader, &mut diags);
    assert_eq!(
        short(&diags, &p.sources),
        [
            "dir/main.src:2:8: error: cannot read `dir/nope.src`: entity not found",
            "dir/util.src:1:15: error: expected one of `;`, `=` or an operator, found `}`",
        ]
    );
    assert_eq!(p.files[0].imports, [Some(FileId(1)), None]);
    assert_eq!(diags.items[0].span, Span::new(FileId(0), 26, 36));
}

#[test]
fn unreadable_root_is_a_diagnostic() {
    let mut diags = Diagnostics::default();
    let p = load_program(Path::new("/definitely/not/here.src"), &FsLoader, &mut diags);
    assert_eq!(
        short(&diags, &p.sources),
        [
            "/definitely/not/here.src:1:1: error: cannot read `/definitely/not/here.src`: No such file or directory"
        ]
    );
    assert_eq!(p.files.len(), 1);
    assert!(p.files[0].ast.items.is_empty());
}

#[test]
fn file_system_loading() {
    let dir = std::env::temp_dir().join(format!("rvmc-frontend-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("main.src"),
        "import \"sub/x.src\";\nimport \"bad.src\";\nimport \"sub\";\nfn main() {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("sub/x.src"),
        "import \"../main.src\";\nfn x() {}\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.src"), b"fn main() { \xff }").unwrap();
    let mut diags = Diagnostics::default();
    let p = load_program(&dir.join("main.src"), &FsLoader, &mut diags);
    let lines = short(&diags, &p.sources);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(p.files.len(), 2, "{lines:?}");
    assert_eq!(p.files[0].imports[0], Some(FileId(1)));
    assert_eq!(p.files[1].imports, [Some(FileId(0))]);
    let main = dir.join("main.src").display().to_string();
    let bad = dir.join("bad.src").display().to_string();
    let sub = dir.join("sub").display().to_string();
    assert_eq!(
        lines,
        [
            format!(
                "{main}:2:8: error: cannot read `{bad}`: the file is not valid UTF-8 \
                 (invalid byte at offset 12)"
            ),
            format!("{main}:3:8: error: cannot read `{sub}`: Is a directory"),
        ]
    );
}

#[test]
fn items_are_parsed() {
    let loader = MemLoader::new(&[]);
    let mut diags = Diagnostics::default();
    let p = load_source(
        "m.src",
        "struct S { a: int } fn main() {}",
        &loader,
        &mut diags,
    );
    assert!(matches!(
        p.files[0].ast.items[..],
        [Item::Struct(_), Item::Fn(_)]
    ));
}

#[test]
fn rich_rendering() {
    let loader = MemLoader::new(&[]);
    let mut diags = Diagnostics::default();
    let text = "fn main() {\n    let x = 1\n    let un = \"ï\";\n}\n";
    let p = load_source("app.src", text, &loader, &mut diags);
    let id = p.root;
    diags.push(
        Diagnostic::error("mismatched types", Span::new(id, 24, 25))
            .with_label("expected `str`, found `int`")
            .with_secondary(Span::new(id, 20, 21), "declared here")
            .with_note("help: convert with `str(x)`"),
    );
    let out = diags.render(&p.sources, false);
    let expected = "\
error: expected `;` or an operator, found `let`
  ┌─ app.src:3:5
  │
3 │     let un = \"ï\";
  │     ^^^ expected `;` or an operator

error: mismatched types
  ┌─ app.src:2:13
  │
2 │     let x = 1
  │         -   ^ expected `str`, found `int`
  │         │    
  │         declared here
  │
  = help: convert with `str(x)`

error: could not compile `app.src` (2 errors)
";
    assert_eq!(out, expected);
    let colored = diags.render(&p.sources, true);
    assert!(colored.contains("\u{1b}["));
    assert_eq!(
        short(&diags, &p.sources),
        [
            "app.src:3:5: error: expected `;` or an operator, found `let`",
            "app.src:2:13: error: mismatched types",
        ]
    );
}

#[test]
fn columns_count_characters() {
    let mut sources = SourceMap::new();
    let id = sources.add("u.src", "let ü = \"é\" é;\n");
    let mut d = Diagnostics::default();
    d.push(Diagnostic::error("x", Span::new(id, 14, 16)));
    assert_eq!(d.render_short(&sources), "u.src:1:13: error: x\n");
}

#[test]
fn stray_spans_do_not_panic() {
    let mut sources = SourceMap::new();
    let id = sources.add("u.src", "é\n");
    let mut d = Diagnostics::default();
    d.push(Diagnostic::error("mid-char", Span::new(id, 1, 2)));
    d.push(Diagnostic::error("past the end", Span::new(id, 50, 60)));
    d.push(Diagnostic::error(
        "no such file",
        Span::new(FileId(7), 0, 1),
    ));
    let rich = d.render(&sources, false);
    assert!(rich.contains("mid-char") && rich.contains("past the end"));
    assert!(rich.contains("<unknown>:0:0: error: no such file"));
    let short = d.render_short(&sources);
    assert!(short.contains("u.src:1:"));
}
