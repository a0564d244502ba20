"""The README and docs/: short README, links that resolve, an example that is a valid
config. (docs/configuration.md being current is in test_config.py.)"""

from __future__ import annotations

import re

import pytest
import yaml
from helpers import ROOT

from stacks.config import ConfigError, load_config, parse_config

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_readme_is_short_and_shows_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    assert "make synth" in text and "make test" in text


def test_every_local_link_resolves():
    for page in [README, *DOCS]:
        for target in re.findall(r"\]\(([\w./-]+)(?:#[\w-]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_every_guide_is_linked_from_the_readme():
    text = README.read_text()
    for page in DOCS:
        assert f"(docs/{page.name})" in text, f"README does not link docs/{page.name}"


def test_readme_example_is_a_valid_config_and_matches_the_shipped_dev():
    text = README.read_text()
    block = text.split("## One example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    example = parse_config(yaml.safe_load(block), "README.md")
    shipped = load_config(ROOT / "config" / "dev.yaml")
    assert example.name == shipped.name and example.network == shipped.network
    chat, shipped_chat = example.fleets["chat"], shipped.fleets["chat"]
    assert chat.preset == shipped_chat.preset
    assert chat.launch_template.image_ssm_parameter == shipped_chat.launch_template.image_ssm_parameter
    assert chat.scaling == shipped_chat.scaling


def test_the_error_example_is_what_the_tool_prints():
    """README and docs/validation.md show the output for dev.yaml with min_size 5 above
    max_size 2 and a slow start of 60 s with least outstanding requests."""
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["fleets"]["chat"]["autoscaling_group"].update(min_size=5, max_size=2, desired_capacity=None)
    data["fleets"]["chat"]["target_group"]["slow_start"] = 60
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "config/dev.yaml")
    printed = [f"error: {p}" for p in exc.value.problems]
    printed.append(f"{len(printed)} problem(s) found; nothing was synthesized and any earlier output is unchanged.")
    for page in (README, ROOT / "docs" / "validation.md"):
        assert "\n".join(printed) in page.read_text(), page.name
