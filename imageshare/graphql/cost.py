"""What a document costs: the number of nodes it can return, counted before it runs.

Depth, aliases and tokens bound a document's size, not its work: nested connections
multiply. `images(first: 100) { edges { node { owner { images(first: 100) { … } } } } }`
is a few hundred bytes and 10,100 images. So, as GitHub's GraphQL API counts:

- each connection field (one returning a `…Connection`) can return its `first` nodes:
  the argument as given, from the request's variables, from the variable's default, or
  the field's own default (`images` 24, `comments` 50);
- those are multiplied by the `first` of every connection above it;
- the cost is the sum over every connection in the operation: each alias, and each
  fragment where it is spread, counted for itself. Other lists (`tags`) multiply by 1.
- A document without a connection costs 1.

So the query above costs 100 + 100 × 100 = 10,100. Past MAX_QUERY_COST (a setting,
10,000 by default) the operation is refused before any resolver runs, with the code
QUERY_TOO_COSTLY and `extensions.cost` and `extensions.maxCost`. Subscriptions count
the same way, once, for the selection each event answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.language import VisitorAction
from strawberry.extensions import SchemaExtension

from imageshare.graphql import errors
from imageshare.graphql.context import Context
from imageshare.settings import DEFAULT_MAX_QUERY_COST

PAGE_ARGUMENT = "first"
CONNECTION_SUFFIX = "Connection"


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost of the operation a request runs (the one named, else the only one)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if not operations:
        raise ValueError(f"The document has no operation {operation_name or ''}".rstrip() + ".")
    return _Counter(schema, document, variables or {}, operations[0]).total()


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        operation: OperationDefinitionNode,
    ):
        self.schema = schema
        self.variables = variables
        self.operation = operation
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        # A fragment's cost does not depend on where it is spread (its type condition
        # fixes its type), and costs multiply linearly: each fragment is counted once,
        # so fragments spreading fragments twice over cannot make counting exponential.
        self.fragment_costs: dict[str, int] = {}
        self.counting: set[str] = set()  # fragments being counted: a cycle adds nothing

    def total(self) -> int:
        root = self.schema.get_root_type(self.operation.operation)
        return max(1, self.selections(self.operation.selection_set, root))

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> int:
        """Nodes a selection set can return, for one instance of `parent`."""
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selections(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                cost += self.fragment(selection.name.value)
        return cost

    def fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.counting:
            return 0  # validation refuses unknown fragments and cycles
        self.counting.add(name)
        cost = self.selections(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self.counting.discard(name)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        definition = _field(parent, node.name.value)
        if definition is None:
            return 0  # __typename, or a field validation refuses
        returns = get_named_type(definition.type)
        inner = self.selections(node.selection_set, returns) if node.selection_set else 0
        if not _is_connection(definition, returns):
            return inner
        size = self.page_size(node, definition)
        return size + size * inner

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        default = definition.args[PAGE_ARGUMENT].default_value
        value: object = default
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variable(argument.value.name.value, default)
        if not isinstance(value, int) or isinstance(value, bool):
            value = default if isinstance(default, int) else 1
        return max(0, value)

    def variable(self, name: str, default: object) -> object:
        if name in self.variables:
            return self.variables[name]
        for definition in self.operation.variable_definitions or ():
            if definition.variable.name.value == name and isinstance(
                definition.default_value, IntValueNode
            ):
                return int(definition.default_value.value)
        return default


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _is_connection(definition: GraphQLField, returns: GraphQLNamedType) -> bool:
    return returns.name.endswith(CONNECTION_SUFFIX) and PAGE_ARGUMENT in definition.args


def too_costly(cost: int, ceiling: int, nodes: list[Any] | None = None) -> GraphQLError:
    return GraphQLError(
        f"This operation could return {cost:,} nodes; at most {ceiling:,} are allowed. "
        "Ask for smaller pages (`first`), fewer nested connections, or split it.",
        nodes,
        extensions={"code": errors.QUERY_TOO_COSTLY, "cost": cost, "maxCost": ceiling},
    )


def cost_rule(
    *,
    ceiling: int,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    record: Callable[[int], None],
) -> type[ValidationRule]:
    """A validation rule for one request: it knows that request's variables, refuses an
    operation costing more than `ceiling`, and hands the cost of the one that runs to
    `record`."""

    class QueryCostLimit(ValidationRule):
        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: object
        ) -> VisitorAction:
            document = self.context.document
            named = node.name.value if node.name else None
            if operation_name is not None and named != operation_name:
                return self.SKIP  # not the one that runs
            counter = _Counter(self.context.schema, document, variables or {}, node)
            cost = counter.total()
            if cost > ceiling:
                self.report_error(too_costly(cost, ceiling, [node]))
            else:
                record(cost)
            return self.SKIP  # the counter has seen what is below

    return QueryCostLimit


class QueryCost(SchemaExtension):
    """Counts each operation's cost while it is validated (so a refusal comes before
    any resolver), puts it on the Context (`query_cost`, for a rate limit to charge) and,
    when the operation is accepted, in the response's `extensions.cost`."""

    cost: int | None = None
    ceiling: int = DEFAULT_MAX_QUERY_COST

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        self.cost = None
        if isinstance(context, Context):
            self.ceiling = context.app.settings.max_query_cost
        execution.validation_rules = (
            *execution.validation_rules,
            cost_rule(
                ceiling=self.ceiling,
                variables=execution.variables,
                operation_name=execution.operation_name,
                record=self._record,
            ),
        )
        yield

    def _record(self, cost: int) -> None:
        self.cost = cost
        context = self.execution_context.context
        if isinstance(context, Context):
            context.query_cost = cost

    def get_results(self) -> dict[str, Any]:
        if self.cost is None or self.execution_context.pre_execution_errors:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.ceiling}}
