"""Current NVIDIA GPU instance types and their attributes, to estimate which types an
attribute-based override (``instance_requirements``) selects, and so its spot pools.

Only AWS knows the real list at launch time (it grows as AWS adds types, and depends on
the Region and AZ); this small table stands in for it in the resilience report, which
reads no AWS API. The figure it gives is an estimate and the report says so.

Sources, read 2026-12-02: AWS Batch user guide, "GPU jobs" (GPUs, GPU memory, vCPUs and
memory of the g4dn, g5 and g6 types,
https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html) and Amazon EC2
instance types, "Accelerated computing" specifications (g6e, p4d, p5,
https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html). GPU memory is the
documented GiB x 1024 MiB; DescribeInstanceTypes may report a little less (an L4 as
22,888 MiB), so a ``accelerator_total_memory_mib`` minimum right at 24,576 may match
fewer types in AWS than here.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, NamedTuple

#: Date the table was read from the sources above.
TABLE_DATE = "2026-12-02"


class GpuType(NamedTuple):
    """One instance type: vCPUs, memory (MiB), GPU count, GPU model (EC2's accelerator
    name) and total GPU memory (MiB). Every type here is NVIDIA, current generation,
    not burstable."""

    name: str
    vcpus: int
    memory_mib: int
    gpus: int
    gpu: str
    gpu_memory_mib: int


def _family(prefix: str, gpu: str, per_gpu_gib: int, sizes: list[tuple[str, int, int, int]]) -> list[GpuType]:
    """Rows of one family from (size, vCPUs, memory GiB, GPUs)."""
    return [
        GpuType(f"{prefix}.{size}", vcpus, mem * 1024, gpus, gpu, gpus * per_gpu_gib * 1024)
        for size, vcpus, mem, gpus in sizes
    ]


_SINGLE = [("xlarge", 4, 16, 1), ("2xlarge", 8, 32, 1), ("4xlarge", 16, 64, 1), ("8xlarge", 32, 128, 1)]
_MULTI = [("12xlarge", 48, 192, 4), ("24xlarge", 96, 384, 4), ("48xlarge", 192, 768, 8)]

#: The table, by instance type name.
GPU_TYPES: dict[str, GpuType] = {
    t.name: t
    for t in [
        *_family("g4dn", "t4", 16, [*_SINGLE, ("16xlarge", 64, 256, 1), ("12xlarge", 48, 192, 4)]),
        *_family("g5", "a10g", 24, [*_SINGLE, ("16xlarge", 64, 256, 1), *_MULTI]),
        *_family("g6", "l4", 24, [*_SINGLE, ("16xlarge", 64, 256, 1), *_MULTI]),
        *_family(
            "g6e",
            "l40s",
            48,
            [
                ("xlarge", 4, 32, 1),
                ("2xlarge", 8, 64, 1),
                ("4xlarge", 16, 128, 1),
                ("8xlarge", 32, 256, 1),
                ("16xlarge", 64, 512, 1),
                ("12xlarge", 48, 384, 4),
                ("24xlarge", 96, 768, 4),
                ("48xlarge", 192, 1536, 8),
            ],
        ),
        *_family("p4d", "a100", 40, [("24xlarge", 96, 1152, 8)]),
        *_family("p5", "h100", 80, [("48xlarge", 192, 2048, 8)]),
    ]
}


def _in_range(value: int, bounds: Any) -> bool:
    """``value`` within a ``{min, max}`` block (a missing block or bound: no limit)."""
    if not isinstance(bounds, dict):
        return True
    low, high = bounds.get("min"), bounds.get("max")
    return (low is None or value >= float(low)) and (high is None or value <= float(high))


def _one(value: Any) -> Any:
    """A Terraform JSON block given as a one-element list, or the block itself."""
    return value[0] if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) else value


def matches(req: dict, t: GpuType) -> bool:
    """True when type ``t`` has every attribute of ``req`` (an ``instance_requirements``
    block of the Terraform JSON; a list matches any of its values, as in AWS)."""
    if not (_in_range(t.vcpus, _one(req.get("vcpu_count"))) and _in_range(t.memory_mib, _one(req.get("memory_mib")))):
        return False
    if not _in_range(t.gpus, _one(req.get("accelerator_count"))):
        return False
    if not _in_range(t.gpu_memory_mib, _one(req.get("accelerator_total_memory_mib"))):
        return False
    checks = (
        ("accelerator_manufacturers", "nvidia"),
        ("accelerator_names", t.gpu),
        ("accelerator_types", "gpu"),
        ("instance_generations", "current"),
    )
    if any(req.get(key) and value not in req[key] for key, value in checks):
        return False
    if req.get("burstable_performance") == "required":
        return False
    allowed, excluded = req.get("allowed_instance_types"), req.get("excluded_instance_types")
    if allowed and not any(fnmatchcase(t.name, p) for p in allowed):
        return False
    return not (excluded and any(fnmatchcase(t.name, p) for p in excluded))


def estimate_types(req: dict) -> tuple[list[str], bool]:
    """The types of :data:`GPU_TYPES` an ``instance_requirements`` block selects (sorted),
    and whether the block asks for accelerators at all: without an accelerator count,
    manufacturer, name or type it also selects CPU types, which the table lacks, so the
    list is then a lower bound."""
    gpu_only = bool(
        req.get("accelerator_manufacturers")
        or req.get("accelerator_names")
        or req.get("accelerator_types")
        or float((_one(req.get("accelerator_count")) or {}).get("min") or 0) >= 1
        or float((_one(req.get("accelerator_total_memory_mib")) or {}).get("min") or 0) > 0
    )
    return sorted(name for name, t in GPU_TYPES.items() if matches(req, t)), gpu_only
