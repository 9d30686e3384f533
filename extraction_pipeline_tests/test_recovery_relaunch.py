"""A file whose run died gets a new run once Dagster is done with the dead one (``relaunch_rows_of_dead_runs``).

Dagster's own run retry (``run_retries``) re-runs a crashed run once; when that retry cannot start either (its
launch timed out on a busy machine, as the chaos run saw) the rows stayed ``failed`` for good. Here the rules:
relaunch only rows a backstop failed, only when no run of the file is active or coming, at most
``max_retries`` times, with a run key that a repeated tick cannot launch twice.
"""

from __future__ import annotations

from dagster import DagsterInstance, DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.defs.recovery.sensors import (
    RECOVERY_REASON,
    WORKER_DIED,
    close_row_of_failed_run,
    relaunch_rows_of_dead_runs,
)
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.names import PARTITION_TAG, TAG_REASON
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.store import JobStore, NewObject
from extraction_pipeline.store.models import utcnow


def _died(store: JobStore, instance: DagsterInstance, key: str, *, will_retry: str | None = "false") -> ObjectRef:
    """A row whose run (FAILURE, with Dagster's verdict on retrying it) died mid-attempt, failed by the sweep."""
    ref = ObjectRef("bucket", key)
    version = ObjectVersion(ref, etag="e1", size=1, last_modified=utcnow())
    store.upsert_pending([NewObject(version, partition_key_for(ref), "dxf")], max_retries=3)
    tags = {"dagster/will_retry": will_retry} if will_retry is not None else {}
    run = create_run_for_test(instance, job_name="extract_files", status=DagsterRunStatus.FAILURE, tags=tags)
    store.mark_processing(ref, run_id=run.run_id, attempt=0)
    store.fail_if_active(ref, message=f"{WORKER_DIED}: attempt started at … ({run.run_id})", kind=ErrorKind.RETRYABLE)
    return ref


def test_a_file_whose_run_died_and_will_not_be_retried_gets_one_new_run(store: JobStore) -> None:
    with instance_for_test() as instance:
        ref = _died(store, instance, "dead.dxf")
        [request] = relaunch_rows_of_dead_runs(store, instance)
        again = relaunch_rows_of_dead_runs(store, instance)
    assert request.partition_key == partition_key_for(ref)
    assert request.run_key == f"{RECOVERY_REASON}:{partition_key_for(ref)}@e1#1"
    assert request.tags[TAG_REASON] == RECOVERY_REASON
    assert [r.run_key for r in again] == [request.run_key]  # asked again, the same key: Dagster launches it once


def test_nothing_is_relaunched_while_dagster_still_handles_the_file(store: JobStore) -> None:
    with instance_for_test() as instance:
        _died(store, instance, "retry-coming.dxf", will_retry="true")
        active = _died(store, instance, "already-rerun.dxf")
        create_run_for_test(instance, job_name="extract_files", status=DagsterRunStatus.STARTED,
                            tags={PARTITION_TAG: partition_key_for(active)})  # fmt: skip
        assert relaunch_rows_of_dead_runs(store, instance) == []


def test_a_retry_chain_that_failed_to_launch_leads_to_a_relaunch(store: JobStore) -> None:
    with instance_for_test() as instance:
        ref = _died(store, instance, "chain.dxf", will_retry="true")
        root = store.get(ref.file_url).dagster_run_id
        create_run_for_test(instance, job_name="extract_files", status=DagsterRunStatus.FAILURE,
                            tags={"dagster/root_run_id": root, "dagster/parent_run_id": root,
                                  "dagster/retry_number": "1", "dagster/will_retry": "false"})  # fmt: skip
        assert [r.partition_key for r in relaunch_rows_of_dead_runs(store, instance)] == [partition_key_for(ref)]


def test_relaunches_stop_at_max_retries_and_other_failures_are_left_alone(store: JobStore) -> None:
    with instance_for_test() as instance:
        ref = _died(store, instance, "keeps-dying.dxf")
        for _ in range(3):
            create_run_for_test(instance, job_name="extract_files", status=DagsterRunStatus.FAILURE,
                                tags={PARTITION_TAG: partition_key_for(ref), TAG_REASON: RECOVERY_REASON})  # fmt: skip
        bad = _died(store, instance, "bad.dxf")
        store.mark_failed(bad, message="bad.dxf: not a DXF file", kind=ErrorKind.PERMANENT)
        flaky = _died(store, instance, "flaky.dxf")
        store.mark_failed(flaky, message="flaky.dxf: S3 kept answering 503", kind=ErrorKind.RETRYABLE)
        assert relaunch_rows_of_dead_runs(store, instance) == []


def test_a_row_closed_by_the_run_failure_sensor_is_relaunched_too(store: JobStore) -> None:
    from dagster import DagsterRun

    with instance_for_test() as instance:
        ref = ObjectRef("bucket", "monitored.dxf")
        version = ObjectVersion(ref, etag="e2", size=1, last_modified=utcnow())
        store.upsert_pending([NewObject(version, partition_key_for(ref), "dxf")], max_retries=3)
        run = create_run_for_test(instance, job_name="extract_files", status=DagsterRunStatus.FAILURE,
                                  tags={"dagster/will_retry": "false"})  # fmt: skip
        store.mark_processing(ref, run_id=run.run_id, attempt=0)
        tagged = DagsterRun("extract_files", run_id=run.run_id, tags={PARTITION_TAG: partition_key_for(ref)})
        assert close_row_of_failed_run(store, tagged, "run worker exited unexpectedly")
        assert [r.run_key for r in relaunch_rows_of_dead_runs(store, instance)] == [
            f"{RECOVERY_REASON}:{partition_key_for(ref)}@e2#1"
        ]
