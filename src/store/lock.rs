//! One atpp at a time per staging folder. Two commands writing the same run folders and ledger
//! at once (a nightly cron run overlapping a hand-started load, or the next night's run while
//! the last one still loads) would interleave their writes, so every command that writes takes
//! `staging/.lock` first and a second one stops at once, naming the one that runs.
//!
//! The lock itself is an OS advisory lock (`flock`) on that file: the kernel drops it when its
//! process ends, however it ends, so a crashed run never blocks the next night. The file's
//! content (pid, host, command, start time) is only for the message; it is cleared when the
//! lock is released — on return, on error, and on Ctrl-C, SIGTERM or SIGHUP, which empty it
//! before the process dies of the signal — so content found by a process that got the lock was
//! left by one that was killed outright, and is taken over with a warning.
//!
//! A pid alone does not say the holder lives: pids are reused. The content also records the
//! process's start time (`/proc/<pid>/stat` field 22, clock ticks since boot) and the boot, so a
//! live process with the holder's pid but another start time is recognised as a stranger.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The lock file, in the staging folder.
pub const LOCK_FILE: &str = ".lock";

/// Who holds (or held) a staging folder's lock: what the lock file says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockInfo {
    pub pid: u32,
    pub hostname: String,
    /// What it runs, e.g. `atpp load (pipeline nightly)`.
    pub command: String,
    pub started_at: DateTime<Utc>,
    /// When the process started, in clock ticks since boot (`/proc/<pid>/stat` field 22):
    /// with `boot_id`, what tells the holder from a later process that got its pid.
    #[serde(default)]
    pub process_start: Option<u64>,
    /// `/proc/sys/kernel/random/boot_id` of the holder's boot.
    #[serde(default)]
    pub boot_id: Option<String>,
}

impl LockInfo {
    /// This process, running `command`.
    pub fn current(command: &str) -> LockInfo {
        LockInfo {
            pid: std::process::id(),
            hostname: hostname(),
            command: command.to_string(),
            started_at: Utc::now(),
            process_start: process_start(std::process::id()),
            boot_id: boot_id(),
        }
    }

    /// Whether the process named is alive: `None` when it ran on another host (its pid means
    /// nothing here). A process with its pid that started at another time, or since another
    /// boot, is not it.
    pub fn is_alive(&self) -> Option<bool> {
        if self.hostname != hostname() {
            return None;
        }
        if self.boot_id.is_some() && boot_id().is_some() && self.boot_id != boot_id() {
            return Some(false);
        }
        if !pid_alive(self.pid) {
            return Some(false);
        }
        match (self.process_start, process_start(self.pid)) {
            (Some(recorded), Some(now)) => Some(recorded == now),
            _ => Some(true),
        }
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} on {} running `{}` since {}",
            self.pid,
            self.hostname,
            self.command,
            self.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another atpp is working in the staging folder {root}: {}; wait for it to end \
         (nothing was done; the lock is {})",
        describe(holder),
        root.join(LOCK_FILE).display()
    )]
    Busy {
        root: PathBuf,
        holder: Option<Box<LockInfo>>,
    },
    #[error("cannot take the lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn describe(holder: &Option<Box<LockInfo>>) -> String {
    match holder {
        Some(h) => h.to_string(),
        None => "it has not written its details yet".to_string(),
    }
}

/// The lock of a staging folder, held until dropped.
#[derive(Debug)]
pub struct StagingLock {
    file: File,
    path: PathBuf,
    info: LockInfo,
    /// What a process that ended without releasing the lock had written, when this lock took
    /// it over.
    pub taken_over: Option<LockInfo>,
    /// Where a signal finds this lock's file to empty it (`None`: every slot was taken).
    slot: Option<usize>,
}

impl StagingLock {
    /// Take the lock of the staging folder `root` for `command`, or fail at once with
    /// `LockError::Busy` naming the process that holds it. A lock left by a process that is
    /// gone is taken over, with a warning.
    pub fn acquire(root: &Path, command: &str) -> Result<StagingLock, LockError> {
        let path = root.join(LOCK_FILE);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    root: root.to_path_buf(),
                    holder: read_info(&mut file).map(Box::new),
                })
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let taken_over = read_info(&mut file);
        if let Some(old) = &taken_over {
            let why = match old.is_alive() {
                Some(false) if pid_alive(old.pid) => {
                    "which is no longer running (its pid now belongs to another process)"
                }
                Some(false) => "which is no longer running",
                Some(true) => "which no longer holds it",
                None => "on another host, which no longer holds it",
            };
            tracing::warn!(
                "taking over the lock {} left by pid {} (`{}`, since {}), {why}",
                path.display(),
                old.pid,
                old.command,
                old.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            );
        }
        let info = LockInfo::current(command);
        let text = serde_json::to_vec(&info).expect("lock info serialises");
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        file.write_all(&text).map_err(io_err)?;
        file.flush().map_err(io_err)?;
        tracing::info!("took the lock {} for `{command}`", path.display());
        let slot = on_signal::hold(&path);
        Ok(StagingLock {
            file,
            path,
            info,
            taken_over,
            slot,
        })
    }

    /// What this lock's file says.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StagingLock {
    fn drop(&mut self) {
        on_signal::release(self.slot);
        // Emptied before it is released: content found under a free lock means a dead holder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Who holds the lock of the staging folder `root`, read without taking it: `None` when no one
/// does (or the one named has died).
pub fn holder(root: &Path) -> Option<LockInfo> {
    let mut file = File::open(root.join(LOCK_FILE)).ok()?;
    read_info(&mut file).filter(|info| info.is_alive() != Some(false))
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// This machine's host name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether a process with this pid exists on this host (signal 0 checks without sending).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only reports whether the pid exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The start time of a process, in clock ticks since boot: field 22 of `/proc/<pid>/stat`
/// (`None` where there is no procfs or no such process).
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so count from the last `)`;
    // the first field after it is field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// This boot's id (`None` without procfs).
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Ctrl-C, SIGTERM and SIGHUP empty the lock files this process holds, then end it as the
/// signal would have. Only async-signal-safe calls run in the handler: `open` with `O_TRUNC` on
/// paths prepared when the lock was taken, `close`, `signal` and `raise`.
mod on_signal {
    use std::ffi::CString;
    use std::os::raw::c_char;
    use std::path::Path;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::Once;

    /// Locks held at once by one process (tests hold many); past this a lock still works, and a
    /// signal leaves its content for the next run to recognise as a dead holder's.
    const SLOTS: usize = 64;
    static HELD: [AtomicPtr<c_char>; SLOTS] =
        [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();

    /// Remember a held lock file; the slot is given back by `release`.
    pub fn hold(path: &Path) -> Option<usize> {
        use std::os::unix::ffi::OsStrExt;
        INSTALL.call_once(install);
        let text = CString::new(path.as_os_str().as_bytes()).ok()?;
        // Never freed: a handler may be reading it while the lock is released.
        let text = text.into_raw();
        for (i, slot) in HELD.iter().enumerate() {
            if slot
                .compare_exchange(
                    std::ptr::null_mut(),
                    text,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
            {
                return Some(i);
            }
        }
        None
    }

    pub fn release(slot: Option<usize>) {
        if let Some(i) = slot {
            HELD[i].store(std::ptr::null_mut(), Ordering::SeqCst);
        }
    }

    fn install() {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: the action only makes async-signal-safe calls (see `empty_and_die`).
            let registered =
                unsafe { signal_hook_registry::register(signal, move || empty_and_die(signal)) };
            if let Err(e) = registered {
                tracing::warn!("cannot watch signal {signal} to release the staging lock: {e}");
            }
        }
    }

    fn empty_and_die(signal: libc::c_int) {
        for slot in &HELD {
            let path = slot.load(Ordering::SeqCst);
            if !path.is_null() {
                // SAFETY: `path` is a NUL-terminated string that is never freed.
                unsafe {
                    let fd = libc::open(path, libc::O_WRONLY | libc::O_TRUNC | libc::O_CLOEXEC);
                    if fd >= 0 {
                        libc::close(fd);
                    }
                }
            }
        }
        // SAFETY: back to the default action, then the signal again: it is delivered once this
        // handler returns, and ends the process as if it had never been caught.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_named() {
        let me = LockInfo::current("atpp test");
        assert_eq!(me.is_alive(), Some(true));
        assert!(me
            .to_string()
            .contains(&format!("pid {}", std::process::id())));
        let elsewhere = LockInfo {
            hostname: format!("{}-other", hostname()),
            ..me
        };
        assert_eq!(elsewhere.is_alive(), None);
    }

    #[test]
    fn a_live_pid_that_started_at_another_time_is_not_the_holder() {
        let me = LockInfo::current("atpp test");
        let start = me.process_start.expect("procfs on Linux");
        let reused = LockInfo {
            process_start: Some(start + 1),
            ..me.clone()
        };
        assert_eq!(reused.is_alive(), Some(false));
        let other_boot = LockInfo {
            boot_id: Some("another-boot".into()),
            ..me
        };
        assert_eq!(other_boot.is_alive(), Some(false));
    }

    #[test]
    fn the_lock_file_is_emptied_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StagingLock::acquire(dir.path(), "atpp test").unwrap();
        assert_eq!(holder(dir.path()).as_ref(), Some(lock.info()));
        drop(lock);
        assert_eq!(holder(dir.path()), None);
        assert_eq!(std::fs::read(dir.path().join(LOCK_FILE)).unwrap(), b"");
    }
}
