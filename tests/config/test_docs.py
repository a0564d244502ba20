"""The README and docs/: short README, links that resolve, an example that is a valid
config. (docs/configuration.md being current is in test_config.py.)"""

from __future__ import annotations

import re

import yaml
from helpers import ROOT

from stacks.config import load_config, parse_config

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
