"""The Dagster UI in a real headless Chromium, as a person uses it: open the asset lineage of
one sync, find source table → model → diff (with its blocking checks) → send, click
"Materialize all", follow the run to its success, see the checks' results on the graph and
on the diff's Checks tab, open the send and see its owners, freshness and the table of the
rows it sent, and keep screenshots (iterable_sync_tests/ui/artifacts/).

Chromium is Debian's (/usr/bin/chromium; scripts/ensure-chromium.sh installs it with apt-get
when missing), driven by the Python ``playwright`` package through ``executable_path``:
no browser is ever downloaded.
"""

import os
import re
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect, sync_playwright

from iterable_sync_tests.ui.conftest import ROOT, RUN_TIMEOUT_S, DagsterServer

pytestmark = [
    pytest.mark.slow,
    # On a fresh machine apt-get may install Chromium first (up to 8 min, see chromium());
    # the server may start here (when run alone); the run uses the default multiprocess
    # executor, as the UI launches it (~80-160 s on a busy 2-core machine).
    pytest.mark.timeout(900),
]

CHROMIUM = Path("/usr/bin/chromium")
ENSURE_CHROMIUM = ROOT / "scripts" / "ensure-chromium.sh"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Without the background-networking flags Chromium keeps calling hosts a closed network
# refuses; --no-sandbox because CI runs as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Wide enough that the four-node lineage fits at a zoom where nodes show their rows (checks,
# latest event); zoomed further out, the UI draws names only.
VIEWPORT = {"width": 1920, "height": 1080}
# UI actions and expectations (expect's own default, 5 s, is short for a busy machine).
WAIT_MS = 30_000
RUN_WAIT_MS = int(RUN_TIMEOUT_S * 1000)

SYNC_KEY = ("iterable", "iterable_production")
MODEL = "contact_namespace"
DIFF = "iterable_production_diff"
SYNC = "iterable_production"  # a node shows the last part of its key
#: The sync's send and everything upstream of its diff, in the UI's selection syntax: the
#: sends it runs after (creators first, sync/order.py) are other syncs' and are left out.
SELECTION = f'+key:"{DIFF}" or key:"{"/".join(SYNC_KEY)}"'
UI_STATUS = {"SUCCEEDED": "Succeeded", "FAILED": "Failed"}

ASSET_NODES_QUERY = """
{ assetNodes { assetKey { path } groupName isMaterializable dependencyKeys { path } } }
"""
DIFF_CHECKS_QUERY = """
query Checks($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset { definition { assetChecksOrError { ... on AssetChecks { checks {
      name
      executionForLatestMaterialization { runId status }
    } } } } }
  }
}
"""

# Asset nodes are HTML in <foreignObject>s (their full name in the label's data-tooltip);
# edges are <path marker-end=...> in the same coordinates. Read both at once.
GRAPH_JS = """
() => {
  const nodes = [];
  for (const fo of document.querySelectorAll('svg foreignObject')) {
    const label = fo.querySelector('[data-tooltip]');
    if (!label || !fo.textContent.includes('Latest event')) continue;
    nodes.push({
      name: label.dataset.tooltip,
      x: +fo.getAttribute('x'), y: +fo.getAttribute('y'),
      w: +fo.getAttribute('width'), h: +fo.getAttribute('height'),
    });
  }
  const edges = [...document.querySelectorAll('svg path[marker-end]')]
    .map((p) => p.getAttribute('d'));
  return {nodes, edges};
}
"""
NUMBER = r"-?\d+(?:\.\d+)?"
FRESHNESS_QUERY = """
query Freshness($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
      internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
      freshnessStatusInfo { freshnessStatus }
    }
  }
}
"""
#: The send's owners (syncs.yaml) and the columns of the table of rows it sent.
OWNERS = ("Amy Waller (Business Owner)", "Mihai Conteanu (Technical Owner)")
PREVIEW_COLUMNS = ("CHANGE", "REASON", "PK", "EMAIL")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get (as root) when it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        result = subprocess.run(
            ["bash", str(ENSURE_CHROMIUM)],
            capture_output=True,
            text=True,
            timeout=480,
            check=False,
        )
        if not os.access(CHROMIUM, os.X_OK):
            pytest.fail(
                f"{CHROMIUM} is missing and {ENSURE_CHROMIUM.name} could not install it "
                f"(exit {result.returncode}): {(result.stderr or result.stdout).strip()[-1500:]}"
            )
    return str(CHROMIUM)


@pytest.fixture
def page(chromium: str) -> Iterator[Page]:
    """A page in headless Debian Chromium with a fresh profile."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(WAIT_MS)
            yield context.new_page()
        finally:
            browser.close()


def _lineage(server: DagsterServer) -> tuple[dict[tuple[str, ...], dict[str, Any]], set[str]]:
    """SELECTION's assets (by key), each with its deps among them, and their groups: the
    sync's send and everything upstream of its diff, not the sends it runs after."""
    nodes = {
        tuple(n["assetKey"]["path"]): n for n in server.graphql(ASSET_NODES_QUERY)["assetNodes"]
    }
    wanted, todo = {SYNC_KEY: nodes[SYNC_KEY]}, [(DIFF,)]
    while todo:
        key = todo.pop()
        if key not in wanted:
            wanted[key] = nodes[key]
            todo += [tuple(dep["path"]) for dep in nodes[key]["dependencyKeys"]]
    for key, node in wanted.items():
        deps = [dep for dep in node["dependencyKeys"] if tuple(dep["path"]) in wanted]
        wanted[key] = {**node, "dependencyKeys": deps}
    return wanted, {node["groupName"] for node in wanted.values()}


def _lineage_url(server: DagsterServer, groups: set[str]) -> str:
    """The global lineage filtered to SELECTION with every group drawn open: the URL the UI
    itself moves to when you type the selection and click each collapsed group open."""
    query = urllib.parse.quote(SELECTION, safe="")
    expanded = urllib.parse.quote(",".join(f"global@global:{g}" for g in sorted(groups)), safe="")
    return f"{server.url}/asset-groups~{query}?expanded={expanded}"


def _endpoints(path: str) -> tuple[tuple[float, float], tuple[float, float]]:
    numbers = [float(n) for n in re.findall(NUMBER, path)]
    return (numbers[0], numbers[1]), (numbers[-2], numbers[-1])


def _node_at(nodes: list[dict[str, Any]], x: float, y: float, side: str) -> str | None:
    """The node whose left or right side the point (x, y) touches (edges stop a few px off)."""
    for node in nodes:
        edge_x = node["x"] + node["w"] if side == "right" else node["x"]
        if abs(edge_x - x) <= 12 and node["y"] - 2 <= y <= node["y"] + node["h"] + 2:
            return str(node["name"])
    return None


def _read_graph(page: Page, count: int) -> tuple[dict[str, dict[str, Any]], set[tuple[Any, Any]]]:
    """Wait until ``count`` asset nodes are drawn in full; return nodes and edges by name."""
    nodes_drawn = page.locator("svg foreignObject").filter(has_text="Latest event")
    expect(nodes_drawn).to_have_count(count, timeout=WAIT_MS)
    expect(nodes_drawn.locator("[role=progressbar]")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("svg path[marker-end]")).to_have_count(count - 1, timeout=WAIT_MS)
    graph = page.evaluate(GRAPH_JS)
    nodes = {node["name"]: node for node in graph["nodes"]}
    edges = set()
    for path in graph["edges"]:
        (x1, y1), (x2, y2) = _endpoints(path)
        edges.add(
            (_node_at(graph["nodes"], x1, y1, "right"), _node_at(graph["nodes"], x2, y2, "left"))
        )
    return nodes, edges


def _node(page: Page, name: str) -> Any:
    """The asset node whose label is ``name``."""
    return (
        page.locator("svg foreignObject")
        .filter(has_text="Latest event")
        .filter(has=page.locator(f"[data-tooltip='{name}']"))
    )


def _checks_of(server: DagsterServer, path: list[str]) -> dict[str, dict[str, Any]]:
    data = server.graphql(DIFF_CHECKS_QUERY, {"key": {"path": path}})["assetOrError"]
    definition = data.get("definition") or {}
    checks = (definition.get("assetChecksOrError") or {}).get("checks") or []
    return {c["name"]: c["executionForLatestMaterialization"] or {} for c in checks}


def _diff_checks(server: DagsterServer) -> dict[str, dict[str, Any]]:
    return _checks_of(server, [DIFF])


def _lineage_check_count(server: DagsterServer, lineage: dict[tuple[str, ...], Any]) -> int:
    """Checks a run of the lineage executes: the diff's and the model's schema-change check."""
    return sum(len(_checks_of(server, list(key))) for key in lineage)


def _freshness(server: DagsterServer) -> dict[str, Any]:
    data = server.graphql(FRESHNESS_QUERY, {"key": {"path": list(SYNC_KEY)}})
    node: dict[str, Any] = data["assetNodeOrError"]
    return node


def _screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=shot)
    return shot


def test_materialize_a_sync_from_its_lineage(dagster_server: DagsterServer, page: Page) -> None:
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    lineage, groups = _lineage(dagster_server)
    names = {key[-1] for key in lineage}
    materializable = sum(node["isMaterializable"] for node in lineage.values())
    assert {MODEL, DIFF, SYNC} <= names and len(names) == len(lineage), sorted(names)
    checks_defined = _diff_checks(dagster_server)
    assert checks_defined, "the diff carries no asset checks"
    checks_in_run = _lineage_check_count(dagster_server, lineage)
    assert checks_in_run > len(checks_defined), "the model has no schema-change check"

    # dagster-webserver greets local users with a "Join the Dagster community" dialog: mark
    # it seen, and click "Skip" should it show anyway.
    dagster_server.graphql("mutation { setNuxSeen }")
    page.add_locator_handler(
        page.get_by_role("button", name="Skip", exact=True), lambda skip: skip.click()
    )
    url = _lineage_url(dagster_server, groups)
    try:
        page.goto(url)
        # The source table is external: only the model, the diff and the send materialize.
        materialize_all = page.get_by_role("button").filter(
            has_text=re.compile(rf"^Materialize all \({materializable}\)$")
        )
        expect(materialize_all).to_be_enabled(timeout=WAIT_MS)

        # source table → model → diff → send, left to right, one edge per dependency.
        nodes, edges = _read_graph(page, len(lineage))
        assert set(nodes) == names, f"nodes on the page: {sorted(nodes)}"
        for key, node in lineage.items():
            for dep in node["dependencyKeys"]:
                assert (dep["path"][-1], key[-1]) in edges, f"no edge into {key[-1]}: {edges}"
        assert nodes[MODEL]["x"] < nodes[DIFF]["x"] < nodes[SYNC]["x"], nodes

        materialize_all.click()
        launched = page.get_by_role("link", name="View", exact=True)
        warning = page.get_by_text("Are you sure?")
        expect(launched.or_(warning).first).to_be_visible(timeout=WAIT_MS)
        assert not warning.is_visible(), "the UI asks first: " + page.inner_text("body")[:1000]
        run_id = (launched.get_attribute("href") or "").removeprefix("/runs/").split("?")[0]
        assert re.fullmatch(r"[0-9a-f-]{36}", run_id), run_id
        expect(page.get_by_text(f"Launched run {run_id[:8]}")).to_be_visible(timeout=WAIT_MS)

        # Follow the run in the UI until it ends (bounded), as a person would.
        launched.click()
        page.wait_for_url(re.compile(f"/runs/{run_id}"))
        ended = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$"))
        expect(ended.first).to_be_visible(timeout=RUN_WAIT_MS)
        if ended.first.inner_text() != "Success":
            dagster_server.fail_run(run_id, f"shows {ended.first.inner_text()!r} in the UI")
        expect(page.get_by_text(f"{materializable} assets", exact=True)).to_be_visible()
        expect(page.get_by_text(f"{checks_in_run} checks", exact=True)).to_be_visible()

        # The checks ran in that run, before the diff; the graph shows their tally.
        checks = _diff_checks(dagster_server)
        assert {c.get("runId") for c in checks.values()} == {run_id}, checks
        passed = sum(c["status"] == "SUCCEEDED" for c in checks.values())
        page.goto(url)
        _read_graph(page, len(lineage))
        for name in (MODEL, DIFF, SYNC):
            # Each node's latest event links to this run.
            expect(_node(page, name).locator(f"a[href^='/runs/{run_id}']").first).to_be_visible()
        expect(_node(page, DIFF)).to_contain_text(f"{passed} / {len(checks)} Passed")
        _screenshot(page, "asset-graph.png")

        # The diff's Checks tab: every check by name, with this run's outcome.
        page.goto(f"{dagster_server.url}/assets/{DIFF}?view=checks")
        expect(page.get_by_text(f"Checks ({len(checks)})")).to_be_visible()
        for name, execution in checks.items():
            outcome = page.locator(f"span:has(> div[title='{name}']) > span")
            expect(outcome).to_have_text(re.compile(UI_STATUS[execution["status"]], re.IGNORECASE))
        _screenshot(page, "asset-checks.png")

        # The send: its owners from syncs.yaml and its freshness policy (26 h for a daily
        # sync), just materialized, so not late.
        fresh = _freshness(dagster_server)
        assert sorted(o.get("team", "") for o in fresh["owners"]) == sorted(OWNERS), fresh
        assert fresh["internalFreshnessPolicy"]["failWindowSeconds"] == 26 * 3600, fresh
        assert (fresh["freshnessStatusInfo"] or {}).get("freshnessStatus") != "DEGRADED", fresh
        sync_url = f"{dagster_server.url}/assets/{'/'.join(SYNC_KEY)}"
        page.goto(sync_url)
        for owner in OWNERS:
            expect(page.get_by_text(owner).first).to_be_visible()
        expect(page.get_by_text("Freshness policy", exact=True).first).to_be_visible()
        status = page.get_by_text(re.compile(r"^(Passing|Not evaluated)$"))
        expect(status.first).to_be_visible()
        _screenshot(page, "send-overview.png")

        # Its latest materialization: the rows it sent, as a table with a schema (empty when
        # the GraphQL tests' run sent every row first: its columns still show).
        page.goto(f"{sync_url}?view=events")
        header = "".join(f":has(th:text-is('{name}'))" for name in PREVIEW_COLUMNS)
        expect(page.locator(f"table{header}").last).to_be_visible()
        expect(page.get_by_text("Show schema").first).to_be_visible()
        _screenshot(page, "send-preview.png")
    except (AssertionError, PlaywrightError):
        _screenshot(page, "failure.png")
        raise

    assert (ARTIFACTS / "asset-graph.png").stat().st_size > 10_000
