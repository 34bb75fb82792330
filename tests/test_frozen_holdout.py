"""The frozen holdout for pattern matching (issue 18) stays as it was written, and stays usable.

tests/data/pattern_holdout.json was written by someone who never read the matcher, before the
matcher was changed, and no tuning ever reads it: benchmarks/pattern_matching.py only prints
aggregate figures for it. Changing a single byte of it would make its figures meaningless, so the
digest is pinned here; a deliberate new holdout is a new file with its own digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

from tests.test_pattern_matching import brief_of

HOLDOUT = Path(__file__).resolve().parent / "data" / "pattern_holdout.json"
FROZEN_SHA256 = "934d533c0b21e84f53769348ad49c4e8ae79fea3bfaf479d5df888f951fc11b3"


def test_the_holdout_is_unchanged_since_it_was_frozen():
    assert hashlib.sha256(HOLDOUT.read_bytes()).hexdigest() == FROZEN_SHA256


def test_the_holdout_has_what_issue_18_asks_for_and_every_brief_is_valid():
    data = json.loads(HOLDOUT.read_text(encoding="utf-8"))
    briefs = data["briefs"]
    customers: dict[str, set[str]] = defaultdict(set)
    for entry in briefs:
        brief_of(entry)  # accepted by the form's own validation
        customers[entry["group"]].add(entry["customer"])
    problems = [group for group, names in customers.items() if len(names) >= 3]
    areas = {entry["product_area"] for entry in briefs if entry["product_area"]}
    assert data["frozen"] is True
    assert len(briefs) >= 150 and len(problems) >= 20 and len(areas) >= 12
    assert all(len(customers[group]) <= 6 for group in problems)
    assert len(data["queries"]) == 20 and all(q["relevant_groups"] for q in data["queries"])
    assert {g for q in data["queries"] for g in q["relevant_groups"]} <= set(customers)
