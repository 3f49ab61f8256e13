"""Build the whole book offline and look at it as a reader would (headless Chromium).

Marked ``book``: it executes every chapter through jupyter-cache and takes a
minute or two. Chromium is installed by ``.ci/run``; without it the browser
checks are skipped locally and fail under CI.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import toc_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
pytestmark = pytest.mark.book


@pytest.fixture(scope="module")
def built_book() -> Path:
    jb = Path(sys.executable).with_name("jupyter-book")
    mathjax = ROOT / "_static" / "mathjax" / "tex-mml-chtml.js"
    assert mathjax.is_file(), "MathJax is not in _static/mathjax: run `make test` or `make book`, which fetch it"
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "--keep-going"],
        capture_output=True, text=True, timeout=1500, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return HTML


def pages(html_root: Path) -> dict[str, Path]:
    return {f: html_root / f"{f}.html" for f in toc_files()}


def test_every_toc_entry_has_a_page_with_its_figures(built_book):
    for entry, page in pages(built_book).items():
        assert page.is_file(), f"{entry} produced no page"
        source = (ROOT / entry).with_suffix(".ipynb")
        if source.is_file():
            cells = json.loads(source.read_text())["cells"]
            n_images = sum(
                "image/png" in out.get("data", {})
                for cell in cells if "remove-output" not in cell.get("metadata", {}).get("tags", [])
                for out in cell.get("outputs", [])
            )
            html = page.read_text()
            shown = len(re.findall(r'<img [^>]*src="[^"]*\.png"', html))
            assert shown >= n_images > 0, f"{entry}: {shown} images in HTML, {n_images} in notebook"
            for src in re.findall(r'<img [^>]*src="([^"]+)"', html):
                assert (page.parent / src).resolve().is_file(), f"{entry}: missing image {src}"


def test_no_page_loads_anything_from_the_internet(built_book):
    remote = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', re.I)
    for page in built_book.rglob("*.html"):
        hits = [m for m in remote.findall(page.read_text()) if "<a " not in m]
        assert not hits, f"{page.relative_to(built_book)} loads remote resources: {hits[:3]}"
    mathjax = built_book / "_static" / "mathjax" / "tex-mml-chtml.js"
    assert mathjax.is_file()


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
    pytest.skip("chromium not installed (apt-get install chromium); CI runs this check")


def render(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``page`` with every network request refused."""
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1280,1600", "--virtual-time-budget=15000", *extra, page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("entry", toc_files())
def test_pages_render_offline_with_typeset_math(built_book, tmp_path, entry):
    page = pages(built_book)[entry]
    dom = render(page, tmp_path, "--dump-dom").stdout
    assert "</html>" in dom, "Chromium did not render the page"
    source = next(p for p in ((ROOT / entry).with_suffix(e) for e in (".md", ".ipynb")) if p.is_file())
    if "$" in source.read_text():
        assert dom.count("<mjx-container") > 0, f"{entry}: math was not typeset by MathJax"
    visible = re.sub(r"<script.*?</script>", "", dom.split("<body", 1)[-1], flags=re.S)
    assert "\\(" not in visible and "\\[" not in visible, f"{entry}: raw TeX left on the page"
    shot = tmp_path / "page.png"
    render(page, tmp_path, f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 30_000
    keep = ROOT / "_build" / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / f"{Path(entry).name}.png")
