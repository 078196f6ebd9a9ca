"""What happens when PostgreSQL restarts under load, and when two schedulers run at once.

Starts a private PostgreSQL 15 cluster (its own directory and port, never the machine's
server), loads the demo hub into it, serves it with `joinedup serve`, and sends requests
from several clients (the readiness check, the service directory, a FHIR read that is
refused without a token) while the cluster is restarted. Prints, for each phase, how
requests were answered, whether any got something other than a page or a clear 503, and how
long after the database came back the app answered again, without restarting the app.
Then starts two schedulers at once and prints how many times each job ran.

    .venv/bin/python benchmarks/faults.py [--clients 8] [--down 5]
"""

import argparse
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

PG = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parent.parent
JOINEDUP = [sys.executable, "-m", "joinedup"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return subprocess.run([runuser, "-u", "postgres", "--", *argv], check=True, **kwargs)


class Cluster:
    def __init__(self, directory: Path, port: int):
        self.data, self.port = directory / "data", port
        directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(directory, "postgres")
        as_postgres(
            str(PG / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            capture_output=True,
        )
        self.log = directory / "postgres.log"

    def ctl(self, *args: str) -> None:
        as_postgres(
            str(PG / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-o",
            f"-p {self.port} -k /tmp",
            *args,
            capture_output=True,
        )

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Load:
    """Clients sending requests in a loop; answers tallied by phase."""

    PATHS = ("/health/ready", "/services/", "/fhir/Patient")

    def __init__(self, base: str, clients: int):
        self.base, self.phase, self.stop = base, "before", threading.Event()
        self.tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.last_ok_after_back: float | None = None
        self.back_at: float | None = None
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(clients)]

    def client(self, n: int) -> None:
        session = requests.Session()
        i = n
        while not self.stop.is_set():
            path = self.PATHS[i % len(self.PATHS)]
            i += 1
            try:
                status = session.get(self.base + path, timeout=30).status_code
                kind = str(status)
            except requests.RequestException as error:
                kind = f"no answer ({type(error).__name__})"
                status = 0
            phase = self.phase
            self.tally[phase][f"{path} {kind}"] += 1
            if phase == "after" and status == 200 and self.last_ok_after_back is None:
                self.last_ok_after_back = time.monotonic()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--down", type=float, default=5.0, help="seconds the database is down")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="joinedup-faults-"))
    shutil.chown(work, "postgres")
    cluster = Cluster(work / "pg", free_port())
    cluster.ctl("start")
    server = None
    try:
        subprocess.run(
            [
                PG / "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                "joinedup",
            ],
            check=True,
        )
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": "faults-benchmark-key-" + "x" * 40,
            "AUDIT_CHAIN_KEY": "faults",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": cluster.url("joinedup"),
            "JOINEDUP_VAR_DIR": str(work / "var"),
            "SECURE_SSL_REDIRECT": "0",
            "LOG_REQUESTS": "0",
            "AUDIT_CHECKPOINT_FILE": "",
        }
        for step in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"], ["demo"]):
            subprocess.run(
                [*JOINEDUP, *step],
                env=env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        port = free_port()
        server = subprocess.Popen(
            [*JOINEDUP, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if requests.get(base + "/health/live", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or busy starting
                time.sleep(0.2)
        print(
            f"PostgreSQL restart under load: {args.clients} clients, database down "
            f"{args.down:g} s, app never restarted"
        )
        with Load(base, args.clients) as load:
            time.sleep(5)
            load.phase = "down"
            cluster.ctl("stop", "-m", "fast")
            time.sleep(args.down)
            cluster.ctl("start")
            load.back_at = time.monotonic()
            load.phase = "after"
            time.sleep(5)
        for phase in ("before", "down", "after"):
            answers = ", ".join(f"{kind}: {n}" for kind, n in sorted(load.tally[phase].items()))
            print(f"  {phase:7} {answers}")
        unclear = sum(
            n
            for phase in load.tally.values()
            for kind, n in phase.items()
            if kind.split()[-1] not in ("200", "401", "503")
        )
        print(f"  answers other than a page, a FHIR 401 or a clear 503: {unclear}")
        if load.last_ok_after_back is not None:
            print(
                f"  first page after the database came back: "
                f"{load.last_ok_after_back - load.back_at:.2f} s"
            )
        else:
            print("  the app did not answer again after the database came back")

        print("Two schedulers at once, each asked to run every job owed:")
        both = [
            subprocess.Popen(
                [*JOINEDUP, "scheduler", "--once"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate()[0] for process in both]
        runs = collections.Counter(
            line.split(":")[0]
            for output in outputs
            for line in output.splitlines()
            if ": Succeeded." in line or ": Failed." in line
        )
        twice = [job for job, n in runs.items() if n > 1]
        print(f"  jobs run: {len(runs)}; run twice: {len(twice)} {twice or ''}")
        each = [sum(": " in line for line in output.splitlines()) for output in outputs]
        print(f"  runs by scheduler: {each}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait()
        cluster.ctl("stop", "-m", "immediate")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
