"""asyncio: gather, producer/consumer queues, tasks and results in a deterministic order."""
import asyncio


async def fetch(name, delay_steps):
    for _ in range(delay_steps):
        await asyncio.sleep(0)
    return "%s:%d" % (name, delay_steps)


async def producer(queue, jobs):
    for job in jobs:
        await queue.put(job)
    for _ in range(2):
        await queue.put(None)


async def worker(wid, queue, results):
    while True:
        job = await queue.get()
        try:
            if job is None:
                return wid
            await asyncio.sleep(0)
            results.append((job, wid, job * job))
        finally:
            queue.task_done()


async def main():
    got = await asyncio.gather(fetch("a", 3), fetch("b", 1), fetch("c", 0))
    print("gather:", got)

    queue = asyncio.Queue(maxsize=2)
    results = []
    workers = [asyncio.create_task(worker(i, queue, results), name="w%d" % i) for i in range(2)]
    await producer(queue, range(1, 9))
    await queue.join()
    finished = await asyncio.gather(*workers)
    print("workers finished:", finished)
    print("squares:", sorted(r[2] for r in results))
    print("jobs handled per worker:", sorted(sum(1 for r in results if r[1] == w) for w in range(2)))

    async def boom(n):
        await asyncio.sleep(0)
        if n % 2:
            raise ValueError("odd %d" % n)
        return n

    outcomes = await asyncio.gather(*(boom(n) for n in range(5)), return_exceptions=True)
    print([type(o).__name__ + ":" + str(o) for o in outcomes])

    order = []

    async def step(tag, n):
        for i in range(n):
            order.append("%s%d" % (tag, i))
            await asyncio.sleep(0)

    t1 = asyncio.create_task(step("x", 3))
    t2 = asyncio.create_task(step("y", 2))
    await asyncio.wait([t1, t2])
    print("interleaving:", order)
    print("task names:", [t.get_name() for t in workers], t1.done(), t2.result())

    sem = asyncio.Semaphore(2)
    active = []
    peak = 0

    async def limited(i):
        nonlocal peak
        async with sem:
            active.append(i)
            peak = max(peak, len(active))
            await asyncio.sleep(0)
            active.remove(i)
        return i * 10

    print("limited:", await asyncio.gather(*(limited(i) for i in range(5))), "peak", peak)


asyncio.run(main())
