"""The plan as a tree: a node per subtask with its kind, agent, model chain, files and dependencies."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree

from orchestrate.config.schema import OrchestrateConfig
from orchestrate.engine.plan import Plan, Subtask

KIND_STYLE = {"code": "bold cyan", "test": "bold green", "format": "bold magenta"}


def _subtask_label(subtask: Subtask) -> Text:
    label = Text.assemble(
        (subtask.id, "bold"), "  ", (f"[{subtask.kind}]", KIND_STYLE[subtask.kind]), "  "
    )
    label.append(subtask.title)
    return label


class PlanTree(Tree[str]):
    """Each node's data is its subtask's id, so the cursor always names a subtask."""

    def __init__(self, config: OrchestrateConfig, *, id: str | None = None) -> None:
        super().__init__("plan", id=id)
        self.config = config
        self.show_root = True
        self.guide_depth = 3

    def show(self, plan: Plan) -> None:
        """Replace the tree with `plan`, keeping the cursor on the same subtask if it survived."""
        selected = self.selected_id
        self.clear()
        self.root.set_label(Text(plan.summary or "plan", style="italic"))
        for subtask in plan.subtasks:
            node = self.root.add(_subtask_label(subtask), data=subtask.id, expand=True)
            for line in self._details(subtask):
                node.add_leaf(line, data=subtask.id)
        self.root.expand()
        self.cursor_line = self._line_of(plan, selected)

    def _line_of(self, plan: Plan, subtask_id: str | None) -> int:
        line = 1  # line 0 is the root
        for subtask in plan.subtasks:
            if subtask.id == subtask_id:
                return line
            line += 1 + len(self._details(subtask))
        return 1

    def _details(self, subtask: Subtask) -> list[Text]:
        agent = self.config.agents.get(subtask.agent)
        chain = " → ".join(agent.chain) if agent else "(agent not configured)"
        lines = [Text.assemble(("agent ", "dim"), subtask.agent, ("  models ", "dim"), chain)]
        lines.append(Text.assemble(("edit  ", "dim"), ", ".join(subtask.edit_files)))
        if subtask.read_files:
            lines.append(Text.assemble(("read  ", "dim"), ", ".join(subtask.read_files)))
        if subtask.depends_on:
            lines.append(Text.assemble(("after ", "dim"), ", ".join(subtask.depends_on)))
        for check in subtask.checks:
            lines.append(Text.assemble(("check ", "dim"), check))
        return lines

    @property
    def selected_id(self) -> str | None:
        """Id of the subtask under the cursor."""
        node = self.cursor_node
        return node.data if node is not None else None
