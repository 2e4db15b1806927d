"""`make run-network`: a network of two nodes on one machine, for a newcomer to see federation at
work. Node "nanning" (the Nanning and Liuzhou demo archives) at http://127.0.0.1:5000 and node
"hechi" (the Hechi ones) at http://localhost:5001 — two host names, so a browser keeps a separate
log-in for each. Each node has its own data dir (instance/network/NAME: SQLite database,
embedded search index, keys), and is set up with the commands an admin would type:

    portal init-db
    portal seed-demo --if-empty --archives CODES
    portal keys init
    portal node init --name NAME --url URL
    portal peers add OTHER OTHER_URL OTHER_PUBLIC_KEY      (after both nodes are named)
    portal serve --host 127.0.0.1 --port PORT

Running it again keeps what is there (every step is idempotent). Ctrl+C stops both nodes.

    python -m portal.federation.demo [--dir instance/network] [--port 5000] [--setup-only]

`--port P` (`make run-network PORT=P`) serves nanning on P and hechi on P+1, when 5000 or 5001 is
taken; running it again with another port moves both nodes (`node init --url`, `peers add` again)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PORTAL = Path(sys.executable).with_name("portal")
# Settings of the machine's own portal that must not leak into the demo's nodes.
DROPPED = ("PORTAL_PUBLIC_URL", "PORTAL_TRUSTED_HOSTS", "DATABASE_URL", "SEARCH_BACKEND", "MEILI_URL",
           "MEILI_MASTER_KEY", "PORTAL_DATA_DIR", "PORTAL_SIGNING_KEYS_DIR", "SECRET_KEY", "PORTAL_DATA_KEY")


class DemoFailed(RuntimeError):
    """A step of the setup failed; the message has its output."""


@dataclass(frozen=True)
class DemoNode:
    name: str
    host: str
    port: int
    archives: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def demo_nodes(port: int = 5000) -> tuple[DemoNode, ...]:
    """nanning at 127.0.0.1:port, hechi at localhost:port+1."""
    return (DemoNode("nanning", "127.0.0.1", port, "450100,450110,450200,450206"),
            DemoNode("hechi", "localhost", port + 1, "451200,451202,451203"))


NODES = demo_nodes()


def node_env(node: DemoNode, base: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(PORTAL_DATA_DIR=str((base / node.name).resolve()), PORTAL_PUBLIC_URL=node.url,
               PORTAL_DEMO=env.get("PORTAL_DEMO", "1"), PYTHONUNBUFFERED="1")
    return env


def portal(node: DemoNode, base: Path, *commands: list[str]) -> list[str]:
    """Each of `commands` (the arguments of one `portal` command), in order, as this node, in one
    process (each `portal` costs seconds of imports); their outputs, or DemoFailed saying what went wrong."""
    done = subprocess.run([sys.executable, "-m", "portal.federation.demo", "--run", json.dumps(commands)],
                          env=node_env(node, base), capture_output=True, text=True)
    if done.returncode != 0:
        raise DemoFailed(f"[{node.name}] {done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run(commands: list[list[str]]) -> None:
    """The child's side of `portal()`: the app's own CLI commands, as typed."""
    from portal import create_app

    app = create_app()
    runner, outputs = app.test_cli_runner(), []
    for args in commands:
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"portal {' '.join(args)} failed ({result.exit_code}):\n{result.output}"
                             f"{result.exception or ''}")
        outputs.append(result.output)
    print(json.dumps(outputs))


def prepare(node: DemoNode, base: Path, records: int) -> dict:
    """Database, demo data of its archives, signing keys and identity; returns `portal node show --json`."""
    (base / node.name).mkdir(parents=True, exist_ok=True)
    outputs = portal(node, base, ["init-db"],
                     ["seed-demo", "--if-empty", "--archives", node.archives, "--records", str(records)],
                     ["keys", "init"], ["node", "init", "--name", node.name, "--url", node.url],
                     ["node", "show", "--json"])
    return json.loads(outputs[-1])


def setup(base: Path, nodes: tuple[DemoNode, ...] = NODES, records: int = 1000) -> dict[str, dict]:
    """Both nodes ready, each trusting the other; {name: its node show}."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        shown = dict(zip([n.name for n in nodes], pool.map(lambda n: prepare(n, base, records), nodes)))
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda n: portal(n, base, *(["peers", "add", o.name, shown[o.name]["url"],
                                                   shown[o.name]["public_key"]] for o in nodes if o is not n)),
                      nodes))
    return shown


def _relay(name: str, stream) -> None:
    for line in stream:
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()


def serve(base: Path, nodes: tuple[DemoNode, ...] = NODES) -> int:
    """Both nodes served until Ctrl+C (or until one of them stops); then both are stopped."""
    procs = []
    for node in nodes:
        proc = subprocess.Popen([str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(node.port)],
                                env=node_env(node, base), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        threading.Thread(target=_relay, args=(node.name, proc.stdout), daemon=True).start()
        procs.append(proc)
    print("\n".join(f"节点 (node) {n.name}: {n.url}  ({n.archives})" for n in nodes)
          + "\n演示账号见 README.md (demo accounts: see README.md); Ctrl+C 停止两个节点 (stops both)", flush=True)
    code = 0
    try:
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description="two federated nodes on one machine (make run-network)")
    parser.add_argument("--dir", default="instance/network", help="the nodes' data dirs go here")
    parser.add_argument("--records", type=int, default=1000, help="demo catalog records per node")
    parser.add_argument("--port", type=int, default=5000, help="nanning's port; hechi gets the next one")
    parser.add_argument("--setup-only", action="store_true", help="set the nodes up, do not serve them")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: commands run as one node (portal())
    args = parser.parse_args()
    if args.run:
        _run(json.loads(args.run))
        return
    base = Path(args.dir)
    print(f"准备两个节点 (setting up two nodes) in {base}/ …", flush=True)
    try:
        nodes = demo_nodes(args.port)
        setup(base, nodes, records=args.records)
    except DemoFailed as exc:
        sys.exit(str(exc))
    if not args.setup_only:
        sys.exit(serve(base, nodes))


if __name__ == "__main__":
    main()
