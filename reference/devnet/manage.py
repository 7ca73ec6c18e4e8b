"""``elastos devnet status`` and ``elastos devnet stop``: a kept devnet, found through its state file.

``status`` reads ``devnet.json`` in the devnet folder and asks each component live: a main node its
height, best block and P2P peers (its established TCP connections, from ``/proc``), a sidechain node its
height and best block, an arbiter process its ``arbiter_info`` (the main height it scanned, the
withdrawals it saw paid, signed and proposed, with each proposal's state), the vault ``GET
/api/v2/node/version``, a Carrier node whether its session port accepts a connection. ``stop`` ends every process by its id (SIGTERM to its process group, SIGKILL after a
grace period) and removes the state file.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

from reference.devnet import procs
from reference.devnet.scenario import STATE_FILE

__all__ = ["running", "status", "stop"]


def _state(root: Path) -> dict[str, Any]:
    path = root / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {STATE_FILE} in {root}: no devnet kept there")
    out: dict[str, Any] = json.loads(path.read_text())
    return out


def running(root: Path) -> list[str]:
    """The names of the state file's processes that are still alive."""
    try:
        st = _state(root)
    except FileNotFoundError:
        return []
    return [n for n, pid in st["pids"].items() if procs.alive(pid)]


def _sockets(pid: int) -> set[str]:
    out = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[8:-1])
    except OSError:
        pass
    return out


def p2p_peers(pid: int, p2p_port: int, peer_ports: set[int]) -> int:
    """Established TCP connections of ``pid`` on its P2P port or to another node's P2P port."""
    inodes = _sockets(pid)
    n = 0
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return -1
    for line in lines:
        f = line.split()
        local, remote, st, inode = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16), f[3], f[9]
        if st == "01" and inode in inodes and (local == p2p_port or remote in peer_ports):
            n += 1
    return n


def _reachable(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def status(root: Path) -> list[dict[str, Any]]:
    """One row per component, asked live."""
    from reference.node.rpc import RpcClient

    st = _state(root)
    rows = []
    p2p_ports = {int(e["p2p"].rsplit(":", 1)[1]) for e in st["endpoints"].values() if e["kind"] == "main"}
    for name, e in st["endpoints"].items():
        pid = st["pids"][name]
        row: dict[str, Any] = {"component": name, "kind": e["kind"], "pid": pid, "alive": procs.alive(pid)}
        try:
            if e["kind"] in ("main", "side"):
                rpc = RpcClient(e["rpc"], timeout=5)
                row["endpoint"] = e["rpc"]
                row["height"] = rpc.call("getblockcount") - 1
                row["best"] = rpc.call("getbestblockhash")
                if e["kind"] == "main":
                    port = int(e["p2p"].rsplit(":", 1)[1])
                    row["peers"] = p2p_peers(pid, port, p2p_ports - {port})
                row["ok"] = True
            elif e["kind"] == "arbiter":
                row["endpoint"] = e["rpc"]
                info = RpcClient(e["rpc"], timeout=5).call("arbiter_info")
                row["pubkey"] = info["public_key"]
                row["scanned"] = info["scanned"]
                row["paid"], row["signed"] = len(info["paid"]), len(info["signed"])
                row["proposals"] = {k: v["state"] for k, v in info["proposals"].items()}
                row["ok"] = info["public_key"] == e["pubkey"]
            elif e["kind"] == "vault":
                row["endpoint"] = e["url"]
                with urllib.request.urlopen(e["url"] + "/api/v2/node/version", timeout=5) as r:
                    row["version"] = json.loads(r.read())
                row["ok"] = True
            elif e["kind"] == "carrier":
                row["endpoint"] = e["tcp"]
                row["address"] = e["address"]
                row["ok"] = _reachable(e["tcp"])
        except OSError as err:
            row["ok"] = False
            row["error"] = str(err)
        except Exception as err:  # noqa: BLE001 - an RPC error is a status too
            row["ok"] = False
            row["error"] = f"{type(err).__name__}: {err}"
        row["ok"] = bool(row.get("ok")) and row["alive"]
        rows.append(row)
    return rows


def status_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'component':<20} {'up':<4} {'endpoint':<26} details"]
    for r in rows:
        details = []
        if "height" in r:
            details.append(f"height {r['height']} best {r['best'][:16]}…")
        if "peers" in r:
            details.append(f"peers {r['peers']}")
        if "scanned" in r:
            details.append(f"{r['pubkey'][:12]}… scanned {r['scanned']}, paid {r['paid']}, signed {r['signed']}, "
                           f"proposals {'/'.join(r['proposals'].values()) or 'none'}")
        if "version" in r:
            details.append(f"version {r['version']}")
        if "address" in r:
            details.append(f"address {r['address'][:16]}…")
        if "error" in r:
            details.append(f"error {r['error']}")
        lines.append(f"{r['component']:<20} {'yes' if r['ok'] else 'NO':<4} {r.get('endpoint', ''):<26} "
                     + ", ".join(details))
    return "\n".join(lines)


def stop(root: Path) -> tuple[list[str], list[str]]:
    """Stop every process of the kept devnet; (names stopped, names that needed SIGKILL)."""
    st = _state(root)
    names = list(st["pids"])[::-1]
    pids = [st["pids"][n] for n in names]
    killed = procs.stop_pids(pids)
    left = [n for n in names if procs.alive(st["pids"][n])]
    if left:
        raise RuntimeError(f"still running after SIGKILL: {left}")
    (root / STATE_FILE).unlink()
    return names, [n for n in names if st["pids"][n] in killed]
