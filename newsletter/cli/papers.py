"""``newsletter papers …``: the operator's corrections of paper identity; and the
lines ``newsletter explain`` prints.  Each command calls one function of
:mod:`newsletter.corrections` and prints what it returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from newsletter.cli.output import new_table, output

if TYPE_CHECKING:
    from newsletter.corrections import DecisionReport
    from newsletter.identity import Decision
    from newsletter.pipeline import ExplainReport


def register(
    main: click.Group, handle_errors: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Add the ``papers`` group to ``main`` (kept here so the CLI module stays small).

    :mod:`newsletter.corrections` (SQLAlchemy) is imported when a command runs,
    so ``newsletter --help`` stays fast.
    """
    from importlib import import_module

    def corrections() -> Any:
        return import_module("newsletter.corrections")

    @main.group("papers")
    def papers_group() -> None:
        """Correct paper identity: same, distinct, decisions, undo."""

    def _url(obj: Any) -> str:
        return str(obj.settings.database.url)

    @papers_group.command("same")
    @click.argument("paper")
    @click.argument("other")
    @click.pass_obj
    @handle_errors
    def same(obj: Any, paper: str, other: str) -> None:
        """Record that PAPER and OTHER are one paper: from the next run, a listing of
        either is seen.  Each is a key (arxiv:…, title:…), an arXiv id or a title
        of a paper a run has seen; a name matching none is an error."""
        _print_decision(corrections().decide(_url(obj), paper, other, "same", _now()))

    @papers_group.command("distinct")
    @click.argument("paper")
    @click.argument("other")
    @click.pass_obj
    @handle_errors
    def distinct(obj: Any, paper: str, other: str) -> None:
        """Record that PAPER and OTHER are different papers: from the next run each
        is new to the other, and a listing the last run merged into the other
        comes back in the next edition.  Each names a paper a run has seen (or
        taken for another); a name matching none is an error."""
        _print_decision(corrections().decide(_url(obj), paper, other, "distinct", _now()))

    @papers_group.command("decisions")
    @click.option("--all", "include_revoked", is_flag=True, help="Include undone decisions.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.pass_obj
    @handle_errors
    def decisions(obj: Any, include_revoked: bool, as_json: bool) -> None:
        """List the operator's decisions in force (with --all, the undone ones too)."""
        found = corrections().decisions(_url(obj), include_revoked=include_revoked)
        if as_json:
            click.echo(json.dumps([_decision_json(d) for d in found], indent=2))
            return
        table = new_table("#", "verdict", "paper", "other", "decided", "undone", title="Decisions")
        for d in found:
            table.add_row(
                str(d.id),
                d.verdict,
                f"{d.first_title}\n{d.first}",
                f"{d.second_title}\n{d.second}",
                d.decided_at,
                d.revoked_at or "",
            )
        output.out.print(table)

    @papers_group.command("undo")
    @click.argument("decision", type=int)
    @click.pass_obj
    @handle_errors
    def undo(obj: Any, decision: int) -> None:
        """Take back decision number DECISION (see 'papers decisions'): the next run
        decides those two papers by the rules again."""
        report = corrections().undo(_url(obj), decision, _now())
        d = report.decision
        output.out.print(
            f"undone decision #{d.id}: {d.verdict} {d.first} / {d.second}", markup=False
        )
        if report.reinstated:
            output.out.print(
                f"  the next run lists {report.reinstated} merged "
                f"{'entry' if report.reinstated == 1 else 'entries'} again "
                "(digest 'operator corrections')",
                markup=False,
            )

    _ = (same, distinct, decisions, undo)


def _now() -> datetime:
    return datetime.now(UTC)


def _decision_json(d: Decision) -> dict[str, Any]:
    return {
        "id": d.id,
        "verdict": d.verdict,
        "first": d.first,
        "first_title": d.first_title,
        "second": d.second,
        "second_title": d.second_title,
        "decided_at": d.decided_at,
        "revoked_at": d.revoked_at,
    }


def _print_decision(report: DecisionReport) -> None:
    from newsletter.corrections import CORRECTIONS_DIGEST

    d = report.decision
    output.line(f"decision #{d.id}: {d.verdict}")
    output.line(f"  {report.first.describe()}")
    output.line(f"  {report.second.describe()}")
    if report.reinstated:
        output.out.print(
            f"  the next run lists {report.reinstated} merged "
            f"{'entry' if report.reinstated == 1 else 'entries'} again "
            f"(digest '{CORRECTIONS_DIGEST}')",
            markup=False,
        )
    output.out.print(
        f"  it takes effect from the next run; 'newsletter papers undo {d.id}' takes it back",
        markup=False,
    )


def explain_lines(report: ExplainReport) -> list[str]:
    """What ``newsletter explain`` prints: each matching entry, then the store."""
    from newsletter import topics

    lines: list[str] = []
    for x in report.entries:
        v = x.verdict
        lines.append(f"{v.entry.title}  ({v.entry.source})")
        lines.append(f"  key: {v.key}")
        if x.first_published is not None:
            lines.append(
                f"  novelty: first published in edition {x.first_published.isoformat()} "
                f"as NEW: {v.reason}"
            )
        else:
            lines.append(
                f"  novelty: {'NEW' if v.new else 'SEEN'}: {v.reason}"
                + (f" (as {v.same_as})" if v.same_as and v.same_as != v.key else "")
            )
        if v.compared_with:
            role = "same paper as" if not v.new else "closest candidate"
            where = (
                f"seen in edition {x.compared_edition.isoformat()}"
                if x.compared_edition
                else (v.compared_where or "")
            )
            title = f"{x.compared_title!r} " if x.compared_title else ""
            lines.append(f"  {role}: {title}({v.compared_with}), {where}")
        if v.evidence is not None:
            lines.append(f"  evidence: {v.evidence.describe()}")
        for d in x.decisions:
            lines.append(
                f"  operator decision #{d.id} ({d.decided_at}): {d.verdict}: {d.first} / {d.second}"
            )
        lines.append(
            f"  topic: {x.classification.primary}  (all: {', '.join(x.classification.topics)})"
        )
        lines.extend(f"    {line}" for line in topics.explain_lines(x.classification))
    if report.stored:
        lines.append("In the store:")
    for r in report.stored:
        p = r.paper
        when = p.edition_date.isoformat() if p.edition_date else "no edition"
        lines.append(f"  {p.title!r} ({p.key}): seen in edition {when}")
        for s in r.sightings:
            at = s.edition_date.isoformat() if s.edition_date else "a run with no edition"
            lines.append(f"    listed again in {at} as {s.title!r}: {s.reason}")
        for d in r.decisions:
            lines.append(
                f"    operator decision #{d.id} ({d.decided_at}): {d.verdict}: "
                f"{d.first} / {d.second}"
            )
    if report.sightings:
        lines.append("Entries taken for another paper:")
    targets = {key: (title, day) for key, title, day in report.taken_for}
    for s in report.sightings:
        at = s.edition_date.isoformat() if s.edition_date else "a run with no edition"
        title, day = targets.get(s.same_as, ("", None))
        sent = f"sent in edition {day.isoformat()}" if day else "not sent in any edition"
        named = f"{title!r} " if title else ""
        lines.append(f"  {s.title!r} in {at}: taken for {named}({s.same_as}, {sent}): {s.reason}")
    return lines
