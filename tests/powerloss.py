"""A power-loss simulator: a FUSE pass-through file system that forgets what was never fsynced (issue 48).

A SIGKILL keeps the page cache, so killing a server cannot show that its fsyncs are the right ones. This
mounts a folder (``backing``) at ``mountpoint`` through a FUSE process that passes every operation through
but also keeps, per file, its content as of its last fsync and, per directory, its entries as of its last
fsync (Lucene's MockDirectoryWrapper.crash(), LazyFS's "lose unsynced writes"). :meth:`PowerLoss.crash`
kills the processes using the mount, unmounts it and rewrites ``backing`` to the synced state: a file
written but not fsynced has its last synced content (empty if never synced), a create, rename or unlink
whose directory was not fsynced is undone, a directory never fsynced is empty. What existed at mount
counts as synced. :meth:`PowerLoss.inject_eio` makes fsync or write on matching paths fail with EIO.

The FUSE loop runs in its own process (this file run as a script) so that a test process that reads the
mount cannot deadlock against it; the two talk by JSON lines on its stdin and stdout. Root runs it.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path


class PowerLoss:
    """``backing`` mounted at ``mountpoint`` through the simulator; a context manager that unmounts at exit."""

    def __init__(self, backing: Path, mountpoint: Path, state: Path | None = None):
        self.backing, self.mountpoint = Path(backing), Path(mountpoint)
        self.state = Path(state) if state else self.backing.with_name(self.backing.name + ".synced")
        self.proc: subprocess.Popen | None = None
        self.crashes = 0

    def mount(self) -> PowerLoss:
        """Start the FUSE process; returns once the mount answers. Everything in ``backing`` counts as synced."""
        self.backing.mkdir(parents=True, exist_ok=True)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(self.backing), str(self.mountpoint), str(self.state)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not os.path.ismount(self.mountpoint):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the power-loss file system did not mount at {self.mountpoint}")
            time.sleep(0.02)
        return self

    def _ask(self, message: dict) -> dict:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout, "not mounted"
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"the power-loss file system failed {message['cmd']}: {reply['error']}")
        return reply

    def inject_eio(self, path_pattern: str, op: str = "fsync", after: int = 0) -> None:
        """Make ``op`` ("fsync" or "write") fail with EIO on paths (relative to the mount, fnmatch) matching
        ``path_pattern``, once ``after`` of them have succeeded, until :meth:`clear_faults`. A failed fsync
        leaves the synced state as it was."""
        if op not in ("fsync", "write"):
            raise ValueError(f"op is fsync or write, not {op!r}")
        self._ask({"cmd": "eio", "pattern": path_pattern.lstrip("/"), "op": op, "after": after})

    def clear_faults(self) -> None:
        self._ask({"cmd": "clear"})

    def image(self, dest: Path) -> None:
        """Write at ``dest`` what ``backing`` would hold after a power cut at this instant, and go on: a crash
        state to check without killing anything (many per run, where each real crash costs a restart)."""
        self._ask({"cmd": "image", "dest": str(dest)})

    def stats(self) -> dict:
        """Counts of the operations seen (fsync, fsyncdir, write, rename, eio)."""
        return self._ask({"cmd": "stats"})

    def users(self) -> list[int]:
        """The processes (other than this one and the FUSE process) with a file, folder or mapping on the mount."""
        mine = {os.getpid(), self.proc.pid if self.proc else -1}
        where = str(self.mountpoint)
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) in mine:
                continue
            if _uses(Path(entry.path), where):
                found.append(int(entry.name))
        return found

    def crash(self, also: Iterable[int] = ()) -> None:
        """Power loss: freeze the file system (every later operation fails), SIGKILL ``also`` and every process
        using the mount, unmount, and roll ``backing`` back to what was synced. Call :meth:`mount` to go on."""
        assert self.proc is not None, "not mounted"
        self._ask({"cmd": "freeze"})
        for pid in {*also, *self.users()}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in also:
            _reap(pid)
        self._finish()
        self.crashes += 1

    def unmount(self) -> None:
        """A clean unmount: nothing is rolled back."""
        if self.proc is None:
            return
        self._ask({"cmd": "keep"})
        self._finish()

    def _finish(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)], capture_output=True)
            if done.returncode == 0 or not os.path.ismount(self.mountpoint):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot unmount {self.mountpoint}: {done.stderr.decode().strip()}")
            time.sleep(0.1)
        assert self.proc is not None and self.proc.stdout
        last = self.proc.stdout.readline()
        self.proc.wait(timeout=60)
        self.proc = None
        if not last or json.loads(last).get("event") != "done":
            raise RuntimeError(f"the power-loss file system ended without restoring its state: {last!r}")

    def __enter__(self) -> PowerLoss:
        return self.mount() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            try:
                self.unmount()
            finally:
                if self.proc is not None:
                    self.proc.kill()
                    subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)], capture_output=True)


def _uses(proc: Path, where: str) -> bool:
    def under(target: str) -> bool:
        return target == where or target.startswith(where + "/")

    try:
        for link in ("cwd", "root"):
            if under(os.readlink(proc / link)):
                return True
        for fd in os.scandir(proc / "fd"):
            try:
                if under(os.readlink(fd.path)):
                    return True
            except OSError:
                continue
        with open(proc / "maps", encoding="utf-8", errors="replace") as f:
            return any(under(line.split(None, 5)[5].strip()) for line in f if len(line.split(None, 5)) == 6)
    except OSError:
        return False


def _reap(pid: int) -> None:
    """Wait for a killed child of ours so it does not hold the mount as a zombie's open files (none: gone)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            if not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.02)
            continue
        if done:
            return
        time.sleep(0.02)


# ---- the FUSE process -------------------------------------------------------------------------------------


class _Node:
    """One file or directory as the disk would hold it after a power cut: ``synced`` is a directory's entries
    (name -> node id) or a file's content (a path under the state folder, or None: empty) as last fsynced."""

    __slots__ = ("id", "kind", "synced", "mode", "target")

    def __init__(self, node_id: int, kind: str, synced, mode: int, target: str = ""):
        self.id, self.kind, self.synced, self.mode, self.target = node_id, kind, synced, mode, target


def _lay(nodes: dict[int, _Node], root: _Node, dest: str) -> None:
    """Write at ``dest`` (which must not exist) the tree the disk would hold after a power cut now."""
    made: dict[int, str] = {}

    def lay(node: _Node, path: str) -> None:
        if node.id in made and node.kind == "file":
            os.link(made[node.id], path)
            return
        if node.kind == "dir":
            os.mkdir(path)
            for name, nid in node.synced.items():
                lay(nodes[nid], os.path.join(path, name))
            os.chmod(path, node.mode)
        elif node.kind == "link":
            os.symlink(node.target, path)
        else:
            shutil.copyfile(node.synced, path) if node.synced else open(path, "wb").close()
            os.chmod(path, node.mode)
        made[node.id] = path

    lay(root, dest)


def _serve(backing: str, mountpoint: str, state: str) -> None:
    import mfusepy as fuse

    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    lock = threading.RLock()
    nodes: dict[int, _Node] = {}
    by_ino: dict[int, int] = {}
    fh_node: dict[int, int] = {}
    faults: list[list] = []  # [pattern, op, matching operations still let through]
    counts = {"fsync": 0, "fsyncdir": 0, "write": 0, "rename": 0, "eio": 0}
    frozen = threading.Event()
    keep = threading.Event()

    def real(path: str) -> str:
        return os.path.join(backing, path.lstrip("/"))

    def copy_synced(node: _Node, source: str | int) -> None:
        """Record ``source`` (a path or an open descriptor) as the node's synced content."""
        dest = os.path.join(state, f"{node.id}.{time.monotonic_ns()}")
        with open(dest, "wb") as out:
            # a descriptor may be write-only: read the file it names (unlinked or not) through /proc
            with open(f"/proc/self/fd/{source}" if isinstance(source, int) else source, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        old, node.synced = node.synced, dest
        if old:
            os.unlink(old)

    def node_of(path: str, fresh: bool = False) -> _Node:
        """The node at ``path`` (a new one, not yet synced anywhere, if this inode was not seen)."""
        st = os.lstat(real(path))
        nid = by_ino.get(st.st_ino)
        if nid is not None and not fresh:
            return nodes[nid]
        import stat as stat_module

        if stat_module.S_ISDIR(st.st_mode):
            node = _Node(len(nodes) + 1, "dir", {}, st.st_mode & 0o7777)
        elif stat_module.S_ISLNK(st.st_mode):
            node = _Node(len(nodes) + 1, "link", None, 0, os.readlink(real(path)))
        else:
            node = _Node(len(nodes) + 1, "file", None, st.st_mode & 0o7777)
        nodes[node.id] = node
        by_ino[st.st_ino] = node.id
        return node

    def entries(path: str) -> dict[str, int]:
        return {name: node_of(os.path.join(path, name)).id for name in os.listdir(real(path))}

    def forget(path: str) -> None:
        """``path`` is about to lose a name: if it is the inode's last one, the inode number may be reused."""
        try:
            st = os.lstat(real(path))
        except FileNotFoundError:
            return
        if st.st_nlink <= 1 or os.path.isdir(real(path)):
            by_ino.pop(st.st_ino, None)

    # what exists at mount is synced
    def adopt(path: str) -> None:
        node = node_of(path)
        if node.kind == "dir":
            for name in os.listdir(real(path)):
                adopt(os.path.join(path, name))
            node.synced = entries(path)
        elif node.kind == "file":
            copy_synced(node, real(path))

    adopt("/")
    root = node_of("/")

    def check(op: str, path: str | None) -> None:
        if frozen.is_set():
            raise fuse.FuseOSError(errno.EIO)
        for fault in faults if path is not None else ():
            if fault[1] == op and fnmatch.fnmatch(path.lstrip("/"), fault[0]):
                if fault[2] > 0:
                    fault[2] -= 1
                    continue
                counts["eio"] += 1
                raise fuse.FuseOSError(errno.EIO)

    def locked(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with lock:
                if frozen.is_set():
                    raise fuse.FuseOSError(errno.EIO)
                try:
                    return method(self, *args, **kwargs)
                except OSError as exc:
                    if isinstance(exc, fuse.FuseOSError):
                        raise
                    raise fuse.FuseOSError(exc.errno or errno.EIO) from None
                except Exception as exc:  # noqa: BLE001 - a bug here: say it, and fail the operation rather than the mount
                    print(f"powerloss: {method.__name__}{args}: {exc!r}", file=sys.stderr, flush=True)
                    raise fuse.FuseOSError(errno.EIO) from None

        return run

    class Ops(fuse.Operations):
        use_ns = True

        @locked
        def getattr(self, path, fh=None):
            st = os.fstat(fh) if fh is not None and path is None else os.lstat(real(path))
            return {
                key: getattr(st, key)
                for key in (
                    "st_mode",
                    "st_nlink",
                    "st_size",
                    "st_uid",
                    "st_gid",
                    "st_atime_ns",
                    "st_mtime_ns",
                    "st_ctime_ns",
                )
            } | {"st_atime": st.st_atime_ns, "st_mtime": st.st_mtime_ns, "st_ctime": st.st_ctime_ns}

        @locked
        def access(self, path, amode):
            if not os.access(real(path), amode):
                raise fuse.FuseOSError(errno.EACCES)
            return 0

        @locked
        def readdir(self, path, fh):
            return [".", "..", *os.listdir(real(path))]

        @locked
        def readlink(self, path):
            return os.readlink(real(path))

        @locked
        def mkdir(self, path, mode):
            os.mkdir(real(path), mode)
            node_of(path, fresh=True).synced = {}
            return 0

        @locked
        def rmdir(self, path):
            forget(path)
            os.rmdir(real(path))
            return 0

        @locked
        def unlink(self, path):
            forget(path)
            os.unlink(real(path))
            return 0

        @locked
        def symlink(self, target, source):
            os.symlink(source, real(target))
            node_of(target, fresh=True)
            return 0

        @locked
        def link(self, target, source):
            os.link(real(source), real(target))
            return 0

        @locked
        def rename(self, old, new):
            counts["rename"] += 1
            if os.path.lexists(real(new)):
                forget(new)
            os.rename(real(old), real(new))
            return 0

        @locked
        def chmod(self, path, mode):
            os.chmod(real(path), mode)
            return 0

        @locked
        def chown(self, path, uid, gid):
            os.chown(real(path), uid, gid)
            return 0

        @locked
        def utimens(self, path, times=None):
            os.utime(real(path), ns=times) if times else os.utime(real(path))
            return 0

        @locked
        def truncate(self, path, length, fh=None):
            check("write", path)
            os.ftruncate(fh, length) if fh is not None else os.truncate(real(path), length)
            return 0

        @locked
        def open(self, path, flags):
            fd = os.open(real(path), flags & ~os.O_APPEND)
            fh_node[fd] = node_of(path).id
            return fd

        @locked
        def create(self, path, mode, flags=os.O_WRONLY):
            existed = os.path.lexists(real(path))
            fd = os.open(real(path), (flags | os.O_CREAT) & ~os.O_APPEND, mode)
            fh_node[fd] = node_of(path, fresh=not existed).id
            return fd

        @locked
        def read(self, path, size, offset, fh):
            return os.pread(fh, size, offset)

        @locked
        def write(self, path, data, offset, fh):
            check("write", path)
            counts["write"] += 1
            return os.pwrite(fh, data, offset)

        @locked
        def fallocate(self, path, mode, offset, size, fh):
            check("write", path)
            os.posix_fallocate(fh, offset, size)
            return 0

        @locked
        def flush(self, path, fh):
            return 0

        @locked
        def release(self, path, fh):
            fh_node.pop(fh, None)
            os.close(fh)
            return 0

        @locked
        def fsync(self, path, datasync, fh):
            check("fsync", path)
            counts["fsync"] += 1
            node = nodes[fh_node[fh]]
            node.mode = os.fstat(fh).st_mode & 0o7777
            copy_synced(node, fh)
            return 0

        @locked
        def fsyncdir(self, path, datasync, fh):
            check("fsync", path)
            counts["fsyncdir"] += 1
            node_of(path).synced = entries(path)
            return 0

        @locked
        def statfs(self, path):
            sv = os.statvfs(real(path))
            return {
                key: getattr(sv, key)
                for key in (
                    "f_bavail",
                    "f_bfree",
                    "f_blocks",
                    "f_bsize",
                    "f_favail",
                    "f_ffree",
                    "f_files",
                    "f_flag",
                    "f_frsize",
                    "f_namemax",
                )
            }

    def control() -> None:
        for line in sys.stdin:
            message = json.loads(line)
            cmd = message["cmd"]
            with lock:
                try:
                    if cmd == "freeze":
                        frozen.set()
                    elif cmd == "keep":
                        keep.set()
                    elif cmd == "eio":
                        faults.append([message["pattern"], message["op"], message.get("after", 0)])
                    elif cmd == "clear":
                        faults.clear()
                    elif cmd == "image":
                        os.makedirs(os.path.dirname(message["dest"]), exist_ok=True)
                        _lay(nodes, root, message["dest"])
                    reply = dict(counts) if cmd == "stats" else {"ok": True}
                except Exception as exc:  # noqa: BLE001 - said to the test, which raises it
                    reply = {"error": repr(exc)}
            print(json.dumps(reply), flush=True)
            if cmd in ("freeze", "keep"):
                return

    threading.Thread(target=control, daemon=True).start()
    fuse.FUSE(Ops(), mountpoint, foreground=True, nothreads=True, hard_remove=True)

    if not keep.is_set():  # the power cut: rewrite backing as the disk would hold it
        rebuilt = backing.rstrip("/") + ".rebuilt"
        shutil.rmtree(rebuilt, ignore_errors=True)
        _lay(nodes, root, rebuilt)
        shutil.rmtree(backing)
        os.rename(rebuilt, backing)
    shutil.rmtree(state, ignore_errors=True)
    print(json.dumps({"event": "done"}), flush=True)


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
