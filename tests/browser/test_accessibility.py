"""An accessibility check of the card in the states an operator meets: axe-core (pinned from
the npm registry, node_modules/axe-core) run inside the page, WCAG 2.1 A and AA rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, CardPage
from playwright.sync_api import expect

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# The page's CSP has no 'unsafe-inline' (an injected <script> would be refused) but allows
# eval, which Pyodide needs anyway: axe is evaluated into the page's own global scope.
RUN_AXE = """
async ([source, tags]) => {
  if (!window.axe) (0, eval)(source);
  const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}
"""


def violations(card: CardPage) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci`")
    return card.page.evaluate(RUN_AXE, [Path(AXE).read_text(encoding="utf-8"), WCAG])


def test_a_card_with_a_client_and_a_draft_has_no_violations(card: CardPage) -> None:
    card.open({"status": {"CALL_STATE": "connected"}})
    card.wait_text("client-name", "Ivan Petrov")
    card.page.get_by_test_id("notes").fill("Call back tomorrow")
    card.page.get_by_test_id("keep-open").check()
    expect(card.page.get_by_test_id("keep-open-status")).to_be_visible()
    assert violations(card) == []


def test_a_held_card_with_failed_notes_in_russian_has_no_violations(card: CardPage) -> None:
    card.open({"lang": "ru", "status": {"CALL_STATE": "connected"},
               "rest": {"crm.timeline.comment.add": {"error": "ACCESS_DENIED",
                                                     "error_description": "Access denied!"}}})
    card.page.get_by_test_id("notes").fill("О чём договорились")
    card.host("host.changeEntity({PHONE_NUMBER: '+79005550018', CRM_ENTITY_TYPE: 'CONTACT',"
              " CRM_ENTITY_ID: 18})")
    expect(card.page.get_by_test_id("notes-others")).to_be_visible()
    card.page.get_by_test_id("notes").fill("Мария")
    card.host("host.setState('idle')")
    card.host("host.beforeClose()")
    expect(card.page.get_by_test_id("notes-status")).to_have_attribute(
        "data-notes-state", "failed", timeout=10_000)
    expect(card.page.get_by_test_id("close-now")).to_be_visible()
    assert violations(card) == []


def test_the_card_outside_bitrix24_has_no_violations(card: CardPage) -> None:
    card.open(library="outside")
    assert card.app_state == "outside"
    assert violations(card) == []
