"""Token v2's cost per call (issue 26), focused: planning alone, ``declare_project`` called with an
EdDSA token (v2, what the services accept) and with an HS256 token (v1, accepted by the bench's
probe only), alternating call by call so both meet the same moments of the machine, in rounds.

    .venv/bin/python bench/tokens.py [--calls 300] [--rounds 3]

Both tokens are verified once per process and then served from the cache; what is left per call is
the cache lookup, the ``kid``-still-trusted check and the expiry check (~1 µs), so the two p50s
differ by the machine's noise, not by the algorithm."""

import argparse
import tempfile
import time
from pathlib import Path

from common import Callers, Suite, summary, vhost
from nameko.exceptions import UnknownService
from run import annual


def measure(calls, rounds):
    lines = []
    with tempfile.TemporaryDirectory() as tmp, vhost() as amqp_uri:
        rpc = Callers(amqp_uri)
        try:
            with Suite(amqp_uri, Path(tmp), ["planning"]):
                v2 = rpc.get("unit:edu").planning
                v1 = rpc.get("unit:edu", token="v1").planning
                project = annual()
                deadline = time.monotonic() + 30
                while True:  # until planning's RPC queue is bound
                    try:
                        v2.declare_project(project=project)
                        break
                    except UnknownService:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                for _ in range(20):  # warm-up: both tokens verified and cached
                    v2.declare_project(project=project)
                    v1.declare_project(project=project)
                for n in range(1, rounds + 1):
                    samples = {"EdDSA": [], "HS256": []}
                    for _ in range(calls):
                        for label, proxy in (("EdDSA", v2), ("HS256", v1)):
                            start = time.perf_counter()
                            proxy.declare_project(project=project)
                            samples[label].append(time.perf_counter() - start)
                    eddsa, hs256 = summary(samples["EdDSA"]), summary(samples["HS256"])
                    lines.append(
                        f"round {n}: declare_project p50 EdDSA {eddsa['p50_ms']:.2f} ms / HS256 {hs256['p50_ms']:.2f} ms"
                        f" ({eddsa['p50_ms'] - hs256['p50_ms']:+.2f} ms), mean {eddsa['mean_ms']:.2f} / {hs256['mean_ms']:.2f} ms,"
                        f" n={eddsa['n']} each"
                    )
                    print(lines[-1], flush=True)
        finally:
            rpc.close()
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    measure(args.calls, args.rounds)
