"""Sample images from trained models (`bria sample`, and `apply --wait` after a training):
`run` generates and downloads what is missing, `sheet` draws the contact sheet and page.

Generation is not a managed resource: nothing here writes state or plans anything."""

from reconciler.sampling.run import (ModelNotReady, SampleReport, SampleTarget, default_samples_dir,
                                     run_samples, targets_from)

__all__ = ["ModelNotReady", "SampleReport", "SampleTarget", "default_samples_dir", "run_samples", "targets_from"]
