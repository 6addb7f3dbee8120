//! "Did you mean ...?": the closest known name to a misspelt one, by edit distance.
//!
//! Only close matches are offered (at most a third of the name's length in edits, at least
//! one), and the work is capped per compilation, so a file full of unknown names cannot
//! make checking slow.

use super::Checker;
use super::stmt::FnCtx;
use crate::diagnostics::{Diagnostic, FileId};

/// How many suggestions one compilation may compute.
pub(super) const SUGGESTION_BUDGET: u32 = 200;

/// The edit distance between `a` and `b` (insertions, deletions, substitutions and swaps
/// of neighbours, each costing one), giving up (returning `None`) beyond `limit`.
fn distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|d| *d <= limit)
}

/// The candidate closest to `name`, if one is close enough.
pub(super) fn closest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name || c.starts_with('$') {
            continue;
        }
        if let Some(d) = distance(name, c, limit)
            && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc))
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

impl Checker<'_, '_> {
    /// Adds "did you mean `x`?" to `d` when a candidate is close to `name`.
    pub(super) fn with_suggestion<'c>(
        &mut self,
        d: Diagnostic,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Diagnostic {
        if self.suggestions_left == 0 {
            return d;
        }
        self.suggestions_left -= 1;
        match closest(name, candidates) {
            Some(c) => d.with_note(format!("did you mean `{c}`?")),
            None => d,
        }
    }

    /// The names a value may have in `file` at this point: locals, top-level names,
    /// built-in functions.
    pub(super) fn value_names(&self, ctx: &FnCtx, file: FileId) -> Vec<String> {
        let mut names: Vec<String> = ctx.local_names().map(str::to_owned).collect();
        names.extend(self.top_names(file));
        names.extend(
            super::names::BUILTIN_FUNCTIONS
                .iter()
                .map(|s| s.to_string()),
        );
        names
    }

    /// The top-level names visible in `file`.
    pub(super) fn top_names(&self, file: FileId) -> Vec<String> {
        let Some(scope) = self.scopes.get(&file) else {
            return Vec::new();
        };
        let mut names: Vec<String> = scope.own.keys().cloned().collect();
        names.extend(scope.imported.keys().cloned());
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        assert_eq!(
            closest("lenght", ["length", "len", "total"]),
            Some("length")
        );
        assert_eq!(closest("x", ["y", "xs"]), Some("xs"));
        assert_eq!(closest("counter", ["count", "counters"]), Some("counters"));
        assert_eq!(closest("abc", ["xyz"]), None);
        assert_eq!(closest("prnt", ["print", "println"]), Some("print"));
        assert_eq!(distance("kitten", "sitting", 5), Some(3));
        assert_eq!(distance("kitten", "sitting", 2), None);
        assert_eq!(distance("valeu", "value", 3), Some(1));
    }
}
