"""Small builders for tests: a talk repository in a temporary folder."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

from build_tools.api import expand_talk
from build_tools.config import TalkConfig


def write_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (path -> text) under ``root``; talks go in talks/, snippets in includes/."""
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return root


def expand(root: Path, talk: str, variant: str = "handout", **config):
    config.setdefault("include_roots", [str(root / "includes")])
    return expand_talk(str(root / talk), variant, TalkConfig(**config))


def codes(expansion) -> list[str]:
    return [d.code for d in expansion.diagnostics]


def five_talks(dest: Path) -> Path:
    """A project of five tiny talks (three of the test root, two more) and a page."""
    import shutil

    shutil.copytree(Path(__file__).resolve().parent / "roots" / "test-three-talks", dest)
    alpha = (dest / "talks/alpha.md").read_text(encoding="utf-8")
    for name, title in (("delta", "Delta Talk"), ("epsilon", "Epsilon Talk")):
        (dest / f"talks/{name}.md").write_text(
            alpha.replace("title: Alpha Talk", f"title: {title}"), encoding="utf-8")
    (dest / "pages").mkdir()
    (dest / "pages/about.md").write_text("---\ntitle: About\nexcerpt: Who gives these talks.\n---\n\n"
                                         "# About\n\nSearchable page words.\n", encoding="utf-8")
    return dest


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file()}


def assert_same_site(merged: Path, single: Path) -> None:
    """Two sites hold the same files, byte for byte."""
    got, want = site_files(merged), site_files(single)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


PROJECT = Path(__file__).resolve().parent.parent
EXPORTS_DEMO = Path(__file__).parent / "fixtures" / "exports-demo.md"


def exports_demo_project(root: Path) -> Path:
    """A copy of this project's configuration, fragments, diagrams and macros whose one
    talk is the exports fixture (with the bibliography it cites); returns the talk."""
    shutil.copy(PROJECT / "conf.py", root / "conf.py")
    for folder in ("includes", "diagrams", "macros"):
        shutil.copytree(PROJECT / folder, root / folder)
    (root / "talks").mkdir()
    shutil.copy(PROJECT / "talks" / "references.bib", root / "talks" / "references.bib")
    talk = root / "talks" / EXPORTS_DEMO.name
    shutil.copy(EXPORTS_DEMO, talk)
    return talk


class Listeners:
    """Raw TCP and UDP listeners on IPv4 and IPv6 loopback: every connection or datagram is
    remembered (WebRTC's STUN and TURN, or anything else that escapes the routing)."""

    def __init__(self):
        self.seen: list[str] = []
        self.sockets = {}
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                sock = socket.socket(family, kind)
                sock.bind((host, 0))
                if kind == socket.SOCK_STREAM:
                    sock.listen(8)
                sock.settimeout(0.2)
                self.sockets[(host, kind)] = sock
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._listen, args=(key, sock), daemon=True)
                        for key, sock in self.sockets.items()]
        for thread in self.threads:
            thread.start()

    def port(self, host: str, kind) -> int:
        return self.sockets[(host, kind)].getsockname()[1]

    def _listen(self, key, sock) -> None:
        deadline = time.monotonic() + 900  # stops by itself
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if key[1] == socket.SOCK_STREAM:
                    conn, _ = sock.accept()
                    conn.close()
                    self.seen.append(f"tcp {key[0]}")
                else:
                    sock.recv(4096)
                    self.seen.append(f"udp {key[0]}")
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        for sock in self.sockets.values():
            sock.close()
