"""Where a run's extraction step executes: in the run worker (default), on Celery workers, or in its own pod.

``EXTRACTION_EXECUTOR=celery`` gives the code location dagster-celery's ``celery_executor`` (the ``celery``
extra): every run's step — a batch of files, or one file — becomes a Celery task that any worker started with
``dagster-celery worker start -y deploy/celery.yaml -A dagster_celery.app -q "$EXTRACTION_CELERY_QUEUE" -- --pool
threads --concurrency 1`` may take, on any host (docs/celery.md). The workers load this same code location and
write the same table and Dagster instance, so they need the same environment (``EXTRACTION_*``, ``AWS_*``,
``DAGSTER_HOME``). In Celery mode a batch stays within the broker's consumer timeout
(``settings.celery_step_max_files``).
``EXTRACTION_EXECUTOR=k8s`` gives dagster-k8s's ``k8s_job_executor`` (each step a Kubernetes Job, next to the
``K8sRunLauncher`` the Helm chart configures from ``deploy/helm/values.yaml``).

Two Celery settings make a lost worker harmless: ``task_acks_late`` (a task is acknowledged when it finishes,
so RabbitMQ hands the step of a worker that died to another one) and ``task_reject_on_worker_lost``. The step
re-runs from the start; its rows go ``processing`` → ``completed``/``failed`` again. The threads pool keeps the
worker's heartbeats going during a step (a solo pool's silence gets the step redelivered), and the extractor
sandbox may start its child process there, which Celery's daemonic prefork children may not.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import ExecutorDefinition, in_process_executor

from extraction_pipeline.errors import ConfigurationError
from extraction_pipeline.settings import EXECUTOR_ENV

CELERY_BROKER_ENV = "EXTRACTION_CELERY_BROKER"  # e.g. pyamqp://extraction:secret@rabbitmq.internal:5672/extraction
CELERY_BACKEND_ENV = "EXTRACTION_CELERY_BACKEND"
CELERY_QUEUE_ENV = "EXTRACTION_CELERY_QUEUE"  # workers listen with `-q "$EXTRACTION_CELERY_QUEUE"`
DEFAULT_CELERY_QUEUE = "dagster"
DEFAULT_CELERY_BACKEND = "rpc://"  # results travel back over the broker: nothing else to run
EXECUTORS = ("in_process", "celery", "k8s")

# The same block is in the workers' -y file (deploy/celery.yaml): executor and workers must agree.
CELERY_CONFIG_SOURCE: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
}


def executor_mode() -> str:
    mode = (os.environ.get(EXECUTOR_ENV) or "in_process").strip().lower()
    if mode not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={mode!r}: expected one of {', '.join(EXECUTORS)}")
    return mode


def celery_queue() -> str:
    return os.environ.get(CELERY_QUEUE_ENV) or DEFAULT_CELERY_QUEUE


def celery_executor_config() -> dict[str, Any]:
    """The executor's side of deploy/celery.yaml, from the same variables the workers read.

    There is no default broker: RabbitMQ lets its ``guest`` user in from localhost only, so a default could only
    ever work on one machine.
    """
    broker = os.environ.get(CELERY_BROKER_ENV)
    if not broker:
        raise ConfigurationError(f"{EXECUTOR_ENV}=celery needs {CELERY_BROKER_ENV} (see docs/celery.md)")
    return {
        "broker": broker,
        "backend": os.environ.get(CELERY_BACKEND_ENV) or DEFAULT_CELERY_BACKEND,
        "config_source": {**CELERY_CONFIG_SOURCE, "task_default_queue": celery_queue()},
    }


def extraction_executor() -> ExecutorDefinition:
    """The executor of the code location, as ``EXTRACTION_EXECUTOR`` chooses it."""
    if executor_mode() == "celery":
        from dagster_celery import celery_executor  # the `celery` extra

        return celery_executor.configured(celery_executor_config(), name="celery_extraction")
    if executor_mode() == "k8s":
        from dagster_k8s import k8s_job_executor  # the `k8s` extra: each step in its own pod (K8sRunLauncher)

        return k8s_job_executor
    # One step per run: the in-process executor saves ~3 s of process start per file (per-file runs).
    return in_process_executor
