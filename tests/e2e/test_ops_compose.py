"""The Docker files: the compose file is valid and has what operators rely on; the image runs what the
docs say. Uses `docker compose config` where the CLI has compose, else reads the YAML itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.cli import _parser

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCS = [p for p in (REPO / "README.md", REPO / "docs" / "operating.md") if p.exists()]


# -- a YAML reader for the subset compose files use, for machines without PyYAML --------------------


def _scalar(text: str) -> Any:
    text = text.strip()
    if text[:1] in {'"', "'"}:
        assert text[-1] == text[0], f"unterminated string: {text}"
        return text[1:-1]
    if text.startswith("["):
        assert text.endswith("]"), f"unterminated list: {text}"
        return [_scalar(part) for part in text[1:-1].split(",") if part.strip()]
    if text in {"true", "false"}:
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text or None


def _strip_comment(line: str) -> str:
    quote = None
    for i, char in enumerate(line):
        if char in {'"', "'"} and quote in {None, char}:
            quote = None if quote else char
        elif char == "#" and quote is None and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def mini_yaml(text: str) -> Any:
    lines = [
        (len(s) - len(s.lstrip()), s.strip()) for s in map(_strip_comment, text.splitlines()) if s.strip()
    ]
    for _indent, content in lines:
        assert not content.startswith(("&", "*", "<<", "|", ">")), f"unsupported YAML here: {content}"

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(_scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, rest = lines[i][1].partition(":")
            assert sep, f"expected `key: value`, got {lines[i][1]!r}"
            i += 1
            if rest.strip():
                mapping[_scalar(key)] = _scalar(rest)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[_scalar(key)], i = block(i, lines[i][0])
            else:
                mapping[_scalar(key)] = None
        return mapping, i

    parsed, end = block(0, lines[0][0])
    assert end == len(lines), f"could not read line: {lines[end][1]!r}"
    return parsed


def load_yaml(text: str) -> Any:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        return mini_yaml(text)
    return yaml.safe_load(text)


def compose_cli_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


def compose_model(tmp_path: Path) -> dict[str, Any]:
    """The compose file as compose itself resolves it when it can, else as plain YAML."""
    if not compose_cli_works():
        return dict(load_yaml(COMPOSE.read_text()))
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    shutil.copy(DOCKERFILE, project / "Dockerfile")
    (project / ".env").write_text("SLACK_BOT_TOKEN=xoxb-example\n")
    result = subprocess.run(
        ["docker", "compose", "--profile", "postgres", "config", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"docker compose config refused the file:\n{result.stderr}"
    return dict(json.loads(result.stdout))


# Compose accepts short and long forms; these read both.


def _env_files(service: dict[str, Any]) -> list[str]:
    value = service.get("env_file") or []
    items = [value] if isinstance(value, str) else value
    return [Path(i["path"] if isinstance(i, dict) else i).name for i in items]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) for item in value)
    return {k: str(v) for k, v in value.items()}


def _volumes(service: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            found.append((volume["source"], volume["target"]))
        else:
            source, target = volume.split(":")[:2]
            found.append((source, target))
    return found


def _depends(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: "service_started" for name in value}
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


def test_compose_runs_the_bot_on_sqlite_and_on_a_postgres_profile(tmp_path: Path) -> None:
    model = compose_model(tmp_path)
    services = model["services"]
    assert {"bot", "postgres", "bot-postgres"} <= set(services)

    bot = services["bot"]
    assert not bot.get("profiles"), "`docker compose up` must start the SQLite bot without a profile"
    assert bot.get("build")
    assert ".env" in _env_files(bot)
    assert ("studybot-data", "/data") in _volumes(bot)
    assert "studybot-data" in model["volumes"]
    assert "DATABASE_URL" not in _environment(bot)

    postgres = services["postgres"]
    assert postgres["profiles"] == ["postgres"]
    assert str(postgres["image"]).startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert [target for _s, target in _volumes(postgres)] == ["/var/lib/postgresql/data"]

    pg_bot = services["bot-postgres"]
    assert pg_bot["profiles"] == ["postgres"]
    assert ".env" in _env_files(pg_bot)
    assert _depends(pg_bot) == {"postgres": "service_healthy"}
    database_url = _environment(pg_bot)["DATABASE_URL"]
    assert database_url.startswith("postgresql://studybot:") and "@postgres:5432/studybot" in database_url


def test_the_mini_yaml_reader_reads_what_compose_files_use() -> None:
    sample = """
# comment
services:
  bot:
    env_file: .env   # trailing comment
    profiles: ["postgres", 'x']
    environment:
      URL: "postgresql://a:b@host:5432/db#not-a-comment"
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U studybot"]
      retries: 10
    volumes:
      - studybot-data:/data
volumes:
  studybot-data:
"""
    assert mini_yaml(sample) == {
        "services": {
            "bot": {
                "env_file": ".env",
                "profiles": ["postgres", "x"],
                "environment": {"URL": "postgresql://a:b@host:5432/db#not-a-comment"},
                "healthcheck": {"test": ["CMD-SHELL", "pg_isready -U studybot"], "retries": 10},
                "volumes": ["studybot-data:/data"],
            }
        },
        "volumes": {"studybot-data": None},
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _sp, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_builds_a_slim_non_root_image_with_a_data_volume() -> None:
    instructions = dockerfile_instructions()

    def get(word: str) -> list[str]:
        return [rest for w, rest in instructions if w == word]

    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", get("FROM")[0])
    user = get("USER")
    assert user and user[-1] not in {"root", "0"}
    assert any("tzdata" in run for run in get("RUN"))
    assert any("/data" in volume for volume in get("VOLUME"))
    env = " ".join(get("ENV"))
    for setting in ("STUDYBOT_DATA_DIR=/data", "STUDYBOT_MIGRATIONS=", "STUDYBOT_CONTENT="):
        assert setting in env
    assert get("HEALTHCHECK")
    # Everything the image copies exists, so `docker build` does not stop half-way.
    for copy in get("COPY"):
        *sources, _target = copy.split()
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_the_image_runs_the_command_the_docs_name() -> None:
    cmd = json.loads(next(rest for word, rest in dockerfile_instructions() if word == "CMD"))
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert cmd[0] in scripts, f"the image runs {cmd[0]!r}, which pyproject.toml does not install"
    _parser().parse_args(cmd[1:])  # a subcommand the CLI really has
    assert DOCS, "no README.md or docs/operating.md to check the image's command against"
    for doc in DOCS:
        said = re.findall(r"image's command is `([^`]+)`", doc.read_text())
        if said:
            assert said == [" ".join(cmd)], f"{doc.name} says the image runs {said}, the Dockerfile {cmd}"
    assert any("image's command is" in doc.read_text() for doc in DOCS)


# -- the quick start as a newcomer runs it: `cp .env.example .env`, `docker compose up` ----------------------


def read_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as compose reads an env_file: comments and blank lines skipped, quotes removed."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        assert sep, f"not KEY=VALUE: {line!r}"
        value = value.strip()
        if value[:1] in {'"', "'"} and value[-1:] == value[:1]:
            value = value[1:-1]
        found[key.strip()] = value
    return found


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            for pair in rest.split():
                key, _sep, value = pair.partition("=")
                env[key] = value
    return env


def uncomment_settings(text: str) -> str:
    """.env.example with every commented `# KEY=value` example switched on, as an eager newcomer might."""
    return re.sub(r"(?m)^# ?([A-Z][A-Z0-9_]*=)", r"\1", text)


def effective_env(service: dict[str, Any], env_file_text: str) -> dict[str, str]:
    # Compose: the image's ENV, overridden by env_file, overridden by `environment:`.
    return {**image_env(), **read_env_file(env_file_text), **_environment(service)}


@pytest.mark.parametrize("newcomer", ["copies it", "uncomments everything"])
def test_the_env_example_cannot_move_the_containers_paths(newcomer: str) -> None:
    example = (REPO / ".env.example").read_text()
    if newcomer == "uncomments everything":
        example = uncomment_settings(example)
    services = dict(load_yaml(COMPOSE.read_text()))["services"]
    image = image_env()
    for name in ("bot", "bot-postgres"):
        env = effective_env(services[name], example)
        # The paths the image is built around: the volume the non-root user owns, the copied decks and
        # migrations. A relative `data` here made the bot try to create /app/data, which it may not.
        for key in ("STUDYBOT_DATA_DIR", "STUDYBOT_CONTENT", "STUDYBOT_MIGRATIONS"):
            assert env[key] == image[key], (
                f"{name}: {key}={env[key]!r} from .env, the image needs {image[key]}"
            )
        assert env["STUDYBOT_HEALTH_PORT"] == "8080" and env["SLACK_PORT"] == "3000"
    assert ("studybot-data", image["STUDYBOT_DATA_DIR"]) in _volumes(services["bot"])


def test_the_env_example_as_copied_sets_no_path_and_no_database() -> None:
    # As copied, .env.example is the defaults: `make run` and `docker compose up` both work unchanged.
    settings = read_env_file((REPO / ".env.example").read_text())
    for key in ("STUDYBOT_DATA_DIR", "STUDYBOT_CONTENT", "STUDYBOT_MIGRATIONS", "DATABASE_URL"):
        assert key not in settings, f".env.example sets {key}; leave it commented, with its default"


def _readme_anchors() -> set[str]:
    headings = re.findall(r"(?m)^#+ (.+)$", (REPO / "README.md").read_text())
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("name", ["docker-compose.yml", "slack-manifest.yml", "Dockerfile", ".env.example"])
def test_the_files_point_at_documentation_that_exists(name: str) -> None:
    text = (REPO / name).read_text()
    for path in re.findall(r"\bdocs/[\w./-]+", text):
        assert (REPO / path.rstrip(".")).exists(), f"{name} points at {path}, which does not exist"
    anchors = _readme_anchors()
    for anchor in re.findall(r"README\.md#([\w-]+)", text):
        assert anchor in anchors, f"{name} points at README.md#{anchor}, which is no heading"
    assert "README.md#" in text, f"{name} should say where its documentation is"
