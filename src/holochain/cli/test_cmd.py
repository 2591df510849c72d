"""``hc test``: package the DNA, then run the project's tests.

As holochain-rust's ``hc test`` did: package into ``dist/`` (unless
``--skip-package``), then run the tests in ``test/``.  Here those are
pytest files (``test_*.py``, with the ``scenario`` fixture of
:mod:`holochain.testing` available) and, when the project has them,
JavaScript tests run as ``node test/index.js`` (after ``npm install`` in
``test/`` if it has a ``package.json`` and no ``node_modules`` yet).  The
exit status is the tests': 0 only when every suite passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

__all__ = ["test_cmd"]

NODE_MISSING = (
    "This command requires the `node` and `npm` commands to run test/index.js.\n"
    "Visit https://nodejs.org to install node and npm (which comes with node), then retry."
)


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> int:
    try:
        return subprocess.run(args, cwd=cwd, env=env).returncode
    except FileNotFoundError:
        raise click.ClickException(f"`{args[0]}` not found on PATH")


def _python_tests(tests: Path) -> list[Path]:
    return sorted({*tests.glob("test_*.py"), *tests.glob("*_test.py")})


def _check_pytest() -> None:
    for module, why in (("pytest", "runs the tests"), ("pytest_asyncio", "runs the async scenario tests")):
        try:
            __import__(module)
        except ImportError:
            raise click.ClickException(
                f"{module} is not installed ({why}): pip install 'holochain-py[test]' (or {module.replace('_', '-')})"
            )


@click.command("test", context_settings={"ignore_unknown_options": True})
@click.option("-d", "--dir", "tests_dir", default="test", show_default=True, help="The folder holding the tests.")
@click.option(
    "-t",
    "--testfile",
    default="test/index.js",
    show_default=True,
    help="The JavaScript test file, run with node when it exists.",
)
@click.option("-s", "--skip-package", is_flag=True, help="Use the DNA already in dist/ instead of packaging first.")
@click.option("-n", "--show-npm-output", is_flag=True, help="Show npm's output when it installs test dependencies.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test_cmd(
    tests_dir: str, testfile: str, skip_package: bool, show_npm_output: bool, pytest_args: tuple[str, ...]
) -> None:
    """Package the DNA and run the project's tests; exits with their status.

    \b
    Python tests: test/test_*.py, run by pytest.  The `scenario` fixture
    (holochain.testing) starts players sharing a DHT, and the fixtures of
    test/conftest.py (written by `hc init`) give the packaged DNA:
      async def test_it(scenario, player_config):
          alice = await scenario.player("alice", player_config)
          result = await alice.call("app", "notes", "create_my_entry", {...})
    JavaScript tests: test/index.js, run with node (as holochain-rust did).
    Arguments after the options go to pytest:  hc test -- -k notes -x
    """
    from .hc import _default_dna_path

    project = Path.cwd()
    dna_path = _default_dna_path()
    if not skip_package:
        from ..ribosome.packager import PackageError, package_project, write_package

        click.echo(f'Packaging files for testing to file: "{dna_path}"')
        try:
            tree, dna = package_project(project)
        except PackageError as exc:
            raise click.ClickException(str(exc))
        write_package(tree, dna_path)
        click.echo(f"DNA hash: {dna.address}")
    elif not dna_path.is_file():
        raise click.ClickException(f"{dna_path} not found: run `hc package` first, or drop --skip-package")

    tests = project / tests_dir
    if not tests.is_dir():
        raise click.ClickException(f"Directory {tests_dir} does not exist")
    env = {**os.environ, "HC_DNA_PATH": str(dna_path.resolve())}
    suites = 0
    status = 0
    if _python_tests(tests):
        _check_pytest()
        suites += 1
        click.echo(f"Running Python tests in {tests_dir}/", err=False)
        code = _run([sys.executable, "-m", "pytest", "--rootdir", str(project), tests_dir, *pytest_args], project, env)
        status = status or code
    js = project / testfile
    if js.is_file():
        suites += 1
        status = status or _run_js(js, tests, show_npm_output, project, env)
    if suites == 0:
        raise click.ClickException(
            f"no tests in {tests_dir}/: add test_*.py files (`hc generate` writes one per zome) or {testfile}"
        )
    sys.exit(status)


def _run_js(js: Path, tests: Path, show_npm_output: bool, project: Path, env: dict[str, str]) -> int:
    if shutil.which("node") is None:
        raise click.ClickException(NODE_MISSING)
    if (tests / "package.json").is_file() and not (tests / "node_modules").exists():
        click.echo("Installing node_modules")
        code = _run(["npm", "install", *([] if show_npm_output else ["--silent"])], tests, env)
        if code != 0:
            raise click.ClickException(f"npm install in {tests} failed (exit status {code})")
    click.echo(f"Running tests in {js.relative_to(project)}")
    return _run(["node", str(js.relative_to(project))], project, env)
