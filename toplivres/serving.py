"""The app under gunicorn in a child process, with the repository's gunicorn.conf.py: for
the benchmark's requests per second and for the two-server test."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_serving(env: dict, log: Path, *, start_timeout: float = 60):
    """Start gunicorn with `env` on a free port, wait until /healthz answers, yield the base
    URL; stop it (and its workers) on the way out."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own app
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "toplivres.wsgi"],
            cwd=settings.BASE_DIR,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _hammer(port: int, path: str, cookie: str, seconds: float, threads: int) -> tuple[int, int]:
    """Keep-alive GETs from `threads` threads for `seconds`: (answers 200, other answers)."""
    done, failed = [0] * threads, [0] * threads
    stop_at = time.monotonic() + seconds

    def run(slot):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < stop_at:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    done[slot] += 1
                else:
                    failed[slot] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                failed[slot] += 1
                conn.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done), sum(failed)


def requests_per_second(
    base: str, path: str, *, cookie: str = "", seconds: float = 5, connections: int = 16
) -> float:
    """Requests per second that `base` serves on `path` to `connections` keep-alive clients,
    spread over two client processes (one Python process alone would be the bottleneck).
    Raises if any answer is not a 200."""
    port = int(base.rsplit(":", 1)[1])
    processes = 2
    with ProcessPoolExecutor(max_workers=processes) as pool:
        jobs = [
            pool.submit(_hammer, port, path, cookie, seconds, connections // processes)
            for _ in range(processes)
        ]
        results = [job.result() for job in jobs]
    ok, failed = sum(r[0] for r in results), sum(r[1] for r in results)
    if failed:
        raise RuntimeError(f"{path}: {failed} answers were not 200")
    return ok / seconds
