"""The check every browser test's pages pass: no serious or critical axe-core violation, at desktop
width and at 390 px, and nothing wider than the screen at either width (no sideways scrolling).

`page_problems(page)` checks the page as it is now. `VisitLog` records the pages a test's tabs
load (main frame, the given origins) so a fixture can check each of them once when the test ends
(`problems_of_visited`): each page is loaded again in a fresh tab of the same context, so the
test's own tab is never disturbed. axe-core is a test asset (`make vendor-axe`), injected through
the DevTools protocol, which the portal's strict CSP does not apply to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

AXE_DIR = next((Path(__file__).parent.parent / "e2e" / "assets").glob("axe-core-*"))
AXE_SOURCE = (AXE_DIR / "axe.min.js").read_text(encoding="utf-8")
BLOCKING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

RUN_AXE = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")), count: v.nodes.length,
  }));
}"""

# Elements whose right edge passes the viewport, outermost first (those inside a box that
# scrolls on its own, like .table-responsive, are that box's business, not the page's).
WIDER_THAN_SCREEN = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= limit + 1) continue;
    let p = el.parentElement, clipped = false;
    while (p && p !== document.body) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { clipped = true; break; }
      p = p.parentElement;
    }
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      classes.filter(Boolean).map((c) => "." + c).join("");
    if (!clipped) out.push(name + " right=" + Math.round(r.right));
    if (out.length >= 5) break;
  }
  return {scroll: document.documentElement.scrollWidth, limit, out};
}"""


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING_IMPACTS]


def overflow(page) -> list[str]:
    """Why the page scrolls sideways, or [] when it fits its viewport."""
    found = page.evaluate(WIDER_THAN_SCREEN)
    if found["scroll"] <= found["limit"]:
        return []
    culprits = ", ".join(found["out"]) or "text, or an absolutely placed element"
    return [f"page is {found['scroll']} px wide in {found['limit']} px: {culprits}"]


def page_problems(page, *, label: str = "") -> list[str]:
    """Overflow and axe-core at the page's width, then both again at 390 px."""
    where = label or page.url
    problems = [f"{where} at desktop width: {text}" for text in overflow(page)]
    problems += [_describe(where, "desktop", v) for v in axe_violations(page)]
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        problems += [f"{where} at 390 px: {text}" for text in overflow(page)]
        problems += [_describe(where, "390 px", v) for v in axe_violations(page)]
    finally:
        if size:
            page.set_viewport_size(size)
    return problems


def _describe(where: str, width: str, violation: dict) -> str:
    return (
        f"{where} ({width}): axe {violation['impact']} {violation['id']}: {violation['help']} "
        f"x{violation['count']} e.g. {violation['targets']}"
    )


# Pages that cannot be loaded twice: the sign-in callback redeems a one-time code.
NOT_REVISITED = ("/auth/callback",)


@dataclass
class VisitLog:
    origins: tuple[str, ...]
    urls: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.add(frame.url))

    def add(self, url: str) -> None:
        parts = urlsplit(url)
        if not url.startswith(self.origins) or parts.path.endswith(NOT_REVISITED):
            return
        if url not in self.urls:
            self.urls.append(url)


def problems_of_visited(context, log: VisitLog) -> list[str]:
    """Each page the log recorded, loaded again in a fresh tab of `context` and checked."""
    problems: list[str] = []
    if not log.urls:
        return problems
    tab = context.new_page()
    tab.set_viewport_size(DESKTOP)
    try:
        for url in log.urls:
            response = tab.goto(url)
            if response is None or response.status >= 400 or tab.url != url and _left(tab, log):
                continue
            problems += page_problems(tab, label=urlsplit(url).path)
    finally:
        tab.close()
    return problems


def close_checked(context, log: VisitLog) -> None:
    """Check every page `log` saw in `context` (axe-core, 390 px), close it, and fail with what
    was found."""
    try:
        problems = problems_of_visited(context, log)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def _left(tab, log: VisitLog) -> bool:
    """The page sent us elsewhere (a signed-out session, a finished flow): checked only if the
    new place is one of ours."""
    return not tab.url.startswith(log.origins)
