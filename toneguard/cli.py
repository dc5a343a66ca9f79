"""The command line: parses options, calls the library, prints, exits. No linting logic here."""
from __future__ import annotations

import os
import shutil
import sys
import textwrap

import click

from . import __version__
from .errors import ExitCode, ToneguardError
from .report import SEVERITIES

STAGE_CHOICE = click.Choice(["first-reply", "follow-up", "check-in"])


def _ids(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


SETTINGS_OPTIONS = [
    click.option("--stage", type=STAGE_CHOICE, help="Where the letter stands (overrides front matter and config)."),
    click.option("--select", metavar="IDS", help="Only these rules (comma-separated ids)."),
    click.option("--ignore", metavar="IDS", help="Skip these rules (comma-separated ids)."),
    click.option("--model", metavar="NAME", help="An installed spaCy pipeline, or a pipeline folder, to use."),
    click.option("--tone-model/--no-tone-model", default=None,
                 help="Let the trained tone model judge the tone rules (default: on)."),
    click.option("--config", "config_path", type=click.Path(dir_okay=False),
                 help="Use this config file instead of searching for one."),
    click.option("--isolated", is_flag=True, help="Ignore all config files."),
]


def _decorate(command, options):
    for option in reversed(options):
        command = option(command)
    return command


def settings_options(command):
    """The options that choose the settings, as `check` has them."""
    return _decorate(command, SETTINGS_OPTIONS)


def lint_options(command):
    """Options shared by `check` and `fix`: what to lint and with which settings."""
    return _decorate(command, [
        click.argument("paths", nargs=-1, type=click.Path(), required=True),
        *SETTINGS_OPTIONS,
        click.option("--stdin-filename", metavar="PATH",
                     help="Name for the draft read from '-': picks its format and config."),
        click.option("--server", metavar="URL", envvar="TONEGUARD_SERVER",
                     help="Lint on a running `toneguard serve` (or set TONEGUARD_SERVER); "
                          "lints here if it is not there."),
    ])


def _overrides(select, ignore, model, tone_model=None):
    from .config import Settings

    return Settings(select=_ids(select), ignore=_ids(ignore) or (), model=model, tone_model=tone_model)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toneguard")
def cli():
    """A tone linter for the letter you write back after a job rejection."""


@cli.command()
@lint_options
@click.option("--format", "output_format", default="text", show_default=True,
              help="Output: text, json, sarif or github (or a plugin's format).")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding is at least this severe (default: warning).")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: on a terminal).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes for big runs (default: one per core from 128 drafts up).")
@click.option("--now", metavar="DATE", help="When drafts without a date go out (default: the clock), "
                                            "e.g. 2026-03-03T14:30+01:00.")
def check(paths, stage, select, ignore, model, tone_model, config_path, isolated, stdin_filename, server,
          output_format, fail_on, color, jobs, now):
    """Lint drafts: files, folders (searched for .txt, .md, .eml) or - for stdin.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 bad input or config.
    """
    from .formats import Output, available_formats

    if server:  # a running `toneguard serve` lints; this process never loads spaCy
        from functools import partial

        from .client import lint_paths

        lint_paths = partial(lint_paths, server)
    else:
        from .engine import lint_paths

    formats = available_formats()
    if output_format not in formats:
        raise click.BadParameter(f"unknown format {output_format!r} (use {', '.join(formats)})",
                                 param_hint="'--format'")
    output = Output(stream=sys.stdout, color=_use_color(color),
                    errors=sys.stderr)
    if output_format == "sarif":
        output.rules = _rules(tolerant=True)
    reports = lint_paths(paths, stage=stage, overrides=_overrides(select, ignore, model, tone_model),
                         config=config_path, isolated=isolated, stdin_name=stdin_filename, jobs=jobs,
                         now=_moment(now))
    reports = _with_progress(reports, paths)
    failing = []
    formats[output_format](_watch(reports, fail_on, failing), output)
    if output.tally.errors:
        sys.exit(ExitCode.ERROR)
    sys.exit(ExitCode.FINDINGS if failing else ExitCode.OK)


def _moment(value: str | None):
    """--now as an aware datetime (a time without a zone is local time)."""
    if value is None:
        return None
    from . import dates

    try:
        return dates.parse(value, whole=True)
    except dates.NotADate:
        raise ToneguardError(f"--now: {value!r} is not a date and time (write it like 2026-03-03T14:30+01:00)") from None


def _with_progress(reports, paths):
    """A progress bar on stderr for long runs at a terminal; never on a pipe or in CI.

    The bar and the findings would garble each other on one screen, so while it is
    shown the (small) reports are held and printed once the run is done.
    """
    many = len(paths) >= 20 or any(os.path.isdir(p) for p in paths)
    # pre-commit runs hooks in a pty at a terminal, then prints what they wrote: a bar there is noise.
    if not many or not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("PRE_COMMIT"):
        return reports
    from .formats import printable

    held = []
    with click.progressbar(reports, label="Linting", file=sys.stderr, show_pos=True,
                           item_show_func=lambda r: printable(r.path) if r else None) as bar:
        for report in bar:
            held.append(report)
    return held


def _watch(reports, fail_on, failing):
    """Pass reports through, noting those with findings at or above the threshold: the
    --fail-on flag, else the `fail-on` of the config that applied to the draft."""
    for report in reports:
        if report.at_or_above(fail_on or report.fail_on or "warning"):
            failing.append(report.path)
        yield report


def _use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _rules(tolerant: bool = False):
    """The rules of the current folder's config; `tolerant`: the built-in ones if that config
    is broken (the drafts under it report the error)."""
    from .config import Settings, settings_for
    from .rules import load_rules

    try:
        return load_rules(settings_for("-").rule_dirs)
    except ToneguardError:
        if not tolerant:
            raise
        return load_rules(Settings().rule_dirs)


@cli.command()
@lint_options
@click.option("--diff", is_flag=True, help="Print what would change as a unified diff; write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Report nothing but errors.")
@click.option("--force", is_flag=True, help="Fix read-only files too.")
@click.option("--all", "--unsafe-fixes", "plan", is_flag=True,
              help="Rewrite the whole letter: apply the first suggestion of every finding, not only the safe "
                   "ones. This changes what the letter says: read it before you send it.")
def fix(paths, stage, select, ignore, model, tone_model, config_path, isolated, stdin_filename, server, diff, quiet,
        force, plan):
    """Apply the suggestions marked safe, in place (atomically) or, for -, to stdout.

    Other findings are listed, not applied; --all applies them too, as one plan for the
    whole letter. With - (alone: not with files), the whole text is printed, fixed or (on
    an error) as it came in. Exit status: 0 done (with --diff: 0 when nothing would change,
    1 when something would), 2 bad input or config.
    """
    import difflib

    from .fixing import fix_paths, fix_text
    from .formats import Output, emit_text, printable
    from .sources import STDIN

    if STDIN in paths and len(paths) > 1:
        raise ToneguardError("fix: '-' cannot be mixed with other paths (standard input is fixed to standard "
                             "output, files in place); fix them in separate runs")
    if server:  # a running `toneguard serve` fixes; this process never loads spaCy
        from .client import Server

        fixer = Server(server).fix
    else:
        fixer = fix_text
    filter_mode = list(paths) == ["-"] and not diff
    results = fix_paths(list(paths), write=not diff, stage=stage,
                        overrides=_overrides(select, ignore, model, tone_model),
                        config=config_path, isolated=isolated, stdin_name=stdin_filename, fixer=fixer, force=force,
                        plan=plan)
    # As a filter the text is the output; everything else goes to stderr.
    notes = sys.stderr if filter_mode else sys.stdout
    output = Output(stream=notes, color=_use_color(None) and notes is sys.stdout, errors=sys.stderr)
    errors = changed = applied = 0
    remaining = []
    for result in results:
        if filter_mode:
            sys.stdout.buffer.write(result.output())
            if not result.changed:  # past the size limit, the rest was never read: it goes through too
                shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        if result.error:
            errors += 1
            click.echo(f"toneguard: {printable(result.error)}", err=True)
            continue
        changed += result.changed
        applied += result.fixed.applied
        if diff:
            sys.stdout.writelines(difflib.unified_diff(
                result.source.text.splitlines(keepends=True), result.fixed.text.splitlines(keepends=True),
                f"a/{result.path}", f"b/{result.path}"))
        remaining.append(result.fixed.report)
    if not quiet:
        if remaining:
            emit_text(remaining, output)
        verb = "Would fix" if diff else "Fixed"
        click.echo(f"{verb} {applied} problem{'s' if applied != 1 else ''} in {changed} "
                   f"draft{'s' if changed != 1 else ''}.", file=notes)
        if plan and changed:
            click.echo("The whole letter was rewritten: read it before you send it, and fill in any [slot] "
                       "it asks you for.", file=notes)
    if errors:
        sys.exit(ExitCode.ERROR)
    sys.exit(ExitCode.FINDINGS if diff and changed else ExitCode.OK)


@cli.command("rules")
def list_rules():
    """List every rule: id, severity and what it flags."""
    rules = _rules()
    width = max(len(rule_id) for rule_id in rules)
    for rule in rules.values():
        click.echo(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}")


@cli.command()
@click.argument("rule_id")
def explain(rule_id):
    """Show one rule's story: what it flags, why, where the advice comes from, examples."""
    from .articles import cite

    rules = _rules()
    if rule_id not in rules:
        raise ToneguardError(f"unknown rule '{rule_id}' (see `toneguard rules`)")
    rule = rules[rule_id]
    wrap = lambda text: textwrap.fill(" ".join(text.split()), 78, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    lines = [f"{rule.id} ({_SEVERITY_WORDS[rule.severity]}; {_KIND_WORDS[rule.kind]})", "",
             "What it flags:", wrap(rule.message), "", "Why it matters:", wrap(rule.why), "",
             "Where the advice comes from:"]
    lines += [textwrap.fill(cite(article, quote), 78, initial_indent="  ", subsequent_indent="  ",
                            break_long_words=False, break_on_hyphens=False)  # an address stays whole
              for article, quote in rule.sources]
    lines += ["", "Applies to: " + ", ".join(_STAGE_WORDS[stage] for stage in rule.stages)]
    lines += _budget_lines(rule)
    lines += _tone_model_lines(rule)
    lines += _option_lines(rule)
    lines += ["", "Fires on:"]
    lines += [line for example in rule.fires for line in _example_lines(example, wrap)]
    lines += ["", "Stays quiet on:"] + [line for example in rule.quiet for line in _example_lines(example, wrap)]
    lines += ["", "Suggested rewrites:"] + [f"  {_describe(suggest)}" for suggest in rule.suggest]
    click.echo("\n".join(lines))


_SEVERITY_WORDS = {"error": "an error: fix it before sending", "warning": "a warning: worth fixing",
                   "info": "a note: worth a second look"}
_KIND_WORDS = {"existence": "flags words in the letter", "required": "flags something the letter lacks",
               "metric": "flags a letter over its length", "recipients": "flags a note sent to several people",
               "correspondence": "compares the letter with the other drafts of its folder"}
_STAGE_WORDS = {"first-reply": "the first reply to the rejection", "follow-up": "a follow-up once they have answered",
                "check-in": "a check-in months later"}


def _budget_lines(rule) -> list[str]:
    """Every number a length rule uses, stage by stage, and how to change them."""
    if not rule.budgets:
        return []
    names = {"words": "words", "sentences": "sentences", "grade": "reading grade (Flesch-Kincaid)"}
    lines = ["", "Budgets (the body only: greeting and sign-off are not counted):"]
    for stage, budget in rule.budgets.items():
        limits = [f"{budget[key]:g} {name}" for key, name in names.items() if key in budget]
        extra = "; a PS is not counted" if budget.get("ps-exempt") else ""
        lines.append(f"  {_STAGE_WORDS[stage]}: at most {' and '.join(limits)}{extra}")
    lines.append(f"  Change them with `rules: {{{rule.id}: {{budgets: {{first-reply: {{words: 180}}}}}}}}` in the config.")
    return lines


def _option_lines(rule) -> list[str]:
    """A cross-draft rule's options, with the config key that changes each."""
    if not rule.options:
        return []
    lines = ["", "Compares the draft with the other drafts of its folder and the folders below it",
             "(`correspondence-root` in the config names another root). Options, with the default:"]
    lines += [f"  {key}: {value}   (config: rules: {{{rule.id}: {{{key}: ...}}}})" for key, value in rule.options.items()]
    return lines


def _example_lines(example, wrap) -> list[str]:
    """An example as text; a cross-draft rule's as its drafts by path, the last one judged."""
    if not example.earlier and example.now is None:
        return [wrap(example.text)]
    lines = [f"  (sent {example.now} if undated)"] if example.now else []
    for path, text in (*example.earlier, (example.path, example.text)):
        lines.append(f"  {path}:")
        lines += [f"    {line}" for line in text.rstrip("\n").splitlines()]
    return lines + [""]


def _tone_model_lines(rule) -> list[str]:
    """How the rule listens to the trained tone model, in words, with the numbers it uses."""
    conditions = rule.model_conditions
    if not conditions:
        return []
    lines = ["", "Listens to the tone model (trained on labelled letters, see training/CARD.md):"]
    effects = {"match": "counts too", "requires": "is needed before the rule's patterns count there",
               "exceptions": "is left alone"}
    for block, condition in conditions:
        labels = [condition["label"]] if isinstance(condition["label"], str) else condition["label"]
        label = " or ".join(f"“{label.replace('_', ' ')}”" for label in labels)
        score = f"under {condition['below']:.2f}" if "below" in condition else f"{condition['threshold']:.2f} or more"
        lines.append(f"  a sentence the model scores {score} as {label} {effects[block]}")
    lines.append(f"  Change how sure it must be with `rules: {{{rule.id}: {{threshold: 0.7}}}}` in the config;")
    lines.append("  `tone-model: false` (or --no-tone-model) turns the model off and leaves the patterns.")
    return lines


_FIELDS = {"name": "<their name>", "company": "<the company>", "role": "<role name>", "month": "<the month>",
           "match": "<the flagged words>", "match_lower": "<the flagged words in lower case>"}


def _describe(suggest) -> str:
    """One rule suggestion in words: what it does, with what text, and when it applies."""
    what = {"greeting": "the greeting", "sentence": "the sentence"}.get(suggest.target, "the flagged words")
    label = {"insert": "add " + ("after the greeting" if suggest.at == "start" else "before the sign-off"),
             "remove": "cut only the part of the sentence that does the harm, keeping the rest"
             if suggest.target == "clause" else f"delete {what}",
             "move": "move the sentence to the end of the letter",
             "shorten": "cut the letter to its budget, keeping what it needs", "replace": f"replace {what} with",
             "reschedule": "date it the first moment the advice allows (its date, a Date header or front matter)"}
    text = suggest.texts[0].format(**_FIELDS) if suggest.texts else ""
    conditions = [f"when they contain {' or '.join(f'“{w}”' for w in suggest.when)}"] if suggest.when else []
    conditions += [f"not when they contain {' or '.join(f'“{w}”' for w in suggest.unless)}"] if suggest.unless else []
    if suggest.shouted is not None:
        conditions.append("for words in capitals" if suggest.shouted else "not for words in capitals")
    if suggest.marks is not None:
        conditions.append("for a run of marks" if suggest.marks else "not for a run of marks")
    if suggest.stages:
        conditions.append("in " + " or ".join(_STAGE_WORDS[stage] for stage in suggest.stages))
    if suggest.register:
        conditions.append("in a casual note" if suggest.register == "casual" else "in a note that is not casual")
    return (label[suggest.action] + (f" “{text}”" if text else "")
            + (f" ({'; '.join(conditions)})" if conditions else "") + (" [safe fix]" if suggest.safe else ""))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets other machines in.")
@click.option("--port", type=click.IntRange(0, 65535), default=8081, show_default=True,
              help="Port to listen on (LanguageTool's, so its clients find it; 0 picks a free one).")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="Answer browser requests from this origin too (repeatable; see serve.allow-origins).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds a request may take, waiting included.")
@settings_options
def serve(host, port, allow_origins, time_limit, **settings_flags):
    """Serve toneguard on this machine: a page at /, LanguageTool's API at /v2, JSON at /api.

    Settings come from the config found in the current folder, as for `check`.
    SIGINT (Ctrl+C) or SIGTERM stops it after the requests under way are answered.
    """
    from dataclasses import replace

    from .config import ORIGIN, settings_for
    from .server import Limits, serve as run

    for origin in allow_origins:
        if not ORIGIN.fullmatch(origin):
            raise click.BadParameter(f"{origin!r} is not an origin (scheme://host[:port])",
                                     param_hint="'--allow-origin'")
    flags = settings_flags
    settings = settings_for("-", flags["config_path"], flags["isolated"]).merged(
        _overrides(flags["select"], flags["ignore"], flags["model"], flags["tone_model"]))
    settings = replace(settings, stage=flags["stage"] or settings.stage,
                       allow_origins=settings.allow_origins + allow_origins)
    run(settings, host, port, Limits(seconds=time_limit))


@cli.command()
@click.option("--stdio", is_flag=True, hidden=True, help="Accepted for clients that pass it; stdio is the only transport.")
def lsp(stdio):
    """Run the language server on stdin/stdout, for editors (see the README)."""
    from .lsp import serve

    serve()


def main(argv=None):
    """Entry point: one line for any error the user can fix, exit 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="toneguard", standalone_mode=False)
    except ToneguardError as error:
        from .formats import printable

        click.echo(f"toneguard: {printable(str(error))}", err=True)
        sys.exit(ExitCode.ERROR)
    except click.exceptions.Abort:
        click.echo("toneguard: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitCode.ERROR)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (| head); nothing more to say
        sys.exit(ExitCode.OK)
    except Exception as error:  # a bug in toneguard, not the user's input
        if os.environ.get("TONEGUARD_DEBUG"):
            raise
        click.echo(f"toneguard: internal error: {type(error).__name__}: {error} "
                   "(set TONEGUARD_DEBUG=1 for details, and please report it)", err=True)
        sys.exit(ExitCode.ERROR)
