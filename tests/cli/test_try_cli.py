"""`make try` refusing bad input before it starts an emulator (stacks/cli/try_stack.py);
the emulator runs themselves are in tests/e2e/test_try.py."""

from __future__ import annotations

import subprocess

from helpers import copy_project, run_try

from stacks.cli import try_stack


def test_a_folder_of_other_files_is_never_emptied(tmp_path):
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "important.txt").write_text("precious")
    result = run_try("dev", "--workdir", str(victim), timeout=300)
    assert result.returncode == 2, result.stderr
    assert "holds files this tool did not write" in result.stderr and "Nothing was deployed." in result.stderr
    assert (victim / "important.txt").read_text() == "precious" and (victim / "sub").is_dir()
    assert "emulator: moto on" not in result.stdout


def test_a_missing_mirror_is_refused_before_the_emulator_starts(tmp_path):
    result = run_try("dev", "--workdir", str(tmp_path / "w"), "--mirror", str(tmp_path / "nope"), timeout=300)
    assert result.returncode == 2 and "is not a folder (--mirror or TF_PLUGIN_MIRROR)" in result.stderr
    assert not (tmp_path / "w").exists()


def test_user_data_the_copy_cannot_reach_is_refused_before_the_emulator_starts(tmp_path):
    project = copy_project(tmp_path / "project")
    config = project / "config" / "dev.yaml"
    config.write_text(config.read_text().replace("../user_data/vllm.sh", "../../project/user_data/vllm.sh"))
    result = run_try("dev", "--workdir", str(tmp_path / "w"), cwd=project, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "user_data_file '../../project/user_data/vllm.sh'" in result.stderr
    assert not (tmp_path / "w").exists()


def test_a_stale_pid_file_stops_only_a_moto_server(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "moto.pid").write_text(f"{sleeper.pid}\n")
        try_stack.stop_kept(tmp_path)
        assert sleeper.poll() is None, "a process that is not moto was killed"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_kept_emulator_is_stopped(tmp_path):
    from stacks.emulator import MotoServer

    server = MotoServer(tmp_path / "moto.log").start(detach=True)
    try:
        (tmp_path / "moto.pid").write_text(f"{server.process.pid}\n")
        try_stack.stop_kept(tmp_path)
        server.process.wait(timeout=15)
    finally:
        server.stop()
