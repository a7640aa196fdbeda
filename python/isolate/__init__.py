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
import concurrent.futures as _futures
import json as _json
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
    chosen, workers, automatic = _choose(backend, max_workers or 0, _main_has_file(ref))
    if chosen != "threads":
        return _start_pool(backend, workers, ref, stacklevel)
    if not (automatic and _gil_enabled()):
        return _ThreadEngine(workers, watch_gil=automatic)
    return _pool_without_gil_threads(workers, ref, stacklevel + 1)


def _start_pool(backend, workers, ref, stacklevel, fall_back=-1):
    preload = _json.dumps({"path": _sys.path, "ref": ref})  # what every worker loads (_map_worker.load)
    pool = _Pool(backend, workers, preload, _main_has_file(ref), ref is not None, fall_back)
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

    def _work(self):
        call_all, clock = self._call_all, _time.perf_counter
        while (job := self._inbox.get()) is not None:
            index, fn, form, calls = job
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

    def next(self):
        if self._ended:
            return None
        answer = self._outbox.get()
        if answer is None:
            self._ended = True
            return None
        self._room.release()
        with self._lock:
            self._in_flight -= 1
            if self._finishing and self._in_flight == 0:
                self._outbox.put(None)
        index, values, failures = answer
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


def _pack(pool, fn, ref, form, calls):
    """A batch as `pool` takes it: for threads, the objects themselves; else
    a pickle whose arguments are a pickle of their own, unpickled by the
    worker once the function (and so the script's classes) is loaded."""
    if isinstance(pool, _ThreadEngine):
        return fn, form, calls
    return _pickle.dumps((ref, _pickle.dumps((form, calls), _PROTOCOL)), _PROTOCOL)


def _done_batch(outcomes):
    future = _futures.Future()
    future.set_running_or_notify_cancel()
    future.set_result(outcomes)
    return future


_live = _weakref.WeakSet()


@_atexit.register
def _shutdown_at_exit():
    for executor in list(_live):
        executor.shutdown(wait=True)


class PoolExecutor(_futures.Executor):
    """A concurrent.futures.Executor whose workers are isolates.

    max_workers: default ISO_THREADS, else the CPUs this process may use.
    backend: "auto" (or what ISO_BACKEND says), "subinterp", "threads" or
    "process"; ISO_FORCE_PROCESS=1 makes "auto" pick "process". Under
    "auto", an executor whose process has already loaded a module that
    sub-interpreters refuse starts on processes instead, with a
    RuntimeWarning naming the module: its functions may need that module.

    A future can be cancelled until its result arrives (a worker may still
    compute it). Process workers are forked when the executor starts: they
    see the functions that existed then.
    """

    def __init__(self, max_workers=None, backend="auto", *, _preload=None):
        _refuse_while_importing()
        _check_max_workers(max_workers)
        self._pool = _open_pool(backend, max_workers, _preload)
        self._preload = _preload
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
                    self._pool = _pool_without_gil_threads(pool.workers, self._preload, stacklevel=5)
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
            payload = _pack(pool, fn, ref, _FULL, [(args, kwargs)])
        except Exception as e:  # an argument that does not pickle fails this call only
            future.set_exception(e)
            return future
        self._send(pool, future, payload, 1, single=True)
        return future

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """As Executor.map; chunksize (an int, or "auto" to aim at ~5 ms of
        work per batch) is how many calls go to a worker at once."""
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

    def _submit_batches(self, fn, ref, form, calls, chunksize, failed=None, end=None):
        """Futures of (values, failed) (see _iter_outcomes), one per batch of calls.
        With `failed` (an Event), a batch with a failure sets it and no more
        batches are submitted: map() raises the first failure anyway. Past
        `end` (a time.monotonic() deadline), TimeoutError. The caller has
        checked chunksize."""
        batches, chunk = [], []
        def watch(batch):
            if batch.cancelled() or batch.exception() is not None or batch.result()[1]:
                failed.set()

        def submit(chunk):
            new = self._submit_batch(fn, ref, form, chunk)
            if failed is not None:
                for batch in new:
                    batch.add_done_callback(watch)
            batches.extend(new)

        size = self._chunk_size(chunksize)
        for call in calls:
            chunk.append(call)
            if len(chunk) >= size:
                submit(chunk)
                chunk = []
                size = self._chunk_size(chunksize)
                if failed is not None and failed.is_set():
                    return batches
                if end is not None and _time.monotonic() > end:
                    for batch in batches:
                        batch.cancel()
                    raise TimeoutError()
        if chunk:
            submit(chunk)
        return batches

    def _submit_batch(self, fn, ref, form, calls):
        pool = self._pool_for_next_batch()
        try:
            payload = _pack(pool, fn, ref, form, calls)
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


_UNSET = object()


def map(func, *iterables, max_workers=None, backend="auto", chunksize="auto", timeout=None, workers=_UNSET):
    """[func(*args) for args in zip(*iterables)], computed by a pool of
    isolates: a list in input order. The exception of the first failing item
    (in input order) is raised, with the worker's traceback as its __cause__.
    The keywords are PoolExecutor's and Executor.map's: max_workers, backend,
    chunksize ("auto": ~5 ms of work per batch), timeout (seconds for the
    whole call; TimeoutError after). workers= is a deprecated max_workers."""
    if workers is not _UNSET:
        _warnings.warn("isolate.map(workers=...) is deprecated; use max_workers=", DeprecationWarning,
                       stacklevel=2)
        if max_workers is not None:
            raise TypeError("isolate.map() got both max_workers and its deprecated alias workers")
        max_workers = workers
    if not iterables:
        raise TypeError("isolate.map() needs at least one iterable")
    end = None if timeout is None else timeout + _time.monotonic()
    ref = _ref(func)
    _refuse_while_importing()
    _check_max_workers(max_workers)
    _check_chunksize(chunksize)
    form, calls = (_ONE, iterables[0]) if len(iterables) == 1 else (_STAR, zip(*iterables))
    executor = PoolExecutor(max_workers, backend, _preload=ref)
    try:
        results = []
        for batch in executor._submit_batches(func, ref, form, calls, chunksize, failed=_threading.Event(),
                                              end=end):
            results.extend(_iter_outcomes(batch.result(None if end is None else end - _time.monotonic())))
        return results
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        executor.shutdown(wait=True)
