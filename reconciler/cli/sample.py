"""`bria sample [ADDR]…`: generate each model's `samples:` and draw its contact sheet.

Generation is not a managed resource: the state is only read (its lock is held just for
that read), nothing is planned or recorded, and images already downloaded are reused.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import exitcodes
from reconciler.cli.common import build_client, command_line, fail, run_async
from reconciler.cli.session import StateOptions, state_options, state_session
from reconciler.model import Manifest
from reconciler.state.model import State
from reconciler.status import ModelStatus


@click.command("sample")
@click.argument("addresses", nargs=-1, metavar="[ADDR]...")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help="Where samples go (default: .bria/samples beside the manifest); one folder per model id.")
@state_options
def sample_command(addresses: tuple[str, ...], out_dir: str | None, state_opts: StateOptions) -> None:
    """Generate sample images with trained models (all models with a samples: block, or ADDR…).

    Writes <out-dir>/<model id>/ with the images, contact-sheet.png and index.html; a model
    that replaced an older one is shown beside it. Exit codes: 0 done, 1 error (e.g. a model
    that is not Completed), 3 state locked.
    """
    with state_session(state_opts, lock=command_line()) as session:
        manifest, state = session.manifest, session.store.read() or State.empty()
    sample_models(manifest, state, addresses, Path(out_dir) if out_dir else None)


def sample_models(manifest: Manifest, state: State, addresses: tuple[str, ...] | list[str],
                  out_dir: Path | None) -> None:
    """Run sampling and print what was written; exits 1 on any problem (after the rest)."""
    from reconciler.api import ApiError, TransportError
    from reconciler.sampling import ModelNotReady, default_samples_dir, run_samples, targets_from

    targets, problems = targets_from(manifest, state, list(addresses))
    if problems:
        fail("\n".join(problems), exitcodes.ERROR)
    if not targets:
        click.echo("No model has a samples: block; nothing to generate.")
        return
    folder = out_dir or default_samples_dir(manifest)

    async def _run():
        async with build_client(manifest) as client:
            return await run_samples(client, targets, folder, echo=click.echo)

    try:
        report = run_async(_run())
    except ModelNotReady as exc:
        fail(f"{exc}\nWait for training to finish (bria apply --wait), then run bria sample again.",
             exitcodes.ERROR)
    except (ApiError, TransportError) as exc:
        fail(f"generation failed: {exc}", exitcodes.ERROR)
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"Samples: {report.generated} generation request(s), {report.downloaded} image(s) downloaded, "
               f"{report.reused} reused. Folder: {folder}")


async def sample_after_training(manifest: Manifest, state: State, client, training: dict[str, str]) -> None:
    """`apply --wait`: sample the models whose training just ended Completed and that have a
    `samples:` block. A sampling problem is reported but does not fail the apply (the
    trainings succeeded; `bria sample` retries)."""
    from reconciler.api import ApiError
    from reconciler.sampling import ModelNotReady, default_samples_dir, run_samples, targets_from

    done = [a for a, status in training.items() if status == ModelStatus.COMPLETED
            and (spec := manifest.models.get(a.removeprefix("model."))) is not None and spec.samples]
    if not done:
        return
    targets, problems = targets_from(manifest, state, done)
    try:
        report = await run_samples(client, targets, default_samples_dir(manifest), echo=click.echo)
    except (ModelNotReady, ApiError) as exc:
        click.echo(f"Warning: sampling after training failed: {exc} (run bria sample to retry)", err=True)
        return
    for note in [*problems, *report.notes]:
        click.echo(f"Note: {note}", err=True)
    click.echo(f"Samples: {report.downloaded} image(s) downloaded, {report.reused} reused.")


COMMANDS = [sample_command]
