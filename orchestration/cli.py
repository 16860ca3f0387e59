"""The `cardwatch` command line.

Each subcommand lives beside the code it drives and is imported only when it runs, so that
`cardwatch --help` is fast and one broken area cannot break the others.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("simulator.cli:simulate", "Write a simulated Company A into the landing contract."),
    "ingest": ("orchestration.commands:ingest", "Validate landing files and load them into the warehouse."),
    "run": ("orchestration.commands:run", "Ingest, then build the dbt project (rules, features, marts)."),
    "status": (
        "orchestration.commands:status",
        "What is in the warehouse: rows per table, quarantine, last load.",
    ),
    "demo": ("orchestration.commands:demo", "Simulate Company A and run the whole pipeline end to end."),
    "dashboard": ("dashboards.cli:dashboard", "Open the monitoring dashboard on localhost."),
    "dagster": (
        "orchestration.commands:dagster",
        "Start the Dagster UI on localhost with Cardwatch's definitions.",
    ),
    "report": (
        "orchestration.commands:report",
        "Write the detection review (HTML and Markdown) from the warehouse.",
    ),
    "benchmark": ("ml.cli:benchmark", "Measure speed and detection quality (figures go to docs/)."),
    "backtest": (
        "orchestration.backtest:backtest",
        "Train on what was known at a cut-off, score a later window, compare every system.",
    ),
    "rules": (
        "orchestration.rules_cli:rules",
        "Work with the rule library: backtest a draft or shadow rule.",
    ),
}


# Subcommands that live outside their group's module: group name -> ["module:attribute", ...]
EXTRA_SUBCOMMANDS: dict[str, list[str]] = {
    "benchmark": [
        "orchestration.benchmark:build",
        "orchestration.benchmark:pipeline",
        "orchestration.benchmark:scoring",
        "orchestration.fdh_backtest:fdh_backtest",
        "orchestration.company_backtest:company_backtest",
    ],
}


def _load(target: str) -> click.Command:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, short_help = COMMANDS[cmd_name]
        try:
            command = _load(target)
        except ModuleNotFoundError as exc:  # an area not installed yet
            raise click.ClickException(f"'{cmd_name}' is unavailable: {exc}") from exc
        command.short_help = command.short_help or short_help
        if isinstance(command, click.Group):
            for extra in EXTRA_SUBCOMMANDS.get(cmd_name, []):
                command.add_command(_load(extra))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cardwatch")
def cli() -> None:
    """Cardwatch: corporate-card (법인카드) misuse monitoring.

    State lives under $CARDWATCH_HOME (default ./.cardwatch).
    """


def main() -> None:
    cli(prog_name="cardwatch")


if __name__ == "__main__":
    main()
