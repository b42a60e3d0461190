"""`bria captions pull [DATASET]…`: write the API's captions as sidecars for review.

`--check` writes nothing and exits 2 when any sidecar differs from the API (for CI).
"""

from __future__ import annotations

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import build_client, command_line, fail, load_manifest_or_exit, run_async
from reconciler.cli.session import StateOptions, state_options, state_session


@click.group("captions")
def captions_group() -> None:
    """Captions in the repository: pull the API's captions (automatic ones too) as sidecars."""


@captions_group.command("pull")
@click.argument("datasets", nargs=-1, metavar="[DATASET]...")
@click.option("--check", is_flag=True, help="Write nothing; exit 2 when sidecars differ from the API.")
@click.option("--force", is_flag=True, help="Also replace sidecars holding edits not applied yet.")
@state_options
def pull_command(datasets: tuple[str, ...], check: bool, force: bool, state_opts: StateOptions) -> None:
    """Write each image's caption as the API holds it into the sidecar beside the image.

    A pulled caption that still equals the API's automatic caption is not a change (the
    plan stays empty); edit it to make it a manual caption. Exit codes: 0 done (or, with
    --check, in sync), 1 error, 2 --check found differences, 3 state locked.
    """
    from reconciler import caption_sync
    from reconciler.api import ApiError, TransportError

    manifest = load_manifest_or_exit(state_opts.manifest_file)
    specs, unknown = caption_sync.datasets_to_pull(manifest, datasets)
    if unknown:
        fail(f"no such dataset in the manifest: {', '.join(unknown)}", exitcodes.ERROR)
    with state_session(state_opts, manifest, lock=command_line()) as session:
        state = session.store.read()
    records = {spec.key: state.datasets.get(spec.key) for spec in specs} if state else {}
    pending = [spec for spec in specs if records.get(spec.key) and records[spec.key].current]
    for spec in specs:
        if spec not in pending:
            click.echo(f"dataset.{spec.key}: not created yet (run bria apply first); skipped", err=True)

    async def _read():
        async with build_client(manifest) as client:
            return [await client.list_images(records[s.key].current.remote_id) for s in pending]

    try:
        live = run_async(_read()) if pending else []
    except (ApiError, TransportError) as exc:
        fail(f"could not read the captions: {exc}", exitcodes.ERROR)
    differing = 0
    for spec, images in zip(pending, live):
        result = caption_sync.compare(spec, records[spec.key], images, manifest.root)
        differing += len(result.updates)
        _report(spec.key, result, check=check, force=force)
    if check and differing:
        click.echo(f"{differing} caption sidecar(s) differ from the API; run: bria captions pull", err=True)
        raise SystemExit(exitcodes.CHANGES_PRESENT)


def _report(key: str, result, *, check: bool, force: bool) -> None:
    from reconciler.caption_sync import write_sidecar

    written = 0
    for update in result.updates:
        if check:
            click.echo(f"dataset.{key}: {update.rel_path} differs from the API")
        elif update.kept_local_edit and not force:
            click.echo(f"Warning: {update.rel_path} holds an edit not applied yet (bria apply sends it); "
                       "kept — --force replaces it with the API's caption", err=True)
        else:
            write_sidecar(update.path, update.new)
            written += 1
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    if not check:
        click.echo(f"dataset.{key}: {written} caption sidecar(s) written, {result.unchanged} already up to date")


COMMANDS = [captions_group]
