"""The template: one process per pool that imports what its workers need once, then forks them on request.

``python -m snakepit_bridge template --adapter module:Class --pool NAME --run-id RUN [--socket-dir DIR]
[--preload a,b]``

A fork server (like ``multiprocessing``'s forkserver, or Android's zygote). The host spawns it with a control
socket on fd 3; it imports the bridge, the adapter's module, the modules of the pool's ``libraries`` and any
``--preload`` modules, then answers requests on the control socket, one JSON object per line:

    host -> template   {"type": "fork", "id": 1, "worker": "default-3", "listen": PATH, "ledger": PATH|null}
    template -> host   {"type": "ready", "pid", "import_ms", "unsafe": null | "why"}     once, after the imports
                       {"type": "failed", "error"}      instead, when the adapter does not import
                       {"type": "forked", "id": 1, "pid": 4242} | {"type": "fork_failed", "id": 1, "error"}
                       {"type": "spare", "pid": 4243, "listen": PATH}   a child forked ahead, listening at PATH
                       {"type": "exit", "pid": 4242, "code": 0 | null, "signal": 9 | null}  (it reaps its children,
                                                                                    spares included)

A forked worker (``_child``) starts a new session, takes over the listening socket the template made for it at
``listen`` (the host connects three times: the channel, stdout, stderr, each announced by one byte), and then
runs exactly as a spawned worker does from its handshake on: ``initialize()`` runs in each worker, after the fork.

A spare: while it is idle, the template keeps one child forked ahead of need (``_spare``), with a listening socket
of its own in ``--socket-dir``, and tells the host where (``spare``). The spare has done what every forked worker
does before it knows which worker it is (its own session, signals, the garbage collector, random seeds, its
lifeline thread) and waits for the host. The host claims it with no request to the template on the way: it
writes which worker the spare is to be into ``<listen>.claim`` (``{"worker", "ledger"}``), then connects three
times, the channel first (no tag bytes: the spare starts on the accepted connections at once, without waiting
for the host's first write). The spare tells the template it was taken (one byte on their socket pair), and the
template forks the next spare once it is quiet. The fork itself (a page-table copy of everything the imports
left, ~10 ms with pandas), the child's set-up and a round trip to the template are then off the way from a death
to a ready worker. Fork requests are answered by a fresh fork. A spare that dies before it is used is forked
again (its exit is reported too, so the host forgets it); it leaves with the template (end of file on its socket
pair, or the template's SIGKILL on the way out).

What must not cross a fork (docs/WORKERS.md, "Fast start"):
- threads: a fork copies only the forking thread, so a thread an import started would silently be missing in
  every worker, and a lock it held would stay held forever. The template stays single-threaded; when an import
  started one anyway (or opened a socket), ``ready`` says so in ``unsafe`` and the host starts that pool's
  workers cold instead;
- an adapter that declares ``__fork_safe__ = False`` is not forked (``unsafe`` again);
- random state: ``random`` reseeds itself in a child (CPython's at-fork hook); numpy's legacy global generator
  does not, so each worker reseeds it from the OS. ``PYTHONHASHSEED`` (string hashes) stays the template's;
- an asyncio event loop made at import stays the template's: each worker starts with none set;
- open connections and exporters (OpenTelemetry's batch processor is a thread): set them up in
  ``initialize()``, which runs per worker.

The template never holds a socket of one of its workers beyond the fork that made it: the listening socket and
everything after it belong to the child. It leaves with the host (parent-death signal, end of file on the control
socket, the host pid gone) and takes its workers along on the way, whichever sign comes first and whatever fails
after it (its stderr may be gone with the host). Killed outright, it cannot: the host then starts a warden for its
workers (warden.py), which stops them if the host dies, while a worker's own signs (its channel's end of file,
the host pid watch, heartbeats: lifeline.py) need its Python threads to run.
"""

from __future__ import annotations

import gc
import json
import os
import select
import _signal as signal  # the C module under signal.py, which builds its enums (~2 ms of a cold start)
import socket
import sys
import time

from .dispatch.lifeline import Lifeline, _int_env, _pid_exists, _set_parent_death_signal
from .dispatch.limits import ENV as LIMITS_ENV, apply_limits
from .dispatch.startup import load_adapter_class
from .dispatch.tools import describe_ahead

__all__ = ["main"]

CONTROL_FD = 3
CHECK_S = 0.5
MAX_LINE = 64 * 1024
ACCEPT_TIMEOUT_S = 30.0  # a forked worker the host never connects to leaves after this long
SPARE_AFTER_S = 0.1  # the spare is forked once no request and no child's exit came for this long
MAX_SPARES_LOST = 3  # a spare keeps dying before it is used (something kills idle processes): fork on request only
LEAVE_REAP_S = 1.0  # how long the template waits for the workers it killed on its way out


def main(argv) -> int:
    opts = _parse(argv)
    if opts is None:
        sys.stderr.write("usage: python -m snakepit_bridge template --adapter module:Class --pool NAME "
                         "--run-id RUN [--socket-dir DIR] [--preload mod1,mod2]\n")
        return 2
    # SNAKEPIT_PARENT_WATCH=0 (debugging, and the sweep's test): outlive the host, as its workers then do.
    watch = os.environ.get("SNAKEPIT_PARENT_WATCH") != "0"
    host_pid = _int_env("SNAKEPIT_HOST_PID") if watch else None
    parent = os.getppid() if watch else None
    if watch:  # the host's death reaches us as SIGTERM (not SIGKILL): we still take our workers along
        _set_parent_death_signal(signal.SIGTERM)
    if host_pid is not None and not _pid_exists(host_pid):
        return 0
    gc.disable()  # no collection in the template: every object stays where the workers share it (see _freeze)
    control = socket.socket(fileno=CONTROL_FD)
    control.setblocking(True)
    os.set_inheritable(CONTROL_FD, False)
    limits = os.environ.get(LIMITS_ENV)
    try:
        if limits:
            apply_limits(limits)  # the template lives by the pool's limits too, imports included
    except (ValueError, OSError) as exc:
        sys.stderr.write("snakepit_bridge template: cannot apply %s=%s: %s\n" % (LIMITS_ENV, limits, exc))
        return 2
    server = Template(control, opts, host_pid, parent)
    signal.signal(signal.SIGTERM, server.on_term)
    return server.run()


def _parse(argv):
    opts = {"adapter": None, "pool": None, "run_id": None, "codec": "auto", "preload": "", "socket_dir": None}
    if len(argv) % 2:
        return None
    for i in range(0, len(argv), 2):
        key = argv[i][2:].replace("-", "_") if argv[i].startswith("--") else None
        if key not in opts:
            return None
        opts[key] = argv[i + 1]
    return opts if opts["adapter"] else None


class Template:
    def __init__(self, control, opts, host_pid, parent) -> None:
        self.control = control
        self.opts = opts
        self.host_pid = host_pid
        self.parent = parent
        self.children: dict[int, str | None] = {}  # pid -> worker id (or None: a spare the host claimed)
        self.inbox = b""
        self.wake_r, self.wake_w = os.pipe()
        # (pid, socket pair): a child forked ahead of need, waiting for the host to claim it
        self.spare: tuple[int, socket.socket] | None = None
        self.spares = 0  # spares forked, for their sockets' names
        self.lost: set[int] = set()  # spares whose socket pair closed before they were claimed: they are dying
        self.spares_lost = 0  # spares that died unused: past MAX_SPARES_LOST, no more are forked

    # ------------------------------------------------------------------------------------------------ life

    def run(self) -> int:
        t0 = time.monotonic()
        try:
            unsafe = self._preload()
        except BaseException as exc:  # the adapter does not import: cold workers report it with its traceback
            self._send({"type": "failed", "error": "did not import the adapter: %s: %s"
                                                   % (type(exc).__name__, str(exc)[:500])})
            return 3
        self._freeze()
        self._send({"type": "ready", "pid": os.getpid(), "unsafe": unsafe,
                    "import_ms": round((time.monotonic() - t0) * 1000, 1)})
        if unsafe:
            return self._idle_until_closed()
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, _ignore_signal)  # a handler, so the wake-up fd hears each child's exit
        try:
            self._serve_requests()
        except BaseException as exc:  # a bug must not leave the workers without the one process that can stop them
            self._leave("stopped by %s: %s" % (type(exc).__name__, exc))
        return 0

    def _serve_requests(self) -> None:
        last_check = time.monotonic()
        while True:
            want_spare = self.spare is None and self.spares_lost < MAX_SPARES_LOST \
                and self.opts["socket_dir"] is not None
            try:
                wait = SPARE_AFTER_S if want_spare else CHECK_S
                watched = [self.control, self.wake_r] + ([self.spare[1]] if self.spare else [])
                ready = select.select(watched, [], [], wait)[0]
            except InterruptedError:
                ready = []
            if self.wake_r in ready:
                try:
                    os.read(self.wake_r, 512)
                except OSError:
                    pass
            if self.spare is not None and self.spare[1] in ready:
                self._spare_news()
            self._reap()
            if self.control in ready and not self._read_requests():
                if self.parent is None:  # SNAKEPIT_PARENT_WATCH=0: its workers outlive the host too
                    os._exit(0)
                self._leave("the host closed the template's channel")
            if want_spare and not ready:
                # Quiet for a moment: the workers just forked have had their start (a fork now would take CPU
                # from them), and the next request gets a child forked already.
                self._fork_spare()
            if time.monotonic() - last_check >= CHECK_S:
                last_check = time.monotonic()
                if (self.parent is not None and os.getppid() != self.parent) \
                        or (self.host_pid is not None and not _pid_exists(self.host_pid)):
                    self._leave("the host is gone")

    def _idle_until_closed(self) -> int:
        # Not forking (see ``unsafe``): the host stops us; until then there is nothing to do but notice its end.
        while True:
            ready = select.select([self.control], [], [], CHECK_S)[0]
            if ready and not self.control.recv(4096):
                return 0
            if self.parent is not None and os.getppid() != self.parent:
                return 0

    def on_term(self, signum, frame) -> None:
        self._leave(None)

    def _leave(self, why) -> None:
        """Take the workers along (SIGKILL to each one's group: they may be stuck in C code) and exit.

        Whatever happens on the way, the process ends here: the host may be gone, and our stderr with it (a dead
        host's files close before the kernel sends us its parent-death signal, so the end of file on the control
        channel can come first). Saying why therefore comes after the workers are stopped, and may fail."""
        try:
            pids = list(self.children) + ([self.spare[0]] if self.spare else [])
            for pid in pids:
                for target in (-pid, pid):
                    try:
                        os.kill(target, signal.SIGKILL)
                        break
                    except OSError:
                        continue
            # Reap them before leaving (briefly: one in uninterruptible sleep must not hold us), so that when the
            # host sees the template gone, the workers it forked are gone too, a fork it asked for a moment ago too.
            deadline = time.monotonic() + LEAVE_REAP_S
            for pid in pids:
                while time.monotonic() < deadline:
                    try:
                        if os.waitpid(pid, os.WNOHANG)[0]:
                            break
                    except ChildProcessError:
                        break
                    time.sleep(0.002)
            if why and self.children:
                _say("snakepit_bridge template: %s; stopped %d worker(s)\n" % (why, len(self.children)))
        finally:
            os._exit(0)

    # ------------------------------------------------------------------------------------------- imports

    def _preload(self):
        """Import the adapter's module and what the pool names; return why forking is unsafe, or None."""
        import threading

        from . import worker_cli  # noqa: F401  the bridge a worker runs, compiled and loaded once
        from .channel import codec, json_codec  # noqa: F401  json: every handshake starts in it
        from .dispatch import watchdog  # noqa: F401  what each worker's reader starts with (imported lazily)

        codec.available_codecs()  # imports msgpack when present
        _module, _name, cls = load_adapter_class(self.opts["adapter"])
        for name in _preload_names(self.opts["preload"]):
            __import__(name)
        describe_ahead(cls)  # its tools' signatures and argument checks, once for every worker
        if getattr(cls, "__fork_safe__", True) is False:
            return "the adapter declares __fork_safe__ = False"
        threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        native = _native_threads()
        if threads or native > 0:
            return ("importing the adapter started %d thread(s)%s; a fork would copy none of them. Start "
                    "threads in initialize(), which runs in each worker"
                    % (max(len(threads), native), " (%s)" % ", ".join(threads) if threads else ""))
        sockets = _open_sockets(exclude=(0, 1, 2, CONTROL_FD))  # our stdio is a socket pair from the host
        if sockets:
            return ("importing the adapter opened %d socket(s), which every forked worker would share. Open "
                    "connections in initialize(), which runs in each worker" % sockets)
        return None

    def _freeze(self) -> None:
        # What the imports left is shared with every worker copy-on-write. A collection in a worker would write
        # to every object it visits (its gc header) and so copy those pages: freeze them out of its reach.
        from .dispatch.memory import trim_heap

        gc.collect()
        gc.freeze()
        trim_heap()

    # ------------------------------------------------------------------------------------------- requests

    def _read_requests(self) -> bool:
        try:
            data = self.control.recv(65536)
        except OSError:
            return False
        if not data:
            return False
        self.inbox += data
        while b"\n" in self.inbox:
            line, self.inbox = self.inbox.split(b"\n", 1)
            try:
                request = json.loads(line)
            except ValueError:
                continue
            if isinstance(request, dict) and request.get("type") == "fork":
                self._fork(request)
        if len(self.inbox) > MAX_LINE:
            return False
        return True

    def _fork(self, request) -> None:
        rid, worker_id, listen = request.get("id"), request.get("worker"), request.get("listen")
        ledger = request.get("ledger")
        if not isinstance(worker_id, str) or not isinstance(listen, str):
            self._send({"type": "fork_failed", "id": rid, "error": "bad fork request"})
            return
        try:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(listen)
            listener.listen(4)
        except OSError as exc:
            self._send({"type": "fork_failed", "id": rid, "error": "cannot listen at %s: %s" % (listen, exc)})
            return
        _flush_output()
        try:
            pid = os.fork()
        except OSError as exc:
            listener.close()
            self._send({"type": "fork_failed", "id": rid, "error": "fork: %s" % exc})
            return
        if pid == 0:
            _run_child(lambda: _child(self, listener, listen, worker_id, ledger))
        listener.close()  # the worker's from here on
        self.children[pid] = worker_id
        self._send({"type": "forked", "id": rid, "pid": pid})

    def _fork_spare(self) -> None:
        """Fork a spare with its own listening socket, and tell the host where it listens."""
        self.spares += 1
        listen = os.path.join(self.opts["socket_dir"], "spare-%d-%d.sock" % (os.getpid(), self.spares))
        try:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                listener.bind(listen)
                listener.listen(4)
            except OSError:
                listener.close()
                raise
        except OSError:
            self.spares_lost += 1  # counted as lost: a template that cannot listen stops trying
            return
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError:
            listener.close()
            _unlink(listen)
            return
        _flush_output()
        try:
            pid = os.fork()
        except OSError:
            for s in (ours, theirs, listener):
                s.close()
            _unlink(listen)
            return
        if pid == 0:
            ours.close()
            _run_child(lambda: _spare(self, theirs, listener, listen))
        theirs.close()
        listener.close()  # the spare's from here on
        ours.setblocking(True)
        self.spare = (pid, ours)
        self._send({"type": "spare", "pid": pid, "listen": listen})

    def _spare_news(self) -> None:
        """The spare's socket pair spoke: the host claimed it (one byte), or it is dying (end of file)."""
        pid, link = self.spare
        try:
            news = link.recv(1)
        except OSError:
            news = b""
        link.close()
        self.spare = None
        if news:
            self.children[pid] = None  # a worker from now on: the host knows it by its pid
        else:
            self.lost.add(pid)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and pid == self.spare[0]:  # a spare that died unused: forked again
                self.spare[1].close()
                self.spare = None
                self.spares_lost += 1
            elif pid in self.lost:
                self.lost.discard(pid)
                self.spares_lost += 1
            else:
                self.children.pop(pid, None)
            # Every child's exit, a spare's too: the host forgets a spare it has not claimed, or learns how the
            # worker it claimed ended.
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            self._send({"type": "exit", "pid": pid, "code": code, "signal": sig})

    def _send(self, message: dict) -> None:
        try:
            self.control.sendall(json.dumps(message).encode() + b"\n")
        except OSError:
            pass  # the host is gone: the loop notices


def _say(text: str) -> None:
    """A line on stderr that never blocks and never raises (the host reading it may be gone, or not reading)."""
    try:
        os.set_blocking(2, False)
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):  # what the template wrote must not be written again by a child
        try:
            stream.flush()
        except Exception:
            pass


def _run_child(body) -> None:
    """In a forked child: run ``body`` and exit with its code, never returning into the template's loop."""
    code = 70
    try:
        code = body()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        _flush_output()
        os._exit(code if isinstance(code, int) else 1)


def _own_process(template: Template) -> None:
    """What a forked child does before it knows which worker it is: a process of its own, apart from the template."""
    os.setsid()  # its own session and group, as a spawned worker has: the host signals -pid
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    for fd in (template.wake_r, template.wake_w):
        os.close(fd)
    template.control.close()
    if template.spare is not None:
        template.spare[1].close()  # the spare's link is the template's, not this child's
    gc.enable()
    _reseed()
    _drop_event_loop()


def _spare(template: Template, link, listener, listen: str) -> int:
    """A spare: set up as a worker (its lifeline armed), then wait for the host to claim it, and serve as the
    worker it names; or leave when the template does (end of file on ``link``)."""
    _own_process(template)
    lifeline = Lifeline(-1, watch_parent_pid=False)
    lifeline.arm()  # its thread started now, not on the way to ``ready``; it leaves with the host from here on
    try:
        while True:
            ready = select.select([listener, link], [], [])[0]
            if link in ready and not link.recv(1):
                return 0  # the template is gone: nothing to become
            if listener in ready:
                break
        fds = _accept(listener, untagged=True)
    except (OSError, ValueError) as exc:
        return _no_host(exc)
    finally:
        listener.close()
        _unlink(listen)  # nobody else is to connect here
    claim = _read_claim(listen + ".claim")
    if claim is None:
        for fd in fds:
            os.close(fd)
        sys.stderr.write("snakepit_bridge: a spare worker was connected to without a valid claim\n")
        return 2
    try:
        link.sendall(b"t")  # a worker now: the template forks the next spare
    except OSError:
        pass
    link.close()
    worker_id, ledger = claim
    return _run(template.opts, worker_id, ledger, fds, lifeline)


def _child(template: Template, listener, listen: str, worker_id: str, ledger) -> int:
    """A forked worker: become a process of its own, take the host's connections, run as a spawned worker does."""
    _own_process(template)
    try:
        fds = _accept(listener, untagged=False)
    except OSError as exc:
        return _no_host(exc, worker_id)
    finally:
        listener.close()
        _unlink(listen)
    return _run(template.opts, worker_id, ledger, fds, None)


def _accept(listener, untagged: bool):
    """The host's three connections (channel, stdout, stderr): their fds in that order.

    Tagged (a fork request's worker): the first byte of each says which it is. Untagged (a claimed spare): they
    come in the order the host made them, which its one thread does at once, in that order (a listening socket
    queues connections first in, first out): the spare does not wait for the host's first write.
    """
    listener.settimeout(ACCEPT_TIMEOUT_S)
    fds = [None, None, None]
    for i in range(3):
        conn, _addr = listener.accept()
        if untagged:
            fds[i] = conn.detach()
            continue
        conn.settimeout(ACCEPT_TIMEOUT_S)
        slot = {b"c": 0, b"o": 1, b"e": 2}.get(conn.recv(1))
        fd = conn.detach()
        if slot is None or fds[slot] is not None:
            os.close(fd)
        else:
            fds[slot] = fd
    return fds


def _no_host(exc, worker_id=None) -> int:
    sys.stderr.write("snakepit_bridge: forked worker %s: the host did not connect: %s\n" % (worker_id or "?", exc))
    return 2


def _run(opts, worker_id: str, ledger, fds, lifeline) -> int:
    """Run as the worker ``worker_id`` on the host's connections (stdout and stderr go to theirs)."""
    channel_fd, out_fd, err_fd = fds
    for fd, target in ((out_fd, 1), (err_fd, 2)):
        if fd is not None:
            os.dup2(fd, target)
            os.close(fd)
    if channel_fd is None:
        return 2
    os.environ["SNAKEPIT_WORKER_ID"] = worker_id  # what its own subprocesses carry (containment's marker)
    if lifeline is not None:
        lifeline.attach(channel_fd)
    ledger_fd = None
    if isinstance(ledger, str):
        try:
            ledger_fd = os.open(ledger, os.O_RDWR)  # the host's open ledger file, through /proc
        except OSError:
            ledger_fd = None  # the worker runs without one, as when the host could not make it
    from .worker_cli import run_worker

    args = _worker_args(opts, worker_id, channel_fd, ledger_fd)
    return run_worker(args, forked=True, lifeline=lifeline)


def _read_claim(path: str):
    """The host's claim of a spare: the file ``{"worker": id, "ledger": path | null}`` it wrote (in the template's
    private socket directory) before connecting. ``(worker, ledger)``, or None when there is no valid one."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LINE)
    except OSError:
        return None
    finally:
        _unlink(path)
    try:
        claim = json.loads(data)
    except ValueError:
        return None
    if not isinstance(claim, dict) or not isinstance(claim.get("worker"), str) or not claim["worker"] \
            or not isinstance(claim.get("ledger"), (str, type(None))):
        return None
    return claim["worker"], claim["ledger"]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _worker_args(opts, worker_id, channel_fd, ledger_fd):
    import types

    return types.SimpleNamespace(adapter=opts["adapter"], channel_fd=channel_fd, worker_id=worker_id,
                                 pool=opts["pool"], run_id=opts["run_id"],
                                 codec=opts["codec"], ledger_fd=ledger_fd, forked=True)


def _reseed() -> None:
    # random reseeds itself after os.fork (CPython registers an at-fork hook); numpy's legacy global generator
    # keeps the template's state, so every worker would draw the same numbers.
    nprandom = sys.modules.get("numpy.random")
    if nprandom is not None:
        try:
            nprandom.seed()
        except Exception:
            pass


def _drop_event_loop() -> None:
    events = sys.modules.get("asyncio.events")
    if events is None:
        return
    try:
        policy = events.get_event_loop_policy()
        local = getattr(policy, "_local", None)
        loop = getattr(local, "_loop", None)
        if loop is not None:
            _KEPT.append(loop)  # not closed: its selector is the template's too; just never used here
            policy.set_event_loop(None)
    except Exception:
        pass


_KEPT = []


def _preload_names(text: str):
    names = [n for n in (text or "").split(",") if n]
    config = os.environ.get("SNAKEPIT_GENERIC_CONFIG")
    if config:
        try:
            from .generic.config import load_config

            names += [lib.module for lib in load_config().libraries if not lib.lazy]
        except Exception:
            pass  # the worker reports a bad configuration itself
    return names


# Native threads a library starts at import that survive a fork by design: jemalloc (bundled with pyarrow, which
# pandas imports when installed) runs a background purging thread and handles fork itself (its prefork/postfork
# hooks stop the thread and let the child start its own when needed).
FORK_SAFE_NATIVE_THREADS = frozenset({"jemalloc_bg_thd"})


def _native_threads() -> int:
    """Threads of this process besides the main one that are not known to be fork-safe (from /proc, so threads C
    code started count too)."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 0
    count = 0
    for tid in tids:
        if int(tid) == os.getpid():
            continue
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                name = f.read().strip()
        except OSError:
            name = ""  # it ended meanwhile, or cannot be read: count it
        if name not in FORK_SAFE_NATIVE_THREADS:
            count += 1
    return count


def _open_sockets(exclude) -> int:
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    count = 0
    for entry in fds:
        fd = int(entry)
        if fd in exclude:
            continue
        try:
            if os.readlink("/proc/self/fd/%d" % fd).startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def _ignore_signal(signum, frame) -> None:
    pass
