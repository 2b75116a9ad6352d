"""HTTP load from a process of its own (the bench's RPC timer must not share its CPU time):

    python http_load.py --clients 64 --seconds 10 [--rate 200] [--nice 19] URL [URL…]

``--clients`` green threads, each on a kept-alive connection, ask the URLs in turn (client ``i``
starts at URL ``i``), as fast as they are answered or, with ``--rate``, paced to that many requests
a second in all. Prints one JSON line: requests, seconds, per status, and the latency percentiles.
``--nice`` lowers its own CPU priority: on the bench's one machine the load stands for clients that
in reality run elsewhere (the report says so)."""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402


def client(i, clients, urls, deadline, interval, statuses, latencies):
    connections = {}
    n = i
    next_at = time.monotonic() + interval * i / clients
    while time.monotonic() < deadline:
        if interval:
            delay = next_at - time.monotonic()
            if delay > 0:
                eventlet.sleep(delay)
            next_at += interval
        url = urlsplit(urls[n % len(urls)])
        n += 1
        connection = connections.get(url.netloc)
        if connection is None:
            connection = connections[url.netloc] = http.client.HTTPConnection(url.netloc, timeout=10)
        started = time.perf_counter()
        try:
            connection.request("GET", url.path + (f"?{url.query}" if url.query else ""))
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
            latencies.append(time.perf_counter() - started)
        except (OSError, http.client.HTTPException) as exc:
            statuses[type(exc).__name__] += 1
            connection.close()
            connections.pop(url.netloc, None)


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=0, help="requests per second in all (0: as fast as answered)")
    parser.add_argument("--nice", type=int, default=0)
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    statuses, latencies = Counter(), []
    interval = args.clients / args.rate if args.rate else 0
    start = time.monotonic()
    deadline = start + args.seconds
    pool = eventlet.GreenPool(args.clients)
    for i in range(args.clients):
        pool.spawn(client, i, args.clients, args.urls, deadline, interval, statuses, latencies)
    pool.waitall()
    elapsed = time.monotonic() - start
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q / 100 * (len(latencies) - 1)))] * 1000 if latencies else None

    answered = sum(v for k, v in statuses.items() if isinstance(k, int))
    print(
        json.dumps(
            {
                "requests": answered,
                "seconds": elapsed,
                "per_s": answered / elapsed,
                "statuses": {str(k): v for k, v in statuses.items()},
                "p50_ms": pct(50),
                "p99_ms": pct(99),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
