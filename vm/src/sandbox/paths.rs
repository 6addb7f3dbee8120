//! Path grants: each granted path opened once as a `cap_std::fs::Dir`, and guest paths
//! resolved to the grant that contains them.
//!
//! A guest path is made absolute (against the working directory) and cleaned lexically
//! (`.` dropped, `..` removing the component before it, as Go's `filepath.Clean` does), so
//! that `granted/../secret` is simply a path outside the grant. What remains below a grant
//! is handed to cap-std relative to the grant's directory, and cap-std refuses anything
//! that would leave it at resolution time: a symbolic link that points outside (absolute or
//! through `..`), however deep. String checks alone could not see symbolic links; this is
//! why the grant is a directory handle, not a prefix.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

/// One granted path: a directory and everything beneath it, or one file (which need not
/// exist yet) in a directory.
pub(super) struct Root {
    /// The canonical path of the directory.
    path: PathBuf,
    /// The path as granted (made absolute and clean), if it differs from `path` (a grant
    /// through a symbolic link): guest paths may use either spelling.
    alias: Option<PathBuf>,
    dir: Dir,
    /// For a file grant: the one name within `dir` that is granted.
    only: Option<OsString>,
}

/// Where a guest path resolved.
#[derive(Debug)]
pub enum Resolved<'a> {
    /// Beneath a granted directory: operate with cap-std relative to it.
    Dir(&'a Dir, PathBuf),
    /// The whole kind is granted (`--allow-read` without a list): the path as is.
    Ambient(PathBuf),
}

impl Root {
    /// Opens the grant of `path` (absolute).
    pub(super) fn open(path: &Path) -> io::Result<Root> {
        let clean = clean(path);
        let (dir_path, only) = match std::fs::canonicalize(&clean) {
            Ok(real) if real.is_dir() => (real, None),
            Ok(real) => split_file(&real)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (parent, name) = split_file(&clean)?;
                (std::fs::canonicalize(parent)?, name)
            }
            Err(e) => return Err(e),
        };
        let dir = Dir::open_ambient_dir(&dir_path, ambient_authority())?;
        let granted = match &only {
            Some(name) => clean
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
                .join(name),
            None => clean.clone(),
        };
        let (path, alias) = match &only {
            Some(name) => (dir_path.join(name), None),
            None => (dir_path, None),
        };
        let alias = alias.or_else(|| (granted != path).then_some(granted));
        Ok(Root {
            path,
            alias,
            dir,
            only,
        })
    }
}

fn split_file(p: &Path) -> io::Result<(PathBuf, Option<OsString>)> {
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => Ok((parent.to_path_buf(), Some(name.to_owned()))),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file path",
        )),
    }
}

/// `p` made absolute against `cwd` and cleaned.
pub(super) fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    clean(&cwd.join(p))
}

/// Lexical cleaning: drops `.`, resolves `..` against the previous component (never above
/// the root).
pub(super) fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `p` is `base` or beneath it (both clean and absolute).
pub(super) fn is_within(p: &Path, base: &Path) -> bool {
    p.starts_with(base)
}

/// The grant among `roots` that contains `abs` (clean and absolute), with the path relative
/// to its directory; the most specific grant wins.
pub(super) fn resolve_in<'a>(roots: &'a [Root], abs: &Path) -> Option<Resolved<'a>> {
    let mut best: Option<(&'a Root, PathBuf, usize)> = None;
    for root in roots {
        for base in std::iter::once(&root.path).chain(root.alias.as_ref()) {
            let Ok(rel) = abs.strip_prefix(base) else {
                continue;
            };
            let rel = match &root.only {
                // A file grant covers exactly that file.
                Some(name) if rel.as_os_str().is_empty() => PathBuf::from(name),
                Some(_) => continue,
                None if rel.as_os_str().is_empty() => PathBuf::from("."),
                None => rel.to_path_buf(),
            };
            let depth = base.components().count();
            if best.as_ref().is_none_or(|b| depth > b.2) {
                best = Some((root, rel, depth));
            }
        }
    }
    best.map(|(root, rel, _)| Resolved::Dir(&root.dir, rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_is_lexical() {
        assert_eq!(clean(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
        assert_eq!(clean(Path::new("/../../etc")), PathBuf::from("/etc"));
        assert!(is_within(Path::new("/a/b/c"), Path::new("/a/b")));
        assert!(!is_within(Path::new("/a/bc"), Path::new("/a/b")));
    }
}
