"""Load test of the REST service: N concurrent clients, micro-batching on and off.

For each mode it starts ``ocr-lstm serve`` on a free loopback port (never
another interface), sends the same word image from ``--clients`` concurrent
clients for ``--duration`` seconds (at most ``--max-requests`` requests), and
prints requests/s, p50/p99 latency, the error count and the server's resident memory
after the load (``VmRSS``, with its peak ``VmHWM``).

Beside the word clients, ``--photo-clients`` post a photo to ``/v1/ocr`` in a loop, and
``--stalled`` connections send upload headers and a few bytes, without the key, and
nothing more (opened again when the server closes them). ``--files`` images go in each
word request. A line under each row counts the answers by status, the images read per
second, and the memory after start-up and one request, and after ``--idle`` seconds
without requests.

    python benchmarks/load.py --model runs/bundled/best --clients 16 --duration 10
    python benchmarks/load.py --random-preset tiny      # no weights needed: same speed, random text
    python benchmarks/load.py --batching on --clients 8 --photo-clients 2 --duration 30 --idle 60
    python benchmarks/load.py --batching on --api-key k --stalled 260 --clients 1 --duration 10
    python benchmarks/load.py --batching on --clients 1 --photo-clients 8 --photo-kind dense --duration 30
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
from collections import Counter
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
    statuses: Counter[int | str] = field(default_factory=Counter)  # every answer's status, or the error's name

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
    client: httpx.AsyncClient,
    image: bytes,
    clients: int,
    duration_s: float,
    max_requests: int,
    path: str = "/v1/recognize",
    files: int = 1,
) -> LoadResult:
    """``clients`` loops posting ``image`` to ``path`` until ``duration_s`` passes or ``max_requests`` are sent;
    ``files`` copies of it per request, as ``files`` fields when more than one."""
    result = LoadResult()
    budget = max_requests
    start = time.perf_counter()
    deadline = start + duration_s
    upload = (
        {"file": ("image.png", image, "image/png")}
        if files == 1
        else [("files", (f"{i}.png", image, "image/png")) for i in range(files)]
    )

    async def one_client() -> None:
        nonlocal budget
        while budget > 0 and time.perf_counter() < deadline:
            budget -= 1
            sent = time.perf_counter()
            try:
                response = await client.post(path, files=upload)
                status: int | str = response.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            result.statuses[status] += 1
            if status == 200:
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


def photo_image(kind: str = "notice") -> bytes:
    """A rendered photo: ``notice``, a page of 12 lines of words (what a photo of a notice costs the pipeline), or
    ``dense``, a 1000 x 900 page of 480 short words set apart, each of which the detector finds as a line of its
    own (a form, a table: the photo that costs most per pixel)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1200, 800) if kind == "notice" else (1000, 900), "white")
    draw = ImageDraw.Draw(image)
    if kind == "notice":
        font = ImageFont.truetype(str(DEJAVU), 30) if DEJAVU.is_file() else ImageFont.load_default()
        for line in range(12):
            text = f"line {line} of the notice: keep this door closed"
            draw.text((40, 30 + 62 * line), text, font=font, fill="black")
    else:
        font = ImageFont.truetype(str(DEJAVU), 18) if DEJAVU.is_file() else ImageFont.load_default()
        words = ["ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st"]
        for row in range(30):
            for column in range(16):
                draw.text((8 + 62 * column, 6 + 30 * row), words[(3 * row + column) % 10], font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def random_checkpoint(preset_name: str, folder: Path) -> Path:
    """Random weights of a model size: the speed of a trained model, without its weights."""
    import torch

    from ocr_lstm.charset import Charset
    from ocr_lstm.model.config import preset
    from ocr_lstm.model.crnn import CRNN
    from ocr_lstm.predictors import PreprocessConfig, save_checkpoint

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

    def cpu_s(self) -> float:
        """CPU seconds the process has used, user and system (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(
    model: str, max_batch_size: int, max_wait_ms: float, threads: int | None, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``ocr-lstm serve`` on a free loopback port; ``extra_env`` is added to its environment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_LSTM_")}
    env.update(
        {
            "OMP_WAIT_POLICY": "PASSIVE",
            "OCR_LSTM_MAX_BATCH_SIZE": str(max_batch_size),
            "OCR_LSTM_MAX_WAIT_MS": str(max_wait_ms),
            "OCR_LSTM_DEVICE": "cpu",
            **(extra_env or {}),
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


@dataclass(frozen=True)
class Load:
    """What one measurement sends."""

    image: bytes
    clients: int
    duration_s: float
    max_requests: int
    files: int = 1
    photo: bytes | None = None
    photo_clients: int = 0
    stalled: int = 0
    api_key: str | None = None
    idle_s: float = 0.0


@dataclass
class Measured:
    words: LoadResult
    photos: LoadResult | None
    started_mb: float  # after start-up and one request
    after_mb: tuple[float, float]  # after the load, and the peak
    idle_mb: float | None  # after the idle wait
    stalled_opened: int = 0  # stalled connections opened in all
    server_cpu_s: float = 0.0  # the server's CPU time during the measured load
    client_cpu_s: float = 0.0  # this process's (the clients') CPU time during it


async def hold_stalled(url: str, count: int, until: asyncio.Event) -> int:
    """``count`` connections that send upload headers (no key) and a few body bytes, then nothing; each is opened
    again when the server closes it, until ``until`` is set. How many were opened in all."""
    opened = 0
    host, port = url.removeprefix("http://").rsplit(":", 1)
    head = (
        b"POST /v1/recognize HTTP/1.1\r\nHost: bench\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: 100000\r\n\r\n--x\r\n"
    )

    async def one() -> None:
        nonlocal opened
        while not until.is_set():
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
            except OSError:
                await asyncio.sleep(0.1)
                continue
            opened += 1
            try:
                writer.write(head)
                await writer.drain()
                closed = asyncio.ensure_future(reader.read())  # whatever the server answers, until it closes
                stopped = asyncio.ensure_future(until.wait())
                await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
                closed.cancel()
                stopped.cancel()
            except OSError:
                pass
            finally:
                writer.close()

    await asyncio.gather(*(one() for _ in range(count)))
    return opened


async def measure(serving: Server, load: Load) -> Measured:
    limits = httpx.Limits(max_connections=load.clients + load.photo_clients)
    headers = {"X-API-Key": load.api_key} if load.api_key else {}
    async with httpx.AsyncClient(base_url=serving.url, timeout=60, limits=limits, headers=headers) as client:
        await run_load(client, load.image, 1, duration_s=60, max_requests=1)
        if load.photo is not None:
            await run_load(client, load.photo, 1, duration_s=60, max_requests=1, path="/v1/ocr")
        started_mb = serving.memory_mb()[0]
        await run_load(client, load.image, load.clients, duration_s=1.0, max_requests=2 * load.clients)  # warm-up
        stop = asyncio.Event()
        stalled = asyncio.ensure_future(hold_stalled(serving.url, load.stalled, stop)) if load.stalled else None
        if stalled is not None:
            await asyncio.sleep(2)  # all open before the clients start
        cpu_before, client_before = serving.cpu_s(), time.process_time()
        try:
            runs = [run_load(client, load.image, load.clients, load.duration_s, load.max_requests, files=load.files)]
            if load.photo is not None and load.photo_clients:
                runs.append(
                    run_load(client, load.photo, load.photo_clients, load.duration_s, load.max_requests, "/v1/ocr")
                )
            results = await asyncio.gather(*runs)
        finally:
            stop.set()
            stalled_opened = await stalled if stalled is not None else 0
    server_cpu_s, client_cpu_s = serving.cpu_s() - cpu_before, time.process_time() - client_before
    after_mb = serving.memory_mb()
    idle_mb = None
    if load.idle_s:
        await asyncio.sleep(load.idle_s)
        idle_mb = serving.memory_mb()[0]
    photos = results[1] if len(results) > 1 else None
    return Measured(results[0], photos, started_mb, after_mb, idle_mb, stalled_opened, server_cpu_s, client_cpu_s)


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
    parser.add_argument("--batching", choices=["both", "on", "off"], default="both", help="modes to measure")
    parser.add_argument("--files", type=int, default=1, help="images per word request (default: %(default)s)")
    parser.add_argument("--photo-clients", type=int, default=0, help="clients posting a photo to /v1/ocr besides")
    parser.add_argument("--photo", type=Path, help="photo they send (default: one rendered, --photo-kind)")
    parser.add_argument(
        "--photo-kind", choices=["notice", "dense"], default="notice",
        help="the rendered photo: a notice of 12 lines, or a dense page of 480 one-word lines (default: %(default)s)",
    )
    parser.add_argument("--stalled", type=int, default=0, help="stalled upload connections without the key")
    parser.add_argument("--api-key", help="the server's key, which the clients send")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds to wait after the load, then read RSS")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="set in the server's environment"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.duration <= 300 or not 1 <= args.rounds <= 10:
        parser.error("--clients must be in 1..256, --duration in (0, 300] and --rounds in 1..10")
    if not 1 <= args.files <= 64 or not 0 <= args.photo_clients <= 64 or not 0 <= args.stalled <= 1000:
        parser.error("--files must be in 1..64, --photo-clients in 0..64 and --stalled in 0..1000")
    if not 0 <= args.idle <= 600 or not all("=" in pair for pair in args.server_env):
        parser.error("--idle must be in 0..600 and each --server-env NAME=VALUE")

    image = args.image.read_bytes() if args.image else word_image()
    photo = None
    if args.photo_clients:
        photo = args.photo.read_bytes() if args.photo else photo_image(args.photo_kind)
    extra_env = dict(pair.split("=", 1) for pair in args.server_env)
    if args.api_key:
        extra_env["OCR_LSTM_API_KEY"] = args.api_key
    load = Load(
        image, args.clients, args.duration, args.max_requests, args.files, photo, args.photo_clients,
        args.stalled, args.api_key, args.idle,
    )
    with tempfile.TemporaryDirectory() as folder:
        model = str(random_checkpoint(args.random_preset, Path(folder))) if args.random_preset else args.model
        print(
            f"model={model} clients={args.clients} duration={args.duration:g}s image={len(image)} bytes "
            f"files={args.files} photo_clients={args.photo_clients} stalled={args.stalled} "
            f"server_env={','.join(args.server_env) or '-'} "
            f"cpus={os.cpu_count()}"
        )
        print(f"{'mode':<28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
              f"{'RSS MB':>7} {'peak MB':>7}")
        modes = [
            (f"batching on (max {args.max_batch_size})", args.max_batch_size),
            ("batching off (max 1)", 1),
        ]
        modes = [mode for mode in modes if args.batching in ("both", mode[0].split()[1])]
        results: dict[str, list[LoadResult]] = {label: [] for label, _ in modes}
        memory: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in modes}
        for _ in range(args.rounds):
            for label, batch_size in modes:
                with server(model, batch_size, args.max_wait_ms, args.threads, extra_env) as serving:
                    measured = asyncio.run(measure(serving, load))
                result = measured.words
                memory[label].append(measured.after_mb)
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
                print(_details(measured, args.files, args.idle), flush=True)
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


def _statuses(result: LoadResult) -> str:
    return " ".join(f"{status}:{count}" for status, count in sorted(result.statuses.items(), key=str))


def _details(measured: Measured, files: int, idle_s: float) -> str:
    """The line under a row: answers by status, useful images/s, photos, memory."""
    words = measured.words
    images = len(words.latencies_s) * files
    line = f"  words {_statuses(words)}, {words.requests_per_s * files:.1f} images/s"
    line += f"; CPU s server {measured.server_cpu_s:.1f}, clients {measured.client_cpu_s:.1f}"
    if images:
        line += f" (server {1000 * measured.server_cpu_s / images:.2f} ms per word image read)"
    if measured.photos is not None:
        photos = measured.photos
        line += (f"; photos {_statuses(photos)}, {photos.requests_per_s:.2f}/s, "
                 f"p50 {photos.percentile_ms(50):.0f} ms, p99 {photos.percentile_ms(99):.0f} ms")
    if measured.stalled_opened:
        line += f"; stalled connections opened {measured.stalled_opened}"
    line += f"; RSS MB after start-up and one request {measured.started_mb:.0f}"
    if measured.idle_mb is not None:
        line += f", after {idle_s:g} s idle {measured.idle_mb:.0f}"
    return line


def _row(
    label: str, requests: int, per_second: float, p50: float, p99: float, errors: int, memory: tuple[float, float]
) -> str:
    return (f"{label:<28} {requests:>8} {per_second:>8.1f} {p50:>8.1f} {p99:>8.1f} {errors:>6} "
            f"{memory[0]:>7.0f} {memory[1]:>7.0f}")


if __name__ == "__main__":
    sys.exit(main())
