"""Burst benchmark for ``love-r1 serve``: N clients POST an episode at the same instant; count the answers.

Launch:
    python benchmarks/serve_burst.py --clients 50 100

Each round starts the service in-process (``make_server``, scripted backend, default limits: 8
running + 64 queued episodes) on a generated 30 s, 160x120 video, releases the clients together from
a barrier, and prints per round how many got which HTTP status and how many got a connection error
(reset, refused, closed without a reply), plus the wall time. A burst larger than the queue should get
200s and 429s with ``Retry-After``, never a connection error. The last line is JSON.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path


def burst(url: str, *, num_clients: int) -> dict[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    body = json.dumps({"video": "clip.mp4", "question": "Which digit?", "options": ["A. 3", "B. 7"]}).encode()
    barrier = threading.Barrier(num_clients)
    outcomes: list[str] = [""] * num_clients

    def client(i: int) -> None:
        barrier.wait()
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=600)
            connection.request("POST", "/v1/episodes", body=body, headers={"Content-Type": "application/json"})
            reply = connection.getresponse()
            reply.read()
            outcomes[i] = str(reply.status)
        except OSError as error:  # ConnectionResetError, RemoteDisconnected, ...: what the burst must not cause
            outcomes[i] = type(error).__name__

    threads = [threading.Thread(target=client, args=(i,)) for i in range(num_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(sorted(collections.Counter(outcomes).items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 100], help="clients per round (count)")
    args = parser.parse_args()

    from love_r1.backends.scripted import ScriptedBackend
    from love_r1.serve import make_server
    from love_r1.synth import write_indexed_video

    results = []
    with tempfile.TemporaryDirectory() as folder:
        write_indexed_video(Path(folder) / "clip.mp4", duration_seconds=30.0, fps=10.0, width=160, height=120)
        for num_clients in args.clients:
            server = make_server(ScriptedBackend(), host="127.0.0.1", port=0, video_root=folder)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            began = time.perf_counter()
            counts = burst(server.url, num_clients=num_clients)
            seconds = time.perf_counter() - began
            server.shutdown()
            thread.join(timeout=30)
            errors = sum(n for outcome, n in counts.items() if not outcome.isdigit())
            print(f"{num_clients:4d} clients: {counts}  connection errors: {errors}  ({seconds:.1f} s)")
            results.append({"clients": num_clients, "outcomes": counts, "connection_errors": errors,
                            "seconds": round(seconds, 2)})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
