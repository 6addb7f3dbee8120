//! `fs`: file operations confined to the granted paths.
//!
//! Every operation first resolves the guest path through [`Capabilities::resolve`] (which
//! refuses anything outside the grants before touching the file system) and then runs
//! through the grant's `cap_std::fs::Dir`, which refuses at resolution time anything that a
//! symbolic link would lead outside. cap-std reports such an escape as a permission error,
//! which becomes the same `permission denied` trap as a path outside every grant.

use std::io::{self, Read, Write};
use std::path::Path;

use super::{HostContext, HostOutcome, call_text, denied};
use crate::heap::Heap;
use crate::host::HostFn;
use crate::sandbox::{Denial, Resolved};
use crate::trap::TrapKind;

/// A short, platform-independent reason for an I/O error.
pub(super) fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::AlreadyExists => "already exists".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        io::ErrorKind::NotADirectory => "not a directory".to_owned(),
        io::ErrorKind::DirectoryNotEmpty => "directory not empty".to_owned(),
        _ => {
            let text = e.to_string();
            // Drop the "(os error N)" suffix, which differs between systems.
            match text.find(" (os error") {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    }
}

/// Calls one of the `fs` functions.
pub(super) fn call(
    host: HostFn,
    args: &[u64],
    cx: HostContext<'_>,
) -> Result<HostOutcome, TrapKind> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    let write = matches!(
        host,
        HostFn::FsWriteText | HostFn::FsAppendText | HostFn::FsRemove | HostFn::FsMkdir
    );
    let heap = cx.heap;
    let path = heap.str(arg(0));
    let target = cx
        .caps
        .resolve(path, write)
        .map_err(|why| denied(host, args, heap, why))?;
    let fail = |heap: &Heap, e: io::Error| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            // cap-std refused a path that leads outside the grant (a symbolic link).
            let kind = if write { "write" } else { "read" };
            let why = Denial::Needs(format!("--allow-{kind}={}", heap.str(arg(0))));
            denied(host, args, heap, why)
        } else {
            TrapKind::HostError {
                call: call_text(host, args, heap),
                reason: reason(&e),
            }
        }
    };
    let unit = Ok(HostOutcome::Return(None));
    match host {
        HostFn::FsReadText => {
            let mut file = open_read(&target).map_err(|e| fail(heap, e))?;
            let size = file.len().unwrap_or(0);
            heap.reserve(usize::try_from(size).unwrap_or(usize::MAX))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(|e| fail(heap, e))?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Ok(HostOutcome::Return(Some(
                heap.alloc_str(text.into())? as u64
            )))
        }
        HostFn::FsWriteText | HostFn::FsAppendText => {
            let text = heap.str(arg(1));
            let append = host == HostFn::FsAppendText;
            let mut file = open_write(&target, append).map_err(|e| fail(heap, e))?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.flush())
                .map_err(|e| fail(heap, e))?;
            unit
        }
        HostFn::FsExists => {
            let exists = match &target {
                Resolved::Dir(dir, rel) => dir.try_exists(rel),
                Resolved::Ambient(p) => p.try_exists(),
            }
            .map_err(|e| fail(heap, e))?;
            Ok(HostOutcome::Return(Some(exists as u64)))
        }
        HostFn::FsListDir => {
            let mut names: Vec<String> = match &target {
                Resolved::Dir(dir, rel) => dir
                    .read_dir(rel)
                    .and_then(|entries| {
                        entries
                            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                            .collect()
                    })
                    .map_err(|e| fail(heap, e))?,
                Resolved::Ambient(p) => std::fs::read_dir(p)
                    .and_then(|entries| {
                        entries
                            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                            .collect()
                    })
                    .map_err(|e| fail(heap, e))?,
            };
            names.sort();
            let bytes: usize = names.iter().map(|n| n.len() + 64).sum();
            heap.reserve(bytes)?;
            let pieces = names.into_iter().map(Into::into).collect();
            let arr = super::strings_array(heap, pieces)?;
            Ok(HostOutcome::Return(Some(arr)))
        }
        HostFn::FsRemove => {
            let result = match &target {
                Resolved::Dir(dir, rel) => match dir.symlink_metadata(rel) {
                    Ok(m) if m.is_dir() => dir.remove_dir(rel),
                    Ok(_) => dir.remove_file(rel),
                    Err(e) => Err(e),
                },
                Resolved::Ambient(p) => match std::fs::symlink_metadata(p) {
                    Ok(m) if m.is_dir() => std::fs::remove_dir(p),
                    Ok(_) => std::fs::remove_file(p),
                    Err(e) => Err(e),
                },
            };
            result.map_err(|e| fail(heap, e))?;
            unit
        }
        HostFn::FsMkdir => {
            match &target {
                Resolved::Dir(dir, rel) => dir.create_dir_all(rel),
                Resolved::Ambient(p) => std::fs::create_dir_all(p),
            }
            .map_err(|e| fail(heap, e))?;
            unit
        }
        _ => Err(TrapKind::Internal {
            what: "not an fs host function",
        }),
    }
}

/// An open file, from a grant's directory or the ambient file system.
enum File {
    Cap(cap_std::fs::File),
    Std(std::fs::File),
}

impl File {
    fn len(&self) -> io::Result<u64> {
        match self {
            File::Cap(f) => f.metadata().map(|m| m.len()),
            File::Std(f) => f.metadata().map(|m| m.len()),
        }
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            File::Cap(f) => f.read(buf),
            File::Std(f) => f.read(buf),
        }
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            File::Cap(f) => f.write(buf),
            File::Std(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            File::Cap(f) => f.flush(),
            File::Std(f) => f.flush(),
        }
    }
}

fn open_read(target: &Resolved<'_>) -> io::Result<File> {
    match target {
        Resolved::Dir(dir, rel) => dir.open(rel).map(File::Cap),
        Resolved::Ambient(p) => std::fs::File::open(p).map(File::Std),
    }
}

fn open_write(target: &Resolved<'_>, append: bool) -> io::Result<File> {
    match target {
        Resolved::Dir(dir, rel) => {
            let mut o = cap_std::fs::OpenOptions::new();
            o.create(true);
            if append {
                o.append(true);
            } else {
                o.write(true).truncate(true);
            }
            dir.open_with(rel, &o).map(File::Cap)
        }
        Resolved::Ambient(p) => {
            let mut o = std::fs::OpenOptions::new();
            o.create(true);
            if append {
                o.append(true);
            } else {
                o.write(true).truncate(true);
            }
            o.open(Path::new(p)).map(File::Std)
        }
    }
}
