//! `scope -- <command> [args…]`: runs one test command and guarantees that no process it started
//! outlives it. It becomes a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`), so everything the
//! command leaves behind — a browser a driver started and lost, a runtime whose parent crashed —
//! is re-parented to it instead of to init; when the command ends (pass, fail or Ctrl-C) every
//! remaining descendant is stopped (SIGTERM, then SIGKILL), reaped, and named on stderr. It exits
//! with the command's own status.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The command's pid, for forwarding a termination request to it.
static CHILD: AtomicI32 = AtomicI32::new(0);

/// How long descendants get to exit after SIGTERM before they are killed.
const GRACE: Duration = Duration::from_secs(3);

extern "C" fn forward(signal: libc::c_int) {
    let child = CHILD.load(Ordering::Relaxed);
    if child > 0 {
        // SAFETY: kill(2) is async-signal-safe and touches no memory of ours.
        unsafe { libc::kill(child, signal) };
    }
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    let Some(program) = args.first().cloned() else {
        eprintln!("usage: scope -- <command> [args…]");
        return ExitCode::from(2);
    };
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag on this process.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        eprintln!("scope: cannot become a subreaper: {}", std::io::Error::last_os_error());
        return ExitCode::from(2);
    }
    let label = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    let mut child = match Command::new(&program).args(&args[1..]).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("scope: cannot run {label}: {e}");
            return ExitCode::from(127);
        }
    };
    CHILD.store(child.id() as i32, Ordering::Relaxed);
    // Ctrl-C reaches the whole foreground group (the command included); a SIGTERM or SIGHUP sent
    // to this process alone is passed on. Either way this process stays to clean up. (Handlers
    // are reset in the child by exec, so the command sees the default dispositions.)
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installing a handler that only calls kill(2).
        unsafe { libc::signal(signal, forward as *const () as libc::sighandler_t) };
    }
    let status = loop {
        match child.wait() {
            Ok(status) => break status,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("scope: waiting for {label}: {e}");
                break std::process::ExitStatus::from_raw(1 << 8);
            }
        }
    };
    CHILD.store(0, Ordering::Relaxed);
    let stopped = stop_descendants();
    if !stopped.is_empty() {
        eprintln!("scope: {} process(es) outlived `{label}` and were stopped: {}", stopped.len(), stopped.join(", "));
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code.clamp(0, 255) as u8),
        (None, Some(signal)) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
        (None, None) => ExitCode::from(1),
    }
}

/// `(pid, parent pid, command name)` of every process, from `/proc`.
fn processes() -> Vec<(i32, i32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid …": comm may hold spaces and parentheses; it ends at the last ')'.
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1.to_owned();
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid, name))
        })
        .collect()
}

/// Every live descendant of this process, as `(pid, name)`.
fn descendants() -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let all = processes();
    let mut found: Vec<(i32, String)> = Vec::new();
    let mut frontier = vec![me];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, name) in &all {
            if *ppid == parent && !found.iter().any(|(p, _)| p == pid) {
                found.push((*pid, name.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Reaps every child that has exited (zombies re-parented here included).
fn reap() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child, non-blocking; `status` is a valid out pointer.
        if unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } <= 0 {
            break;
        }
    }
}

/// Stops every descendant that is still running and returns them as "pid name".
fn stop_descendants() -> Vec<String> {
    reap();
    let mut stopped: Vec<String> = Vec::new();
    let mut record = |list: &[(i32, String)]| {
        for (pid, name) in list {
            let entry = format!("{pid} {name}");
            if !stopped.contains(&entry) {
                stopped.push(entry);
            }
        }
    };
    let signal_all = |list: &[(i32, String)], signal| {
        for (pid, _) in list {
            // SAFETY: signalling our own descendants; no memory is touched.
            unsafe { libc::kill(*pid, signal) };
        }
    };
    let first = descendants();
    if first.is_empty() {
        return stopped;
    }
    record(&first);
    signal_all(&first, libc::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        reap();
        if descendants().is_empty() {
            return stopped;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Whatever ignored SIGTERM (and whatever was started meanwhile) is killed, until none is left.
    for _ in 0..100 {
        let left = descendants();
        if left.is_empty() {
            break;
        }
        record(&left);
        signal_all(&left, libc::SIGKILL);
        std::thread::sleep(Duration::from_millis(20));
        reap();
    }
    stopped
}
