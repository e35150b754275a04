import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"


def corpus_or_skip() -> Path:
    if not (CORPUS / "talks").is_dir():
        pytest.skip("the shared corpus is not beside the repository")
    return CORPUS


def chromium_or_skip() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Debian's chromium is not installed")
    return path


@pytest.fixture
def seed_talk(tmp_path):
    """The user's talk exactly as supplied, in a copy of this project's layout."""
    source = Path(__file__).parent / "fixtures" / "information-session.md"
    talk = tmp_path / "talks" / "information-session.md"
    talk.parent.mkdir(parents=True)
    shutil.copy(source, talk)
    shutil.copytree(ROOT / "includes", tmp_path / "includes")
    shutil.copytree(ROOT / "diagrams", tmp_path / "diagrams")
    return talk


@pytest.fixture(autouse=True)
def isolated_user(tmp_path_factory, monkeypatch):
    """No test reads the real user's path mapping: a temporary HOME, no TALKS_PATH_MAP."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("TALKS_PATH_MAP", raising=False)
    return home
