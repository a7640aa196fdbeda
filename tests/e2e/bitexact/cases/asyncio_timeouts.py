"""asyncio: wait_for timeouts, cancellation, shield, events and call_soon ordering."""
import asyncio


async def slow(tag):
    try:
        await asyncio.sleep(5)
        return tag
    except asyncio.CancelledError:
        print("  %s cancelled" % tag)
        raise


async def main():
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(slow("wait_for"), timeout=0.01)
    except asyncio.TimeoutError:
        print("timed out as expected")

    print("fast result:", await asyncio.wait_for(asyncio.sleep(0, result="quick"), timeout=5))

    task = asyncio.create_task(slow("task"))
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("task.cancelled() =", task.cancelled())

    ev = asyncio.Event()
    seen = []

    async def waiter(i):
        await ev.wait()
        seen.append(i)

    waiters = [asyncio.create_task(waiter(i)) for i in range(3)]
    await asyncio.sleep(0)
    print("before set:", seen)
    ev.set()
    await asyncio.gather(*waiters)
    print("after set:", seen)

    calls = []
    loop.call_soon(calls.append, "soon-1")
    loop.call_soon(calls.append, "soon-2")
    fut = loop.create_future()
    loop.call_soon(fut.set_result, "future-done")
    print(await fut, calls)

    inner = asyncio.create_task(asyncio.sleep(0, result="shielded"))
    print(await asyncio.shield(inner))

    done, pending = await asyncio.wait(
        [asyncio.create_task(asyncio.sleep(0, result=1)), asyncio.create_task(slow("pending"))],
        timeout=0.01,
    )
    print("done:", sorted(t.result() for t in done), "pending:", len(pending))
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)

    async def failing():
        await asyncio.sleep(0)
        raise KeyError("missing")

    t = asyncio.create_task(failing())
    try:
        await t
    except KeyError as e:
        print("KeyError", e, "exception() ->", repr(t.exception()))


asyncio.run(main())
print("loop closed cleanly")
