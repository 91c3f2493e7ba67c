"""Load test of the REST service: N concurrent clients, micro-batching on and off.

For each mode it starts ``ocr-lstm serve`` on a free loopback port (never
another interface), sends the same word image from ``--clients`` concurrent
clients for ``--duration`` seconds (at most ``--max-requests`` requests), and
prints requests/s, p50/p99 latency, the error count and the server's resident memory
after the load (``VmRSS``, with its peak ``VmHWM``).

    python benchmarks/load.py --model runs/bundled/best --clients 16 --duration 10
    python benchmarks/load.py --random-preset tiny      # no weights needed: same speed, random text
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # loopback only
REPO = Path(__file__).resolve().parents[1]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass
class LoadResult:
    """What the clients saw: one latency per successful request, and the failures."""

    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_s) + self.errors

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))  # nearest rank
        return ordered[index] * 1000


async def run_load(
    client: httpx.AsyncClient, image: bytes, clients: int, duration_s: float, max_requests: int
) -> LoadResult:
    """``clients`` loops posting ``image`` until ``duration_s`` passes or ``max_requests`` are sent."""
    result = LoadResult()
    budget = max_requests
    start = time.perf_counter()
    deadline = start + duration_s

    async def one_client() -> None:
        nonlocal budget
        while budget > 0 and time.perf_counter() < deadline:
            budget -= 1
            sent = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/recognize", files={"file": ("word.png", image, "image/png")}
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                result.latencies_s.append(time.perf_counter() - sent)
            else:
                result.errors += 1

    await asyncio.gather(*(one_client() for _ in range(clients)))
    result.elapsed_s = time.perf_counter() - start
    return result


def word_image(text: str = "benchmark") -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(DEJAVU), 34) if DEJAVU.is_file() else ImageFont.load_default()
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 16, bottom - top + 16), "white")
    ImageDraw.Draw(image).text((8 - left, 8 - top), text, font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def random_checkpoint(preset_name: str, folder: Path) -> Path:
    """Random weights of a model size: the speed of a trained model, without its weights."""
    import torch

    from ocr_lstm.charset import Charset
    from ocr_lstm.checkpoint import save_checkpoint
    from ocr_lstm.model.config import preset
    from ocr_lstm.model.crnn import CRNN
    from ocr_lstm.preprocessing import PreprocessConfig

    torch.manual_seed(0)
    charset = Charset()
    model = CRNN(preset(preset_name, charset.num_classes)).eval()
    return save_checkpoint(
        folder / preset_name, model, charset, PreprocessConfig(), {"note": "random weights"}
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def memory_mb(self) -> tuple[float, float]:
        """The process's resident memory now and at its peak, in MB (Linux ``/proc``)."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines())
        return float(status["VmRSS"].split()[0]) / 1024, float(status["VmHWM"].split()[0]) / 1024


@contextmanager
def server(model: str, max_batch_size: int, max_wait_ms: float, threads: int | None) -> Iterator[Server]:
    """``ocr-lstm serve`` on a free loopback port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_LSTM_")}
    env.update(
        {
            "OMP_WAIT_POLICY": "PASSIVE",
            "OCR_LSTM_MAX_BATCH_SIZE": str(max_batch_size),
            "OCR_LSTM_MAX_WAIT_MS": str(max_wait_ms),
            "OCR_LSTM_DEVICE": "cpu",
        }
    )
    if threads:
        env["OCR_LSTM_THREADS"] = str(threads)
    command = [
        sys.executable,
        "-m",
        "ocr_lstm.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--model",
        model,
    ]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server failed: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server not ready after 120 s")
            time.sleep(0.2)
        yield Server(base_url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def measure(
    base_url: str, image: bytes, clients: int, duration_s: float, max_requests: int
) -> LoadResult:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        await run_load(client, image, clients, duration_s=1.0, max_requests=2 * clients)  # warm-up
        return await run_load(client, image, clients, duration_s, max_requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default="default", help="checkpoint or bundled model name (default: %(default)s)"
    )
    parser.add_argument(
        "--random-preset", help="benchmark random weights of this model size instead (e.g. tiny)"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: %(default)s)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per mode (default: %(default)s)"
    )
    parser.add_argument(
        "--max-requests", type=int, default=20_000, help="cap per mode (default: %(default)s)"
    )
    parser.add_argument("--max-batch-size", type=int, default=32, help="batching on (default: %(default)s)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="batching wait (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--image", type=Path, help="image to send (default: a rendered word)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate the modes this many times and add each one's median (for a busy machine)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.duration <= 300 or not 1 <= args.rounds <= 10:
        parser.error("--clients must be in 1..256, --duration in (0, 300] and --rounds in 1..10")

    image = args.image.read_bytes() if args.image else word_image()
    with tempfile.TemporaryDirectory() as folder:
        model = str(random_checkpoint(args.random_preset, Path(folder))) if args.random_preset else args.model
        print(
            f"model={model} clients={args.clients} duration={args.duration:g}s image={len(image)} bytes "
            f"cpus={os.cpu_count()}"
        )
        print(f"{'mode':<28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
              f"{'RSS MB':>7} {'peak MB':>7}")
        modes = [
            (f"batching on (max {args.max_batch_size})", args.max_batch_size),
            ("batching off (max 1)", 1),
        ]
        results: dict[str, list[LoadResult]] = {label: [] for label, _ in modes}
        memory: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in modes}
        for _ in range(args.rounds):
            for label, batch_size in modes:
                with server(model, batch_size, args.max_wait_ms, args.threads) as serving:
                    result = asyncio.run(
                        measure(serving.url, image, args.clients, args.duration, args.max_requests)
                    )
                    memory[label].append(serving.memory_mb())
                results[label].append(result)
                print(
                    _row(
                        label,
                        result.requests,
                        result.requests_per_s,
                        result.percentile_ms(50),
                        result.percentile_ms(99),
                        result.errors,
                        memory[label][-1],
                    ),
                    flush=True,
                )
        if args.rounds > 1:
            for label, runs in results.items():
                print(
                    _row(
                        f"median: {label.split(' (')[0]}",
                        int(statistics.median(r.requests for r in runs)),
                        statistics.median(r.requests_per_s for r in runs),
                        statistics.median(r.percentile_ms(50) for r in runs),
                        statistics.median(r.percentile_ms(99) for r in runs),
                        sum(r.errors for r in runs),
                        (statistics.median(m[0] for m in memory[label]), max(m[1] for m in memory[label])),
                    )
                )
    return 0


def _row(
    label: str, requests: int, per_second: float, p50: float, p99: float, errors: int, memory: tuple[float, float]
) -> str:
    return (f"{label:<28} {requests:>8} {per_second:>8.1f} {p50:>8.1f} {p99:>8.1f} {errors:>6} "
            f"{memory[0]:>7.0f} {memory[1]:>7.0f}")


if __name__ == "__main__":
    sys.exit(main())
