"""Load only the AWS provider bindings the stacks use, on both sides of jsii.

Python side: ``import cdktf_cdktf_provider_aws`` runs the package's ``__init__.py``,
which imports all ~2,100 generated submodules: about 12 s and 525 MB before any of our
code runs. The fast path here registers the bare package in ``sys.modules`` without
running that ``__init__``, loads its ``_jsii`` module (which loads the provider's jsii
assembly into the Node process, as the normal import does), and imports only
:data:`SUBMODULES`.

Node side: loading that assembly makes the jsii runtime ``require`` the provider's
``lib/index.js``, which in turn requires all ~2,100 JavaScript submodules (about 4 s and
400 MB in the Node process). ``jsii_lazy_index.js``, preloaded into the jsii runtime
through ``NODE_OPTIONS`` while it starts, answers that ``require`` with an object that
loads each submodule on first use, so Node also loads only what the stacks create. A
second preload, ``jsii_token_traces.js``, stops cdktf from capturing a JavaScript stack
trace for every token (under jsii those traces show only the kernel's frames).

The synthesized JSON is byte-identical either way (``tests/synth/test_fast_import.py`` and
``tests/cli/test_cli_paths.py``). Import this module before anything imports ``cdktf``:
the jsii runtime starts with the first ``cdktf``/``constructs`` import, and a runtime
started earlier keeps the eager index (correct output, only slower).

If the Python fast path fails (for example after a provider upgrade changes the package
layout), the partial modules are removed and the normal import is used instead; if the
JavaScript index does not have the expected generated layout, the preload loads it
unchanged. Synth only gets slower, never wrong: when a module in :data:`SUBMODULES`
is missing from the installed provider altogether (another release than the pinned
one), synthesis stops with an error naming it. ``AI_FLEET_PROVIDER_IMPORT=full``
forces the normal import on both sides, without either preload.

Usage::

    from stacks.aws import aws
    aws.lb.Lb(scope, "alb", ...)
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

from . import jsii_cache
from .dependencies import ProviderMismatch

PACKAGE = "cdktf_cdktf_provider_aws"

#: Provider submodules (resource and data source bindings) used by the constructs.
SUBMODULES: tuple[str, ...] = (
    "provider",
    "vpc",
    "subnet",
    "internet_gateway",
    "eip",
    "nat_gateway",
    "route_table",
    "route",
    "route_table_association",
    "default_security_group",
    "flow_log",
    "cloudwatch_log_group",
    "security_group",
    "vpc_security_group_ingress_rule",
    "vpc_security_group_egress_rule",
    "lb",
    "lb_listener",
    "lb_listener_rule",
    "lb_target_group",
    "launch_template",
    "autoscaling_group",
    "autoscaling_policy",
    "autoscaling_schedule",
    "autoscaling_lifecycle_hook",
    "cloudwatch_metric_alarm",
    "sns_topic",
    "sns_topic_policy",
    "iam_role_policy",
    "iam_role",
    "iam_role_policy_attachment",
    "iam_instance_profile",
    "data_aws_ssm_parameter",
    "data_aws_ami",
    "data_aws_availability_zones",
    "data_aws_ec2_instance_types",
    "data_aws_ec2_instance_type_offerings",
    "data_aws_subnet",
    "data_aws_subnets",
    "data_aws_vpc",
    "data_aws_vpcs",
    "data_aws_s3_bucket",
    "data_aws_lb",
    "data_aws_lbs",
    "data_aws_autoscaling_group",
    "data_aws_autoscaling_groups",
    "data_aws_partition",
    "data_aws_caller_identity",
    "kms_key",
    "s3_bucket",
    "s3_bucket_lifecycle_configuration",
    "s3_bucket_ownership_controls",
    "s3_bucket_policy",
    "s3_bucket_public_access_block",
    "s3_bucket_server_side_encryption_configuration",
    "s3_bucket_versioning",
    "wafv2_web_acl",
    "wafv2_web_acl_association",
    "wafv2_web_acl_logging_configuration",
)

#: How the provider was loaded in this process: "fast" or "full".
mode: str = ""

#: Node preload that makes the provider's JavaScript index lazy (see module docstring).
LAZY_INDEX_PRELOAD = Path(__file__).with_name("jsii_lazy_index.js")

#: Node preload that keeps cdktf from capturing a stack trace per token.
TOKEN_TRACES_PRELOAD = Path(__file__).with_name("jsii_token_traces.js")

#: Everything preloaded into the jsii runtime on the fast path.
KERNEL_PRELOADS = (LAZY_INDEX_PRELOAD, TOKEN_TRACES_PRELOAD)

#: Whether the jsii runtime of this process started with :data:`KERNEL_PRELOADS`.
lazy_node_index: bool = False


def _node_options_arg(path: Path) -> str:
    """``--require "PATH"`` quoted the way Node parses NODE_OPTIONS."""
    quoted = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{quoted}"'


@contextlib.contextmanager
def _preload_kernel_patches() -> Iterator[bool]:
    """Add :data:`KERNEL_PRELOADS` to NODE_OPTIONS while the block runs, then restore it.

    Yields whether the preloads apply: False when the jsii runtime is already running
    (something imported ``cdktf`` or ``constructs`` first), as it reads NODE_OPTIONS
    only when it starts.
    """
    if "constructs._jsii" in sys.modules or "cdktf._jsii" in sys.modules:
        yield False
        return
    old = os.environ.get("NODE_OPTIONS")
    missing = [p for p in KERNEL_PRELOADS if not (old and str(p) in old)]
    if not missing:
        yield True
        return
    arg = " ".join(_node_options_arg(p) for p in missing)
    os.environ["NODE_OPTIONS"] = f"{old} {arg}" if old else arg
    try:
        yield True
    finally:
        if old is None:
            os.environ.pop("NODE_OPTIONS", None)
        else:
            os.environ["NODE_OPTIONS"] = old


def _load_fast() -> types.SimpleNamespace:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PACKAGE} is not installed as a package")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    importlib.import_module(f"{PACKAGE}._jsii")
    loaded = {}
    for name in SUBMODULES:
        module = importlib.import_module(f"{PACKAGE}.{name}")
        setattr(package, name, module)
        loaded[name] = module
    return types.SimpleNamespace(**loaded)


def _installed_version() -> str:
    try:
        return importlib.metadata.version("cdktf-cdktf-provider-aws")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


#: What to do about a provider package that is not the pinned release, or is damaged.
REINSTALL = "reinstall the release pinned in Pipfile.lock: `rm -f .venv/.installed && make install`"


def _lacking(missing: list[str]) -> ProviderMismatch:
    """The error for an installed provider package without the modules ``missing``."""
    return ProviderMismatch(
        f"the installed {PACKAGE} {_installed_version()} has no module {', '.join(missing)}, which the "
        f"stacks use; {REINSTALL}"
    )


def _not_on_disk() -> list[str]:
    """The names in :data:`SUBMODULES` that the installed provider package has no module
    for on disk (looked up in the package's folder, whatever ``sys.modules`` holds)."""
    spec = importlib.util.find_spec(PACKAGE)
    places = list(spec.submodule_search_locations or []) if spec else []
    if not places:
        return []
    return [n for n in SUBMODULES if importlib.machinery.PathFinder.find_spec(f"{PACKAGE}.{n}", places) is None]


def _not_ours(exc: ImportError) -> bool:
    """Whether ``exc`` is about a module outside the provider package (a missing
    dependency such as typeguard): reported as such, not as a provider problem."""
    name = getattr(exc, "name", None) or ""
    return (
        isinstance(exc, ModuleNotFoundError) and bool(name) and not name.startswith(PACKAGE + ".") and name != PACKAGE
    )


def _load_full() -> types.SimpleNamespace:
    try:
        package = importlib.import_module(PACKAGE)
    except ImportError as exc:
        if (isinstance(exc, ModuleNotFoundError) and exc.name == PACKAGE) or _not_ours(exc):
            raise  # not installed at all, or a missing dependency: the missing-package message
        raise ProviderMismatch(
            f"the installed {PACKAGE} {_installed_version()} cannot be imported ({exc}); {REINSTALL}"
        ) from exc
    missing = [name for name in SUBMODULES if not isinstance(getattr(package, name, None), types.ModuleType)]
    if missing:
        raise _lacking(missing)
    return types.SimpleNamespace(**{name: getattr(package, name) for name in SUBMODULES})


def _forget_package() -> None:
    for key in [k for k in sys.modules if k == PACKAGE or k.startswith(PACKAGE + ".")]:
        del sys.modules[key]


def load() -> types.SimpleNamespace:
    """Return a namespace with one attribute per name in :data:`SUBMODULES`.

    Uses the fast path (lazy on the Python and the Node side) unless
    ``AI_FLEET_PROVIDER_IMPORT=full``; falls back to the normal package import when the
    Python fast path raises. Raises ImportError when the provider package itself cannot
    be imported, and :class:`~stacks.dependencies.ProviderMismatch` when it lacks one of
    :data:`SUBMODULES` (another provider release than the pinned one).
    """
    global mode, lazy_node_index
    jsii_cache.configure()  # before the jsii runtime starts (see stacks/jsii_cache.py)
    if os.environ.get("AI_FLEET_PROVIDER_IMPORT", "fast") != "full":
        with _preload_kernel_patches() as lazy_node_index:
            import cdktf  # noqa: F401 - starts the jsii runtime (Node) with the preload
        try:
            ns = _load_fast()
            mode = "fast"
            return ns
        except Exception as exc:
            if isinstance(exc, ImportError) and _not_ours(exc):
                raise  # a missing dependency: the normal import would fail the same way
            missing = _not_on_disk() if isinstance(exc, ModuleNotFoundError) else []
            if missing and len(missing) < len(SUBMODULES):
                # The known package layout with modules missing (another release, or a
                # damaged install), not a layout the fast path does not know: the
                # normal import (12 s later) cannot have them either.
                raise _lacking(missing) from exc
            print(
                f"warning: fast provider import failed ({exc.__class__.__name__}: {exc}); using the normal import",
                file=sys.stderr,
            )
            _forget_package()
    ns = _load_full()
    mode = "full"
    return ns


#: Packages whose generated bindings check argument types with
#: ``typing.get_type_hints`` and typeguard on every call (see :func:`speed_up_type_checks`).
TYPE_CHECKED_PACKAGES = (PACKAGE, "cdktf", "constructs")

#: Name prefix jsii-pacmak gives the stub functions that carry the annotations.
_STUB_PREFIX = "_typecheckingstub__"


def _caching(get_type_hints):
    """``get_type_hints`` with results cached per jsii type-checking stub."""
    cache: dict = {}

    def cached_get_type_hints(obj, globalns=None, localns=None, include_extras=False):
        if (
            globalns is None
            and localns is None
            and not include_extras
            and getattr(obj, "__name__", "").startswith(_STUB_PREFIX)
        ):
            try:
                return cache[obj]
            except KeyError:
                hints = cache[obj] = get_type_hints(obj)
                return hints
        return get_type_hints(obj, globalns, localns, include_extras)

    return cached_get_type_hints


class _MemoizedForm:
    """A ``typing`` form (``Optional``, ``Union``, ``Sequence``, ...) whose subscriptions
    are cached without bound. ``typing`` caches them in an LRU of 128 entries per form;
    the bindings' property getters build ``typing.Optional[...]`` on every read (jsii
    reads every property of every struct it sends), over far more than 128 distinct
    types, so that cache mostly misses and each miss builds the type again. The cached
    value is the object ``typing`` returns."""

    __slots__ = ("_cache", "_form")

    def __init__(self, form):
        self._form, self._cache = form, {}

    def __getitem__(self, params):
        try:
            return self._cache[params]
        except KeyError:
            value = self._cache[params] = self._form[params]
            return value
        except TypeError:  # unhashable parameters: no caching
            return self._form[params]

    def __getattr__(self, name):
        return getattr(self._form, name)

    def __call__(self, *args, **kwargs):
        return self._form(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self._form)


#: The ``typing`` forms the generated bindings subscribe at run time.
_MEMOIZED_FORMS = ("Optional", "Union", "List", "Dict", "Sequence", "Mapping")


def accepts_none(expected_type) -> bool:
    """Whether typeguard accepts ``None`` for ``expected_type`` whatever its other
    members: ``None``/``NoneType``, ``typing.Any``, ``object``, or a ``Union`` (``Optional``)
    with ``None`` among its arguments."""
    import typing

    if expected_type is None or expected_type is type(None) or expected_type is typing.Any or expected_type is object:
        return True
    return typing.get_origin(expected_type) is typing.Union and type(None) in typing.get_args(expected_type)


def _settling_none(check_type):
    """The bindings' ``check_type`` with ``None`` against a type that admits ``None``
    answered without typeguard (the outcome is known: it passes); every other call goes
    to ``check_type`` unchanged."""
    admits: dict[int, tuple[object, bool]] = {}  # id -> (the type, kept alive; answer)

    def check_type_settling_none(argname, value, expected_type):
        if value is None:
            known = admits.get(id(expected_type))
            if known is None:
                known = admits[id(expected_type)] = (expected_type, accepts_none(expected_type))
            if known[1]:
                return None
        return check_type(argname=argname, value=value, expected_type=expected_type)

    check_type_settling_none.settles_none = True  # type: ignore[attr-defined]  # marks the wrapper
    return check_type_settling_none


def speed_up_type_checks() -> int:
    """Make the jsii bindings' runtime type checks cheaper without turning them off.

    Every generated constructor, method and property setter runs (unless Python runs
    with ``-O``) ``typing.get_type_hints(<stub>)`` and then typeguard's ``check_type``
    on each argument, including each of the 20 to 60 optional arguments a resource's
    config struct has and the stacks leave unset. Three changes, each giving the same
    outcome as before for every call:

    - ``get_type_hints`` re-evaluates the stub's string annotations on every call; the
      stubs never change, so their hints are cached.
    - ``typing.Optional[...]`` and the other forms the bindings subscribe on every
      property read are cached without bound (:class:`_MemoizedForm`): the same type
      objects, built once.
    - ``check_type`` with the value ``None`` and a type that admits it (``Optional[...]``,
      see :func:`accepts_none`) returns at once: typeguard would try each member of the
      union in turn, raising and catching an error for each, before reaching ``None``.
      About two thirds of the calls, and most of typeguard's time.

    Every other check still runs, so a wrong type (or ``None`` for a required argument)
    still raises ``TypeError`` (``tests/synth/test_fast_import.py``). The change is made in the
    namespace the modules' functions run in (:data:`TYPE_CHECKED_PACKAGES`; their
    ``typing`` is replaced by a copy with those caches, and their module level
    ``check_type`` is wrapped): the modules end with ``publication.publish()``,
    which leaves in ``sys.modules`` a facade without their private names. Call after
    the bindings are imported; modules imported later keep the real functions. Returns
    the number of modules changed.
    """
    import typing

    shim = types.ModuleType("typing", typing.__doc__)
    shim.__dict__.update(typing.__dict__)
    shim.get_type_hints = _caching(typing.get_type_hints)  # type: ignore[attr-defined]  # a module object
    for form in _MEMOIZED_FORMS:
        setattr(shim, form, _MemoizedForm(getattr(typing, form)))
    changed = 0
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in TYPE_CHECKED_PACKAGES or module is None:
            continue
        namespace = _function_globals(module)
        if namespace is None:
            continue
        touched = False
        if namespace.get("typing") is typing:
            namespace["typing"] = shim
            touched = True
        check = namespace.get("check_type")
        if callable(check) and not getattr(check, "settles_none", False):
            namespace["check_type"] = _settling_none(check)
            touched = True
        changed += touched
    return changed


def _function_globals(module: types.ModuleType) -> dict | None:
    """The globals of the functions defined in ``module`` (its original namespace, even
    when ``sys.modules`` holds a ``publication`` facade), or None if it defines none."""
    for value in list(vars(module).values()):
        members = vars(value).values() if isinstance(value, type) else (value,)
        for member in members:
            fn = getattr(member, "fget", None) or getattr(member, "__func__", None) or member
            namespace = getattr(fn, "__globals__", None)
            if namespace is not None and namespace.get("__name__") == module.__name__:
                return namespace
    return None


aws = load()
