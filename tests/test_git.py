"""qdx as git's diff and merge driver, with real git in a temporary repository.

git runs with an isolated HOME and global config (no system config), and finds qdx the way
the installed driver says (``<python> -m qdx``, plus PYTHONPATH when this checkout was found
through it). The expected merged project is built here by applying both edits by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

import qdx
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User, iter_codes

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
QDX_ROOT = str(Path(qdx.__file__).resolve().parent.parent)


def g(n: int) -> Guid:
    return Guid(str(uuid.UUID(int=n)))


def base_project() -> Project:
    privacy = Code(guid=g(10), name="Privacy", children=(Code(guid=g(11), name="Blocking"),))
    codes = (privacy, Code(guid=g(12), name="Food"))
    text = "I post photos of food.\nMy parents cannot see them.\n"
    coding = Coding(guid=g(31), code=g(12), creating_user=g(1))
    sel = TextSelection(guid=g(30), start=0, end=22, codings=(coding,))
    source = TextSource(guid=g(20), name="Interview 1", text=text, selections=(sel,))
    return Project(name="study", users=(User(guid=g(1), name="Ann"),), codes=codes, sources=(source,))


def renamed(p: Project, key: int, name: str) -> Project:
    def walk(codes: tuple[Code, ...]) -> tuple[Code, ...]:
        return tuple(replace(c, name=name if c.guid == g(key) else c.name, children=walk(c.children)) for c in codes)

    return replace(p, codes=walk(p.codes))


def with_coding(p: Project) -> Project:
    source = p.sources[0]
    assert isinstance(source, TextSource)
    coding = Coding(guid=g(41), code=g(11), creating_user=g(1))
    sel = TextSelection(guid=g(40), start=23, end=50, codings=(coding,))
    return replace(p, sources=(replace(source, selections=(*source.selections, sel)),))


@pytest.fixture()
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "repo"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
        PYTHONPATH=os.pathsep.join([QDX_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    git(work, env, "init", "-q", "-b", "main")
    return work, env


def git(work: Path, env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *args], cwd=work, env=env, capture_output=True, text=True, check=False)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def qdx_cli(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qdx", *args], cwd=work, env=env, capture_output=True, text=True)


def commit(work: Path, env: dict[str, str], project: Project, message: str) -> None:
    qdx.write(project, work / "project.qdpx", newline="keep")
    git(work, env, "add", "-A")
    git(work, env, "commit", "-q", "-m", message)


def test_install_writes_attributes_and_config_and_uninstall_removes_them(repo: tuple[Path, dict[str, str]]) -> None:
    work, env = repo
    done = qdx_cli(work, env, "git", "install")
    assert done.returncode == 0, done.stderr
    attributes = (work / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "*.qdpx diff=qdx merge=qdx" in attributes and "*.qdc diff=qdx merge=qdx" in attributes
    assert "-m qdx git merge-driver %O %A %B %P" in git(work, env, "config", "merge.qdx.driver").stdout
    assert git(work, env, "check-attr", "merge", "--", "x.qdpx").stdout.strip().endswith("merge: qdx")
    qdx_cli(work, env, "git", "install")  # twice: nothing doubled
    assert (work / ".gitattributes").read_text(encoding="utf-8").splitlines() == attributes
    assert qdx_cli(work, env, "git", "uninstall").returncode == 0
    assert (work / ".gitattributes").read_text(encoding="utf-8").strip() == ""
    assert git(work, env, "config", "merge.qdx.driver", ok=False).returncode != 0


def test_global_install_uses_the_users_attributes_file(repo: tuple[Path, dict[str, str]]) -> None:
    work, env = repo
    assert qdx_cli(work, env, "git", "install", "--global").returncode == 0
    attributes = Path(env["XDG_CONFIG_HOME"]) / "git" / "attributes"
    assert "*.qdpx diff=qdx merge=qdx" in attributes.read_text(encoding="utf-8")
    assert not (work / ".gitattributes").exists()
    assert "textconv" in git(work, env, "config", "--global", "--list").stdout
    assert qdx_cli(work, env, "git", "uninstall", "--global").returncode == 0
    assert "qdx" not in attributes.read_text(encoding="utf-8")


def test_git_merge_runs_the_three_way_merge(repo: tuple[Path, dict[str, str]]) -> None:
    work, env = repo
    assert qdx_cli(work, env, "git", "install").returncode == 0
    base = base_project()
    commit(work, env, base, "base")
    git(work, env, "checkout", "-q", "-b", "coder")
    commit(work, env, renamed(base, 11, "Blocking people"), "coder renames a code")
    git(work, env, "checkout", "-q", "main")
    commit(work, env, with_coding(base), "lead codes a passage")
    done = git(work, env, "merge", "-q", "--no-edit", "coder", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = qdx.read(work / "project.qdpx")
    assert merged == with_coding(renamed(base, 11, "Blocking people"))
    assert not (work / "project.qdpx.conflicts.json").exists()
    # git diff shows the textconv rendering: the renamed code as a changed line.
    shown = git(work, env, "diff", "HEAD~1", "HEAD", "--", "project.qdpx").stdout
    assert "-    Blocking\n" in shown and "+    Blocking people\n" in shown
    assert "Binary files" not in shown


def test_conflicting_edits_stop_git_merge_with_the_report(repo: tuple[Path, dict[str, str]]) -> None:
    work, env = repo
    assert qdx_cli(work, env, "git", "install").returncode == 0
    base = base_project()
    commit(work, env, base, "base")
    git(work, env, "checkout", "-q", "-b", "coder")
    commit(work, env, renamed(base, 12, "Eating"), "coder")
    git(work, env, "checkout", "-q", "main")
    commit(work, env, renamed(with_coding(base), 12, "Meals"), "lead")
    done = git(work, env, "merge", "--no-edit", "coder", ok=False)
    assert done.returncode != 0
    assert "CONFLICT" in done.stdout and "project.qdpx" in done.stdout
    report = json.loads((work / "project.qdpx.conflicts.json").read_text(encoding="utf-8"))
    assert [(c["base"], c["ours"], c["theirs"]) for c in report["conflicts"]] == [("Food", "Meals", "Eating")]
    # The merged project is left in place (ours' side of the conflict), with the other edits.
    left = qdx.read(work / "project.qdpx")
    assert left == renamed(with_coding(base), 12, "Meals")
    assert "project.qdpx" in git(work, env, "diff", "--name-only", "--diff-filter=U").stdout


def test_textconv_rendering_is_stable_and_readable(tmp_path: Path) -> None:
    from qdx.ops.textview import render_text

    p = with_coding(base_project())
    text = render_text(p)
    assert text == render_text(qdx.read(_written(p, tmp_path)))
    assert text.splitlines()[:5] == ["project: study", "codes (3):", "  Privacy", "    Blocking", "  Food"]
    assert '    [0:22] Food (Ann) "I post photos of food."' in text
    assert '    [23:50] Privacy > Blocking (Ann) "My parents cannot see them."' in text
    assert [c.name for c, _ in iter_codes(p.codes)] == ["Privacy", "Blocking", "Food"]


def _written(p: Project, tmp_path: Path) -> Path:
    path = tmp_path / "p.qdpx"
    qdx.write(p, path)
    return path


def test_git_merge_of_a_codebook(repo: tuple[Path, dict[str, str]]) -> None:
    work, env = repo
    assert qdx_cli(work, env, "git", "install").returncode == 0
    base = replace(base_project(), name="", sources=(), users=(), is_codebook=True)  # a .qdc has no name

    def save(p: Project, message: str) -> None:
        qdx.write(p, work / "codebook.qdc")
        git(work, env, "add", "-A")
        git(work, env, "commit", "-q", "-m", message)

    save(base, "codebook")
    git(work, env, "checkout", "-q", "-b", "coder")
    save(renamed(base, 12, "Eating"), "coder renames Food")
    git(work, env, "checkout", "-q", "main")
    save(renamed(base, 11, "Blocking people"), "lead renames Blocking")
    done = git(work, env, "merge", "-q", "--no-edit", "coder", ok=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert qdx.read(work / "codebook.qdc") == renamed(renamed(base, 11, "Blocking people"), 12, "Eating")
    shown = git(work, env, "diff", "HEAD^1", "HEAD", "--", "codebook.qdc").stdout
    assert "-  Food\n" in shown and "+  Eating\n" in shown
