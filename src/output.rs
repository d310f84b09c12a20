//! Every file mixplore writes goes through here (`fit --labels`/`--trace`, `simulate --out`, the
//! explorer's saves), so each follows the same rules:
//!
//! - `-` is standard output.
//! - A regular file, or a path that does not exist yet, is written to a uniquely named temporary
//!   file created exclusively in the same directory (so no one else's file or link is followed),
//!   flushed to disk, then renamed over the target and the directory flushed: the target is
//!   either the old file or the complete new one, whatever happens, and two concurrent writers
//!   each leave a complete file (the last rename wins). The replaced file's permissions (and,
//!   where allowed, owner) are kept; a write-protected file is refused, not replaced.
//! - A symbolic link is followed and its target written (a dangling link creates its target).
//! - Anything else (a character device such as /dev/null or /dev/full, a FIFO, a socket, a
//!   terminal, /dev/stdout) is written in place, since replacing it would destroy it; its
//!   errors, such as "no space left on device", are reported.
//! - A process ended by SIGINT or SIGTERM while writing removes its temporary file
//!   ([`remove_partial_files`], called by the command line's and the explorer's signal handling).
//!
//! [`check_distinct`] turns an output that names an input of the same command, or two outputs
//! naming one file, into an error before anything is read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};

use crate::text::printable;

/// The temporary files being written right now, for [`remove_partial_files`].
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How many symbolic links are followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// The path as it may be shown in a message: control characters made visible.
pub fn shown(path: &Path) -> String {
    printable(&path.display().to_string())
}

/// True for the `-` that means standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Paths the kernel resolves by itself (`/dev/stdout` → `/proc/self/fd/1` → `pipe:[…]`): their
/// link text is not a path to follow, so they are opened as they are and written in place.
fn is_kernel_path(path: &Path) -> bool {
    path.starts_with("/proc") || path.starts_with("/dev/fd")
}

/// Follows `path` through symbolic links (relative ones from their own directory) to the path
/// that will really be written, which need not exist. Stops at a kernel path.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if is_kernel_path(&current) {
            return Ok(current);
        }
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// What is at `path`, if anything (a dangling symbolic link included), in words for the
/// question the explorer asks before replacing it: "a file", "a symbolic link to x.csv (which
/// does not exist)", "a character device".
pub fn describe_existing(path: &Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::symlink_metadata(path).ok()?.file_type();
    Some(if kind.is_symlink() {
        let target = fs::read_link(path).map_or_else(|_| "?".into(), |t| shown(&t));
        if fs::metadata(path).is_ok() {
            format!("a symbolic link to {target}")
        } else {
            format!("a symbolic link to {target} (which does not exist)")
        }
    } else if kind.is_file() {
        "a file".into()
    } else if kind.is_dir() {
        "a directory".into()
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device".into()
    } else if kind.is_fifo() {
        "a FIFO".into()
    } else {
        "a socket".into()
    })
}

/// `text` as a path, with a leading `~` or `~/` replaced by the home directory ($HOME), as a
/// shell would; anything else (`~user`, no $HOME) is left as it is.
pub fn expand_home(text: &str) -> PathBuf {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match (home, text.strip_prefix('~')) {
        (Some(home), Some("")) => PathBuf::from(home),
        (Some(home), Some(rest)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(text),
    }
}

/// Writes what `write` produces to `path` by the rules of this module (`-` is standard output),
/// and returns the path that was written: the target of a link, made absolute where possible.
///
/// # Errors
///
/// One line naming the path and the reason: it cannot be created, is a directory or
/// write-protected, the disk is full, or `write` failed.
pub fn write_output(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<PathBuf> {
    if is_stdout(path) {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        write(&mut out)
            .and_then(|()| out.flush())
            .context("standard output: cannot write")?;
        return Ok(path.to_path_buf());
    }
    let cannot = || format!("{}: cannot write", shown(path));
    let target = resolve(path).with_context(cannot)?;
    let existing = match fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(cannot),
    };
    match existing {
        Some(meta) if meta.is_dir() => bail!("{}: cannot write: it is a directory", shown(path)),
        Some(meta) if !meta.is_file() => {
            write_in_place(&target, write).with_context(cannot)?;
        }
        _ if is_kernel_path(&target) => {
            write_in_place(&target, write).with_context(cannot)?;
        }
        Some(meta) => {
            if meta.permissions().readonly() || !writable(&target) {
                bail!(
                    "{}: cannot write: the file is write-protected (mode {:o}); not replaced",
                    shown(path),
                    meta.permissions().mode() & 0o7777
                );
            }
            write_replacing(&target, Some(&meta), write).with_context(cannot)?;
        }
        None => write_replacing(&target, None, write).with_context(cannot)?,
    }
    Ok(std::path::absolute(&target).unwrap_or(target))
}

/// Whether this process may write the file (its owner, group and mode, and root's rights).
fn writable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

/// Writes a device, FIFO, socket or terminal in place: no temporary file, nothing truncated
/// that is not a regular file, every error reported (ENOSPC from /dev/full at the flush).
fn write_in_place(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    // Appending keeps what an `>>` or `>` redirection behind /dev/stdout already holds.
    let file = OpenOptions::new().append(true).open(target)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    write(&mut out)?;
    out.flush()
}

/// Writes a regular file through a temporary sibling, then renames it over `target`.
fn write_replacing(
    target: &Path,
    replaced: Option<&fs::Metadata>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::other("not a file name"))?
        .to_string_lossy();
    // The directory's own error names it, not the temporary file the user never asked for.
    fs::metadata(directory)
        .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", shown(directory))))?;
    // Mode 0666 less the umask, as a plain create would give; a replaced file's own mode below.
    let temporary = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".mixplore-partial")
        .permissions(fs::Permissions::from_mode(0o666))
        .tempfile_in(directory)
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot create a file in {}: {}",
                    shown(directory),
                    error.kind()
                ),
            )
        })?;
    let partial = temporary.path().to_path_buf();
    register(&partial);
    let result = (|| {
        if let Some(old) = replaced {
            temporary.as_file().set_permissions(old.permissions())?;
            // Only root may give a file away; anyone else keeps their own ownership.
            let _ = rustix::fs::fchown(
                temporary.as_file(),
                Some(rustix::fs::Uid::from_raw(old.uid())),
                Some(rustix::fs::Gid::from_raw(old.gid())),
            );
        }
        let mut out = BufWriter::with_capacity(1 << 20, temporary.as_file());
        write(&mut out)?;
        out.flush()?;
        drop(out);
        temporary.as_file().sync_all()?;
        temporary.persist(target).map_err(|error| error.error)?;
        // The rename is durable only once the directory is.
        File::open(directory)?.sync_all()
    })();
    unregister(&partial);
    result
}

fn register(partial: &Path) {
    if let Ok(mut files) = PARTIAL_FILES.lock() {
        files.push(partial.to_path_buf());
    }
}

fn unregister(partial: &Path) {
    if let Ok(mut files) = PARTIAL_FILES.lock() {
        files.retain(|file| file != partial);
    }
}

/// Removes every temporary file still being written: called when a signal ends the process,
/// which skips the destructors that would remove them.
pub fn remove_partial_files() {
    // A writer holding the lock when the signal came must not stop the clean-up.
    let files = match PARTIAL_FILES.try_lock() {
        Ok(files) => files.clone(),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
        Err(std::sync::TryLockError::WouldBlock) => {
            std::thread::sleep(std::time::Duration::from_millis(10));
            PARTIAL_FILES
                .try_lock()
                .map(|f| f.clone())
                .unwrap_or_default()
        }
    };
    for file in files {
        let _ = fs::remove_file(file);
    }
}

/// What two paths are the same file by: device and inode when it exists, else the canonical
/// directory and the name (two spellings of one new file).
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Named(PathBuf),
}

/// The identity of a path, if it is a regular file or could become one; `None` for standard
/// streams, devices and FIFOs (writing two outputs to /dev/null is fine) and for paths whose
/// directory does not exist (the write reports that).
fn identity(path: &Path) -> Option<Identity> {
    if is_stdout(path) {
        return None;
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Some(Identity::Inode(meta.dev(), meta.ino())),
        Ok(_) => None,
        Err(_) => {
            let target = resolve(path).ok()?;
            let parent = match target.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            Some(Identity::Named(
                fs::canonicalize(parent).ok()?.join(target.file_name()?),
            ))
        }
    }
}

/// Checks, before anything is read, that no output (option name, path) is one of the inputs
/// (option name, path) and that no two outputs are the same file: compared by device and
/// inode, so a link or another spelling of the same file is caught.
///
/// # Errors
///
/// One line naming both options and the path.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (index, (option, path)) in outputs.iter().enumerate() {
        let Some(id) = identity(path) else {
            continue;
        };
        for (input_option, input) in inputs {
            if identity(input).as_ref() == Some(&id) {
                bail!(
                    "{option} {} is the same file as the input {input_option} {}: it would be overwritten; choose another path",
                    shown(path),
                    shown(input)
                );
            }
        }
        for (other_option, other) in outputs.iter().skip(index + 1) {
            if identity(other).as_ref() == Some(&id) {
                bail!(
                    "{option} {} and {other_option} {} are the same file: choose two paths",
                    shown(path),
                    shown(other)
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn replaces_only_when_complete_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        fs::write(&path, "old").unwrap();
        let failed = write_output(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        let message = format!("{:#}", failed.unwrap_err());
        assert!(
            message.ends_with("out.csv: cannot write: disk full"),
            "{message}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(write_output(&path, |w| w.write_all(b"new")).unwrap(), path);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn keeps_the_mode_and_refuses_a_write_protected_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.csv");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_output(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        let message = format!(
            "{:#}",
            write_output(&path, |w| w.write_all(b"x")).unwrap_err()
        );
        assert!(message.contains("write-protected (mode 444)"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn follows_links_and_writes_devices_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.csv");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("target.csv", &link).unwrap();
        // A dangling link creates its target.
        assert_eq!(
            write_output(&link, |w| w.write_all(b"one")).unwrap(),
            target
        );
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "one");
        write_output(Path::new("/dev/null"), |w| w.write_all(b"x")).unwrap();
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        let full = format!(
            "{:#}",
            write_output(Path::new("/dev/full"), |w| w.write_all(b"x")).unwrap_err()
        );
        assert!(
            full.contains("/dev/full: cannot write: No space left"),
            "{full}"
        );
    }

    #[test]
    fn a_socket_is_written_in_place_and_its_error_reported() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let message = format!(
            "{:#}",
            write_output(&socket, |w| w.write_all(b"x")).unwrap_err()
        );
        assert!(
            message.contains("socket: cannot write: No such device or address"),
            "{message}"
        );
        assert!(
            fs::symlink_metadata(&socket)
                .unwrap()
                .file_type()
                .is_socket()
        );
        assert!(leftover_free(dir.path()));
    }

    fn leftover_free(dir: &Path) -> bool {
        fs::read_dir(dir).unwrap().all(|entry| {
            !entry
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")
        })
    }

    #[test]
    fn describes_what_is_there_and_expands_home() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink("nowhere.csv", &link).unwrap();
        assert_eq!(
            describe_existing(&link).unwrap(),
            "a symbolic link to nowhere.csv (which does not exist)"
        );
        assert_eq!(describe_existing(dir.path()).unwrap(), "a directory");
        assert_eq!(
            describe_existing(Path::new("/dev/null")).unwrap(),
            "a device"
        );
        assert!(describe_existing(&dir.path().join("absent")).is_none());
        assert_eq!(expand_home("plain ~ name"), PathBuf::from("plain ~ name"));
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            assert_eq!(expand_home("~/a.csv"), PathBuf::from(&home).join("a.csv"));
            assert_eq!(expand_home("~"), PathBuf::from(home));
        }
    }

    #[test]
    fn same_files_are_found_by_inode_and_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        fs::write(&input, "a\n1\n").unwrap();
        let link = dir.path().join("alias.csv");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let error = check_distinct(&[("FILE", &input)], &[("--labels", &link)]).unwrap_err();
        assert!(
            error.to_string().contains("same file as the input FILE"),
            "{error}"
        );
        let new = dir.path().join("new.csv");
        let other_spelling = dir.path().join(".").join("new.csv");
        let error =
            check_distinct(&[], &[("--labels", &new), ("--trace", &other_spelling)]).unwrap_err();
        assert!(error.to_string().contains("are the same file"), "{error}");
        let null = Path::new("/dev/null");
        let dash = Path::new("-");
        check_distinct(&[("FILE", dash)], &[("--labels", null), ("--trace", null)]).unwrap();
        check_distinct(&[("FILE", &input)], &[("--labels", &new)]).unwrap();
    }
}
