//! Diagnostics: collected, never thrown, rendered with codespan-reporting.
//!
//! Every phase pushes [`Diagnostic`]s into a [`Diagnostics`] list and carries on where it
//! can, so one run of `rvmc` reports every error it finds. Positions are byte spans into the
//! files of a [`SourceMap`], which renders them as `file:line:column` with the source line
//! and a caret.

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span in `file` from `start` to `end`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Stops compilation.
    Error,
    /// Reported, does not stop compilation.
    Warning,
}

/// A secondary span with a message ("first declared here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it.
    pub message: String,
}

/// One message for the user, anchored at a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The headline, e.g. "mismatched types".
    pub message: String,
    /// The primary position.
    pub span: Span,
    /// What to say at the caret, e.g. "expected `int`, found `str`".
    pub label: String,
    /// Secondary positions.
    pub secondary: Vec<Label>,
    /// Notes and help lines after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new error at `span`.
    pub fn error(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the text shown at the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    /// Adds a secondary labelled span.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

/// The diagnostics collected by a compilation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// In the order they were found.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Whether any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// One loaded source file.
#[derive(Clone, Debug)]
pub struct SourceText {
    /// The path as given or resolved (shown in positions).
    pub name: String,
    /// The UTF-8 contents.
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

/// The files of one compilation.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceText>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceText {
            name: name.into(),
            text,
            line_starts,
        });
        FileId((self.files.len() - 1) as u32)
    }

    /// The file with id `id`.
    pub fn get(&self, id: FileId) -> &SourceText {
        &self.files[id.0 as usize]
    }

    /// All files, in id order.
    pub fn files(&self) -> &[SourceText] {
        &self.files
    }

    /// The 1-based line and column (in characters) of byte `offset` in `file`.
    pub fn line_col(&self, file: FileId, offset: u32) -> (u32, u32) {
        let f = self.get(file);
        let offset = (offset as usize).min(f.text.len());
        let line = f.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = f.line_starts[line];
        let col = f
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;

impl SourceMap {
    fn file(&self, id: FileId) -> Result<&SourceText, FilesError> {
        self.files.get(id.0 as usize).ok_or(FilesError::FileMissing)
    }

    fn line_start(&self, id: FileId, line_index: usize) -> Result<usize, FilesError> {
        let f = self.file(id)?;
        match line_index.cmp(&f.line_starts.len()) {
            std::cmp::Ordering::Less => Ok(f.line_starts[line_index]),
            std::cmp::Ordering::Equal => Ok(f.text.len()),
            std::cmp::Ordering::Greater => Err(FilesError::LineTooLarge {
                given: line_index,
                max: f.line_starts.len() - 1,
            }),
        }
    }

    /// `span`'s byte range, clamped into its file and onto character boundaries, so that a
    /// stray span can never make rendering panic.
    fn clamp(&self, span: Span) -> std::ops::Range<usize> {
        let Ok(f) = self.file(span.file) else {
            return 0..0;
        };
        let fix = |mut i: usize| {
            i = i.min(f.text.len());
            while !f.text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = fix(span.start as usize);
        start..fix(span.end as usize).max(start)
    }
}

impl<'a> Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let f = self.file(id)?;
        Ok(f.line_starts.partition_point(|&s| s <= byte_index).max(1) - 1)
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let start = self.line_start(id, line_index)?;
        let end = self.line_start(id, line_index + 1)?;
        Ok(start..end)
    }
}

impl Severity {
    fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl Diagnostic {
    fn to_codespan(&self, sources: &SourceMap) -> cs::Diagnostic<FileId> {
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let mut labels = vec![
            cs::Label::primary(self.span.file, sources.clamp(self.span))
                .with_message(self.label.clone()),
        ];
        labels.extend(self.secondary.iter().map(|l| {
            cs::Label::secondary(l.span.file, sources.clamp(l.span)).with_message(l.message.clone())
        }));
        cs::Diagnostic::new(severity)
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(self.notes.clone())
    }
}

impl Diagnostics {
    /// Renders every diagnostic with codespan-reporting (`file:line:column`, the source
    /// line, a caret, labels and notes; ANSI colours when `color`), followed, when there are
    /// errors, by a summary line naming the first file of `sources` (the root):
    /// ``error: could not compile `app.src` (2 errors)``.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let config = term::Config::default();
        let mut out = String::new();
        for d in &self.items {
            let diagnostic = d.to_codespan(sources);
            let rendered = if color {
                let mut writer = term::termcolor::Ansi::new(Vec::new());
                term::emit_to_write_style(&mut writer, &config, sources, &diagnostic)
                    .map(|()| String::from_utf8_lossy(&writer.into_inner()).into_owned())
            } else {
                term::emit_into_string(&config, sources, &diagnostic)
            };
            match rendered {
                Ok(text) => out.push_str(&text),
                // Only a span outside the map gets here; fall back to the short form.
                Err(_) => {
                    out.push_str(&d.render_short(sources));
                    out.push('\n');
                }
            }
        }
        let errors = self.error_count();
        if errors > 0 {
            let root = sources.files().first().map_or("input", |f| f.name.as_str());
            let plural = if errors == 1 { "" } else { "s" };
            out.push_str(&format!(
                "error: could not compile `{root}` ({errors} error{plural})\n"
            ));
        }
        out
    }

    /// One line per diagnostic: `<file>:<line>:<column>: error: <message>` (1-based line
    /// and column, the column counted in characters).
    pub fn render_short(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&d.render_short(sources));
            out.push('\n');
        }
        out
    }
}

impl Diagnostic {
    /// `<file>:<line>:<column>: error: <message>` (no trailing newline).
    pub fn render_short(&self, sources: &SourceMap) -> String {
        let (name, line, col) = match sources.file(self.span.file) {
            Ok(f) => {
                let (line, col) = sources.line_col(self.span.file, self.span.start);
                (f.name.as_str(), line, col)
            }
            Err(_) => ("<unknown>", 0, 0),
        };
        format!(
            "{name}:{line}:{col}: {}: {}",
            self.severity.word(),
            self.message
        )
    }
}
