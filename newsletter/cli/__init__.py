"""The command line: each command parses options, calls one library function, prints its report.

Owns: the ``newsletter`` commands, their options, exit codes and output (tables
with rich; ``logs`` sets up logging); printing happens here and nowhere else.

May import: anything in the package (heavy modules lazily, so ``--help`` is
fast); nothing imports ``cli``.  See ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsletter import __version__, resources
from newsletter.cli import bounces, logs, papers, votes
from newsletter.cli.output import new_table, output
from newsletter.errors import ConfigError, NewsletterError, OutputError
from newsletter.states import RunStatus, SubscriberStatus
from newsletter.wording import counted


class _LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    from newsletter import config, pipeline, status
    from newsletter.model import RunReport
    from newsletter.subscribers import csvio as imports
    from newsletter.subscribers import subscriptions as subs_mod
else:
    # The pipeline pulls in SQLAlchemy, NumPy and the delivery stack; imported on
    # first use so `newsletter --help` and `config show` start fast.
    config = _LazyModule("newsletter.config")
    imports = _LazyModule("newsletter.subscribers.csvio")
    pipeline = _LazyModule("newsletter.pipeline")
    status = _LazyModule("newsletter.status")
    subs_mod = _LazyModule("newsletter.subscribers.subscriptions")

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, config_path: str | None, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._settings: config.Settings | None = None

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            self._settings = config.load(self.config_path)
        return self._settings


def handle_errors(func: F) -> F:
    """One line per error, no traceback unless --debug; ConfigError lists every problem."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Context)
        debug = bool(ctx and ctx.debug)
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            if debug:
                raise
            for problem in exc.problems[:-1]:
                output.error(problem)
            output.error(exc.problems[-1] if exc.problems else exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except NewsletterError as exc:
            if debug:
                raise
            output.error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `| head -1`: not a failure; the entry point exits 141
            raise
        except Exception as exc:
            if debug:
                raise
            output.error(
                f"unexpected {type(exc).__name__}: {exc}",
                "run with --debug for the traceback",
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-20") from None


def _edition_date(settings: config.Settings, value: date | None) -> date:
    return value or datetime.now(settings.newsletter.timezone).date()


class PipeClosed(NewsletterError):
    """A BrokenPipeError carried past click's own handling of one (which swaps the
    streams and exits 1) to :func:`newsletter.__main__.entry`, which exits 141 quietly
    for every command alike; never shown."""

    default_hint = "standard output was closed by its reader (| head)"

    def __init__(self, error: BrokenPipeError) -> None:
        super().__init__(str(error))
        self.error = error


class _Main(click.Group):
    """The command group, whose own errors (a bad option, a bad date) go through ``output``
    too, so that under ``--log-json`` even a usage error is a JSON line."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # the group's own --help and --version are printed here
            return super().make_context(*args, **kwargs)
        except BrokenPipeError as exc:
            raise PipeClosed(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise PipeClosed(exc) from exc

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
        output.as_json = output.as_json or "--log-json" in argv
        try:
            result = super().main(*args, **{**kwargs, "standalone_mode": False})
        except PipeClosed as exc:
            raise exc.error from None
        except click.ClickException as exc:
            if not output.as_json:
                exc.show()
            else:
                output.error(exc.format_message(), "see --help")
            sys.exit(exc.exit_code)
        except click.Abort:
            output.error("aborted")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="config.toml to use (default: $NEWSLETTER_CONFIG, ./config.toml, the bundled default).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", is_flag=True, help="Log what each stage does.")
@click.option("--log-json", is_flag=True, help="Every line on standard error as one JSON object.")
@click.pass_context
def main(
    ctx: click.Context, config_path: str | None, debug: bool, verbose: bool, log_json: bool
) -> None:
    """A calm daily digest of new research papers: only what you have not seen, by topic."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logs.configure(level, log_json)
    output.as_json = log_json
    ctx.obj = Context(config_path, debug)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@handle_errors
def init(directory: str) -> None:
    """Write a fresh, working config.toml (and its folders) into DIRECTORY."""
    import shutil

    target = Path(directory)
    cfg = target / "config.toml"
    if cfg.exists():
        raise NewsletterError(f"{cfg} exists already", hint="nothing was changed; edit it instead")
    try:
        for folder in ("digests", "subscribers", "site"):
            (target / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resources.bundled_config(), cfg)
        shutil.copyfile(resources.sample_digest(), target / "digests" / "sample-digest.txt")
    except OSError as exc:
        raise OutputError.of(Path(exc.filename or target), exc) from exc
    output.line(f"Wrote {cfg} and the folders digests/, subscribers/, site/.")
    output.line(f"Next: cd {target} && {_program()} preview --out preview")


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
@handle_errors
def config_show(obj: Context, as_json: bool) -> None:
    """Print the effective settings (defaults filled in, secrets hidden)."""
    data = config.effective(obj.settings)
    if as_json:
        output.data(data)
        return
    output.line(f"config: {data['config']}")
    output.line(f"database: {data['database']}")
    table = new_table("key", "value", "help")
    for setting in config.SETTINGS:
        table.add_row(setting.key, repr(data["settings"][setting.key]), setting.help)
    output.table(table)
    for source in data["sources"]:
        where = source.get("path") or source.get("url")
        output.line(f"source {source['name']}: {source['kind']} {where}")
    output.line("topics: " + ", ".join(data["topics"]))


@config_group.command("check")
@click.pass_obj
@handle_errors
def config_check(obj: Context) -> None:
    """Check the config and what a run needs (templates, secrets, keys); change nothing.

    Exit 0 when every check passes (warnings say what will not happen, such as
    nothing reading the mailto: unsubscribe address), 2 (like any config problem)
    when one fails.
    """
    from newsletter import preflight

    findings = preflight.check(obj.settings)
    for finding in findings:
        if finding.warning:
            output.warning(f"{finding.what}: {finding.detail}")
        elif finding.ok:
            output.line(f"ok: {finding.what}: {finding.detail}")
        else:
            output.error(f"{finding.what}: {finding.detail}")
    if not all(f.ok for f in findings):
        sys.exit(2)


DIGESTS = click.argument("digests", nargs=-1, type=click.Path())
DATE = click.option(
    "--date",
    "edition_date",
    callback=_parse_date,
    help="Edition date YYYY-MM-DD (default: today in newsletter.timezone).",
)


def _progress() -> Callable[[str], None] | None:
    if not output.terminal:
        return None
    return lambda name: output.progress(f"reading {name}")


@main.command()
@DIGESTS
@click.option(
    "--out", "out_dir", default="preview", show_default=True, type=click.Path(file_okay=False)
)
@DATE
@click.option("--open", "open_browser", is_flag=True, help="Open the email in a web browser.")
@click.option(
    "--force",
    is_flag=True,
    help="Preview another edition even if the date has one (as run --force).",
)
@click.pass_obj
@handle_errors
def preview(
    obj: Context,
    digests: tuple[str, ...],
    out_dir: str,
    edition_date: date | None,
    open_browser: bool,
    force: bool,
) -> None:
    """Show what the next run would publish, without changing any state.

    DIGESTS are digest files, folders or globs; without them the sources in
    config.toml are read.
    """
    settings = obj.settings
    report = pipeline.preview(
        settings,
        digests,
        _edition_date(settings, edition_date),
        Path(out_dir),
        _progress(),
        force=force,
    )
    _print_report(report, "Preview")
    email = Path(out_dir) / "email.html"
    if open_browser and email.exists():
        import webbrowser

        webbrowser.open(email.resolve().as_uri())
    _exit_for(report)


@main.command()
@DIGESTS
@DATE
@click.option("--force", is_flag=True, help="Publish another edition even if the date has one.")
@click.option(
    "--no-send",
    "no_send",
    is_flag=True,
    help="Record and publish the edition, but send it to nobody (primes the state).",
)
@click.pass_obj
@handle_errors
def run(
    obj: Context, digests: tuple[str, ...], edition_date: date | None, force: bool, no_send: bool
) -> None:
    """Publish the next edition and mark its papers seen.

    DIGESTS are digest files, folders or globs; without them the sources in
    config.toml are read.  With --no-send the edition is recorded and
    published (its papers count as seen) and nobody is ever sent it: the way
    to start on a feed with a backlog without mailing all of it.
    """
    settings = obj.settings
    new_folder = _new_database_folder(settings)
    report = pipeline.run(
        settings,
        digests,
        _edition_date(settings, edition_date),
        force=force,
        progress=_progress(),
        send=not no_send,
        delivery_progress=_delivery_progress(),
    )
    _print_report(report, "Run")
    if new_folder is not None and new_folder.is_dir():
        output.note(f"created the folder {new_folder} for the database")
    if no_send and report.recorded:
        output.line("Delivery: none (--no-send): nobody will be sent this edition.")
    elif no_send and report.ok:
        output.line("Delivery: skipped by --no-send (a later run sends what is unsent).")
    _exit_for(report)


@main.command("send-test")
@click.argument("address")
@click.option(
    "--date",
    "edition_date",
    callback=_parse_date,
    help="The edition of this date YYYY-MM-DD (default: the newest edition).",
)
@click.option(
    "--topics", default=None, help="Comma-separated topic ids: as a subscriber on them sees it."
)
@click.pass_obj
@handle_errors
def send_test(obj: Context, address: str, edition_date: date | None, topics: str | None) -> None:
    """Send a recorded edition to ADDRESS as a test, through delivery.method.

    The subject starts with [test]; the links are the site's generic pages.
    Nothing is recorded: the send ledger and the subscribers stay as they were.
    """
    settings = obj.settings
    chosen = subs_mod.parse_topics(topics, settings.taxonomy) if topics else None
    edition, reply = pipeline.send_test(settings, address, edition_date, topics=chosen)
    label = edition.date.isoformat() + (f" #{edition.number}" if edition.number > 1 else "")
    output.line(f"Sent a test of the edition {label} to {address} ({reply}); nothing recorded.")


@main.command()
@click.option(
    "--watch",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Keep sending: look for mail that is due every SECONDS, until SIGTERM or Ctrl-C.",
)
@click.option(
    "--retry-unconfirmed",
    "retry_unconfirmed",
    is_flag=True,
    help="Send the unconfirmed rows (handed over twice, no reply) once more each.",
)
@click.pass_obj
@handle_errors
def send(obj: Context, watch: float | None, retry_unconfirmed: bool) -> None:
    """Send what is due of every edition up to delivery.max_age_days old.

    Interrupted sends, deferred recipients, mail a killed sender left: what
    every run sends after its own edition, without making one.  Several may
    run at once against one PostgreSQL database, on one machine or several;
    they share the work through the send ledger.  Exit status 1 when sending
    stopped (the relay refused us, the outbox cannot be written).

    With --retry-unconfirmed, rows handed over twice without a reply
    (unconfirmed: they probably arrived) go out once more each, same
    Message-ID: check the relay's log first, it may be a third copy.
    """
    import signal
    import threading

    stop = threading.Event()
    if watch is not None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    passes = pipeline.send(
        obj.settings,
        watch=watch,
        stop=stop,
        progress=_delivery_progress(min_seconds=30),
        retry_unconfirmed=retry_unconfirmed,
    )
    if not passes:
        output.line("Nothing to send: every edition's mail is sent or given up.")
    stopped = False
    for stored, d in passes:
        label = stored.edition.date.isoformat() + (
            f" #{stored.edition.number}" if stored.edition.number > 1 else ""
        )
        output.line(f"Edition {label}: {_delivery_line(d)}")
        if d.stopped:
            stopped = True
            output.error(f"sending stopped: {d.stopped}")
    if stopped:
        sys.exit(1)


def _delivery_progress(min_seconds: float = 0) -> Callable[[Any], None]:
    """The live progress line of a long send: on a terminal as it goes, else (logs, cron)
    at most every ``min_seconds`` (30 s by default off a terminal)."""
    import time

    every = min_seconds if output.terminal else max(min_seconds, 30)
    last = [0.0]

    def show(progress: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            if output.terminal:
                output.progress(progress.line())
            else:  # cron, a log file, --log-json: a line now and then
                output.note(progress.line())

    return show


@main.command()
@click.argument("query")
@DIGESTS
@DATE
@click.pass_obj
@handle_errors
def explain(obj: Context, query: str, digests: tuple[str, ...], edition_date: date | None) -> None:
    """Show why papers whose title contains QUERY are new or seen, and their topic.

    Prints the novelty verdict (which seen paper, in which edition, on what
    evidence), the operator's decisions, every topic rule that fired, and what
    the store holds under that title.
    """
    settings = obj.settings
    report = pipeline.explain(settings, query, digests, _edition_date(settings, edition_date))
    if report.empty:
        raise NewsletterError(
            f"no paper whose title contains {query!r}",
            hint="check the digests given; the store has none under that title either",
        )
    for line in papers.explain_lines(report):
        output.line(line)


@main.command()
@click.pass_obj
@handle_errors
def migrate(obj: Context) -> None:
    """Create or upgrade the database schema."""
    new_folder = _new_database_folder(obj.settings)
    applied = pipeline.migrate(obj.settings)
    if new_folder is not None:
        output.note(f"created the folder {new_folder} for the database")
    output.line(f"applied migrations: {applied}" if applied else "database schema is up to date")


def _new_database_folder(settings: config.Settings) -> Path | None:
    """The folder of the SQLite database that opening it will create (None: it exists)."""
    from newsletter.store import Database

    return Database.missing_folder(settings.database.url)


def _print_report(report: RunReport, verb: str) -> None:
    """The summary on standard output; each problem once, on standard error (see ``output``)."""
    table = new_table("digest", "entries", "new", "seen", "note", title=f"{verb}: inputs")
    for d in report.digests:
        note = "refused (see error below)" if d.error else d.note or ""
        table.add_row(d.name, str(d.entries), str(d.new), str(d.seen), note)
    if report.digests:
        output.table(table)
    edition = report.edition
    label = edition.date.isoformat() + (f" #{edition.number}" if edition.number > 1 else "")
    if edition.paper_count:
        earlier = " (recorded before)" if report.status == RunStatus.EXISTS else ""
        topic_table = new_table("section", "papers", title=f"Edition {label}{earlier}")
        for section in edition.sections:
            topic_table.add_row(section.title, str(len(section.papers)))
        output.table(topic_table)
    if report.recorded and not report.ok:  # recorded, then publishing failed: say both
        output.line(
            f"Recorded edition {label} with {counted(edition.paper_count, 'new paper')}; "
            "its files are not published (see the error below)."
        )
    elif not report.ok:
        output.line("Nothing recorded.")  # why: the status line on standard error
    elif report.unrecorded:
        output.line("Nothing recorded (see the error below).")
    elif report.skipped_reason:
        output.line(f"Nothing recorded: {report.skipped_reason}.")
    elif verb == "Run":
        output.line(f"Recorded edition {label} with {counted(edition.paper_count, 'new paper')}.")
    else:
        output.line(f"{counted(edition.paper_count, 'new paper')}; nothing was recorded.")
    _print_outputs(report.outputs)
    _print_delivery(report)
    for d in report.digests:
        if d.error:
            output.error(d.error)
    for warning in report.warnings:
        output.warning(warning)
    if not report.ok:
        output.status(report.status, report.skipped_reason or "")
    elif report.unrecorded:
        output.error(report.skipped_reason or "")


def _print_outputs(outputs: Sequence[str]) -> None:
    """Where to look: the email and the edition page by name, the rest as a count."""
    shown = [p for p in outputs if Path(p).name in ("email.html", "index.html", "edition.json")]
    for path in shown:
        output.line(f"  wrote {path}")
    if len(outputs) > len(shown):
        more = counted(len(outputs) - len(shown), "more file")
        output.line(f"  and {more} (feeds, text part)")


def _print_delivery(report: RunReport) -> None:
    for earlier in report.resumed:  # earlier editions this run went on sending
        output.line(f"Delivery of {earlier.label} (resumed): {_delivery_line(earlier)}")
    d = report.delivery
    if d is None:
        return
    if d.recipients == 0:
        output.line("Delivery: no confirmed subscribers for this edition.")
    else:
        output.line(f"Delivery: {_delivery_line(d)}")
    if d.note:
        output.note(f"note: {d.note}")
    if d.stopped:
        output.error(
            f"sending stopped: {d.stopped}",
            "fix the cause and run 'newsletter run' for this date again: "
            "it sends only what is unsent",
        )


def _delivery_line(d: Any) -> str:
    """``3 sent, 0 skipped, 1 failed, 2 deferred (temporary reply), 5 pending (of 11;
    3 sent by this run)``: the unfinished rows named by why they wait, those with
    none left out; then the most common last replies of the deferred and failed."""
    parts = [f"{d.sent} sent", f"{d.skipped} skipped", f"{d.failed} failed"]
    for count, name in (
        (d.unconfirmed, "unconfirmed (handed over twice without a reply)"),
        (d.deferred, "deferred (temporary reply)"),
        (d.pending, "pending (not tried yet)"),
        (d.uncertain, "uncertain (sent once more)"),
        (d.claimed, "claimed by another sender"),
    ):
        if count:
            parts.append(f"{count} {name}")
    line = ", ".join(parts) + f" (of {d.recipients}; {d.sent_now} sent by this run"
    if d.resent_uncertain:
        line += f", {d.resent_uncertain} in flight at an interruption sent again"
    line += ")"
    if d.reasons:
        line += "; last replies: " + "; ".join(
            f"{r.state}: {r.text} ({r.count})" for r in d.reasons
        )
    return line


def _exit_for(report: RunReport) -> None:
    if any(d.error for d in report.digests) or not report.ok or report.unrecorded:
        sys.exit(1)
    if report.delivery is not None and report.delivery.stopped:
        sys.exit(1)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_obj
@handle_errors
def status_command(obj: Context, as_json: bool) -> None:
    """Show the scheduled date's edition, the last runs, the next run and each source.

    Exit status 1 when the scheduled date's edition is not there (its run
    published nothing or failed, or it did not run).
    """
    view = status.gather(obj.settings)
    if as_json:
        output.data(view.to_json())
    else:
        for line in status.lines(view):
            output.line(line)
    last = view.last_run
    if last is not None and last.sources and not as_json:
        table = new_table("input", "source", "kind", "entries", "new", "seen", "problem / note")
        for d in last.sources:
            table.add_row(
                d["name"],
                d["source"],
                d["kind"],
                str(d["entries"]),
                str(d["new"]),
                str(d["seen"]),
                d["error"] or d["note"] or "",
            )
        output.table(table)
    if not view.scheduled.ok:
        sys.exit(1)


@main.command()
@click.pass_obj
@handle_errors
def schedule(obj: Context) -> None:
    """Run the daily job at schedule.cron (in newsletter.timezone), without the web server.

    One edition per scheduled date: a second scheduler on the same database
    says so and sends nothing; after downtime the latest missed date is made once.
    """
    from newsletter.web import serve as serving

    pipeline.migrate(obj.settings)  # a damaged database stops it here, not at every tick
    logging.getLogger(serving.__name__).setLevel(logging.INFO)  # what a stop waits for
    serving.run_scheduler(pipeline.daily_job(obj.settings))


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: serve.port).")
@click.pass_obj
@handle_errors
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """Run the daily job (as 'newsletter schedule') and the web server in one process.

    The web server serves output.site_dir, the subscriber pages and /healthz,
    and logs each request.  It prints the address it listens on once it is
    ready (the real port with --port 0).  SIGTERM stops it after the running
    edition is finished.
    """
    from newsletter.web import serve as serving

    settings = obj.settings
    logging.getLogger("newsletter.web.access").setLevel(logging.INFO)
    logging.getLogger(serving.__name__).setLevel(logging.INFO)  # start, stop, what it waits for

    def ready(url: str) -> None:
        output.line(
            f"serving {url} (public address {settings.site.base.base_url}); "
            "Ctrl-C or SIGTERM stops after the running edition"
        )
        sys.stdout.flush()

    serving.run_server(
        pipeline.daily_job(settings),
        host or settings.serve.host,
        port if port is not None else settings.serve.port,
        on_ready=ready,
    )


# ---------------------------------------------------------------- subscribers


def _subscriptions(obj: Context) -> subs_mod.Subscriptions:
    from newsletter.store import Database

    return subs_mod.Subscriptions(Database.open(obj.settings.database.url))


def _status_filter(status: str | None) -> SubscriberStatus | None:
    return SubscriberStatus(status) if status else None


_STATUS_CHOICE = click.Choice([s.value for s in SubscriberStatus])


def _now() -> datetime:
    return datetime.now(UTC)


@main.group("subscribers")
def subscribers_group() -> None:
    """Manage subscribers: add, invite, remove, list, import, export, seed, ranking."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--topics", default=None, help="Comma-separated topic ids (default: every topic).")
@click.option(
    "--confirmed",
    is_flag=True,
    help="They already agreed (no confirmation email needed); otherwise pending.",
)
@click.pass_obj
@handle_errors
def subscribers_add(obj: Context, email: str, topics: str | None, confirmed: bool) -> None:
    """Add EMAIL (pending, or confirmed with --confirmed)."""
    chosen = subs_mod.parse_topics(topics, obj.settings.taxonomy)
    subs = _subscriptions(obj)
    try:
        change = subs.add(email, chosen, confirmed=confirmed, method="cli", now=_now())
    finally:
        subs.db.close()
    s = change.subscriber
    if change.created:
        output.line(f"added {s.email} ({s.status}; topics: {_topics_label(s.topics)})")
    else:
        output.line(f"{s.email} is on the list already ({s.status}); nothing changed")
    if s.status == subs_mod.PENDING:
        output.line(
            f"nothing is sent to {s.email} until they confirm; send the confirmation email "
            f"with: newsletter subscribers invite {s.email}"
        )


@subscribers_group.command("invite")
@click.argument("emails", nargs=-1)
@click.option("--all-pending", is_flag=True, help="Every pending subscriber.")
@click.pass_obj
@handle_errors
def subscribers_invite(obj: Context, emails: tuple[str, ...], all_pending: bool) -> None:
    """Send the confirmation email to pending EMAILS (or --all-pending).

    It goes out through delivery.method (the outbox or SMTP) like the web
    form's; they are subscribed once they open it and press the button.
    Exit status 1 when an address could not be invited.
    """
    from newsletter.delivery.confirmations import invite

    if not emails and not all_pending:
        raise click.UsageError("name at least one EMAIL, or use --all-pending")
    subs = _subscriptions(obj)
    try:
        targets = list(emails) + (
            [s.email for s in subs.all(subs_mod.PENDING)] if all_pending else []
        )
        results = invite(obj.settings, subs, targets, now=_now())
    finally:
        subs.db.close()
    failed = 0
    for address, problem in results:
        if problem:
            failed += 1
            output.error(f"{address}: {problem}")
        else:
            output.line(f"sent the confirmation email to {address}")
    if not targets:
        output.line("no pending subscribers")
    if failed:
        sys.exit(1)


@subscribers_group.command("remove")
@click.argument("email")
@click.option(
    "--purge",
    is_flag=True,
    help="Delete the address and its consent record instead of unsubscribing.",
)
@click.pass_obj
@handle_errors
def subscribers_remove(obj: Context, email: str, purge: bool) -> None:
    """Unsubscribe EMAIL (kept on record as unsubscribed), or delete it with --purge."""
    subs = _subscriptions(obj)
    try:
        change = subs.remove(email, method="cli", now=_now(), purge=purge)
    finally:
        subs.db.close()
    if change is None:
        raise NewsletterError(f"{email} is not on the list", hint="newsletter subscribers list")
    if purge:
        output.line(f"deleted {change.subscriber.email} and its records")
    elif change.changed:
        output.line(f"unsubscribed {change.subscriber.email}")
    else:
        output.line(f"{change.subscriber.email} was unsubscribed already")


@subscribers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--status", type=_STATUS_CHOICE, default=None, help="Only these.")
@click.pass_obj
@handle_errors
def subscribers_list(obj: Context, as_json: bool, status: str | None) -> None:
    """List subscribers with their status and topics."""
    subs = _subscriptions(obj)
    try:
        everyone = subs.all(_status_filter(status))
    finally:
        subs.db.close()
    if as_json:  # the current state's times only: the history is the consent record's
        data = [
            {
                "email": s.email,
                "status": s.status,
                "topics": sorted(s.topics) if s.topics is not None else None,
                "created_at": s.created_at.isoformat(),
                "confirmed_at": _stamp(s.confirmed_at, s.status == SubscriberStatus.CONFIRMED),
                "unsubscribed_at": _stamp(
                    s.unsubscribed_at, s.status == SubscriberStatus.UNSUBSCRIBED
                ),
            }
            for s in everyone
        ]
        click.echo(json.dumps(data, indent=2))
        return
    table = new_table(
        "email", "status", "topics", "since", title=counted(len(everyone), "subscriber")
    )
    for s in everyone:
        table.add_row(s.email, s.status, _topics_label(s.topics), f"{s.created_at:%Y-%m-%d}")
    output.table(table)


@subscribers_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--confirmed",
    is_flag=True,
    help="You have their consent: rows without a status column become confirmed.",
)
@click.pass_obj
@handle_errors
def subscribers_import(obj: Context, file: str, confirmed: bool) -> None:
    """Import subscribers from FILE.csv (columns: email[,topics][,status]).

    Bad rows are reported by line and skipped; nobody is added twice and no
    existing subscriber is changed.  Exit status 1 when a row was bad.
    """
    subs = _subscriptions(obj)
    try:
        with output.progress_bar(f"importing {Path(file).name}") as progress:
            report = imports.import_csv(
                subs,
                Path(file),
                obj.settings.taxonomy,
                confirmed=confirmed,
                now=_now(),
                progress=progress,
            )
    finally:
        subs.db.close()
    for problem in report.problems:
        output.error(f"{Path(file).name}:{problem}")
    output.line(
        f"{counted(report.rows, 'row')}: {report.added} added, "
        f"{report.existing} already on the list, "
        f"{len(report.problems)} refused",
        markup=False,
    )
    if report.problems:
        sys.exit(1)


@subscribers_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--status", type=_STATUS_CHOICE, default=None, help="Only these.")
@click.pass_obj
@handle_errors
def subscribers_export(obj: Context, file: str | None, status: str | None) -> None:
    """Write subscribers as CSV to FILE (default: standard output)."""
    subs = _subscriptions(obj)
    try:
        if file is None:
            imports.export_csv(subs, sys.stdout, _status_filter(status))
            return
        try:
            with open(file, "w", encoding="utf-8", newline="") as handle:
                count = imports.export_csv(subs, handle, _status_filter(status))
        except OSError as exc:
            raise OutputError.of(Path(file), exc) from exc
    finally:
        subs.db.close()
    output.note(f"wrote {counted(count, 'subscriber')} to {file}")


def _stamp(when: datetime | None, current: bool) -> str | None:
    """A subscriber's time of a state, shown only while they are in that state (a
    confirmed subscriber who unsubscribed once has no ``unsubscribed_at`` to show)."""
    return when.isoformat() if when and current else None


def _topics_label(topics: frozenset[str] | None) -> str:
    return "all" if topics is None else ",".join(sorted(topics))


papers.register(main, handle_errors)
bounces.register(main, handle_errors)
votes.register(subscribers_group, handle_errors)


def _program() -> str:
    """How to run this program again from anywhere: ``newsletter`` when that is on
    the PATH, else the path it was started by (``.venv/bin/newsletter`` after the
    README's quick start, which puts nothing on the PATH)."""
    import os
    import shutil

    if shutil.which("newsletter"):
        return "newsletter"
    started = sys.argv[0] if sys.argv else ""
    if os.path.basename(started) == "newsletter" and os.path.exists(started):
        return os.path.abspath(started)
    return f"{sys.executable} -m newsletter"
