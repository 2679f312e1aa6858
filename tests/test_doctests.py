"""The worked examples in the docstrings of the rule modules run, so they cannot go stale."""

from __future__ import annotations

import doctest
import importlib

import pytest

# normalize and names run theirs in test_normalize.py.
MODULES = ["crmcli.rules", "crmcli.calendar", "crmcli.classify", "crmcli.stats"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} fail"


@pytest.mark.parametrize("name", MODULES)
def test_rule_modules_have_worked_examples(name):
    examples = doctest.DocTestFinder().find(importlib.import_module(name))
    assert sum(len(t.examples) for t in examples) >= 3, name


@pytest.mark.parametrize("name", ["crmcli.limits", "crmcli.importing.result"])
def test_the_examples_of_other_modules_run_too(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted and result.failed == 0, name
