"""isolate: call a Python function on many inputs, on every core, in one process.

    import isolate
    results = isolate.map(score, docs)                 # a list, in input order
    with isolate.PoolExecutor(max_workers=4) as ex:    # a concurrent.futures.Executor
        future = ex.submit(score, doc)

Workers are isolates kept warm for the pool's life: sub-interpreters with
their own GIL (CPython >= 3.12), threads of a free-threaded CPython, or
forked processes; backend="auto" picks the best the build and the function
allow. A function crosses to a worker as a reference, its module and
qualified name; arguments and results cross as pickles (protocol 5). So
define functions with `def` at the top level of a module or of the script,
and keep a script's own work under `if __name__ == "__main__":`, because a
sub-interpreter imports the script to find its functions.

The C half (_Pool, _build_backends) is put in this module's namespace
before this code runs (src/api/module.cc). How many workers, which backend and
how many calls per batch are the pool's policy, in C++ (include/isolate/pool.h),
the same for `isolate map`.
"""
import atexit as _atexit
import builtins as _builtins
import concurrent.futures as _futures
import itertools as _itertools
import json as _json
import operator as _operator
import os as _os
import pickle as _pickle
import queue as _queue
import sys as _sys
import threading as _threading
import time as _time
import warnings as _warnings
import weakref as _weakref

__all__ = ["map", "PoolExecutor", "WorkerError", "backends"]

_PROTOCOL = 5
_ONE, _STAR, _FULL = 0, 1, 2  # how a batch holds its calls (_map_worker.ONE, STAR, FULL)


class WorkerError(Exception):
    """An item failed without a Python exception to re-raise: its worker
    process died, or the exception it raised could not cross back."""

    def __init__(self, type, message, traceback=""):
        super().__init__(f"{type}: {message}")
        self.type, self.message, self.traceback = type, message, traceback

    def __reduce__(self):
        return WorkerError, (self.type, self.message, self.traceback)


class _RemoteTraceback(Exception):
    """The worker's traceback, chained as the __cause__ of its exception."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return f'\n"""\n{self.text}"""'


def backends():
    """The pool backends this build supports, e.g. ['subinterp', 'process'];
    'threads' runs anywhere, in parallel only on a free-threaded CPython."""
    return _build_backends()


def _ref(fn):
    """(module, qualname, main_file): how a worker finds fn, or TypeError."""
    if not callable(fn):
        raise TypeError(f"isolate: {fn!r} is not callable")
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        what = ("a lambda" if "<lambda>" in str(qualname) else
                "a function defined inside another function" if "<locals>" in str(qualname) else
                "this callable")
        raise TypeError(f"isolate: cannot send {fn!r} to a worker: workers find a function by its module "
                        f"and name, and {what} has none; define it with def at the top level of a module "
                        "or of the script")
    obj = _sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not fn:
        raise TypeError(f"isolate: cannot send {fn!r} to a worker: {module}.{qualname} does not name it "
                        "(a bound method, a functools.partial or a replaced name?); pass a top-level "
                        "function and give the rest as arguments")
    main_file = None
    if module == "__main__":
        main = _sys.modules["__main__"]
        main_file = _os.path.abspath(main.__file__) if getattr(main, "__file__", None) else None
        # A sub-interpreter imports the script as __isolate_main__; what it
        # pickles from there must find the same classes here.
        _sys.modules.setdefault("__isolate_main__", main)
    return module, qualname, main_file


def _refuse_while_importing():
    worker = _sys.modules.get("_isolate_map_worker")
    if worker is not None and getattr(worker, "loading", False):
        raise RuntimeError("isolate: a worker is importing the main script to find a function, and the "
                           "script starts a pool at its top level; put that work under "
                           "`if __name__ == \"__main__\":`")


def _main_has_file(ref):
    """Whether a sub-interpreter can import the __main__ that the functions
    may come from: ref's, or for an executor (ref None) any of them."""
    if ref is None:
        return getattr(_sys.modules["__main__"], "__file__", None) is not None
    return ref[0] != "__main__" or ref[2] is not None


def _check_max_workers(max_workers):
    if max_workers is not None and (not isinstance(max_workers, int) or isinstance(max_workers, bool)
                                    or max_workers < 1):
        raise ValueError(f"isolate: max_workers must be a positive int, not {max_workers!r}")


def _check_chunksize(chunksize):
    if chunksize != "auto" and (not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1):
        raise ValueError(f"isolate: chunksize must be a positive int or 'auto', not {chunksize!r}")


def _gil_enabled():
    """Whether this interpreter runs with a GIL: a free-threaded CPython runs
    without one until an extension that needs it is imported."""
    is_enabled = getattr(_sys, "_is_gil_enabled", None)
    return True if is_enabled is None else is_enabled()


def _warn_gil_on(backend, stacklevel):
    _warnings.warn("isolate: the GIL is on (an imported extension module needs it), so threads would run one "
                   f"at a time; using backend {backend!r} instead", RuntimeWarning, stacklevel=stacklevel + 1)


def _open_pool(backend, max_workers, ref, stacklevel=4):
    """The pool for PoolExecutor: a _ThreadEngine for backend threads, else a
    _Pool whose workers load `ref` when they start (None: functions unknown
    yet). The backend, the worker count and the fallback from
    sub-interpreters to processes are the pool's policy (C++)."""
    if not isinstance(backend, str):
        raise TypeError(f"isolate: backend must be a str, not {type(backend).__name__}")
    if backend == "mpi":  # every rank's pool; this rank's as "auto" chooses
        _release_job_pool()
        return _start_pool("mpi", _choose("auto", max_workers or 0, _main_has_file(ref))[1], ref, stacklevel)
    chosen, workers, automatic = _choose(backend, max_workers or 0, _main_has_file(ref))
    if chosen != "threads":
        return _start_pool(backend, workers, ref, stacklevel)
    if not (automatic and _gil_enabled()):
        return _ThreadEngine(workers, watch_gil=automatic)
    return _pool_without_gil_threads(workers, ref, stacklevel + 1)


def _preload(ref):
    """What every worker of a new pool loads (_map_worker.load)."""
    return _pickle.dumps({"path": _sys.path, "ref": ref}, _PROTOCOL).hex()


def _start_pool(backend, workers, ref, stacklevel, fall_back=-1):
    pool = _Pool(backend, workers, _preload(ref), _main_has_file(ref), ref is not None, fall_back)
    if pool.refused_module is not None:
        _warn_refused(pool.refused_module, stacklevel + 1)
    return pool


def _warn_refused(module, stacklevel):
    _warnings.warn(f"isolate: module {module} cannot be loaded in a sub-interpreter; using backend 'process' "
                   "instead", RuntimeWarning, stacklevel=stacklevel + 1)


def _pool_without_gil_threads(workers, ref, stacklevel):
    """What an automatic pool moves to when the GIL is on: sub-interpreters,
    or processes when a loaded module refuses them."""
    backend = "subinterp" if "subinterp" in _build_backends() and _main_has_file(ref) else "process"
    _warn_gil_on(backend, stacklevel + 1)
    return _start_pool(backend, workers, ref, stacklevel + 1, fall_back=True)


class _ThreadEngine:
    """Backend threads: worker threads of this interpreter, in parallel on a
    free-threaded CPython. Functions, arguments, results and exceptions cross
    by reference: nothing is pickled. The same calls as a _Pool, except that
    a batch is (fn, form, calls) and its answer (values, failed) itself.
    With watch_gil (an automatic choice), a worker that finds the GIL turned
    on sets gil_turned_on, and the executor moves its next batches elsewhere."""

    backend = "threads"
    refused_module = None
    _CHUNK_SECONDS = 0.002  # no crossing to amortise: batches only share out the work
    _MAX_CHUNK = 4096
    _QUEUED_PER_WORKER = 4

    def __init__(self, workers, watch_gil):
        self.workers = workers
        self.gil_turned_on = False
        self.watch_gil = watch_gil
        self._call_all = _worker_module()._call_all
        self._shared = set()  # functions whose constants _share_constants made immortal
        self._inbox = _queue.SimpleQueue()
        self._outbox = _queue.SimpleQueue()
        self._room = _threading.Semaphore(workers * self._QUEUED_PER_WORKER)
        self._lock = _threading.Lock()
        self._in_flight = 0
        self._claimed, self._withdrawn = set(), set()  # batch indices: see withdraw()
        self._finishing = self._ended = False
        self._items, self._seconds = 0, 0.0
        self._threads = [_threading.Thread(target=self._work, name=f"isolate-thread-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, batches):
        for index, (fn, form, calls) in batches:
            if fn not in self._shared:
                _share_constants(fn)  # on python3.13t: src/pool/calls.cc says why
                self._shared.add(fn)
            self._room.acquire()  # back-pressure, as _Pool.submit: a bounded number of batches in flight
            with self._lock:
                self._in_flight += 1
            self._inbox.put((index, fn, form, calls))

    def withdraw(self, index):
        """As _Pool.withdraw: True if no thread had started that batch."""
        with self._lock:
            if index in self._claimed:
                return False
            self._withdrawn.add(index)
            return True

    def _work(self):
        call_all, clock = self._call_all, _time.perf_counter
        while (job := self._inbox.get()) is not None:
            index, fn, form, calls = job
            with self._lock:
                skip = index in self._withdrawn
                self._withdrawn.discard(index)
                if not skip:
                    self._claimed.add(index)
            if skip:
                self._outbox.put((index, None, None))
                continue
            values, failures = [], []
            start = clock()
            call_all(fn, form, calls, values, failures)
            elapsed = clock() - start
            with self._lock:
                self._items += len(calls)
                self._seconds += elapsed
            if self.watch_gil and not self.gil_turned_on and _gil_enabled():
                self.gil_turned_on = True
            self._outbox.put((index, values, failures))

    def next(self, timeout=None):
        """As _Pool.next: [] when `timeout` seconds pass first."""
        if self._ended:
            return None
        try:
            answer = self._outbox.get(timeout=timeout) if timeout != 0 else self._outbox.get_nowait()
        except _queue.Empty:
            return []
        if answer is None:
            self._ended = True
            return None
        self._room.release()
        index, values, failures = answer
        with self._lock:
            self._in_flight -= 1
            if self._finishing and self._in_flight == 0:
                self._outbox.put(None)
            self._claimed.discard(index)
        if values is None:  # withdrawn
            return []
        return [(index, True, (values, dict(failures)))]

    def finish(self):
        with self._lock:
            self._finishing = True
            if self._in_flight == 0:
                self._outbox.put(None)

    def cancel(self):
        try:
            while True:
                self._inbox.get_nowait()
                self._room.release()
        except _queue.Empty:
            pass
        self._outbox.put(None)

    def close(self):
        for _ in self._threads:
            self._inbox.put(None)
        for thread in self._threads:
            if thread is not _threading.current_thread():
                thread.join()

    def chunk_size(self):
        with self._lock:
            items, seconds = self._items, self._seconds
        if items == 0:
            return 1  # the first batches measure
        return max(1, min(self._MAX_CHUNK, int(self._CHUNK_SECONDS * items / seconds) if seconds > 0
                          else self._MAX_CHUNK))


def _exception_of(exc, detail):
    """The exception a worker's (exception, traceback) pair stands for."""
    if exc is None:  # it did not pickle: a record instead
        return WorkerError(detail["type"], detail["message"], detail["traceback"])
    if detail:
        exc.__cause__ = _RemoteTraceback(detail)
    return exc


def _cannot_unpickle(what, e):
    return WorkerError(type(e).__name__, f"the item's {what} cannot be unpickled here: {e}")


def _outcomes(ok, payload, count):
    """(values, failed) for the `count` calls of one batch
    (_map_worker._run_calls gives the format): see _iter_outcomes."""
    if not ok:
        if payload[:1] == b"{":  # a failure the pool reports itself (a worker that died)
            record = _json.loads(payload)
            exc = WorkerError(record["type"], record["message"], record.get("traceback", ""))
        else:
            try:
                exc = _exception_of(*_pickle.loads(payload))
            except Exception as e:
                exc = _cannot_unpickle("exception", e)
        return [], dict.fromkeys(range(count), exc)
    count, failed_at, values_blob, errors = _pickle.loads(payload)
    failed = {}
    for at, blob in zip(failed_at, errors):
        try:
            failed[at] = _exception_of(*_pickle.loads(blob))
        except Exception as e:
            failed[at] = _cannot_unpickle("exception", e)
    try:
        return _pickle.loads(values_blob), failed
    except Exception as e:  # every value of the batch is lost with it
        lost = _cannot_unpickle("result", e)
        return [], {at: failed.get(at, lost) for at in range(count)}


# A batch's answer is (values, failed): the return values of the calls that
# succeeded, in order, and {position: exception} for those that raised. No
# object per call: on a free-threaded CPython every container allocated
# brings its (non-generational) collector closer, and a tuple per item made
# the collector, not the work, the cost of short items.
def _iter_outcomes(outcomes):
    """The batch's values in order; raises the first failure when reached."""
    values, failed = outcomes
    if not failed:
        return values
    return _values_until_failure(values, failed)


def _values_until_failure(values, failed):
    count, values = len(values) + len(failed), iter(values)
    for at in range(count):
        exc = failed.get(at)
        if exc is not None:
            raise exc
        yield next(values)


def _pack(pool, fn, ref, form, calls, backend):
    """A batch as `pool` takes it: for threads, the objects themselves; else
    a pickle whose arguments are a pickle of their own, unpickled by the
    worker once the function (and so the script's classes) is loaded. A
    forked worker checks that it has this very function (fid)."""
    if isinstance(pool, _ThreadEngine):
        return fn, form, calls
    fid = id(fn) if backend == "process" else None
    return _pickle.dumps((ref, fid, _pickle.dumps((form, calls), _PROTOCOL)), _PROTOCOL)


_STALE = b'{"type": "StaleFunction"'  # how _map_worker.STALE starts


def _done_batch(outcomes):
    future = _futures.Future()
    future.set_running_or_notify_cancel()
    future.set_result(outcomes)
    return future


_live = _weakref.WeakSet()

# Registered first, so it runs last: once every pool is closed, the other
# ranks of an MPI job (isolate run under mpirun) are told to end.
_atexit.register(_cluster_close)


@_atexit.register
def _shutdown_at_exit():
    for executor in list(_live):
        executor.shutdown(wait=True)


class PoolExecutor(_futures.Executor):
    """A concurrent.futures.Executor whose workers are isolates.

    max_workers: default ISO_THREADS, else the CPUs this process may use.
    backend: "auto" (or what ISO_BACKEND says), "subinterp", "threads",
    "process", or "mpi" (every rank of the MPI job this is rank 0 of:
    `mpirun -np N isolate run script.py`; max_workers is then this rank's);
    ISO_FORCE_PROCESS=1 makes "auto" pick "process". Under
    "auto", an executor whose process has already loaded a module that
    sub-interpreters refuse starts on processes instead, with a
    RuntimeWarning naming the module: its functions may need that module.

    A future can be cancelled until its result arrives (a worker may still
    compute it). Process workers are forked when the executor starts: they
    see the functions that existed then.
    """

    def __init__(self, max_workers=None, backend="auto"):
        _refuse_while_importing()
        _check_max_workers(max_workers)
        self._pool = _open_pool(backend, max_workers, None)  # its functions come later
        self.backend = self._pool.backend
        self.max_workers = self._pool.workers
        self._submit_lock = _threading.Lock()
        self._pending = {}  # batch index -> (Future, calls, single), until its results arrive
        self._next_index = 0
        self._shutdown = False
        self._pools = []  # (pool, its collector thread): more than one after a move off threads
        self._start_collector(self._pool)
        _live.add(self)

    def _start_collector(self, pool):
        collector = _threading.Thread(target=self._collect, args=(pool,), name="isolate-collector", daemon=True)
        self._pools.append((pool, collector))
        collector.start()

    def _pool_for_next_batch(self):
        """The pool the next batch goes to: after threads found the GIL turned
        on, a new one (sub-interpreters or processes); batches already given
        to the threads finish there."""
        pool = self._pool
        if isinstance(pool, _ThreadEngine) and pool.watch_gil and (pool.gil_turned_on or _gil_enabled()):
            with self._submit_lock:
                if self._pool is pool and not self._shutdown:
                    self._pool = _pool_without_gil_threads(pool.workers, None, stacklevel=5)
                    self.backend = self._pool.backend
                    self._start_collector(self._pool)
                pool = self._pool
        return pool

    @property
    def workers(self):
        """Deprecated: max_workers."""
        _warnings.warn("isolate: PoolExecutor.workers is deprecated; use max_workers", DeprecationWarning,
                       stacklevel=2)
        return self.max_workers

    def submit(self, fn, /, *args, **kwargs):
        future = _futures.Future()
        ref = _ref(fn)
        pool = self._pool_for_next_batch()
        try:
            payload = _pack(pool, fn, ref, _FULL, [(args, kwargs)], self.backend)
        except Exception as e:  # an argument that does not pickle fails this call only
            future.set_exception(e)
            return future
        self._send(pool, future, payload, 1, single=True)
        return future

    def map(self, fn, *iterables, timeout=None, chunksize="auto"):
        """As Executor.map; chunksize is how many calls go to a worker at
        once: "auto" (the default) aims at ~5 ms of work per batch."""
        end = None if timeout is None else timeout + _time.monotonic()
        _check_chunksize(chunksize)
        # One iterable: its items are the arguments, without a tuple each.
        form, calls = (_ONE, iterables[0]) if len(iterables) == 1 else (_STAR, zip(*iterables))
        batches = self._submit_batches(fn, _ref(fn), form, calls, chunksize, end=end)

        def results():
            try:
                batches.reverse()
                while batches:
                    batch = batches.pop()
                    try:
                        outcomes = batch.result(None if end is None else end - _time.monotonic())
                    finally:
                        batch.cancel()
                        del batch
                    yield from _iter_outcomes(outcomes)
            finally:
                for batch in batches:
                    batch.cancel()
        return results()

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._submit_lock:
            first = not self._shutdown
            self._shutdown = True
        if cancel_futures:
            for future, _, _ in list(self._pending.values()):
                future.cancel()
            for pool, _ in self._pools:
                pool.cancel()
        elif first:
            for pool, _ in self._pools:
                pool.finish()
        if wait:
            for _, collector in self._pools:
                if collector is not _threading.current_thread():
                    collector.join()

    def _submit_batches(self, fn, ref, form, calls, chunksize, end=None):
        """Futures of (values, failed) (see _iter_outcomes), one per batch of
        calls. Past `end` (a time.monotonic() deadline), TimeoutError. The
        caller has checked chunksize."""
        batches, chunk = [], []
        size = self._chunk_size(chunksize)
        for call in calls:
            chunk.append(call)
            if len(chunk) >= size:
                batches.extend(self._submit_batch(fn, ref, form, chunk))
                chunk = []
                size = self._chunk_size(chunksize)
                if end is not None and _time.monotonic() > end:
                    for batch in batches:
                        batch.cancel()
                    raise TimeoutError()
        if chunk:
            batches.extend(self._submit_batch(fn, ref, form, chunk))
        return batches

    def _submit_batch(self, fn, ref, form, calls):
        pool = self._pool_for_next_batch()
        try:
            payload = _pack(pool, fn, ref, form, calls, self.backend)
        except Exception:
            if len(calls) == 1:
                raise
            # Some argument does not pickle: each call on its own, so that
            # only that one fails.
            return [batch for call in calls for batch in self._submit_one_of(fn, ref, form, call)]
        future = _futures.Future()
        self._send(pool, future, payload, len(calls), single=False)
        return [future]

    def _submit_one_of(self, fn, ref, form, call):
        try:
            return self._submit_batch(fn, ref, form, [call])
        except Exception as e:
            return [_done_batch(([], {0: e}))]

    def _chunk_size(self, chunksize):
        return chunksize if chunksize != "auto" else self._pool.chunk_size()

    def _send(self, pool, future, payload, count, single):
        with self._submit_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            index = self._next_index
            self._next_index += 1
            self._pending[index] = (future, count, single)
            pool.submit([(index, payload)])  # waits, without the GIL, while every worker is busy

    def _collect(self, pool):
        by_reference = isinstance(pool, _ThreadEngine)
        try:
            while (results := pool.next()) is not None:
                for index, ok, payload in results:
                    future, count, single = self._pending.pop(index)
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        outcomes = payload if by_reference else _outcomes(ok, payload, count)
                    except BaseException as e:
                        future.set_exception(e)
                        continue
                    if not single:
                        future.set_result(outcomes)
                    elif outcomes[1]:
                        future.set_exception(outcomes[1][0])
                    else:
                        future.set_result(outcomes[0][0])
        finally:
            if pool is self._pool:  # the pool batches still go to
                for future, _, _ in list(self._pending.values()):
                    future.cancel()
                    future.set_running_or_notify_cancel()
                self._pending.clear()
            pool.close()


# ------------------------------------------------------------ isolate.map
# isolate.map runs on the caller's thread: it runs calls itself, a chunk at
# a time, and between chunks it keeps the workers of a warm pool fed and
# takes their answers, with no thread of its own (a collector thread would
# wait for the caller's GIL). What it does is measured as it goes, as
# iso::parallel_for measures its loops: the caller's time per call, and what
# handing a call to a worker costs the caller (pickling it, unpickling its
# answer). Workers get calls only while that costs the caller less than
# running them, so short work stays inline, and a batch's size aims at a few
# milliseconds of work, smaller towards the end, so that all finish together.

_INLINE_SECONDS = 0.001  # the caller's own chunks: how often it looks after the workers
_BATCH_SECONDS = 0.004   # a worker's batch: enough work to hide its crossing
_MAX_BATCH = 16384
_PAYS = 0.4              # a worker gets calls while crossing costs the caller < this share of running them
_PROBE = 256             # the sample that estimates the crossing, and the first batch: at most this many calls
_IN_FLIGHT = 2           # batches out per worker: one it runs, one waiting for it
_WORTH_A_POOL = 0.002    # seconds of the caller's own work before a cold pool is started


class _WarmPool:
    """A pool that isolate.map calls share, one per (backend, workers): it
    starts in the background when a map first needs it (the caller works
    meanwhile), serves one map at a time, and closes at exit."""

    def __init__(self, backend, workers, automatic, main_has_file, shared=True):
        self.backend, self.workers, self.automatic = backend, workers, automatic
        self.shared = shared  # in _warm, for later maps
        self.lock = _threading.Lock()  # held by the map that uses it
        self.path = list(_sys.path)   # a worker's sys.path is the one the pool started with
        self.modules_seen = len(_sys.modules)
        self.pool = self.error = None
        self.stale = False  # a process pool forked before some function: replaced after this map
        self.warned = False
        self._index = 0
        self._main_has_file = main_has_file
        self._starter = None
        self._closing = _threading.Lock()

    def start(self):
        """Starts the pool in the background (threads at once: they start in microseconds)."""
        if self._starter is not None or self.pool is not None:
            return
        if self.backend == "threads":
            self.pool = _ThreadEngine(self.workers, watch_gil=self.automatic)
            return
        self._starter = _threading.Thread(target=self._start, name="isolate-pool-start", daemon=True)
        self._starter.start()

    def _start(self):
        try:  # _Pool releases the GIL while its workers start
            self.pool = _Pool(self.backend, self.workers, _preload(None), self._main_has_file, False,
                              self.automatic)
        except BaseException as e:
            self.error = e

    def ready(self):
        """The pool once it has started, else None; raises what stopped its start."""
        if self.error is not None:
            raise self.error
        return self.pool

    def wait(self):
        self.start()
        if self._starter is not None:
            self._starter.join()
        return self.ready()

    def next_index(self):
        self._index += 1
        return self._index

    def close(self):
        """Ends the pool; any thread may call it, more than once."""
        if self._starter is not None and self._starter is not _threading.current_thread():
            self._starter.join()
        with self._closing:
            pool, self.pool = self.pool, None
            if pool is not None:
                if isinstance(pool, _ThreadEngine):
                    pool.cancel()
                pool.close()


_warm = {}  # (backend, workers, automatic, main_has_file) -> _WarmPool
_warm_lock = _threading.Lock()
_MAX_WARM = 4  # pools kept for different settings; the least recently used closes
_closing = set()  # pools taken out of _warm and not yet closed, under _warm_lock
_forked_away = []  # pools inherited by a forked child: their threads are not there, never touch them


def _close(slots):
    """Closes pools already taken out of _warm (under _warm_lock, with
    _closing.update(slots)); a fork meanwhile waits for them too."""
    for slot in slots:
        slot.close()
    with _warm_lock:
        _closing.difference_update(slots)


def _close_subinterpreters_before_fork():
    """A child forked while sub-interpreters live dies in CPython's
    PyOS_AfterFork_Child (3.12, 3.13): idle warm pools of them close first,
    and the next map starts another. Pools other threads are closing are
    waited for. (A map running in another thread, or a PoolExecutor, keeps
    its own.)"""
    with _warm_lock:
        for key, slot in list(_warm.items()):
            if slot.backend == "subinterp" and slot.lock.acquire(blocking=False):
                _closing.add(_warm.pop(key))
        closing = [slot for slot in _closing if slot.backend == "subinterp"]
    _close(closing)


def _forget_warm_pools_in_child():
    _forked_away.extend(_warm.values())
    _forked_away.extend(_closing)
    _warm.clear()
    _closing.clear()


_os.register_at_fork(before=_close_subinterpreters_before_fork, after_in_child=_forget_warm_pools_in_child)


def shutdown():
    """Closes the warm pools isolate.map keeps (they close at exit anyway):
    their workers end, and with them whatever they inherited (a process
    worker holds the file descriptors its caller had). The next map starts
    new ones."""
    _close_warm_pools()


@_atexit.register
def _close_warm_pools():
    with _warm_lock:
        _closing.update(_warm.values())
        _warm.clear()
        slots = list(_closing)
    _close(slots)


def _serve_for_rank():
    """On a rank other than 0 of an MPI job: this interpreter's workers find
    rank 0's __main__ functions by importing its script, as a
    sub-interpreter's do (its `if __name__ == "__main__":` block does not
    run), when one is first needed."""
    _worker_module().serving_rank = True


def _release_job_pool():
    """An executor takes the MPI job's pool: isolate.map's idle one closes
    (the job serves one pool at a time; maps use this rank alone meanwhile)."""
    with _warm_lock:
        slot = _warm.get(_JOB_KEY)
        if slot is not None and not slot.lock.acquire(blocking=False):
            raise RuntimeError("isolate: the MPI job's pool is in use by another map")
        if slot is not None:
            del _warm[_JOB_KEY]
            slot.lock.release()
            _closing.add(slot)
    if slot is not None:
        _close([slot])


_JOB_KEY = ("mpi", 0, False, True)


def _take_job_pool(workers, required):
    """The MPI job's pool (every rank's), locked for the caller; None while
    another map or executor has it (the map then uses this rank alone)
    unless backend="mpi" asked for it."""
    if not _cluster_ranks():
        raise RuntimeError("isolate: backend 'mpi' runs under an MPI launcher: mpirun -np N isolate run script.py")
    with _warm_lock:
        if not required and any(ex.backend == "mpi" and not ex._shutdown for ex in _live):
            return None  # an executor has the job's pool
        slot = _warm.get(_JOB_KEY)
        if slot is None or slot.error is not None:
            slot = _warm[_JOB_KEY] = _WarmPool("mpi", workers, False, True)
        if slot.lock.acquire(blocking=False):
            return slot
    if required:
        raise RuntimeError("isolate: the MPI job's pool is in use by another map or executor")
    return None


def _take_warm_pool(backend, workers, automatic, main_has_file, stacklevel):
    """The warm pool for these settings, locked for the caller; one of the
    map's own (closed after it) while another thread's map holds it."""
    if backend == "threads" and automatic and _gil_enabled():
        backend = "subinterp" if "subinterp" in _build_backends() and main_has_file else "process"
        _warn_gil_on(backend, stacklevel + 1)
    key = (backend, workers, automatic, main_has_file)
    retired = []
    with _warm_lock:
        slot = _warm.get(key)
        if slot is not None and not slot.lock.acquire(blocking=False):
            slot = _WarmPool(backend, workers, automatic, main_has_file, shared=False)
            slot.lock.acquire()
            return slot
        if slot is not None and not _still_fits(slot, stacklevel + 1):
            retired.append(_warm.pop(key))
            slot = None
        if slot is None:
            slot = _WarmPool(backend, workers, automatic, main_has_file)
            slot.lock.acquire()
        _warm.pop(key, None)
        _warm[key] = slot  # the most recently used last
        for other in list(_warm):
            if len(_warm) <= _MAX_WARM:
                break
            if not _warm[other].lock.locked():
                retired.append(_warm.pop(other))
        _closing.update(retired)
    _close(retired)
    return slot


def _still_fits(slot, stacklevel):
    """Whether a warm pool can serve the next map: not stale or failed, on
    the caller's sys.path, and, for sub-interpreters chosen by "auto", no
    module loaded since that they would refuse."""
    if slot.stale or slot.error is not None:
        return False
    if isinstance(slot.pool, _ThreadEngine):
        return not slot.pool.gil_turned_on
    if slot.path != _sys.path:
        return False
    if slot.backend == "subinterp" and slot.automatic and len(_sys.modules) != slot.modules_seen:
        slot.modules_seen = len(_sys.modules)
        refused = _refusing_module()
        if refused is not None:
            _warn_refused(refused, stacklevel + 1)
            return False
    return True


def _release_warm_pool(slot, clean):
    """Gives the pool back after a map; one left with batches out (the map
    was interrupted), found stale or not shared is closed instead."""
    if clean and not slot.stale and slot.shared:
        slot.lock.release()
        return
    with _warm_lock:
        for key, value in list(_warm.items()):
            if value is slot:
                del _warm[key]
        _closing.add(slot)
    slot.lock.release()
    _close([slot])


# A function's time per call as its last map measured it: the next map of it
# sizes its chunks from the start, and sends its first batch at once.
_learned = _weakref.WeakKeyDictionary()


class _Mapping:
    """One isolate.map call on the caller's side (see the comment above).
    With a chunksize, every call goes to a worker instead, in batches of
    that size, as in concurrent.futures."""

    def __init__(self, fn, ref, form, calls, left, slot, chunksize, end):
        self.fn, self.ref, self.form, self.slot, self.end = fn, ref, form, slot, end
        # A list or tuple is read by slices (a C copy), which the inline loop
        # then walks as fast as a plain loop over a list; anything else
        # through its iterator.
        self.seq = calls if type(calls) in (list, tuple) else None
        self.items = None if self.seq is not None else iter(calls)
        self.pos = 0
        self.left = left  # calls not read yet, or -1: unknown
        self.chunksize = None if chunksize == "auto" else chunksize
        self.parts = []    # in input order: the values of a chunk, or None while its batch is out
        self.out = {}      # batch index -> (its part, its calls)
        self.failure = None  # (part, position in it, exception) of the first failure seen
        self.read_all = False
        self.inline_items, self.inline_seconds = 0, 0.0
        self.sent_items, self.crossing_seconds = 0, 0.0
        self.answered = False  # a batch's answer came back: the crossing is measured both ways
        self.pool = None
        self.use_workers = slot is not None
        self.inline_size = 1
        self.open_part = None  # the last part while inline calls may still extend it
        self.estimated = False  # _crossing_may_pay ran
        self.learned = _learned.get(fn, 0.0)  # seconds per call in fn's last map
        if self.learned > 0:
            self.inline_size = max(1, min(_MAX_BATCH, int(_INLINE_SECONDS / self.learned)))

    # -- the caller's loop
    def run(self, stacklevel):
        if self.chunksize is not None:
            self.pool = self.slot.wait()
            self._warn_once(stacklevel + 1)
        clean = False
        try:
            while not self.read_all and self.failure is None:
                self._check_time()
                # (the sample that decides whether to start a pool may have failed)
                if self._look_after_workers(stacklevel + 1) or self.read_all or self.failure is not None:
                    continue
                if self.chunksize is None:
                    self._run_inline()
                elif self.out:
                    self._collect(None)  # every worker is busy: wait for one
            self._take_back_unstarted()
            while self.out:
                self._check_time()
                self._collect(None if self.end is None else max(0.0, self.end - _time.monotonic()))
            clean = True
            self._learn()
        finally:
            if self.slot is not None:
                _release_warm_pool(self.slot, clean and not self.out)
        return self._values()

    def _look_after_workers(self, stacklevel):
        """Takes the workers' answers and sends a batch where one has room;
        True if it sent one."""
        if not self.use_workers:
            return False
        if self.pool is None:
            if self.inline_seconds < _WORTH_A_POOL and (self.left < 0 or self.left * self._per_call() < _WORTH_A_POOL):
                return False
            if self.slot.backend != "threads" and not self._crossing_may_pay():
                self.use_workers = False  # no pool is started, or used, for work that would not cross
                return False
            self.slot.start()
            self.pool = self.slot.ready()
            if self.pool is None:
                return False
            self._warn_once(stacklevel + 1)
        if self.out:
            self._collect(0)
        if len(self.out) >= _IN_FLIGHT * self.pool.workers or not self._sending_pays():
            return False
        return self._send(self._batch_size())

    def _crossing_may_pay(self):
        """Before the first batch, and before starting a pool (which takes
        CPU from the caller while it starts): whether pickling a sample of
        calls and unpickling their values costs less than _PAYS of running
        them. The sample runs here."""
        if self.estimated:
            return True
        self.estimated = True
        calls = self._take(max(1, min(_PROBE, int(_INLINE_SECONDS / max(self._per_call(), 1e-9)))))
        values = []
        start = _time.perf_counter()
        failed = self._call_into(values, calls, len(self.parts))
        self.inline_seconds += _time.perf_counter() - start
        self.inline_items += len(calls)
        self.parts.append(values)
        self.open_part = values  # later inline chunks extend it
        if not calls or failed:
            return False
        try:
            blob = _pickle.dumps(values, _PROTOCOL)
            start = _time.thread_time()
            _pickle.dumps((self.form, calls), _PROTOCOL)
            _pickle.loads(blob)
            crossing = (_time.thread_time() - start) / len(calls)
        except Exception:  # what does not pickle cannot cross
            return False
        return crossing < _PAYS * self._per_call()

    def _take_back_unstarted(self):
        """With nothing left to read, the batches no worker has started run
        here rather than wait behind the ones running (adaptive mode)."""
        if self.chunksize is not None or self.failure is not None or not self.out:
            return
        for index in sorted(self.out, reverse=True):  # the last sent wait longest
            if self.pool.withdraw(index):
                part, calls = self.out.pop(index)
                self.parts[part] = self._run_here(part, calls)

    def _warn_once(self, stacklevel):
        if not self.slot.warned and getattr(self.pool, "refused_module", None) is not None:
            self.slot.warned = True
            _warn_refused(self.pool.refused_module, stacklevel + 1)

    def _per_call(self):
        if self.inline_items:
            return self.inline_seconds / self.inline_items
        return self.learned

    def _crossing_per_call(self):
        """What handing a call to a worker costs the caller (CPU time, so
        that a preempted caller does not mistake the wait for the cost);
        None before this map sent a batch: each map measures it anew, since
        one bad reading must not keep a function off its workers for good."""
        return self.crossing_seconds / self.sent_items if self.sent_items else None

    def _sending_pays(self):
        if self.chunksize is not None:
            return True
        per_call = self._per_call()
        if self.left >= 0 and self.left * per_call < _BATCH_SECONDS:
            return False  # what is left is done sooner here than a batch goes and comes back
        crossing = self._crossing_per_call()
        if crossing is None:
            return True  # the first batch measures it
        if not self.answered:  # only the sending half is measured yet: more only if it is far below
            return crossing < _PAYS / 4 * per_call
        return crossing < _PAYS * per_call

    def _learn(self):
        """The time per call, for the next map of the same function."""
        if self.inline_items:
            _learned[self.fn] = self._per_call()

    def _batch_size(self):
        if self.chunksize is not None:
            return self.chunksize
        per_call = self._per_call()
        size = _MAX_BATCH if per_call <= 0 else max(1, min(_MAX_BATCH, int(_BATCH_SECONDS / per_call)))
        if self.left >= 0:  # smaller towards the end, so that every worker and the caller end together
            size = min(size, max(1, self.left // (2 * (self.pool.workers + 1))))
        return size if self.sent_items else min(size, _PROBE)

    def _take(self, size):
        if self.seq is not None:
            calls = self.seq[self.pos:self.pos + size]
            self.pos += len(calls)
        else:
            calls = list(_itertools.islice(self.items, size))
        if len(calls) < size:
            self.read_all = True
        if self.left >= 0:
            self.left = max(0, self.left - len(calls))
        return calls

    # -- inline
    def _run_inline(self):
        """Runs the next inline_size calls here, straight from the input
        into the values of the last part while no batch went out after it."""
        if self.open_part is not None and self.parts[-1] is self.open_part:
            values = self.open_part
        else:
            values = self.open_part = []
            self.parts.append(values)
        size = self.inline_size
        start = _time.perf_counter()
        calls = self._take(size)
        self._call_into(values, calls, len(self.parts) - 1)
        elapsed = _time.perf_counter() - start
        ran = len(calls)
        self.inline_items += ran
        self.inline_seconds += elapsed
        if ran == size and elapsed < _INLINE_SECONDS / 2:
            self.inline_size = min(size * 2, _MAX_BATCH)
        elif elapsed > 2 * _INLINE_SECONDS and size > 1:
            self.inline_size = size // 2

    def _call_into(self, values, calls, part):
        """values += [fn(call) for call in calls]: a comprehension, whose
        Python-to-Python calls make a loop of a tiny function 15% fewer
        instructions than map()'s calls from C (cachegrind, 3.13). A failure is recorded at
        its position in `part` (whose list `values` is) and ends the loop:
        the values before it in this chunk are dropped, as the map raises.
        True if one did."""
        fn, it = self.fn, iter(calls)
        try:
            if self.form == _ONE:
                values += [fn(x) for x in it]
            else:
                values += [fn(*x) for x in it]
        except Exception as e:  # the failing call was the last one taken from `it`
            self._failed(part, len(values) + len(calls) - it.__length_hint__() - 1, e)
            return True
        return False

    # -- batches
    def _send(self, size):
        calls = self._take(size)
        if not calls:
            return False
        start = _time.thread_time()
        try:
            payload = _pack(self.pool, self.fn, self.ref, self.form, calls, self.pool.backend)
        except Exception:  # an argument that does not pickle: these calls run here
            self.parts.append(self._run_here(len(self.parts), calls))
            return True
        index = self.slot.next_index()
        self.out[index] = (len(self.parts), calls)
        self.parts.append(None)
        self.pool.submit([(index, payload)])
        self.sent_items += len(calls)
        self.crossing_seconds += _time.thread_time() - start
        return True

    def _collect(self, timeout):
        answers = self.pool.next(timeout)
        if not answers:
            return
        by_reference = isinstance(self.pool, _ThreadEngine)
        for index, ok, payload in answers:
            part, calls = self.out.pop(index)
            start = _time.thread_time()
            if not by_reference and not ok and payload.startswith(_STALE):
                # Forked before fn was (re)defined: these calls and the rest
                # run here, and the next map forks a new pool.
                self.slot.stale = True
                self.use_workers, self.chunksize = False, None
                self.parts[part] = self._run_here(part, calls)
                continue
            values, failed = payload if by_reference else _outcomes(ok, payload, len(calls))
            self.answered = True
            if failed:
                at = min(failed)
                self._failed(part, at, failed[at])
            self.parts[part] = values
            self.crossing_seconds += _time.thread_time() - start

    def _run_here(self, part, calls):
        values, failures = [], []
        _worker_module()._call_all(self.fn, self.form, calls, values, failures)
        if failures:
            self._failed(part, *failures[0])
        return values

    def _failed(self, part, at, exc):
        if self.failure is None or (part, at) < self.failure[:2]:
            self.failure = (part, at, exc)

    def _check_time(self):
        if self.end is not None and _time.monotonic() > self.end:
            raise TimeoutError()

    def _values(self):
        if self.failure is not None:
            raise self.failure[2]
        if len(self.parts) == 1:
            return self.parts[0]
        values = []
        for part in self.parts:
            values.extend(part)
        return values


def _memoized(run, form, calls, memo):
    """run(unique calls) for the distinct calls among `calls`, spread back:
    a repeated call takes the value of its first. Calls are told apart as by
    functools.lru_cache(typed=True); with memo an int, only the last `memo`
    distinct calls are remembered. Unhashable arguments are not memoised."""
    capacity = None if memo is True else memo
    seen = {}  # key -> position in unique, least recently used first
    unique, where = [], []
    for call in calls:
        key = (type(call), call) if form == _ONE else (tuple(_builtins.map(type, call)), call)
        try:
            at = seen.pop(key, None)
        except TypeError:  # unhashable
            key = at = None
        if at is None:
            at = len(unique)
            unique.append(call)
        if key is not None:
            seen[key] = at
            if capacity is not None and len(seen) > capacity:
                del seen[next(iter(seen))]
        where.append(at)
    values = run(unique)
    return [values[at] for at in where]


def _length(iterables):
    """How many calls zip(*iterables) makes, or -1 when one cannot say."""
    sizes = [_operator.length_hint(it, -1) for it in iterables]
    return -1 if min(sizes) < 0 else min(sizes)


_UNSET = object()


def map(func, *iterables, max_workers=None, backend="auto", chunksize="auto", timeout=None, memo=None,
        workers=_UNSET):
    """[func(*args) for args in zip(*iterables)], computed by the caller and
    a warm pool of isolates: a list in input order. The exception of the
    first failing item (in input order) is raised, with a worker's traceback
    as its __cause__ when it failed there.

    max_workers: how many calls run at once, the calling thread included: it
    runs calls itself while the pool's max_workers - 1 isolates run the rest
    (default: ISO_THREADS, else the CPUs this process may use). Calls go to
    the workers only when that pays; short or few calls run on the caller.
    backend: as PoolExecutor's. chunksize: "auto" as above, or an int: every
    call then goes to a worker, that many per batch, as in
    concurrent.futures (a pool of max_workers isolates). timeout: seconds for
    the whole call; TimeoutError after. memo: True, or how many distinct
    calls to remember: a repeated call takes the value of its first without
    running again. Pools are kept warm between calls and closed at exit.
    workers= is a deprecated max_workers."""
    if workers is not _UNSET:
        _warnings.warn("isolate.map(workers=...) is deprecated; use max_workers=", DeprecationWarning,
                       stacklevel=2)
        if max_workers is not None:
            raise TypeError("isolate.map() got both max_workers and its deprecated alias workers")
        max_workers = workers
    if not iterables:
        raise TypeError("isolate.map() needs at least one iterable")
    if memo is not None and memo is not True and (not isinstance(memo, int) or isinstance(memo, bool)
                                                 or memo < 1):
        raise ValueError(f"isolate: memo must be True or a positive int, not {memo!r}")
    end = None if timeout is None else timeout + _time.monotonic()
    ref = _ref(func)
    _refuse_while_importing()
    _check_max_workers(max_workers)
    _check_chunksize(chunksize)
    if not isinstance(backend, str):
        raise TypeError(f"isolate: backend must be a str, not {type(backend).__name__}")
    # Under `mpirun ... isolate run`, rank 0's maps go to every rank by default.
    spread = backend == "mpi" or (backend == "auto" and _cluster_ranks() > 1)
    chosen, total, automatic = _choose("auto" if backend == "mpi" else backend, max_workers or 0,
                                       _main_has_file(ref))
    form, calls = (_ONE, iterables[0]) if len(iterables) == 1 else (_STAR, zip(*iterables))
    left = _length(iterables)

    def run(calls, left):
        workers = total if chunksize != "auto" else total - 1
        # A rank bound to one core still has the other ranks' workers.
        slot = _take_job_pool(max(1, workers), backend == "mpi") if spread else None
        if slot is None and workers:
            slot = _take_warm_pool(chosen, workers, automatic, _main_has_file(ref), 3)
        return _Mapping(func, ref, form, calls, left, slot, chunksize, end).run(stacklevel=4)

    if memo:
        return _memoized(lambda unique: run(unique, len(unique)), form, calls, memo)
    return run(calls, left)
