"""One peer of map_bench.py: python3 running work.FUNC over a JSON Lines
file with a standard-library pool, writing JSON Lines like isolate map.

    peer.py KIND FUNC INPUT WORKERS   (KIND: sequential, mp, mp-tuned, ppe, ppe-tuned, tpe,
                                       or api-BACKEND: isolate.map, run by `isolate run`)
"""
import concurrent.futures
import json
import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import work  # noqa: E402


def main(kind, func_name, path, workers):
    func = getattr(work, func_name)
    with open(path) as f:
        args = [json.loads(line) for line in f]
    tuned = max(1, len(args) // (4 * workers))
    if kind == "sequential":
        results = [func(a) for a in args]
    elif kind in ("mp", "mp-tuned"):
        with multiprocessing.Pool(workers) as pool:
            results = pool.map(func, args, **({"chunksize": tuned} if kind == "mp-tuned" else {}))
    elif kind in ("ppe", "ppe-tuned"):
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(func, args, chunksize=tuned if kind == "ppe-tuned" else 1))
    elif kind == "tpe":
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(func, args))
    elif kind.startswith("api-"):
        import inspect
        import isolate
        # max_workers since issue 13; a baseline build may know only workers=.
        keyword = "max_workers" if "max_workers" in inspect.signature(isolate.map).parameters else "workers"
        results = isolate.map(func, args, backend=kind[4:], **{keyword: workers})
    else:
        raise SystemExit(f"peer.py: unknown kind {kind}")
    with open(os.devnull, "w") as out:
        for r in results:
            out.write(json.dumps(r) + "\n")
    print(len(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
