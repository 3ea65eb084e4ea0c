"""`vcaudit classify`: how a host name, address or URL is classified, and why."""

from __future__ import annotations

import json
from pathlib import Path

import click

from auditor.cli.errors import errors_as_exit_codes
from auditor.cli.list_options import lists_options, load_for_command
from auditor.cli.lists import url_request
from auditor.cli.options import app_option, rules_option


@click.command()
@click.argument("targets", nargs=-1, metavar="NAME_OR_IP...")
@app_option
@rules_option
@lists_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--list-apps", is_flag=True, help="List the app names --app accepts.")
@errors_as_exit_codes
def classify(targets: tuple[str, ...], app: str | None, rules: tuple[Path, ...],
             as_json: bool, list_apps: bool) -> None:
    """Explain how host names or addresses are classified."""
    from auditor.classify.app_detection import UnknownAppError
    from auditor.classify.endpoint import classify_endpoint
    from auditor.names.domains import is_ip_address, normalise_host
    from auditor.records import record_to_dict

    catalog = load_for_command(rules)
    if list_apps:
        for name, entity in sorted(catalog.apps().items()):
            click.echo(f"{name}\t{entity.name}")
        return
    if not targets:
        raise click.UsageError("give at least one NAME_OR_IP (or --list-apps)")
    app_entity: str | None = None
    if app:
        vendor = catalog.app_entity(app.strip().lower())
        if vendor is None:
            raise UnknownAppError(f"unknown app {app!r}; see `vcaudit classify --list-apps`")
        app_entity = vendor.id
    for target in targets:
        request = url_request(target)  # a URL is matched as an HTTP request by filter lists
        text = request.host if request else normalise_host(target)
        is_ip = is_ip_address(text)
        verdict = classify_endpoint(catalog, None if is_ip else text, text if is_ip else None,
                                    app_entity, request=request)
        if as_json:
            click.echo(json.dumps({
                "host": text, "category": verdict.category.value, "entity": verdict.entity,
                "first_party": verdict.first_party,
                "evidence": [record_to_dict(e) for e in verdict.evidence],
            }))
            continue
        owner = verdict.entity or "no known organisation"
        flag = " (the audited app's vendor)" if verdict.first_party else ""
        click.echo(f"{text}: {verdict.category.value}, {owner}{flag}")
        for evidence in verdict.evidence:
            click.echo(f"  - {evidence.detail}")
            if evidence.source:
                click.echo(f"    source: {evidence.source}")
