"""The HTML pages in a real browser: Debian's chromium, headless, through Playwright.

Each kind of page (impact, restore plan, Monte Carlo) is built once for the session from
the bundled frost-strike scenarios and opened from a file:// URL. A page fails the test on
any console error, uncaught exception, failed request or request that leaves the file.
The impact page's slider recolours a district with the palette's colour of its
temperature at that hour, hovering shows the district's tooltip, play moves the hours;
the plan page's Gantt bars sit at the plan's start and end hours. Screenshots go to
``warmgrid-out/screenshots/`` (1280×800).

Only skipped, with the reason, where chromium or Playwright cannot be had
(``make setup`` installs both when it may).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "warmgrid-out" / "screenshots"


@pytest.fixture(scope="session")
def pages(tmp_path_factory):
    """The three pages of the bundled scenarios, and their results (built once)."""
    from warmgrid.model.scenario import load_scenario
    from warmgrid.report.html import impact_html
    from warmgrid.report.montecarlo import montecarlo_html
    from warmgrid.report.plan import plan_html
    from warmgrid.study.montecarlo import run_montecarlo, summary
    from warmgrid.study.restore import restore
    from warmgrid.study.run import impact
    from warmgrid.study.store import Store

    root = tmp_path_factory.mktemp("pages")
    sc = load_scenario("frost-strike")
    imp = json.loads(json.dumps(impact(sc).to_json()))
    plan = json.loads(json.dumps(restore(sc).to_json()))
    run = run_montecarlo(
        load_scenario("frost-strike-mc"),
        60,
        seed=1,
        scheduler="synchronous",
        store=root / "r.duckdb",
    )
    st = Store(run.store)
    mc = montecarlo_html(summary(st, run.run, top=15), st.samples(run.run), st.context(run.run))
    out = {}
    for name, html in (("impact", impact_html(imp)), ("plan", plan_html(plan)), ("mc", mc)):
        out[name] = root / f"{name}.html"
        out[name].write_text(html, encoding="utf-8")
    return {"files": out, "impact": imp, "plan": plan}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing and could not be installed (make setup installs it with "
            "apt-get when run as root): the HTML pages are NOT tested in a browser"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[test]'): pages NOT tested")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Watched:
    """A page that records every console error, exception, failed or outside request."""

    def __init__(self, browser, url: str) -> None:
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        pg = self.page
        pg.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        pg.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        pg.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        pg.on(
            "request",
            lambda r: r.url.startswith(("file://", "data:")) or self.problems.append(r.url),
        )
        pg.goto(url)
        pg.wait_for_selector("body[data-ready='1']", timeout=5000)

    def close(self) -> None:
        self.page.close()
        assert self.problems == [], self.problems


@pytest.fixture
def open_page(browser):
    opened = []

    def _open(path: Path) -> Watched:
        w = Watched(browser, path.as_uri())
        opened.append(w)
        return w

    yield _open
    for w in opened:
        w.close()


def _shot(page, name: str, *, selector: str | None = None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if selector:
        page.locator(selector).first.screenshot(path=str(SHOTS / name))
    else:
        page.screenshot(path=str(SHOTS / name))


def _dense_at(changes, hour):
    v = None
    for h, x in changes:
        if h <= hour:
            v = x
    return v


def _hover_point(pg, m):
    """The coldest district with a point where the pointer meets the district itself."""
    order = sorted(range(len(m["areas"])), key=lambda i: m["areas"][i]["min_temp_c"])
    for i in order[:20]:
        box = pg.locator(f'circle.area[data-i="{i}"]').bounding_box()
        if box is None:
            continue
        for fx, fy in ((0.5, 0.5), (0.25, 0.5), (0.75, 0.5), (0.5, 0.25), (0.5, 0.75)):
            x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
            hit = pg.evaluate(
                "([x, y]) => { const e = document.elementFromPoint(x, y);"
                " return e && e.matches('circle.area') ? e.getAttribute('data-i') : null; }",
                [x, y],
            )
            if hit == str(i):
                return m["areas"][i], (x, y)
    raise AssertionError("no district can be hovered")


def test_impact_page(pages, open_page):
    from warmgrid.report.page import temp_color

    w = open_page(pages["files"]["impact"])
    pg = w.page
    _shot(pg, "impact.png")
    m = pages["impact"]["map"]
    # the district that gets coldest: its colour at hour 0 and at the last hour
    i = min(range(len(m["areas"])), key=lambda i: m["areas"][i]["min_temp_c"])
    area = m["areas"][i]
    disc = pg.locator(f'circle.area[data-i="{i}"]')
    slider = pg.locator("#hour")
    slider.focus()
    slider.press("Home")
    assert slider.input_value() == "0"
    cold0 = disc.get_attribute("fill")
    assert cold0 == temp_color(_dense_at(area["temp_c"], 0))
    clock0 = pg.locator("#r-clock").inner_text()
    slider.press("End")
    n = m["n_hours"]
    assert slider.input_value() == str(n)
    cold1 = disc.get_attribute("fill")
    assert cold1 == temp_color(_dense_at(area["temp_c"], n))
    assert cold1 != cold0
    assert pg.locator("#r-clock").inner_text() != clock0
    assert (
        pg.locator("#r-heat").inner_text()
        == f"{pages['impact']['timeline'][-1]['people_without_heat']:,}"
    )
    # hover: the district's name, people, building type and services
    disc.scroll_into_view_if_needed()
    # a station's marker may sit on a district: hover the coldest district at a point
    # where the district itself is what the pointer meets
    area, point = _hover_point(pg, m)
    pg.mouse.move(*point)
    tip = pg.locator("#tip")
    assert tip.is_visible()
    text = tip.inner_text()
    assert area["name"] in text
    assert f"{area['population']:,} people" in text
    assert "building type" in text
    assert "heat:" in text
    _shot(pg, "impact-map.png", selector=".mapwrap")
    # play moves the hours, pause stops them
    slider.press("Home")
    pg.locator("#play").click()
    pg.wait_for_function("document.getElementById('hour').value > 3", timeout=3000)
    pg.locator("#play").click()
    v = slider.input_value()
    pg.wait_for_timeout(250)
    assert slider.input_value() == v
    # a layer off
    pg.locator("input[data-layer='names']").uncheck()
    assert "hide-names" in (pg.locator("#map").get_attribute("class") or "")
    # the people chart reads out the hour under the pointer
    pg.locator("#chart-people .hover").hover()
    assert "without heat" in tip.inner_text()
    pg.locator("#chart-people").scroll_into_view_if_needed()
    _shot(pg, "impact-charts.png")


def test_plan_page(pages, open_page):
    w = open_page(pages["files"]["plan"])
    pg = w.page
    _shot(pg, "plan.png")
    plan = pages["plan"]["plan"]
    g = pg.locator("#gantt")
    x0, x1, h1 = (float(g.get_attribute(a)) for a in ("data-x0", "data-x1", "data-h1"))
    bars = pg.locator("#gantt rect.bar")
    assert bars.count() == len(plan)
    for k in range(len(plan)):
        bar = bars.nth(k)
        r = plan[int(bar.get_attribute("data-r"))]
        x, width = float(bar.get_attribute("x")), float(bar.get_attribute("width"))
        assert x == pytest.approx(x0 + r["start_h"] / h1 * (x1 - x0), abs=0.01)
        assert width == pytest.approx((r["end_h"] - r["start_h"]) / h1 * (x1 - x0), abs=0.01)
    # rows by crew: a crew's bars share a row, crews do not
    ys = {}
    for k in range(len(plan)):
        bar = bars.nth(k)
        ys.setdefault(plan[int(bar.get_attribute("data-r"))]["crew"], set()).add(
            bar.get_attribute("y")
        )
    assert all(len(v) == 1 for v in ys.values())
    assert len({next(iter(v)) for v in ys.values()}) == len(ys)
    g.scroll_into_view_if_needed()
    bars.first.hover()
    tip = pg.locator("#tip")
    assert plan[int(bars.first.get_attribute("data-r"))]["name"] in tip.inner_text()
    _shot(pg, "plan-gantt.png")
    # the map's slider moves the Gantt chart's cursor
    slider = pg.locator("#hour")
    slider.focus()
    slider.press("Home")
    c0 = g.locator(".cursor").get_attribute("x1")
    for _ in range(24):
        slider.press("ArrowRight")
    assert float(g.locator(".cursor").get_attribute("x1")) > float(c0)
    _shot(pg, "plan-map.png", selector=".mapwrap")
    assert pg.locator("table.plan tbody tr").count() == len(plan)
    # person-hours below 12 °C with the fast–slow range of the building calibrations
    lo, hi = pages["plan"]["objective_ranges"]["plan"]["person_hours_below_12c"]
    row = pg.locator("tr", has_text="below 12").first.inner_text()
    assert f"({lo:,.0f}–{hi:,.0f})" in row, row


def test_montecarlo_page(pages, open_page):
    w = open_page(pages["files"]["mc"])
    pg = w.page
    _shot(pg, "montecarlo.png")
    bar = pg.locator("svg.hist-chart rect.hbar").first
    bar.scroll_into_view_if_needed()
    bar.hover()
    assert "samples" in pg.locator("#tip").inner_text()
    pg.locator("#chart-exceed").scroll_into_view_if_needed()
    _shot(pg, "montecarlo-charts.png")
    # the header: the scenario's start, weather, mode and its own damage by name
    head = pg.locator("header").inner_text()
    assert "Tue 3 Feb 2026 00:00" in head, head
    assert "−20 to −16 °C" in head, head
    assert "maximum load delivery" in head.lower(), head
    chips = pg.locator("header .chips li")
    assert chips.count() == 3
    assert "chp-south-1" in chips.first.inner_text()
    assert "synthetic" in pg.locator("header section[aria-label=assumptions]").inner_text()


def test_pages_are_small_and_offline(pages):
    for f in pages["files"].values():
        page = f.read_text(encoding="utf-8")
        assert f.stat().st_size < 5_000_000
        assert "https://" not in page
        assert "http://" not in page
