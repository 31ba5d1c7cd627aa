"""CustomResourceDefinitions and custom resources, as kube-apiserver's apiextensions handles them.

Pure functions over decoded JSON (plain dicts), with kube's semantics and error wording, so
that clients written against a real cluster see the same answers:

- CRDs: ``default_crd`` → ``validate_crd`` (which requires structural schemas, see
  ``structural_errors``, except for requests through v1beta1 that keep unknown fields) →
  ``crd_status`` (with kube's ``NonStructuralSchema`` condition for such CRDs);
  ``crd_v1beta1_to_v1``/``crd_v1_to_v1beta1`` for clients of the old API.
- Custom resources, in kube's order for every write: ``prune`` (unknown fields, reported for
  ``fieldValidation``) → ``apply_defaults`` → ``validate_object`` (and
  ``scale_path_errors`` when the CRD has a scale subresource). ``get_scale`` and
  ``set_replicas`` serve ``/scale``.

Validation problems come back as lists of ``FieldError``; the caller raises
``Invalid.of(kind, group, name, errors)``. Malformed schemas or objects never raise.
"""

from __future__ import annotations

from .conversion import crd_v1_to_v1beta1, crd_v1beta1_to_v1
from .defaulting import apply_defaults, default_errors
from .definitions import crd_status, default_crd, validate_crd
from .pruning import prune
from .scale import get_scale, scale_path_errors, set_replicas
from .structural import structural_errors
from .validation import validate_object

__all__ = [
    "apply_defaults",
    "crd_status",
    "crd_v1_to_v1beta1",
    "crd_v1beta1_to_v1",
    "default_crd",
    "default_errors",
    "get_scale",
    "prune",
    "scale_path_errors",
    "set_replicas",
    "structural_errors",
    "validate_crd",
    "validate_object",
]
