"""Build the whole book offline and look at it as a reader would (headless Chromium).

Marked ``book``: it executes every chapter through jupyter-cache and takes a
minute or two. Chromium is installed by ``.ci/run``; without it the browser
checks are skipped locally and fail under CI (``CI=true``). Every page is
screenshotted into ``_build/screenshots/``; each page of ``_toc.yml`` must show
its figures at no less than 60 % of their natural width and must not scroll
sideways in the main column (book/conventions.md).
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import toc_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
pytestmark = pytest.mark.book


def rendering_config() -> Path:
    """_config.yml with notebook execution off, written to _build/.

    ``make test`` executes every chapter once already (nbval, collected from
    _toc.yml, compares it against its saved outputs), so the book test renders
    the saved outputs instead of executing each chapter a second time.
    ``make book`` executes them (``execute_notebooks: cache``).
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    # relative to the configuration file's folder: point back at the book's own _static
    config["sphinx"]["config"]["html_static_path"] = [str(ROOT / "_static")]
    path = ROOT / "_build" / "_config_rendered.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def built_book() -> Path:
    jb = Path(sys.executable).with_name("jupyter-book")
    mathjax = ROOT / "_static" / "mathjax" / "tex-mml-chtml.js"
    assert mathjax.is_file(), "MathJax is not in _static/mathjax: run `make test` or `make book`, which fetch it"
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "--keep-going", "--config", str(rendering_config())],
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
            assert shown >= n_images, f"{entry}: {shown} images in HTML, {n_images} in notebook"
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


def render(page: Path, tmp_path: Path, *extra: str, budget_ms: int = 15000) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``page`` with every network request refused.

    ``budget_ms`` is Chromium's virtual time for loading and scripts (MathJax, the layout probe).
    """
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1280,1600", f"--virtual-time-budget={budget_ms}", *extra, page.as_uri(),
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


MIN_FIGURE_SCALE = 0.6
"""A figure shown narrower than this fraction of its natural width is illegible."""

PROBE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const article = document.querySelector("article.bd-article")
    || document.querySelector("main") || document.body;
  const figures = [...article.querySelectorAll("img")]
    .filter((img) => img.naturalWidth > 150 && img.offsetParent !== null)
    .map((img) => ({src: img.getAttribute("src"), natural: img.naturalWidth,
                    shown: img.getBoundingClientRect().width}));
  const scrolling = [...article.querySelectorAll("*")].filter((e) => {
    const style = getComputedStyle(e);
    return ["auto", "scroll"].includes(style.overflowX)
      && e.offsetParent !== null && e.scrollWidth > e.clientWidth + 2;
  }).map((e) => `${e.tagName.toLowerCase()}.${String(e.className).slice(0, 40)}: `
    + `${e.scrollWidth} > ${e.clientWidth} px: ${e.textContent.trim().slice(0, 70)}`);
  const page = document.documentElement.scrollWidth > document.documentElement.clientWidth + 2;
  const out = document.createElement("pre");
  out.id = "ecgwm-probe";
  out.textContent = JSON.stringify({figures, scrolling, page,
    column: article.getBoundingClientRect().width});
  document.body.appendChild(out);
}, 300));
</script>
"""


def measure_layout(page: Path, tmp_path: Path) -> dict:
    """Figure widths and sideways-scrolling elements of ``page`` as Chromium lays it out at 1280 px."""
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    try:
        for budget_ms in (15000, 30000, 60000):  # a loaded machine can end virtual time before the load event
            dom = render(probe, tmp_path, "--dump-dom", budget_ms=budget_ms).stdout
            found = re.search(r'<pre id="ecgwm-probe">(.*?)</pre>', dom, re.S)
            if found:
                break
    finally:
        probe.unlink()
    assert found, f"{page.name}: the layout probe did not run in Chromium (3 tries)"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("entry", toc_files())
def test_pages_fit_the_column(built_book, tmp_path, entry):
    layout = measure_layout(pages(built_book)[entry], tmp_path)
    small = [
        f"{f['src']}: shown {f['shown']:.0f} of {f['natural']} px"
        for f in layout["figures"]
        if f["shown"] < MIN_FIGURE_SCALE * f["natural"]
    ]
    assert not small, (
        f"{entry}: figures shrunk below {MIN_FIGURE_SCALE:.0%} of their width in a "
        f"{layout['column']:.0f}-px column (make them at most 7 in wide, fonts >= 9 pt): {small}"
    )
    assert not layout["page"], f"{entry}: the whole page scrolls sideways"
    assert not layout["scrolling"], (
        f"{entry}: parts of the main column scroll sideways (wrap code at 88 characters, "
        f"trim or transpose tables, break long equations with aligned): {layout['scrolling']}"
    )
