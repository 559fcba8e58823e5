"""The architecture's import contracts (pyproject.toml, ``[tool.importlinter]``) hold, and
they catch what they are there for: a planted cycle or a forbidden import breaks them.

The planted imports go into a copy of the project's import graph through import-linter's
graph-builder setting (the hook its own tests use), so no source file is touched.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases
from importlinter.application.app_config import settings

ROOT = Path(__file__).resolve().parents[1]


class _Given:
    """A graph builder that hands import-linter a graph we already built."""

    def __init__(self, graph: grimp.ImportGraph) -> None:
        self.graph = graph

    def build(self, **_options: object) -> grimp.ImportGraph:
        return self.graph


@contextlib.contextmanager
def _in_project() -> Iterator[None]:
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    configuration.configure()
    with _in_project():
        options = use_cases.read_user_options()
    roots = options.session_options["root_packages"]
    return grimp.build_graph(*roots, include_external_packages=True, cache_dir=None)


def holds(graph: grimp.ImportGraph, *planted: tuple[str, str], contract: str = "") -> bool:
    """Whether the contracts (or the one with id ``contract``) hold on ``graph`` plus the
    ``planted`` imports, checked as ``lint-imports`` checks them (it prints its report)."""
    graph = copy.deepcopy(graph)
    for importer, imported in planted:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    configuration.configure()
    settings.configure(GRAPH_BUILDER=_Given(graph))
    try:
        with _in_project():
            return use_cases.lint_imports(
                limit_to_contracts=(contract,) if contract else (),
                cache_dir=None,
                is_debug_mode=True,
                no_logo=True,
            )
    finally:
        configuration.configure()


def test_every_contract_holds(graph):
    assert holds(graph)


@pytest.mark.parametrize(
    ("planted", "contract"),
    [
        # the three cycles the layout step removed
        (("portal.data.writes", "portal.data.access"), "no-cycles"),
        (("portal.data.imports", "portal.api.imports"), "no-cycles"),
        (("portal.tokens", "portal.api.openapi"), "no-cycles"),
        (("portal.journeys.uploads.views", "portal.api.imports"), "journeys"),
        (("portal.journeys.promotions.views", "portal.journeys.home.views"), "journeys"),
        (("portal.data.access", "portal.pages"), "portal-layers"),
        (("portal.journeys.home.views", "sync.runs"), "portal-sync"),
        (("directus.client", "portal.hub"), "layers"),
        (("domain.kpis", "directus.client"), "pure-domain"),
        (("domain.kpis", "requests"), "pure-domain"),
        (("domain.promotions", "sqlite3"), "pure-domain"),
    ],
    ids=lambda v: "->".join(v) if isinstance(v, tuple) else v,
)
def test_a_planted_import_breaks_its_contract(graph, planted, contract):
    assert holds(graph, contract=contract)
    assert not holds(graph, planted, contract=contract)
