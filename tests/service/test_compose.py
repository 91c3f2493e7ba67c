"""docker-compose.yml and the Dockerfile promise an API service and a GPU training profile.

``docker compose config`` (or v1's ``docker-compose config``) validates the
file where a compose client is installed; no docker engine is needed for that.
In any case the YAML is parsed and the promises are checked one by one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def compose_command() -> list[str] | None:
    """``docker compose`` (v2 plugin) or ``docker-compose`` (v1), whichever is installed."""
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(compose_command() is None, reason="no docker compose client installed")
def test_docker_compose_accepts_the_file() -> None:
    command = compose_command() or []
    result = subprocess.run(
        [*command, "--profile", "train", "config", "--services"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"api", "train"}


def test_api_service_is_built_from_the_dockerfile_and_published(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["build"]["context"] == "." and api["build"]["target"] == "api"
    assert (REPO / "Dockerfile").is_file()
    assert any(str(port).endswith(":8000") for port in api["ports"])
    assert "profiles" not in api  # starts with a plain `docker compose up`


def test_api_service_has_a_healthcheck_on_healthz(compose: dict[str, Any]) -> None:
    check = compose["services"]["api"]["healthcheck"]
    assert "/healthz" in " ".join(check["test"])
    assert {"interval", "timeout", "retries"} <= set(check)


def test_api_service_reads_models_from_a_volume_and_settings_from_the_environment(
    compose: dict[str, Any],
) -> None:
    api = compose["services"]["api"]
    assert any(volume.split(":")[1] == "/models" for volume in api["volumes"])
    environment = api["environment"]
    assert {"OCR_LSTM_MODEL", "OCR_LSTM_MAX_BATCH_SIZE", "OCR_LSTM_MAX_WAIT_MS", "OCR_LSTM_API_KEY"} <= set(
        environment
    )
    from service.settings import ServiceSettings

    fields = {f"OCR_LSTM_{name.upper()}" for name in ServiceSettings.model_fields}
    assert set(environment) <= fields  # no misspelt setting that would be silently ignored


def test_training_runs_on_a_gpu_under_the_train_profile(compose: dict[str, Any]) -> None:
    train = compose["services"]["train"]
    assert train["profiles"] == ["train"]
    devices = train["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert train["command"][:2] == ["ocr-lstm", "train"]


def test_dockerfile_serves_on_all_interfaces_inside_the_container() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "AS api" in dockerfile and "AS train" in dockerfile
    assert "EXPOSE 8000" in dockerfile
    assert '"serve", "--host", "0.0.0.0", "--port", "8000"' in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_train_service_mounts_the_data_the_bundled_recipe_reads_and_writes(compose: dict[str, Any]) -> None:
    """Inside the image the recipe runs from /app: its ../shared/data paths and its pool
    cache must land on mounted volumes (the image itself is read-only to the user)."""
    from posixpath import normpath

    from training.config import TrainConfig

    train = compose["services"]["train"]
    # "source:target[:mode]", where the source may hold ${VAR:-default}
    targets = {v.removesuffix(":ro").removesuffix(":rw").rsplit(":", 1)[1] for v in train["volumes"]}
    command = train["command"]
    overrides = [command[i + 1] for i, arg in enumerate(command) if arg == "--set"]
    config = TrainConfig.from_file("bundled", overrides)

    def mounted(path: str) -> bool:
        resolved = normpath(path if path.startswith("/") else f"/app/{path}")
        return any(resolved == t or resolved.startswith(t + "/") for t in targets)

    for path in [r.path for r in config.real_sets] + config.val_sets:
        assert mounted(path), path
    assert mounted(config.synth_cache) and not any(v.endswith(":ro") for v in train["volumes"] if ":/runs" in v)
    assert mounted(command[command.index("--output") + 1])
