//! Loading a program: the root file and every file it imports, each parsed once.
//!
//! `import "util.src";` is resolved relative to the importing file's directory. A program
//! is a graph of files, not a tree: a file imported from several places (or in a cycle) is
//! read and parsed once, identified by its canonical path, and the loader walks the graph
//! with a work list, so cycles terminate and deep import chains cannot overflow the stack.
//! Reading goes through [`SourceLoader`] so that embedders and tests can supply sources
//! without a file system.

use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::ast::{self, Item};
use crate::diagnostics::{Diagnostic, Diagnostics, FileId, SourceMap, Span};
use crate::parser::parse_file;

/// Where source files come from.
pub trait SourceLoader {
    /// Reads the file at `path` (as resolved: relative to the current directory or
    /// absolute). Text that is not UTF-8 is an `InvalidData` error.
    fn load(&self, path: &Path) -> io::Result<String>;

    /// The identity of `path`, so that one file reached by different paths is loaded once.
    /// The default removes `.` and `..` components lexically.
    fn canonicalize(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Reads sources from the file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn load(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        String::from_utf8(bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the file is not valid UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// One parsed file of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFile {
    /// The syntax tree.
    pub ast: ast::SourceFile,
    /// One entry per `Item::Import` of `ast`, in source order: the imported file, or `None`
    /// when it could not be read (already reported).
    pub imports: Vec<Option<FileId>>,
}

/// A whole program: every file reached from the root.
#[derive(Debug)]
pub struct ParsedProgram {
    /// The texts, for rendering diagnostics.
    pub sources: SourceMap,
    /// The parsed files, indexed by `FileId.0` (one per file in `sources`).
    pub files: Vec<ParsedFile>,
    /// The file compilation started from.
    pub root: FileId,
}

impl ParsedProgram {
    /// The parsed file with id `id`.
    pub fn file(&self, id: FileId) -> Option<&ParsedFile> {
        self.files.get(id.0 as usize)
    }
}

/// Loads and parses `root` and everything it imports. Problems (unreadable files, syntax
/// errors) go to `diags`; the program holds whatever could be parsed. An unreadable root
/// is an empty file with an error at its start.
pub fn load_program(
    root: &Path,
    loader: &dyn SourceLoader,
    diags: &mut Diagnostics,
) -> ParsedProgram {
    let mut state = Loading::new(loader);
    let name = root.display().to_string();
    let root_id = match loader.load(root) {
        Ok(text) => state.add(root, name, text),
        Err(e) => {
            let id = state.add(root, name.clone(), String::new());
            diags.push(read_error(&name, &e, Span::new(id, 0, 0)));
            id
        }
    };
    state.run(diags);
    state.finish(root_id)
}

/// Like [`load_program`], for a root whose text is already in hand (`name` is shown in
/// positions and is where relative imports start from).
pub fn load_source(
    name: &str,
    text: &str,
    loader: &dyn SourceLoader,
    diags: &mut Diagnostics,
) -> ParsedProgram {
    let mut state = Loading::new(loader);
    let root = state.add(Path::new(name), name.to_string(), text.to_string());
    state.run(diags);
    state.finish(root)
}

/// The work in progress of a load.
struct Loading<'l> {
    loader: &'l dyn SourceLoader,
    sources: SourceMap,
    files: Vec<ParsedFile>,
    /// The path each file was read from (imports resolve against its directory).
    paths: Vec<PathBuf>,
    by_key: HashMap<PathBuf, FileId>,
    /// Files added but not yet parsed.
    todo: Vec<FileId>,
}

impl<'l> Loading<'l> {
    fn new(loader: &'l dyn SourceLoader) -> Loading<'l> {
        Loading {
            loader,
            sources: SourceMap::new(),
            files: Vec::new(),
            paths: Vec::new(),
            by_key: HashMap::new(),
            todo: Vec::new(),
        }
    }

    fn add(&mut self, path: &Path, name: String, text: String) -> FileId {
        let id = self.sources.add(name, text);
        self.files.push(ParsedFile {
            ast: ast::SourceFile {
                file: id,
                items: Vec::new(),
            },
            imports: Vec::new(),
        });
        self.paths.push(path.to_path_buf());
        self.by_key.insert(self.loader.canonicalize(path), id);
        self.todo.push(id);
        id
    }

    fn run(&mut self, diags: &mut Diagnostics) {
        // Parse in id order, so diagnostics come file by file, root first.
        let mut next = 0;
        while next < self.todo.len() {
            let id = self.todo[next];
            next += 1;
            let ast = parse_file(id, &self.sources.get(id).text, diags);
            let dir = self.paths[id.0 as usize]
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let mut imports = Vec::new();
            for item in &ast.items {
                if let Item::Import(import) = item {
                    imports.push(self.import(&dir, import, diags));
                }
            }
            self.files[id.0 as usize] = ParsedFile { ast, imports };
        }
    }

    fn import(
        &mut self,
        dir: &Path,
        import: &ast::ImportDecl,
        diags: &mut Diagnostics,
    ) -> Option<FileId> {
        let path = dir.join(&import.path);
        let name = path.display().to_string();
        if import.path.is_empty() {
            diags.push(
                Diagnostic::error("import path is empty", import.path_span)
                    .with_label("expected a file name"),
            );
            return None;
        }
        if let Some(&id) = self.by_key.get(&self.loader.canonicalize(&path)) {
            return Some(id);
        }
        match self.loader.load(&path) {
            Ok(text) => Some(self.add(&path, name, text)),
            Err(e) => {
                diags.push(read_error(&name, &e, import.path_span));
                None
            }
        }
    }

    fn finish(self, root: FileId) -> ParsedProgram {
        ParsedProgram {
            sources: self.sources,
            files: self.files,
            root,
        }
    }
}

/// "cannot read `x.src`: No such file or directory"
fn read_error(name: &str, e: &io::Error, span: Span) -> Diagnostic {
    let mut reason = e.to_string();
    if let Some(i) = reason.find(" (os error") {
        reason.truncate(i);
    }
    Diagnostic::error(format!("cannot read `{name}`: {reason}"), span)
}

/// Removes `.` components and resolves `..` against the preceding component, without
/// touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}
