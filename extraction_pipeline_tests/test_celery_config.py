"""Celery mode's configuration: workers and executor read one environment; a step fits the broker's timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from extraction_pipeline import settings
from extraction_pipeline.defs.extraction.executors import (
    CELERY_CONFIG_SOURCE,
    celery_executor_config,
    extraction_executor,
)
from extraction_pipeline.errors import ConfigurationError

WORKER_YAML = Path(__file__).resolve().parents[1] / "deploy" / "celery.yaml"
BROKER = "pyamqp://extraction:secret@rabbitmq.internal:5672/extraction"


@pytest.fixture
def celery_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EXTRACTION_BACKFILL_BATCH_SIZE", settings.CELERY_CONSUMER_TIMEOUT_ENV,
                 settings.CELERY_SECONDS_PER_FILE_ENV):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXTRACTION_EXECUTOR", "celery")
    monkeypatch.setenv("EXTRACTION_CELERY_BROKER", BROKER)
    monkeypatch.setenv("EXTRACTION_CELERY_BACKEND", "rpc://")
    monkeypatch.setenv("EXTRACTION_CELERY_QUEUE", "extraction-eu")


def test_worker_file_reads_the_executors_environment(celery_env) -> None:
    from dagster_celery.cli import get_validated_config

    config = get_validated_config(str(WORKER_YAML))
    executor = celery_executor_config()
    assert config["broker"] == executor["broker"] == BROKER
    assert config["backend"] == executor["backend"] == "rpc://"
    assert config["config_source"] == CELERY_CONFIG_SOURCE
    assert executor["config_source"] == {**CELERY_CONFIG_SOURCE, "task_default_queue": "extraction-eu"}
    assert "guest" not in WORKER_YAML.read_text().split("execution:")[1]


def test_worker_without_a_broker_says_which_variable_is_missing(celery_env, monkeypatch) -> None:
    from dagster._config import post_process_config
    from dagster_celery.cli import get_config_value_from_yaml, get_validated_config
    from dagster_celery.executor import celery_executor

    monkeypatch.delenv("EXTRACTION_CELERY_BROKER")
    # no fallback to a guest broker: dagster-celery gets no config at all and the worker does not start
    assert get_validated_config(str(WORKER_YAML)) is None
    schema = celery_executor.config_schema.config_type
    result = post_process_config(schema, get_config_value_from_yaml(str(WORKER_YAML)))
    assert "EXTRACTION_CELERY_BROKER" in str(result.errors)
    with pytest.raises(ConfigurationError, match="EXTRACTION_CELERY_BROKER"):
        extraction_executor()


def test_celery_steps_fit_half_the_consumer_timeout(celery_env, monkeypatch) -> None:
    # RabbitMQ's default 30 min and one minute per file: 15 files per step, not the 250 of a backfill run
    assert settings.celery_step_max_files() == 15
    assert settings.backfill_batch_size() == 15
    monkeypatch.setenv(settings.CELERY_CONSUMER_TIMEOUT_ENV, "7200")
    monkeypatch.setenv(settings.CELERY_SECONDS_PER_FILE_ENV, "2")
    assert settings.celery_step_max_files() == 1800
    assert settings.backfill_batch_size() == 250  # the configured batch when it already fits
    monkeypatch.setenv(settings.CELERY_SECONDS_PER_FILE_ENV, "5000")
    assert settings.backfill_batch_size() == 1  # a file slower than the timeout still gets a step of its own
    monkeypatch.setenv("EXTRACTION_EXECUTOR", "in_process")
    assert settings.backfill_batch_size() == 250  # no broker, no cap
    monkeypatch.setenv("EXTRACTION_EXECUTOR", "celery")
    monkeypatch.setenv(settings.CELERY_SECONDS_PER_FILE_ENV, "0")
    with pytest.raises(ValueError, match=settings.CELERY_SECONDS_PER_FILE_ENV):
        settings.celery_step_max_files()
