"""``hc run --watch``: repackage the DNA when a zome's source changes, and reload its code.

Polling, not inotify: the project's files are listed twice a second
(``zomes/`` and the root ``*.json`` files, what the packager reads, less
hidden files and ``__pycache__``), compared by modification time and size.
A change waits for one quiet poll (an editor's save is often several
writes), then the project is packaged again (in a thread: the conductor
keeps serving), ``dist/`` rewritten, and the instance reloads its zome code
(:func:`~holochain.instance.code_reload.reload_code`).

**The chain is kept.**  New code gives a new DNA hash, and a new hash would
mean a new chain, so the instance keeps the DNA address its chain began
with (its Dna entry, its network space) and runs the new code under it; a
public function added is callable at once (a new public grant is committed).
Restarting ``hc run --persist`` later runs the DNA under its new hash on the
same chain.  Code that does not package or load (a syntax error, a failing
import) is reported and the previous code keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from ..core.dna import Dna
from ..instance.code_reload import reload_code
from ..instance.instance import Instance
from ..ribosome.packager import PackageError, package_project, write_package
from ..ribosome.python_zome import ZomeCodeError

__all__ = ["ZomeWatcher", "snapshot", "describe_change"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
MAX_FILES = 20_000  # a project bigger than this is not watched whole (said once)

Snapshot = dict[str, tuple[int, int]]


def snapshot(project: Path) -> Snapshot:
    """``relative path -> (mtime_ns, size)`` of the files packaging reads."""
    files: Snapshot = {}
    for path in sorted(project.glob("*.json")):
        _add(files, project, path)
    zomes = project / "zomes"
    if zomes.is_dir():
        stack = [zomes]
        while stack and len(files) < MAX_FILES:
            directory = stack.pop()
            try:
                children = list(directory.iterdir())
            except OSError:
                continue
            for child in children:
                if child.name.startswith(".") or child.name == "__pycache__":
                    continue
                if child.is_dir() and not child.is_symlink():
                    stack.append(child)
                else:
                    _add(files, project, child)
    return files


def _add(files: Snapshot, project: Path, path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    files[path.relative_to(project).as_posix()] = (st.st_mtime_ns, st.st_size)


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def describe_change(old: Dna, new: Dna) -> str:
    """What the new DNA changes, in words: zomes added, removed, updated and their functions."""
    parts = []
    for name in sorted(new.zomes.keys() - old.zomes.keys()):
        parts.append(f"zome '{name}' added")
    for name in sorted(old.zomes.keys() - new.zomes.keys()):
        parts.append(f"zome '{name}' removed")
    for name in sorted(old.zomes.keys() & new.zomes.keys()):
        if old.code.get(name) == new.code.get(name) and old.zomes[name] == new.zomes[name]:
            continue
        before = {f["name"] for f in old.zomes[name]["fn_declarations"]}
        after = {f["name"] for f in new.zomes[name]["fn_declarations"]}
        detail = []
        if after - before:
            detail.append("functions added: " + ", ".join(sorted(after - before)))
        if before - after:
            detail.append("functions removed: " + ", ".join(sorted(before - after)))
        parts.append(f"zome '{name}' updated" + (f" ({'; '.join(detail)})" if detail else ""))
    if old.properties != new.properties:
        parts.append("DNA properties changed")
    return "; ".join(parts) or "no zome changed"


class ZomeWatcher:
    """Watches a project and reloads one instance's zome code (see the module docstring)."""

    def __init__(
        self,
        project: Path,
        dna_path: Path,
        instance: Callable[[], Instance | None],
        *,
        out: Callable[[str], None] | None = None,
        err: Callable[[str], None] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.project = project
        self.dna_path = dna_path
        self.instance = instance
        self.out = out or (lambda line: print(line, flush=True))
        self.err = err or (lambda line: print(line, file=sys.stderr, flush=True))
        self.poll_seconds = poll_seconds
        self.reloads = 0

    async def run(self) -> None:
        seen = snapshot(self.project)
        if len(seen) >= MAX_FILES:
            self.err(f"Watching only the first {MAX_FILES} files of {self.project}")
        pending: Snapshot | None = None
        while True:
            await asyncio.sleep(self.poll_seconds)
            now = await asyncio.to_thread(snapshot, self.project)
            if now == seen:
                pending = None
            elif now != pending:
                pending = now  # still changing? wait for a quiet poll
            else:
                changed = changed_paths(seen, now)
                seen, pending = now, None
                await self.reload(changed)

    async def reload(self, changed: list[str]) -> bool:
        """Repackage and reload; True if the new code runs."""
        what = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        instance = self.instance()
        if instance is None:
            self.err(f"Zome code changed ({what}) but the instance is not running: not reloaded")
            return False
        try:
            tree, dna = await asyncio.to_thread(package_project, self.project)
        except PackageError as exc:
            self.err(f"Zome code changed ({what}) but was not reloaded, the previous code keeps running: {exc}")
            return False
        old = instance.dna
        try:
            await reload_code(instance, dna)
        except ZomeCodeError as exc:
            self.err(f"Zome code changed ({what}) but was not reloaded, the previous code keeps running: {exc}")
            return False
        except Exception as exc:  # the watcher must outlive any one bad reload
            log.error("reloading zome code failed", exc_info=exc)
            self.err(f"Zome code changed ({what}); reloading it failed: {type(exc).__name__}: {exc}")
            return False
        write_package(tree, self.dna_path)
        self.reloads += 1
        self.out(f"Reloaded zome code ({what} changed): {describe_change(old, dna)}")
        if dna.address != instance.dna_address:
            self.out(
                f"  DNA hash is now {dna.address}; the instance keeps its chain and runs the new code "
                f"as {instance.dna_address}"
            )
        return True
