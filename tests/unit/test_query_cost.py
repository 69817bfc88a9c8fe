"""The cost of a GraphQL document (imageshare/graphql/cost.py), counted on parsed
documents against the real schema: connections' `first` (given, from variables, or
the schema's defaults) multiplied along their path and summed, fragments expanded
where they are spread, each alias counted."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from graphql import parse

from imageshare.graphql import errors
from imageshare.graphql.cost import operation_cost
from imageshare.graphql.schema import schema
from tests.harness.components import run_async

SCHEMA = schema._schema
ABUSIVE = (
    "{ images(first: 100) { edges { node { id title url owner { username "
    "images(first: 100) { edges { node { url title } } } } } } } }"
)


def cost(query: str, variables: dict | None = None, operation: str | None = None) -> int:
    return operation_cost(SCHEMA, parse(query), variables, operation)


def test_a_connection_costs_its_first():
    assert (
        cost("{ images(first: 24) { edges { node { title owner { username } tags url } } } }") == 24
    )
    assert cost("{ images(first: 100) { edges { cursor } } }") == 100


def test_defaults_are_the_schemas():
    assert cost("{ images { edges { cursor } } }") == 24
    assert cost('{ comments(imageId: "x") { edges { cursor } } }') == 50
    assert cost('{ image(id: "x") { comments { edges { cursor } } } }') == 50


def test_without_a_connection_a_document_costs_one():
    assert cost("{ me { username } }") == 1
    # A list that is not a connection does not multiply.
    assert cost("{ tags(first: 20) { name } }") == 1
    assert cost('{ image(id: "x") { tags comments(first: 3) { edges { cursor } } } }') == 3


def test_nested_connections_multiply():
    assert cost(ABUSIVE) == 100 + 100 * 100
    assert cost("{ images { edges { node { comments { edges { node { id } } } } } } }") == (
        24 + 24 * 50
    )
    three = (
        "{ images(first: 10) { edges { node { owner { images(first: 10) { edges { node { "
        "comments(first: 10) { edges { cursor } } } } } } } } } }"
    )
    assert cost(three) == 10 + 10 * 10 + 10 * 10 * 10


def test_variables_come_from_the_request_then_their_defaults():
    query = "query($n: Int!, $m: Int! = 7) { images(first: $n) { edges { node { comments(first: $m) { edges { cursor } } } } } }"  # noqa: E501
    assert cost(query, {"n": 10}) == 10 + 10 * 7
    assert cost(query, {"n": 10, "m": 2}) == 10 + 10 * 2
    # A variable left out and without a default: the field's own default.
    assert cost("query($n: Int) { images(first: $n) { edges { cursor } } }", {}) == 24
    # Not a number (the request is refused for that later): the field's default.
    assert cost("query($n: Int!) { images(first: $n) { edges { cursor } } }", {"n": "x"}) == 24


def test_aliases_are_each_counted():
    query = (
        "{ a: images(first: 30) { edges { cursor } } b: images(first: 40) { edges { cursor } } }"
    )
    assert cost(query) == 70


def test_fragments_are_counted_where_they_are_spread():
    query = """
        query { images(first: 10) { ...Page } more: images(first: 20) { ...Page } }
        fragment Page on ImageConnection { edges { node { ...Card ... on Image { owner {
            images(first: 5) { edges { cursor } } } } } } }
        fragment Card on Image { comments(first: 3) { edges { cursor } } }
    """
    per_image = 3 + 5
    assert cost(query) == (10 + 10 * per_image) + (20 + 20 * per_image)


def test_fragments_spread_many_times_are_counted_fast():
    # Each fragment spreads the next twice: 2^30 spreads when expanded one by one.
    fragments = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(30))
    query = (
        "{ ...F0 } "
        + fragments
        + " fragment F30 on Query { images(first: 1) { edges { cursor } } }"
    )
    started = time.perf_counter()
    assert cost(query) == 2**30
    assert time.perf_counter() - started < 0.5


def test_a_fragment_cycle_counts_nothing_more():
    query = "{ ...A } fragment A on Query { images(first: 2) { edges { cursor } } ...A }"
    assert cost(query) == 2


def test_the_operation_named_is_the_one_counted():
    query = "query Small { images(first: 1) { edges { cursor } } } query Big { images(first: 99) { edges { cursor } } }"  # noqa: E501
    assert cost(query, operation="Small") == 1
    assert cost(query, operation="Big") == 99


def test_subscriptions_are_counted():
    assert cost('subscription { commentAdded(imageId: "x") { id } }') == 1
    query = "subscription { imageAdded { comments(first: 100) { edges { node { author { images(first: 100) { edges { cursor } } } } } } } }"  # noqa: E501
    assert cost(query) == 100 + 100 * 100


def test_over_the_ceiling_is_refused_before_any_resolver():
    result = run_async(schema.execute(ABUSIVE))
    assert result.data is None
    (error,) = result.errors or []
    assert error.extensions == {"code": errors.QUERY_TOO_COSTLY, "cost": 10_100, "maxCost": 10_000}
    assert error.message.startswith("This operation could return 10,100 nodes; at most 10,000")


def test_just_under_the_ceiling_is_counted_as_such():
    query = "{ images(first: 100) { edges { node { owner { images(first: 99) { edges { cursor } } } } } } }"  # noqa: E501
    assert cost(query) == 100 + 100 * 99 == 10_000


def test_the_documented_example_costs_and_answers_what_docs_api_md_says():
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    limits = text[text.index("**Cost.**") :]
    query = re.search(r"```graphql\n(.*?)```", limits, re.S)
    answer = re.search(r"```json\n(.*?)```", limits, re.S)
    assert query and answer
    documented = json.loads(answer.group(1))
    result = run_async(schema.execute(query.group(1)))
    (error,) = result.errors or []
    assert error.formatted == documented["errors"][0]
    assert cost(query.group(1)) == documented["errors"][0]["extensions"]["cost"] == 10_100
