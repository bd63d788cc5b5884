// Package safepath owns how the root daemon reaches a path that another
// user can write: an agent's directory, its workspace, its home and the
// files in them.
//
// Such a path is resolved once, component by component from "/", holding
// an O_PATH descriptor for every directory on the way and never letting the
// kernel follow a symbolic link (openat with O_NOFOLLOW). A symbolic link is
// followed only when root owns it and the directory holding it, that
// directory is not writable by group or others, and no directory that
// another user can write has been passed through before it; this is
// systemd's chase() with CHASE_SAFE, made stricter. What was resolved is
// then used through the descriptor held ([Handle.Fd], [Handle.ProcPath],
// [Reopen]), never by resolving the path string again, so an agent that
// renames or swaps a component between the check and the use changes
// nothing.
//
// [ReadFile] reads an untrusted file: it refuses a final symbolic link,
// anything but a regular file (a named pipe is never opened for reading,
// so it cannot block the daemon), a file larger than the cap or that grows
// past it while read, and, when asked, a file owned by someone other than
// root or the owner of its directory (a hard link to another user's file).
//
// Every error is an [*Error] that names the path asked for, the component
// that failed and what to do, and wraps a sentinel of this package or the
// unix errno, so that errors.Is(err, fs.ErrNotExist) and the like work.
package safepath
